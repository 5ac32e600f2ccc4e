/*
 * dredbox-trace: read a memory-access trace of the dredbox-mem plugin
 * (include/dredbox/mem-trace.h, docs/tracing.md).
 *
 *   dredbox-trace summary [--asid N] FILE
 *       accesses per kind, memory brick, RMC port and address space
 *       (ASID); hottest remote pages; reuse distance of remote pages;
 *       remote fraction over time
 *   dredbox-trace csv [--asid N] FILE
 *       one CSV line per access: icount,vcpu,vaddr,paddr,kind,port,brick,
 *       offset,size,op,asid
 *   dredbox-trace plot [--asid N] FILE DIR
 *       PNG plots with gnuplot (package gnuplot-nox) in DIR, created if
 *       needed: remote-fraction.png, reuse-distance.png, bricks.png, with
 *       the data (*.dat) and the script (plot.gp, rerun it with
 *       'gnuplot plot.gp' in DIR)
 *
 * --asid N (0x12 or 18) keeps the accesses of that address space only:
 * everything is computed over them as if they were the whole trace.
 * summary's first line is then "K accesses (one in S traced) in asid
 * 0xN, of M in the trace", K the accesses kept.
 *
 * The reuse distance of a touch of a remote (RMC) 4 KiB page is the
 * number of distinct other remote pages touched since the previous touch
 * of that page (the LRU stack distance): 0 for back-to-back touches.
 *
 * Exit status: 0 done, 1 an unreadable trace, a bad --asid or a plot
 * that could not be made, 2 a bad command line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <glib.h>

#include "dredbox/mem-trace.h"

#define PAGE 4096
#define PAGE_MASK ((1ULL << 48) - 1)
#define HOT 10
#define SLICES 100          /* remote fraction over time, in the plot */
#define SUMMARY_SLICES 10   /* and in the summary, of SLICES / 10 each */
#define BUCKETS 65          /* reuse distance 0, then 1-1, 2-3, 4-7, ... */

static const char *const kinds[] = {
    [MEM_TRACE_LOCAL] = "local", [MEM_TRACE_VIRTIO_MEM] = "virtio-mem",
    [MEM_TRACE_RMC] = "rmc", [MEM_TRACE_RMC_UNMAPPED] = "rmc-unmapped",
    [MEM_TRACE_IO] = "io", [MEM_TRACE_OTHER] = "other",
    [MEM_TRACE_REMOTE_NODE] = "remote-node", [MEM_TRACE_PMEM] = "pmem",
};

typedef struct Counts {
    uint64_t loads, stores, bytes;
} Counts;

static void count(Counts *c, const MemTraceRecord *r)
{
    *(mem_trace_is_store(r) ? &c->stores : &c->loads) += 1;
    c->bytes += mem_trace_size(r);
}

static void print_counts(const char *what, const Counts *c)
{
    printf("%-16s loads=%" PRIu64 " stores=%" PRIu64 " bytes=%" PRIu64 "\n",
           what, c->loads, c->stores, c->bytes);
}

/* Every value the record's kind bits can hold has a name. */
_Static_assert(G_N_ELEMENTS(kinds) == MEM_TRACE_F_KIND_MASK + 1,
               "a name for every kind");

/* A trace, mapped: traces are large, so it is neither read nor copied. */
typedef struct Trace {
    GMappedFile *file;
    MemTraceHeader h;
    const MemTraceRecord *r;
    size_t n;
    int asid;               /* only this address space's records; -1: all */
} Trace;

static bool kept(const Trace *t, const MemTraceRecord *r)
{
    return t->asid < 0 || r->asid == t->asid;
}

