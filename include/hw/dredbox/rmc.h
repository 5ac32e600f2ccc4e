/*
 * dReDBox Remote Memory Controller (RMC): the compute brick's glue logic.
 *
 * Local physical addresses in the RMC's windows are decoded by the
 * NetPort entries, translated by adding or subtracting the entry's offset
 * and forwarded over the entry's memory port to a memory brick.  In the
 * emulator the forwarding is a memory-region alias onto the pool segment
 * that holds the translated address, so mapped accesses run at RAM speed;
 * everything else is refused with a bus error and counted.
 *
 * Each port may also have a doorbell bound to an accelerator brick's
 * engine: a UNIX stream socket carrying the DrqLinkMsg protocol of
 * include/dredbox/accel-queue.h.
 *
 * Registers: dredbox/rmc-regs.h and docs/rmc.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_RMC_H
#define HW_DREDBOX_RMC_H

#include "hw/sysbus.h"
#include "chardev/char-fe.h"
#include "qapi/qapi-types-dredbox.h"
#include "dredbox/accel-queue.h"
#include "hw/dredbox/pool-client.h"
#include "dredbox/rmc-regs.h"
#include "dredbox/rmc-table.h"
#include "qom/object.h"

#define TYPE_DREDBOX_RMC "dredbox-rmc"
OBJECT_DECLARE_SIMPLE_TYPE(DredboxRmcState, DREDBOX_RMC)

#define DREDBOX_RMC_DEFAULT_PORTS 8
/* commit-delay-us: a controller whose commits never complete */
#define DREDBOX_RMC_COMMIT_NEVER UINT32_MAX
#define DREDBOX_RMC_WINDOWS 2

typedef struct DredboxRmcEntryRegs {
    uint32_t netinfo;
    uint32_t ctrl;
    uint64_t start;
    uint64_t end;           /* inclusive */
    uint64_t offset;
} DredboxRmcEntryRegs;

/* Where refused accesses land: one per port and one per window. */
typedef struct DredboxRmcFaultSite {
    DredboxRmcState *rmc;
    int port;               /* -1: outside every entry */
    hwaddr base;            /* local address of the region's start */
} DredboxRmcFaultSite;

/* A memory region of the data path, freed after an RCU grace period. */
typedef struct DredboxRmcRegion {
    struct rcu_head rcu;    /* first, for g_free_rcu() */
    MemoryRegion mr;
} DredboxRmcRegion;

/*
 * A port's doorbell: host state, neither reset nor migrated (migration
 * is blocked while one is bound).
 */
typedef struct DredboxRmcDoorbell {
    DredboxRmcState *rmc;
    unsigned port;
    char *path;             /* the accelerator's socket; NULL: unbound */
    uint32_t segment;       /* the queue's segment, named in HELLO */
    CharBackend chr;        /* the link: a socket chardev of our own */
    bool ready;             /* READY 0 received since it connected */
    uint64_t doorbells;     /* sent */
    uint64_t completions;   /* received */
    uint8_t rx[sizeof(DrqLinkMsg)];     /* a message being received */
    size_t rx_len;
} DredboxRmcDoorbell;

typedef struct DredboxRmcPort {
    DredboxRmcEntryRegs pending;
    DredboxRmcEntryRegs live;
    bool link_up;
    uint16_t linked_brick;
    uint32_t latency;       /* the circuit's DredboxLatencyClass */
    uint64_t faults;
    uint64_t fault_addr;
    uint32_t fault_reason;
    bool fault_latched;
    uint32_t commit_result; /* RMC_COMMIT_* of its last guest commit */

    /* data path built from @live at commit */
    DredboxRmcFaultSite site;
    MemoryRegion fault;     /* refuses what no segment backs in @live */
    GPtrArray *regions;     /* DredboxRmcRegion *: aliases onto segments */

    DredboxRmcDoorbell db;
} DredboxRmcPort;

