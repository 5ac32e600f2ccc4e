/*
 * mem-pattern PHYS STORES LOADS ROUNDS: a known access pattern for the
 * memory-access plugin's process filter (t-trace.sh).  Maps 1 MiB of
 * physical memory at PHYS (local DRAM Linux does not use, mem=), says
 * "DREDBOX-STEP ready pid=N", then ROUNDS times: waits for a line on
 * stdin, makes STORES 8-byte stores and LOADS 8-byte loads there and
 * says "DREDBOX-STEP round-R".
 * mem-pattern PHYS: stores there until killed (another process's noise).
 */
#include "rmc-lib.h"

#define SPAN (1 << 20)
#define WORDS (SPAN / 8)

int main(int argc, char **argv)
{
    volatile uint64_t *mem;
    unsigned long stores, loads, rounds;
    uint64_t sum = 0;
    char line[64];

    if (argc != 2 && argc != 5) {
        fprintf(stderr, "usage: mem-pattern PHYS [STORES LOADS ROUNDS]\n");
        return 2;
    }
    mem = rmc_map(strtoull(argv[1], NULL, 0), SPAN);
    if (argc == 2) {
        for (uint64_t i = 0;; i++) {
            mem[(i * 8) % WORDS] = i;
        }
    }
    stores = strtoul(argv[2], NULL, 0);
    loads = strtoul(argv[3], NULL, 0);
    rounds = strtoul(argv[4], NULL, 0);
    printf("DREDBOX-STEP ready pid=%d\n", getpid());
    fflush(stdout);
    for (unsigned long r = 1; r <= rounds; r++) {
        if (!fgets(line, sizeof(line), stdin)) {
            return 1;
        }
        for (unsigned long i = 0; i < stores; i++) {
            mem[(i * 8) % WORDS] = i;
        }
        for (unsigned long i = 0; i < loads; i++) {
            sum += mem[(i * 8 + 1) % WORDS];
        }
        printf("DREDBOX-STEP round-%lu sum=%llu\n", r,
               (unsigned long long)sum);
        fflush(stdout);
    }
    return 0;
}
