/*
 * dredbox-trace ($DREDBOX_TRACE) on small synthetic traces of format
 * version 2: reuse distances checked by hand and against a naive count,
 * per-kind, per-brick, per-port and per-ASID counts, --asid, the CSV
 * columns, refused input, an empty trace, and the gnuplot plots.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "dredbox/mem-trace.h"

#define PAGE 4096
#define REUSE "reuse distance of remote pages (distinct remote pages" \
              " between two touches of a page):\n"

static MemTraceRecord rec(unsigned kind, int store, unsigned size_shift,
                          uint16_t asid)
{
    return (MemTraceRecord) {
        .vaddr = 0x400000, .paddr = 0x40000000, .asid = asid,
        .brick = MEM_TRACE_NO_BRICK,
        .flags = mem_trace_flags(kind, store, size_shift),
    };
}

static MemTraceRecord rmc(uint16_t brick, uint8_t port, uint64_t offset,
                          int store, unsigned size_shift, uint16_t asid)
{
    MemTraceRecord r = rec(MEM_TRACE_RMC, store, size_shift, asid);

    r.brick = brick;
    r.port = port;
    r.offset = offset;
    return r;
}

/*
 * @dir/@name: a trace of @n records @r with header @version, @record_size
 * and @sample, and @partial bytes of one more record.
 */
static char *write_raw_trace(const char *dir, const char *name,
                             uint32_t version, uint32_t record_size,
                             uint32_t sample, const MemTraceRecord *r,
                             size_t n, size_t partial)
{
    MemTraceHeader h = { .version = version, .record_size = record_size,
                         .sample = sample };
    g_autoptr(GByteArray) data = g_byte_array_new();
    char *path = g_build_filename(dir, name, NULL);

    memcpy(h.magic, MEM_TRACE_MAGIC, sizeof(h.magic));
    g_byte_array_append(data, (const guint8 *)&h, sizeof(h));
    g_byte_array_append(data, (const guint8 *)r, n * sizeof(*r));
    g_byte_array_append(data, (const guint8 *)r, partial);
    assert_true(g_file_set_contents(path, (const char *)data->data,
                                    data->len, NULL));
    return path;
}

static char *write_trace(const char *dir, const char *name,
                         const MemTraceRecord *r, size_t n)
{
    return write_raw_trace(dir, name, MEM_TRACE_VERSION,
                           sizeof(MemTraceRecord), 1, r, n, 0);
}

/*
 * dredbox-trace with the arguments up to NULL, in environment @envp
 * (NULL: ours): its exit status (-1 if it did not exit: a crash), its
 * output and its messages.
 */
static int run_env(char **envp, char **out, char **err, ...)
{
    const char *bin = g_getenv("DREDBOX_TRACE");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    int status;
    va_list ap;

    if (!bin) {
        fail_msg("set DREDBOX_TRACE to the dredbox-trace binary");
    }
    g_ptr_array_add(argv, (char *)bin);
    va_start(ap, err);
    for (char *a = va_arg(ap, char *); a; a = va_arg(ap, char *)) {
        g_ptr_array_add(argv, a);
    }
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    assert_true(g_spawn_sync(NULL, (char **)argv->pdata, envp, 0, NULL,
                             NULL, out, err, &status, NULL));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define run(out, err, ...) run_env(NULL, out, err, __VA_ARGS__, NULL)

static void assert_has(const char *text, const char *part)
{
    if (!strstr(text, part)) {
        fail_msg("expected\n%s\nin\n%s", part, text);
    }
}

static void assert_lacks(const char *text, const char *part)
{
    if (strstr(text, part)) {
        fail_msg("did not expect\n%s\nin\n%s", part, text);
    }
}

static void assert_starts(const char *text, const char *part)
{
    if (!g_str_has_prefix(text, part)) {
        fail_msg("expected\n%s\nat the start of\n%s", part, text);
    }
}

/* The summary of @path, which must succeed. */
static char *summary(const char *path, const char *asid)
{
    char *out;
    g_autofree char *err = NULL;
    int status = asid ? run(&out, &err, "summary", "--asid", asid, path)
                      : run(&out, &err, "summary", path);

    if (status) {
        fail_msg("summary %s: exit %d: %s", path, status, err);
    }
    return out;
}

static int setup(void **state)
{
    *state = g_dir_make_tmp("trace-reader-XXXXXX", NULL);
    return *state ? 0 : -1;
}

static void remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *sub = g_build_filename(path, name, NULL);

        remove_tree(sub);
    }
    if (dir) {
        g_dir_close(dir);
    }
    g_remove(path);
}

