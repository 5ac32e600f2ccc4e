/*
 * Unit tests of the SDM controller's multigraph and reservation engine:
 * both policies' choices, latency bounds, fragmentation, ports and bricks
 * running out or down, release, and invariants over random request
 * sequences.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "rack-error.h"
#include "reserve.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* memory0 is far but first; memory1 near and small; memory2 near, big. */
static const char rack_text[] =
    "compute 0 ports=2\ncompute 1 ports=1\n"
    "memory 0 size=8G\nmemory 1 size=1G ports=2\nmemory 2 size=4G\n"
    "memory 3 size=2G\n"
    "optical-switch ports=16\n"
    "cable compute0.port0 optical:0 latency=tray-local\n"
    "cable compute0.port1 optical:1 latency=tray-local\n"
    "cable compute1.port0 optical:2 latency=tray-local\n"
    "cable memory0 optical:4 latency=inter-rack\n"
    "cable memory1.port0 optical:5 latency=tray-local\n"
    "cable memory1.port1 optical:6 latency=tray-local\n"
    "cable memory2 optical:7 latency=tray-local\n"
    "cable memory3 optical:8 latency=rack-local\n";

static int setup(void **state)
{
    g_autoptr(Rack) rack = rack_parse(rack_text, "t.rack", NULL);

    assert_non_null(rack);
    *state = sdm_graph_new(rack);
    return 0;
}

static int teardown(void **state)
{
    sdm_graph_free(*state);
    return 0;
}

static void test_graph(void **state)
{
    SdmGraph *g = *state;
    SdmVertex *m1 = sdm_graph_vertex(g, RACK_MEMORY, 1);
    SdmVertex *c0 = sdm_graph_vertex(g, RACK_COMPUTE, 0);

    assert_int_equal(g->vertices->len, 6);
    assert_int_equal(m1->size, 1 * GiB);
    assert_int_equal(m1->nports, 2);
    assert_int_equal(m1->ports[1].switch_port, 6);
    assert_null(sdm_graph_vertex(g, RACK_ACCELERATOR, 0));
    assert_true(sdm_graph_connect(g, &c0->ports[0], &m1->ports[1]));
    assert_false(sdm_graph_connect(g, &c0->ports[0], &m1->ports[0]));
    assert_int_equal(g->nedges, 1);
    assert_ptr_equal(m1->ports[1].edge, c0->ports[0].edge);
    sdm_graph_disconnect(g, &m1->ports[1]);
    assert_null(c0->ports[0].edge);
    assert_int_equal(g->nedges, 0);
}

static void test_policies(void **state)
{
    SdmGraph *g = *state;
    SdmRequest req = { .compute = 0, .size = 512 * MiB,
                       .max_latency = RACK_INTER_RACK };
    SdmPlacement pl;

    /* First fit takes the first brick with room, however far. */
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 0);
    assert_int_equal(pl.latency, RACK_INTER_RACK);
    assert_int_equal(pl.compute_port->index, 0);
    /* Locality: tray-local, and the tightest fit among those. */
    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 1);
    assert_int_equal(pl.latency, RACK_TRAY_LOCAL);
    /* 2 GiB does not fit brick 1: brick 2 (4G) over brick 3 (rack). */
    req.size = 2 * GiB;
    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 2);
    /* A bound excludes far bricks even for first fit. */
    req.max_latency = RACK_RACK_LOCAL;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 2);
    /* A request for one memory brick gets that one, whatever the policy. */
    req = (SdmRequest) { .compute = 0, .size = 512 * MiB,
                         .max_latency = RACK_INTER_RACK,
                         .has_memory = true, .memory = 3 };
    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 3);
    assert_int_equal(pl.latency, RACK_RACK_LOCAL);
    /* or nothing, if it has no room */
    req.size = 3 * GiB;
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
}

/*
 * pair_class (the virtio-mem path): the circuit has the best class the
 * bricks' cables allow, however the policy would pick the ports, or none.
 */
