/*
 * dReDBox compute brick machine ("dredbox-compute")
 *
 * A quad Cortex-A53 microserver (EL2 and EL3 present, as on the Zynq
 * UltraScale+ MPSoC of the dReDBox prototype) with a GICv2, a PL011, a
 * PL031 RTC, virtio-mmio transports and a PCIe host for virtio-pci
 * devices such as virtio-mem.  Local DRAM and any remote NUMA nodes given
 * with -numa are contiguous from 4 GiB.  The Remote Memory Controller
 * (RMC) owns its configuration page at 0xFF08_0000 and two remote-memory
 * windows.
 *
 * Linux is booted directly (-kernel/-initrd/-append) with a generated
 * device tree; PSCI is provided by QEMU through the SMC conduit because
 * the guest may run its own hypervisor at EL2.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/config-file.h"
#include "qemu/error-report.h"
#include "qemu/memfd.h"
#include "qemu/option.h"
#include "qemu/plugin.h"
#include "qemu/guest-random.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/qapi-types-dredbox.h"
#include "qapi/visitor.h"
#include "hw/boards.h"
#include "hw/arm/boot.h"
#include "hw/arm/fdt.h"
#include "hw/char/pl011.h"
#include "hw/intc/arm_gic.h"
#include "hw/mem/memory-device.h"
#include "hw/dredbox/rmc.h"
#include "hw/pci-host/gpex.h"
#include "hw/qdev-properties.h"
#include "hw/sysbus.h"
#include "hw/virtio/virtio-md-pci.h"
#include "hw/virtio/virtio-mem-pci.h"
#include "system/device_tree.h"
#include "system/hostmem.h"
#include "system/numa.h"
#include "system/system.h"
#include "target/arm/cpu.h"
#include "target/arm/gtimer.h"
#include "system/cpu-timers.h"
#include "hw/dredbox/compute-brick.h"
#include "dredbox/memory-map.h"
#include "dredbox/latency-class.h"
#include "dredbox/rmc-table.h"
#include "hw/dredbox/timing.h"
#include "trace.h"
#include <libfdt.h>

const MemMapEntry dredbox_memmap[DREDBOX_MEMMAP_COUNT] = {
    [DREDBOX_GIC_DIST] =        { 0x08000000, 0x00010000 },
    [DREDBOX_GIC_CPU] =         { 0x08010000, 0x00010000 },
    [DREDBOX_GIC_V2M] =         { 0x08020000, 0x00001000 },
    [DREDBOX_GIC_HYP] =         { 0x08030000, 0x00010000 },
    [DREDBOX_GIC_VCPU] =        { 0x08040000, 0x00010000 },
    [DREDBOX_UART0] =           { 0x09000000, 0x00001000 },
    [DREDBOX_RTC] =             { 0x09010000, 0x00001000 },
    [DREDBOX_VIRTIO_MMIO] =     { 0x0a000000, DREDBOX_VIRTIO_TRANSPORTS *
                                              DREDBOX_VIRTIO_MMIO_SIZE },
    [DREDBOX_PCIE_MMIO] =       { 0x10000000, 0x2eff0000 },
    [DREDBOX_PCIE_PIO] =        { 0x3eff0000, 0x00010000 },
    [DREDBOX_PCIE_ECAM] =       { 0x3f000000, 0x01000000 },
    /* What software outside QEMU sees: dredbox/address-map.h */
    [DREDBOX_RMC_LOW_WINDOW] =  { DREDBOX_RMC_LOW_WINDOW_BASE,
                                  DREDBOX_RMC_LOW_WINDOW_SIZE },
    [DREDBOX_RMC_CONFIG] =      { DREDBOX_RMC_CONFIG_BASE, RMC_CONFIG_SIZE },
    [DREDBOX_LOCAL_DRAM] =      { DREDBOX_LOCAL_DRAM_BASE,
                                  DREDBOX_LOCAL_DRAM_SIZE },
    [DREDBOX_DEVICE_MEMORY] =   { DREDBOX_DEVICE_MEMORY_BASE,
                                  DREDBOX_DEVICE_MEMORY_SIZE },
    [DREDBOX_RMC_HIGH_WINDOW] = { DREDBOX_RMC_HIGH_WINDOW_BASE,
                                  DREDBOX_RMC_HIGH_WINDOW_SIZE },
    [DREDBOX_PCIE_MMIO_HIGH] =  { DREDBOX_PCIE_MMIO_HIGH_BASE,
                                  DREDBOX_PCIE_MMIO_HIGH_SIZE },
    [DREDBOX_PMEM] =            { DREDBOX_PMEM_BASE, DREDBOX_PMEM_SIZE },
};

/* Per-CPU interrupt IDs (PPIs), the same as on QEMU's other Armv8 boards. */
#define ARCH_TIMER_S_EL1_IRQ   29
#define ARCH_TIMER_NS_EL1_IRQ  30
#define ARCH_TIMER_VIRT_IRQ    27
#define ARCH_TIMER_NS_EL2_IRQ  26
#define ARCH_GIC_MAINT_IRQ     25
#define VIRTUAL_PMU_IRQ        23
/* The device tree numbers PPIs from 0. */
#define FDT_PPI(intid)         ((intid) - 16)

static qemu_irq dredbox_spi(DredboxComputeState *s, int spi)
{
    return qdev_get_gpio_in(s->gic, spi);
}

static void dredbox_fdt_create(DredboxComputeState *s)
{
    MachineState *ms = MACHINE(s);
    g_autofree char *serial = g_strdup_printf("dredbox-brick-%u",
                                              s->brick_id);
    const char compat[] = "dredbox,compute-brick\0linux,dummy-virt";
    void *fdt = create_device_tree(&s->fdt_size);

    if (!fdt) {
        error_report("create_device_tree() failed");
        exit(1);
    }
    ms->fdt = fdt;

    qemu_fdt_setprop(fdt, "/", "compatible", compat, sizeof(compat));
    qemu_fdt_setprop_string(fdt, "/", "model", "dReDBox compute brick");
    qemu_fdt_setprop_string(fdt, "/", "serial-number", serial);
    qemu_fdt_setprop_cell(fdt, "/", "dredbox,brick-id", s->brick_id);
    qemu_fdt_setprop_cell(fdt, "/", "#address-cells", 2);
    qemu_fdt_setprop_cell(fdt, "/", "#size-cells", 2);
    /* All DMA is coherent in QEMU. */
    qemu_fdt_setprop(fdt, "/", "dma-coherent", NULL, 0);

    qemu_fdt_add_subnode(fdt, "/chosen");
    {
        uint8_t seed[32];
        uint64_t kaslr;

        qemu_guest_getrandom_nofail(&kaslr, sizeof(kaslr));
        qemu_fdt_setprop_u64(fdt, "/chosen", "kaslr-seed", kaslr);
        qemu_guest_getrandom_nofail(seed, sizeof(seed));
        qemu_fdt_setprop(fdt, "/chosen", "rng-seed", seed, sizeof(seed));
    }
    qemu_fdt_add_subnode(fdt, "/aliases");

    /* The PL011 binding needs a clock to probe. */
    s->clock_phandle = qemu_fdt_alloc_phandle(fdt);
    qemu_fdt_add_subnode(fdt, "/apb-pclk");
    qemu_fdt_setprop_string(fdt, "/apb-pclk", "compatible", "fixed-clock");
    qemu_fdt_setprop_cell(fdt, "/apb-pclk", "#clock-cells", 0);
    qemu_fdt_setprop_cell(fdt, "/apb-pclk", "clock-frequency", 24000000);
    qemu_fdt_setprop_string(fdt, "/apb-pclk", "clock-output-names",
                            "clk24mhz");
    qemu_fdt_setprop_cell(fdt, "/apb-pclk", "phandle", s->clock_phandle);
}

/* The classes are shared with the rack tools: latency-class.h */
QEMU_BUILD_BUG_ON(DREDBOX_LATENCY_CLASS__MAX != DREDBOX_CLASSES);

/*
 * Without -numa dist, nodes backed by memory-backend-remote get the
 * distance of their latency class; between two such nodes, the larger.
 */
static void dredbox_numa_distances(MachineState *ms)
{
    NumaState *ns = ms->numa_state;
    uint8_t remote[MAX_NODES] = { 0 };
    bool any = false;
    int i, j;

    if (!ns || ns->num_nodes < 2 || ns->have_numa_distance) {
        return;
    }
    for (i = 0; i < ns->num_nodes; i++) {
        Object *memdev = OBJECT(ns->nodes[i].node_memdev);

        if (memdev && object_dynamic_cast(memdev, "memory-backend-remote")) {
            int cls = object_property_get_enum(memdev, "latency-class",
                                               "DredboxLatencyClass",
                                               &error_abort);

            remote[i] = dredbox_class_distance(cls);
            any = true;
        }
    }
    if (!any) {
        return;
    }
    for (i = 0; i < ns->num_nodes; i++) {
        for (j = 0; j < ns->num_nodes; j++) {
            ns->nodes[i].distance[j] = i == j ? NUMA_DISTANCE_MIN :
                MAX(remote[i], remote[j]) ?: NUMA_DISTANCE_DEFAULT;
        }
    }
    ns->have_numa_distance = true;
}

