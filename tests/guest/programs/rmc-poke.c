/*
 * rmc-poke BRICK BRICK_ADDR MIB: program RMC port 0 so that MIB MiB of
 * the low remote memory window go to memory brick BRICK at BRICK_ADDR,
 * write every page through the window ("dredbox-rmc TAG PAGE" at its
 * start, for the host to find), read it back, then touch the window just
 * past the entry from a child process, which must die of SIGBUS.
 * Prints RMC_ID, RMC_COMMIT_STATUS, RMC_TAG, RMC_PAGES_OK,
 * RMC_UNMAPPED_SIGNAL and RMC_UNMAPPED_FAULTS.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "rmc-lib.h"

#define WINDOW 0x40000000UL
#define PAGE 4096

static void fill_header(char *buf, unsigned tag, unsigned long page)
{
    memset(buf, 0, 32);
    snprintf(buf, 32, "dredbox-rmc %08x %06u", tag,
             (unsigned)(page % 1000000));
}

int main(int argc, char **argv)
{
    volatile uint32_t *cfg;
    volatile uint64_t *win;
    unsigned tag = (unsigned)time(NULL) ^ (unsigned)getpid() << 16;
    unsigned long pages, ok = 0;
    int status;
    pid_t child;

    if (argc != 4) {
        fprintf(stderr, "usage: rmc-poke BRICK BRICK_ADDR MIB\n");
        return 2;
    }
    pages = strtoul(argv[3], NULL, 0) * 1024 * 1024 / PAGE;
    cfg = rmc_map(RMC_CONFIG_BASE, RMC_CONFIG_SIZE);
    printf("RMC_ID=%08x\n", rmc_rd(cfg, RMC_ID));
    printf("RMC_COMMIT_STATUS=%u\n",
           rmc_map_range(cfg, 0, strtoul(argv[1], NULL, 0), WINDOW,
                         pages * PAGE, strtoull(argv[2], NULL, 0)));
    win = rmc_map(WINDOW, (pages + 1) * PAGE);

    /* Device memory: aligned 64-bit accesses only. */
    for (unsigned long p = 0; p < pages; p++) {
        uint64_t hdr[4];

        fill_header((char *)hdr, tag, p);
        for (int i = 0; i < 4; i++) {
            win[p * PAGE / 8 + i] = hdr[i];
        }
        win[p * PAGE / 8 + 4] = p * 0x9e3779b97f4a7c15ULL;
    }
    for (unsigned long p = 0; p < pages; p++) {
        uint64_t hdr[4];
        int good = win[p * PAGE / 8 + 4] == p * 0x9e3779b97f4a7c15ULL;

        fill_header((char *)hdr, tag, p);
        for (int i = 0; i < 4; i++) {
            good &= win[p * PAGE / 8 + i] == hdr[i];
        }
        ok += good;
    }
    printf("RMC_TAG=%08x\nRMC_PAGES_OK=%lu\n", tag, ok);
    fflush(stdout);

    child = fork();
    if (child == 0) {
        (void)win[pages * PAGE / 8];   /* no entry holds this address */
        _exit(0);
    }
    waitpid(child, &status, 0);
    printf("RMC_UNMAPPED_SIGNAL=%d\n", WIFSIGNALED(status) ?
           WTERMSIG(status) : 0);
    printf("RMC_UNMAPPED_FAULTS=%u\n", rmc_rd(cfg, RMC_UNMAPPED_FAULTS));
    return 0;
}
