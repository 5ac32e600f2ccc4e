/*
 * Unit tests of how the controller talks to a compute brick's SDM agent
 * (brick-agent.c), against a fake agent on this test's own socket: the
 * reply to the request is found among late replies to earlier ones,
 * errors carry the agent's words, silence and a missing channel fail.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brick-agent.h"
#include "fake-listener.h"
#include "rack-error.h"

typedef struct FakeAgent {
    FakeListener l;
    const char *answer;     /* after the request's number; NULL: silence */
    char request[256];      /* what it received, number stripped */
} FakeAgent;

static gpointer serve(gpointer opaque)
{
    FakeAgent *f = opaque;
    int s = accept(f->l.fd, NULL, NULL);
    char line[256] = "", *sp;
    g_autofree char *out = NULL;
    ssize_t n;

    n = read(s, line, sizeof(line) - 1);
    line[MAX(n, 0)] = '\0';
    line[strcspn(line, "\n")] = '\0';
    sp = strchr(line, ' ');
    g_strlcpy(f->request, sp ? sp + 1 : "", sizeof(f->request));
    if (f->answer) {
        /* A reply an earlier client never read comes first. */
        out = g_strdup_printf("7 ok stale\n%.*s %s\n", (int)(sp - line),
                              line, f->answer);
        g_assert(write(s, out, strlen(out)) == (ssize_t)strlen(out));
    }
    g_usleep(300000);
    close(s);
    return NULL;
}

static int setup(void **state)
{
    FakeAgent *f = g_new0(FakeAgent, 1);

    fake_listener_open(&f->l, "sdm-agent-XXXXXX", "brick3.agent");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    FakeAgent *f = *state;

    fake_listener_close(&f->l);
    g_free(f);
    return 0;
}

/* Call the agent while the fake serves one connection. */
static char *call(FakeAgent *f, const char *answer, const char *request,
                  GError **errp)
{
    GThread *t;
    char *reply;

    f->answer = answer;
    t = g_thread_new("agent", serve, f);
    reply = brick_agent_call(f->l.path, 3, request, 2 * G_USEC_PER_SEC, errp);
    g_thread_join(t);
    return reply;
}

static void test_ok(void **state)
{
    FakeAgent *f = *state;
    g_autofree char *r = call(f, "ok 0 link=up;", "status", NULL);

    assert_string_equal(r, "0 link=up;");
    assert_string_equal(f->request, "status");
    g_free(call(f, "ok", "detach 1", NULL));
    assert_string_equal(f->request, "detach 1");
}

static void test_error(void **state)
{
    FakeAgent *f = *state;
    GError *err = NULL;

    assert_null(call(f, "error detach: Device or resource busy", "detach 0",
                     &err));
    assert_string_equal(err->message,
                        "compute brick 3: detach: Device or resource busy");
    g_clear_error(&err);
    /* The agent hangs up without answering */
    assert_null(call(f, NULL, "status", &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_CLOSED));
    assert_true(g_str_has_prefix(err->message, "compute brick 3's agent at "));
    assert_true(g_str_has_suffix(err->message, " is gone (receive:"
                                 " connection closed)"));
    g_clear_error(&err);
}

static void test_unreachable(void **state)
{
    GError *err = NULL;

    assert_null(brick_agent_call("/nonexistent/brick3.agent", 3, "status",
                                 G_USEC_PER_SEC, &err));
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_UNREACHABLE));
    assert_string_equal(err->message, "cannot reach compute brick 3's agent"
                        " at /nonexistent/brick3.agent: No such file or"
                        " directory");
    g_clear_error(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error, setup, teardown),
        cmocka_unit_test(test_unreachable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
