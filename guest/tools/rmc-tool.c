/*
 * rmc-tool: drive the Remote Memory Controller from a guest shell through
 * /dev/mem, for tests and for people.  Addresses are in the low window.
 *
 *   rmc-tool map PORT BRICK BRICK_ADDR MIB   program and commit an entry
 *                                           for window offset 0..MIB MiB
 *   rmc-tool write TAG MIB                  write every page of it
 *   rmc-tool verify TAG MIB                 count the pages that read back
 *   rmc-tool touch OFFSET                   read one word in a child
 *
 * Each page starts with "dredbox-rmc TAG PAGE" so that the host can find
 * it in the memory brick.  Prints KEY=VALUE lines: RMC_ID,
 * RMC_COMMIT_STATUS, RMC_WRITTEN, RMC_VERIFIED, RMC_TOUCH_SIGNAL (the
 * signal that killed the reader, 0 if none), RMC_UNMAPPED_FAULTS,
 * RMC_PORT<n>_FAULTS, RMC_PORT<n>_STATUS.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "rmc-lib.h"

#define PAGE 4096

static void page_header(uint64_t hdr[4], const char *tag, unsigned long page)
{
    memset(hdr, 0, 32);
    snprintf((char *)hdr, 32, "dredbox-rmc %.8s %06u", tag,
             (unsigned)(page % 1000000));
}

static unsigned long pages_of(const char *mib)
{
    return strtoul(mib, NULL, 0) * 1024 * 1024 / PAGE;
}

/* Device memory: aligned 64-bit accesses only. */
static void write_pages(volatile uint64_t *win, const char *tag,
                        unsigned long pages)
{
    for (unsigned long p = 0; p < pages; p++) {
        uint64_t hdr[4];

        page_header(hdr, tag, p);
        for (int i = 0; i < 4; i++) {
            win[p * PAGE / 8 + i] = hdr[i];
        }
        win[p * PAGE / 8 + 4] = p * 0x9e3779b97f4a7c15ULL;
    }
    printf("RMC_WRITTEN=%lu\n", pages);
}

static void verify_pages(volatile uint64_t *win, const char *tag,
                         unsigned long pages)
{
    unsigned long ok = 0;

    for (unsigned long p = 0; p < pages; p++) {
        uint64_t hdr[4];
        int good = win[p * PAGE / 8 + 4] == p * 0x9e3779b97f4a7c15ULL;

        page_header(hdr, tag, p);
        for (int i = 0; i < 4; i++) {
            good &= win[p * PAGE / 8 + i] == hdr[i];
        }
        ok += good;
    }
    printf("RMC_VERIFIED=%lu\n", ok);
}

static void touch(volatile uint32_t *cfg, uint64_t offset)
{
    volatile uint64_t *w = rmc_map(DREDBOX_RMC_LOW_WINDOW_BASE + (offset & ~(PAGE - 1UL)), PAGE);
    int status;
    pid_t child;

    fflush(stdout);
    child = fork();
    if (child == 0) {
        (void)w[(offset % PAGE) / 8];
        _exit(0);
    }
    waitpid(child, &status, 0);
    printf("RMC_TOUCH_SIGNAL=%d\n", WIFSIGNALED(status) ? WTERMSIG(status)
                                                         : 0);
}

int main(int argc, char **argv)
{
    volatile uint32_t *cfg;
    const char *cmd = argc > 1 ? argv[1] : "";

    cfg = rmc_cfg();
    printf("RMC_ID=%08x\n", rmc_rd(cfg, RMC_ID));
    printf("RMC_IRQ_ENABLE=%#x\n", rmc_rd(cfg, RMC_IRQ_ENABLE));
    if (!strcmp(cmd, "map") && argc == 6) {
        printf("RMC_COMMIT_STATUS=%u\n",
               rmc_map_range(cfg, strtoul(argv[2], NULL, 0),
                             strtoul(argv[3], NULL, 0), DREDBOX_RMC_LOW_WINDOW_BASE,
                             pages_of(argv[5]) * PAGE,
                             strtoull(argv[4], NULL, 0)));
    } else if ((!strcmp(cmd, "write") || !strcmp(cmd, "verify")) &&
               argc == 4) {
        unsigned long pages = pages_of(argv[3]);
        volatile uint64_t *win = rmc_map(DREDBOX_RMC_LOW_WINDOW_BASE, pages * PAGE);

        (cmd[0] == 'w' ? write_pages : verify_pages)(win, argv[2], pages);
    } else if (!strcmp(cmd, "touch") && argc == 3) {
        touch(cfg, strtoull(argv[2], NULL, 0));
    } else if (strcmp(cmd, "id")) {
        fprintf(stderr, "usage: rmc-tool map PORT BRICK BRICK_ADDR MIB |"
                " write TAG MIB | verify TAG MIB | touch OFFSET | id\n");
        return 2;
    }
    printf("RMC_UNMAPPED_FAULTS=%u\n", rmc_rd(cfg, RMC_UNMAPPED_FAULTS));
    for (unsigned p = 0; p < (rmc_rd(cfg, RMC_CAP) & RMC_CAP_PORTS_MASK);
         p++) {
        printf("RMC_PORT%u_FAULTS=%u\n", p,
               rmc_rd(cfg, RMC_WIDE_BASE + p * RMC_WIDE_STRIDE +
                      RMC_WIDE_FAULTS));
        printf("RMC_PORT%u_STATUS=%#x\n", p,
               rmc_rd(cfg, RMC_WIDE_BASE + p * RMC_WIDE_STRIDE +
                      RMC_WIDE_STATUS));
    }
    return 0;
}
