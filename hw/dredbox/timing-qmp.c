/*
 * QMP of the dReDBox compute brick's timing mode (docs/timing.md):
 * query-dredbox-timing reads the table the machine shares with the
 * dredbox-mem plugin that models it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-dredbox.h"
#include "hw/dredbox/timing.h"

static const TimingTable *timing_table;

void dredbox_timing_publish(const TimingTable *table)
{
    timing_table = table;
}

DredboxTimingInfo *qmp_query_dredbox_timing(Error **errp)
{
    const TimingTable *t = timing_table;
    DredboxTimingInfo *info;
    DredboxTimingCountsList **tail;

    QEMU_BUILD_BUG_ON((int)DREDBOX_TIMING_DESTINATION__MAX != TIMING_DESTS);
    if (!t) {
        error_setg(errp, "timing is off (-machine dredbox-compute,"
                   "timing=on turns it on)");
        return NULL;
    }
    info = g_new0(DredboxTimingInfo, 1);
    *info = (DredboxTimingInfo) {
        .instruction_ns = 1, .l1_ns = t->l1_ns, .l2_ns = t->l2_ns,
        .dram_ns = t->dram_ns, .rmc_ns = t->rmc_ns,
        .tray_local_ns = t->class_ns[0], .rack_local_ns = t->class_ns[1],
        .inter_rack_ns = t->class_ns[2], .dram_bandwidth = t->dram_bw,
        .link_bandwidth = t->link_bw, .line_size = t->line,
        .l1_size = t->l1_size, .l1_ways = t->l1_ways,
        .l2_size = t->l2_size, .l2_ways = t->l2_ways,
        .quantum_ns = t->quantum_ns,
    };
    tail = &info->destinations;
    for (int d = 0; d < TIMING_DESTS; d++) {
        DredboxTimingCounts *c = g_new0(DredboxTimingCounts, 1);

        c->destination = d;
        c->latency_ns = timing_dest_ns(t, d);
        /* The vCPUs count on while we add up. */
        for (int v = 0; v < TIMING_TABLE_VCPUS; v++) {
            const TimingCounts *vc = &t->counts[v][d];

            c->accesses += qatomic_read(&vc->accesses);
            c->l1_misses += qatomic_read(&vc->l1_misses);
            c->l2_misses += qatomic_read(&vc->l2_misses);
            c->prefetched += qatomic_read(&vc->prefetched);
            c->stall_ns += qatomic_read(&vc->stall_ns);
            c->queue_ns += qatomic_read(&vc->queue_ns);
        }
        QAPI_LIST_APPEND(tail, c);
    }
    return info;
}
