/*
 * Integration test of dredbox-fabricd ($DREDBOX_FABRICD) over its real
 * sockets: circuits set up after the reconfiguration time and reported to
 * the compute brick's QMP socket (played here by the test), refusals and
 * malformed requests, circuits kept across a crash and restart, and the
 * electrical switch flooding, learning and forwarding Ethernet frames
 * between NIC sockets.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"

#define RACK \
    "rack t\n" \
    "compute 0 ports=2\ncompute 1 ports=2\nmemory 0 size=1G ports=2\n" \
    "optical-switch ports=8 reconfigure-ms=200\nelectrical-switch\n" \
    "cable compute0.port0 optical:0\ncable compute0.port1 optical:1\n" \
    "cable compute1.port0 optical:2\ncable memory0.port0 optical:4\n" \
    "cable memory0.port1 optical:5 latency=inter-rack\n"

typedef struct Fabric {
    char *dir;
    GPid pid;
    int qmp;            /* brick0's QMP socket, listened on by the test */
} Fabric;

static void die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static int unix_socket(const char *path, int type, bool bind_it)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if (bind_it) {
        assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    } else {
        assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    return s;
}

/* Start the fabric on the rack in f->dir; wait for its socket. */
static void start_fabric(Fabric *f)
{
    g_autofree char *rack = g_build_filename(f->dir, "rack", NULL);
    g_autofree char *sock = g_build_filename(f->dir, "fabric.sock", NULL);
    const char *argv[] = { g_getenv("DREDBOX_FABRICD"), "--rack", rack,
                           "--run-dir", f->dir, NULL };

    assert_non_null(argv[0]);
    assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD |
                              G_SPAWN_STDOUT_TO_DEV_NULL, die_with_parent,
                              NULL, &f->pid, NULL));
    for (int i = 0; i < 500 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10000);
    }
    assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));
}

static int setup(void **state)
{
    Fabric *f = g_new0(Fabric, 1);
    g_autofree char *rack = NULL, *qmp = NULL;

    f->dir = g_dir_make_tmp("fabricd-test-XXXXXX", NULL);
    rack = g_build_filename(f->dir, "rack", NULL);
    assert_true(g_file_set_contents(rack, RACK, -1, NULL));
    qmp = g_build_filename(f->dir, "brick0.qmp", NULL);
    f->qmp = unix_socket(qmp, SOCK_STREAM, true);
    assert_int_equal(listen(f->qmp, 4), 0);
    start_fabric(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fabric *f = *state;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_autofree char *sock = g_build_filename(f->dir, "fabric.sock", NULL);
    int status;

    kill(f->pid, SIGTERM);
    assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* It removes its own sockets. */
    assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
    close(f->qmp);
    assert_int_equal(system(cmd), 0);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static char *call(Fabric *f, const char *req)
{
    g_autofree char *path = g_build_filename(f->dir, "fabric.sock", NULL);
    int s = unix_socket(path, SOCK_STREAM, false);
    char *reply;

    assert_true(rack_wire_send(s, req, -1));
    reply = rack_wire_recv(s, 1 << 20, NULL);
    close(s);
    assert_non_null(reply);
    return reply;
}

static void expect(Fabric *f, const char *req, const char *fragment)
{
    g_autofree char *reply = call(f, req);

    if (!strstr(reply, fragment)) {
        fail_msg("%s -> %s (expected %s)", req, reply, fragment);
    }
}

/* Play brick0's QEMU for one QMP session; return the command it got. */
static char *serve_qmp(Fabric *f)
{
    int c = accept(f->qmp, NULL, NULL);
    g_autofree char *caps = NULL;
    char *cmd;

    assert_true(c >= 0);
    assert_true(rack_wire_send(c, "{\"QMP\": {\"version\": {}}}", -1));
    caps = rack_wire_recv(c, 65536, NULL);
    assert_non_null(strstr(caps, "qmp_capabilities"));
    assert_true(rack_wire_send(c, "{\"return\": {}}", -1));
    cmd = rack_wire_recv(c, 65536, NULL);
    /* An event first, as QEMU may send one: the client must skip it. */
    assert_true(rack_wire_send(c, "{\"event\": \"X\", \"data\": {}}", -1));
    assert_true(rack_wire_send(c, "{\"return\": {}}", -1));
    close(c);
    return cmd;
}

static void test_circuit_reaches_brick(void **state)
{
    Fabric *f = *state;
    g_autofree char *up = NULL, *down = NULL;
    gint64 t0 = g_get_monotonic_time();

    expect(f, "{\"cmd\":\"connect\",\"a\":\"compute0.port1\","
           "\"b\":\"memory0.port1\"}", "{\"ok\":true}");
    expect(f, "{\"cmd\":\"query\"}", "\"endpoint\":\"compute0.port1\"");
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"setting-up\"");
    up = serve_qmp(f);
    /* Not before the 200 ms reconfiguration time. */
    assert_true(g_get_monotonic_time() - t0 >= 200000);
    /* The circuit's class is its farther cable's (compute0.port1's is
     * rack-local, the default). */
    assert_string_equal(up, "{\"execute\":\"dredbox-rmc-connect\","
                        "\"arguments\":{\"port\":1,\"brick\":0,"
                        "\"latency-class\":\"inter-rack\"}}");
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"up\"");

    expect(f, "{\"cmd\":\"connect\",\"a\":2,\"b\":5}",
           "optical port 5 is in a circuit (with port 1)");
    expect(f, "{\"cmd\":\"disconnect\",\"port\":5}", "{\"ok\":true}");
    down = serve_qmp(f);
    assert_string_equal(down, "{\"execute\":\"dredbox-rmc-disconnect\","
                        "\"arguments\":{\"port\":1}}");
    expect(f, "{\"cmd\":\"query\"}", "\"circuits\":[]");
}

