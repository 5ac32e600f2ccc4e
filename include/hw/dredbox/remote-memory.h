/*
 * What QEMU's side of the rack asks of a memory-backend-remote
 * (backends/remote-memory/remote-memory.c): which memory brick its memory
 * is in, where, and when that changes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_REMOTE_MEMORY_H
#define HW_DREDBOX_REMOTE_MEMORY_H

#include "qemu/notify.h"
#include "qom/object.h"

#define TYPE_MEMORY_BACKEND_REMOTE "memory-backend-remote"

typedef struct DredboxRemoteMemoryInfo {
    uint32_t brick;
    uint32_t latency;       /* DredboxLatencyClass */
    /* 0: one static segment at @offset; else plugged granule by granule */
    uint64_t granule;
    uint64_t offset;
} DredboxRemoteMemoryInfo;

/* Whether @memdev is a memory-backend-remote, and if so its @info. */
bool dredbox_remote_memory_info(Object *memdev,
                                DredboxRemoteMemoryInfo *info);
/*
 * Where granule @g of on-demand backend @memdev is in its brick, or
 * UINT64_MAX if it has none (not plugged).
 */
uint64_t dredbox_remote_memory_granule(Object *memdev, uint64_t g);
/* Called after any on-demand backend took or gave back granules. */
void dredbox_remote_memory_add_notifier(Notifier *n);
/*
 * Make the memory of every memory-backend-remote in memory brick @brick
 * unreachable (every access refused) or reachable again.
 */
void dredbox_remote_memory_set_reachable(uint32_t brick, bool reachable);
/*
 * Poison (@poison) or clear page @offset of pool segment @segment where a
 * memory-backend-remote maps it: every access to a poisoned page is
 * refused.  False with @errp set if no backend maps the segment, there is
 * no such page, or it already is (is not) poisoned.
 */
bool dredbox_remote_memory_poison_page(uint32_t segment, uint64_t offset,
                                       bool poison, Error **errp);

#endif
