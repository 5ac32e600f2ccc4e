/*
 * Where a compute brick's remote memory outside the RMC windows comes
 * from: NUMA nodes backed by memory-backend-remote, virtio-mem devices and
 * persistent memory
 * (docs/memory-map.md, "The published memory map").  The machine keeps it
 * and publishes it in a file of this fixed layout (-machine
 * dredbox-compute,memory-map=PATH), rewritten whenever a device plugs or
 * unplugs memory, for tools that watch the brick: the dredbox-mem plugin
 * attributes accesses with it, and the timing model charges them.
 *
 * Readers use it like a seqlock: read @generation, copy, read it again;
 * an odd or changed value means a rewrite was under way, so retry.
 * Plain C, host byte order (reader and writer share the host).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_MEMORY_MAP_H
#define HW_DREDBOX_MEMORY_MAP_H

#include <stdint.h>

#define MEMORY_MAP_MAGIC        0x50414d4du     /* "MMAP" */
#define MEMORY_MAP_VERSION      1
#define MEMORY_MAP_RANGES       64
#define MEMORY_MAP_GRANULES     4096    /* of every on-demand range */
#define MEMORY_MAP_NO_BRICK     UINT32_MAX      /* not a memory brick's */
#define MEMORY_MAP_NO_NODE      UINT32_MAX      /* in no NUMA node */
#define MEMORY_MAP_UNPLUGGED    UINT64_MAX      /* granule[]: nothing there */

/* MemoryMapRange.kind */
enum {
    MEMORY_MAP_NODE = 1,        /* a -numa node's memory (memdev) */
    MEMORY_MAP_VIRTIO_MEM = 2,  /* a virtio-mem device's whole range */
    MEMORY_MAP_PMEM = 3,        /* pmem=: persistent memory, no node */
};

typedef struct MemoryMapRange {
    uint64_t start;         /* guest-physical, [start, end) */
    uint64_t end;
    uint32_t kind;          /* MEMORY_MAP_* */
    uint32_t brick;         /* the memory brick, or MEMORY_MAP_NO_BRICK */
    uint32_t latency;       /* its class (DredboxLatencyClass) */
    uint32_t node;          /* the NUMA node, or MEMORY_MAP_NO_NODE */
    /*
     * Where in the brick: a static segment's offset of @start
     * (@granule_shift 0), or for memory plugged granule by granule,
     * granule[@first + i] is the brick offset of the i-th granule of
     * 1 << @granule_shift bytes (MEMORY_MAP_UNPLUGGED if none).
     */
    uint64_t offset;
    uint32_t granule_shift;
    uint32_t first;
} MemoryMapRange;

typedef struct MemoryMap {
    uint32_t magic;
    uint32_t version;
    uint32_t generation;    /* odd while being rewritten */
    uint32_t nranges;       /* sorted by @start, none overlapping */
    uint32_t ngranules;
    uint32_t pad;
    MemoryMapRange range[MEMORY_MAP_RANGES];
    uint64_t granule[MEMORY_MAP_GRANULES];
} MemoryMap;

_Static_assert(sizeof(MemoryMapRange) == 48, "MemoryMapRange layout");

/* Where @pa in @r is in its brick, or MEMORY_MAP_UNPLUGGED. */
static inline uint64_t memory_map_offset(const MemoryMap *m,
                                         const MemoryMapRange *r, uint64_t pa)
{
    uint64_t at = pa - r->start, i, g;

    if (!r->granule_shift) {
        return r->offset + at;
    }
    i = r->first + (at >> r->granule_shift);
    g = i < MEMORY_MAP_GRANULES ? m->granule[i] : MEMORY_MAP_UNPLUGGED;
    return g == MEMORY_MAP_UNPLUGGED
           ? g : g + (at & ((UINT64_C(1) << r->granule_shift) - 1));
}

/* The range of @m that holds @pa, or NULL: a binary search. */
static inline const MemoryMapRange *memory_map_find(const MemoryMap *m,
                                                    uint64_t pa)
{
    uint32_t lo = 0, hi = m->nranges < MEMORY_MAP_RANGES
                          ? m->nranges : MEMORY_MAP_RANGES;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (pa < m->range[mid].start) {
            hi = mid;
        } else if (pa >= m->range[mid].end) {
            lo = mid + 1;
        } else {
            return &m->range[mid];
        }
    }
    return 0;
}

#endif
