/*
 * qtest for the dReDBox Remote Memory Controller: every register's reset
 * value and write mask, commit semantics and refusals, translation by
 * add and subtract onto real pool segments (checked in the segment from
 * the host), entry boundaries, faults latched, counted and signalled,
 * link changes, the QMP commands and events, and a sweep of random
 * writes over the whole configuration page.  For the doorbells the test
 * plays the accelerator brick at the other end of the link.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qemu/sockets.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "hw/dredbox/accel-queue.h"
#include "hw/dredbox/rmc-regs.h"
#include "hw/dredbox/rmc-table.h"
#include <libfdt.h>
#include <poll.h>
#include "dredbox-qtest-util.h"

#define CFG         0xff080000ULL
#define LOW_BASE    (1 * GiB)
#define LOW_SIZE    (1 * GiB)
#define HIGH_BASE   (512 * GiB)
#define HIGH_SIZE   (256 * GiB)
#define PORTS       8

#define NP(p, f)    (CFG + RMC_NP_BASE + (p) * RMC_NP_STRIDE + (f))
#define WIDE(p, f)  (CFG + RMC_WIDE_BASE + (p) * RMC_WIDE_STRIDE + (f))

/* Sparse: a brick costs host memory only for its segments. */
static const char *const bricks[] = { "0:4G", "1:4G", NULL };

static uint32_t rd(QTestState *qts, uint64_t off)
{
    return qtest_readl(qts, CFG + off);
}

static void wr(QTestState *qts, uint64_t off, uint32_t v)
{
    qtest_writel(qts, CFG + off, v);
}

static void wr64(QTestState *qts, uint64_t addr, uint64_t v)
{
    qtest_writel(qts, addr, v);
    qtest_writel(qts, addr + 4, v >> 32);
}

static uint64_t rd64(QTestState *qts, uint64_t addr)
{
    return qtest_readl(qts, addr) | (uint64_t)qtest_readl(qts, addr + 4) << 32;
}

/* Program port @p's wide entry (pending only). */
static void set_wide(QTestState *qts, int p, uint32_t netinfo, uint64_t start,
                     uint64_t end, uint64_t offset)
{
    qtest_writel(qts, WIDE(p, RMC_WIDE_NETINFO), netinfo);
    qtest_writel(qts, WIDE(p, RMC_WIDE_CTRL), RMC_CTRL_ENABLE);
    wr64(qts, WIDE(p, RMC_WIDE_START), start);
    wr64(qts, WIDE(p, RMC_WIDE_END), end);
    wr64(qts, WIDE(p, RMC_WIDE_OFFSET), offset);
}

static QDict *qmp_ok(QTestState *qts, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static QDict *qmp_ok(QTestState *qts, const char *fmt, ...)
{
    va_list ap;
    QDict *resp;

    va_start(ap, fmt);
    resp = qtest_vqmp(qts, fmt, ap);
    va_end(ap);
    if (qdict_haskey(resp, "error")) {
        g_test_message("QMP error: %s", qdict_get_str(
            qdict_get_qdict(resp, "error"), "desc"));
    }
    g_assert_true(qdict_haskey(resp, "return"));
    return resp;
}

/* The error description of a command that must fail. */
static char *qmp_err(QTestState *qts, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static char *qmp_err(QTestState *qts, const char *fmt, ...)
{
    va_list ap;
    QDict *resp;
    char *desc;

    va_start(ap, fmt);
    resp = qtest_vqmp(qts, fmt, ap);
    va_end(ap);
    g_assert_true(qdict_haskey(resp, "error"));
    desc = g_strdup(qdict_get_str(qdict_get_qdict(resp, "error"), "desc"));
    qobject_unref(resp);
    return desc;
}

/* A brick whose RMC can reach @pool, with segment(s) for brick0. */
static QTestState *brick_with_pool(DredboxPool *pool)
{
    g_autofree char *args = g_strdup_printf(
        DREDBOX_MACHINE ",pool=%s,client=brick0", pool->socket);

    return qtest_init(args);
}

/* A segment in @brick, granted writable to the brick named @client. */
static uint32_t pool_alloc_for(DredboxPool *pool, const char *size,
                               int brick, const char *client)
{
    g_autofree char *req = g_strdup_printf(
        "{\"cmd\": \"alloc\", \"size\": \"%s\", \"brick\": %d}", size, brick);
    QDict *reply = dredbox_pool_call(pool, req);
    uint32_t id = qdict_get_int(qdict_get_qdict(reply, "segment"), "id");
    g_autofree char *grant = g_strdup_printf(
        "{\"cmd\": \"grant\", \"segment\": %u, \"client\": \"%s\","
        " \"writable\": true}", id, client);

    qobject_unref(reply);
    /* The admin ("qtest") owns it; the brick uses it through a grant. */
    qobject_unref(dredbox_pool_call(pool, grant));
    return id;
}

static uint32_t pool_alloc(DredboxPool *pool, const char *size, int brick)
{
    return pool_alloc_for(pool, size, brick, "brick0");
}

static void attach(QTestState *qts, uint32_t seg)
{
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-attach-segment',"
                         " 'arguments': {'segment': %u}}", seg));
}

static void detach(QTestState *qts, uint32_t seg)
{
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-detach-segment',"
                         " 'arguments': {'segment': %u}}", seg));
}

/* Program, enable and commit @port's entry over QMP. */
static void set_entry(QTestState *qts, int port, int brick, uint64_t start,
                      uint64_t end, uint64_t offset, bool add)
{
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-set-entry',"
                         " 'arguments': {'port': %d, 'brick': %d,"
                         " 'start': %" PRIu64 ", 'end': %" PRIu64 ","
                         " 'offset': %" PRIu64 ", 'add': %i}}",
                         port, brick, start, end, offset, add));
}

/* A fabric circuit from @port to memory brick @brick. */
static void connect_port(QTestState *qts, int port, int brick)
{
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-connect',"
                         " 'arguments': {'port': %d, 'brick': %d}}",
                         port, brick));
    qtest_qmp_eventwait(qts, "DREDBOX_RMC_LINK_CHANGE");
}

static void test_reset_values(void)
{
    QTestState *qts = qtest_init(DREDBOX_MACHINE);

    g_assert_cmphex(rd(qts, RMC_ID), ==, RMC_ID_VALUE);
    g_assert_cmphex(rd(qts, RMC_VERSION), ==, RMC_VERSION_VALUE);
    g_assert_cmphex(rd(qts, RMC_CAP), ==,
                    PORTS | 16 << RMC_CAP_NP_STRIDE_SHIFT |
                    64 << RMC_CAP_WIDE_STRIDE_SHIFT | RMC_CAP_IRQ |
                    RMC_CAP_DOORBELL);
    g_assert_cmphex(rd(qts, RMC_COMMIT), ==, 0);
    g_assert_cmphex(rd(qts, RMC_COMMIT_STATUS), ==, 0);
    g_assert_cmphex(rd(qts, RMC_LINK), ==, 0);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, 0);
    g_assert_cmphex(rd(qts, RMC_IRQ_ENABLE), ==, 0);
    g_assert_cmphex(rd64(qts, CFG + RMC_LOW_WINDOW_BASE), ==, LOW_BASE);
    g_assert_cmphex(rd64(qts, CFG + RMC_LOW_WINDOW_SIZE), ==, LOW_SIZE);
    g_assert_cmphex(rd64(qts, CFG + RMC_HIGH_WINDOW_BASE), ==, HIGH_BASE);
    g_assert_cmphex(rd64(qts, CFG + RMC_HIGH_WINDOW_SIZE), ==, HIGH_SIZE);
    g_assert_cmphex(rd(qts, RMC_UNMAPPED_FAULTS), ==, 0);
    g_assert_cmphex(rd64(qts, CFG + RMC_UNMAPPED_ADDR), ==, 0);
    g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, 0);
    for (int p = 0; p < PORTS; p++) {
        for (int f = 0; f < RMC_NP_STRIDE; f += 4) {
            g_assert_cmphex(qtest_readl(qts, NP(p, f)), ==, 0);
        }
        for (int f = 0; f < RMC_WIDE_STRIDE; f += 4) {
            g_assert_cmphex(qtest_readl(qts, WIDE(p, f)), ==, 0);
        }
    }
    qtest_quit(qts);
}