/*
 * Distance between NUMA nodes @i and @j of the device tree: the -numa
 * nodes, then with rmc-numa=on one per latency class (see
 * dredbox_fdt_distance_map()).
 */
static int dredbox_node_distance(const NumaState *ns, int i, int j)
{
    int local = ns->num_nodes;

    if (i == j) {
        return NUMA_DISTANCE_MIN;
    }
    if (i < local && j < local) {
        return ns->have_numa_distance ? ns->nodes[i].distance[j]
                                      : NUMA_DISTANCE_DEFAULT;
    }
    if (i >= local && j >= local) {
        /* The farther class of the two. */
        return dredbox_class_distance(MAX(i, j) - local);
    }
    /* A -numa node and a class node: the farther of the two from node 0 */
    if (i > j) {
        return dredbox_node_distance(ns, j, i);
    }
    return MAX(dredbox_node_distance(ns, 0, i),
               dredbox_class_distance(j - local));
}

/*
 * The distance map of the -numa nodes, if they have distances.  With
 * rmc-numa=on, one CPU-less, memory-less NUMA node per latency class
 * follows the -numa nodes (ids N, N+1, N+2 for tray-local, rack-local,
 * inter-rack), so that a guest driver can hot-add memory it reaches
 * through the RMC into the node of its class.  Linux learns of empty
 * nodes from the distance map; the RMC node's dredbox,class-nodes names
 * them.  docs/memory-map.md.
 */
static void dredbox_fdt_distance_map(DredboxComputeState *s)
{
    MachineState *ms = MACHINE(s);
    const NumaState *ns = ms->numa_state;
    int n = ns->num_nodes + (s->rmc_numa ? DREDBOX_LATENCY_CLASS__MAX : 0);
    int size = n * n * 3 * sizeof(uint32_t);
    g_autofree uint32_t *matrix = NULL;

    if (!ns->num_nodes || !(ns->have_numa_distance || s->rmc_numa)) {
        return;
    }
    matrix = g_malloc(size);
    /*
     * Highest node first: Linux 6.12 (mm/numa_memblks.c) sizes its distance
     * table by the nodes it knows at the first entry and drops entries past
     * it, so a map that starts at node 0 loses every empty node's distances.
     */
    for (int i = n - 1; i >= 0; i--) {
        for (int j = n - 1; j >= 0; j--) {
            int idx = ((n - 1 - i) * n + n - 1 - j) * 3;

            matrix[idx] = cpu_to_be32(i);
            matrix[idx + 1] = cpu_to_be32(j);
            matrix[idx + 2] = cpu_to_be32(dredbox_node_distance(ns, i, j));
        }
    }
    qemu_fdt_add_subnode(ms->fdt, "/distance-map");
    qemu_fdt_setprop_string(ms->fdt, "/distance-map", "compatible",
                            "numa-distance-map-v1");
    qemu_fdt_setprop(ms->fdt, "/distance-map", "distance-matrix", matrix,
                     size);
}

static void dredbox_create_cpus(DredboxComputeState *s)
{
    MachineState *ms = MACHINE(s);
    MachineClass *mc = MACHINE_GET_CLASS(ms);
    const CPUArchIdList *possible = mc->possible_cpu_arch_ids(ms);
    int n;

    for (n = 0; n < ms->smp.cpus; n++) {
        Object *cpuobj = object_new(possible->cpus[n].type);

        object_property_set_int(cpuobj, "mp-affinity",
                                possible->cpus[n].arch_id, NULL);
        CPU(cpuobj)->cpu_index = n;
        numa_cpu_pre_plug(&possible->cpus[n], DEVICE(cpuobj), &error_fatal);
        /* QEMU implements PSCI; SMC reaches it even with a guest at EL2. */
        object_property_set_int(cpuobj, "psci-conduit",
                                QEMU_PSCI_CONDUIT_SMC, &error_abort);
        if (n > 0) {
            object_property_set_bool(cpuobj, "start-powered-off", true,
                                     &error_abort);
        }
        object_property_set_int(cpuobj, "reset-cbar",
                                dredbox_memmap[DREDBOX_GIC_DIST].base,
                                &error_abort);
        object_property_set_link(cpuobj, "memory",
                                 OBJECT(get_system_memory()), &error_abort);
        if (s->timing) {
            /* A 1 ns generic timer tick, as the modelled clock's. */
            object_property_set_uint(cpuobj, "cntfrq", DREDBOX_TIMING_HZ,
                                     &error_abort);
        }
        qdev_realize(DEVICE(cpuobj), NULL, &error_fatal);
        object_unref(cpuobj);
    }
}

static void dredbox_fdt_cpus(DredboxComputeState *s)
{
    MachineState *ms = MACHINE(s);
    void *fdt = ms->fdt;
    int cpu;

    qemu_fdt_add_subnode(fdt, "/cpus");
    qemu_fdt_setprop_cell(fdt, "/cpus", "#address-cells", 1);
    qemu_fdt_setprop_cell(fdt, "/cpus", "#size-cells", 0);

    /* Nodes are prepended, so create them in reverse order. */
    for (cpu = ms->smp.cpus - 1; cpu >= 0; cpu--) {
        g_autofree char *node = g_strdup_printf("/cpus/cpu@%d", cpu);
        ARMCPU *armcpu = ARM_CPU(qemu_get_cpu(cpu));
        const CpuInstanceProperties *props =
            &ms->possible_cpus->cpus[cpu].props;

        qemu_fdt_add_subnode(fdt, node);
        qemu_fdt_setprop_string(fdt, node, "device_type", "cpu");
        qemu_fdt_setprop_string(fdt, node, "compatible",
                                armcpu->dtb_compatible);
        if (ms->smp.cpus > 1) {
            qemu_fdt_setprop_string(fdt, node, "enable-method", "psci");
        }
        qemu_fdt_setprop_cell(fdt, node, "reg", arm_cpu_mp_affinity(armcpu));
        if (props->has_node_id) {
            qemu_fdt_setprop_cell(fdt, node, "numa-node-id", props->node_id);
        }
    }

    qemu_fdt_add_subnode(fdt, "/timer");
    {
        const char timer_compat[] = "arm,armv8-timer\0arm,armv7-timer";
        uint32_t flags = deposit32(GIC_FDT_IRQ_FLAGS_LEVEL_HI,
                                   GIC_FDT_IRQ_PPI_CPU_START,
                                   GIC_FDT_IRQ_PPI_CPU_WIDTH,
                                   (1 << ms->smp.cpus) - 1);

        qemu_fdt_setprop(fdt, "/timer", "compatible", timer_compat,
                         sizeof(timer_compat));
        qemu_fdt_setprop(fdt, "/timer", "always-on", NULL, 0);
        qemu_fdt_setprop_cells(fdt, "/timer", "interrupts",
                               GIC_FDT_IRQ_TYPE_PPI,
                               FDT_PPI(ARCH_TIMER_S_EL1_IRQ), flags,
                               GIC_FDT_IRQ_TYPE_PPI,
                               FDT_PPI(ARCH_TIMER_NS_EL1_IRQ), flags,
                               GIC_FDT_IRQ_TYPE_PPI,
                               FDT_PPI(ARCH_TIMER_VIRT_IRQ), flags,
                               GIC_FDT_IRQ_TYPE_PPI,
                               FDT_PPI(ARCH_TIMER_NS_EL2_IRQ), flags);

        /* The A53's PMUv3, for perf in the guest. */
        qemu_fdt_add_subnode(fdt, "/pmu");
        qemu_fdt_setprop_string(fdt, "/pmu", "compatible", "arm,armv8-pmuv3");
        qemu_fdt_setprop_cells(fdt, "/pmu", "interrupts", GIC_FDT_IRQ_TYPE_PPI,
                               FDT_PPI(VIRTUAL_PMU_IRQ), flags);
    }
}

