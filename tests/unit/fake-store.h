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
    int creates, destroys, scrubs, wipes, reopens;
    bool fail;
    bool lost;          /* reopen finds nothing: memory lost in a restart */
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

static int fake_reopen(void *opaque, const PoolBrick *b,
                       const PoolSegment *seg, GError **errp)
{
    FakeStore *fs = opaque;

    if (fs->lost) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "fake memory lost");
        return -1;
    }
    fs->reopens++;
    return dup(fs->fd);
}

static inline Pool *fake_pool(FakeStore *fs)
{
    PoolStore store = {
        .create = fake_create,
        .destroy = fake_destroy,
        .wipe = fake_wipe,
        .reopen = fake_reopen,
        .opaque = fs,
    };
    int p[2];

    g_assert(pipe(p) == 0);
    close(p[1]);
    fs->fd = p[0];
    return pool_new(POOL_DEFAULT_GRANULE, &store);
}

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#endif