static void test_pair_class(void **state)
{
    g_autoptr(Rack) rack = rack_parse(
        "compute 0 ports=2\nmemory 0 size=4G ports=2\n"
        "optical-switch ports=8\n"
        "cable compute0.port0 optical:0 latency=rack-local\n"
        "cable compute0.port1 optical:1 latency=tray-local\n"
        "cable memory0.port0 optical:2 latency=tray-local\n"
        "cable memory0.port1 optical:3 latency=tray-local\n", "t.rack", NULL);
    SdmGraph *g = sdm_graph_new(rack);
    SdmRequest req = { .compute = 0, .size = 512 * MiB,
                       .max_latency = RACK_INTER_RACK };
    SdmPlacement pl;
    GError *err = NULL;

    /* First fit alone takes compute port 0: a rack-local circuit. */
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.compute_port->index, 0);
    assert_int_equal(pl.latency, RACK_RACK_LOCAL);
    req.pair_class = true;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.compute_port->index, 1);
    assert_int_equal(pl.latency, RACK_TRAY_LOCAL);
    sdm_reserve_commit(g, &pl, req.size);
    /* Port 1 taken: port 0 would give rack-local, so nothing. */
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, &err));
    assert_string_equal(err->message, "no memory brick with 512 MiB free"
                        " has free ports of its nearest circuit within"
                        " inter-rack reach");
    g_clear_error(&err);
    req.pair_class = false;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.latency, RACK_RACK_LOCAL);
    sdm_graph_free(g);
}

/*
 * A persistent brick's memory that compute bricks hold with pmem= is not
 * the controller's to place.
 */
static void test_pmem(void **state)
{
    g_autoptr(Rack) rack = rack_parse(
        "compute 0 ports=2 pmem=memory0:768M\n"
        "memory 0 size=1G class=persistent\noptical-switch ports=8\n"
        "cable compute0.port0 optical:0\ncable memory0 optical:2\n",
        "t.rack", NULL);
    SdmGraph *g = sdm_graph_new(rack);
    SdmRequest req = { .compute = 0, .size = 512 * MiB,
                       .max_latency = RACK_INTER_RACK };
    SdmPlacement pl;
    GError *err = NULL;

    assert_int_equal(sdm_graph_vertex(g, RACK_MEMORY, 0)->size, 256 * MiB);
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, &err));
    assert_string_equal(err->message, "no memory brick has 512 MiB free");
    g_clear_error(&err);
    req.size = 256 * MiB;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    sdm_graph_free(g);
}

static void test_refusals(void **state)
{
    SdmGraph *g = *state;
    SdmRequest req = { .compute = 1, .size = 512 * MiB,
                       .max_latency = RACK_TRAY_LOCAL };
    SdmPlacement pl, taken;
    GError *err = NULL;

    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &taken, NULL));
    sdm_reserve_commit(g, &taken, req.size);
    assert_false(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, &err));
    assert_string_equal(err->message,
                        "compute brick 1 has no free memory port");
    g_clear_error(&err);

    req = (SdmRequest) { .compute = 0, .size = 100 * GiB,
                         .max_latency = RACK_INTER_RACK };
    assert_false(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, &err));
    assert_string_equal(err->message,
                        "no memory brick has 102400 MiB free");
    g_clear_error(&err);

    req = (SdmRequest) { .compute = 0, .size = 5 * GiB,
                         .max_latency = RACK_RACK_LOCAL };
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, &err));
    assert_string_equal(err->message, "no memory brick with 5120 MiB free"
                        " has a free port within rack-local reach");
    g_clear_error(&err);

    req = (SdmRequest) { .compute = 7, .size = MiB,
                         .max_latency = RACK_INTER_RACK };
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, &err));
    assert_string_equal(err->message, "no compute brick 7 in the rack");
    g_clear_error(&err);

    sdm_graph_vertex(g, RACK_COMPUTE, 0)->up = false;
    req.compute = 0;
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, &err));
    assert_string_equal(err->message, "compute brick 0 is down");
    g_clear_error(&err);
    sdm_graph_vertex(g, RACK_COMPUTE, 0)->up = true;

    /* A memory brick that is down is never chosen. */
    sdm_graph_vertex(g, RACK_MEMORY, 0)->up = false;
    req = (SdmRequest) { .compute = 0, .size = 6 * GiB,
                         .max_latency = RACK_INTER_RACK };
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_DOWN));
    assert_string_equal(err->message, "no memory brick has 6144 MiB free"
                        " (memory brick 0 is down)");
    g_clear_error(&err);

    /* Releasing gives the port and the memory back. */
    sdm_reserve_release(g, &taken, 512 * MiB);
    req = (SdmRequest) { .compute = 1, .size = 1 * GiB,
                         .max_latency = RACK_TRAY_LOCAL };
    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 1);
}

/*
 * Memory the host cannot back (no huge pages reserved, a full file
 * system) is never chosen: the next brick is, or the refusal says why,
 * with code no-space; backed again, it serves.
 */
