/*
 * Unit tests of the guest-agent client (lib/guest-agent.c) against a fake
 * qemu-ga on this test's own socket: synchronisation past a stale reply,
 * a command's output and status (exit code, signal), input, files in and
 * out in several chunks with their mode, the agent's refusals, members of
 * the wrong type, a hang-up, a command that outlives its deadline, an
 * agent that never answers, and random replies (a printed seed:
 * DREDBOX_SEED replays it).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fake-listener.h"
#include "fuzz-seed.h"
#include "guest-agent.h"
#include "rack-error.h"
#include "rack-json.h"

typedef struct FakeAgent {
    FakeListener l;
    GThread *thread;
    /* What it answers */
    bool stale;                 /* a reply left from an earlier client */
    bool silent;                /* never answers */
    const char *exec_reply;     /* to guest-exec; NULL: {"pid":42} */
    const char *exec_error;     /* to guest-exec, if set: its "desc" */
    const char *status_reply;   /* to guest-exec-status, once exited */
    unsigned running;           /* statuses that say "not exited" first */
    const char *hangup_after;   /* closes after answering this command */
    /* What it saw */
    GByteArray *file;           /* written with guest-file-write */
    char *chmod;                /* "MODE PATH" of a chmod it ran */
    char *argv;                 /* the last guest-exec's path and args */
    char *input;                /* its input-data, decoded */
    gsize read_off;
} FakeAgent;

static void send_line(int s, const char *text)
{
    g_autofree char *line = g_strdup_printf("%s\n", text);

    /* A peer that hung up first fails the write: the test sees why. */
    if (write(s, line, strlen(line)) < 0) {
        return;
    }
}

static char *exec_args(JsonObject *args)
{
    GString *s = g_string_new(json_object_get_string_member(args, "path"));
    JsonArray *a = json_object_get_array_member(args, "arg");

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        g_string_append_printf(s, " %s", json_array_get_string_element(a, i));
    }
    return g_string_free(s, false);
}

/* The reply to one request, or NULL to hang up. */
static char *answer(FakeAgent *f, JsonObject *req)
{
    const char *cmd = json_object_get_string_member(req, "execute");
    JsonObject *args = json_object_has_member(req, "arguments") ?
        json_object_get_object_member(req, "arguments") : NULL;

    if (!strcmp(cmd, "guest-sync-delimited")) {
        return g_strdup_printf("\xff{\"return\": %" G_GINT64_FORMAT "}",
                               json_object_get_int_member(args, "id"));
    }
    if (!strcmp(cmd, "guest-exec")) {
        g_autofree char *argv = exec_args(args);

        if (g_str_has_prefix(argv, "chmod ")) {
            g_free(f->chmod);
            f->chmod = g_strdup(argv + strlen("chmod "));
            f->running = 0;
            f->status_reply = "{\"exited\": true, \"exitcode\": 0}";
        } else {
            g_free(f->argv);
            f->argv = g_steal_pointer(&argv);
        }
        if (json_object_has_member(args, "input-data")) {
            gsize n;
            guchar *in = g_base64_decode(json_object_get_string_member(
                                             args, "input-data"), &n);

            g_free(f->input);
            f->input = g_strndup((char *)in, n);
            g_free(in);
        }
        if (f->exec_error) {
            return g_strdup_printf("{\"error\": {\"class\":"
                                   " \"GenericError\", \"desc\": \"%s\"}}",
                                   f->exec_error);
        }
        return g_strdup_printf("{\"return\": %s}", f->exec_reply ?
                               f->exec_reply : "{\"pid\": 42}");
    }
    if (!strcmp(cmd, "guest-exec-status")) {
        if (f->running) {
            f->running--;
            return g_strdup("{\"return\": {\"exited\": false}}");
        }
        return g_strdup_printf("{\"return\": %s}", f->status_reply);
    }
    if (!strcmp(cmd, "guest-file-open")) {
        f->read_off = 0;
        return g_strdup("{\"return\": 1000}");
    }
    if (!strcmp(cmd, "guest-file-write")) {
        gsize n;
        guchar *buf = g_base64_decode(json_object_get_string_member(
                                          args, "buf-b64"), &n);
        char *r = g_strdup_printf("{\"return\": {\"count\": %zu,"
                                  " \"eof\": false}}", n);

        g_byte_array_append(f->file, buf, n);
        g_free(buf);
        return r;
    }
    if (!strcmp(cmd, "guest-file-read")) {
        gsize n = MIN((gsize)json_object_get_int_member(args, "count"),
                      f->file->len - f->read_off);
        g_autofree char *b64 = g_base64_encode(f->file->data + f->read_off,
                                               n);

        f->read_off += n;
        return g_strdup_printf("{\"return\": {\"count\": %zu, \"buf-b64\":"
                               " \"%s\", \"eof\": %s}}", n, b64,
                               f->read_off == f->file->len ? "true"
                                                           : "false");
    }
    if (!strcmp(cmd, "guest-file-close")) {
        return g_strdup("{\"return\": {}}");
    }
    return g_strdup("{\"error\": {\"class\": \"CommandNotFound\","
                    " \"desc\": \"no such command\"}}");
}