/* The trace at @path, or false with a message. */
static bool load(const char *path, Trace *t)
{
    g_autoptr(GError) err = NULL;
    const char *data;
    size_t len;

    t->file = g_mapped_file_new(path, false, &err);
    if (!t->file) {
        fprintf(stderr, "dredbox-trace: %s\n", err->message);
        return false;
    }
    data = g_mapped_file_get_contents(t->file);
    len = g_mapped_file_get_length(t->file);
    if (len < sizeof(t->h) || memcmp(data, MEM_TRACE_MAGIC, 8)) {
        fprintf(stderr, "dredbox-trace: %s is not a dredbox-mem trace\n",
                path);
        return false;
    }
    memcpy(&t->h, data, sizeof(t->h));
    /*
     * Older versions differ only in the kinds they use: 2 has no bricks
     * outside the RMC, 3 no persistent memory.
     */
    if (t->h.version < 2 || t->h.version > MEM_TRACE_VERSION ||
        t->h.record_size != sizeof(MemTraceRecord)) {
        fprintf(stderr, "dredbox-trace: %s: version %u, record size %u: this"
                " reader knows versions 2 to %u, %zu\n", path,
                t->h.version, t->h.record_size, MEM_TRACE_VERSION,
                sizeof(MemTraceRecord));
        return false;
    }
    if ((len - sizeof(t->h)) % sizeof(MemTraceRecord)) {
        fprintf(stderr, "dredbox-trace: %s: a partial last record (the"
                " trace was cut short); ignoring it\n", path);
    }
    /* The header is 32 bytes: the records are aligned in the mapping. */
    t->r = (const MemTraceRecord *)(data + sizeof(t->h));
    t->n = (len - sizeof(t->h)) / sizeof(MemTraceRecord);
    return true;
}

/* Whether @r names the memory brick it reached (and where in it). */
static bool has_brick(const MemTraceRecord *r)
{
    unsigned k = mem_trace_kind(r);

    return k == MEM_TRACE_RMC || ((k == MEM_TRACE_VIRTIO_MEM ||
                                   k == MEM_TRACE_REMOTE_NODE ||
                                   k == MEM_TRACE_PMEM) &&
                                  r->brick != MEM_TRACE_NO_BRICK);
}

static void csv(const Trace *t)
{
    printf("icount,vcpu,vaddr,paddr,kind,port,brick,offset,size,op,asid\n");
    for (size_t i = 0; i < t->n; i++) {
        const MemTraceRecord *r = &t->r[i];

        if (!kept(t, r)) {
            continue;
        }
        printf("%" PRIu64 ",%u,0x%" PRIx64 ",0x%" PRIx64 ",%s,", r->icount,
               r->vcpu, r->vaddr, r->paddr, kinds[mem_trace_kind(r)]);
        if (mem_trace_kind(r) == MEM_TRACE_RMC) {
            printf("%u,%u,0x%" PRIx64 ",", r->port, r->brick, r->offset);
        } else if (has_brick(r)) {
            printf(",%u,0x%" PRIx64 ",", r->brick, r->offset);
        } else {
            printf(",,,");
        }
        printf("%u,%s,0x%x\n", mem_trace_size(r),
               mem_trace_is_store(r) ? "store" : "load", r->asid);
    }
}

/* A remote page: its accesses, and when it was last touched. */
typedef struct Page {
    uint64_t key;           /* brick << 48 | page; first: the table's key */
    uint64_t n;
    uint64_t last;          /* the remote access that last touched it */
} Page;

static gint by_count(gconstpointer a, gconstpointer b)
{
    const Page *x = *(Page *const *)a, *y = *(Page *const *)b;

    return x->n < y->n ? 1 : x->n > y->n ? -1 : (x->key > y->key) -
                                                (x->key < y->key);
}

static gint by_number(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;

    return (x > y) - (x < y);
}

/* @h's keys (numbers), in order. */
static GArray *sorted_keys(GHashTable *h)
{
    GArray *keys = g_array_sized_new(false, false, sizeof(guint),
                                     g_hash_table_size(h));
    GHashTableIter it;
    gpointer k;

    g_hash_table_iter_init(&it, h);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        guint x = GPOINTER_TO_UINT(k);

        g_array_append_val(keys, x);
    }
    g_array_sort(keys, by_number);
    return keys;
}

