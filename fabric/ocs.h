/*
 * Optical circuit switch model: port-to-port cross-connects.  A port is in
 * at most one circuit; setting a circuit up takes the switch's
 * reconfiguration time, tearing it down is immediate.  Time is passed in
 * (microseconds), so the state machine is testable without waiting.
 *
 * Faults: the fibre cabled to a port can be cut, the switch's port
 * itself can fail, and the brick at the other end of the fibre can go
 * down.  Any of them leaves the port dark: a circuit through it is
 * down (its mirrors stay where they are) and comes back up at once when
 * both of its ports are lit again; no new circuit takes a dark port.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_OCS_H
#define DREDBOX_OCS_H

#include <stdbool.h>
#include <glib.h>
#include <stdint.h>

typedef enum {
    OCS_PORT_FREE,
    OCS_PORT_SETTING_UP,    /* mirrors are moving: no light yet */
    OCS_PORT_UP,
    OCS_PORT_DOWN,          /* set up, but a port of it is dark */
} OcsPortState;

/* Why a port is dark: a bit per cause, any may hold at once */
typedef enum {
    OCS_FAULT_CABLE = 1 << 0,       /* the fibre cabled to it is cut */
    OCS_FAULT_PORT = 1 << 1,        /* the switch's port has failed */
    OCS_FAULT_BRICK = 1 << 2,       /* the brick at the fibre's end is down */
} OcsFault;
#define OCS_FAULTS_ALL (OCS_FAULT_CABLE | OCS_FAULT_PORT | OCS_FAULT_BRICK)

/* Called when the circuit between @a and @b comes up or goes down. */
typedef void (*OcsLinkFn)(void *opaque, unsigned a, unsigned b, bool up);

typedef struct Ocs {
    unsigned nports;
    uint64_t reconfig_us;
    int *peer;              /* -1: free */
    OcsPortState *state;
    uint64_t *ready_at;     /* when a setting-up circuit comes up */
    unsigned *faults;       /* OcsFault bits; 0: the port is lit */
    OcsLinkFn link;
    void *opaque;
} Ocs;

Ocs *ocs_new(unsigned nports, uint64_t reconfig_us, OcsLinkFn link,
             void *opaque);
void ocs_free(Ocs *ocs);

/* Start setting up a circuit between free ports @a and @b at @now. */
bool ocs_connect(Ocs *ocs, unsigned a, unsigned b, uint64_t now,
                 GError **errp);
/* Tear down the circuit of port @a (set up or still setting up). */
bool ocs_disconnect(Ocs *ocs, unsigned a, GError **errp);
/* Bring up every circuit whose reconfiguration is over by @now. */
void ocs_advance(Ocs *ocs, uint64_t now);
/* The earliest time a circuit will come up, or 0 if none is pending. */
uint64_t ocs_next_ready(const Ocs *ocs);
/*
 * Add (@fail) or clear @fault on port @p.  A circuit through it goes down
 * or, once both ports are lit, back up; false if @p does not exist or
 * already is (or is not) in that state.
 */
bool ocs_set_fault(Ocs *ocs, unsigned p, OcsFault fault, bool fail,
                   GError **errp);
/* "the cable to optical port 3 is cut": why @p is dark, or NULL if lit */
char *ocs_fault_reason(const Ocs *ocs, unsigned p);

#endif
