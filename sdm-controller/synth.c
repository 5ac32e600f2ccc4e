/*
 * Platform synthesizer core (synth.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "synth.h"

void sdm_synth_undo(const SdmStep *steps, unsigned n, void *ctx)
{
    for (unsigned i = n; i-- > 0;) {
        if (steps[i].undo) {
            steps[i].undo(ctx);
        }
    }
}

bool sdm_synth_run(const SdmStep *steps, unsigned n, void *ctx,
                   GError **errp)
{
    for (unsigned failed = 0; failed < n; failed++) {
        GError *err = NULL;

        if (steps[failed].run(ctx, &err)) {
            continue;
        }
        sdm_synth_undo(steps, failed, ctx);
        g_propagate_prefixed_error(errp, err, "%s failed: ",
                                   steps[failed].name);
        return false;
    }
    return true;
}
