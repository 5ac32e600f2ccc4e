/*
 * Host memory behind the pool's segments.
 *
 * Every segment has its own fd, so a client handed one segment can map
 * nothing else of the brick.  DRAM segments are sparse memfds: untouched
 * memory costs the host nothing, and a released segment's pages go back
 * to the host when its last mapping goes, so the next owner always starts
 * from zeroes (the scrub).  Persistent segments are files named after
 * their place in the brick and their lease, so they survive a restart.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *persistent_name(const PoolBrick *b, uint64_t offset,
                             uint64_t size, const char *owner)
{
    return g_strdup_printf("%s/seg-%016" PRIx64 "-%016" PRIx64 "@%s",
                           b->path, offset, size, owner);
}

static int store_create(void *opaque, const PoolBrick *b,
                        const PoolSegment *seg, GError **errp)
{
    g_autofree char *name = NULL;
    int fd;

    switch (b->mem_class) {
    case MEM_CLASS_DRAM:
    case MEM_CLASS_HUGEPAGE:
        name = g_strdup_printf("dredbox-brick%u-seg%u", b->id, seg->id);
        fd = memfd_create(name, MFD_CLOEXEC |
                          (b->mem_class == MEM_CLASS_HUGEPAGE ?
                           MFD_HUGETLB : 0));
        break;
    case MEM_CLASS_PERSISTENT:
        name = persistent_name(b, seg->offset, seg->size, seg->owner);
        fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        break;
    default:
        g_assert_not_reached();
    }
    if (fd < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "cannot create segment %s: %s", name, g_strerror(errno));
        return -1;
    }
    if (ftruncate(fd, seg->size) < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "cannot size segment %s to %" PRIu64 " bytes: %s",
                    name, seg->size, g_strerror(errno));
        close(fd);
        if (b->mem_class == MEM_CLASS_PERSISTENT) {
            unlink(name);
        }
        return -1;
    }
    return fd;
}

static void store_destroy(void *opaque, const PoolBrick *b,
                          const PoolSegment *seg, bool scrub)
{
    if (b->mem_class == MEM_CLASS_PERSISTENT && scrub) {
        g_autofree char *name = persistent_name(b, seg->offset, seg->size,
                                                seg->owner);

        if (unlink(name) < 0) {
            g_warning("cannot remove %s: %s", name, g_strerror(errno));
        }
    }
}

/*
 * Punching the whole segment out drops its pages: every mapping of it,
 * QEMU's included, reads zeroes from then on.
 */
static void store_wipe(void *opaque, const PoolBrick *b,
                       const PoolSegment *seg)
{
    if (fallocate(seg->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                  seg->size) < 0) {
        g_warning("cannot wipe segment %u of memory brick %u: %s", seg->id,
                  b->id, g_strerror(errno));
    }
}

const PoolStore host_store = {
    .create = store_create,
    .destroy = store_destroy,
    .wipe = store_wipe,
};

bool host_store_recover(Pool *pool, PoolBrick *b, GError **errp)
{
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    if (g_mkdir_with_parents(b->path, 0700) < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "cannot create %s: %s", b->path, g_strerror(errno));
        return false;
    }
    dir = g_dir_open(b->path, 0, errp);
    if (!dir) {
        return false;
    }
    while ((entry = g_dir_read_name(dir))) {
        uint64_t offset, size;
        char owner[65];
        g_autofree char *path = g_build_filename(b->path, entry, NULL);
        GError *err = NULL;
        int fd;

        if (sscanf(entry, "seg-%16" SCNx64 "-%16" SCNx64 "@%64s",
                   &offset, &size, owner) != 3) {
            continue;
        }
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            g_warning("cannot reopen %s: %s", path, g_strerror(errno));
            continue;
        }
        if (!pool_restore(pool, owner, b->id, offset, size, fd, &err)) {
            g_warning("ignoring %s: %s", path, err->message);
            g_error_free(err);
            close(fd);
        }
    }
    return true;
}