typedef struct RegMask {
    uint64_t addr;
    uint32_t mask;      /* bits that keep what is written */
} RegMask;

/* Writable bits keep their value, the rest read as zero or stay put. */
static void test_write_masks(void)
{
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    const RegMask regs[] = {
        { CFG + RMC_IRQ_ENABLE, RMC_IRQ_MASK },
        { NP(3, RMC_NP_NETINFO), RMC_NETINFO_MASK },
        { NP(3, RMC_NP_START), 0xffffffff },
        { NP(3, RMC_NP_END), 0xffffffff },
        { NP(3, RMC_NP_OFFSET), 0xffffffff },
        { WIDE(5, RMC_WIDE_NETINFO), RMC_NETINFO_MASK },
        { WIDE(5, RMC_WIDE_CTRL), RMC_CTRL_MASK },
        { WIDE(5, RMC_WIDE_START + 4), 0xffffffff },
        { WIDE(5, RMC_WIDE_END + 4), 0xffffffff },
        { WIDE(5, RMC_WIDE_OFFSET + 4), 0xffffffff },
        /* read-only */
        { CFG + RMC_ID, 0 }, { CFG + RMC_VERSION, 0 }, { CFG + RMC_CAP, 0 },
        { CFG + RMC_COMMIT_STATUS, 0 }, { CFG + RMC_LINK, 0 },
        { CFG + RMC_LOW_WINDOW_BASE, 0 }, { CFG + RMC_LOW_WINDOW_BASE + 4, 0 },
        { CFG + RMC_LOW_WINDOW_SIZE, 0 }, { CFG + RMC_LOW_WINDOW_SIZE + 4, 0 },
        { CFG + RMC_HIGH_WINDOW_BASE, 0 },
        { CFG + RMC_HIGH_WINDOW_BASE + 4, 0 },
        { CFG + RMC_HIGH_WINDOW_SIZE, 0 },
        { CFG + RMC_HIGH_WINDOW_SIZE + 4, 0 },
        { CFG + RMC_UNMAPPED_ADDR, 0 }, { CFG + RMC_UNMAPPED_ADDR + 4, 0 },
        { WIDE(5, RMC_WIDE_STATUS), 0 }, { WIDE(5, RMC_WIDE_FAULTS), 0 },
        { WIDE(5, RMC_WIDE_FAULT_ADDR), 0 },
        { WIDE(5, RMC_WIDE_FAULT_ADDR + 4), 0 },
        { WIDE(5, RMC_WIDE_FAULT_REASON), 0 },
        { WIDE(5, RMC_WIDE_COMPLETIONS), 0 },
        /* writes clear a latch or bits: the count and bits stay 0 */
        { CFG + RMC_IRQ_STATUS, 0 }, { CFG + RMC_UNMAPPED_FAULTS, 0 },
        { WIDE(5, RMC_WIDE_FAULT_CLEAR), 0 }, { CFG + RMC_COMPLETION, 0 },
        /* no doorbell bound: writes are dropped, none counted */
        { WIDE(5, RMC_WIDE_DOORBELL), 0 },
        /* reserved */
        { CFG + 0x1054, 0 }, { CFG + 0x1ffc, 0 },
        { NP(PORTS, 0), 0 }, { WIDE(PORTS, 0), 0 }, { CFG + 0xfffc, 0 },
    };

    for (int i = 0; i < ARRAY_SIZE(regs); i++) {
        uint32_t before = qtest_readl(qts, regs[i].addr);

        qtest_writel(qts, regs[i].addr, 0xffffffff);
        g_assert_cmphex(qtest_readl(qts, regs[i].addr), ==,
                        regs[i].mask ? regs[i].mask : before);
        qtest_writel(qts, regs[i].addr, 0);
        g_assert_cmphex(qtest_readl(qts, regs[i].addr), ==,
                        regs[i].mask ? 0 : before);
    }
    /* The prototype table and the wide table are views of one entry. */
    qtest_writel(qts, NP(2, RMC_NP_START), 0x40000000);
    g_assert_cmphex(rd64(qts, WIDE(2, RMC_WIDE_START)), ==, 0x40000000);
    g_assert_cmphex(qtest_readl(qts, WIDE(2, RMC_WIDE_CTRL)), ==,
                    RMC_CTRL_ENABLE);
    qtest_quit(qts);
}

static void assert_commit_refused(QTestState *qts, uint32_t mask, int port,
                                  uint32_t reason)
{
    uint32_t commits = rd(qts, RMC_COMMIT);

    wr(qts, RMC_COMMIT, mask);
    g_assert_cmphex(rd(qts, RMC_COMMIT_STATUS), ==,
                    reason | port << RMC_COMMIT_PORT_SHIFT);
    g_assert_cmpuint(rd(qts, RMC_COMMIT), ==, commits);
    g_assert_true(rd(qts, RMC_IRQ_STATUS) & RMC_IRQ_COMMIT_ERROR);
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_COMMIT_ERROR);
}

/*
 * Translation onto a real segment: subtract in the low window, add in the
 * high window; pending entries are not live until committed; bad entries
 * are refused without touching the live table.
 */
