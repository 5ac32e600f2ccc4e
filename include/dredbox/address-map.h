/*
 * The compute brick's physical address map as software outside QEMU sees
 * it (docs/memory-map.md): the one definition for the machine
 * (hw/dredbox/compute-brick.c), the rack tools, the TCG plugin, the guest
 * software and the tests.  On-board devices that only the device tree
 * names (GIC, UART, PCIe, virtio-mmio) stay in the machine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_ADDRESS_MAP_H
#define DREDBOX_ADDRESS_MAP_H

#include <stdint.h>

#define DREDBOX_ADDR_GIB                (UINT64_C(1) << 30)

/* The RMC's registers (rmc-regs.h: RMC_CONFIG_SIZE), when the device
 * tree is not there */
#define DREDBOX_RMC_CONFIG_BASE         UINT64_C(0xff080000)
/* The prototype sends every access above 1 GiB to the RMC. */
#define DREDBOX_RMC_LOW_WINDOW_BASE     (1 * DREDBOX_ADDR_GIB)
#define DREDBOX_RMC_LOW_WINDOW_SIZE     (1 * DREDBOX_ADDR_GIB)
/* Local DRAM, then the memory of any further -numa nodes */
#define DREDBOX_LOCAL_DRAM_BASE         (4 * DREDBOX_ADDR_GIB)
#define DREDBOX_LOCAL_DRAM_SIZE         (252 * DREDBOX_ADDR_GIB)
/* Hot-plugged memory devices (virtio-mem) */
#define DREDBOX_DEVICE_MEMORY_BASE      (256 * DREDBOX_ADDR_GIB)
#define DREDBOX_DEVICE_MEMORY_SIZE      (256 * DREDBOX_ADDR_GIB)
/* The RMC's high window: one range per memory port (rmc_port_window()) */
#define DREDBOX_RMC_HIGH_WINDOW_BASE    (512 * DREDBOX_ADDR_GIB)
#define DREDBOX_RMC_HIGH_WINDOW_SIZE    (256 * DREDBOX_ADDR_GIB)
#define DREDBOX_PCIE_MMIO_HIGH_BASE     (768 * DREDBOX_ADDR_GIB)
#define DREDBOX_PCIE_MMIO_HIGH_SIZE     (128 * DREDBOX_ADDR_GIB)
/*
 * Memory comes and goes in blocks of this size: arm64 Linux's memory
 * block, the pool's granule, virtio-mem's block size in a rack.
 */
#define DREDBOX_MEMORY_BLOCK            (UINT64_C(128) << 20)
/* An uncorrectable error takes out this much (a poisoned page) */
#define DREDBOX_POISON_PAGE             4096
/* Persistent memory (pmem=), up to the Cortex-A53's 40-bit addresses */
#define DREDBOX_PMEM_BASE               (896 * DREDBOX_ADDR_GIB)
#define DREDBOX_PMEM_SIZE               (128 * DREDBOX_ADDR_GIB)

#endif
