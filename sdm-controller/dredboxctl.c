/*
 * dredboxctl: ask the SDM controller for remote memory (docs/controller.md).
 *
 *   dredboxctl attach --brick N --size 512M [--path virtio-mem|rmc]
 *                     [--latency CLASS] [--policy P] [--memory M]
 *   dredboxctl attach --brick N --accelerator [--size 256M] [...]
 *   dredboxctl detach --brick N [--allocation ID] [--force]
 *   dredboxctl status
 *   dredboxctl graph [--format json|dot]
 *   dredboxctl plan-power
 *   dredboxctl register STATEMENT...   (rack-file lines: memory bricks
 *                                       joining the running rack, cables)
 *   dredboxctl reconcile
 *
 * attach, detach and register carry a request key (--key, or a new one):
 * when no reply comes in --timeout, the same command with the same key
 * gets the first request's outcome, and never runs it twice.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "graph-dot.h"
#include "line-client.h"
#include "rack-error.h"
#include "rack-json.h"

static char *opt_socket, *opt_size, *opt_latency, *opt_policy, *opt_path;
static char *opt_format, *opt_key;
static gint opt_brick = -1, opt_alloc = -1, opt_memory = -1;
/* Past any attach's wait for its guest (minutes in timing mode) */
static gint opt_timeout = 900;
static gboolean opt_json, opt_accel, opt_force;

static GOptionEntry entries[] = {
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &opt_socket,
      "The controller's socket (default build/run/rack/sdm.sock or"
      " $DREDBOX_RUN/sdm.sock)", "PATH" },
    { "brick", 'b', 0, G_OPTION_ARG_INT, &opt_brick,
      "attach, detach: the compute brick", "N" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size,
      "attach: how much, e.g. 512M", "SIZE" },
    { "latency", 'l', 0, G_OPTION_ARG_STRING, &opt_latency,
      "attach: at most tray-local, rack-local or inter-rack (default)",
      "CLASS" },
    { "policy", 'p', 0, G_OPTION_ARG_STRING, &opt_policy,
      "attach: locality or first-fit (default: the controller's)", "NAME" },
    { "memory", 'm', 0, G_OPTION_ARG_INT, &opt_memory,
      "attach: from this memory brick only (default: the policy's choice)",
      "M" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &opt_format,
      "graph: json (the default) or dot (Graphviz; dredbox-rack view"
      " renders it)", "FORMAT" },
    { "path", 0, 0, G_OPTION_ARG_STRING, &opt_path,
      "attach: virtio-mem (default: the brick's virtio-mem device grows) or"
      " rmc (the brick's RMC driver hot-adds it into a NUMA node)", "PATH" },
    { "accelerator", 'x', 0, G_OPTION_ARG_NONE, &opt_accel,
      "attach: an accelerator, with a queue segment of --size (default"
      " 256M)", NULL },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force,
      "detach: RMC-path memory or an accelerator even if the brick's guest"
      " cannot give it back (a dead or rebooted brick)", NULL },
    { "allocation", 'a', 0, G_OPTION_ARG_INT, &opt_alloc,
      "detach: this allocation (default: the brick's newest)", "ID" },
    { "key", 'k', 0, G_OPTION_ARG_STRING, &opt_key,
      "attach, detach, register: the request's key (default: a new one);"
      " the same key again gets the first outcome", "KEY" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
      "Seconds to wait for the reply (default 900)", "S" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
      "Print the controller's reply as it is", NULL },
    { NULL }
};

/* How to learn the outcome of a request whose reply did not come */
static void ask_again(const char *cmd)
{
    if (opt_key) {
        fprintf(stderr, "dredboxctl: the outcome is not known yet: run"
                " dredboxctl %s again with --key %s to learn it (it does not"
                " run twice)\n", cmd, opt_key);
    } else {
        fprintf(stderr, "dredboxctl: the outcome is not known: dredboxctl"
                " status shows what the controller has\n");
    }
}