/*
 * A Fenwick tree over the remote accesses 1..n that marks the latest
 * touch of each page: the marks between two touches of a page are the
 * distinct other pages touched in between, counted in O(log n).
 */
typedef struct Fenwick {
    uint32_t *f;            /* f[1..n]: the marks never exceed n */
    uint64_t n;
} Fenwick;

static void fenwick_add(Fenwick *fw, uint64_t i, int d)
{
    for (; i <= fw->n; i += i & -i) {
        fw->f[i] += d;
    }
}

/* The marks on 1..@i. */
static uint64_t fenwick_sum(const Fenwick *fw, uint64_t i)
{
    uint64_t s = 0;

    for (; i; i -= i & -i) {
        s += fw->f[i];
    }
    return s;
}

/* What summary and plot show, over the kept records. */
typedef struct Stats {
    uint64_t n;                     /* the records kept */
    uint64_t remote;                /* of them, MEM_TRACE_RMC */
    Counts by_kind[G_N_ELEMENTS(kinds)];
    GHashTable *bricks, *ports, *asids;     /* number -> Counts */
    GHashTable *pages;              /* Page.key -> Page */
    uint64_t first_touch;
    uint64_t distance[BUCKETS];     /* touches per reuse distance bucket */
    uint64_t slice_all[SLICES], slice_remote[SLICES];
} Stats;

static void stats_free(Stats *s)
{
    g_clear_pointer(&s->bricks, g_hash_table_unref);
    g_clear_pointer(&s->ports, g_hash_table_unref);
    g_clear_pointer(&s->asids, g_hash_table_unref);
    g_clear_pointer(&s->pages, g_hash_table_unref);
}

static void count_in(GHashTable *h, unsigned key, const MemTraceRecord *r)
{
    Counts *c = g_hash_table_lookup(h, GUINT_TO_POINTER(key));

    if (!c) {
        c = g_new0(Counts, 1);
        g_hash_table_insert(h, GUINT_TO_POINTER(key), c);
    }
    count(c, r);
}

/* The bucket of reuse distance @d: 0, or 1 + log2(d). */
static unsigned bucket(uint64_t d)
{
    return d ? 64 - __builtin_clzll(d) : 0;
}

/* The distances in bucket @b: "0", "1-1", "2-3", "4-7", ... */
static char *bucket_name(unsigned b)
{
    if (!b) {
        return g_strdup("0");
    }
    return g_strdup_printf("%" PRIu64 "-%" PRIu64, (uint64_t)1 << (b - 1),
                           ((uint64_t)2 << (b - 1)) - 1);
}

/* The next remote access, @r: its page and reuse distance. */
static void touch(Stats *s, Fenwick *fw, const MemTraceRecord *r)
{
    uint64_t key = (uint64_t)r->brick << 48 | (r->offset / PAGE & PAGE_MASK);
    Page *p = g_hash_table_lookup(s->pages, &key);

    s->remote++;
    if (!p) {
        p = g_new0(Page, 1);
        p->key = key;
        g_hash_table_insert(s->pages, &p->key, p);
        s->first_touch++;
    } else {
        s->distance[bucket(fenwick_sum(fw, s->remote - 1) -
                           fenwick_sum(fw, p->last))]++;
        fenwick_add(fw, p->last, -1);
    }
    fenwick_add(fw, s->remote, 1);
    p->n++;
    p->last = s->remote;
}

