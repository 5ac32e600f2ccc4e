/*
 * Memory pool bookkeeping: first-fit allocation of granule-aligned
 * segments inside memory bricks, leases and grants.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char *const class_names[MEM_CLASS__MAX] = {
    [MEM_CLASS_DRAM] = "dram",
    [MEM_CLASS_HUGEPAGE] = "hugepage",
    [MEM_CLASS_PERSISTENT] = "persistent",
};


const char *mem_class_name(MemClass c)
{
    return c < MEM_CLASS__MAX ? class_names[c] : "unknown";
}

bool mem_class_parse(const char *name, MemClass *c)
{
    for (int i = 0; i < MEM_CLASS__MAX; i++) {
        if (name && !strcmp(name, class_names[i])) {
            *c = i;
            return true;
        }
    }
    return false;
}

static void segment_free(PoolSegment *seg)
{
    g_free(seg->owner);
    g_hash_table_unref(seg->grants);
    g_free(seg);
}

static void brick_free(PoolBrick *b)
{
    g_free(b->path);
    g_free(b->granules);
    g_array_unref(b->poisoned);
    g_free(b);
}

Pool *pool_new(uint64_t granule, const PoolStore *store)
{
    Pool *pool = g_new0(Pool, 1);

    g_assert(granule && !(granule & (granule - 1)));
    pool->granule = granule;
    pool->bricks = g_ptr_array_new_with_free_func((GDestroyNotify)brick_free);
    pool->segments = g_hash_table_new_full(NULL, NULL, NULL,
                                           (GDestroyNotify)segment_free);
    pool->next_segment = 1;
    pool->store = *store;
    return pool;
}

void pool_free(Pool *pool)
{
    if (!pool) {
        return;
    }
    pool_drop_all(pool);
    g_hash_table_unref(pool->segments);
    g_ptr_array_unref(pool->bricks);
    g_free(pool->fault_log);
    g_free(pool);
}

uint64_t pool_brick_backable(Pool *pool, const PoolBrick *b, char **why)
{
    *why = NULL;
    return pool->store.backable
           ? pool->store.backable(pool->store.opaque, b, why)
           : b->size - b->used;
}

PoolBrick *pool_brick(Pool *pool, uint32_t id)
{
    for (guint i = 0; i < pool->bricks->len; i++) {
        PoolBrick *b = g_ptr_array_index(pool->bricks, i);

        if (b->id == id) {
            return b;
        }
    }
    return NULL;
}

PoolBrick *pool_add_brick(Pool *pool, uint32_t id, MemClass mem_class,
                          uint64_t size, const char *path, GError **errp)
{
    PoolBrick *b;

    if (id == POOL_ANY_BRICK) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "brick id %u is reserved", id);
        return NULL;
    }
    if (pool_brick(pool, id)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS,
                    "memory brick %u is defined twice", id);
        return NULL;
    }
    if (mem_class >= MEM_CLASS__MAX) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "memory brick %u: unknown memory class", id);
        return NULL;
    }
    if (!size || size % pool->granule) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "memory brick %u: size %" G_GUINT64_FORMAT " is not a"
                    " positive multiple of the %" G_GUINT64_FORMAT
                    " MiB granule", id, size, pool->granule >> 20);
        return NULL;
    }
    if (mem_class == MEM_CLASS_PERSISTENT && !path) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "persistent memory brick %u needs a directory", id);
        return NULL;
    }
    b = g_new0(PoolBrick, 1);
    b->id = id;
    b->mem_class = mem_class;
    b->size = size;
    b->path = g_strdup(path);
    b->granules = g_malloc0(size / pool->granule);
    b->poisoned = g_array_new(false, false, sizeof(uint64_t));
    g_ptr_array_add(pool->bricks, b);
    pool->changes++;
    return b;
}

/* First granule of a free run of @count granules in @b, or -1. */
static int64_t brick_find_run(const Pool *pool, const PoolBrick *b,
                              uint64_t count)
{
    uint64_t n = b->size / pool->granule, run = 0;

    for (uint64_t g = 0; g < n; g++) {
        run = b->granules[g] ? 0 : run + 1;
        if (run == count) {
            return g + 1 - count;
        }
    }
    return -1;
}

