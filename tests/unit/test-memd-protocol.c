/*
 * Unit tests of the pool daemon's request protocol: every command, and
 * malformed requests answered with a clear error and no state change.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake-store.h"
#include "protocol.h"
#include "size.h"

typedef struct Fixture {
    FakeStore fs;
    Pool *pool;
    MemdClient client;
    int fd;
    uint32_t granted;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->pool = fake_pool(&f->fs);
    pool_add_brick(f->pool, 0, MEM_CLASS_DRAM, 1 * GiB, NULL, NULL);
    pool_add_brick(f->pool, 1, MEM_CLASS_DRAM, 256 * MiB, NULL, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;

    pool_free(f->pool);
    close(f->fs.fd);
    g_free(f->client.name);
    g_free(f);
    return 0;
}

/* Send @line as @f's client; the reply must contain @expect. */
static void req(Fixture *f, const char *line, const char *expect)
{
    g_autofree char *reply = memd_handle(f->pool, &f->client, line, &f->fd,
                                         &f->granted);

    if (!strstr(reply, expect)) {
        fail_msg("request %s\n  reply %s\n  lacks %s", line, reply, expect);
    }
}

static void hello(Fixture *f, const char *name, const char *role)
{
    g_autofree char *line = g_strdup_printf(
        "{\"cmd\":\"hello\",\"client\":\"%s\",\"role\":\"%s\"}", name, role);

    req(f, line, "{\"ok\":true,\"version\":1}");
}

static void test_malformed(void **state)
{
    Fixture *f = *state;

    req(f, "{\"cmd\":", "\"code\":\"invalid\",\"error\":\"malformed JSON");
    req(f, "[1,2]", "a request must be a JSON object");
    req(f, "42", "a request must be a JSON object");
    req(f, "{}", "missing \\\"cmd\\\"");
    req(f, "{\"cmd\":7}", "\\\"cmd\\\" must be a string");
    req(f, "{\"cmd\":\"alloc\",\"size\":134217728}", "say hello first");
    req(f, "{\"cmd\":\"hello\"}", "missing \\\"client\\\"");
    req(f, "{\"cmd\":\"hello\",\"client\":\"a b\"}", "1-64 characters");
    req(f, "{\"cmd\":\"hello\",\"client\":\"x\",\"role\":\"root\"}",
        "role must be");
    hello(f, "brick0", "client");
    req(f, "{\"cmd\":\"reboot\"}", "unknown command \\\"reboot\\\"");
    req(f, "{\"cmd\":\"alloc\"}", "missing \\\"size\\\"");
    req(f, "{\"cmd\":\"alloc\",\"size\":1.5}", "must be an integer");
    req(f, "{\"cmd\":\"alloc\",\"size\":-134217728}", "out of range");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"lots\"}", "K/M/G/T");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":-1}",
        "\\\"brick\\\" is out of range");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":\"zero\"}",
        "\\\"brick\\\" must be an integer");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"class\":\"nvram\"}",
        "unknown memory class \\\"nvram\\\"");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"100M\"}", "granule");
    req(f, "{\"cmd\":\"open\",\"segment\":\"1\"}", "must be an integer");
    req(f, "{\"cmd\":\"grant\",\"segment\":1,\"client\":\"b\","
        "\"writable\":\"yes\"}", "must be true or false");
    /* None of it allocated anything. */
    assert_int_equal(f->fs.creates, 0);
    assert_int_equal(g_hash_table_size(f->pool->segments), 0);
}