/* Whether @reply says "busy": the controller is starting, ask again */
static bool busy(const char *reply)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *o = rack_json_parse_object(parser, reply);
    const char *code = NULL;

    return o && rack_json_opt_str(o, "code", &code, NULL) &&
           !g_strcmp0(code, "busy");
}

/*
 * The controller's reply line to @request, in --timeout at most.  An
 * attach or detach waits for the guest (minutes in timing mode); a
 * controller that is starting is asked again until it answers.  Exits 1
 * if nothing was sent, 3 if the request went out and no reply came.
 */
static char *call(const char *cmd, const char *request)
{
    gint64 deadline = g_get_monotonic_time() +
                      (gint64)opt_timeout * G_USEC_PER_SEC;
    g_autoptr(GError) err = NULL;
    char *reply = NULL;
    bool sent = false;

    do {
        g_autoptr(RackClient) c = NULL;

        g_clear_pointer(&reply, g_free);
        if (sent) {
            g_usleep(100000);
        }
        c = rack_client_open("the SDM controller", opt_socket, 10000, &err);
        sent = c && rack_client_send(c, request, -1, &err);
        if (sent) {
            rack_client_set_timeout(c, (unsigned)opt_timeout * 1000);
            reply = rack_client_recv(c, NULL, &err);
        }
    } while (reply && busy(reply) && g_get_monotonic_time() < deadline);
    if (!reply) {
        fprintf(stderr, "dredboxctl: %s%s\n", err->message,
                err->code == RACK_ERROR_UNREACHABLE ? " (is the rack up?)"
                : err->code == RACK_ERROR_TIMEOUT ? " (--timeout)" : "");
        if (!sent) {
            exit(1);
        }
        ask_again(cmd);
        exit(3);
    }
    return reply;
}

/* A new request's key: random, so no two requests share one */
static void key_member(JsonBuilder *b)
{
    if (!opt_key) {
        opt_key = g_uuid_string_random();
    }
    rack_json_member_str(b, "key", opt_key);
}

/*
 * The replies are checked member by member before anything is printed:
 * a reply of the wrong shape is an error, never a row of zeroes.
 */
static bool format_allocations(JsonArray *allocs, GString *out,
                               GError **errp)
{
    for (guint i = 0; i < json_array_get_length(allocs); i++) {
        uint64_t id, compute, cport, memory, mport, size;
        uint64_t accel = UINT64_MAX;
        const char *path = NULL, *degraded = NULL, *state = NULL;
        g_autofree char *use = NULL;
        JsonObject *a;

        if (!rack_json_array_get_obj(allocs, i, &a, errp) ||
            !rack_json_get_uint(a, "id", G_MAXINT64, &id, errp) ||
            !rack_json_get_uint(a, "compute", G_MAXUINT16, &compute, errp) ||
            !rack_json_get_uint(a, "compute-port", G_MAXUINT8, &cport, errp) ||
            !rack_json_get_uint(a, "memory", G_MAXUINT16, &memory, errp) ||
            !rack_json_get_uint(a, "memory-port", G_MAXUINT8, &mport, errp) ||
            !rack_json_get_uint(a, "size", G_MAXINT64, &size, errp) ||
            !rack_json_opt_uint(a, "accelerator", G_MAXUINT16, &accel, errp) ||
            !rack_json_opt_str(a, "path", &path, errp) ||
            !rack_json_opt_str(a, "state", &state, errp) ||
            !rack_json_opt_str(a, "degraded", &degraded, errp)) {
            g_prefix_error(errp, "allocation %u: ", i);
            return false;
        }
        use = accel != UINT64_MAX
            ? g_strdup_printf("accelerator %" G_GUINT64_FORMAT " queue", accel)
            : g_strdup(g_strcmp0(path, "rmc") ? "memory (virtio-mem)"
                                              : "memory (RMC)");
        g_string_append_printf(out, "%-6" G_GUINT64_FORMAT " %-8"
                               G_GUINT64_FORMAT " %-5" G_GUINT64_FORMAT " %-7"
                               G_GUINT64_FORMAT " %-5" G_GUINT64_FORMAT " %10"
                               G_GUINT64_FORMAT "  %s%s%s%s%s\n", id,
                               compute, cport, memory, mport, size >> 20, use,
                               state ? "  " : "", state ? state : "",
                               degraded ? "  DEGRADED: " : "",
                               degraded ? degraded : "");
    }
    return true;
}