static void test_bad_requests(void **state)
{
    Fabric *f = *state;

    expect(f, "{\"cmd\":\"connect\",\"a\":\"memory9\",\"b\":4}",
           "no cable from \\\"memory9\\\" to the optical switch");
    expect(f, "{\"cmd\":\"connect\",\"a\":0,\"b\":8}",
           "optical port 8 does not exist (0 to 7)");
    expect(f, "{\"cmd\":\"connect\",\"a\":0,\"b\":0}",
           "a circuit joins two different ports");
    expect(f, "{\"cmd\":\"connect\",\"a\":true,\"b\":0}",
           "\\\"a\\\" must be an optical port number");
    expect(f, "{\"cmd\":\"disconnect\",\"port\":3}",
           "optical port 3 is in no circuit");
    expect(f, "{\"cmd\":\"reboot\"}", "unknown command \\\"reboot\\\"");
    expect(f, "{[", "malformed JSON request");
    /* A circuit to a brick nobody runs: logged, the fabric goes on. */
    expect(f, "{\"cmd\":\"connect\",\"a\":\"compute1.port0\",\"b\":4}",
           "{\"ok\":true}");
    g_usleep(400000);
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"up\"");
}

/* Memory bricks registered while the rack runs: reload takes them on. */
static void test_reload(void **state)
{
    Fabric *f = *state;
    g_autofree char *rack = g_build_filename(f->dir, "rack", NULL);
    g_autofree char *more = g_strconcat(RACK, "memory 5 size=1G\n"
                                        "cable memory5 optical:6\n", NULL);
    g_autofree char *bad = g_strconcat(more, "compute 7\n", NULL);

    expect(f, "{\"cmd\":\"connect\",\"a\":\"memory5\",\"b\":7}",
           "no cable from \\\"memory5\\\"");
    assert_true(g_file_set_contents(rack, more, -1, NULL));
    expect(f, "{\"cmd\":\"reload\"}", "{\"ok\":true}");
    expect(f, "{\"cmd\":\"connect\",\"a\":\"memory5\",\"b\":7}",
           "{\"ok\":true}");
    expect(f, "{\"cmd\":\"query\"}", "\"endpoint\":\"memory5\"");
    /* A compute brick cannot join this way; the old rack stays. */
    assert_true(g_file_set_contents(rack, bad, -1, NULL));
    expect(f, "{\"cmd\":\"reload\"}", "only memory bricks join a running"
           " rack");
    assert_true(g_file_set_contents(rack, "nonsense\n", -1, NULL));
    expect(f, "{\"cmd\":\"reload\"}", "unknown statement 'nonsense'");
    expect(f, "{\"cmd\":\"disconnect\",\"port\":\"memory5\"}",
           "{\"ok\":true}");
}

/* The fabric dies (SIGKILL: no clean-up) and is started again. */
static void crash_and_restart(Fabric *f)
{
    g_autofree char *sock = g_build_filename(f->dir, "fabric.sock", NULL);

    kill(f->pid, SIGKILL);
    assert_int_equal(waitpid(f->pid, NULL, 0), f->pid);
    unlink(sock);               /* what it left, so we wait for the new */
    start_fabric(f);
}