static gpointer serve(gpointer opaque)
{
    FakeAgent *f = opaque;
    int s = accept(f->l.fd, NULL, NULL);
    FILE *in = fdopen(dup(s), "r");
    g_autoptr(JsonParser) parser = json_parser_new();
    char *line = NULL;
    size_t cap = 0;

    if (f->stale) {
        send_line(s, "{\"return\": {\"pid\": 7}}");
    }
    while (getline(&line, &cap, in) > 0) {
        char *text = line;
        JsonObject *req;
        g_autofree char *reply = NULL;
        const char *cmd;

        while (*text == '\xff') {
            text++;
        }
        req = rack_json_parse_object(parser, text);
        if (!req || f->silent) {
            continue;
        }
        cmd = json_object_get_string_member(req, "execute");
        reply = answer(f, req);
        send_line(s, reply);
        if (f->hangup_after && !strcmp(cmd, f->hangup_after)) {
            break;
        }
    }
    free(line);
    fclose(in);
    close(s);
    return NULL;
}

static int setup(void **state)
{
    FakeAgent *f = g_new0(FakeAgent, 1);

    fake_listener_open(&f->l, "guest-agent-XXXXXX", "brick0.qga");
    f->file = g_byte_array_new();
    f->status_reply = "{\"exited\": true, \"exitcode\": 0}";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    FakeAgent *f = *state;

    fake_listener_close(&f->l);
    g_byte_array_unref(f->file);
    g_free(f->chmod);
    g_free(f->argv);
    g_free(f->input);
    g_free(f);
    return 0;
}

/* A client of the fake agent, which serves it from now on. */
static GuestAgent *connect_to(FakeAgent *f, unsigned timeout_ms,
                              GError **errp)
{
    f->thread = g_thread_new("fake-qga", serve, f);
    return guest_agent_open(f->l.path, timeout_ms, errp);
}

static void done(FakeAgent *f, GuestAgent *ga)
{
    guest_agent_close(ga);
    g_thread_join(f->thread);
}

/* Run @argv; its status, or -1 with @errp set. */
static int exec_in(GuestAgent *ga, const char *const *argv, GBytes *input,
                   unsigned deadline_ms, GByteArray *out, GByteArray *err,
                   GError **errp)
{
    int status;

    if (!guest_agent_exec(ga, (char **)argv, input, deadline_ms, out, err,
                          &status, errp)) {
        return -1;
    }
    return status;
}

