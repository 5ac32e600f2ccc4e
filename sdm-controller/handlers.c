/*
 * The SDM controller's requests (docs/controller.md): attach, detach,
 * status, graph, plan-power and register, each a JSON request line on
 * RUN/sdm.sock answered with one reply line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "brick-memory.h"
#include "dredbox/address-map.h"
#include "controller.h"
#include "line-server.h"
#include "lock.h"
#include "rack-error.h"

static void add_alloc(JsonBuilder *b, const SdmAlloc *a)
{
    SdmPlacement pl = sdm_placement_of(a);
    g_autofree char *degraded = pl.memory ? sdm_degraded(&pl) : NULL;

    json_builder_begin_object(b);
    rack_json_member_int(b, "id", a->id);
    rack_json_member_int(b, "compute", a->compute);
    rack_json_member_int(b, "compute-port", a->compute_port);
    rack_json_member_int(b, "memory", a->memory);
    rack_json_member_int(b, "memory-port", a->memory_port);
    rack_json_member_int(b, "size", a->size);
    rack_json_member_str(b, "path", a->has_accel ? "accelerator"
                               : a->rmc ? "rmc" : "virtio-mem");
    if (a->rmc) {
        rack_json_member_int(b, "segment", a->segment);
    }
    if (a->has_accel) {
        rack_json_member_int(b, "accelerator", a->accel);
        rack_json_member_int(b, "accelerator-port", a->accel_port);
        rack_json_member_int(b, "segment", a->segment);
    }
    if (a->status != SDM_ALLOC_COMMITTED) {
        rack_json_member_str(b, "state", a->status == SDM_ALLOC_PENDING
                                         ? "pending" : "releasing");
    }
    if (degraded) {
        rack_json_member_str(b, "degraded", degraded);
    }
    json_builder_end_object(b);
}

SdmPlacement sdm_placement_of(const SdmAlloc *a)
{
    SdmVertex *c = sdm_graph_vertex(sdm.graph, RACK_COMPUTE, a->compute);
    SdmVertex *m = sdm_graph_vertex(sdm.graph, RACK_MEMORY, a->memory);
    SdmVertex *x = a->has_accel
                   ? sdm_graph_vertex(sdm.graph, RACK_ACCELERATOR, a->accel)
                   : NULL;

    if (!c || !m || a->compute_port >= c->nports ||
        a->memory_port >= m->nports || (a->has_accel && (!x ||
        a->accel_port >= x->nports || a->accel_memory_port >= m->nports))) {
        return (SdmPlacement) { NULL };
    }
    return (SdmPlacement) {
        m, &c->ports[a->compute_port], &m->ports[a->memory_port],
        sdm_path_latency(&c->ports[a->compute_port],
                         &m->ports[a->memory_port]),
        x ? &x->ports[a->accel_port] : NULL,
        x ? &m->ports[a->accel_memory_port] : NULL,
    };
}

/*
 * The compute bricks whose QMP or agent did not answer a question of the
 * status being built in time: they are not asked again, so a hung QEMU or
 * guest costs one deadline, not one per question.  A brick another
 * request works on is not asked either.  Each thread builds its own.
 */
static __thread uint64_t silent_qmp, silent_agent;

/* Whether brick @c may be asked (bit @c of *@silent clear) */
static bool may_ask(const uint64_t *silent, unsigned c)
{
    return c >= 64 || !(*silent & (1ULL << c));
}

/* Brick @c's answer failed with @err: a timeout makes it silent */
static void heard(uint64_t *silent, unsigned c, const GError *err)
{
    if (c < 64 && g_error_matches(err, RACK_ERROR, RACK_ERROR_TIMEOUT)) {
        *silent |= 1ULL << c;
    }
}

/* Property @prop of brick @c's vmem-m@m, unless the brick is silent */
static bool vmem_probe(unsigned c, unsigned m, const char *prop,
                       uint64_t *out, GError **errp)
{
    g_autoptr(GError) err = NULL;

    if (!may_ask(&silent_qmp, c)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_TIMEOUT,
                    "compute brick %u's QMP did not answer", c);
        return false;
    }
    if (sdm_vmem_size(c, m, prop, out, &err)) {
        return true;
    }
    heard(&silent_qmp, c, err);
    g_propagate_error(errp, g_steal_pointer(&err));
    return false;
}

/* A question to brick @c's agent, unless it is silent */
static char *agent_probe(unsigned c, const char *request)
{
    g_autoptr(GError) err = NULL;
    char *ans;

    if (!may_ask(&silent_agent, c)) {
        return NULL;
    }
    ans = sdm_agent_probe(c, request, &err);
    heard(&silent_agent, c, err);
    return ans;
}

/* "node": the NUMA node brick @c's vmem-m@m fills, or null if unknown. */
static void add_vmem_node(JsonBuilder *b, unsigned c, unsigned m)
{
    uint64_t node;

    json_builder_set_member_name(b, "node");
    if (vmem_probe(c, m, "node", &node, NULL)) {
        json_builder_add_int_value(b, node);
    } else {
        json_builder_add_null_value(b);
    }
}

/*
 * The NUMA nodes in which brick @c's guest has the memory of its vmem-m@m
 * online, as its agent finds them, into @nodes; false if they cannot be
 * known (QEMU or the agent do not answer, or the answer is malformed).
 */
