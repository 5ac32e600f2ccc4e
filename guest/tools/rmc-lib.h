/*
 * Driving the Remote Memory Controller from user space through /dev/mem,
 * for the guest test programs (static, no driver needed; its registers
 * through the driver's regs file when it is bound).  The register
 * layout is the device model's own header.
 */
#ifndef RMC_LIB_H
#define RMC_LIB_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dredbox/address-map.h"
#include "dredbox/rmc-regs.h"
#include "rmc-regs-map.h"

static int rmc_memfd = -1;

/* Map @size bytes of physical memory at @phys (uncached, via /dev/mem). */
static inline void *rmc_map(uint64_t phys, size_t size)
{
    void *p;

    if (rmc_memfd < 0) {
        rmc_memfd = open("/dev/mem", O_RDWR | O_SYNC);
        if (rmc_memfd < 0) {
            perror("open /dev/mem");
            exit(1);
        }
    }
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rmc_memfd, phys);
    if (p == MAP_FAILED) {
        perror("mmap /dev/mem");
        exit(1);
    }
    return p;
}

/* The RMC's register page (rmc-regs-map.h); exits if it cannot be had. */
static inline volatile uint32_t *rmc_cfg(void)
{
    char err[200];
    volatile uint32_t *cfg = rmc_regs_map(err, sizeof(err));

    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return cfg;
}

static inline uint32_t rmc_rd(volatile uint32_t *cfg, uint32_t off)
{
    return cfg[off / 4];
}

static inline void rmc_wr(volatile uint32_t *cfg, uint32_t off, uint32_t v)
{
    cfg[off / 4] = v;
}

static inline void rmc_wr64(volatile uint32_t *cfg, uint32_t off, uint64_t v)
{
    rmc_wr(cfg, off, v);
    rmc_wr(cfg, off + 4, v >> 32);
}

/*
 * Program port @port to send [@start, @start + @size) to @brick at
 * @brick_addr (subtracting or adding the offset as needed) and commit it.
 * Returns RMC_COMMIT_STATUS.
 */
static inline uint32_t rmc_map_range(volatile uint32_t *cfg, unsigned port,
                                     uint16_t brick, uint64_t start,
                                     uint64_t size, uint64_t brick_addr)
{
    uint32_t e = RMC_WIDE_BASE + port * RMC_WIDE_STRIDE;
    int add = brick_addr >= start;

    rmc_wr(cfg, e + RMC_WIDE_NETINFO, brick | (add ? RMC_NETINFO_ADD : 0));
    rmc_wr64(cfg, e + RMC_WIDE_START, start);
    rmc_wr64(cfg, e + RMC_WIDE_END, start + size - 1);
    rmc_wr64(cfg, e + RMC_WIDE_OFFSET,
             add ? brick_addr - start : start - brick_addr);
    rmc_wr(cfg, e + RMC_WIDE_CTRL, RMC_CTRL_ENABLE);
    rmc_wr(cfg, RMC_COMMIT, 1u << port);
    return rmc_rd(cfg, RMC_COMMIT_STATUS);
}

#endif