/*
 * A pool segment mapped for forwarding.  Its RAM has an owner of its own:
 * flat views still mapping it after a detach hold references to that
 * owner, and the RAM is freed with the last of them.
 */
typedef struct DredboxRmcSegment {
    PoolSegmentInfo info;
    Object *owner;
    MemoryRegion *ram;      /* a ROM device if granted read-only */
    DredboxRmcState *rmc;
    GArray *poisoned;       /* uint64_t offsets of poisoned pages, sorted */
} DredboxRmcSegment;

struct DredboxRmcState {
    SysBusDevice parent_obj;

    MemoryRegion config;
    MemoryRegion window[DREDBOX_RMC_WINDOWS];
    MemoryRegion unmapped[DREDBOX_RMC_WINDOWS];
    DredboxRmcFaultSite unmapped_site[DREDBOX_RMC_WINDOWS];
    qemu_irq irq;

    /* properties */
    uint32_t num_ports;
    uint64_t window_base[DREDBOX_RMC_WINDOWS];
    uint64_t window_size[DREDBOX_RMC_WINDOWS];
    char *pool;
    char *client;
    bool fabric;            /* links come from a fabric: start down */
    bool commit;            /* off: entries live as written (prototype) */
    /* how long a commit takes (DREDBOX_RMC_COMMIT_NEVER: forever) */
    uint32_t commit_delay_us;
    char *table_path;       /* publish the committed table (rmc-table.h) */

    /* guest-visible state */
    DredboxRmcPort port[RMC_MAX_PORTS];
    uint32_t commits;
    uint32_t commit_status;
    uint32_t irq_status;
    uint32_t irq_enable;
    uint64_t unmapped_faults;
    uint64_t unmapped_addr;
    bool unmapped_latched;
    uint32_t completion;    /* bit p: port p's engine finished work */
    uint32_t committing;    /* bit p: a commit of port p under way */
    QEMUTimer *commit_timer;    /* when it completes */

    RmcTable *table;        /* the published table, shared-mapped */

    /* host side: the pool connection and the segments attached */
    PoolClient *pc;
    Object *pool_holder;        /* the dredbox-pool object pc is, if any */
    GPtrArray *segments;    /* DredboxRmcSegment * */
    /* while segments are attached or doorbells bound */
    Error *migration_blocker;
};

/*
 * The RMC at QOM path @path (NULL: the machine's only one), or NULL with
 * @errp set.
 */
DredboxRmcState *dredbox_rmc_find(const char *path, Error **errp);

/*
 * Make @e @port's pending and live entry, as a guest's commit of that
 * port would, or refuse it and change nothing: RMC_COMMIT_STATUS and the
 * refused-commit interrupt report only the guest's own commits.
 */
bool dredbox_rmc_set_entry(DredboxRmcState *s, unsigned port,
                           const DredboxRmcEntryRegs *e, Error **errp);
/*
 * A fabric circuit of class @latency now reaches @brick from @port (@up),
 * or no longer does.
 */
void dredbox_rmc_set_link(DredboxRmcState *s, unsigned port, bool up,
                          uint16_t brick, DredboxLatencyClass latency);
bool dredbox_rmc_attach_segment(DredboxRmcState *s, uint32_t segment,
                                Error **errp);
bool dredbox_rmc_detach_segment(DredboxRmcState *s, uint32_t segment,
                                Error **errp);
/* Poison (@poison) or unpoison page @offset of attached segment @segment */
bool dredbox_rmc_poison_page(DredboxRmcState *s, uint32_t segment,
                             uint64_t offset, bool poison, Error **errp);
/*
 * Bind @port's doorbell to the accelerator listening on @path and say
 * HELLO for @segment; reconnects by itself until unbound.
 */
bool dredbox_rmc_connect_doorbell(DredboxRmcState *s, unsigned port,
                                  const char *path, uint32_t segment,
                                  Error **errp);
bool dredbox_rmc_disconnect_doorbell(DredboxRmcState *s, unsigned port,
                                     Error **errp);

#endif
