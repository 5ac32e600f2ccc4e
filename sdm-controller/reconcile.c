/*
 * The SDM controller's reconcile (controller.h, docs/controller.md,
 * "Guarantees"): level-triggered, it compares what the database says
 * with what the rack has, and repairs towards what was acknowledged.
 *
 *  - a pending allocation is committed or rolled back once how its
 *    attach ended is known (RMC-path memory: the brick's agent says
 *    whether the guest holds it; any other a crash left pending is
 *    rolled back, as all its steps are the host's); while its agent
 *    does not answer, it stays pending, never guessed;
 *  - a release that was begun (a detach, the guest giving memory up) is
 *    finished once the guest has let go, and RMC-path memory the guest
 *    no longer has (it detached it itself) is freed;
 *  - circuits of the controller's that no allocation accounts for are
 *    taken down, and those a committed allocation lost are set up again;
 *  - segments of an "sdm-aN" owner that a compute brick's RMC has
 *    attached while allocation N of the brick does not hold them are
 *    detached, and pool leases of an "sdm-aN" owner without allocation N
 *    are released, if N is this database's (an earlier one's may be a
 *    persistent brick's, kept across racks);
 *  - a virtio-mem device asked for more or less than its brick was
 *    promised is asked for the promised size.
 *
 * A compute brick that a request works on meanwhile (lock.h) is left
 * alone, with its allocations: they are in flux, and looked at next time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "brick-memory.h"
#include "controller.h"
#include "dredbox/address-map.h"
#include "fault-log.h"
#include "lock.h"
#include "rack-error.h"
#include "rack-json.h"

/* A repair: logged, and kept for the caller */
static void G_GNUC_PRINTF(2, 3) repaired(GPtrArray *out, const char *fmt, ...)
{
    va_list ap;
    char *what;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("dredbox-sdmd: reconcile: %s\n", what);
    fflush(stdout);
    g_ptr_array_add(out, what);
}

/* Keep the outcome of the attach that made @a, for a retry of its key. */
static void keep_outcome(const SdmAlloc *a, const char *reply)
{
    g_autofree char *id = NULL;

    if (a->key[0]) {
        id = g_strdup_printf("attach %s", a->key);
        sdm_state_reply_put(sdm.state, id, reply, NULL);
    }
}

typedef enum {
    GUEST_UNKNOWN = -1,
    GUEST_HAS_NOT,
    GUEST_HAS,
} GuestHolds;

/*
 * Whether the guest of @a's compute brick has @a's RMC-path memory
 * online, as its agent's "status" says ("P link=... brick=B start=...
 * size=S ...;" a port, "P link=...;" an empty one).
 */
static GuestHolds guest_holds(const SdmAlloc *a)
{
    g_autofree char *ports = sdm_agent_probe(a->compute, "status", NULL);
    g_autofree char *want = g_strdup_printf(
        "brick=%u start=0x%" G_GINT64_MODIFIER "x size=%" G_GUINT64_FORMAT,
        a->memory, (guint64)(QUEUE_WINDOW_BASE +
                             a->compute_port * sdm_port_window(a->compute)),
        a->size);
    g_auto(GStrv) lines = NULL;

    if (!ports) {
        return GUEST_UNKNOWN;
    }
    lines = g_strsplit(ports, ";", -1);
    for (int i = 0; lines[i]; i++) {
        guint64 port;
        char *end;

        port = g_ascii_strtoull(g_strchug(lines[i]), &end, 10);
        if (end != lines[i] && *end == ' ' && port == a->compute_port) {
            return strstr(end, want) ? GUEST_HAS : GUEST_HAS_NOT;
        }
    }
    return GUEST_UNKNOWN;
}

