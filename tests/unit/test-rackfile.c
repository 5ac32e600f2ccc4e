/*
 * Unit tests of the rack description parser: the shipped racks load, the
 * defaults and every attribute arrive, and every mistake is refused with
 * the file, the line and what is wrong.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib/gstdio.h>
#include "rackfile.h"

static void test_default_rack(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = g_build_filename(g_getenv("DREDBOX_SRCDIR"),
                                             "racks", "default.rack", NULL);
    g_autoptr(Rack) rack = rack_load(path, &err);
    RackBrick *m1;
    RackCable *c;
    g_autofree char *name = NULL;

    assert_non_null(rack);
    assert_string_equal(rack->name, "default");
    assert_int_equal(rack->bricks->len, 5);
    assert_int_equal(rack->optical_ports, 16);
    assert_int_equal(rack->reconfig_ms, 25);
    assert_true(rack->electrical);
    m1 = rack_brick(rack, RACK_MEMORY, 1);
    assert_non_null(m1);
    assert_int_equal(m1->size, 4ULL << 30);
    assert_int_equal(m1->ports, 2);
    assert_int_equal(m1->tray, 1);
    c = rack_cable_at(rack, 10);
    assert_non_null(c);
    name = rack_endpoint_name(c);
    assert_string_equal(name, "memory1.port0");
    assert_int_equal(c->latency, RACK_RACK_LOCAL);
    assert_null(rack_cable_at(rack, 15));
}

/* The default rack's bricks get a node per memory brick, at its class. */
static void test_numa_default_rack(void **state)
{
    g_autofree char *path = g_build_filename(g_getenv("DREDBOX_SRCDIR"),
                                             "racks", "default.rack", NULL);
    g_autoptr(Rack) rack = rack_load(path, NULL);
    RackBrick *c1, *m0, *m1;
    g_autofree char *opts = NULL;
    RackLatency l;

    assert_non_null(rack);
    c1 = rack_brick(rack, RACK_COMPUTE, 1);
    m0 = rack_brick(rack, RACK_MEMORY, 0);
    m1 = rack_brick(rack, RACK_MEMORY, 1);
    opts = rack_numa_options(rack, c1);
    assert_string_equal(opts,
        "-object memory-backend-ram,id=dram,size=1073741824"
        " -numa node,nodeid=0,cpus=0-3,memdev=dram"
        " -numa node,nodeid=1 -numa node,nodeid=2"
        " -numa dist,src=0,dst=1,val=20 -numa dist,src=0,dst=2,val=30"
        " -numa dist,src=1,dst=2,val=30");
    assert_int_equal(rack_memory_node(rack, c1, m0), 1);
    assert_int_equal(rack_memory_node(rack, c1, m1), 2);
    assert_true(rack_pair_latency(rack, c1, m1, &l));
    assert_int_equal(l, RACK_RACK_LOCAL);
}

/*
 * A pair's class is its best circuit's; a brick out of reach gets no node;
 * past 12 memory bricks in reach, one node per class.
 */