static void test_translate_and_commit(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    /* After a 2 GiB filler, the segment is at 2 GiB in brick 1. */
    uint32_t filler = pool_alloc(pool, "2G", 1);
    uint32_t seg = pool_alloc(pool, "256M", 1);
    const uint64_t seg_off = 2 * GiB;
    QTestState *qts = brick_with_pool(pool);
    uint64_t size;
    uint8_t *mem = dredbox_pool_map(pool, seg, &size);
    const uint64_t lo_start = LOW_BASE + 256 * MiB;
    const uint64_t lo_end = lo_start + 64 * MiB - 1;

    attach(qts, seg);
    /* Cabled by default: port n to the pool's n-th brick. */
    g_assert_cmphex(rd(qts, RMC_LINK), ==, 0x3);
    connect_port(qts, 0, 1);

    g_assert_cmpuint(filler, !=, seg);
    /* Port 0, add: low-window [lo_start, lo_end] -> segment at 16 MiB. */
    set_wide(qts, 0, 1 | RMC_NETINFO_ADD, lo_start, lo_end,
             seg_off + 16 * MiB - lo_start);
    g_assert_cmphex(qtest_readl(qts, WIDE(0, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_LINK | RMC_STATUS_PENDING);
    /* Not live yet: the access faults as unmapped. */
    qtest_writeq(qts, lo_start, 0x1111);
    g_assert_cmpuint(rd(qts, RMC_UNMAPPED_FAULTS), ==, 1);
    wr(qts, RMC_COMMIT, 0x1);
    g_assert_cmphex(rd(qts, RMC_COMMIT_STATUS), ==, RMC_COMMIT_OK);
    g_assert_cmpuint(rd(qts, RMC_COMMIT), ==, 1);
    g_assert_cmphex(qtest_readl(qts, WIDE(0, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_LINK | RMC_STATUS_LIVE);

    /* start, end and end + 1 */
    qtest_writeq(qts, lo_start, 0xa0a0a0a0a0a0a0a0ULL);
    qtest_writeq(qts, lo_end - 7, 0xe0e0e0e0e0e0e0e0ULL);
    g_assert_cmphex(*(uint64_t *)(mem + 16 * MiB), ==, 0xa0a0a0a0a0a0a0a0ULL);
    g_assert_cmphex(*(uint64_t *)(mem + 80 * MiB - 8), ==,
                    0xe0e0e0e0e0e0e0e0ULL);
    g_assert_cmphex(qtest_readq(qts, lo_start), ==, 0xa0a0a0a0a0a0a0a0ULL);
    g_assert_cmphex(qtest_readq(qts, lo_end + 1), ==, 0);
    g_assert_cmpuint(rd(qts, RMC_UNMAPPED_FAULTS), ==, 2);
    g_assert_cmphex(rd64(qts, CFG + RMC_UNMAPPED_ADDR), ==, lo_end + 1);
    /* And the host's writes reach the guest. */
    memcpy(mem + 16 * MiB + 4096, "dReDBox!", 8);
    g_assert_cmphex(qtest_readq(qts, lo_start + 4096), ==,
                    0x21786f4244655264ULL);

    /* Port 1: refusals, the live table untouched. */
    set_wide(qts, 1, 1 | RMC_NETINFO_ADD, HIGH_BASE, HIGH_BASE + 1 * MiB - 1,
             -4096ULL);
    assert_commit_refused(qts, 0x2, 1, RMC_COMMIT_WRAP);
    wr64(qts, WIDE(1, RMC_WIDE_START), HIGH_BASE - 4096);
    assert_commit_refused(qts, 0x2, 1, RMC_COMMIT_NO_WINDOW);
    wr64(qts, WIDE(1, RMC_WIDE_START), HIGH_BASE + 2048);
    assert_commit_refused(qts, 0x2, 1, RMC_COMMIT_MISALIGNED);
    wr64(qts, WIDE(1, RMC_WIDE_START), HIGH_BASE + 2 * MiB);
    assert_commit_refused(qts, 0x2, 1, RMC_COMMIT_BAD_RANGE);
    /* An entry overlapping port 0's: refused, port 0 unchanged. */
    set_wide(qts, 1, 1, lo_end - 4095, lo_end + 4096, 0);
    assert_commit_refused(qts, 0x2, 1, RMC_COMMIT_OVERLAP);
    g_assert_cmphex(qtest_readq(qts, lo_start), ==, 0xa0a0a0a0a0a0a0a0ULL);

    /* Port 1, subtract: high window -> segment at 200 MiB. */
    set_wide(qts, 1, 1, HIGH_BASE + 1 * MiB, HIGH_BASE + 2 * MiB - 1,
             HIGH_BASE + 1 * MiB - (seg_off + 200 * MiB));
    /* Committing only port 1 leaves port 0's pending edits pending. */
    qtest_writel(qts, WIDE(0, RMC_WIDE_CTRL), 0);
    wr(qts, RMC_COMMIT, 0x2);
    g_assert_cmphex(rd(qts, RMC_COMMIT_STATUS), ==, RMC_COMMIT_OK);
    qtest_writel(qts, HIGH_BASE + 1 * MiB + 12, 0x5eed);
    g_assert_cmphex(*(uint32_t *)(mem + 200 * MiB + 12), ==, 0x5eed);
    g_assert_cmphex(qtest_readq(qts, lo_start), ==, 0xa0a0a0a0a0a0a0a0ULL);
    g_assert_true(qtest_readl(qts, WIDE(0, RMC_WIDE_STATUS)) &
                  RMC_STATUS_PENDING);
    /* Now commit port 0's disable: its range faults again. */
    wr(qts, RMC_COMMIT, 0xffffffff);
    g_assert_cmphex(qtest_readq(qts, lo_start), ==, 0);
    g_assert_cmpuint(rd(qts, RMC_UNMAPPED_FAULTS), ==, 3);

    munmap(mem, size);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

/* The prototype's 16-byte entries work as the source describes. */
static void test_prototype_table(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 0);
    QTestState *qts = brick_with_pool(pool);
    uint64_t size;
    uint8_t *mem = dredbox_pool_map(pool, seg, &size);

    attach(qts, seg);
    connect_port(qts, 2, 0);
    /* 1 GiB .. 1 GiB + 128 MiB - 1, subtract 1 GiB: brick 0 offset 0. */
    qtest_writel(qts, NP(2, RMC_NP_NETINFO), 0);
    qtest_writel(qts, NP(2, RMC_NP_START), 0x40000000);
    qtest_writel(qts, NP(2, RMC_NP_END), 0x47ffffff);
    qtest_writel(qts, NP(2, RMC_NP_OFFSET), 0x40000000);
    wr(qts, RMC_COMMIT, 1 << 2);
    qtest_writel(qts, 0x40000000 + 0x123400, 0xcafe);
    g_assert_cmphex(*(uint32_t *)(mem + 0x123400), ==, 0xcafe);
    munmap(mem, size);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

/* Faults: per port with their reason, latched once, counted always. */
static void test_faults_and_irq(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 1);
    QTestState *qts = brick_with_pool(pool);
    const uint64_t a = LOW_BASE;
    QDict *ev, *resp;

    qtest_irq_intercept_out_named(qts, "/machine/rmc", "sysbus-irq");
    wr(qts, RMC_IRQ_ENABLE, RMC_IRQ_MASK);
    attach(qts, seg);
    /* 256 MiB entry, but only its first 128 MiB are a segment. */
    set_entry(qts, 3, 1, a, a + 256 * MiB - 1, a, false);

    /* No circuit yet. */
    g_assert_false(qtest_get_irq(qts, 0));
    qtest_readl(qts, a + 8);
    g_assert_true(qtest_get_irq(qts, 0));
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_FAULT");
    g_assert_cmpuint(qdict_get_int(qdict_get_qdict(ev, "data"), "port"),
                     ==, 3);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "no-link");
    qobject_unref(ev);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULTS)), ==, 1);
    g_assert_cmphex(rd64(qts, WIDE(3, RMC_WIDE_FAULT_ADDR)), ==, a + 8);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_NO_LINK);
    g_assert_true(qtest_readl(qts, WIDE(3, RMC_WIDE_STATUS)) &
                  RMC_STATUS_FAULT);
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_FAULT);
    g_assert_false(qtest_get_irq(qts, 0));

    /* A circuit to the wrong brick. */
    connect_port(qts, 3, 0);
    g_assert_true(qtest_get_irq(qts, 0));   /* link change */
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, RMC_IRQ_LINK);
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_LINK);
    qtest_writeb(qts, a + 9, 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_WRONG_BRICK);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULTS)), ==, 2);

    /* The right brick: the segment works, the rest is not allocated. */
    connect_port(qts, 3, 1);
    qtest_writel(qts, a + 128 * MiB - 4, 0x77);
    g_assert_cmphex(qtest_readl(qts, a + 128 * MiB - 4), ==, 0x77);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULTS)), ==, 2);
    qtest_readl(qts, a + 128 * MiB);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_NOT_ALLOCATED);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULTS)), ==, 3);

    /* Clearing the latch re-arms the event. */
    qtest_writel(qts, WIDE(3, RMC_WIDE_FAULT_CLEAR), 1);
    g_assert_false(qtest_readl(qts, WIDE(3, RMC_WIDE_STATUS)) &
                   RMC_STATUS_FAULT);
    qtest_readl(qts, a + 200 * MiB);
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_FAULT");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "not-allocated");
    qobject_unref(ev);

    /* Tearing the circuit down makes mapped memory fault. */
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-disconnect',"
                         " 'arguments': {'port': 3}}"));
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_LINK_CHANGE");
    g_assert_false(qdict_get_bool(qdict_get_qdict(ev, "data"), "link-up"));
    qobject_unref(ev);
    g_assert_cmphex(qtest_readl(qts, a + 128 * MiB - 4), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_NO_LINK);

    /* Outside every entry: the unmapped latch, its event has no port. */
    g_assert_cmpuint(rd(qts, RMC_UNMAPPED_FAULTS), ==, 0);
    qtest_writel(qts, HIGH_BASE + 12, 1);
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_FAULT");
    g_assert_false(qdict_haskey(qdict_get_qdict(ev, "data"), "port"));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "unmapped");
    g_assert_cmphex(qdict_get_int(qdict_get_qdict(ev, "data"), "address"),
                    ==, HIGH_BASE + 12);
    g_assert_true(qdict_get_bool(qdict_get_qdict(ev, "data"), "write"));
    qobject_unref(ev);
    qtest_readl(qts, HIGH_BASE + 16);
    g_assert_cmpuint(rd(qts, RMC_UNMAPPED_FAULTS), ==, 2);
    g_assert_cmphex(rd64(qts, CFG + RMC_UNMAPPED_ADDR), ==, HIGH_BASE + 16);
    /* Latched: the second access was only counted; a write re-arms. */
    resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    g_assert_cmpuint(qdict_get_int(qdict_get_qdict(resp, "return"),
                                   "unmapped-faults"), ==, 2);
    qobject_unref(resp);
    /* An event would have come before the reply. */
    g_assert_null(qtest_qmp_event_ref(qts, "DREDBOX_RMC_FAULT"));
    wr(qts, RMC_UNMAPPED_FAULTS, 0);
    g_assert_cmpuint(rd(qts, RMC_UNMAPPED_FAULTS), ==, 2);
    qtest_readl(qts, HIGH_BASE + 20);
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_FAULT");
    g_assert_false(qdict_get_bool(qdict_get_qdict(ev, "data"), "write"));
    qobject_unref(ev);

    /* Reset clears entries and counters, keeps the rack's links. */
    qtest_system_reset(qts);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULTS)), ==, 0);
    g_assert_cmphex(qtest_readl(qts, WIDE(3, RMC_WIDE_CTRL)), ==, 0);
    g_assert_cmpuint(rd(qts, RMC_COMMIT), ==, 0);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