/* Undo every step of pending @a and forget it; false if something stays. */
static bool roll_back(const SdmAlloc *a, const char *why, GPtrArray *out)
{
    AttachCtx ctx = { *a, sdm_placement_of(a), 0 };
    const SdmStep *steps;
    unsigned n;
    g_autoptr(GError) err = NULL;
    g_autofree char *reply = NULL;

    sdm_ctx_steps(&ctx, &steps, &n);
    if (!sdm_synth_undo(steps, n, &ctx, &err) ||
        !sdm_state_remove(sdm.state, a->id, &err)) {
        printf("dredbox-sdmd: reconcile: allocation %" G_GINT64_FORMAT
               " stays pending: %s\n", a->id, err->message);
        fflush(stdout);
        return false;
    }
    sdm_reserve_release(sdm.graph, &ctx.pl, a->size);
    g_set_error(&err, RACK_ERROR, RACK_ERROR_HOST, "allocation %"
                G_GINT64_FORMAT " was rolled back: %s", a->id, why);
    reply = rack_json_error_reply(err);
    keep_outcome(a, reply);
    repaired(out, "rolled back allocation %" G_GINT64_FORMAT ": %s", a->id,
             why);
    return true;
}

static void resolve_pending(const SdmAlloc *a, GPtrArray *out)
{
    AttachCtx ctx = { *a, sdm_placement_of(a), 0 };
    g_autofree char *reply = NULL;

    if (!a->rmc) {
        /* Every step is the host's: nothing waits to be found out */
        roll_back(a, "its attach was not finished", out);
        return;
    }
    switch (guest_holds(a)) {
    case GUEST_UNKNOWN:
        return;
    case GUEST_HAS_NOT:
        roll_back(a, "the guest did not take the memory", out);
        return;
    case GUEST_HAS:
        if (!sdm_state_commit(sdm.state, a->id, a->segment, NULL)) {
            return;
        }
        ctx.alloc.status = SDM_ALLOC_COMMITTED;
        reply = sdm_attach_reply(&ctx);
        keep_outcome(a, reply);
        repaired(out, "committed allocation %" G_GINT64_FORMAT ": the guest"
                 " has its memory online", a->id);
        return;
    }
}

/*
 * The guest let go of releasing @a (or refuses, or cannot say yet): take
 * the rest down and forget it.  A virtio-mem device is asked for its
 * promised size and looked at again next time, not waited for, unless
 * the controller is @starting (requests wait for the rack to match).
 */
static void finish_release(SdmAlloc *a, bool starting, GPtrArray *out)
{
    g_autoptr(GError) err = NULL;
    uint64_t size;

    if (!a->rmc && !a->has_accel) {
        uint64_t want = sdm_promised(a->compute, a->memory, -1);
        g_autofree char *qmp = sdm_run_path("brick%u.qmp", a->compute);

        if (starting) {
            sdm_vmem_resize(a->compute, a->memory, want, NULL);
        }
        if (!sdm_vmem_size(a->compute, a->memory, "size", &size, NULL)) {
            return;
        }
        if (size != want) {
            brick_memory_request(qmp, a->compute, a->memory, want, NULL);
            return;
        }
    } else if (!sdm_guest_let_go(a, &err)) {
        if (!rack_error_is_transport(err)) {
            /* The guest keeps it: the detach did not happen */
            sdm_state_set_status(sdm.state, a->id, SDM_ALLOC_COMMITTED, NULL,
                                 NULL);
            repaired(out, "allocation %" G_GINT64_FORMAT " stays: the guest"
                     " keeps it (%s)", a->id, err->message);
        }
        return;
    }
    if (sdm_free(a, NULL)) {
        repaired(out, "finished releasing allocation %" G_GINT64_FORMAT,
                 a->id);
    }
}

/* Whether some allocation in @list has a circuit from optical port @p */
static bool circuit_accounted(GArray *list, int p)
{
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);
        SdmPlacement pl = sdm_placement_of(a);

        if (pl.memory &&
            (pl.compute_port->switch_port == p ||
             pl.memory_port->switch_port == p ||
             (pl.accel_port && (pl.accel_port->switch_port == p ||
                                pl.accel_memory_port->switch_port == p)))) {
            return true;
        }
    }
    return false;
}