static void dredbox_create_gic(DredboxComputeState *s)
{
    MachineState *ms = MACHINE(s);
    const MemMapEntry *map = dredbox_memmap;
    unsigned int ncpu = ms->smp.cpus;
    g_autofree char *node = g_strdup_printf("/intc@%" PRIx64,
                                            map[DREDBOX_GIC_DIST].base);
    g_autofree char *v2m = g_strdup_printf("%s/v2m@%" PRIx64, node,
                                           map[DREDBOX_GIC_V2M].base);
    SysBusDevice *gicbus;
    DeviceState *dev;
    void *fdt = ms->fdt;
    int i, irq;

    s->gic = qdev_new(gic_class_name());
    qdev_prop_set_uint32(s->gic, "revision", 2);
    qdev_prop_set_uint32(s->gic, "num-cpu", ncpu);
    qdev_prop_set_uint32(s->gic, "num-irq", DREDBOX_NUM_SPIS + GIC_INTERNAL);
    qdev_prop_set_bit(s->gic, "has-security-extensions", true);
    qdev_prop_set_bit(s->gic, "has-virtualization-extensions", true);
    gicbus = SYS_BUS_DEVICE(s->gic);
    sysbus_realize_and_unref(gicbus, &error_fatal);
    sysbus_mmio_map(gicbus, 0, map[DREDBOX_GIC_DIST].base);
    sysbus_mmio_map(gicbus, 1, map[DREDBOX_GIC_CPU].base);
    sysbus_mmio_map(gicbus, 2, map[DREDBOX_GIC_HYP].base);
    sysbus_mmio_map(gicbus, 3, map[DREDBOX_GIC_VCPU].base);

    for (i = 0; i < ncpu; i++) {
        DeviceState *cpudev = DEVICE(qemu_get_cpu(i));
        int ppibase = DREDBOX_NUM_SPIS + i * GIC_INTERNAL;
        const int timer_irq[] = {
            [GTIMER_PHYS] = ARCH_TIMER_NS_EL1_IRQ,
            [GTIMER_VIRT] = ARCH_TIMER_VIRT_IRQ,
            [GTIMER_HYP]  = ARCH_TIMER_NS_EL2_IRQ,
            [GTIMER_SEC]  = ARCH_TIMER_S_EL1_IRQ,
        };

        for (irq = 0; irq < ARRAY_SIZE(timer_irq); irq++) {
            qdev_connect_gpio_out(cpudev, irq,
                                  qdev_get_gpio_in(s->gic,
                                                   ppibase + timer_irq[irq]));
        }
        sysbus_connect_irq(gicbus, i + 4 * ncpu,
                           qdev_get_gpio_in(s->gic,
                                            ppibase + ARCH_GIC_MAINT_IRQ));
        qdev_connect_gpio_out_named(cpudev, "pmu-interrupt", 0,
                                    qdev_get_gpio_in(s->gic, ppibase +
                                                     VIRTUAL_PMU_IRQ));
        sysbus_connect_irq(gicbus, i, qdev_get_gpio_in(cpudev, ARM_CPU_IRQ));
        sysbus_connect_irq(gicbus, i + ncpu,
                           qdev_get_gpio_in(cpudev, ARM_CPU_FIQ));
        sysbus_connect_irq(gicbus, i + 2 * ncpu,
                           qdev_get_gpio_in(cpudev, ARM_CPU_VIRQ));
        sysbus_connect_irq(gicbus, i + 3 * ncpu,
                           qdev_get_gpio_in(cpudev, ARM_CPU_VFIQ));
    }

    /* GICv2m frame: MSIs for PCIe devices. */
    dev = qdev_new("arm-gicv2m");
    qdev_prop_set_uint32(dev, "base-spi", DREDBOX_IRQ_GIC_V2M);
    qdev_prop_set_uint32(dev, "num-spi", DREDBOX_GIC_V2M_SPIS);
    sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
    sysbus_mmio_map(SYS_BUS_DEVICE(dev), 0, map[DREDBOX_GIC_V2M].base);
    for (i = 0; i < DREDBOX_GIC_V2M_SPIS; i++) {
        sysbus_connect_irq(SYS_BUS_DEVICE(dev), i,
                           dredbox_spi(s, DREDBOX_IRQ_GIC_V2M + i));
    }

    s->gic_phandle = qemu_fdt_alloc_phandle(fdt);
    qemu_fdt_setprop_cell(fdt, "/", "interrupt-parent", s->gic_phandle);
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop_string(fdt, node, "compatible", "arm,cortex-a15-gic");
    qemu_fdt_setprop_cell(fdt, node, "#interrupt-cells", 3);
    qemu_fdt_setprop(fdt, node, "interrupt-controller", NULL, 0);
    qemu_fdt_setprop_cell(fdt, node, "#address-cells", 2);
    qemu_fdt_setprop_cell(fdt, node, "#size-cells", 2);
    qemu_fdt_setprop(fdt, node, "ranges", NULL, 0);
    qemu_fdt_setprop_sized_cells(fdt, node, "reg",
                                 2, map[DREDBOX_GIC_DIST].base,
                                 2, map[DREDBOX_GIC_DIST].size,
                                 2, map[DREDBOX_GIC_CPU].base,
                                 2, map[DREDBOX_GIC_CPU].size,
                                 2, map[DREDBOX_GIC_HYP].base,
                                 2, map[DREDBOX_GIC_HYP].size,
                                 2, map[DREDBOX_GIC_VCPU].base,
                                 2, map[DREDBOX_GIC_VCPU].size);
    qemu_fdt_setprop_cells(fdt, node, "interrupts", GIC_FDT_IRQ_TYPE_PPI,
                           FDT_PPI(ARCH_GIC_MAINT_IRQ),
                           GIC_FDT_IRQ_FLAGS_LEVEL_HI);
    qemu_fdt_setprop_cell(fdt, node, "phandle", s->gic_phandle);

    s->msi_phandle = qemu_fdt_alloc_phandle(fdt);
    qemu_fdt_add_subnode(fdt, v2m);
    qemu_fdt_setprop_string(fdt, v2m, "compatible", "arm,gic-v2m-frame");
    qemu_fdt_setprop(fdt, v2m, "msi-controller", NULL, 0);
    qemu_fdt_setprop_sized_cells(fdt, v2m, "reg",
                                 2, map[DREDBOX_GIC_V2M].base,
                                 2, map[DREDBOX_GIC_V2M].size);
    qemu_fdt_setprop_cell(fdt, v2m, "phandle", s->msi_phandle);
}

/*
 * The device-tree node of an on-board PrimeCell peripheral (@compat, a
 * list of @compat_size bytes) at memory-map entry @region with SPI @irq.
 */
static char *dredbox_fdt_primecell(DredboxComputeState *s, int region,
                                   const char *compat, size_t compat_size,
                                   int irq)
{
    void *fdt = MACHINE(s)->fdt;
    hwaddr base = dredbox_memmap[region].base;
    char *node = g_strdup_printf("/%s@%" PRIx64, compat + strlen("arm,"),
                                 base);

    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop(fdt, node, "compatible", compat, compat_size);
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, base,
                                 2, dredbox_memmap[region].size);
    qemu_fdt_setprop_cells(fdt, node, "interrupts", GIC_FDT_IRQ_TYPE_SPI,
                           irq, GIC_FDT_IRQ_FLAGS_LEVEL_HI);
    return node;
}

static void dredbox_create_uart(DredboxComputeState *s)
{
    void *fdt = MACHINE(s)->fdt;
    const char compat[] = "arm,pl011\0arm,primecell";
    const char clocks[] = "uartclk\0apb_pclk";
    g_autofree char *node = dredbox_fdt_primecell(s, DREDBOX_UART0, compat,
                                                  sizeof(compat),
                                                  DREDBOX_IRQ_UART0);

    pl011_create(dredbox_memmap[DREDBOX_UART0].base,
                 dredbox_spi(s, DREDBOX_IRQ_UART0), serial_hd(0));
    qemu_fdt_setprop_cells(fdt, node, "clocks", s->clock_phandle,
                           s->clock_phandle);
    qemu_fdt_setprop(fdt, node, "clock-names", clocks, sizeof(clocks));
    qemu_fdt_setprop_string(fdt, "/chosen", "stdout-path", node);
    qemu_fdt_setprop_string(fdt, "/aliases", "serial0", node);
}

/*
 * A PL031 real-time clock, where hw/arm/virt has it: the guest's clock
 * starts at the host's time (the kernel reads it at boot), as a board's
 * battery-backed RTC would give it.
 */
static void dredbox_create_rtc(DredboxComputeState *s)
{
    void *fdt = MACHINE(s)->fdt;
    const char compat[] = "arm,pl031\0arm,primecell";
    g_autofree char *node = dredbox_fdt_primecell(s, DREDBOX_RTC, compat,
                                                  sizeof(compat),
                                                  DREDBOX_IRQ_RTC);

    sysbus_create_simple("pl031", dredbox_memmap[DREDBOX_RTC].base,
                         dredbox_spi(s, DREDBOX_IRQ_RTC));
    qemu_fdt_setprop_cell(fdt, node, "clocks", s->clock_phandle);
    qemu_fdt_setprop_string(fdt, node, "clock-names", "apb_pclk");
}

static void dredbox_create_virtio_mmio(DredboxComputeState *s)
{
    void *fdt = MACHINE(s)->fdt;
    hwaddr base = dredbox_memmap[DREDBOX_VIRTIO_MMIO].base;
    int i;

    for (i = 0; i < DREDBOX_VIRTIO_TRANSPORTS; i++) {
        sysbus_create_simple("virtio-mmio",
                             base + i * DREDBOX_VIRTIO_MMIO_SIZE,
                             dredbox_spi(s, DREDBOX_IRQ_VIRTIO_MMIO + i));
    }

    /*
     * Nodes are prepended: create them backwards so that the guest probes
     * transport 0 first and the first -device lands on vda/eth0.
     */
    for (i = DREDBOX_VIRTIO_TRANSPORTS - 1; i >= 0; i--) {
        hwaddr addr = base + i * DREDBOX_VIRTIO_MMIO_SIZE;
        g_autofree char *node = g_strdup_printf("/virtio_mmio@%" PRIx64,
                                                addr);

        qemu_fdt_add_subnode(fdt, node);
        qemu_fdt_setprop_string(fdt, node, "compatible", "virtio,mmio");
        qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, addr,
                                     2, DREDBOX_VIRTIO_MMIO_SIZE);
        qemu_fdt_setprop_cells(fdt, node, "interrupts", GIC_FDT_IRQ_TYPE_SPI,
                               DREDBOX_IRQ_VIRTIO_MMIO + i,
                               GIC_FDT_IRQ_FLAGS_EDGE_LO_HI);
        qemu_fdt_setprop(fdt, node, "dma-coherent", NULL, 0);
    }
}