/*
 * An optical switch's cross-connects outlive its control software: a
 * fabric that crashed and restarts has its circuits up at once, with
 * their owners, tells the bricks again, and can tear them down; a
 * damaged circuits file costs only its bad lines.
 */
static void test_restart_keeps_circuits(void **state)
{
    Fabric *f = *state;
    g_autofree char *file = g_build_filename(f->dir, "fabric.circuits",
                                             NULL);
    g_autofree char *up = NULL, *again = NULL, *down = NULL, *kept = NULL;
    g_autofree char *rest = NULL;

    expect(f, "{\"cmd\":\"connect\",\"a\":\"compute0.port1\","
           "\"b\":\"memory0.port1\",\"owner\":\"bad owner\"}",
           "owner must be 1 to 32 letters");
    expect(f, "{\"cmd\":\"connect\",\"a\":\"compute0.port1\","
           "\"b\":\"memory0.port1\",\"owner\":7}", "\"code\":\"invalid\"");
    expect(f, "{\"cmd\":\"connect\",\"a\":\"compute0.port1\","
           "\"b\":\"memory0.port1\",\"owner\":\"sdm\"}", "{\"ok\":true}");
    up = serve_qmp(f);
    crash_and_restart(f);
    expect(f, "{\"cmd\":\"query\"}", "\"endpoint\":\"compute0.port1\"");
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"up\",\"owner\":\"sdm\"");
    assert_true(g_file_get_contents(file, &kept, NULL, NULL));
    assert_string_equal(kept, "1 5 sdm\n");
    g_clear_pointer(&kept, g_free);
    expect(f, "{\"cmd\":\"disconnect\",\"port\":1,\"owner\":\"me\"}",
           "optical port 1 is in no circuit of me");
    expect(f, "{\"cmd\":\"disconnect\",\"port\":99,\"owner\":\"me\"}",
           "\"ok\":false");
    expect(f, "{\"cmd\":\"disconnect\",\"port\":1,\"owner\":\"sdm\"}",
           "{\"ok\":true}");
    g_free(serve_qmp(f));
    expect(f, "{\"cmd\":\"connect\",\"a\":\"compute0.port1\","
           "\"b\":\"memory0.port1\",\"owner\":\"sdm\"}", "{\"ok\":true}");
    g_free(serve_qmp(f));
    again = serve_qmp(f);
    assert_string_equal(again, up);
    expect(f, "{\"cmd\":\"connect\",\"a\":2,\"b\":5}",
           "optical port 5 is in a circuit (with port 1)");

    /* Bad lines are skipped, good ones kept, the file cleaned. */
    assert_true(g_file_set_contents(file, "1 5\nbogus\n3 99\n2 5\n"
                                    "2 6 a b\n2 6 no/slash\n", -1, NULL));
    crash_and_restart(f);
    g_free(serve_qmp(f));
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"up\"}");
    assert_true(g_file_get_contents(file, &kept, NULL, NULL));
    assert_string_equal(kept, "1 5\n");

    /* Restored without an owner: the controller's disconnect leaves it */
    expect(f, "{\"cmd\":\"disconnect\",\"port\":5,\"owner\":\"sdm\"}",
           "optical port 5 is in no circuit of sdm");
    expect(f, "{\"cmd\":\"disconnect\",\"port\":5}", "{\"ok\":true}");
    down = serve_qmp(f);
    assert_string_equal(down, "{\"execute\":\"dredbox-rmc-disconnect\","
                        "\"arguments\":{\"port\":1}}");
    assert_true(g_file_get_contents(file, &rest, NULL, NULL));
    assert_string_equal(rest, "");
    crash_and_restart(f);
    expect(f, "{\"cmd\":\"query\"}", "\"circuits\":[]");
}

/* The fault log at @path says @want, line by line, each after its time. */
static void expect_log(const char *path, const char *const *want)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint i;

    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; want[i]; i++) {
        const char *what = lines[i] ? strstr(lines[i], "Z ") : NULL;

        if (!what || !g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:"
                                           "\\d\\d:\\d\\d\\.\\d{3}Z ",
                                           lines[i], 0, 0)) {
            fail_msg("line %u of the log is \"%s\", expected TIME %s", i,
                     lines[i] ? lines[i] : "(none)", want[i]);
        }
        assert_string_equal(what + 2, want[i]);
    }
    assert_string_equal(lines[i], "");
    assert_null(lines[i + 1]);
}

/*
 * Faults on purpose: a cut cable takes its circuit down and the brick is
 * told, a repair brings it back; both are logged; a failed memory brick
 * is unreachable to every compute brick; a restarted fabric
 * still finds the fibre cut; bad requests are refused with a reason.
 */
