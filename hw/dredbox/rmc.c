/*
 * dReDBox Remote Memory Controller (RMC).
 *
 * The prototype's memory data path is decoder -> translator -> forwarder:
 * the decoder picks the NetPort entry whose [start, end] holds a local
 * address, the translator adds or subtracts the entry's offset, and the
 * forwarder sends the access over the entry's port to a memory brick.
 * Here a commit turns each live entry into memory-region aliases onto the
 * pool segments of the brick behind its port (so mapped accesses never
 * leave TCG's fast path), over a fault region that refuses the rest of
 * the entry; a background fault region refuses what no entry holds.
 *
 * A port may also lead to an accelerator brick: its doorbell register
 * becomes a DOORBELL message on a UNIX stream socket to the accelerator,
 * and the accelerator's COMPLETION messages become the completion
 * interrupt (include/dredbox/accel-queue.h, docs/rmc.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-events-dredbox.h"
#include "qemu/error-report.h"
#include "qemu/bitops.h"
#include "qemu/cutils.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/rcu.h"
#include "qemu/sockets.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "dredbox/address-map.h"
#include "hw/dredbox/rmc.h"
#include "hw/dredbox/publish.h"
#include "migration/blocker.h"
#include "migration/vmstate.h"
#include "trace.h"

#define RMC_PAGE 4096
#define RMC_RECONNECT_MS 200    /* between attempts to reach an engine */

QEMU_BUILD_BUG_ON(RMC_TABLE_PORTS < RMC_MAX_PORTS);

static uint16_t entry_brick(const DredboxRmcEntryRegs *e)
{
    return e->netinfo & RMC_NETINFO_BRICK_MASK;
}

static bool entry_enabled(const DredboxRmcEntryRegs *e)
{
    return e->ctrl & RMC_CTRL_ENABLE;
}

/* Translator: the memory-brick address of local address @addr. */
static uint64_t entry_translate(const DredboxRmcEntryRegs *e, uint64_t addr)
{
    return e->netinfo & RMC_NETINFO_ADD ? addr + e->offset
                                        : addr - e->offset;
}

static void rmc_update_irq(DredboxRmcState *s)
{
    qemu_set_irq(s->irq, !!(s->irq_status & s->irq_enable));
}

