/*
 * qtest for memory-backend-remote: guest RAM taken from a real pool
 * daemon (dredbox-memd).  Shared contents between two QEMU processes,
 * read-only grants, latency classes as NUMA distances, run-time
 * object-add/object-del and hot-plugged virtio-mem, memory made
 * unreachable and reachable again, and the errors for
 * every way of asking wrongly, none of which may leak pool memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "qapi/error.h"
#include "dredbox-qtest-util.h"
#include "dredbox/memory-map.h"

/* Node 1 (remote) follows node 0's 1 GiB of local DRAM. */
#define REMOTE_BASE (DREDBOX_LOCAL_DRAM_BASE + 1 * GiB)

static const char *const two_bricks[] = { "0:1G", "1:512M", NULL };

/* A brick with 1 GiB of local DRAM and a remote node of @mib MiB. */
static char *remote_node_args(DredboxPool *pool, unsigned mib,
                              const char *backend_opts)
{
    return g_strdup_printf(
        DREDBOX_MACHINE " -m %uM "
        "-object memory-backend-ram,id=local,size=1G "
        "-object memory-backend-remote,id=remote,size=%uM,pool=%s%s "
        "-numa node,nodeid=0,cpus=0-3,memdev=local "
        "-numa node,nodeid=1,memdev=remote",
        1024 + mib, mib, pool->socket, backend_opts);
}

static uint64_t qom_get_uint(QTestState *qts, const char *path,
                             const char *prop)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments':"
                            " {'path': %s, 'property': %s}}", path, prop);
    uint64_t v = dredbox_qdict_uint(resp, "return");

    qobject_unref(resp);
    return v;
}

static void pool_grant(DredboxPool *pool, uint64_t segment,
                       const char *client, bool writable)
{
    g_autofree char *req = g_strdup_printf(
        "{\"cmd\": \"grant\", \"segment\": %" PRIu64 ", \"client\": \"%s\","
        " \"writable\": %s}", segment, client, writable ? "true" : "false");

    qobject_unref(dredbox_pool_call(pool, req));
}

/*
 * A CPU-less node backed by a memory brick: a second and a third brick
 * attach the same segment and see the first one's writes; a read-only
 * grant cannot change it; the segment goes back to the pool when its
 * owner exits.
 */
static void test_shared_node(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *args_a = remote_node_args(pool, 256,
                                               ",brick=1,client=brick-a");
    g_autofree char *opts = NULL, *args_b = NULL, *args_c = NULL;
    QTestState *a, *b, *c;
    uint64_t seg;

    a = qtest_init(args_a);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 256 * MiB);
    g_assert_cmpuint(dredbox_pool_used(pool, 0), ==, 0);
    g_assert_cmpuint(qom_get_uint(a, "/objects/remote", "brick"), ==, 1);
    g_assert_cmpuint(qom_get_uint(a, "/objects/remote", "offset"), ==, 0);
    seg = qom_get_uint(a, "/objects/remote", "segment");

    qtest_writeq(a, REMOTE_BASE, 0x6472656462786f31ULL);
    qtest_writeq(a, REMOTE_BASE + 256 * MiB - 8, 0xfeedfacecafef00dULL);

    pool_grant(pool, seg, "brick-b", true);
    opts = g_strdup_printf(",segment=%" PRIu64 ",client=brick-b", seg);
    args_b = remote_node_args(pool, 256, opts);
    b = qtest_init(args_b);
    g_assert_cmphex(qtest_readq(b, REMOTE_BASE), ==, 0x6472656462786f31ULL);
    g_assert_cmphex(qtest_readq(b, REMOTE_BASE + 256 * MiB - 8), ==,
                    0xfeedfacecafef00dULL);
    qtest_writel(b, REMOTE_BASE + 4096, 0x0b0b0b0b);
    g_assert_cmphex(qtest_readl(a, REMOTE_BASE + 4096), ==, 0x0b0b0b0b);
    /* Attaching a segment does not allocate another one. */
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 256 * MiB);

    pool_grant(pool, seg, "brick-c", false);
    g_free(opts);
    opts = g_strdup_printf(",segment=%" PRIu64 ",client=brick-c", seg);
    args_c = remote_node_args(pool, 256, opts);
    c = qtest_init(args_c);
    g_assert_cmphex(qtest_readl(c, REMOTE_BASE + 4096), ==, 0x0b0b0b0b);
    qtest_writel(c, REMOTE_BASE + 4096, 0xdeadbeef);
    g_assert_cmphex(qtest_readl(a, REMOTE_BASE + 4096), ==, 0x0b0b0b0b);
    qtest_quit(c);

    /* Only the owner's exit frees the segment. */
    qtest_quit(b);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 256 * MiB);
    qtest_quit(a);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 0);
    dredbox_pool_stop(pool);
}