static void test_exec(void **state)
{
    FakeAgent *f = *state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) errout = g_byte_array_new();
    g_autoptr(GBytes) input = g_bytes_new_static("to stdin", 8);
    const char *const argv[] = { "sh", "-c", "echo hello; exit 3", NULL };
    GuestAgent *ga;

    f->stale = true;
    f->running = 3;
    /* "hello\n" and "oops" */
    f->status_reply = "{\"exited\": true, \"exitcode\": 3, \"out-data\":"
                      " \"aGVsbG8K\", \"err-data\": \"b29wcw==\"}";
    ga = connect_to(f, 2000, &err);
    assert_non_null(ga);
    assert_int_equal(exec_in(ga, argv, input, 0, out, errout, &err), 3);
    assert_string_equal(f->argv, "sh -c echo hello; exit 3");
    assert_string_equal(f->input, "to stdin");
    assert_int_equal(out->len, 6);
    assert_memory_equal(out->data, "hello\n", 6);
    assert_int_equal(errout->len, 4);
    assert_memory_equal(errout->data, "oops", 4);
    done(f, ga);
}

static void test_signal(void **state)
{
    FakeAgent *f = *state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    const char *const argv[] = { "sleep", "100", NULL };
    GuestAgent *ga;

    f->status_reply = "{\"exited\": true, \"signal\": 9}";
    ga = connect_to(f, 2000, &err);
    assert_int_equal(exec_in(ga, argv, NULL, 0, out, out, &err), 137);
    assert_int_equal(out->len, 0);
    assert_null(f->input);
    done(f, ga);
}

/* Every reply a command's status may not be: an error, never a crash. */
static void test_wrong_types(void **state)
{
    FakeAgent *f = *state;
    static const struct {
        const char *exec, *status, *error;
    } cases[] = {
        { "{\"pid\": \"42\"}", NULL, "\"pid\"" },
        { "[42]", NULL, "is not an object" },
        { "{}", NULL, "\"pid\"" },
        { NULL, "{\"exited\": \"yes\"}", "\"exited\"" },
        { NULL, "{}", "\"exited\"" },
        { NULL, "{\"exited\": true, \"exitcode\": \"3\"}", "\"exitcode\"" },
        { NULL, "{\"exited\": true, \"exitcode\": -1}", "\"exitcode\"" },
        { NULL, "{\"exited\": true, \"signal\": 1000}", "\"signal\"" },
        { NULL, "{\"exited\": true, \"out-data\": 5}", "\"out-data\"" },
        { NULL, "{\"exited\": true, \"out-truncated\": true}", "cut the command's output short" },
        { NULL, "7", "is not an object" },
    };
    const char *const argv[] = { "true", NULL };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(GByteArray) out = g_byte_array_new();
        GuestAgent *ga;
        bool ok;

        f->exec_reply = cases[i].exec;
        f->status_reply = cases[i].status ? cases[i].status : "{}";
        ga = connect_to(f, 2000, &err);
        assert_non_null(ga);
        ok = exec_in(ga, argv, NULL, 0, out, out, &err) == -1 && err &&
             strstr(err->message, cases[i].error);
        done(f, ga);
        if (!ok) {
            fail_msg("case %zu: got '%s', expected '%s'", i,
                     err ? err->message : "success", cases[i].error);
        }
    }
}

static void test_refused(void **state)
{
    FakeAgent *f = *state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    const char *const argv[] = { "nope", NULL };
    GuestAgent *ga;

    f->exec_error = "Failed to execute child process nope";
    ga = connect_to(f, 2000, &err);
    assert_int_equal(exec_in(ga, argv, NULL, 0, out, out, &err), -1);
    assert_string_equal(err->message, "Failed to execute child process nope");
    assert_int_equal(err->code, RACK_ERROR_DENIED);
    done(f, ga);
}

