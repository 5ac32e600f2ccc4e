/*
 * The RMC's committed NetPort table as it publishes it for tools that
 * watch a running brick, such as the memory-access plugin
 * (plugins/dredbox-mem.c, docs/tracing.md): a file of this
 * fixed layout, shared-mapped by QEMU (-global dredbox-rmc.table=PATH)
 * and rewritten at every commit, link change, reset and migration load.
 *
 * Readers use it like a seqlock: read @generation, copy, read it again;
 * an odd or changed value means a rewrite was under way, so retry.
 * Plain C, host byte order (reader and writer share the host).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_RMC_TABLE_H
#define HW_DREDBOX_RMC_TABLE_H

#include <stdint.h>

#define RMC_TABLE_MAGIC     0x42544d52u     /* "RMTB" */
#define RMC_TABLE_VERSION   2
#define RMC_TABLE_PORTS     32

typedef struct RmcTableEntry {
    uint32_t enabled;       /* live, committed and enabled */
    uint32_t brick;         /* the memory brick the entry names */
    uint32_t add;           /* translation adds (1) or subtracts (0) */
    uint32_t link;          /* a circuit reaches that brick */
    uint32_t latency;       /* its class (DredboxLatencyClass) */
    uint32_t pad;
    uint64_t start;         /* local physical addresses, inclusive */
    uint64_t end;
    uint64_t offset;
} RmcTableEntry;

typedef struct RmcTable {
    uint32_t magic;
    uint32_t version;
    uint32_t generation;    /* odd while being rewritten */
    uint32_t nports;
    RmcTableEntry port[RMC_TABLE_PORTS];
} RmcTable;

#endif