static int teardown(void **state)
{
    remove_tree(*state);
    g_free(*state);
    return 0;
}

/*
 * Remote pages A B C A B B D A, with local and virtio-mem accesses in
 * between that are not remote pages: A's touches are 2 (B, C) and 2
 * (B, D) apart, B's 2 (C, A) and 0; 4 first touches.  D is A's page on
 * another brick, A's second touch another offset in its page.
 */
static void test_reuse_distance_by_hand(void **state)
{
    const uint64_t a = 0x100000, b = 0x101000, c = 0x105000;
    MemTraceRecord r[] = {
        rmc(0, 0, a, 1, 3, 1), rec(MEM_TRACE_LOCAL, 0, 3, 1),
        rmc(0, 0, b, 1, 3, 1), rmc(0, 0, c, 0, 3, 1),
        rec(MEM_TRACE_VIRTIO_MEM, 0, 3, 1), rmc(0, 0, a + 100, 0, 0, 1),
        rmc(0, 0, b, 1, 3, 1), rmc(0, 0, b + 8, 1, 3, 1),
        rmc(1, 1, a, 1, 3, 1), rmc(0, 0, a, 1, 3, 1),
    };
    g_autofree char *path = write_trace(*state, "abc.bin", r,
                                        G_N_ELEMENTS(r));
    g_autofree char *out = summary(path, NULL);

    assert_has(out, REUSE "  first touch 4\n  0 1\n  2-3 3\nremote");
}

/*
 * A B B B B A C D E F G A: A's second touch is 5 accesses but only 1
 * page (B) after its first, its third 5 pages (C to G) after that.
 */
static void test_reuse_distance_not_interval(void **state)
{
    const char *seq = "ABBBBACDEFGA";
    MemTraceRecord r[12];
    g_autofree char *path = NULL;
    g_autofree char *out = NULL;

    for (int i = 0; seq[i]; i++) {
        r[i] = rmc(2, 0, (uint64_t)(seq[i] - 'A') * PAGE, 0, 3, 1);
    }
    path = write_trace(*state, "interval.bin", r, G_N_ELEMENTS(r));
    out = summary(path, NULL);
    assert_has(out, REUSE "  first touch 7\n  0 3\n  1-1 1\n  4-7 1\n"
               "remote");
}

/* A long random sequence against a naive count of distinct pages. */
static void test_reuse_distance_naive(void **state)
{
    enum { N = 4000, PAGES = 600 };
    g_autoptr(GRand) rand = g_rand_new_with_seed(42);
    g_autoptr(GString) want = g_string_new(REUSE);
    g_autofree MemTraceRecord *r = g_new0(MemTraceRecord, N);
    g_autofree int *page = g_new(int, N);
    g_autofree int *seen = g_new0(int, PAGES);
    g_autofree char *path = NULL;
    g_autofree char *out = NULL;
    uint64_t hist[64] = { 0 }, first = 0;

    for (int i = 0; i < N; i++) {
        /* Skewed, so that distances from 0 to hundreds all occur. */
        int span = 1 << g_rand_int_range(rand, 0, 10);

        page[i] = g_rand_int_range(rand, 0, MIN(span, PAGES));
        r[i] = rmc(page[i] % 3, 0, (uint64_t)page[i] * PAGE, 0, 3, 0);
    }
    for (int i = 0; i < N; i++) {
        int j = i - 1, distinct = 0, bucket = 0;

        while (j >= 0 && page[j] != page[i]) {
            if (seen[page[j]] != i + 1) {
                seen[page[j]] = i + 1;
                distinct++;
            }
            j--;
        }
        if (j < 0) {
            first++;
            continue;
        }
        while (distinct >> bucket) {
            bucket++;
        }
        hist[bucket]++;
    }
    g_string_append_printf(want, "  first touch %" PRIu64 "\n", first);
    for (int b = 0; b < 64; b++) {
        if (hist[b] && !b) {
            g_string_append_printf(want, "  0 %" PRIu64 "\n", hist[b]);
        } else if (hist[b]) {
            g_string_append_printf(want, "  %d-%d %" PRIu64 "\n",
                                   1 << (b - 1), (1 << b) - 1, hist[b]);
        }
    }
    g_string_append(want, "remote");
    /* The naive count must see a range of distances to be a check. */
    assert_true(hist[0] && hist[1] && hist[8]);
    path = write_trace(*state, "random.bin", r, N);
    out = summary(path, NULL);
    assert_has(out, want->str);
}