/* 2.5 MiB in and out: three chunks each way, and the file's mode. */
static void test_put_get(void **state)
{
    FakeAgent *f = *state;
    g_autoptr(GError) err = NULL;
    gsize n = 5 << 19;
    guint8 *data = g_malloc(n);
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GBytes) back = NULL;
    GuestAgent *ga;

    for (gsize i = 0; i < n; i++) {
        data[i] = g_random_int();
    }
    bytes = g_bytes_new_take(data, n);
    ga = connect_to(f, 2000, &err);
    assert_true(guest_agent_put(ga, bytes, "/tmp/app", 0755, &err));
    assert_int_equal(f->file->len, n);
    assert_memory_equal(f->file->data, g_bytes_get_data(bytes, NULL), n);
    assert_string_equal(f->chmod, "755 /tmp/app");
    back = guest_agent_get(ga, "/tmp/app", &err);
    assert_non_null(back);
    assert_true(g_bytes_equal(back, bytes));
    done(f, ga);
}

static void test_hangup(void **state)
{
    FakeAgent *f = *state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    const char *const argv[] = { "true", NULL };
    GuestAgent *ga;

    f->hangup_after = "guest-exec";
    ga = connect_to(f, 2000, &err);
    assert_int_equal(exec_in(ga, argv, NULL, 0, out, out, &err), -1);
    assert_int_equal(err->code, RACK_ERROR_CLOSED);
    done(f, ga);
}

static void test_deadline(void **state)
{
    FakeAgent *f = *state;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) out = g_byte_array_new();
    const char *const argv[] = { "sleep", "1000", NULL };
    GuestAgent *ga;

    f->running = G_MAXUINT;
    ga = connect_to(f, 2000, &err);
    assert_int_equal(exec_in(ga, argv, NULL, 200, out, out, &err), -1);
    assert_int_equal(err->code, RACK_ERROR_TIMEOUT);
    assert_non_null(strstr(err->message, "sleep (pid 42) did not end in 200"
                           " ms; it still runs in the guest"));
    done(f, ga);
}

static void test_silent(void **state)
{
    FakeAgent *f = *state;
    g_autoptr(GError) err = NULL;
    GuestAgent *ga;

    f->silent = true;
    ga = connect_to(f, 300, &err);
    assert_null(ga);
    assert_int_equal(err->code, RACK_ERROR_TIMEOUT);
    /* The fake reads on until the client's socket is gone */
    g_thread_join(f->thread);
}

/* Random status replies: each is taken or refused, none crashes. */
static void test_fuzz_status(void **state)
{
    FakeAgent *f = *state;
    static const char *const keys[] = { "exited", "exitcode", "signal",
                                        "out-data", "err-data",
                                        "out-truncated", "pid" };
    static const char *const values[] = { "true", "false", "0", "-1", "255",
                                          "256", "1e3", "\"x\"", "\"aGk=\"",
                                          "null", "[]", "{}", "\"\"" };
    guint32 seed = fuzz_seed();
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    const char *const argv[] = { "true", NULL };

    printf("# fuzz seed %u (DREDBOX_SEED=%u replays it)\n", seed, seed);
    for (int round = 0; round < 100; round++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_autoptr(GString) reply = g_string_new("{\"exited\": true");
        GuestAgent *ga;
        int status;

        for (int i = g_rand_int_range(r, 0, 5); i > 0; i--) {
            g_string_append_printf(reply, ", \"%s\": %s",
                keys[g_rand_int_range(r, 0, G_N_ELEMENTS(keys))],
                values[g_rand_int_range(r, 0, G_N_ELEMENTS(values))]);
        }
        g_string_append(reply, "}");
        f->status_reply = reply->str;
        ga = connect_to(f, 2000, &err);
        assert_non_null(ga);
        /* A later "exited": false keeps it polling: 100 ms at most */
        status = exec_in(ga, argv, NULL, 100, out, out, &err);
        done(f, ga);
        if (status < 0 ? !err : status > 255 || err) {
            fail_msg("seed %u round %d: %s gave status %d (%s)", seed, round,
                     reply->str, status, err ? err->message : "no error");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hangup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzz_status, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
