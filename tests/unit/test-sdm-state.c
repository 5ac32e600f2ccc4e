/*
 * Unit tests of the SDM controller's SQLite state: pending, committed and
 * releasing allocations, request keys and the replies kept for them,
 * persistence across a reopen and across a process killed without
 * closing, an older controller's database brought up to date,
 * constraint violations and a corrupt database refused with a clear
 * error.
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
#include <sqlite3.h>
#include "rack-error.h"
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

/*
 * A request key names one allocation; the reply kept for a key comes
 * back after a reopen; a releasing allocation names the detach's key.
 */
static void test_keys(void **state)
{
    Fixture *f = *state;
    SdmState *st = sdm_state_open(f->db, NULL);
    SdmAlloc a = alloc(0, 0, 512 << 20), b = alloc(0, 1, 512 << 20);
    g_autoptr(GArray) list = NULL;
    g_autofree char *reply = NULL, *none = NULL;
    GError *err = NULL;

    g_strlcpy(a.key, "k-1", sizeof(a.key));
    g_strlcpy(b.key, "k-1", sizeof(b.key));
    /* The first id it gives is kept: ids below are an earlier database's */
    assert_int_equal(sdm_state_first_id(st), -1);
    assert_true(sdm_state_reserve_ids(st, 6, NULL));
    assert_true(sdm_state_add(st, &a, NULL));
    assert_int_equal(a.id, 7);
    assert_int_equal(sdm_state_first_id(st), 7);
    /* The same key twice is the same request: never two allocations */
    assert_false(sdm_state_add(st, &b, &err));
    assert_non_null(strstr(err->message, "UNIQUE"));
    g_clear_error(&err);
    assert_true(sdm_state_commit(st, a.id, -1, NULL));
    assert_true(sdm_state_set_status(st, a.id, SDM_ALLOC_RELEASING, "d-7",
                                     NULL));
    assert_true(sdm_state_reply_put(st, "attach k-1", "{\"ok\":true}",
                                    NULL));
    assert_true(sdm_state_reply_put(st, "attach k-1", "{\"ok\":true,\"x\":1}",
                                    NULL));
    sdm_state_close(st);

    st = sdm_state_open(f->db, NULL);
    assert_int_equal(sdm_state_first_id(st), 7);
    list = sdm_state_list(st, NULL);
    assert_int_equal(list->len, 1);
    assert_string_equal(g_array_index(list, SdmAlloc, 0).key, "k-1");
    assert_int_equal(g_array_index(list, SdmAlloc, 0).status,
                     SDM_ALLOC_RELEASING);
    assert_string_equal(g_array_index(list, SdmAlloc, 0).release_key, "d-7");
    assert_true(sdm_state_reply_get(st, "attach k-1", &reply, NULL));
    assert_string_equal(reply, "{\"ok\":true,\"x\":1}");
    assert_true(sdm_state_reply_get(st, "attach k-2", &none, NULL));
    assert_null(none);
    /* A refused release: committed again, no detach's key */
    assert_true(sdm_state_set_status(st, a.id, SDM_ALLOC_COMMITTED, NULL,
                                     NULL));
    g_array_unref(g_steal_pointer(&list));
    list = sdm_state_list(st, NULL);
    assert_string_equal(g_array_index(list, SdmAlloc, 0).release_key, "");
    assert_false(sdm_state_set_status(st, 99, SDM_ALLOC_COMMITTED, NULL,
                                      &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_NOT_FOUND));
    g_clear_error(&err);
    assert_true(sdm_key_valid("0b4f-x_Y.z"));
    assert_false(sdm_key_valid(""));
    assert_false(sdm_key_valid("a b"));
    assert_false(sdm_key_valid("k\"; DROP TABLE allocation; --"));
    sdm_state_close(st);
}

/*
 * An older controller's database (schema 1: no keys, no releasing) is
 * brought up to date with its allocations and its reserved ids.
 */
static void test_upgrade(void **state)
{
    Fixture *f = *state;
    sqlite3 *db;
    SdmState *st;
    SdmAlloc a = alloc(1, 0, 256 << 20);
    g_autoptr(GArray) list = NULL;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "CREATE TABLE allocation (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " compute INTEGER NOT NULL, compute_port INTEGER NOT NULL,"
        " memory INTEGER NOT NULL, memory_port INTEGER NOT NULL,"
        " size INTEGER NOT NULL CHECK (size > 0),"
        " segment INTEGER NOT NULL DEFAULT -1,"
        " status TEXT NOT NULL CHECK (status IN ('pending', 'committed')),"
        " accel INTEGER NOT NULL DEFAULT -1, accel_port INTEGER NOT NULL"
        " DEFAULT -1, accel_memory_port INTEGER NOT NULL DEFAULT -1,"
        " rmc INTEGER NOT NULL DEFAULT 0, UNIQUE (compute, compute_port));"
        "INSERT INTO allocation (id, compute, compute_port, memory,"
        " memory_port, size, segment, status, rmc) VALUES"
        " (5, 0, 1, 1, 0, 134217728, 3, 'committed', 1);"
        "UPDATE sqlite_sequence SET seq = 9 WHERE name = 'allocation';",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    st = sdm_state_open(f->db, NULL);
    assert_non_null(st);
    list = sdm_state_list(st, NULL);
    assert_int_equal(list->len, 1);
    assert_int_equal(g_array_index(list, SdmAlloc, 0).id, 5);
    assert_int_equal(g_array_index(list, SdmAlloc, 0).segment, 3);
    assert_true(g_array_index(list, SdmAlloc, 0).rmc);
    assert_int_equal(g_array_index(list, SdmAlloc, 0).status,
                     SDM_ALLOC_COMMITTED);
    assert_true(sdm_state_set_status(st, 5, SDM_ALLOC_RELEASING, NULL, NULL));
    /* Its allocations were its own; leases below them are not */
    assert_int_equal(sdm_state_first_id(st), 5);
    assert_true(sdm_state_add(st, &a, NULL));
    assert_int_equal(a.id, 10);
    assert_int_equal(sdm_state_first_id(st), 5);
    sdm_state_close(st);
    /* Opened again: up to date, nothing to do */
    st = sdm_state_open(f->db, NULL);
    assert_non_null(st);
    sdm_state_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserved_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
