/*
 * control-fuzz KIND SOCKET [LINES]: fuzz one control socket of a running
 * rack (control-fuzz.h); KIND is pool, fabric, sdm or accel.  Prints the
 * seed (DREDBOX_SEED replays it); exits 0 if every line was refused and
 * the daemon still answers, 1 with the reason otherwise.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include "control-fuzz.h"

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    FuzzTarget t;
    guint32 seed = fuzz_seed();
    unsigned lines = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;

    if (argc < 3 || argc > 4 || !fuzz_target_parse(argv[1], &t) || !lines) {
        fprintf(stderr, "usage: control-fuzz pool|fabric|sdm|accel SOCKET"
                " [LINES]\n");
        return 2;
    }
    printf("# control-fuzz %s: seed %u, %u lines\n", argv[1], seed, lines);
    if (!control_fuzz(t, argv[2], seed, lines, &err)) {
        fprintf(stderr, "control-fuzz: %s\n", err->message);
        return 1;
    }
    return 0;
}
