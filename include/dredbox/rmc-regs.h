/*
 * Register interface of the dReDBox Remote Memory Controller (RMC), the
 * compute brick's glue logic; docs/rmc.md describes it in full.  Plain C
 * so that the device model, the qtests and guest programs share it.
 *
 * The 64 KiB configuration window holds three blocks:
 *
 *   0x0000  NetPort table as in the prototype: one 16-byte entry per
 *           memory port, four 32-bit fields (network info, start, end,
 *           offset); it addresses the low window only.
 *   0x1000  identification, capabilities, commit, link and interrupts.
 *   0x2000  wide NetPort table: one 64-byte entry per port with 64-bit
 *           addresses, an enable bit, the port's status and faults, and
 *           the doorbell of an engine (an accelerator brick) reached
 *           through the port (include/dredbox/accel-queue.h).
 *
 * Both tables edit the same pending entries; nothing reaches the data
 * path until a write to RMC_COMMIT makes the pending entries live.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_RMC_REGS_H
#define HW_DREDBOX_RMC_REGS_H

#define RMC_CONFIG_SIZE         0x10000
#define RMC_MAX_PORTS           32

/* Prototype NetPort table: port p at RMC_NP_BASE + p * RMC_NP_STRIDE. */
#define RMC_NP_BASE             0x0000
#define RMC_NP_STRIDE           16
#define RMC_NP_NETINFO          0x0
#define RMC_NP_START            0x4
#define RMC_NP_END              0x8
#define RMC_NP_OFFSET           0xc

/* Network info: bit 31 selects add/subtract, bits 15:0 the memory brick. */
#define RMC_NETINFO_ADD         (1u << 31)
#define RMC_NETINFO_BRICK_MASK  0xffffu
#define RMC_NETINFO_MASK        (RMC_NETINFO_ADD | RMC_NETINFO_BRICK_MASK)

/* Control block. */
#define RMC_ID                  0x1000  /* RO "DRMC" */
#define RMC_VERSION             0x1004  /* RO major << 16 | minor */
#define RMC_CAP                 0x1008  /* RO, RMC_CAP_* */
#define RMC_COMMIT              0x100c  /* W: commit; R: commits done */
#define RMC_COMMIT_STATUS       0x1010  /* RO: result of the last commit */
#define RMC_LINK                0x1014  /* RO: bit p = port p's link up */
#define RMC_IRQ_STATUS          0x1018  /* R, write 1 to clear */
#define RMC_IRQ_ENABLE          0x101c  /* RW */
#define RMC_LOW_WINDOW_BASE     0x1020  /* RO 64-bit, low word first */
#define RMC_LOW_WINDOW_SIZE     0x1028
#define RMC_HIGH_WINDOW_BASE    0x1030
#define RMC_HIGH_WINDOW_SIZE    0x1038
#define RMC_UNMAPPED_FAULTS     0x1040  /* R: faults that hit no entry;
                                         * W: clear the latch */
#define RMC_UNMAPPED_ADDR       0x1048  /* RO 64-bit: the last of them */
#define RMC_COMPLETION          0x1050  /* R: bit p = port p's engine
                                         * finished work; write 1 to clear */

#define RMC_ID_VALUE            0x434d5244u     /* "DRMC", little-endian */
#define RMC_VERSION_VALUE       0x00010002u     /* 1.2: commits that take
                                                 * time, results per port */

#define RMC_CAP_PORTS_MASK      0xffu           /* number of ports */
#define RMC_CAP_NP_STRIDE_SHIFT 8               /* prototype entry bytes */
#define RMC_CAP_WIDE_STRIDE_SHIFT 16            /* wide entry bytes */
#define RMC_CAP_IRQ             (1u << 24)
#define RMC_CAP_DOORBELL        (1u << 25)      /* per-port doorbells */
#define RMC_CAP_IMMEDIATE       (1u << 26)      /* entries live as written */

/*
 * Where software puts each port's memory (docs/memory-map.md): port p's
 * range starts at the high window's base + p * rmc_port_window(); 16 GiB
 * each up to 16 ports in the 256 GiB window, else the largest power of two
 * that gives every port its own.  A convention of the driver and the SDM
 * controller: entries may map any range.
 */
#define RMC_PORT_WINDOW_MAX     (16ULL << 30)

static inline unsigned long long rmc_port_window(unsigned long long high_size,
                                                 unsigned nports)
{
    unsigned long long w = RMC_PORT_WINDOW_MAX;

    while (nports && w * nports > high_size) {
        w >>= 1;
    }
    return w;
}