/* Whether member @name of @o is there and null: a part that did not
 * answer. */
static bool is_null(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    return n && JSON_NODE_HOLDS_NULL(n);
}

/* What a row's parts say together: a definite difference is a mismatch;
 * a part that did not answer leaves it unknown; a brick a request works
 * on (@busy) was not asked. */
static const char *verdict(bool differ, bool unknown, bool busy)
{
    return busy ? "busy: a request works on it"
        : differ ? "MISMATCH" : unknown ? "unknown" : "consistent";
}

/* RMC-path allocations and queues as the pool, RMC and far end see them */
static bool format_segments(JsonArray *segments, GString *out, GError **errp)
{
    for (guint i = 0; segments && i < json_array_get_length(segments); i++) {
        bool pool = false, rmc, far = false, no_pool, busy = false;
        uint64_t alloc;
        JsonObject *c;

        if (!rack_json_array_get_obj(segments, i, &c, errp)) {
            g_prefix_error(errp, "segment %u: ", i);
            return false;
        }
        no_pool = is_null(c, "pool");
        if (!rack_json_get_uint(c, "allocation", G_MAXINT64, &alloc, errp) ||
            (!no_pool && !rack_json_get_bool(c, "pool", &pool, errp)) ||
            !rack_json_get_bool(c, "rmc", &rmc, errp) ||
            !rack_json_opt_bool(c, "accelerator", &far, errp) ||
            !rack_json_opt_bool(c, "guest", &far, errp) ||
            !rack_json_opt_bool(c, "busy", &busy, errp)) {
            g_prefix_error(errp, "segment %u: ", i);
            return false;
        }
        if (!i) {
            g_string_append_printf(out, "\n%-6s %-6s %-6s %-12s  %s\n",
                                   "alloc", "pool", "RMC", "guest/accel", "");
        }
        g_string_append_printf(out, "%-6" G_GUINT64_FORMAT " %-6s %-6s %-12s"
                               "  %s\n", alloc,
                               no_pool ? "?" : pool ? "yes" : "no",
                               busy ? "?" : rmc ? "yes" : "no",
                               busy ? "?" : far ? "yes" : "no",
                               verdict(!rmc || !far || (!no_pool && !pool),
                                       no_pool, busy));
    }
    return true;
}