static void wait_migration(QTestState *qts)
{
    for (int i = 0; i < 500; i++) {
        QDict *resp = qmp_ok(qts, "{'execute': 'query-migrate'}");
        const char *st = qdict_get_try_str(qdict_get_qdict(resp, "return"),
                                           "status");
        bool done = st && !strcmp(st, "completed");

        g_assert_true(!st || strcmp(st, "failed"));
        qobject_unref(resp);
        if (done) {
            return;
        }
        g_usleep(20000);
    }
    g_assert_not_reached();
}

/*
 * Migrate @src through a file into a new brick and quit @src; the new
 * brick, its migration done.
 */
static QTestState *migrate_through_file(QTestState *src)
{
    g_autofree char *dir = g_dir_make_tmp("dredbox-rmc-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "state", NULL);
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    QTestState *dst;

    qobject_unref(qmp_ok(src, "{'execute': 'migrate', 'arguments':"
                         " {'uri': %s}}", uri));
    wait_migration(src);
    qtest_quit(src);
    dst = qtest_initf(DREDBOX_MACHINE " -incoming %s", uri);
    wait_migration(dst);
    unlink(file);
    rmdir(dir);
    return dst;
}

static void assert_migration_refused(QTestState *qts, const char *why)
{
    char *err = qmp_err(qts, "{'execute': 'migrate', 'arguments':"
                        " {'uri': 'exec:cat > /dev/null'}}");

    g_assert_nonnull(strstr(err, why));
    g_free(err);
}

/* The QMP view matches the registers; bad requests get clear errors. */
static void test_qmp(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 0);
    QTestState *qts = brick_with_pool(pool);
    QDict *resp, *info, *port;
    QList *segs;
    char *err;

    attach(qts, seg);
    connect_port(qts, 7, 0);
    set_entry(qts, 7, 0, HIGH_BASE, HIGH_BASE + 4095, HIGH_BASE, false);
    g_assert_cmphex(rd64(qts, WIDE(7, RMC_WIDE_START)), ==, HIGH_BASE);
    g_assert_cmphex(rd64(qts, WIDE(7, RMC_WIDE_OFFSET)), ==, HIGH_BASE);
    g_assert_cmphex(qtest_readl(qts, WIDE(7, RMC_WIDE_NETINFO)), ==, 0);

    resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    info = qdict_get_qdict(resp, "return");
    g_assert_cmpuint(qlist_size(qdict_get_qlist(info, "ports")), ==, PORTS);
    port = qobject_to(QDict, qlist_peek(qdict_get_qlist(info, "ports")));
    g_assert_cmpuint(qdict_get_int(port, "port"), ==, 0);
    g_assert_true(qdict_get_bool(port, "link-up"));
    g_assert_cmpuint(qdict_get_int(port, "linked-brick"), ==, 0);
    segs = qdict_get_qlist(info, "segments");
    g_assert_cmpuint(qlist_size(segs), ==, 1);
    g_assert_cmpuint(qdict_get_int(qobject_to(QDict, qlist_peek(segs)),
                                   "segment"), ==, seg);
    g_assert_cmpuint(qdict_get_int(info, "commits"), ==, 1);
    qobject_unref(resp);

    err = qmp_err(qts, "{'execute': 'dredbox-rmc-set-entry',"
                  " 'arguments': {'port': 8, 'brick': 0, 'start': 0,"
                  " 'end': 4095, 'offset': 0, 'add': true}}");
    g_assert_cmpstr(err, ==, "port 8 does not exist: this RMC has ports 0"
                    " to 7");
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-set-entry',"
                  " 'arguments': {'port': 6, 'brick': 0, 'start': %" PRIu64
                  ", 'end': %" PRIu64 ", 'offset': 0, 'add': true}}",
                  HIGH_BASE, HIGH_BASE + 8191);
    g_assert_cmpstr(err, ==, "RMC commit refused: port 6: the range"
                    " overlaps another enabled entry");
    g_free(err);
    /* The refused entry did not stay pending either. */
    g_assert_cmphex(qtest_readl(qts, WIDE(6, RMC_WIDE_CTRL)), ==, 0);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-attach-segment',"
                  " 'arguments': {'segment': %u}}", seg);
    g_assert_cmpstr(err, ==, "segment 1 is already attached");
    g_free(err);
    /* Segment 2: the pool's admin keeps it to itself. */
    qobject_unref(dredbox_pool_call(pool, "{\"cmd\": \"alloc\","
                                    " \"size\": \"128M\"}"));
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-attach-segment',"
                  " 'arguments': {'segment': 2}}");
    g_assert_cmpstr(err, ==, "memory pool refused: segment 2 is not granted"
                    " to brick0");
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-detach-segment',"
                  " 'arguments': {'segment': 9}}");
    g_assert_cmpstr(err, ==, "segment 9 is not attached");
    g_free(err);

    /* Attached segments are host memory a migration cannot carry. */
    assert_migration_refused(qts, "pool segments are attached");

    /* Detaching the segment unmaps it: the entry stays, accesses fault. */
    qtest_writel(qts, HIGH_BASE, 1);
    g_assert_cmphex(qtest_readl(qts, HIGH_BASE), ==, 1);
    detach(qts, seg);
    g_assert_cmphex(qtest_readl(qts, HIGH_BASE), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, WIDE(7, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_NOT_ALLOCATED);
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-clear-entry',"
                         " 'arguments': {'port': 7}}"));
    g_assert_cmphex(qtest_readl(qts, WIDE(7, RMC_WIDE_STATUS)) &
                    RMC_STATUS_LIVE, ==, 0);
    qtest_quit(qts);

    /* Without a pool, attaching says how to give one. */
    qts = qtest_init(DREDBOX_MACHINE);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-attach-segment',"
                  " 'arguments': {'segment': 1}}");
    g_assert_nonnull(strstr(err, "-machine dredbox-compute,pool=PATH"));
    g_free(err);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

