/*
 * Unit tests of the optical circuit switch model: a port is in at most
 * one circuit, a circuit comes up only after the reconfiguration time,
 * teardown is immediate, both ends hear of every change.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "ocs.h"
#include "rack-error.h"

typedef struct Log {
    GString *s;
} Log;

static void on_link(void *opaque, unsigned a, unsigned b, bool up)
{
    Log *log = opaque;

    g_string_append_printf(log->s, "%u-%u:%s ", a, b, up ? "up" : "down");
}

static void test_reconfiguration_time(void **state)
{
    Log log = { g_string_new(NULL) };
    Ocs *ocs = ocs_new(8, 25000, on_link, &log);

    assert_true(ocs_connect(ocs, 1, 5, 1000, NULL));
    assert_int_equal(ocs->state[1], OCS_PORT_SETTING_UP);
    assert_int_equal(ocs_next_ready(ocs), 26000);
    ocs_advance(ocs, 25999);
    assert_string_equal(log.s->str, "");
    assert_int_equal(ocs->state[5], OCS_PORT_SETTING_UP);
    ocs_advance(ocs, 26000);
    assert_string_equal(log.s->str, "1-5:up ");
    assert_int_equal(ocs->state[1], OCS_PORT_UP);
    assert_int_equal(ocs->peer[5], 1);
    assert_int_equal(ocs_next_ready(ocs), 0);
    /* Nothing more happens later. */
    ocs_advance(ocs, 1000000);
    assert_string_equal(log.s->str, "1-5:up ");

    assert_true(ocs_disconnect(ocs, 5, NULL));
    assert_string_equal(log.s->str, "1-5:up 1-5:down ");
    assert_int_equal(ocs->state[1], OCS_PORT_FREE);
    assert_int_equal(ocs->peer[1], -1);
    ocs_free(ocs);
    g_string_free(log.s, true);
}

static void test_one_circuit_per_port(void **state)
{
    Log log = { g_string_new(NULL) };
    Ocs *ocs = ocs_new(8, 1000, on_link, &log);
    GError *err = NULL;

    assert_true(ocs_connect(ocs, 0, 1, 0, NULL));
    assert_false(ocs_connect(ocs, 1, 2, 0, &err));
    assert_string_equal(err->message,
                        "optical port 1 is being set up (with port 0)");
    g_clear_error(&err);
    ocs_advance(ocs, 1000);
    assert_false(ocs_connect(ocs, 2, 0, 0, &err));
    assert_string_equal(err->message,
                        "optical port 0 is in a circuit (with port 1)");
    g_clear_error(&err);
    assert_false(ocs_connect(ocs, 3, 3, 0, &err));
    assert_string_equal(err->message, "a circuit joins two different ports");
    g_clear_error(&err);
    assert_false(ocs_connect(ocs, 3, 8, 0, &err));
    assert_string_equal(err->message,
                        "optical port 8 does not exist (0 to 7)");
    g_clear_error(&err);
    assert_false(ocs_disconnect(ocs, 4, &err));
    assert_string_equal(err->message, "optical port 4 is in no circuit");
    g_clear_error(&err);
    /* Refusals changed nothing. */
    assert_int_equal(ocs->peer[0], 1);
    assert_int_equal(ocs->state[2], OCS_PORT_FREE);
    assert_int_equal(ocs->state[3], OCS_PORT_FREE);
    assert_string_equal(log.s->str, "0-1:up ");
    ocs_free(ocs);
    g_string_free(log.s, true);
}

/* Tearing down a circuit still being set up: no link ever came up. */
static void test_cancel_setup(void **state)
{
    Log log = { g_string_new(NULL) };
    Ocs *ocs = ocs_new(4, 5000, on_link, &log);

    assert_true(ocs_connect(ocs, 2, 3, 0, NULL));
    assert_true(ocs_disconnect(ocs, 2, NULL));
    ocs_advance(ocs, 10000);
    assert_string_equal(log.s->str, "");
    /* The ports are free again. */
    assert_true(ocs_connect(ocs, 3, 0, 10000, NULL));
    ocs_advance(ocs, 15000);
    assert_string_equal(log.s->str, "0-3:up ");
    ocs_free(ocs);
    g_string_free(log.s, true);
}

/* Many random requests: every port is in at most one circuit, always. */
static void test_random_requests(void **state)
{
    Ocs *ocs = ocs_new(16, 100, NULL, NULL);
    GRand *rand = g_rand_new_with_seed(7);
    uint64_t now = 0;

    for (int i = 0; i < 20000; i++) {
        unsigned a = g_rand_int_range(rand, 0, 18);
        unsigned b = g_rand_int_range(rand, 0, 18);

        now += g_rand_int_range(rand, 0, 60);
        if (g_rand_boolean(rand)) {
            ocs_connect(ocs, a, b, now, NULL);
        } else {
            ocs_disconnect(ocs, a, NULL);
        }
        ocs_advance(ocs, now);
        for (unsigned p = 0; p < 16; p++) {
            if (ocs->state[p] == OCS_PORT_FREE) {
                assert_int_equal(ocs->peer[p], -1);
            } else {
                assert_int_equal(ocs->peer[ocs->peer[p]], p);
                assert_int_equal(ocs->state[ocs->peer[p]], ocs->state[p]);
                assert_true(ocs->state[p] == OCS_PORT_UP ||
                            ocs->ready_at[p] > now);
            }
        }
    }
    g_rand_free(rand);
    ocs_free(ocs);
}