static bool guest_nodes(unsigned c, unsigned m, GArray *nodes)
{
    g_autofree char *qmp = sdm_run_path("brick%u.qmp", c);
    g_autofree char *req = NULL, *ans = NULL;
    g_auto(GStrv) ids = NULL;
    uint64_t start, size;

    g_autoptr(GError) err = NULL;

    if (!may_ask(&silent_qmp, c) ||
        !brick_memory_range(qmp, c, m, &start, &size, &err)) {
        heard(&silent_qmp, c, err);
        return false;
    }
    req = g_strdup_printf("nodes %" G_GINT64_MODIFIER "x %"
                          G_GINT64_MODIFIER "x", start, size);
    ans = agent_probe(c, req);
    if (!ans) {
        return false;
    }
    if (!strcmp(ans, "none")) {
        return true;
    }
    ids = g_strsplit(ans, ",", -1);
    for (int i = 0; ids[i]; i++) {
        guint64 nid;

        if (!g_ascii_string_to_unsigned(ids[i], 10, 0, 63, &nid, NULL)) {
            return false;
        }
        g_array_append_val(nodes, nid);
    }
    return true;
}

/*
 * "guest-nodes": where brick @c's guest has vmem-m@m's memory online
 * (guest_nodes(); [] when the device holds none, @plugged = 0), or null.
 */
static void add_guest_nodes(JsonBuilder *b, unsigned c, unsigned m,
                            bool known, uint64_t plugged)
{
    g_autoptr(GArray) nodes = g_array_new(false, false, sizeof(guint64));

    json_builder_set_member_name(b, "guest-nodes");
    if (!known || (plugged && !guest_nodes(c, m, nodes))) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_array(b);
    for (guint i = 0; i < nodes->len; i++) {
        json_builder_add_int_value(b, g_array_index(nodes, guint64, i));
    }
    json_builder_end_array(b);
}

char *sdm_attach_reply(const AttachCtx *ctx)
{
    JsonBuilder *b = rack_json_reply_begin();

    json_builder_set_member_name(b, "allocation");
    add_alloc(b, &ctx->alloc);
    rack_json_member_str(b, "latency", rack_latency_name(ctx->pl.latency));
    if (!ctx->alloc.rmc && !ctx->alloc.has_accel) {
        add_vmem_node(b, ctx->alloc.compute, ctx->alloc.memory);
    }
    return rack_json_end(b);
}

static char *do_attach(JsonObject *req, const char *key, GError **errp)
{
    const char *lat = "inter-rack", *pol = NULL, *path = "virtio-mem";
    SdmPolicy policy = sdm.default_policy;
    SdmRequest r = { .max_latency = RACK_INTER_RACK };
    AttachCtx ctx = { .segment_offset = 0 };
    const SdmStep *steps;
    unsigned nsteps;
    uint64_t brick;
    bool unknown;
    g_autoptr(GError) err = NULL;
    int l;

    if (!rack_json_opt_str(req, "latency", &lat, errp) ||
        !rack_json_opt_str(req, "policy", &pol, errp) ||
        !rack_json_opt_str(req, "path", &path, errp) ||
        !rack_json_opt_bool(req, "accelerator", &r.accelerator, errp)) {
        return NULL;
    }
    if (strcmp(path, "virtio-mem") && strcmp(path, "rmc")) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "path must be virtio-mem or rmc, not \"%s\"", path);
        return NULL;
    }
    if (!json_object_has_member(req, "brick") ||
        (!json_object_has_member(req, "size") && !r.accelerator)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "attach needs \"brick\" and \"size\"");
        return NULL;
    }
    r.size = QUEUE_DEFAULT_SIZE;
    if (!rack_json_get_uint(req, "brick", RACK_MAX_BRICKS - 1, &brick, errp) ||
        (json_object_has_member(req, "size") &&
         !rack_json_get_size(req, "size", &r.size, errp))) {
        return NULL;
    }
    r.compute = brick;
    if (json_object_has_member(req, "memory")) {
        if (!rack_json_get_uint(req, "memory", RACK_MAX_BRICKS - 1, &brick,
                           errp)) {
            return NULL;
        }
        if (!sdm_graph_vertex(sdm.graph, RACK_MEMORY, brick)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                        "the rack has no memory brick %" G_GUINT64_FORMAT,
                        brick);
            return NULL;
        }
        r.has_memory = true;
        r.memory = brick;
    }
    if (r.size % (128 << 20) || !r.size) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "size must be a positive multiple of 128 MiB");
        return NULL;
    }
    if ((r.accelerator || !strcmp(path, "rmc")) &&
        r.size > sdm_port_window(r.compute)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "one RMC port of compute brick %u reaches at most %"
                    G_GUINT64_FORMAT " GiB", r.compute,
                    sdm_port_window(r.compute) >> 30);
        return NULL;
    }
    for (l = 0; l <= RACK_INTER_RACK && strcmp(lat, rack_latency_name(l));
         l++) {
    }
    if (l > RACK_INTER_RACK) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "latency must be"
                    " tray-local, rack-local or inter-rack, not \"%s\"", lat);
        return NULL;
    }
    r.max_latency = l;
    /* virtio-mem memory lands in a node at the pair's class's distance */
    r.pair_class = !r.accelerator && !strcmp(path, "virtio-mem");
    if (pol && !sdm_policy_parse(pol, &policy)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "policy must be first-fit or locality, not \"%s\"", pol);
        return NULL;
    }
    /*
     * Faults the once-a-second poll has not seen yet count too.  Every
     * path needs the fabric (a circuit) and the pool (virtio-mem memory
     * too comes from it, through QEMU, which would only time out).
     */
    if (!sdm_faults_sync(errp)) {
        g_prefix_error(errp, "nothing was attached: ");
        return NULL;
    }
    if (!sdm_reserve(sdm.graph, policy, &r, &ctx.pl, errp)) {
        return NULL;
    }
    ctx.alloc = (SdmAlloc) {
        .compute = r.compute, .compute_port = ctx.pl.compute_port->index,
        .memory = ctx.pl.memory->id, .memory_port = ctx.pl.memory_port->index,
        .size = r.size, .segment = -1, .has_accel = r.accelerator,
        .rmc = !r.accelerator && !strcmp(path, "rmc"),
    };
    if (r.accelerator) {
        ctx.alloc.accel = ctx.pl.accel_port->brick->id;
        ctx.alloc.accel_port = ctx.pl.accel_port->index;
        ctx.alloc.accel_memory_port = ctx.pl.accel_memory_port->index;
    }
    g_strlcpy(ctx.alloc.key, key ? key : "", sizeof(ctx.alloc.key));
    if (!sdm_state_add(sdm.state, &ctx.alloc, errp)) {
        return NULL;
    }
    /* Its ports and memory are taken from now on, whatever comes */
    sdm_reserve_commit(sdm.graph, &ctx.pl, r.size);
    sdm_ctx_steps(&ctx, &steps, &nsteps);
    if (!sdm_synth_run(steps, nsteps, &ctx, &unknown, &err)) {
        if (unknown) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_PENDING, "allocation %"
                        G_GINT64_FORMAT " stays pending until the controller"
                        " finds out how it ended (dredboxctl status): %s",
                        ctx.alloc.id, err->message);
            return NULL;
        }
        if (sdm_state_remove(sdm.state, ctx.alloc.id, NULL)) {
            sdm_reserve_release(sdm.graph, &ctx.pl, r.size);
        }
        g_propagate_error(errp, g_steal_pointer(&err));
        return NULL;
    }
    if (!sdm_state_commit(sdm.state, ctx.alloc.id, ctx.alloc.segment, errp)) {
        return NULL;
    }
    ctx.alloc.status = SDM_ALLOC_COMMITTED;
    return sdm_attach_reply(&ctx);
}

