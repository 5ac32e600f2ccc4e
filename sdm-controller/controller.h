/*
 * The SDM controller's parts (docs/controller.md): its state, shared by
 * the attach steps (steps.c), the request handlers (handlers.c) and the
 * daemon (sdmd.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_CONTROLLER_H
#define DREDBOX_SDM_CONTROLLER_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "graph.h"
#include "memd-client.h"
#include "rackfile.h"
#include "reserve.h"
#include "state.h"
#include "synth.h"

/*
 * How long a guest may take to plug or unplug memory (or its agent to
 * answer); times sdm_brick_scale() for a brick in timing mode.
 */
#define PLUG_TIMEOUT_US (60 * G_USEC_PER_SEC)
/*
 * How long a detach lets the guest's running accelerator jobs finish;
 * times sdm_brick_scale().  Under PLUG_TIMEOUT_US, the agent's own
 * deadline.
 */
#define RELEASE_TIMEOUT_MS 10000
/*
 * How long the guest may try to let go of RMC-path memory (its pages
 * migrated off) before its agent gives up and the memory stays; times
 * sdm_brick_scale().  Under PLUG_TIMEOUT_US, so that the agent always
 * answers before the controller stops waiting: both then agree whether
 * the guest still has the memory.
 */
#define DETACH_TIMEOUT_MS 20000
/* How long the RMC may take to see its new link; times sdm_brick_scale(). */
#define RMC_LINK_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* How long an accelerator may take to answer READY; times the same. */
#define DOORBELL_TIMEOUT_US (10 * G_USEC_PER_SEC)
/*
 * Accelerator queues appear in the RMC's high window (docs/memory-map.md):
 * RMC port p's at its base + p * sdm_port_window(), 16 GiB up to 16 ports.
 */
#define QUEUE_WINDOW_BASE DREDBOX_RMC_HIGH_WINDOW_BASE
#define QUEUE_WINDOW_SIZE DREDBOX_RMC_HIGH_WINDOW_SIZE
#define QUEUE_DEFAULT_SIZE (256ULL << 20)
/*
 * The fabric's name for the controller's circuits: reconcile keeps those
 * in step with the allocations, and leaves circuits made by hand alone.
 */
#define SDM_CIRCUIT_OWNER "sdm"

/* What the controller knows, one per process. */
typedef struct SdmController {
    Rack *rack;
    char *rack_path;        /* the rack file: registrations extend it */
    SdmGraph *graph;
    SdmState *state;
    char *run_dir;
    SdmPolicy default_policy;
    gint starting;          /* reconciling at start: requests wait */
} SdmController;

extern SdmController sdm;

/* One allocation on its way in or out: the steps' context. */
typedef struct AttachCtx {
    SdmAlloc alloc;
    SdmPlacement pl;
    uint64_t segment_offset;    /* accelerator queues: in the memory brick */
} AttachCtx;

/* steps.c: the steps and the clients they use */
/* RUN/ + @fmt with @id, e.g. sdm_run_path("brick%u.qmp", 0) */
char *sdm_run_path(const char *fmt, unsigned id);
/* What host-side deadlines for compute brick @c are multiplied by */
unsigned sdm_brick_scale(unsigned c);
/* One request to the fabric's control socket */
JsonObject *sdm_fabric_call(const char *request, GError **errp);
/* Ask the fabric for a circuit between @pa and @pb; wait for light. */
bool sdm_circuit_up(const SdmPort *pa, const SdmPort *pb, GError **errp);
/*
 * Tear down the controller's circuit from optical port @switch_port;
 * true if it has none there now
 */
bool sdm_circuit_down(int switch_port, GError **errp);
/* A session with the pool as @client */
MemdConn *sdm_pool_connect(const char *client, gboolean admin, GError **errp);
/* One request on @pool; its reply in *@out if @out */
bool sdm_pool_do(MemdConn *pool, const char *req, JsonObject **out,
                 GError **errp);
/* Give back every segment @owner ("sdm-aN") holds */
bool sdm_pool_release(const char *owner, GError **errp);
/* Property @prop (size, requested-size) of brick @c's device for @m */
bool sdm_vmem_size(unsigned c, unsigned m, const char *prop,
                   uint64_t *out, GError **errp);
/* Set brick @c's device for @m to @target and wait for the guest */
bool sdm_vmem_resize(unsigned c, unsigned m, uint64_t target, GError **errp);
/*
 * What the controller promised brick @c's virtio-mem device for memory
 * brick @m, leaving out allocation @except (-1: none)
 */
