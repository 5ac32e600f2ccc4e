/*
 * The SDM controller's steps (docs/controller.md): what attaching or
 * detaching memory or an accelerator asks of the fabric, the pool, the
 * brick's QMP and its agent, each with its undo, for the synthesizer
 * (synth.c) to run in order.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "brick-agent.h"
#include "brick-memory.h"
#include "dredbox/address-map.h"
#include "dredbox/rmc-regs.h"
#include "controller.h"
#include "line-server.h"
#include "lock.h"
#include "rack-error.h"

char *sdm_run_path(const char *fmt, unsigned id)
{
    g_autofree char *name = g_strdup_printf(fmt, id);

    return g_build_filename(sdm.run_dir, name, NULL);
}

/*
 * What deadlines that wait for compute brick @c are multiplied by: a
 * brick in timing mode (the rack file says which) runs its guest several
 * times slower in host time (RACK_TIMING_DEADLINE_SCALE).  QMP needs no
 * more: QEMU's main loop answers it, not the guest.
 */
unsigned sdm_brick_scale(unsigned c)
{
    return rack_deadline_scale(sdm.rack, c);
}

/*
 * One request to the fabric's control socket.  The fabric answers once
 * it has told the bricks' QMP (10 s each at most): 30 s tells a hung
 * fabric from a slow one.
 */
#define FABRIC_TIMEOUT_MS 30000

JsonObject *sdm_fabric_call(const char *request, GError **errp)
{
    g_autofree char *path = g_build_filename(sdm.run_dir, "fabric.sock", NULL);
    JsonObject *o = rack_client_call("the switch fabric", path, request, NULL,
                                     FABRIC_TIMEOUT_MS, errp);

    if (!o && errp && !rack_error_is_transport(*errp)) {
        g_prefix_error(errp, "fabric: ");
    }
    return o;
}

/* Brick @c's virtio-mem device for memory brick @m (brick-memory.h). */
bool sdm_vmem_size(unsigned c, unsigned m, const char *prop,
                   uint64_t *out, GError **errp)
{
    g_autofree char *qmp = sdm_run_path("brick%u.qmp", c);

    return brick_memory_get(qmp, c, m, prop, out, errp);
}

bool sdm_vmem_resize(unsigned c, unsigned m, uint64_t target,
                     GError **errp)
{
    g_autofree char *qmp = sdm_run_path("brick%u.qmp", c);

    return brick_memory_resize(qmp, c, m, target,
                               PLUG_TIMEOUT_US * sdm_brick_scale(c), errp);
}

/* What the controller promised brick @c's virtio-mem device for memory
 * brick @m (RMC-path memory and accelerator queues are not in it). */
uint64_t sdm_promised(unsigned c, unsigned m, int64_t except)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);
    uint64_t sum = 0;

    for (guint i = 0; list && i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

        if (a->compute == c && a->memory == m && a->id != except &&
            a->status == SDM_ALLOC_COMMITTED && !a->has_accel && !a->rmc) {
            sum += a->size;
        }
    }
    return sum;
}

/* The synthesizer's steps for one allocation. */

char *sdm_endpoint(const SdmPort *p)
{
    const char *kind = rack_kind_name(p->brick->kind);

    if (p->brick->kind == RACK_COMPUTE || p->brick->nports > 1) {
        return g_strdup_printf("%s%u.port%u", kind, p->brick->id, p->index);
    }
    return g_strdup_printf("%s%u", kind, p->brick->id);
}

