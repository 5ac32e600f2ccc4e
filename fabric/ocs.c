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
    [OCS_PORT_DOWN] = "in a circuit that is down",
};

/* Each cause of darkness, in OcsFault's bit order */
static const struct {
    const char *is, *already, *not;
} causes[] = {
    { "its cable is cut", "its cable is already cut",
      "its cable is not cut" },
    { "the switch port failed", "the switch port has already failed",
      "the switch port has not failed" },
    { "its brick is down", "its brick is already down",
      "its brick is not down" },
};
G_STATIC_ASSERT(1 << G_N_ELEMENTS(causes) == OCS_FAULTS_ALL + 1);

static unsigned cause_index(OcsFault fault)
{
    g_assert(fault && !(fault & (fault - 1)) && fault <= OCS_FAULTS_ALL);
    return __builtin_ctz(fault);
}

Ocs *ocs_new(unsigned nports, uint64_t reconfig_us, OcsLinkFn link,
             void *opaque)
{
    Ocs *ocs = g_new0(Ocs, 1);

    ocs->nports = nports;
    ocs->reconfig_us = reconfig_us;
    ocs->peer = g_new(int, nports);
    ocs->state = g_new0(OcsPortState, nports);
    ocs->ready_at = g_new0(uint64_t, nports);
    ocs->faults = g_new0(unsigned, nports);
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
        g_free(ocs->faults);
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
        if (ocs->faults[p]) {
            g_autofree char *why = ocs_fault_reason(ocs, p);

            g_set_error(errp, RACK_ERROR, RACK_ERROR_DOWN, "%s", why);
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

/* Circuit @a-@b has light, or not: its state, and the bricks told. */
static void set_lit(Ocs *ocs, unsigned a, unsigned b, bool lit)
{
    ocs->state[a] = ocs->state[b] = lit ? OCS_PORT_UP : OCS_PORT_DOWN;
    if (ocs->link) {
        ocs->link(ocs->opaque, MIN(a, b), MAX(a, b), lit);
    }
}

void ocs_advance(Ocs *ocs, uint64_t now)
{
    for (unsigned a = 0; a < ocs->nports; a++) {
        unsigned b = ocs->peer[a];

        if (ocs->state[a] == OCS_PORT_SETTING_UP && a < b &&
            ocs->ready_at[a] <= now) {
            if (ocs->faults[a] || ocs->faults[b]) {
                /* The mirrors are set, but no light passes. */
                ocs->state[a] = ocs->state[b] = OCS_PORT_DOWN;
            } else {
                set_lit(ocs, a, b, true);
            }
        }
    }
}

bool ocs_set_fault(Ocs *ocs, unsigned p, OcsFault fault, bool fail,
                   GError **errp)
{
    unsigned was, b;

    if (!check_port(ocs, p, errp)) {
        return false;
    }
    was = ocs->faults[p];
    if (!!(was & fault) == fail) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS, "optical port %u: %s",
                    p, fail ? causes[cause_index(fault)].already
                            : causes[cause_index(fault)].not);
        return false;
    }
    ocs->faults[p] = fail ? was | fault : was & ~fault;
    b = ocs->peer[p];
    if (fail && ocs->state[p] == OCS_PORT_UP) {
        set_lit(ocs, p, b, false);
    } else if (!fail && ocs->state[p] == OCS_PORT_DOWN && !ocs->faults[p] &&
               !ocs->faults[b]) {
        set_lit(ocs, p, b, true);
    }
    return true;
}

char *ocs_fault_reason(const Ocs *ocs, unsigned p)
{
    unsigned f = p < ocs->nports ? ocs->faults[p] : 0;
    GString *why;

    if (!f) {
        return NULL;
    }
    why = g_string_new(NULL);
    g_string_printf(why, "optical port %u is dark: ", p);
    for (unsigned i = 0; i < G_N_ELEMENTS(causes); i++) {
        if (f & 1u << i) {
            f &= ~(1u << i);
            g_string_append(why, causes[i].is);
            g_string_append(why, !f ? "" : f & (f - 1) ? ", " : " and ");
        }
    }
    return g_string_free(why, false);
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