uint64_t sdm_promised(unsigned c, unsigned m, int64_t except);
/* How much of the high window each RMC port of compute brick @c has */
uint64_t sdm_port_window(unsigned c);
/* "compute0.port1", "memory1": @p as the fabric names it */
char *sdm_endpoint(const SdmPort *p);
/* A request to brick @c's SDM agent: what its reply says after "ok" */
char *sdm_agent_call(unsigned c, const char *request, GError **errp);
/*
 * The same for a question that must not hold the controller up (status,
 * reconcile): PROBE_TIMEOUT_US at most, times the brick's scale.
 */
#define PROBE_TIMEOUT_US (5 * G_USEC_PER_SEC)
char *sdm_agent_probe(unsigned c, const char *request, GError **errp);
/* Ask the guest to let go of an accelerator queue / RMC-path memory */
bool sdm_agent_release(AttachCtx *ctx, GError **errp);
bool sdm_agent_detach(AttachCtx *ctx, GError **errp);
/* The steps that set up @ctx's kind of allocation */
void sdm_ctx_steps(const AttachCtx *ctx, const SdmStep **steps, unsigned *n);
/*
 * Take down what the steps set up for @ctx's allocation once the guest
 * has let go of it (a detach): every step of an accelerator queue or of
 * RMC-path memory but the agent's, the circuit of virtio-mem memory
 * (whose device the caller has shrunk).  Goes on past a step that cannot
 * be undone, and says which.
 */
bool sdm_steps_teardown(AttachCtx *ctx, GError **errp);

/* faults.c: what has failed, as the fabric and the pool say */
/*
 * Mark the graph's ports dark or lit again as the fabric says, and its
 * memory bricks down or up as the pool says; false if either does not
 * answer (what the other said is taken).
 */
bool sdm_faults_sync(GError **errp);
/*
 * Why the allocation at @pl is degraded (a dark port of it, its memory
 * brick down, or the fabric never heard from), or NULL
 */
char *sdm_degraded(const SdmPlacement *pl);
/* Keep the graph in step with the fabric's faults, every second */
void sdm_faults_watch(void);
/* Read them now (a brick said a link changed), and re-route */
void sdm_faults_poll_now(void);
/* The rack's fault log (RUN/faults.log): what the controller saw */
const char *sdm_fault_log(void);

/* brick-events.c: hear each compute brick's RMC events as they happen */
void sdm_brick_events_watch(void);

/* reconcile.c: the database and the rack, kept in step */
/*
 * Compare the database with the fabric's circuits, the pool's leases,
 * the bricks' virtio-mem sizes and their agents, and repair differences
 * towards what was acknowledged: pending allocations are committed or
 * rolled back once how they ended is known, releases are finished,
 * circuits and leases nobody accounts for are taken down.  What it
 * repaired, one line each (logged too).  @starting: the controller has
 * just loaded its database, and the graph has none of it yet.
 */
GPtrArray *sdm_reconcile(bool starting);
/* ... and again every RECONCILE_MS */
#define RECONCILE_MS 5000
void sdm_reconcile_watch(void);

/* step-hooks.c: test hooks (docs/controller.md, "Failure windows") */
/* Arm what @req's "test-hook" asks for, if any; refused when off */
bool sdm_step_hook_arm(JsonObject *req, GError **errp);
void sdm_step_hook_disarm(void);
/* At start, before reconcile: hold while RUN/sdm-held is there */
void sdm_step_hook_start(void);

/* handlers.c: the requests */
/* The reply to an attach that made @ctx's allocation */
char *sdm_attach_reply(const AttachCtx *ctx);
/*
 * The guest lets go of allocation @a (detach's first part); false and
 * @errp if it keeps it or cannot be asked.
 */
bool sdm_guest_let_go(const SdmAlloc *a, GError **errp);
/* Where allocation @a is in the graph (ports, memory brick) */
SdmPlacement sdm_placement_of(const SdmAlloc *a);
/*
 * Take down what allocation @a holds and forget it, once its user has let
 * go of it; false if the database cannot forget it
 */
bool sdm_free(const SdmAlloc *a, GError **errp);
/*
 * The reply to @req, whose "cmd" is @cmd (line-server.h's LineHandler),
 * on any thread: "busy" while sdm.starting
 */
char *sdm_handle(JsonObject *req, const char *cmd, GError **errp);

#endif
