/*
 * The rack graph as Graphviz DOT (graph-dot.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "graph-dot.h"
#include "rack-error.h"
#include "rack-json.h"

#define DOWN_FILL "#f4cccc"

/* @s as a DOT string's contents: quotes and backslashes escaped */
static void append_escaped(GString *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            g_string_append_c(out, '\\');
        }
        g_string_append_c(out, *s);
    }
}

/* A brick or endpoint name goes into DOT as it is: check it is one. */
static bool check_name(const char *what, const char *name, GError **errp)
{
    if (!*name || name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
                              "0123456789.-")]) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "%s \"%s\" is not a brick or endpoint name", what, name);
        return false;
    }
    return true;
}

/* One brick: its name, what it holds, and what of it is down */
static bool add_vertex(GString *out, JsonObject *v, GError **errp)
{
    const char *kind;
    uint64_t id, ports, size = 0, used = 0;
    bool up;
    JsonArray *down;
    g_autoptr(GString) label = g_string_new(NULL);

    if (!rack_json_get_str(v, "brick", &kind, errp) ||
        !check_name("brick", kind, errp) ||
        !rack_json_get_uint(v, "id", G_MAXUINT16, &id, errp) ||
        !rack_json_get_uint(v, "ports", G_MAXUINT16, &ports, errp) ||
        !rack_json_get_bool(v, "up", &up, errp) ||
        !rack_json_get_array(v, "down-ports", &down, errp) ||
        (!strcmp(kind, "memory") &&
         (!rack_json_get_uint(v, "size", G_MAXUINT64, &size, errp) ||
          !rack_json_get_uint(v, "used", G_MAXUINT64, &used, errp)))) {
        return false;
    }
    g_string_printf(label, "%s%" G_GUINT64_FORMAT "\\n%" G_GUINT64_FORMAT
                    " port%s", kind, id, ports, ports == 1 ? "" : "s");
    if (!strcmp(kind, "memory")) {
        g_string_append_printf(label, ", %" G_GUINT64_FORMAT " of %"
                               G_GUINT64_FORMAT " MiB used", used >> 20,
                               size >> 20);
    }
    if (!up) {
        g_string_append(label, "\\nDOWN");
    }
    for (guint i = 0; i < json_array_get_length(down); i++) {
        JsonObject *d;
        uint64_t port;
        const char *why;

        if (!rack_json_array_get_obj(down, i, &d, errp) ||
            !rack_json_get_uint(d, "port", G_MAXUINT16, &port, errp) ||
            !rack_json_get_str(d, "why", &why, errp)) {
            return false;
        }
        g_string_append_printf(label, "\\nport %" G_GUINT64_FORMAT ": ", port);
        append_escaped(label, why);
    }
    g_string_append_printf(out, "    \"%s%" G_GUINT64_FORMAT "\" [label=\"%s\"",
                           kind, id, label->str);
    if (!up) {
        g_string_append(out, ", fillcolor=\"" DOWN_FILL "\", color=red");
    } else if (json_array_get_length(down)) {
        g_string_append(out, ", color=red, fontcolor=red");
    }
    g_string_append(out, "];\n");
    return true;
}

/* One circuit: "compute0.port1" - "memory0.port0", red if it is down */
static bool add_edge(GString *out, JsonObject *e, GError **errp)
{
    const char *a, *b, *latency, *down = NULL;
    g_autofree char *na = NULL, *nb = NULL;

    if (!rack_json_get_str(e, "a", &a, errp) ||
        !check_name("endpoint", a, errp) ||
        !rack_json_get_str(e, "b", &b, errp) ||
        !check_name("endpoint", b, errp) ||
        !rack_json_get_str(e, "latency", &latency, errp) ||
        !check_name("latency", latency, errp) ||
        !rack_json_opt_str(e, "down", &down, errp)) {
        return false;
    }
    na = g_strndup(a, strcspn(a, "."));
    nb = g_strndup(b, strcspn(b, "."));
    g_string_append_printf(out, "  \"%s\" -- \"%s\" [label=\"%s - %s\\n%s",
                           na, nb, a, b, latency);
    if (down) {
        g_string_append(out, "\\nDOWN: ");
        append_escaped(out, down);
        g_string_append(out, "\", color=red, fontcolor=red, style=dashed");
    } else {
        g_string_append_c(out, '"');
    }
    g_string_append(out, "];\n");
    return true;
}

static gint compare_uint(gconstpointer a, gconstpointer b)
{
    guint x = GPOINTER_TO_UINT(*(gconstpointer *)a);
    guint y = GPOINTER_TO_UINT(*(gconstpointer *)b);

    return x < y ? -1 : x > y;
}

char *sdm_graph_dot(JsonObject *graph, GError **errp)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GPtrArray) trays = g_ptr_array_new();
    JsonArray *vertices, *edges;

    if (!rack_json_get_array(graph, "vertices", &vertices, errp) ||
        !rack_json_get_array(graph, "edges", &edges, errp)) {
        return NULL;
    }
    g_string_append(out, "graph rack {\n"
                    "  graph [rankdir=LR, fontname=\"sans\"];\n"
                    "  node [shape=box, style=\"rounded,filled\","
                    " fillcolor=white, fontname=\"sans\"];\n"
                    "  edge [fontname=\"sans\", fontsize=10];\n");
    /* Trays in order, each a cluster of its bricks */
    for (guint i = 0; i < json_array_get_length(vertices); i++) {
        JsonObject *v;
        uint64_t tray;

        if (!rack_json_array_get_obj(vertices, i, &v, errp) ||
            !rack_json_get_uint(v, "tray", G_MAXUINT16, &tray, errp)) {
            return NULL;
        }
        if (!g_ptr_array_find(trays, GUINT_TO_POINTER(tray), NULL)) {
            g_ptr_array_add(trays, GUINT_TO_POINTER(tray));
        }
    }
    g_ptr_array_sort(trays, compare_uint);
    for (guint t = 0; t < trays->len; t++) {
        guint tray = GPOINTER_TO_UINT(g_ptr_array_index(trays, t));

        g_string_append_printf(out, "  subgraph cluster_tray%u {\n"
                               "    label=\"tray %u\";\n", tray, tray);
        for (guint i = 0; i < json_array_get_length(vertices); i++) {
            JsonObject *v = json_array_get_object_element(vertices, i);
            uint64_t in;

            rack_json_get_uint(v, "tray", G_MAXUINT16, &in, NULL);
            if (in == tray && !add_vertex(out, v, errp)) {
                return NULL;
            }
        }
        g_string_append(out, "  }\n");
    }
    for (guint i = 0; i < json_array_get_length(edges); i++) {
        JsonObject *e;

        if (!rack_json_array_get_obj(edges, i, &e, errp) ||
            !add_edge(out, e, errp)) {
            return NULL;
        }
    }
    g_string_append(out, "}\n");
    return g_string_free(g_steal_pointer(&out), false);
}
