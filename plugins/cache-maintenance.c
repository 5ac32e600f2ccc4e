/*
 * The dredbox-mem plugin's cache-maintenance check (cache-maintenance.h,
 * docs/tracing.md).  One lock guards it all: it runs only when asked
 * for (cmo=on), on stores to RMC windows and on cleans.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <glib.h>

#include "cache-maintenance.h"
#include "rack-json.h"

/* "DC <op>, Xt" (SYS #3, C7, Cm, #1) without Rt: the cleans to PoC or beyond */
static const uint32_t dc_clean[] = {
    0xd50b7a20,     /* DC CVAC */
    0xd50b7c20,     /* DC CVAP */
    0xd50b7d20,     /* DC CVADP */
    0xd50b7e20,     /* DC CIVAC */
};
#define DC_RT_MASK          0x1fu

/* Linux's linear map on arm64 with 48-bit virtual addresses (Debian's) */
#define LINEAR_START        0xffff000000000000ULL
#define LINEAR_END          0xffff800000000000ULL

/* An enabled entry's range, a line per bit */
typedef struct Window {
    RmcTableEntry entry;    /* as the table had it, enabled */
    uint64_t lines;
    uint64_t *dirty;        /* stored to since its last clean */
    uint64_t *clean;        /* cleaned since its last store */
} Window;

/* An entry dropped or changed, and its range's lines then */
typedef struct Clear {
    unsigned port;
    RmcTableEntry entry;
    uint64_t lines, clean, dirty;
} Clear;

static GMutex lock;
static const RmcTable *seen;            /* the table the windows follow */
static Window windows[RMC_TABLE_PORTS];
static GArray *clears;                  /* Clear */
static uint64_t cleans, untranslated;
static uint64_t linear_offset;          /* virtual - physical */
static bool linear_known;

bool cmo_is_clean(uint32_t op, unsigned *rt)
{
    for (size_t i = 0; i < G_N_ELEMENTS(dc_clean); i++) {
        if ((op & ~DC_RT_MASK) == dc_clean[i]) {
            *rt = op & DC_RT_MASK;
            return true;
        }
    }
    return false;
}

static uint64_t count_bits(const uint64_t *bits, uint64_t n)
{
    uint64_t c = 0;

    for (uint64_t i = 0; i < (n + 63) / 64; i++) {
        c += __builtin_popcountll(bits[i]);
    }
    return c;
}

static bool same_mapping(const RmcTableEntry *a, const RmcTableEntry *b)
{
    return a->enabled == b->enabled && a->brick == b->brick &&
           a->start == b->start && a->end == b->end &&
           a->offset == b->offset && a->add == b->add;
}

/* Follow the table @t: record the entries it dropped or changed. */
static void follow(const RmcTable *t)
{
    if (t == seen) {
        return;
    }
    for (unsigned p = 0; p < RMC_TABLE_PORTS; p++) {
        Window *w = &windows[p];
        RmcTableEntry now = p < t->nports ? t->port[p]
                                          : (RmcTableEntry) { 0 };

        if (!now.enabled || now.end < now.start) {
            now = (RmcTableEntry) { 0 };
        }
        if (same_mapping(&w->entry, &now)) {
            continue;
        }
        if (w->entry.enabled) {
            Clear c = {
                .port = p, .entry = w->entry, .lines = w->lines,
                .clean = count_bits(w->clean, w->lines),
                .dirty = count_bits(w->dirty, w->lines),
            };

            if (!clears) {
                clears = g_array_new(false, false, sizeof(Clear));
            }
            g_array_append_val(clears, c);
            g_free(w->dirty);
            g_free(w->clean);
        }
        *w = (Window) { .entry = now };
        if (now.enabled) {
            w->lines = (now.end - now.start) / CMO_LINE + 1;
            w->dirty = g_new0(uint64_t, (w->lines + 63) / 64);
            w->clean = g_new0(uint64_t, (w->lines + 63) / 64);
        }
    }
    seen = t;
}

/* The window and line @pa is in; NULL if none. */
static Window *window_of(uint64_t pa, uint64_t *line)
{
    for (unsigned p = 0; p < RMC_TABLE_PORTS; p++) {
        Window *w = &windows[p];

        if (w->entry.enabled && pa >= w->entry.start && pa <= w->entry.end) {
            *line = (pa - w->entry.start) / CMO_LINE;
            return w;
        }
    }
    return NULL;
}

/* Mark the line of @pa: stored to (@dirty) or cleaned. */
static void mark(const RmcTable *t, uint64_t pa, bool dirty)
{
    uint64_t line, bit;
    Window *w;

    follow(t);
    w = window_of(pa, &line);
    if (!w) {
        return;
    }
    bit = 1ULL << (line % 64);
    if (dirty) {
        w->dirty[line / 64] |= bit;
        w->clean[line / 64] &= ~bit;
    } else {
        w->clean[line / 64] |= bit;
        w->dirty[line / 64] &= ~bit;
    }
}

void cmo_access(const RmcTable *t, uint64_t va, uint64_t pa, bool store)
{
    if (!__atomic_load_n(&linear_known, __ATOMIC_ACQUIRE) &&
        va >= LINEAR_START && va < LINEAR_END) {
        g_mutex_lock(&lock);
        linear_offset = va - pa;
        __atomic_store_n(&linear_known, true, __ATOMIC_RELEASE);
        g_mutex_unlock(&lock);
    }
    /* Only a table change or a store can change what is recorded. */
    if (t && (store || t != __atomic_load_n(&seen, __ATOMIC_RELAXED))) {
        g_mutex_lock(&lock);
        if (store) {
            mark(t, pa, true);
        } else {
            follow(t);
        }
        g_mutex_unlock(&lock);
    }
}

void cmo_clean(const RmcTable *t, uint64_t va)
{
    g_mutex_lock(&lock);
    cleans++;
    if (!linear_known || va < LINEAR_START || va >= LINEAR_END) {
        untranslated++;
    } else if (t) {
        mark(t, va - linear_offset, false);
    }
    g_mutex_unlock(&lock);
}

void cmo_print(FILE *f)
{
    g_mutex_lock(&lock);
    for (guint i = 0; clears && i < clears->len; i++) {
        const Clear *c = &g_array_index(clears, Clear, i);

        fprintf(f, "cmo port=%u brick=%u start=0x%" PRIx64 " lines=%" PRIu64
                " clean=%" PRIu64 " dirty=%" PRIu64 "\n", c->port,
                c->entry.brick, c->entry.start, c->lines, c->clean, c->dirty);
    }
    fprintf(f, "cmo cleans=%" PRIu64 " untranslated=%" PRIu64 "\n", cleans,
            untranslated);
    g_mutex_unlock(&lock);
}

void cmo_json(JsonBuilder *b)
{
    g_mutex_lock(&lock);
    rack_json_member_int(b, "cleans", cleans);
    rack_json_member_int(b, "untranslated", untranslated);
    json_builder_set_member_name(b, "clears");
    json_builder_begin_array(b);
    for (guint i = 0; clears && i < clears->len; i++) {
        const Clear *c = &g_array_index(clears, Clear, i);

        json_builder_begin_object(b);
        rack_json_member_int(b, "port", c->port);
        rack_json_member_int(b, "brick", c->entry.brick);
        rack_json_member_int(b, "start", c->entry.start);
        rack_json_member_int(b, "end", c->entry.end);
        rack_json_member_int(b, "lines", c->lines);
        rack_json_member_int(b, "clean", c->clean);
        rack_json_member_int(b, "dirty", c->dirty);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    g_mutex_unlock(&lock);
}
