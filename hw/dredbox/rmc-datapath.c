/*
 * The dReDBox RMC's data path (rmc.c): the decoder, translator and
 * forwarder as memory-region aliases onto pool segments, the fault
 * regions and counters, commits, links, segments and the published
 * table.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-events-dredbox.h"
#include "hw/irq.h"
#include "qemu/timer.h"
#include "rmc-internal.h"
#include "hw/dredbox/publish.h"
#include "migration/blocker.h"
#include "trace.h"

QEMU_BUILD_BUG_ON(RMC_TABLE_PORTS < RMC_MAX_PORTS);

void rmc_update_irq(DredboxRmcState *s)
{
    qemu_set_irq(s->irq, !!(s->irq_status & s->irq_enable));
}

void rmc_raise(DredboxRmcState *s, uint32_t bits)
{
    s->irq_status |= bits;
    rmc_update_irq(s);
}

/*
 * Why an access to @p's live entry that no alias takes is refused.  The
 * data path is rebuilt on every link change, so this is also what it
 * was built for.
 */
static uint32_t rmc_port_fault_reason(const DredboxRmcPort *p)
{
    if (!p->link_up) {
        return RMC_FAULT_NO_LINK;
    }
    if (p->linked_brick != rmc_entry_brick(&p->live)) {
        return RMC_FAULT_WRONG_BRICK;
    }
    return RMC_FAULT_NOT_ALLOCATED;
}

/*
 * Count an access to @addr refused for @reason on @port (-1: no entry);
 * latch and report the first.
 */
static void rmc_fault_record(DredboxRmcState *s, int port, hwaddr addr,
                             uint32_t reason, bool write)
{
    bool first;

    if (port < 0) {
        first = !s->unmapped_latched;
        s->unmapped_faults++;
        s->unmapped_addr = addr;
        s->unmapped_latched = true;
    } else {
        DredboxRmcPort *p = &s->port[port];

        first = !p->fault_latched;
        p->faults++;
        p->fault_addr = addr;
        p->fault_reason = reason;
        p->fault_latched = true;
    }
    trace_dredbox_rmc_fault(port, addr, reason, write);
    if (first) {
        qapi_event_send_dredbox_rmc_fault(port >= 0, port, addr, reason - 1,
                                          write);
    }
    rmc_raise(s, RMC_IRQ_FAULT);
}

static guint rmc_poison_index(const DredboxRmcSegment *seg, uint64_t offset,
                              bool *found);

/* Whether @addr of memory brick @brick is in a poisoned page. */
static bool rmc_poisoned(DredboxRmcState *s, uint16_t brick, uint64_t addr)
{
    for (guint i = 0; i < s->segments->len; i++) {
        DredboxRmcSegment *seg = g_ptr_array_index(s->segments, i);
        bool found;

        if (seg->info.brick == brick && addr >= seg->info.offset &&
            addr - seg->info.offset < seg->info.size) {
            rmc_poison_index(seg, QEMU_ALIGN_DOWN(addr - seg->info.offset,
                                                  RMC_PAGE), &found);
            return found;
        }
    }
    return false;
}

/* Count an access refused at @off in @site. */
static void rmc_fault(DredboxRmcFaultSite *site, hwaddr off, bool write)
{
    DredboxRmcState *s = site->rmc;
    hwaddr addr = site->base + off;
    uint32_t reason = RMC_FAULT_UNMAPPED;

    if (site->port >= 0) {
        const DredboxRmcEntryRegs *e = &s->port[site->port].live;

        reason = rmc_port_fault_reason(&s->port[site->port]);
        /* The segment's aliases leave out its poisoned pages. */
        if (reason == RMC_FAULT_NOT_ALLOCATED &&
            rmc_poisoned(s, rmc_entry_brick(e), rmc_entry_translate(e, addr))) {
            reason = RMC_FAULT_POISONED;
        }
    }
    rmc_fault_record(s, site->port, addr, reason, write);
}

static MemTxResult rmc_fault_read(void *opaque, hwaddr addr, uint64_t *data,
                                  unsigned size, MemTxAttrs attrs)
{
    rmc_fault(opaque, addr, false);
    *data = 0;
    return MEMTX_DECODE_ERROR;
}