/* Whether the fabric's @circuits have one from optical port @p */
static bool has_circuit(JsonArray *circuits, int p)
{
    for (guint k = 0; k < json_array_get_length(circuits); k++) {
        JsonObject *c, *ea, *eb;
        uint64_t pa, pb;

        if (rack_json_array_get_obj(circuits, k, &c, NULL) &&
            rack_json_get_object(c, "a", &ea, NULL) &&
            rack_json_get_object(c, "b", &eb, NULL) &&
            rack_json_get_uint(ea, "port", G_MAXINT, &pa, NULL) &&
            rack_json_get_uint(eb, "port", G_MAXINT, &pb, NULL) &&
            ((int)pa == p || (int)pb == p)) {
            return true;
        }
    }
    return false;
}

/* A lit circuit for a committed allocation that has none */
static void circuit_again(const SdmPort *a, const SdmPort *b, int64_t id,
                          GPtrArray *out)
{
    g_autofree char *ea = sdm_endpoint(a), *eb = sdm_endpoint(b);

    if (a->down || b->down || !sdm_circuit_up(a, b, NULL)) {
        return;
    }
    repaired(out, "circuit %s - %s of allocation %" G_GINT64_FORMAT
             " set up again", ea, eb, id);
}

/* Whether compute brick @c is in @mine, the bricks reconcile claimed */
static bool is_mine(uint64_t mine, unsigned c)
{
    return c < RACK_MAX_BRICKS && (mine & (1ULL << c));
}

/*
 * The database and the fabric's circuits are read with the lock held
 * throughout (no wait on a brick in between): a circuit an attach sets
 * up has its allocation in the database already.
 */
static void reconcile_circuits(uint64_t mine, GPtrArray *out)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);
    g_autoptr(JsonObject) q = sdm_fabric_call("{\"cmd\":\"query\"}", NULL);
    JsonArray *circuits;

    if (!list || !q || !rack_json_get_array(q, "circuits", &circuits, NULL)) {
        return;
    }
    for (guint k = 0; k < json_array_get_length(circuits); k++) {
        JsonObject *c, *ea;
        const char *owner = NULL;
        uint64_t p;

        if (!rack_json_array_get_obj(circuits, k, &c, NULL) ||
            !rack_json_opt_str(c, "owner", &owner, NULL) ||
            g_strcmp0(owner, SDM_CIRCUIT_OWNER) ||
            !rack_json_get_object(c, "a", &ea, NULL) ||
            !rack_json_get_uint(ea, "port", G_MAXINT, &p, NULL) ||
            circuit_accounted(list, p)) {
            continue;
        }
        if (sdm_circuit_down(p, NULL)) {
            repaired(out, "took down the circuit from optical port %"
                     G_GUINT64_FORMAT ": no allocation has it", p);
        }
    }
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);
        SdmPlacement pl = sdm_placement_of(a);

        if (a->status != SDM_ALLOC_COMMITTED || !pl.memory ||
            !is_mine(mine, a->compute)) {
            continue;
        }
        if (!has_circuit(circuits, pl.compute_port->switch_port)) {
            circuit_again(pl.compute_port, pl.memory_port, a->id, out);
        }
        if (pl.accel_port &&
            !has_circuit(circuits, pl.accel_port->switch_port)) {
            circuit_again(pl.accel_port, pl.accel_memory_port, a->id, out);
        }
    }
}

/* The pool's segments ("segments" of its query; @q holds them), or NULL */
static JsonArray *pool_segments(JsonObject **q)
{
    MemdConn *pool = sdm_pool_connect("sdm", TRUE, NULL);
    JsonArray *segs;

    if (pool) {
        *q = memd_call(pool, "{\"cmd\":\"query\"}", NULL, NULL);
        memd_close(pool);
    }
    return *q && rack_json_get_array(*q, "segments", &segs, NULL) ? segs
                                                                : NULL;
}

/*
 * Whether pool segment @s is leased to "sdm-aN" with N this database's:
 * N in *@id, the owner in *@owner, the segment's number in *@seg.  An
 * earlier database's may be a persistent brick's, kept across racks.
 */
static bool ours(JsonObject *s, guint64 *id, const char **owner,
                 guint64 *seg)
{
    int64_t first = sdm_state_first_id(sdm.state);

    return rack_json_get_str(s, "owner", owner, NULL) &&
           rack_json_get_uint(s, "id", G_MAXUINT32, seg, NULL) &&
           g_str_has_prefix(*owner, "sdm-a") &&
           g_ascii_string_to_unsigned(*owner + 5, 10, 1, G_MAXINT64, id,
                                      NULL) &&
           first >= 0 && (gint64)*id >= first;
}

