/*
 * hashtable NAME NODE KEYS: an application-like workload for timing mode
 * (bench/timing.sh): build a hash table of KEYS 64-bit keys, then probe
 * it KEYS times (half the probes find their key, half do not), with the
 * table bound to NUMA node NODE (or anywhere for -1).  Open addressing,
 * linear probing, 16-byte slots (key, value), twice as many slots as
 * keys rounded up to a power of two: 1M keys make a 32 MiB table, far
 * larger than the caches, so nearly every insert and probe misses.
 * The table is faulted in before the clock starts.  Times in the guest's
 * own clock (clock_gettime, CLOCK_MONOTONIC); prints
 *   NAME_MIB=<table size>  NAME_BUILD_NS=<build>  NAME_PROBE_NS=<probe>
 *   NAME_NS=<build + probe>  NAME_FOUND=<probes that found their key>
 * The keys are a fixed pseudo-random sequence: every run does the same
 * work (NAME_FOUND is KEYS / 2).
 * Raw syscalls: the guest has no libnuma.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_BIND 2
#define MPOL_MF_STRICT (1 << 0)

struct slot {
    uint64_t key;       /* 0: empty */
    uint64_t value;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t next_key(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;          /* never 0 from a non-zero seed */
}

int main(int argc, char **argv)
{
    uint64_t seed, t0, t1, t2, found = 0, sum = 0, mask;
    unsigned long keys, slots = 1, i, nodemask;
    struct slot *table;
    size_t size;
    int node;

    if (argc != 4 || atol(argv[3]) <= 0) {
        fprintf(stderr, "usage: hashtable NAME NODE KEYS\n");
        return 2;
    }
    node = atoi(argv[2]);
    keys = atol(argv[3]);
    while (slots < 2 * keys) {
        slots <<= 1;
    }
    mask = slots - 1;
    size = slots * sizeof(struct slot);
    table = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) {
        perror("hashtable: memory");
        return 1;
    }
    if (node >= 0) {
        nodemask = 1UL << node;
        if (syscall(SYS_mbind, table, size, MPOL_BIND, &nodemask, 64,
                    MPOL_MF_STRICT)) {
            perror("hashtable: mbind");
            return 1;
        }
    }
    memset(table, 0, size);     /* fault it in before measuring */

    t0 = now_ns();
    seed = 0x9e3779b97f4a7c15ULL;
    for (i = 0; i < keys; i++) {
        uint64_t k = next_key(&seed), h = (k * 0xff51afd7ed558ccdULL) >> 17;

        while (table[h & mask].key && table[h & mask].key != k) {
            h++;
        }
        table[h & mask].key = k;
        table[h & mask].value = i;
    }
    t1 = now_ns();
    /* Even probes: the inserted keys, in insertion order; odd: others. */
    seed = 0x9e3779b97f4a7c15ULL;
    uint64_t other = 0x2545f4914f6cdd1dULL;
    for (i = 0; i < keys; i++) {
        uint64_t k = next_key(&seed), o = next_key(&other);
        uint64_t q = i & 1 ? o : k, h = (q * 0xff51afd7ed558ccdULL) >> 17;

        while (table[h & mask].key) {
            if (table[h & mask].key == q) {
                found++;
                sum += table[h & mask].value;
                break;
            }
            h++;
        }
    }
    t2 = now_ns();

    printf("%s_MIB=%zu\n", argv[1], size >> 20);
    printf("%s_BUILD_NS=%llu\n", argv[1], (unsigned long long)(t1 - t0));
    printf("%s_PROBE_NS=%llu\n", argv[1], (unsigned long long)(t2 - t1));
    printf("%s_NS=%llu\n", argv[1], (unsigned long long)(t2 - t0));
    /* sum keeps the probes from being optimised away. */
    printf("%s_FOUND=%llu\n", argv[1],
           (unsigned long long)(sum != (uint64_t)-1 ? found : 0));
    return 0;
}
