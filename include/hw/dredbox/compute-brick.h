/*
 * dReDBox compute brick: a quad Cortex-A53 microserver whose glue logic
 * reaches remote memory bricks over the rack fabric.
 *
 * The physical memory map below is part of the board's ABI: guests, the
 * SDM controller and the tests rely on it.  docs/memory-map.md explains it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_DREDBOX_COMPUTE_BRICK_H
#define HW_DREDBOX_COMPUTE_BRICK_H

#include "hw/boards.h"
#include "hw/arm/boot.h"
#include "qemu/units.h"
#include "qom/object.h"
#include "qemu/notify.h"
#include "dredbox/address-map.h"
#include "dredbox/timing-table.h"

#define TYPE_DREDBOX_COMPUTE_MACHINE MACHINE_TYPE_NAME("dredbox-compute")
OBJECT_DECLARE_SIMPLE_TYPE(DredboxComputeState, DREDBOX_COMPUTE_MACHINE)

enum {
    DREDBOX_GIC_DIST,
    DREDBOX_GIC_CPU,
    DREDBOX_GIC_V2M,
    DREDBOX_GIC_HYP,
    DREDBOX_GIC_VCPU,
    DREDBOX_UART0,
    DREDBOX_RTC,
    DREDBOX_VIRTIO_MMIO,
    DREDBOX_PCIE_MMIO,
    DREDBOX_PCIE_PIO,
    DREDBOX_PCIE_ECAM,
    DREDBOX_RMC_LOW_WINDOW,
    DREDBOX_RMC_CONFIG,
    DREDBOX_LOCAL_DRAM,
    DREDBOX_DEVICE_MEMORY,
    DREDBOX_RMC_HIGH_WINDOW,
    DREDBOX_PCIE_MMIO_HIGH,
    DREDBOX_PMEM,
    DREDBOX_MEMMAP_COUNT,
};

/* Interrupt numbers (SPIs, i.e. GIC INTID - 32) of the on-board devices. */
enum {
    DREDBOX_IRQ_UART0 = 1,
    DREDBOX_IRQ_RTC = 2,
    DREDBOX_IRQ_PCIE = 3,           /* INTA..INTD: 3..6 */
    DREDBOX_IRQ_RMC = 8,
    DREDBOX_IRQ_VIRTIO_MMIO = 16,   /* one per transport */
    DREDBOX_IRQ_GIC_V2M = 64,       /* DREDBOX_GIC_V2M_SPIS MSI vectors */
};

#define DREDBOX_NUM_SPIS            128
#define DREDBOX_GIC_V2M_SPIS        64
#define DREDBOX_VIRTIO_TRANSPORTS   32
#define DREDBOX_VIRTIO_MMIO_SIZE    0x200
#define DREDBOX_MAX_CPUS            4
#define DREDBOX_MIN_RAM             (128 * MiB)
#define DREDBOX_DEFAULT_RAM         (1 * GiB)
/* CONFIG_NODES_SHIFT=4 in Debian's arm64 kernels */
#define DREDBOX_GUEST_MAX_NODES     16
#define DREDBOX_TIMING_HZ           1000000000  /* timing=on: 1 ns */

extern const MemMapEntry dredbox_memmap[DREDBOX_MEMMAP_COUNT];

struct DredboxComputeState {
    MachineState parent_obj;

    struct arm_boot_info bootinfo;
    DeviceState *gic;
    uint32_t gic_phandle;
    uint32_t clock_phandle;
    uint32_t msi_phandle;
    int fdt_size;
    Notifier machine_done;  /* loads the device tree */

    /* properties */
    uint32_t brick_id;
    char *pool;         /* the rack's memory pool, for the RMC */
    char *rmc_client;   /* the RMC's name with the pool */
    bool fabric;        /* a fabric sets up the RMC's links */
    bool rmc_numa;      /* CPU-less NUMA nodes for RMC memory, per class */
    uint32_t guest_max_nodes;       /* NUMA nodes the guest's kernel takes */
    char *pmem;         /* memdev id: persistent memory (pmem-region) */
    Object *pmem_backend;       /* its backend, once mapped */
    bool timing;        /* modelled time (docs/timing.md) */
    char *timing_plugin;    /* the dredbox-mem plugin it loads */
    uint32_t l1_ns, l2_ns, dram_ns, rmc_ns;
    uint32_t quantum_ns;            /* lockstep, with several vCPUs */
    uint32_t class_ns[TIMING_DESTS - 1];
    uint64_t dram_bw, link_bw;      /* bytes/s */

    /* where remote memory outside the RMC windows is (memory-map.c) */
    char *memory_map_path;  /* published there, if set */
    struct MemoryMap *memory_map;
    Notifier memory_map_changed;

    /* timing=on: shared with the plugin */
    TimingTable *timing_table;
    int timing_fd;
    char *timing_dir;   /* the RMC table's, if we made it */
    Notifier timing_exit;
    DeviceState *rmc;
};

/* memory-map.c */
void dredbox_memory_map_init(DredboxComputeState *s);
/*
 * Rebuild the map, with @plugging (which the plug handler sees before it
 * is realized) and without @unplugging; then timing mode's ranges.
 */
void dredbox_memory_map_update(DredboxComputeState *s, DeviceState *plugging,
                               DeviceState *unplugging);
/* compute-brick.c: timing mode's remote ranges, from the memory map */
void dredbox_timing_update_ranges(DredboxComputeState *s);

#endif
