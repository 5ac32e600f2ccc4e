/*
 * The dredbox-mem plugin's cache-maintenance check (cmo=on,
 * docs/tracing.md): whether the guest cleaned each line of an RMC
 * window to the point of coherency before the window's entry was
 * cleared.
 *
 * The emulator has no caches, so a driver that skips the cleaning works
 * here and fails on the hardware: a dirty line written back after the
 * entry is gone reaches no memory (an SError).  So the plugin follows
 * every line of each enabled entry's range: stored to since its last
 * clean (dirty), or cleaned since its last store.  When the RMC's table
 * drops or changes an entry, it records how many lines the range had,
 * how many were clean and how many dirty.
 *
 * The guest cleans by virtual address (DC CVAC, CVAP, CVADP, CIVAC), the
 * plugin API translates only the addresses of loads and stores: cleans
 * are translated through the kernel's linear map, whose offset the
 * plugin learns from the kernel's own accesses there.  A clean through
 * any other mapping counts as untranslated.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_PLUGIN_CACHE_MAINTENANCE_H
#define DREDBOX_PLUGIN_CACHE_MAINTENANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-glib/json-glib.h>

#include "dredbox/rmc-table.h"

/* The line a clean acts on: every CPU a brick takes has 64-byte lines */
#define CMO_LINE            64

/*
 * Whether @op (an A64 instruction) cleans a line to the point of
 * coherency or beyond by virtual address; if so, *@rt is its Xt.
 */
bool cmo_is_clean(uint32_t op, unsigned *rt);

/*
 * A load or store of RAM at @va, @pa, with the RMC's table @t (NULL if
 * there is none): it teaches the linear map, and a store in an entry's
 * range dirties its line.
 */
void cmo_access(const RmcTable *t, uint64_t va, uint64_t pa, bool store);

/* The guest cleaned the line of @va, with the RMC's table @t. */
void cmo_clean(const RmcTable *t, uint64_t va);

/* What was seen: one line per entry cleared, then the totals. */
void cmo_print(FILE *f);

/* The same as members of the object @b is in ("cleans", "clears"...). */
void cmo_json(JsonBuilder *b);

#endif