static void dredbox_fdt_pcie_irq_map(DredboxComputeState *s, const char *node)
{
    uint32_t map[4 * PCI_NUM_PINS * 10];
    uint32_t *p = map;
    int slot, pin, i;

    /* Standard swizzle over the first four slots, as on "virt". */
    for (slot = 0; slot < 4; slot++) {
        for (pin = 0; pin < PCI_NUM_PINS; pin++) {
            uint32_t entry[] = {
                PCI_DEVFN(slot, 0) << 8, 0, 0, pin + 1,
                s->gic_phandle, 0, 0, GIC_FDT_IRQ_TYPE_SPI,
                DREDBOX_IRQ_PCIE + (pin + slot) % PCI_NUM_PINS,
                GIC_FDT_IRQ_FLAGS_LEVEL_HI,
            };

            for (i = 0; i < ARRAY_SIZE(entry); i++) {
                *p++ = cpu_to_be32(entry[i]);
            }
        }
    }
    qemu_fdt_setprop(MACHINE(s)->fdt, node, "interrupt-map", map, sizeof(map));
    qemu_fdt_setprop_cells(MACHINE(s)->fdt, node, "interrupt-map-mask",
                           PCI_DEVFN(3, 0) << 8, 0, 0, 0x7);
}

static void dredbox_create_pcie(DredboxComputeState *s)
{
    const MemMapEntry *ecam = &dredbox_memmap[DREDBOX_PCIE_ECAM];
    const MemMapEntry *mmio = &dredbox_memmap[DREDBOX_PCIE_MMIO];
    const MemMapEntry *mmio_high = &dredbox_memmap[DREDBOX_PCIE_MMIO_HIGH];
    const MemMapEntry *pio = &dredbox_memmap[DREDBOX_PCIE_PIO];
    MachineState *ms = MACHINE(s);
    MemoryRegion *sysmem = get_system_memory();
    g_autofree char *node = g_strdup_printf("/pcie@%" PRIx64, mmio->base);
    DeviceState *dev = qdev_new(TYPE_GPEX_HOST);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);
    MemoryRegion *alias;
    void *fdt = ms->fdt;
    int i;

    sysbus_realize_and_unref(sbd, &error_fatal);

    alias = g_new0(MemoryRegion, 1);
    memory_region_init_alias(alias, OBJECT(dev), "pcie-ecam",
                             sysbus_mmio_get_region(sbd, 0), 0, ecam->size);
    memory_region_add_subregion(sysmem, ecam->base, alias);

    /* PCI MMIO windows map 1:1 onto PCI memory space. */
    alias = g_new0(MemoryRegion, 1);
    memory_region_init_alias(alias, OBJECT(dev), "pcie-mmio",
                             sysbus_mmio_get_region(sbd, 1),
                             mmio->base, mmio->size);
    memory_region_add_subregion(sysmem, mmio->base, alias);
    alias = g_new0(MemoryRegion, 1);
    memory_region_init_alias(alias, OBJECT(dev), "pcie-mmio-high",
                             sysbus_mmio_get_region(sbd, 1),
                             mmio_high->base, mmio_high->size);
    memory_region_add_subregion(sysmem, mmio_high->base, alias);

    sysbus_mmio_map(sbd, 2, pio->base);
    for (i = 0; i < PCI_NUM_PINS; i++) {
        sysbus_connect_irq(sbd, i, dredbox_spi(s, DREDBOX_IRQ_PCIE + i));
        gpex_set_irq_num(GPEX_HOST(dev), i, DREDBOX_IRQ_PCIE + i);
    }
    pci_init_nic_devices(PCI_HOST_BRIDGE(dev)->bus, "virtio-net-pci");

    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop_string(fdt, node, "compatible", "pci-host-ecam-generic");
    qemu_fdt_setprop_string(fdt, node, "device_type", "pci");
    qemu_fdt_setprop_cell(fdt, node, "#address-cells", 3);
    qemu_fdt_setprop_cell(fdt, node, "#size-cells", 2);
    qemu_fdt_setprop_cell(fdt, node, "linux,pci-domain", 0);
    qemu_fdt_setprop_cells(fdt, node, "bus-range", 0,
                           ecam->size / PCIE_MMCFG_SIZE_MIN - 1);
    qemu_fdt_setprop(fdt, node, "dma-coherent", NULL, 0);
    qemu_fdt_setprop_cells(fdt, node, "msi-map", 0, s->msi_phandle, 0,
                           0x10000);
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, ecam->base,
                                 2, ecam->size);
    qemu_fdt_setprop_sized_cells(fdt, node, "ranges",
                                 1, FDT_PCI_RANGE_IOPORT, 2, 0,
                                 2, pio->base, 2, pio->size,
                                 1, FDT_PCI_RANGE_MMIO, 2, mmio->base,
                                 2, mmio->base, 2, mmio->size,
                                 1, FDT_PCI_RANGE_MMIO_64BIT,
                                 2, mmio_high->base,
                                 2, mmio_high->base, 2, mmio_high->size);
    qemu_fdt_setprop_cell(fdt, node, "#interrupt-cells", 1);
    dredbox_fdt_pcie_irq_map(s, node);
}

static void dredbox_create_memory(DredboxComputeState *s)
{
    MachineState *ms = MACHINE(s);
    const MemMapEntry *dram = &dredbox_memmap[DREDBOX_LOCAL_DRAM];
    const MemMapEntry *devmem = &dredbox_memmap[DREDBOX_DEVICE_MEMORY];

    memory_region_add_subregion(get_system_memory(), dram->base, ms->ram);

    /* Room for hot-plugged memory devices (virtio-mem) up to maxmem. */
    if (ms->maxram_size > ms->ram_size) {
        machine_memory_devices_init(ms, devmem->base,
                                    ms->maxram_size - ms->ram_size);
    }
}

/*
 * pmem=ID: the memory backend's memory as persistent memory, the way a
 * board describes an NVDIMM region to Linux without ACPI: a device-tree
 * "pmem-region" node, which Linux's of_pmem driver turns into /dev/pmemN.
 * A memory-backend-remote on a persistent memory brick's segment keeps
 * what the guest wrote across boots (docs/compute-brick.md).
 */
static void dredbox_create_pmem(DredboxComputeState *s)
{
    const MemMapEntry *win = &dredbox_memmap[DREDBOX_PMEM];
    void *fdt = MACHINE(s)->fdt;
    g_autofree char *node = g_strdup_printf("/pmem@%" PRIx64, win->base);
    Object *obj;
    HostMemoryBackend *be;
    uint64_t size;

    if (!s->pmem) {
        return;
    }
    obj = object_resolve_path_type(s->pmem, TYPE_MEMORY_BACKEND, NULL);
    if (!obj) {
        error_report("dredbox-compute: pmem=%s: no memory backend of that"
                     " id", s->pmem);
        exit(1);
    }
    be = MEMORY_BACKEND(obj);
    if (host_memory_backend_is_mapped(be)) {
        error_report("dredbox-compute: pmem=%s: the memory backend is in"
                     " use already", s->pmem);
        exit(1);
    }
    size = memory_region_size(host_memory_backend_get_memory(be));
    if (size > win->size || size % (2 * MiB)) {
        error_report("dredbox-compute: pmem=%s: %" PRIu64 " MiB; persistent"
                     " memory is a multiple of 2 MiB up to %" PRIu64 " GiB",
                     s->pmem, size / MiB, win->size / GiB);
        exit(1);
    }
    host_memory_backend_set_mapped(be, true);
    memory_region_add_subregion(get_system_memory(), win->base,
                                host_memory_backend_get_memory(be));
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop_string(fdt, node, "compatible", "pmem-region");
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, win->base, 2, size);
    s->pmem_backend = obj;
    dredbox_memory_map_update(s, NULL, NULL);
}

