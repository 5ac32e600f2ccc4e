/*
 * Unit tests of dredboxctl's reading of the controller's replies, against
 * a fake controller on a real UNIX socket: tables printed from a good
 * reply, and a clear error (never a crash, never a row of zeroes) for a
 * reply with a member missing, of the wrong type or out of range,
 * including a fuzz of wrong-typed members with a printed seed
 * (DREDBOX_SEED replays it); request keys, and what a missing or late
 * reply makes it say.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/wait.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "fuzz-seed.h"

#define FUZZ_ROUNDS 300

static const char status_reply[] =
    "{\"ok\":true,\"allocations\":["
    "{\"id\":2,\"compute\":0,\"compute-port\":1,\"memory\":0,"
    "\"memory-port\":1,\"size\":134217728,\"path\":\"rmc\",\"segment\":2,"
    "\"degraded\":\"compute0.port1: optical port 1 is dark\"},"
    "{\"id\":3,\"compute\":1,\"compute-port\":0,\"memory\":1,"
    "\"memory-port\":0,\"size\":268435456,\"path\":\"virtio-mem\"}],"
    "\"segments\":[{\"allocation\":2,\"pool\":true,\"rmc\":true,"
    "\"guest\":true}],"
    "\"bricks\":[{\"compute\":1,\"memory\":1,\"controller\":268435456,"
    "\"brick\":268435456,\"pool\":268435456,\"node\":2,"
    "\"guest-nodes\":[2]},"
    "{\"compute\":0,\"memory\":0,\"controller\":0,\"brick\":null,"
    "\"pool\":0,\"node\":1,\"guest-nodes\":null}]}";

typedef struct Fake {
    char *dir, *sock;
    GSocket *listener;
    const char *reply;      /* NULL: hang up without one */
    unsigned busy;          /* "busy" replies before it, one per request */
    unsigned delay_ms;      /* before the reply */
    char *request;          /* the request line it got */
} Fake;

/* Answer one request with @reply (NULL: none), then hang up. */
static void answer_one(Fake *f, const char *reply)
{
    g_autoptr(GSocket) s = g_socket_accept(f->listener, NULL, NULL);
    g_autoptr(GSocketConnection) c = NULL;
    g_autoptr(GDataInputStream) in = NULL;
    g_autofree char *line = NULL, *out = NULL;

    if (!s) {
        return;
    }
    c = g_socket_connection_factory_create_connection(s);
    in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(c)));
    line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    g_free(f->request);
    f->request = g_strdup(line);
    if (!reply) {
        return;
    }
    g_usleep(f->delay_ms * 1000);
    out = g_strdup_printf("%s\n", reply);
    g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(c)),
                              out, strlen(out), NULL, NULL, NULL);
}

/* @f->busy "busy" replies (a starting controller), then @f->reply */
static gpointer answer(gpointer opaque)
{
    Fake *f = opaque;

    for (; f->busy; f->busy--) {
        answer_one(f, "{\"ok\":false,\"code\":\"busy\",\"error\":"
                   "\"reconciling\"}");
    }
    answer_one(f, f->reply);
    return NULL;
}

/* dredboxctl ARGS... against a controller that answers @reply */
static int run(Fake *f, const char *reply, char **out, char **err,
               const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    GThread *t;
    int status;

    f->reply = reply;
    g_ptr_array_add(argv, (char *)g_getenv("DREDBOX_CTL"));
    g_ptr_array_add(argv, (char *)"--socket");
    g_ptr_array_add(argv, f->sock);
    for (; *args; args++) {
        g_ptr_array_add(argv, (char *)*args);
    }
    g_ptr_array_add(argv, NULL);
    t = g_thread_new("fake-sdm", answer, f);
    assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL,
                             out, err, &status, NULL));
    g_thread_join(t);
    assert_true(WIFEXITED(status));         /* never a crash */
    return WEXITSTATUS(status);
}

