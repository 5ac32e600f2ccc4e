/*
 * Helpers shared by the dReDBox qtests: running QEMU to completion,
 * reading the device tree it generates, and a private memory pool
 * daemon (dredbox-memd) to take remote memory from.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_QTEST_UTIL_H
#define DREDBOX_QTEST_UTIL_H

#include "qobject/qdict.h"
#include "dredbox/address-map.h"

#define DREDBOX_MACHINE "-machine dredbox-compute"

uint64_t dredbox_qdict_uint(QDict *d, const char *key);

/*
 * The seed of a randomised test: $DREDBOX_SEED if set, else @fallback, so
 * that a run is the same every time and a failure can be replayed.  It
 * is printed (a TAP comment) with how to replay it.
 */
uint32_t dredbox_test_seed(uint32_t fallback);

/* Run QEMU to completion with @args; return its exit status. */
int dredbox_run_qemu(const char *args, char **err);

/* QEMU started with @args stops with status 1 and says @message. */
void dredbox_assert_qemu_fails(const char *args, const char *message);

/* The device tree the machine generates for @args (-machine options). */
void *dredbox_dump_fdt(const char *machine_opts, const char *args);

uint64_t dredbox_fdt_cells(const void *fdt, int node, const char *prop,
                           int index, int ncells);
void dredbox_assert_memory_node(const void *fdt, uint64_t base,
                                uint64_t size, int numa_node);
/* Assert /distance-map holds the full @n x @n matrix @dist. */
void dredbox_assert_distances(const void *fdt, int n, const uint32_t *dist);

/* A pool daemon of its own for one test; $DREDBOX_MEMD is the binary. */
typedef struct DredboxPool {
    char *dir;
    char *socket;
    GPid pid;
    GPtrArray *argv;    /* its command line, for a restart */
} DredboxPool;

/* Start a pool with bricks given as dredbox-memd --brick specs. */
DredboxPool *dredbox_pool_start(const char *const *bricks);
/*
 * Start it again after a crash (--restore), with @env added to the
 * environment (NULL: none).  It must be dead, or is killed (SIGKILL).
 */
void dredbox_pool_restart(DredboxPool *pool, const char *env);
void dredbox_pool_stop(DredboxPool *pool);
/* One request as the "qtest" admin client; the reply, which must be ok. */
QDict *dredbox_pool_call(DredboxPool *pool, const char *json);
/* Map a segment (as admin) to look at it from the host; munmap it. */
void *dredbox_pool_map(DredboxPool *pool, uint32_t segment, uint64_t *size);
/* Bytes allocated in memory brick @brick. */
uint64_t dredbox_pool_used(DredboxPool *pool, unsigned brick);

#endif
