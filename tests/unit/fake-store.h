/*
 * A PoolStore for unit tests: no host memory, just counts, and can be told
 * to fail.  Each segment gets a dup of a pipe end as its fd.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FAKE_STORE_H
#define FAKE_STORE_H

#include "pool.h"
#include <unistd.h>

typedef struct FakeStore {
    int creates, destroys, scrubs, wipes;
    bool fail;
    int fd;
} FakeStore;

static int fake_create(void *opaque, const PoolBrick *b,
                       const PoolSegment *seg, GError **errp)
{
    FakeStore *fs = opaque;

    if (fs->fail) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "fake store failure");
        return -1;
    }
    fs->creates++;
    return dup(fs->fd);
}

static void fake_destroy(void *opaque, const PoolBrick *b,
                         const PoolSegment *seg, bool scrub)
{
    FakeStore *fs = opaque;

    fs->destroys++;
    fs->scrubs += scrub;
}

static void fake_wipe(void *opaque, const PoolBrick *b,
                      const PoolSegment *seg)
{
    FakeStore *fs = opaque;

    fs->wipes++;
}

static inline Pool *fake_pool(FakeStore *fs)
{
    PoolStore store = { fake_create, fake_destroy, fake_wipe, fs };
    int p[2];

    g_assert(pipe(p) == 0);
    close(p[1]);
    fs->fd = p[0];
    return pool_new(POOL_DEFAULT_GRANULE, &store);
}

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#endif