/*
 * The guest lets go of allocation @a: RMC-path memory offlined by its
 * driver, an accelerator queue closed, a virtio-mem device shrunk (the
 * allocation no longer counts in what it is promised).  False and
 * @errp if the guest keeps it, or cannot be asked.
 */
bool sdm_guest_let_go(const SdmAlloc *a, GError **errp)
{
    AttachCtx ctx = { .alloc = *a, .pl = sdm_placement_of(a) };

    if (a->has_accel || a->rmc) {
        /* Let go already (by itself, or at an earlier try) is done */
        g_autoptr(GError) err = NULL;

        if (a->has_accel ? sdm_agent_release(&ctx, &err) ||
                           strstr(err->message, "has no queue")
                         : sdm_agent_detach(&ctx, &err) ||
                           strstr(err->message, "No such file or directory")) {
            return true;
        }
        g_propagate_error(errp, g_steal_pointer(&err));
        return false;
    }
    return sdm_vmem_resize(a->compute, a->memory,
                           sdm_promised(a->compute, a->memory, a->id), errp);
}

static char *do_detach(JsonObject *req, const char *key, GError **errp)
{
    g_autoptr(GArray) list = NULL;
    uint64_t id = UINT64_MAX, brick = UINT64_MAX;
    bool force = false;
    SdmAlloc *a = NULL;
    AttachCtx ctx;
    g_autoptr(GError) err = NULL;

    if (!rack_json_opt_uint(req, "allocation", G_MAXINT64, &id, errp) ||
        !rack_json_opt_uint(req, "brick", RACK_MAX_BRICKS - 1, &brick, errp) ||
        !rack_json_opt_bool(req, "force", &force, errp)) {
        return NULL;
    }
    if (id == UINT64_MAX && brick == UINT64_MAX) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "detach needs \"allocation\" or \"brick\"");
        return NULL;
    }
    list = sdm_state_list(sdm.state, errp);
    if (!list) {
        return NULL;
    }
    /* The given allocation, or the brick's newest. */
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *x = &g_array_index(list, SdmAlloc, i);

        if (id == UINT64_MAX ? x->compute == brick
                             : (uint64_t)x->id == id &&
                               (brick == UINT64_MAX || x->compute == brick)) {
            a = x;
        }
    }
    if (!a) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    id == UINT64_MAX
                    ? "compute brick %" G_GUINT64_FORMAT " has no allocation"
                    : brick == UINT64_MAX
                    ? "no allocation %" G_GUINT64_FORMAT
                    : "no allocation %" G_GUINT64_FORMAT " on that brick",
                    id == UINT64_MAX ? brick : id);
        return NULL;
    }
    if (a->status == SDM_ALLOC_PENDING && !force) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_PENDING, "allocation %"
                    G_GINT64_FORMAT " is still pending: how its attach ended"
                    " is not known yet (dredboxctl status; detach --force"
                    " takes it down anyway)", a->id);
        return NULL;
    }
    /*
     * Ask the fabric and the pool first, so that one that does not
     * answer stops the detach before the guest lets go, rather than
     * leave a circuit or a lease behind.
     */
    if (!sdm_faults_sync(errp)) {
        g_prefix_error(errp, "nothing was detached: ");
        return NULL;
    }
    ctx.alloc = *a;
    ctx.pl = sdm_placement_of(a);
    if (!a->has_accel && !a->rmc && !ctx.pl.memory->up) {
        /*
         * Linux zeroes the memory it hands back to virtio-mem: that
         * access to the lost memory would be an oops in the guest.
         */
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DOWN, "nothing was"
                    " detached: memory brick %u is down, and the guest"
                    " cannot give back virtio-mem memory it cannot reach;"
                    " detach it after the repair", a->memory);
        return NULL;
    }
    /* From here a crash leaves a release for reconcile to finish */
    if (a->status != SDM_ALLOC_RELEASING &&
        !sdm_state_set_status(sdm.state, a->id, SDM_ALLOC_RELEASING, key,
                              errp)) {
        return NULL;
    }
    a->status = SDM_ALLOC_RELEASING;
    g_strlcpy(a->release_key, key ? key : "", sizeof(a->release_key));
    if (!sdm_guest_let_go(a, errp) ||
        !sdm_synth_hook("guest", true, errp)) {
        if (!force) {
            /* The guest keeps it: the allocation stands */
            sdm_state_set_status(sdm.state, a->id, SDM_ALLOC_COMMITTED, NULL,
                                 NULL);
            if (!a->has_accel && !a->rmc) {
                sdm_vmem_resize(a->compute, a->memory,
                                sdm_promised(a->compute, a->memory, -1), NULL);
            }
            g_prefix_error(errp, "the guest keeps %s (detach --force takes"
                           " it anyway): ", a->has_accel ? "the accelerator"
                                                         : "the memory");
            return NULL;
        }
        /* A brick that is dead, or rebooted without it */
        g_clear_error(errp);
    }
    if (!sdm_free(a, &err)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_PENDING, "the guest let go"
                    " of allocation %" G_GINT64_FORMAT ", but not all of it"
                    " is taken down yet (%s); the controller goes on"
                    " (dredboxctl status shows it releasing until then)",
                    a->id, err->message);
        return NULL;
    }
    return rack_json_end(rack_json_reply_begin());
}