/* Random values at every offset of the page: the device keeps working. */
static void test_register_sweep(void)
{
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    GRand *rand = g_rand_new_with_seed(0xdb0c);
    QDict *resp;

    for (uint64_t off = 0; off < RMC_CONFIG_SIZE; off += 4) {
        qtest_writel(qts, CFG + off, g_rand_int(rand));
        qtest_readl(qts, CFG + off);
    }
    for (int i = 0; i < 2000; i++) {
        uint64_t off = g_rand_int_range(rand, 0, RMC_CONFIG_SIZE / 8) * 8;

        qtest_writeq(qts, CFG + off, (uint64_t)g_rand_int(rand) << 32 |
                     g_rand_int(rand));
        wr(qts, RMC_COMMIT, g_rand_int(rand));
        qtest_readq(qts, LOW_BASE + g_rand_int_range(rand, 0, 1 << 30));
    }
    g_rand_free(rand);
    g_assert_cmphex(rd(qts, RMC_ID), ==, RMC_ID_VALUE);
    resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    qobject_unref(resp);
    qtest_quit(qts);
}

/* Port @n of a query-dredbox-rmc reply. */
static QDict *port_info(QDict *resp, int n)
{
    QDict *info = qdict_get_qdict(resp, "return");
    const QListEntry *e = qlist_first(qdict_get_qlist(info, "ports"));

    while (n--) {
        e = qlist_next(e);
    }
    return qobject_to(QDict, qlist_entry_obj(e));
}

