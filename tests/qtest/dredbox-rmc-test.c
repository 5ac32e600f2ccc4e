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
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qapi/qapi-types-dredbox.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qjson.h"
#include "dredbox/accel-queue.h"
#include "dredbox/rmc-regs.h"
#include "dredbox/rmc-table.h"
#include <libfdt.h>
#include <poll.h>
#include "dredbox-qtest-util.h"

#define CFG         DREDBOX_RMC_CONFIG_BASE
#define LOW_BASE    DREDBOX_RMC_LOW_WINDOW_BASE
#define LOW_SIZE    DREDBOX_RMC_LOW_WINDOW_SIZE
#define HIGH_BASE   DREDBOX_RMC_HIGH_WINDOW_BASE
#define HIGH_SIZE   DREDBOX_RMC_HIGH_WINDOW_SIZE
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

/* A segment in @brick, granted to the brick named @client. */
static uint32_t pool_grant_new(DredboxPool *pool, const char *size,
                               int brick, const char *client, bool writable)
{
    g_autofree char *req = g_strdup_printf(
        "{\"cmd\": \"alloc\", \"size\": \"%s\", \"brick\": %d}", size, brick);
    QDict *reply = dredbox_pool_call(pool, req);
    uint32_t id = qdict_get_int(qdict_get_qdict(reply, "segment"), "id");
    g_autofree char *grant = g_strdup_printf(
        "{\"cmd\": \"grant\", \"segment\": %u, \"client\": \"%s\","
        " \"writable\": %s}", id, client, writable ? "true" : "false");

    qobject_unref(reply);
    /* The admin ("qtest") owns it; the brick uses it through a grant. */
    qobject_unref(dredbox_pool_call(pool, grant));
    return id;
}

/* A segment in @brick, granted writable to the brick named @client. */
static uint32_t pool_alloc_for(DredboxPool *pool, const char *size,
                               int brick, const char *client)
{
    return pool_grant_new(pool, size, brick, client, true);
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
    g_assert_cmphex(qtest_readl(qts, WIDE(port, RMC_WIDE_STATUS)) &
                    RMC_STATUS_RESULT_MASK, ==,
                    reason << RMC_STATUS_RESULT_SHIFT);
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

/*
 * Attach @seg (brick 0) and bring port 2's link up, then program port 2
 * as the prototype's software does: its four 32-bit fields, no commit.
 * 1 GiB .. 1 GiB + 128 MiB - 1, subtract 1 GiB: brick 0 offset 0.
 */
static void set_commit_delay(QTestState *qts, uint32_t us)
{
    qobject_unref(qmp_ok(qts, "{'execute': 'qom-set', 'arguments':"
                         " {'path': '/machine/rmc', 'property':"
                         " 'commit-delay-us', 'value': %u}}", us));
}

static uint32_t port_status(QTestState *qts, int p)
{
    return qtest_readl(qts, WIDE(p, RMC_WIDE_STATUS));
}

/*
 * commit-delay-us: a commit takes time, as on an FPGA.  Until it is done
 * its ports show COMMITTING and their entries are not live; a second
 * commit joins the one under way; the result is in each port's status.
 * A delay set while a commit is under way applies from then; with
 * "never" it stays under way until the delay changes again.  A reset
 * ends it.
 */
static void test_commit_delay(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    QTestState *qts = brick_with_pool(pool);
    const uint64_t a = LOW_BASE + 256 * MiB;

    /* Ports 0 and 1 are cabled (to the pool's bricks), 2 and 3 are not. */
    set_commit_delay(qts, 1000);
    set_wide(qts, 0, 0, a, a + 64 * MiB - 1, 0);
    wr(qts, RMC_COMMIT, 0x1);
    g_assert_cmphex(port_status(qts, 0), ==, RMC_STATUS_LINK |
                    RMC_STATUS_PENDING | RMC_STATUS_COMMITTING);
    qtest_clock_step(qts, 500 * 1000);
    set_wide(qts, 1, 1, a + 64 * MiB, a + 128 * MiB - 1, 0);
    wr(qts, RMC_COMMIT, 0x2);
    g_assert_true(port_status(qts, 1) & RMC_STATUS_COMMITTING);
    qtest_clock_step(qts, 499 * 1000);
    g_assert_true(port_status(qts, 0) & RMC_STATUS_COMMITTING);
    g_assert_cmpuint(rd(qts, RMC_COMMIT), ==, 0);
    qtest_clock_step(qts, 1000);
    /* Both in one commit, at the first one's time */
    g_assert_cmphex(port_status(qts, 0), ==,
                    RMC_STATUS_LINK | RMC_STATUS_LIVE);
    g_assert_cmphex(port_status(qts, 1), ==,
                    RMC_STATUS_LINK | RMC_STATUS_LIVE);
    g_assert_cmpuint(rd(qts, RMC_COMMIT), ==, 1);

    /* Refused once done: the port's status says why, and the interrupt */
    set_wide(qts, 2, 0, a + 256 * MiB, a + 128 * MiB, 0);
    wr(qts, RMC_COMMIT, 0x4);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, 0);
    qtest_clock_step(qts, 1000 * 1000);
    g_assert_cmphex(port_status(qts, 2), ==, RMC_STATUS_PENDING |
                    RMC_COMMIT_BAD_RANGE << RMC_STATUS_RESULT_SHIFT);
    g_assert_cmphex(rd(qts, RMC_COMMIT_STATUS), ==,
                    RMC_COMMIT_BAD_RANGE | 2 << RMC_COMMIT_PORT_SHIFT);
    g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, RMC_IRQ_COMMIT_ERROR);
    wr(qts, RMC_IRQ_STATUS, RMC_IRQ_COMMIT_ERROR);

    /* Never: under way until the delay changes */
    set_commit_delay(qts, UINT32_MAX);
    set_wide(qts, 2, 0, a + 256 * MiB, a + 320 * MiB - 1, 0);
    wr(qts, RMC_COMMIT, 0x4);
    qtest_clock_step(qts, 3600 * NANOSECONDS_PER_SECOND);
    g_assert_true(port_status(qts, 2) & RMC_STATUS_COMMITTING);
    set_commit_delay(qts, 0);
    qtest_clock_step(qts, 1);
    g_assert_cmphex(port_status(qts, 2), ==, RMC_STATUS_LIVE);
    g_assert_cmpuint(rd(qts, RMC_COMMIT), ==, 2);

    /* A reset ends a commit under way; the delay is the rack's, it stays */
    set_commit_delay(qts, UINT32_MAX);
    set_wide(qts, 3, 0, a + 320 * MiB, a + 384 * MiB - 1, 0);
    wr(qts, RMC_COMMIT, 0x8);
    qobject_unref(qmp_ok(qts, "{'execute': 'system_reset'}"));
    g_assert_cmphex(port_status(qts, 3), ==, 0);
    set_commit_delay(qts, 0);
    qtest_clock_step(qts, 1);
    g_assert_cmpuint(rd(qts, RMC_COMMIT), ==, 0);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

static void prototype_program(QTestState *qts, uint32_t seg)
{
    attach(qts, seg);
    connect_port(qts, 2, 0);
    qtest_writel(qts, NP(2, RMC_NP_NETINFO), 0);
    qtest_writel(qts, NP(2, RMC_NP_START), 0x40000000);
    qtest_writel(qts, NP(2, RMC_NP_END), 0x47ffffff);
    qtest_writel(qts, NP(2, RMC_NP_OFFSET), 0x40000000);
}

/* The prototype's 16-byte entries work as the source describes. */
static void test_prototype_table(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 0);
    QTestState *qts = brick_with_pool(pool);
    uint64_t size;
    uint8_t *mem = dredbox_pool_map(pool, seg, &size);

    prototype_program(qts, seg);
    wr(qts, RMC_COMMIT, 1 << 2);
    qtest_writel(qts, 0x40000000 + 0x123400, 0xcafe);
    g_assert_cmphex(*(uint32_t *)(mem + 0x123400), ==, 0xcafe);
    munmap(mem, size);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

/*
 * The prototype's programming sequence, unchanged: the four 32-bit
 * fields of a port's entry in the prototype table, no commit.  With
 * commit=off (the prototype's behaviour) the translation works at once;
 * with the default, nothing is live until RMC_COMMIT.
 */