static void set_reachable(QTestState *qts, unsigned brick, bool reachable)
{
    qobject_unref(qtest_qmp_assert_success_ref(qts,
        "{'execute': 'dredbox-remote-memory-set-reachable', 'arguments':"
        " {'brick': %u, 'reachable': %i}}", brick, reachable));
}

/*
 * dredbox-remote-memory-set-reachable: while memory brick 1 is failed,
 * the node it backs refuses every access (reads 0 here, as a qtest does
 * not take the abort; writes are lost); another brick's failure does not
 * touch it; repaired, it holds what it held.  Nothing leaks.
 */
static void test_unreachable(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *args = remote_node_args(pool, 256, ",brick=1");
    QTestState *qts = qtest_init(args);

    qtest_writeq(qts, REMOTE_BASE + 8192, 0x6661756c74792031ULL);
    set_reachable(qts, 0, false);
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 8192), ==,
                    0x6661756c74792031ULL);
    set_reachable(qts, 1, false);
    set_reachable(qts, 1, false);       /* already: nothing changes */
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 8192), ==, 0);
    qtest_writeq(qts, REMOTE_BASE + 8192, 0x6c6f7374);
    /* Local DRAM is not the memory brick's. */
    qtest_writeq(qts, DREDBOX_LOCAL_DRAM_BASE, 0x6c6f63616c);
    g_assert_cmphex(qtest_readq(qts, DREDBOX_LOCAL_DRAM_BASE), ==,
                    0x6c6f63616c);
    set_reachable(qts, 1, true);
    set_reachable(qts, 1, true);
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 8192), ==,
                    0x6661756c74792031ULL);
    set_reachable(qts, 0, true);
    /* It goes back to the pool whether or not it can be reached. */
    set_reachable(qts, 1, false);
    qtest_quit(qts);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 0);
    dredbox_pool_stop(pool);
}

/* A QMP reply's error description, or "" if it worked; @resp is freed */
static char *qmp_outcome(QDict *resp)
{
    char *err = g_strdup(qdict_haskey(resp, "error")
                         ? qdict_get_str(qdict_get_qdict(resp, "error"),
                                         "desc")
                         : "");

    qobject_unref(resp);
    return err;
}

/* dredbox-remote-memory-(un)poison-page; its error, or "" if it worked */
static char *poison_page(QTestState *qts, bool poison, uint64_t segment,
                         uint64_t offset)
{
    return qmp_outcome(qtest_qmp(qts, "{'execute': %s, 'arguments':"
                                 " {'segment': %u, 'offset': %u}}",
                                 poison
                                 ? "dredbox-remote-memory-poison-page"
                                 : "dredbox-remote-memory-unpoison-page",
                                 (unsigned)segment, (unsigned)offset));
}

static void assert_poison_page(QTestState *qts, bool poison,
                               uint64_t segment, uint64_t offset,
                               const char *error)
{
    g_autofree char *err = poison_page(qts, poison, segment, offset);

    g_assert_cmpstr(err, ==, error);
}

/*
 * dredbox-remote-memory-poison-page: a poisoned page of a remote node
 * refuses every access (reads 0 in a qtest), its neighbours serve; once
 * cleared it holds what it held.  A page the pool had poisoned before the
 * segment was taken is poisoned from the start.  Every wrong request is
 * refused with its reason.
 */