bool sdm_free(const SdmAlloc *a, GError **errp)
{
    AttachCtx ctx = { .alloc = *a, .pl = sdm_placement_of(a) };

    if (a->status != SDM_ALLOC_RELEASING &&
        !sdm_state_set_status(sdm.state, a->id, SDM_ALLOC_RELEASING, NULL,
                              errp)) {
        return false;
    }
    if (!sdm_steps_teardown(&ctx, errp) ||
        !sdm_state_remove(sdm.state, a->id, errp)) {
        return false;
    }
    sdm_reserve_release(sdm.graph, &ctx.pl, a->size);
    if (a->release_key[0]) {
        /* The detach that began it is done: a retry of it learns so */
        g_autofree char *id = g_strdup_printf("detach %s", a->release_key);
        g_autofree char *done = rack_json_end(rack_json_reply_begin());

        sdm_state_reply_put(sdm.state, id, done, NULL);
    }
    return true;
}

/* A segment the pool lends, from its query reply. */
typedef struct PoolLease {
    uint64_t id, brick, size;
    const char *owner;
} PoolLease;

/* The pool's "segments", each checked; NULL and @errp if malformed. */
static GArray *pool_leases(JsonObject *q, GError **errp)
{
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(PoolLease));
    JsonArray *segs;

    if (!rack_json_get_array(q, "segments", &segs, errp)) {
        return NULL;
    }
    for (guint k = 0; k < json_array_get_length(segs); k++) {
        PoolLease l;
        JsonObject *o;

        if (!rack_json_array_get_obj(segs, k, &o, errp) ||
            !rack_json_get_uint(o, "id", G_MAXUINT32, &l.id, errp) ||
            !rack_json_get_uint(o, "brick", G_MAXUINT32, &l.brick, errp) ||
            !rack_json_get_uint(o, "size", G_MAXINT64, &l.size, errp) ||
            !rack_json_get_str(o, "owner", &l.owner, errp)) {
            return NULL;
        }
        g_array_append_val(out, l);
    }
    return g_steal_pointer(&out);
}

/* Whether the RMC's query reply @r has @a's pool segment attached, and
 * whether the doorbell of @a's port is connected. */
static void rmc_holds(JsonObject *r, const SdmAlloc *a, bool *rmc_ok,
                      bool *doorbell_ok)
{
    JsonArray *rs, *ports;
    JsonObject *port, *db;
    uint64_t seg;

    for (guint k = 0; rack_json_get_array(r, "segments", &rs, NULL) &&
         k < json_array_get_length(rs); k++) {
        JsonObject *e;

        *rmc_ok |= rack_json_array_get_obj(rs, k, &e, NULL) &&
                   rack_json_get_uint(e, "segment", G_MAXUINT32, &seg, NULL) &&
                   seg == (uint64_t)a->segment;
    }
    if (rack_json_get_array(r, "ports", &ports, NULL) &&
        rack_json_array_get_obj(ports, a->compute_port, &port, NULL) &&
        rack_json_get_object(port, "doorbell", &db, NULL)) {
        rack_json_get_bool(db, "connected", doorbell_ok, NULL);
    }
}

/*
 * An RMC-path allocation or accelerator queue as the pool, the brick's
 * RMC and the brick's guest (agent) or accelerator see it.
 */