static void test_numa_pairs(void **state)
{
    g_autoptr(GString) text = g_string_new(
        "compute 0 cpus=2 ram=512M ports=2\n"
        "memory 0 size=1G ports=2\nmemory 1 size=1G\nmemory 2 size=1G\n"
        "optical-switch ports=64\n"
        "cable compute0.port0 optical:0 latency=rack-local\n"
        "cable compute0.port1 optical:1 latency=tray-local\n"
        "cable memory0.port0 optical:2 latency=inter-rack\n"
        "cable memory0.port1 optical:3 latency=tray-local\n"
        "cable memory2 optical:4 latency=rack-local\n");
    g_autoptr(Rack) rack = rack_parse(text->str, "t.rack", NULL);
    g_autoptr(Rack) big = NULL;
    g_autofree char *opts = NULL;
    RackBrick *c0;
    RackLatency l;

    assert_non_null(rack);
    c0 = rack_brick(rack, RACK_COMPUTE, 0);
    assert_true(rack_pair_latency(rack, c0, rack_brick(rack, RACK_MEMORY, 0),
                                  &l));
    assert_int_equal(l, RACK_TRAY_LOCAL);
    assert_false(rack_pair_latency(rack, c0,
                                   rack_brick(rack, RACK_MEMORY, 1), &l));
    assert_int_equal(rack_memory_node(rack, c0,
                                      rack_brick(rack, RACK_MEMORY, 1)), -1);
    /* memory 2 is the second in reach: node 2 */
    assert_int_equal(rack_memory_node(rack, c0,
                                      rack_brick(rack, RACK_MEMORY, 2)), 2);
    opts = rack_numa_options(rack, c0);
    assert_string_equal(opts,
        "-object memory-backend-ram,id=dram,size=536870912"
        " -numa node,nodeid=0,cpus=0-1,memdev=dram"
        " -numa node,nodeid=1 -numa node,nodeid=2"
        " -numa dist,src=0,dst=1,val=20 -numa dist,src=0,dst=2,val=30"
        " -numa dist,src=1,dst=2,val=30");
    g_clear_pointer(&opts, g_free);

    /* 13 memory bricks in reach: nodes by class */
    for (int m = 3; m < 14; m++) {
        g_string_append_printf(text, "memory %d size=1G\n"
                               "cable memory%d optical:%d latency=%s\n",
                               m, m, 2 + m, m % 2 ? "inter-rack"
                                                  : "tray-local");
    }
    big = rack_parse(text->str, "t.rack", NULL);
    assert_non_null(big);
    c0 = rack_brick(big, RACK_COMPUTE, 0);
    assert_int_equal(rack_memory_node(big, c0,
                                      rack_brick(big, RACK_MEMORY, 2)), 2);
    assert_int_equal(rack_memory_node(big, c0,
                                      rack_brick(big, RACK_MEMORY, 3)), 3);
    assert_int_equal(rack_memory_node(big, c0,
                                      rack_brick(big, RACK_MEMORY, 4)), 1);
    opts = rack_numa_options(big, c0);
    assert_string_equal(opts,
        "-object memory-backend-ram,id=dram,size=536870912"
        " -numa node,nodeid=0,cpus=0-1,memdev=dram"
        " -numa node,nodeid=1 -numa node,nodeid=2 -numa node,nodeid=3"
        " -numa dist,src=0,dst=1,val=20 -numa dist,src=0,dst=2,val=30"
        " -numa dist,src=0,dst=3,val=50 -numa dist,src=1,dst=2,val=30"
        " -numa dist,src=1,dst=3,val=50 -numa dist,src=2,dst=3,val=50");
}

static void test_large_rack(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = g_build_filename(g_getenv("DREDBOX_SRCDIR"),
                                             "racks", "large.rack", NULL);
    g_autoptr(Rack) rack = rack_load(path, &err);

    assert_non_null(rack);
    assert_int_equal(rack->bricks->len, 12);
    assert_int_equal(rack->cables->len, 26);
    assert_string_equal(rack_brick(rack, RACK_MEMORY, 4)->mem_class,
                        "persistent");
    /* An accelerator's queue needs two ports of its memory brick */
    assert_int_equal(rack_brick(rack, RACK_MEMORY, 0)->ports, 2);
    assert_int_equal(rack_brick(rack, RACK_MEMORY, 1)->ports, 2);
}

static void test_defaults_and_comments(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Rack) rack = rack_parse(
        "# only a brick\n\n   compute 3   # trailing comment\n"
        "memory 0 size=512M\naccelerator 1 rate=16\n", "t.rack", &err);
    RackBrick *b;

    assert_non_null(rack);
    assert_string_equal(rack->name, "rack");
    b = rack_brick(rack, RACK_COMPUTE, 3);
    assert_int_equal(b->cpus, 4);
    assert_int_equal(b->ram, 1ULL << 30);
    assert_int_equal(b->ports, 4);
    assert_int_equal(b->line, 3);
    assert_string_equal(rack_brick(rack, RACK_MEMORY, 0)->mem_class, "dram");
    b = rack_brick(rack, RACK_ACCELERATOR, 1);
    assert_int_equal(b->ports, 1);
    assert_int_equal(b->engines, 4);
    assert_int_equal(b->rate, 16);
    assert_int_equal(rack->optical_ports, 0);
    assert_false(rack->electrical);
}