bool sdm_circuit_up(const SdmPort *pa, const SdmPort *pb, GError **errp)
{
    g_autofree char *a = sdm_endpoint(pa);
    g_autofree char *b = sdm_endpoint(pb);
    JsonBuilder *rb = rack_json_request("connect");
    g_autofree char *req = NULL;
    JsonObject *o;

    rack_json_member_str(rb, "a", a);
    rack_json_member_str(rb, "b", b);
    rack_json_member_str(rb, "owner", SDM_CIRCUIT_OWNER);
    req = rack_json_end(rb);
    o = sdm_fabric_call(req, errp);

    if (!o) {
        return false;
    }
    json_object_unref(o);
    /* Light comes after the switch's reconfiguration time. */
    for (int i = 0; i < 600; i++) {
        JsonArray *circuits;
        bool up = false, ok;

        o = sdm_fabric_call("{\"cmd\":\"query\"}", errp);
        if (!o) {
            return false;
        }
        ok = rack_json_get_array(o, "circuits", &circuits, errp);
        for (guint k = 0; ok && k < json_array_get_length(circuits); k++) {
            JsonObject *c, *ea;
            const char *st;
            uint64_t port;

            ok = rack_json_array_get_obj(circuits, k, &c, errp) &&
                 rack_json_get_object(c, "a", &ea, errp) &&
                 rack_json_get_uint(ea, "port", G_MAXUINT, &port, errp) &&
                 rack_json_get_str(c, "state", &st, errp);
            up |= ok && !strcmp(st, "up") &&
                  port == (uint64_t)MIN(pa->switch_port, pb->switch_port);
        }
        json_object_unref(o);
        if (!ok) {
            g_prefix_error(errp, "malformed reply from the fabric: ");
            return false;
        }
        if (up) {
            return true;
        }
        g_usleep(10000);
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                "circuit %s - %s did not come up", a, b);
    return false;
}

/*
 * Undone already: what an undo that finds its step not done, or done
 * only in part, gets as @errp, whose message has @not_done.
 */
static bool undone(GError **errp, const char *not_done)
{
    if (errp && *errp && strstr((*errp)->message, not_done)) {
        g_clear_error(errp);
        return true;
    }
    return false;
}

bool sdm_circuit_down(int switch_port, GError **errp)
{
    JsonBuilder *b = rack_json_request("disconnect");
    g_autofree char *req = NULL;
    g_autofree char *none = g_strdup_printf("in no circuit of %s",
                                            SDM_CIRCUIT_OWNER);
    JsonObject *o;

    rack_json_member_int(b, "port", switch_port);
    rack_json_member_str(b, "owner", SDM_CIRCUIT_OWNER);
    req = rack_json_end(b);
    o = sdm_fabric_call(req, errp);
    if (o) {
        json_object_unref(o);
        return true;
    }
    return undone(errp, none);
}

static bool step_circuit(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;

    return sdm_circuit_up(ctx->pl.compute_port, ctx->pl.memory_port, errp);
}

static bool undo_circuit(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;

    return sdm_circuit_down(ctx->pl.compute_port->switch_port, errp);
}

static bool step_memory(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    unsigned c = ctx->alloc.compute, m = ctx->alloc.memory;

    return sdm_vmem_resize(c, m, sdm_promised(c, m, -1) + ctx->alloc.size,
                           errp);
}

static bool undo_memory(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    unsigned c = ctx->alloc.compute, m = ctx->alloc.memory;

    return sdm_vmem_resize(c, m, sdm_promised(c, m, -1), errp);
}

static const SdmStep attach_steps[] = {
    { "optical circuit", step_circuit, undo_circuit, false },
    { "memory online", step_memory, undo_memory, false },
};

/*
 * RMC-path memory and accelerator queues are pool segments leased to a
 * client named after the allocation, so that whatever a crash left of
 * one can be released by name; the compute brick (and the accelerator)
 * get it by grant.
 */
static char *queue_owner(const AttachCtx *ctx)
{
    return g_strdup_printf("sdm-a%" G_GINT64_FORMAT, ctx->alloc.id);
}

MemdConn *sdm_pool_connect(const char *client, gboolean admin,
                           GError **errp)
{
    g_autofree char *path = g_build_filename(sdm.run_dir, "pool", "memd.sock",
                                             NULL);

    return memd_connect(path, client, admin, errp);
}

bool sdm_pool_do(MemdConn *pool, const char *req, JsonObject **out,
                 GError **errp)
{
    int fd = -1;
    JsonObject *o = memd_call(pool, req, &fd, errp);

    if (fd >= 0) {
        close(fd);
    }
    if (o && out) {
        *out = o;
    } else if (o) {
        json_object_unref(o);
    }
    return o != NULL;
}

