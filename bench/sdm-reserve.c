/*
 * sdm-reserve-bench: decisions per second of the SDM reservation engine
 * alone, on synthetic racks of 1,000 and 10,000 bricks (a quarter compute
 * bricks with 4 ports, the rest memory bricks of 16-64 GiB with 2 ports,
 * trays of 16 bricks, cables tray-local within a tray's first half and
 * rack-local or inter-rack otherwise).  Requests of 256 MiB-2 GiB from
 * random compute bricks; a random allocation is released whenever a
 * request fails, so the rack stays busy.  Both policies, one run.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

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

static double decisions_per_second(unsigned n, SdmPolicy policy,
                                   unsigned decisions)
{
    Rack *rack = synthetic_rack(n);
    SdmGraph *g = sdm_graph_new(rack);
    GRand *rand = g_rand_new_with_seed(n);
    GArray *live = g_array_new(false, false, sizeof(SdmPlacement));
    GArray *sizes = g_array_new(false, false, sizeof(uint64_t));
    gint64 t0 = g_get_monotonic_time();
    double secs;

    for (unsigned i = 0; i < decisions; i++) {
        SdmRequest req = { g_rand_int_range(rand, 0, n / 4) * 4,
                           g_rand_int_range(rand, 1, 9) * 256 * MiB,
                           g_rand_int_range(rand, 0, 3), false };
        SdmPlacement pl;

        if (sdm_reserve(g, policy, &req, &pl, NULL)) {
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
    secs = (g_get_monotonic_time() - t0) / 1e6;
    g_array_free(live, true);
    g_array_free(sizes, true);
    g_rand_free(rand);
    sdm_graph_free(g);
    g_ptr_array_free(rack->bricks, true);
    g_ptr_array_free(rack->cables, true);
    g_free(rack->name);
    g_free(rack);
    return decisions / secs;
}

int main(void)
{
    static const unsigned sizes[] = { 1000, 10000 };

    printf("%-8s %20s %20s\n", "bricks", "first-fit dec/s", "locality dec/s");
    for (int i = 0; i < 2; i++) {
        unsigned n = sizes[i], d = n == 1000 ? 200000 : 20000;

        printf("%-8u %20.0f %20.0f\n", n,
               decisions_per_second(n, SDM_POLICY_FIRST_FIT, d),
               decisions_per_second(n, SDM_POLICY_LOCALITY, d));
    }
    return 0;
}