static int setup(void **state)
{
    Fake *f = g_new0(Fake, 1);
    g_autoptr(GSocketAddress) addr = NULL;

    assert_non_null(g_getenv("DREDBOX_CTL"));
    f->dir = g_dir_make_tmp("dredboxctl-XXXXXX", NULL);
    f->sock = g_build_filename(f->dir, "sdm.sock", NULL);
    addr = g_unix_socket_address_new(f->sock);
    f->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_DEFAULT, NULL);
    assert_true(g_socket_bind(f->listener, addr, TRUE, NULL));
    assert_true(g_socket_listen(f->listener, NULL));
    /* A client that never comes (no retry) fails the test, not hangs it */
    g_socket_set_timeout(f->listener, 10);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fake *f = *state;

    g_object_unref(f->listener);
    g_free(f->request);
    g_unlink(f->sock);
    g_rmdir(f->dir);
    g_free(f->sock);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static const char *const status_args[] = { "status", NULL };

static void test_status(void **state)
{
    g_autofree char *out = NULL, *err = NULL;

    assert_int_equal(run(*state, status_reply, &out, &err, status_args), 0);
    assert_string_equal(err, "");
    assert_non_null(strstr(out, "\n2      0        1     0       1     "
                           "       128  memory (RMC)  DEGRADED: "
                           "compute0.port1: optical port 1 is dark\n"));
    assert_non_null(strstr(out, "\n3      1        0     1       0     "
                           "       256  memory (virtio-mem)\n"));
    assert_non_null(strstr(out, "\n2      yes    yes    yes           "
                           "consistent\n"));
    assert_non_null(strstr(out, "\n1        1                   256 "
                           "       256        256     2           2  "
                           "consistent\n"));
    assert_non_null(strstr(out, "\n0        0                     0 "
                           "      down          0     1           ?  "
                           "MISMATCH\n"));
}

/* The pool does not answer: its column is unknown, a real difference is
 * still a mismatch, and the reason is printed. */
static const char no_pool_reply[] =
    "{\"ok\":true,\"pool-error\":\"cannot reach the memory pool\","
    "\"allocations\":[],"
    "\"segments\":[{\"allocation\":2,\"pool\":null,\"rmc\":true,"
    "\"guest\":true},{\"allocation\":4,\"pool\":null,\"rmc\":false,"
    "\"guest\":true}],"
    "\"bricks\":[{\"compute\":1,\"memory\":1,\"controller\":268435456,"
    "\"brick\":268435456,\"pool\":null,\"node\":2,"
    "\"guest-nodes\":[2]}]}";

static void test_status_without_pool(void **state)
{
    g_autofree char *out = NULL, *err = NULL;

    assert_int_equal(run(*state, no_pool_reply, &out, &err, status_args), 0);
    assert_non_null(strstr(out, "\n2      ?      yes    yes           "
                           "unknown\n"));
    assert_non_null(strstr(out, "\n4      ?      no     yes           "
                           "MISMATCH\n"));
    assert_non_null(strstr(out, "\n1        1                   256 "
                           "       256          ?     2           2  "
                           "unknown\n"));
    assert_non_null(strstr(out, "\nthe memory pool does not answer: cannot"
                           " reach the memory pool\n"));
}

/*
 * A starting controller answers "busy": dredboxctl asks again, and
 * prints what the controller says once it serves.  A brick that a
 * request works on was not asked: "busy", never a mismatch.
 */
static const char busy_reply[] =
    "{\"ok\":true,\"allocations\":[],"
    "\"segments\":[{\"allocation\":2,\"pool\":true,\"rmc\":false,"
    "\"guest\":false,\"busy\":true}],"
    "\"bricks\":[{\"compute\":0,\"memory\":0,\"controller\":0,"
    "\"brick\":null,\"pool\":0,\"node\":null,\"guest-nodes\":null,"
    "\"busy\":true}]}";