static void test_backing(void **state)
{
    SdmGraph *g = *state;
    SdmVertex *m0 = sdm_graph_vertex(g, RACK_MEMORY, 0);
    SdmRequest req = { .compute = 0, .size = 6 * GiB,
                       .max_latency = RACK_INTER_RACK };
    SdmPlacement pl;
    GError *err = NULL;

    m0->backable = 0;
    m0->backing = g_strdup("the host has 0 MiB of free huge pages for its"
                           " 8192 MiB (reserve them: sysctl"
                           " vm.nr_hugepages=4096)");
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_NO_SPACE));
    assert_string_equal(err->message, "no memory brick has 6144 MiB free"
                        " (memory brick 0: the host has 0 MiB of free huge"
                        " pages for its 8192 MiB (reserve them: sysctl"
                        " vm.nr_hugepages=4096))");
    g_clear_error(&err);
    /* What it can back still serves; a request it cannot goes elsewhere */
    m0->backable = 1 * GiB;
    req.size = 1 * GiB;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 0);
    req.size = 2 * GiB;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 2);
    m0->backable = UINT64_MAX;
    g_clear_pointer(&m0->backing, g_free);
    req.size = 6 * GiB;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 0);
}

/*
 * A port whose optical port is dark takes no new circuit, and a request
 * it stops is refused with "down" and why; lit again, it serves.
 */
static void test_dark_ports(void **state)
{
    SdmGraph *g = *state;
    SdmVertex *c1 = sdm_graph_vertex(g, RACK_COMPUTE, 1);
    SdmVertex *m1 = sdm_graph_vertex(g, RACK_MEMORY, 1);
    SdmRequest req = { .compute = 1, .size = 512 * MiB,
                       .max_latency = RACK_TRAY_LOCAL };
    SdmPlacement pl;
    GError *err = NULL;

    assert_true(sdm_port_set_down(&c1->ports[0], "its cable is cut"));
    assert_false(sdm_port_set_down(&c1->ports[0], "its cable is cut"));
    assert_false(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_DOWN));
    assert_string_equal(err->message, "compute brick 1 has no free memory"
                        " port (port 0: its cable is cut)");
    g_clear_error(&err);
    assert_true(sdm_port_set_down(&c1->ports[0], NULL));
    assert_null(c1->ports[0].down);

    /* Memory brick 1 (tray-local) has one port left, then none. */
    assert_true(sdm_port_set_down(&m1->ports[0], "the switch port failed"));
    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, NULL));
    assert_ptr_equal(pl.memory_port, &m1->ports[1]);
    sdm_port_set_down(&m1->ports[1], "its cable is cut");
    req.has_memory = true;
    req.memory = 1;
    assert_false(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_DOWN));
    assert_string_equal(err->message, "no memory brick with 512 MiB free"
                        " has a free port within tray-local reach (memory"
                        " brick 1's port 0: the switch port failed, port 1:"
                        " its cable is cut)");
    g_clear_error(&err);
    /* Without the choice, memory brick 2 serves. */
    req.has_memory = false;
    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, NULL));
    assert_int_equal(pl.memory->id, 2);
}

