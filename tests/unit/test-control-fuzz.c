/*
 * The rack's control sockets under fuzz (control-fuzz.h): a real pool,
 * switch fabric, accelerator and SDM controller on a small rack (its
 * compute bricks are not running) each get thousands of hostile lines.
 * Each line must be refused with a clear error, each daemon must stay up
 * and answer, and nothing may come of the garbage: no segment, circuit,
 * queue or allocation.  The seed is printed; DREDBOX_SEED replays a run
 * and DREDBOX_FUZZ_LINES sets its length.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "control-fuzz.h"
#include "line-server.h"
#include "wire.h"

#define RACK \
    "rack fuzz\n" \
    "compute 0 ports=2\ncompute 1 ports=2\n" \
    "memory 0 size=1G ports=2\nmemory 1 size=256M class=hugepage\n" \
    "accelerator 0\n" \
    "optical-switch ports=8 reconfigure-ms=10\n" \
    "cable compute0.port0 optical:0\ncable compute0.port1 optical:1\n" \
    "cable compute1.port0 optical:2\ncable memory0.port0 optical:4\n" \
    "cable memory0.port1 optical:5\ncable accelerator0 optical:6\n" \
    "cable memory1 optical:7\n"

enum { MEMD, FABRICD, ACCELD, SDMD, NDAEMONS };

typedef struct Rack {
    char *run;
    GPid pid[NDAEMONS];
} Rack;

static void die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static char *run_path(Rack *r, const char *name)
{
    return g_build_filename(r->run, name, NULL);
}

/* Start @argv (its binary from $@env) and wait for @ready to appear. */
static void spawn(Rack *r, int which, const char *env, const char **argv,
                  const char *ready)
{
    g_autofree char *path = run_path(r, ready);

    argv[0] = g_getenv(env);
    assert_non_null(argv[0]);
    assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD |
                              G_SPAWN_STDOUT_TO_DEV_NULL |
                              G_SPAWN_STDERR_TO_DEV_NULL, die_with_parent,
                              NULL, &r->pid[which], NULL));
    for (int i = 0; i < 1000 && !g_file_test(path, G_FILE_TEST_EXISTS);
         i++) {
        g_usleep(10000);
    }
    assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
}

static JsonNode *call(Rack *r, const char *name, const char *req);

/* Until the controller serves: it answers "busy" while it reconciles */
static void wait_serving(Rack *r)
{
    for (int i = 0; i < 1000; i++) {
        g_autoptr(JsonNode) n = call(r, "sdm.sock", "{\"cmd\":\"graph\"}");

        if (json_object_get_boolean_member(json_node_get_object(n), "ok")) {
            return;
        }
        g_usleep(10000);
    }
    fail_msg("the controller does not serve requests");
}

static int setup(void **state)
{
    Rack *r = g_new0(Rack, 1);
    g_autofree char *rack = NULL, *pool_dir = NULL, *pool_sock = NULL;
    g_autofree char *link = NULL, *control = NULL;

    r->run = g_dir_make_tmp("control-fuzz-XXXXXX", NULL);
    rack = run_path(r, "rack");
    pool_dir = run_path(r, "pool");
    pool_sock = run_path(r, "pool/memd.sock");
    link = run_path(r, "accel0.link");
    control = run_path(r, "accel0.sock");
    assert_true(g_file_set_contents(rack, RACK, -1, NULL));
    spawn(r, MEMD, "DREDBOX_MEMD", (const char *[]) {
              NULL, "--dir", pool_dir, "--brick", "0:1G", "--brick",
              "1:256M:hugepage", NULL },
          "pool/pool.json");
    spawn(r, FABRICD, "DREDBOX_FABRICD", (const char *[]) {
              NULL, "--rack", rack, "--run-dir", r->run, NULL },
          "fabric.sock");
    spawn(r, ACCELD, "DREDBOX_ACCELD", (const char *[]) {
              NULL, "--id", "0", "--pool", pool_sock, "--link", link,
              "--control", control, NULL },
          "accel0.sock");
    spawn(r, SDMD, "DREDBOX_SDMD", (const char *[]) {
              NULL, "--rack", rack, "--run-dir", r->run, NULL },
          "sdm.sock");
    wait_serving(r);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    Rack *r = *state;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", r->run);

    for (int i = NDAEMONS - 1; i >= 0; i--) {
        int status;

        kill(r->pid[i], SIGTERM);
        assert_int_equal(waitpid(r->pid[i], &status, 0), r->pid[i]);
        g_spawn_close_pid(r->pid[i]);
    }
    assert_int_equal(system(cmd), 0);
    g_free(r->run);
    g_free(r);
    return 0;
}

