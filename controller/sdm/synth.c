/*
 * Platform synthesizer core (synth.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "synth.h"

bool sdm_synth_run(const SdmStep *steps, unsigned n, void *ctx,
                   GError **errp)
{
    for (unsigned failed = 0; failed < n; failed++) {
        GError *err = NULL;

        if (steps[failed].run(ctx, &err)) {
            continue;
        }
        for (unsigned i = failed; i-- > 0;) {
            if (steps[i].undo) {
                steps[i].undo(ctx);
            }
        }
        g_propagate_prefixed_error(errp, err, "%s failed: ",
                                   steps[failed].name);
        return false;
    }
    return true;
}
