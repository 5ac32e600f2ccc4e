/*
 * dredbox-fabricd: the rack's switch fabric (docs/rack.md, "The switch fabric").
 *
 *  - optical circuit switch: cross-connects between the optical ports the
 *    rack file cables to bricks; when a circuit from a compute brick's
 *    memory port to a memory brick comes up or goes down, the brick's RMC
 *    is told over its QMP socket (RUN/brick<ID>.qmp), and so is every
 *    compute brick when a memory brick fails or is repaired (the memory
 *    of it that bricks map directly);
 *  - electrical packet switch: a learning L2 switch between the bricks'
 *    NICs, over UNIX datagram sockets (QEMU -netdev dgram), no root needed;
 *  - control interface (the source's S1/S2): RUN/fabric.sock, one JSON
 *    request per line: connect, disconnect, query, reload (re-read
 *    the rack file after memory bricks were registered), and fail and
 *    repair (cut a cable or fail a switch port, and undo it: faults
 *    injected on purpose, logged in RUN/faults.log).  A circuit may name
 *    its owner ("sdm" for the controller's), which keeps only its own in
 *    step with what it allocated and leaves circuits made by hand alone.
 *
 * The circuits are kept in RUN/fabric.circuits and the faults in
 * RUN/fabric.faults: an optical switch's cross-connects, and a cut
 * fibre, outlive its control software, so a fabric restarted after a
 * crash finds them there.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "eps.h"
#include "fault-log.h"
#include "line-server.h"
#include "ocs.h"
#include "rack-error.h"
#include "rack-name.h"
#include "qmp-client.h"
#include "rackfile.h"

static Rack *rack;
static char *rack_file;
static Ocs *ocs;
static Eps *eps;
static char *run_dir;
static char *circuits_file;
/* Who asked for each circuit, at its lower optical port; NULL: no one said */
static char **owners;
static char *faults_file;
static char *fault_log;
static guint advance_timer;
/*
 * Bricks are told of link changes by one worker thread, in order, so that
 * a slow or hung brick never stalls the fabric's control interface.
 */
static GThreadPool *notifier;

typedef struct Notice {
    char *endpoint;
    char *qmp;
    char *command;
} Notice;

static void notify_brick(gpointer data, gpointer unused)
{
    Notice *n = data;
    g_autoptr(GError) err = NULL;

    if (!qmp_run(n->qmp, n->command, &err)) {
        /* A dead brick must not stop the fabric. */
        g_printerr("dredbox-fabricd: %s: %s\n", n->endpoint, err->message);
    }
    g_free(n->endpoint);
    g_free(n->qmp);
    g_free(n->command);
    g_free(n);
}

static uint64_t now_us(void)
{
    return g_get_monotonic_time();
}

/* The QMP socket of compute brick @id, as the launcher names it. */
static char *brick_qmp(unsigned id)
{
    return g_strdup_printf("%s/brick%u.qmp", run_dir, id);
}

/* Have compute brick @id run QMP @command, in order, off the main loop */
static void tell_brick(unsigned id, char *endpoint, char *command)
{
    Notice *n = g_new0(Notice, 1);

    n->endpoint = endpoint;
    n->qmp = brick_qmp(id);
    n->command = command;
    g_thread_pool_push(notifier, n, NULL);
}

/* A circuit changed: tell the compute brick at either end. */
static void link_changed(void *opaque, unsigned a, unsigned b, bool up)
{
    RackCable *ends[2] = { rack_cable_at(rack, a), rack_cable_at(rack, b) };

    for (int i = 0; i < 2; i++) {
        RackCable *c = ends[i], *o = ends[!i];
        char *cmd;

        if (!c || c->brick->kind != RACK_COMPUTE) {
            continue;
        }
        if (up && o && o->brick->kind == RACK_MEMORY) {
            /* A circuit is as far as its farther cable (graph.c) */
            JsonBuilder *b = rack_json_qmp("dredbox-rmc-connect");

            rack_json_member_int(b, "port", c->brick_port);
            rack_json_member_int(b, "brick", o->brick->id);
            rack_json_member_str(b, "latency-class",
                                 rack_latency_name(MAX(c->latency,
                                                       o->latency)));
            cmd = rack_json_qmp_end(b);
        } else {
            JsonBuilder *b = rack_json_qmp("dredbox-rmc-disconnect");

            rack_json_member_int(b, "port", c->brick_port);
            cmd = rack_json_qmp_end(b);
        }
        tell_brick(c->brick->id, rack_endpoint_name(c), cmd);
    }
}

