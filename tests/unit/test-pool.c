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
#include "pool-journal.h"

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

    s = pool_restore(f->pool, 0, "brick0", 7, 128 * MiB, 128 * MiB,
                     dup(f->fs.fd), NULL);
    assert_non_null(s);
    assert_int_equal(s->id, 1);
    assert_int_equal(pool_brick(f->pool, 7)->used, 128 * MiB);
    assert_null(pool_restore(f->pool, 0, "brick1", 7, 128 * MiB, 128 * MiB,
                             -1, &err));
    expect_error(&err, RACK_ERROR_INVALID, "does not fit");
    assert_null(pool_restore(f->pool, 0, "brick1", 7, 256 * MiB, 128 * MiB,
                             -1, &err));
    expect_error(&err, RACK_ERROR_INVALID, "does not fit");
    /* A journaled id is kept, and never given twice. */
    s = pool_restore(f->pool, 3, "brick1", 0, 512 * MiB, 128 * MiB, -1,
                     NULL);
    assert_int_equal(s->id, 3);
    assert_ptr_equal(pool_segment_at(f->pool, 0, 512 * MiB), s);
    assert_null(pool_segment_at(f->pool, 0, 0));
    assert_null(pool_restore(f->pool, 3, "brick1", 0, 640 * MiB, 128 * MiB,
                             -1, &err));
    expect_error(&err, RACK_ERROR_EXISTS, "segment 3 exists already");
    /* A segment whose memory was lost cannot be opened, only freed. */
    assert_null(pool_open(f->pool, "brick1", false, 3, &(bool) { 0 },
                          &err));
    expect_error(&err, RACK_ERROR_DOWN, "lost its memory");
    /* A new allocation avoids the restored ranges and ids. */
    s = pool_alloc(f->pool, "brick2", 7, MEM_CLASS_PERSISTENT, 128 * MiB,
                   NULL);
    assert_int_equal(s->offset, 0);
    assert_int_equal(s->id, 2);
    s = pool_alloc(f->pool, "brick2", 0, MEM_CLASS_DRAM, 128 * MiB, NULL);
    assert_int_equal(s->id, 4);
    assert_true(pool_release_segment(f->pool, NULL, true, 3, NULL));
}

/* A second pool with the command line's bricks, restored from @journal. */
static Pool *restored(FakeStore *fs, const char *journal, GError **errp)
{
    g_autoptr(JsonObject) j = pool_journal_read(journal, errp);
    Pool *p = fake_pool(fs);

    assert_non_null(pool_add_brick(p, 0, MEM_CLASS_DRAM, 1 * GiB, NULL,
                                   NULL));
    assert_non_null(pool_add_brick(p, 1, MEM_CLASS_DRAM, 512 * MiB, NULL,
                                   NULL));
    if (!j || !pool_journal_restore(p, j, errp)) {
        pool_free(p);
        return NULL;
    }
    return p;
}

/*
 * Poisoned pages are the brick's: kept whatever segment holds them, or
 * none, and given to each segment over them in its own offsets.
 */
