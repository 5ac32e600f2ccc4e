/*
 * What has failed in the rack, as the controller knows it
 * (docs/reliability.md): the fabric's dark optical ports marked on the
 * graph's brick ports and the pool's memory bricks that are down,
 * refreshed before each request and every second, each change logged;
 * and what that means for an allocation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include "controller.h"
#include "fault-log.h"
#include "lock.h"
#include "rack-json.h"

#define FAULT_POLL_MS 1000

const char *sdm_fault_log(void)
{
    static char *path;

    if (!path) {
        path = g_build_filename(sdm.run_dir, "faults.log", NULL);
    }
    return path;
}

/* Dark optical port -> why, from the fabric's "faults" */
static GHashTable *dark_ports(JsonObject *q, GError **errp)
{
    g_autoptr(GHashTable) dark = g_hash_table_new_full(NULL, NULL, NULL,
                                                       g_free);
    JsonArray *faults;

    if (!rack_json_get_array(q, "faults", &faults, errp)) {
        return NULL;
    }
    for (guint i = 0; i < json_array_get_length(faults); i++) {
        JsonObject *f, *port;
        const char *why;
        uint64_t p;

        if (!rack_json_array_get_obj(faults, i, &f, errp) ||
            !rack_json_get_object(f, "port", &port, errp) ||
            !rack_json_get_uint(port, "port", G_MAXINT, &p, errp) ||
            !rack_json_get_str(f, "why", &why, errp)) {
            return NULL;
        }
        g_hash_table_insert(dark, GUINT_TO_POINTER(p), g_strdup(why));
    }
    return g_steal_pointer(&dark);
}

/* Mark the graph's ports dark or lit as the fabric's @q says. */
static bool sync_ports(JsonObject *q, GError **errp)
{
    g_autoptr(GHashTable) dark = dark_ports(q, errp);

    if (!dark) {
        g_prefix_error(errp, "malformed reply from the fabric: ");
        return false;
    }
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(sdm.graph->vertices, i);

        for (unsigned p = 0; p < v->nports; p++) {
            SdmPort *port = &v->ports[p];
            const char *why = port->switch_port < 0 ? NULL
                : g_hash_table_lookup(dark,
                                      GUINT_TO_POINTER(port->switch_port));
            g_autofree char *name = NULL;

            if (!sdm_port_set_down(port, why)) {
                continue;
            }
            name = sdm_endpoint(port);
            printf("dredbox-sdmd: %s %s%s\n", name, why ? "down: " : "up",
                   why ? why : "");
            fflush(stdout);
            rack_fault_log(sdm_fault_log(), "sdm", "sees %s %s%s", name,
                           why ? "down: " : "up", why ? why : "");
        }
    }
    return true;
}

/* Mark the graph's memory bricks up or down as the pool's @q says. */
static bool sync_bricks(JsonObject *q, GError **errp)
{
    JsonArray *bricks;

    if (!rack_json_get_array(q, "bricks", &bricks, errp)) {
        g_prefix_error(errp, "malformed reply from the pool: ");
        return false;
    }
    for (guint i = 0; i < json_array_get_length(bricks); i++) {
        JsonObject *b;
        uint64_t id, backable = UINT64_MAX;
        const char *backing = NULL;
        bool down;
        SdmVertex *m;

        if (!rack_json_array_get_obj(bricks, i, &b, errp) ||
            !rack_json_get_uint(b, "id", G_MAXUINT16, &id, errp) ||
            !rack_json_get_bool(b, "down", &down, errp) ||
            !rack_json_opt_uint(b, "backable", G_MAXINT64, &backable, errp) ||
            !rack_json_opt_str(b, "backing", &backing, errp)) {
            g_prefix_error(errp, "malformed reply from the pool: ");
            return false;
        }
        m = sdm_graph_vertex(sdm.graph, RACK_MEMORY, id);
        if (m && g_strcmp0(m->backing, backing) && backing) {
            printf("dredbox-sdmd: memory brick %u serves only %"
                   G_GUINT64_FORMAT " MiB: %s\n", m->id, backable >> 20,
                   backing);
            fflush(stdout);
        }
        if (m) {
            m->backable = backable;
            g_free(m->backing);
            m->backing = g_strdup(backing);
        }
        if (m && m->up == down) {
            m->up = !down;
            printf("dredbox-sdmd: memory brick %u %s\n", m->id,
                   down ? "down" : "up");
            fflush(stdout);
            rack_fault_log(sdm_fault_log(), "sdm", "sees memory brick %u %s",
                           m->id, down ? "down" : "up");
        }
    }
    return true;
}