static MemTxResult rmc_fault_write(void *opaque, hwaddr addr, uint64_t data,
                                   unsigned size, MemTxAttrs attrs)
{
    rmc_fault(opaque, addr, true);
    return MEMTX_DECODE_ERROR;
}

const MemoryRegionOps rmc_fault_ops = {
    .read_with_attrs = rmc_fault_read,
    .write_with_attrs = rmc_fault_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8,
               .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8,
              .unaligned = true },
};

/*
 * A segment granted read-only is a ROM device: reads go straight to its
 * memory, writes come here and are refused as the hardware would, with
 * a bus error, on the port whose live entry the guest wrote through.
 */
static MemTxResult rmc_ro_read(void *opaque, hwaddr addr, uint64_t *data,
                               unsigned size, MemTxAttrs attrs)
{
    DredboxRmcSegment *seg = opaque;

    *data = ldn_he_p((uint8_t *)memory_region_get_ram_ptr(seg->ram) + addr,
                     size);
    return MEMTX_OK;
}

static MemTxResult rmc_ro_write(void *opaque, hwaddr addr, uint64_t data,
                                unsigned size, MemTxAttrs attrs)
{
    DredboxRmcSegment *seg = opaque;
    DredboxRmcState *s = seg->rmc;
    uint64_t brick_off = seg->info.offset + addr;

    for (unsigned n = 0; n < s->num_ports; n++) {
        const DredboxRmcEntryRegs *e = &s->port[n].live;
        hwaddr local = e->netinfo & RMC_NETINFO_ADD ? brick_off - e->offset
                                                    : brick_off + e->offset;

        if (rmc_entry_enabled(e) && rmc_entry_brick(e) == seg->info.brick &&
            local >= e->start && local <= e->end) {
            rmc_fault_record(s, n, local, RMC_FAULT_READ_ONLY, true);
            return MEMTX_DECODE_ERROR;
        }
    }
    rmc_fault_record(s, -1, brick_off, RMC_FAULT_READ_ONLY, true);
    return MEMTX_DECODE_ERROR;
}

static const MemoryRegionOps rmc_ro_ops = {
    .read_with_attrs = rmc_ro_read,
    .write_with_attrs = rmc_ro_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
};

static int rmc_window_of(DredboxRmcState *s, uint64_t start, uint64_t end)
{
    for (int w = 0; w < DREDBOX_RMC_WINDOWS; w++) {
        if (start >= s->window_base[w] && end >= start &&
            end - s->window_base[w] < s->window_size[w]) {
            return w;
        }
    }
    return -1;
}

static void rmc_region_free(DredboxRmcRegion *r)
{
    object_unparent(OBJECT(&r->mr));
    /* Readers of the old flat view may still look at it. */
    g_free_rcu(r, rcu);
}

void rmc_port_unmap(DredboxRmcState *s, DredboxRmcPort *p)
{
    if (p->fault.container) {
        memory_region_del_subregion(p->fault.container, &p->fault);
    }
    for (guint i = 0; i < p->regions->len; i++) {
        DredboxRmcRegion *r = g_ptr_array_index(p->regions, i);

        memory_region_del_subregion(r->mr.container, &r->mr);
    }
}

void rmc_port_free_regions(DredboxRmcPort *p)
{
    for (guint i = 0; i < p->regions->len; i++) {
        rmc_region_free(g_ptr_array_index(p->regions, i));
    }
    g_ptr_array_set_size(p->regions, 0);
}

/*
 * Alias brick addresses @a to @b of @seg into port @n's place in window
 * @w, where @delta turns a brick address into a local one.
 */
static void rmc_port_alias(DredboxRmcState *s, unsigned n, int w,
                           DredboxRmcSegment *seg, uint64_t a, uint64_t b,
                           uint64_t delta)
{
    DredboxRmcRegion *r = g_new0(DredboxRmcRegion, 1);
    g_autofree char *name = g_strdup_printf("dredbox-rmc.port%u.seg%u", n,
                                            seg->info.id);

    memory_region_init_alias(&r->mr, OBJECT(s), name, seg->ram,
                             a - seg->info.offset, b - a + 1);
    memory_region_add_subregion_overlap(&s->window[w],
                                        a + delta - s->window_base[w],
                                        &r->mr, 2);
    g_ptr_array_add(s->port[n].regions, r);
}