/*
 * A dark port takes its circuit down at once and back up once both of
 * its ports are lit; a circuit being set up through one never comes up;
 * no new circuit takes one.
 */
static void test_faults(void **state)
{
    Log log = { g_string_new(NULL) };
    Ocs *ocs = ocs_new(8, 1000, on_link, &log);
    GError *err = NULL;
    g_autofree char *why = NULL;

    assert_true(ocs_connect(ocs, 1, 5, 0, NULL));
    ocs_advance(ocs, 1000);
    assert_true(ocs_set_fault(ocs, 5, OCS_FAULT_CABLE, true, NULL));
    assert_int_equal(ocs->state[1], OCS_PORT_DOWN);
    assert_string_equal(log.s->str, "1-5:up 1-5:down ");
    /* Both causes on one port; a repair of one leaves it dark. */
    assert_true(ocs_set_fault(ocs, 5, OCS_FAULT_PORT, true, NULL));
    why = ocs_fault_reason(ocs, 5);
    assert_string_equal(why, "optical port 5 is dark: its cable is cut and"
                        " the switch port failed");
    assert_false(ocs_set_fault(ocs, 5, OCS_FAULT_CABLE, true, &err));
    assert_string_equal(err->message,
                        "optical port 5: its cable is already cut");
    g_clear_error(&err);
    assert_true(ocs_set_fault(ocs, 5, OCS_FAULT_BRICK, true, NULL));
    g_free(why);
    why = ocs_fault_reason(ocs, 5);
    assert_string_equal(why, "optical port 5 is dark: its cable is cut, the"
                        " switch port failed and its brick is down");
    assert_true(ocs_set_fault(ocs, 5, OCS_FAULT_BRICK, false, NULL));
    assert_true(ocs_set_fault(ocs, 5, OCS_FAULT_CABLE, false, NULL));
    assert_int_equal(ocs->state[5], OCS_PORT_DOWN);
    assert_string_equal(log.s->str, "1-5:up 1-5:down ");
    /* The other end going dark too changes nothing more. */
    assert_true(ocs_set_fault(ocs, 1, OCS_FAULT_PORT, true, NULL));
    assert_true(ocs_set_fault(ocs, 5, OCS_FAULT_PORT, false, NULL));
    assert_int_equal(ocs->state[5], OCS_PORT_DOWN);
    assert_true(ocs_set_fault(ocs, 1, OCS_FAULT_PORT, false, NULL));
    assert_int_equal(ocs->state[5], OCS_PORT_UP);
    assert_string_equal(log.s->str, "1-5:up 1-5:down 1-5:up ");
    assert_null(ocs_fault_reason(ocs, 5));
    assert_false(ocs_set_fault(ocs, 1, OCS_FAULT_PORT, false, &err));
    assert_string_equal(err->message,
                        "optical port 1: the switch port has not failed");
    g_clear_error(&err);
    assert_false(ocs_set_fault(ocs, 8, OCS_FAULT_PORT, true, &err));
    assert_string_equal(err->message,
                        "optical port 8 does not exist (0 to 7)");
    g_clear_error(&err);

    /* A down circuit is torn down without a second "down". */
    assert_true(ocs_set_fault(ocs, 1, OCS_FAULT_CABLE, true, NULL));
    assert_true(ocs_disconnect(ocs, 1, NULL));
    assert_string_equal(log.s->str, "1-5:up 1-5:down 1-5:up 1-5:down ");
    assert_int_equal(ocs->state[5], OCS_PORT_FREE);
    /* No new circuit through a dark port. */
    assert_false(ocs_connect(ocs, 2, 1, 2000, &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_DOWN));
    assert_string_equal(err->message,
                        "optical port 1 is dark: its cable is cut");
    g_clear_error(&err);
    assert_int_equal(ocs->state[2], OCS_PORT_FREE);
    /* A port that goes dark while its circuit is set up: never up. */
    assert_true(ocs_connect(ocs, 2, 3, 2000, NULL));
    assert_true(ocs_set_fault(ocs, 3, OCS_FAULT_PORT, true, NULL));
    ocs_advance(ocs, 3000);
    assert_int_equal(ocs->state[2], OCS_PORT_DOWN);
    assert_int_equal(ocs_next_ready(ocs), 0);
    assert_true(ocs_set_fault(ocs, 3, OCS_FAULT_PORT, false, NULL));
    assert_int_equal(ocs->state[2], OCS_PORT_UP);
    assert_string_equal(log.s->str,
                        "1-5:up 1-5:down 1-5:up 1-5:down 2-3:up ");
    ocs_free(ocs);
    g_string_free(log.s, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconfiguration_time),
        cmocka_unit_test(test_one_circuit_per_port),
        cmocka_unit_test(test_cancel_setup),
        cmocka_unit_test(test_random_requests),
        cmocka_unit_test(test_faults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