static void test_busy(void **state)
{
    Fake *f = *state;
    g_autofree char *out = NULL, *err = NULL;

    f->busy = 3;
    assert_int_equal(run(f, busy_reply, &out, &err, status_args), 0);
    assert_int_equal(f->busy, 0);
    assert_string_equal(err, "");
    assert_non_null(strstr(out, "\n2      yes    ?      ?             "
                           "busy: a request works on it\n"));
    assert_non_null(strstr(out, "\n0        0                     0 "
                           "         ?          0     -           ?  "
                           "busy: a request works on it\n"));
}

typedef struct Bad {
    const char *args[6];
    const char *reply;
    const char *error;      /* what stderr must say */
} Bad;

static const Bad bad[] = {
    { { "status" }, "{\"ok\":true,\"allocations\":[{\"id\":\"2\"}],"
      "\"bricks\":[]}", "allocation 0: member \"id\" must be an integer" },
    { { "status" }, "{\"ok\":true,\"allocations\":[]}",
      "missing \"bricks\"" },
    { { "status" }, "{\"ok\":true,\"allocations\":[7],\"bricks\":[]}",
      "allocation 0: element 0 must be an object" },
    { { "status" }, "{\"ok\":true,\"allocations\":[],\"bricks\":[{"
      "\"compute\":0,\"memory\":0,\"controller\":0,\"brick\":0,\"pool\":0,"
      "\"guest-nodes\":[\"x\"]}]}",
      "bricks 0: guest-nodes: element 0 must be an integer from 0 to 65535" },
    { { "status" }, "{\"ok\":true,\"allocations\":[{\"id\":1,\"compute\":0,"
      "\"compute-port\":0,\"memory\":0,\"memory-port\":0,\"size\":-5}],"
      "\"bricks\":[]}", "allocation 0: \"size\" is out of range" },
    { { "attach", "--brick", "0", "--size", "128M" }, "{\"ok\":true}",
      "missing \"allocation\"" },
    { { "register", "memory", "5", "size=1G" }, "{\"ok\":true,\"bricks\":"
      "true}", "member \"bricks\" must be an integer" },
    { { "status" }, "{\"ok\":\"yes\"}", "member \"ok\" must be true or false" },
    { { "status" }, "{\"ok\":false}", "missing \"error\"" },
    { { "status" }, "{\"ok\":true,\"allocations\":[],\"bricks\":[],"
      "\"pool-error\":5}", "member \"pool-error\" must be a string" },
    { { "status" }, "[1]", "malformed reply: [1]" },
    { { "status" }, " ", "malformed reply: " },
};

static void test_bad_replies(void **state)
{
    g_autofree char *out = NULL, *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_free(out);
        g_free(err);
        assert_int_equal(run(*state, bad[i].reply, &out, &err, bad[i].args),
                         1);
        if (!strstr(err, bad[i].error) || strncmp(err, "dredboxctl: ", 12)) {
            fail_msg("reply %s: stderr '%s', expected '%s'", bad[i].reply,
                     err, bad[i].error);
        }
        assert_string_equal(out, "");     /* no half table */
    }
    g_free(out);
    g_free(err);
    assert_int_equal(run(*state, "{\"ok\":false,\"error\":\"no such brick\"}",
                         &out, &err, status_args), 1);
    assert_string_equal(err, "dredboxctl: no such brick\n");
}

/* A member of an object in the reply: where a wrong value goes */
typedef struct Slot {
    JsonObject *parent;
    const char *name;
} Slot;

/* Every member of every object of @node's tree */
static void slots(JsonNode *node, GArray *all)
{
    if (JSON_NODE_HOLDS_OBJECT(node)) {
        JsonObject *o = json_node_get_object(node);
        g_autoptr(GList) members = json_object_get_members(o);

        for (GList *m = members; m; m = m->next) {
            Slot s = { o, m->data };

            g_array_append_val(all, s);
            slots(json_object_get_member(o, m->data), all);
        }
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *a = json_node_get_array(node);

        for (guint i = 0; i < json_array_get_length(a); i++) {
            slots(json_array_get_element(a, i), all);
        }
    }
}

/*
 * A good status reply with one member, anywhere, given a value of another
 * type: dredboxctl prints the table (when the member may be null or is
 * not read) or says the reply is malformed; it never crashes.
 */