static void test_prototype_mode(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 0);
    uint64_t size;
    uint8_t *mem = dredbox_pool_map(pool, seg, &size);

    for (int commit = 0; commit < 2; commit++) {
        QTestState *qts = qtest_initf(DREDBOX_MACHINE
                                      ",pool=%s,client=brick0"
                                      " -global dredbox-rmc.commit=%s",
                                      pool->socket, commit ? "on" : "off");

        g_assert_cmphex(rd(qts, RMC_CAP) & RMC_CAP_IMMEDIATE, ==,
                        commit ? 0 : RMC_CAP_IMMEDIATE);
        prototype_program(qts, seg);
        *(uint32_t *)(mem + 0x5000) = 0;
        qtest_writel(qts, 0x40000000 + 0x5000, 0xfeed0000 + commit);
        g_assert_cmphex(*(uint32_t *)(mem + 0x5000), ==,
                        commit ? 0 : 0xfeed0000);
        g_assert_cmpuint(rd(qts, RMC_UNMAPPED_FAULTS), ==, commit);
        /* Rewriting a field moves the live entry at once, too. */
        qtest_writel(qts, NP(2, RMC_NP_OFFSET), 0x3fff0000);
        qtest_writel(qts, 0x40000000 + 0x5000, 0xbeef);
        g_assert_cmphex(*(uint32_t *)(mem + 0x15000), ==,
                        commit ? 0 : 0xbeef);
        /* An end below the start matches nothing: off, not refused. */
        qtest_writel(qts, NP(2, RMC_NP_END), 0x3fffffff);
        g_assert_cmpuint(qtest_readl(qts, 0x40000000 + 0x5000), ==, 0);
        g_assert_cmpuint(rd(qts, RMC_COMMIT_STATUS), ==, RMC_COMMIT_OK);
        qtest_quit(qts);
        memset(mem + 0x5000, 0, 4);
        memset(mem + 0x15000, 0, 4);
    }
    munmap(mem, size);
    dredbox_pool_stop(pool);
}

/*
 * A segment granted read-only: reads through the RMC see it; a write is
 * a bus error counted on the port with reason read-only and reported
 * once, and nothing reaches the segment.
 */
static void test_read_only_grant(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_grant_new(pool, "128M", 1, "brick0", false);
    QTestState *qts = brick_with_pool(pool);
    const uint64_t a = LOW_BASE;
    uint64_t size;
    uint8_t *mem = dredbox_pool_map(pool, seg, &size);
    QDict *ev;

    attach(qts, seg);
    connect_port(qts, 3, 1);
    set_entry(qts, 3, 1, a, a + 128 * MiB - 1, a, false);
    *(uint32_t *)(mem + 0x2000) = 0x600dcafe;
    g_assert_cmphex(qtest_readl(qts, a + 0x2000), ==, 0x600dcafe);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULTS)), ==, 0);

    qtest_writel(qts, a + 0x2000, 0xbad);
    qtest_writeb(qts, a + 0x3001, 0xff);
    g_assert_cmphex(*(uint32_t *)(mem + 0x2000), ==, 0x600dcafe);
    g_assert_cmphex(mem[0x3001], ==, 0);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULTS)), ==, 2);
    g_assert_cmpuint(qtest_readl(qts, WIDE(3, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_READ_ONLY);
    g_assert_cmphex(qtest_readq(qts, WIDE(3, RMC_WIDE_FAULT_ADDR)), ==,
                    a + 0x3001);
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_FAULT");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "read-only");
    g_assert_true(qdict_get_bool(qdict_get_qdict(ev, "data"), "write"));
    g_assert_cmpuint(qdict_get_int(qdict_get_qdict(ev, "data"), "port"),
                     ==, 3);
    qobject_unref(ev);
    /* Reads still work after the refused writes. */
    g_assert_cmphex(qtest_readl(qts, a + 0x2000), ==, 0x600dcafe);
    munmap(mem, size);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

/* Faults: per port with their reason, latched once, counted always. */
/* The poisoned pages query-dredbox-rmc lists for the only segment */
static char *poisoned(QTestState *qts)
{
    QDict *resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    QList *segs = qdict_get_qlist(qdict_get_qdict(resp, "return"),
                                  "segments");
    QList *pages = qdict_get_qlist(qobject_to(QDict, qlist_peek(segs)),
                                   "poisoned");
    GString *s = g_string_new("");
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(pages, e) {
        g_string_append_printf(s, "%s0x%" PRIx64, s->len ? " " : "",
                               qnum_get_uint(qobject_to(QNum, e->value)));
    }
    qobject_unref(resp);
    return g_string_free(s, false);
}

/*
 * A poisoned page of a segment faults, with reason "poisoned", through
 * every port whose entry reaches it; its neighbours serve, and so does
 * it, with the contents it had, once unpoisoned.  A page the pool says
 * is poisoned is so from the segment's attach on.
 */
static void test_poison(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 0);
    QTestState *qts = brick_with_pool(pool);
    const uint64_t page = 2 * 4096;
    g_autofree char *list = NULL;
    QDict *ev;
    char *err;

    attach(qts, seg);
    /* Port 0 maps the segment low, port 1 its first 64 MiB high. */
    set_entry(qts, 0, 0, LOW_BASE, LOW_BASE + 128 * MiB - 1, LOW_BASE, false);
    connect_port(qts, 1, 0);
    set_entry(qts, 1, 0, HIGH_BASE, HIGH_BASE + 64 * MiB - 1, HIGH_BASE,
              false);
    qtest_writel(qts, LOW_BASE + page, 0xabcd);
    qtest_writel(qts, LOW_BASE + page + 4096, 0x1234);

    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-poison-page',"
                         " 'arguments': {'segment': %u, 'offset': %" PRIu64
                         "}}", seg, page));
    list = poisoned(qts);
    g_assert_cmpstr(list, ==, "0x2000");
    qtest_readl(qts, LOW_BASE + page + 8);
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_FAULT");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "poisoned");
    qobject_unref(ev);
    g_assert_cmpuint(qtest_readl(qts, WIDE(0, RMC_WIDE_FAULTS)), ==, 1);
    g_assert_cmphex(rd64(qts, WIDE(0, RMC_WIDE_FAULT_ADDR)), ==,
                    LOW_BASE + page + 8);
    g_assert_cmpuint(qtest_readl(qts, WIDE(0, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_POISONED);
    qtest_writeb(qts, HIGH_BASE + page + 4095, 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_FAULTS)), ==, 1);
    g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_FAULT_REASON)), ==,
                     RMC_FAULT_POISONED);
    /* Its neighbours serve. */
    g_assert_cmphex(qtest_readl(qts, LOW_BASE + page + 4096), ==, 0x1234);
    g_assert_cmphex(qtest_readl(qts, HIGH_BASE + page + 4096), ==, 0x1234);
    g_assert_cmpuint(qtest_readl(qts, WIDE(0, RMC_WIDE_FAULTS)) +
                     qtest_readl(qts, WIDE(1, RMC_WIDE_FAULTS)), ==, 2);
    /* A page past port 1's entry changes nothing there. */
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-poison-page',"
                         " 'arguments': {'segment': %u, 'offset': %" PRIu64
                         "}}", seg, 100 * MiB));
    g_free(list);
    list = poisoned(qts);
    g_assert_cmpstr(list, ==, "0x2000 0x6400000");
    g_assert_cmphex(qtest_readl(qts, HIGH_BASE + 64 * MiB - 4), ==, 0);

    err = qmp_err(qts, "{'execute': 'dredbox-rmc-poison-page',"
                  " 'arguments': {'segment': %u, 'offset': %" PRIu64 "}}",
                  seg, page);
    g_assert_cmpstr(err, ==, "page 0x2000 of segment 1 is already poisoned");
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-poison-page',"
                  " 'arguments': {'segment': %u, 'offset': 4097}}", seg);
    g_assert_cmpstr(err, ==, "segment 1 has no page at offset 0x1001: a page"
                    " is 4 KiB, at a multiple of 4096 below 0x8000000");
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-poison-page',"
                  " 'arguments': {'segment': %u, 'offset': %" PRIu64 "}}",
                  seg, 128 * MiB);
    g_assert_nonnull(strstr(err, "has no page at offset 0x8000000"));
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-unpoison-page',"
                  " 'arguments': {'segment': 9, 'offset': 0}}");
    g_assert_cmpstr(err, ==, "segment 9 is not attached");
    g_free(err);

    /* Unpoisoned, it serves what it held. */
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-unpoison-page',"
                         " 'arguments': {'segment': %u, 'offset': %" PRIu64
                         "}}", seg, page));
    g_assert_cmphex(qtest_readl(qts, LOW_BASE + page), ==, 0xabcd);
    g_assert_cmphex(qtest_readl(qts, HIGH_BASE + page), ==, 0xabcd);
    g_assert_cmpuint(qtest_readl(qts, WIDE(0, RMC_WIDE_FAULTS)), ==, 1);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-unpoison-page',"
                  " 'arguments': {'segment': %u, 'offset': %" PRIu64 "}}",
                  seg, page);
    g_assert_cmpstr(err, ==, "page 0x2000 of segment 1 is not poisoned");
    g_free(err);

    /*
     * A page the memory brick has poisoned (the pool keeps it) is
     * poisoned in the segment when it is attached again.
     */
    detach(qts, seg);
    qobject_unref(dredbox_pool_call(pool, "{\"cmd\": \"poison\","
                                    " \"brick\": 0, \"offset\": 12288}"));
    attach(qts, seg);
    g_free(list);
    list = poisoned(qts);
    g_assert_cmpstr(list, ==, "0x3000");
    qtest_readl(qts, LOW_BASE + 12288);
    g_assert_cmpuint(qtest_readl(qts, WIDE(0, RMC_WIDE_FAULTS)), ==, 2);
    g_assert_cmphex(qtest_readl(qts, LOW_BASE + page), ==, 0xabcd);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
}

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

    /*
     * Clearing the latch re-arms the event, which QMP lets out once a
     * second per port: the first at once, the latest at the second's end.
     */
    qtest_writel(qts, WIDE(3, RMC_WIDE_FAULT_CLEAR), 1);
    g_assert_false(qtest_readl(qts, WIDE(3, RMC_WIDE_STATUS)) &
                   RMC_STATUS_FAULT);
    qtest_readl(qts, a + 200 * MiB);
    qtest_writel(qts, WIDE(3, RMC_WIDE_FAULT_CLEAR), 1);
    qtest_readl(qts, a + 201 * MiB);
    resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    qobject_unref(resp);
    /* An event would have come before the reply. */
    g_assert_null(qtest_qmp_event_ref(qts, "DREDBOX_RMC_FAULT"));
    qtest_clock_step(qts, NANOSECONDS_PER_SECOND);
    ev = qtest_qmp_eventwait_ref(qts, "DREDBOX_RMC_FAULT");
    g_assert_cmphex(qdict_get_int(qdict_get_qdict(ev, "data"), "address"),
                    ==, a + 201 * MiB);
    qobject_unref(ev);
    /* Another second: the throttle lets the next one out at once again. */
    qtest_clock_step(qts, NANOSECONDS_PER_SECOND);
    qtest_writel(qts, WIDE(3, RMC_WIDE_FAULT_CLEAR), 1);
    qtest_readl(qts, a + 202 * MiB);
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
    /* Within the second of the first: held until it ends. */
    qtest_clock_step(qts, NANOSECONDS_PER_SECOND);
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

    /* Every command takes the RMC's QOM path; the only one by default. */
    resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc',"
                  " 'arguments': {'rmc': '/machine/rmc'}}");
    g_assert_cmpuint(qdict_get_int(qdict_get_qdict(resp, "return"),
                                   "commits"), ==, 1);
    qobject_unref(resp);
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-disconnect',"
                         " 'arguments': {'port': 3, 'rmc': '/machine/rmc'}}"));
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-disconnect',"
                  " 'arguments': {'port': 3, 'rmc': '/machine'}}");
    g_assert_cmpstr(err, ==, "'/machine' is not a dReDBox Remote Memory"
                    " Controller");
    g_free(err);
    err = qmp_err(qts, "{'execute': 'dredbox-rmc-attach-segment',"
                  " 'arguments': {'segment': 1, 'rmc': '/nosuch'}}");
    g_assert_cmpstr(err, ==, "'/nosuch' is not a dReDBox Remote Memory"
                    " Controller");
    g_free(err);

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
    g_assert_nonnull(strstr(err, "-machine dredbox-compute,pool=POOL"));
    g_free(err);
    qtest_quit(qts);
    dredbox_pool_stop(pool);
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

