/*
 * qtest for the dReDBox compute brick machine ("dredbox-compute"):
 * defaults, command-line validation, the generated device tree (CPUs,
 * memory, NUMA distances, brick id), the documented memory map and the
 * timing mode's figures over QMP.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include <libfdt.h>
#include "dredbox-qtest-util.h"

#define MACHINE DREDBOX_MACHINE
#define DRAM_BASE       DREDBOX_LOCAL_DRAM_BASE
#define DEVMEM_BASE     DREDBOX_DEVICE_MEMORY_BASE
#define RMC_CONFIG_BASE DREDBOX_RMC_CONFIG_BASE

static void test_defaults(void)
{
    QTestState *qts = qtest_init(MACHINE);
    QDict *resp;
    QList *cpus;

    resp = qtest_qmp(qts, "{'execute': 'query-cpus-fast'}");
    cpus = qdict_get_qlist(resp, "return");
    g_assert_cmpint(qlist_size(cpus), ==, 4);
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'query-memory-size-summary'}");
    g_assert_cmpuint(dredbox_qdict_uint(qdict_get_qdict(resp, "return"),
                                    "base-memory"), ==, 1 * GiB);
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': '/machine', 'property': 'brick-id'}}");
    g_assert_cmpint(qdict_get_int(resp, "return"), ==, 0);
    qobject_unref(resp);
    qtest_quit(qts);
}

static void test_custom_size(void)
{
    QTestState *qts = qtest_init(MACHINE ",brick-id=7 -m 2G -smp 2");
    QDict *resp;

    resp = qtest_qmp(qts, "{'execute': 'query-cpus-fast'}");
    g_assert_cmpint(qlist_size(qdict_get_qlist(resp, "return")), ==, 2);
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'query-memory-size-summary'}");
    g_assert_cmpuint(dredbox_qdict_uint(qdict_get_qdict(resp, "return"),
                                    "base-memory"), ==, 2 * GiB);
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': '/machine', 'property': 'brick-id'}}");
    g_assert_cmpint(qdict_get_int(resp, "return"), ==, 7);
    qobject_unref(resp);
    qtest_quit(qts);
}

/* Local DRAM answers at 4 GiB; nothing else sits below it but devices. */
static void test_memory_map(void)
{
    QTestState *qts = qtest_init(MACHINE " -m 256M");

    qtest_writeq(qts, DRAM_BASE, 0x0123456789abcdefULL);
    qtest_writeq(qts, DRAM_BASE + 256 * MiB - 8, 0xfeedfacecafebeefULL);
    g_assert_cmphex(qtest_readq(qts, DRAM_BASE), ==, 0x0123456789abcdefULL);
    g_assert_cmphex(qtest_readq(qts, DRAM_BASE + 256 * MiB - 8), ==,
                    0xfeedfacecafebeefULL);
    /*
     * The RMC owns its page (tests/qtest/dredbox-rmc-test.c): the NetPort
     * table at its start reads 0 after reset, its ID register "DRMC".
     */
    g_assert_cmphex(qtest_readl(qts, RMC_CONFIG_BASE), ==, 0);
    g_assert_cmphex(qtest_readl(qts, RMC_CONFIG_BASE + 0x1000), ==,
                    0x434d5244);
    qtest_quit(qts);
}