typedef struct Bad {
    const char *text;
    const char *error;
} Bad;

#define SW "optical-switch ports=8\n"

static const Bad bad[] = {
    { "# nothing\n", "t.rack: the rack has no bricks" },
    { "compute 0\nfrobnicate 1\n", "t.rack:2: unknown statement 'frobnicate'" },
    { "compute\n", "t.rack:1: compute needs an id" },
    { "compute x\n", "t.rack:1: brick id must be a number from 0 to 63, not 'x'" },
    { "compute 64\n", "brick id must be a number from 0 to 63" },
    { "compute 0\ncompute 0\n", "t.rack:2: compute brick 0 is declared twice" },
    { "compute 0 cpus=5\n", "cpus must be a number from 0 to 4, not '5'" },
    { "compute 0 cpus=0\n", "t.rack:1: cpus must be 1 to 4" },
    { "compute 0 ram=lots\n", "ram must be a size such as 512M or 4G, not 'lots'" },
    { "compute 0 ports=0\n", "ports must be 1 to 32" },
    { "compute 0 color=red\n", "unknown attribute 'color' (known: tray, cpus, ram, ports, timing, pmem, kernel, initrd, append, disk, share, uplink)" },
    { "compute 0 ram=1G ram=2G\n", "'ram' given twice" },
    { "compute 0 ram\n", "expected key=value, not 'ram'" },
    { "memory 0\n", "t.rack:1: memory brick 0 needs size=" },
    { "memory 0 size=1G class=flash\n", "class must be dram, hugepage or persistent, not 'flash'" },
    { "accelerator 0 engines=0\n", "t.rack:1: engines must be 1 to 64" },
    { "accelerator 0 engines=65\n", "engines must be a number from 0 to 64" },
    { "accelerator 0 rate=fast\n", "rate must be a number" },
    { "compute 0 engines=2\n", "unknown attribute 'engines'" },
    { "rack a\nrack b\ncompute 0\n", "t.rack:2: the rack is already named a" },
    { "rack\n", "expected: rack NAME" },
    { "optical-switch\n", "optical-switch needs ports=" },
    { "optical-switch ports=1\n", "ports must be 2 to 1024" },
    { SW SW, "t.rack:2: the rack has one optical switch" },
    { "optical-switch ports=8 reconfigure-ms=soon\n", "reconfigure-ms must be a number" },
    { "electrical-switch ports=3\n", "electrical-switch takes no attributes" },
    { "compute 0\ncable compute0.port0 optical:1\n", "t.rack:2: declare the optical-switch before its cables" },
    { SW "cable compute0.port0 optical:1\n", "t.rack:2: no compute brick 0 is declared above" },
    { SW "compute 0\ncable compute0 optical:1\n", "compute0 has 4 ports: write compute0.portN" },
    { SW "compute 0 ports=2\ncable compute0.port2 optical:1\n", "compute0 has 2 ports (0 to 1)" },
    { SW "compute 0\ncable compute0.lane0 optical:1\n", "expected compute0.portN, not 'compute0.lane0'" },
    { SW "compute 0\ncable compute0.port0 optical:8\n", "optical switch port must be a number from 0 to 7" },
    { SW "compute 0\ncable compute0.port0 switch:1\n", "expected: cable BRICK optical:PORT" },
    { SW "compute 0\ncable compute0.port0 optical:1\ncable compute0.port1 optical:1\n",
      "t.rack:4: optical port 1 is already cabled (line 3)" },
    { SW "compute 0\ncable compute0.port0 optical:1\ncable compute0.port0 optical:2\n",
      "t.rack:4: compute0.port0 is already cabled (line 3)" },
    { SW "memory 0 size=1G\ncable memory0 optical:1 latency=far\n",
      "latency must be tray-local, rack-local or inter-rack, not 'far'" },
    { SW "cable disk0 optical:1\n", "'disk0' is not a brick" },
    { SW "memory 0 size=1G ports=2\ncable memory0 optical:1\n", "memory0 has 2 ports: write memory0.portN" },
    /* Timing mode. */
    { "compute 0\ncompute 1 timing=yes\n", "t.rack:2: timing must be on or off, not 'yes'" },
    { "compute 0 timing=on timing=off\n", "t.rack:1: 'timing' given twice" },
    { "compute 0\nmemory 0 size=1G timing=on\n",
      "t.rack:2: timing= is for compute bricks: memory brick 0 runs no guest to time" },
    { "compute 0\n\naccelerator 2 timing=off\n",
      "t.rack:3: timing= is for compute bricks: accelerator brick 2 runs no guest to time" },
    { "compute 0 tray-local-ns=50\n", "t.rack:1: unknown attribute 'tray-local-ns'" },
    { "compute 0\ntiming\n", "t.rack:2: expected: timing on|off [tray-local-ns=NS]"
      " [rack-local-ns=NS] [inter-rack-ns=NS] [link-bandwidth=SIZE]" },
    { "compute 0\ntiming rack-local-ns=50\n", "t.rack:2: expected: timing on|off" },
    { "compute 0\ntiming maybe\n", "t.rack:2: timing must be on or off, not 'maybe'" },
    { "timing on\ncompute 0\ntiming off\n", "t.rack:3: the rack has one timing statement (line 1)" },
    { "compute 0\ntiming on color=red\n",
      "t.rack:2: unknown attribute 'color' (known: tray-local-ns, rack-local-ns, inter-rack-ns, link-bandwidth)" },
    { "compute 0\ntiming on tray-local-ns=0\n", "t.rack:2: tray-local-ns must be 1 to 1000000" },
    { "compute 0\ntiming on rack-local-ns=-5\n",
      "t.rack:2: rack-local-ns must be a number from 0 to 1000000, not '-5'" },
    { "compute 0\ntiming on inter-rack-ns=1000001\n",
      "t.rack:2: inter-rack-ns must be a number from 0 to 1000000, not '1000001'" },
    { "compute 0\ntiming on inter-rack-ns=2us\n",
      "t.rack:2: inter-rack-ns must be a number from 0 to 1000000, not '2us'" },
    { "compute 0\ntiming on link-bandwidth=fast\n",
      "t.rack:2: link-bandwidth must be bytes per second such as 1800M, not 'fast'" },
    { "compute 0\ntiming on link-bandwidth=0\n",
      "t.rack:2: link-bandwidth must be bytes per second such as 1800M, not '0'" },
    { "compute 0\ntiming on tray-local-ns=5 tray-local-ns=6\n", "t.rack:2: 'tray-local-ns' given twice" },
    /* Software (checked against the files by rack_check_software) */
    { "compute 0 append=\"quiet\n", "t.rack:1: a double quote is not closed" },
    { "compute 0 uplink=yes\n", "t.rack:1: uplink must be on or off, not 'yes'" },
    { "compute-defaults kernel=a\ncompute 0\ncompute-defaults disk=b\n",
      "t.rack:3: the rack has one compute-defaults statement (line 1)" },
    { "compute 0\ncompute-defaults cpus=2\n",
      "t.rack:2: unknown attribute 'cpus' (known: kernel, initrd, append, disk, share, uplink)" },
    { "compute 0\nmemory 0 size=1G kernel=Image\n", "t.rack:2: unknown attribute 'kernel'" },
    { "compute 0 append=\n", "t.rack:1: expected key=value, not 'append='" },
    { "compute 0 pmem=256M\n", "t.rack:1: pmem= is memoryN:SIZE, not '256M'" },
    { "compute 0 pmem=accelerator0:256M\n", "t.rack:1: pmem= is memoryN:SIZE" },
    { "compute 0 pmem=memoryX:256M\n", "t.rack:1: pmem='s brick id must be a number from 0 to 63, not 'X'" },
    { "compute 0 pmem=memory1:lots\n", "t.rack:1: pmem='s size must be a size such as 512M or 4G, not 'lots'" },
    { "compute 0 pmem=memory1:100M\n", "t.rack:1: pmem='s size 100M is not a multiple of the pool's 128 MiB granule" },
    /* Checked against the whole file, reported at the compute line */
    { "compute 0 ports=1 pmem=memory1:256M\nmemory 0 size=1G\n",
      "t.rack:1: pmem=: the rack has no memory brick 1" },
    { "compute 0 ports=1 pmem=memory0:256M\nmemory 0 size=1G class=hugepage\n",
      "t.rack:1: pmem=: memory brick 0 is hugepage, not persistent" },
    { "compute 7 ports=1 pmem=memory0:256M\nmemory 0 size=1G class=persistent\n" SW
      "cable memory0 optical:1\n",
      "t.rack:1: pmem=: compute7 has no cable path to memory0" },
    { "compute 0 ports=1 pmem=memory0:512M\ncompute 1 ports=1 pmem=memory0:640M\n"
      "memory 0 size=1G class=persistent\n" SW
      "cable compute0.port0 optical:0\ncable compute1.port0 optical:1\n"
      "cable memory0 optical:2\n",
      "t.rack:1: pmem=: the compute bricks' persistent memory on memory brick 0, 1152 MiB, exceeds its 1024 MiB" },
};

