/*
 * Unit tests of the SDM controller's SQLite state: pending and committed
 * allocations, persistence across a reopen and across a process killed
 * without closing, constraint violations and a corrupt database refused
 * with a clear error.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "state.h"

typedef struct Fixture {
    char *dir;
    char *db;
} Fixture;

static int setup(void **state)
{
    Fixture *f = g_new0(Fixture, 1);

    f->dir = g_dir_make_tmp("sdm-state-XXXXXX", NULL);
    f->db = g_build_filename(f->dir, "sdm.db", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

    assert_int_equal(system(cmd), 0);
    g_free(f->db);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static SdmAlloc alloc(unsigned compute, unsigned port, uint64_t size)
{
    return (SdmAlloc) { .compute = compute, .compute_port = port,
                        .memory = 1, .memory_port = 0, .size = size,
                        .segment = -1 };
}

static void test_lifecycle(void **state)
{
    Fixture *f = *state;
    SdmState *st = sdm_state_open(f->db, NULL);
    SdmAlloc a = alloc(0, 0, 512 << 20), b = alloc(0, 1, 1 << 30);
    GArray *list;
    GError *err = NULL;

    /* a is memory on the RMC path, b an accelerator's queue. */
    a.rmc = true;
    b.has_accel = true;
    b.accel = 2;
    b.accel_port = 0;
    b.accel_memory_port = 1;
    assert_non_null(st);
    assert_true(sdm_state_add(st, &a, NULL));
    assert_true(sdm_state_add(st, &b, NULL));
    assert_true(a.id > 0 && b.id > a.id);
    assert_true(sdm_state_commit(st, a.id, 7, NULL));
    sdm_state_close(st);

    st = sdm_state_open(f->db, NULL);
    list = sdm_state_list(st, NULL);
    assert_int_equal(list->len, 2);
    assert_int_equal(g_array_index(list, SdmAlloc, 0).status,
                     SDM_ALLOC_COMMITTED);
    assert_int_equal(g_array_index(list, SdmAlloc, 0).segment, 7);
    assert_int_equal(g_array_index(list, SdmAlloc, 0).size, 512 << 20);
    assert_int_equal(g_array_index(list, SdmAlloc, 1).status,
                     SDM_ALLOC_PENDING);
    assert_int_equal(g_array_index(list, SdmAlloc, 1).compute_port, 1);
    assert_false(g_array_index(list, SdmAlloc, 0).has_accel);
    assert_true(g_array_index(list, SdmAlloc, 1).has_accel);
    assert_int_equal(g_array_index(list, SdmAlloc, 1).accel, 2);
    assert_int_equal(g_array_index(list, SdmAlloc, 1).accel_port, 0);
    assert_int_equal(g_array_index(list, SdmAlloc, 1).accel_memory_port, 1);
    assert_true(g_array_index(list, SdmAlloc, 0).rmc);
    assert_false(g_array_index(list, SdmAlloc, 1).rmc);
    g_array_unref(list);

    /* One allocation per compute port. */
    assert_false(sdm_state_add(st, &a, &err));
    assert_non_null(strstr(err->message, "UNIQUE constraint failed"));
    g_clear_error(&err);
    assert_true(sdm_state_remove(st, b.id, NULL));
    assert_false(sdm_state_remove(st, b.id, &err));
    assert_non_null(strstr(err->message, "no allocation"));
    g_clear_error(&err);
    assert_false(sdm_state_commit(st, 99, 1, &err));
    assert_non_null(strstr(err->message, "no allocation 99"));
    g_clear_error(&err);
    /* A re-routed circuit ends at another port of the memory brick. */
    assert_true(sdm_state_set_memory_port(st, a.id, 3, NULL));
    assert_false(sdm_state_set_memory_port(st, 99, 3, &err));
    assert_non_null(strstr(err->message, "no allocation 99"));
    g_clear_error(&err);
    list = sdm_state_list(st, NULL);
    assert_int_equal(list->len, 1);
    assert_int_equal(g_array_index(list, SdmAlloc, 0).memory_port, 3);
    g_array_unref(list);
    sdm_state_close(st);
}

/* What was committed survives the controller being killed. */
/*
 * Ids another database gave out (leases named sdm-aID) are not given
 * again: in a new database, and in one that has given ids already;
 * reserving fewer changes nothing.
 */
static void test_reserved_ids(void **state)
{
    Fixture *f = *state;
    SdmState *st = sdm_state_open(f->db, NULL);
    SdmAlloc a = alloc(0, 0, 128 << 20), b = alloc(0, 1, 128 << 20);
    SdmAlloc c = alloc(1, 0, 128 << 20);

    assert_true(sdm_state_reserve_ids(st, 5, NULL));
    assert_true(sdm_state_add(st, &a, NULL));
    assert_int_equal(a.id, 6);
    assert_true(sdm_state_reserve_ids(st, 9, NULL));
    assert_true(sdm_state_reserve_ids(st, 3, NULL));
    assert_true(sdm_state_add(st, &b, NULL));
    assert_int_equal(b.id, 10);
    sdm_state_close(st);
    st = sdm_state_open(f->db, NULL);
    assert_true(sdm_state_add(st, &c, NULL));
    assert_int_equal(c.id, 11);
    sdm_state_close(st);
}

static void test_killed_writer(void **state)
{
    Fixture *f = *state;
    pid_t pid = fork();
    GArray *list;
    SdmState *st;
    int status;

    if (pid == 0) {
        SdmState *w = sdm_state_open(f->db, NULL);

        for (unsigned i = 0; i < 20; i++) {
            SdmAlloc a = alloc(i, 0, 128 << 20);

            if (!sdm_state_add(w, &a, NULL) ||
                (i % 2 == 0 && !sdm_state_commit(w, a.id, i, NULL))) {
                _exit(1);
            }
        }
        kill(getpid(), SIGKILL);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    st = sdm_state_open(f->db, NULL);
    list = sdm_state_list(st, NULL);
    assert_int_equal(list->len, 20);
    for (unsigned i = 0; i < 20; i++) {
        assert_int_equal(g_array_index(list, SdmAlloc, i).status,
                         i % 2 ? SDM_ALLOC_PENDING : SDM_ALLOC_COMMITTED);
    }
    g_array_unref(list);
    sdm_state_close(st);
}

static void test_corrupt(void **state)
{
    Fixture *f = *state;
    GError *err = NULL;

    assert_true(g_file_set_contents(f->db, "this is not a database, it is"
                                    " a text file that is long enough", -1,
                                    NULL));
    assert_null(sdm_state_open(f->db, &err));
    assert_non_null(strstr(err->message, "controller state:"));
    g_clear_error(&err);
    assert_null(sdm_state_open("/nonexistent/dir/sdm.db", &err));
    assert_non_null(strstr(err->message, "/nonexistent/dir/sdm.db"));
    g_clear_error(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
