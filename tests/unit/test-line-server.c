/*
 * Unit tests of the threaded line server (lib/line-server.h), the
 * controller's: a request that waits holds up only its own connection;
 * one connection's requests are answered in order; a client that hangs
 * up before its reply, or holds half a line, harms no one else; a request
 * past the server's deadline is answered "pending" and goes on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "line-server.h"
#include "wire.h"

/* A request "hold" waits until the test lets it go */
static GMutex mutex;
static GCond changed;
static unsigned holding;        /* "hold" requests waiting */
static bool let_go;
static GString *handled;        /* the commands handled, in order */

static char *path, *late_path, *dir;     /* servers without and with a
                                         * deadline (1 s) */
static GMainLoop *loop;
static GThread *server;

static char *handle(JsonObject *req, const char *cmd, GError **errp)
{
    g_mutex_lock(&mutex);
    if (!strcmp(cmd, "hold")) {
        holding++;
        g_cond_broadcast(&changed);
        while (!let_go) {
            g_cond_wait(&changed, &mutex);
        }
        holding--;
        g_cond_broadcast(&changed);
    }
    g_string_append_printf(handled, "%s ", cmd);
    g_mutex_unlock(&mutex);
    return g_strdup_printf("{\"ok\":true,\"cmd\":\"%s\"}", cmd);
}

static gpointer serve(gpointer unused)
{
    GMainContext *ctx = g_main_context_default();

    g_main_context_push_thread_default(ctx);
    g_main_loop_run(loop);
    return NULL;
}

static int setup(void **state)
{
    g_autoptr(GError) err = NULL;

    dir = g_dir_make_tmp("line-server-XXXXXX", NULL);
    path = g_build_filename(dir, "test.sock", NULL);
    late_path = g_build_filename(dir, "late.sock", NULL);
    handled = g_string_new("");
    loop = g_main_loop_new(NULL, FALSE);
    assert_true(line_server_start_threaded(path, handle, 4, 0, &err) >= 0);
    assert_true(line_server_start_threaded(late_path, handle, 4, 1,
                                           &err) >= 0);
    server = g_thread_new("server", serve, NULL);
    return 0;
}

static gboolean quit(gpointer unused)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static int teardown(void **state)
{
    g_main_context_invoke(NULL, quit, NULL);
    g_thread_join(server);
    g_unlink(path);
    g_unlink(late_path);
    g_rmdir(dir);
    return 0;
}

static int client_at(const char *at)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 10 };   /* liveness only */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);

    g_strlcpy(sa.sun_path, at, sizeof(sa.sun_path));
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
}

static int client(void)
{
    return client_at(path);
}

static void send_raw(int s, const char *text)
{
    assert_int_equal(write(s, text, strlen(text)), strlen(text));
}

/* The reply on @s, which must be the one to @cmd */
static void expect_reply(int s, const char *cmd)
{
    g_autofree char *reply = rack_wire_recv(s, 4096, NULL);
    g_autofree char *want = g_strdup_printf("{\"ok\":true,\"cmd\":\"%s\"}",
                                            cmd);

    assert_non_null(reply);
    assert_string_equal(reply, want);
}

/* Until @n "hold" requests wait in the handler */
static void wait_holding(unsigned n)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    g_mutex_lock(&mutex);
    while (holding != n) {
        if (!g_cond_wait_until(&changed, &mutex, deadline)) {
            break;
        }
    }
    assert_int_equal(holding, n);
    g_mutex_unlock(&mutex);
}

/* Let every "hold" go; the next test starts afresh */
static void release(void)
{
    g_mutex_lock(&mutex);
    let_go = true;
    g_cond_broadcast(&changed);
    g_mutex_unlock(&mutex);
    wait_holding(0);
    g_mutex_lock(&mutex);
    let_go = false;
    g_mutex_unlock(&mutex);
}

static int forget(void **state)
{
    g_string_truncate(handled, 0);
    return 0;
}

static char *handled_now(void)
{
    char *s;

    g_mutex_lock(&mutex);
    s = g_strdup(handled->str);
    g_mutex_unlock(&mutex);
    return s;
}

static void test_others_go_on(void **state)
{
    int a = client(), b = client(), c = client();
    g_autofree char *seen = NULL;

    /* a waits in the handler; c holds half a line */
    send_raw(a, "{\"cmd\":\"hold\"}\n");
    wait_holding(1);
    send_raw(c, "{\"cmd\":\"fa");
    send_raw(b, "{\"cmd\":\"fast\"}\n");
    expect_reply(b, "fast");
    seen = handled_now();
    assert_string_equal(seen, "fast ");
    release();
    expect_reply(a, "hold");
    send_raw(c, "st\"}\n");
    expect_reply(c, "fast");
    close(a);
    close(b);
    close(c);
}

static void test_one_connection_in_order(void **state)
{
    int a = client(), b = client();
    g_autofree char *seen = NULL;

    /* Two lines in one write: the second waits for the first's reply */
    send_raw(a, "{\"cmd\":\"hold\"}\n{\"cmd\":\"next\"}\n");
    wait_holding(1);
    send_raw(b, "{\"cmd\":\"fast\"}\n");
    expect_reply(b, "fast");
    seen = handled_now();
    assert_string_equal(seen, "fast ");
    g_mutex_lock(&mutex);
    let_go = true;
    g_cond_broadcast(&changed);
    g_mutex_unlock(&mutex);
    expect_reply(a, "hold");
    expect_reply(a, "next");
    g_clear_pointer(&seen, g_free);
    seen = handled_now();
    assert_string_equal(seen, "fast hold next ");
    release();
    close(a);
    close(b);
}

static void test_hang_up_in_flight(void **state)
{
    int a = client(), b;

    send_raw(a, "{\"cmd\":\"hold\"}\n");
    wait_holding(1);
    close(a);
    release();
    b = client();
    send_raw(b, "{\"cmd\":\"after\"}\n");
    expect_reply(b, "after");
    close(b);
}

static void test_deadline(void **state)
{
    int a = client_at(late_path);
    g_autofree char *reply = NULL;

    send_raw(a, "{\"cmd\":\"hold\"}\n");
    wait_holding(1);
    /* 1 s on: the outcome is not known, and the connection goes on */
    reply = rack_wire_recv(a, 4096, NULL);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "\"code\":\"pending\""));
    send_raw(a, "{\"cmd\":\"next\"}\n");
    expect_reply(a, "next");
    wait_holding(1);
    /* The held request's late reply is dropped, never read as another's */
    release();
    send_raw(a, "{\"cmd\":\"after\"}\n");
    expect_reply(a, "after");
    close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_others_go_on, forget),
        cmocka_unit_test_setup(test_one_connection_in_order, forget),
        cmocka_unit_test_setup(test_hang_up_in_flight, forget),
        cmocka_unit_test_setup(test_deadline, forget),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