/*
 * Segments leased to "sdm-aN" that compute brick @c's RMC has attached
 * while allocation N of @c does not hold them (a rollback's undo that
 * never ran): detached.  Those of other owners were attached by hand.
 */
static void reconcile_rmc_of(unsigned c, GArray *list, JsonArray *segs,
                             GPtrArray *out)
{
    g_autofree char *qmp = sdm_run_path("brick%u.qmp", c);
    g_autoptr(JsonNode) ret = sdm_qmp_call(qmp, "{\"execute\":"
                                           "\"query-dredbox-rmc\"}", NULL);
    JsonArray *attached;

    if (!ret || !JSON_NODE_HOLDS_OBJECT(ret) ||
        !rack_json_get_array(json_node_get_object(ret), "segments",
                             &attached, NULL)) {
        return;
    }
    for (guint k = 0; k < json_array_get_length(attached); k++) {
        JsonObject *e;
        guint64 seg;

        if (!rack_json_array_get_obj(attached, k, &e, NULL) ||
            !rack_json_get_uint(e, "segment", G_MAXUINT32, &seg, NULL)) {
            continue;
        }
        for (guint j = 0; j < json_array_get_length(segs); j++) {
            JsonObject *s;
            const char *owner;
            guint64 id, lease;
            bool held = false;
            JsonBuilder *b;
            g_autofree char *cmd = NULL;

            if (!rack_json_array_get_obj(segs, j, &s, NULL) ||
                !ours(s, &id, &owner, &lease) || lease != seg) {
                continue;
            }
            for (guint i = 0; i < list->len && !held; i++) {
                SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

                held = a->id == (gint64)id && a->compute == c &&
                       a->segment == (gint64)seg;
            }
            if (held) {
                continue;
            }
            b = rack_json_qmp("dredbox-rmc-detach-segment");
            rack_json_member_int(b, "segment", seg);
            cmd = rack_json_qmp_end(b);
            if (sdm_qmp_run(qmp, cmd, NULL)) {
                repaired(out, "detached segment %" G_GUINT64_FORMAT " of %s"
                         " from compute brick %u's RMC: no allocation of"
                         " the brick holds it", seg, owner, c);
            }
        }
    }
}

/*
 * The same for each compute brick in @mine.  Before the leases: a
 * segment's owner is what tells the controller's from one attached by
 * hand.
 */
static void reconcile_rmc(uint64_t mine, GPtrArray *out)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);
    g_autoptr(JsonObject) q = NULL;
    JsonArray *segs = list ? pool_segments(&q) : NULL;

    for (unsigned c = 0; segs && c < RACK_MAX_BRICKS; c++) {
        if (is_mine(mine, c) && sdm_graph_vertex(sdm.graph, RACK_COMPUTE, c)) {
            reconcile_rmc_of(c, list, segs, out);
        }
    }
}

/*
 * The same for the pool's leases, read with the database, the lock held
 * throughout: a lease an attach took has its allocation already.
 */
static void reconcile_leases(GPtrArray *out)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);
    g_autoptr(JsonObject) q = NULL;
    JsonArray *segs = list ? pool_segments(&q) : NULL;

    for (guint k = 0; segs && k < json_array_get_length(segs); k++) {
        JsonObject *s;
        const char *owner;
        guint64 id, seg;
        bool known = false;

        if (!rack_json_array_get_obj(segs, k, &s, NULL) ||
            !ours(s, &id, &owner, &seg)) {
            continue;
        }
        for (guint i = 0; i < list->len && !known; i++) {
            known = g_array_index(list, SdmAlloc, i).id == (gint64)id;
        }
        if (!known && sdm_pool_release(owner, NULL)) {
            repaired(out, "released the pool's lease of %s: no allocation"
                     " %" G_GUINT64_FORMAT, owner, id);
        }
    }
}