/* "Give C an accelerator": queue memory, an accelerator, two circuits. */
static void test_accelerator(void **state)
{
    g_autoptr(Rack) rack = rack_parse(
        "compute 0 ports=2\nmemory 0 size=4G\nmemory 1 size=4G ports=2\n"
        "accelerator 0\naccelerator 1\noptical-switch ports=16\n"
        "cable compute0.port0 optical:0 latency=tray-local\n"
        "cable compute0.port1 optical:1 latency=tray-local\n"
        "cable memory0 optical:2 latency=tray-local\n"
        "cable memory1.port0 optical:3 latency=rack-local\n"
        "cable memory1.port1 optical:4 latency=rack-local\n"
        "cable accelerator0 optical:5 latency=inter-rack\n"
        "cable accelerator1 optical:6 latency=tray-local\n", "t.rack", NULL);
    SdmGraph *g = sdm_graph_new(rack);
    SdmVertex *m1 = sdm_graph_vertex(g, RACK_MEMORY, 1);
    SdmRequest req = { .compute = 0, .size = 256 * MiB,
                       .max_latency = RACK_INTER_RACK, .accelerator = true };
    SdmPlacement pl, pl2;
    GError *err = NULL;

    /* memory0 is nearer but has one port: the accelerator needs two. */
    assert_true(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, NULL));
    assert_ptr_equal(pl.memory, m1);
    assert_ptr_equal(pl.accel_port->brick,
                     sdm_graph_vertex(g, RACK_ACCELERATOR, 1));
    assert_ptr_equal(pl.accel_memory_port->brick, m1);
    assert_ptr_not_equal(pl.accel_memory_port, pl.memory_port);
    sdm_reserve_commit(g, &pl, req.size);
    assert_int_equal(g->nedges, 2);
    assert_int_equal(m1->used, 256 * MiB);

    /* memory1's ports are taken: no brick can hold another queue. */
    assert_false(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl2, &err));
    assert_string_equal(err->message, "no memory brick with 256 MiB free"
                        " has two free ports (one for the accelerator)"
                        " within inter-rack reach");
    g_clear_error(&err);
    /* A plain memory request still fits on memory0. */
    req.accelerator = false;
    assert_true(sdm_reserve(g, SDM_POLICY_FIRST_FIT, &req, &pl2, NULL));
    assert_null(pl2.accel_port);
    assert_int_equal(pl2.memory->id, 0);

    sdm_reserve_release(g, &pl, 256 * MiB);
    assert_int_equal(g->nedges, 0);
    assert_int_equal(m1->used, 0);
    req.accelerator = true;
    sdm_graph_vertex(g, RACK_ACCELERATOR, 0)->up = false;
    sdm_graph_vertex(g, RACK_ACCELERATOR, 1)->up = false;
    assert_false(sdm_reserve(g, SDM_POLICY_LOCALITY, &req, &pl, &err));
    assert_string_equal(err->message, "no accelerator brick has a free port");
    g_clear_error(&err);
    sdm_graph_free(g);
}

/* Random attaches and detaches: the graph stays consistent. */
static void test_random(void **state)
{
    SdmGraph *g = *state;
    GRand *rand = g_rand_new_with_seed(42);
    GArray *live = g_array_new(false, false, sizeof(SdmPlacement));
    GArray *sizes = g_array_new(false, false, sizeof(uint64_t));

    for (int i = 0; i < 20000; i++) {
        if (g_rand_boolean(rand) || !live->len) {
            SdmRequest req = {
                .compute = g_rand_int_range(rand, 0, 2),
                .size = g_rand_int_range(rand, 1, 9) * 256 * MiB,
                .max_latency = g_rand_int_range(rand, 0, 3),
                .pair_class = g_rand_boolean(rand),
            };
            SdmPlacement pl;

            if (sdm_reserve(g, g_rand_int_range(rand, 0, 2), &req, &pl,
                            NULL)) {
                assert_true(pl.latency <= req.max_latency);
                assert_false(pl.compute_port->edge || pl.memory_port->edge);
                assert_true(pl.memory->size - pl.memory->used >= req.size);
                sdm_reserve_commit(g, &pl, req.size);
                g_array_append_val(live, pl);
                g_array_append_val(sizes, req.size);
            }
        } else {
            guint k = g_rand_int_range(rand, 0, live->len);

            sdm_reserve_release(g, &g_array_index(live, SdmPlacement, k),
                                g_array_index(sizes, uint64_t, k));
            g_array_remove_index_fast(live, k);
            g_array_remove_index_fast(sizes, k);
        }
        assert_int_equal(g->nedges, live->len);
    }
    for (guint i = 0; i < g->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(g->vertices, i);
        uint64_t used = 0;

        for (guint k = 0; k < live->len; k++) {
            if (g_array_index(live, SdmPlacement, k).memory == v) {
                used += g_array_index(sizes, uint64_t, k);
            }
        }
        assert_true(v->used <= v->size || v->kind != RACK_MEMORY);
        assert_int_equal(v->used, used);
    }
    g_array_free(live, true);
    g_array_free(sizes, true);
    g_rand_free(rand);
}

static void test_policy_names(void **state)
{
    SdmPolicy p;

    assert_true(sdm_policy_parse("locality", &p));
    assert_int_equal(p, SDM_POLICY_LOCALITY);
    assert_true(sdm_policy_parse("first-fit", &p));
    assert_int_equal(p, SDM_POLICY_FIRST_FIT);
    assert_false(sdm_policy_parse("best", &p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_graph, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dark_ports, setup, teardown),
        cmocka_unit_test(test_accelerator),
        cmocka_unit_test(test_pair_class),
        cmocka_unit_test(test_pmem),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
        cmocka_unit_test(test_policy_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
