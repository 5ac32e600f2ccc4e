/*
 * Unit tests of the rack graph's picture (sdm-controller/graph-dot.c):
 * bricks in their trays, circuits, and what is down or degraded marked
 * red; a malformed graph is refused, never drawn.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "graph-dot.h"

static JsonObject *parse(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();

    assert_true(json_parser_load_from_data(p, text, -1, NULL));
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

static void expect_in(const char *dot, const char *fragment)
{
    if (!strstr(dot, fragment)) {
        fail_msg("DOT lacks %s:\n%s", fragment, dot);
    }
}

#define COMPUTE0 "{\"brick\":\"compute\",\"id\":0,\"tray\":0,\"ports\":2," \
                 "\"up\":true,\"down-ports\":[{\"port\":1,\"why\":" \
                 "\"optical port 1 is dark: its cable is cut\"}]}"
#define MEMORY1 "{\"brick\":\"memory\",\"id\":1,\"tray\":1,\"ports\":1," \
                "\"size\":4294967296,\"used\":536870912,\"up\":false," \
                "\"down-ports\":[]}"

static void test_faults_marked(void **state)
{
    g_autoptr(JsonObject) g = parse(
        "{\"ok\":true,\"vertices\":[" MEMORY1 "," COMPUTE0 "],"
        "\"edges\":[{\"a\":\"compute0.port1\",\"b\":\"memory1\","
        "\"latency\":\"rack-local\",\"down\":\"optical port 1 is dark: its"
        " cable is cut\"},{\"a\":\"compute0.port0\",\"b\":\"memory1\","
        "\"latency\":\"tray-local\"}]}");
    g_autofree char *dot = sdm_graph_dot(g, NULL);

    assert_non_null(dot);
    assert_true(g_str_has_prefix(dot, "graph rack {\n"));
    assert_true(g_str_has_suffix(dot, "}\n"));
    /* Trays in order, whatever the bricks' order */
    assert_true(strstr(dot, "cluster_tray0") < strstr(dot, "cluster_tray1"));
    expect_in(dot, "\"compute0\" [label=\"compute0\\n2 ports\\nport 1:"
              " optical port 1 is dark: its cable is cut\", color=red,"
              " fontcolor=red];");
    expect_in(dot, "\"memory1\" [label=\"memory1\\n1 port, 512 of 4096 MiB"
              " used\\nDOWN\", fillcolor=\"#f4cccc\", color=red];");
    expect_in(dot, "\"compute0\" -- \"memory1\" [label=\"compute0.port1 -"
              " memory1\\nrack-local\\nDOWN: optical port 1 is dark: its"
              " cable is cut\", color=red, fontcolor=red, style=dashed];");
    expect_in(dot, "\"compute0\" -- \"memory1\" [label=\"compute0.port0 -"
              " memory1\\ntray-local\"];");
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "{\"vertices\":[]}",
        "{\"vertices\":{},\"edges\":[]}",
        "{\"vertices\":[{\"brick\":\"com\\\"pute\",\"id\":0,\"tray\":0,"
        "\"ports\":1,\"up\":true,\"down-ports\":[]}],\"edges\":[]}",
        "{\"vertices\":[{\"brick\":\"compute\",\"id\":\"0\",\"tray\":0,"
        "\"ports\":1,\"up\":true,\"down-ports\":[]}],\"edges\":[]}",
        "{\"vertices\":[{\"brick\":\"memory\",\"id\":0,\"tray\":0,"
        "\"ports\":1,\"up\":true,\"down-ports\":[]}],\"edges\":[]}",
        "{\"vertices\":[" COMPUTE0 "],\"edges\":[{\"a\":\"compute0.port0\","
        "\"b\":\"memory1\\\"]\",\"latency\":\"tray-local\"}]}",
        "{\"vertices\":[" COMPUTE0 "],\"edges\":[{\"a\":\"compute0.port0\","
        "\"b\":\"memory1\",\"latency\":\"tray-local\",\"down\":7}]}",
        "{\"vertices\":[{\"brick\":\"compute\",\"id\":0,\"tray\":0,"
        "\"ports\":1,\"up\":true,\"down-ports\":[{\"port\":0}]}],"
        "\"edges\":[]}",
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(JsonObject) g = parse(bad[i]);
        g_autoptr(GError) err = NULL;
        g_autofree char *dot = sdm_graph_dot(g, &err);

        if (dot || !err) {
            fail_msg("accepted %s", bad[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_marked),
        cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