static void test_fdt_default(void)
{
    g_autofree void *fdt = dredbox_dump_fdt(",brick-id=5", "");
    int node, cpus = 0;

    g_assert_cmpint(fdt_node_check_compatible(fdt, 0,
                                              "dredbox,compute-brick"), ==, 0);
    g_assert_cmpuint(dredbox_fdt_cells(fdt, 0, "dredbox,brick-id", 0, 1),
                     ==, 5);
    g_assert_cmpstr(fdt_getprop(fdt, 0, "serial-number", NULL), ==,
                    "dredbox-brick-5");

    fdt_for_each_subnode(node, fdt, fdt_path_offset(fdt, "/cpus")) {
        const char *type = fdt_getprop(fdt, node, "device_type", NULL);

        if (!type || strcmp(type, "cpu")) {
            continue;
        }
        g_assert_cmpint(fdt_node_check_compatible(fdt, node, "arm,cortex-a53"),
                        ==, 0);
        g_assert_cmpstr(fdt_getprop(fdt, node, "enable-method", NULL), ==,
                        "psci");
        cpus++;
    }
    g_assert_cmpint(cpus, ==, 4);

    node = fdt_path_offset(fdt, "/psci");
    g_assert_cmpint(node, >=, 0);
    g_assert_cmpstr(fdt_getprop(fdt, node, "method", NULL), ==, "smc");

    dredbox_assert_memory_node(fdt, DRAM_BASE, 1 * GiB, -1);
    g_assert_cmpint(fdt_path_offset(fdt, "/distance-map"), <, 0);

    node = fdt_path_offset(fdt, "/chosen");
    g_assert_cmpstr(fdt_getprop(fdt, node, "stdout-path", NULL), ==,
                    "/pl011@9000000");
    g_assert_cmpint(fdt_path_offset(fdt, "/pcie@10000000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/virtio_mmio@a000000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/intc@8000000"), >=, 0);
}

/*
 * The PL031 real-time clock: in the device tree with its interrupt, and
 * its data register counts the host's time (seconds since 1970) from
 * the start, as a board's battery-backed clock would.
 */
static void test_rtc(void)
{
    g_autofree void *fdt = dredbox_dump_fdt("", "");
    int node = fdt_path_offset(fdt, "/pl031@9010000");
    QTestState *qts;
    int64_t now, rtc;

    g_assert_cmpint(node, >=, 0);
    g_assert_cmpint(fdt_node_check_compatible(fdt, node, "arm,pl031"), ==, 0);
    g_assert_cmpuint(dredbox_fdt_cells(fdt, node, "interrupts", 1, 1), ==, 2);

    qts = qtest_init(MACHINE);
    now = time(NULL);
    rtc = qtest_readl(qts, 0x09010000);     /* RTCDR */
    /* Not a timing bound: an RTC that started at 0 is decades off */
    g_assert_cmpint(rtc, >=, now - 60);
    g_assert_cmpint(rtc, <=, now + 60);
    qtest_quit(qts);
}

/* A CPU-less remote node: its memory follows local DRAM, with distances. */
static void test_fdt_numa(void)
{
    g_autofree void *fdt = dredbox_dump_fdt("",
        "-m 1536M -smp 4 "
        "-object memory-backend-ram,id=local,size=1G "
        "-object memory-backend-ram,id=remote,size=512M "
        "-numa node,nodeid=0,cpus=0-3,memdev=local "
        "-numa node,nodeid=1,memdev=remote "
        "-numa dist,src=0,dst=1,val=30");
    static const uint32_t distances[] = {
        10, 30,
        30, 10,
    };
    int node;

    dredbox_assert_memory_node(fdt, DRAM_BASE, 1 * GiB, 0);
    dredbox_assert_memory_node(fdt, DRAM_BASE + 1 * GiB, 512 * MiB, 1);
    dredbox_assert_distances(fdt, 2, distances);

    node = fdt_path_offset(fdt, "/cpus/cpu@3");
    g_assert_cmpint(dredbox_fdt_cells(fdt, node, "numa-node-id", 0, 1), ==, 0);
}

/*
 * rmc-numa=on: one empty CPU-less node per latency class after the -numa
 * nodes, with class distances, named by the RMC node.
 */
static void test_fdt_rmc_numa(void)
{
    g_autofree void *fdt = dredbox_dump_fdt(",rmc-numa=on",
                                            "-m 1G,maxmem=2G");
    static const uint32_t distances[] = {
        10, 20, 30, 50,
        20, 10, 30, 50,
        30, 30, 10, 50,
        50, 50, 50, 10,
    };
    int rmc = fdt_path_offset(fdt, "/rmc@ff080000");

    dredbox_assert_memory_node(fdt, DRAM_BASE, 1 * GiB, 0);
    dredbox_assert_distances(fdt, 4, distances);
    g_assert_cmpint(dredbox_fdt_cells(fdt, rmc, "dredbox,class-nodes", 0, 1),
                    ==, 1);
    g_assert_cmpint(dredbox_fdt_cells(fdt, rmc, "dredbox,class-nodes", 1, 1),
                    ==, 2);
    g_assert_cmpint(dredbox_fdt_cells(fdt, rmc, "dredbox,class-nodes", 2, 1),
                    ==, 3);
}

