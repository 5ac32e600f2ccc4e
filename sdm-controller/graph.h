/*
 * The SDM controller's in-memory view of the rack (source document 000,
 * Section 3.1): an undirected multigraph whose vertices are bricks with
 * their resources and allocations, and whose edges are the optical
 * circuits established between their ports.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_GRAPH_H
#define DREDBOX_SDM_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "rackfile.h"

typedef struct SdmVertex SdmVertex;

typedef struct SdmPort {
    SdmVertex *brick;
    unsigned index;         /* the brick's port number */
    int switch_port;        /* optical switch port, -1 if not cabled */
    RackLatency latency;    /* of its cable */
    struct SdmEdge *edge;   /* the circuit it is in, or NULL */
    char *down;             /* why its optical port is dark, or NULL */
} SdmPort;

struct SdmVertex {
    RackBrickKind kind;
    unsigned id;
    unsigned tray;
    bool up;                /* reachable (false: down or powered off) */
    uint64_t size;          /* memory bricks: what the controller places */
    uint64_t used;          /* memory bricks: allocated */
    /*
     * Memory bricks: how much the host can back now (huge pages
     * reserved, room for files), as the pool says, and why not all that
     * is free (NULL: all of it); UINT64_MAX until the pool has said.
     */
    uint64_t backable;
    char *backing;
    unsigned nports;
    SdmPort *ports;
};

/* An established circuit: a compute port to a memory/accelerator port. */
typedef struct SdmEdge {
    SdmPort *a;
    SdmPort *b;
} SdmEdge;

typedef struct SdmGraph {
    GPtrArray *vertices;    /* SdmVertex *, in rack order */
    GHashTable *by_key;     /* (kind << 16 | id) -> SdmVertex * */
    unsigned nedges;
} SdmGraph;

SdmGraph *sdm_graph_new(const Rack *rack);
void sdm_graph_free(SdmGraph *g);
SdmVertex *sdm_graph_vertex(const SdmGraph *g, RackBrickKind kind,
                            unsigned id);
/* Join two free ports by a circuit; false if either is taken. */
bool sdm_graph_connect(SdmGraph *g, SdmPort *a, SdmPort *b);
void sdm_graph_disconnect(SdmGraph *g, SdmPort *p);
/*
 * Mark @p down for @why (NULL: up again); true if that changed anything.
 * A circuit through a down port stays in the graph: the allocation on
 * it is degraded, not gone.
 */
bool sdm_port_set_down(SdmPort *p, const char *why);
/* "port 0 (optical port 0 is dark: ...)" for each down port of @v, or NULL */
char *sdm_vertex_down_ports(const SdmVertex *v);
/* The latency class of a circuit between @a and @b: the larger one. */
RackLatency sdm_path_latency(const SdmPort *a, const SdmPort *b);

#endif
