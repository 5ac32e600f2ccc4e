/*
 * dredbox-trace: read a memory-access trace of the dredbox-mem plugin
 * (include/hw/dredbox/mem-trace.h, docs/tracing.md).
 *
 *   dredbox-trace summary FILE   accesses per kind, memory brick and RMC
 *                                port; hottest remote pages; reuse
 *                                intervals; remote fraction over time
 *   dredbox-trace csv FILE       one CSV line per access
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "hw/dredbox/mem-trace.h"

#define PAGE 4096
#define HOT 10
#define SLICES 10

static const char *const kinds[] = {
    [MEM_TRACE_LOCAL] = "local", [MEM_TRACE_VIRTIO_MEM] = "virtio-mem",
    [MEM_TRACE_RMC] = "rmc", [MEM_TRACE_RMC_UNMAPPED] = "rmc-unmapped",
    [MEM_TRACE_IO] = "io", [MEM_TRACE_OTHER] = "other",
};

typedef struct Counts {
    uint64_t loads, stores, bytes;
} Counts;

static void count(Counts *c, const MemTraceRecord *r)
{
    *(r->store ? &c->stores : &c->loads) += 1;
    c->bytes += r->size;
}

static void print_counts(const char *what, const Counts *c)
{
    printf("%-16s loads=%" PRIu64 " stores=%" PRIu64 " bytes=%" PRIu64 "\n",
           what, c->loads, c->stores, c->bytes);
}

static const char *kind_name(unsigned k)
{
    return k < G_N_ELEMENTS(kinds) ? kinds[k] : "?";
}

/* A trace, mapped: traces are large, so it is neither read nor copied. */
typedef struct Trace {
    GMappedFile *file;
    MemTraceHeader h;
    const MemTraceRecord *r;
    size_t n;
} Trace;

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
    if (t->h.version != MEM_TRACE_VERSION ||
        t->h.record_size != sizeof(MemTraceRecord)) {
        fprintf(stderr, "dredbox-trace: %s: version %u, record size %u: this"
                " reader knows version %u, %zu\n", path, t->h.version,
                t->h.record_size, MEM_TRACE_VERSION, sizeof(MemTraceRecord));
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

static void csv(const Trace *t)
{
    printf("icount,vcpu,vaddr,paddr,kind,port,brick,offset,size,op\n");
    for (size_t i = 0; i < t->n; i++) {
        const MemTraceRecord *r = &t->r[i];
        bool rmc = r->kind == MEM_TRACE_RMC;

        printf("%" PRIu64 ",%u,0x%" PRIx64 ",0x%" PRIx64 ",%s,", r->icount,
               r->vcpu, r->vaddr, r->paddr, kind_name(r->kind));
        if (rmc) {
            printf("%u,%u,0x%" PRIx64 ",", r->port, r->brick, r->offset);
        } else {
            printf(",,,");
        }
        printf("%u,%s\n", r->size, r->store ? "store" : "load");
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

static void summary(const Trace *t)
{
    Counts by_kind[G_N_ELEMENTS(kinds)] = { 0 };
    g_autoptr(GHashTable) bricks = g_hash_table_new_full(NULL, NULL, NULL,
                                                         g_free);
    g_autoptr(GHashTable) ports = g_hash_table_new_full(NULL, NULL, NULL,
                                                        g_free);
    g_autoptr(GHashTable) pages = g_hash_table_new_full(g_int64_hash,
                                                        g_int64_equal,
                                                        NULL, g_free);
    g_autoptr(GPtrArray) hot = NULL;
    uint64_t reuse[64] = { 0 }, remote = 0, first_touch = 0;
    uint64_t slice_all[SLICES] = { 0 }, slice_remote[SLICES] = { 0 };
    GHashTableIter it;
    gpointer k, v;

    printf("%zu accesses (one in %u traced)\n", t->n, t->h.sample);
    for (size_t i = 0; i < t->n; i++) {
        const MemTraceRecord *r = &t->r[i];
        bool is_remote = r->kind == MEM_TRACE_RMC ||
                         r->kind == MEM_TRACE_VIRTIO_MEM;
        unsigned s = (uint64_t)i * SLICES / t->n;
        uint64_t key;
        Page *p;

        if (r->kind < G_N_ELEMENTS(kinds)) {
            count(&by_kind[r->kind], r);
        }
        slice_all[s]++;
        slice_remote[s] += is_remote;
        if (r->kind != MEM_TRACE_RMC) {
            continue;
        }
        remote++;
        for (int t = 0; t < 2; t++) {
            GHashTable *h2 = t ? ports : bricks;
            gpointer key = GUINT_TO_POINTER(t ? r->port : r->brick);
            Counts *c = g_hash_table_lookup(h2, key);

            if (!c) {
                c = g_new0(Counts, 1);
                g_hash_table_insert(h2, key, c);
            }
            count(c, r);
        }
        key = (uint64_t)r->brick << 48 | r->offset / PAGE;
        p = g_hash_table_lookup(pages, &key);
        if (!p) {
            p = g_new0(Page, 1);
            p->key = key;
            g_hash_table_insert(pages, &p->key, p);
            first_touch++;
        } else {
            reuse[63 - __builtin_clzll(remote - p->last)]++;
        }
        p->n++;
        p->last = remote;
    }
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (i != MEM_TRACE_RMC) {
            print_counts(kinds[i], &by_kind[i]);
        }
    }
    g_hash_table_iter_init(&it, bricks);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_autofree char *w = g_strdup_printf("brick %u", GPOINTER_TO_UINT(k));

        print_counts(w, v);
    }
    g_hash_table_iter_init(&it, ports);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_autofree char *w = g_strdup_printf("port %u", GPOINTER_TO_UINT(k));

        print_counts(w, v);
    }
    hot = g_ptr_array_sized_new(g_hash_table_size(pages));
    g_hash_table_iter_init(&it, pages);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(hot, v);
    }
    g_ptr_array_sort(hot, by_count);
    printf("hottest remote pages (brick, offset, accesses):\n");
    for (guint i = 0; i < MIN(hot->len, HOT); i++) {
        const Page *x = g_ptr_array_index(hot, i);

        printf("  %u 0x%" PRIx64 " %" PRIu64 "\n", (unsigned)(x->key >> 48),
               (uint64_t)((x->key & ((1ULL << 48) - 1)) * PAGE), x->n);
    }
    printf("reuse interval of remote pages (remote accesses between two"
           " touches of a page):\n  first touch %" PRIu64 "\n", first_touch);
    for (int b = 0; b < 64; b++) {
        if (reuse[b]) {
            printf("  %" PRIu64 "-%" PRIu64 " %" PRIu64 "\n",
                   (uint64_t)1 << b, ((uint64_t)2 << b) - 1, reuse[b]);
        }
    }
    printf("remote fraction over time (tenths of the trace):");
    for (int s = 0; s < SLICES; s++) {
        printf(" %.2f", slice_all[s] ? (double)slice_remote[s] / slice_all[s]
                                     : 0.0);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    Trace t = { 0 };
    bool ok;

    if (argc != 3 || (strcmp(argv[1], "summary") && strcmp(argv[1], "csv"))) {
        fprintf(stderr, "usage: dredbox-trace summary|csv FILE\n");
        return 2;
    }
    ok = load(argv[2], &t);
    if (ok && !strcmp(argv[1], "csv")) {
        csv(&t);
    } else if (ok) {
        summary(&t);
    }
    g_clear_pointer(&t.file, g_mapped_file_unref);
    return ok ? 0 : 1;
}