/* rmc-numa=on after -numa nodes with distances: those are kept. */
static void test_fdt_rmc_numa_dist(void)
{
    g_autofree void *fdt = dredbox_dump_fdt(",rmc-numa=on",
        "-m 1536M -smp 4 "
        "-object memory-backend-ram,id=local,size=1G "
        "-object memory-backend-ram,id=remote,size=512M "
        "-numa node,nodeid=0,cpus=0-3,memdev=local "
        "-numa node,nodeid=1,memdev=remote "
        "-numa dist,src=0,dst=1,val=15");
    static const uint32_t distances[] = {
        10, 15, 20, 30, 50,
        15, 10, 20, 30, 50,
        20, 20, 10, 30, 50,
        30, 30, 30, 10, 50,
        50, 50, 50, 50, 10,
    };
    int rmc = fdt_path_offset(fdt, "/rmc@ff080000");

    dredbox_assert_memory_node(fdt, DRAM_BASE + 1 * GiB, 512 * MiB, 1);
    dredbox_assert_distances(fdt, 5, distances);
    for (int c = 0; c < 3; c++) {
        g_assert_cmpint(dredbox_fdt_cells(fdt, rmc, "dredbox,class-nodes",
                                          c, 1), ==, 2 + c);
    }
}

/*
 * A rack's brick (docs/rack.md): local DRAM in node 0 with the CPUs, an
 * empty CPU-less node per memory brick at its class's distance, whose
 * virtio-mem device names it; rmc-numa's class nodes after them, at the
 * farther of the two distances from node 0.
 */
static void test_fdt_memoryless_nodes(void)
{
    g_autofree void *fdt = dredbox_dump_fdt(",rmc-numa=on",
        "-m 1G,maxmem=3G -smp 2 "
        "-object memory-backend-ram,id=dram,size=1G "
        "-numa node,nodeid=0,cpus=0-1,memdev=dram "
        "-numa node,nodeid=1 -numa node,nodeid=2 "
        "-numa dist,src=0,dst=1,val=20 -numa dist,src=0,dst=2,val=30 "
        "-numa dist,src=1,dst=2,val=30 "
        "-object memory-backend-ram,id=m0,size=512M "
        "-object memory-backend-ram,id=m1,size=1G "
        "-device virtio-mem-pci,id=vm0,memdev=m0,node=1,requested-size=0 "
        "-device virtio-mem-pci,id=vm1,memdev=m1,node=2,requested-size=0");
    static const uint32_t distances[] = {
        10, 20, 30, 20, 30, 50,
        20, 10, 30, 20, 30, 50,
        30, 30, 10, 30, 30, 50,
        20, 20, 30, 10, 30, 50,
        30, 30, 30, 30, 10, 50,
        50, 50, 50, 50, 50, 10,
    };
    static const uint64_t ranges[][3] = {
        { DEVMEM_BASE, 512 * MiB, 1 },
        { DEVMEM_BASE + 512 * MiB, 1 * GiB, 2 },
    };
    int rmc = fdt_path_offset(fdt, "/rmc@ff080000");
    int devs = fdt_path_offset(fdt, "/dredbox-memory-devices");
    int node, len;

    dredbox_assert_memory_node(fdt, DRAM_BASE, 1 * GiB, 0);
    fdt_for_each_subnode(node, fdt, 0) {
        const char *type = fdt_getprop(fdt, node, "device_type", NULL);

        /* Empty nodes have no memory@ node: only DRAM's. */
        if (type && !strcmp(type, "memory")) {
            g_assert_cmpuint(dredbox_fdt_cells(fdt, node, "reg", 0, 2), ==,
                             DRAM_BASE);
        }
    }
    dredbox_assert_distances(fdt, 6, distances);
    for (int c = 0; c < 3; c++) {
        g_assert_cmpint(dredbox_fdt_cells(fdt, rmc, "dredbox,class-nodes",
                                          c, 1), ==, 3 + c);
    }
    node = fdt_path_offset(fdt, "/cpus/cpu@1");
    g_assert_cmpint(dredbox_fdt_cells(fdt, node, "numa-node-id", 0, 1), ==, 0);

    g_assert_cmpint(devs, >=, 0);
    g_assert_cmpint(fdt_node_check_compatible(fdt, devs,
                                              "dredbox,memory-devices-1.0"),
                    ==, 0);
    g_assert_nonnull(fdt_getprop(fdt, devs, "dredbox,ranges", &len));
    g_assert_cmpint(len, ==, sizeof(ranges) / sizeof(ranges[0][0]) / 3 * 20);
    for (int i = 0; i < ARRAY_SIZE(ranges); i++) {
        g_assert_cmphex(dredbox_fdt_cells(fdt, devs, "dredbox,ranges",
                                          i * 5, 2), ==, ranges[i][0]);
        g_assert_cmphex(dredbox_fdt_cells(fdt, devs, "dredbox,ranges",
                                          i * 5 + 2, 2), ==, ranges[i][1]);
        g_assert_cmpuint(dredbox_fdt_cells(fdt, devs, "dredbox,ranges",
                                           i * 5 + 4, 1), ==, ranges[i][2]);
    }
}

