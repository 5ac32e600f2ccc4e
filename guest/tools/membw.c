/*
 * membw MIB ROUNDS NODE...: memory bandwidth of each NUMA node, measured
 * in interleaved rounds so that all nodes see the same host conditions.
 * Each round, for each node: memset then memcpy over a MIB MiB buffer
 * bound to that node (with BENCH_GO, the rounds start once the programs
 * started beside it are ready too: bench-lib.h).  Prints the median over
 * rounds, in MB/s:
 *   BW_NODE<n>_WRITE=<MB/s>  BW_NODE<n>_COPY=<MB/s>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench-lib.h"

#define MPOL_BIND 2
#define MAX_NODES 8

/* Two buffers on @node: the copy's source and destination. */
static char *node_buffer(int node, size_t size)
{
    unsigned long mask = 1UL << node;
    char *p = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED ||
        syscall(SYS_mbind, p, 2 * size, MPOL_BIND, &mask, 64, 0)) {
        perror("membw: buffer");
        exit(1);
    }
    memset(p, 1, 2 * size);     /* fault it in before measuring */
    return p;
}

int main(int argc, char **argv)
{
    double wr[MAX_NODES][MAX_ROUNDS], cp[MAX_NODES][MAX_ROUNDS];
    char *buf[MAX_NODES];
    int nodes = argc - 3, rounds;
    size_t size;

    if (argc < 4 || nodes > MAX_NODES || atoi(argv[1]) <= 0 ||
        (rounds = atoi(argv[2])) <= 0 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: membw MIB ROUNDS NODE...\n");
        return 2;
    }
    size = (size_t)atoi(argv[1]) << 20;
    for (int n = 0; n < nodes; n++) {
        buf[n] = node_buffer(atoi(argv[n + 3]), size);
    }
    bench_start_together();
    for (int r = 0; r < rounds; r++) {
        for (int n = 0; n < nodes; n++) {
            double t0 = now(), t1, t2;

            memset(buf[n], r, size);
            t1 = now();
            memcpy(buf[n] + size, buf[n], size);
            t2 = now();
            wr[n][r] = size / (t1 - t0) / 1e6;
            cp[n][r] = size / (t2 - t1) / 1e6;
        }
    }
    for (int n = 0; n < nodes; n++) {
        printf("BW_NODE%s_WRITE=%.0f\nBW_NODE%s_COPY=%.0f\n", argv[n + 3],
               median(wr[n], rounds), argv[n + 3], median(cp[n], rounds));
    }
    return 0;
}