static void test_faults(void **state)
{
    Fabric *f = *state;
    g_autofree char *log = g_build_filename(f->dir, "faults.log", NULL);
    g_autofree char *up = NULL, *down = NULL, *again = NULL;

    expect(f, "{\"cmd\":\"connect\",\"a\":\"compute0.port0\","
           "\"b\":\"memory0.port0\"}", "{\"ok\":true}");
    up = serve_qmp(f);
    expect(f, "{\"cmd\":\"fail\",\"cable\":\"memory0.port0\"}",
           "{\"ok\":true}");
    down = serve_qmp(f);
    assert_string_equal(down, "{\"execute\":\"dredbox-rmc-disconnect\","
                        "\"arguments\":{\"port\":0}}");
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"down\"");
    expect(f, "{\"cmd\":\"query\"}", "\"faults\":[{\"port\":{\"port\":4,"
           "\"endpoint\":\"memory0.port0\",\"latency\":\"rack-local\"},"
           "\"cable-cut\":true,\"switch-port-failed\":false,\"brick-down\":false,"
           "\"why\":\"optical port 4 is dark: its cable is cut\"}]");
    expect(f, "{\"cmd\":\"fail\",\"cable\":4}",
           "\"code\":\"exists\",\"error\":\"optical port 4: its cable is"
           " already cut\"");
    expect(f, "{\"cmd\":\"connect\",\"a\":2,\"b\":4}",
           "\"error\":\"optical port 4 is in a circuit that is down (with"
           " port 0)\"");

    /* The fibre stays cut across a crash of the fabric's software. */
    crash_and_restart(f);
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"down\"");
    expect(f, "{\"cmd\":\"repair\",\"cable\":\"memory0.port0\"}",
           "{\"ok\":true}");
    again = serve_qmp(f);
    assert_string_equal(again, up);
    expect(f, "{\"cmd\":\"query\"}", "\"state\":\"up\"");
    expect(f, "{\"cmd\":\"query\"}", "\"faults\":[]");

    /* A switch port fails and is repaired, with no circuit through it. */
    expect(f, "{\"cmd\":\"fail\",\"switch-port\":7}", "{\"ok\":true}");
    expect(f, "{\"cmd\":\"connect\",\"a\":2,\"b\":7}",
           "\"code\":\"down\",\"error\":\"optical port 7 is dark: the"
           " switch port failed\"");
    expect(f, "{\"cmd\":\"repair\",\"switch-port\":7}", "{\"ok\":true}");


    /*
     * A brick down: each of its cables dark, its circuit down, and every
     * compute brick told that the memory it maps directly is unreachable.
     */
    expect(f, "{\"cmd\":\"fail\",\"brick\":\"memory0\"}", "{\"ok\":true}");
    g_free(down);
    down = serve_qmp(f);
    assert_string_equal(down, "{\"execute\":\"dredbox-rmc-disconnect\","
                        "\"arguments\":{\"port\":0}}");
    g_free(down);
    down = serve_qmp(f);
    assert_string_equal(down, "{\"execute\":"
                        "\"dredbox-remote-memory-set-reachable\","
                        "\"arguments\":{\"brick\":0,\"reachable\":false}}");
    expect(f, "{\"cmd\":\"query\"}", "\"why\":\"optical port 5 is dark: its"
           " brick is down\"");
    expect(f, "{\"cmd\":\"fail\",\"brick\":\"memory0\"}",
           "\"error\":\"memory0 is already down\"");
    expect(f, "{\"cmd\":\"repair\",\"brick\":\"memory0\"}", "{\"ok\":true}");
    g_free(again);
    again = serve_qmp(f);
    assert_string_equal(again, up);
    g_free(again);
    again = serve_qmp(f);
    assert_string_equal(again, "{\"execute\":"
                        "\"dredbox-remote-memory-set-reachable\","
                        "\"arguments\":{\"brick\":0,\"reachable\":true}}");
    expect(f, "{\"cmd\":\"repair\",\"brick\":\"memory0\"}",
           "\"error\":\"memory0 is not down\"");
    expect(f, "{\"cmd\":\"fail\",\"brick\":\"memory9\"}",
           "no brick \\\"memory9\\\" is cabled to the optical switch");
    expect(f, "{\"cmd\":\"fail\",\"brick\":0}", "\"code\":\"invalid\"");

    expect(f, "{\"cmd\":\"fail\"}", "say what fails");
    expect(f, "{\"cmd\":\"fail\",\"cable\":3,\"switch-port\":3}",
           "say what fails");
    expect(f, "{\"cmd\":\"fail\",\"cable\":3,\"brick\":\"memory0\"}",
           "say what fails");
    expect(f, "{\"cmd\":\"fail\",\"cable\":3}",
           "no cable is plugged into optical port 3");
    expect(f, "{\"cmd\":\"fail\",\"cable\":\"memory9\"}",
           "no cable from \\\"memory9\\\" to the optical switch");
    expect(f, "{\"cmd\":\"fail\",\"switch-port\":\"7\"}",
           "\"code\":\"invalid\"");
    expect(f, "{\"cmd\":\"fail\",\"switch-port\":-1}",
           "\"code\":\"invalid\"");
    expect(f, "{\"cmd\":\"repair\",\"switch-port\":8}",
           "optical port 8 does not exist (0 to 7)");
    expect_log(log, (const char *const[]) {
        "fabric cut cable memory0.port0 (optical port 4)",
        "fabric circuit memory0.port0 - compute0.port0 down",
        "fabric restored cable memory0.port0 (optical port 4)",
        "fabric circuit memory0.port0 - compute0.port0 up",
        "fabric failed switch port 7",
        "fabric repaired switch port 7",
        "fabric memory0 down: its optical ports are dark",
        "fabric circuit memory0.port0 - compute0.port0 down",
        "fabric memory0 up: its optical ports are lit",
        "fabric circuit memory0.port0 - compute0.port0 up",
        NULL });
}