/* A QMP command on the brick's RMC with one number argument. */
static char *rmc_command(const char *command, const char *arg, int64_t value)
{
    JsonBuilder *b = rack_json_qmp(command);

    rack_json_member_int(b, arg, value);
    return rack_json_qmp_end(b);
}

/* The pool requests that release @owner's leases and grant @segment. */
static char *pool_release(const char *owner)
{
    JsonBuilder *b = rack_json_request("release");

    rack_json_member_str(b, "client", owner);
    return rack_json_end(b);
}

static char *pool_grant(int64_t segment, const char *client)
{
    JsonBuilder *b = rack_json_request("grant");

    rack_json_member_int(b, "segment", segment);
    rack_json_member_str(b, "client", client);
    rack_json_member_bool(b, "writable", TRUE);
    return rack_json_end(b);
}

static bool step_segment(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *owner = queue_owner(ctx);
    JsonBuilder *b = rack_json_request("alloc");
    g_autofree char *alloc = NULL;
    g_autofree char *to_brick = NULL, *to_accel = NULL;
    g_autofree char *brick = NULL, *accel = NULL;
    MemdConn *pool = sdm_pool_connect(owner, FALSE, errp);
    JsonObject *o = NULL, *seg;
    uint64_t id;
    bool ok;

    rack_json_member_int(b, "size", ctx->alloc.size);
    rack_json_member_int(b, "brick", ctx->alloc.memory);
    alloc = rack_json_end(b);
    if (!pool) {
        return false;
    }
    if (!sdm_pool_do(pool, alloc, &o, errp)) {
        memd_close(pool);
        return false;
    }
    ok = rack_json_get_object(o, "segment", &seg, errp) &&
         rack_json_get_uint(seg, "id", G_MAXUINT32, &id, errp) &&
         rack_json_get_uint(seg, "offset", G_MAXINT64, &ctx->segment_offset, errp);
    json_object_unref(o);
    if (!ok) {
        /* The pool lent something we cannot name: give back the lot. */
        g_autofree char *release = pool_release(owner);

        g_prefix_error(errp, "malformed reply from the pool: ");
        sdm_pool_do(pool, release, NULL, NULL);
        memd_close(pool);
        return false;
    }
    ctx->alloc.segment = id;
    /* Known before anything uses it, so a crash cannot lose it. */
    if (!sdm_state_set_segment(sdm.state, ctx->alloc.id, ctx->alloc.segment,
                               errp)) {
        memd_close(pool);
        return false;
    }
    brick = g_strdup_printf("brick%u", ctx->alloc.compute);
    accel = g_strdup_printf("accelerator%u", ctx->alloc.accel);
    to_brick = pool_grant(ctx->alloc.segment, brick);
    to_accel = pool_grant(ctx->alloc.segment, accel);
    ok = sdm_pool_do(pool, to_brick, NULL, errp) &&
         (!ctx->alloc.has_accel || sdm_pool_do(pool, to_accel, NULL, errp));
    memd_close(pool);
    return ok;
}

static bool undo_segment(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *owner = queue_owner(ctx);

    return sdm_pool_release(owner, errp);
}

bool sdm_pool_release(const char *owner, GError **errp)
{
    g_autofree char *req = pool_release(owner);
    MemdConn *pool = sdm_pool_connect("sdm", TRUE, errp);
    bool ok;

    if (!pool) {
        return false;
    }
    ok = sdm_pool_do(pool, req, NULL, errp);
    memd_close(pool);
    return ok;
}

static bool step_accel_circuit(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;

    return sdm_circuit_up(ctx->pl.accel_port, ctx->pl.accel_memory_port, errp);
}

static bool undo_accel_circuit(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;

    return sdm_circuit_down(ctx->pl.accel_port->switch_port, errp);
}