/*
 * The register sweep's model of the RMC, written from docs/rmc.md: what
 * every register must read, and what the data path must do, after any
 * sequence of writes, commits and window accesses on a brick without a
 * pool (no links, no doorbells: every mapped access faults as no-link).
 */
typedef struct ModelEntry {
    uint32_t netinfo;
    uint32_t ctrl;
    uint64_t start;
    uint64_t end;
    uint64_t offset;
} ModelEntry;

typedef struct ModelPort {
    ModelEntry pending;
    ModelEntry live;
    uint64_t faults;
    uint64_t fault_addr;
    uint32_t fault_reason;
    bool fault_latched;
    uint32_t commit_result;     /* of the port's last commit */
} ModelPort;

typedef struct Model {
    ModelPort port[PORTS];
    uint32_t commits;
    uint32_t commit_status;
    uint32_t irq_status;
    uint32_t irq_enable;
    uint64_t unmapped_faults;
    uint64_t unmapped_addr;
    bool unmapped_latched;
    unsigned events;            /* DREDBOX_RMC_FAULT not yet seen */
    /*
     * QMP throttles the event to one a second per port (PORTS: no entry);
     * the virtual clock stands still in the sweep, so after the first one
     * the latest waits for the second to end.
     */
    bool throttled[PORTS + 1];
    bool pending[PORTS + 1];
    unsigned outcomes[RMC_COMMIT_WRAP + 1];     /* commits by result */
} Model;

static bool model_same(const ModelEntry *a, const ModelEntry *b)
{
    return a->netinfo == b->netinfo && a->ctrl == b->ctrl &&
           a->start == b->start && a->end == b->end &&
           a->offset == b->offset;
}

static bool model_in(uint64_t start, uint64_t end, uint64_t base,
                     uint64_t size)
{
    return start >= base && end <= base + size - 1;
}

static uint32_t model_check(const ModelEntry *e)
{
    if (e->start > e->end) {
        return RMC_COMMIT_BAD_RANGE;
    }
    if (e->start % 4096 || (e->end + 1) % 4096) {
        return RMC_COMMIT_MISALIGNED;
    }
    if (!model_in(e->start, e->end, LOW_BASE, LOW_SIZE) &&
        !model_in(e->start, e->end, HIGH_BASE, HIGH_SIZE)) {
        return RMC_COMMIT_NO_WINDOW;
    }
    if (e->netinfo & RMC_NETINFO_ADD ? e->offset > UINT64_MAX - e->end
                                     : e->offset > e->start) {
        return RMC_COMMIT_WRAP;
    }
    return RMC_COMMIT_OK;
}

/* RMC_COMMIT: every enabled entry of the resulting table, in port order. */
static void model_commit(Model *m, uint32_t mask)
{
    ModelEntry next[PORTS];
    uint32_t reason = RMC_COMMIT_OK;
    int n, k, bad = 0;

    for (n = 0; n < PORTS; n++) {
        next[n] = mask & BIT(n) ? m->port[n].pending : m->port[n].live;
    }
    for (n = 0; n < PORTS && !reason; n++) {
        if (!(next[n].ctrl & RMC_CTRL_ENABLE)) {
            continue;
        }
        bad = n;
        reason = model_check(&next[n]);
        for (k = 0; k < PORTS && !reason; k++) {
            if (k != n && next[k].ctrl & RMC_CTRL_ENABLE &&
                next[k].start <= next[n].end &&
                next[n].start <= next[k].end) {
                reason = RMC_COMMIT_OVERLAP;
                bad = mask & BIT(n) ? n : k;
            }
        }
    }
    m->outcomes[reason]++;
    m->commit_status = reason ? reason | bad << RMC_COMMIT_PORT_SHIFT : 0;
    for (n = 0; n < PORTS; n++) {
        if (mask & BIT(n)) {
            m->port[n].commit_result = reason;
        }
    }
    if (reason) {
        m->irq_status |= RMC_IRQ_COMMIT_ERROR;
        return;
    }
    for (n = 0; n < PORTS; n++) {
        m->port[n].live = next[n];
    }
    m->commits++;
}

static void model_set_half(uint64_t *r, uint32_t off, uint32_t v)
{
    *r = off & 4 ? deposit64(*r, 32, 32, v) : deposit64(*r, 0, 32, v);
}

static void model_write(Model *m, uint32_t off, uint32_t v)
{
    if (off < PORTS * RMC_NP_STRIDE) {
        ModelEntry *e = &m->port[off / RMC_NP_STRIDE].pending;

        e->ctrl |= RMC_CTRL_ENABLE;
        switch (off % RMC_NP_STRIDE) {
        case RMC_NP_NETINFO:
            e->netinfo = v & RMC_NETINFO_MASK;
            break;
        case RMC_NP_START:
            e->start = v;
            break;
        case RMC_NP_END:
            e->end = v;
            break;
        default:
            e->offset = v;
            break;
        }
    } else if (off >= RMC_WIDE_BASE &&
               off < RMC_WIDE_BASE + PORTS * RMC_WIDE_STRIDE) {
        ModelPort *p = &m->port[(off - RMC_WIDE_BASE) / RMC_WIDE_STRIDE];
        uint32_t f = (off - RMC_WIDE_BASE) % RMC_WIDE_STRIDE;

        switch (f & ~4u) {
        case RMC_WIDE_START:
            model_set_half(&p->pending.start, f, v);
            return;
        case RMC_WIDE_END:
            model_set_half(&p->pending.end, f, v);
            return;
        case RMC_WIDE_OFFSET:
            model_set_half(&p->pending.offset, f, v);
            return;
        }
        switch (f) {
        case RMC_WIDE_NETINFO:
            p->pending.netinfo = v & RMC_NETINFO_MASK;
            break;
        case RMC_WIDE_CTRL:
            p->pending.ctrl = v & RMC_CTRL_MASK;
            break;
        case RMC_WIDE_FAULT_CLEAR:
            p->fault_latched = false;
            break;
        }
        /* The rest is read-only; no doorbell is bound. */
    } else {
        switch (off) {
        case RMC_COMMIT:
            model_commit(m, v & MAKE_64BIT_MASK(0, PORTS));
            break;
        case RMC_IRQ_STATUS:
            m->irq_status &= ~v;
            break;
        case RMC_IRQ_ENABLE:
            m->irq_enable = v & RMC_IRQ_MASK;
            break;
        case RMC_UNMAPPED_FAULTS:
            m->unmapped_latched = false;
            break;
        }
        /* Identification, windows, status, reserved: read-only. */
    }
}

static uint32_t model_half(uint64_t v, uint32_t off)
{
    return off & 4 ? v >> 32 : (uint32_t)v;
}