static void test_poisoned_pages(void **state)
{
    Fixture *f = *state;
    PoolSegment *a, *b;
    GError *err = NULL;
    g_autoptr(GArray) in_a = NULL, in_b = NULL;

    a = pool_alloc(f->pool, "brick0", 0, MEM_CLASS_DRAM, 128 * MiB, NULL);
    b = pool_alloc(f->pool, "brick0", 0, MEM_CLASS_DRAM, 128 * MiB, NULL);
    assert_true(pool_set_page_poisoned(f->pool, 0, 128 * MiB + 8192, true,
                                       NULL));
    assert_true(pool_set_page_poisoned(f->pool, 0, 4096, true, NULL));
    assert_true(pool_set_page_poisoned(f->pool, 0, 900 * MiB, true, NULL));
    assert_ptr_equal(pool_segment_at(f->pool, 0, 128 * MiB + 8192), b);
    assert_null(pool_segment_at(f->pool, 0, 900 * MiB));
    in_a = pool_segment_poisoned(f->pool, a);
    in_b = pool_segment_poisoned(f->pool, b);
    assert_int_equal(in_a->len, 1);
    assert_int_equal(g_array_index(in_a, uint64_t, 0), 4096);
    assert_int_equal(in_b->len, 1);
    assert_int_equal(g_array_index(in_b, uint64_t, 0), 8192);
    assert_int_equal(pool_brick(f->pool, 0)->poisoned->len, 3);

    assert_false(pool_set_page_poisoned(f->pool, 0, 4096, true, &err));
    expect_error(&err, RACK_ERROR_EXISTS, "already poisoned");
    assert_false(pool_set_page_poisoned(f->pool, 0, 12288, false, &err));
    expect_error(&err, RACK_ERROR_EXISTS, "not poisoned");
    assert_false(pool_set_page_poisoned(f->pool, 0, 4097, true, &err));
    expect_error(&err, RACK_ERROR_INVALID, "no page at offset 0x1001");
    assert_false(pool_set_page_poisoned(f->pool, 0, GiB, true, &err));
    expect_error(&err, RACK_ERROR_INVALID, "no page at offset");
    assert_false(pool_set_page_poisoned(f->pool, 5, 0, true, &err));
    expect_error(&err, RACK_ERROR_NOT_FOUND, "no memory brick 5");

    /* Freed and taken again, the range still has its bad page. */
    assert_true(pool_release_segment(f->pool, "brick0", false, a->id, NULL));
    a = pool_alloc(f->pool, "brick1", 0, MEM_CLASS_DRAM, 128 * MiB, NULL);
    g_array_unref(in_a);
    in_a = pool_segment_poisoned(f->pool, a);
    assert_int_equal(in_a->len, 1);
    assert_true(pool_set_page_poisoned(f->pool, 0, 4096, false, NULL));
    g_array_unref(in_a);
    in_a = pool_segment_poisoned(f->pool, a);
    assert_int_equal(in_a->len, 0);
}

