/*
 * Unit tests of the memory pool's allocator, leases and grants.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake-store.h"

typedef struct Fixture {
    FakeStore fs;
    Pool *pool;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->pool = fake_pool(&f->fs);
    assert_non_null(pool_add_brick(f->pool, 0, MEM_CLASS_DRAM, 1 * GiB,
                                   NULL, NULL));
    assert_non_null(pool_add_brick(f->pool, 1, MEM_CLASS_DRAM, 512 * MiB,
                                   NULL, NULL));
    assert_non_null(pool_add_brick(f->pool, 7, MEM_CLASS_PERSISTENT,
                                   256 * MiB, "/nonexistent", NULL));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;

    pool_free(f->pool);
    close(f->fs.fd);
    g_free(f);
    return 0;
}

static void expect_error(GError **err, int code, const char *fragment)
{
    assert_non_null(*err);
    assert_int_equal((*err)->code, code);
    if (!strstr((*err)->message, fragment)) {
        fail_msg("error '%s' lacks '%s'", (*err)->message, fragment);
    }
    g_clear_error(err);
}

static void test_add_brick_errors(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;

    assert_null(pool_add_brick(f->pool, 0, MEM_CLASS_DRAM, 1 * GiB, NULL,
                               &err));
    expect_error(&err, RACK_ERROR_EXISTS, "defined twice");
    assert_null(pool_add_brick(f->pool, 2, MEM_CLASS_DRAM, 100 * MiB, NULL,
                               &err));
    expect_error(&err, RACK_ERROR_INVALID, "multiple of the 128 MiB granule");
    assert_null(pool_add_brick(f->pool, 2, MEM_CLASS_DRAM, 0, NULL, &err));
    expect_error(&err, RACK_ERROR_INVALID, "granule");
    assert_null(pool_add_brick(f->pool, 2, MEM_CLASS_PERSISTENT, 128 * MiB,
                               NULL, &err));
    expect_error(&err, RACK_ERROR_INVALID, "needs a directory");
    assert_null(pool_add_brick(f->pool, POOL_ANY_BRICK, MEM_CLASS_DRAM,
                               128 * MiB, NULL, &err));
    expect_error(&err, RACK_ERROR_INVALID, "reserved");
    assert_int_equal(f->pool->bricks->len, 3);
}

static void test_first_fit(void **state)
{
    Fixture *f = *state;
    PoolSegment *a, *b, *c;
    GError *err = NULL;

    a = pool_alloc(f->pool, "c0", 0, MEM_CLASS_DRAM, 256 * MiB, NULL);
    b = pool_alloc(f->pool, "c0", 0, MEM_CLASS_DRAM, 128 * MiB, NULL);
    c = pool_alloc(f->pool, "c1", 0, MEM_CLASS_DRAM, 512 * MiB, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(a->offset, 0);
    assert_int_equal(b->offset, 256 * MiB);
    assert_int_equal(c->offset, 384 * MiB);
    assert_int_equal(pool_brick(f->pool, 0)->used, 896 * MiB);

    /* 128 MiB left: a 256 MiB request does not fit brick 0. */
    assert_null(pool_alloc(f->pool, "c0", 0, MEM_CLASS_DRAM, 256 * MiB,
                           &err));
    expect_error(&err, RACK_ERROR_NO_SPACE, "896 of 1024 MiB used");

    /* A freed hole is reused only by a request that fits in it. */
    assert_true(pool_release_segment(f->pool, "c0", false, a->id, NULL));
    b = pool_alloc(f->pool, "c2", 0, MEM_CLASS_DRAM, 384 * MiB, &err);
    expect_error(&err, RACK_ERROR_NO_SPACE, "no free 384 MiB range");
    assert_null(b);
    b = pool_alloc(f->pool, "c2", 0, MEM_CLASS_DRAM, 256 * MiB, NULL);
    assert_non_null(b);
    assert_int_equal(b->offset, 0);
    assert_int_equal(f->fs.creates, 4);
}

static void test_any_brick(void **state)
{
    Fixture *f = *state;
    PoolSegment *s;
    GError *err = NULL;

    s = pool_alloc(f->pool, "c0", POOL_ANY_BRICK, MEM_CLASS_DRAM, 1 * GiB,
                   NULL);
    assert_int_equal(s->brick, 0);
    s = pool_alloc(f->pool, "c0", POOL_ANY_BRICK, MEM_CLASS_DRAM, 256 * MiB,
                   NULL);
    assert_int_equal(s->brick, 1);
    /* Only DRAM bricks serve DRAM requests, however much else is free. */
    assert_null(pool_alloc(f->pool, "c0", POOL_ANY_BRICK, MEM_CLASS_DRAM,
                           512 * MiB, &err));
    expect_error(&err, RACK_ERROR_NO_SPACE, "no dram memory brick");
    s = pool_alloc(f->pool, "c0", POOL_ANY_BRICK, MEM_CLASS_PERSISTENT,
                   256 * MiB, NULL);
    assert_int_equal(s->brick, 7);
    assert_null(pool_alloc(f->pool, "c0", POOL_ANY_BRICK, MEM_CLASS_HUGEPAGE,
                           128 * MiB, &err));
    expect_error(&err, RACK_ERROR_NO_SPACE, "no hugepage memory brick");
}

