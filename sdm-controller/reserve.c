/*
 * Reservation engine (reserve.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "reserve.h"
#include "rack-error.h"

bool sdm_policy_parse(const char *name, SdmPolicy *out)
{
    if (!strcmp(name, "first-fit")) {
        *out = SDM_POLICY_FIRST_FIT;
    } else if (!strcmp(name, "locality")) {
        *out = SDM_POLICY_LOCALITY;
    } else {
        return false;
    }
    return true;
}

/* A port a new circuit can take: cabled, lit and in no circuit */
static bool usable(const SdmPort *p)
{
    return !p->edge && p->switch_port >= 0 && !p->down;
}

/*
 * The usable port of @v other than @except with the lowest latency
 * (first on ties).
 */
static SdmPort *free_port(const SdmVertex *v, bool nearest,
                          const SdmPort *except)
{
    SdmPort *best = NULL;

    for (unsigned p = 0; p < v->nports; p++) {
        SdmPort *port = &v->ports[p];

        if (!usable(port) || port == except) {
            continue;
        }
        if (!nearest) {
            return port;
        }
        if (!best || port->latency < best->latency) {
            best = port;
        }
    }
    return best;
}

/*
 * Free cabled ports of @c and @m whose circuit has the best class any pair
 * of their cabled ports has, into @cp and @mp; false if those are busy.
 */
static bool best_pair(const SdmVertex *c, const SdmVertex *m, SdmPort **cp,
                      SdmPort **mp)
{
    int best = -1;

    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < c->nports; i++) {
            for (unsigned j = 0; j < m->nports; j++) {
                SdmPort *a = &c->ports[i], *b = &m->ports[j];
                int l = sdm_path_latency(a, b);

                if (a->switch_port < 0 || b->switch_port < 0) {
                    continue;
                }
                if (pass == 0 && (best < 0 || l < best)) {
                    best = l;
                } else if (pass == 1 && l == best && usable(a) &&
                           usable(b)) {
                    *cp = a;
                    *mp = b;
                    return true;
                }
            }
        }
    }
    return false;
}

bool sdm_reserve(const SdmGraph *g, SdmPolicy policy, const SdmRequest *req,
                 SdmPlacement *out, GError **errp)
{
    SdmVertex *c = sdm_graph_vertex(g, RACK_COMPUTE, req->compute);
    bool nearest = policy == SDM_POLICY_LOCALITY;
    bool room = false, down = false;
    SdmPort *cp, *pcp;
    /* Why bricks were passed over: down, or short of host memory */
    g_autoptr(GString) why_down = NULL;

    if (!c) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "no compute brick %u in the rack", req->compute);
        return false;
    }
    if (!c->up) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED,
                    "compute brick %u is down", req->compute);
        return false;
    }
    if (!req->size) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "a request needs a size");
        return false;
    }
    cp = free_port(c, nearest, NULL);
    if (!cp) {
        g_autofree char *down = sdm_vertex_down_ports(c);

        g_set_error(errp, RACK_ERROR, down ? RACK_ERROR_DOWN
                                           : RACK_ERROR_NO_SPACE,
                    "compute brick %u has no free memory port%s%s%s",
                    req->compute, down ? " (" : "", down ? down : "",
                    down ? ")" : "");
        return false;
    }
    out->memory = NULL;
    out->accel_port = NULL;
    for (guint i = 0; req->accelerator && i < g->vertices->len; i++) {
        SdmVertex *a = g_ptr_array_index(g->vertices, i);
        SdmPort *ap = a->kind == RACK_ACCELERATOR && a->up
                      ? free_port(a, nearest, NULL) : NULL;

        if (ap && (!out->accel_port || ap->latency < out->accel_port->latency)) {
            out->accel_port = ap;
        }
    }
    if (req->accelerator && !out->accel_port) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NO_SPACE,
                    "no accelerator brick has a free port");
        return false;
    }
    for (guint i = 0; i < g->vertices->len; i++) {
        SdmVertex *m = g_ptr_array_index(g->vertices, i);
        SdmPort *mp, *amp = NULL;
        RackLatency lat;

        if (m->kind != RACK_MEMORY ||
            (req->has_memory && m->id != req->memory)) {
            continue;
        }
        if (!m->up) {
            why_down = why_down ? g_string_append(why_down, "; ")
                                : g_string_new("");
            g_string_append_printf(why_down, "memory brick %u is down",
                                   m->id);
            down = true;
            continue;
        }
        if (m->size - m->used < req->size) {
            continue;
        }
        if (m->backable < req->size) {
            /* Free, but the host cannot back it (no huge pages...) */
            why_down = why_down ? g_string_append(why_down, "; ")
                                : g_string_new("");
            g_string_append_printf(why_down, "memory brick %u: %s", m->id,
                                   m->backing ? m->backing
                                              : "the host cannot back it");
            continue;
        }
        room = true;
        pcp = cp;
        if (req->pair_class) {
            mp = NULL;
            best_pair(c, m, &pcp, &mp);
        } else {
            mp = free_port(m, nearest, NULL);
        }
        if (mp && req->accelerator) {
            amp = free_port(m, nearest, mp);
        }
        if (!mp || (req->accelerator && !amp)) {
            g_autofree char *dark = sdm_vertex_down_ports(m);

            if (dark) {
                why_down = why_down ? g_string_append(why_down, "; ")
                                    : g_string_new("");
                g_string_append_printf(why_down, "memory brick %u's %s",
                                       m->id, dark);
                down = true;
            }
            continue;
        }
        lat = sdm_path_latency(pcp, mp);
        if (lat > req->max_latency) {
            continue;
        }
        if (out->memory && (lat > out->latency ||
            (lat == out->latency &&
             m->size - m->used >= out->memory->size - out->memory->used))) {
            continue;
        }
        *out = (SdmPlacement) { m, pcp, mp, lat, out->accel_port, amp };
        if (!nearest) {
            return true;
        }
    }
    if (!out->memory) {
        g_autofree char *why = why_down ? g_strdup_printf(
            " (%s)", why_down->str) : g_strdup("");

        if (room) {
            g_set_error(errp, RACK_ERROR, down ? RACK_ERROR_DOWN
                                               : RACK_ERROR_NO_SPACE,
                        "no memory brick with %" G_GUINT64_FORMAT " MiB"
                        " free has %s within %s reach%s", req->size >> 20,
                        req->accelerator
                        ? "two free ports (one for the accelerator)"
                        : req->pair_class ? "free ports of its nearest"
                                            " circuit"
                        : "a free port", rack_latency_name(req->max_latency),
                        why);
        } else {
            g_set_error(errp, RACK_ERROR, down ? RACK_ERROR_DOWN
                                               : RACK_ERROR_NO_SPACE,
                        "no memory brick has %" G_GUINT64_FORMAT
                        " MiB free%s", req->size >> 20, why);
        }
        return false;
    }
    return true;
}

void sdm_reserve_commit(SdmGraph *g, const SdmPlacement *pl, uint64_t size)
{
    g_assert(sdm_graph_connect(g, pl->compute_port, pl->memory_port));
    if (pl->accel_port) {
        g_assert(sdm_graph_connect(g, pl->accel_port, pl->accel_memory_port));
    }
    pl->memory->used += size;
}

void sdm_reserve_release(SdmGraph *g, const SdmPlacement *pl, uint64_t size)
{
    sdm_graph_disconnect(g, pl->compute_port);
    if (pl->accel_port) {
        sdm_graph_disconnect(g, pl->accel_port);
    }
    pl->memory->used -= MIN(size, pl->memory->used);
}