/* A new connection to socket @name; a daemon that does not answer in
 * 20 s fails the test rather than hang it. */
static int connect_to(Rack *r, const char *name)
{
    g_autofree char *path = run_path(r, name);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 20 };
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
}

/* One request on a new connection to socket @name; the reply parsed. */
static JsonNode *call(Rack *r, const char *name, const char *req)
{
    g_autofree char *reply = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    int s = connect_to(r, name);

    assert_true(rack_wire_send(s, req, -1));
    reply = rack_wire_recv(s, 1 << 20, NULL);
    close(s);
    assert_non_null(reply);
    assert_true(json_parser_load_from_data(p, reply, -1, NULL));
    return json_node_copy(json_parser_get_root(p));
}

/* The length of array @member in @name's reply to @req. */
static guint count(Rack *r, const char *name, const char *req,
                   const char *member)
{
    g_autoptr(JsonNode) n = call(r, name, req);
    JsonObject *o = json_node_get_object(n);
    JsonNode *a = json_object_get_member(o, member);

    assert_true(json_object_get_boolean_member(o, "ok"));
    assert_non_null(a);
    assert_true(JSON_NODE_HOLDS_ARRAY(a));
    return json_array_get_length(json_node_get_array(a));
}

static void fuzz(void **state, FuzzTarget t, const char *sock)
{
    Rack *r = *state;
    g_autofree char *path = run_path(r, sock);
    g_autoptr(GError) err = NULL;
    const char *env = g_getenv("DREDBOX_FUZZ_LINES");
    unsigned lines = env ? atoi(env) : 5000;
    guint32 seed = fuzz_seed();

    print_message("# %s fuzz: seed %u, %u lines (DREDBOX_SEED=%u replays"
                  " it)\n", sock, seed, lines, seed);
    if (!control_fuzz(t, path, seed, lines, &err)) {
        fail_msg("%s", err->message);
    }
    /* Every daemon is still there... */
    for (int i = 0; i < NDAEMONS; i++) {
        assert_int_equal(waitpid(r->pid[i], NULL, WNOHANG), 0);
    }
    /* ...and nothing came of the garbage. */
    assert_int_equal(count(r, "pool/memd.sock", "{\"cmd\":\"query\"}",
                           "segments"), 0);
    assert_int_equal(count(r, "fabric.sock", "{\"cmd\":\"query\"}",
                           "circuits"), 0);
    assert_int_equal(count(r, "accel0.sock", "{\"cmd\":\"query\"}",
                           "queues"), 0);
    assert_int_equal(count(r, "sdm.sock", "{\"cmd\":\"status\"}",
                           "allocations"), 0);
}

static void test_pool(void **state)
{
    fuzz(state, FUZZ_POOL, "pool/memd.sock");
}

static void test_fabric(void **state)
{
    fuzz(state, FUZZ_FABRIC, "fabric.sock");
}

static void test_accel(void **state)
{
    fuzz(state, FUZZ_ACCEL, "accel0.sock");
}

static void test_sdm(void **state)
{
    fuzz(state, FUZZ_SDM, "sdm.sock");
}

/* @line on @s, and its reply (any fd that comes with it closed). */
static char *ask(int s, const char *line)
{
    int fd = -1;
    char *reply;

    assert_true(rack_wire_send(s, line, -1));
    reply = rack_wire_recv(s, 1 << 20, &fd);
    if (fd >= 0) {
        close(fd);
    }
    assert_non_null(reply);
    return reply;
}

/*
 * A lease named after an allocation of another database (a persistent
 * brick's, from an earlier rack) survives a new allocation's rollback
 * and reconcile: the controller gives no id a lease in the pool already
 * carries, and releases strays of its own database only.  Runs first, on
 * the controller's new database.
 */
static void test_stale_lease(void **state)
{
    Rack *r = *state;
    int s = connect_to(r, "pool/memd.sock");
    g_autofree char *hello = ask(s, "{\"cmd\":\"hello\",\"client\":"
                                 "\"sdm-a1\"}");
    g_autofree char *alloc = ask(s, "{\"cmd\":\"alloc\",\"size\":"
                                 "\"128M\",\"brick\":0}");
    g_autoptr(JsonNode) st = call(r, "sdm.sock", "{\"cmd\":\"status\"}");
    g_autoptr(JsonNode) at = call(r, "sdm.sock", "{\"cmd\":\"attach\","
                                  "\"brick\":0,\"accelerator\":true}");
    /* Reconcile releases strays of its own database only */
    g_autoptr(JsonNode) rec = call(r, "sdm.sock", "{\"cmd\":\"reconcile\"}");
    g_autofree char *query = ask(s, "{\"cmd\":\"query\"}");
    g_autofree char *freed = NULL;

    assert_non_null(strstr(alloc, "\"id\":1,"));
    /* The attach fails (no compute brick runs) and is rolled back... */
    assert_false(json_object_get_boolean_member(json_node_get_object(at),
                                                "ok"));
    /* ...but sdm-a1's lease is still there, and only it. */
    if (!strstr(query, "\"segments\":[{\"id\":1,\"brick\":0,\"offset\":0,"
                "\"size\":134217728,\"owner\":\"sdm-a1\"}]")) {
        fail_msg("the pool holds %s", query);
    }
    freed = ask(s, "{\"cmd\":\"free\",\"segment\":1}");
    assert_non_null(strstr(freed, "\"ok\":true"));
    close(s);
}