static void test_bad_requests(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;

    assert_null(pool_alloc(f->pool, "c0", 0, MEM_CLASS_DRAM, 0, &err));
    expect_error(&err, RACK_ERROR_INVALID, "positive multiple");
    assert_null(pool_alloc(f->pool, "c0", 0, MEM_CLASS_DRAM, 4096, &err));
    expect_error(&err, RACK_ERROR_INVALID, "positive multiple");
    assert_null(pool_alloc(f->pool, "c0", 0, MEM_CLASS_DRAM, 2 * GiB, &err));
    expect_error(&err, RACK_ERROR_NO_SPACE, "no free 2048 MiB range");
    assert_null(pool_alloc(f->pool, "c0", 3, MEM_CLASS_DRAM, 128 * MiB,
                           &err));
    expect_error(&err, RACK_ERROR_NOT_FOUND, "no memory brick 3");
    assert_null(pool_alloc(f->pool, "", 0, MEM_CLASS_DRAM, 128 * MiB, &err));
    expect_error(&err, RACK_ERROR_INVALID, "owner");
    assert_false(pool_release_segment(f->pool, "c0", false, 42, &err));
    expect_error(&err, RACK_ERROR_NOT_FOUND, "no segment 42");
    assert_int_equal(f->fs.creates, 0);
    assert_int_equal(pool_brick(f->pool, 0)->used, 0);
}

static void test_store_failure_leaves_nothing(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;

    f->fs.fail = true;
    assert_null(pool_alloc(f->pool, "c0", 0, MEM_CLASS_DRAM, 128 * MiB,
                           &err));
    expect_error(&err, RACK_ERROR_HOST, "fake store failure");
    assert_int_equal(pool_brick(f->pool, 0)->used, 0);
    assert_int_equal(g_hash_table_size(f->pool->segments), 0);
}

static void test_leases_and_grants(void **state)
{
    Fixture *f = *state;
    PoolSegment *s = pool_alloc(f->pool, "brick0", 1, MEM_CLASS_DRAM,
                                128 * MiB, NULL);
    uint32_t id = s->id;
    GError *err = NULL;
    bool w;

    assert_null(pool_open(f->pool, "brick1", false, s->id, &w, &err));
    expect_error(&err, RACK_ERROR_DENIED, "not granted to brick1");
    assert_false(pool_grant(f->pool, "brick1", false, s->id, "brick1", true,
                            &err));
    expect_error(&err, RACK_ERROR_DENIED, "leased to brick0, not to brick1");
    assert_true(pool_grant(f->pool, "brick0", false, s->id, "brick1", false,
                           NULL));
    assert_ptr_equal(pool_open(f->pool, "brick1", false, s->id, &w, NULL), s);
    assert_false(w);
    assert_ptr_equal(pool_open(f->pool, "brick0", false, s->id, &w, NULL), s);
    assert_true(w);
    assert_false(pool_release_segment(f->pool, "brick1", false, s->id, &err));
    expect_error(&err, RACK_ERROR_DENIED, "leased to brick0");
    /* The controller (admin) may free any lease. */
    assert_true(pool_release_segment(f->pool, "sdm", true, id, NULL));
    assert_null(pool_segment(f->pool, id));     /* s is freed */
}

static void test_release_owner_scrubs(void **state)
{
    Fixture *f = *state;

    pool_alloc(f->pool, "brick0", 0, MEM_CLASS_DRAM, 128 * MiB, NULL);
    pool_alloc(f->pool, "brick0", 1, MEM_CLASS_DRAM, 256 * MiB, NULL);
    pool_alloc(f->pool, "brick1", 0, MEM_CLASS_DRAM, 128 * MiB, NULL);
    assert_int_equal(pool_release_owner(f->pool, "brick0"), 2);
    assert_int_equal(pool_release_owner(f->pool, "brick0"), 0);
    assert_int_equal(f->fs.scrubs, 2);
    assert_int_equal(pool_brick(f->pool, 0)->scrubs, 1);
    assert_int_equal(pool_brick(f->pool, 1)->scrubs, 1);
    assert_int_equal(pool_brick(f->pool, 0)->used, 128 * MiB);
    assert_int_equal(pool_brick(f->pool, 1)->used, 0);

    /* Shutdown drops the rest without counting scrubs. */
    pool_drop_all(f->pool);
    assert_int_equal(f->fs.destroys, 3);
    assert_int_equal(f->fs.scrubs, 2);
    assert_int_equal(pool_brick(f->pool, 0)->used, 0);
}

static void test_restore(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;
    PoolSegment *s;

    s = pool_restore(f->pool, "brick0", 7, 128 * MiB, 128 * MiB,
                     dup(f->fs.fd), NULL);
    assert_non_null(s);
    assert_int_equal(pool_brick(f->pool, 7)->used, 128 * MiB);
    assert_null(pool_restore(f->pool, "brick1", 7, 128 * MiB, 128 * MiB, -1,
                             &err));
    expect_error(&err, RACK_ERROR_INVALID, "does not fit");
    assert_null(pool_restore(f->pool, "brick1", 7, 256 * MiB, 128 * MiB, -1,
                             &err));
    expect_error(&err, RACK_ERROR_INVALID, "does not fit");
    /* A new allocation avoids the restored range. */
    s = pool_alloc(f->pool, "brick2", 7, MEM_CLASS_PERSISTENT, 128 * MiB,
                   NULL);
    assert_int_equal(s->offset, 0);
}

static void test_class_names(void **state)
{
    MemClass c;

    assert_true(mem_class_parse("persistent", &c));
    assert_int_equal(c, MEM_CLASS_PERSISTENT);
    assert_false(mem_class_parse("nvram", &c));
    assert_false(mem_class_parse(NULL, &c));
    assert_string_equal(mem_class_name(MEM_CLASS_HUGEPAGE), "hugepage");
    assert_string_equal(mem_class_name(MEM_CLASS__MAX), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_brick_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_first_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_brick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_failure_leaves_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_leases_and_grants, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_release_owner_scrubs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
        cmocka_unit_test(test_class_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