/*
 * Ten accesses of three address spaces, of every kind, to bricks 2 and
 * 0 through ports 0 and 1; one in 7 traced.
 */
static char *mixed_trace(const char *dir)
{
    MemTraceRecord r[] = {
        rec(MEM_TRACE_LOCAL, 0, 2, 0x100),
        rmc(2, 0, 0x7000, 0, 6, 0x12),
        rec(MEM_TRACE_IO, 1, 0, 0x3),
        rmc(0, 1, 0x100010, 1, 3, 0x12),
        rec(MEM_TRACE_OTHER, 0, 1, 0x3),
        rmc(0, 1, 0x100020, 1, 3, 0x12),
        rec(MEM_TRACE_RMC_UNMAPPED, 0, 7, 0x3),
        rmc(0, 1, 0x100000, 1, 3, 0x12),
        rec(MEM_TRACE_VIRTIO_MEM, 1, 4, 0x3),
        rec(MEM_TRACE_LOCAL, 0, 2, 0x100),
    };

    return write_raw_trace(dir, "mixed.bin", MEM_TRACE_VERSION,
                           sizeof(MemTraceRecord), 7, r, G_N_ELEMENTS(r), 0);
}

static void test_counts(void **state)
{
    g_autofree char *path = mixed_trace(*state);
    g_autofree char *out = summary(path, NULL);

    assert_starts(out, "10 accesses (one in 7 traced)\n"
                  "local            loads=2 stores=0 bytes=8\n"
                  "virtio-mem       loads=0 stores=1 bytes=16\n"
                  "rmc-unmapped     loads=1 stores=0 bytes=128\n"
                  "io               loads=0 stores=1 bytes=1\n"
                  "other            loads=1 stores=0 bytes=2\n"
                  "remote-node      loads=0 stores=0 bytes=0\n"
                  "pmem             loads=0 stores=0 bytes=0\n"
                  "brick 0          loads=0 stores=3 bytes=24\n"
                  "brick 2          loads=1 stores=0 bytes=64\n"
                  "port 0           loads=1 stores=0 bytes=64\n"
                  "port 1           loads=0 stores=3 bytes=24\n"
                  "asid 0x3         loads=2 stores=2 bytes=147\n"
                  "asid 0x12        loads=1 stores=3 bytes=88\n"
                  "asid 0x100       loads=2 stores=0 bytes=8\n"
                  "hottest remote pages (brick, offset, accesses):\n"
                  "  0 0x100000 3\n  2 0x7000 1\n" REUSE);
    assert_has(out, "remote fraction over time (tenths of the trace):"
               " 0.00 1.00 0.00 1.00 0.00 1.00 0.00 1.00 1.00 0.00\n");
}

/*
 * Memory bricks reached outside the RMC (a remote node, virtio-mem,
 * persistent memory) count for their brick; virtio-mem with no brick
 * behind it for none.
 */