/* @leases NULL: the pool does not answer, so it is not known. */
/* @busy: another request works on its brick, which is not asked. */
static void add_segment_check(JsonBuilder *b, const SdmAlloc *a,
                              GArray *leases, bool busy)
{
    g_autofree char *owner = g_strdup_printf("sdm-a%" G_GINT64_FORMAT, a->id);
    g_autofree char *qmp = sdm_run_path("brick%u.qmp", a->compute);
    g_autofree char *want = g_strdup_printf(
        "%u link=up brick=%u start=0x%" G_GINT64_MODIFIER "x size=%"
        G_GUINT64_FORMAT " ", a->compute_port, a->memory,
        (guint64)(QUEUE_WINDOW_BASE +
                  a->compute_port * sdm_port_window(a->compute)),
        a->size);
    g_autoptr(GError) err = NULL;
    JsonNode *rmc = !may_ask(&silent_qmp, a->compute) ? NULL
        : sdm_qmp_call(qmp, "{\"execute\":\"query-dredbox-rmc\"}", &err);
    bool pool_ok = false, rmc_ok = false, far_ok = false;

    heard(&silent_qmp, a->compute, err);
    for (guint k = 0; leases && k < leases->len; k++) {
        PoolLease *l = &g_array_index(leases, PoolLease, k);

        pool_ok |= l->id == (uint64_t)a->segment && l->size == a->size &&
                   !strcmp(l->owner, owner);
    }
    if (rmc && JSON_NODE_HOLDS_OBJECT(rmc)) {
        rmc_holds(json_node_get_object(rmc), a, &rmc_ok, &far_ok);
    }
    if (a->rmc) {
        g_autofree char *ports = agent_probe(a->compute, "status");
        g_autofree char *line = ports ? g_strdup_printf(";%s", ports) : NULL;
        g_autofree char *key = g_strdup_printf(";%s", want);

        /* "PORT link=up brick=B start=... size=S node=N;" */
        far_ok = line && strstr(line, key);
    }
    json_builder_begin_object(b);
    rack_json_member_int(b, "allocation", a->id);
    json_builder_set_member_name(b, "pool");
    if (leases) {
        json_builder_add_boolean_value(b, pool_ok);
    } else {
        json_builder_add_null_value(b);
    }
    rack_json_member_bool(b, "rmc", rmc_ok);
    json_builder_set_member_name(b, a->has_accel ? "accelerator" : "guest");
    json_builder_add_boolean_value(b, far_ok);
    if (busy) {
        rack_json_member_bool(b, "busy", true);
    }
    json_builder_end_object(b);
    if (rmc) {
        json_node_unref(rmc);
    }
}

/*
 * Allocations, and for each compute/memory brick pair what the
 * controller, the brick and the pool say.  A pool that does not answer
 * (killed, restarting) says null, and "pool-error" why.
 */
static char *do_status(GError **errp)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, errp);
    uint64_t busy = 0;      /* compute bricks other requests work on */
    uint64_t claimed = 0;   /* and those this one asks */
    char *reply;
    JsonBuilder *b;
    g_autoptr(GArray) leases = NULL;
    g_autoptr(JsonObject) q = NULL;     /* the leases point into it */
    g_autoptr(GError) pool_err = NULL;
    MemdConn *pool;

    if (!list) {
        return NULL;
    }
    /* Unreachable, the fabric leaves the faults as last seen. */
    sdm_faults_sync(NULL);
    pool = sdm_pool_connect("sdm", TRUE, &pool_err);
    if (pool) {
        q = memd_call(pool, "{\"cmd\":\"query\"}", NULL, &pool_err);
        memd_close(pool);
    }
    if (q) {
        leases = pool_leases(q, errp);
        if (!leases) {
            g_prefix_error(errp, "malformed reply from the pool: ");
            return NULL;
        }
    }
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *c = g_ptr_array_index(sdm.graph->vertices, i);

        if (c->kind == RACK_COMPUTE) {
            *(sdm_brick_claim(c->id, false) ? &claimed : &busy) |=
                1ULL << c->id;
        }
    }
    silent_qmp = silent_agent = busy;
    b = rack_json_reply_begin();
    if (pool_err) {
        rack_json_member_str(b, "pool-error", pool_err->message);
    }
    json_builder_set_member_name(b, "allocations");
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        add_alloc(b, &g_array_index(list, SdmAlloc, i));
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "segments");
    json_builder_begin_array(b);
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

        if ((a->rmc || a->has_accel) && a->status == SDM_ALLOC_COMMITTED) {
            add_segment_check(b, a, leases, busy & (1ULL << a->compute));
        }
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "bricks");
    json_builder_begin_array(b);
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *c = g_ptr_array_index(sdm.graph->vertices, i);

        for (guint j = 0; c->kind == RACK_COMPUTE &&
             j < sdm.graph->vertices->len; j++) {
            SdmVertex *m = g_ptr_array_index(sdm.graph->vertices, j);
            g_autofree char *owner = g_strdup_printf("brick%u", c->id);
            uint64_t brick_says = 0, pool_says = 0;
            bool brick_ok;

            if (m->kind != RACK_MEMORY) {
                continue;
            }
            g_autoptr(GError) err = NULL;

            brick_ok = vmem_probe(c->id, m->id, "size", &brick_says, &err);
            /* A memory brick registered after the compute brick started
             * has no virtio-mem device in it: nothing there. */
            if (g_error_matches(err, RACK_ERROR, RACK_ERROR_NOT_FOUND)) {
                brick_ok = true;
                brick_says = 0;
            }
            for (guint k = 0; leases && k < leases->len; k++) {
                PoolLease *l = &g_array_index(leases, PoolLease, k);

                if (l->brick == m->id && !strcmp(l->owner, owner)) {
                    pool_says += l->size;
                }
            }
            json_builder_begin_object(b);
            rack_json_member_int(b, "compute", c->id);
            rack_json_member_int(b, "memory", m->id);
            rack_json_member_int(b, "controller",
                                 sdm_promised(c->id, m->id, -1));
            json_builder_set_member_name(b, "brick");
            if (brick_ok) {
                json_builder_add_int_value(b, brick_says);
            } else {
                json_builder_add_null_value(b);
            }
            json_builder_set_member_name(b, "pool");
            if (leases) {
                json_builder_add_int_value(b, pool_says);
            } else {
                json_builder_add_null_value(b);
            }
            add_vmem_node(b, c->id, m->id);
            add_guest_nodes(b, c->id, m->id, brick_ok, brick_says);
            if (busy & (1ULL << c->id)) {
                rack_json_member_bool(b, "busy", true);
            }
            json_builder_end_object(b);
        }
    }
    json_builder_end_array(b);
    reply = rack_json_end(b);
    for (unsigned c = 0; c < 64; c++) {
        if (claimed & (1ULL << c)) {
            sdm_brick_unclaim(c);
        }
    }
    silent_qmp = silent_agent = 0;
    return reply;
}

