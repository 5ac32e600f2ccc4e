/*
 * dredbox-acceld ($DREDBOX_ACCELD) over its real sockets, with a real
 * pool: the test plays a compute brick's RMC on the doorbell link and
 * writes the queue in a pool segment granted to the accelerator.
 *
 *  - link: HELLO for a segment that is not granted, messages out of
 *    order, a torn message: each refused or dropped, the daemon stays up;
 *  - fuzz: thousands of random and malformed descriptors; every slot ends
 *    DONE or ERROR with the status a model of the rules predicts, valid
 *    work is right, slots not submitted are left alone, and the pool's
 *    other segments (the neighbours of the granted one in the same memory
 *    brick) are unchanged byte for byte;
 *  - concurrency: the engines work on several slots at once.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

#include "crc32c-ref.h"
#include "engine.h"
#include "fuzz-seed.h"
#include "memd-client.h"
#include "memd-fixture.h"
#include "wire.h"

#define SEG_SIZE (128ull << 20)
#define ROUNDS 20

typedef struct Rig {
    Daemon *pool;
    MemdConn *brick;        /* the compute brick's pool client */
    uint32_t queue_seg, left_seg, right_seg, other_seg;
    uint8_t *queue, *left, *right, *other;
    char *link_path;
    char *control_path;
    GPid accel;
} Rig;

static uint8_t *alloc_segment(Rig *r, uint32_t *id)
{
    g_autoptr(GError) err = NULL;
    JsonObject *o;
    uint8_t *p;
    int fd;

    o = memd_call(r->brick, "{\"cmd\":\"alloc\",\"size\":\"128M\","
                  "\"brick\":0}", &fd, &err);
    assert_non_null(o);
    *id = json_object_get_int_member(json_object_get_object_member(o,
                                                                   "segment"),
                                     "id");
    json_object_unref(o);
    p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED);
    close(fd);
    return p;
}

static void pattern(uint8_t *p, uint32_t seed)
{
    for (uint64_t i = 0; i < SEG_SIZE; i += 8) {
        *(uint64_t *)(p + i) = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;
    }
}

static void assert_pattern(const uint8_t *p, uint32_t seed)
{
    for (uint64_t i = 0; i < SEG_SIZE; i += 8) {
        if (*(const uint64_t *)(p + i) !=
            ((i + 1) * 0x9e3779b97f4a7c15ull ^ seed)) {
            fail_msg("a segment not granted to the accelerator changed at"
                     " offset 0x%" G_GINT64_MODIFIER "x", i);
        }
    }
}

static void child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* dredbox-acceld as accelerator 3 with four engines of @rate MiB/s. */
static GPid spawn_accel(const char *pool, const char *link,
                        const char *control, const char *rate)
{
    const char *argv[] = { g_getenv("DREDBOX_ACCELD"), "--id", "3",
                           "--pool", pool, "--link", link, "--control",
                           control, "--engines", "4", "--rate", rate, NULL };
    g_autoptr(GError) err = NULL;
    GPid pid;

    assert_non_null(argv[0]);
    assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD |
                              G_SPAWN_STDOUT_TO_DEV_NULL |
                              G_SPAWN_STDERR_TO_DEV_NULL, child_setup, NULL,
                              &pid, &err));
    for (int i = 0; i < 500 && !g_file_test(control, G_FILE_TEST_EXISTS);
         i++) {
        g_usleep(10000);
    }
    assert_true(g_file_test(control, G_FILE_TEST_EXISTS));
    return pid;
}