static void test_bricks_outside_rmc(void **state)
{
    MemTraceRecord r[] = {
        rec(MEM_TRACE_REMOTE_NODE, 0, 3, 0), rec(MEM_TRACE_VIRTIO_MEM, 1, 3, 0),
        rec(MEM_TRACE_VIRTIO_MEM, 1, 3, 0), rec(MEM_TRACE_PMEM, 1, 2, 0),
    };
    g_autofree char *path = NULL;
    g_autofree char *out = NULL;

    r[0].brick = r[1].brick = 1;
    r[3].brick = 2;
    path = write_trace(*state, "bricks.bin", r, G_N_ELEMENTS(r));
    out = summary(path, NULL);
    assert_has(out, "\nvirtio-mem       loads=0 stores=2 bytes=16\n");
    assert_has(out, "\nremote-node      loads=1 stores=0 bytes=8\n"
               "pmem             loads=0 stores=1 bytes=4\n"
               "brick 1          loads=1 stores=1 bytes=16\n"
               "brick 2          loads=0 stores=1 bytes=4\nasid");
}

static void test_asid_filter(void **state)
{
    g_autofree char *path = mixed_trace(*state);
    g_autofree char *hex = summary(path, "0x12");
    g_autofree char *dec = summary(path, "18");
    g_autofree char *none = summary(path, "0x99");
    g_autofree char *csv = NULL;
    g_autofree char *err = NULL;
    g_auto(GStrv) rows = NULL;

    assert_starts(hex, "4 accesses (one in 7 traced) in asid 0x12, of 10"
                  " in the trace\nlocal            loads=0 stores=0"
                  " bytes=0\n");
    assert_has(hex, "\nbrick 0          loads=0 stores=3 bytes=24\n"
               "brick 2          loads=1 stores=0 bytes=64\n"
               "port 0           loads=1 stores=0 bytes=64\n"
               "port 1           loads=0 stores=3 bytes=24\n"
               "asid 0x12        loads=1 stores=3 bytes=88\nhottest");
    assert_string_equal(hex, dec);
    assert_starts(none, "0 accesses (one in 7 traced) in asid 0x99, of 10"
                  " in the trace\n");
    assert_lacks(none, "\nbrick");
    assert_int_equal(run(&csv, &err, "csv", "--asid", "3", path), 0);
    rows = g_strsplit(csv, "\n", -1);
    /* The header, four rows, and the empty string after the last \n */
    assert_int_equal(g_strv_length(rows), 6);
    for (int i = 1; i <= 4; i++) {
        assert_true(g_str_has_suffix(rows[i], ",0x3"));
    }
}

static void test_csv(void **state)
{
    MemTraceRecord r[] = {
        { .icount = 5, .vcpu = 1, .vaddr = 0xffff000000001000,
          .paddr = 0x40001000, .offset = 0x101000, .brick = 3, .port = 1,
          .asid = 0x2a, .flags = mem_trace_flags(MEM_TRACE_RMC, 1, 3) },
        { .icount = 7, .vaddr = 0x400000, .paddr = 0x80000000,
          .offset = 0x999, .brick = 4, .port = 2,
          .flags = mem_trace_flags(MEM_TRACE_LOCAL, 0, 0) },
        { .icount = 9, .vcpu = 3, .vaddr = 0x1, .paddr = 0xe000000040,
          .offset = 0x40, .brick = 2, .asid = 0xffff,
          .flags = mem_trace_flags(MEM_TRACE_PMEM, 1, 7) },
        { .icount = 11, .vaddr = 0x10, .paddr = 0x20, .asid = 0x100,
          .flags = mem_trace_flags(MEM_TRACE_IO, 0, 2) },
        /* Memory bricks outside the RMC (the memory map): no port */
        { .icount = 13, .paddr = 0x140000000, .offset = 0x8000000,
          .brick = 1, .flags = mem_trace_flags(MEM_TRACE_REMOTE_NODE, 0, 3) },
        { .icount = 15, .paddr = 0x4000000000, .offset = 0x10001000,
          .brick = 0, .flags = mem_trace_flags(MEM_TRACE_VIRTIO_MEM, 1, 3) },
        { .icount = 17, .paddr = 0x4000000000,
          .brick = MEM_TRACE_NO_BRICK,
          .flags = mem_trace_flags(MEM_TRACE_VIRTIO_MEM, 1, 3) },
    };
    g_autofree char *path = write_trace(*state, "csv.bin", r,
                                        G_N_ELEMENTS(r));
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_auto(GStrv) rows = NULL;

    assert_int_equal(run(&out, &err, "csv", path), 0);
    assert_string_equal(out,
        "icount,vcpu,vaddr,paddr,kind,port,brick,offset,size,op,asid\n"
        "5,1,0xffff000000001000,0x40001000,rmc,1,3,0x101000,8,store,0x2a\n"
        "7,0,0x400000,0x80000000,local,,,,1,load,0x0\n"
        "9,3,0x1,0xe000000040,pmem,,2,0x40,128,store,0xffff\n"
        "11,0,0x10,0x20,io,,,,4,load,0x100\n"
        "13,0,0x0,0x140000000,remote-node,,1,0x8000000,8,load,0x0\n"
        "15,0,0x0,0x4000000000,virtio-mem,,0,0x10001000,8,store,0x0\n"
        "17,0,0x0,0x4000000000,virtio-mem,,,,8,store,0x0\n");
    rows = g_strsplit(out, "\n", -1);
    for (int i = 0; rows[i + 1]; i++) {
        g_auto(GStrv) cols = g_strsplit(rows[i], ",", -1);

        assert_int_equal(g_strv_length(cols), 11);
    }
}

