/*
 * Unit tests of the platform synthesizer's rollback: a failing step
 * undoes every earlier step in reverse order and names itself.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rack-error.h"
#include "synth.h"

typedef struct Trace {
    GString *log;
    int fail_at;            /* step index that fails, -1: none */
    int at;
} Trace;

static bool run(void *ctx, GError **errp)
{
    Trace *t = ctx;
    int me = t->at++;

    if (me == t->fail_at) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NO_SPACE, "no room");
        return false;
    }
    g_string_append_printf(t->log, "do%d ", me);
    return true;
}

#define UNDO(n) \
    static void undo##n(void *ctx) \
    { \
        g_string_append(((Trace *)ctx)->log, "undo" #n " "); \
    }
UNDO(0)
UNDO(1)
UNDO(3)

static const SdmStep steps[] = {
    { "pool segment", run, undo0 },
    { "optical circuit", run, undo1 },
    { "notice", run, NULL },
    { "RMC entry", run, undo3 },
    { "memory online", run, NULL },
};

static void test_rollback(void **state)
{
    static const char *const expect[] = {
        [0] = "",
        [1] = "do0 undo0 ",
        [2] = "do0 do1 undo1 undo0 ",
        [3] = "do0 do1 do2 undo1 undo0 ",
        [4] = "do0 do1 do2 do3 undo3 undo1 undo0 ",
    };
    static const char *const names[] = {
        "pool segment", "optical circuit", "notice", "RMC entry",
        "memory online",
    };

    for (int f = 0; f < 5; f++) {
        Trace t = { g_string_new(NULL), f, 0 };
        g_autofree char *msg = g_strdup_printf("%s failed: no room",
                                               names[f]);
        GError *err = NULL;

        assert_false(sdm_synth_run(steps, 5, &t, &err));
        assert_string_equal(t.log->str, expect[f]);
        assert_string_equal(err->message, msg);
        g_error_free(err);
        g_string_free(t.log, true);
    }
}

static void test_success(void **state)
{
    Trace t = { g_string_new(NULL), -1, 0 };

    assert_true(sdm_synth_run(steps, 5, &t, NULL));
    assert_string_equal(t.log->str, "do0 do1 do2 do3 do4 ");
    g_string_free(t.log, true);
}

/* Tearing down a finished allocation undoes every step, newest first. */
static void test_undo_all(void **state)
{
    Trace t = { g_string_new(NULL), -1, 0 };

    sdm_synth_undo(steps, 5, &t);
    assert_string_equal(t.log->str, "undo3 undo1 undo0 ");
    g_string_free(t.log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_undo_all),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
