/*
 * Tests of dredbox-pool ($DREDBOX_POOL_TOOL) against a real pool daemon:
 * leases that outlive the tool, grants, reading a segment's bytes, and
 * clear errors for bad commands, sizes, permissions and pools.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memd-client.h"
#include "memd-fixture.h"

#define MiB (1ULL << 20)

/* Run the tool with @args (shell words); return its exit status. */
static int tool(Daemon *d, const char *args, char **out, char **err)
{
    g_autofree char *cmd = g_strdup_printf("%s -p %s %s",
                                           g_getenv("DREDBOX_POOL_TOOL"),
                                           d->sock, args);
    g_auto(GStrv) argv = NULL;
    g_autofree char *o = NULL, *e = NULL;
    int status;

    assert_non_null(g_getenv("DREDBOX_POOL_TOOL"));
    assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                             &o, &e, &status, NULL));
    if (out) {
        *out = g_steal_pointer(&o);
    }
    if (err) {
        *err = g_steal_pointer(&e);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_alloc_grant_read_free(void **state)
{
    Daemon *d = *state;
    g_autofree char *out = NULL, *q = NULL, *bytes = NULL, *err = NULL;
    g_autoptr(GError) gerr = NULL;
    JsonObject *reply;
    MemdConn *c;
    char *map;
    int fd;

    assert_int_equal(tool(d, "-c owner alloc 256M --brick 0", &out, NULL), 0);
    assert_string_equal(out, "1\n");
    /* The lease outlived the tool. */
    assert_int_equal(tool(d, "query", &q, NULL), 0);
    assert_non_null(strstr(q, "1        0                 0        256"
                              "  owner"));

    /* Write through the owner's own mapping; the tool reads it back. */
    c = memd_connect(d->sock, "owner", FALSE, &gerr);
    assert_non_null(c);
    reply = memd_call(c, "{\"cmd\":\"open\",\"segment\":1}", &fd, &gerr);
    assert_non_null(reply);
    json_object_unref(reply);
    map = mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(map != MAP_FAILED);
    memcpy(map + 200 * MiB, "memory brick 0", 14);

    assert_int_equal(tool(d, "-c reader read 1 200M 14", NULL, &err), 1);
    assert_non_null(strstr(err, "segment 1 is not granted to reader"));
    assert_int_equal(tool(d, "-c owner grant 1 reader", NULL, NULL), 0);
    assert_int_equal(tool(d, "-c reader read 1 200M 14", &bytes, NULL), 0);
    assert_string_equal(bytes, "memory brick 0");
    g_free(err);
    assert_int_equal(tool(d, "-c reader read 1 250M 8M", NULL, &err), 1);
    assert_non_null(strstr(err, "segment 1 has 268435456 bytes"));

    munmap(map, 256 * MiB);
    close(fd);
    memd_close(c);
    assert_int_equal(tool(d, "-c owner free 1", NULL, NULL), 0);
    g_free(q);
    assert_int_equal(tool(d, "--json query", &q, NULL), 0);
    assert_non_null(strstr(q, "\"used\":0"));
}

static void test_release(void **state)
{
    Daemon *d = *state;
    g_autofree char *out = NULL, *q = NULL;

    assert_int_equal(tool(d, "-c dead-brick alloc 128M", NULL, NULL), 0);
    assert_int_equal(tool(d, "-c dead-brick alloc 128M", NULL, NULL), 0);
    assert_int_equal(tool(d, "--json release dead-brick", &out, NULL), 0);
    assert_non_null(strstr(out, "\"released\":2"));
    assert_int_equal(tool(d, "--json query", &q, NULL), 0);
    assert_non_null(strstr(q, "\"segments\":[]"));
}

/* poison and unpoison a page of a brick, as an admin */
static void test_poison(void **state)
{
    Daemon *d = *state;
    g_autofree char *q = NULL, *q2 = NULL;

    assert_int_equal(tool(d, "poison 0 8K", NULL, NULL), 0);
    assert_int_equal(tool(d, "--json query", &q, NULL), 0);
    assert_non_null(strstr(q, "\"poisoned\":[8192]"));
    assert_int_equal(tool(d, "unpoison 0 8192", NULL, NULL), 0);
    assert_int_equal(tool(d, "--json query", &q2, NULL), 0);
    assert_null(strstr(q2, "\"poisoned\":[8192]"));
}

typedef struct Bad {
    const char *args;
    int status;
    const char *message;
} Bad;

static const Bad bad[] = {
    { "frobnicate", 1, "unknown command or wrong arguments: frobnicate" },
    { "alloc", 1, "unknown command or wrong arguments: alloc" },
    { "alloc 100M", 1, "multiple of the 128 MiB granule" },
    { "alloc lots", 1, "bad size 'lots'" },
    { "alloc 1G --brick 0", 1, "memory brick 0 has no free 1024 MiB range" },
    { "alloc 128M --brick 9", 1, "no memory brick 9" },
    { "alloc 128M --class nvram", 1, "unknown memory class" },
    { "alloc 128M --brick 1 --class dram", 1,
      "memory brick 1 is persistent, not dram" },
    { "free 7", 1, "segment 7" },
    { "free x", 1, "bad segment 'x'" },
    { "-c a/b query", 1, "client name" },
    { "--nosuch query", 2, "Unknown option --nosuch" },
    { "poison 0", 1, "unknown command or wrong arguments: poison" },
    { "poison 0 x", 1, "bad offset 'x'" },
    { "poison 0 4097", 1, "memory brick 0 has no page at offset 0x1001" },
    { "unpoison 0 4096", 1, "page 0x1000 of memory brick 0 is not poisoned" },
};

static void test_bad_input(void **state)
{
    Daemon *d = *state;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *err = NULL;
        int status = tool(d, bad[i].args, NULL, &err);

        if (status != bad[i].status || !strstr(err, bad[i].message)) {
            fail_msg("'%s': status %d, stderr '%s'; expected %d, '%s'",
                     bad[i].args, status, err, bad[i].status,
                     bad[i].message);
        }
    }
}

static void test_no_pool(void **state)
{
    Daemon nowhere = { .sock = (char *)"/nonexistent/memd.sock" };
    g_autofree char *err = NULL;

    assert_int_equal(tool(&nowhere, "query", NULL, &err), 1);
    assert_non_null(strstr(err, "cannot reach the memory pool at"
                                " /nonexistent/memd.sock"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define WITH_DAEMON(t) \
        cmocka_unit_test_setup_teardown(t, memd_fixture_setup, \
                                        memd_fixture_teardown)
        WITH_DAEMON(test_alloc_grant_read_free),
        WITH_DAEMON(test_release),
        WITH_DAEMON(test_poison),
        WITH_DAEMON(test_bad_input),
        cmocka_unit_test(test_no_pool),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