static bool dredbox_check_ram(MachineState *ms, Error **errp)
{
    const MemMapEntry *dram = &dredbox_memmap[DREDBOX_LOCAL_DRAM];
    const MemMapEntry *devmem = &dredbox_memmap[DREDBOX_DEVICE_MEMORY];

    if (ms->ram_size < DREDBOX_MIN_RAM) {
        error_setg(errp, "dredbox-compute: %" PRIu64 " MiB of RAM is too"
                   " little; a compute brick needs at least %" PRIu64 " MiB",
                   (uint64_t)ms->ram_size / MiB, DREDBOX_MIN_RAM / MiB);
        return false;
    }
    if (ms->ram_size > dram->size) {
        error_setg(errp, "dredbox-compute: %" PRIu64 " GiB of RAM does not"
                   " fit the %" PRIu64 " GiB DRAM window",
                   (uint64_t)ms->ram_size / GiB, dram->size / GiB);
        return false;
    }
    if (ms->maxram_size - ms->ram_size > devmem->size) {
        error_setg(errp, "dredbox-compute: maxmem exceeds RAM by more than"
                   " the %" PRIu64 " GiB device-memory window",
                   devmem->size / GiB);
        return false;
    }
    return true;
}

static bool (*machine_create_default_memdev)(MachineState *ms,
                                             const char *path, Error **errp);

/* Refuse a bad -m before QEMU tries to allocate it. */
static bool dredbox_create_default_memdev(MachineState *ms, const char *path,
                                          Error **errp)
{
    return dredbox_check_ram(ms, errp) &&
           machine_create_default_memdev(ms, path, errp);
}

static void dredbox_check_options(MachineState *ms)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(ms);
    int nodes = ms->numa_state->num_nodes;

    dredbox_check_ram(ms, &error_fatal);
    if (!s->guest_max_nodes || s->guest_max_nodes > MAX_NODES) {
        error_report("dredbox-compute: guest-max-nodes must be 1 to %d",
                     MAX_NODES);
        exit(1);
    }
    if (s->rmc_numa) {
        if (!nodes) {
            error_report("dredbox-compute: rmc-numa=on needs NUMA: give"
                         " -numa node options, or maxmem");
            exit(1);
        }
        if (nodes + DREDBOX_LATENCY_CLASS__MAX > s->guest_max_nodes) {
            error_report("dredbox-compute: rmc-numa=on needs %d NUMA node"
                         " ids after the %d -numa nodes, and the guest's"
                         " kernel takes %u in all (guest-max-nodes)",
                         DREDBOX_LATENCY_CLASS__MAX, nodes,
                         s->guest_max_nodes);
            exit(1);
        }
    } else if (nodes > s->guest_max_nodes) {
        error_report("dredbox-compute: %d NUMA nodes, but the guest's kernel"
                     " takes %u (guest-max-nodes)", nodes,
                     s->guest_max_nodes);
        exit(1);
    }
    if (ms->firmware) {
        error_report("dredbox-compute: firmware (-bios) is not supported;"
                     " boot Linux with -kernel");
        exit(1);
    }
}

/*
 * The Remote Memory Controller: configuration page, the low and high
 * remote memory windows, one interrupt.  docs/rmc.md.
 */
static void dredbox_create_rmc(DredboxComputeState *s)
{
    void *fdt = MACHINE(s)->fdt;
    const MemMapEntry *cfg = &dredbox_memmap[DREDBOX_RMC_CONFIG];
    const MemMapEntry *low = &dredbox_memmap[DREDBOX_RMC_LOW_WINDOW];
    const MemMapEntry *high = &dredbox_memmap[DREDBOX_RMC_HIGH_WINDOW];
    g_autofree char *node = g_strdup_printf("/rmc@%" PRIx64, cfg->base);
    g_autofree char *client = s->rmc_client ? g_strdup(s->rmc_client)
                              : g_strdup_printf("brick%u", s->brick_id);
    DeviceState *dev = s->rmc ?: qdev_new(TYPE_DREDBOX_RMC);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);

    object_property_add_child(OBJECT(s), "rmc", OBJECT(dev));
    qdev_prop_set_uint64(dev, "low-window-base", low->base);
    qdev_prop_set_uint64(dev, "low-window-size", low->size);
    qdev_prop_set_uint64(dev, "high-window-base", high->base);
    qdev_prop_set_uint64(dev, "high-window-size", high->size);
    if (s->pool) {
        qdev_prop_set_string(dev, "pool", s->pool);
    }
    /* A dredbox-pool object holds the leases under its own name. */
    if (s->rmc_client || !dredbox_pool_is_object(s->pool)) {
        qdev_prop_set_string(dev, "client", client);
    }
    qdev_prop_set_bit(dev, "fabric", s->fabric);
    sysbus_realize_and_unref(sbd, &error_fatal);
    sysbus_mmio_map(sbd, 0, cfg->base);
    sysbus_mmio_map(sbd, 1, low->base);
    sysbus_mmio_map(sbd, 2, high->base);
    sysbus_connect_irq(sbd, 0, dredbox_spi(s, DREDBOX_IRQ_RMC));

    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop_string(fdt, node, "compatible", "dredbox,rmc-1.0");
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, cfg->base,
                                 2, cfg->size);
    qemu_fdt_setprop_cells(fdt, node, "interrupts", GIC_FDT_IRQ_TYPE_SPI,
                           DREDBOX_IRQ_RMC, GIC_FDT_IRQ_FLAGS_LEVEL_HI);
    qemu_fdt_setprop_sized_cells(fdt, node, "dredbox,windows",
                                 2, low->base, 2, low->size,
                                 2, high->base, 2, high->size);
    qemu_fdt_setprop_cell(fdt, node, "dredbox,num-ports",
                          object_property_get_uint(OBJECT(dev), "num-ports",
                                                   &error_abort));
    if (s->rmc_numa) {
        /* The class nodes follow the -numa nodes: dredbox_fdt_distance_map */
        int first = MACHINE(s)->numa_state->num_nodes;

        QEMU_BUILD_BUG_ON(DREDBOX_LATENCY_CLASS__MAX != 3);
        qemu_fdt_setprop_cells(fdt, node, "dredbox,class-nodes",
                               first, first + 1, first + 2);
    }
}

/*
 * Timing mode (docs/timing.md): guest time is modelled.  Instructions
 * advance it by icount (shift=0: 1 ns each), and the dredbox-mem plugin,
 * which the machine loads itself, charges memory accesses that miss its
 * cache model the latency of where they are served from.
 */

/* The default figures, ns (docs/timing.md says where each comes from). */
#define DREDBOX_TIMING_L1_NS            3
#define DREDBOX_TIMING_L2_NS            15
#define DREDBOX_TIMING_DRAM_NS          100
#define DREDBOX_TIMING_RMC_NS           536
#define DREDBOX_TIMING_TRAY_LOCAL_NS    20
#define DREDBOX_TIMING_RACK_LOCAL_NS    100
#define DREDBOX_TIMING_INTER_RACK_NS    1000
/* How far a vCPU runs ahead of the others (docs/timing.md, "Several vCPUs") */
#define DREDBOX_TIMING_QUANTUM_NS       10000
/* Bandwidths, bytes/s (docs/timing.md says why). */
#define DREDBOX_TIMING_DRAM_BW          (4 * GiB)
#define DREDBOX_TIMING_LINK_BW          (1536 * MiB)

/* Where the plugin is, relative to qemu-system-aarch64 in the build. */
#define DREDBOX_TIMING_PLUGIN \
    "../tools/plugins/libdredbox-mem.so"

/*
 * Timing mode's guest time is deterministic only if the guest is: the
 * device tree's kaslr-seed and rng-seed, taken from the host's random
 * numbers, change where the kernel lands and its random choices at
 * every boot, and so the cache sets a benchmark's lines fall in and the
 * work the kernel does while it runs (an L1-resident chase measured
 * 3.116 to 3.205 ns from boot to boot).  Seed QEMU's guest-visible
 * random numbers (as -seed 0 would), unless the user gave -seed: then
 * theirs stand (the check below draws one number from their stream).
 * The RTC's date goes into the kernel's entropy pool at boot too: run it
 * on guest time from a fixed date (as -rtc base=2000-01-01,clock=vm
 * would), unless the user gave -rtc.
 */
static void dredbox_timing_seed(void)
{
    QemuOpts *rtc = qemu_find_opts_singleton("rtc");

    /* Nonzero only if -seed made guest randomness deterministic. */
    if (qemu_guest_random_seed_thread_part1() == 0) {
        qemu_guest_random_seed_main("0", &error_fatal);
    }
    if (!qemu_opt_get(rtc, "base") && !qemu_opt_get(rtc, "clock")) {
        qemu_opt_set(rtc, "base", "2000-01-01T00:00:00", &error_abort);
        qemu_opt_set(rtc, "clock", "vm", &error_abort);
        configure_rtc(rtc);
    }
}

/*
 * Timing mode's remote ranges outside the RMC windows: the memory map's
 * ranges that come from a memory brick, each charged its latency class on
 * that brick's link.
 */
