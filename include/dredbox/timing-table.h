/*
 * The compute brick's timing mode (docs/timing.md): the table the
 * machine shares with the memory-access plugin that models it
 * (plugins/dredbox-mem.c, mode=timing).
 *
 * The machine fills in the figures and the address ranges of remote
 * memory that sits outside the RMC windows (memory-backend-remote NUMA
 * nodes, virtio-mem devices), the plugin adds up what it charged in the
 * counts, and query-dredbox-timing reads them back.  It lives in a memfd
 * that the machine maps and hands to the plugin it loads (timing=FD).
 *
 * The ranges are rewritten when a virtio-mem device is plugged or
 * unplugged while vCPUs run; readers use @generation like a seqlock:
 * read it, copy, read it again; odd or changed means retry.  Each vCPU
 * writes only its own counts (relaxed stores), others only read them.
 * Plain C, host byte order (reader and writer are one process).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_TIMING_TABLE_H
#define HW_DREDBOX_TIMING_TABLE_H

#include <stdint.h>

#define TIMING_TABLE_MAGIC      0x474d4954u     /* "TIMG" */
#define TIMING_TABLE_VERSION    2
#define TIMING_TABLE_VCPUS      4               /* DREDBOX_MAX_CPUS */
#define TIMING_TABLE_RANGES     32
#define TIMING_TABLE_BRICKS     64              /* memory bricks */
#define TIMING_TABLE_PORTS      32              /* RMC ports */

/* Where an access that misses the caches is served from. */
enum {
    TIMING_DEST_LOCAL,          /* the brick's own DRAM */
    TIMING_DEST_TRAY_LOCAL,     /* memory bricks, by latency class */
    TIMING_DEST_RACK_LOCAL,     /* (DredboxLatencyClass + 1) */
    TIMING_DEST_INTER_RACK,
    TIMING_DESTS,
};

/*
 * The links whose bandwidth lines share: the brick's DRAM, its link to
 * each memory brick (NUMA nodes and virtio-mem devices on that brick's
 * memory) and each RMC port's circuit.
 */
#define TIMING_LINK_DRAM        0
#define TIMING_LINK_BRICK(b)    (1 + (b))
#define TIMING_LINK_PORT(p)     (1 + TIMING_TABLE_BRICKS + (p))
#define TIMING_LINKS            TIMING_LINK_PORT(TIMING_TABLE_PORTS)

/* Remote memory at [start, end) served from @dest over @link. */
typedef struct TimingRange {
    uint64_t start;
    uint64_t end;
    uint32_t dest;
    uint32_t link;
} TimingRange;

typedef struct TimingCounts {
    uint64_t accesses;      /* loads and stores */
    uint64_t l1_misses;
    uint64_t l2_misses;     /* served from the destination's memory */
    uint64_t prefetched;    /* l2 misses a stream had fetched ahead */
    uint64_t stall_ns;      /* stall charged to the vCPU */
    uint64_t queue_ns;      /* of which waiting for a busy link */
} TimingCounts;

typedef struct TimingTable {
    uint32_t magic;
    uint32_t version;
    uint32_t generation;    /* odd while the ranges are rewritten */
    uint32_t nranges;

    /* The figures (ns): latency of a load, as a pointer chase sees it. */
    uint32_t l1_ns;
    uint32_t l2_ns;
    uint32_t dram_ns;       /* local DRAM, and a memory brick's own */
    uint32_t rmc_ns;        /* the glue logic's round trip */
    uint32_t class_ns[TIMING_DESTS - 1];    /* the fabric, per class */
    uint32_t quantum_ns;    /* vCPUs' lockstep quantum; 0: one clock */
    /* Bandwidths (bytes/s): a line takes line / bandwidth on its link. */
    uint64_t dram_bw;       /* the brick's DRAM */
    uint64_t link_bw;       /* each link to a memory brick or RMC port */
    /* The caches (bytes, ways). */
    uint32_t line;
    uint32_t l1_size;
    uint32_t l1_ways;
    uint32_t l2_size;
    uint32_t l2_ways;

    TimingRange range[TIMING_TABLE_RANGES];
    TimingCounts counts[TIMING_TABLE_VCPUS][TIMING_DESTS];
} TimingTable;

/* The latency of a load served from @dest. */
static inline uint32_t timing_dest_ns(const TimingTable *t, unsigned dest)
{
    return dest == TIMING_DEST_LOCAL ? t->dram_ns :
           t->rmc_ns + t->class_ns[dest - 1] + t->dram_ns;
}

#endif