/* Forwarder: alias the parts of @p's live entry that a segment holds. */
static void rmc_port_map(DredboxRmcState *s, unsigned n)
{
    DredboxRmcPort *p = &s->port[n];
    const DredboxRmcEntryRegs *e = &p->live;
    int w = rmc_window_of(s, e->start, e->end);
    uint64_t lo = rmc_entry_translate(e, e->start);
    uint64_t hi = rmc_entry_translate(e, e->end);

    if (!rmc_entry_enabled(e)) {
        return;
    }
    g_assert(w >= 0);   /* commit checked it */
    p->site = (DredboxRmcFaultSite) { s, n, e->start };
    memory_region_set_size(&p->fault, e->end - e->start + 1);
    memory_region_add_subregion_overlap(&s->window[w],
                                        e->start - s->window_base[w],
                                        &p->fault, 1);

    if (rmc_port_fault_reason(p) != RMC_FAULT_NOT_ALLOCATED) {
        return;     /* no circuit to the entry's brick: all of it faults */
    }
    for (guint i = 0; i < s->segments->len; i++) {
        DredboxRmcSegment *seg = g_ptr_array_index(s->segments, i);
        uint64_t seg_end = seg->info.offset + seg->info.size - 1;
        uint64_t a = MAX(lo, seg->info.offset), b = MIN(hi, seg_end);

        if (seg->info.brick != rmc_entry_brick(e) || a > b) {
            continue;
        }
        /*
         * The segment's part in pieces around its poisoned pages: the
         * port's fault region under them refuses those.
         */
        for (guint k = 0; k < seg->poisoned->len; k++) {
            uint64_t page = seg->info.offset +
                            g_array_index(seg->poisoned, uint64_t, k);

            if (page + RMC_PAGE - 1 < a || page > b) {
                continue;
            }
            if (page > a) {
                rmc_port_alias(s, n, w, seg, a, page - 1, e->start - lo);
            }
            a = page + RMC_PAGE;
        }
        if (a <= b) {
            rmc_port_alias(s, n, w, seg, a, b, e->start - lo);
        }
    }
}

/* Publish the live entries for tools watching the brick (rmc-table.h). */
void rmc_publish(DredboxRmcState *s)
{
    RmcTable *t = s->table;

    if (!t) {
        return;
    }
    /* The write side of a seqlock (rmc-table.h): odd while rewriting. */
    qatomic_set(&t->generation, t->generation + 1);
    smp_wmb();      /* the odd generation before the entries */
    for (unsigned n = 0; n < s->num_ports; n++) {
        const DredboxRmcEntryRegs *e = &s->port[n].live;

        t->port[n] = (RmcTableEntry) {
            .enabled = rmc_entry_enabled(e),
            .brick = rmc_entry_brick(e),
            .add = !!(e->netinfo & RMC_NETINFO_ADD),
            .link = s->port[n].link_up &&
                    s->port[n].linked_brick == rmc_entry_brick(e),
            .latency = s->port[n].latency,
            .start = e->start, .end = e->end, .offset = e->offset,
        };
    }
    smp_wmb();      /* the entries before the even generation */
    qatomic_set(&t->generation, t->generation + 1);
}

bool rmc_table_open(DredboxRmcState *s, Error **errp)
{
    s->table = dredbox_publish_open("dredbox-rmc: table", s->table_path,
                                    sizeof(RmcTable), errp);
    if (!s->table) {
        return false;
    }
    *s->table = (RmcTable) {
        .magic = RMC_TABLE_MAGIC, .version = RMC_TABLE_VERSION,
        .nports = s->num_ports,
    };
    return true;
}

/* Rebuild the data path of every port from the live entries. */
void rmc_rebuild(DredboxRmcState *s)
{
    rmc_publish(s);
    memory_region_transaction_begin();
    for (unsigned n = 0; n < s->num_ports; n++) {
        rmc_port_unmap(s, &s->port[n]);
    }
    for (unsigned n = 0; n < s->num_ports; n++) {
        rmc_port_free_regions(&s->port[n]);
        rmc_port_map(s, n);
    }
    memory_region_transaction_commit();
}

