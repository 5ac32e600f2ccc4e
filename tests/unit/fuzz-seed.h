/*
 * The seed of a fuzz test: $DREDBOX_SEED if set, to replay a run that
 * failed, else a new random one.  Tests print it with the run.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_FUZZ_SEED_H
#define DREDBOX_FUZZ_SEED_H

#include <glib.h>

static inline guint32 fuzz_seed(void)
{
    const char *env = g_getenv("DREDBOX_SEED");

    return env && *env ? (guint32)g_ascii_strtoull(env, NULL, 0)
                       : g_random_int();
}

#endif
