/*
 * numa-touch NODE MIB: bind MIB MiB of fresh memory to NUMA node NODE,
 * write a pattern over all of it, read it back, and ask the kernel where
 * each page lives.  Prints, for host-side checks:
 *   TOUCH_NODE=<node>  TOUCH_PAGES=<pages>  TOUCH_ON_NODE=<pages on node>
 *   TOUCH_VERIFIED=<pages whose pattern read back intact>
 * Raw syscalls: the guest has no libnuma.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_BIND 2
#define MPOL_MF_STRICT (1 << 0)

int main(int argc, char **argv)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned long nodemask, pages, on_node = 0, verified = 0;
    uint64_t *mem;
    void **addrs;
    int *status, node;

    if (argc != 3 || (node = atoi(argv[1])) < 0 || node >= 64 ||
        atol(argv[2]) <= 0) {
        fprintf(stderr, "usage: numa-touch NODE MIB\n");
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
    if (syscall(SYS_mbind, mem, pages * page, MPOL_BIND, &nodemask, 64,
                MPOL_MF_STRICT)) {
        perror("numa-touch: mbind");
        return 1;
    }
    for (unsigned long i = 0; i < pages * page / 8; i++) {
        mem[i] = i * 0x9e3779b97f4a7c15ULL;
    }
    addrs = calloc(pages, sizeof(*addrs));
    status = calloc(pages, sizeof(*status));
    for (unsigned long p = 0; p < pages; p++) {
        uint64_t *w = mem + p * page / 8;
        unsigned long i, ok = 1;

        for (i = 0; i < page / 8; i++) {
            ok &= w[i] == (p * page / 8 + i) * 0x9e3779b97f4a7c15ULL;
        }
        verified += ok;
        addrs[p] = w;
    }
    /* With no target nodes, move_pages reports where each page is. */
    if (syscall(SYS_move_pages, 0, pages, addrs, NULL, status, 0)) {
        perror("numa-touch: move_pages");
        return 1;
    }
    for (unsigned long p = 0; p < pages; p++) {
        on_node += status[p] == node;
    }
    printf("TOUCH_NODE=%d\nTOUCH_PAGES=%lu\nTOUCH_ON_NODE=%lu\n"
           "TOUCH_VERIFIED=%lu\n", node, pages, on_node, verified);
    return 0;
}
