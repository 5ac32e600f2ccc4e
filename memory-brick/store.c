/*
 * Host memory behind the pool's segments.
 *
 * Every segment has its own fd, so a client handed one segment can map
 * nothing else of the brick.  DRAM segments are sparse files on tmpfs:
 * untouched memory costs the host nothing, and a released segment's file
 * is unlinked, so its pages go back to the host when its last mapping
 * goes and the next owner starts from zeroes (the scrub).  Hugepage
 * segments are files on hugetlbfs the same way, or memfds where the host
 * mounts no hugetlbfs.  Persistent segments are files named after their
 * place in the brick and their lease, so they survive a restart of the
 * rack.
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
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

static char *persistent_name(const PoolBrick *b, uint64_t offset,
                             uint64_t size, const char *owner)
{
    return g_strdup_printf("%s/seg-%016" PRIx64 "-%016" PRIx64 "@%s",
                           b->path, offset, size, owner);
}

/* A DRAM or hugepage segment's file in @dir */
static char *volatile_name(const char *dir, const PoolSegment *seg)
{
    return g_strdup_printf("%s/brick%u-seg%u", dir, seg->brick, seg->id);
}

/* A hugepage segment without a hugetlbfs directory is a memfd. */
static bool is_memfd(const HostStoreDirs *dirs, const PoolBrick *b)
{
    return b->mem_class == MEM_CLASS_HUGEPAGE && !dirs->huge;
}

static char *segment_name(const HostStoreDirs *dirs, const PoolBrick *b,
                          const PoolSegment *seg)
{
    switch (b->mem_class) {
    case MEM_CLASS_DRAM:
        return volatile_name(dirs->memory, seg);
    case MEM_CLASS_HUGEPAGE:
        return dirs->huge ? volatile_name(dirs->huge, seg)
                          : g_strdup_printf("dredbox-brick%u-seg%u", b->id,
                                            seg->id);
    case MEM_CLASS_PERSISTENT:
        return persistent_name(b, seg->offset, seg->size, seg->owner);
    default:
        g_assert_not_reached();
    }
}

static int store_create(void *opaque, const PoolBrick *b,
                        const PoolSegment *seg, GError **errp)
{
    const HostStoreDirs *dirs = opaque;
    g_autofree char *name = segment_name(dirs, b, seg);
    int fd;

    if (is_memfd(dirs, b)) {
        fd = memfd_create(name, MFD_CLOEXEC | MFD_HUGETLB);
    } else {
        fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
        if (!is_memfd(dirs, b)) {
            unlink(name);
        }
        return -1;
    }
    /*
     * Huge pages are the host's to reserve (vm.nr_hugepages): take them
     * now, so that a host without them is told here, not by a brick that
     * cannot map the segment later.
     */
    if (b->mem_class == MEM_CLASS_HUGEPAGE &&
        fallocate(fd, 0, 0, seg->size) < 0) {
        g_set_error(errp, RACK_ERROR,
                    errno == ENOSPC ? RACK_ERROR_NO_SPACE : RACK_ERROR_HOST,
                    "the host has no %" PRIu64 " MiB of free huge pages for"
                    " memory brick %u (reserve them: sysctl"
                    " vm.nr_hugepages): %s", seg->size >> 20, b->id,
                    g_strerror(errno));
        close(fd);
        if (!is_memfd(dirs, b)) {
            unlink(name);
        }
        return -1;
    }
    return fd;
}

/* A DRAM or hugepage segment's file always goes (its pages follow when
 * the last mapping does); a persistent one's only when its contents must. */
