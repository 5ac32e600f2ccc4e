/*
 * The compute brick's memory map (include/dredbox/memory-map.h): the
 * -numa nodes' memory, the memory devices and pmem=, with the memory brick
 * and place each range's memory comes from.  Rebuilt at machine creation,
 * whenever a memory device is plugged or unplugged and whenever an
 * on-demand backend takes or gives back granules; published in a file
 * with memory-map=PATH.  Timing mode charges remote memory from it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "hw/mem/memory-device.h"
#include "hw/virtio/virtio-mem-pci.h"
#include "system/numa.h"
#include "hw/dredbox/compute-brick.h"
#include "dredbox/memory-map.h"
#include "hw/dredbox/memory-map-qmp.h"
#include "hw/dredbox/publish.h"
#include "hw/dredbox/remote-memory.h"
#include "trace.h"

/* Range @start + @size of the map, of @kind in @node, backed by @memdev. */
static void map_add(MemoryMap *m, uint64_t start, uint64_t size,
                    uint32_t kind, uint32_t node, Object *memdev)
{
    DredboxRemoteMemoryInfo info;
    MemoryMapRange *r;

    if (!size) {
        return;
    }
    if (m->nranges == MEMORY_MAP_RANGES) {
        warn_report_once("dredbox-compute: more than %d memory ranges; the"
                         " memory map leaves the rest out",
                         MEMORY_MAP_RANGES);
        return;
    }
    r = &m->range[m->nranges++];
    *r = (MemoryMapRange) {
        .start = start, .end = start + size, .kind = kind, .node = node,
        .brick = MEMORY_MAP_NO_BRICK,
    };
    if (!memdev || !dredbox_remote_memory_info(memdev, &info)) {
        return;
    }
    r->brick = info.brick;
    r->latency = info.latency;
    r->offset = info.offset;
    if (!info.granule) {
        return;
    }
    r->granule_shift = ctz64(info.granule);
    r->first = m->ngranules;
    if (m->ngranules + size / info.granule > MEMORY_MAP_GRANULES) {
        warn_report_once("dredbox-compute: more than %d granules of"
                         " on-demand memory; the memory map does not say"
                         " where the rest is", MEMORY_MAP_GRANULES);
        r->first = MEMORY_MAP_GRANULES;     /* all unplugged, to readers */
        return;
    }
    for (uint64_t g = 0; g < size / info.granule; g++) {
        m->granule[m->ngranules++] = dredbox_remote_memory_granule(memdev, g);
    }
}

typedef struct MapWalk {
    MemoryMap *map;
    DeviceState *plugging;      /* not realized yet, but counts */
    DeviceState *unplugging;    /* still realized, but goes */
} MapWalk;

static int map_add_device(Object *obj, void *opaque)
{
    MapWalk *w = opaque;
    MemoryDeviceState *md;
    MemoryDeviceClass *mdc;
    MemoryRegion *mr;

    if (!object_dynamic_cast(obj, TYPE_MEMORY_DEVICE) ||
        DEVICE(obj) == w->unplugging ||
        (!DEVICE(obj)->realized && DEVICE(obj) != w->plugging)) {
        return 0;
    }
    md = MEMORY_DEVICE(obj);
    mdc = MEMORY_DEVICE_GET_CLASS(md);
    mr = mdc->get_memory_region(md, NULL);
    if (mr) {
        map_add(w->map, mdc->get_addr(md), memory_region_size(mr),
                MEMORY_MAP_VIRTIO_MEM,
                object_property_get_uint(obj, "node", NULL),
                memory_region_owner(mr));
    }
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const MemoryMapRange *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

void dredbox_memory_map_update(DredboxComputeState *s, DeviceState *plugging,
                               DeviceState *unplugging)
{
    NumaState *ns = MACHINE(s)->numa_state;
    MemoryMap *m = s->memory_map;
    MapWalk w = { .map = m, .plugging = plugging, .unplugging = unplugging };
    uint64_t addr = dredbox_memmap[DREDBOX_LOCAL_DRAM].base;

    /* The write side of a seqlock (memory-map.h): odd while rewriting */
    qatomic_set(&m->generation, m->generation + 1);
    smp_wmb();  /* the odd generation before the ranges change */
    m->nranges = 0;
    m->ngranules = 0;
    for (int i = 0; ns && i < ns->num_nodes; i++) {
        /* The nodes' memory is contiguous, in node order. */
        map_add(m, addr, ns->nodes[i].node_mem, MEMORY_MAP_NODE, i,
                OBJECT(ns->nodes[i].node_memdev));
        addr += ns->nodes[i].node_mem;
    }
    if (!ns || !ns->num_nodes) {
        /* Without -numa, the guest has its DRAM in node 0. */
        map_add(m, addr, MACHINE(s)->ram_size, MEMORY_MAP_NODE, 0, NULL);
    }
    object_child_foreach_recursive(object_get_root(), map_add_device, &w);
    if (s->pmem_backend) {
        map_add(m, dredbox_memmap[DREDBOX_PMEM].base,
                memory_region_size(host_memory_backend_get_memory(
                    MEMORY_BACKEND(s->pmem_backend))),
                MEMORY_MAP_PMEM, MEMORY_MAP_NO_NODE, s->pmem_backend);
    }
    qsort(m->range, m->nranges, sizeof(m->range[0]), range_cmp);
    smp_wmb();  /* the new ranges before the even generation */
    qatomic_set(&m->generation, m->generation + 1);
    trace_dredbox_memory_map(m->nranges, m->ngranules);
    if (s->timing_table) {
        dredbox_timing_update_ranges(s);
    }
}

/* An on-demand backend took or gave back granules. */
static void dredbox_memory_map_changed(Notifier *n, void *data)
{
    DredboxComputeState *s = container_of(n, DredboxComputeState,
                                          memory_map_changed);

    dredbox_memory_map_update(s, NULL, NULL);
}

void dredbox_memory_map_init(DredboxComputeState *s)
{
    if (s->memory_map_path) {
        s->memory_map = dredbox_publish_open("dredbox-compute: memory-map",
                                             s->memory_map_path,
                                             sizeof(MemoryMap), &error_fatal);
    } else {
        s->memory_map = g_new0(MemoryMap, 1);
    }
    s->memory_map->magic = MEMORY_MAP_MAGIC;
    s->memory_map->version = MEMORY_MAP_VERSION;
    dredbox_memory_map_publish(s->memory_map);
    s->memory_map_changed.notify = dredbox_memory_map_changed;
    dredbox_remote_memory_add_notifier(&s->memory_map_changed);
    dredbox_memory_map_update(s, NULL, NULL);
}
