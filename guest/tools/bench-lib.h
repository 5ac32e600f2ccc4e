/*
 * Timing for the guest benchmark programs: a monotonic clock, the
 * median of repeated measurements (robust against a noisy host), and a
 * start line for programs measured side by side.
 */
#ifndef BENCH_LIB_H
#define BENCH_LIB_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 64

static inline double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static inline double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/*
 * With BENCH_GO=PATH in the environment, a program ready to measure
 * creates PATH.ready.<pid> and waits until PATH exists, so that the
 * programs a script starts side by side measure together (tests/guest/
 * rootfs/side-by-side.sh).
 */
static inline void bench_start_together(void)
{
    const char *go = getenv("BENCH_GO");
    char ready[256];
    FILE *f;

    if (!go) {
        return;
    }
    snprintf(ready, sizeof(ready), "%s.ready.%d", go, (int)getpid());
    f = fopen(ready, "w");
    if (!f || fclose(f)) {
        perror("bench: BENCH_GO");
        exit(1);
    }
    while (access(go, F_OK)) {
        usleep(100);
    }
}

#endif
