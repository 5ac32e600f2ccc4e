/*
 * Platform synthesizer core (synth.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "rack-error.h"
#include "synth.h"

/* Each thread's own: the controller runs requests at once */
static __thread SdmStepHook hook;

void sdm_synth_set_hook(SdmStepHook h)
{
    hook = h;
}

bool sdm_synth_hook(const char *step, bool undo, GError **errp)
{
    return !hook || hook(step, undo, errp);
}

bool sdm_synth_undo(const SdmStep *steps, unsigned n, void *ctx,
                    GError **errp)
{
    GError *first = NULL;

    for (unsigned i = n; i-- > 0;) {
        GError *err = NULL;

        if (!steps[i].undo) {
            continue;
        }
        if (!steps[i].undo(ctx, &err) ||
            !sdm_synth_hook(steps[i].name, true, &err)) {
            g_prefix_error(&err, "undo %s: ", steps[i].name);
            if (first) {
                g_error_free(err);
            } else {
                first = err;
            }
        }
    }
    if (first) {
        g_propagate_error(errp, first);
        return false;
    }
    return true;
}

bool sdm_synth_run(const SdmStep *steps, unsigned n, void *ctx,
                   bool *unknown, GError **errp)
{
    if (unknown) {
        *unknown = false;
    }
    for (unsigned i = 0; i < n; i++) {
        GError *err = NULL;

        if (steps[i].run(ctx, &err) &&
            sdm_synth_hook(steps[i].name, false, &err)) {
            continue;
        }
        if (steps[i].may_lag && unknown &&
            g_error_matches(err, RACK_ERROR, RACK_ERROR_TIMEOUT)) {
            *unknown = true;
        } else {
            /* Its own partial effect, then the steps before it */
            sdm_synth_undo(steps, i + 1, ctx, NULL);
        }
        g_propagate_prefixed_error(errp, err, "%s failed: ", steps[i].name);
        return false;
    }
    return true;
}