/* @s of @t's kept records, or false with a message. */
static bool analyse(const Trace *t, Stats *s)
{
    Fenwick fw = { 0 };
    uint64_t k = 0;

    for (size_t i = 0; i < t->n; i++) {
        if (kept(t, &t->r[i])) {
            s->n++;
            fw.n += mem_trace_kind(&t->r[i]) == MEM_TRACE_RMC;
        }
    }
    /* One counter per remote access, each at most their number. */
    fw.f = fw.n < UINT32_MAX ? g_try_new0(uint32_t, fw.n + 1) : NULL;
    if (!fw.f) {
        fprintf(stderr, "dredbox-trace: %" PRIu64 " remote accesses: too"
                " many to compute their reuse distance here\n", fw.n);
        return false;
    }
    s->bricks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    s->ports = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    s->asids = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    s->pages = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                     g_free);
    for (size_t i = 0; i < t->n; i++) {
        const MemTraceRecord *r = &t->r[i];
        unsigned kind = mem_trace_kind(r), slice;

        if (!kept(t, r)) {
            continue;
        }
        slice = k++ * SLICES / s->n;
        count(&s->by_kind[kind], r);
        count_in(s->asids, r->asid, r);
        s->slice_all[slice]++;
        s->slice_remote[slice] += kind == MEM_TRACE_RMC ||
                                  kind == MEM_TRACE_VIRTIO_MEM ||
                                  kind == MEM_TRACE_REMOTE_NODE ||
                                  kind == MEM_TRACE_PMEM;
        if (has_brick(r)) {
            count_in(s->bricks, r->brick, r);
        }
        if (kind == MEM_TRACE_RMC) {
            count_in(s->ports, r->port, r);
            touch(s, &fw, r);
        }
    }
    g_free(fw.f);
    return true;
}

/* A line of print_counts per key of @h, in order. */
static void print_table(GHashTable *h, const char *name, bool hex)
{
    g_autoptr(GArray) keys = sorted_keys(h);

    for (guint i = 0; i < keys->len; i++) {
        guint k = g_array_index(keys, guint, i);
        g_autofree char *what = g_strdup_printf(hex ? "%s 0x%x" : "%s %u",
                                                name, k);

        print_counts(what, g_hash_table_lookup(h, GUINT_TO_POINTER(k)));
    }
}

static void summary(const Trace *t, const Stats *s)
{
    g_autoptr(GPtrArray) hot = g_ptr_array_sized_new(g_hash_table_size(
                                                         s->pages));
    GHashTableIter it;
    gpointer v;

    printf("%" PRIu64 " accesses (one in %u traced)", s->n, t->h.sample);
    if (t->asid >= 0) {
        printf(" in asid 0x%x, of %zu in the trace", t->asid, t->n);
    }
    printf("\n");
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (i != MEM_TRACE_RMC) {
            print_counts(kinds[i], &s->by_kind[i]);
        }
    }
    print_table(s->bricks, "brick", false);
    print_table(s->ports, "port", false);
    print_table(s->asids, "asid", true);
    g_hash_table_iter_init(&it, s->pages);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(hot, v);
    }
    g_ptr_array_sort(hot, by_count);
    printf("hottest remote pages (brick, offset, accesses):\n");
    for (guint i = 0; i < MIN(hot->len, HOT); i++) {
        const Page *x = g_ptr_array_index(hot, i);

        printf("  %u 0x%" PRIx64 " %" PRIu64 "\n", (unsigned)(x->key >> 48),
               (uint64_t)((x->key & PAGE_MASK) * PAGE), x->n);
    }
    printf("reuse distance of remote pages (distinct remote pages between"
           " two touches of a page):\n  first touch %" PRIu64 "\n",
           s->first_touch);
    for (unsigned b = 0; b < BUCKETS; b++) {
        if (s->distance[b]) {
            g_autofree char *name = bucket_name(b);

            printf("  %s %" PRIu64 "\n", name, s->distance[b]);
        }
    }
    /* "-": no access in that tenth (a trace of fewer than ten) */
    printf("remote fraction over time (tenths of the trace):");
    for (int i = 0; i < SUMMARY_SLICES; i++) {
        uint64_t all = 0, remote = 0;

        for (int j = 0; j < SLICES / SUMMARY_SLICES; j++) {
            all += s->slice_all[i * SLICES / SUMMARY_SLICES + j];
            remote += s->slice_remote[i * SLICES / SUMMARY_SLICES + j];
        }
        if (all) {
            printf(" %.2f", (double)remote / all);
        } else {
            printf(" -");
        }
    }
    printf("\n");
}