/*
 * Timing mode: the timing statement (anywhere in the file) sets the
 * default, a brick's own timing= wins, and the launcher's -machine
 * options carry the figures the file sets, for timing bricks only.
 */
static void test_timing(void **state)
{
    static const struct {
        const char *text;
        const char *brick0, *brick1;    /* the -machine options, NULL: none */
    } cases[] = {
        /* Nothing said: no brick changes. */
        { "compute 0\ncompute 1\n", NULL, NULL },
        { "compute 0 timing=on\ncompute 1 timing=off\n", "timing=on", NULL },
        { "timing on\ncompute 0\ncompute 1\n", "timing=on", "timing=on" },
        /* The brick's own attribute wins, either way, wherever the
         * statement is. */
        { "compute 0\ncompute 1 timing=off\ntiming on\n", "timing=on", NULL },
        { "timing off\ncompute 0\ncompute 1 timing=on\n", NULL, "timing=on" },
        { "compute 0 timing=on\ncompute 1\n"
          "timing off tray-local-ns=10 rack-local-ns=50 inter-rack-ns=2000"
          " link-bandwidth=1800M\n",
          "timing=on,timing-tray-local-ns=10,timing-rack-local-ns=50,"
          "timing-inter-rack-ns=2000,timing-link-bandwidth=1887436800", NULL },
        { "timing on   link-bandwidth=1073741824 rack-local-ns=1000000 # far\n"
          "compute 0\ncompute 1 timing=on\n",
          "timing=on,timing-rack-local-ns=1000000,"
          "timing-link-bandwidth=1073741824",
          "timing=on,timing-rack-local-ns=1000000,"
          "timing-link-bandwidth=1073741824" },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(Rack) rack = rack_parse(cases[i].text, "t.rack", &err);
        const char *want[] = { cases[i].brick0, cases[i].brick1 };

        if (!rack) {
            fail_msg("rack file %u:\n%s\nrefused: %s", i, cases[i].text,
                     err->message);
        }
        for (unsigned id = 0; id < 2; id++) {
            RackBrick *b = rack_brick(rack, RACK_COMPUTE, id);
            g_autofree char *opts = rack_timing_options(rack, b);

            if (g_strcmp0(opts, want[id])) {
                fail_msg("rack file %u:\n%s\ncompute %u's options are '%s',"
                         " expected '%s'", i, cases[i].text, id,
                         opts ? opts : "(none)",
                         want[id] ? want[id] : "(none)");
            }
            assert_int_equal(b->timing, want[id] != NULL);
            assert_int_equal(rack_deadline_scale(rack, id),
                             want[id] ? RACK_TIMING_DEADLINE_SCALE : 1);
        }
    }
}