/* dredbox-trace ARGS... fails with @status and a message with @part. */
#define refused(status, part, ...) \
    do { \
        g_autofree char *out_ = NULL; \
        g_autofree char *err_ = NULL; \
        assert_int_equal(run(&out_, &err_, __VA_ARGS__), status); \
        assert_has(err_, part); \
    } while (0)

static void test_refusals(void **state)
{
    MemTraceRecord r[3] = {
        rmc(0, 0, 0, 1, 3, 0), rmc(0, 0, 0, 1, 3, 0), rmc(0, 0, 0, 1, 3, 0),
    };
    g_autofree char *text = g_build_filename(*state, "text", NULL);
    g_autofree char *shrt = g_build_filename(*state, "short", NULL);
    g_autofree char *v1 = write_raw_trace(*state, "v1.bin", 1,
                                          sizeof(MemTraceRecord), 1, r, 3, 0);
    g_autofree char *size = write_raw_trace(*state, "size.bin",
                                            MEM_TRACE_VERSION, 48, 1, r,
                                            3, 0);
    g_autofree char *cut = write_raw_trace(*state, "cut.bin",
                                           MEM_TRACE_VERSION,
                                           sizeof(MemTraceRecord), 1, r,
                                           2, 17);
    g_autofree char *sub = g_build_filename(text, "plots", NULL);
    g_autofree char *missing = g_build_filename(*state, "missing", NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    const char *bad_asids[] = { "zz", "0x10000", "-1", "", "1x", "65536" };

    assert_true(g_file_set_contents(text, "hello, no trace\n", -1, NULL));
    assert_true(g_file_set_contents(shrt, "DRBTRACE\2", -1, NULL));
    refused(1, "is not a dredbox-mem trace", "summary", text);
    refused(1, "is not a dredbox-mem trace", "csv", shrt);
    refused(1, "version 1, record size 40: this reader knows versions 2"
            " to 4, 40", "summary", v1);
    refused(1, "record size 48", "plot", size, *state);
    refused(1, "No such file", "summary", missing);
    for (guint i = 0; i < G_N_ELEMENTS(bad_asids); i++) {
        refused(1, "--asid must be a number from 0 to 0xffff", "summary",
                "--asid", bad_asids[i], cut);
    }
    refused(2, "usage: dredbox-trace summary", "frobnicate", cut);
    refused(2, "usage:", "summary");
    refused(2, "usage:", "summary", "--asid");
    refused(2, "usage:", "summary", cut, "extra");
    refused(2, "usage:", "plot", cut);
    refused(2, "usage:", "csv", "--asid", "1", cut, "extra");
    /* A partial last record: a warning, the whole ones are read. */
    assert_int_equal(run(&out, &err, "summary", cut), 0);
    assert_has(err, "partial last record");
    assert_starts(out, "2 accesses (one in 1 traced)\n");
    /* A DIR that cannot be made: under a file. */
    refused(1, "cannot create", "plot", cut, sub);
}

static void test_no_gnuplot(void **state)
{
    MemTraceRecord r[] = { rmc(0, 0, 0, 1, 3, 0) };
    g_autofree char *path = write_trace(*state, "t.bin", r, 1);
    g_autofree char *dir = g_build_filename(*state, "plots", NULL);
    char *envp[] = { (char *)"PATH=/nonexistent", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    assert_int_equal(run_env(envp, &out, &err, "plot", path, dir, NULL), 1);
    assert_has(err, "install gnuplot-nox");
}

static void assert_png(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *data = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, NULL)) {
        fail_msg("no %s", path);
    }
    assert_true(len > 8);
    assert_memory_equal(data, "\x89PNG\r\n\x1a\n", 8);
}

