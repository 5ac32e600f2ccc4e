/*
 * Reservation engine: where a compute brick's request for remote memory
 * goes (source document 000, Section 3.1).  Pure decisions on the graph;
 * the platform synthesizer carries them out.
 *
 *  - first-fit: the compute brick's first free port, the first memory
 *    brick in rack order with room and a free port within the latency
 *    bound;
 *  - locality: the nearest latency class first, then the memory brick the
 *    request fits most tightly (least fragmentation), then rack order.
 *
 * "Give C an accelerator" is a request for the memory its shared queue
 * lives in, plus an accelerator brick with a free port (the nearest one
 * under locality) and a second free port on the chosen memory brick for
 * the accelerator's own circuit to that memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_RESERVE_H
#define DREDBOX_SDM_RESERVE_H

#include "graph.h"

typedef enum {
    SDM_POLICY_FIRST_FIT,
    SDM_POLICY_LOCALITY,
} SdmPolicy;

typedef struct SdmRequest {
    unsigned compute;
    uint64_t size;
    RackLatency max_latency;
    bool accelerator;       /* the memory is an accelerator's queue */
    bool has_memory;        /* only from memory brick @memory */
    unsigned memory;
    /*
     * The circuit must have the best class the two bricks' cables allow
     * (rack_pair_latency()): the virtio-mem path, whose memory lands in a
     * NUMA node at that class's distance (docs/rack.md, "NUMA nodes").
     */
    bool pair_class;
} SdmRequest;

typedef struct SdmPlacement {
    SdmVertex *memory;
    SdmPort *compute_port;
    SdmPort *memory_port;
    RackLatency latency;
    SdmPort *accel_port;            /* accelerator requests only */
    SdmPort *accel_memory_port;     /* the memory brick's end of its circuit */
} SdmPlacement;

bool sdm_policy_parse(const char *name, SdmPolicy *out);
/* Decide; nothing changes in @g.  False with a reason if impossible. */
bool sdm_reserve(const SdmGraph *g, SdmPolicy policy, const SdmRequest *req,
                 SdmPlacement *out, GError **errp);
/* Record a decision (the circuits and the memory) in the graph. */
void sdm_reserve_commit(SdmGraph *g, const SdmPlacement *pl, uint64_t size);
void sdm_reserve_release(SdmGraph *g, const SdmPlacement *pl, uint64_t size);

#endif
