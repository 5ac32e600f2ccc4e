/*
 * dredbox-accel: use an accelerator brick from a compute brick's shell
 * (docs/accelerator.md).  Offsets are from the start of the shared
 * segment; data lives from 0x10000 (DRQ_DATA_OFFSET) up.  Sizes take K, M
 * and G.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arm_acle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "libdredbox-accel.h"

static unsigned timeout_ms = 60000;

static const char usage[] =
    "usage: dredbox-accel [-p PORT] [-w WAIT_S] [-t TIMEOUT_S] COMMAND\n"
    "  info                      the queue's port and segment\n"
    "  pattern OFF LEN SEED      write a pseudo-random pattern (CPU)\n"
    "  copy SRC DST LEN          offload a copy\n"
    "  fill DST LEN VALUE        offload a fill with a 64-bit value\n"
    "  crc32c OFF LEN            offload a CRC32C, print it\n"
    "  sha256 SRC LEN DST        offload a SHA-256 into DST, print it\n"
    "  cpu-crc32c OFF LEN        the CRC32C computed by this CPU\n"
    "  bench [LEN]               offload vs CPU, and small-job latency\n";

static uint64_t num(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 0);

    switch (*end) {
    case 'K': v <<= 10; end++; break;
    case 'M': v <<= 20; end++; break;
    case 'G': v <<= 30; end++; break;
    }
    if (*end || !*s) {
        fprintf(stderr, "dredbox-accel: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run one job; on failure say why and exit 1. */