void dredbox_timing_update_ranges(DredboxComputeState *s)
{
    const MemoryMap *m = s->memory_map;
    TimingTable *t = s->timing_table;

    /* The write side of a seqlock (timing-table.h): odd while rewriting */
    qatomic_set(&t->generation, t->generation + 1);
    smp_wmb();  /* the odd generation before the ranges change */
    t->nranges = 0;
    for (uint32_t i = 0; i < m->nranges; i++) {
        const MemoryMapRange *r = &m->range[i];

        if (r->brick == MEMORY_MAP_NO_BRICK) {
            continue;
        }
        if (t->nranges == TIMING_TABLE_RANGES) {
            warn_report_once("dredbox-compute: timing: more than %d remote"
                             " memory ranges; the rest count as local",
                             TIMING_TABLE_RANGES);
            break;
        }
        t->range[t->nranges++] = (TimingRange) {
            .start = r->start, .end = r->end,
            .dest = TIMING_DEST_TRAY_LOCAL + r->latency,
            /* A brick beyond the table's shares the last link */
            .link = TIMING_LINK_BRICK(MIN(r->brick,
                                          TIMING_TABLE_BRICKS - 1)),
        };
    }
    smp_wmb();  /* the new ranges before the even generation */
    qatomic_set(&t->generation, t->generation + 1);
    trace_dredbox_timing_ranges(t->nranges);
}

static void dredbox_timing_cleanup(Notifier *n, void *data)
{
    DredboxComputeState *s = container_of(n, DredboxComputeState,
                                          timing_exit);
    g_autofree char *path = g_build_filename(s->timing_dir, "rmc-table",
                                             NULL);

    unlink(path);
    rmdir(s->timing_dir);
}

/*
 * Set up timing mode before the CPUs exist (so that the plugin sees
 * them created): the shared table, the RMC's published table (a private
 * one unless -global dredbox-rmc.table gave one), then the plugin.
 */
static void dredbox_timing_init(DredboxComputeState *s)
{
    QemuPluginList plugins = QTAILQ_HEAD_INITIALIZER(plugins);
    g_autofree char *rmc_table = object_property_get_str(OBJECT(s->rmc),
                                                         "table",
                                                         &error_abort);
    g_autofree char *plugin = NULL;
    g_autofree char *opts = NULL;
    TimingTable *t;
    Error *err = NULL;

    /* Several vCPUs run side by side in modelled time, not in turn. */
    if (MACHINE(s)->smp.cpus > 1 && s->quantum_ns) {
        icount_set_lockstep(s->quantum_ns);
    }
    t = qemu_memfd_alloc("dredbox-timing", sizeof(*t), 0, &s->timing_fd,
                         &error_fatal);
    *t = (TimingTable) {
        .magic = TIMING_TABLE_MAGIC, .version = TIMING_TABLE_VERSION,
        .l1_ns = s->l1_ns, .l2_ns = s->l2_ns, .dram_ns = s->dram_ns,
        .rmc_ns = s->rmc_ns, .dram_bw = s->dram_bw, .link_bw = s->link_bw,
        .quantum_ns = icount_lockstep_quantum(),
        /* Cortex-A53 as on the Zynq UltraScale+ MPSoC. */
        .line = 64, .l1_size = 32 * KiB, .l1_ways = 4,
        .l2_size = 1 * MiB, .l2_ways = 16,
    };
    memcpy(t->class_ns, s->class_ns, sizeof(t->class_ns));
    s->timing_table = t;
    dredbox_timing_update_ranges(s);
    dredbox_timing_publish(t);

    if (!rmc_table || !*rmc_table) {
        GError *gerr = NULL;

        s->timing_dir = g_dir_make_tmp("dredbox-timing-XXXXXX", &gerr);
        if (!s->timing_dir) {
            error_report("dredbox-compute: timing: %s", gerr->message);
            exit(1);
        }
        g_free(rmc_table);
        rmc_table = g_build_filename(s->timing_dir, "rmc-table", NULL);
        qdev_prop_set_string(s->rmc, "table", rmc_table);
        s->timing_exit.notify = dredbox_timing_cleanup;
        qemu_add_exit_notifier(&s->timing_exit);
    }

    if (s->timing_plugin) {
        plugin = g_strdup(s->timing_plugin);
    } else {
        g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *dir = g_path_get_dirname(exe ? exe : ".");

        plugin = g_build_filename(dir, DREDBOX_TIMING_PLUGIN, NULL);
    }
    opts = g_strdup_printf("%s,mode=timing,timing=%d,rmc=%s", plugin,
                           s->timing_fd, rmc_table);
    trace_dredbox_timing_init(plugin, s->timing_fd, rmc_table);
    qemu_plugin_opt_parse(opts, &plugins);
    if (qemu_plugin_load_list(&plugins, &err)) {
        error_prepend(&err, "dredbox-compute: timing=on needs the dredbox-mem"
                      " plugin (timing-plugin=PATH): ");
        error_report_err(err);
        exit(1);
    }
}

typedef struct DredboxMemoryDevice {
    uint64_t addr, size;
    uint32_t node;
} DredboxMemoryDevice;

static int dredbox_add_memory_device(Object *obj, void *opaque)
{
    GArray *devs = opaque;
    MemoryDeviceState *md;
    MemoryDeviceClass *mdc;
    DredboxMemoryDevice d;

    if (!object_dynamic_cast(obj, TYPE_VIRTIO_MEM_PCI)) {
        return 0;
    }
    md = MEMORY_DEVICE(obj);
    mdc = MEMORY_DEVICE_GET_CLASS(md);
    d.addr = mdc->get_addr(md);
    d.size = memory_region_size(mdc->get_memory_region(md, &error_abort));
    d.node = object_property_get_uint(obj, "node", &error_abort);
    g_array_append_val(devs, d);
    return 0;
}

static gint dredbox_memory_device_cmp(gconstpointer a, gconstpointer b)
{
    const DredboxMemoryDevice *x = a, *y = b;

    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * The NUMA node of each virtio-mem device, for the guest.  Linux's
 * virtio_mem driver takes a device's node from ACPI only (the config's
 * node_id is a proximity domain); on a device-tree machine it asks
 * memory_add_physaddr_to_nid(), which knows nothing of device memory and
 * answers node 0.  The guest's dredbox-memory-nodes module answers from
 * this list instead (docs/guest-kernel.md):
 *
 *   /dredbox-memory-devices {
 *       compatible = "dredbox,memory-devices-1.0";
 *       dredbox,ranges = <ADDR(2) SIZE(2) NODE(1)> per device;
 *   };
 *
 * Only the devices present at machine creation: a guest learns their
 * nodes when its driver probes them, at boot.
 */
static void dredbox_fdt_memory_devices(DredboxComputeState *s)
{
    void *fdt = MACHINE(s)->fdt;
    const char *node = "/dredbox-memory-devices";
    g_autoptr(GArray) devs = g_array_new(false, false,
                                         sizeof(DredboxMemoryDevice));
    g_autofree uint32_t *cells = NULL;

    object_child_foreach_recursive(object_get_root(),
                                   dredbox_add_memory_device, devs);
    if (!devs->len) {
        return;
    }
    g_array_sort(devs, dredbox_memory_device_cmp);
    cells = g_new(uint32_t, devs->len * 5);
    for (guint i = 0; i < devs->len; i++) {
        const DredboxMemoryDevice *d = &g_array_index(devs,
                                                      DredboxMemoryDevice, i);
        uint32_t *c = &cells[i * 5];

        c[0] = cpu_to_be32(d->addr >> 32);
        c[1] = cpu_to_be32(d->addr);
        c[2] = cpu_to_be32(d->size >> 32);
        c[3] = cpu_to_be32(d->size);
        c[4] = cpu_to_be32(d->node);
    }
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop_string(fdt, node, "compatible",
                            "dredbox,memory-devices-1.0");
    qemu_fdt_setprop(fdt, node, "dredbox,ranges", cells,
                     devs->len * 5 * sizeof(uint32_t));
}

/*
 * The device tree is complete only once every -device exists (their
 * addresses are assigned when they are plugged): load it then, as the
 * virt board does.
 */
static void dredbox_machine_done(Notifier *n, void *data)
{
    DredboxComputeState *s = container_of(n, DredboxComputeState,
                                          machine_done);
    struct arm_boot_info *info = &s->bootinfo;

    dredbox_fdt_memory_devices(s);
    if (arm_load_dtb(info->dtb_start, info, info->dtb_limit,
                     &address_space_memory, MACHINE(s),
                     ARM_CPU(first_cpu)) < 0) {
        exit(1);
    }
}

static void *dredbox_get_dtb(const struct arm_boot_info *binfo, int *size)
{
    DredboxComputeState *s = container_of(binfo, DredboxComputeState,
                                          bootinfo);

    *size = s->fdt_size;
    return MACHINE(s)->fdt;
}