static int setup(void **state)
{
    Rig *r = g_new0(Rig, 1);
    g_autoptr(GError) err = NULL;
    g_autofree char *grant = NULL;
    JsonObject *o;

    memd_fixture_setup((void **)&r->pool);
    r->brick = memd_connect(r->pool->sock, "brick0", FALSE, &err);
    assert_non_null(r->brick);
    /* Neighbours on both sides of the queue's segment, and one more. */
    r->left = alloc_segment(r, &r->left_seg);
    r->queue = alloc_segment(r, &r->queue_seg);
    r->right = alloc_segment(r, &r->right_seg);
    r->other = alloc_segment(r, &r->other_seg);
    pattern(r->left, 1);
    pattern(r->right, 2);
    pattern(r->other, 3);
    grant = g_strdup_printf("{\"cmd\":\"grant\",\"segment\":%u,\"client\":"
                            "\"accelerator3\",\"writable\":true}",
                            r->queue_seg);
    o = memd_call(r->brick, grant, NULL, &err);
    assert_non_null(o);
    json_object_unref(o);

    r->link_path = g_build_filename(r->pool->dir, "accel.sock", NULL);
    r->control_path = g_build_filename(r->pool->dir, "accel-ctl.sock", NULL);
    r->accel = spawn_accel(r->pool->sock, r->link_path, r->control_path,
                           "0");
    *state = r;
    return 0;
}

static void assert_accel_alive(Rig *r)
{
    int status;

    assert_int_equal(waitpid(r->accel, &status, WNOHANG), 0);
}

static int teardown(void **state)
{
    Rig *r = *state;
    int status;

    assert_accel_alive(r);
    kill(r->accel, SIGTERM);
    assert_int_equal(waitpid(r->accel, &status, 0), r->accel);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    memd_close(r->brick);
    memd_fixture_teardown((void **)&r->pool);
    g_free(r->link_path);
    g_free(r->control_path);
    g_free(r);
    return 0;
}

/* A connection to the UNIX socket at @path. */
static int sock_open(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return s;
}

static int link_open(Rig *r)
{
    return sock_open(r->link_path);
}

static void link_send(int s, uint32_t type, uint32_t value)
{
    DrqLinkMsg m = { type, value, 0 };

    assert_int_equal(send(s, &m, sizeof(m), MSG_NOSIGNAL), sizeof(m));
}

/* The next message, or type 0 if the daemon hung up; fails on timeout. */
static DrqLinkMsg link_recv(int s)
{
    DrqLinkMsg m = { 0 };
    struct pollfd p = { s, POLLIN, 0 };
    size_t have = 0;

    while (have < sizeof(m)) {
        ssize_t n;

        assert_int_equal(poll(&p, 1, 20000), 1);
        n = recv(s, (char *)&m + have, sizeof(m) - have, 0);
        if (n <= 0) {
            return (DrqLinkMsg) { 0 };
        }
        have += n;
    }
    return m;
}

static char *control(Rig *r, const char *line)
{
    int s = sock_open(r->control_path);
    char *reply;

    assert_true(rack_wire_send(s, line, -1));
    reply = rack_wire_recv(s, 1 << 16, NULL);
    close(s);
    assert_non_null(reply);
    return reply;
}

static void test_link(void **state)
{
    Rig *r = *state;
    g_autofree char *reply = NULL;
    g_autofree char *want = NULL;
    DrqLinkMsg m;
    int s;

    /* A segment the accelerator was not granted. */
    s = link_open(r);
    link_send(s, DRQ_LINK_HELLO, r->other_seg);
    m = link_recv(s);
    assert_int_equal(m.type, DRQ_LINK_READY);
    assert_int_equal(m.value, DRQ_LINK_ERR_SEGMENT);
    assert_int_equal(link_recv(s).type, 0);
    close(s);
    /* No such segment at all. */
    s = link_open(r);
    link_send(s, DRQ_LINK_HELLO, 9999);
    assert_int_equal(link_recv(s).value, DRQ_LINK_ERR_SEGMENT);
    close(s);
    /* A doorbell before HELLO, an unknown message. */
    s = link_open(r);
    link_send(s, DRQ_LINK_DOORBELL, 0);
    m = link_recv(s);
    assert_int_equal(m.type, DRQ_LINK_READY);
    assert_int_equal(m.value, DRQ_LINK_ERR_PROTOCOL);
    close(s);
    s = link_open(r);
    link_send(s, 77, 0);
    assert_int_equal(link_recv(s).value, DRQ_LINK_ERR_PROTOCOL);
    close(s);
    /* Half a message, then gone. */
    s = link_open(r);
    assert_int_equal(send(s, "\1\0\0\0\5", 5, 0), 5);
    close(s);
    /* The granted one. */
    s = link_open(r);
    link_send(s, DRQ_LINK_HELLO, r->queue_seg);
    m = link_recv(s);
    assert_int_equal(m.type, DRQ_LINK_READY);
    assert_int_equal(m.value, DRQ_LINK_OK);
    /* A doorbell on a queue with no header yet is ignored, not fatal. */
    link_send(s, DRQ_LINK_DOORBELL, 1);
    reply = control(r, "{\"cmd\":\"query\"}");
    assert_non_null(strstr(reply, "\"ok\":true"));
    want = g_strdup_printf("\"queues\":[%u]", r->queue_seg);
    assert_non_null(strstr(reply, want));
    /*
     * The link outlived that doorbell: a second HELLO, read after it, is
     * answered (a protocol error), so the doorbell was taken and ignored.
     */
    link_send(s, DRQ_LINK_HELLO, r->queue_seg);
    m = link_recv(s);
    assert_int_equal(m.type, DRQ_LINK_READY);
    assert_int_equal(m.value, DRQ_LINK_ERR_PROTOCOL);
    close(s);
    assert_accel_alive(r);
    assert_pattern(r->left, 1);
    assert_pattern(r->right, 2);
}

