/*
 * The dReDBox RMC's configuration registers (rmc.c,
 * include/dredbox/rmc-regs.h, docs/rmc.md): the prototype and wide
 * NetPort tables and the control block, as the guest reads and writes
 * them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "rmc-internal.h"
#include "trace.h"

static uint32_t reg64_half(uint64_t v, hwaddr addr)
{
    return extract64(v, addr & 4 ? 32 : 0, 32);
}

static void reg64_set_half(uint64_t *v, hwaddr addr, uint32_t val)
{
    *v = deposit64(*v, addr & 4 ? 32 : 0, 32, val);
}

static uint32_t rmc_port_status(DredboxRmcState *s, unsigned n)
{
    DredboxRmcPort *p = &s->port[n];

    return (rmc_entry_enabled(&p->live) ? RMC_STATUS_LIVE : 0) |
           (p->link_up ? RMC_STATUS_LINK : 0) |
           (p->fault_latched ? RMC_STATUS_FAULT : 0) |
           (memcmp(&p->pending, &p->live, sizeof(p->live))
            ? RMC_STATUS_PENDING : 0) |
           (p->db.ready ? RMC_STATUS_ENGINE : 0) |
           (s->committing & BIT(n) ? RMC_STATUS_COMMITTING : 0) |
           p->commit_result << RMC_STATUS_RESULT_SHIFT;
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

static bool rmc_read_wide(DredboxRmcState *s, unsigned n, hwaddr off,
                          uint32_t *v)
{
    DredboxRmcPort *p = &s->port[n];

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
        *v = rmc_port_status(s, n);
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

        ok = rmc_read_wide(s, off / RMC_WIDE_STRIDE, off % RMC_WIDE_STRIDE,
                           &v);
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
        /* Refusals are reported in the status registers and the IRQ. */
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

const MemoryRegionOps rmc_config_ops = {
    .read = rmc_config_read,
    .write = rmc_config_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