/* Whether compute brick @c and memory brick @m have an allocation in flux */
static bool in_flux(GArray *list, unsigned c, unsigned m)
{
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

        if (a->compute == c && a->memory == m && !a->rmc && !a->has_accel &&
            a->status != SDM_ALLOC_COMMITTED) {
            return true;
        }
    }
    return false;
}

static void reconcile_vmem(uint64_t mine, bool starting, GPtrArray *out)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);

    for (guint i = 0; list && i < sdm.graph->vertices->len; i++) {
        SdmVertex *c = g_ptr_array_index(sdm.graph->vertices, i);
        g_autofree char *qmp = NULL;

        if (c->kind != RACK_COMPUTE || !is_mine(mine, c->id)) {
            continue;
        }
        qmp = sdm_run_path("brick%u.qmp", c->id);
        for (guint j = 0; j < sdm.graph->vertices->len; j++) {
            SdmVertex *m = g_ptr_array_index(sdm.graph->vertices, j);
            uint64_t asked, want, size;

            if (m->kind != RACK_MEMORY || in_flux(list, c->id, m->id) ||
                !sdm_vmem_size(c->id, m->id, "requested-size", &asked,
                               NULL)) {
                continue;
            }
            want = sdm_promised(c->id, m->id, -1);
            /* Starting, wait until the guest holds what it was promised */
            if (starting && (asked != want ||
                (sdm_vmem_size(c->id, m->id, "size", &size, NULL) &&
                 size != want))) {
                sdm_vmem_resize(c->id, m->id, want, NULL);
            }
            if (asked != want && (starting ||
                brick_memory_request(qmp, c->id, m->id, want, NULL))) {
                repaired(out, "compute brick %u's virtio-mem device for"
                         " memory brick %u asked for %" G_GUINT64_FORMAT
                         " MiB, not the %" G_GUINT64_FORMAT " MiB promised:"
                         " set", c->id, m->id, asked >> 20, want >> 20);
            }
        }
    }
}

GPtrArray *sdm_reconcile(bool starting)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);
    uint64_t mine = 0;

    if (!list) {
        return out;
    }
    G_STATIC_ASSERT(RACK_MAX_BRICKS <= 64);     /* a bit each in @mine */
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *c = g_ptr_array_index(sdm.graph->vertices, i);

        if (c->kind == RACK_COMPUTE && sdm_brick_claim(c->id, false)) {
            mine |= 1ULL << c->id;
        }
    }
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);
        SdmPlacement pl = sdm_placement_of(a);

        /* Pending and releasing ones hold their ports until resolved */
        if (starting && pl.memory) {
            sdm_reserve_commit(sdm.graph, &pl, a->size);
        }
    }
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

        if (!sdm_placement_of(a).memory || !is_mine(mine, a->compute)) {
            continue;
        }
        if (a->status == SDM_ALLOC_PENDING) {
            resolve_pending(a, out);
        } else if (a->status == SDM_ALLOC_RELEASING) {
            finish_release(a, starting, out);
        } else if (a->rmc && guest_holds(a) == GUEST_HAS_NOT) {
            /* Given up by the guest (before its agent's "released" came) */
            if (sdm_free(a, NULL)) {
                rack_fault_log(sdm_fault_log(), "sdm", "freed allocation %"
                               G_GINT64_FORMAT ": brick%u's guest gave it up",
                               a->id, a->compute);
                repaired(out, "freed allocation %" G_GINT64_FORMAT ": the"
                         " guest no longer has it", a->id);
            }
        }
    }
    reconcile_circuits(mine, out);
    reconcile_rmc(mine, out);
    reconcile_leases(out);
    reconcile_vmem(mine, starting, out);
    for (unsigned c = 0; c < RACK_MAX_BRICKS; c++) {
        if (is_mine(mine, c)) {
            sdm_brick_unclaim(c);
        }
    }
    return out;
}

static gboolean reconcile_tick(gpointer unused)
{
    sdm_lock();
    g_ptr_array_unref(sdm_reconcile(false));
    sdm_unlock();
    return G_SOURCE_CONTINUE;
}

void sdm_reconcile_watch(void)
{
    g_timeout_add(RECONCILE_MS, reconcile_tick, NULL);
}