static void rmc_raise(DredboxRmcState *s, uint32_t bits)
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
    if (p->linked_brick != entry_brick(&p->live)) {
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

/* Count an access refused at @off in @site. */
static void rmc_fault(DredboxRmcFaultSite *site, hwaddr off, bool write)
{
    DredboxRmcState *s = site->rmc;

    rmc_fault_record(s, site->port, site->base + off,
                     site->port < 0 ? RMC_FAULT_UNMAPPED :
                     rmc_port_fault_reason(&s->port[site->port]), write);
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

static const MemoryRegionOps rmc_fault_ops = {
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

        if (entry_enabled(e) && entry_brick(e) == seg->info.brick &&
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

static void rmc_port_unmap(DredboxRmcState *s, DredboxRmcPort *p)
{
    if (p->fault.container) {
        memory_region_del_subregion(p->fault.container, &p->fault);
    }
    for (guint i = 0; i < p->regions->len; i++) {
        DredboxRmcRegion *r = g_ptr_array_index(p->regions, i);

        memory_region_del_subregion(r->mr.container, &r->mr);
    }
}

static void rmc_port_free_regions(DredboxRmcPort *p)
{
    for (guint i = 0; i < p->regions->len; i++) {
        rmc_region_free(g_ptr_array_index(p->regions, i));
    }
    g_ptr_array_set_size(p->regions, 0);
}

/* Forwarder: alias the parts of @p's live entry that a segment holds. */
static void rmc_port_map(DredboxRmcState *s, unsigned n)
{
    DredboxRmcPort *p = &s->port[n];
    const DredboxRmcEntryRegs *e = &p->live;
    int w = rmc_window_of(s, e->start, e->end);
    uint64_t lo = entry_translate(e, e->start);
    uint64_t hi = entry_translate(e, e->end);
    DredboxRmcRegion *r;
    g_autofree char *name = NULL;

    if (!entry_enabled(e)) {
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
        uint64_t local;

        if (seg->info.brick != entry_brick(e) || a > b) {
            continue;
        }
        /* Back from brick to local addresses. */
        local = e->start + (a - lo);
        r = g_new0(DredboxRmcRegion, 1);
        g_free(name);
        name = g_strdup_printf("dredbox-rmc.port%u.seg%u", n, seg->info.id);
        memory_region_init_alias(&r->mr, OBJECT(s), name, seg->ram,
                                 a - seg->info.offset, b - a + 1);
        memory_region_add_subregion_overlap(&s->window[w],
                                            local - s->window_base[w],
                                            &r->mr, 2);
        g_ptr_array_add(p->regions, r);
    }
}

/* Publish the live entries for tools watching the brick (rmc-table.h). */
static void rmc_publish(DredboxRmcState *s)
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
            .enabled = entry_enabled(e),
            .brick = entry_brick(e),
            .add = !!(e->netinfo & RMC_NETINFO_ADD),
            .link = s->port[n].link_up &&
                    s->port[n].linked_brick == entry_brick(e),
            .latency = s->port[n].latency,
            .start = e->start, .end = e->end, .offset = e->offset,
        };
    }
    smp_wmb();      /* the entries before the even generation */
    qatomic_set(&t->generation, t->generation + 1);
}

static bool rmc_table_open(DredboxRmcState *s, Error **errp)
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
static void rmc_rebuild(DredboxRmcState *s)
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

static uint32_t rmc_check_entry(DredboxRmcState *s,
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
        if (!entry_enabled(&next[n])) {
            continue;
        }
        *bad = n;
        reason = rmc_check_entry(s, &next[n]);
        for (m = 0; m < s->num_ports && !reason; m++) {
            if (m != n && entry_enabled(&next[m]) &&
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

/*
 * The guest's write of @mask to RMC_COMMIT: the result goes to
 * RMC_COMMIT_STATUS, a refusal raises the interrupt.
 */
static void rmc_guest_commit(DredboxRmcState *s, uint32_t mask)
{
    DredboxRmcEntryRegs next[RMC_MAX_PORTS];
    uint32_t reason;
    unsigned bad;

    for (unsigned n = 0; n < s->num_ports; n++) {
        next[n] = mask & BIT(n) ? s->port[n].pending : s->port[n].live;
    }
    reason = rmc_check_table(s, next, mask, &bad);
    s->commit_status = reason | (reason ? bad << RMC_COMMIT_PORT_SHIFT : 0);
    trace_dredbox_rmc_commit(mask, reason, bad);
    if (reason) {
        rmc_raise(s, RMC_IRQ_COMMIT_ERROR);
        return;
    }
    rmc_make_live(s, next);
}

/*
 * commit=off, the prototype's behaviour: what the guest wrote to @port's
 * entry is live at once.  While software writes the fields one by one,
 * they do not always form a valid entry (an end below the start, say):
 * the entry is then off, as the prototype's decoder would match nothing
 * with it, until they do.  Nothing is reported: there was no commit.
 */
static void rmc_apply_written(DredboxRmcState *s, unsigned port)
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
    trace_dredbox_rmc_immediate(port, entry_enabled(&next[port]));
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
static bool rmc_update_migration_blocker(DredboxRmcState *s, Error **errp)
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

static void rmc_segment_free(DredboxRmcSegment *seg)
{
    object_unref(seg->owner);
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
    /* If the pool went away, the session connects again. */
    fd = pool_client_open(s->pc, id, &seg->info, errp);
    if (fd < 0) {
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
        object_unref(seg->owner);
        g_free(seg);
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

/*
 * Doorbells.  The link to an engine is a UNIX stream socket carrying
 * 16-byte DrqLinkMsg messages; it never blocks the main loop: connects
 * and sends are non-blocking and a doorbell that cannot be sent at once
 * is dropped.  That is safe because doorbells coalesce: an engine
 * rescans its whole queue on each one, so the next doorbell (or the one
 * that was sent before) covers the work of a dropped one.
 */

static void rmc_link_read(void *opaque);

static int rmc_link_connect(const char *path, Error **errp)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd, ret;

    if (!*path) {
        error_setg(errp, "the accelerator's socket path is empty");
        return -1;
    }
    if (strlen(path) >= sizeof(un.sun_path)) {
        error_setg(errp, "the accelerator's socket path '%s' is too long",
                   path);
        return -1;
    }
    pstrcpy(un.sun_path, sizeof(un.sun_path), path);
    fd = qemu_socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot create a socket");
        return -1;
    }
    /* An accelerator that does not accept must not stall QEMU. */
    qemu_socket_set_nonblock(fd);
    do {
        ret = connect(fd, (struct sockaddr *)&un, sizeof(un));
    } while (ret < 0 && errno == EINTR);
    if (ret < 0) {
        error_setg_errno(errp, errno, "cannot connect to the accelerator at"
                         " '%s'", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* Send one message without waiting: the bytes sent or -errno. */
static ssize_t rmc_link_send(int fd, uint32_t type, uint32_t value)
{
    DrqLinkMsg msg = {
        .type = cpu_to_le32(type),
        .value = cpu_to_le32(value),
    };
    ssize_t n;

    do {
        n = send(fd, &msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* Connect and say HELLO; the engine is ready once it answers READY 0. */
static bool rmc_doorbell_open(DredboxRmcDoorbell *db, Error **errp)
{
    int fd = rmc_link_connect(db->path, errp);
    ssize_t n;

    if (fd < 0) {
        return false;
    }
    n = rmc_link_send(fd, DRQ_LINK_HELLO, db->segment);
    if (n != sizeof(DrqLinkMsg)) {
        error_setg_errno(errp, n < 0 ? -n : EPROTO, "cannot say HELLO to"
                         " the accelerator at '%s'", db->path);
        close(fd);
        return false;
    }
    trace_dredbox_rmc_doorbell_connect(db->port, db->path, db->segment);
    db->fd = fd;
    db->rx_len = 0;
    qemu_set_fd_handler(fd, rmc_link_read, NULL, db);
    return true;
}

/* Close the link; if the engine was ready, tell the guest it is gone. */
static void rmc_doorbell_close(DredboxRmcDoorbell *db)
{
    if (db->fd >= 0) {
        qemu_set_fd_handler(db->fd, NULL, NULL, NULL);
        close(db->fd);
        db->fd = -1;
    }
    db->rx_len = 0;
    if (db->ready) {
        db->ready = false;
        rmc_raise(db->rmc, RMC_IRQ_ENGINE);
        qapi_event_send_dredbox_rmc_engine_change(db->port, false);
    }
}

static void rmc_doorbell_retry_later(DredboxRmcDoorbell *db)
{
    timer_mod(db->reconnect,
              qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + RMC_RECONNECT_MS);
}

/* The link broke: close it and keep trying to get the engine back. */
static void rmc_doorbell_lost(DredboxRmcDoorbell *db, const char *why)
{
    trace_dredbox_rmc_doorbell_lost(db->port, why);
    rmc_doorbell_close(db);
    rmc_doorbell_retry_later(db);
}

static void rmc_doorbell_retry(void *opaque)
{
    DredboxRmcDoorbell *db = opaque;
    Error *err = NULL;

    if (!rmc_doorbell_open(db, &err)) {
        trace_dredbox_rmc_doorbell_retry(db->port, error_get_pretty(err));
        error_free(err);
        rmc_doorbell_retry_later(db);
    }
}

static void rmc_doorbell_message(DredboxRmcDoorbell *db,
                                 const DrqLinkMsg *msg)
{
    DredboxRmcState *s = db->rmc;
    uint32_t type = le32_to_cpu(msg->type);
    uint32_t value = le32_to_cpu(msg->value);
    uint64_t arg = le64_to_cpu(msg->arg);
    const char *why = NULL;

    /* Known messages with bad fields are ignored, like unknown ones. */
    if (arg && (type == DRQ_LINK_READY || type == DRQ_LINK_COMPLETION)) {
        why = "arg is not 0";
    } else if (type == DRQ_LINK_COMPLETION && !db->ready) {
        why = "completion before READY";
    } else if (type == DRQ_LINK_COMPLETION && value >= DRQ_SLOTS) {
        why = "no such slot";
    }
    if (why) {
        trace_dredbox_rmc_doorbell_malformed(db->port, type, value, arg, why);
        return;
    }
    switch (type) {
    case DRQ_LINK_READY:
        trace_dredbox_rmc_doorbell_ready(db->port, value);
        if (value != DRQ_LINK_OK) {
            rmc_doorbell_lost(db, "the accelerator refused the queue");
        } else if (!db->ready) {
            db->ready = true;
            rmc_raise(s, RMC_IRQ_ENGINE);
            qapi_event_send_dredbox_rmc_engine_change(db->port, true);
        }
        break;
    case DRQ_LINK_COMPLETION:
        trace_dredbox_rmc_doorbell_completion(db->port, value);
        db->completions++;
        s->completion |= BIT(db->port);
        rmc_raise(s, RMC_IRQ_COMPLETION);
        break;
    default:
        trace_dredbox_rmc_doorbell_unknown(db->port, type, value);
        break;
    }
}

static void rmc_link_read(void *opaque)
{
    DredboxRmcDoorbell *db = opaque;
    int msgs = 0;

    /* A bounded batch, so that a chatty engine cannot starve the rest. */
    while (db->fd >= 0 && msgs < 64) {
        ssize_t n = recv(db->fd, db->rx + db->rx_len,
                         sizeof(db->rx) - db->rx_len, MSG_DONTWAIT);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n <= 0) {
            rmc_doorbell_lost(db, n ? strerror(errno) : "end of file");
            return;
        }
        db->rx_len += n;
        if (db->rx_len == sizeof(db->rx)) {
            DrqLinkMsg msg;

            memcpy(&msg, db->rx, sizeof(msg));
            db->rx_len = 0;
            rmc_doorbell_message(db, &msg);
            msgs++;
        }
    }
}

/* A write to the doorbell register. */
static void rmc_ring(DredboxRmcDoorbell *db, uint32_t value)
{
    ssize_t n;

    if (!db->ready) {
        trace_dredbox_rmc_doorbell_dropped(db->port, value, "no engine");
        return;
    }
    n = rmc_link_send(db->fd, DRQ_LINK_DOORBELL, value);
    if (n == sizeof(DrqLinkMsg)) {
        trace_dredbox_rmc_doorbell(db->port, value);
        db->doorbells++;
    } else if (n == -EAGAIN || n == -EWOULDBLOCK) {
        trace_dredbox_rmc_doorbell_dropped(db->port, value, "link busy");
    } else {
        /* An error, or part of a message: the stream is unusable. */
        trace_dredbox_rmc_doorbell_dropped(db->port, value, "link broken");
        rmc_doorbell_lost(db, n < 0 ? strerror(-n) : "short write");
    }
}

/* Close the link, stop reconnecting and forget the accelerator. */
static void rmc_doorbell_unbind(DredboxRmcDoorbell *db)
{
    rmc_doorbell_close(db);
    timer_free(db->reconnect);
    db->reconnect = NULL;
    g_clear_pointer(&db->path, g_free);
}

bool dredbox_rmc_connect_doorbell(DredboxRmcState *s, unsigned port,
                                  const char *path, uint32_t segment,
                                  Error **errp)
{
    DredboxRmcDoorbell *db = &s->port[port].db;

    if (db->path) {
        error_setg(errp, "port %u already has a doorbell; disconnect it"
                   " first", port);
        return false;
    }
    db->path = g_strdup(path);
    db->segment = segment;
    db->reconnect = timer_new_ms(QEMU_CLOCK_REALTIME, rmc_doorbell_retry,
                                 db);
    if (!rmc_doorbell_open(db, errp)) {
        error_prepend(errp, "port %u: ", port);
        rmc_doorbell_unbind(db);
        return false;
    }
    if (!rmc_update_migration_blocker(s, errp)) {
        rmc_doorbell_unbind(db);
        return false;
    }
    /* The counters are the binding's; a reset leaves them. */
    db->doorbells = 0;
    db->completions = 0;
    return true;
}

bool dredbox_rmc_disconnect_doorbell(DredboxRmcState *s, unsigned port,
                                     Error **errp)
{
    DredboxRmcDoorbell *db = &s->port[port].db;

    if (!db->path) {
        error_setg(errp, "port %u has no doorbell", port);
        return false;
    }
    trace_dredbox_rmc_doorbell_unbind(port);
    rmc_doorbell_unbind(db);
    rmc_update_migration_blocker(s, &error_abort);
    return true;
}

/* Registers */

/* The word of a 64-bit register at @addr: low word first. */
static uint32_t reg64_half(uint64_t v, hwaddr addr)
{
    return extract64(v, addr & 4 ? 32 : 0, 32);
}

static void reg64_set_half(uint64_t *v, hwaddr addr, uint32_t val)
{
    *v = deposit64(*v, addr & 4 ? 32 : 0, 32, val);
}

static uint32_t rmc_port_status(DredboxRmcPort *p)
{
    return (entry_enabled(&p->live) ? RMC_STATUS_LIVE : 0) |
           (p->link_up ? RMC_STATUS_LINK : 0) |
           (p->fault_latched ? RMC_STATUS_FAULT : 0) |
           (memcmp(&p->pending, &p->live, sizeof(p->live))
            ? RMC_STATUS_PENDING : 0) |
           (p->db.ready ? RMC_STATUS_ENGINE : 0);
}

static uint32_t rmc_link_bits(DredboxRmcState *s)
{
    uint32_t bits = 0;

    for (unsigned n = 0; n < s->num_ports; n++) {
        bits |= s->port[n].link_up ? BIT(n) : 0;
    }
    return bits;
}

static uint32_t rmc_cap(DredboxRmcState *s)
{
    return s->num_ports | RMC_NP_STRIDE << RMC_CAP_NP_STRIDE_SHIFT |
           RMC_WIDE_STRIDE << RMC_CAP_WIDE_STRIDE_SHIFT | RMC_CAP_IRQ |
           RMC_CAP_DOORBELL | (s->commit ? 0 : RMC_CAP_IMMEDIATE);
}

static bool rmc_read_control(DredboxRmcState *s, hwaddr addr, uint32_t *v)
{
    switch (addr & ~7ULL) {
    case RMC_LOW_WINDOW_BASE:
        *v = reg64_half(s->window_base[0], addr);
        return true;
    case RMC_LOW_WINDOW_SIZE:
        *v = reg64_half(s->window_size[0], addr);
        return true;
    case RMC_HIGH_WINDOW_BASE:
        *v = reg64_half(s->window_base[1], addr);
        return true;
    case RMC_HIGH_WINDOW_SIZE:
        *v = reg64_half(s->window_size[1], addr);
        return true;
    case RMC_UNMAPPED_ADDR:
        *v = reg64_half(s->unmapped_addr, addr);
        return true;
    }
    switch (addr) {
    case RMC_ID:
        *v = RMC_ID_VALUE;
        return true;
    case RMC_VERSION:
        *v = RMC_VERSION_VALUE;
        return true;
    case RMC_CAP:
        *v = rmc_cap(s);
        return true;
    case RMC_COMMIT:
        *v = s->commits;
        return true;
    case RMC_COMMIT_STATUS:
        *v = s->commit_status;
        return true;
    case RMC_LINK:
        *v = rmc_link_bits(s);
        return true;
    case RMC_IRQ_STATUS:
        *v = s->irq_status;
        return true;
    case RMC_IRQ_ENABLE:
        *v = s->irq_enable;
        return true;
    case RMC_UNMAPPED_FAULTS:
        *v = MIN(s->unmapped_faults, UINT32_MAX);
        return true;
    case RMC_COMPLETION:
        *v = s->completion;
        return true;
    }
    return false;
}

static bool rmc_read_wide(DredboxRmcPort *p, hwaddr off, uint32_t *v)
{
    switch (off & ~7ULL) {
    case RMC_WIDE_START:
        *v = reg64_half(p->pending.start, off);
        return true;
    case RMC_WIDE_END:
        *v = reg64_half(p->pending.end, off);
        return true;
    case RMC_WIDE_OFFSET:
        *v = reg64_half(p->pending.offset, off);
        return true;
    case RMC_WIDE_FAULT_ADDR:
        *v = reg64_half(p->fault_addr, off);
        return true;
    }
    switch (off) {
    case RMC_WIDE_NETINFO:
        *v = p->pending.netinfo;
        return true;
    case RMC_WIDE_CTRL:
        *v = p->pending.ctrl;
        return true;
    case RMC_WIDE_STATUS:
        *v = rmc_port_status(p);
        return true;
    case RMC_WIDE_FAULTS:
        *v = MIN(p->faults, UINT32_MAX);
        return true;
    case RMC_WIDE_FAULT_REASON:
        *v = p->fault_reason;
        return true;
    case RMC_WIDE_FAULT_CLEAR:
        *v = 0;
        return true;
    case RMC_WIDE_DOORBELL:
        *v = MIN(p->db.doorbells, UINT32_MAX);
        return true;
    case RMC_WIDE_COMPLETIONS:
        *v = MIN(p->db.completions, UINT32_MAX);
        return true;
    }
    return false;
}

static bool rmc_read_prototype(DredboxRmcPort *p, hwaddr off, uint32_t *v)
{
    switch (off) {
    case RMC_NP_NETINFO:
        *v = p->pending.netinfo;
        break;
    case RMC_NP_START:
        *v = p->pending.start;
        break;
    case RMC_NP_END:
        *v = p->pending.end;
        break;
    default:
        *v = p->pending.offset;
        break;
    }
    return true;
}

static uint64_t rmc_config_read(void *opaque, hwaddr addr, unsigned size)
{
    DredboxRmcState *s = opaque;
    uint32_t v = 0;
    bool ok = false;

    if (addr < RMC_NP_BASE + s->num_ports * RMC_NP_STRIDE) {
        ok = rmc_read_prototype(&s->port[addr / RMC_NP_STRIDE],
                                addr % RMC_NP_STRIDE, &v);
    } else if (addr >= RMC_ID && addr < RMC_WIDE_BASE) {
        ok = rmc_read_control(s, addr, &v);
    } else if (addr >= RMC_WIDE_BASE &&
               addr < RMC_WIDE_BASE + s->num_ports * RMC_WIDE_STRIDE) {
        hwaddr off = addr - RMC_WIDE_BASE;

        ok = rmc_read_wide(&s->port[off / RMC_WIDE_STRIDE],
                           off % RMC_WIDE_STRIDE, &v);
    }
    if (!ok) {
        qemu_log_mask(LOG_GUEST_ERROR, "dredbox-rmc: read of reserved"
                      " offset 0x%" HWADDR_PRIx "\n", addr);
    }
    trace_dredbox_rmc_read(addr, v);
    return v;
}

static void rmc_write_prototype(DredboxRmcPort *p, hwaddr off, uint32_t v)
{
    /* The prototype table has no enable bit: writing an entry enables it. */
    p->pending.ctrl |= RMC_CTRL_ENABLE;
    switch (off) {
    case RMC_NP_NETINFO:
        p->pending.netinfo = v & RMC_NETINFO_MASK;
        break;
    case RMC_NP_START:
        p->pending.start = v;
        break;
    case RMC_NP_END:
        p->pending.end = v;
        break;
    default:
        p->pending.offset = v;
        break;
    }
}

static bool rmc_write_wide(DredboxRmcState *s, DredboxRmcPort *p, hwaddr off,
                           uint32_t v)
{
    switch (off & ~7ULL) {
    case RMC_WIDE_START:
        reg64_set_half(&p->pending.start, off, v);
        return true;
    case RMC_WIDE_END:
        reg64_set_half(&p->pending.end, off, v);
        return true;
    case RMC_WIDE_OFFSET:
        reg64_set_half(&p->pending.offset, off, v);
        return true;
    }
    switch (off) {
    case RMC_WIDE_NETINFO:
        p->pending.netinfo = v & RMC_NETINFO_MASK;
        return true;
    case RMC_WIDE_CTRL:
        p->pending.ctrl = v & RMC_CTRL_MASK;
        return true;
    case RMC_WIDE_FAULT_CLEAR:
        p->fault_latched = false;
        return true;
    case RMC_WIDE_DOORBELL:
        rmc_ring(&p->db, v);
        return true;
    }
    /* status, fault and completion registers are read-only */
    return false;
}

static bool rmc_write_control(DredboxRmcState *s, hwaddr addr, uint32_t v)
{
    switch (addr) {
    case RMC_COMMIT:
        /* Refusals are reported in RMC_COMMIT_STATUS and the interrupt. */
        rmc_guest_commit(s, v & MAKE_64BIT_MASK(0, s->num_ports));
        return true;
    case RMC_IRQ_STATUS:
        s->irq_status &= ~v;
        rmc_update_irq(s);
        return true;
    case RMC_IRQ_ENABLE:
        s->irq_enable = v & RMC_IRQ_MASK;
        rmc_update_irq(s);
        return true;
    case RMC_UNMAPPED_FAULTS:
        s->unmapped_latched = false;
        return true;
    case RMC_COMPLETION:
        s->completion &= ~v;
        return true;
    }
    return false;
}

static void rmc_config_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    DredboxRmcState *s = opaque;
    bool ok = false;

    trace_dredbox_rmc_write(addr, val);
    if (addr < RMC_NP_BASE + s->num_ports * RMC_NP_STRIDE) {
        rmc_write_prototype(&s->port[addr / RMC_NP_STRIDE],
                            addr % RMC_NP_STRIDE, val);
        ok = true;
        if (!s->commit) {
            rmc_apply_written(s, addr / RMC_NP_STRIDE);
        }
    } else if (addr >= RMC_ID && addr < RMC_WIDE_BASE) {
        ok = rmc_write_control(s, addr, val);
    } else if (addr >= RMC_WIDE_BASE &&
               addr < RMC_WIDE_BASE + s->num_ports * RMC_WIDE_STRIDE) {
        hwaddr off = addr - RMC_WIDE_BASE;

        ok = rmc_write_wide(s, &s->port[off / RMC_WIDE_STRIDE],
                            off % RMC_WIDE_STRIDE, val);
        /* The entry's fields, NETINFO to OFFSET */
        if (ok && !s->commit && off % RMC_WIDE_STRIDE < RMC_WIDE_STATUS) {
            rmc_apply_written(s, off / RMC_WIDE_STRIDE);
        }
    }
    if (!ok) {
        qemu_log_mask(LOG_GUEST_ERROR, "dredbox-rmc: write of 0x%" PRIx64
                      " to read-only or reserved offset 0x%" HWADDR_PRIx "\n",
                      val, addr);
    }
}

static const MemoryRegionOps rmc_config_ops = {
    .read = rmc_config_read,
    .write = rmc_config_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void rmc_reset_hold(Object *obj, ResetType type)
{
    DredboxRmcState *s = DREDBOX_RMC(obj);

    /*
     * Links, attached segments and doorbells (their connection and
     * counters) are the rack's, not the device's.
     */
    for (unsigned n = 0; n < s->num_ports; n++) {
        DredboxRmcPort *p = &s->port[n];

        memset(&p->pending, 0, sizeof(p->pending));
        memset(&p->live, 0, sizeof(p->live));
        p->faults = 0;
        p->fault_addr = 0;
        p->fault_reason = RMC_FAULT_NONE;
        p->fault_latched = false;
    }
    s->commits = 0;
    s->commit_status = RMC_COMMIT_OK;
    s->irq_status = 0;
    s->irq_enable = 0;
    s->unmapped_faults = 0;
    s->unmapped_addr = 0;
    s->unmapped_latched = false;
    s->completion = 0;
    rmc_rebuild(s);
    rmc_update_irq(s);
}

static void rmc_realize(DeviceState *dev, Error **errp)
{
    DredboxRmcState *s = DREDBOX_RMC(dev);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);

    if (!s->num_ports || s->num_ports > RMC_MAX_PORTS) {
        error_setg(errp, "num-ports must be 1 to %d", RMC_MAX_PORTS);
        return;
    }
    /* Until the fabric says otherwise (dredbox-rmc-connect) */
    for (unsigned n = 0; n < RMC_MAX_PORTS; n++) {
        s->port[n].latency = DREDBOX_LATENCY_CLASS_RACK_LOCAL;
    }
    memory_region_init_io(&s->config, OBJECT(s), &rmc_config_ops, s,
                          "dredbox-rmc.config", RMC_CONFIG_SIZE);
    sysbus_init_mmio(sbd, &s->config);
    for (int w = 0; w < DREDBOX_RMC_WINDOWS; w++) {
        g_autofree char *name = g_strdup_printf("dredbox-rmc.window%d", w);

        if (!s->window_size[w] || s->window_size[w] % RMC_PAGE ||
            s->window_base[w] % RMC_PAGE) {
            error_setg(errp, "window %d must be a non-empty multiple of"
                       " 4 KiB", w);
            return;
        }
        memory_region_init(&s->window[w], OBJECT(s), name,
                           s->window_size[w]);
        s->unmapped_site[w] = (DredboxRmcFaultSite) { s, -1,
                                                      s->window_base[w] };
        g_free(name);
        name = g_strdup_printf("dredbox-rmc.unmapped%d", w);
        memory_region_init_io(&s->unmapped[w], OBJECT(s), &rmc_fault_ops,
                              &s->unmapped_site[w], name, s->window_size[w]);
        memory_region_add_subregion_overlap(&s->window[w], 0,
                                            &s->unmapped[w], 0);
        sysbus_init_mmio(sbd, &s->window[w]);
    }
    for (unsigned n = 0; n < RMC_MAX_PORTS; n++) {
        g_autofree char *name = g_strdup_printf("dredbox-rmc.port%u", n);

        /*
         * The flat views refer to I/O regions until an RCU grace period
         * after they change, so the fault region is the port's for good:
         * a commit resizes and moves it.  Aliases come and go.
         */
        memory_region_init_io(&s->port[n].fault, OBJECT(s), &rmc_fault_ops,
                              &s->port[n].site, name, RMC_PAGE);
        s->port[n].regions = g_ptr_array_new();
        s->port[n].db = (DredboxRmcDoorbell) { .rmc = s, .port = n,
                                               .fd = -1 };
    }
    s->segments = g_ptr_array_new();
    sysbus_init_irq(sbd, &s->irq);
    if (s->table_path && !rmc_table_open(s, errp)) {
        return;
    }

    /*
     * Without a fabric to set up circuits, port n is cabled to the pool's
     * n-th memory brick; connect/disconnect over QMP change that.
     */
    if (s->pool) {
        const GArray *bricks;

        s->pc = dredbox_pool_get(s->pool, s->client, &s->pool_holder, errp);
        if (!s->pc) {
            error_prepend(errp, "dredbox-rmc: ");
            return;
        }
        bricks = pool_client_bricks(s->pc);
        for (unsigned n = 0; !s->fabric && n < MIN(bricks->len, s->num_ports);
             n++) {
            s->port[n].link_up = true;
            s->port[n].linked_brick = g_array_index(bricks, uint32_t, n);
        }
    }
    rmc_publish(s);
}

static void rmc_unrealize(DeviceState *dev)
{
    DredboxRmcState *s = DREDBOX_RMC(dev);

    if (s->table) {
        munmap(s->table, sizeof(RmcTable));
    }
    memory_region_transaction_begin();
    for (unsigned n = 0; n < s->num_ports; n++) {
        rmc_port_unmap(s, &s->port[n]);
    }
    memory_region_transaction_commit();
    for (unsigned n = 0; n < RMC_MAX_PORTS; n++) {
        rmc_port_free_regions(&s->port[n]);
        g_ptr_array_free(s->port[n].regions, true);
        /* Going away quietly: no interrupt, no event. */
        s->port[n].db.ready = false;
        rmc_doorbell_unbind(&s->port[n].db);
    }
    g_ptr_array_foreach(s->segments, (GFunc)rmc_segment_free, NULL);
    g_ptr_array_free(s->segments, true);
    migrate_del_blocker(&s->migration_blocker);
    if (s->pc) {
        dredbox_pool_put(s->pc, s->pool_holder);
    }
}

static int rmc_post_load(void *opaque, int version_id)
{
    DredboxRmcState *s = opaque;

    /* A live table a commit would have refused is a corrupt stream. */
    for (unsigned n = 0; n < s->num_ports; n++) {
        if (entry_enabled(&s->port[n].live) &&
            rmc_check_entry(s, &s->port[n].live)) {
            return -EINVAL;
        }
    }
    rmc_rebuild(s);
    rmc_update_irq(s);
    return 0;
}

static const VMStateDescription vmstate_rmc_entry = {
    .name = "dredbox-rmc/entry",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(netinfo, DredboxRmcEntryRegs),
        VMSTATE_UINT32(ctrl, DredboxRmcEntryRegs),
        VMSTATE_UINT64(start, DredboxRmcEntryRegs),
        VMSTATE_UINT64(end, DredboxRmcEntryRegs),
        VMSTATE_UINT64(offset, DredboxRmcEntryRegs),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_rmc_port = {
    .name = "dredbox-rmc/port",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(pending, DredboxRmcPort, 1, vmstate_rmc_entry,
                       DredboxRmcEntryRegs),
        VMSTATE_STRUCT(live, DredboxRmcPort, 1, vmstate_rmc_entry,
                       DredboxRmcEntryRegs),
        VMSTATE_BOOL(link_up, DredboxRmcPort),
        VMSTATE_UINT16(linked_brick, DredboxRmcPort),
        VMSTATE_UINT64(faults, DredboxRmcPort),
        VMSTATE_UINT64(fault_addr, DredboxRmcPort),
        VMSTATE_UINT32(fault_reason, DredboxRmcPort),
        VMSTATE_BOOL(fault_latched, DredboxRmcPort),
        VMSTATE_END_OF_LIST()
    }
};

static bool rmc_completion_needed(void *opaque)
{
    DredboxRmcState *s = opaque;

    return s->completion != 0;
}

static bool rmc_latency_needed(void *opaque)
{
    DredboxRmcState *s = opaque;

    for (unsigned n = 0; n < s->num_ports; n++) {
        if (s->port[n].latency != DREDBOX_LATENCY_CLASS_RACK_LOCAL) {
            return true;
        }
    }
    return false;
}

static const VMStateDescription vmstate_rmc_port_latency = {
    .name = "dredbox-rmc/port/latency",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(latency, DredboxRmcPort),
        VMSTATE_END_OF_LIST()
    }
};

/* The ports' circuit classes, sent only when one is not the default. */
static const VMStateDescription vmstate_rmc_latency = {
    .name = "dredbox-rmc/latency",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = rmc_latency_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(port, DredboxRmcState, RMC_MAX_PORTS, 1,
                             vmstate_rmc_port_latency, DredboxRmcPort),
        VMSTATE_END_OF_LIST()
    }
};

/* Version 1.1's state, sent only when not at its reset value. */
static const VMStateDescription vmstate_rmc_completion = {
    .name = "dredbox-rmc/completion",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = rmc_completion_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(completion, DredboxRmcState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_rmc = {
    .name = TYPE_DREDBOX_RMC,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = rmc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(port, DredboxRmcState, RMC_MAX_PORTS, 1,
                             vmstate_rmc_port, DredboxRmcPort),
        VMSTATE_UINT32(commits, DredboxRmcState),
        VMSTATE_UINT32(commit_status, DredboxRmcState),
        VMSTATE_UINT32(irq_status, DredboxRmcState),
        VMSTATE_UINT32(irq_enable, DredboxRmcState),
        VMSTATE_UINT64(unmapped_faults, DredboxRmcState),
        VMSTATE_UINT64(unmapped_addr, DredboxRmcState),
        VMSTATE_BOOL(unmapped_latched, DredboxRmcState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_rmc_completion,
        &vmstate_rmc_latency,
        NULL
    }
};

static const Property rmc_properties[] = {
    DEFINE_PROP_UINT32("num-ports", DredboxRmcState, num_ports,
                       DREDBOX_RMC_DEFAULT_PORTS),
    /* The compute brick's (dredbox/address-map.h), which it sets anyway */
    DEFINE_PROP_UINT64("low-window-base", DredboxRmcState, window_base[0],
                       DREDBOX_RMC_LOW_WINDOW_BASE),
    DEFINE_PROP_UINT64("low-window-size", DredboxRmcState, window_size[0],
                       DREDBOX_RMC_LOW_WINDOW_SIZE),
    DEFINE_PROP_UINT64("high-window-base", DredboxRmcState, window_base[1],
                       DREDBOX_RMC_HIGH_WINDOW_BASE),
    DEFINE_PROP_UINT64("high-window-size", DredboxRmcState, window_size[1],
                       DREDBOX_RMC_HIGH_WINDOW_SIZE),
    DEFINE_PROP_STRING("pool", DredboxRmcState, pool),
    DEFINE_PROP_STRING("client", DredboxRmcState, client),
    DEFINE_PROP_BOOL("fabric", DredboxRmcState, fabric, false),
    DEFINE_PROP_BOOL("commit", DredboxRmcState, commit, true),
    DEFINE_PROP_STRING("table", DredboxRmcState, table_path),
};

static void rmc_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    ResettableClass *rc = RESETTABLE_CLASS(oc);

    dc->desc = "dReDBox Remote Memory Controller";
    dc->realize = rmc_realize;
    dc->unrealize = rmc_unrealize;
    dc->vmsd = &vmstate_rmc;
    /* Part of the compute brick board, wired by it. */
    dc->user_creatable = false;
    rc->phases.hold = rmc_reset_hold;
    device_class_set_props(dc, rmc_properties);
}

static const TypeInfo rmc_info = {
    .name = TYPE_DREDBOX_RMC,
    .parent = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(DredboxRmcState),
    .class_init = rmc_class_init,
};

static void rmc_register_types(void)
{
    type_register_static(&rmc_info);
}

type_init(rmc_register_types)