static bool brick_range_free(const Pool *pool, const PoolBrick *b,
                             uint64_t offset, uint64_t size)
{
    for (uint64_t g = offset / pool->granule;
         g < (offset + size) / pool->granule; g++) {
        if (b->granules[g]) {
            return false;
        }
    }
    return true;
}

static void brick_mark(const Pool *pool, PoolBrick *b, uint64_t offset,
                       uint64_t size, uint8_t used)
{
    memset(b->granules + offset / pool->granule, used, size / pool->granule);
    if (used) {
        b->used += size;
    } else {
        b->used -= size;
    }
}

static bool check_size(const Pool *pool, uint64_t size, GError **errp)
{
    if (!size || size % pool->granule) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "size %" G_GUINT64_FORMAT " is not a positive multiple"
                    " of the %" G_GUINT64_FORMAT " MiB granule",
                    size, pool->granule >> 20);
        return false;
    }
    return true;
}

/* A new segment; its id is @id, or the next free one if @id is 0. */
static PoolSegment *segment_new(Pool *pool, uint32_t id, const char *owner,
                                PoolBrick *b, uint64_t offset, uint64_t size)
{
    PoolSegment *seg = g_new0(PoolSegment, 1);

    while (!id) {
        if (pool->next_segment &&
            !g_hash_table_contains(pool->segments,
                                   GUINT_TO_POINTER(pool->next_segment))) {
            id = pool->next_segment;
        }
        pool->next_segment++;
    }
    seg->id = id;
    seg->brick = b->id;
    seg->offset = offset;
    seg->size = size;
    seg->owner = g_strdup(owner);
    seg->grants = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        NULL);
    seg->fd = -1;
    seg->ro_fd = -1;
    return seg;
}

PoolSegment *pool_alloc(Pool *pool, const char *owner, uint32_t brick,
                        MemClass mem_class, uint64_t size, GError **errp)
{
    PoolBrick *b = NULL;
    PoolSegment *seg;
    int64_t g = -1;

    if (!owner || !*owner) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "an allocation needs an owner");
        return NULL;
    }
    if (!check_size(pool, size, errp)) {
        return NULL;
    }
    if (brick != POOL_ANY_BRICK) {
        b = pool_brick(pool, brick);
        if (!b) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                        "no memory brick %u", brick);
            return NULL;
        }
        if (b->down) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_DOWN,
                        "memory brick %u is down", brick);
            return NULL;
        }
        g = brick_find_run(pool, b, size / pool->granule);
        if (g < 0) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_NO_SPACE,
                        "memory brick %u has no free %" G_GUINT64_FORMAT
                        " MiB range (%" G_GUINT64_FORMAT " of %"
                        G_GUINT64_FORMAT " MiB used)", brick, size >> 20,
                        b->used >> 20, b->size >> 20);
            return NULL;
        }
    } else {
        for (guint i = 0; i < pool->bricks->len && g < 0; i++) {
            b = g_ptr_array_index(pool->bricks, i);
            if (b->mem_class == mem_class && !b->down) {
                g = brick_find_run(pool, b, size / pool->granule);
            }
        }
        if (g < 0) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_NO_SPACE,
                        "no %s memory brick has a free %" G_GUINT64_FORMAT
                        " MiB range", mem_class_name(mem_class), size >> 20);
            return NULL;
        }
    }

    seg = segment_new(pool, 0, owner, b, g * pool->granule, size);
    seg->fd = pool->store.create(pool->store.opaque, b, seg, errp);
    if (seg->fd < 0) {
        segment_free(seg);
        return NULL;
    }
    brick_mark(pool, b, seg->offset, size, 1);
    g_hash_table_insert(pool->segments, GUINT_TO_POINTER(seg->id), seg);
    pool->changes++;
    return seg;
}

PoolSegment *pool_restore(Pool *pool, uint32_t id, const char *owner,
                          uint32_t brick, uint64_t offset, uint64_t size,
                          int fd, GError **errp)
{
    PoolBrick *b = pool_brick(pool, brick);
    PoolSegment *seg;

    if (id && pool_segment(pool, id)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS,
                    "segment %u exists already", id);
        return NULL;
    }
    if (!b) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "no memory brick %u", brick);
        return NULL;
    }
    if (!check_size(pool, size, errp)) {
        return NULL;
    }
    if (offset % pool->granule || offset > b->size ||
        size > b->size - offset || !brick_range_free(pool, b, offset, size)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "segment at %#" G_GINT64_MODIFIER "x+%#"
                    G_GINT64_MODIFIER "x does not fit memory brick %u",
                    offset, size, brick);
        return NULL;
    }
    seg = segment_new(pool, id, owner, b, offset, size);
    seg->fd = fd;
    brick_mark(pool, b, offset, size, 1);
    g_hash_table_insert(pool->segments, GUINT_TO_POINTER(seg->id), seg);
    pool->changes++;
    return seg;
}