static void dredbox_compute_init(MachineState *ms)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(ms);

    dredbox_check_options(ms);
    dredbox_numa_distances(ms);
    if (s->timing) {
        dredbox_timing_seed();
    }
    dredbox_fdt_create(s);
    dredbox_fdt_distance_map(s);
    dredbox_memory_map_init(s);
    if (s->timing) {
        /* The RMC first: the plugin needs to know where its table is. */
        s->rmc = qdev_new(TYPE_DREDBOX_RMC);
        dredbox_timing_init(s);
    }
    dredbox_create_cpus(s);
    dredbox_fdt_cpus(s);
    dredbox_create_memory(s);
    dredbox_create_pmem(s);
    dredbox_create_gic(s);
    dredbox_create_uart(s);
    dredbox_create_rtc(s);
    dredbox_create_pcie(s);
    dredbox_create_virtio_mmio(s);

    dredbox_create_rmc(s);

    s->bootinfo.ram_size = ms->ram_size;
    s->bootinfo.board_id = -1;
    s->bootinfo.loader_start = dredbox_memmap[DREDBOX_LOCAL_DRAM].base;
    s->bootinfo.get_dtb = dredbox_get_dtb;
    s->bootinfo.psci_conduit = QEMU_PSCI_CONDUIT_SMC;
    s->bootinfo.skip_dtb_autoload = true;
    arm_load_kernel(ARM_CPU(first_cpu), ms, &s->bootinfo);
    s->machine_done.notify = dredbox_machine_done;
    qemu_add_machine_init_done_notifier(&s->machine_done);
}

static char *dredbox_get_pool(Object *obj, Error **errp)
{
    return g_strdup(DREDBOX_COMPUTE_MACHINE(obj)->pool);
}

static void dredbox_set_pool(Object *obj, const char *value, Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);

    g_free(s->pool);
    s->pool = g_strdup(value);
}

static char *dredbox_get_pmem(Object *obj, Error **errp)
{
    return g_strdup(DREDBOX_COMPUTE_MACHINE(obj)->pmem);
}

static void dredbox_set_pmem(Object *obj, const char *value, Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);

    g_free(s->pmem);
    s->pmem = g_strdup(value);
}

static char *dredbox_get_memory_map(Object *obj, Error **errp)
{
    return g_strdup(DREDBOX_COMPUTE_MACHINE(obj)->memory_map_path);
}

static void dredbox_set_memory_map(Object *obj, const char *value,
                                   Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);

    g_free(s->memory_map_path);
    s->memory_map_path = g_strdup(value);
}

static bool dredbox_get_fabric(Object *obj, Error **errp)
{
    return DREDBOX_COMPUTE_MACHINE(obj)->fabric;
}

static void dredbox_set_fabric(Object *obj, bool value, Error **errp)
{
    DREDBOX_COMPUTE_MACHINE(obj)->fabric = value;
}

static bool dredbox_get_rmc_numa(Object *obj, Error **errp)
{
    return DREDBOX_COMPUTE_MACHINE(obj)->rmc_numa;
}

static void dredbox_set_rmc_numa(Object *obj, bool value, Error **errp)
{
    DREDBOX_COMPUTE_MACHINE(obj)->rmc_numa = value;
}

static char *dredbox_get_rmc_client(Object *obj, Error **errp)
{
    return g_strdup(DREDBOX_COMPUTE_MACHINE(obj)->rmc_client);
}

static void dredbox_set_rmc_client(Object *obj, const char *value,
                                   Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);

    g_free(s->rmc_client);
    s->rmc_client = g_strdup(value);
}

static void dredbox_get_brick_id(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);

    visit_type_uint32(v, name, &s->brick_id, errp);
}

static void dredbox_set_brick_id(Object *obj, Visitor *v, const char *name,
                                 void *opaque, Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);

    visit_type_uint32(v, name, &s->brick_id, errp);
}

static bool dredbox_get_timing(Object *obj, Error **errp)
{
    return DREDBOX_COMPUTE_MACHINE(obj)->timing;
}

/*
 * timing=on needs icount in precise mode, which QEMU configures with the
 * accelerator, right after the machine's properties are set: set it up
 * here, as -icount shift=0,sleep=off would.
 */
static void dredbox_set_timing(Object *obj, bool value, Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);
    QemuOptsList *icount = qemu_find_opts("icount");
    QemuOpts *opts = qemu_opts_find(icount, NULL);

    if (value == s->timing) {
        return;
    }
    if (phase_check(PHASE_MACHINE_CREATED)) {
        error_setg(errp, "dredbox-compute: timing can only be set when"
                   " QEMU starts (-machine dredbox-compute,timing=on)");
        return;
    }
    if (value) {
        if (opts) {
            error_setg(errp, "dredbox-compute: timing=on sets up -icount"
                       " itself; drop the -icount option");
            return;
        }
        if (!qemu_opts_parse_noisily(icount, "shift=0,sleep=off", false)) {
            error_setg(errp, "dredbox-compute: timing=on: cannot set up"
                       " icount");
            return;
        }
    } else if (opts) {
        qemu_opts_del(opts);
    }
    s->timing = value;
}

static char *dredbox_get_timing_plugin(Object *obj, Error **errp)
{
    return g_strdup(DREDBOX_COMPUTE_MACHINE(obj)->timing_plugin);
}

static void dredbox_set_timing_plugin(Object *obj, const char *value,
                                      Error **errp)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);

    g_free(s->timing_plugin);
    s->timing_plugin = g_strdup(value);
}

/* A bandwidth in bytes/s, with a size's suffixes (1800M: 1800 MiB/s) */
static void dredbox_get_bandwidth(Object *obj, Visitor *v, const char *name,
                                  void *opaque, Error **errp)
{
    visit_type_size(v, name, opaque, errp);
}

static void dredbox_set_bandwidth(Object *obj, Visitor *v, const char *name,
                                  void *opaque, Error **errp)
{
    uint64_t value;

    if (!visit_type_size(v, name, &value, errp)) {
        return;
    }
    /* From a line a second to a line a picosecond (the model's unit) */
    if (value < 64 || value > 64 * TiB) {
        error_setg(errp, "%s must be 64 to 64T bytes per second", name);
        return;
    }
    *(uint64_t *)opaque = value;
}

static void dredbox_add_bandwidth(Object *obj, const char *name,
                                  uint64_t *field, uint64_t value,
                                  const char *desc)
{
    *field = value;
    object_property_add(obj, name, "size", dredbox_get_bandwidth,
                        dredbox_set_bandwidth, NULL, field);
    object_property_set_description(obj, name, desc);
}

static void dredbox_compute_instance_init(Object *obj)
{
    DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(obj);
    static const struct {
        const char *name, *desc;
        size_t offset;
        uint32_t value;
    } figures[] = {
#define FIGURE(name, field, value, desc) \
        { name, desc, offsetof(DredboxComputeState, field), value }
        FIGURE("timing-l1-ns", l1_ns, DREDBOX_TIMING_L1_NS,
               "timing=on: latency of a load that hits the L1 data cache"),
        FIGURE("timing-l2-ns", l2_ns, DREDBOX_TIMING_L2_NS,
               "timing=on: latency of a load that hits the L2 cache"),
        FIGURE("timing-dram-ns", dram_ns, DREDBOX_TIMING_DRAM_NS,
               "timing=on: latency of local DRAM (and of a memory brick's"
               " own DRAM)"),
        FIGURE("timing-rmc-ns", rmc_ns, DREDBOX_TIMING_RMC_NS,
               "timing=on: the RMC's round trip to a memory brick, without"
               " the fabric"),
        FIGURE("timing-tray-local-ns", class_ns[0],
               DREDBOX_TIMING_TRAY_LOCAL_NS,
               "timing=on: the fabric's round trip in a tray"),
        FIGURE("timing-rack-local-ns", class_ns[1],
               DREDBOX_TIMING_RACK_LOCAL_NS,
               "timing=on: the fabric's round trip in a rack"),
        FIGURE("timing-inter-rack-ns", class_ns[2],
               DREDBOX_TIMING_INTER_RACK_NS,
               "timing=on: the fabric's round trip between racks"),
        FIGURE("timing-quantum-ns", quantum_ns, DREDBOX_TIMING_QUANTUM_NS,
               "timing=on with several vCPUs: how far one runs ahead of the"
               " others (0: they run in turn on one clock)"),
#undef FIGURE
    };

    s->timing_fd = -1;
    s->guest_max_nodes = DREDBOX_GUEST_MAX_NODES;
    object_property_add_uint32_ptr(obj, "guest-max-nodes",
                                   &s->guest_max_nodes,
                                   OBJ_PROP_FLAG_READWRITE);
    object_property_set_description(obj, "guest-max-nodes",
        "NUMA nodes the guest's kernel takes (Debian's arm64 kernels: 16);"
        " more nodes, with rmc-numa's, are refused");
    for (int i = 0; i < ARRAY_SIZE(figures); i++) {
        uint32_t *p = (uint32_t *)((char *)s + figures[i].offset);

        *p = figures[i].value;
        object_property_add_uint32_ptr(obj, figures[i].name, p,
                                       OBJ_PROP_FLAG_READWRITE);
        object_property_set_description(obj, figures[i].name,
                                        figures[i].desc);
    }
    dredbox_add_bandwidth(obj, "timing-dram-bandwidth", &s->dram_bw,
                          DREDBOX_TIMING_DRAM_BW,
                          "timing=on: bytes per second the brick's DRAM"
                          " delivers");
    dredbox_add_bandwidth(obj, "timing-link-bandwidth", &s->link_bw,
                          DREDBOX_TIMING_LINK_BW,
                          "timing=on: bytes per second of each link to a"
                          " memory brick");
}