/*
 * Memory brick @id failed or was repaired: every compute brick loses, or
 * finds again, the memory of it that it maps directly (the virtio-mem
 * path), which no circuit carries.
 */
static void memory_reachable(unsigned id, bool up)
{
    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *b = g_ptr_array_index(rack->bricks, i);
        JsonBuilder *jb;

        if (b->kind != RACK_COMPUTE) {
            continue;
        }
        jb = rack_json_qmp("dredbox-remote-memory-set-reachable");
        rack_json_member_int(jb, "brick", id);
        rack_json_member_bool(jb, "reachable", up);
        tell_brick(b->id, g_strdup_printf("compute%u", b->id),
                   rack_json_qmp_end(jb));
    }
}

static gboolean advance(gpointer data);

static void schedule_advance(void)
{
    uint64_t next = ocs_next_ready(ocs), now = now_us();

    if (advance_timer) {
        g_source_remove(advance_timer);
        advance_timer = 0;
    }
    if (next) {
        advance_timer = g_timeout_add(next > now ? (next - now + 999) / 1000
                                                 : 0, advance, NULL);
    }
}

static gboolean advance(gpointer data)
{
    advance_timer = 0;
    ocs_advance(ocs, now_us());
    schedule_advance();
    return G_SOURCE_REMOVE;
}

/* An optical port from a number or a cabled endpoint name. */
static bool find_port(JsonObject *req, const char *member, unsigned *port,
                      GError **errp)
{
    const char *want = NULL;
    uint64_t number;

    if (rack_json_get_uint(req, member, G_MAXUINT, &number, NULL)) {
        *port = number;
        return true;
    }
    if (rack_json_opt_str(req, member, &want, NULL) && want) {
        for (guint i = 0; i < rack->cables->len; i++) {
            RackCable *c = g_ptr_array_index(rack->cables, i);
            g_autofree char *name = rack_endpoint_name(c);

            if (!strcmp(name, want)) {
                *port = c->switch_port;
                return true;
            }
        }
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "no cable from \"%s\" to the optical switch", want);
        return false;
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                "\"%s\" must be an optical port number or a cabled endpoint"
                " such as \"compute0.port0\" or \"memory1\"", member);
    return false;
}

static void add_end(JsonBuilder *b, const char *member, unsigned port)
{
    RackCable *c = rack_cable_at(rack, port);

    json_builder_set_member_name(b, member);
    json_builder_begin_object(b);
    rack_json_member_int(b, "port", port);
    if (c) {
        g_autofree char *name = rack_endpoint_name(c);

        rack_json_member_str(b, "endpoint", name);
        rack_json_member_str(b, "latency", rack_latency_name(c->latency));
    }
    json_builder_end_object(b);
}

static const char *const circuit_states[] = {
    [OCS_PORT_SETTING_UP] = "setting-up",
    [OCS_PORT_UP] = "up",
    [OCS_PORT_DOWN] = "down",
};