static void test_journal(void **state)
{
    Fixture *f = *state;
    g_autofree char *dir = g_dir_make_tmp("pool-journal-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "journal.json", NULL);
    g_autofree char *text = NULL;
    FakeStore fs2 = { 0 };
    GError *err = NULL;
    PoolSegment *a, *b, *c;
    Pool *p;
    bool w;

    /* No journal is no error: a first start. */
    assert_null(pool_journal_read(path, &err));
    assert_null(err);

    a = pool_alloc(f->pool, "brick0", 0, MEM_CLASS_DRAM, 256 * MiB, NULL);
    assert_true(pool_release_segment(f->pool, "brick0", false,
                                     pool_alloc(f->pool, "brick0", 0,
                                                MEM_CLASS_DRAM, 128 * MiB,
                                                NULL)->id, NULL));
    b = pool_alloc(f->pool, "brick1", 1, MEM_CLASS_DRAM, 128 * MiB, NULL);
    assert_true(pool_grant(f->pool, "brick0", false, a->id, "accel0", true,
                           NULL));
    assert_true(pool_grant(f->pool, "brick1", false, b->id, "brick0", false,
                           NULL));
    assert_non_null(pool_add_brick(f->pool, 9, MEM_CLASS_DRAM, 256 * MiB,
                                   NULL, NULL));
    c = pool_alloc(f->pool, "sdm-a4", 9, MEM_CLASS_DRAM, 128 * MiB, NULL);
    assert_true(pool_set_brick_down(f->pool, 1, true, &(unsigned) { 0 },
                                    NULL));
    assert_true(pool_set_page_poisoned(f->pool, 0, 20480, true, NULL));
    /* Brick 7 (persistent) is not on the second pool's command line. */
    g_ptr_array_remove_index(f->pool->bricks, 2);
    assert_true(pool_journal_save(f->pool, path, "/dev/shm/x", NULL, NULL));

    p = restored(&fs2, path, NULL);
    assert_non_null(p);
    assert_int_equal(fs2.reopens, 3);
    assert_int_equal(g_hash_table_size(p->segments), 3);
    assert_string_equal(pool_segment(p, a->id)->owner, "brick0");
    assert_int_equal(pool_segment(p, a->id)->offset, a->offset);
    assert_int_equal(pool_segment(p, c->id)->brick, 9);
    assert_int_equal(pool_brick(p, 9)->size, 256 * MiB);
    assert_true(pool_brick(p, 1)->down);
    assert_int_equal(pool_brick(p, 0)->poisoned->len, 1);
    assert_int_equal(g_array_index(pool_brick(p, 0)->poisoned, uint64_t, 0),
                     20480);
    assert_int_equal(pool_brick(p, 0)->scrubs, 1);
    assert_int_equal(pool_brick(p, 0)->used, 256 * MiB);
    /* Grants come back as they were given. */
    assert_non_null(pool_open(p, "accel0", false, a->id, &w, NULL));
    assert_true(w);
    assert_null(pool_open(p, "brick1", false, a->id, &w, &err));
    expect_error(&err, RACK_ERROR_DENIED, "not granted");
    /* No id is given twice, even one freed before the restart. */
    assert_int_equal(pool_alloc(p, "brick0", 0, MEM_CLASS_DRAM, 128 * MiB,
                                NULL)->id, c->id + 1);
    pool_free(p);
    close(fs2.fd);

    /* Memory that did not survive: the lease stays, the memory is lost. */
    fs2 = (FakeStore) { .lost = true };
    p = restored(&fs2, path, NULL);
    assert_int_equal(g_hash_table_size(p->segments), 3);
    assert_null(pool_open(p, "brick0", false, a->id, &w, &err));
    expect_error(&err, RACK_ERROR_DOWN, "lost its memory");
    pool_free(p);
    close(fs2.fd);

    /* A journal the command line no longer matches, or a broken one. */
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    memcpy(strstr(text, "\"size\":1073741824"), "\"size\":2147483648", 17);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    fs2 = (FakeStore) { 0 };
    assert_null(restored(&fs2, path, &err));
    expect_error(&err, RACK_ERROR_INVALID, "memory brick 0 was dram, 2048 MiB");
    close(fs2.fd);
    for (const char *const *j = (const char *const[]) {
             "{\"version\":2,\"memory-dir\":\"/x\"}",
             "{\"version\":1,\"memory-dir\":7}",
             "[]", "",
             "{\"version\":1,\"memory-dir\":\"/x\",\"granule\":134217728,"
             "\"next-segment\":1,\"bricks\":[],\"segments\":[{\"id\":\"1\"}]}",
             "{\"version\":1,\"memory-dir\":\"/x\",\"granule\":134217728,"
             "\"next-segment\":1,\"bricks\":[],\"segments\":[{\"id\":1,"
             "\"brick\":0,\"offset\":0,\"size\":134217728,"
             "\"owner\":\"../x\",\"grants\":[]}]}",
             "{\"version\":1,\"memory-dir\":\"/x\",\"granule\":134217728,"
             "\"next-segment\":1,\"bricks\":[],\"segments\":[{\"id\":1,"
             "\"brick\":0,\"offset\":0,\"size\":134217728,"
             "\"owner\":\"brick0\",\"grants\":[{\"client\":\"\","
             "\"writable\":true}]}]}",
             NULL }; *j; j++) {
        assert_true(g_file_set_contents(path, *j, -1, NULL));
        fs2 = (FakeStore) { 0 };
        assert_null(restored(&fs2, path, &err));
        assert_non_null(err);
        g_clear_error(&err);
        close(fs2.fd);
    }
    unlink(path);
    rmdir(dir);
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
        cmocka_unit_test_setup_teardown(test_poisoned_pages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_journal, setup, teardown),
        cmocka_unit_test(test_class_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
