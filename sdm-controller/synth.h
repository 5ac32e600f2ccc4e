/*
 * Platform synthesizer core: an allocation is carried out as ordered
 * steps (pool segment, optical circuit, RMC entry, memory online...);
 * if one fails, every earlier step is undone in reverse order, so no
 * step is ever left half done.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_SYNTH_H
#define DREDBOX_SDM_SYNTH_H

#include <stdbool.h>
#include <glib.h>

typedef struct SdmStep {
    const char *name;
    bool (*run)(void *ctx, GError **errp);
    void (*undo)(void *ctx);        /* NULL: nothing to undo */
} SdmStep;

/* Run @steps in order; on failure undo the done ones, newest first. */
bool sdm_synth_run(const SdmStep *steps, unsigned n, void *ctx,
                   GError **errp);
/* Undo all of @steps, newest first: tearing a finished allocation down,
 * or one a crash left half done (each undo tolerates a step not done). */
void sdm_synth_undo(const SdmStep *steps, unsigned n, void *ctx);

#endif