/*
 * pmem=ID: the backend's memory at 896 GiB, as a device-tree pmem-region
 * (of_pmem), reading back what was written.
 */
static void test_pmem(void)
{
    const char *args = "-m 1G -object memory-backend-ram,id=pm,size=64M";
    g_autofree void *fdt = dredbox_dump_fdt(",pmem=pm", args);
    g_autofree char *full = g_strdup_printf(MACHINE ",pmem=pm %s", args);
    int node = fdt_path_offset(fdt, "/pmem@e000000000");
    QTestState *qts;

    g_assert_cmpint(node, >=, 0);
    g_assert_cmpint(fdt_node_check_compatible(fdt, node, "pmem-region"), ==,
                    0);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "reg", 0, 2), ==,
                    DREDBOX_PMEM_BASE);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "reg", 2, 2), ==, 64 * MiB);
    g_assert_null(fdt_getprop(fdt, node, "volatile", NULL));

    qts = qtest_init(full);
    qtest_writeq(qts, DREDBOX_PMEM_BASE + 64 * MiB - 8, 0x706d656d706d656dULL);
    g_assert_cmphex(qtest_readq(qts, DREDBOX_PMEM_BASE + 64 * MiB - 8), ==,
                    0x706d656d706d656dULL);
    qtest_quit(qts);

    dredbox_assert_qemu_fails(MACHINE ",pmem=nosuch -m 1G",
                              "pmem=nosuch: no memory backend of that id");
    dredbox_assert_qemu_fails(MACHINE ",pmem=pm -m 1G"
                              " -object memory-backend-ram,id=pm,size=3M",
                              "pmem=pm: 3 MiB; persistent memory is a"
                              " multiple of 2 MiB up to 128 GiB");
    dredbox_assert_qemu_fails(MACHINE ",pmem=pm -m 1G"
                              " -object memory-backend-ram,id=pm,size=1G"
                              " -numa node,memdev=pm",
                              "pmem=pm: the memory backend is in use"
                              " already");
}

/* Without virtio-mem devices, no list of them. */
static void test_fdt_no_memory_devices(void)
{
    g_autofree void *fdt = dredbox_dump_fdt("", "-m 1G,maxmem=2G");

    g_assert_cmpint(fdt_path_offset(fdt, "/dredbox-memory-devices"), <, 0);
}

/*
 * The guest's kernel takes guest-max-nodes NUMA nodes (16 by default, as
 * Debian's): -numa nodes and rmc-numa's 3 must fit.
 */
