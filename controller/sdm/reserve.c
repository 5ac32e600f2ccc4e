/*
 * Reservation engine (reserve.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "reserve.h"
#include "pool.h"

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

/*
 * The free cabled port of @v other than @except with the lowest latency
 * (first on ties).
 */
static SdmPort *free_port(const SdmVertex *v, bool nearest,
                          const SdmPort *except)
{
    SdmPort *best = NULL;

    for (unsigned p = 0; p < v->nports; p++) {
        SdmPort *port = &v->ports[p];

        if (port->edge || port->switch_port < 0 || port == except) {
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

bool sdm_reserve(const SdmGraph *g, SdmPolicy policy, const SdmRequest *req,
                 SdmPlacement *out, GError **errp)
{
    SdmVertex *c = sdm_graph_vertex(g, RACK_COMPUTE, req->compute);
    bool nearest = policy == SDM_POLICY_LOCALITY;
    bool room = false;
    SdmPort *cp;

    if (!c) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_NOT_FOUND,
                    "no compute brick %u in the rack", req->compute);
        return false;
    }
    if (!c->up) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_DENIED,
                    "compute brick %u is down", req->compute);
        return false;
    }
    if (!req->size) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_INVALID,
                    "a request needs a size");
        return false;
    }
    cp = free_port(c, nearest, NULL);
    if (!cp) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_NO_SPACE,
                    "compute brick %u has no free memory port",
                    req->compute);
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
        g_set_error(errp, POOL_ERROR, POOL_ERROR_NO_SPACE,
                    "no accelerator brick has a free port");
        return false;
    }
    for (guint i = 0; i < g->vertices->len; i++) {
        SdmVertex *m = g_ptr_array_index(g->vertices, i);
        SdmPort *mp, *amp = NULL;
        RackLatency lat;

        if (m->kind != RACK_MEMORY || !m->up ||
            (req->has_memory && m->id != req->memory) ||
            m->size - m->used < req->size) {
            continue;
        }
        room = true;
        mp = free_port(m, nearest, NULL);
        if (mp && req->accelerator) {
            amp = free_port(m, nearest, mp);
        }
        if (!mp || (req->accelerator && !amp)) {
            continue;
        }
        lat = sdm_path_latency(cp, mp);
        if (lat > req->max_latency) {
            continue;
        }
        if (out->memory && (lat > out->latency ||
            (lat == out->latency &&
             m->size - m->used >= out->memory->size - out->memory->used))) {
            continue;
        }
        *out = (SdmPlacement) { m, cp, mp, lat, out->accel_port, amp };
        if (!nearest) {
            return true;
        }
    }
    if (!out->memory) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_NO_SPACE,
                    room ? "no memory brick with %" G_GUINT64_FORMAT
                    " MiB free has %s within %s reach"
                    : "no memory brick has %" G_GUINT64_FORMAT " MiB free",
                    req->size >> 20, req->accelerator
                    ? "two free ports (one for the accelerator)"
                    : "a free port", rack_latency_name(req->max_latency));
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