static void test_fuzz(void **state)
{
    static const char *const wrong[] = {
        "\"x\"", "-1", "1e300", "true", "null", "[]", "{}", "[\"x\"]",
        "18446744073709551616",
    };
    guint32 seed = fuzz_seed();
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    unsigned malformed = 0;

    print_message("# dredboxctl fuzz seed %u (DREDBOX_SEED=%u replays it)\n",
                  seed, seed);
    for (int round = 0; round < FUZZ_ROUNDS; round++) {
        g_autoptr(JsonNode) root = json_from_string(status_reply, NULL);
        g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(Slot));
        g_autofree char *reply = NULL, *out = NULL, *err = NULL;
        const char *with;
        Slot *victim;
        int rc;

        slots(root, all);
        victim = &g_array_index(all, Slot,
                                g_rand_int_range(rand, 0, all->len));
        with = wrong[g_rand_int_range(rand, 0, G_N_ELEMENTS(wrong))];
        json_object_set_member(victim->parent, victim->name,
                               json_from_string(with, NULL));
        reply = json_to_string(root, FALSE);
        rc = run(*state, reply, &out, &err, status_args);
        if (rc == 1 && !strncmp(err, "dredboxctl: ", 12) && !*out) {
            malformed++;
        } else if (rc != 0 || *err) {
            fail_msg("seed %u round %d: rc %d, stderr '%s' for %s", seed,
                     round, rc, err, reply);
        }
    }
    /* Most wrong values are caught: a test that cannot fail is none */
    assert_true(malformed > FUZZ_ROUNDS / 2);
}

/*
 * attach, detach and register carry a request key (a new one, or
 * --key's); no reply, a reply too late or a "pending" one exits 3 and
 * says how to learn the outcome; a request never sent exits 1.
 */
static void test_keys(void **state)
{
    Fake *f = *state;
    static const char *const keyed[] = {
        "attach", "--brick", "0", "--size", "256M", "--key", "k-7", NULL
    };
    static const char *const fresh[] = {
        "detach", "--brick", "0", "--allocation", "3", NULL
    };
    static const char *const late[] = {
        "attach", "--brick", "0", "--size", "256M", "--timeout", "1", NULL
    };
    g_autofree char *out = NULL, *err = NULL, *first = NULL;

    assert_int_equal(run(f, "{\"ok\":false,\"code\":\"pending\","
                         "\"error\":\"allocation 4 stays pending\"}", &out,
                         &err, keyed), 3);
    assert_non_null(strstr(f->request, "\"key\":\"k-7\""));
    assert_non_null(strstr(err, "dredboxctl: allocation 4 stays pending\n"));
    assert_non_null(strstr(err, "run dredboxctl attach again with --key k-7"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* The controller died before it replied */
    assert_int_equal(run(f, NULL, &out, &err, fresh), 3);
    assert_non_null(strstr(f->request, "\"key\":\""));
    first = g_strdup(f->request);
    assert_non_null(strstr(err, "the outcome is not known yet: run"
                                " dredboxctl detach again with --key "));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    /* Each new request has a new key */
    assert_int_equal(run(f, "{\"ok\":true}", &out, &err, fresh), 0);
    assert_string_equal(out, "detached\n");
    assert_string_not_equal(f->request, first);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    f->delay_ms = 1500;
    assert_int_equal(run(f, "{\"ok\":true}", &out, &err, late), 3);
    f->delay_ms = 0;
    assert_non_null(strstr(err, "(--timeout)"));
    assert_non_null(strstr(err, "with --key "));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* Nothing listens: nothing was sent */
    g_unlink(f->sock);
    {
        const char *argv[] = { g_getenv("DREDBOX_CTL"), "--socket", f->sock,
                               "attach", "--brick", "0", "--size", "256M",
                               NULL };
        int status;

        assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                                 &out, &err, &status, NULL));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
        assert_non_null(strstr(err, "(is the rack up?)"));
        assert_null(strstr(err, "--key"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_without_pool, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