/* The multigraph: bricks with their resources, circuits as edges. */
static char *do_graph(void)
{
    JsonBuilder *b;

    /* Unreachable, the fabric and the pool leave the faults as last seen. */
    sdm_faults_sync(NULL);
    b = rack_json_reply_begin();
    json_builder_set_member_name(b, "vertices");
    json_builder_begin_array(b);
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(sdm.graph->vertices, i);

        json_builder_begin_object(b);
        rack_json_member_str(b, "brick", rack_kind_name(v->kind));
        rack_json_member_int(b, "id", v->id);
        rack_json_member_int(b, "tray", v->tray);
        rack_json_member_int(b, "ports", v->nports);
        if (v->kind == RACK_MEMORY) {
            rack_json_member_int(b, "size", v->size);
            rack_json_member_int(b, "used", v->used);
            if (v->backing) {
                rack_json_member_str(b, "short", v->backing);
            }
        }
        rack_json_member_bool(b, "up", v->up);
        json_builder_set_member_name(b, "down-ports");
        json_builder_begin_array(b);
        for (unsigned p = 0; p < v->nports; p++) {
            if (v->ports[p].down) {
                json_builder_begin_object(b);
                rack_json_member_int(b, "port", p);
                rack_json_member_str(b, "why", v->ports[p].down);
                json_builder_end_object(b);
            }
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "edges");
    json_builder_begin_array(b);
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(sdm.graph->vertices, i);

        for (unsigned p = 0; p < v->nports; p++) {
            SdmEdge *e = v->ports[p].edge;
            g_autofree char *a = NULL, *z = NULL;

            if (!e || e->a != &v->ports[p]) {
                continue;
            }
            a = sdm_endpoint(e->a);
            z = sdm_endpoint(e->b);
            json_builder_begin_object(b);
            rack_json_member_str(b, "a", a);
            rack_json_member_str(b, "b", z);
            rack_json_member_str(b, "latency",
                            rack_latency_name(sdm_path_latency(e->a, e->b)));
            if (e->a->down || e->b->down) {
                rack_json_member_str(b, "down", e->a->down ? e->a->down
                                                           : e->b->down);
            }
            json_builder_end_object(b);
        }
    }
    json_builder_end_array(b);
    return rack_json_end(b);
}

/*
 * Power management: memory bricks with nothing allocated can be powered
 * down; a brick whose allocations all fit in the free space of bricks
 * that stay on (first fit, emptiest bricks moved first) could be emptied
 * by moving them, and then powered down too.
 */
static char *do_plan_power(GError **errp)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, errp);
    JsonBuilder *b;
    g_autoptr(GPtrArray) mem = g_ptr_array_new();
    g_autoptr(GHashTable) free_after = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) off = g_hash_table_new(NULL, NULL);

    if (!list) {
        return NULL;
    }
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(sdm.graph->vertices, i);

        if (v->kind == RACK_MEMORY) {
            g_ptr_array_add(mem, v);
            g_hash_table_insert(free_after, v,
                                GSIZE_TO_POINTER(v->size - v->used));
        }
    }
    b = rack_json_reply_begin();
    json_builder_set_member_name(b, "powered-down");
    json_builder_begin_array(b);
    for (guint i = 0; i < mem->len; i++) {
        SdmVertex *v = g_ptr_array_index(mem, i);

        if (!v->used) {
            json_builder_add_int_value(b, v->id);
            g_hash_table_add(off, v);
        }
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "moves");
    json_builder_begin_array(b);
    for (guint i = 0; i < mem->len; i++) {
        SdmVertex *v = g_ptr_array_index(mem, i);
        g_autoptr(GArray) plan = g_array_new(false, false, sizeof(guint));
        bool fits = v->used > 0;

        /* Try to empty @v into bricks that stay on. */
        for (guint k = 0; fits && k < list->len; k++) {
            SdmAlloc *a = &g_array_index(list, SdmAlloc, k);
            guint to = G_MAXUINT;

            if (a->memory != v->id || a->status != SDM_ALLOC_COMMITTED) {
                continue;
            }
            for (guint j = 0; j < mem->len && to == G_MAXUINT; j++) {
                SdmVertex *t = g_ptr_array_index(mem, j);

                if (t != v && !g_hash_table_contains(off, t) &&
                    GPOINTER_TO_SIZE(g_hash_table_lookup(free_after, t)) >=
                    a->size) {
                    to = j;
                }
            }
            if (to == G_MAXUINT) {
                fits = false;
                break;
            }
            g_hash_table_insert(free_after, g_ptr_array_index(mem, to),
                GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(
                    free_after, g_ptr_array_index(mem, to))) - a->size));
            g_array_append_val(plan, k);
            g_array_append_val(plan, to);
        }
        if (!fits) {
            continue;
        }
        g_hash_table_add(off, v);
        for (guint k = 0; k < plan->len; k += 2) {
            SdmAlloc *a = &g_array_index(list, SdmAlloc,
                                         g_array_index(plan, guint, k));
            SdmVertex *t = g_ptr_array_index(mem,
                                             g_array_index(plan, guint,
                                                           k + 1));

            json_builder_begin_object(b);
            rack_json_member_int(b, "allocation", a->id);
            rack_json_member_int(b, "from", v->id);
            rack_json_member_int(b, "to", t->id);
            json_builder_end_object(b);
        }
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "powered-down-after-moves");
    json_builder_begin_array(b);
    for (guint i = 0; i < mem->len; i++) {
        SdmVertex *v = g_ptr_array_index(mem, i);

        if (g_hash_table_contains(off, v)) {
            json_builder_add_int_value(b, v->id);
        }
    }
    json_builder_end_array(b);
    return rack_json_end(b);
}