static void store_destroy(void *opaque, const PoolBrick *b,
                          const PoolSegment *seg, bool scrub)
{
    const HostStoreDirs *dirs = opaque;

    if (is_memfd(dirs, b)) {
        return;
    }
    if (b->mem_class != MEM_CLASS_PERSISTENT || scrub) {
        g_autofree char *name = segment_name(dirs, b, seg);

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

static int store_reopen(void *opaque, const PoolBrick *b,
                        const PoolSegment *seg, GError **errp)
{
    const HostStoreDirs *dirs = opaque;
    g_autofree char *name = NULL;
    struct stat st;
    int fd;

    if (is_memfd(dirs, b)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "hugepage memory does not survive a pool restart"
                    " without hugetlbfs");
        return -1;
    }
    name = segment_name(dirs, b, seg);
    fd = open(name, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != seg->size) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "%s: %s", name,
                    fd < 0 ? g_strerror(errno) : "not the segment's size");
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* A number of kB that /proc/meminfo gives for @key ("HugePages_Free:") */
static uint64_t meminfo(const char *text, const char *key)
{
    const char *at = strstr(text, key);

    return at ? g_ascii_strtoull(at + strlen(key), NULL, 10) : 0;
}

/*
 * Huge pages are the host's to reserve (vm.nr_hugepages), and files take
 * room in their file system (tmpfs for DRAM): how much of @b's free
 * memory the host has now.
 */
static uint64_t store_backable(void *opaque, const PoolBrick *b,
                               char **why)
{
    const HostStoreDirs *dirs = opaque;
    uint64_t free = b->size - b->used, have;

    if (b->mem_class == MEM_CLASS_HUGEPAGE) {
        g_autofree char *text = NULL;
        uint64_t page, total;

        g_file_get_contents("/proc/meminfo", &text, NULL, NULL);
        page = text ? meminfo(text, "Hugepagesize:") << 10 : 0;
        total = text ? meminfo(text, "HugePages_Total:") : 0;
        have = page ? meminfo(text, "HugePages_Free:") * page : 0;
        if (have < free) {
            *why = g_strdup_printf("the host has %" PRIu64 " MiB of free"
                                   " huge pages for its %" PRIu64 " MiB"
                                   " (reserve them: sysctl vm.nr_hugepages=%"
                                   PRIu64 ")", have >> 20, free >> 20,
                                   total + (page ? (free - have + page - 1) /
                                            page : 0));
        }
    } else {
        const char *dir = b->mem_class == MEM_CLASS_PERSISTENT ? b->path
                                                               : dirs->memory;
        struct statvfs st;

        have = statvfs(dir, &st) == 0 ? (uint64_t)st.f_bavail * st.f_frsize
                                      : 0;
        if (have < free) {
            *why = g_strdup_printf("%s has %" PRIu64 " MiB free for its %"
                                   PRIu64 " MiB", dir, have >> 20,
                                   free >> 20);
        }
    }
    return MIN(free, have);
}

PoolStore host_store(const HostStoreDirs *dirs)
{
    return (PoolStore) {
        .create = store_create,
        .destroy = store_destroy,
        .wipe = store_wipe,
        .reopen = store_reopen,
        .backable = store_backable,
        .opaque = (void *)dirs,
    };
}

bool host_store_is_hugetlbfs(const char *dir)
{
    struct statfs st;

    return statfs(dir, &st) == 0 && st.f_type == HUGETLBFS_MAGIC;
}

char *host_store_huge_dir(const char *memory_dir)
{
    g_autofree char *mounts = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/mounts", &mounts, NULL, NULL)) {
        return NULL;
    }
    lines = g_strsplit(mounts, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 4);

        if (g_strv_length(f) >= 3 && !strcmp(f[2], "hugetlbfs") &&
            host_store_is_hugetlbfs(f[1])) {
            g_autofree char *name = g_path_get_basename(memory_dir);

            return g_build_filename(f[1], name, NULL);
        }
    }
    return NULL;
}

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
                   &offset, &size, owner) != 3 ||
            pool_segment_at(pool, b->id, offset)) {
            continue;
        }
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            g_warning("cannot reopen %s: %s", path, g_strerror(errno));
            continue;
        }
        if (!pool_restore(pool, 0, owner, b->id, offset, size, fd, &err)) {
            g_warning("ignoring %s: %s", path, err->message);
            g_error_free(err);
            close(fd);
        }
    }
    return true;
}

unsigned host_store_sweep(Pool *pool, const char *where)
{
    g_autoptr(GDir) dir = g_dir_open(where, 0, NULL);
    const char *entry;
    unsigned n = 0;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(where, entry, NULL);
        unsigned brick, id;
        PoolSegment *seg = NULL;
        char end;

        if (pool &&
            sscanf(entry, "brick%u-seg%u%c", &brick, &id, &end) == 2) {
            seg = pool_segment(pool, id);
        }
        if ((!seg || seg->brick != brick) && unlink(path) == 0) {
            n++;
        }
    }
    return n;
}