/* RMC_COMMIT_STATUS: bits 7:0 a RMC_COMMIT_*, bits 15:8 the port. */
#define RMC_COMMIT_OK           0
#define RMC_COMMIT_BAD_RANGE    1   /* start > end */
#define RMC_COMMIT_MISALIGNED   2   /* start or end + 1 not 4 KiB aligned */
#define RMC_COMMIT_NO_WINDOW    3   /* range not inside one window */
#define RMC_COMMIT_OVERLAP      4   /* overlaps another enabled entry */
#define RMC_COMMIT_WRAP         5   /* translation under- or overflows */
#define RMC_COMMIT_PORT_SHIFT   8

/* RMC_IRQ_STATUS / RMC_IRQ_ENABLE */
#define RMC_IRQ_FAULT           (1u << 0)   /* a fault was latched */
#define RMC_IRQ_LINK            (1u << 1)   /* a port's link changed */
#define RMC_IRQ_COMMIT_ERROR    (1u << 2)   /* a commit was refused */
#define RMC_IRQ_COMPLETION      (1u << 3)   /* an engine finished work */
#define RMC_IRQ_ENGINE          (1u << 4)   /* an engine came or went */
#define RMC_IRQ_MASK            0x1fu

/* Wide NetPort table: port p at RMC_WIDE_BASE + p * RMC_WIDE_STRIDE. */
#define RMC_WIDE_BASE           0x2000
#define RMC_WIDE_STRIDE         64
#define RMC_WIDE_NETINFO        0x00    /* as in the prototype table */
#define RMC_WIDE_CTRL           0x04    /* RMC_CTRL_* */
#define RMC_WIDE_START          0x08    /* 64-bit, low word first */
#define RMC_WIDE_END            0x10    /* 64-bit, inclusive */
#define RMC_WIDE_OFFSET         0x18    /* 64-bit */
#define RMC_WIDE_STATUS         0x20    /* RO, RMC_STATUS_* */
#define RMC_WIDE_FAULTS         0x24    /* RO: faults counted on the port */
#define RMC_WIDE_FAULT_ADDR     0x28    /* RO 64-bit: last faulting address */
#define RMC_WIDE_FAULT_REASON   0x30    /* RO: RMC_FAULT_* of the last one */
#define RMC_WIDE_FAULT_CLEAR    0x34    /* W: any value clears the latch */
#define RMC_WIDE_DOORBELL       0x38    /* W: ring the port's engine with
                                         * the value; R: doorbells sent */
#define RMC_WIDE_COMPLETIONS    0x3c    /* RO: completions received */

#define RMC_CTRL_ENABLE         (1u << 0)
#define RMC_CTRL_MASK           RMC_CTRL_ENABLE

#define RMC_STATUS_LIVE         (1u << 0)   /* committed and enabled */
#define RMC_STATUS_LINK         (1u << 1)   /* a circuit reaches a brick */
#define RMC_STATUS_FAULT        (1u << 2)   /* a fault is latched */
#define RMC_STATUS_PENDING      (1u << 3)   /* pending differs from live */
#define RMC_STATUS_ENGINE       (1u << 4)   /* an engine answers the doorbell */
#define RMC_STATUS_COMMITTING   (1u << 5)   /* a commit of the port is under
                                             * way: wait for it to clear */
/* bits 15:8: the RMC_COMMIT_* of the port's last commit, once done */
#define RMC_STATUS_RESULT_SHIFT 8
#define RMC_STATUS_RESULT_MASK  (0xffu << RMC_STATUS_RESULT_SHIFT)

#define RMC_FAULT_NONE          0
#define RMC_FAULT_UNMAPPED      1   /* no live entry holds the address */
#define RMC_FAULT_NO_LINK       2   /* the port has no circuit */
#define RMC_FAULT_WRONG_BRICK   3   /* the circuit reaches another brick */
#define RMC_FAULT_NOT_ALLOCATED 4   /* translated offset not in a segment */
#define RMC_FAULT_READ_ONLY     5   /* a write to a read-only segment */
#define RMC_FAULT_POISONED      6   /* the page has an uncorrectable error */
#define RMC_FAULT_REASONS       7

/*
 * The name of fault reason @reason: QAPI's DredboxRmcFault has the
 * same names in the same order (checked when the RMC's class is set up),
 * and the guest's driver logs them.
 */
static inline const char *rmc_fault_reason_name(unsigned reason)
{
    static const char *const name[RMC_FAULT_REASONS] = {
        "none", "unmapped", "no-link", "wrong-brick", "not-allocated",
        "read-only", "poisoned",
    };

    return reason < RMC_FAULT_REASONS ? name[reason] : "unknown";
}

#endif
