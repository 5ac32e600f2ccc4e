/*
 * Unit tests of the platform synthesizer's rollback: a failing step
 * undoes itself and every earlier step in reverse order and names
 * itself; a step that may lag and times out undoes nothing; undo goes on
 * past failures and reports the first; the test hook fails a step that
 * has run.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "rack-error.h"
#include "synth.h"

typedef struct Trace {
    GString *log;
    int fail_at;            /* step index that fails, -1: none */
    int code;               /* how it fails */
    int undo_fails;         /* step index whose undo fails, -1: none */
    int at;
} Trace;

static bool run(void *ctx, GError **errp)
{
    Trace *t = ctx;
    int me = t->at++;

    if (me == t->fail_at) {
        g_set_error(errp, RACK_ERROR, t->code, "no room");
        return false;
    }
    g_string_append_printf(t->log, "do%d ", me);
    return true;
}

#define UNDO(n) \
    static bool undo##n(void *ctx, GError **errp) \
    { \
        Trace *t = ctx; \
        g_string_append(t->log, "undo" #n " "); \
        if (t->undo_fails == n) { \
            g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "stuck %d", n); \
            return false; \
        } \
        return true; \
    }
UNDO(0)
UNDO(1)
UNDO(3)
UNDO(4)

static const SdmStep steps[] = {
    { "pool segment", run, undo0, false },
    { "optical circuit", run, undo1, false },
    { "notice", run, NULL, false },
    { "RMC entry", run, undo3, false },
    { "memory online", run, undo4, true },
};

static const char *const names[] = {
    "pool segment", "optical circuit", "notice", "RMC entry",
    "memory online",
};

static void test_rollback(void **state)
{
    static const char *const expect[] = {
        [0] = "undo0 ",
        [1] = "do0 undo1 undo0 ",
        [2] = "do0 do1 undo1 undo0 ",
        [3] = "do0 do1 do2 undo3 undo1 undo0 ",
        [4] = "do0 do1 do2 do3 undo4 undo3 undo1 undo0 ",
    };

    for (int f = 0; f < 5; f++) {
        Trace t = { g_string_new(NULL), f, RACK_ERROR_NO_SPACE, -1, 0 };
        g_autofree char *msg = g_strdup_printf("%s failed: no room",
                                               names[f]);
        GError *err = NULL;
        bool unknown = true;

        assert_false(sdm_synth_run(steps, 5, &t, &unknown, &err));
        assert_false(unknown);
        assert_string_equal(t.log->str, expect[f]);
        assert_string_equal(err->message, msg);
        g_error_free(err);
        g_string_free(t.log, true);
    }
}

/*
 * A timeout of the step that may lag leaves everything in place, with
 * the outcome unknown; of any other step, it is a failure.  A caller
 * that cannot keep an unknown outcome gets the failure.
 */
static void test_unknown_outcome(void **state)
{
    Trace t = { g_string_new(NULL), 4, RACK_ERROR_TIMEOUT, -1, 0 };
    GError *err = NULL;
    bool unknown = false;

    assert_false(sdm_synth_run(steps, 5, &t, &unknown, &err));
    assert_true(unknown);
    assert_string_equal(t.log->str, "do0 do1 do2 do3 ");
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_TIMEOUT));
    g_clear_error(&err);

    g_string_truncate(t.log, 0);
    t.at = 0;
    assert_false(sdm_synth_run(steps, 5, &t, NULL, &err));
    assert_string_equal(t.log->str, "do0 do1 do2 do3 undo4 undo3 undo1 undo0 ");
    g_clear_error(&err);

    g_string_truncate(t.log, 0);
    t.at = 0;
    t.fail_at = 1;
    assert_false(sdm_synth_run(steps, 5, &t, &unknown, &err));
    assert_false(unknown);
    assert_string_equal(t.log->str, "do0 undo1 undo0 ");
    g_clear_error(&err);
    g_string_free(t.log, true);
}

static void test_success(void **state)
{
    Trace t = { g_string_new(NULL), -1, 0, -1, 0 };
    bool unknown = true;

    assert_true(sdm_synth_run(steps, 5, &t, &unknown, NULL));
    assert_string_equal(t.log->str, "do0 do1 do2 do3 do4 ");
    g_string_free(t.log, true);
}

/*
 * Tearing down a finished allocation undoes every step, newest first,
 * past an undo that fails, which it reports.
 */
static void test_undo_all(void **state)
{
    Trace t = { g_string_new(NULL), -1, 0, -1, 0 };
    GError *err = NULL;

    assert_true(sdm_synth_undo(steps, 5, &t, &err));
    assert_null(err);
    assert_string_equal(t.log->str, "undo4 undo3 undo1 undo0 ");
    g_string_truncate(t.log, 0);
    t.undo_fails = 3;
    assert_false(sdm_synth_undo(steps, 5, &t, &err));
    assert_string_equal(t.log->str, "undo4 undo3 undo1 undo0 ");
    assert_string_equal(err->message, "undo RMC entry: stuck 3");
    g_error_free(err);
    g_string_free(t.log, true);
}

/* The hook fails the step it names once it has run, or its undo. */
static bool fail_rmc_entry(const char *step, bool undo, GError **errp)
{
    if (!strcmp(step, "RMC entry")) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "hooked%s",
                    undo ? " undo" : "");
        return false;
    }
    return true;
}

static void test_hook(void **state)
{
    Trace t = { g_string_new(NULL), -1, 0, -1, 0 };
    GError *err = NULL;

    sdm_synth_set_hook(fail_rmc_entry);
    assert_false(sdm_synth_run(steps, 5, &t, NULL, &err));
    assert_string_equal(err->message, "RMC entry failed: hooked");
    assert_string_equal(t.log->str, "do0 do1 do2 do3 undo3 undo1 undo0 ");
    g_clear_error(&err);
    assert_false(sdm_synth_undo(steps, 5, &t, &err));
    assert_string_equal(err->message, "undo RMC entry: hooked undo");
    g_clear_error(&err);
    sdm_synth_set_hook(NULL);
    g_string_free(t.log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_unknown_outcome),
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_undo_all),
        cmocka_unit_test(test_hook),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