static const CPUArchIdList *dredbox_possible_cpu_arch_ids(MachineState *ms)
{
    int n;

    if (ms->possible_cpus) {
        return ms->possible_cpus;
    }
    ms->possible_cpus = g_malloc0(sizeof(CPUArchIdList) +
                                  sizeof(CPUArchId) * ms->smp.max_cpus);
    ms->possible_cpus->len = ms->smp.max_cpus;
    for (n = 0; n < ms->smp.max_cpus; n++) {
        CPUArchId *c = &ms->possible_cpus->cpus[n];

        c->type = ms->cpu_type;
        /* One cluster of up to four cores, like the A53 APU. */
        c->arch_id = arm_build_mp_affinity(n, DREDBOX_MAX_CPUS);
        c->props.has_socket_id = true;
        c->props.socket_id = 0;
        c->props.has_core_id = true;
        c->props.core_id = n;
        c->props.has_thread_id = true;
        c->props.thread_id = 0;
    }
    return ms->possible_cpus;
}

static CpuInstanceProperties
dredbox_cpu_index_to_props(MachineState *ms, unsigned cpu_index)
{
    const CPUArchIdList *possible = dredbox_possible_cpu_arch_ids(ms);

    assert(cpu_index < possible->len);
    return possible->cpus[cpu_index].props;
}

static int64_t dredbox_get_default_cpu_node_id(const MachineState *ms,
                                               int idx)
{
    /* All cores of the brick share its local DRAM: node 0. */
    return 0;
}

static void dredbox_device_pre_plug(HotplugHandler *hotplug_dev,
                                    DeviceState *dev, Error **errp)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_VIRTIO_MD_PCI)) {
        virtio_md_pci_pre_plug(VIRTIO_MD_PCI(dev), MACHINE(hotplug_dev),
                               errp);
    }
}

static void dredbox_device_plug(HotplugHandler *hotplug_dev,
                                DeviceState *dev, Error **errp)
{
    ERRP_GUARD();

    if (object_dynamic_cast(OBJECT(dev), TYPE_VIRTIO_MD_PCI)) {
        DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(hotplug_dev);

        virtio_md_pci_plug(VIRTIO_MD_PCI(dev), MACHINE(hotplug_dev), errp);
        if (!*errp) {
            dredbox_memory_map_update(s, dev, NULL);
        }
    }
}

static void dredbox_device_unplug_request(HotplugHandler *hotplug_dev,
                                          DeviceState *dev, Error **errp)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_VIRTIO_MD_PCI)) {
        virtio_md_pci_unplug_request(VIRTIO_MD_PCI(dev),
                                     MACHINE(hotplug_dev), errp);
    } else {
        error_setg(errp, "dredbox-compute: cannot unplug %s",
                   object_get_typename(OBJECT(dev)));
    }
}

static void dredbox_device_unplug(HotplugHandler *hotplug_dev,
                                  DeviceState *dev, Error **errp)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_VIRTIO_MD_PCI)) {
        DredboxComputeState *s = DREDBOX_COMPUTE_MACHINE(hotplug_dev);

        virtio_md_pci_unplug(VIRTIO_MD_PCI(dev), MACHINE(hotplug_dev), errp);
        dredbox_memory_map_update(s, NULL, dev);
    } else {
        error_setg(errp, "dredbox-compute: cannot unplug %s",
                   object_get_typename(OBJECT(dev)));
    }
}

static HotplugHandler *dredbox_get_hotplug_handler(MachineState *ms,
                                                   DeviceState *dev)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_VIRTIO_MD_PCI)) {
        return HOTPLUG_HANDLER(ms);
    }
    return NULL;
}

/* The brick boots Linux directly: PCI option ROMs would never run. */
static GlobalProperty dredbox_compute_globals[] = {
    { "pci-device", "romfile", "" },
};

static void dredbox_compute_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);
    static const char * const valid_cpu_types[] = {
        ARM_CPU_TYPE_NAME("cortex-a53"),
        NULL
    };

    /* QAPI's names are latency-class.h's, in the same order. */
    for (int i = 0; i < DREDBOX_CLASSES; i++) {
        g_assert(!strcmp(DredboxLatencyClass_str(i), dredbox_class_name(i)));
    }

    mc->desc = "dReDBox compute brick (4x Cortex-A53, remote memory)";
    mc->init = dredbox_compute_init;
    mc->max_cpus = DREDBOX_MAX_CPUS;
    mc->default_cpus = DREDBOX_MAX_CPUS;
    mc->default_cpu_type = ARM_CPU_TYPE_NAME("cortex-a53");
    mc->valid_cpu_types = valid_cpu_types;
    mc->default_ram_size = DREDBOX_DEFAULT_RAM;
    mc->default_ram_id = "dredbox.local-dram";
    mc->minimum_page_bits = 12;
    mc->block_default_type = IF_VIRTIO;
    mc->no_cdrom = 1;
    mc->pci_allow_0_address = true;
    mc->numa_mem_supported = true;
    mc->auto_enable_numa_with_memdev = true;
    mc->possible_cpu_arch_ids = dredbox_possible_cpu_arch_ids;
    mc->cpu_index_to_instance_props = dredbox_cpu_index_to_props;
    mc->get_default_cpu_node_id = dredbox_get_default_cpu_node_id;
    mc->get_hotplug_handler = dredbox_get_hotplug_handler;
    machine_create_default_memdev = mc->create_default_memdev;
    mc->create_default_memdev = dredbox_create_default_memdev;
    compat_props_add(mc->compat_props, dredbox_compute_globals,
                     G_N_ELEMENTS(dredbox_compute_globals));
    hc->pre_plug = dredbox_device_pre_plug;
    hc->plug = dredbox_device_plug;
    hc->unplug_request = dredbox_device_unplug_request;
    hc->unplug = dredbox_device_unplug;

    object_class_property_add(oc, "brick-id", "uint32",
                              dredbox_get_brick_id, dredbox_set_brick_id,
                              NULL, NULL);
    object_class_property_set_description(oc, "brick-id",
        "Rack-wide identifier of this compute brick (exposed to the guest "
        "as the device-tree property dredbox,brick-id)");
    object_class_property_add_str(oc, "pool", dredbox_get_pool,
                                  dredbox_set_pool);
    object_class_property_set_description(oc, "pool",
        "The rack's memory pool whose segments the Remote Memory "
        "Controller forwards to: a dredbox-pool object, or the pool "
        "daemon's socket or pool.json");
    object_class_property_add_str(oc, "client", dredbox_get_rmc_client,
                                  dredbox_set_rmc_client);
    object_class_property_set_description(oc, "client",
        "Name this brick's RMC uses with the pool (default brick<ID>; "
        "with a dredbox-pool object, the object's)");
    object_class_property_add_bool(oc, "fabric", dredbox_get_fabric,
                                   dredbox_set_fabric);
    object_class_property_set_description(oc, "fabric",
        "The rack's switch fabric sets up the RMC's links (default off: "
        "port n starts linked to the pool's n-th memory brick)");
    object_class_property_add_bool(oc, "rmc-numa", dredbox_get_rmc_numa,
                                   dredbox_set_rmc_numa);
    object_class_property_set_description(oc, "rmc-numa",
        "One empty CPU-less NUMA node per latency class after the -numa "
        "nodes, for memory a guest driver hot-adds through the RMC (needs "
        "NUMA: -numa or maxmem; default off)");
    object_class_property_add_str(oc, "pmem", dredbox_get_pmem,
                                  dredbox_set_pmem);
    object_class_property_set_description(oc, "pmem",
        "The id of a memory backend whose memory the guest sees as"
        " persistent memory (a pmem-region: /dev/pmemN), at 896 GiB");
    object_class_property_add_str(oc, "memory-map", dredbox_get_memory_map,
                                  dredbox_set_memory_map);
    object_class_property_set_description(oc, "memory-map",
        "Publish the memory map (where remote memory outside the RMC"
        " windows comes from) in this file, for tools such as the"
        " dredbox-mem plugin (docs/memory-map.md)");
    object_class_property_add_bool(oc, "timing", dredbox_get_timing,
                                   dredbox_set_timing);
    object_class_property_set_description(oc, "timing",
        "Modelled time: instructions and memory accesses that miss the "
        "modelled caches advance the guest's clock (default off; "
        "docs/timing.md)");
    object_class_property_add_str(oc, "timing-plugin",
                                  dredbox_get_timing_plugin,
                                  dredbox_set_timing_plugin);
    object_class_property_set_description(oc, "timing-plugin",
        "timing=on: the dredbox-mem plugin to load (default: "
        DREDBOX_TIMING_PLUGIN " next to the QEMU binary)");
}

static const TypeInfo dredbox_compute_info = {
    .name = TYPE_DREDBOX_COMPUTE_MACHINE,
    .parent = TYPE_MACHINE,
    .instance_size = sizeof(DredboxComputeState),
    .instance_init = dredbox_compute_instance_init,
    .class_init = dredbox_compute_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_HOTPLUG_HANDLER },
        { }
    },
};

static void dredbox_compute_register_types(void)
{
    type_register_static(&dredbox_compute_info);
}

type_init(dredbox_compute_register_types)