static void test_guest_max_nodes(void)
{
    g_autoptr(GString) args = g_string_new(MACHINE ",rmc-numa=on -m 1G"
        " -object memory-backend-ram,id=local,size=1G"
        " -numa node,memdev=local");
    g_autofree void *fdt = NULL;
    g_autofree char *plain = NULL;

    /* 14 -numa nodes: 13 would leave room for the 3 class nodes. */
    for (int i = 1; i < 14; i++) {
        g_string_append(args, " -numa node");
    }
    dredbox_assert_qemu_fails(args->str, "rmc-numa=on needs 3 NUMA node ids"
                              " after the 14 -numa nodes, and the guest's"
                              " kernel takes 16 in all (guest-max-nodes)");
    fdt = dredbox_dump_fdt(",rmc-numa=on,guest-max-nodes=17",
                           args->str + strlen(MACHINE ",rmc-numa=on"));
    for (int c = 0; c < 3; c++) {
        g_assert_cmpint(dredbox_fdt_cells(fdt,
                                          fdt_path_offset(fdt,
                                                          "/rmc@ff080000"),
                                          "dredbox,class-nodes", c, 1),
                        ==, 14 + c);
    }
    for (int i = 14; i < 17; i++) {
        g_string_append(args, " -numa node");
    }
    plain = g_strdup_printf(MACHINE "%s", strstr(args->str, " -m 1G"));
    dredbox_assert_qemu_fails(plain, "17 NUMA nodes, but the guest's kernel"
                              " takes 16 (guest-max-nodes)");
}

/* virtio-mem lands in the device-memory window at 256 GiB. */
static void test_virtio_mem(void)
{
    QTestState *qts = qtest_init(
        MACHINE " -m 1G,maxmem=3G "
        "-object memory-backend-ram,id=vmem,size=2G "
        "-device virtio-mem-pci,id=vm0,memdev=vmem,requested-size=0");
    QDict *resp;

    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': 'vm0', 'property': 'memaddr'}}");
    g_assert_cmphex(dredbox_qdict_uint(resp, "return"), ==, DEVMEM_BASE);
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': "
                     "{'path': 'vm0', 'property': 'requested-size',"
                     " 'value': 536870912}}");
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    qtest_quit(qts);
}

/*
 * timing=on (docs/timing.md): icount needs TCG, which comes before the
 * qtest accelerator; -S keeps the CPUs from running without a kernel.
 */
#define TIMING_MACHINE MACHINE ",timing=on,timing-dram-ns=80" \
                       ",timing-link-bandwidth=1G"
#define TIMING_ACCEL " -accel tcg -S"
#define TIMING TIMING_MACHINE TIMING_ACCEL