/* The rules of docs/accelerator.md, written again from the text. */
static uint32_t expected_status(const DrqSlot *d)
{
    const uint64_t size = SEG_SIZE, D = DRQ_DATA_OFFSET;
    uint64_t dlen = d->op == DRQ_OP_SHA256 ? 32 : d->len;
    bool src = d->op == DRQ_OP_COPY || d->op == DRQ_OP_CRC32C ||
               d->op == DRQ_OP_SHA256;
    bool dst = d->op == DRQ_OP_COPY || d->op == DRQ_OP_FILL ||
               d->op == DRQ_OP_SHA256;
    bool arg = d->op == DRQ_OP_FILL || d->op == DRQ_OP_CRC32C;
    uint64_t ranges[2][2] = { { d->src, d->len }, { d->dst, dlen } };

    if (d->op < DRQ_OP_COPY || d->op > DRQ_OP_SHA256) {
        return DRQ_ERR_OP;
    }
    if (d->reserved || (!src && d->src) || (!dst && d->dst) ||
        (!arg && d->arg)) {
        return DRQ_ERR_MALFORMED;
    }
    if (d->len == 0 || (d->op == DRQ_OP_FILL && d->len % 8)) {
        return DRQ_ERR_LENGTH;
    }
    for (int i = 0; i < 2; i++) {
        uint64_t off = ranges[i][0], len = ranges[i][1];

        if ((i == 0 && !src) || (i == 1 && !dst)) {
            continue;
        }
        /* Computed in 128 bits: no wrap-around can hide an overrun. */
        if ((unsigned __int128)off + len > size) {
            return DRQ_ERR_RANGE;
        }
        if (off < D) {
            return DRQ_ERR_QUEUE;
        }
    }
    if (src && dst && d->src < d->dst + dlen && d->dst < d->src + d->len) {
        return DRQ_ERR_OVERLAP;
    }
    return DRQ_OK;
}

static uint64_t pick_offset(GRand *g, uint64_t len)
{
    switch (g_rand_int_range(g, 0, 12)) {
    case 0: return 0;
    case 1: return DRQ_SLOTS_OFFSET + g_rand_int_range(g, 0, 256) * 64;
    case 2: return DRQ_DATA_OFFSET - g_rand_int_range(g, 1, 64);
    case 3: return SEG_SIZE - len;
    case 4: return SEG_SIZE - len + g_rand_int_range(g, 1, 9);
    case 5: return SEG_SIZE + g_rand_int_range(g, 0, 1 << 20);
    case 6: return UINT64_MAX - g_rand_int_range(g, 0, 4096);
    case 7: return ((uint64_t)g_rand_int(g) << 32) | g_rand_int(g);
    default:
        return DRQ_DATA_OFFSET +
               (uint64_t)g_rand_int_range(g, 0, (SEG_SIZE - DRQ_DATA_OFFSET -
                                                 (1 << 20)) / 8) * 8;
    }
}