static const char *const commit_errors[] = {
    [RMC_COMMIT_BAD_RANGE] = "start is above end",
    [RMC_COMMIT_MISALIGNED] = "start and end + 1 must be 4 KiB aligned",
    [RMC_COMMIT_NO_WINDOW] = "the range is not inside one remote memory"
                             " window",
    [RMC_COMMIT_OVERLAP] = "the range overlaps another enabled entry",
    [RMC_COMMIT_WRAP] = "the translated range wraps around",
};

uint32_t rmc_check_entry(DredboxRmcState *s,
                                const DredboxRmcEntryRegs *e)
{
    bool add = e->netinfo & RMC_NETINFO_ADD;

    if (e->start > e->end) {
        return RMC_COMMIT_BAD_RANGE;
    }
    if (e->start % RMC_PAGE || (e->end + 1) % RMC_PAGE) {
        return RMC_COMMIT_MISALIGNED;
    }
    if (rmc_window_of(s, e->start, e->end) < 0) {
        return RMC_COMMIT_NO_WINDOW;
    }
    if (add ? e->end + e->offset < e->end : e->start < e->offset) {
        return RMC_COMMIT_WRAP;
    }
    return RMC_COMMIT_OK;
}

/*
 * Whether the table @next may become live: RMC_COMMIT_OK, or why not
 * with the port to blame in @bad (of an overlap, the one in @mask, the
 * ports being committed).
 */
static uint32_t rmc_check_table(DredboxRmcState *s,
                                const DredboxRmcEntryRegs *next,
                                uint32_t mask, unsigned *bad)
{
    uint32_t reason = RMC_COMMIT_OK;
    unsigned n, m;

    *bad = 0;
    for (n = 0; n < s->num_ports && !reason; n++) {
        if (!rmc_entry_enabled(&next[n])) {
            continue;
        }
        *bad = n;
        reason = rmc_check_entry(s, &next[n]);
        for (m = 0; m < s->num_ports && !reason; m++) {
            if (m != n && rmc_entry_enabled(&next[m]) &&
                next[m].start <= next[n].end && next[n].start <= next[m].end) {
                reason = RMC_COMMIT_OVERLAP;
                /* Blame the entry being committed. */
                *bad = mask & BIT(n) ? n : m;
            }
        }
    }
    return reason;
}

static void rmc_make_live(DredboxRmcState *s, const DredboxRmcEntryRegs *next)
{
    for (unsigned n = 0; n < s->num_ports; n++) {
        s->port[n].live = next[n];
    }
    s->commits++;
    rmc_rebuild(s);
}

/* Make @mask's pending entries live, or refuse them all */
static void rmc_commit_now(DredboxRmcState *s, uint32_t mask)
{
    DredboxRmcEntryRegs next[RMC_MAX_PORTS] = {};
    uint32_t reason;
    unsigned bad;

    for (unsigned n = 0; n < s->num_ports; n++) {
        next[n] = mask & BIT(n) ? s->port[n].pending : s->port[n].live;
    }
    reason = rmc_check_table(s, next, mask, &bad);
    s->commit_status = reason | (reason ? bad << RMC_COMMIT_PORT_SHIFT : 0);
    for (unsigned n = 0; n < s->num_ports; n++) {
        if (mask & BIT(n)) {
            s->port[n].commit_result = reason;
        }
    }
    trace_dredbox_rmc_commit(mask, reason, bad);
    if (reason) {
        rmc_raise(s, RMC_IRQ_COMMIT_ERROR);
        return;
    }
    rmc_make_live(s, next);
}

void rmc_guest_commit(DredboxRmcState *s, uint32_t mask)
{
    if (!s->commit_delay_us && !s->committing) {
        rmc_commit_now(s, mask);
        return;
    }
    trace_dredbox_rmc_commit_start(mask, s->commit_delay_us);
    if (!s->committing) {
        s->committing = mask;
        rmc_schedule_commit(s);
    }
    s->committing |= mask;
}

void rmc_schedule_commit(DredboxRmcState *s)
{
    if (!s->committing || s->commit_delay_us == DREDBOX_RMC_COMMIT_NEVER) {
        timer_del(s->commit_timer);
        return;
    }
    timer_mod(s->commit_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              (int64_t)s->commit_delay_us * SCALE_US);
}

void rmc_commit_done(void *opaque)
{
    DredboxRmcState *s = opaque;
    uint32_t mask = s->committing;

    s->committing = 0;
    rmc_commit_now(s, mask);
}