static void test_timing_figures(void)
{
    QTestState *qts = qtest_init(TIMING);
    QDict *resp, *info, *d;
    QList *dests;
    static const struct {
        const char *dest;
        uint64_t ns;
    } expect[] = {
        { "local", 80 },
        { "tray-local", 536 + 20 + 80 },
        { "rack-local", 536 + 100 + 80 },
        { "inter-rack", 536 + 1000 + 80 },
    };

    resp = qtest_qmp(qts, "{'execute': 'query-dredbox-timing'}");
    info = qdict_get_qdict(resp, "return");
    g_assert(info);
    g_assert_cmpuint(dredbox_qdict_uint(info, "instruction-ns"), ==, 1);
    g_assert_cmpuint(dredbox_qdict_uint(info, "l1-ns"), ==, 3);
    g_assert_cmpuint(dredbox_qdict_uint(info, "l2-ns"), ==, 15);
    g_assert_cmpuint(dredbox_qdict_uint(info, "dram-ns"), ==, 80);
    g_assert_cmpuint(dredbox_qdict_uint(info, "rmc-ns"), ==, 536);
    g_assert_cmpuint(dredbox_qdict_uint(info, "l1-size"), ==, 32 * KiB);
    g_assert_cmpuint(dredbox_qdict_uint(info, "l1-ways"), ==, 4);
    g_assert_cmpuint(dredbox_qdict_uint(info, "l2-size"), ==, 1 * MiB);
    g_assert_cmpuint(dredbox_qdict_uint(info, "l2-ways"), ==, 16);
    g_assert_cmpuint(dredbox_qdict_uint(info, "line-size"), ==, 64);
    g_assert_cmpuint(dredbox_qdict_uint(info, "dram-bandwidth"), ==, 4 * GiB);
    g_assert_cmpuint(dredbox_qdict_uint(info, "link-bandwidth"), ==, 1 * GiB);
    /* Four vCPUs (the default), in lockstep */
    g_assert_cmpuint(dredbox_qdict_uint(info, "quantum-ns"), ==, 10000);
    dests = qdict_get_qlist(info, "destinations");
    g_assert_cmpint(qlist_size(dests), ==, G_N_ELEMENTS(expect));
    for (int i = 0; i < G_N_ELEMENTS(expect); i++) {
        d = qobject_to(QDict, qlist_pop(dests));
        g_assert_cmpstr(qdict_get_str(d, "destination"), ==, expect[i].dest);
        g_assert_cmpuint(dredbox_qdict_uint(d, "latency-ns"), ==,
                         expect[i].ns);
        /* Stopped before the first instruction. */
        g_assert_cmpuint(dredbox_qdict_uint(d, "accesses"), ==, 0);
        g_assert_cmpuint(dredbox_qdict_uint(d, "prefetched"), ==, 0);
        g_assert_cmpuint(dredbox_qdict_uint(d, "stall-ns"), ==, 0);
        g_assert_cmpuint(dredbox_qdict_uint(d, "queue-ns"), ==, 0);
        qobject_unref(d);
    }
    qobject_unref(resp);

    /* The mode is chosen when QEMU starts, never later. */
    resp = qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': "
                     "{'path': '/machine', 'property': 'timing',"
                     " 'value': false}}");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(resp, "error"), "desc"),
                    ==, "dredbox-compute: timing can only be set when QEMU"
                    " starts (-machine dredbox-compute,timing=on)");
    qobject_unref(resp);
    qtest_quit(qts);
}

/*
 * Several vCPUs run in lockstep rounds of timing-quantum-ns (10 us by
 * default; 0 runs them in turn on one clock), one vCPU on its own, and
 * QMP says which.
 */
static void test_timing_quantum(void)
{
    static const struct {
        const char *args;
        uint64_t quantum;
    } cases[] = {
        { " -smp 2", 10000 },
        { ",timing-quantum-ns=2500 -smp 2", 2500 },
        { ",timing-quantum-ns=0 -smp 2", 0 },
        { " -smp 1", 0 },
    };

    for (int i = 0; i < G_N_ELEMENTS(cases); i++) {
        QTestState *qts = qtest_initf(TIMING_MACHINE "%s" TIMING_ACCEL,
                                      cases[i].args);
        QDict *resp = qtest_qmp(qts, "{'execute': 'query-dredbox-timing'}");

        g_assert_cmpuint(dredbox_qdict_uint(qdict_get_qdict(resp, "return"),
                                            "quantum-ns"), ==,
                         cases[i].quantum);
        qobject_unref(resp);
        qtest_quit(qts);
    }
}

/*
 * timing=on: the RTC runs on guest time from 2000-01-01, as its date
 * feeds the guest's entropy pool; -rtc overrides it (the host's date).
 */
static void test_timing_rtc(void)
{
    QTestState *qts = qtest_init(TIMING);

    g_assert_cmpuint(qtest_readl(qts, 0x09010000), ==, 946684800);
    qtest_quit(qts);

    qts = qtest_init(TIMING " -rtc base=utc");
    g_assert_cmpuint(qtest_readl(qts, 0x09010000), >=, time(NULL) - 60);
    qtest_quit(qts);
}

static void test_timing_off(void)
{
    QTestState *qts = qtest_init(MACHINE);
    QDict *resp;

    resp = qtest_qmp(qts, "{'execute': 'query-dredbox-timing'}");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(resp, "error"), "class"),
                    ==, "GenericError");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(resp, "error"), "desc"),
                    ==, "timing is off (-machine dredbox-compute,timing=on"
                    " turns it on)");
    qobject_unref(resp);
    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                     "{'path': '/machine', 'property': 'timing'}}");
    g_assert_false(qdict_get_bool(resp, "return"));
    qobject_unref(resp);
    qtest_quit(qts);
}

