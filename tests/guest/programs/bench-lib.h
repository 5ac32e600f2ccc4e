/*
 * Timing for the guest benchmark programs: a monotonic clock and the
 * median of repeated measurements (robust against a noisy host).
 */
#ifndef BENCH_LIB_H
#define BENCH_LIB_H

#include <stdlib.h>
#include <time.h>

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

#endif
