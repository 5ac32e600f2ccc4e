/*
 * chase NAME NODE KIB HOPS: the latency of a dependent load, measured in
 * the guest's own clock (clock_gettime) with a pointer chase over KIB KiB
 * of fresh memory (bound to NUMA node NODE, or anywhere for -1): one
 * pointer per 64-byte line, the lines in one random cycle (the same for
 * every run), so that each load depends on the one before and no
 * prefetcher can guess the next.  HOPS is rounded down to a multiple
 * of 64.  One lap first (warm-up: the caches
 * then hold what fits), then HOPS timed loads (with BENCH_GO, once the
 * programs started beside it are ready too: bench-lib.h).  Prints
 *   NAME_PS=<picoseconds per load>
 * and, once, CNTFRQ=<the generic timer's frequency>.
 * Raw syscalls: the guest has no libnuma.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench-lib.h"

#define MPOL_BIND 2
#define MPOL_MF_STRICT (1 << 0)
#define LINE 64

/* Integer nanoseconds: a double of seconds would round a hop's */
static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* 64 dependent loads: the loop's own instructions add 1/20 ns a load. */
#define HOP(p)      ((p) = *(void **)(p))
#define HOP4(p)     do { HOP(p); HOP(p); HOP(p); HOP(p); } while (0)
#define HOP16(p)    do { HOP4(p); HOP4(p); HOP4(p); HOP4(p); } while (0)
#define HOP64(p)    do { HOP16(p); HOP16(p); HOP16(p); HOP16(p); } while (0)

int main(int argc, char **argv)
{
    unsigned long nodemask, lines, hops, i;
    uint64_t seed = 0x9e3779b97f4a7c15ULL, t0, t1, freq;
    uint32_t *order;
    size_t size;
    void *p;
    char *mem;
    int node;

    if (argc != 5 || atol(argv[3]) <= 0 || atol(argv[4]) < 64) {
        fprintf(stderr, "usage: chase NAME NODE KIB HOPS\n");
        return 2;
    }
    node = atoi(argv[2]);
    size = atol(argv[3]) * 1024UL;
    hops = atol(argv[4]) / 64 * 64;
    lines = size / LINE;
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    order = malloc(lines * sizeof(*order));
    if (mem == MAP_FAILED || !order) {
        perror("chase: memory");
        return 1;
    }
    if (node >= 0) {
        nodemask = 1UL << node;
        if (syscall(SYS_mbind, mem, size, MPOL_BIND, &nodemask, 64,
                    MPOL_MF_STRICT)) {
            perror("chase: mbind");
            return 1;
        }
    }
    /* Sattolo's shuffle: one cycle through every line. */
    for (i = 0; i < lines; i++) {
        order[i] = i;
    }
    for (i = lines - 1; i > 0; i--) {
        unsigned long j;
        uint32_t t;

        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        j = seed % i;
        t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (i = 0; i < lines; i++) {
        *(void **)(mem + (size_t)order[i] * LINE) =
            mem + (size_t)order[(i + 1) % lines] * LINE;
    }
    free(order);

    p = mem;
    for (i = 0; i < lines; i++) {
        HOP(p);
    }
    bench_start_together();
    t0 = now_ns();
    for (i = 0; i < hops; i += 64) {
        HOP64(p);
    }
    t1 = now_ns();

    asm volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    printf("CNTFRQ=%llu\n", (unsigned long long)freq);
    /* p keeps the chase from being optimised away. */
    printf("%s_PS=%llu\n", argv[1], p ?
           (unsigned long long)((t1 - t0) * 1000 / hops) : 0ULL);
    return 0;
}