static char *query(void)
{
    JsonBuilder *b = rack_json_reply_begin();

    rack_json_member_int(b, "optical-ports", ocs->nports);
    rack_json_member_int(b, "reconfigure-ms", ocs->reconfig_us / 1000);
    json_builder_set_member_name(b, "circuits");
    json_builder_begin_array(b);
    for (unsigned p = 0; p < ocs->nports; p++) {
        if (ocs->state[p] == OCS_PORT_FREE || (unsigned)ocs->peer[p] < p) {
            continue;
        }
        json_builder_begin_object(b);
        add_end(b, "a", p);
        add_end(b, "b", ocs->peer[p]);
        rack_json_member_str(b, "state", circuit_states[ocs->state[p]]);
        if (owners[p]) {
            rack_json_member_str(b, "owner", owners[p]);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "faults");
    json_builder_begin_array(b);
    for (unsigned p = 0; p < ocs->nports; p++) {
        g_autofree char *why = ocs_fault_reason(ocs, p);

        if (why) {
            json_builder_begin_object(b);
            add_end(b, "port", p);
            rack_json_member_bool(b, "cable-cut",
                                  !!(ocs->faults[p] & OCS_FAULT_CABLE));
            rack_json_member_bool(b, "switch-port-failed",
                                  !!(ocs->faults[p] & OCS_FAULT_PORT));
            rack_json_member_bool(b, "brick-down",
                                  !!(ocs->faults[p] & OCS_FAULT_BRICK));
            rack_json_member_str(b, "why", why);
            json_builder_end_object(b);
        }
    }
    json_builder_end_array(b);
    rack_json_member_int(b, "electrical-ports", eps ? eps_ports(eps) : 0);
    return rack_json_end(b);
}

/* Keep the circuits, "A B [OWNER]" per line, for a restarted fabric. */
static void save_circuits(void)
{
    g_autoptr(GString) s = g_string_new("");
    g_autoptr(GError) err = NULL;

    for (unsigned p = 0; p < ocs->nports; p++) {
        if (ocs->state[p] != OCS_PORT_FREE && (unsigned)ocs->peer[p] > p) {
            g_string_append_printf(s, "%u %d%s%s\n", p, ocs->peer[p],
                                   owners[p] ? " " : "",
                                   owners[p] ? owners[p] : "");
        }
    }
    if (!g_file_set_contents(circuits_file, s->str, s->len, &err)) {
        g_printerr("dredbox-fabricd: a restart will not find the circuits:"
                   " %s\n", err->message);
    }
}

/* Keep the dark ports, "PORT FAULTS" per line (OcsFault bits). */
static void save_faults(void)
{
    g_autoptr(GString) s = g_string_new("");
    g_autoptr(GError) err = NULL;

    for (unsigned p = 0; p < ocs->nports; p++) {
        if (ocs->faults[p]) {
            g_string_append_printf(s, "%u %u\n", p, ocs->faults[p]);
        }
    }
    if (!g_file_set_contents(faults_file, s->str, s->len, &err)) {
        g_printerr("dredbox-fabricd: a restart will not find the faults:"
                   " %s\n", err->message);
    }
}

/* The faults a previous fabric left: a cut fibre stays cut. */
static void restore_faults(void)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(faults_file, &text, NULL, NULL)) {
        return;
    }
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        unsigned p, f;
        char end;

        if (!*lines[i]) {
            continue;
        }
        bool ok = sscanf(lines[i], "%u %u %c", &p, &f, &end) == 2 && f &&
                  !(f & ~OCS_FAULTS_ALL);

        for (unsigned bit = 1; ok && bit <= OCS_FAULTS_ALL; bit <<= 1) {
            ok = !(f & bit) || ocs_set_fault(ocs, p, bit, true, NULL);
        }
        if (!ok) {
            g_printerr("dredbox-fabricd: %s line %d is not \"PORT FAULTS\""
                       " of an optical port: skipped\n", faults_file, i + 1);
        }
    }
}

/* A circuit's owner: a short name, as the pool's clients have. */
#define OWNER_MAX 32

static bool owner_valid(const char *s)
{
    return rack_name_valid(s, OWNER_MAX);
}

/* The circuit between @a and @b is @owner's now (NULL: nobody's). */
static void set_owner(unsigned a, unsigned b, const char *owner)
{
    unsigned low = MIN(a, b);

    g_free(owners[low]);
    owners[low] = g_strdup(owner);
}

/*
 * The circuits a previous fabric left: the mirrors never moved, so they
 * are up now (unless a port of theirs is dark), and the bricks are told
 * again (the same link, harmless).
 */