typedef struct BadOption {
    const char *args;
    const char *message;
} BadOption;

static const BadOption bad_options[] = {
    { MACHINE " -m 64M", "too little; a compute brick needs at least 128 MiB" },
    { MACHINE " -m 300G", "does not fit the 252 GiB DRAM window" },
    { MACHINE " -m 1G,maxmem=400G", "device-memory window" },
    { MACHINE ",nosuch=1", "nosuch" },
    { MACHINE ",brick-id=rack", "brick-id" },
    { MACHINE ",rmc-numa=on", "rmc-numa=on needs NUMA: give -numa node"
      " options, or maxmem" },
    { MACHINE " -smp 5",
      "max CPUs supported by machine 'dredbox-compute' is 4" },
    { MACHINE " -cpu cortex-a57", "Invalid CPU model" },
    { MACHINE " -bios /dev/null", "firmware (-bios) is not supported" },
    { MACHINE ",guest-max-nodes=0", "guest-max-nodes must be 1 to 128" },
    { MACHINE ",guest-max-nodes=129", "guest-max-nodes must be 1 to 128" },
    { MACHINE ",pool=/nonexistent/memd.sock",
      "dredbox-rmc: cannot reach the memory pool" },
    { MACHINE ",timing=on -icount shift=1 -accel tcg",
      "timing=on sets up -icount itself; drop the -icount option" },
    { MACHINE ",timing=on,timing-plugin=/nonexistent.so -accel tcg",
      "timing=on needs the dredbox-mem plugin (timing-plugin=PATH)" },
    { MACHINE ",timing-link-bandwidth=63",
      "timing-link-bandwidth must be 64 to 64T bytes per second" },
    { MACHINE ",timing-dram-bandwidth=fast",
      "timing-dram-bandwidth" },
};

static void test_bad_option(const void *opaque)
{
    const BadOption *bad = opaque;

    dredbox_assert_qemu_fails(bad->args, bad->message);
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_machine("dredbox-compute")) {
        g_test_skip("dredbox-compute machine not built");
        return g_test_run();
    }

    qtest_add_func("/dredbox-compute/defaults", test_defaults);
    qtest_add_func("/dredbox-compute/custom-size", test_custom_size);
    qtest_add_func("/dredbox-compute/memory-map", test_memory_map);
    qtest_add_func("/dredbox-compute/fdt/default", test_fdt_default);
    qtest_add_func("/dredbox-compute/fdt/numa", test_fdt_numa);
    qtest_add_func("/dredbox-compute/rtc", test_rtc);
    qtest_add_func("/dredbox-compute/fdt/rmc-numa", test_fdt_rmc_numa);
    qtest_add_func("/dredbox-compute/fdt/rmc-numa-dist",
                   test_fdt_rmc_numa_dist);
    qtest_add_func("/dredbox-compute/fdt/memoryless-nodes",
                   test_fdt_memoryless_nodes);
    qtest_add_func("/dredbox-compute/pmem", test_pmem);
    qtest_add_func("/dredbox-compute/fdt/no-memory-devices",
                   test_fdt_no_memory_devices);
    qtest_add_func("/dredbox-compute/guest-max-nodes",
                   test_guest_max_nodes);
    qtest_add_func("/dredbox-compute/virtio-mem", test_virtio_mem);
    qtest_add_func("/dredbox-compute/timing/figures", test_timing_figures);
    qtest_add_func("/dredbox-compute/timing/quantum", test_timing_quantum);
    qtest_add_func("/dredbox-compute/timing/rtc", test_timing_rtc);
    qtest_add_func("/dredbox-compute/timing/off", test_timing_off);
    for (i = 0; i < ARRAY_SIZE(bad_options); i++) {
        g_autofree char *name =
            g_strdup_printf("/dredbox-compute/bad-option/%d", i);

        qtest_add_data_func(name, &bad_options[i], test_bad_option);
    }
    return g_test_run();
}