/*
 * Registration (the source's S11): memory bricks joining the running rack,
 * as rack-file statements ("memory 2 size=4G ports=2", "cable memory2.port0
 * optical:13 latency=rack-local").  The pool gets the bricks, the rack
 * file and the fabric the cables, and the graph is rebuilt with every
 * allocation in it.  Compute bricks have the RMC path to reach them
 * (virtio-mem devices are per memory brick and fixed at launch).
 */
static char *do_register(JsonObject *req, const char *key G_GNUC_UNUSED,
                         GError **errp)
{
    const char *lines = NULL;
    g_autofree char *old_text = NULL, *text = NULL;
    g_autoptr(GArray) list = NULL;
    g_autoptr(Rack) next = NULL;
    MemdConn *pool;
    JsonBuilder *b;
    JsonObject *o;
    SdmGraph *old_graph;

    if (!rack_json_opt_str(req, "lines", &lines, errp)) {
        return NULL;
    }
    if (!lines) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "register needs"
                    " \"lines\": rack-file statements for new memory"
                    " bricks and their cables");
        return NULL;
    }
    if (!g_file_get_contents(sdm.rack_path, &old_text, NULL, errp)) {
        return NULL;
    }
    text = g_strconcat(old_text, "\n", lines, "\n", NULL);
    next = rack_parse(text, sdm.rack_path, errp);
    if (!next || !rack_extends(sdm.rack, next, errp)) {
        return NULL;
    }
    for (guint i = 0; i < next->bricks->len; i++) {
        RackBrick *m = g_ptr_array_index(next->bricks, i);

        if (!rack_brick(sdm.rack, m->kind, m->id) &&
            !strcmp(m->mem_class, "persistent")) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "memory brick"
                        " %u: a brick joining a running rack is dram or"
                        " hugepage", m->id);
            return NULL;
        }
    }
    pool = sdm_pool_connect("sdm", TRUE, errp);
    if (!pool) {
        return NULL;
    }
    for (guint i = 0; i < next->bricks->len; i++) {
        RackBrick *m = g_ptr_array_index(next->bricks, i);
        g_autofree char *add = NULL;
        JsonBuilder *b;

        if (rack_brick(sdm.rack, m->kind, m->id)) {
            continue;
        }
        b = rack_json_request("add-brick");
        rack_json_member_int(b, "brick", m->id);
        rack_json_member_int(b, "size", m->size);
        rack_json_member_str(b, "class", m->mem_class);
        add = rack_json_end(b);
        if (!sdm_pool_do(pool, add, NULL, errp)) {
            g_prefix_error(errp, "pool: memory brick %u: ", m->id);
            memd_close(pool);
            return NULL;
        }
    }
    memd_close(pool);
    if (!g_file_set_contents(sdm.rack_path, text, -1, errp) ||
        !(o = sdm_fabric_call("{\"cmd\":\"reload\"}", errp))) {
        return NULL;
    }
    json_object_unref(o);

    /*
     * The new graph, with every allocation in it (pending and releasing
     * ones hold their ports until resolved), and the faults as now.
     * Other requests point into the old one: it goes once they are done.
     */
    sdm_alone_begin();
    list = sdm_state_list(sdm.state, errp);
    if (!list) {
        sdm_alone_end();
        return NULL;
    }
    old_graph = sdm.graph;
    sdm.graph = sdm_graph_new(next);
    for (guint i = 0; i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);
        SdmPlacement pl = sdm_placement_of(a);

        if (pl.memory) {
            sdm_reserve_commit(sdm.graph, &pl, a->size);
        }
    }
    sdm_graph_free(old_graph);
    rack_free(sdm.rack);
    sdm.rack = g_steal_pointer(&next);
    sdm_faults_sync(NULL);
    sdm_alone_end();
    b = rack_json_reply_begin();
    rack_json_member_int(b, "bricks", sdm.graph->vertices->len);
    return rack_json_end(b);
}

/*
 * An attach with @key whose allocation is in the database: its reply if
 * committed, an error while pending; NULL and no error if there is none.
 */