static uint32_t model_count(uint64_t v)
{
    return MIN(v, UINT32_MAX);
}

static uint32_t model_read_wide(const ModelPort *p, uint32_t f)
{
    switch (f & ~4u) {
    case RMC_WIDE_START:
        return model_half(p->pending.start, f);
    case RMC_WIDE_END:
        return model_half(p->pending.end, f);
    case RMC_WIDE_OFFSET:
        return model_half(p->pending.offset, f);
    case RMC_WIDE_FAULT_ADDR:
        return model_half(p->fault_addr, f);
    }
    switch (f) {
    case RMC_WIDE_NETINFO:
        return p->pending.netinfo;
    case RMC_WIDE_CTRL:
        return p->pending.ctrl;
    case RMC_WIDE_STATUS:
        return (p->live.ctrl & RMC_CTRL_ENABLE ? RMC_STATUS_LIVE : 0) |
               (p->fault_latched ? RMC_STATUS_FAULT : 0) |
               (model_same(&p->pending, &p->live) ? 0 : RMC_STATUS_PENDING) |
               p->commit_result << RMC_STATUS_RESULT_SHIFT;
    case RMC_WIDE_FAULTS:
        return model_count(p->faults);
    case RMC_WIDE_FAULT_REASON:
        return p->fault_reason;
    }
    return 0;   /* fault clear, doorbell and completion counts */
}

static uint32_t model_read(const Model *m, uint32_t off)
{
    if (off < PORTS * RMC_NP_STRIDE) {
        const ModelEntry *e = &m->port[off / RMC_NP_STRIDE].pending;

        switch (off % RMC_NP_STRIDE) {
        case RMC_NP_NETINFO:
            return e->netinfo;
        case RMC_NP_START:
            return e->start;
        case RMC_NP_END:
            return e->end;
        default:
            return e->offset;
        }
    }
    if (off >= RMC_WIDE_BASE &&
        off < RMC_WIDE_BASE + PORTS * RMC_WIDE_STRIDE) {
        return model_read_wide(
            &m->port[(off - RMC_WIDE_BASE) / RMC_WIDE_STRIDE],
            (off - RMC_WIDE_BASE) % RMC_WIDE_STRIDE);
    }
    switch (off & ~4u) {
    case RMC_LOW_WINDOW_BASE:
        return model_half(LOW_BASE, off);
    case RMC_LOW_WINDOW_SIZE:
        return model_half(LOW_SIZE, off);
    case RMC_HIGH_WINDOW_BASE:
        return model_half(HIGH_BASE, off);
    case RMC_HIGH_WINDOW_SIZE:
        return model_half(HIGH_SIZE, off);
    case RMC_UNMAPPED_ADDR:
        return model_half(m->unmapped_addr, off);
    }
    switch (off) {
    case RMC_ID:
        return RMC_ID_VALUE;
    case RMC_VERSION:
        return RMC_VERSION_VALUE;
    case RMC_CAP:
        return PORTS | 16 << RMC_CAP_NP_STRIDE_SHIFT |
               64 << RMC_CAP_WIDE_STRIDE_SHIFT | RMC_CAP_IRQ |
               RMC_CAP_DOORBELL;
    case RMC_COMMIT:
        return m->commits;
    case RMC_COMMIT_STATUS:
        return m->commit_status;
    case RMC_IRQ_STATUS:
        return m->irq_status;
    case RMC_IRQ_ENABLE:
        return m->irq_enable;
    case RMC_UNMAPPED_FAULTS:
        return model_count(m->unmapped_faults);
    }
    return 0;   /* no links, no completions; reserved offsets */
}

/* The device raised the event for fault key @key: out now, or held. */
static void model_event(Model *m, int key)
{
    if (m->throttled[key]) {
        m->pending[key] = true;
    } else {
        m->throttled[key] = true;
        m->events++;
    }
}

/* The decoder: an access at @addr faults on the live entry holding it. */
static void model_access(Model *m, uint64_t addr)
{
    bool first;

    for (int n = 0; n < PORTS; n++) {
        ModelPort *p = &m->port[n];

        if (p->live.ctrl & RMC_CTRL_ENABLE && p->live.start <= addr &&
            addr <= p->live.end) {
            first = !p->fault_latched;
            p->faults++;
            p->fault_addr = addr;
            p->fault_reason = RMC_FAULT_NO_LINK;
            p->fault_latched = true;
            m->irq_status |= RMC_IRQ_FAULT;
            if (first) {
                model_event(m, n);
            }
            return;
        }
    }
    first = !m->unmapped_latched;
    m->unmapped_faults++;
    m->unmapped_addr = addr;
    m->unmapped_latched = true;
    m->irq_status |= RMC_IRQ_FAULT;
    if (first) {
        model_event(m, PORTS);
    }
}

typedef struct Sweep {
    QTestState *qts;
    GRand *rand;
    Model m;
    unsigned step;
} Sweep;

/* The register at @off reads what the model says. */
static void sweep_check(Sweep *sw, uint32_t off)
{
    uint32_t got = rd(sw->qts, off), want = model_read(&sw->m, off);

    if (got != want) {
        g_test_message("step %u: offset 0x%04x reads 0x%08x, the model"
                       " says 0x%08x", sw->step, off, got, want);
    }
    g_assert_cmphex(got, ==, want);
}

static void sweep_write(Sweep *sw, uint32_t off, uint32_t v)
{
    wr(sw->qts, off, v);
    model_write(&sw->m, off, v);
    sweep_check(sw, off);
}

static void sweep_check_port(Sweep *sw, int p)
{
    for (uint32_t f = 0; f < RMC_NP_STRIDE; f += 4) {
        sweep_check(sw, RMC_NP_BASE + p * RMC_NP_STRIDE + f);
    }
    for (uint32_t f = 0; f < RMC_WIDE_STRIDE; f += 4) {
        sweep_check(sw, RMC_WIDE_BASE + p * RMC_WIDE_STRIDE + f);
    }
}

/* The control block, read-only identification and windows included. */
static void sweep_check_control(Sweep *sw)
{
    for (uint32_t off = RMC_ID; off < RMC_COMPLETION + 8; off += 4) {
        sweep_check(sw, off);
    }
}

static void model_assert_entry(QDict *e, const ModelEntry *want)
{
    g_assert_cmpint(qdict_get_bool(e, "enabled"), ==,
                    !!(want->ctrl & RMC_CTRL_ENABLE));
    g_assert_cmpint(qdict_get_bool(e, "add"), ==,
                    !!(want->netinfo & RMC_NETINFO_ADD));
    g_assert_cmpuint(qdict_get_int(e, "brick"), ==,
                     want->netinfo & RMC_NETINFO_BRICK_MASK);
    g_assert_cmphex(dredbox_qdict_uint(e, "start"), ==, want->start);
    g_assert_cmphex(dredbox_qdict_uint(e, "end"), ==, want->end);
    g_assert_cmphex(dredbox_qdict_uint(e, "offset"), ==, want->offset);
}

/*
 * Every port and the control block, the live table as QMP shows it,
 * and one DREDBOX_RMC_FAULT for each fault the model latched.
 */
static void sweep_check_all(Sweep *sw)
{
    QDict *resp, *ev;

    sweep_check_control(sw);
    for (int p = 0; p < PORTS; p++) {
        sweep_check_port(sw, p);
    }
    resp = qmp_ok(sw->qts, "{'execute': 'query-dredbox-rmc'}");
    for (int p = 0; p < PORTS; p++) {
        QDict *port = port_info(resp, p);

        bool live = qdict_get_bool(qdict_get_qdict(port, "live"), "enabled");

        if (live != !!(sw->m.port[p].live.ctrl & RMC_CTRL_ENABLE)) {
            g_test_message("step %u: port %d is %slive, the model says"
                           " otherwise", sw->step, p, live ? "" : "not ");
        }
        model_assert_entry(qdict_get_qdict(port, "live"), &sw->m.port[p].live);
        model_assert_entry(qdict_get_qdict(port, "pending"),
                           &sw->m.port[p].pending);
        g_assert_cmpuint(dredbox_qdict_uint(port, "faults"), ==,
                         sw->m.port[p].faults);
    }
    g_assert_cmpuint(dredbox_qdict_uint(qdict_get_qdict(resp, "return"),
                                        "commits"), ==, sw->m.commits);
    qobject_unref(resp);
    /* Events come before the reply that follows them. */
    while ((ev = qtest_qmp_event_ref(sw->qts, "DREDBOX_RMC_FAULT"))) {
        g_assert_cmpuint(sw->m.events, >, 0);
        sw->m.events--;
        qobject_unref(ev);
    }
    g_assert_cmpuint(sw->m.events, ==, 0);
}

/*
 * A value worth writing to an entry's address fields: usually page
 * aligned in a window, on a coarse grid so that entries often overlap.
 */
