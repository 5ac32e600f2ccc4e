/*
 * Optical circuit switch model (ocs.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ocs.h"
#include "rack-error.h"

static const char *const state_names[] = {
    [OCS_PORT_FREE] = "free",
    [OCS_PORT_SETTING_UP] = "being set up",
    [OCS_PORT_UP] = "in a circuit",
};

Ocs *ocs_new(unsigned nports, uint64_t reconfig_us, OcsLinkFn link,
             void *opaque)
{
    Ocs *ocs = g_new0(Ocs, 1);

    ocs->nports = nports;
    ocs->reconfig_us = reconfig_us;
    ocs->peer = g_new(int, nports);
    ocs->state = g_new0(OcsPortState, nports);
    ocs->ready_at = g_new0(uint64_t, nports);
    ocs->link = link;
    ocs->opaque = opaque;
    for (unsigned i = 0; i < nports; i++) {
        ocs->peer[i] = -1;
    }
    return ocs;
}

void ocs_free(Ocs *ocs)
{
    if (ocs) {
        g_free(ocs->peer);
        g_free(ocs->state);
        g_free(ocs->ready_at);
        g_free(ocs);
    }
}

static bool check_port(Ocs *ocs, unsigned p, GError **errp)
{
    if (p >= ocs->nports) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "optical port %u does not exist (0 to %u)", p,
                    ocs->nports - 1);
        return false;
    }
    return true;
}

bool ocs_connect(Ocs *ocs, unsigned a, unsigned b, uint64_t now,
                 GError **errp)
{
    if (!check_port(ocs, a, errp) || !check_port(ocs, b, errp)) {
        return false;
    }
    if (a == b) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "a circuit joins two different ports");
        return false;
    }
    for (unsigned p = a;; p = b) {
        if (ocs->state[p] != OCS_PORT_FREE) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS,
                        "optical port %u is %s (with port %d)", p,
                        state_names[ocs->state[p]], ocs->peer[p]);
            return false;
        }
        if (p == b) {
            break;
        }
    }
    ocs->peer[a] = b;
    ocs->peer[b] = a;
    ocs->state[a] = ocs->state[b] = OCS_PORT_SETTING_UP;
    ocs->ready_at[a] = ocs->ready_at[b] = now + ocs->reconfig_us;
    return true;
}

bool ocs_disconnect(Ocs *ocs, unsigned a, GError **errp)
{
    unsigned b;
    bool was_up;

    if (!check_port(ocs, a, errp)) {
        return false;
    }
    if (ocs->state[a] == OCS_PORT_FREE) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "optical port %u is in no circuit", a);
        return false;
    }
    b = ocs->peer[a];
    was_up = ocs->state[a] == OCS_PORT_UP;
    ocs->peer[a] = ocs->peer[b] = -1;
    ocs->state[a] = ocs->state[b] = OCS_PORT_FREE;
    if (was_up && ocs->link) {
        ocs->link(ocs->opaque, MIN(a, b), MAX(a, b), false);
    }
    return true;
}

void ocs_advance(Ocs *ocs, uint64_t now)
{
    for (unsigned a = 0; a < ocs->nports; a++) {
        unsigned b = ocs->peer[a];

        if (ocs->state[a] == OCS_PORT_SETTING_UP && a < b &&
            ocs->ready_at[a] <= now) {
            ocs->state[a] = ocs->state[b] = OCS_PORT_UP;
            if (ocs->link) {
                ocs->link(ocs->opaque, a, b, true);
            }
        }
    }
}

uint64_t ocs_next_ready(const Ocs *ocs)
{
    uint64_t next = 0;

    for (unsigned p = 0; p < ocs->nports; p++) {
        if (ocs->state[p] == OCS_PORT_SETTING_UP &&
            (!next || ocs->ready_at[p] < next)) {
            next = ocs->ready_at[p];
        }
    }
    return next;
}
