/*
 * What has failed in the rack, as the controller knows it
 * (docs/reliability.md): the fabric's dark optical ports marked on the
 * graph's brick ports, refreshed before each request and every second,
 * each change logged; and what that means for an allocation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include "controller.h"
#include "rack-json.h"

#define FAULT_POLL_MS 1000

/* Dark optical port -> why, from the fabric's "faults" */
static GHashTable *dark_ports(JsonObject *q, GError **errp)
{
    g_autoptr(GHashTable) dark = g_hash_table_new_full(NULL, NULL, NULL,
                                                       g_free);
    JsonArray *faults;

    if (!rack_json_get_array(q, "faults", &faults, errp)) {
        return NULL;
    }
    for (guint i = 0; i < json_array_get_length(faults); i++) {
        JsonObject *f, *port;
        const char *why;
        uint64_t p;

        if (!rack_json_array_get_obj(faults, i, &f, errp) ||
            !rack_json_get_object(f, "port", &port, errp) ||
            !rack_json_get_uint(port, "port", G_MAXINT, &p, errp) ||
            !rack_json_get_str(f, "why", &why, errp)) {
            return NULL;
        }
        g_hash_table_insert(dark, GUINT_TO_POINTER(p), g_strdup(why));
    }
    return g_steal_pointer(&dark);
}

bool sdm_faults_sync(GError **errp)
{
    g_autoptr(JsonObject) q = sdm_fabric_call("{\"cmd\":\"query\"}", errp);
    g_autoptr(GHashTable) dark = q ? dark_ports(q, errp) : NULL;

    if (!dark) {
        if (q) {
            g_prefix_error(errp, "malformed reply from the fabric: ");
        }
        return false;
    }
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(sdm.graph->vertices, i);

        for (unsigned p = 0; p < v->nports; p++) {
            SdmPort *port = &v->ports[p];
            const char *why = port->switch_port < 0 ? NULL
                : g_hash_table_lookup(dark,
                                      GUINT_TO_POINTER(port->switch_port));
            g_autofree char *name = NULL;

            if (!sdm_port_set_down(port, why)) {
                continue;
            }
            name = sdm_endpoint(port);
            printf("dredbox-sdmd: %s %s%s\n", name, why ? "down: " : "up",
                   why ? why : "");
            fflush(stdout);
        }
    }
    return true;
}

char *sdm_degraded(const SdmPlacement *pl)
{
    const SdmPort *ports[] = { pl->compute_port, pl->memory_port,
                               pl->accel_port, pl->accel_memory_port };

    for (unsigned i = 0; i < G_N_ELEMENTS(ports); i++) {
        if (ports[i] && ports[i]->down) {
            g_autofree char *name = sdm_endpoint(ports[i]);

            return g_strdup_printf("%s: %s", name, ports[i]->down);
        }
    }
    return NULL;
}

/* Poll the fabric; say once when it cannot be asked, and when it can again. */
static gboolean poll_faults(gpointer unused)
{
    static bool unreachable;
    g_autoptr(GError) err = NULL;

    if (!sdm_faults_sync(&err) != unreachable) {
        unreachable = !unreachable;
        g_printerr("dredbox-sdmd: %s%s\n", unreachable
                   ? "cannot learn of faults from the fabric: "
                   : "the fabric answers again", err ? err->message : "");
    }
    return G_SOURCE_CONTINUE;
}

void sdm_faults_watch(void)
{
    poll_faults(NULL);
    g_timeout_add(FAULT_POLL_MS, poll_faults, NULL);
}