static bool brick_qmp(const AttachCtx *ctx, const char *cmd, GError **errp)
{
    g_autofree char *qmp = sdm_run_path("brick%u.qmp", ctx->alloc.compute);

    if (!sdm_qmp_run(qmp, cmd, errp)) {
        g_prefix_error(errp, "compute brick %u: ", ctx->alloc.compute);
        return false;
    }
    return true;
}

/*
 * Undo @cmd on the brick's RMC: done too when the brick does not run (no
 * QEMU listens on its QMP socket), as its RMC then holds nothing.
 */
static bool brick_qmp_undo(const AttachCtx *ctx, const char *cmd,
                           GError **errp)
{
    g_autoptr(GError) err = NULL;

    if (brick_qmp(ctx, cmd, &err) ||
        g_error_matches(err, RACK_ERROR, RACK_ERROR_UNREACHABLE)) {
        return true;
    }
    g_propagate_error(errp, g_steal_pointer(&err));
    return false;
}

/*
 * Brick @c's query-dredbox-rmc entry for port @port in @p, or NULL.  The
 * caller unrefs what is returned, which holds @p.
 */
static JsonNode *rmc_port_info(unsigned c, unsigned port, JsonObject **p)
{
    g_autofree char *qmp = sdm_run_path("brick%u.qmp", c);
    JsonNode *ret = sdm_qmp_call(qmp, "{\"execute\":\"query-dredbox-rmc\"}",
                             NULL);
    JsonArray *ports;

    if (ret && JSON_NODE_HOLDS_OBJECT(ret) &&
        rack_json_get_array(json_node_get_object(ret), "ports", &ports,
                            NULL) &&
        rack_json_array_get_obj(ports, port, p, NULL)) {
        return ret;
    }
    if (ret) {
        json_node_unref(ret);
    }
    return NULL;
}

/* Whether the RMC says the step's port reaches its memory brick. */
static bool rmc_linked(AttachCtx *ctx)
{
    JsonObject *p;
    JsonNode *ret = rmc_port_info(ctx->alloc.compute,
                                  ctx->alloc.compute_port, &p);
    uint64_t brick;
    bool up = false;

    if (ret && rack_json_get_bool(p, "link-up", &up, NULL) && up) {
        up = rack_json_get_uint(p, "linked-brick", G_MAXUINT16, &brick,
                                NULL) &&
             brick == ctx->alloc.memory;
    }
    if (ret) {
        json_node_unref(ret);
    }
    return up;
}

/* Whether the RMC says the accelerator answered READY on the port. */
static bool rmc_engine_ready(AttachCtx *ctx)
{
    JsonObject *p, *db;
    JsonNode *ret = rmc_port_info(ctx->alloc.compute,
                                  ctx->alloc.compute_port, &p);
    bool ready = false;

    if (ret && rack_json_get_object(p, "doorbell", &db, NULL)) {
        rack_json_get_bool(db, "connected", &ready, NULL);
    }
    if (ret) {
        json_node_unref(ret);
    }
    return ready;
}

/* Poll @cond every 100 ms for up to @timeout_us, scaled by the brick. */
static bool rmc_wait(AttachCtx *ctx, bool (*cond)(AttachCtx *ctx),
                     gint64 timeout_us)
{
    gint64 deadline = g_get_monotonic_time() +
                      timeout_us * sdm_brick_scale(ctx->alloc.compute);

    while (g_get_monotonic_time() < deadline) {
        if (cond(ctx)) {
            return true;
        }
        sdm_sleep(100000);
    }
    return false;
}

/*
 * The fabric tells the brick's RMC of a new circuit on its own time
 * (after the light is up): wait until the RMC has it, or the driver's
 * and the RMC's own checks find the port's link down.
 */
static bool step_rmc_link(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;

    if (rmc_wait(ctx, rmc_linked, RMC_LINK_TIMEOUT_US)) {
        return true;
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                "compute brick %u's RMC port %u never saw its link to"
                " memory brick %u come up", ctx->alloc.compute,
                ctx->alloc.compute_port, ctx->alloc.memory);
    return false;
}

static bool step_rmc_segment(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *cmd = rmc_command("dredbox-rmc-attach-segment",
                                       "segment", ctx->alloc.segment);

    return brick_qmp(ctx, cmd, errp);
}