/* Each compute/memory pair's virtio-mem memory, as each part sees it */
static bool format_pair(JsonObject *b, GString *out, GError **errp)
{
    uint64_t compute, memory, ctl, pool = 0, brick = 0, node = UINT64_MAX;
    bool down = is_null(b, "brick"), no_pool = is_null(b, "pool");
    bool busy = false;
    g_autoptr(GString) guest_s = g_string_new("");
    g_autofree char *mib = NULL, *node_s = NULL, *pool_s = NULL;
    JsonArray *guest;
    /* Where the guest has the memory: in the device's node only. */
    bool placed = true;

    if (!rack_json_get_uint(b, "compute", G_MAXUINT16, &compute, errp) ||
        !rack_json_get_uint(b, "memory", G_MAXUINT16, &memory, errp) ||
        !rack_json_get_uint(b, "controller", G_MAXINT64, &ctl, errp) ||
        (!no_pool && !rack_json_get_uint(b, "pool", G_MAXINT64, &pool,
                                         errp)) ||
        (!down && !rack_json_get_uint(b, "brick", G_MAXINT64, &brick, errp)) ||
        !rack_json_opt_uint(b, "node", G_MAXUINT16, &node, errp) ||
        !rack_json_opt_array(b, "guest-nodes", &guest, errp) ||
        !rack_json_opt_bool(b, "busy", &busy, errp)) {
        return false;
    }
    for (guint k = 0; guest && k < json_array_get_length(guest); k++) {
        uint64_t g;

        if (!rack_json_array_get_uint(guest, k, G_MAXUINT16, &g, errp)) {
            g_prefix_error(errp, "guest-nodes: ");
            return false;
        }
        g_string_append_printf(guest_s, "%s%" G_GUINT64_FORMAT, k ? "," : "",
                               g);
        placed = placed && g == node;
    }
    mib = busy ? g_strdup("?") : down ? g_strdup("down")
        : g_strdup_printf("%" G_GUINT64_FORMAT, brick >> 20);
    node_s = node == UINT64_MAX ? g_strdup("-")
        : g_strdup_printf("%" G_GUINT64_FORMAT, node);
    pool_s = no_pool ? g_strdup("?")
        : g_strdup_printf("%" G_GUINT64_FORMAT, pool >> 20);
    g_string_append_printf(out, "%-8" G_GUINT64_FORMAT " %-7" G_GUINT64_FORMAT
                           " %15" G_GUINT64_FORMAT " %10s %10s"
                           " %5s %11s  %s\n", compute, memory, ctl >> 20, mib,
                           pool_s, node_s,
                           !guest ? "?" : guest_s->len ? guest_s->str : "-",
                           verdict(down || ctl != brick || !placed ||
                                   (!no_pool && brick != pool), no_pool,
                                   busy));
    return true;
}

static bool format_status(JsonObject *o, GString *out, GError **errp)
{
    JsonArray *allocs, *segments, *bricks;
    const char *pool_error = NULL;

    if (!rack_json_get_array(o, "allocations", &allocs, errp) ||
        !rack_json_opt_array(o, "segments", &segments, errp) ||
        !rack_json_get_array(o, "bricks", &bricks, errp) ||
        !rack_json_opt_str(o, "pool-error", &pool_error, errp)) {
        return false;
    }
    g_string_append_printf(out, "%-6s %-8s %-5s %-7s %-5s %10s  %s\n",
                           "alloc", "compute", "port", "memory", "port",
                           "size MiB", "use");
    if (!format_allocations(allocs, out, errp) ||
        !format_segments(segments, out, errp)) {
        return false;
    }
    g_string_append_printf(out, "\n%-8s %-7s %15s %10s %10s %5s %11s  %s\n",
                           "compute", "memory", "controller MiB", "brick MiB",
                           "pool MiB", "node", "guest nodes", "");
    for (guint i = 0; i < json_array_get_length(bricks); i++) {
        JsonObject *b;

        if (!rack_json_array_get_obj(bricks, i, &b, errp) ||
            !format_pair(b, out, errp)) {
            g_prefix_error(errp, "bricks %u: ", i);
            return false;
        }
    }
    if (pool_error) {
        g_string_append_printf(out, "\nthe memory pool does not answer: %s\n",
                               pool_error);
    }
    return true;
}