/* @text in @dir/@name, or false with a message. */
static bool write_file(const char *dir, const char *name, const GString *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) err = NULL;

    if (!g_file_set_contents(path, text->str, text->len, &err)) {
        fprintf(stderr, "dredbox-trace: %s\n", err->message);
        return false;
    }
    return true;
}

/*
 * The plot of @png into @gp: @plot after @setup, or, when there is
 * nothing to plot (@empty), a note (gnuplot fails on an empty file).
 */
static void gp_plot(GString *gp, const char *png, const char *title,
                    const char *labels, const char *setup, bool empty,
                    const char *plot)
{
    g_string_append_printf(gp, "\nreset\nset output '%s'\nset title '%s'\n"
                           "%s\n", png, title, labels);
    if (empty) {
        g_string_append(gp, "set label 1 'nothing to plot' at graph 0.5,"
                        " graph 0.5 center\nplot [0:1][0:1] NaN notitle\n");
    } else {
        g_string_append_printf(gp, "%s\n%s\n", setup, plot);
    }
}

#define HISTOGRAM "set style data histograms\n" \
                  "set style histogram clustered gap 1\n" \
                  "set style fill solid 0.8 border -1\nset yrange [0:*]"

static bool run_gnuplot(const char *dir)
{
    char *argv[] = { (char *)"gnuplot", (char *)"plot.gp", NULL };
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    int status;

    if (!g_spawn_sync(dir, argv, NULL, G_SPAWN_SEARCH_PATH |
                      G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &out,
                      &status, &err)) {
        fprintf(stderr, "dredbox-trace: cannot run gnuplot (%s): install"
                " gnuplot-nox\n", err->message);
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "%sdredbox-trace: gnuplot failed on %s/plot.gp (it"
                " needs the png terminal: install gnuplot-nox)\n", out, dir);
        return false;
    }
    return true;
}