static void test_poison(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *args = remote_node_args(pool, 256, ",brick=1");
    g_autofree char *unmapped = NULL;
    QTestState *qts;
    uint64_t seg;

    /* An uncorrectable error in brick 1 at 64 KiB, before QEMU starts */
    qobject_unref(dredbox_pool_call(pool, "{\"cmd\": \"poison\","
                                    " \"brick\": 1, \"offset\": 65536}"));
    qts = qtest_init(args);
    seg = qom_get_uint(qts, "/objects/remote", "segment");
    qtest_writeq(qts, REMOTE_BASE + 65536, 0x6c6f7374);
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 65536), ==, 0);
    qtest_writeq(qts, REMOTE_BASE + 65536 + 4096, 0x6e657874);
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 65536 + 4096), ==,
                    0x6e657874);
    assert_poison_page(qts, true, seg, 65536,
                       "page 0x10000 of segment 1 is already poisoned");

    qtest_writeq(qts, REMOTE_BASE + 8192, 0x706f69736f6e6564ULL);
    qtest_writeq(qts, REMOTE_BASE + 8192 - 8, 0x6265666f7265ULL);
    assert_poison_page(qts, true, seg, 8192, "");
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 8192), ==, 0);
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 8192 + 4088), ==, 0);
    qtest_writeq(qts, REMOTE_BASE + 8192, 0x6c6f7374);
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 8192 - 8), ==,
                    0x6265666f7265ULL);
    assert_poison_page(qts, true, seg, 8192,
                       "page 0x2000 of segment 1 is already poisoned");
    assert_poison_page(qts, true, seg, 4097, "segment 1 has no page at"
                       " offset 0x1001: a page is 4 KiB, at a multiple of"
                       " 4096 below 0x10000000");
    assert_poison_page(qts, true, seg, 256 * MiB, "segment 1 has no page at"
                       " offset 0x10000000: a page is 4 KiB, at a multiple"
                       " of 4096 below 0x10000000");
    unmapped = g_strdup_printf("segment %u is not mapped by"
                               " memory-backend-remote", (unsigned)seg + 1);
    assert_poison_page(qts, true, seg + 1, 0, unmapped);
    assert_poison_page(qts, false, seg + 1, 0, unmapped);
    assert_poison_page(qts, false, seg, 4096,
                       "page 0x1000 of segment 1 is not poisoned");

    assert_poison_page(qts, false, seg, 8192, "");
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 8192), ==,
                    0x706f69736f6e6564ULL);
    assert_poison_page(qts, false, seg, 65536, "");
    qtest_writeq(qts, REMOTE_BASE + 65536, 0x6865616c6564ULL);
    g_assert_cmphex(qtest_readq(qts, REMOTE_BASE + 65536), ==,
                    0x6865616c6564ULL);
    /* Poisoned pages do not keep the memory from the pool. */
    assert_poison_page(qts, true, seg, 0, "");
    qtest_quit(qts);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 0);
    dredbox_pool_stop(pool);
}

/* object-add of a static backend of @mib MiB on brick 1: its error or "" */
static char *add_backend(QTestState *qts, DredboxPool *pool, const char *id,
                         unsigned mib)
{
    return qmp_outcome(qtest_qmp(qts, "{'execute': 'object-add',"
                                 " 'arguments': {'qom-type':"
                                 " 'memory-backend-remote', 'id': %s,"
                                 " 'size': %u, 'pool': %s, 'brick': 1}}",
                                 id, mib * (unsigned)MiB, pool->socket));
}

/*
 * The pool dies in QEMU's alloc after it journaled it, before it
 * answered: object-add fails saying so.  The pool comes back (--restore)
 * with that segment leased to QEMU's client, which nobody here holds:
 * QEMU's next request frees it, and only it, not the memory of another
 * backend on the same client name.  So it does with the segment of a
 * backend deleted while the pool was down.
 */
static void test_pool_dies_in_alloc(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    g_autofree char *ok = add_backend(qts, pool, "m0", 128);
    g_autofree char *died = NULL, *again = NULL, *want = NULL;

    g_assert_cmpstr(ok, ==, "");
    qtest_writeq(qts, 0, 0);    /* QEMU runs on */
    dredbox_pool_restart(pool, "DREDBOX_MEMD_TEST_DIE_AFTER=alloc");
    died = add_backend(qts, pool, "m1", 256);
    want = g_strdup_printf("memory-backend-remote 'm1': memory pool at %s"
                           " closed the connection", pool->socket);
    g_assert_cmpstr(died, ==, want);
    dredbox_pool_restart(pool, NULL);
    /* The segment it died in is back, leased to QEMU */
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 384 * MiB);

    again = add_backend(qts, pool, "m2", 128);
    g_assert_cmpstr(again, ==, "");
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 256 * MiB);

    /* m2 deleted while the pool is down: its free cannot be sent */
    kill(pool->pid, SIGKILL);
    qobject_unref(qtest_qmp_assert_success_ref(qts,
        "{'execute': 'object-del', 'arguments': {'id': 'm2'}}"));
    dredbox_pool_restart(pool, NULL);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 256 * MiB);
    g_free(again);
    again = add_backend(qts, pool, "m3", 256);
    g_assert_cmpstr(again, ==, "");
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 384 * MiB);
    qtest_quit(qts);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 0);
    dredbox_pool_stop(pool);
}