static void frame(uint8_t *buf, uint8_t dst, uint8_t src)
{
    memset(buf, 0, 64);
    memcpy(buf, (uint8_t[6]){ 0x52, 0x54, 0, 0xdb, 0, dst }, 6);
    memcpy(buf + 6, (uint8_t[6]){ 0x52, 0x54, 0, 0xdb, 0, src }, 6);
    buf[12] = 0x08;
}

static ssize_t recv_timeout(int s, uint8_t *buf)
{
    struct timeval tv = { .tv_usec = 300000 };

    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return recv(s, buf, 64, 0);
}

static void test_packet_switch(void **state)
{
    Fabric *f = *state;
    int nic[2];
    struct sockaddr_un port[2];
    uint8_t out[64], in[64];

    for (int b = 0; b < 2; b++) {
        g_autofree char *path = g_strdup_printf("%s/brick%d-nic.sock",
                                                f->dir, b);

        nic[b] = unix_socket(path, SOCK_DGRAM, true);
        port[b] = (struct sockaddr_un) { .sun_family = AF_UNIX };
        snprintf(port[b].sun_path, sizeof(port[b].sun_path),
                 "%s/eps-brick%d.sock", f->dir, b);
    }
    /* Unknown destination: flooded to brick1, not back to brick0. */
    frame(out, 1, 0);
    assert_int_equal(sendto(nic[0], out, 64, 0,
                            (struct sockaddr *)&port[0], sizeof(port[0])), 64);
    assert_int_equal(recv_timeout(nic[1], in), 64);
    assert_memory_equal(in, out, 64);
    assert_int_equal(recv_timeout(nic[0], in), -1);
    /* The reply is forwarded to where brick0's MAC was learnt. */
    frame(out, 0, 1);
    assert_int_equal(sendto(nic[1], out, 64, 0,
                            (struct sockaddr *)&port[1], sizeof(port[1])), 64);
    assert_int_equal(recv_timeout(nic[0], in), 64);
    assert_memory_equal(in, out, 64);
    /* A runt is dropped, the switch keeps working. */
    assert_int_equal(sendto(nic[1], out, 5, 0,
                            (struct sockaddr *)&port[1], sizeof(port[1])), 5);
    assert_int_equal(recv_timeout(nic[0], in), -1);
    close(nic[0]);
    close(nic[1]);
    expect(f, "{\"cmd\":\"query\"}", "\"electrical-ports\":2");
}

static void test_bad_rack(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("fabricd-bad-XXXXXX", NULL);
    g_autofree char *rack = g_build_filename(dir, "rack", NULL);
    g_autofree char *err = NULL;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    const char *argv[] = { g_getenv("DREDBOX_FABRICD"), "--rack", rack,
                           "--run-dir", dir, NULL };
    int status;

    assert_true(g_file_set_contents(rack, "compute 0 ram=big\n", -1, NULL));
    assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                             G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                             &err, &status, NULL));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    assert_non_null(strstr(err, ":1: ram must be a size such as 512M or 4G,"
                                " not 'big'"));
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_circuit_reaches_brick, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packet_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_circuits, setup,
                                        teardown),
        cmocka_unit_test(test_bad_rack),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