static void restore_circuits(void)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    unsigned restored = 0;

    if (!g_file_get_contents(circuits_file, &text, NULL, NULL)) {
        restore_faults();
        return;                 /* a new rack, or one with no circuits */
    }
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) w = g_strsplit(lines[i], " ", -1);
        guint64 a, b;
        guint n = g_strv_length(w);

        if (!*lines[i]) {
            continue;
        }
        if (n < 2 || n > 3 ||
            !g_ascii_string_to_unsigned(w[0], 10, 0, G_MAXUINT, &a, NULL) ||
            !g_ascii_string_to_unsigned(w[1], 10, 0, G_MAXUINT, &b, NULL) ||
            (n == 3 && !owner_valid(w[2]))) {
            g_printerr("dredbox-fabricd: %s line %d is not \"A B [OWNER]\":"
                       " skipped\n", circuits_file, i + 1);
        } else if (!ocs_connect(ocs, a, b, 0, &err)) {
            g_printerr("dredbox-fabricd: %s line %d: %s: skipped\n",
                       circuits_file, i + 1, err->message);
        } else {
            set_owner(a, b, n == 3 ? w[2] : NULL);
            restored++;
        }
    }
    restore_faults();
    ocs_advance(ocs, UINT64_MAX);
    save_circuits();            /* without what was skipped */
    printf("dredbox-fabricd: %u circuits restored from %s\n", restored,
           circuits_file);
}

/*
 * The rack file gained memory bricks and their cables (the SDM
 * controller's registration): take them on; circuits stay as they are.
 */
static bool reload(GError **errp)
{
    Rack *next = rack_load(rack_file, errp);

    if (!next) {
        return false;
    }
    if (!rack_extends(rack, next, errp)) {
        rack_free(next);
        return false;
    }
    rack_free(rack);
    rack = next;
    return true;
}

/* "compute0.port0", or "optical port 7" where no cable is plugged */
static char *port_name(unsigned port)
{
    RackCable *c = rack_cable_at(rack, port);

    return c ? rack_endpoint_name(c) : g_strdup_printf("optical port %u",
                                                       port);
}

/* What a fail or repair is about: its optical ports and cause */
typedef struct FaultTarget {
    OcsFault fault;
    GArray *ports;          /* unsigned */
    char *name;             /* for the log and refusals */
    RackBrick *brick;       /* a brick's fault: which */
} FaultTarget;

static void fault_target_clear(FaultTarget *t)
{
    /* A request that named no part has no ports yet */
    g_clear_pointer(&t->ports, g_array_unref);
    g_free(t->name);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FaultTarget, fault_target_clear)

/* Every cable of brick @name ("memory1") and the brick; false if none. */
static bool brick_ports(const char *name, GArray *ports, RackBrick **brick)
{
    for (guint i = 0; i < rack->cables->len; i++) {
        RackCable *c = g_ptr_array_index(rack->cables, i);
        g_autofree char *its = g_strdup_printf(
            "%s%u", rack_kind_name(c->brick->kind), c->brick->id);

        if (!strcmp(its, name)) {
            g_array_append_val(ports, c->switch_port);
            *brick = c->brick;
        }
    }
    return ports->len > 0;
}

/*
 * What a fail or repair names: "cable", an endpoint such as
 * "compute0.port0" or the optical port it is cabled to; "switch-port",
 * an optical port number; or "brick", a brick such as "memory1", whose
 * every cable goes dark.
 */