/* Latency classes become distances unless -numa dist says otherwise. */
static void test_latency_classes(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *pool_args = g_strdup_printf(
        "-m 1536M "
        "-object memory-backend-ram,id=local,size=1G "
        "-object memory-backend-remote,id=near,size=256M,pool=%s,"
        "latency-class=tray-local "
        "-object memory-backend-remote,id=far,size=256M,pool=%s,"
        "latency-class=inter-rack "
        "-numa node,nodeid=0,cpus=0-3,memdev=local "
        "-numa node,nodeid=1,memdev=near "
        "-numa node,nodeid=2,memdev=far",
        pool->socket, pool->socket);
    g_autofree char *explicit_args = g_strdup_printf(
        "%s -numa dist,src=0,dst=1,val=40 -numa dist,src=0,dst=2,val=40 "
        "-numa dist,src=1,dst=2,val=40", pool_args);
    static const uint32_t by_class[] = {
        10, 20, 50,
        20, 10, 50,
        50, 50, 10,
    };
    static const uint32_t by_user[] = {
        10, 40, 40,
        40, 10, 40,
        40, 40, 10,
    };
    g_autofree void *fdt = dredbox_dump_fdt("", pool_args);
    g_autofree void *fdt2 = dredbox_dump_fdt("", explicit_args);

    dredbox_assert_memory_node(fdt, REMOTE_BASE, 256 * MiB, 1);
    dredbox_assert_memory_node(fdt, REMOTE_BASE + 256 * MiB, 256 * MiB, 2);
    dredbox_assert_distances(fdt, 3, by_class);
    dredbox_assert_distances(fdt2, 3, by_user);
    /* Both QEMU runs gave their memory back. */
    g_assert_cmpuint(dredbox_pool_used(pool, 0), ==, 0);
    dredbox_pool_stop(pool);
}

/* Created and deleted at run time, the backend takes and returns memory. */
static void test_object_add_del(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    QDict *resp;

    resp = qtest_qmp(qts, "{'execute': 'object-add', 'arguments':"
                     " {'qom-type': 'memory-backend-remote', 'id': 'm0',"
                     "  'size': 268435456, 'pool': %s, 'brick': 0}}",
                     pool->socket);
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    g_assert_cmpuint(dredbox_pool_used(pool, 0), ==, 256 * MiB);

    resp = qtest_qmp(qts, "{'execute': 'object-add', 'arguments':"
                     " {'qom-type': 'memory-backend-remote', 'id': 'm1',"
                     "  'size': 1073741824, 'pool': %s, 'brick': 0}}",
                     pool->socket);
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                          "desc"),
                            "memory brick 0 has no free 1024 MiB range"));
    qobject_unref(resp);

    resp = qtest_qmp(qts, "{'execute': 'object-del',"
                     " 'arguments': {'id': 'm0'}}");
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    g_assert_cmpuint(dredbox_pool_used(pool, 0), ==, 0);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

/*
 * On demand, a virtio-mem device hot-plugged behind a root port takes
 * nothing from the pool until the guest plugs blocks (the guest tests
 * cover growing and shrinking).
 */
/* QMP @command with arguments @args (JSON text): it must succeed. */
static void qmp_ok_args(QTestState *qts, const char *command,
                        const char *args)
{
    QObject *a = qobject_from_json(args, &error_abort);
    QDict *resp = qtest_qmp(qts, "{'execute': %s, 'arguments': %p}",
                            command, a);

    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
}

/*
 * Hot-plug a 1 GiB on-demand backend vm0 on @pool with @backend_opts and a
 * virtio-mem device vmem0 on it, on root port rp0, with @device_opts (more
 * JSON members, each after a comma).
 */
static void hotplug_vmem(QTestState *qts, DredboxPool *pool,
                         const char *backend_opts, const char *device_opts)
{
    g_autofree char *backend = g_strdup_printf(
        "{'qom-type': 'memory-backend-remote', 'id': 'vm0',"
        " 'size': 1073741824, 'pool': '%s', 'on-demand': true%s}",
        pool->socket, backend_opts);
    g_autofree char *device = g_strdup_printf(
        "{'driver': 'virtio-mem-pci', 'id': 'vmem0', 'bus': 'rp0',"
        " 'memdev': 'vm0', 'block-size': 134217728%s}", device_opts);

    qmp_ok_args(qts, "object-add", backend);
    qmp_ok_args(qts, "device_add", device);
}

