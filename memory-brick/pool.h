/*
 * The memory pool of a dReDBox rack: memory bricks and the segments
 * allocated from them.  Pure bookkeeping; the memory itself is created and
 * destroyed through a PoolStore so that the allocator can be unit-tested.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_POOL_H
#define DREDBOX_POOL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dredbox/address-map.h"
#include "rack-error.h"

/* Segments are whole numbers of this, by default: a memory block. */
#define POOL_DEFAULT_GRANULE DREDBOX_MEMORY_BLOCK
#define POOL_ANY_BRICK UINT32_MAX

typedef enum {
    MEM_CLASS_DRAM,
    MEM_CLASS_HUGEPAGE,
    MEM_CLASS_PERSISTENT,
    MEM_CLASS__MAX,
} MemClass;


typedef struct PoolBrick {
    uint32_t id;
    MemClass mem_class;
    uint64_t size;
    uint64_t used;
    uint64_t scrubs;        /* segments zeroed on release */
    char *path;             /* persistent bricks: their directory */
    bool down;              /* failed on purpose: unreachable */
    uint8_t *granules;      /* 1 = allocated */
    GArray *poisoned;       /* uint64_t offsets of bad pages, ascending */
} PoolBrick;

typedef struct PoolSegment {
    uint32_t id;
    uint32_t brick;
    uint64_t offset;
    uint64_t size;
    char *owner;            /* lease holder; may write */
    GHashTable *grants;     /* other client -> GINT_TO_POINTER(writable) */
    int fd;                 /* the segment's memory, owned by the pool;
                             * -1: lost in a pool restart (hugepage) */
    int ro_fd;              /* the same, opened read-only, or -1 */
} PoolSegment;

typedef struct PoolStore {
    /* Create the memory of @seg in @brick; return an fd or -1 and @errp. */
    int (*create)(void *opaque, const PoolBrick *brick,
                  const PoolSegment *seg, GError **errp);
    /* Drop the memory of @seg; @scrub: its contents must not survive. */
    void (*destroy)(void *opaque, const PoolBrick *brick,
                    const PoolSegment *seg, bool scrub);
    /* The brick of @seg lost power: its contents go, its memory stays. */
    void (*wipe)(void *opaque, const PoolBrick *brick,
                 const PoolSegment *seg);
    /* Open the memory @seg had before the pool restarted; -1 and @errp if
     * it did not survive. */
    int (*reopen)(void *opaque, const PoolBrick *brick,
                  const PoolSegment *seg, GError **errp);
    /*
     * How much of @brick's free memory the host can back now; if less
     * than all of it, *@why says why and what to do.  NULL: all of it.
     */
    uint64_t (*backable)(void *opaque, const PoolBrick *brick, char **why);
    void *opaque;
} PoolStore;

typedef struct Pool {
    uint64_t granule;
    GPtrArray *bricks;          /* PoolBrick *, in id order */
    GHashTable *segments;       /* id -> PoolSegment * */
    uint32_t next_segment;
    uint64_t changes;           /* counts changes, for the journal */
    PoolStore store;
    char *fault_log;            /* faults and repairs go there (fault-log.h) */
} Pool;

const char *mem_class_name(MemClass c);
bool mem_class_parse(const char *name, MemClass *c);

Pool *pool_new(uint64_t granule, const PoolStore *store);
void pool_free(Pool *pool);
PoolBrick *pool_add_brick(Pool *pool, uint32_t id, MemClass mem_class,
                          uint64_t size, const char *path, GError **errp);
PoolBrick *pool_brick(Pool *pool, uint32_t id);
/*
 * How much of @b's free memory the host can back now (its store says);
 * if less than all of it, *@why says why and what to do.
 */
uint64_t pool_brick_backable(Pool *pool, const PoolBrick *b, char **why);

PoolSegment *pool_alloc(Pool *pool, const char *owner, uint32_t brick,
                        MemClass mem_class, uint64_t size, GError **errp);
/*
 * Put back a segment whose memory already exists (@fd, or -1 if it was
 * lost): a persistent brick's file, or one the journal lists.  @id 0
 * picks a new id.
 */
PoolSegment *pool_restore(Pool *pool, uint32_t id, const char *owner,
                          uint32_t brick, uint64_t offset, uint64_t size,
                          int fd, GError **errp);
PoolSegment *pool_segment(Pool *pool, uint32_t id);
/* The segment that holds @offset of memory brick @brick, if any. */
PoolSegment *pool_segment_at(Pool *pool, uint32_t brick, uint64_t offset);
bool pool_release_segment(Pool *pool, const char *requester, bool admin,
                          uint32_t id, GError **errp);
bool pool_grant(Pool *pool, const char *requester, bool admin, uint32_t id,
                const char *client, bool writable, GError **errp);
PoolSegment *pool_open(Pool *pool, const char *requester, bool admin,
                       uint32_t id, bool *writable, GError **errp);
/*
 * Fail (@down) or repair memory brick @id.  While down, nothing is
 * allocated on it or opened; failing a DRAM or hugepage brick wipes
 * every segment on it (the leases stay; the contents are lost, as a
 * brick that loses power loses them), a persistent brick keeps them.
 * *@wiped: how many segments were wiped.
 */
bool pool_set_brick_down(Pool *pool, uint32_t id, bool down,
                         unsigned *wiped, GError **errp);
/*
 * Poison (@poisoned) or clear page @offset of memory brick @id: an
 * uncorrectable error there, which every reader of it meets until it is
 * repaired.  Kept whatever segment holds the page, or none.
 */
bool pool_set_page_poisoned(Pool *pool, uint32_t id, uint64_t offset,
                            bool poisoned, GError **errp);
/* The poisoned pages of @seg, as uint64_t offsets in it, ascending. */
GArray *pool_segment_poisoned(Pool *pool, const PoolSegment *seg);
/* Free every segment leased to @owner; returns how many. */
unsigned pool_release_owner(Pool *pool, const char *owner);
/* Free every segment (daemon shutdown); persistent ones are kept. */
void pool_drop_all(Pool *pool);
/* Segments sorted by id, for stable listings. */
GPtrArray *pool_list_segments(Pool *pool);

#endif