/*
 * commit=off, the prototype's behaviour: what the guest wrote to @port's
 * entry is live at once.  While software writes the fields one by one,
 * they do not always form a valid entry (an end below the start, say):
 * the entry is then off, as the prototype's decoder would match nothing
 * with it, until they do.  Nothing is reported: there was no commit.
 */
void rmc_apply_written(DredboxRmcState *s, unsigned port)
{
    DredboxRmcEntryRegs next[RMC_MAX_PORTS];
    unsigned bad;

    for (unsigned n = 0; n < s->num_ports; n++) {
        next[n] = s->port[n].live;
    }
    next[port] = s->port[port].pending;
    if (rmc_check_table(s, next, BIT(port), &bad)) {
        next[port].ctrl &= ~RMC_CTRL_ENABLE;
    }
    trace_dredbox_rmc_immediate(port, rmc_entry_enabled(&next[port]));
    if (memcmp(&next[port], &s->port[port].live, sizeof(next[port]))) {
        rmc_make_live(s, next);
    }
}

bool dredbox_rmc_set_entry(DredboxRmcState *s, unsigned port,
                           const DredboxRmcEntryRegs *e, Error **errp)
{
    DredboxRmcEntryRegs next[RMC_MAX_PORTS];
    uint32_t reason;
    unsigned bad;

    for (unsigned n = 0; n < s->num_ports; n++) {
        next[n] = s->port[n].live;
    }
    next[port] = *e;
    reason = rmc_check_table(s, next, BIT(port), &bad);
    trace_dredbox_rmc_set_entry(port, reason, bad);
    if (reason) {
        error_setg(errp, "RMC commit refused: port %u: %s", bad,
                   commit_errors[reason]);
        return false;
    }
    s->port[port].pending = *e;
    rmc_make_live(s, next);
    return true;
}

void dredbox_rmc_set_link(DredboxRmcState *s, unsigned port, bool up,
                          uint16_t brick, DredboxLatencyClass latency)
{
    DredboxRmcPort *p = &s->port[port];

    if (p->link_up == up &&
        (!up || (p->linked_brick == brick && p->latency == latency))) {
        return;
    }
    trace_dredbox_rmc_link(port, up, brick);
    p->link_up = up;
    p->linked_brick = up ? brick : 0;
    /* Kept while down: the class of the port's cable, as far as known */
    if (up) {
        p->latency = latency;
    }
    rmc_rebuild(s);
    rmc_raise(s, RMC_IRQ_LINK);
    qapi_event_send_dredbox_rmc_link_change(port, up, up, brick);
}

/*
 * Attached segments are memory, and bound doorbells are connections,
 * that would not be in a migration's destination: hold the migration
 * blocker while there is either.
 */
bool rmc_update_migration_blocker(DredboxRmcState *s, Error **errp)
{
    bool needed = s->segments->len > 0;

    for (unsigned n = 0; n < s->num_ports && !needed; n++) {
        needed = s->port[n].db.path != NULL;
    }
    if (!needed) {
        migrate_del_blocker(&s->migration_blocker);
        return true;
    }
    if (s->migration_blocker) {
        return true;
    }
    error_setg(&s->migration_blocker, "dredbox-rmc: pool segments are"
               " attached or accelerator doorbells are bound (detach the"
               " segments and disconnect the doorbells to migrate)");
    return migrate_add_blocker(&s->migration_blocker, errp) >= 0;
}

void rmc_segment_free(DredboxRmcSegment *seg)
{
    object_unref(seg->owner);
    g_array_free(seg->poisoned, true);
    g_free(seg);
}

static DredboxRmcSegment *rmc_segment(DredboxRmcState *s, uint32_t id,
                                      guint *index)
{
    for (guint i = 0; i < s->segments->len; i++) {
        DredboxRmcSegment *seg = g_ptr_array_index(s->segments, i);

        if (seg->info.id == id) {
            if (index) {
                *index = i;
            }
            return seg;
        }
    }
    return NULL;
}