/* The PNG plots of @s, their data and script in @dir. */
static bool plot(const Trace *t, const Stats *s, const char *dir)
{
    g_autoptr(GString) fraction = g_string_new("# percent of the trace,"
                                               " remote fraction\n");
    g_autoptr(GString) distance = g_string_new(NULL);
    g_autoptr(GString) bricks = g_string_new("# brick loads stores\n");
    g_autoptr(GString) gp = g_string_new(NULL);
    g_autoptr(GArray) keys = sorted_keys(s->bricks);
    g_autofree char *of = t->asid < 0 ? g_strdup("") :
                          g_strdup_printf(", asid 0x%x", t->asid);
    g_autofree char *title = NULL;
    unsigned last = 0;

    if (g_mkdir_with_parents(dir, 0777)) {
        fprintf(stderr, "dredbox-trace: cannot create %s: %s\n", dir,
                g_strerror(errno));
        return false;
    }
    for (int i = 0; i < SLICES; i++) {
        if (s->slice_all[i]) {
            g_string_append_printf(fraction, "%d %.4f\n", i * 100 / SLICES,
                                   (double)s->slice_remote[i] /
                                   s->slice_all[i]);
        }
    }
    g_string_append_printf(distance, "# distance touches (first touches:"
                           " %" PRIu64 ")\n", s->first_touch);
    for (unsigned b = 0; b < BUCKETS; b++) {
        last = s->distance[b] ? b + 1 : last;
    }
    for (unsigned b = 0; b < last; b++) {
        g_autofree char *name = bucket_name(b);

        g_string_append_printf(distance, "\"%s\" %" PRIu64 "\n", name,
                               s->distance[b]);
    }
    for (guint i = 0; i < keys->len; i++) {
        guint k = g_array_index(keys, guint, i);
        const Counts *c = g_hash_table_lookup(s->bricks, GUINT_TO_POINTER(k));

        g_string_append_printf(bricks, "%u %" PRIu64 " %" PRIu64 "\n", k,
                               c->loads, c->stores);
    }
    g_string_append(gp, "# Written by dredbox-trace plot: edit, then rerun"
                    " with 'gnuplot plot.gp' here.\n"
                    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                    "    set terminal pngcairo size 800,500\n"
                    "} else {\n    set terminal png size 800,500\n}\n");
    title = g_strdup_printf("remote fraction over time%s", of);
    gp_plot(gp, "remote-fraction.png", title,
            "set xlabel 'percent of the trace'\n"
            "set ylabel 'remote accesses / accesses'",
            "set xrange [0:100]\nset yrange [0:1]", !s->n,
            "plot 'remote-fraction.dat' using 1:2 with linespoints"
            " pt 7 ps 0.5 notitle");
    g_free(title);
    title = g_strdup_printf("reuse distance of remote pages (%" PRIu64
                            " first touches%s)", s->first_touch, of);
    gp_plot(gp, "reuse-distance.png", title,
            "set xlabel 'distinct remote pages between two touches'\n"
            "set ylabel 'touches'",
            HISTOGRAM "\nset xtics rotate by -45", !last,
            "plot 'reuse-distance.dat' using 2:xtic(1) notitle");
    g_free(title);
    title = g_strdup_printf("accesses per memory brick%s", of);
    gp_plot(gp, "bricks.png", title,
            "set xlabel 'memory brick'\nset ylabel 'accesses'",
            HISTOGRAM, !keys->len,
            "plot 'bricks.dat' using 2:xtic(1) title 'loads',"
            " '' using 3 title 'stores'");
    if (!write_file(dir, "remote-fraction.dat", fraction) ||
        !write_file(dir, "reuse-distance.dat", distance) ||
        !write_file(dir, "bricks.dat", bricks) ||
        !write_file(dir, "plot.gp", gp) || !run_gnuplot(dir)) {
        return false;
    }
    printf("%s: remote-fraction.png reuse-distance.png bricks.png\n", dir);
    return true;
}

/* @s as an ASID in @asid, or false with a message. */
static bool parse_asid(const char *s, int *asid)
{
    uint64_t v;
    char *end;

    errno = 0;
    v = g_ascii_strtoull(s, &end, 0);
    if (!g_ascii_isdigit(*s) || *end || errno || v > UINT16_MAX) {
        fprintf(stderr, "dredbox-trace: --asid must be a number from 0 to"
                " 0xffff (like 0x12 or 18), not '%s'\n", s);
        return false;
    }
    *asid = v;
    return true;
}

int main(int argc, char **argv)
{
    Trace t = { .asid = -1 };
    const char *cmd = argc > 1 ? argv[1] : "";
    bool is_plot = !strcmp(cmd, "plot");
    bool asid = argc > 2 && !strcmp(argv[2], "--asid");
    int file = asid ? 4 : 2;
    bool ok;

    if ((strcmp(cmd, "summary") && strcmp(cmd, "csv") && !is_plot) ||
        argc != file + 1 + is_plot) {
        fprintf(stderr, "usage: dredbox-trace summary [--asid N] FILE\n"
                "       dredbox-trace csv [--asid N] FILE\n"
                "       dredbox-trace plot [--asid N] FILE DIR\n");
        return 2;
    }
    ok = (!asid || parse_asid(argv[3], &t.asid)) && load(argv[file], &t);
    if (ok && !strcmp(cmd, "csv")) {
        csv(&t);
    } else if (ok) {
        Stats s = { 0 };

        ok = analyse(&t, &s);
        if (ok && is_plot) {
            ok = plot(&t, &s, argv[file + 1]);
        } else if (ok) {
            summary(&t, &s);
        }
        stats_free(&s);
    }
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "dredbox-trace: cannot write the output: %s\n",
                g_strerror(errno));
        ok = false;
    }
    g_clear_pointer(&t.file, g_mapped_file_unref);
    return ok ? 0 : 1;
}