/* An attach's reply: memory, or an accelerator's queue */
static bool format_attach(JsonObject *o, GString *out, GError **errp)
{
    uint64_t id, compute, cport, memory, size, accel, seg, node = UINT64_MAX;
    g_autofree char *in_node = NULL;
    const char *latency;
    JsonObject *a;

    if (!rack_json_get_object(o, "allocation", &a, errp) ||
        !rack_json_get_uint(a, "id", G_MAXINT64, &id, errp) ||
        !rack_json_get_uint(a, "compute", G_MAXUINT16, &compute, errp) ||
        !rack_json_get_uint(a, "compute-port", G_MAXUINT8, &cport, errp) ||
        !rack_json_get_uint(a, "memory", G_MAXUINT16, &memory, errp) ||
        !rack_json_get_uint(a, "size", G_MAXINT64, &size, errp)) {
        return false;
    }
    if (opt_accel) {
        if (!rack_json_get_uint(a, "accelerator", G_MAXUINT16, &accel, errp) ||
            !rack_json_get_uint(a, "segment", G_MAXINT64, &seg, errp)) {
            return false;
        }
        g_string_append_printf(out, "allocation %" G_GUINT64_FORMAT
                               ": accelerator %" G_GUINT64_FORMAT " for"
                               " compute brick %" G_GUINT64_FORMAT " on RMC"
                               " port %" G_GUINT64_FORMAT ", queue segment %"
                               G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " MiB"
                               " of memory brick %" G_GUINT64_FORMAT ")\n",
                               id, accel, compute, cport, seg, size >> 20,
                               memory);
        return true;
    }
    if (!rack_json_get_str(o, "latency", &latency, errp) ||
        !rack_json_opt_uint(o, "node", G_MAXUINT16, &node, errp)) {
        return false;
    }
    in_node = node == UINT64_MAX ? g_strdup("")
        : g_strdup_printf(", node %" G_GUINT64_FORMAT, node);
    g_string_append_printf(out, "allocation %" G_GUINT64_FORMAT ": %"
                           G_GUINT64_FORMAT " MiB of memory brick %"
                           G_GUINT64_FORMAT " for compute brick %"
                           G_GUINT64_FORMAT " (port %" G_GUINT64_FORMAT
                           ", %s%s)\n", id, size >> 20, memory, compute,
                           cport, latency, in_node);
    return true;
}

