/*
 * Helpers shared by the dReDBox qtests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qemu/sockets.h"
#include "libqtest.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include <libfdt.h>
#include <sys/prctl.h>
#include "dredbox-qtest-util.h"
/* The pool protocol's framing, shared with the pool's own tools. */
#include "hw/dredbox/pool-client.h"

uint64_t dredbox_qdict_uint(QDict *d, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(d, key));

    g_assert_nonnull(n);
    return qnum_get_uint(n);
}

uint32_t dredbox_test_seed(uint32_t fallback)
{
    const char *env = g_getenv("DREDBOX_SEED");
    uint32_t seed = fallback;

    if (env && *env) {
        char *end;
        guint64 v = g_ascii_strtoull(env, &end, 0);

        if (*end || v > UINT32_MAX) {
            g_test_message("DREDBOX_SEED=%s is not a 32-bit number", env);
            g_assert_not_reached();
        }
        seed = v;
    }
    g_test_message("seed %" PRIu32 " (replay with DREDBOX_SEED=%" PRIu32 ")",
                   seed, seed);
    return seed;
}

int dredbox_run_qemu(const char *args, char **err)
{
    g_autofree char *cmd = g_strdup_printf("%s %s -display none -nodefaults",
                                           g_getenv("QTEST_QEMU_BINARY"),
                                           args);
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) error = NULL;
    int status;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, err, &status, &error));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void dredbox_assert_qemu_fails(const char *args, const char *message)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(dredbox_run_qemu(args, &err), ==, 1);
    if (!strstr(err, message)) {
        g_test_message("stderr of '%s': %s", args, err);
    }
    g_assert_nonnull(strstr(err, message));
}

void *dredbox_dump_fdt(const char *machine_opts, const char *args)
{
    g_autofree char *dir = g_dir_make_tmp("dredbox-fdt-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "brick.dtb", NULL);
    g_autofree char *full = g_strdup_printf(DREDBOX_MACHINE "%s,dumpdtb=%s %s",
                                            machine_opts, path, args);
    g_autofree char *err = NULL;
    gchar *fdt = NULL;
    gsize len;

    if (dredbox_run_qemu(full, &err) != 0) {
        g_test_message("stderr of '%s': %s", full, err);
        g_assert_not_reached();
    }
    g_assert_true(g_file_get_contents(path, &fdt, &len, NULL));
    g_assert_cmpint(fdt_check_header(fdt), ==, 0);
    unlink(path);
    rmdir(dir);
    return fdt;
}

uint64_t dredbox_fdt_cells(const void *fdt, int node, const char *prop,
                           int index, int ncells)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, prop, &len);
    uint64_t v = 0;
    int i;

    g_assert_nonnull(p);
    g_assert_cmpint(len, >=, (index + ncells) * 4);
    for (i = 0; i < ncells; i++) {
        v = (v << 32) | fdt32_to_cpu(p[index + i]);
    }
    return v;
}

void dredbox_assert_memory_node(const void *fdt, uint64_t base,
                                uint64_t size, int numa_node)
{
    g_autofree char *path = g_strdup_printf("/memory@%" PRIx64, base);
    int node = fdt_path_offset(fdt, path);

    g_assert_cmpint(node, >=, 0);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "reg", 0, 2), ==, base);
    g_assert_cmphex(dredbox_fdt_cells(fdt, node, "reg", 2, 2), ==, size);
    if (numa_node >= 0) {
        g_assert_cmpint(dredbox_fdt_cells(fdt, node, "numa-node-id", 0, 1),
                        ==, numa_node);
    }
}

void dredbox_assert_distances(const void *fdt, int n, const uint32_t *dist)
{
    int node = fdt_path_offset(fdt, "/distance-map");
    const fdt32_t *matrix;
    int len, i, j;

    g_assert_cmpint(node, >=, 0);
    matrix = fdt_getprop(fdt, node, "distance-matrix", &len);
    g_assert_cmpint(len, ==, n * n * 3 * 4);
    /* Highest node first: Linux 6.12 sizes its table by the first entry */
    for (i = n - 1; i >= 0; i--) {
        for (j = n - 1; j >= 0; j--) {
            const fdt32_t *e = &matrix[((n - 1 - i) * n + n - 1 - j) * 3];

            g_assert_cmpuint(fdt32_to_cpu(e[0]), ==, i);
            g_assert_cmpuint(fdt32_to_cpu(e[1]), ==, j);
            g_assert_cmpuint(fdt32_to_cpu(e[2]), ==, dist[i * n + j]);
        }
    }
}