/* Only compute bricks have a mode; the others and unknown ids scale 1. */
static void test_timing_other_bricks(void **state)
{
    g_autoptr(Rack) rack = rack_parse("timing on\ncompute 0\nmemory 1 size=1G\n"
                                      "accelerator 2\n", "t.rack", NULL);

    assert_non_null(rack);
    assert_true(RACK_TIMING_DEADLINE_SCALE > 1);
    assert_int_equal(rack->timing.line, 1);
    assert_null(rack_timing_options(rack, rack_brick(rack, RACK_MEMORY, 1)));
    assert_null(rack_timing_options(rack,
                                    rack_brick(rack, RACK_ACCELERATOR, 2)));
    assert_int_equal(rack_deadline_scale(rack, 0),
                     RACK_TIMING_DEADLINE_SCALE);
    assert_int_equal(rack_deadline_scale(rack, 1), 1);
    assert_int_equal(rack_deadline_scale(rack, 7), 1);
}

/*
 * pmem=: a compute brick's persistent memory on a persistent brick it
 * reaches, which the SDM controller then cannot place.
 */
static void test_pmem(void **state)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Rack) rack = rack_parse(
        "compute 0 ports=1 pmem=memory1:256M\ncompute 1 ports=1\n"
        "compute 2 ports=1 pmem=memory1:1G\n"
        "memory 1 size=2G class=persistent\nmemory 2 size=1G class=persistent\n"
        SW "cable compute0.port0 optical:0\ncable compute1.port0 optical:1\n"
        "cable compute2.port0 optical:2\ncable memory1 optical:3\n"
        "cable memory2 optical:4\n", "t.rack", &err);

    assert_non_null(rack);
    assert_int_equal(rack_brick(rack, RACK_COMPUTE, 0)->pmem_memory, 1);
    assert_int_equal(rack_brick(rack, RACK_COMPUTE, 0)->pmem_size, 256 << 20);
    assert_int_equal(rack_brick(rack, RACK_COMPUTE, 1)->pmem_size, 0);
    assert_int_equal(rack_pmem_total(rack, rack_brick(rack, RACK_MEMORY, 1)),
                     (1280ULL << 20));
    assert_int_equal(rack_pmem_total(rack, rack_brick(rack, RACK_MEMORY, 2)),
                     0);
}

