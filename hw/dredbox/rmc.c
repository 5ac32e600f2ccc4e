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
 * The data path is in rmc-datapath.c, the doorbells in rmc-doorbell.c,
 * the configuration registers in rmc-config.c; this file has the
 * device's life: reset, realize, migration state and properties.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-types-dredbox.h"
#include "hw/qdev-properties.h"
#include "dredbox/address-map.h"
#include "rmc-internal.h"
#include "migration/blocker.h"
#include "migration/vmstate.h"
#include "qapi/visitor.h"
#include "qemu/timer.h"

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
        p->commit_result = RMC_COMMIT_OK;
    }
    s->committing = 0;
    timer_del(s->commit_timer);
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
        s->port[n].db = (DredboxRmcDoorbell) { .rmc = s, .port = n };
    }
    s->segments = g_ptr_array_new();
    s->commit_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, rmc_commit_done, s);
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
    timer_free(s->commit_timer);
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
        if (rmc_entry_enabled(&s->port[n].live) &&
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

static bool rmc_commit_needed(void *opaque)
{
    DredboxRmcState *s = opaque;

    for (unsigned n = 0; n < s->num_ports; n++) {
        if (s->port[n].commit_result != RMC_COMMIT_OK) {
            return true;
        }
    }
    return s->committing != 0;
}

static const VMStateDescription vmstate_rmc_port_commit = {
    .name = "dredbox-rmc/port/commit",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(commit_result, DredboxRmcPort),
        VMSTATE_END_OF_LIST()
    }
};

/* Version 1.2's state: a commit under way, the ports' results */
static const VMStateDescription vmstate_rmc_commit = {
    .name = "dredbox-rmc/commit",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = rmc_commit_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(committing, DredboxRmcState),
        VMSTATE_TIMER_PTR(commit_timer, DredboxRmcState),
        VMSTATE_STRUCT_ARRAY(port, DredboxRmcState, RMC_MAX_PORTS, 1,
                             vmstate_rmc_port_commit, DredboxRmcPort),
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
        &vmstate_rmc_commit,
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

static void rmc_get_commit_delay(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    visit_type_uint32(v, name, &DREDBOX_RMC(obj)->commit_delay_us, errp);
}

/* Settable at run time too: a commit under way then takes the new delay. */
static void rmc_set_commit_delay(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    DredboxRmcState *s = DREDBOX_RMC(obj);
    uint32_t value;

    if (!visit_type_uint32(v, name, &value, errp)) {
        return;
    }
    s->commit_delay_us = value;
    if (s->commit_timer) {
        rmc_schedule_commit(s);
    }
}

static void rmc_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    ResettableClass *rc = RESETTABLE_CLASS(oc);

    /* QAPI's DredboxRmcFault is rmc-regs.h's from RMC_FAULT_UNMAPPED on. */
    for (int i = RMC_FAULT_UNMAPPED; i < RMC_FAULT_REASONS; i++) {
        g_assert(!strcmp(DredboxRmcFault_str(i - 1),
                         rmc_fault_reason_name(i)));
    }

    dc->desc = "dReDBox Remote Memory Controller";
    dc->realize = rmc_realize;
    dc->unrealize = rmc_unrealize;
    dc->vmsd = &vmstate_rmc;
    /* Part of the compute brick board, wired by it. */
    dc->user_creatable = false;
    rc->phases.hold = rmc_reset_hold;
    device_class_set_props(dc, rmc_properties);
    object_class_property_add(oc, "commit-delay-us", "uint32",
                              rmc_get_commit_delay, rmc_set_commit_delay,
                              NULL, NULL);
    object_class_property_set_description(oc, "commit-delay-us",
        "How long a guest's commit takes, in microseconds (0: at once,"
        " 4294967295: never); settable while the guest runs");
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