static uint64_t sweep_addr(GRand *r, bool high)
{
    uint64_t base = high ? HIGH_BASE : LOW_BASE;
    uint64_t grain = (high ? HIGH_SIZE : LOW_SIZE) / 16;

    switch (g_rand_int_range(r, 0, 8)) {
    case 0:
        return (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
    case 1:
        return base + g_rand_int_range(r, 0, 16) * grain + 2048;
    case 2:
        return base - grain;        /* below the window */
    default:
        return base + g_rand_int_range(r, 0, 16) * grain;
    }
}

/* Program a plausible entry into port @p, through either table. */
static void sweep_program(Sweep *sw, int p)
{
    GRand *r = sw->rand;
    bool high = g_rand_boolean(r);
    uint64_t start = sweep_addr(r, high);
    uint64_t len = g_rand_int_range(r, 1, 4) * ((high ? HIGH_SIZE
                                                       : LOW_SIZE) / 16);
    uint64_t end = g_rand_int_range(r, 0, 8) ? start + len - 1
                                              : start - 4096;
    bool add = g_rand_boolean(r);
    uint32_t netinfo = g_rand_int_range(r, 0, 4) | (add ? RMC_NETINFO_ADD : 0);
    uint64_t offset = g_rand_int_range(r, 0, 64) * 4096ULL;

    if (!g_rand_int_range(r, 0, 8)) {
        offset = add ? -4096ULL : start + 4096;     /* wraps */
    }
    if (!high && g_rand_boolean(r)) {
        uint32_t np = RMC_NP_BASE + p * RMC_NP_STRIDE;

        /* The prototype table: 32-bit fields, writing enables. */
        sweep_write(sw, np + RMC_NP_NETINFO, netinfo);
        sweep_write(sw, np + RMC_NP_START, start);
        sweep_write(sw, np + RMC_NP_END, end);
        sweep_write(sw, np + RMC_NP_OFFSET, offset);
    } else {
        uint32_t w = RMC_WIDE_BASE + p * RMC_WIDE_STRIDE;

        sweep_write(sw, w + RMC_WIDE_NETINFO, netinfo);
        sweep_write(sw, w + RMC_WIDE_START, start);
        sweep_write(sw, w + RMC_WIDE_START + 4, start >> 32);
        sweep_write(sw, w + RMC_WIDE_END, end);
        sweep_write(sw, w + RMC_WIDE_END + 4, end >> 32);
        sweep_write(sw, w + RMC_WIDE_OFFSET, offset);
        sweep_write(sw, w + RMC_WIDE_OFFSET + 4, offset >> 32);
        sweep_write(sw, w + RMC_WIDE_CTRL,
                    g_rand_int_range(r, 0, 8) ? RMC_CTRL_ENABLE : 0);
    }
}

/* An address in a window, often at the edge of a live entry. */
static uint64_t sweep_window_addr(Sweep *sw)
{
    GRand *r = sw->rand;
    const ModelEntry *e = &sw->m.port[g_rand_int_range(r, 0, PORTS)].live;
    uint64_t a;

    if (e->ctrl & RMC_CTRL_ENABLE && g_rand_int_range(r, 0, 4)) {
        switch (g_rand_int_range(r, 0, 4)) {
        case 0:
            a = e->start;
            break;
        case 1:
            a = e->end - 3;
            break;
        case 2:
            a = e->end + 1;
            break;
        default:
            a = e->start - 4;
            break;
        }
        if (model_in(a, a + 3, LOW_BASE, LOW_SIZE) ||
            model_in(a, a + 3, HIGH_BASE, HIGH_SIZE)) {
            return a;
        }
    }
    if (g_rand_boolean(r)) {
        return LOW_BASE + g_rand_int_range(r, 0, LOW_SIZE / 4) * 4ULL;
    }
    return HIGH_BASE + (((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) %
                        (HIGH_SIZE / 4)) * 4;
}

/* Any offset of the page, mostly where the registers are. */
static uint32_t sweep_offset(GRand *r)
{
    switch (g_rand_int_range(r, 0, 4)) {
    case 0:
        return g_rand_int_range(r, 0, (PORTS + 1) * RMC_NP_STRIDE / 4) * 4;
    case 1:
        return RMC_ID + g_rand_int_range(r, 0, 0x60 / 4) * 4;
    case 2:
        return RMC_WIDE_BASE +
               g_rand_int_range(r, 0, (PORTS + 1) * RMC_WIDE_STRIDE / 4) * 4;
    default:
        return g_rand_int_range(r, 0, RMC_CONFIG_SIZE / 4) * 4;
    }
}

/* After a write at @off: its port, or the control block, as the model. */
static void sweep_check_near(Sweep *sw, uint32_t off)
{
    if (off < PORTS * RMC_NP_STRIDE) {
        sweep_check_port(sw, off / RMC_NP_STRIDE);
    } else if (off >= RMC_WIDE_BASE &&
               off < RMC_WIDE_BASE + PORTS * RMC_WIDE_STRIDE) {
        sweep_check_port(sw, (off - RMC_WIDE_BASE) / RMC_WIDE_STRIDE);
    }
    sweep_check_control(sw);
}

/*
 * Random writes over the whole configuration page, plausible entries,
 * commits and window accesses, each checked against the model: the
 * read-only registers keep their values, reserved bits and offsets read
 * as zero, and nothing is live that a valid commit did not make so.
 */
static void test_register_sweep(void)
{
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    Sweep sw = { .qts = qts };
    const unsigned steps = 3000;

    sw.rand = g_rand_new_with_seed(dredbox_test_seed(0xdb0c));
    /* Every offset once, in order. */
    for (uint32_t off = 0; off < RMC_CONFIG_SIZE; off += 4) {
        sweep_write(&sw, off, g_rand_int(sw.rand));
        if (off % 256 == 252) {
            sweep_check_all(&sw);
        }
    }
    for (sw.step = 1; sw.step <= steps; sw.step++) {
        GRand *r = sw.rand;
        uint32_t off = sweep_offset(r);
        uint64_t a;

        int p = g_rand_int_range(r, 0, PORTS);

        switch (g_rand_int_range(r, 0, 8)) {
        case 0:
        case 1:
            sweep_program(&sw, p);
            /* fall through: usually committed at once */
        case 2:
            sweep_write(&sw, RMC_COMMIT, g_rand_int_range(r, 0, 4)
                        ? BIT(p) : g_rand_int(r));
            off = RMC_WIDE_BASE + p * RMC_WIDE_STRIDE;
            break;
        case 3:
            /* 64 bits: the device sees the low word, then the high. */
            off &= ~7u;
            a = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
            qtest_writeq(qts, CFG + off, a);
            model_write(&sw.m, off, a);
            model_write(&sw.m, off + 4, a >> 32);
            sweep_check(&sw, off);
            sweep_check(&sw, off + 4);
            break;
        case 4:
        case 5:
            a = sweep_window_addr(&sw);
            if (g_rand_boolean(r)) {
                g_assert_cmphex(qtest_readl(qts, a), ==, 0);
            } else {
                qtest_writel(qts, a, g_rand_int(r));
            }
            model_access(&sw.m, a);
            break;
        default:
            sweep_write(&sw, off, g_rand_int(r));
            break;
        }
        sweep_check_near(&sw, off);
        if (sw.step % 100 == 0) {
            sweep_check_all(&sw);
        }
    }
    /* The whole page once more: reserved offsets still read as zero. */
    for (uint32_t off = 0; off < RMC_CONFIG_SIZE; off += 4) {
        sweep_check(&sw, off);
    }
    sweep_check_all(&sw);
    /* At the end of the second, the held events go out: the latest each. */
    qtest_clock_step(qts, NANOSECONDS_PER_SECOND);
    for (int key = 0; key <= PORTS; key++) {
        sw.m.events += sw.m.pending[key];
    }
    sweep_check_all(&sw);
    /* The sweep did reach both sides of every commit rule. */
    for (int i = 0; i <= RMC_COMMIT_WRAP; i++) {
        g_test_message("commits with result %d: %u", i, sw.m.outcomes[i]);
        g_assert_cmpuint(sw.m.outcomes[i], >, 0);
    }
    g_rand_free(sw.rand);
    qtest_quit(qts);
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
    g_autofree char *too_long = g_strnfill(200, 'x');
    g_autofree char *want_long = g_strdup_printf(
        "port 2: the accelerator's socket path '%s' is too long", too_long);
    Accel late = { .path = nowhere, .fd = -1 };
    char *err;

    /*
     * Nothing listens yet: the doorbell is bound, not connected, and the
     * RMC keeps trying until an accelerator listens there.
     */
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-connect-doorbell',"
                         " 'arguments': {'port': 2, 'path': %s,"
                         " 'segment': 3}}", nowhere));
    assert_doorbell(qts, 2, nowhere, 3, false, 0, 0);
    late.listen_fd = unix_listen(nowhere, &error_abort);
    accel_hello(&late, 3);
    disconnect_doorbell(qts, 2);
    accel_expect_eof(&late);
    assert_doorbell(qts, 2, NULL, 0, false, 0, 0);
    close(late.listen_fd);
    unlink(nowhere);

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

/*
 * The doorbell fuzz's model of the RMC's receiving end of the link: the
 * bytes are cut into 16-byte messages, whatever their origin; READY 0
 * makes the engine ready, READY with an error hangs up; a COMPLETION
 * counts only once the engine is ready, for a slot of the queue, with
 * arg 0; everything else is ignored.
 */
typedef struct LinkModel {
    uint8_t rx[sizeof(DrqLinkMsg)];
    size_t rx_len;
    bool ready;
    bool closed;            /* the RMC hung up */
    uint64_t completions;
} LinkModel;

/* Feed @len bytes; those the RMC reads before it hangs up. */
static size_t link_model_feed(LinkModel *lm, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        DrqLinkMsg msg;
        uint32_t type, value;

        lm->rx[lm->rx_len++] = buf[i];
        if (lm->rx_len < sizeof(msg)) {
            continue;
        }
        lm->rx_len = 0;
        memcpy(&msg, lm->rx, sizeof(msg));
        type = le32_to_cpu(msg.type);
        value = le32_to_cpu(msg.value);
        if (msg.arg) {
            continue;
        }
        if (type == DRQ_LINK_READY && value) {
            lm->ready = false;
            lm->closed = true;
            return i + 1;
        }
        if (type == DRQ_LINK_READY) {
            lm->ready = true;
        } else if (type == DRQ_LINK_COMPLETION && lm->ready &&
                   value < DRQ_SLOTS) {
            lm->completions++;
        }
    }
    return len;
}