bool dredbox_rmc_attach_segment(DredboxRmcState *s, uint32_t id,
                                Error **errp)
{
    g_autofree char *name = g_strdup_printf("dredbox-rmc.seg%u", id);
    DredboxRmcSegment *seg;
    uint32_t flags = RAM_SHARED;
    int fd;

    if (rmc_segment(s, id, NULL)) {
        error_setg(errp, "segment %u is already attached", id);
        return false;
    }
    if (!s->pc) {
        error_setg(errp, "this compute brick has no memory pool; start it"
                   " with -machine dredbox-compute,pool=POOL");
        return false;
    }
    seg = g_new0(DredboxRmcSegment, 1);
    /* The pages the memory brick has poisoned are poisoned here too. */
    seg->poisoned = g_array_new(false, false, sizeof(uint64_t));
    seg->info.poisoned = seg->poisoned;
    /* If the pool went away, the session connects again. */
    fd = pool_client_open(s->pc, id, &seg->info, errp);
    seg->info.poisoned = NULL;
    if (fd < 0) {
        g_array_free(seg->poisoned, true);
        g_free(seg);
        return false;
    }
    seg->owner = object_new(TYPE_CONTAINER);
    seg->ram = g_new0(MemoryRegion, 1);
    seg->rmc = s;
    if (seg->info.writable ?
        !memory_region_init_ram_from_fd(seg->ram, seg->owner, name,
                                        seg->info.size, flags, fd, 0, errp) :
        !memory_region_init_rom_device_from_fd(seg->ram, seg->owner,
                                               &rmc_ro_ops, seg, name,
                                               seg->info.size,
                                               flags | RAM_READONLY |
                                               RAM_READONLY_FD, fd, 0,
                                               errp)) {
        close(fd);
        g_free(seg->ram);
        seg->ram = NULL;
        rmc_segment_free(seg);
        return false;
    }
    /* Freed when its owner drops it (rmc_segment_free). */
    OBJECT(seg->ram)->free = g_free;
    g_ptr_array_add(s->segments, seg);
    if (!rmc_update_migration_blocker(s, errp)) {
        g_ptr_array_remove_index(s->segments, s->segments->len - 1);
        rmc_segment_free(seg);
        return false;
    }
    trace_dredbox_rmc_segment(id, seg->info.brick, seg->info.offset,
                              seg->info.size, true);
    rmc_rebuild(s);
    return true;
}

bool dredbox_rmc_detach_segment(DredboxRmcState *s, uint32_t id,
                                Error **errp)
{
    guint i;
    DredboxRmcSegment *seg = rmc_segment(s, id, &i);

    if (!seg) {
        error_setg(errp, "segment %u is not attached", id);
        return false;
    }
    trace_dredbox_rmc_segment(id, seg->info.brick, seg->info.offset,
                              seg->info.size, false);
    g_ptr_array_remove_index(s->segments, i);
    rmc_rebuild(s);
    rmc_segment_free(seg);
    rmc_update_migration_blocker(s, &error_abort);
    return true;
}

/* Where page @offset is in @seg's poisoned list, or where it would go */
static guint rmc_poison_index(const DredboxRmcSegment *seg, uint64_t offset,
                              bool *found)
{
    guint i = 0;

    while (i < seg->poisoned->len &&
           g_array_index(seg->poisoned, uint64_t, i) < offset) {
        i++;
    }
    *found = i < seg->poisoned->len &&
             g_array_index(seg->poisoned, uint64_t, i) == offset;
    return i;
}

bool dredbox_rmc_poison_page(DredboxRmcState *s, uint32_t id,
                             uint64_t offset, bool poison, Error **errp)
{
    DredboxRmcSegment *seg = rmc_segment(s, id, NULL);
    bool found;
    guint i;

    if (!seg) {
        error_setg(errp, "segment %u is not attached", id);
        return false;
    }
    if (offset % RMC_PAGE || offset >= seg->info.size) {
        error_setg(errp, "segment %u has no page at offset 0x%" PRIx64
                   ": a page is 4 KiB, at a multiple of 4096 below 0x%"
                   PRIx64, id, offset, seg->info.size);
        return false;
    }
    i = rmc_poison_index(seg, offset, &found);
    if (found == poison) {
        error_setg(errp, "page 0x%" PRIx64 " of segment %u is %s", offset,
                   id, poison ? "already poisoned" : "not poisoned");
        return false;
    }
    if (poison) {
        g_array_insert_val(seg->poisoned, i, offset);
    } else {
        g_array_remove_index(seg->poisoned, i);
    }
    trace_dredbox_rmc_poison(id, offset, poison);
    rmc_rebuild(s);
    return true;
}
