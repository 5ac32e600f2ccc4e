/*
 * QMP commands of the dReDBox Remote Memory Controller (qapi/dredbox.json).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-dredbox.h"
#include "hw/dredbox/rmc.h"

DredboxRmcState *dredbox_rmc_find(const char *path, Error **errp)
{
    bool ambiguous = false;
    Object *obj;

    if (path) {
        obj = object_resolve_path_type(path, TYPE_DREDBOX_RMC, NULL);
        if (!obj) {
            error_setg(errp, "'%s' is not a dReDBox Remote Memory"
                       " Controller", path);
        }
        return obj ? DREDBOX_RMC(obj) : NULL;
    }
    obj = object_resolve_path_type("", TYPE_DREDBOX_RMC, &ambiguous);
    if (ambiguous) {
        error_setg(errp, "this machine has several Remote Memory"
                   " Controllers: say which with 'rmc'");
        return NULL;
    }
    if (!obj) {
        error_setg(errp, "this machine has no dReDBox Remote Memory"
                   " Controller (use -machine dredbox-compute)");
        return NULL;
    }
    return DREDBOX_RMC(obj);
}

/* The RMC @path names if it has port @port, else NULL with @errp set. */
static DredboxRmcState *rmc_find_port(const char *path, uint8_t port,
                                      Error **errp)
{
    DredboxRmcState *s = dredbox_rmc_find(path, errp);

    if (s && port >= s->num_ports) {
        error_setg(errp, "port %u does not exist: this RMC has ports 0 to"
                   " %u", port, s->num_ports - 1);
        return NULL;
    }
    return s;
}

static DredboxRmcEntry *entry_info(const DredboxRmcEntryRegs *e)
{
    DredboxRmcEntry *info = g_new0(DredboxRmcEntry, 1);

    info->enabled = e->ctrl & RMC_CTRL_ENABLE;
    info->add = e->netinfo & RMC_NETINFO_ADD;
    info->brick = e->netinfo & RMC_NETINFO_BRICK_MASK;
    info->start = e->start;
    info->end = e->end;
    info->offset = e->offset;
    return info;
}

DredboxRmcInfo *qmp_query_dredbox_rmc(const char *rmc, Error **errp)
{
    DredboxRmcState *s = dredbox_rmc_find(rmc, errp);
    DredboxRmcInfo *info;

    if (!s) {
        return NULL;
    }
    info = g_new0(DredboxRmcInfo, 1);
    for (int n = s->num_ports - 1; n >= 0; n--) {
        DredboxRmcPort *p = &s->port[n];
        DredboxRmcPortInfo *pi = g_new0(DredboxRmcPortInfo, 1);

        pi->port = n;
        pi->link_up = p->link_up;
        pi->has_linked_brick = p->link_up;
        pi->linked_brick = p->linked_brick;
        pi->live = entry_info(&p->live);
        pi->pending = entry_info(&p->pending);
        pi->faults = p->faults;
        pi->fault_latched = p->fault_latched;
        pi->has_last_fault_address = pi->has_last_fault_reason =
            p->fault_reason != RMC_FAULT_NONE;
        pi->last_fault_address = p->fault_addr;
        pi->last_fault_reason = p->fault_reason ? p->fault_reason - 1 : 0;
        if (p->db.path) {
            pi->doorbell = g_new0(DredboxRmcDoorbellInfo, 1);
            pi->doorbell->path = g_strdup(p->db.path);
            pi->doorbell->segment = p->db.segment;
            pi->doorbell->connected = p->db.ready;
            pi->doorbell->doorbells = p->db.doorbells;
            pi->doorbell->completions = p->db.completions;
        }
        QAPI_LIST_PREPEND(info->ports, pi);
    }
    for (int i = s->segments->len - 1; i >= 0; i--) {
        DredboxRmcSegment *seg = g_ptr_array_index(s->segments, i);
        DredboxRmcSegmentInfo *si = g_new0(DredboxRmcSegmentInfo, 1);

        si->segment = seg->info.id;
        si->brick = seg->info.brick;
        si->offset = seg->info.offset;
        si->size = seg->info.size;
        si->writable = seg->info.writable;
        for (int j = seg->poisoned->len - 1; j >= 0; j--) {
            QAPI_LIST_PREPEND(si->poisoned,
                              g_array_index(seg->poisoned, uint64_t, j));
        }
        QAPI_LIST_PREPEND(info->segments, si);
    }
    for (int w = DREDBOX_RMC_WINDOWS - 1; w >= 0; w--) {
        DredboxRmcWindow *win = g_new0(DredboxRmcWindow, 1);

        win->base = s->window_base[w];
        win->size = s->window_size[w];
        QAPI_LIST_PREPEND(info->windows, win);
    }
    info->commits = s->commits;
    info->unmapped_faults = s->unmapped_faults;
    return info;
}