static void fuzz_msg(GByteArray *out, uint32_t type, uint32_t value,
                     uint64_t arg)
{
    DrqLinkMsg msg = {
        .type = cpu_to_le32(type),
        .value = cpu_to_le32(value),
        .arg = cpu_to_le64(arg),
    };

    g_byte_array_append(out, (const guint8 *)&msg, sizeof(msg));
}

static void fuzz_random(GRand *r, GByteArray *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        guint8 b = g_rand_int(r);

        g_byte_array_append(out, &b, 1);
    }
}

/* One piece of what a broken or hostile accelerator might send. */
static void fuzz_piece(GRand *r, GByteArray *out)
{
    DrqLinkMsg msg;

    switch (g_rand_int_range(r, 0, 12)) {
    case 0:
    case 1:
        fuzz_msg(out, DRQ_LINK_COMPLETION, g_rand_int_range(r, 0, DRQ_SLOTS),
                 0);
        break;
    case 2:     /* no such slot */
        fuzz_msg(out, DRQ_LINK_COMPLETION,
                 g_rand_int_range(r, DRQ_SLOTS, G_MAXINT32), 0);
        break;
    case 3:     /* arg not 0 */
        fuzz_msg(out, g_rand_boolean(r) ? DRQ_LINK_COMPLETION
                                         : DRQ_LINK_READY,
                 g_rand_int_range(r, 0, 4), (uint64_t)g_rand_int(r) << 32 | 1);
        break;
    case 4:     /* READY again */
        fuzz_msg(out, DRQ_LINK_READY, DRQ_LINK_OK, 0);
        break;
    case 5:     /* the RMC's own messages, or unknown ones */
        fuzz_msg(out, g_rand_boolean(r) ? g_rand_int_range(r, 0, 2) * 2 + 1
                                         : g_rand_int(r) | 8,
                 g_rand_int(r), g_rand_boolean(r) ? 0 : g_rand_int(r));
        break;
    case 6:     /* a message cut short: the framing shifts */
        fuzz_msg(out, DRQ_LINK_COMPLETION, g_rand_int_range(r, 0, DRQ_SLOTS),
                 0);
        g_byte_array_set_size(out, out->len -
                              g_rand_int_range(r, 1, sizeof(msg)));
        break;
    case 7:
    case 8:
        fuzz_random(r, out, g_rand_int_range(r, 1, 100));
        break;
    case 9:     /* oversized: many messages' worth of noise */
        if (!g_rand_int_range(r, 0, 4)) {
            fuzz_random(r, out, g_rand_int_range(r, 4096, 65536));
        }
        break;
    case 10:    /* READY with an error: the RMC hangs up */
        if (!g_rand_int_range(r, 0, 6)) {
            fuzz_msg(out, DRQ_LINK_READY, g_rand_int_range(r, 1, 1000), 0);
        }
        break;
    default:    /* a whole valid message, split anywhere */
        fuzz_msg(out, DRQ_LINK_COMPLETION, g_rand_int_range(r, 0, DRQ_SLOTS),
                 0);
        break;
    }
}

/* Send @len bytes in random pieces. */
static void fuzz_send(GRand *r, Accel *a, const uint8_t *buf, size_t len)
{
    while (len) {
        size_t n = MIN(len, g_rand_int_range(r, 1, 2 * sizeof(DrqLinkMsg)) *
                            (g_rand_int_range(r, 0, 8) ? 1 : 512));

        accel_send_raw(a, buf, n);
        buf += n;
        len -= n;
    }
}

/*
 * The RMC hung up (or the test did): the engine is lost, and comes back
 * by itself with a fresh HELLO.  Before READY, some noise and
 * completions that must not count.
 */
static void fuzz_reconnect(GRand *r, QTestState *qts, Accel *a,
                           LinkModel *lm, uint32_t segment, bool was_ready)
{
    g_autoptr(GByteArray) junk = g_byte_array_new();

    if (was_ready) {
        engine_change(qts, 2, false);
    }
    accel_hello(a, segment);
    *lm = (LinkModel) { .completions = lm->completions };
    for (int i = g_rand_int_range(r, 0, 4); i > 0; i--) {
        fuzz_msg(junk, i % 2 ? DRQ_LINK_COMPLETION : g_rand_int(r) | 8,
                 g_rand_int_range(r, 0, DRQ_SLOTS), 0);
    }
    g_assert_cmpuint(link_model_feed(lm, junk->data, junk->len), ==,
                     junk->len);
    accel_send_raw(a, junk->data, junk->len);
    /* A bounded wait: a READY the RMC misreads sends no event. */
    accel_send(a, DRQ_LINK_READY, DRQ_LINK_OK);
    wait_reg(qts, WIDE(2, RMC_WIDE_STATUS), RMC_STATUS_ENGINE,
             RMC_STATUS_ENGINE);
    engine_change(qts, 2, true);
    lm->ready = true;
}

/*
 * Malformed traffic on the doorbell link: truncated, oversized and
 * random messages, unknown types, known ones with bad fields, READY
 * errors and hang-ups.  After each round QEMU is up, answers QMP, counts
 * exactly the valid completions, and valid messages work both ways.
 */
static void test_doorbell_fuzz(void)
{
    const uint32_t segment = 9;
    const int rounds = 150;
    GRand *r = g_rand_new_with_seed(dredbox_test_seed(0xacce1));
    Accel *a = accel_new();
    QTestState *qts = qtest_init(DREDBOX_MACHINE);
    LinkModel lm = { .ready = true };
    uint64_t doorbells = 0;
    unsigned hangups = 0;

    bind_doorbell(qts, a, 2, segment);
    accel_ready(qts, a, 2);
    wr(qts, RMC_IRQ_STATUS, ~0u);
    for (int round = 0; round < rounds; round++) {
        g_autoptr(GByteArray) out = g_byte_array_new();
        bool lost = false;
        size_t n;

        for (int i = g_rand_int_range(r, 1, 10); i > 0; i--) {
            fuzz_piece(r, out);
        }
        n = link_model_feed(&lm, out->data, out->len);
        fuzz_send(r, a, out->data, n);
        if (!lm.closed && !g_rand_int_range(r, 0, 25)) {
            /* The accelerator goes away, maybe in mid-message. */
            accel_hangup(a);
            lost = true;
        } else if (!lm.closed) {
            /* Complete the message under way, whatever it says. */
            static const uint8_t zeros[sizeof(DrqLinkMsg)];
            size_t pad = (sizeof(DrqLinkMsg) - lm.rx_len) %
                         sizeof(DrqLinkMsg);

            n = link_model_feed(&lm, zeros, pad);
            accel_send_raw(a, zeros, n);
        }
        if (lm.closed) {
            accel_expect_eof(a);
            lost = true;
        }
        if (lost) {
            hangups++;
            fuzz_reconnect(r, qts, a, &lm, segment, true);
        }

        /* A valid completion, and a doorbell the other way. */
        accel_send(a, DRQ_LINK_COMPLETION, g_rand_int_range(r, 0, DRQ_SLOTS));
        lm.completions++;
        wait_reg(qts, WIDE(2, RMC_WIDE_COMPLETIONS), ~0u, lm.completions);
        qtest_writel(qts, WIDE(2, RMC_WIDE_DOORBELL), round);
        accel_expect(a, DRQ_LINK_DOORBELL, round);
        doorbells++;

        assert_doorbell(qts, 2, a->path, segment, true, doorbells,
                        lm.completions);
        g_assert_cmphex(qtest_readl(qts, WIDE(2, RMC_WIDE_STATUS)), ==,
                        RMC_STATUS_ENGINE);
        g_assert_cmpuint(qtest_readl(qts, WIDE(2, RMC_WIDE_COMPLETIONS)), ==,
                         lm.completions);
        g_assert_cmphex(rd(qts, RMC_COMPLETION), ==, BIT(2));
        g_assert_cmphex(rd(qts, RMC_IRQ_STATUS), ==, RMC_IRQ_COMPLETION |
                        (lost ? RMC_IRQ_ENGINE : 0));
        wr(qts, RMC_COMPLETION, BIT(2));
        wr(qts, RMC_IRQ_STATUS, ~0u);
        /* Nothing reached another port. */
        g_assert_cmphex(qtest_readl(qts, WIDE(1, RMC_WIDE_STATUS)), ==, 0);
        g_assert_cmpuint(qtest_readl(qts, WIDE(1, RMC_WIDE_COMPLETIONS)), ==,
                         0);
    }
    g_test_message("%d rounds, %" PRIu64 " valid completions, %u hang-ups",
                   rounds, lm.completions, hangups);
    g_assert_cmpuint(hangups, >, 0);
    unbind_doorbell(qts, a, 2);
    qtest_quit(qts);
    accel_free(a);
    g_rand_free(r);
}

