/*
 * rmc-bench BRICK BRICK_ADDR MIB ROUNDS LOCAL_PHYS: what the RMC costs.
 *  - bandwidth: the same 64-bit store and load loops over MIB MiB of
 *    the low window (an RMC entry onto memory brick BRICK at BRICK_ADDR),
 *    of local DRAM the kernel does not use (at LOCAL_PHYS; boot with
 *    mem=) mapped the same way through /dev/mem, and of ordinary local
 *    memory; interleaved rounds, medians in MB/s.  /dev/mem maps both as
 *    Device memory, which QEMU checks access by access, so the first two
 *    compare the RMC with local DRAM like for like;
 *  - reprogram: time from a commit that moves the entry to the end of the
 *    first access through it, median over ROUNDS * 10, in microseconds.
 * Prints BW_{RMC,DEVMEM,LOCAL}_{WRITE,READ} and REPROGRAM_US.
 */
#include <string.h>

#include "bench-lib.h"
#include "rmc-lib.h"

/* MB/s of a store pass and of a load pass over @p. */
static void passes(volatile uint64_t *p, size_t size, double *wr, double *rd)
{
    uint64_t sum = 0;
    double t0 = now(), t1;

    for (size_t i = 0; i < size / 8; i++) {
        p[i] = i;
    }
    t1 = now();
    for (size_t i = 0; i < size / 8; i++) {
        sum += p[i];
    }
    *wr = size / (t1 - t0) / 1e6;
    *rd = size / (now() - t1) / 1e6;
    if (sum == 1) {
        puts("");   /* keep the loads */
    }
}

int main(int argc, char **argv)
{
    double lw[MAX_ROUNDS], lr[MAX_ROUNDS], rw[MAX_ROUNDS], rr[MAX_ROUNDS];
    double dw[MAX_ROUNDS], dr[MAX_ROUNDS];
    double rp[MAX_ROUNDS * 10];
    volatile uint32_t *cfg;
    volatile uint64_t *win, *local, *devmem;
    uint64_t brick_addr;
    uint16_t brick;
    size_t size;
    int rounds;

    if (argc != 6 || (rounds = atoi(argv[4])) <= 0 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: rmc-bench BRICK BRICK_ADDR MIB ROUNDS"
                " LOCAL_PHYS\n");
        return 2;
    }
    brick = strtoul(argv[1], NULL, 0);
    brick_addr = strtoull(argv[2], NULL, 0);
    size = strtoul(argv[3], NULL, 0) << 20;
    cfg = rmc_cfg();
    if (rmc_map_range(cfg, 0, brick, DREDBOX_RMC_LOW_WINDOW_BASE, size, brick_addr)) {
        fprintf(stderr, "rmc-bench: commit refused: %#x\n",
                rmc_rd(cfg, RMC_COMMIT_STATUS));
        return 1;
    }
    win = rmc_map(DREDBOX_RMC_LOW_WINDOW_BASE, size);
    devmem = rmc_map(strtoull(argv[5], NULL, 0), size);
    local = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (local == MAP_FAILED) {
        perror("rmc-bench: mmap");
        return 1;
    }
    for (int r = 0; r < rounds; r++) {
        passes(local, size, &lw[r], &lr[r]);
        passes(win, size, &rw[r], &rr[r]);
        passes(devmem, size, &dw[r], &dr[r]);
    }
    /* Move a one-page entry between two brick pages; time commit+access. */
    for (int r = 0; r < rounds * 10; r++) {
        double t0 = now();

        rmc_map_range(cfg, 1, brick, DREDBOX_RMC_LOW_WINDOW_BASE + size, 4096,
                      brick_addr + (r & 1) * 4096);
        (void)win[size / 8];
        rp[r] = (now() - t0) * 1e6;
    }
    printf("BW_LOCAL_WRITE=%.0f\nBW_LOCAL_READ=%.0f\n", median(lw, rounds),
           median(lr, rounds));
    printf("BW_RMC_WRITE=%.0f\nBW_RMC_READ=%.0f\n", median(rw, rounds),
           median(rr, rounds));
    printf("BW_DEVMEM_WRITE=%.0f\nBW_DEVMEM_READ=%.0f\n", median(dw, rounds),
           median(dr, rounds));
    printf("REPROGRAM_US=%.1f\n", median(rp, rounds * 10));
    return 0;
}