void qmp_dredbox_rmc_set_entry(uint8_t port, uint16_t brick, uint64_t start,
                               uint64_t end, uint64_t offset, bool add,
                               const char *rmc, Error **errp)
{
    DredboxRmcState *s = rmc_find_port(rmc, port, errp);
    DredboxRmcEntryRegs e = {
        .netinfo = brick | (add ? RMC_NETINFO_ADD : 0),
        .ctrl = RMC_CTRL_ENABLE,
        .start = start, .end = end, .offset = offset,
    };

    if (s) {
        dredbox_rmc_set_entry(s, port, &e, errp);
    }
}

void qmp_dredbox_rmc_clear_entry(uint8_t port, const char *rmc, Error **errp)
{
    DredboxRmcState *s = rmc_find_port(rmc, port, errp);
    DredboxRmcEntryRegs e;

    if (s) {
        e = s->port[port].pending;
        e.ctrl &= ~RMC_CTRL_ENABLE;
        dredbox_rmc_set_entry(s, port, &e, errp);
    }
}

void qmp_dredbox_rmc_connect(uint8_t port, uint16_t brick,
                             bool has_latency_class,
                             DredboxLatencyClass latency_class,
                             const char *rmc, Error **errp)
{
    DredboxRmcState *s = rmc_find_port(rmc, port, errp);

    if (s) {
        dredbox_rmc_set_link(s, port, true, brick,
                             has_latency_class ? latency_class :
                             DREDBOX_LATENCY_CLASS_RACK_LOCAL);
    }
}

void qmp_dredbox_rmc_disconnect(uint8_t port, const char *rmc, Error **errp)
{
    DredboxRmcState *s = rmc_find_port(rmc, port, errp);

    if (s) {
        dredbox_rmc_set_link(s, port, false, 0,
                             DREDBOX_LATENCY_CLASS_RACK_LOCAL);
    }
}

void qmp_dredbox_rmc_attach_segment(uint32_t segment, const char *rmc,
                                    Error **errp)
{
    DredboxRmcState *s = dredbox_rmc_find(rmc, errp);

    if (s) {
        dredbox_rmc_attach_segment(s, segment, errp);
    }
}

void qmp_dredbox_rmc_detach_segment(uint32_t segment, const char *rmc,
                                    Error **errp)
{
    DredboxRmcState *s = dredbox_rmc_find(rmc, errp);

    if (s) {
        dredbox_rmc_detach_segment(s, segment, errp);
    }
}

void qmp_dredbox_rmc_poison_page(uint32_t segment, uint64_t offset,
                                  const char *rmc, Error **errp)
{
    DredboxRmcState *s = dredbox_rmc_find(rmc, errp);

    if (s) {
        dredbox_rmc_poison_page(s, segment, offset, true, errp);
    }
}

void qmp_dredbox_rmc_unpoison_page(uint32_t segment, uint64_t offset,
                                    const char *rmc, Error **errp)
{
    DredboxRmcState *s = dredbox_rmc_find(rmc, errp);

    if (s) {
        dredbox_rmc_poison_page(s, segment, offset, false, errp);
    }
}

void qmp_dredbox_rmc_connect_doorbell(uint8_t port, const char *path,
                                      uint32_t segment, const char *rmc,
                                      Error **errp)
{
    DredboxRmcState *s = rmc_find_port(rmc, port, errp);

    if (s) {
        dredbox_rmc_connect_doorbell(s, port, path, segment, errp);
    }
}

void qmp_dredbox_rmc_disconnect_doorbell(uint8_t port, const char *rmc,
                                         Error **errp)
{
    DredboxRmcState *s = rmc_find_port(rmc, port, errp);

    if (s) {
        dredbox_rmc_disconnect_doorbell(s, port, errp);
    }
}