static uint64_t pick_length(GRand *g)
{
    switch (g_rand_int_range(g, 0, 10)) {
    case 0: return 0;
    case 1: return UINT64_MAX - g_rand_int_range(g, 0, 16);
    case 2: return SEG_SIZE;
    case 3: return g_rand_int_range(g, 1, 64);
    default: return g_rand_int_range(g, 1, 1 << 16);
    }
}

static DrqSlot random_desc(GRand *g)
{
    DrqSlot d = { 0 };
    uint32_t op = g_rand_int_range(g, 0, 6);

    d.op = op;
    d.len = pick_length(g);
    if (op == DRQ_OP_FILL && g_rand_boolean(g)) {
        d.len &= ~7ull;
    }
    /* Mostly the fields the operation uses; sometimes any. */
    if (op != DRQ_OP_FILL || !g_rand_int_range(g, 0, 8)) {
        d.src = pick_offset(g, d.len);
    }
    if (op != DRQ_OP_CRC32C || !g_rand_int_range(g, 0, 8)) {
        d.dst = pick_offset(g, op == DRQ_OP_SHA256 ? 32 : d.len);
    }
    /* Source and destination close together. */
    if ((op == DRQ_OP_COPY || op == DRQ_OP_SHA256) &&
        !g_rand_int_range(g, 0, 6)) {
        d.dst = d.src + g_rand_int_range(g, -4096, 4096);
    }
    if (op == DRQ_OP_FILL || op == DRQ_OP_CRC32C ||
        !g_rand_int_range(g, 0, 8)) {
        d.arg = ((uint64_t)g_rand_int(g) << 32) | g_rand_int(g);
    }
    if (!g_rand_int_range(g, 0, 20)) {
        d.reserved = g_rand_int(g) | 1;
    }
    d.tag = g_rand_int(g);
    return d;
}

/* Whether a valid copy, fill or hash of @d writes into [off, off + len):
 * engines run at once, so such a checksum has no one right value. */
static bool written(const DrqSlot *d, uint64_t off, uint64_t len)
{
    for (unsigned i = 0; i < DRQ_SLOTS; i++) {
        uint64_t dlen = d[i].op == DRQ_OP_SHA256 ? 32 : d[i].len;

        if (i % 16 != 5 && d[i].op != DRQ_OP_CRC32C &&
            expected_status(&d[i]) == DRQ_OK &&
            d[i].dst < off + len && off < d[i].dst + dlen) {
            return true;
        }
    }
    return false;
}

/* The query's "done", "failed" and "errors" say @counts (by status). */
static void assert_query_counts(const char *reply,
                                const unsigned counts[DRQ_ERR_OVERLAP + 1])
{
    static const char *const names[DRQ_ERR_OVERLAP + 1] = {
        [DRQ_ERR_OP] = "op", [DRQ_ERR_MALFORMED] = "malformed",
        [DRQ_ERR_LENGTH] = "length", [DRQ_ERR_RANGE] = "range",
        [DRQ_ERR_QUEUE] = "queue", [DRQ_ERR_OVERLAP] = "overlap",
    };
    g_autoptr(JsonNode) root = json_from_string(reply, NULL);
    JsonObject *o, *errors;
    unsigned failed = 0;

    assert_non_null(root);
    o = json_node_get_object(root);
    errors = json_object_get_object_member(o, "errors");
    assert_non_null(errors);
    for (unsigned st = DRQ_ERR_OP; st <= DRQ_ERR_OVERLAP; st++) {
        assert_int_equal(json_object_get_int_member(errors, names[st]),
                         counts[st]);
        failed += counts[st];
    }
    assert_int_equal(json_object_get_int_member(o, "done"), counts[DRQ_OK]);
    assert_int_equal(json_object_get_int_member(o, "failed"), failed);
}