/*
 * Leases named sdm-aID that the pool holds keep their ids from new
 * allocations: a new database (a new rack over an old state directory)
 * would start again at 1, and a rollback that releases "sdm-a1" would
 * then free a persistent segment of another rack's allocation 1.
 */
static bool reserve_lease_ids(JsonObject *q, GError **errp)
{
    static gint64 reserved;     /* ids up to it are taken care of */
    JsonArray *segs;
    gint64 last = 0;

    if (!rack_json_get_array(q, "segments", &segs, errp)) {
        g_prefix_error(errp, "malformed reply from the pool: ");
        return false;
    }
    for (guint i = 0; i < json_array_get_length(segs); i++) {
        JsonObject *s;
        const char *owner;
        guint64 id;

        if (!rack_json_array_get_obj(segs, i, &s, errp) ||
            !rack_json_get_str(s, "owner", &owner, errp)) {
            g_prefix_error(errp, "malformed reply from the pool: ");
            return false;
        }
        if (g_str_has_prefix(owner, "sdm-a") &&
            g_ascii_string_to_unsigned(owner + 5, 10, 1, G_MAXINT64, &id,
                                       NULL)) {
            last = MAX(last, (gint64)id);
        }
    }
    if (last <= reserved) {
        return true;
    }
    if (!sdm_state_reserve_ids(sdm.state, last, errp)) {
        return false;
    }
    reserved = last;
    return true;
}

/*
 * Whether the fabric and the pool have answered since the controller
 * started: until they do, it cannot tell which of its ports are dark and
 * which memory bricks are down.
 */
static bool fabric_seen, pool_seen;

bool sdm_faults_sync(GError **errp)
{
    g_autoptr(GError) fabric_err = NULL, pool_err = NULL;
    g_autoptr(JsonObject) fabric = sdm_fabric_call("{\"cmd\":\"query\"}",
                                                   &fabric_err);
    g_autoptr(JsonObject) pool = NULL;
    MemdConn *c;

    /* Each source on its own: a dead fabric hides no brick failure. */
    if (fabric && sync_ports(fabric, &fabric_err)) {
        fabric_seen = true;
    }
    c = sdm_pool_connect("sdm", TRUE, &pool_err);
    if (c) {
        pool = memd_call(c, "{\"cmd\":\"query\"}", NULL, &pool_err);
        memd_close(c);
    }
    if (pool && sync_bricks(pool, &pool_err) &&
        reserve_lease_ids(pool, &pool_err)) {
        pool_seen = true;
    }
    if (fabric_err || pool_err) {
        g_propagate_error(errp, fabric_err ? g_steal_pointer(&fabric_err)
                                           : g_steal_pointer(&pool_err));
        return false;
    }
    return true;
}

char *sdm_degraded(const SdmPlacement *pl)
{
    const SdmPort *ports[] = { pl->compute_port, pl->memory_port,
                               pl->accel_port, pl->accel_memory_port };

    for (unsigned i = 0; i < G_N_ELEMENTS(ports); i++) {
        if (ports[i] && ports[i]->down) {
            g_autofree char *name = sdm_endpoint(ports[i]);

            return g_strdup_printf("%s: %s", name, ports[i]->down);
        }
    }
    if (!pl->memory->up) {
        return g_strdup_printf("memory brick %u is down", pl->memory->id);
    }
    if (!fabric_seen && pl->compute_port) {
        return g_strdup("unknown: the switch fabric has not answered since"
                        " the controller started");
    }
    if (!pool_seen) {
        return g_strdup("unknown: the memory pool has not answered since"
                        " the controller started");
    }
    return NULL;
}