/* Entries, links and counters survive a migration; the data path too. */
static void test_migration(void)
{
    QTestState *src = qtest_init(DREDBOX_MACHINE);
    QTestState *dst;
    QDict *resp, *port;

    set_wide(src, 4, 3 | RMC_NETINFO_ADD, HIGH_BASE, HIGH_BASE + 8191, 4096);
    wr(src, RMC_COMMIT, 1 << 4);
    set_wide(src, 5, 2, LOW_BASE, LOW_BASE + 4095, 0);   /* pending only */
    connect_port(src, 4, 2);
    qtest_readl(src, HIGH_BASE);                    /* wrong brick */
    qtest_readl(src, LOW_BASE + 8 * MiB);           /* unmapped */
    wr(src, RMC_IRQ_ENABLE, RMC_IRQ_FAULT);

    dst = migrate_through_file(src);
    g_assert_cmpuint(rd(dst, RMC_COMMIT), ==, 1);
    g_assert_cmphex(rd64(dst, WIDE(4, RMC_WIDE_START)), ==, HIGH_BASE);
    g_assert_cmphex(qtest_readl(dst, WIDE(4, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_LIVE | RMC_STATUS_LINK | RMC_STATUS_FAULT);
    g_assert_cmphex(qtest_readl(dst, WIDE(5, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_PENDING);
    g_assert_cmpuint(qtest_readl(dst, WIDE(4, RMC_WIDE_FAULTS)), ==, 1);
    g_assert_cmpuint(rd(dst, RMC_UNMAPPED_FAULTS), ==, 1);
    g_assert_cmphex(rd(dst, RMC_IRQ_ENABLE), ==, RMC_IRQ_FAULT);
    /* The rebuilt data path still refuses with the right reason. */
    qtest_readl(dst, HIGH_BASE + 4096);
    g_assert_cmpuint(qtest_readl(dst, WIDE(4, RMC_WIDE_FAULTS)), ==, 2);
    g_assert_cmpuint(qtest_readl(dst, WIDE(4, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_WRONG_BRICK);
    resp = qmp_ok(dst, "{'execute': 'query-dredbox-rmc'}");
    port = port_info(resp, 4);
    g_assert_cmpuint(qdict_get_int(port, "linked-brick"), ==, 2);
    qobject_unref(resp);
    qtest_quit(dst);
}

/*
 * Doorbells.  The test is the accelerator brick: it listens on a UNIX
 * socket, accepts the RMC's connection and speaks DrqLinkMsg.
 */

#define ACCEL_TIMEOUT_MS 10000

typedef struct Accel {
    char *dir;
    char *path;
    int listen_fd;
    int fd;             /* the RMC's connection, -1 if none */
} Accel;

static Accel *accel_new(void)
{
    Accel *a = g_new0(Accel, 1);

    a->dir = g_dir_make_tmp("dredbox-accel-XXXXXX", NULL);
    g_assert_nonnull(a->dir);
    a->path = g_build_filename(a->dir, "accel.sock", NULL);
    a->listen_fd = unix_listen(a->path, &error_abort);
    a->fd = -1;
    return a;
}

static void accel_hangup(Accel *a)
{
    g_assert_cmpint(a->fd, >=, 0);
    close(a->fd);
    a->fd = -1;
}

static void accel_free(Accel *a)
{
    if (a->fd >= 0) {
        accel_hangup(a);
    }
    close(a->listen_fd);
    unlink(a->path);
    rmdir(a->dir);
    g_free(a->path);
    g_free(a->dir);
    g_free(a);
}

/* Whether @fd becomes readable within @ms. */
static bool readable(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r;

    do {
        r = poll(&pfd, 1, ms);
    } while (r < 0 && errno == EINTR);
    g_assert_cmpint(r, >=, 0);
    return r > 0;
}

/* The RMC (re)connects. */
static void accel_accept(Accel *a)
{
    g_assert_cmpint(a->fd, <, 0);
    g_assert_true(readable(a->listen_fd, ACCEL_TIMEOUT_MS));
    a->fd = accept(a->listen_fd, NULL, NULL);
    g_assert_cmpint(a->fd, >=, 0);
}

/* The next message from the RMC is @type with @value. */
static void accel_expect(Accel *a, uint32_t type, uint32_t value)
{
    DrqLinkMsg msg;
    size_t got = 0;

    while (got < sizeof(msg)) {
        ssize_t n;

        g_assert_true(readable(a->fd, ACCEL_TIMEOUT_MS));
        n = recv(a->fd, (char *)&msg + got, sizeof(msg) - got, 0);
        g_assert_cmpint(n, >, 0);
        got += n;
    }
    g_assert_cmpuint(le32_to_cpu(msg.type), ==, type);
    g_assert_cmphex(le32_to_cpu(msg.value), ==, value);
    g_assert_cmphex(le64_to_cpu(msg.arg), ==, 0);
}

/* The RMC hangs up. */
static void accel_expect_eof(Accel *a)
{
    char c;

    g_assert_true(readable(a->fd, ACCEL_TIMEOUT_MS));
    g_assert_cmpint(recv(a->fd, &c, 1, 0), ==, 0);
    accel_hangup(a);
}

static void accel_send_raw(Accel *a, const void *buf, size_t len)
{
    g_assert_cmpint(send(a->fd, buf, len, MSG_NOSIGNAL), ==, len);
}

static void accel_send(Accel *a, uint32_t type, uint32_t value)
{
    DrqLinkMsg msg = {
        .type = cpu_to_le32(type),
        .value = cpu_to_le32(value),
    };

    accel_send_raw(a, &msg, sizeof(msg));
}

/* The RMC (re)connects and says HELLO for @segment. */
static void accel_hello(Accel *a, uint32_t segment)
{
    accel_accept(a);
    accel_expect(a, DRQ_LINK_HELLO, segment);
}

/* Bind @port's doorbell to @a for @segment: the RMC connects at once. */
static void bind_doorbell(QTestState *qts, Accel *a, int port,
                          uint32_t segment)
{
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-connect-doorbell',"
                         " 'arguments': {'port': %d, 'path': %s,"
                         " 'segment': %u}}", port, a->path, segment));
    accel_hello(a, segment);
}

static void disconnect_doorbell(QTestState *qts, int port)
{
    qobject_unref(qmp_ok(qts, "{'execute':"
                         " 'dredbox-rmc-disconnect-doorbell',"
                         " 'arguments': {'port': %d}}", port));
}

/* The next DREDBOX_RMC_ENGINE_CHANGE is for @port, saying @connected. */
static void engine_change(QTestState *qts, int port, bool connected)
{
    QDict *ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_ENGINE_CHANGE");
    QDict *data = qdict_get_qdict(ev, "data");

    g_assert_cmpuint(qdict_get_int(data, "port"), ==, port);
    g_assert_cmpint(qdict_get_bool(data, "connected"), ==, connected);
    qobject_unref(ev);
}

/* The accelerator answers READY: @port's engine becomes ready. */
static void accel_ready(QTestState *qts, Accel *a, int port)
{
    accel_send(a, DRQ_LINK_READY, DRQ_LINK_OK);
    engine_change(qts, port, true);
}

/* Unbind @port's doorbell, whose engine is ready: it is lost, the link shut. */
static void unbind_doorbell(QTestState *qts, Accel *a, int port)
{
    disconnect_doorbell(qts, port);
    engine_change(qts, port, false);
    accel_expect_eof(a);
}

/* Assert what query-dredbox-rmc says of @port's doorbell (NULL: none). */
static void assert_doorbell(QTestState *qts, int port, const char *path,
                            uint32_t segment, bool connected,
                            uint64_t doorbells, uint64_t completions)
{
    QDict *resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    QDict *db = qdict_get_qdict(port_info(resp, port), "doorbell");

    if (!path) {
        g_assert_null(db);
    } else {
        g_assert_nonnull(db);
        g_assert_cmpstr(qdict_get_str(db, "path"), ==, path);
        g_assert_cmpuint(qdict_get_int(db, "segment"), ==, segment);
        g_assert_cmpint(qdict_get_bool(db, "connected"), ==, connected);
        g_assert_cmpuint(qdict_get_int(db, "doorbells"), ==, doorbells);
        g_assert_cmpuint(qdict_get_int(db, "completions"), ==, completions);
    }
    qobject_unref(resp);
}

/* Wait until the register at @addr reads @want in the bits of @mask. */
static void wait_reg(QTestState *qts, uint64_t addr, uint32_t mask,
                     uint32_t want)
{
    for (int i = 0; i < ACCEL_TIMEOUT_MS / 10; i++) {
        if ((qtest_readl(qts, addr) & mask) == want) {
            return;
        }
        g_usleep(10000);
    }
    g_assert_cmphex(qtest_readl(qts, addr) & mask, ==, want);
}

/*
 * The whole life of a doorbell: HELLO, READY, doorbells out, completions
 * in with their register bit and interrupt, reset, the engine lost and
 * regained by reconnecting, and unbinding.
 */
static void test_doorbell(void)
{
    Accel *a = accel_new();
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    DrqLinkMsg msg = {
        .type = cpu_to_le32(DRQ_LINK_COMPLETION),
        .value = cpu_to_le32(6),
    };

    qtest_irq_intercept_out_named(qts, "/machine/rmc", "sysbus-irq");
    wr(qts, RMC_IRQ_ENABLE, RMC_IRQ_COMPLETION);
    bind_doorbell(qts, a, 1, 7);

    /* Bound but not ready: no engine, doorbells are dropped. */
    assert_doorbell(qts, 1, a->path, 7, false, 0, 0);
    assert_doorbell(qts, 0, NULL, 0, false, 0, 0);
    g_assert_cmphex(qtest_readl(qts, WIDE(1, RMC_WIDE_STATUS)), ==, 0);
    qtest_writel(qts, WIDE(1, RMC_WIDE_DOORBELL), 0x99);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_DOORBELL)), ==, 0);

    /* READY: the engine answers, the guest is told. */
    accel_ready(qts, a, 1);
    g_assert_cmphex(qtest_readl(qts, WIDE(1, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_ENGINE);
    g_assert_cmphex(qtest_readl(qts, WIDE(0, RMC_WIDE_STATUS)), ==, 0);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, RMC_IRQ_ENGINE);
    g_assert_false(qtest_get_irq(qts, 0));      /* not enabled */
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_ENGINE);
    assert_doorbell(qts, 1, a->path, 7, true, 0, 0);

    /* A doorbell carries the guest's value; the dropped one never came. */
    qtest_writel(qts, WIDE(1, RMC_WIDE_DOORBELL), 0x1234);
    accel_expect(a, DRQ_LINK_DOORBELL, 0x1234);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_DOORBELL)), ==, 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 0);
    g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, 0);

    /* A completion: the port's bit, the interrupt, the counter. */
    accel_send(a, DRQ_LINK_COMPLETION, 5);
    wait_reg(qts, CFG + RMC_COMPLETION, ~0u, BIT(1));
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, RMC_IRQ_COMPLETION);
    g_assert_true(qtest_get_irq(qts, 0));
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(0, RMC_WIDE_COMPLETIONS)), ==, 0);
    assert_doorbell(qts, 1, a->path, 7, true, 1, 1);
    /* Write 1 to clear: other bits leave it set. */
    wr(qts, RMC_COMPLETION, ~(uint32_t)BIT(1));
    g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, BIT(1));
    wr(qts, RMC_COMPLETION, BIT(1));
    g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, 0);
    /* The interrupt is RMC_IRQ_STATUS's to clear. */
    g_assert_true(qtest_get_irq(qts, 0));
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_COMPLETION);
    g_assert_false(qtest_get_irq(qts, 0));
    /* The counters are read-only. */
    qtest_writel(qts, WIDE(1, RMC_WIDE_COMPLETIONS), 0);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 1);

    /* Unknown messages are skipped; messages may come in pieces. */
    accel_send(a, 99, 0xdead);
    accel_send_raw(a, &msg, 5);
    g_usleep(50000);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 1);
    g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, 0);
    accel_send_raw(a, (char *)&msg + 5, sizeof(msg) - 5);
    wait_reg(qts, WIDE(1, RMC_WIDE_COMPLETIONS), ~0u, 2);
    g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, BIT(1));
    assert_doorbell(qts, 1, a->path, 7, true, 1, 2);

    /* Reset clears the completion bits; the link and counters stay. */
    qtest_system_reset(qts);
    g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, 0);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, 0);
    g_assert_cmphex(qtest_readl(qts, WIDE(1, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_ENGINE);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_DOORBELL)), ==, 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 2);

    /* The accelerator goes away: the engine is lost. */
    wr(qts, RMC_IRQ_ENABLE, RMC_IRQ_ENGINE);
    accel_hangup(a);
    engine_change(qts, 1, false);
    g_assert_cmphex(qtest_readl(qts, WIDE(1, RMC_WIDE_STATUS)), ==, 0);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, RMC_IRQ_ENGINE);
    g_assert_true(qtest_get_irq(qts, 0));
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_ENGINE);
    g_assert_false(qtest_get_irq(qts, 0));
    qtest_writel(qts, WIDE(1, RMC_WIDE_DOORBELL), 0x55);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_DOORBELL)), ==, 1);
    assert_doorbell(qts, 1, a->path, 7, false, 1, 2);

    /* It comes back: the RMC reconnects by itself with a fresh HELLO. */
    accel_hello(a, 7);
    accel_ready(qts, a, 1);
    g_assert_cmphex(qtest_readl(qts, WIDE(1, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_ENGINE);
    g_assert_true(qtest_get_irq(qts, 0));
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_ENGINE);
    qtest_writel(qts, WIDE(1, RMC_WIDE_DOORBELL), 0xbeef);
    accel_expect(a, DRQ_LINK_DOORBELL, 0xbeef);
    assert_doorbell(qts, 1, a->path, 7, true, 2, 2);

    /* Unbinding loses the engine and closes the link for good. */
    unbind_doorbell(qts, a, 1);
    g_assert_false(readable(a->listen_fd, 3 * 200));
    assert_doorbell(qts, 1, NULL, 0, false, 0, 0);
    g_assert_cmphex(qtest_readl(qts, WIDE(1, RMC_WIDE_STATUS)), ==, 0);
    /* The registers keep the counts; later doorbells are dropped. */
    qtest_writel(qts, WIDE(1, RMC_WIDE_DOORBELL), 0x66);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_DOORBELL)), ==, 2);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 2);

    /* Binding again starts the counts afresh. */
    bind_doorbell(qts, a, 1, 8);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_DOORBELL)), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 0);
    assert_doorbell(qts, 1, a->path, 8, false, 0, 0);
    qtest_quit(qts);
    accel_free(a);
}