/* What @cmd's reply @root (its object @o) says, for a reader */
static bool format_reply(const char *cmd, JsonNode *root, JsonObject *o,
                         GString *out, GError **errp)
{
    uint64_t bricks;

    if (!strcmp(cmd, "attach")) {
        return format_attach(o, out, errp);
    } else if (!strcmp(cmd, "status")) {
        return format_status(o, out, errp);
    } else if (!strcmp(cmd, "graph") && !g_strcmp0(opt_format, "dot")) {
        g_autofree char *dot = sdm_graph_dot(o, errp);

        if (!dot) {
            return false;
        }
        g_string_append(out, dot);
    } else if (!strcmp(cmd, "graph") || !strcmp(cmd, "plan-power")) {
        /* Structured answers: pretty JSON is the readable form. */
        g_autofree char *pretty = NULL;

        json_object_remove_member(o, "ok");
        pretty = json_to_string(root, TRUE);
        g_string_append_printf(out, "%s\n", pretty);
    } else if (!strcmp(cmd, "register")) {
        if (!rack_json_get_uint(o, "bricks", G_MAXUINT16, &bricks, errp)) {
            return false;
        }
        g_string_append_printf(out, "registered: the rack has %"
                               G_GUINT64_FORMAT " bricks\n", bricks);
    } else if (!strcmp(cmd, "reconcile")) {
        JsonArray *done;
        const char *what;

        if (!rack_json_get_array(o, "repaired", &done, errp)) {
            return false;
        }
        for (guint i = 0; i < json_array_get_length(done); i++) {
            if (!rack_json_array_get_str(done, i, &what, errp)) {
                return false;
            }
            g_string_append_printf(out, "repaired: %s\n", what);
        }
        if (!json_array_get_length(done)) {
            g_string_append(out, "nothing to repair\n");
        }
    } else {
        g_string_append(out, "detached\n");
    }
    return true;
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "attach|detach|status|graph|plan-power|register|reconcile - ask the"
        " dReDBox SDM controller");
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *req = NULL, *reply = NULL;
    g_autoptr(GString) out = NULL;
    const char *cmd, *why, *code = NULL;
    JsonObject *o;
    bool ok;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "dredboxctl: %s\n", err->message);
        return 2;
    }
    if (!opt_socket) {
        const char *run = g_getenv("DREDBOX_RUN");

        opt_socket = g_build_filename(run ? run : "build/run/rack",
                                      "sdm.sock", NULL);
    }
    cmd = argc == 2 || (argc > 2 && !strcmp(argv[1], "register"))
          ? argv[1] : "";
    if (opt_format && (strcmp(cmd, "graph") ||
                       (strcmp(opt_format, "dot") &&
                        strcmp(opt_format, "json")))) {
        fprintf(stderr, "dredboxctl: --format is json or dot, for graph\n");
        return 2;
    }
    if (!strcmp(cmd, "attach") && opt_brick >= 0 && (opt_size || opt_accel)) {
        JsonBuilder *b = rack_json_begin();

        rack_json_member_str(b, "cmd", "attach");
        rack_json_member_int(b, "brick", opt_brick);
        if (opt_size) {
            rack_json_member_str(b, "size", opt_size);
        }
        if (opt_path) {
            rack_json_member_str(b, "path", opt_path);
        }
        if (opt_accel) {
            rack_json_member_bool(b, "accelerator", TRUE);
        }
        if (opt_latency) {
            rack_json_member_str(b, "latency", opt_latency);
        }
        if (opt_policy) {
            rack_json_member_str(b, "policy", opt_policy);
        }
        if (opt_memory >= 0) {
            rack_json_member_int(b, "memory", opt_memory);
        }
        key_member(b);
        req = rack_json_end(b);
    } else if (!strcmp(cmd, "detach") && opt_brick >= 0) {
        JsonBuilder *b = rack_json_begin();

        rack_json_member_str(b, "cmd", "detach");
        rack_json_member_int(b, "brick", opt_brick);
        if (opt_alloc >= 0) {
            rack_json_member_int(b, "allocation", opt_alloc);
        }
        rack_json_member_bool(b, "force", opt_force);
        key_member(b);
        req = rack_json_end(b);
    } else if (!strcmp(cmd, "register")) {
        g_autofree char *lines = g_strjoinv("\n", argv + 2);
        JsonBuilder *b = rack_json_begin();

        rack_json_member_str(b, "cmd", "register");
        rack_json_member_str(b, "lines", lines);
        key_member(b);
        req = rack_json_end(b);
    } else if (!strcmp(cmd, "status") || !strcmp(cmd, "graph") ||
               !strcmp(cmd, "plan-power") || !strcmp(cmd, "reconcile")) {
        req = rack_json_end(rack_json_request(cmd));
    } else {
        fprintf(stderr, "dredboxctl: expected attach --brick N --size SIZE,"
                " attach --brick N --accelerator, detach --brick N, status,"
                " graph, plan-power, register STATEMENT... or reconcile"
                " (see --help)\n");
        return 2;
    }
    if (opt_timeout <= 0) {
        fprintf(stderr, "dredboxctl: --timeout is a number of seconds\n");
        return 2;
    }
    reply = call(cmd, req);
    o = rack_json_parse_object(parser, reply);
    if (!o) {
        fprintf(stderr, "dredboxctl: malformed reply: %s\n", reply);
        return 1;
    }
    if (!rack_json_get_bool(o, "ok", &ok, &err) ||
        (!ok && (!rack_json_get_str(o, "error", &why, &err) ||
                 !rack_json_opt_str(o, "code", &code, &err)))) {
        fprintf(stderr, "dredboxctl: malformed reply from the controller:"
                " %s: %s\n", err->message, reply);
        return 1;
    }
    if (!ok) {
        fprintf(stderr, "dredboxctl: %s\n", why);
        if (!g_strcmp0(code, "pending")) {
            ask_again(cmd);
            return 3;
        }
        return 1;
    }
    if (opt_json) {
        printf("%s\n", reply);
        return 0;
    }
    out = g_string_new("");
    if (!format_reply(cmd, json_parser_get_root(parser), o, out, &err)) {
        fprintf(stderr, "dredboxctl: malformed reply from the controller:"
                " %s: %s\n", err->message, reply);
        return 1;
    }
    fputs(out->str, stdout);
    return 0;
}
