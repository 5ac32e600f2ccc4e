/*
 * Host memory behind the pool's segments: one file per segment, so that
 * a pool killed at any point finds its segments again (pool-journal.h).
 * DRAM segments are files in a memory directory on tmpfs, persistent
 * ones files in the brick's directory, hugepage ones hugetlbfs memfds,
 * which do not survive a pool restart.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_STORE_H
#define DREDBOX_STORE_H

#include "pool.h"

/* The store for DRAM segments in @memory_dir (which must outlive it). */
PoolStore host_store(const char *memory_dir);

/* Re-adopt the segments a persistent brick kept on disk, but for those
 * the pool has already. */
bool host_store_recover(Pool *pool, PoolBrick *brick, GError **errp);

/* Remove what is in @memory_dir but no segment of @pool (NULL: all of
 * it): memory made for a request the pool died in, or that a pool killed
 * and never restarted left.  Returns how many files went. */
unsigned host_store_sweep(Pool *pool, const char *memory_dir);

#endif