PoolSegment *pool_segment(Pool *pool, uint32_t id)
{
    return g_hash_table_lookup(pool->segments, GUINT_TO_POINTER(id));
}

PoolSegment *pool_segment_at(Pool *pool, uint32_t brick, uint64_t offset)
{
    GHashTableIter it;
    PoolSegment *seg;

    g_hash_table_iter_init(&it, pool->segments);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&seg)) {
        if (seg->brick == brick && offset >= seg->offset &&
            offset - seg->offset < seg->size) {
            return seg;
        }
    }
    return NULL;
}

static PoolSegment *owned_segment(Pool *pool, const char *requester,
                                  bool admin, uint32_t id, GError **errp)
{
    PoolSegment *seg = pool_segment(pool, id);

    if (!seg) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "no segment %u", id);
        return NULL;
    }
    if (!admin && g_strcmp0(seg->owner, requester)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED,
                    "segment %u is leased to %s, not to %s", id, seg->owner,
                    requester ? requester : "an anonymous client");
        return NULL;
    }
    return seg;
}

static void drop_segment(Pool *pool, PoolSegment *seg, bool scrub)
{
    PoolBrick *b = pool_brick(pool, seg->brick);

    pool->store.destroy(pool->store.opaque, b, seg, scrub);
    if (seg->fd >= 0) {
        close(seg->fd);
    }
    if (seg->ro_fd >= 0) {
        close(seg->ro_fd);
    }
    brick_mark(pool, b, seg->offset, seg->size, 0);
    if (scrub) {
        b->scrubs++;
    }
    g_hash_table_remove(pool->segments, GUINT_TO_POINTER(seg->id));
    pool->changes++;
}

bool pool_release_segment(Pool *pool, const char *requester, bool admin,
                          uint32_t id, GError **errp)
{
    PoolSegment *seg = owned_segment(pool, requester, admin, id, errp);

    if (!seg) {
        return false;
    }
    drop_segment(pool, seg, true);
    return true;
}

bool pool_grant(Pool *pool, const char *requester, bool admin, uint32_t id,
                const char *client, bool writable, GError **errp)
{
    PoolSegment *seg = owned_segment(pool, requester, admin, id, errp);

    if (!seg) {
        return false;
    }
    if (!client || !*client || !strcmp(client, seg->owner)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "grant of segment %u needs another client", id);
        return false;
    }
    g_hash_table_insert(seg->grants, g_strdup(client),
                        GINT_TO_POINTER(writable));
    pool->changes++;
    return true;
}

PoolSegment *pool_open(Pool *pool, const char *requester, bool admin,
                       uint32_t id, bool *writable, GError **errp)
{
    PoolSegment *seg = pool_segment(pool, id);
    gpointer mode;

    if (!seg) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "no segment %u", id);
        return NULL;
    }
    if (pool_brick(pool, seg->brick)->down) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DOWN,
                    "segment %u cannot be reached: memory brick %u is down",
                    id, seg->brick);
        return NULL;
    }
    if (seg->fd < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DOWN,
                    "segment %u lost its memory when the pool restarted"
                    " (%s memory does not survive one)", id,
                    mem_class_name(pool_brick(pool, seg->brick)->mem_class));
        return NULL;
    }
    if (admin || !g_strcmp0(seg->owner, requester)) {
        *writable = true;
        return seg;
    }
    if (requester &&
        g_hash_table_lookup_extended(seg->grants, requester, NULL, &mode)) {
        *writable = GPOINTER_TO_INT(mode);
        /* A read-only grantee gets an fd it cannot map writable. */
        if (!*writable && seg->ro_fd < 0) {
            g_autofree char *path = g_strdup_printf("/proc/self/fd/%d",
                                                    seg->fd);

            seg->ro_fd = open(path, O_RDONLY | O_CLOEXEC);
            if (seg->ro_fd < 0) {
                g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                            "cannot reopen segment %u read-only: %s", id,
                            g_strerror(errno));
                return NULL;
            }
        }
        return seg;
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED,
                "segment %u is not granted to %s", id,
                requester ? requester : "an anonymous client");
    return NULL;
}