static bool undo_rmc_segment(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *cmd = rmc_command("dredbox-rmc-detach-segment",
                                       "segment", ctx->alloc.segment);

    /* No segment yet: the pool step never lent one */
    return ctx->alloc.segment < 0 || brick_qmp_undo(ctx, cmd, errp) ||
           undone(errp, "is not attached");
}

/* How much of the high window each RMC port of compute brick @c has. */
uint64_t sdm_port_window(unsigned c)
{
    SdmVertex *v = sdm_graph_vertex(sdm.graph, RACK_COMPUTE, c);

    return rmc_port_window(QUEUE_WINDOW_SIZE, v ? v->nports : 1);
}

/* The queue segment behind the compute port's NetPort entry. */
static bool step_rmc_entry(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    uint64_t start = QUEUE_WINDOW_BASE + ctx->alloc.compute_port *
                     sdm_port_window(ctx->alloc.compute);
    bool add = ctx->segment_offset >= start;
    JsonBuilder *b = rack_json_qmp("dredbox-rmc-set-entry");
    g_autofree char *entry = NULL;

    rack_json_member_int(b, "port", ctx->alloc.compute_port);
    rack_json_member_int(b, "brick", ctx->alloc.memory);
    rack_json_member_int(b, "start", start);
    rack_json_member_int(b, "end", start + ctx->alloc.size - 1);
    rack_json_member_int(b, "offset", add ? ctx->segment_offset - start
                                          : start - ctx->segment_offset);
    rack_json_member_bool(b, "add", add);
    entry = rack_json_qmp_end(b);
    return brick_qmp(ctx, entry, errp);
}

static bool undo_rmc_entry(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *clear = rmc_command("dredbox-rmc-clear-entry", "port",
                                         ctx->alloc.compute_port);

    return brick_qmp_undo(ctx, clear, errp);
}

static bool undo_doorbell(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *cmd = rmc_command("dredbox-rmc-disconnect-doorbell",
                                       "port", ctx->alloc.compute_port);

    return brick_qmp_undo(ctx, cmd, errp) || undone(errp, "has no doorbell");
}

/*
 * The RMC connects to the accelerator in the background (and again
 * whenever the link breaks): the step is done once the accelerator has
 * answered READY for the queue's segment.
 */
static bool step_doorbell(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *link = sdm_run_path("accel%u.sock", ctx->alloc.accel);
    JsonBuilder *b = rack_json_qmp("dredbox-rmc-connect-doorbell");
    g_autofree char *cmd = NULL;

    rack_json_member_int(b, "port", ctx->alloc.compute_port);
    rack_json_member_str(b, "path", link);
    rack_json_member_int(b, "segment", ctx->alloc.segment);
    cmd = rack_json_qmp_end(b);
    if (!brick_qmp(ctx, cmd, errp)) {
        return false;
    }
    if (rmc_wait(ctx, rmc_engine_ready, DOORBELL_TIMEOUT_US)) {
        return true;
    }
    /* The step's undo takes its binding away */
    g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                "compute brick %u: port %u: accelerator %u did not answer"
                " on %s", ctx->alloc.compute, ctx->alloc.compute_port,
                ctx->alloc.accel, link);
    return false;
}

static const SdmStep accel_steps[] = {
    { "pool segment", step_segment, undo_segment, false },
    { "optical circuit", step_circuit, undo_circuit, false },
    { "accelerator circuit", step_accel_circuit, undo_accel_circuit, false },
    { "RMC link", step_rmc_link, NULL, false },
    { "RMC segment", step_rmc_segment, undo_rmc_segment, false },
    { "RMC entry", step_rmc_entry, undo_rmc_entry, false },
    { "doorbell", step_doorbell, undo_doorbell, false },
};

/* One request to compute brick @c's SDM agent (brick-agent.h). */
char *sdm_agent_call(unsigned c, const char *request, GError **errp)
{
    g_autofree char *path = sdm_run_path("brick%u.agent", c);

    return brick_agent_call(path, c, request,
                            PLUG_TIMEOUT_US * sdm_brick_scale(c), errp);
}