static void test_fuzz(void **state)
{
    Rig *r = *state;
    DrqHeader *h = (DrqHeader *)r->queue;
    DrqSlot *slots = (DrqSlot *)(r->queue + DRQ_SLOTS_OFFSET);
    guint32 seed = fuzz_seed();
    GRand *g = g_rand_new_with_seed(seed);
    unsigned counts[DRQ_ERR_OVERLAP + 1] = { 0 };
    uint64_t total = 0;
    g_autofree char *reply = NULL;
    int s;

    print_message("# fuzz seed %u (DREDBOX_SEED=%u replays it)\n", seed,
                  seed);
    *h = (DrqHeader) { .magic = DRQ_MAGIC, .version = DRQ_VERSION,
                       .nslots = DRQ_SLOTS, .slot_size = sizeof(DrqSlot),
                       .data_offset = DRQ_DATA_OFFSET };
    s = link_open(r);
    link_send(s, DRQ_LINK_HELLO, r->queue_seg);
    assert_int_equal(link_recv(s).value, DRQ_LINK_OK);

    for (int round = 0; round < ROUNDS; round++) {
        DrqSlot want[DRQ_SLOTS];
        unsigned submitted = 0;

        for (unsigned i = 0; i < DRQ_SLOTS; i++) {
            want[i] = random_desc(g);
            slots[i] = want[i];
            /* Every 16th slot stays with the producer: not to be taken. */
            slots[i].state = i % 16 == 5 ? DRQ_OWNED : DRQ_SUBMITTED;
            submitted += i % 16 != 5;
        }
        h->submitted += submitted;
        link_send(s, DRQ_LINK_DOORBELL, round);
        for (unsigned n = 0; n < submitted; n++) {
            DrqLinkMsg m = link_recv(s);

            assert_int_equal(m.type, DRQ_LINK_COMPLETION);
            assert_true(m.value < DRQ_SLOTS && m.value % 16 != 5);
        }
        for (unsigned i = 0; i < DRQ_SLOTS; i++) {
            DrqSlot *sl = &slots[i];
            uint32_t st;

            if (i % 16 == 5) {
                assert_int_equal(sl->state, DRQ_OWNED);
                assert_memory_equal((char *)sl + 4, (char *)&want[i] + 4,
                                    sizeof(*sl) - 4);
                continue;
            }
            st = expected_status(&want[i]);
            counts[st]++;
            if (sl->status != st) {
                fail_msg("round %d slot %u op %u src 0x%" G_GINT64_MODIFIER
                         "x dst 0x%" G_GINT64_MODIFIER "x len 0x%"
                         G_GINT64_MODIFIER "x: status %u, expected %u",
                         round, i, want[i].op, want[i].src, want[i].dst,
                         want[i].len, sl->status, st);
            }
            assert_int_equal(sl->state, st ? DRQ_ERROR : DRQ_DONE);
            assert_int_equal(sl->tag, want[i].tag);
            if (st == DRQ_OK && want[i].op == DRQ_OP_CRC32C &&
                !written(want, want[i].src, want[i].len)) {
                assert_int_equal(sl->result,
                                 crc32c_ref(want[i].arg,
                                            r->queue + want[i].src,
                                            want[i].len));
            }
            sl->state = DRQ_FREE;
        }
        total += submitted;
        assert_int_equal(h->completed, total);
    }
    close(s);
    /* Enough of every verdict to mean something. */
    for (unsigned st = DRQ_OK; st <= DRQ_ERR_OVERLAP; st++) {
        print_message("# status %u: %u\n", st, counts[st]);
        assert_true(counts[st] >= 20);
    }
    assert_accel_alive(r);
    assert_int_equal(h->magic, DRQ_MAGIC);
    assert_int_equal(h->data_offset, DRQ_DATA_OFFSET);
    assert_pattern(r->left, 1);
    assert_pattern(r->right, 2);
    assert_pattern(r->other, 3);
    reply = control(r, "{\"cmd\":\"query\"}");
    assert_non_null(strstr(reply, "\"ok\":true"));
    /* The accelerator's first jobs: its counts are the fuzz's. */
    assert_query_counts(reply, counts);
    g_rand_free(g);
}

/*
 * Slots a dead accelerator left in progress are failed when a queue is
 * joined again, so no producer waits for them forever.
 */