static void assert_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *data = NULL;

    if (!g_file_get_contents(path, &data, NULL, NULL)) {
        fail_msg("no %s", path);
    }
    assert_has(data, text);
}

/* dredbox-trace plot [--asid @asid] @trace @dir succeeds, with 3 PNGs. */
static void plot(const char *trace, const char *asid, const char *dir)
{
    g_autofree char *gnuplot = g_find_program_in_path("gnuplot");
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    if (!gnuplot) {
        fail_msg("no gnuplot: install gnuplot-nox (scripts/host-deps.sh)");
    }
    status = asid ? run(&out, &err, "plot", "--asid", asid, trace, dir)
                  : run(&out, &err, "plot", trace, dir);
    if (status) {
        fail_msg("plot: exit %d: %s", status, err);
    }
    assert_png(dir, "remote-fraction.png");
    assert_png(dir, "reuse-distance.png");
    assert_png(dir, "bricks.png");
    assert_file(dir, "plot.gp", "set output 'bricks.png'");
}

static void test_plot(void **state)
{
    g_autofree char *path = mixed_trace(*state);
    g_autofree char *dir = g_build_filename(*state, "a", "b", NULL);
    g_autofree char *only = g_build_filename(*state, "only-0x3", NULL);

    plot(path, NULL, dir);
    assert_file(dir, "bricks.dat", "\n0 0 3\n2 1 0\n");
    assert_file(dir, "plot.gp", "plot 'bricks.dat' using 2:xtic(1)");
    /* Brick 0's page 0x100000 is touched three times back to back. */
    assert_file(dir, "reuse-distance.dat", "\n\"0\" 2\n");
    assert_file(dir, "remote-fraction.dat", "\n0 0.0000\n10 1.0000\n");
    /* Rerun in place: the directory exists. */
    plot(path, NULL, dir);
    /* No remote accesses at all: still three plots. */
    plot(path, "0x3", only);
    assert_file(only, "bricks.dat", "# brick loads stores\n");
    assert_file(only, "plot.gp", "asid 0x3");
}

static void test_empty(void **state)
{
    g_autofree char *path = write_trace(*state, "empty.bin", NULL, 0);
    g_autofree char *dir = g_build_filename(*state, "plots", NULL);
    g_autofree char *out = summary(path, NULL);
    g_autofree char *csv = NULL;
    g_autofree char *err = NULL;

    assert_starts(out, "0 accesses (one in 1 traced)\n");
    assert_has(out, REUSE "  first touch 0\nremote fraction over time"
               " (tenths of the trace): - - - - - - - - - -\n");
    assert_lacks(out, "nan");
    assert_int_equal(run(&csv, &err, "csv", path), 0);
    assert_string_equal(csv, "icount,vcpu,vaddr,paddr,kind,port,brick,"
                        "offset,size,op,asid\n");
    plot(path, NULL, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define IN_TMP(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
        IN_TMP(test_reuse_distance_by_hand),
        IN_TMP(test_reuse_distance_not_interval),
        IN_TMP(test_reuse_distance_naive),
        IN_TMP(test_counts),
        IN_TMP(test_bricks_outside_rmc),
        IN_TMP(test_asid_filter),
        IN_TMP(test_csv),
        IN_TMP(test_refusals),
        IN_TMP(test_no_gnuplot),
        IN_TMP(test_plot),
        IN_TMP(test_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
