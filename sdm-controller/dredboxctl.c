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
static char *opt_format;
static gint opt_brick = -1, opt_alloc = -1, opt_memory = -1;
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
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
      "Print the controller's reply as it is", NULL },
    { NULL }
};

/*
 * The controller's reply line to @request.  An attach or detach waits for
 * the guest (minutes in timing mode), so there is no timeout.
 */
static char *call(const char *request)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(RackClient) c = rack_client_open("the SDM controller",
                                               opt_socket, 0, &err);
    char *reply = NULL;

    if (c && rack_client_send(c, request, -1, &err)) {
        reply = rack_client_recv(c, NULL, &err);
    }
    if (!reply) {
        fprintf(stderr, "dredboxctl: %s%s\n", err->message,
                err->code == RACK_ERROR_UNREACHABLE ? " (is the rack up?)"
                                                    : "");
        exit(1);
    }
    return reply;
}

static void print_status(JsonObject *o)
{
    JsonArray *allocs = json_object_get_array_member(o, "allocations");
    JsonArray *bricks = json_object_get_array_member(o, "bricks");
    JsonArray *segments;

    printf("%-6s %-8s %-5s %-7s %-5s %10s  %s\n", "alloc", "compute", "port",
           "memory", "port", "size MiB", "use");
    for (guint i = 0; i < json_array_get_length(allocs); i++) {
        JsonObject *a = json_array_get_object_element(allocs, i);
        g_autofree char *queue = json_object_has_member(a, "accelerator")
            ? g_strdup_printf("accelerator %" G_GINT64_FORMAT " queue",
                              json_object_get_int_member(a, "accelerator"))
            : NULL;
        const char *degraded = json_object_get_string_member_with_default(
            a, "degraded", NULL);

        printf("%-6" G_GINT64_FORMAT " %-8" G_GINT64_FORMAT " %-5"
               G_GINT64_FORMAT " %-7" G_GINT64_FORMAT " %-5" G_GINT64_FORMAT
               " %10" G_GINT64_FORMAT "  %s%s%s\n",
               json_object_get_int_member(a, "id"),
               json_object_get_int_member(a, "compute"),
               json_object_get_int_member(a, "compute-port"),
               json_object_get_int_member(a, "memory"),
               json_object_get_int_member(a, "memory-port"),
               json_object_get_int_member(a, "size") >> 20,
               queue ? queue
               : g_strcmp0(json_object_get_string_member_with_default(
                     a, "path", ""), "rmc") ? "memory (virtio-mem)"
                                            : "memory (RMC)",
               degraded ? "  DEGRADED: " : "", degraded ? degraded : "");
    }
    segments = json_object_get_array_member(o, "segments");
    if (segments && json_array_get_length(segments)) {
        printf("\n%-6s %-6s %-6s %-12s  %s\n", "alloc", "pool", "RMC",
               "guest/accel", "");
    }
    for (guint i = 0; segments && i < json_array_get_length(segments); i++) {
        JsonObject *c = json_array_get_object_element(segments, i);
        bool pool = json_object_get_boolean_member(c, "pool");
        bool rmc = json_object_get_boolean_member(c, "rmc");
        bool far = json_object_get_boolean_member_with_default(
            c, "guest", json_object_get_boolean_member_with_default(
                c, "accelerator", FALSE));

        printf("%-6" G_GINT64_FORMAT " %-6s %-6s %-12s  %s\n",
               json_object_get_int_member(c, "allocation"),
               pool ? "yes" : "no", rmc ? "yes" : "no", far ? "yes" : "no",
               pool && rmc && far ? "consistent" : "MISMATCH");
    }
    printf("\n%-8s %-7s %15s %10s %10s %5s %11s  %s\n", "compute",
           "memory", "controller MiB", "brick MiB", "pool MiB", "node",
           "guest nodes", "");
    for (guint i = 0; i < json_array_get_length(bricks); i++) {
        JsonObject *b = json_array_get_object_element(bricks, i);
        gint64 ctl = json_object_get_int_member(b, "controller");
        gint64 pool = json_object_get_int_member(b, "pool");
        JsonNode *bn = json_object_get_member(b, "brick");
        bool down = JSON_NODE_HOLDS_NULL(bn);
        gint64 brick = down ? -1 : json_node_get_int(bn);
        g_autofree char *mib = down ? g_strdup("down")
            : g_strdup_printf("%" G_GINT64_FORMAT, brick >> 20);
        JsonNode *nn = json_object_get_member(b, "node");
        gint64 node = nn && JSON_NODE_HOLDS_VALUE(nn) ? json_node_get_int(nn)
                                                      : -1;
        g_autofree char *node_s = node < 0 ? g_strdup("-")
            : g_strdup_printf("%" G_GINT64_FORMAT, node);
        JsonNode *gn = json_object_get_member(b, "guest-nodes");
        JsonArray *guest = gn && JSON_NODE_HOLDS_ARRAY(gn)
                           ? json_node_get_array(gn) : NULL;
        GString *guest_s = g_string_new(guest ? "" : "?");
        /* Where the guest has the memory: in the device's node only. */
        bool placed = true;

        for (guint k = 0; guest && k < json_array_get_length(guest); k++) {
            gint64 g = json_array_get_int_element(guest, k);

            g_string_append_printf(guest_s, "%s%" G_GINT64_FORMAT,
                                   k ? "," : "", g);
            placed = placed && g == node;
        }
        printf("%-8" G_GINT64_FORMAT " %-7" G_GINT64_FORMAT " %15"
               G_GINT64_FORMAT " %10s %10" G_GINT64_FORMAT " %5s %11s  %s\n",
               json_object_get_int_member(b, "compute"),
               json_object_get_int_member(b, "memory"), ctl >> 20,
               mib, pool >> 20, node_s, guest_s->len ? guest_s->str : "-",
               !down && ctl == brick && brick == pool && placed
               ? "consistent" : "MISMATCH");
        g_string_free(guest_s, true);
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "attach|detach|status|graph|plan-power|register - ask the dReDBox SDM"
        " controller");
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *req = NULL, *reply = NULL;
    const char *cmd;
    JsonObject *o;

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
        req = rack_json_end(b);
    } else if (!strcmp(cmd, "detach") && opt_brick >= 0) {
        JsonBuilder *b = rack_json_begin();

        rack_json_member_str(b, "cmd", "detach");
        rack_json_member_int(b, "brick", opt_brick);
        if (opt_alloc >= 0) {
            rack_json_member_int(b, "allocation", opt_alloc);
        }
        rack_json_member_bool(b, "force", opt_force);
        req = rack_json_end(b);
    } else if (!strcmp(cmd, "register")) {
        g_autofree char *lines = g_strjoinv("\n", argv + 2);
        JsonBuilder *b = rack_json_begin();

        rack_json_member_str(b, "cmd", "register");
        rack_json_member_str(b, "lines", lines);
        req = rack_json_end(b);
    } else if (!strcmp(cmd, "status") || !strcmp(cmd, "graph") ||
               !strcmp(cmd, "plan-power")) {
        req = rack_json_end(rack_json_request(cmd));
    } else {
        fprintf(stderr, "dredboxctl: expected attach --brick N --size SIZE,"
                " attach --brick N --accelerator, detach --brick N, status,"
                " graph, plan-power or register STATEMENT..."
                " (see --help)\n");
        return 2;
    }
    reply = call(req);
    if (!json_parser_load_from_data(parser, reply, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        fprintf(stderr, "dredboxctl: malformed reply: %s\n", reply);
        return 1;
    }
    o = json_node_get_object(json_parser_get_root(parser));
    if (!json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
        fprintf(stderr, "dredboxctl: %s\n",
                json_object_get_string_member_with_default(o, "error", "?"));
        return 1;
    }
    if (opt_json) {
        printf("%s\n", reply);
    } else if (!strcmp(cmd, "attach") && opt_accel) {
        JsonObject *a = json_object_get_object_member(o, "allocation");

        printf("allocation %" G_GINT64_FORMAT ": accelerator %" G_GINT64_FORMAT
               " for compute brick %" G_GINT64_FORMAT " on RMC port %"
               G_GINT64_FORMAT ", queue segment %" G_GINT64_FORMAT " (%"
               G_GINT64_FORMAT " MiB of memory brick %" G_GINT64_FORMAT ")\n",
               json_object_get_int_member(a, "id"),
               json_object_get_int_member(a, "accelerator"),
               json_object_get_int_member(a, "compute"),
               json_object_get_int_member(a, "compute-port"),
               json_object_get_int_member(a, "segment"),
               json_object_get_int_member(a, "size") >> 20,
               json_object_get_int_member(a, "memory"));
    } else if (!strcmp(cmd, "attach")) {
        JsonObject *a = json_object_get_object_member(o, "allocation");

        JsonNode *node = json_object_get_member(o, "node");
        g_autofree char *in_node = node && JSON_NODE_HOLDS_VALUE(node)
            ? g_strdup_printf(", node %" G_GINT64_FORMAT,
                              json_node_get_int(node))
            : g_strdup("");

        printf("allocation %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT
               " MiB of memory brick %" G_GINT64_FORMAT " for compute brick %"
               G_GINT64_FORMAT " (port %" G_GINT64_FORMAT ", %s%s)\n",
               json_object_get_int_member(a, "id"),
               json_object_get_int_member(a, "size") >> 20,
               json_object_get_int_member(a, "memory"),
               json_object_get_int_member(a, "compute"),
               json_object_get_int_member(a, "compute-port"),
               json_object_get_string_member(o, "latency"), in_node);
    } else if (!strcmp(cmd, "status")) {
        print_status(o);
    } else if (!strcmp(cmd, "graph") && !g_strcmp0(opt_format, "dot")) {
        g_autofree char *dot = sdm_graph_dot(o, &err);

        if (!dot) {
            fprintf(stderr, "dredboxctl: malformed graph: %s\n",
                    err->message);
            return 1;
        }
        fputs(dot, stdout);
    } else if (!strcmp(cmd, "graph") || !strcmp(cmd, "plan-power")) {
        /* Structured answers: pretty JSON is the readable form. */
        JsonGenerator *gen = json_generator_new();

        json_object_remove_member(o, "ok");
        json_generator_set_root(gen, json_parser_get_root(parser));
        json_generator_set_pretty(gen, TRUE);
        printf("%s\n", json_generator_to_data(gen, NULL));
        g_object_unref(gen);
    } else if (!strcmp(cmd, "register")) {
        printf("registered: the rack has %" G_GINT64_FORMAT " bricks\n",
               json_object_get_int_member(o, "bricks"));
    } else {
        printf("detached\n");
    }
    return 0;
}