static bool fault_target(JsonObject *req, FaultTarget *t, GError **errp)
{
    static const char *const members[] = { "cable", "switch-port", "brick" };
    const char *brick;
    unsigned given = 0, port;
    uint64_t n;

    for (unsigned i = 0; i < G_N_ELEMENTS(members); i++) {
        given += json_object_has_member(req, members[i]);
    }
    if (given != 1) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "say what fails: \"cable\" (an endpoint such as"
                    " \"compute0.port0\", or its optical port),"
                    " \"switch-port\" (an optical port number) or"
                    " \"brick\" (such as \"memory1\")");
        return false;
    }
    t->ports = g_array_new(false, false, sizeof(unsigned));
    if (json_object_has_member(req, "cable")) {
        g_autofree char *end = NULL;

        t->fault = OCS_FAULT_CABLE;
        if (!find_port(req, "cable", &port, errp)) {
            return false;
        }
        if (!rack_cable_at(rack, port)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                        "no cable is plugged into optical port %u", port);
            return false;
        }
        end = port_name(port);
        t->name = g_strdup_printf("cable %s (optical port %u)", end, port);
    } else if (json_object_has_member(req, "switch-port")) {
        t->fault = OCS_FAULT_PORT;
        if (!rack_json_get_uint(req, "switch-port", G_MAXUINT, &n, errp)) {
            return false;
        }
        port = n;
        t->name = g_strdup_printf("switch port %u", port);
    } else {
        t->fault = OCS_FAULT_BRICK;
        if (!rack_json_get_str(req, "brick", &brick, errp)) {
            return false;
        }
        if (!brick_ports(brick, t->ports, &t->brick)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                        "no brick \"%s\" is cabled to the optical switch",
                        brick);
            return false;
        }
        t->name = g_strdup(brick);
        return true;
    }
    g_array_append_val(t->ports, port);
    return true;
}

/* Inject or undo a fault; log it, and each circuit it took down or up. */
static bool set_fault(JsonObject *req, bool fail, GError **errp)
{
    g_auto(FaultTarget) t = { 0 };
    g_autoptr(GArray) before = g_array_new(false, false,
                                           sizeof(OcsPortState));

    if (!fault_target(req, &t, errp)) {
        return false;
    }
    /* All of a brick's ports, or none. */
    for (guint i = 0; t.fault == OCS_FAULT_BRICK && i < t.ports->len; i++) {
        if (!!(ocs->faults[g_array_index(t.ports, unsigned, i)] &
               OCS_FAULT_BRICK) == fail) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS, "%s is %s",
                        t.name, fail ? "already down" : "not down");
            return false;
        }
    }
    for (guint i = 0; i < t.ports->len; i++) {
        unsigned p = g_array_index(t.ports, unsigned, i);
        OcsPortState was = p < ocs->nports ? ocs->state[p] : OCS_PORT_FREE;

        g_array_append_val(before, was);
        if (!ocs_set_fault(ocs, p, t.fault, fail, errp)) {
            return false;
        }
    }
    save_faults();
    if (t.fault == OCS_FAULT_BRICK) {
        rack_fault_log(fault_log, "fabric", "%s %s: its optical ports are"
                       " %s", t.name, fail ? "down" : "up",
                       fail ? "dark" : "lit");
        if (t.brick->kind == RACK_MEMORY) {
            memory_reachable(t.brick->id, !fail);
        }
    } else {
        rack_fault_log(fault_log, "fabric", "%s %s", fail
                       ? (t.fault == OCS_FAULT_CABLE ? "cut" : "failed")
                       : (t.fault == OCS_FAULT_CABLE ? "restored"
                                                     : "repaired"),
                       t.name);
    }
    for (guint i = 0; i < t.ports->len; i++) {
        unsigned p = g_array_index(t.ports, unsigned, i);

        if (ocs->state[p] != g_array_index(before, OcsPortState, i)) {
            g_autofree char *a = port_name(p), *b = port_name(ocs->peer[p]);

            rack_fault_log(fault_log, "fabric", "circuit %s - %s %s", a, b,
                           ocs->state[p] == OCS_PORT_UP ? "up" : "down");
        }
    }
    return true;
}