static char *keyed_attach(const char *key, GError **errp)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, errp);

    for (guint i = 0; list && i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);
        AttachCtx ctx = { *a, sdm_placement_of(a), 0 };

        if (strcmp(a->key, key)) {
            continue;
        }
        if (a->status == SDM_ALLOC_PENDING) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_PENDING, "allocation %"
                        G_GINT64_FORMAT " is still pending: how its attach"
                        " ended is not known yet", a->id);
            return NULL;
        }
        return ctx.pl.memory ? sdm_attach_reply(&ctx) : NULL;
    }
    return NULL;
}

/*
 * A request that changes the rack, with the client's key: a retry with
 * the same key gets the first outcome, kept once it is known.  Outcomes
 * not known yet (a pending attach, a release still going on) are not
 * kept: a retry finds out, or carries on.
 */
typedef char *(*KeyedHandler)(JsonObject *req, const char *key,
                              GError **errp);

static char *keyed(JsonObject *req, const char *cmd, KeyedHandler handle,
                   GError **errp)
{
    g_autofree char *id = NULL, *kept = NULL, *reply = NULL;
    g_autoptr(GError) err = NULL;
    const char *key = NULL;

    if (!rack_json_opt_str(req, "key", &key, errp)) {
        return NULL;
    }
    if (key && !sdm_key_valid(key)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "key must be 1 to"
                    " %d letters, digits, '.', '_' or '-'", SDM_KEY_MAX);
        return NULL;
    }
    if (key) {
        id = g_strdup_printf("%s %s", cmd, key);
        if (!sdm_state_reply_get(sdm.state, id, &kept, errp)) {
            return NULL;
        }
        if (kept) {
            return g_steal_pointer(&kept);
        }
        /* An attach the controller went on with after its reply was lost */
        if (!strcmp(cmd, "attach") &&
            ((reply = keyed_attach(key, &err)) || err)) {
            g_propagate_error(errp, g_steal_pointer(&err));
            return g_steal_pointer(&reply);
        }
    }
    if (!sdm_step_hook_arm(req, errp)) {
        return NULL;
    }
    reply = handle(req, key, &err);
    sdm_step_hook_disarm();
    if (key && !g_error_matches(err, RACK_ERROR, RACK_ERROR_PENDING)) {
        g_autofree char *outcome = reply ? g_strdup(reply)
                                         : rack_json_error_reply(err);

        sdm_state_reply_put(sdm.state, id, outcome, NULL);
    }
    if (!reply) {
        g_propagate_error(errp, g_steal_pointer(&err));
    }
    return g_steal_pointer(&reply);
}

/* Run reconcile now; what it repaired */
static char *do_reconcile(void)
{
    g_autoptr(GPtrArray) repairs = sdm_reconcile(false);
    JsonBuilder *b = rack_json_reply_begin();

    json_builder_set_member_name(b, "repaired");
    json_builder_begin_array(b);
    for (guint i = 0; i < repairs->len; i++) {
        json_builder_add_string_value(b, g_ptr_array_index(repairs, i));
    }
    json_builder_end_array(b);
    return rack_json_end(b);
}

static char *dispatch(JsonObject *req, const char *cmd, GError **errp)
{
    if (!strcmp(cmd, "attach")) {
        return keyed(req, cmd, do_attach, errp);
    } else if (!strcmp(cmd, "detach")) {
        return keyed(req, cmd, do_detach, errp);
    } else if (!strcmp(cmd, "status")) {
        return do_status(errp);
    } else if (!strcmp(cmd, "graph")) {
        return do_graph();
    } else if (!strcmp(cmd, "plan-power")) {
        return do_plan_power(errp);
    } else if (!strcmp(cmd, "register")) {
        return keyed(req, cmd, do_register, errp);
    } else if (!strcmp(cmd, "reconcile")) {
        return do_reconcile();
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                "unknown command \"%s\" (attach, detach, status, graph,"
                " plan-power, register, reconcile)", cmd);
    return NULL;
}

/*
 * The compute brick @req (a @cmd) works on, or -1: an attach's, a
 * detach's or that of the allocation it names (the handler checks them).
 */
static int request_brick(JsonObject *req, const char *cmd)
{
    uint64_t brick = UINT64_MAX, id = UINT64_MAX;
    g_autoptr(GArray) list = NULL;

    if (strcmp(cmd, "attach") && strcmp(cmd, "detach")) {
        return -1;
    }
    if (rack_json_opt_uint(req, "brick", RACK_MAX_BRICKS - 1, &brick, NULL) &&
        brick != UINT64_MAX) {
        return brick;
    }
    if (!strcmp(cmd, "detach") &&
        rack_json_opt_uint(req, "allocation", G_MAXINT64, &id, NULL) &&
        id != UINT64_MAX && (list = sdm_state_list(sdm.state, NULL))) {
        for (guint i = 0; i < list->len; i++) {
            SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

            if ((uint64_t)a->id == id) {
                return a->compute;
            }
        }
    }
    return -1;
}

/*
 * Requests run at once, each on its own thread, one at a time per
 * compute brick (lock.h): a guest slow to plug holds up only its brick.
 */
char *sdm_handle(JsonObject *req, const char *cmd, GError **errp)
{
    char *reply;
    int brick;

    if (g_atomic_int_get(&sdm.starting)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_BUSY, "the controller is"
                    " reconciling the rack with its database after its"
                    " start: ask again in a moment");
        return NULL;
    }
    sdm_lock();
    brick = request_brick(req, cmd);
    if (brick >= 0) {
        sdm_brick_claim(brick, true);
    }
    reply = dispatch(req, cmd, errp);
    if (brick >= 0) {
        sdm_brick_unclaim(brick);
    }
    sdm_unlock();
    return reply;
}
