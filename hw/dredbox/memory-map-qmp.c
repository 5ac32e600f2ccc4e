/*
 * QMP of a dReDBox compute brick's memory map (docs/memory-map.md):
 * query-dredbox-memory-map reads the map the machine keeps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-dredbox.h"
#include "dredbox/memory-map.h"
#include "hw/dredbox/memory-map-qmp.h"

static const MemoryMap *memory_map;

void dredbox_memory_map_publish(const MemoryMap *map)
{
    memory_map = map;
}

/* @r's extents: its pieces contiguous in the brick, in address order. */
static DredboxMemoryExtentList *extents(const MemoryMap *m,
                                        const MemoryMapRange *r)
{
    DredboxMemoryExtentList *head = NULL, **tail = &head;
    DredboxMemoryExtent *last = NULL;
    uint64_t step = r->granule_shift ? UINT64_C(1) << r->granule_shift
                                     : r->end - r->start;

    for (uint64_t a = r->start; a < r->end; a += step) {
        uint64_t off = memory_map_offset(m, r, a);

        if (off == MEMORY_MAP_UNPLUGGED) {
            last = NULL;
        } else if (last && last->brick_offset + last->size == off) {
            last->size += step;
        } else {
            last = g_new(DredboxMemoryExtent, 1);
            *last = (DredboxMemoryExtent) {
                .start = a, .size = step, .brick_offset = off,
            };
            QAPI_LIST_APPEND(tail, last);
        }
    }
    return head;
}

DredboxMemoryRangeList *qmp_query_dredbox_memory_map(Error **errp)
{
    const MemoryMap *m = memory_map;
    DredboxMemoryRangeList *head = NULL, **tail = &head;

    QEMU_BUILD_BUG_ON(MEMORY_MAP_NODE - 1 !=
                      DREDBOX_MEMORY_RANGE_KIND_NUMA_NODE);
    QEMU_BUILD_BUG_ON(MEMORY_MAP_VIRTIO_MEM - 1 !=
                      DREDBOX_MEMORY_RANGE_KIND_VIRTIO_MEM);
    QEMU_BUILD_BUG_ON(MEMORY_MAP_PMEM - 1 != DREDBOX_MEMORY_RANGE_KIND_PMEM);
    if (!m) {
        error_setg(errp, "the machine is not a dredbox-compute brick");
        return NULL;
    }
    /* Under the BQL, as the machine's writer: no rewrite under way. */
    for (uint32_t i = 0; i < m->nranges; i++) {
        const MemoryMapRange *r = &m->range[i];
        DredboxMemoryRange *out = g_new0(DredboxMemoryRange, 1);

        *out = (DredboxMemoryRange) {
            .start = r->start, .size = r->end - r->start,
            .kind = r->kind - 1,
            .has_node = r->node != MEMORY_MAP_NO_NODE, .node = r->node,
        };
        if (r->brick != MEMORY_MAP_NO_BRICK) {
            out->has_brick = true;
            out->brick = r->brick;
            out->has_latency_class = true;
            out->latency_class = r->latency;
            out->has_extents = true;
            out->extents = extents(m, r);
        }
        QAPI_LIST_APPEND(tail, out);
    }
    return head;
}