/* Refusals, and an accelerator that refuses the queue. */
static void test_doorbell_errors(void)
{
    Accel *a = accel_new();
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    g_autofree char *nowhere = g_build_filename(a->dir, "nowhere", NULL);
    g_autofree char *want = g_strdup_printf(
        "port 2: cannot connect to the accelerator at '%s': %s", nowhere,
        strerror(ENOENT));
    g_autofree char *too_long = g_strnfill(200, 'x');
    g_autofree char *want_long = g_strdup_printf(
        "port 2: the accelerator's socket path '%s' is too long", too_long);
    char *err;

    /* Nothing listens: refused, nothing kept. */
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-connect-doorbell',"
                  " 'arguments': {'port': 2, 'path': %s, 'segment': 3}}",
                  nowhere);
    g_assert_cmpstr(err, ==, want);
    g_free(err);
    assert_doorbell(qts, 2, NULL, 0, false, 0, 0);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-connect-doorbell',"
                  " 'arguments': {'port': 2, 'path': %s, 'segment': 3}}",
                  too_long);
    g_assert_cmpstr(err, ==, want_long);
    g_free(err);
    assert_doorbell(qts, 2, NULL, 0, false, 0, 0);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-disconnect-doorbell',"
                  " 'arguments': {'port': 2}}");
    g_assert_cmpstr(err, ==, "port 2 has no doorbell");
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-connect-doorbell',"
                  " 'arguments': {'port': 8, 'path': %s, 'segment': 3}}",
                  a->path);
    g_assert_cmpstr(err, ==, "port 8 does not exist: this RMC has ports 0"
                    " to 7");
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-disconnect-doorbell',"
                  " 'arguments': {'port': 8}}");
    g_assert_cmpstr(err, ==, "port 8 does not exist: this RMC has ports 0"
                    " to 7");
    g_free(err);
    g_assert_false(readable(a->listen_fd, 0));

    /* A doorbell with nothing bound goes nowhere and counts nothing. */
    qtest_writel(qts, WIDE(2, RMC_WIDE_DOORBELL), 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(2, RMC_WIDE_DOORBELL)), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, WIDE(2, RMC_WIDE_COMPLETIONS)), ==, 0);
    g_assert_cmphex(qtest_readl(qts, WIDE(2, RMC_WIDE_STATUS)), ==, 0);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, 0);

    /* One doorbell per port. */
    bind_doorbell(qts, a, 2, 3);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-connect-doorbell',"
                  " 'arguments': {'port': 2, 'path': %s, 'segment': 4}}",
                  a->path);
    g_assert_cmpstr(err, ==, "port 2 already has a doorbell; disconnect it"
                    " first");
    g_free(err);
    assert_doorbell(qts, 2, a->path, 3, false, 0, 0);
    g_assert_false(readable(a->listen_fd, 0));

    /* READY with an error: never connected, the RMC hangs up... */
    accel_send(a, DRQ_LINK_READY, DRQ_LINK_ERR_SEGMENT);
    accel_expect_eof(a);
    assert_doorbell(qts, 2, a->path, 3, false, 0, 0);
    g_assert_cmphex(qtest_readl(qts, WIDE(2, RMC_WIDE_STATUS)), ==, 0);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, 0);
    g_assert_null(qtest_qmp_event_ref(qts, "DREDBOX_RMC_ENGINE_CHANGE"));
    qtest_writel(qts, WIDE(2, RMC_WIDE_DOORBELL), 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(2, RMC_WIDE_DOORBELL)), ==, 0);

    /* ... and tries again, until the accelerator can take the queue. */
    accel_hello(a, 3);
    accel_ready(qts, a, 2);
    assert_doorbell(qts, 2, a->path, 3, true, 0, 0);
    unbind_doorbell(qts, a, 2);
    qtest_quit(qts);
    accel_free(a);
}

/*
 * An engine that does not read: the RMC never blocks, drops doorbells
 * it cannot send and counts exactly those it sent.
 */
static void test_doorbell_backpressure(void)
{
    Accel *a = accel_new();
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    const uint32_t rings = 4000;
    uint32_t sent, got = 0;
    DrqLinkMsg msg;

    bind_doorbell(qts, a, 0, 1);
    accel_ready(qts, a, 0);
    for (uint32_t i = 0; i < rings; i++) {
        qtest_writel(qts, WIDE(0, RMC_WIDE_DOORBELL), i);
    }
    sent = qtest_readl(qts, WIDE(0, RMC_WIDE_DOORBELL));
    g_assert_cmpuint(sent, >, 0);
    g_assert_cmpuint(sent, <, rings);
    /* Still connected; what was sent arrives in order, whole. */
    g_assert_cmphex(qtest_readl(qts, WIDE(0, RMC_WIDE_STATUS)), ==,
                    RMC_STATUS_ENGINE);
    while (recv(a->fd, &msg, sizeof(msg), MSG_DONTWAIT | MSG_WAITALL) ==
           sizeof(msg)) {
        g_assert_cmpuint(le32_to_cpu(msg.type), ==, DRQ_LINK_DOORBELL);
        g_assert_cmpuint(le32_to_cpu(msg.value), ==, got);
        got++;
    }
    g_assert_cmpuint(got, ==, sent);
    /* With room again, doorbells flow. */
    qtest_writel(qts, WIDE(0, RMC_WIDE_DOORBELL), 0xf00d);
    accel_expect(a, DRQ_LINK_DOORBELL, 0xf00d);
    g_assert_cmpuint(qtest_readl(qts, WIDE(0, RMC_WIDE_DOORBELL)), ==,
                     sent + 1);
    assert_doorbell(qts, 0, a->path, 1, true, sent + 1, 0);
    qtest_quit(qts);
    accel_free(a);
}

/*
 * A bound doorbell blocks migration; once unbound, the completion bits
 * migrate and the host-side doorbell state does not.
 */
static void test_doorbell_migration(void)
{
    Accel *a = accel_new();
    QTestState *src = qtest_init(DREDBOX_MACHINE);
    QTestState *dst;

    bind_doorbell(src, a, 1, 7);
    assert_migration_refused(src, "accelerator doorbells are bound");
    accel_ready(src, a, 1);
    accel_send(a, DRQ_LINK_COMPLETION, 0);
    wait_reg(src, CFG + RMC_COMPLETION, ~0u, BIT(1));
    wr(src, RMC_IRQ_ENABLE, RMC_IRQ_COMPLETION);
    assert_migration_refused(src, "accelerator doorbells are bound");

    unbind_doorbell(src, a, 1);

    dst = migrate_through_file(src);
    g_assert_cmphex(rd(dst, RMC_COMPLETION), ==, BIT(1));
    g_assert_cmphex(rd(dst, RMC_IRQ_STATUS), ==,
                    RMC_IRQ_COMPLETION | RMC_IRQ_ENGINE);
    g_assert_cmphex(rd(dst, RMC_IRQ_ENABLE), ==, RMC_IRQ_COMPLETION);
    g_assert_cmpuint(qtest_readl(dst, WIDE(1, RMC_WIDE_COMPLETIONS)), ==, 0);
    g_assert_cmphex(qtest_readl(dst, WIDE(1, RMC_WIDE_STATUS)), ==, 0);
    assert_doorbell(dst, 1, NULL, 0, false, 0, 0);
    wr(dst, RMC_COMPLETION, BIT(1));
    g_assert_cmphex(rd(dst, RMC_COMPLETION), ==, 0);
    qtest_quit(dst);
    accel_free(a);
}

