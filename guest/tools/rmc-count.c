/*
 * rmc-count BRICK_A ADDR_A BRICK_B ADDR_B N_A N_B M LOCAL_PHYS: a known
 * access pattern for the memory-access plugin's test.  Port 0 maps 1 MiB
 * of the low window to BRICK_A at ADDR_A: N_A 8-byte stores through it.
 * Then the entry moves to port 1, BRICK_B at ADDR_B (a reprogram): N_B
 * stores to the same local addresses.  Then M 8-byte loads from
 * LOCAL_PHYS, local DRAM Linux does not use (mem=).  Prints COUNT_DONE=1.
 */
#include "rmc-lib.h"

#define SPAN (1 << 20)

static void clear(volatile uint32_t *cfg, unsigned port)
{
    rmc_wr(cfg, RMC_WIDE_BASE + port * RMC_WIDE_STRIDE + RMC_WIDE_CTRL, 0);
    rmc_wr(cfg, RMC_COMMIT, 1u << port);
}

int main(int argc, char **argv)
{
    volatile uint32_t *cfg;
    volatile uint64_t *win, *local;
    unsigned long a[8];
    uint64_t sum = 0;

    if (argc != 9) {
        fprintf(stderr, "usage: rmc-count BRICK_A ADDR_A BRICK_B ADDR_B N_A"
                " N_B M LOCAL_PHYS\n");
        return 2;
    }
    for (int i = 0; i < 8; i++) {
        a[i] = strtoul(argv[i + 1], NULL, 0);
    }
    cfg = rmc_cfg();
    win = rmc_map(DREDBOX_RMC_LOW_WINDOW_BASE, SPAN);
    local = rmc_map(a[7], SPAN);
    if (rmc_map_range(cfg, 0, a[0], DREDBOX_RMC_LOW_WINDOW_BASE, SPAN, a[1])) {
        fprintf(stderr, "rmc-count: commit refused\n");
        return 1;
    }
    for (unsigned long i = 0; i < a[4]; i++) {
        win[(i * 64) % (SPAN / 8)] = i;
    }
    clear(cfg, 0);
    if (rmc_map_range(cfg, 1, a[2], DREDBOX_RMC_LOW_WINDOW_BASE, SPAN, a[3])) {
        fprintf(stderr, "rmc-count: commit refused\n");
        return 1;
    }
    for (unsigned long i = 0; i < a[5]; i++) {
        win[(i * 64) % (SPAN / 8)] = ~i;
    }
    clear(cfg, 1);
    for (unsigned long i = 0; i < a[6]; i++) {
        sum += local[(i * 8) % (SPAN / 8)];
    }
    printf("COUNT_DONE=1\nCOUNT_SUM=%llu\n", (unsigned long long)sum);
    return 0;
}