/* What may join a running rack: memory bricks and their cables. */
static void test_extends(void **state)
{
    static const char base[] =
        "compute 0 ports=1\nmemory 0 size=1G\noptical-switch ports=8\n"
        "cable compute0.port0 optical:0\ncable memory0 optical:1\n";
    static const struct {
        const char *more;
        const char *error;      /* NULL: accepted */
    } cases[] = {
        { "", NULL },
        { "memory 1 size=2G ports=2\ncable memory1.port0 optical:2"
          " latency=rack-local\n", NULL },
        { "compute 1\n", "only memory bricks join a running rack" },
        { "accelerator 0\n", "only memory bricks join a running rack" },
        { "cable compute0.port0 optical:3\n", NULL },  /* parse error */
        /* The bricks run with the figures and their mode. */
        { "timing off rack-local-ns=50\n",
          "the timing figures cannot change while the rack runs" },
        { "timing off link-bandwidth=1G\n",
          "the timing figures cannot change while the rack runs" },
        { "timing on\n", "compute brick 0 cannot change or go while the"
          " rack runs" },
        { "timing off\n", NULL },
    };
    g_autoptr(Rack) old = rack_parse(base, "t.rack", NULL);

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strconcat(base, cases[i].more, NULL);
        g_autoptr(Rack) next = rack_parse(text, "t.rack", NULL);
        GError *err = NULL;

        if (!next) {
            continue;   /* the parser's own errors are tested above */
        }
        if (!cases[i].error) {
            assert_true(rack_extends(old, next, NULL));
            continue;
        }
        assert_false(rack_extends(old, next, &err));
        assert_non_null(strstr(err->message, cases[i].error));
        g_error_free(err);
    }
    /* Changing what is there is refused. */
    {
        g_autoptr(Rack) next = rack_parse(
            "compute 0 ports=1\nmemory 0 size=2G\noptical-switch ports=8\n"
            "cable compute0.port0 optical:0\ncable memory0 optical:1\n",
            "t.rack", NULL);
        g_autoptr(Rack) moved = rack_parse(
            "compute 0 ports=1\nmemory 0 size=1G\noptical-switch ports=8\n"
            "cable compute0.port0 optical:0\ncable memory0 optical:2\n",
            "t.rack", NULL);
        g_autoptr(Rack) fewer = rack_parse(
            "compute 0 ports=1\noptical-switch ports=8\n"
            "cable compute0.port0 optical:0\n", "t.rack", NULL);
        GError *err = NULL;

        assert_false(rack_extends(old, next, &err));
        assert_string_equal(err->message, "memory brick 0 cannot change or"
                            " go while the rack runs");
        g_clear_error(&err);
        assert_false(rack_extends(old, moved, &err));
        assert_string_equal(err->message, "the cable at optical port 1"
                            " cannot change while the rack runs");
        g_clear_error(&err);
        assert_false(rack_extends(old, fewer, &err));
        g_clear_error(&err);
    }
}