static char *handle(JsonObject *req, const char *cmd, GError **errp)
{
    unsigned a, b;

    if (!strcmp(cmd, "query")) {
        return query();
    } else if (!strcmp(cmd, "reload")) {
        if (!reload(errp)) {
            return NULL;
        }
    } else if (!strcmp(cmd, "connect")) {
        const char *owner = NULL;

        if (!find_port(req, "a", &a, errp) || !find_port(req, "b", &b, errp) ||
            !rack_json_opt_str(req, "owner", &owner, errp)) {
            return NULL;
        }
        if (owner && !owner_valid(owner)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "owner must be"
                        " 1 to %d letters, digits, '.', '_' or '-'",
                        OWNER_MAX);
            return NULL;
        }
        if (!ocs_connect(ocs, a, b, now_us(), errp)) {
            return NULL;
        }
        set_owner(a, b, owner);
        save_circuits();
    } else if (!strcmp(cmd, "disconnect")) {
        const char *owner = NULL;
        int peer;

        if (!find_port(req, "port", &a, errp) ||
            !rack_json_opt_str(req, "owner", &owner, errp)) {
            return NULL;
        }
        peer = a < ocs->nports ? ocs->peer[a] : -1;
        /* Only the named owner's circuit: never someone else's */
        if (owner && (peer < 0 || g_strcmp0(owners[MIN(a, (unsigned)peer)],
                                            owner))) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                        "optical port %u is in no circuit of %s", a, owner);
            return NULL;
        }
        if (!ocs_disconnect(ocs, a, errp)) {
            return NULL;
        }
        set_owner(a, peer, NULL);
        save_circuits();
    } else if (!strcmp(cmd, "fail") || !strcmp(cmd, "repair")) {
        if (!set_fault(req, !strcmp(cmd, "fail"), errp)) {
            return NULL;
        }
    } else {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "unknown command \"%s\" (connect, disconnect, query,"
                    " reload, fail, repair)",
                    cmd);
        return NULL;
    }
    schedule_advance();
    return rack_json_end(rack_json_reply_begin());
}

static gboolean quit(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    g_autofree char *control = NULL;
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- dReDBox rack switch fabric");
    g_autoptr(GError) err = NULL;
    GOptionEntry entries[] = {
        { "rack", 'r', 0, G_OPTION_ARG_FILENAME, &rack_file,
          "The rack description", "FILE" },
        { "run-dir", 'd', 0, G_OPTION_ARG_FILENAME, &run_dir,
          "Where the bricks' sockets live and ours go", "DIR" },
        { NULL }
    };
    GMainLoop *loop;
    int s;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || !rack_file ||
        !run_dir) {
        g_printerr("dredbox-fabricd: %s\n", err ? err->message
                   : "--rack and --run-dir are required");
        return 2;
    }
    rack = rack_load(rack_file, &err);
    if (!rack) {
        g_printerr("dredbox-fabricd: %s\n", err->message);
        return 1;
    }
    ocs = ocs_new(MAX(rack->optical_ports, 1),
                  (uint64_t)rack->reconfig_ms * 1000, link_changed, NULL);
    if (rack->electrical) {
        eps = eps_new(rack, run_dir, &err);
        if (!eps) {
            g_printerr("dredbox-fabricd: %s\n", err->message);
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    notifier = g_thread_pool_new(notify_brick, NULL, 1, TRUE, NULL);
    circuits_file = g_build_filename(run_dir, "fabric.circuits", NULL);
    owners = g_new0(char *, ocs->nports);
    faults_file = g_build_filename(run_dir, "fabric.faults", NULL);
    fault_log = g_build_filename(run_dir, "faults.log", NULL);
    restore_circuits();
    control = g_build_filename(run_dir, "fabric.sock", NULL);
    s = line_server_start(control, handle, &err);
    if (s < 0) {
        g_printerr("dredbox-fabricd: %s\n", err->message);
        return 1;
    }
    loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, quit, loop);
    g_unix_signal_add(SIGINT, quit, loop);
    printf("dredbox-fabricd: %u optical ports (%u ms), %u electrical ports,"
           " control %s\n", rack->optical_ports, rack->reconfig_ms,
           eps ? eps_ports(eps) : 0, control);
    fflush(stdout);
    g_main_loop_run(loop);

    line_server_stop(s, control);
    /* Let pending notices go out (each gives up after its timeout). */
    g_thread_pool_free(notifier, FALSE, TRUE);
    eps_free(eps);
    ocs_free(ocs);
    rack_free(rack);
    return 0;
}