/*
 * A spare for @pl's memory port: a lit, cabled, free port of the same
 * memory brick whose circuit from the compute port has the same latency
 * class (the guest placed the memory by it), or NULL.
 */
static SdmPort *spare_memory_port(const SdmPlacement *pl)
{
    RackLatency want = sdm_path_latency(pl->compute_port, pl->memory_port);

    for (unsigned p = 0; p < pl->memory->nports; p++) {
        SdmPort *port = &pl->memory->ports[p];

        if (port != pl->memory_port && port != pl->accel_memory_port &&
            !port->edge && !port->down && port->switch_port >= 0 &&
            sdm_path_latency(pl->compute_port, port) == want) {
            return port;
        }
    }
    return NULL;
}

/*
 * Allocations whose circuit went dark at the memory brick's end, while
 * the brick and the compute brick's end still work, get a new circuit
 * to a spare port of the same brick: the data is still there.  The RMC
 * hears of it from the fabric; its entry, which names the brick, holds.
 */
static void reroute(void)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);

    for (guint i = 0; list && i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);
        SdmPlacement pl = sdm_placement_of(a);
        g_autoptr(GError) err = NULL;
        g_autofree char *old = NULL, *now = NULL, *c = NULL;
        SdmPort *spare;

        if (a->status != SDM_ALLOC_COMMITTED || !pl.memory ||
            !pl.memory->up || pl.compute_port->down ||
            !pl.memory_port->down || !(spare = spare_memory_port(&pl)) ||
            !sdm_brick_claim(a->compute, false)) {
            continue;           /* (or a request works on it: next time) */
        }
        old = sdm_endpoint(pl.memory_port);
        now = sdm_endpoint(spare);
        c = sdm_endpoint(pl.compute_port);
        if (!sdm_circuit_down(pl.compute_port->switch_port, &err) ||
            !sdm_circuit_up(pl.compute_port, spare, &err) ||
            !sdm_state_set_memory_port(sdm.state, a->id, spare->index,
                                       &err)) {
            g_printerr("dredbox-sdmd: cannot re-route allocation %"
                       G_GINT64_FORMAT " over %s: %s\n", a->id, now,
                       err->message);
            sdm_brick_unclaim(a->compute);
            continue;
        }
        sdm_brick_unclaim(a->compute);
        sdm_graph_disconnect(sdm.graph, pl.compute_port);
        g_assert(sdm_graph_connect(sdm.graph, pl.compute_port, spare));
        rack_fault_log(sdm_fault_log(), "sdm", "re-routed allocation %" G_GINT64_FORMAT
                       ": circuit %s - %s (%s: %s)", a->id, c, now, old,
                       pl.memory_port->down);
        printf("dredbox-sdmd: allocation %" G_GINT64_FORMAT " re-routed"
               " over %s\n", a->id, now);
        fflush(stdout);
    }
}

/* Poll the fabric; say once when it cannot be asked, and when it can again. */
static void poll_faults_locked(void)
{
    static bool unreachable;
    g_autoptr(GError) err = NULL;

    if (!sdm_faults_sync(&err) != unreachable) {
        unreachable = !unreachable;
        g_printerr("dredbox-sdmd: %s%s\n", unreachable
                   ? "cannot learn of faults: "
                   : "the fabric and the pool answer again",
                   err ? err->message : "");
    }
    if (!unreachable) {
        reroute();
    }
}

static gboolean poll_faults(gpointer unused)
{
    sdm_lock();
    poll_faults_locked();
    sdm_unlock();
    return G_SOURCE_CONTINUE;
}

void sdm_faults_poll_now(void)
{
    poll_faults_locked();
}

void sdm_faults_watch(void)
{
    poll_faults(NULL);
    g_timeout_add(FAULT_POLL_MS, poll_faults, NULL);
}
