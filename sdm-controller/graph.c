/*
 * The SDM controller's rack multigraph (graph.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "graph.h"

static guint key(RackBrickKind kind, unsigned id)
{
    return (guint)kind << 16 | id;
}

static void vertex_free(SdmVertex *v)
{
    for (unsigned p = 0; p < v->nports; p++) {
        g_free(v->ports[p].down);
    }
    g_free(v->ports);
    g_free(v->backing);
    g_free(v);
}

SdmGraph *sdm_graph_new(const Rack *rack)
{
    SdmGraph *g = g_new0(SdmGraph, 1);

    g->vertices = g_ptr_array_new_with_free_func((GDestroyNotify)
                                                 vertex_free);
    g->by_key = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *b = g_ptr_array_index(rack->bricks, i);
        SdmVertex *v = g_new0(SdmVertex, 1);

        v->kind = b->kind;
        v->id = b->id;
        v->tray = b->tray;
        v->up = true;
        v->backable = UINT64_MAX;
        /* What the controller places: pmem= is the compute bricks' */
        v->size = b->kind == RACK_MEMORY ? b->size - rack_pmem_total(rack, b)
                                         : 0;
        v->nports = b->ports;
        v->ports = g_new0(SdmPort, b->ports);
        for (unsigned p = 0; p < b->ports; p++) {
            v->ports[p] = (SdmPort) { .brick = v, .index = p,
                                      .switch_port = -1,
                                      .latency = RACK_RACK_LOCAL };
        }
        g_ptr_array_add(g->vertices, v);
        g_hash_table_insert(g->by_key, GUINT_TO_POINTER(key(b->kind, b->id)),
                            v);
    }
    for (guint i = 0; i < rack->cables->len; i++) {
        RackCable *c = g_ptr_array_index(rack->cables, i);
        SdmVertex *v = sdm_graph_vertex(g, c->brick->kind, c->brick->id);

        v->ports[c->brick_port].switch_port = c->switch_port;
        v->ports[c->brick_port].latency = c->latency;
    }
    return g;
}

void sdm_graph_free(SdmGraph *g)
{
    if (g) {
        for (guint i = 0; i < g->vertices->len; i++) {
            SdmVertex *v = g_ptr_array_index(g->vertices, i);

            /* Each circuit once, its other end cleared with it. */
            for (unsigned p = 0; p < v->nports; p++) {
                sdm_graph_disconnect(g, &v->ports[p]);
            }
        }
        g_ptr_array_free(g->vertices, true);
        g_hash_table_destroy(g->by_key);
        g_free(g);
    }
}

SdmVertex *sdm_graph_vertex(const SdmGraph *g, RackBrickKind kind,
                            unsigned id)
{
    return g_hash_table_lookup(g->by_key, GUINT_TO_POINTER(key(kind, id)));
}

bool sdm_graph_connect(SdmGraph *g, SdmPort *a, SdmPort *b)
{
    SdmEdge *e;

    if (a == b || a->edge || b->edge || a->switch_port < 0 ||
        b->switch_port < 0) {
        return false;
    }
    e = g_new(SdmEdge, 1);
    e->a = a;
    e->b = b;
    a->edge = b->edge = e;
    g->nedges++;
    return true;
}

void sdm_graph_disconnect(SdmGraph *g, SdmPort *p)
{
    SdmEdge *e = p->edge;

    if (e) {
        e->a->edge = e->b->edge = NULL;
        g_free(e);
        g->nedges--;
    }
}

bool sdm_port_set_down(SdmPort *p, const char *why)
{
    if (g_strcmp0(p->down, why) == 0) {
        return false;
    }
    g_free(p->down);
    p->down = g_strdup(why);
    return true;
}

char *sdm_vertex_down_ports(const SdmVertex *v)
{
    GString *s = NULL;

    for (unsigned p = 0; p < v->nports; p++) {
        if (v->ports[p].down) {
            s = s ? g_string_append(s, ", ") : g_string_new("");
            g_string_append_printf(s, "port %u: %s", p, v->ports[p].down);
        }
    }
    return s ? g_string_free(s, false) : NULL;
}

RackLatency sdm_path_latency(const SdmPort *a, const SdmPort *b)
{
    return MAX(a->latency, b->latency);
}