/* One migration blocker covers attached segments and bound doorbells. */
static void test_doorbell_blocker(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 0);
    QTestState *qts = brick_with_pool(pool);
    Accel *a = accel_new();

    attach(qts, seg);
    bind_doorbell(qts, a, 0, seg);
    assert_migration_refused(qts, "pool segments are attached or"
                             " accelerator doorbells are bound");
    detach(qts, seg);
    assert_migration_refused(qts, "doorbells are bound");
    attach(qts, seg);
    disconnect_doorbell(qts, 0);
    accel_expect_eof(a);
    assert_migration_refused(qts, "pool segments are attached");
    detach(qts, seg);
    /* Neither left: the migration goes through. */
    qobject_unref(qmp_ok(qts, "{'execute': 'migrate', 'arguments':"
                         " {'uri': 'exec:cat > /dev/null'}}"));
    wait_migration(qts);
    qtest_quit(qts);
    accel_free(a);
    dredbox_pool_stop(pool);
}

/* The device tree describes the controller for its driver. */
static void test_fdt(void)
{
    g_autofree void *fdt = dredbox_dump_fdt("", "");
    int node = fdt_node_offset_by_compatible(fdt, -1, "dredbox,rmc-1.0");

    g_assert_cmpint(node, >=, 0);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "reg", 0, 2), ==, CFG);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "reg", 2, 2), ==,
                    RMC_CONFIG_SIZE);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "dredbox,windows", 0, 2),
                    ==, LOW_BASE);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "dredbox,windows", 6, 2),
                    ==, HIGH_SIZE);
    g_assert_cmpuint(dredbox_fdt_cells(fdt, node, "dredbox,num-ports", 0, 1),
                     ==, PORTS);
    g_assert_cmpuint(dredbox_fdt_cells(fdt, node, "interrupts", 1, 1), ==, 8);
}

/* table=PATH: the committed table, published at each commit. */
static void test_table(void)
{
    g_autofree char *dir = g_dir_make_tmp("rmc-table-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "table", NULL);
    QTestState *qts = qtest_initf(DREDBOX_MACHINE
                                  " -global dredbox-rmc.table=%s", path);
    g_autofree RmcTable *t = NULL;
    gsize len;
    uint32_t gen;

    g_assert_true(g_file_get_contents(path, (char **)&t, &len, NULL));
    g_assert_cmpuint(len, ==, sizeof(RmcTable));
    g_assert_cmphex(t->magic, ==, RMC_TABLE_MAGIC);
    g_assert_cmpuint(t->version, ==, RMC_TABLE_VERSION);
    g_assert_cmpuint(t->nports, ==, PORTS);
    g_assert_cmpuint(t->generation % 2, ==, 0);
    gen = t->generation;
    g_assert_false(t->port[3].enabled);
    g_clear_pointer(&t, g_free);

    set_entry(qts, 3, 5, HIGH_BASE, HIGH_BASE + 8191, 4096, true);
    g_assert_true(g_file_get_contents(path, (char **)&t, &len, NULL));
    g_assert_cmpuint(t->generation, >, gen);
    g_assert_cmpuint(t->generation % 2, ==, 0);
    g_assert_true(t->port[3].enabled);
    g_assert_cmpuint(t->port[3].brick, ==, 5);
    g_assert_true(t->port[3].add);
    g_assert_false(t->port[3].link);    /* no pool: no circuit */
    g_assert_cmphex(t->port[3].start, ==, HIGH_BASE);
    g_assert_cmphex(t->port[3].end, ==, HIGH_BASE + 8191);
    g_assert_cmphex(t->port[3].offset, ==, 4096);
    gen = t->generation;
    g_clear_pointer(&t, g_free);

    /* A circuit to the entry's brick is published too. */
    connect_port(qts, 3, 5);
    g_assert_true(g_file_get_contents(path, (char **)&t, &len, NULL));
    g_assert_cmpuint(t->generation, >, gen);
    g_assert_cmpuint(t->generation % 2, ==, 0);
    g_assert_true(t->port[3].link);
    gen = t->generation;
    g_clear_pointer(&t, g_free);

    /* A guest commit through the registers is published too. */
    qtest_writel(qts, WIDE(3, RMC_WIDE_CTRL), 0);
    qtest_writel(qts, CFG + RMC_COMMIT, BIT(3));
    g_assert_true(g_file_get_contents(path, (char **)&t, &len, NULL));
    g_assert_cmpuint(t->generation, >, gen);
    g_assert_false(t->port[3].enabled);
    qtest_quit(qts);
    unlink(path);
    rmdir(dir);

    /* A table that cannot be created stops QEMU. */
    dredbox_assert_qemu_fails(DREDBOX_MACHINE
                              " -global dredbox-rmc.table=/nonexistent/t",
                              "dredbox-rmc: table: Could not create"
                              " '/nonexistent/t'");
}

/*
 * fabric=on: every link starts down until the fabric brings it up; and
 * without client= the brick asks the pool as brick<ID>.
 */
static void test_fabric(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc_for(pool, "128M", 1, "brick3");
    QTestState *qts = qtest_initf(DREDBOX_MACHINE
                                  ",pool=%s,fabric=on,brick-id=3",
                                  pool->socket);
    QDict *resp, *port;

    g_assert_cmphex(rd(qts, RMC_LINK), ==, 0);
    resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    port = port_info(resp, 0);
    g_assert_false(qdict_get_bool(port, "link-up"));
    g_assert_false(qdict_haskey(port, "linked-brick"));
    qobject_unref(resp);

    attach(qts, seg);
    connect_port(qts, 1, 1);
    g_assert_cmphex(rd(qts, RMC_LINK), ==, BIT(1));
    set_entry(qts, 1, 1, LOW_BASE, LOW_BASE + 128 * MiB - 1, LOW_BASE, false);
    qtest_writel(qts, LOW_BASE + 64, 0xf00d);
    g_assert_cmphex(qtest_readl(qts, LOW_BASE + 64), ==, 0xf00d);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_FAULTS)), ==, 0);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_machine("dredbox-compute")) {
        g_test_skip("dredbox-compute machine not built");
        return g_test_run();
    }
    qtest_add_func("/dredbox-rmc/reset-values", test_reset_values);
    qtest_add_func("/dredbox-rmc/write-masks", test_write_masks);
    qtest_add_func("/dredbox-rmc/translate-and-commit",
                   test_translate_and_commit);
    qtest_add_func("/dredbox-rmc/prototype-table", test_prototype_table);
    qtest_add_func("/dredbox-rmc/faults-and-irq", test_faults_and_irq);
    qtest_add_func("/dredbox-rmc/qmp", test_qmp);
    qtest_add_func("/dredbox-rmc/register-sweep", test_register_sweep);
    qtest_add_func("/dredbox-rmc/migration", test_migration);
    qtest_add_func("/dredbox-rmc/doorbell", test_doorbell);
    qtest_add_func("/dredbox-rmc/doorbell-errors", test_doorbell_errors);
    qtest_add_func("/dredbox-rmc/doorbell-backpressure",
                   test_doorbell_backpressure);
    qtest_add_func("/dredbox-rmc/doorbell-migration",
                   test_doorbell_migration);
    qtest_add_func("/dredbox-rmc/doorbell-blocker", test_doorbell_blocker);
    qtest_add_func("/dredbox-rmc/fdt", test_fdt);
    qtest_add_func("/dredbox-rmc/table", test_table);
    qtest_add_func("/dredbox-rmc/fabric", test_fabric);
    return g_test_run();
}