static void test_errors(void **state)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        Rack *rack = rack_parse(bad[i].text, "t.rack", &err);

        if (rack || !err || !strstr(err->message, bad[i].error)) {
            fail_msg("rack file %zu:\n%s\ngave '%s', expected '%s'", i,
                     bad[i].text, err ? err->message : "success",
                     bad[i].error);
        }
    }
}

/* A file of @size bytes in @dir with @magic at @offset. */
static void put(const char *dir, const char *name, size_t size,
                size_t offset, const char *magic, size_t n)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *buf = g_malloc0(size);

    if (n) {                    /* g_malloc0(0) is NULL */
        memcpy(buf + offset, magic, n);
    }
    assert_true(g_file_set_contents(path, buf, size, NULL));
}

/*
 * Software: compute-defaults and a brick's own attributes, paths relative
 * to the rack file, append added, quotes; every file checked with the
 * line that names it.
 */
static void test_software(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("rack-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "r.rack", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(Rack) rack = NULL;
    g_autofree char *kernel = g_build_filename(dir, "Image", NULL);
    g_autofree char *path = NULL;
    const RackSoftware *sw;
    static const struct {
        const char *text;
        const char *error;      /* NULL: the rack passes */
    } cases[] = {
        { "compute 0 kernel=Image initrd=Image disk=q.qcow2 share=.", NULL },
        { "compute 0 disk=raw.img\ncompute 1 kernel=/nonexistent/Image",
          "r.rack:2: kernel=/nonexistent/Image: no such file" },
        { "compute-defaults kernel=vmlinux\ncompute 0",
          "r.rack:1: kernel=vmlinux: an ELF file (vmlinux?)" },
        { "compute 0 kernel=raw.img", "r.rack:1: kernel=raw.img: not an"
          " arm64 kernel Image" },
        { "compute 0 kernel=zboot", NULL },
        { "compute 0\ncompute 1 disk=odd.img", "r.rack:2: disk=odd.img:"
          " not qcow2, and 1000 bytes is not a whole number of 512-byte"
          " sectors" },
        { "compute 0 disk=img.xz", "r.rack:1: disk=img.xz: compressed (xz):"
          " unpack it first" },
        { "compute 0 disk=.", "r.rack:1: disk=.: not a regular file" },
        { "compute 0 disk=empty", "r.rack:1: disk=empty: empty" },
        { "compute 0 share=Image", "r.rack:1: share=Image: not a folder" },
        { "compute 0 share=gone", "r.rack:1: share=gone: no such folder" },
        { "compute 0 initrd=gone", "r.rack:1: initrd=gone: no such file" },
    };

    put(dir, "Image", 4096, 56, "ARM\x64", 4);
    put(dir, "zboot", 4096, 4, "zimg", 4);
    put(dir, "vmlinux", 4096, 0, "\x7f" "ELF", 4);
    put(dir, "q.qcow2", 512, 0, "QFI\xfb", 4);
    put(dir, "raw.img", 1024, 0, "", 0);
    put(dir, "odd.img", 1000, 0, "", 0);
    put(dir, "img.xz", 1024, 0, "\xfd" "7zXZ", 5);
    put(dir, "empty", 0, 0, "", 0);

    assert_true(g_file_set_contents(file,
        "compute-defaults kernel=Image append=\"quiet dredbox.x=#1\""
        " disk=q.qcow2 uplink=on\n"
        "compute 0 append=debug\n"
        "compute 1 kernel=/boot/other disk=raw.img uplink=off"
        " share=\"a folder\" # comment\n", -1, NULL));
    rack = rack_load(file, &err);
    assert_non_null(rack);
    sw = &rack_brick(rack, RACK_COMPUTE, 0)->software;
    assert_string_equal(sw->kernel, "Image");
    assert_string_equal(sw->append, "quiet dredbox.x=#1 debug");
    assert_string_equal(sw->disk, "q.qcow2");
    assert_null(sw->initrd);
    assert_null(sw->share);
    assert_true(sw->uplink);
    path = rack_software_path(rack, sw->kernel);
    assert_string_equal(path, kernel);
    sw = &rack_brick(rack, RACK_COMPUTE, 1)->software;
    assert_string_equal(sw->kernel, "/boot/other");
    assert_string_equal(sw->append, "quiet dredbox.x=#1");
    assert_string_equal(sw->share, "a folder");
    assert_false(sw->uplink);
    g_clear_pointer(&path, g_free);
    path = rack_software_path(rack, sw->disk);
    assert_string_equal(rack_disk_format(path, NULL), "raw");
    g_clear_pointer(&path, g_free);
    {
        /* A rack file named relative to the current folder */
        g_autoptr(Rack) rel = rack_parse("compute 0 kernel=Image\n",
                                         "racks/r.rack", NULL);
        g_autofree char *cwd = g_get_current_dir();
        g_autofree char *want = g_build_filename(cwd, "racks", "Image",
                                                 NULL);
        g_autofree char *got = rack_software_path(
            rel, rack_brick(rel, RACK_COMPUTE, 0)->software.kernel);

        assert_string_equal(got, want);
    }
    g_clear_pointer(&path, g_free);
    path = g_build_filename(dir, "q.qcow2", NULL);
    assert_string_equal(rack_disk_format(path, NULL), "qcow2");

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(Rack) r = NULL;
        g_autoptr(GError) e = NULL;

        assert_true(g_file_set_contents(file, cases[i].text, -1, NULL));
        r = rack_load(file, &e);
        assert_non_null(r);
        if (rack_check_software(r, &e) != !cases[i].error ||
            (cases[i].error && !strstr(e->message, cases[i].error))) {
            fail_msg("rack file %zu:\n%s\ngave '%s', expected '%s'", i,
                     cases[i].text, e ? e->message : "success",
                     cases[i].error ? cases[i].error : "success");
        }
    }
    for (const char *const *f = (const char *const[]) { "Image", "zboot",
             "vmlinux", "q.qcow2", "raw.img", "odd.img", "img.xz", "empty",
             "r.rack", NULL }; *f; f++) {
        g_autofree char *p = g_build_filename(dir, *f, NULL);

        g_unlink(p);
    }
    g_rmdir(dir);
}

static void test_missing_file(void **state)
{
    g_autoptr(GError) err = NULL;

    assert_null(rack_load("/nonexistent.rack", &err));
    assert_non_null(strstr(err->message, "/nonexistent.rack"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_rack),
        cmocka_unit_test(test_large_rack),
        cmocka_unit_test(test_numa_default_rack),
        cmocka_unit_test(test_numa_pairs),
        cmocka_unit_test(test_defaults_and_comments),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_timing),
        cmocka_unit_test(test_timing_other_bricks),
        cmocka_unit_test(test_pmem),
        cmocka_unit_test(test_extends),
        cmocka_unit_test(test_software),
        cmocka_unit_test(test_missing_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