/*
 * A hugepage brick on a host without huge pages is never chosen: the
 * refusal names the cause and the fix, before any step runs.
 */
static void test_unbackable(void **state)
{
    Rack *r = *state;
    g_autoptr(JsonNode) at = NULL;
    const char *why;
    g_autofree char *text = NULL;

    assert_true(g_file_get_contents("/proc/meminfo", &text, NULL, NULL));
    if (!strstr(text, "HugePages_Free:        0\n")) {
        skip();         /* this host has huge pages free */
    }
    at = call(r, "sdm.sock", "{\"cmd\":\"attach\",\"brick\":0,"
              "\"size\":\"128M\",\"memory\":1,\"path\":\"rmc\"}");
    why = json_object_get_string_member(json_node_get_object(at), "error");
    if (!g_str_has_prefix(why, "no memory brick has 128 MiB free (memory"
                          " brick 1: the host has 0 MiB of free huge pages"
                          " for its 256 MiB (reserve them: sysctl"
                          " vm.nr_hugepages=")) {
        fail_msg("refused with: %s", why);
    }
}

/*
 * A client that sends half a line and waits blocks nobody else, and one
 * that sends a line longer than RACK_MAX_LINE without its end is told
 * and hung up on.
 */
static void test_half_line(void **state)
{
    Rack *r = *state;
    static const char *const socks[][2] = {
        { "pool/memd.sock", "{\"cmd\":\"query\"}" },
        { "fabric.sock", "{\"cmd\":\"query\"}" },
        { "accel0.sock", "{\"cmd\":\"query\"}" },
        { "sdm.sock", "{\"cmd\":\"status\"}" },
    };
    g_autofree char *big = g_strnfill(RACK_MAX_LINE + 4096, 'x');

    for (unsigned i = 0; i < G_N_ELEMENTS(socks); i++) {
        int half = connect_to(r, socks[i][0]);
        int huge = connect_to(r, socks[i][0]);
        g_autoptr(JsonNode) n = NULL;
        g_autofree char *reply = NULL;

        assert_int_equal(write(half, "{\"cmd\":\"qu", 10), 10);
        n = call(r, socks[i][0], socks[i][1]);
        assert_true(json_object_get_boolean_member(json_node_get_object(n),
                                                   "ok"));
        assert_int_equal(write(huge, big, strlen(big)), strlen(big));
        reply = rack_wire_recv(huge, 1 << 20, NULL);
        assert_non_null(reply);
        if (!strstr(reply, "request line too long")) {
            fail_msg("%s: %s", socks[i][0], reply);
        }
        close(half);
        close(huge);
    }
}

/*
 * A compute brick whose QEMU hangs (its QMP socket takes connections and
 * never answers) costs status one QMP deadline (10 s), not one per
 * question: the reply comes within the 20 s connect_to() allows, with
 * that brick's columns unknown.
 */
static void test_hung_brick(void **state)
{
    Rack *r = *state;
    g_autofree char *path = run_path(r, "brick0.qmp");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int hung = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_autoptr(JsonNode) st = NULL;
    JsonArray *bricks;
    guint unknown = 0;

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    assert_int_equal(bind(hung, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(hung, 64), 0);
    st = call(r, "sdm.sock", "{\"cmd\":\"status\"}");
    bricks = json_object_get_array_member(json_node_get_object(st),
                                          "bricks");
    for (guint i = 0; i < json_array_get_length(bricks); i++) {
        JsonObject *b = json_array_get_object_element(bricks, i);

        if (json_object_get_int_member(b, "compute") == 0) {
            assert_true(json_node_is_null(json_object_get_member(b,
                                                                 "brick")));
            unknown++;
        }
    }
    assert_int_equal(unknown, 2);
    close(hung);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_lease),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_fabric),
        cmocka_unit_test(test_accel),
        cmocka_unit_test(test_sdm),
        cmocka_unit_test(test_half_line),
        cmocka_unit_test(test_unbackable),
        cmocka_unit_test(test_hung_brick),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
