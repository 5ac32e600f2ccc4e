/*
 * Host memory behind the pool's segments: one file per segment, so that
 * a pool killed at any point finds its segments again (pool-journal.h).
 * DRAM segments are files in a memory directory on tmpfs, hugepage ones
 * files in a directory on hugetlbfs (memfds, which do not survive a pool
 * restart, where the host mounts no hugetlbfs), persistent ones files in
 * the brick's directory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_STORE_H
#define DREDBOX_STORE_H

#include "pool.h"

/* Where a pool's DRAM and hugepage segments live */
typedef struct HostStoreDirs {
    char *memory;   /* DRAM: a directory on tmpfs */
    char *huge;     /* hugepage: a directory on hugetlbfs, NULL: memfds */
} HostStoreDirs;

/* The store for segments in @dirs (which must outlive it). */
PoolStore host_store(const HostStoreDirs *dirs);

/* Whether @dir is on hugetlbfs. */
bool host_store_is_hugetlbfs(const char *dir);

/* A directory for the hugepage segments of the pool whose DRAM is in
 * @memory_dir, on the host's first hugetlbfs mount; NULL if none. */
char *host_store_huge_dir(const char *memory_dir);

/* Re-adopt the segments a persistent brick kept on disk, but for those
 * the pool has already. */
bool host_store_recover(Pool *pool, PoolBrick *brick, GError **errp);

/* Remove what is in @dir (a memory or hugepage directory) but no segment
 * of @pool (NULL: all of it): memory made for a request the pool died in,
 * or that a pool killed and never restarted left.  Returns how many files
 * went. */
unsigned host_store_sweep(Pool *pool, const char *dir);

#endif
