/*
 * numa-touch NODE MIB [hold|pin]: bind MIB MiB of fresh memory to NUMA node
 * NODE, write every page, read it back, and ask the kernel where each page
 * lives.  Each page starts with "dredbox-touch TAG PAGE" so that the host
 * can find the pages in the memory brick; "hold" keeps the memory (and
 * says "DREDBOX-STEP touched") until the brick is stopped, and reads it
 * all again on each SIGUSR1 (another TOUCH_VERIFIED line; SIGBUS kills
 * it if the memory is gone).  "pin" holds it too, and also splices its
 * first 64 KiB into a pipe that nobody reads: the pipe holds references to
 * those pages, so the kernel cannot migrate them and offlining their
 * memory block cannot finish (as with a device's DMA into user memory).
 * Prints:
 *   TOUCH_TAG=<tag>  TOUCH_PAGES=<pages>  TOUCH_ON_NODE=<pages on node>
 *   TOUCH_VERIFIED=<pages that read back intact>
 * Raw syscalls: the guest has no libnuma.
 */
#define _GNU_SOURCE             /* vmsplice */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MPOL_BIND 2
#define MPOL_MF_STRICT (1 << 0)
#define HEADER 32

static volatile sig_atomic_t verify_again;

static void on_usr1(int sig)
{
    verify_again = 1;
}

static void fill_page(char *page, long size, unsigned tag, unsigned long p)
{
    uint64_t *w = (uint64_t *)(page + HEADER);

    snprintf(page, HEADER, "dredbox-touch %08x %06u", tag,
             (unsigned)(p % 1000000));
    for (long i = 0; i < (size - HEADER) / 8; i++) {
        w[i] = (p << 20 | i) * 0x9e3779b97f4a7c15ULL;
    }
}

/* The pages that still hold what fill_page() wrote */
static unsigned long verify(const char *mem, char *expect, long page,
                            unsigned long pages, unsigned tag)
{
    unsigned long verified = 0;

    for (unsigned long p = 0; p < pages; p++) {
        fill_page(expect, page, tag, p);
        verified += !memcmp(mem + p * page, expect, page);
    }
    return verified;
}

int main(int argc, char **argv)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned long nodemask, pages, on_node = 0, verified = 0;
    unsigned tag = (unsigned)time(NULL) ^ (unsigned)getpid() << 16;
    char *mem, *expect;
    void **addrs;
    int *status, node;

    if (argc < 3 || (node = atoi(argv[1])) < 0 || node >= 64 ||
        atol(argv[2]) <= 0) {
        fprintf(stderr, "usage: numa-touch NODE MIB [hold|pin]\n");
        return 2;
    }
    pages = atol(argv[2]) * 1024 * 1024 / page;
    mem = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("numa-touch: mmap");
        return 1;
    }
    nodemask = 1UL << node;
    /*
     * A node that just got memory joins the tasks' allowed nodes a moment
     * later (the cpuset code learns of it from a work item): until then
     * mbind says EINVAL.  A liveness deadline, 30 s: on a loaded host the
     * work item waited more than 5 s once (t-rmc-driver, round 15).
     */
    for (int try = 0; syscall(SYS_mbind, mem, pages * page, MPOL_BIND,
                              &nodemask, 64, MPOL_MF_STRICT); try++) {
        if (errno != EINVAL || try == 3000) {
            perror("numa-touch: mbind");
            if (errno == EINVAL) {
                fprintf(stderr, "numa-touch: node %d is not among this"
                        " task's allowed nodes (see Mems_allowed_list in"
                        " /proc/self/status): a task forked while the"
                        " kernel added the node can miss it; run again\n",
                        node);
            }
            return 1;
        }
        usleep(10000);
    }
    for (unsigned long p = 0; p < pages; p++) {
        fill_page(mem + p * page, page, tag, p);
    }
    expect = malloc(page);
    addrs = calloc(pages, sizeof(*addrs));
    status = calloc(pages, sizeof(*status));
    for (unsigned long p = 0; p < pages; p++) {
        addrs[p] = mem + p * page;
    }
    verified = verify(mem, expect, page, pages, tag);
    /* With no target nodes, move_pages reports where each page is. */
    if (syscall(SYS_move_pages, 0, pages, addrs, NULL, status, 0)) {
        perror("numa-touch: move_pages");
        return 1;
    }
    for (unsigned long p = 0; p < pages; p++) {
        on_node += status[p] == node;
    }
    printf("TOUCH_TAG=%08x\nTOUCH_PAGES=%lu\nTOUCH_ON_NODE=%lu\n"
           "TOUCH_VERIFIED=%lu\n", tag, pages, on_node, verified);
    if (argc > 3 && !strcmp(argv[3], "pin")) {
        struct iovec iov = { mem, 65536 < pages * page ? 65536 : pages * page };
        int pfd[2];

        if (pipe(pfd) ||
            vmsplice(pfd[1], &iov, 1, 0) != (ssize_t)iov.iov_len) {
            perror("numa-touch: vmsplice");
            return 1;
        }
    }
    if (argc > 3 && (!strcmp(argv[3], "hold") || !strcmp(argv[3], "pin"))) {
        sigset_t usr1, old;

        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        /* Blocked but while waiting, so that no signal slips by. */
        sigprocmask(SIG_BLOCK, &usr1, &old);
        signal(SIGUSR1, on_usr1);
        printf("DREDBOX-STEP touched\n");
        fflush(stdout);
        for (;;) {
            sigsuspend(&old);
            if (verify_again) {
                verify_again = 0;
                printf("TOUCH_VERIFIED=%lu\n",
                       verify(mem, expect, page, pages, tag));
                fflush(stdout);
            }
        }
    }
    return 0;
}