/* What a bad QMP command must not change: QMP's view and the registers. */
typedef struct RmcSnapshot {
    QDict *query;
    uint32_t regs[(PORTS * RMC_NP_STRIDE + 0x60 +
                   PORTS * RMC_WIDE_STRIDE) / 4];
} RmcSnapshot;

static void rmc_snapshot(QTestState *qts, RmcSnapshot *snap)
{
    QDict *resp = qmp_ok(qts, "{'execute': 'query-dredbox-rmc'}");
    int i = 0;

    snap->query = qdict_get_qdict(resp, "return");
    qobject_ref(snap->query);
    qobject_unref(resp);
    for (uint32_t off = 0; off < PORTS * RMC_NP_STRIDE; off += 4) {
        snap->regs[i++] = rd(qts, off);
    }
    for (uint32_t off = RMC_ID; off < RMC_ID + 0x60; off += 4) {
        snap->regs[i++] = rd(qts, off);
    }
    for (uint32_t off = RMC_WIDE_BASE;
         off < RMC_WIDE_BASE + PORTS * RMC_WIDE_STRIDE; off += 4) {
        snap->regs[i++] = rd(qts, off);
    }
    g_assert_cmpint(i, ==, ARRAY_SIZE(snap->regs));
}

typedef struct BadCommand {
    const char *cmd;
    const char *args;       /* JSON object, NULL: no arguments */
    const char *error;      /* what the error description says */
} BadCommand;

/*
 * Each RMC command with values out of range or of the wrong type: a
 * GenericError that says what is wrong, and nothing changes.  The brick
 * has state to lose: a segment attached, a live entry, a guest's
 * pending edit, a link, and a doorbell whose engine is ready.
 */
static void test_qmp_bad_input(void)
{
    DredboxPool *pool = dredbox_pool_start(bricks);
    uint32_t seg = pool_alloc(pool, "128M", 0);
    QTestState *qts = brick_with_pool(pool);
    Accel *a = accel_new();
    g_autofree char *long_path = g_strnfill(200, 'x');
    g_autofree char *seg_json = g_strdup_printf("{'segment': %u}", seg);
    g_autofree char *long_json = g_strdup_printf(
        "{'port': 4, 'path': '%s', 'segment': 1}", long_path);
    g_autofree char *busy_json = g_strdup_printf(
        "{'port': 3, 'path': '%s', 'segment': 1}", a->path);
    /* port 5 would be valid but for the member under test */
#define ENTRY(port, brick, start, end, offset, add) \
    "{'port': " port ", 'brick': " brick ", 'start': " start ", 'end': " \
    end ", 'offset': " offset ", 'add': " add "}"
#define HI "549755813888"           /* HIGH_BASE */
#define HI_END "549822922751"       /* HIGH_BASE + 64 MiB - 1 */
    const BadCommand cmds[] = {
        { "dredbox-rmc-set-entry", ENTRY("8", "1", HI, HI_END, "0", "true"),
          "port 8 does not exist: this RMC has ports 0 to 7" },
        { "dredbox-rmc-set-entry", ENTRY("255", "1", HI, HI_END, "0", "true"),
          "port 255 does not exist" },
        { "dredbox-rmc-set-entry", ENTRY("256", "1", HI, HI_END, "0", "true"),
          "Parameter 'port' expects uint8_t" },
        { "dredbox-rmc-set-entry", ENTRY("-1", "1", HI, HI_END, "0", "true"),
          "Parameter 'port' expects uint8_t" },
        { "dredbox-rmc-set-entry", ENTRY("'5'", "1", HI, HI_END, "0", "true"),
          "Parameter 'port' expects uint64" },
        { "dredbox-rmc-set-entry", ENTRY("5.5", "1", HI, HI_END, "0", "true"),
          "'port'" },
        { "dredbox-rmc-set-entry", ENTRY("null", "1", HI, HI_END, "0",
                                         "true"),
          "'port'" },
        { "dredbox-rmc-set-entry", ENTRY("5", "65536", HI, HI_END, "0",
                                         "true"),
          "Parameter 'brick' expects uint16_t" },
        { "dredbox-rmc-set-entry", ENTRY("5", "-1", HI, HI_END, "0", "true"),
          "Parameter 'brick' expects uint16_t" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "549755815936", HI_END,
                                         "0", "true"),
          "port 5: start and end + 1 must be 4 KiB aligned" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", HI, "549822920703", "0",
                                         "true"),
          "port 5: start and end + 1 must be 4 KiB aligned" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", HI_END, HI, "0", "true"),
          "port 5: start is above end" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "0", "4095", "0", "true"),
          "port 5: the range is not inside one remote memory window" },
        /* the last page of the low window and the next one */
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "2147479552", "2147487743",
                                         "0", "true"),
          "port 5: the range is not inside one remote memory window" },
        /* both windows */
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "1610612736", HI_END, "0",
                                         "true"),
          "port 5: the range is not inside one remote memory window" },
        /* past the high window's end */
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "824633720832",
                                         "824633724927", "0", "true"),
          "port 5: the range is not inside one remote memory window" },
        /* QAPI takes -4096 as 2^64 - 4096 */
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "-4096", "-1", "0",
                                         "true"),
          "port 5: the range is not inside one remote memory window" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "18446744073709551616",
                                         HI_END, "0", "true"),
          "'start'" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "'0x8000000000'", HI_END,
                                         "0", "true"),
          "Parameter 'start' expects uint64" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", HI, HI_END, "-4096",
                                         "true"),
          "port 5: the translated range wraps around" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", HI, HI_END,
                                         "549755817984", "false"),
          "port 5: the translated range wraps around" },
        /* port 0's live entry is at the low window's start */
        { "dredbox-rmc-set-entry", ENTRY("5", "1", "1140850688",
                                         "1140854783", "0", "true"),
          "port 5: the range overlaps another enabled entry" },
        { "dredbox-rmc-set-entry", ENTRY("5", "1", HI, HI_END, "0", "'yes'"),
          "Invalid parameter type for 'add', expected: boolean" },
        { "dredbox-rmc-set-entry", "{'port': 5, 'brick': 1, 'start': " HI
          ", 'offset': 0, 'add': true}", "Parameter 'end' is missing" },
        { "dredbox-rmc-set-entry", "{'port': 5, 'brick': 1, 'start': " HI
          ", 'end': " HI_END ", 'offset': 0, 'add': true, 'bogus': 1}",
          "Parameter 'bogus' is unexpected" },
        { "dredbox-rmc-clear-entry", "{'port': 8}", "port 8 does not exist" },
        { "dredbox-rmc-clear-entry", "{'port': -1}",
          "Parameter 'port' expects uint8_t" },
        { "dredbox-rmc-clear-entry", "{'port': 'x'}",
          "Parameter 'port' expects uint64" },
        { "dredbox-rmc-clear-entry", NULL, "Parameter 'port' is missing" },
        { "dredbox-rmc-connect", "{'port': 8, 'brick': 0}",
          "port 8 does not exist" },
        { "dredbox-rmc-connect", "{'port': 300, 'brick': 0}",
          "Parameter 'port' expects uint8_t" },
        { "dredbox-rmc-connect", "{'port': 1, 'brick': 65536}",
          "Parameter 'brick' expects uint16_t" },
        { "dredbox-rmc-connect", "{'port': 1, 'brick': -1}",
          "Parameter 'brick' expects uint16_t" },
        { "dredbox-rmc-connect", "{'port': 1, 'brick': true}",
          "Parameter 'brick' expects uint64" },
        { "dredbox-rmc-disconnect", "{'port': 8}", "port 8 does not exist" },
        { "dredbox-rmc-disconnect", "{'port': [0]}",
          "Parameter 'port' expects uint64" },
        { "dredbox-rmc-attach-segment", seg_json,
          "is already attached" },
        { "dredbox-rmc-attach-segment", "{'segment': 999}",
          "memory pool refused" },
        { "dredbox-rmc-attach-segment", "{'segment': -1}",
          "Parameter 'segment' expects uint32_t" },
        { "dredbox-rmc-attach-segment", "{'segment': 4294967296}",
          "Parameter 'segment' expects uint32_t" },
        { "dredbox-rmc-attach-segment", "{'segment': '1'}",
          "Parameter 'segment' expects uint64" },
        { "dredbox-rmc-detach-segment", "{'segment': 999}",
          "segment 999 is not attached" },
        { "dredbox-rmc-detach-segment", "{'segment': -1}",
          "Parameter 'segment' expects uint32_t" },
        { "dredbox-rmc-connect-doorbell", "{'port': 8, 'path': 'x',"
          " 'segment': 1}", "port 8 does not exist" },
        { "dredbox-rmc-connect-doorbell", busy_json,
          "port 3 already has a doorbell; disconnect it first" },
        { "dredbox-rmc-connect-doorbell", "{'port': 4, 'path': '',"
          " 'segment': 1}", "port 4: the accelerator's socket path is empty" },
        { "dredbox-rmc-connect-doorbell", long_json, "is too long" },
        { "dredbox-rmc-connect-doorbell", "{'port': 4, 'path': 7,"
          " 'segment': 1}",
          "Invalid parameter type for 'path', expected: string" },
        { "dredbox-rmc-connect-doorbell", "{'port': 4, 'path': 'x',"
          " 'segment': -1}", "Parameter 'segment' expects uint32_t" },
        { "dredbox-rmc-connect-doorbell", "{'port': 4, 'segment': 1}",
          "Parameter 'path' is missing" },
        { "dredbox-rmc-poison-page", "{'segment': 999, 'offset': 0}",
          "segment 999 is not attached" },
        /* QAPI takes -4096 as 2^64 - 4096 */
        { "dredbox-rmc-poison-page", "{'segment': 1, 'offset': -4096}",
          "has no page at offset 0xfffffffffffff000" },
        { "dredbox-rmc-poison-page", "{'segment': 1}",
          "Parameter 'offset' is missing" },
        { "dredbox-rmc-unpoison-page", "{'segment': 1, 'offset': '0'}",
          "Parameter 'offset' expects uint64" },
        { "dredbox-rmc-disconnect-doorbell", "{'port': 8}",
          "port 8 does not exist" },
        { "dredbox-rmc-disconnect-doorbell", "{'port': 4}",
          "port 4 has no doorbell" },
        { "dredbox-rmc-disconnect-doorbell", "{'port': 256}",
          "Parameter 'port' expects uint8_t" },
        { "query-dredbox-rmc", "{'port': 0}",
          "Parameter 'port' is unexpected" },
    };