char *sdm_agent_probe(unsigned c, const char *request, GError **errp)
{
    g_autofree char *path = sdm_run_path("brick%u.agent", c);

    return brick_agent_call(path, c, request,
                            PROBE_TIMEOUT_US * sdm_brick_scale(c), errp);
}

/* The brick's driver hot-adds the range into its latency class's node. */
static bool step_agent_attach(void *opaque, GError **errp)
{
    AttachCtx *ctx = opaque;
    g_autofree char *req = g_strdup_printf(
        "attach %u %u %" G_GINT64_MODIFIER "x %" G_GINT64_MODIFIER "x %s",
        ctx->alloc.compute_port, ctx->alloc.memory, ctx->segment_offset,
        ctx->alloc.size, rack_latency_name(ctx->pl.latency));
    g_autofree char *ok = sdm_agent_call(ctx->alloc.compute, req, errp);

    return ok != NULL;
}

/*
 * The brick's agent closes the accelerator queue behind the compute port
 * to new jobs and waits, at most RELEASE_TIMEOUT_MS, for the running ones.
 */
bool sdm_agent_release(AttachCtx *ctx, GError **errp)
{
    g_autofree char *req = g_strdup_printf(
        "release %u %u", ctx->alloc.compute_port,
        RELEASE_TIMEOUT_MS * sdm_brick_scale(ctx->alloc.compute));
    g_autofree char *ok = sdm_agent_call(ctx->alloc.compute, req, errp);

    return ok != NULL;
}

G_STATIC_ASSERT(DETACH_TIMEOUT_MS * 1000LL < PLUG_TIMEOUT_US &&
                RELEASE_TIMEOUT_MS * 1000LL < PLUG_TIMEOUT_US);

bool sdm_agent_detach(AttachCtx *ctx, GError **errp)
{
    g_autofree char *req = g_strdup_printf(
        "detach %u %u", ctx->alloc.compute_port,
        DETACH_TIMEOUT_MS * sdm_brick_scale(ctx->alloc.compute));
    g_autofree char *ok = sdm_agent_call(ctx->alloc.compute, req, errp);

    return ok != NULL;
}

/* The guest has none of the port's memory (any more) */
static bool undo_agent_attach(void *opaque, GError **errp)
{
    return sdm_agent_detach(opaque, errp) ||
           undone(errp, "No such file or directory");
}

/*
 * The agent's attach may time out while the driver still hot-adds the
 * memory: its outcome is then unknown until the agent can say (reconcile).
 */
static const SdmStep rmc_steps[] = {
    { "pool segment", step_segment, undo_segment, false },
    { "optical circuit", step_circuit, undo_circuit, false },
    { "RMC link", step_rmc_link, NULL, false },
    { "RMC segment", step_rmc_segment, undo_rmc_segment, false },
    { "memory online", step_agent_attach, undo_agent_attach, true },
};

void sdm_ctx_steps(const AttachCtx *ctx, const SdmStep **steps,
                   unsigned *n)
{
    if (ctx->alloc.has_accel) {
        *steps = accel_steps;
        *n = G_N_ELEMENTS(accel_steps);
    } else if (ctx->alloc.rmc) {
        *steps = rmc_steps;
        *n = G_N_ELEMENTS(rmc_steps);
    } else {
        *steps = attach_steps;
        *n = G_N_ELEMENTS(attach_steps);
    }
}

bool sdm_steps_teardown(AttachCtx *ctx, GError **errp)
{
    if (ctx->alloc.has_accel) {
        return sdm_synth_undo(accel_steps, G_N_ELEMENTS(accel_steps), ctx,
                              errp);
    } else if (ctx->alloc.rmc) {
        /* All but the agent's step: the guest has let go already. */
        return sdm_synth_undo(rmc_steps, G_N_ELEMENTS(rmc_steps) - 1, ctx,
                              errp);
    }
    return sdm_synth_undo(attach_steps, 1, ctx, errp);
}