static void test_alloc_open_free(void **state)
{
    Fixture *f = *state;

    hello(f, "brick0", "client");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"256M\",\"brick\":\"any\"}",
        "{\"ok\":true,\"segment\":{\"id\":1,\"brick\":0,\"offset\":0,"
        "\"size\":268435456,\"owner\":\"brick0\"},\"class\":\"dram\","
        "\"writable\":true,\"poisoned\":[]}");
    assert_true(f->fd >= 0);
    assert_int_equal(f->granted, 1);
    req(f, "{\"cmd\":\"alloc\",\"size\":268435456,\"brick\":1}",
        "\"id\":2,\"brick\":1,\"offset\":0");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":1}",
        "\"code\":\"no-space\"");
    assert_int_equal(f->fd, -1);
    assert_int_equal(f->granted, 0);
    req(f, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":9}",
        "\"code\":\"not-found\",\"error\":\"no memory brick 9\"");

    req(f, "{\"cmd\":\"open\",\"segment\":1}", "\"writable\":true");
    assert_true(f->fd >= 0);
    assert_int_equal(f->granted, 0);
    req(f, "{\"cmd\":\"free\",\"segment\":1}", "{\"ok\":true}");
    req(f, "{\"cmd\":\"free\",\"segment\":1}", "no segment 1");
    req(f, "{\"cmd\":\"query\"}", "\"id\":0,\"class\":\"dram\","
        "\"size\":1073741824,\"used\":0,\"free\":1073741824,"
        "\"backable\":1073741824,\"scrubs\":1,"
        "\"down\":false,\"poisoned\":[]}");
}

static void test_grants_and_admin(void **state)
{
    Fixture *f = *state;

    hello(f, "brick0", "client");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"128M\"}", "\"id\":1");
    hello(f, "brick1", "client");
    req(f, "{\"cmd\":\"open\",\"segment\":1}",
        "\"code\":\"denied\",\"error\":\"segment 1 is not granted to brick1\"");
    assert_int_equal(f->fd, -1);
    req(f, "{\"cmd\":\"free\",\"segment\":1}", "leased to brick0");
    req(f, "{\"cmd\":\"release\",\"client\":\"brick0\"}",
        "only an admin client");
    hello(f, "brick0", "client");
    req(f, "{\"cmd\":\"grant\",\"segment\":1,\"client\":\"brick1\"}",
        "{\"ok\":true}");
    req(f, "{\"cmd\":\"grant\",\"segment\":1,\"client\":\"brick0\"}",
        "needs another client");
    hello(f, "brick1", "client");
    req(f, "{\"cmd\":\"open\",\"segment\":1}", "\"writable\":false");
    assert_true(f->fd >= 0);
    hello(f, "sdm", "admin");
    req(f, "{\"cmd\":\"release\",\"client\":\"brick0\"}",
        "{\"ok\":true,\"released\":1}");
    req(f, "{\"cmd\":\"query\"}", "\"segments\":[]");
}

/* A memory brick registered while the pool runs. */
static void test_add_brick(void **state)
{
    Fixture *f = *state;

    hello(f, "brick0", "client");
    req(f, "{\"cmd\":\"add-brick\",\"brick\":2,\"size\":\"512M\"}",
        "only an admin client may add memory bricks");
    hello(f, "sdm", "admin");
    req(f, "{\"cmd\":\"add-brick\",\"brick\":1,\"size\":\"512M\"}",
        "\"ok\":false");
    req(f, "{\"cmd\":\"add-brick\",\"brick\":2,\"size\":\"512M\","
        "\"class\":\"persistent\"}", "is dram or hugepage, not");
    req(f, "{\"cmd\":\"add-brick\",\"brick\":2}", "size");
    req(f, "{\"cmd\":\"add-brick\",\"brick\":2,\"size\":\"512M\"}",
        "{\"ok\":true}");
    req(f, "{\"cmd\":\"alloc\",\"size\":\"512M\",\"brick\":2}",
        "\"brick\":2");
    req(f, "{\"cmd\":\"query\"}", "\"id\":2,\"class\":\"dram\"");
}

static void test_parse_size(void **state)
{
    uint64_t v;

    assert_true(rack_parse_size("4096", &v));
    assert_int_equal(v, 4096);
    assert_true(rack_parse_size("128M", &v));
    assert_int_equal(v, 128 * MiB);
    assert_true(rack_parse_size("2GiB", &v));
    assert_int_equal(v, 2 * GiB);
    assert_true(rack_parse_size("1t", &v));
    assert_int_equal(v, 1ULL << 40);
    assert_false(rack_parse_size("", &v));
    assert_false(rack_parse_size("M", &v));
    assert_false(rack_parse_size("-1", &v));
    assert_false(rack_parse_size("12Q", &v));
    assert_false(rack_parse_size("99999999999999999999", &v));
    assert_false(rack_parse_size("17179869184G", &v));
    assert_false(rack_parse_size(NULL, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_open_free, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_grants_and_admin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_add_brick, setup, teardown),
        cmocka_unit_test(test_parse_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
