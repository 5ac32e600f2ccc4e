/*
 * qtest for the dReDBox compute brick machine ("dredbox-compute"):
 * defaults, command-line validation, the generated device tree (CPUs,
 * memory, NUMA distances, brick id) and the documented memory map.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include <libfdt.h>

#define MACHINE "-machine dredbox-compute"
#define DRAM_BASE       0x100000000ULL
#define DEVMEM_BASE     (256 * GiB)
#define RMC_CONFIG_BASE 0xff080000ULL

static uint64_t qdict_uint(QDict *d, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(d, key));

    g_assert_nonnull(n);
    return qnum_get_uint(n);
}

/* Run QEMU to completion with ARGS; return its exit status. */
static int run_qemu(const char *args, char **err)
{
    g_autofree char *cmd = g_strdup_printf("%s %s -display none -nodefaults",
                                           g_getenv("QTEST_QEMU_BINARY"),
                                           args);
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) error = NULL;
    int status;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, err, &status, &error));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Dump the device tree the machine generates for ARGS and load it. */
static void *dump_fdt(const char *args)
{
    g_autofree char *dir = g_dir_make_tmp("dredbox-fdt-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "brick.dtb", NULL);
    g_autofree char *full = g_strdup_printf(MACHINE ",dumpdtb=%s %s",
                                            path, args);
    g_autofree char *err = NULL;
    gchar *fdt = NULL;
    gsize len;

    g_assert_cmpint(run_qemu(full, &err), ==, 0);
    g_assert_true(g_file_get_contents(path, &fdt, &len, NULL));
    g_assert_cmpint(fdt_check_header(fdt), ==, 0);
    unlink(path);
    rmdir(dir);
    return fdt;
}

static uint64_t fdt_get_cells(const void *fdt, int node, const char *prop,
                              int index, int ncells)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, prop, &len);
    uint64_t v = 0;
    int i;

    g_assert_nonnull(p);
    g_assert_cmpint(len, >=, (index + ncells) * 4);
    for (i = 0; i < ncells; i++) {
        v = (v << 32) | fdt32_to_cpu(p[index + i]);
    }
    return v;
}

static void assert_memory_node(const void *fdt, uint64_t base, uint64_t size,
                               int numa_node)
{
    g_autofree char *path = g_strdup_printf("/memory@%" PRIx64, base);
    int node = fdt_path_offset(fdt, path);

    g_assert_cmpint(node, >=, 0);
    g_assert_cmphex(fdt_get_cells(fdt, node, "reg", 0, 2), ==, base);
    g_assert_cmphex(fdt_get_cells(fdt, node, "reg", 2, 2), ==, size);
    if (numa_node >= 0) {
        g_assert_cmpint(fdt_get_cells(fdt, node, "numa-node-id", 0, 1), ==,
                        numa_node);
    }
}

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
    g_assert_cmpuint(qdict_uint(qdict_get_qdict(resp, "return"),
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
    g_assert_cmpuint(qdict_uint(qdict_get_qdict(resp, "return"),
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
    /* The RMC page is reserved; until the RMC is modelled it reads 0. */
    g_assert_cmphex(qtest_readl(qts, RMC_CONFIG_BASE), ==, 0);
    qtest_quit(qts);
}

static void test_fdt_default(void)
{
    g_autofree void *fdt = dump_fdt(MACHINE ",brick-id=5");
    int node, cpus = 0;

    g_assert_cmpint(fdt_node_check_compatible(fdt, 0,
                                              "dredbox,compute-brick"), ==, 0);
    g_assert_cmpuint(fdt_get_cells(fdt, 0, "dredbox,brick-id", 0, 1), ==, 5);
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

    assert_memory_node(fdt, DRAM_BASE, 1 * GiB, -1);
    g_assert_cmpint(fdt_path_offset(fdt, "/distance-map"), <, 0);

    node = fdt_path_offset(fdt, "/chosen");
    g_assert_cmpstr(fdt_getprop(fdt, node, "stdout-path", NULL), ==,
                    "/pl011@9000000");
    g_assert_cmpint(fdt_path_offset(fdt, "/pcie@10000000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/virtio_mmio@a000000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/intc@8000000"), >=, 0);
}

/* A CPU-less remote node: its memory follows local DRAM, with distances. */
static void test_fdt_numa(void)
{
    g_autofree void *fdt = dump_fdt(
        "-m 1536M -smp 4 "
        "-object memory-backend-ram,id=local,size=1G "
        "-object memory-backend-ram,id=remote,size=512M "
        "-numa node,nodeid=0,cpus=0-3,memdev=local "
        "-numa node,nodeid=1,memdev=remote "
        "-numa dist,src=0,dst=1,val=30");
    static const uint32_t expect[] = {
        0, 0, 10,  0, 1, 30,
        1, 0, 30,  1, 1, 10,
    };
    const fdt32_t *matrix;
    int node, len, i;

    assert_memory_node(fdt, DRAM_BASE, 1 * GiB, 0);
    assert_memory_node(fdt, DRAM_BASE + 1 * GiB, 512 * MiB, 1);

    node = fdt_path_offset(fdt, "/distance-map");
    g_assert_cmpint(node, >=, 0);
    matrix = fdt_getprop(fdt, node, "distance-matrix", &len);
    g_assert_cmpint(len, ==, sizeof(expect));
    for (i = 0; i < ARRAY_SIZE(expect); i++) {
        g_assert_cmpuint(fdt32_to_cpu(matrix[i]), ==, expect[i]);
    }

    node = fdt_path_offset(fdt, "/cpus/cpu@3");
    g_assert_cmpint(fdt_get_cells(fdt, node, "numa-node-id", 0, 1), ==, 0);
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
    g_assert_cmphex(qdict_uint(resp, "return"), ==, DEVMEM_BASE);
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': "
                     "{'path': 'vm0', 'property': 'requested-size',"
                     " 'value': 536870912}}");
    g_assert_false(qdict_haskey(resp, "error"));
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
    { MACHINE " -smp 5",
      "max CPUs supported by machine 'dredbox-compute' is 4" },
    { MACHINE " -cpu cortex-a57", "Invalid CPU model" },
    { MACHINE " -bios /dev/null", "firmware (-bios) is not supported" },
};

static void test_bad_option(const void *opaque)
{
    const BadOption *bad = opaque;
    g_autofree char *err = NULL;

    g_assert_cmpint(run_qemu(bad->args, &err), !=, 0);
    if (!strstr(err, bad->message)) {
        g_test_message("stderr of '%s': %s", bad->args, err);
    }
    g_assert_nonnull(strstr(err, bad->message));
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
    qtest_add_func("/dredbox-compute/virtio-mem", test_virtio_mem);
    for (i = 0; i < ARRAY_SIZE(bad_options); i++) {
        g_autofree char *name =
            g_strdup_printf("/dredbox-compute/bad-option/%d", i);

        qtest_add_data_func(name, &bad_options[i], test_bad_option);
    }
    return g_test_run();
}