/* A test that fails aborts: its pool must not outlive it. */
static void pool_child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Run @pool's command line (and --restore), with @env added if not NULL */
static void pool_spawn(DredboxPool *pool, bool restore, const char *env)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) envp = g_get_environ();
    g_autoptr(GError) err = NULL;
    g_autofree char *manifest = g_build_filename(pool->dir, "pool.json",
                                                 NULL);
    guint i;

    for (i = 0; i < pool->argv->len; i++) {
        g_ptr_array_add(argv, g_ptr_array_index(pool->argv, i));
    }
    if (env) {
        g_auto(GStrv) kv = g_strsplit(env, "=", 2);

        envp = g_environ_setenv(envp, kv[0], kv[1], true);
    }
    if (restore) {
        g_ptr_array_add(argv, (char *)"--restore");
    }
    g_ptr_array_add(argv, NULL);
    unlink(manifest);   /* a killed pool's */
    g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, envp,
                                G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL,
                                pool_child_setup, NULL, &pool->pid, &err));
    /* The manifest is written last, once the pool answers. */
    for (i = 0; i < 1000 && !g_file_test(manifest, G_FILE_TEST_EXISTS);
         i++) {
        g_usleep(10000);
    }
    g_assert_true(g_file_test(manifest, G_FILE_TEST_EXISTS));
}

DredboxPool *dredbox_pool_start(const char *const *bricks)
{
    const char *bin = g_getenv("DREDBOX_MEMD");
    DredboxPool *pool = g_new0(DredboxPool, 1);

    if (!bin) {
        g_test_message("set DREDBOX_MEMD to the dredbox-memd binary"
                       " (tests/qtest/run.sh does)");
        g_assert_nonnull(bin);
    }
    pool->dir = g_dir_make_tmp("dredbox-pool-XXXXXX", NULL);
    pool->socket = g_build_filename(pool->dir, "memd.sock", NULL);
    pool->argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(pool->argv, g_strdup(bin));
    g_ptr_array_add(pool->argv, g_strdup("--dir"));
    g_ptr_array_add(pool->argv, g_strdup(pool->dir));
    for (int i = 0; bricks[i]; i++) {
        g_ptr_array_add(pool->argv, g_strdup("--brick"));
        g_ptr_array_add(pool->argv, g_strdup(bricks[i]));
    }
    pool_spawn(pool, false, NULL);
    return pool;
}

void dredbox_pool_restart(DredboxPool *pool, const char *env)
{
    int status;

    kill(pool->pid, SIGKILL);
    g_assert_cmpint(waitpid(pool->pid, &status, 0), ==, pool->pid);
    g_spawn_close_pid(pool->pid);
    g_assert_true(WIFSIGNALED(status));
    pool_spawn(pool, true, env);
}

void dredbox_pool_stop(DredboxPool *pool)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", pool->dir);
    int status;

    kill(pool->pid, SIGTERM);
    g_assert_cmpint(waitpid(pool->pid, &status, 0), ==, pool->pid);
    g_spawn_close_pid(pool->pid);
    /* A clean exit removes the socket; the directory is ours. */
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    g_assert_false(g_file_test(pool->socket, G_FILE_TEST_EXISTS));
    g_assert_cmpint(system(cmd), ==, 0);
    g_ptr_array_unref(pool->argv);
    g_free(pool->socket);
    g_free(pool->dir);
    g_free(pool);
}

/* One request as the admin client "qtest"; the reply, which must be ok. */
static QDict *pool_request(DredboxPool *pool, const char *json, int *seg_fd)
{
    PoolClient *pc;
    QDict *hello = qdict_new();
    QDict *req = qobject_to(QDict, qobject_from_json(json, &error_abort));
    Error *err = NULL;
    QDict *reply;

    module_call_init(MODULE_INIT_QOM);      /* QIOChannelSocket; once */
    pc = pool_client_connect(pool->socket, "qtest", &error_abort);

    qdict_put_str(hello, "cmd", "hello");
    qdict_put_str(hello, "client", "qtest");
    qdict_put_str(hello, "role", "admin");
    qobject_unref(pool_client_call(pc, hello, NULL, &error_abort));
    qobject_unref(hello);
    reply = pool_client_call(pc, req, seg_fd, &err);
    if (!reply) {
        g_test_message("%s: %s", json, error_get_pretty(err));
        g_assert_not_reached();
    }
    qobject_unref(req);
    pool_client_close(pc);
    return reply;
}

QDict *dredbox_pool_call(DredboxPool *pool, const char *json)
{
    return pool_request(pool, json, NULL);
}

void *dredbox_pool_map(DredboxPool *pool, uint32_t segment, uint64_t *size)
{
    g_autofree char *req = g_strdup_printf("{\"cmd\": \"open\","
                                           " \"segment\": %u}", segment);
    int fd;
    QDict *reply = pool_request(pool, req, &fd);
    void *p;

    g_assert_cmpint(fd, >=, 0);
    *size = dredbox_qdict_uint(qdict_get_qdict(reply, "segment"), "size");
    qobject_unref(reply);
    p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    g_assert_true(p != MAP_FAILED);
    return p;
}

uint64_t dredbox_pool_used(DredboxPool *pool, unsigned brick)
{
    QDict *reply = dredbox_pool_call(pool, "{\"cmd\": \"query\"}");
    QList *bricks = qdict_get_qlist(reply, "bricks");
    QListEntry *e;
    uint64_t used = UINT64_MAX;

    QLIST_FOREACH_ENTRY(bricks, e) {
        QDict *b = qobject_to(QDict, qlist_entry_obj(e));

        if (qdict_get_int(b, "id") == brick) {
            used = dredbox_qdict_uint(b, "used");
        }
    }
    qobject_unref(reply);
    g_assert_cmpuint(used, !=, UINT64_MAX);
    return used;
}