#undef ENTRY
#undef HI
#undef HI_END
    RmcSnapshot before, after;

    attach(qts, seg);
    /* Port 0 is cabled to brick 0 by default. */
    set_entry(qts, 0, 0, LOW_BASE, LOW_BASE + 128 * MiB - 1, LOW_BASE, false);
    /* The guest's half-written entry on port 1. */
    wr64(qts, WIDE(1, RMC_WIDE_START), HIGH_BASE);
    bind_doorbell(qts, a, 3, seg);
    accel_ready(qts, a, 3);
    wr(qts, RMC_IRQ_STATUS, ~0u);
    qtest_writel(qts, LOW_BASE + 64, 0x5a5a);

    rmc_snapshot(qts, &before);
    for (int i = 0; i < ARRAY_SIZE(cmds); i++) {
        QObject *args = cmds[i].args ? qobject_from_json(cmds[i].args,
                                                         &error_abort)
                                     : NULL;
        QDict *resp = args
            ? qtest_qmp(qts, "{'execute': %s, 'arguments': %p}",
                        cmds[i].cmd, args)
            : qtest_qmp(qts, "{'execute': %s}", cmds[i].cmd);
        QDict *err = qdict_get_qdict(resp, "error");
        const char *desc = err ? qdict_get_str(err, "desc") : NULL;

        if (!desc || !strstr(desc, cmds[i].error)) {
            g_test_message("%s %s: wanted an error saying '%s', got '%s'",
                           cmds[i].cmd, cmds[i].args ?: "", cmds[i].error,
                           desc ?: "no error");
        }
        g_assert_nonnull(desc);
        g_assert_nonnull(strstr(desc, cmds[i].error));
        g_assert_cmpstr(qdict_get_str(err, "class"), ==, "GenericError");
        qobject_unref(resp);

        rmc_snapshot(qts, &after);
        if (!qobject_is_equal(QOBJECT(before.query), QOBJECT(after.query)) ||
            memcmp(before.regs, after.regs, sizeof(before.regs))) {
            g_test_message("%s %s changed the RMC's state", cmds[i].cmd,
                           cmds[i].args ?: "");
        }
        g_assert_true(qobject_is_equal(QOBJECT(before.query),
                                       QOBJECT(after.query)));
        g_assert_cmpmem(before.regs, sizeof(before.regs), after.regs,
                        sizeof(after.regs));
        qobject_unref(after.query);
    }
    qobject_unref(before.query);

    /* Still serving: the data path, the doorbell and a valid command. */
    g_assert_cmphex(qtest_readl(qts, LOW_BASE + 64), ==, 0x5a5a);
    qtest_writel(qts, WIDE(3, RMC_WIDE_DOORBELL), 0xabc);
    accel_expect(a, DRQ_LINK_DOORBELL, 0xabc);
    set_entry(qts, 5, 1, HIGH_BASE, HIGH_BASE + 64 * MiB - 1, 0, true);
    g_assert_true(qtest_readl(qts, WIDE(5, RMC_WIDE_STATUS)) &
                  RMC_STATUS_LIVE);
    unbind_doorbell(qts, a, 3);
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

/*
 * num-ports=1..32 (a rack's ports=): the capability register and the
 * device tree say it, every port's entry works up to the last, none past
 * it; the software's port windows (rmc_port_window()) are 16 GiB up to 16
 * ports, 8 GiB up to 32.
 */
static void test_num_ports(void)
{
    static const unsigned ports[] = { 1, 3, 32 };

    for (int i = 0; i < ARRAY_SIZE(ports); i++) {
        unsigned n = ports[i];
        uint64_t w = rmc_port_window(HIGH_SIZE, n);
        g_autofree char *opts = g_strdup_printf(
            " -global dredbox-rmc.num-ports=%u", n);
        g_autofree void *fdt = dredbox_dump_fdt("", opts);
        QTestState *qts = qtest_initf(DREDBOX_MACHINE "%s", opts);
        g_autofree char *err = NULL;
        int node = fdt_node_offset_by_compatible(fdt, -1, "dredbox,rmc-1.0");

        g_assert_cmpuint(rd(qts, RMC_CAP) & RMC_CAP_PORTS_MASK, ==, n);
        g_assert_cmpuint(dredbox_fdt_cells(fdt, node, "dredbox,num-ports",
                                           0, 1), ==, n);
        g_assert_cmphex(w, ==, n <= 16 ? 16 * GiB : 8 * GiB);
        /* The last port maps its window; the next does not exist. */
        set_entry(qts, n - 1, 1, HIGH_BASE + (n - 1) * w,
                  HIGH_BASE + (n - 1) * w + w - 1, 0, true);
        g_assert_cmphex(qtest_readl(qts, WIDE(n - 1, RMC_WIDE_CTRL)), ==,
                        RMC_CTRL_ENABLE);
        err = qmp_err(qts, "{'execute': 'dredbox-rmc-set-entry',"
                      " 'arguments': {'port': %u, 'brick': 0, 'start': 0,"
                      " 'end': 4095, 'offset': 0, 'add': true}}", n);
        g_assert_nonnull(strstr(err, "does not exist"));
        qtest_quit(qts);
    }
    dredbox_assert_qemu_fails(DREDBOX_MACHINE
                              " -global dredbox-rmc.num-ports=33",
                              "num-ports must be 1 to 32");
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
    /* The circuit's class: rack-local unless the fabric names one */
    g_assert_cmpuint(t->port[3].latency, ==,
                     DREDBOX_LATENCY_CLASS_RACK_LOCAL);
    g_clear_pointer(&t, g_free);
    qobject_unref(qmp_ok(qts, "{'execute': 'dredbox-rmc-connect',"
                         " 'arguments': {'port': 3, 'brick': 5,"
                         " 'latency-class': 'inter-rack'}}"));
    g_assert_true(g_file_get_contents(path, (char **)&t, &len, NULL));
    g_assert_cmpuint(t->port[3].latency, ==,
                     DREDBOX_LATENCY_CLASS_INTER_RACK);
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
    qtest_add_func("/dredbox-rmc/num-ports", test_num_ports);
    qtest_add_func("/dredbox-rmc/write-masks", test_write_masks);
    qtest_add_func("/dredbox-rmc/translate-and-commit",
                   test_translate_and_commit);
    qtest_add_func("/dredbox-rmc/commit-delay", test_commit_delay);
    qtest_add_func("/dredbox-rmc/prototype-table", test_prototype_table);
    qtest_add_func("/dredbox-rmc/prototype-mode", test_prototype_mode);
    qtest_add_func("/dredbox-rmc/read-only-grant", test_read_only_grant);
    qtest_add_func("/dredbox-rmc/faults-and-irq", test_faults_and_irq);
    qtest_add_func("/dredbox-rmc/poison", test_poison);
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
    qtest_add_func("/dredbox-rmc/doorbell-fuzz", test_doorbell_fuzz);
    qtest_add_func("/dredbox-rmc/qmp-bad-input", test_qmp_bad_input);
    qtest_add_func("/dredbox-rmc/fdt", test_fdt);
    qtest_add_func("/dredbox-rmc/table", test_table);
    qtest_add_func("/dredbox-rmc/fabric", test_fabric);
    return g_test_run();
}
