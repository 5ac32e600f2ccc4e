/*
 * Host memory behind the pool's segments: memfd for DRAM bricks,
 * hugetlbfs-backed memfd for hugepage bricks, one file per segment in the
 * brick's directory for persistent bricks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_STORE_H
#define DREDBOX_STORE_H

#include "pool.h"

extern const PoolStore host_store;

/* Re-adopt the segments a persistent brick kept on disk. */
bool host_store_recover(Pool *pool, PoolBrick *brick, GError **errp);

#endif
