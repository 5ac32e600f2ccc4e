/*
 * The memory-access trace the dredbox-mem plugin writes in trace mode
 * and dredbox-trace reads (docs/tracing.md).  A 32-byte header, then one
 * 40-byte record per traced access, host (little-endian) byte order.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_MEM_TRACE_H
#define HW_DREDBOX_MEM_TRACE_H

#include <stdint.h>

#define MEM_TRACE_MAGIC     "DRBTRACE"
#define MEM_TRACE_VERSION   4     /* 3: MEM_TRACE_REMOTE_NODE, bricks
                                   * outside the RMC; 4: MEM_TRACE_PMEM;
                                   * readers take 2 and 3 too */

typedef struct MemTraceHeader {
    char magic[8];          /* MEM_TRACE_MAGIC, no NUL */
    uint32_t version;
    uint32_t record_size;   /* sizeof(MemTraceRecord) */
    uint32_t sample;        /* one access in @sample was traced */
    uint32_t reserved[3];
} MemTraceHeader;

/* MemTraceRecord.kind */
enum {
    MEM_TRACE_LOCAL = 0,        /* local DRAM */
    MEM_TRACE_VIRTIO_MEM = 1,   /* behind virtio-mem: brick, offset set if
                                 * a memory brick backs it */
    MEM_TRACE_RMC = 2,          /* through an RMC port: brick, offset set */
    MEM_TRACE_RMC_UNMAPPED = 3,
    MEM_TRACE_IO = 4,
    MEM_TRACE_OTHER = 5,
    MEM_TRACE_REMOTE_NODE = 6,  /* a -numa node a memory brick backs:
                                 * brick, offset set */
    MEM_TRACE_PMEM = 7,         /* persistent memory (-machine pmem=):
                                 * brick, offset set if a brick backs it */
};
/* MemTraceRecord.brick when no memory brick is known */
#define MEM_TRACE_NO_BRICK      0xffff

typedef struct MemTraceRecord {
    uint64_t icount;        /* the vCPU's instructions up to this TB */
    uint64_t vaddr;         /* guest virtual address */
    uint64_t paddr;         /* guest physical address */
    uint64_t offset;        /* where in the memory brick (kinds above;
                             * UINT64_MAX: a granule not plugged) */
    uint16_t vcpu;
    uint16_t brick;         /* the memory brick (kinds above) */
    uint16_t asid;          /* the address space's ASID (see below) */
    uint8_t port;           /* MEM_TRACE_RMC: the RMC port */
    uint8_t flags;          /* kind, load/store and size: MEM_TRACE_F_* */
} MemTraceRecord;

/*
 * MemTraceRecord.asid is the ASID field of the translation table base
 * register TCR_EL1.A1 selects (TTBR1_EL1 for Linux) as the vCPU last
 * wrote it: which process's address space the access was made in, the
 * kernel's accesses on a process's behalf included.
 */

/* MemTraceRecord.flags */
#define MEM_TRACE_F_KIND_MASK   0x07    /* MEM_TRACE_LOCAL ... */
#define MEM_TRACE_F_STORE       0x08    /* set: store, clear: load */
#define MEM_TRACE_F_SIZE_SHIFT  4       /* bits 4-6: log2 of the size */

static inline unsigned mem_trace_kind(const MemTraceRecord *r)
{
    return r->flags & MEM_TRACE_F_KIND_MASK;
}

static inline int mem_trace_is_store(const MemTraceRecord *r)
{
    return !!(r->flags & MEM_TRACE_F_STORE);
}

static inline unsigned mem_trace_size(const MemTraceRecord *r)
{
    return 1u << ((r->flags >> MEM_TRACE_F_SIZE_SHIFT) & 7);
}

static inline uint8_t mem_trace_flags(unsigned kind, int store,
                                      unsigned size_shift)
{
    return kind | (store ? MEM_TRACE_F_STORE : 0) |
           size_shift << MEM_TRACE_F_SIZE_SHIFT;
}

_Static_assert(sizeof(MemTraceHeader) == 32, "MemTraceHeader layout");
_Static_assert(sizeof(MemTraceRecord) == 40, "MemTraceRecord layout");

#endif
