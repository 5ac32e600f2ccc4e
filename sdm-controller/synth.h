/*
 * Platform synthesizer core: an allocation is carried out as ordered
 * steps (pool segment, optical circuit, RMC entry, memory online...).
 * A step that fails is undone with every earlier step, newest first: its
 * own partial effect too (a circuit the fabric accepted but that never
 * lit), so each undo copes with a step done partly or not at all.
 *
 * One outcome is not a failure: a step whose work may still be going on
 * when it gives up waiting (the guest hot-adding memory) and that times
 * out leaves everything in place; whoever runs the steps records the
 * outcome as unknown and finds it out later (reconcile).
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
    bool (*undo)(void *ctx, GError **errp);     /* NULL: nothing to undo */
    /* A timeout (RACK_ERROR_TIMEOUT) may leave the work going on. */
    bool may_lag;
} SdmStep;

/*
 * Run @steps in order; on failure undo the failed one and the done ones,
 * newest first.  With @unknown, a step that may lag and times out sets
 * *@unknown instead, and nothing is undone.
 */
bool sdm_synth_run(const SdmStep *steps, unsigned n, void *ctx,
                   bool *unknown, GError **errp);
/*
 * Undo all of @steps, newest first: tearing a finished allocation down,
 * or one a crash left half done.  Goes on past an undo that fails, and
 * returns false with the first failure.
 */
bool sdm_synth_undo(const SdmStep *steps, unsigned n, void *ctx,
                    GError **errp);

/*
 * What a test makes of a step once it has run (or been undone, @undo):
 * false and @errp make it fail with that error, as if the step had.
 * NULL outside tests.  Set for the calling thread only.
 */
typedef bool (*SdmStepHook)(const char *step, bool undo, GError **errp);
void sdm_synth_set_hook(SdmStepHook hook);
/* The hook, for a step run outside the synthesizer; true without one */
bool sdm_synth_hook(const char *step, bool undo, GError **errp);

#endif