static void test_virtio_mem_hotplug(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    QTestState *qts = qtest_init(DREDBOX_MACHINE " -m 1G,maxmem=3G "
                                 "-device pcie-root-port,id=rp0,chassis=1");

    hotplug_vmem(qts, pool, "", "");
    g_assert_cmphex(qom_get_uint(qts, "vmem0", "memaddr"), ==, 256 * GiB);
    g_assert_cmpuint(qom_get_uint(qts, "vmem0", "size"), ==, 0);
    g_assert_cmpuint(dredbox_pool_used(pool, 0), ==, 0);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

/*
 * memory-map=PATH (memory-map.h): local DRAM, a remote node with its
 * brick and the segment's place in it, and a virtio-mem device plugged at
 * run time on an on-demand backend, whose granules are not plugged yet.
 */
static void test_memory_map(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *dir = g_dir_make_tmp("memory-map-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "map", NULL);
    g_autofree char *args = NULL, *opts = NULL;
    g_autofree MemoryMap *m = NULL;
    const MemoryMapRange *r;
    QTestState *qts;
    QDict *resp, *e, *x;
    QList *ranges, *ext;
    gsize len;

    /* A first segment on brick 1, so that ours is not at offset 0. */
    qobject_unref(dredbox_pool_call(pool, "{\"cmd\": \"alloc\","
                                    " \"size\": \"128M\", \"brick\": 1}"));
    opts = g_strdup_printf(",brick=1 -machine memory-map=%s -m maxmem=3G"
                           " -device pcie-root-port,id=rp0,chassis=1", path);
    args = remote_node_args(pool, 256, opts);
    qts = qtest_init(args);
    hotplug_vmem(qts, pool, ", 'brick': 0, 'latency-class': 'inter-rack'",
                 ", 'node': 1");

    g_assert_true(g_file_get_contents(path, (char **)&m, &len, NULL));
    g_assert_cmpuint(len, ==, sizeof(MemoryMap));
    g_assert_cmphex(m->magic, ==, MEMORY_MAP_MAGIC);
    g_assert_cmpuint(m->version, ==, MEMORY_MAP_VERSION);
    g_assert_cmpuint(m->generation % 2, ==, 0);
    g_assert_cmpuint(m->nranges, ==, 3);
    r = &m->range[0];
    g_assert_cmphex(r->start, ==, DREDBOX_LOCAL_DRAM_BASE);
    g_assert_cmphex(r->end, ==, REMOTE_BASE);
    g_assert_cmpuint(r->kind, ==, MEMORY_MAP_NODE);
    g_assert_cmphex(r->brick, ==, MEMORY_MAP_NO_BRICK);
    r = &m->range[1];
    g_assert_cmphex(r->start, ==, REMOTE_BASE);
    g_assert_cmphex(r->end, ==, REMOTE_BASE + 256 * MiB);
    g_assert_cmpuint(r->kind, ==, MEMORY_MAP_NODE);
    g_assert_cmpuint(r->node, ==, 1);
    g_assert_cmpuint(r->brick, ==, 1);
    g_assert_cmpuint(r->granule_shift, ==, 0);
    g_assert_cmphex(r->offset, ==, 128 * MiB);
    g_assert_cmphex(r->offset, ==,
                    qom_get_uint(qts, "/objects/remote", "offset"));
    g_assert_cmphex(memory_map_offset(m, r, REMOTE_BASE + 4096), ==,
                    128 * MiB + 4096);
    r = &m->range[2];
    g_assert_cmphex(r->start, ==, 256 * GiB);
    g_assert_cmphex(r->end, ==, 257 * GiB);
    g_assert_cmpuint(r->kind, ==, MEMORY_MAP_VIRTIO_MEM);
    g_assert_cmpuint(r->node, ==, 1);
    g_assert_cmpuint(r->brick, ==, 0);
    g_assert_cmpuint(r->latency, ==, 2);    /* inter-rack */
    g_assert_cmpuint(r->granule_shift, >, 0);
    g_assert_cmpuint(m->ngranules, ==, GiB >> r->granule_shift);
    /* Nothing plugged: the guest has not asked. */
    g_assert_cmphex(memory_map_offset(m, r, 256 * GiB), ==,
                    MEMORY_MAP_UNPLUGGED);
    g_assert_true(memory_map_find(m, 256 * GiB + 5) == r);
    g_assert_null(memory_map_find(m, 300 * GiB));

    /* QMP says the same. */
    resp = qtest_qmp(qts, "{'execute': 'query-dredbox-memory-map'}");
    ranges = qdict_get_qlist(resp, "return");
    g_assert_cmpuint(qlist_size(ranges), ==, 3);
    e = qobject_to(QDict, qlist_peek(ranges));
    g_assert_cmpstr(qdict_get_str(e, "kind"), ==, "numa-node");
    g_assert_false(qdict_haskey(e, "brick"));
    g_assert_false(qdict_haskey(e, "extents"));
    e = qobject_to(QDict, qlist_entry_obj(qlist_next(qlist_first(ranges))));
    g_assert_cmpuint(qdict_get_int(e, "brick"), ==, 1);
    g_assert_cmpuint(qdict_get_int(e, "node"), ==, 1);
    ext = qdict_get_qlist(e, "extents");
    g_assert_cmpuint(qlist_size(ext), ==, 1);
    x = qobject_to(QDict, qlist_peek(ext));
    g_assert_cmphex(dredbox_qdict_uint(x, "start"), ==, REMOTE_BASE);
    g_assert_cmphex(dredbox_qdict_uint(x, "size"), ==, 256 * MiB);
    g_assert_cmphex(dredbox_qdict_uint(x, "brick-offset"), ==, 128 * MiB);
    e = qobject_to(QDict, qlist_entry_obj(qlist_next(qlist_next(
            qlist_first(ranges)))));
    g_assert_cmpstr(qdict_get_str(e, "kind"), ==, "virtio-mem");
    g_assert_cmpstr(qdict_get_str(e, "latency-class"), ==, "inter-rack");
    g_assert_cmpuint(qlist_size(qdict_get_qlist(e, "extents")), ==, 0);
    qobject_unref(resp);
    qtest_quit(qts);
    unlink(path);
    rmdir(dir);
    dredbox_pool_stop(pool);
}

/*
 * pmem= on a memory brick's segment is in the map too, as persistent
 * memory in no NUMA node, with its brick and place; the published file
 * and QMP agree.
 */
static void test_memory_map_pmem(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *dir = g_dir_make_tmp("memory-map-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "map", NULL);
    g_autofree char *args = NULL;
    g_autofree MemoryMap *m = NULL;
    const MemoryMapRange *r;
    QTestState *qts;
    QDict *resp, *e, *x;
    QList *ranges;

    qobject_unref(dredbox_pool_call(pool, "{\"cmd\": \"alloc\","
                                    " \"size\": \"128M\", \"brick\": 1}"));
    args = g_strdup_printf(DREDBOX_MACHINE ",pmem=pm,memory-map=%s -m 1G"
                           " -object memory-backend-remote,id=pm,size=128M,"
                           "pool=%s,brick=1,latency-class=tray-local",
                           path, pool->socket);
    qts = qtest_init(args);
    g_assert_true(g_file_get_contents(path, (char **)&m, NULL, NULL));
    g_assert_cmpuint(m->nranges, ==, 2);
    r = memory_map_find(m, DREDBOX_PMEM_BASE + 4096);
    g_assert_nonnull(r);
    g_assert_true(r == &m->range[1]);
    g_assert_cmphex(r->start, ==, DREDBOX_PMEM_BASE);
    g_assert_cmphex(r->end, ==, DREDBOX_PMEM_BASE + 128 * MiB);
    g_assert_cmpuint(r->kind, ==, MEMORY_MAP_PMEM);
    g_assert_cmphex(r->node, ==, MEMORY_MAP_NO_NODE);
    g_assert_cmpuint(r->brick, ==, 1);
    g_assert_cmpuint(r->latency, ==, 0);    /* tray-local */
    g_assert_cmphex(memory_map_offset(m, r, DREDBOX_PMEM_BASE + 4096), ==,
                    128 * MiB + 4096);

    resp = qtest_qmp(qts, "{'execute': 'query-dredbox-memory-map'}");
    ranges = qdict_get_qlist(resp, "return");
    g_assert_cmpuint(qlist_size(ranges), ==, 2);
    e = qobject_to(QDict, qlist_entry_obj(qlist_next(qlist_first(ranges))));
    g_assert_cmpstr(qdict_get_str(e, "kind"), ==, "pmem");
    g_assert_false(qdict_haskey(e, "node"));
    g_assert_cmpuint(qdict_get_int(e, "brick"), ==, 1);
    g_assert_cmpstr(qdict_get_str(e, "latency-class"), ==, "tray-local");
    x = qobject_to(QDict, qlist_peek(qdict_get_qlist(e, "extents")));
    g_assert_cmphex(dredbox_qdict_uint(x, "start"), ==, DREDBOX_PMEM_BASE);
    g_assert_cmphex(dredbox_qdict_uint(x, "size"), ==, 128 * MiB);
    g_assert_cmphex(dredbox_qdict_uint(x, "brick-offset"), ==, 128 * MiB);
    /* DRAM is still node 0's. */
    e = qobject_to(QDict, qlist_peek(ranges));
    g_assert_cmpuint(qdict_get_int(e, "node"), ==, 0);
    qobject_unref(resp);
    qtest_quit(qts);
    unlink(path);
    rmdir(dir);
    dredbox_pool_stop(pool);
}

/* The owners of the pool's segments, in the pool's order, joined by ' ' */
static char *pool_owners(DredboxPool *pool)
{
    QDict *reply = dredbox_pool_call(pool, "{\"cmd\": \"query\"}");
    g_autoptr(GString) s = g_string_new(NULL);
    QListEntry *e;

    QLIST_FOREACH_ENTRY(qdict_get_qlist(reply, "segments"), e) {
        QDict *seg = qobject_to(QDict, qlist_entry_obj(e));

        g_string_append_printf(s, "%s%s", s->len ? " " : "",
                               qdict_get_str(seg, "owner"));
    }
    qobject_unref(reply);
    return g_string_free(g_steal_pointer(&s), false);
}

/*
 * -object dredbox-pool: one session for the brick.  Two backends and the
 * RMC given pool=ID hold their leases under the object's client name; a
 * backend cannot name another; the object cannot go while it is used.
 */
static void test_pool_object(void)
{
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *args = g_strdup_printf(
        "-object dredbox-pool,id=p0,path=%s,client=brick-a "
        DREDBOX_MACHINE ",pool=p0 -m 1536M "
        "-object memory-backend-ram,id=local,size=1G "
        "-object memory-backend-remote,id=r1,size=256M,pool=p0,brick=0 "
        "-object memory-backend-remote,id=r2,size=256M,pool=p0,brick=1 "
        "-numa node,nodeid=0,cpus=0-3,memdev=local "
        "-numa node,nodeid=1,memdev=r1 -numa node,nodeid=2,memdev=r2",
        pool->socket);
    g_autofree char *owners = NULL;
    g_autofree char *bad = NULL, *nopath = NULL, *unreachable = NULL;
    QTestState *qts = qtest_init(args);
    QDict *resp;

    owners = pool_owners(pool);
    g_assert_cmpstr(owners, ==, "brick-a brick-a");
    resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments':"
                     " {'path': '/objects/r1', 'property': 'client'}}");
    g_assert_cmpstr(qdict_get_str(resp, "return"), ==, "brick-a");
    qobject_unref(resp);
    /* The RMC opens what brick-a holds over the same session. */
    resp = qtest_qmp(qts, "{'execute': 'dredbox-rmc-attach-segment',"
                     " 'arguments': {'segment': %u}}",
                     (unsigned)qom_get_uint(qts, "/objects/r2", "segment"));
    g_assert_true(qdict_haskey(resp, "return"));
    qobject_unref(resp);
    resp = qtest_qmp(qts, "{'execute': 'object-del', 'arguments':"
                     " {'id': 'p0'}}");
    g_assert_nonnull(qdict_get_qdict(resp, "error"));
    qobject_unref(resp);
    qtest_quit(qts);
    g_assert_cmpuint(dredbox_pool_used(pool, 0), ==, 0);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 0);

    bad = g_strdup_printf("-object dredbox-pool,id=p0,path=%s "
                          DREDBOX_MACHINE " -m 1G -object memory-backend-"
                          "remote,id=r1,size=256M,pool=p0,client=brick-b",
                          pool->socket);
    dredbox_assert_qemu_fails(bad, "client=brick-b: the dredbox-pool object"
                              " 'p0' holds the leases under its own client"
                              " name");
    nopath = g_strdup(DREDBOX_MACHINE " -m 1G -object dredbox-pool,id=p0");
    dredbox_assert_qemu_fails(nopath, "Parameter 'path' is missing");
    unreachable = g_strdup(DREDBOX_MACHINE " -m 1G -object dredbox-pool,"
                           "id=p0,path=/nonexistent/memd.sock");
    dredbox_assert_qemu_fails(unreachable, "dredbox-pool 'p0': cannot reach"
                              " the memory pool");
    dredbox_pool_stop(pool);
}

typedef struct BadBackend {
    unsigned mib;
    const char *opts;       /* appended to the backend's options */
    const char *message;
} BadBackend;

static const BadBackend bad_backends[] = {
    { 256, ",brick=7", "no memory brick 7" },
    { 768, ",brick=1", "memory brick 1 has no free 768 MiB range" },
    { 100, "", "multiple of" },
    { 256, ",memory-class=persistent", "no persistent memory brick" },
    { 256, ",brick=1,memory-class=hugepage", "memory brick 1 is dram, not"
      " hugepage" },
    { 256, ",segment=99", "segment 99" },
    { 256, ",on-demand=on,segment=1", "exclude each other" },
    { 256, ",latency-class=far", "latency-class" },
    { 256, ",client=a/b", "client name" },
    { 256, ",share=off", "share=off is not supported" },
};

/* Bad requests fail clearly and leave the pool as it was. */
static void test_bad_backend(const void *opaque)
{
    const BadBackend *bad = opaque;
    DredboxPool *pool = dredbox_pool_start(two_bricks);
    g_autofree char *args = remote_node_args(pool, bad->mib, bad->opts);

    dredbox_assert_qemu_fails(args, bad->message);
    g_assert_cmpuint(dredbox_pool_used(pool, 0), ==, 0);
    g_assert_cmpuint(dredbox_pool_used(pool, 1), ==, 0);
    dredbox_pool_stop(pool);
}

typedef struct BadPool {
    const char *opts;
    const char *message;
} BadPool;

static const BadPool bad_pools[] = {
    { "pool=/nonexistent/memd.sock", "cannot reach the memory pool" },
    { "pool=/nonexistent/pool.json", "cannot read pool manifest" },
    { "pool=/dev/null", "cannot reach the memory pool" },
    { "share=on", "Parameter 'pool' is missing" },
};

/* Without a usable pool there is no remote memory, and QEMU says why. */
static void test_bad_pool(const void *opaque)
{
    const BadPool *bad = opaque;
    g_autofree char *args = g_strdup_printf(
        DREDBOX_MACHINE " -m 1280M "
        "-object memory-backend-ram,id=local,size=1G "
        "-object memory-backend-remote,id=remote,size=256M,%s "
        "-numa node,nodeid=0,cpus=0-3,memdev=local "
        "-numa node,nodeid=1,memdev=remote", bad->opts);

    dredbox_assert_qemu_fails(args, bad->message);
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_machine("dredbox-compute")) {
        g_test_skip("dredbox-compute machine not built");
        return g_test_run();
    }

    qtest_add_func("/dredbox-remote-memory/shared-node", test_shared_node);
    qtest_add_func("/dredbox-remote-memory/latency-classes",
                   test_latency_classes);
    qtest_add_func("/dredbox-remote-memory/object-add-del",
                   test_object_add_del);
    qtest_add_func("/dredbox-remote-memory/memory-map", test_memory_map);
    qtest_add_func("/dredbox-remote-memory/pool-object", test_pool_object);
    qtest_add_func("/dredbox-remote-memory/unreachable", test_unreachable);
    qtest_add_func("/dredbox-remote-memory/poison", test_poison);
    qtest_add_func("/dredbox-remote-memory/pool-dies-in-alloc",
                   test_pool_dies_in_alloc);
    qtest_add_func("/dredbox-remote-memory/memory-map-pmem",
                   test_memory_map_pmem);
    qtest_add_func("/dredbox-remote-memory/virtio-mem-hotplug",
                   test_virtio_mem_hotplug);
    for (i = 0; i < ARRAY_SIZE(bad_backends); i++) {
        g_autofree char *name =
            g_strdup_printf("/dredbox-remote-memory/bad-backend/%d", i);

        qtest_add_data_func(name, &bad_backends[i], test_bad_backend);
    }
    for (i = 0; i < ARRAY_SIZE(bad_pools); i++) {
        g_autofree char *name =
            g_strdup_printf("/dredbox-remote-memory/bad-pool/%d", i);

        qtest_add_data_func(name, &bad_pools[i], test_bad_pool);
    }
    return g_test_run();
}
