/*
 * sdm-reserve-bench: decisions per second of the SDM reservation engine
 * alone, on synthetic racks of 1,000 and 10,000 bricks (a quarter compute
 * bricks with 4 ports, the rest memory bricks of 16-64 GiB with 2 ports,
 * trays of 16 bricks, cables tray-local within a tray's first half and
 * rack-local or inter-rack otherwise).  Requests of 256 MiB-2 GiB from
 * random compute bricks; a random allocation is released whenever a
 * request fails, so the rack stays busy.  Both policies, one run, each
 * measurement repeated ROUNDS times (default 3).
 *
 *   sdm-reserve-bench [ROUNDS]
 *
 * Prints the engine's build, then one line per measurement: bricks,
 * policy, requests, placed (the decisions that reserved memory; refused
 * ones, and the releases that follow them, are not counted as
 * decisions), seconds, and placed decisions per second.
 * bench/sdm-reserve.sh logs it and makes the table.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include "reserve.h"

#define MiB (1ULL << 20)

static Rack *synthetic_rack(unsigned n)
{
    Rack *rack = g_new0(Rack, 1);
    unsigned sw = 0;

    rack->name = g_strdup("synthetic");
    rack->bricks = g_ptr_array_new_with_free_func(g_free);
    rack->cables = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; i < n; i++) {
        RackBrick *b = g_new0(RackBrick, 1);

        b->kind = i % 4 == 0 ? RACK_COMPUTE : RACK_MEMORY;
        b->id = i;
        b->tray = i / 16;
        b->ports = b->kind == RACK_COMPUTE ? 4 : 2;
        b->size = (16ULL << 30) << (i % 3);
        g_ptr_array_add(rack->bricks, b);
        for (unsigned p = 0; p < b->ports; p++) {
            RackCable *c = g_new0(RackCable, 1);

            c->brick = b;
            c->brick_port = p;
            c->switch_port = sw++;
            c->latency = i % 16 < 8 ? RACK_TRAY_LOCAL
                         : i % 2 ? RACK_RACK_LOCAL : RACK_INTER_RACK;
            g_ptr_array_add(rack->cables, c);
        }
    }
    rack->optical_ports = sw;
    return rack;
}

/* Run @requests requests; how many were placed, in *@secs seconds. */
static unsigned placed_decisions(unsigned n, SdmPolicy policy,
                                 unsigned requests, double *secs)
{
    Rack *rack = synthetic_rack(n);
    SdmGraph *g = sdm_graph_new(rack);
    GRand *rand = g_rand_new_with_seed(n);
    GArray *live = g_array_new(false, false, sizeof(SdmPlacement));
    GArray *sizes = g_array_new(false, false, sizeof(uint64_t));
    gint64 t0 = g_get_monotonic_time();
    unsigned placed = 0;

    for (unsigned i = 0; i < requests; i++) {
        SdmRequest req = {
            .compute = g_rand_int_range(rand, 0, n / 4) * 4,
            .size = g_rand_int_range(rand, 1, 9) * 256 * MiB,
            .max_latency = g_rand_int_range(rand, 0, 3),
        };
        SdmPlacement pl;

        if (sdm_reserve(g, policy, &req, &pl, NULL)) {
            placed++;
            sdm_reserve_commit(g, &pl, req.size);
            g_array_append_val(live, pl);
            g_array_append_val(sizes, req.size);
        } else if (live->len) {
            guint k = g_rand_int_range(rand, 0, live->len);

            sdm_reserve_release(g, &g_array_index(live, SdmPlacement, k),
                                g_array_index(sizes, uint64_t, k));
            g_array_remove_index_fast(live, k);
            g_array_remove_index_fast(sizes, k);
        }
    }
    *secs = (g_get_monotonic_time() - t0) / 1e6;
    g_array_free(live, true);
    g_array_free(sizes, true);
    g_rand_free(rand);
    sdm_graph_free(g);
    g_ptr_array_free(rack->bricks, true);
    g_ptr_array_free(rack->cables, true);
    g_free(rack->name);
    g_free(rack);
    return placed;
}

int main(int argc, char **argv)
{
    static const unsigned sizes[] = { 1000, 10000 };
    static const struct {
        SdmPolicy policy;
        const char *name;
    } policies[] = {
        { SDM_POLICY_FIRST_FIT, "first-fit" },
        { SDM_POLICY_LOCALITY, "locality" },
    };
    int rounds = argc > 1 ? atoi(argv[1]) : 3;

    if (argc > 2 || rounds <= 0) {
        fprintf(stderr, "usage: sdm-reserve-bench [ROUNDS]\n");
        return 2;
    }
    /* The engine library is built with the same options as this program. */
    printf("engine %s\n", BENCH_BUILD);
    printf("%-8s %-10s %9s %9s %9s %12s\n", "bricks", "policy", "requests",
           "placed", "seconds", "placed/s");
    for (int r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
            unsigned n = sizes[i], requests = n == 1000 ? 200000 : 20000;

            for (unsigned p = 0; p < G_N_ELEMENTS(policies); p++) {
                double secs;
                unsigned placed = placed_decisions(n, policies[p].policy,
                                                   requests, &secs);

                printf("%-8u %-10s %9u %9u %9.3f %12.0f\n", n,
                       policies[p].name, requests, placed, secs,
                       placed / secs);
            }
        }
    }
    return 0;
}