static uint64_t run(DrqQueue *q, uint32_t op, uint64_t src, uint64_t dst,
                    uint64_t len, uint64_t arg)
{
    uint64_t result = 0;
    uint32_t st = drq_run(q, op, src, dst, len, arg, timeout_ms, &result);

    if (st != DRQ_OK) {
        fprintf(stderr, "dredbox-accel: failed: %s (status %u)\n",
                drq_strerror(st), st);
        exit(1);
    }
    return result;
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/*
 * What this CPU does to the window itself goes in aligned 8-byte words
 * (it is device memory) and must stay inside it: else a usage error.
 */
static void cpu_range(DrqQueue *q, uint64_t off, uint64_t len)
{
    if (off % 8 || len % 8 || off > drq_size(q) || len > drq_size(q) - off) {
        fprintf(stderr, "dredbox-accel: the CPU works in 8-byte words inside"
                " the segment: OFF and LEN multiples of 8, OFF + LEN at most"
                " %llu\n", (unsigned long long)drq_size(q));
        exit(2);
    }
}

static void pattern(DrqQueue *q, uint64_t off, uint64_t len, uint64_t seed)
{
    volatile uint64_t *p = drq_mem(q, off);

    for (uint64_t i = 0; i < len / 8; i++) {
        p[i] = splitmix(seed + i);
    }
}

/* CRC32C on this CPU: the ARMv8 CRC32C instructions when it has them. */
__attribute__((target("+crc")))
static uint32_t cpu_crc32c(const volatile void *buf, uint64_t len)
{
    const volatile uint64_t *p = buf;
    uint32_t crc = ~0u;

    if (!(getauxval(AT_HWCAP) & HWCAP_CRC32)) {
        fprintf(stderr, "dredbox-accel: this CPU has no CRC32 instructions\n");
        exit(1);
    }
    for (uint64_t i = 0; i < len / 8; i++) {
        crc = __crc32cd(crc, p[i]);
    }
    return ~crc;
}

static void cpu_copy(volatile uint64_t *d, const volatile uint64_t *s,
                     uint64_t len)
{
    for (uint64_t i = 0; i < len / 8; i++) {
        d[i] = s[i];
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/*
 * Offload vs this CPU on the same remote memory, side by side, this CPU
 * on local DRAM for reference, and the latency of small jobs (submission
 * to completion seen).
 */
static void bench(DrqQueue *q, uint64_t len)
{
    const uint64_t src = DRQ_DATA_OFFSET, dst = src + len;
    enum { SMALL = 200 };
    double t, off_copy, cpu_copy_s, off_crc, cpu_crc, lat[SMALL];
    double local_copy, local_crc;
    uint64_t *a, *b;
    uint32_t c1, c2;

    if (len % 8 || dst + len > drq_size(q)) {
        fprintf(stderr, "dredbox-accel: bench needs 2 x LEN of data area"
                " (LEN a multiple of 8)\n");
        exit(2);
    }
    a = malloc(len);
    b = malloc(len);
    if (!a || !b) {
        fprintf(stderr, "dredbox-accel: no memory for 2 x LEN\n");
        exit(1);
    }
    pattern(q, src, len, 1);
    /* Untimed: the memory brick's host pages are touched the first time. */
    run(q, DRQ_OP_COPY, src, dst, len, 0);
    t = now();
    run(q, DRQ_OP_COPY, src, dst, len, 0);
    off_copy = now() - t;
    t = now();
    cpu_copy(drq_mem(q, dst), drq_mem(q, src), len);
    cpu_copy_s = now() - t;
    t = now();
    c1 = run(q, DRQ_OP_CRC32C, src, 0, len, 0);
    off_crc = now() - t;
    t = now();
    c2 = cpu_crc32c(drq_mem(q, src), len);
    cpu_crc = now() - t;
    if (c1 != c2) {
        fprintf(stderr, "dredbox-accel: CRC32C differs: accelerator %08x,"
                " CPU %08x\n", c1, c2);
        exit(1);
    }
    /*
     * For reference: this CPU on its own local DRAM, both buffers touched
     * first so that no page fault is timed (not with 0: the compiler may
     * turn malloc and a zeroing memset into calloc, which touches nothing).
     */
    drq_read(q, src, a, len);
    memset(b, 1, len);
    t = now();
    cpu_copy(b, a, len);
    local_copy = now() - t;
    t = now();
    cpu_crc32c(a, len);
    local_crc = now() - t;
    free(a);
    free(b);
    for (int i = 0; i < SMALL; i++) {
        t = now();
        run(q, DRQ_OP_CRC32C, src, 0, 64, 0);
        lat[i] = now() - t;
    }
    qsort(lat, SMALL, sizeof(double), cmp_double);
    printf("bench-len=%llu\n", (unsigned long long)len);
    printf("copy-offload-mibs=%.0f\ncopy-cpu-mibs=%.0f\ncopy-ratio=%.2f\n",
           len / off_copy / 1048576, len / cpu_copy_s / 1048576,
           cpu_copy_s / off_copy);
    printf("copy-cpu-local-mibs=%.0f\n", len / local_copy / 1048576);
    printf("crc32c-offload-mibs=%.0f\ncrc32c-cpu-mibs=%.0f\n"
           "crc32c-ratio=%.2f\n", len / off_crc / 1048576,
           len / cpu_crc / 1048576, cpu_crc / off_crc);
    printf("crc32c-cpu-local-mibs=%.0f\n", len / local_crc / 1048576);
    printf("small-job-us-median=%.0f\nsmall-job-us-p90=%.0f\n"
           "small-job-us-min=%.0f\n", lat[SMALL / 2] * 1e6,
           lat[SMALL * 9 / 10] * 1e6, lat[0] * 1e6);
}

int main(int argc, char **argv)
{
    int port = -1, wait_s = 10, opt;
    char err[256];
    DrqQueue *q;
    const char *cmd;

    while ((opt = getopt(argc, argv, "p:w:t:h")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'w': wait_s = atoi(optarg); break;
        case 't': timeout_ms = atoi(optarg) * 1000; break;
        default:
            fputs(usage, opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    cmd = argv[optind];
    argv += optind + 1;
    argc -= optind + 1;
    q = drq_open(port, wait_s * 1000, err, sizeof(err));
    if (!q) {
        fprintf(stderr, "dredbox-accel: %s\n", err);
        return 1;
    }
    if (!strcmp(cmd, "info") && argc == 0) {
        printf("port=%u\nsegment-size=%llu\ndata-offset=%u\n", drq_port(q),
               (unsigned long long)drq_size(q), DRQ_DATA_OFFSET);
    } else if (!strcmp(cmd, "pattern") && argc == 3) {
        cpu_range(q, num(argv[0]), num(argv[1]));
        pattern(q, num(argv[0]), num(argv[1]), num(argv[2]));
    } else if (!strcmp(cmd, "copy") && argc == 3) {
        run(q, DRQ_OP_COPY, num(argv[0]), num(argv[1]), num(argv[2]), 0);
    } else if (!strcmp(cmd, "fill") && argc == 3) {
        run(q, DRQ_OP_FILL, 0, num(argv[0]), num(argv[1]), num(argv[2]));
    } else if (!strcmp(cmd, "crc32c") && argc == 2) {
        printf("crc32c=%08llx\n", (unsigned long long)
               run(q, DRQ_OP_CRC32C, num(argv[0]), 0, num(argv[1]), 0));
    } else if (!strcmp(cmd, "sha256") && argc == 3) {
        uint64_t dst = num(argv[2]), words = dst & ~7ull;
        uint64_t d[5];      /* the aligned words that hold the digest */

        run(q, DRQ_OP_SHA256, num(argv[0]), dst, num(argv[1]), 0);
        drq_read(q, words, d, dst % 8 ? 40 : 32);
        printf("sha256=");
        for (int i = 0; i < 32; i++) {
            printf("%02x", ((uint8_t *)d)[dst - words + i]);
        }
        printf("\n");
    } else if (!strcmp(cmd, "cpu-crc32c") && argc == 2) {
        cpu_range(q, num(argv[0]), num(argv[1]));
        printf("crc32c=%08x\n", cpu_crc32c(drq_mem(q, num(argv[0])),
                                           num(argv[1])));
    } else if (!strcmp(cmd, "bench") && argc <= 1) {
        bench(q, argc ? num(argv[0]) : 64 << 20);
    } else {
        fputs(usage, stderr);
        drq_close(q);
        return 2;
    }
    drq_close(q);
    return 0;
}