bool pool_set_brick_down(Pool *pool, uint32_t id, bool down,
                         unsigned *wiped, GError **errp)
{
    PoolBrick *b = pool_brick(pool, id);
    GHashTableIter it;
    PoolSegment *seg;

    *wiped = 0;
    if (!b) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "no memory brick %u", id);
        return false;
    }
    if (b->down == down) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS,
                    "memory brick %u is %s", id,
                    down ? "already down" : "not down");
        return false;
    }
    b->down = down;
    pool->changes++;
    if (!down || b->mem_class == MEM_CLASS_PERSISTENT) {
        return true;
    }
    g_hash_table_iter_init(&it, pool->segments);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&seg)) {
        if (seg->brick == id && seg->fd >= 0) {
            pool->store.wipe(pool->store.opaque, b, seg);
            (*wiped)++;
        }
    }
    return true;
}

bool pool_set_page_poisoned(Pool *pool, uint32_t id, uint64_t offset,
                            bool poisoned, GError **errp)
{
    PoolBrick *b = pool_brick(pool, id);
    guint i = 0;
    bool found;

    if (!b) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "no memory brick %u", id);
        return false;
    }
    if (offset % DREDBOX_POISON_PAGE || offset >= b->size) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "memory brick %u has no page at offset 0x%"
                    G_GINT64_MODIFIER "x: a page is 4 KiB, at a multiple of"
                    " 4096 below 0x%" G_GINT64_MODIFIER "x", id,
                    (guint64)offset, (guint64)b->size);
        return false;
    }
    while (i < b->poisoned->len &&
           g_array_index(b->poisoned, uint64_t, i) < offset) {
        i++;
    }
    found = i < b->poisoned->len &&
            g_array_index(b->poisoned, uint64_t, i) == offset;
    if (found == poisoned) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS,
                    "page 0x%" G_GINT64_MODIFIER "x of memory brick %u is %s",
                    (guint64)offset, id,
                    poisoned ? "already poisoned" : "not poisoned");
        return false;
    }
    if (poisoned) {
        g_array_insert_val(b->poisoned, i, offset);
    } else {
        g_array_remove_index(b->poisoned, i);
    }
    pool->changes++;
    return true;
}

GArray *pool_segment_poisoned(Pool *pool, const PoolSegment *seg)
{
    PoolBrick *b = pool_brick(pool, seg->brick);
    GArray *in = g_array_new(false, false, sizeof(uint64_t));

    for (guint i = 0; i < b->poisoned->len; i++) {
        uint64_t off = g_array_index(b->poisoned, uint64_t, i);

        if (off >= seg->offset && off - seg->offset < seg->size) {
            off -= seg->offset;
            g_array_append_val(in, off);
        }
    }
    return in;
}

unsigned pool_release_owner(Pool *pool, const char *owner)
{
    g_autoptr(GPtrArray) segs = pool_list_segments(pool);
    unsigned n = 0;

    for (guint i = 0; i < segs->len; i++) {
        PoolSegment *seg = g_ptr_array_index(segs, i);

        if (!g_strcmp0(seg->owner, owner)) {
            drop_segment(pool, seg, true);
            n++;
        }
    }
    return n;
}

void pool_drop_all(Pool *pool)
{
    g_autoptr(GPtrArray) segs = pool_list_segments(pool);

    for (guint i = 0; i < segs->len; i++) {
        drop_segment(pool, g_ptr_array_index(segs, i), false);
    }
}

static gint compare_segment_id(gconstpointer a, gconstpointer b)
{
    const PoolSegment *x = *(PoolSegment *const *)a;
    const PoolSegment *y = *(PoolSegment *const *)b;

    return x->id < y->id ? -1 : x->id > y->id;
}

GPtrArray *pool_list_segments(Pool *pool)
{
    GPtrArray *segs = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, pool->segments);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        g_ptr_array_add(segs, value);
    }
    g_ptr_array_sort(segs, compare_segment_id);
    return segs;
}
