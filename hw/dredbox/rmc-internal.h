/*
 * The dReDBox RMC's parts (rmc.c): what its data path (rmc-datapath.c),
 * its doorbells (rmc-doorbell.c), its configuration registers
 * (rmc-config.c) and its life cycle (rmc.c) share.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_RMC_INTERNAL_H
#define HW_DREDBOX_RMC_INTERNAL_H

#include "hw/dredbox/rmc.h"
#include "dredbox/address-map.h"

#define RMC_PAGE DREDBOX_POISON_PAGE
#define RMC_RECONNECT_MS 200    /* between attempts to reach an engine */

static inline uint16_t rmc_entry_brick(const DredboxRmcEntryRegs *e)
{
    return e->netinfo & RMC_NETINFO_BRICK_MASK;
}

static inline bool rmc_entry_enabled(const DredboxRmcEntryRegs *e)
{
    return e->ctrl & RMC_CTRL_ENABLE;
}

/* Translator: the memory-brick address of local address @addr. */
static inline uint64_t rmc_entry_translate(const DredboxRmcEntryRegs *e,
                                           uint64_t addr)
{
    return e->netinfo & RMC_NETINFO_ADD ? addr + e->offset
                                        : addr - e->offset;
}

/* rmc-datapath.c */
/* 0 if @e may be made live, else the RMC_COMMIT_ERR_* that refuses it */
uint32_t rmc_check_entry(DredboxRmcState *s, const DredboxRmcEntryRegs *e);
/* Take @p's data path out of the windows, and free its regions */
void rmc_port_unmap(DredboxRmcState *s, DredboxRmcPort *p);
void rmc_port_free_regions(DredboxRmcPort *p);
/* Publish the live entries for tools watching the brick (rmc-table.h). */
void rmc_publish(DredboxRmcState *s);
/* Latch interrupt causes @bits and update the line */
void rmc_raise(DredboxRmcState *s, uint32_t bits);
/* Rebuild the data path of every port from the live entries. */
void rmc_rebuild(DredboxRmcState *s);
/* Map the published table at the table= path */
bool rmc_table_open(DredboxRmcState *s, Error **errp);
/* The interrupt line from the latched and enabled causes */
void rmc_update_irq(DredboxRmcState *s);
/*
 * Attached segments are memory, and bound doorbells are connections,
 * that would not be in a migration's destination: hold the migration
 * blocker while there is either.
 */
bool rmc_update_migration_blocker(DredboxRmcState *s, Error **errp);
/*
 * commit=off, the prototype's behaviour: what the guest wrote to @port's
 * entry is live at once.  While software writes the fields one by one,
 * they do not always form a valid entry (an end below the start, say):
 * the entry is then off, as the prototype's decoder would match nothing
 * with it, until they do.  Nothing is reported: there was no commit.
 */
void rmc_apply_written(DredboxRmcState *s, unsigned port);
/*
 * The guest's write of @mask to RMC_COMMIT: the commit is done at once,
 * or once commit-delay-us have passed, as on a controller whose commits
 * take time.  Meanwhile those ports show RMC_STATUS_COMMITTING, and
 * another write joins the commit under way.  The result goes to
 * RMC_COMMIT_STATUS and to each port's status, a refusal raises the
 * interrupt.
 */
void rmc_guest_commit(DredboxRmcState *s, uint32_t mask);
/* Complete the commit under way once commit-delay-us from now */
void rmc_schedule_commit(DredboxRmcState *s);
/* commit_timer: the commit under way completes */
void rmc_commit_done(void *opaque);
void rmc_segment_free(DredboxRmcSegment *seg);
/* What no entry holds: a bus error, counted */
extern const MemoryRegionOps rmc_fault_ops;

/* rmc-doorbell.c */
/* Close the link, stop reconnecting and forget the accelerator. */
void rmc_doorbell_unbind(DredboxRmcDoorbell *db);
/* A write to the doorbell register. */
void rmc_ring(DredboxRmcDoorbell *db, uint32_t value);

/* rmc-config.c: the configuration page */
extern const MemoryRegionOps rmc_config_ops;

#endif
