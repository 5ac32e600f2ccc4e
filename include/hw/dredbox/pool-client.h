/*
 * Client of the dReDBox memory-brick pool daemon (dredbox-memd): one JSON
 * request per line, replies granting a segment carry its fd.  A session
 * says hello once as its client name, which holds its leases; if the
 * connection breaks, the next call connects and says hello again.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_POOL_CLIENT_H
#define DREDBOX_POOL_CLIENT_H

#include "qobject/qdict.h"
#include "qom/object.h"

typedef struct PoolClient PoolClient;

typedef struct PoolSegmentInfo {
    uint32_t id;
    uint32_t brick;
    uint64_t offset;
    uint64_t size;
    bool writable;
    /*
     * If the caller set it to an array, the segment's poisoned pages are
     * appended to it: uint64_t offsets in the segment, ascending.
     */
    GArray *poisoned;
} PoolSegmentInfo;

/* @pool: the daemon's socket or its manifest (pool.json). */
PoolClient *pool_client_connect(const char *pool, const char *client,
                                Error **errp);
void pool_client_close(PoolClient *pc);
uint64_t pool_client_granule(PoolClient *pc);
/* The pool's memory brick ids (uint32_t), as it lists them. */
const GArray *pool_client_bricks(PoolClient *pc);

/*
 * Allocate @size bytes (@brick < 0: any brick of @mem_class); returns the
 * segment's fd and fills @info, or -1 with @errp set.  @mem_class NULL:
 * the brick's class if @brick is given, else dram.
 */
int pool_client_alloc(PoolClient *pc, uint64_t size, int64_t brick,
                      const char *mem_class, PoolSegmentInfo *info,
                      Error **errp);
/* Open an existing segment leased or granted to this client. */
int pool_client_open(PoolClient *pc, uint32_t segment, PoolSegmentInfo *info,
                     Error **errp);
bool pool_client_free(PoolClient *pc, uint32_t segment, Error **errp);
/* Any request: the reply if it says ok (and in *@fd its fd, or -1). */
QDict *pool_client_call(PoolClient *pc, QDict *req, int *fd, Error **errp);

/*
 * The dredbox-pool object (-object dredbox-pool,id=ID,path=PATH,
 * client=NAME): one session with the pool for everything of a compute
 * brick that takes memory from it, the RMC and its memory backends.
 */
#define TYPE_DREDBOX_POOL "dredbox-pool"

/*
 * The session @pool names for a user that would call itself @client: the
 * dredbox-pool object of that id, which *@holder then references, or
 * else a session of its own to the socket or manifest at path @pool
 * (*@holder NULL), as @client (NULL: qemu-PID).  A client name given to a
 * user of a dredbox-pool object is an error: the object's name holds the
 * leases.  Give it back with dredbox_pool_put().
 */
PoolClient *dredbox_pool_get(const char *pool, const char *client,
                             Object **holder, Error **errp);
void dredbox_pool_put(PoolClient *pc, Object *holder);
/* Whether @pool is the id of a dredbox-pool object. */
bool dredbox_pool_is_object(const char *pool);

#endif