static void test_reclaim(void **state)
{
    Rig *r = *state;
    DrqSlot *slots = (DrqSlot *)(r->queue + DRQ_SLOTS_OFFSET);
    int s;

    slots[7] = (DrqSlot) { .state = DRQ_IN_PROGRESS, .op = DRQ_OP_CRC32C,
                           .src = DRQ_DATA_OFFSET, .len = 64 };
    slots[8] = (DrqSlot) { .state = DRQ_OWNED };
    s = link_open(r);
    link_send(s, DRQ_LINK_HELLO, r->queue_seg);
    assert_int_equal(link_recv(s).value, DRQ_LINK_OK);
    assert_int_equal(slots[7].state, DRQ_ERROR);
    assert_int_equal(slots[7].status, DRQ_ERR_LOST);
    assert_int_equal(slots[8].state, DRQ_OWNED);
    slots[7].state = slots[8].state = DRQ_FREE;
    close(s);
}

/* After all that, ordinary work is still done right. */
static void test_still_serving(void **state)
{
    Rig *r = *state;
    DrqSlot *slots = (DrqSlot *)(r->queue + DRQ_SLOTS_OFFSET);
    const uint64_t src = DRQ_DATA_OFFSET, dst = 64 << 20, len = 32 << 20;
    DrqLinkMsg m;
    int s;

    for (uint64_t i = 0; i < len; i += 8) {
        *(uint64_t *)(r->queue + src + i) = i * 31 + 7;
    }
    s = link_open(r);
    link_send(s, DRQ_LINK_HELLO, r->queue_seg);
    assert_int_equal(link_recv(s).value, DRQ_LINK_OK);
    slots[0] = (DrqSlot) { .op = DRQ_OP_COPY, .src = src, .dst = dst,
                           .len = len };
    slots[1] = (DrqSlot) { .op = DRQ_OP_CRC32C, .src = src, .len = len };
    slots[0].state = slots[1].state = DRQ_SUBMITTED;
    link_send(s, DRQ_LINK_DOORBELL, 0);
    m = link_recv(s);
    assert_int_equal(m.type, DRQ_LINK_COMPLETION);
    m = link_recv(s);
    assert_int_equal(m.type, DRQ_LINK_COMPLETION);
    assert_int_equal(slots[0].state, DRQ_DONE);
    assert_int_equal(slots[1].state, DRQ_DONE);
    assert_memory_equal(r->queue + src, r->queue + dst, len);
    assert_int_equal(slots[1].result, crc32c_ref(0, r->queue + src, len));
    close(s);
    assert_pattern(r->left, 1);
    assert_pattern(r->right, 2);
}

/*
 * Several engines work at once: four 2 MiB jobs on engines slowed to
 * 1 MiB/s are seen in progress together (no clock involved: the test
 * looks for the overlap, and fails only if it never shows).
 */
static void test_concurrent_engines(void **state)
{
    Rig *r = *state;
    DrqSlot *slots = (DrqSlot *)(r->queue + DRQ_SLOTS_OFFSET);
    g_autofree char *link = g_build_filename(r->pool->dir, "slow.sock",
                                             NULL);
    g_autofree char *control = g_build_filename(r->pool->dir,
                                                "slow-ctl.sock", NULL);
    GPid slow = spawn_accel(r->pool->sock, link, control, "1");
    unsigned most = 0;
    int s = sock_open(link), status;

    link_send(s, DRQ_LINK_HELLO, r->queue_seg);
    assert_int_equal(link_recv(s).value, DRQ_LINK_OK);
    for (unsigned i = 0; i < 4; i++) {
        slots[i] = (DrqSlot) { .op = DRQ_OP_CRC32C,
                               .src = DRQ_DATA_OFFSET + i * (2 << 20),
                               .len = 2 << 20 };
        slots[i].state = DRQ_SUBMITTED;
    }
    link_send(s, DRQ_LINK_DOORBELL, 0);
    for (unsigned done = 0; done < 4 && most < 4;) {
        unsigned busy = 0;

        done = 0;
        for (unsigned i = 0; i < 4; i++) {
            uint32_t st = __atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE);

            busy += st == DRQ_IN_PROGRESS;
            done += st == DRQ_DONE;
        }
        most = MAX(most, busy);
        g_usleep(1000);
    }
    assert_int_equal(most, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(link_recv(s).type, DRQ_LINK_COMPLETION);
    }
    close(s);
    kill(slow, SIGTERM);
    assert_int_equal(waitpid(slow, &status, 0), slow);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_reclaim),
        cmocka_unit_test(test_still_serving),
        cmocka_unit_test(test_concurrent_engines),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
