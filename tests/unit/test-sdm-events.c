/*
 * Unit tests of the SDM controller's watch on the bricks' QMP events and
 * their agents' reports (sdm-controller/brick-events.c), against a fake
 * brick monitor and a fake agent channel on real UNIX sockets: link
 * changes and faults logged with the allocation they hit, a link change
 * reading the faults at once, faults rate-limited, malformed and
 * wrong-typed lines ignored, the monitor reconnected after the brick hangs
 * up; memory the guest gave up freed, once the fabric answers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "controller.h"
#include "rack-error.h"

SdmController sdm;

/* What brick-events.c asks of the rest of the controller */
static char *log_path;
static unsigned polls;

char *sdm_run_path(const char *fmt, unsigned id)
{
    g_autofree char *name = g_strdup_printf(fmt, id);

    return g_build_filename(sdm.run_dir, name, NULL);
}

const char *sdm_fault_log(void)
{
    return log_path;
}

void sdm_faults_poll_now(void)
{
    polls++;
}

static bool fabric_answers;
static int64_t freed = -1;

bool sdm_faults_sync(GError **errp)
{
    if (!fabric_answers) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "cannot reach the switch fabric");
    }
    return fabric_answers;
}

bool sdm_free(const SdmAlloc *a, GError **errp)
{
    freed = a->id;
    return sdm_state_remove(sdm.state, a->id, errp);
}

uint64_t sdm_port_window(unsigned c)
{
    return 16ULL << 30;
}

static const char rack_text[] =
    "compute 0 ports=2\nmemory 0 size=1G\noptical-switch ports=4\n"
    "cable compute0.port0 optical:0 latency=tray-local\n"
    "cable compute0.port1 optical:1 latency=tray-local\n"
    "cable memory0 optical:2 latency=tray-local\n";

/* What the fake brick sends once the controller said qmp_capabilities */
static const char *const events[] = {
    "{\"return\": {}}",
    "not json",
    "[1, 2]",
    "{\"event\": 5, \"data\": {}}",
    "{\"event\": \"DREDBOX_RMC_LINK_CHANGE\", \"data\": 7}",
    "{\"event\": \"DREDBOX_RMC_LINK_CHANGE\","
    " \"data\": {\"port\": \"one\", \"link-up\": false}}",
    "{\"event\": \"DREDBOX_RMC_LINK_CHANGE\","
    " \"data\": {\"port\": 300, \"link-up\": false}}",
    "{\"event\": \"DREDBOX_RMC_FAULT\", \"data\": {\"port\": 1,"
    " \"address\": -1, \"reason\": \"no-link\", \"write\": false}}",
    "{\"event\": \"SHUTDOWN\", \"data\": {}}",
    /* The three that count */
    "{\"event\": \"DREDBOX_RMC_LINK_CHANGE\","
    " \"data\": {\"port\": 1, \"link-up\": false}}",
    "{\"event\": \"DREDBOX_RMC_FAULT\", \"data\": {\"port\": 1,"
    " \"address\": 549755813888, \"reason\": \"no-link\", \"write\": false}}",
    "{\"event\": \"DREDBOX_RMC_FAULT\", \"data\": {\"port\": 1,"
    " \"address\": 549755817984, \"reason\": \"no-link\", \"write\": true}}",
    "{\"event\": \"DREDBOX_RMC_LINK_CHANGE\","
    " \"data\": {\"port\": 0, \"link-up\": true}}",
};

/*
 * What the fake agent says: its allocation 1 is on RMC port 1, 128 MiB at
 * 0x8400000000 (port 1 of 16 GiB windows from 512 GiB).
 */
static const char *const agent_lines[] = {
    "", "link", "link 1 sideways 0 8400000000 8000000",
    "link 99 down 0 8400000000 8000000", "link 1 down 0 0x8400000000 8000000",
    "link 1 down 0 +8400000000 8000000", "link 1 down 70000 8400000000 8000000",
    "released 1 0 8400000000 0", "released 1 0 ffffffffffffffff 2",
    "released -1 0 8400000000 8000000", "fault 1", "fault 1 poisoned 0x10",
    "link 1 down 0 8400000000 8000000 extra",
    /* The ones that count */
    "link 1 down 0 8400000000 8000000",
    "fault 1 poisoned 8400005000",
    "fault 1 no-link 8400006000",             /* one a second: no line */
    "released 0 0 8000000000 8000000",        /* no allocation there */
    "released 1 0 8400000000 8000000",
};

/* What the controller logs of them, in order */
static const char *const agent_logged[] = {
    "Z sdm hears from brick0's agent: allocation 1 (brick0's RMC port 1):"
    " memory brick 0 range 0x8400000000-0x8407ffffff unreachable: link down",
    "Z sdm hears from brick0's agent: allocation 1 (brick0's RMC port 1):"
    " poisoned fault at 0x8400005000",
    "Z sdm hears from brick0's agent: brick0's RMC port 0: memory brick 0"
    " range 0x8000000000-0x8007ffffff given up by the guest",
    "Z sdm hears from brick0's agent: allocation 1 (brick0's RMC port 1):"
    " memory brick 0 range 0x8400000000-0x8407ffffff given up by the guest",
    "Z sdm cannot free allocation 1 yet: cannot reach the switch fabric",
    "Z sdm freed allocation 1: brick0's guest gave it up",
};

typedef struct FakeBrick {
    GSocket *listener;
    bool qmp;                   /* a monitor, or else the agent */
    unsigned accepted;
    char *caps;                 /* the first line the controller sent */
} FakeBrick;

/* Send @n @lines on @out, each with its newline */
static void send_lines(GOutputStream *out, const char *const *lines,
                       size_t n)
{
    for (size_t k = 0; k < n; k++) {
        g_autofree char *line = g_strdup_printf("%s\n", lines[k]);

        g_output_stream_write_all(out, line, strlen(line), NULL, NULL, NULL);
    }
}

/*
 * Serve one connection: a monitor's greeting, the controller's line and
 * the events, or the agent's lines.
 */
static gpointer serve(gpointer opaque)
{
    FakeBrick *fb = opaque;

    for (int i = 0; i < 2; i++) {
        g_autoptr(GSocket) s = g_socket_accept(fb->listener, NULL, NULL);
        g_autoptr(GSocketConnection) c = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        GOutputStream *out;
        g_autofree char *line = NULL;

        if (!s) {
            return NULL;
        }
        fb->accepted++;
        c = g_socket_connection_factory_create_connection(s);
        in = g_data_input_stream_new(
            g_io_stream_get_input_stream(G_IO_STREAM(c)));
        out = g_io_stream_get_output_stream(G_IO_STREAM(c));
        if (!fb->qmp) {
            /* The agent's lines, then it hangs up for good. */
            send_lines(out, agent_lines, G_N_ELEMENTS(agent_lines));
            return NULL;
        }
        g_output_stream_write_all(out, "{\"QMP\": {}}\n", 12, NULL, NULL,
                                  NULL);
        line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
        if (i == 0) {
            fb->caps = g_strdup(line);
            send_lines(out, events, G_N_ELEMENTS(events));
        }
        /* Hang up: the brick went away (the second time, for good). */
    }
    return NULL;
}

static unsigned log_lines(void)
{
    g_autofree char *text = NULL;
    unsigned n = 0;

    if (g_file_get_contents(log_path, &text, NULL, NULL)) {
        for (const char *p = text; *p; p++) {
            n += *p == '\n';
        }
    }
    return n;
}

/* Run the main loop until @cond holds or 20 s passed (a liveness bound) */
static bool spin_until(bool (*cond)(FakeBrick *), FakeBrick *fb)
{
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (!cond(fb) && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    return cond(fb);
}

static bool three_logged(FakeBrick *fb)
{
    return log_lines() >= 3;
}

static bool reconnected(FakeBrick *fb)
{
    return fb->accepted >= 2;
}

static bool cannot_free_logged(FakeBrick *fb)
{
    return log_lines() >= 8;
}

static bool freed_one(FakeBrick *fb)
{
    return freed >= 0 && log_lines() >= 9;
}

/* A fake brick's socket at @path, served by a thread */
static GThread *fake_listen(FakeBrick *fb, const char *path)
{
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);

    fb->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_DEFAULT, NULL);
    assert_true(g_socket_bind(fb->listener, addr, TRUE, NULL));
    assert_true(g_socket_listen(fb->listener, NULL));
    return g_thread_new("fake-brick", serve, fb);
}

static void test_events(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("sdm-events-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "brick0.events", NULL);
    g_autofree char *agent_sock = g_build_filename(dir,
                                                   "brick0.agent-events",
                                                   NULL);
    g_autoptr(Rack) rack = rack_parse(rack_text, "t.rack", NULL);
    g_autofree char *db = g_build_filename(dir, "sdm.db", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    SdmAlloc a = { .compute = 0, .compute_port = 1, .memory = 0,
                   .size = 128 << 20, .segment = -1, .rmc = true };
    FakeBrick fb = { .qmp = true }, agent = { 0 };
    GThread *server, *agent_server;
    g_autoptr(GArray) left = NULL;

    assert_non_null(rack);
    sdm.run_dir = dir;
    sdm.graph = sdm_graph_new(rack);
    sdm.state = sdm_state_open(db, NULL);
    assert_non_null(sdm.state);
    assert_true(sdm_state_add(sdm.state, &a, NULL));
    assert_true(sdm_state_commit(sdm.state, a.id, 7, NULL));
    log_path = g_build_filename(dir, "faults.log", NULL);

    server = fake_listen(&fb, sock);

    sdm_brick_events_watch();
    assert_true(spin_until(three_logged, &fb));
    /* The reconnection: within a second or two of the hang-up */
    assert_true(spin_until(reconnected, &fb));
    g_thread_join(server);

    assert_string_equal(fb.caps, "{\"execute\":\"qmp_capabilities\"}");
    assert_true(g_file_get_contents(log_path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    /* Malformed, wrong-typed and out-of-range ones made no line */
    assert_int_equal(g_strv_length(lines), 4);
    assert_non_null(strstr(lines[0], "Z sdm hears allocation 1 (brick0's"
                           " RMC port 1): link down"));
    assert_non_null(strstr(lines[1], "Z sdm hears allocation 1 (brick0's"
                           " RMC port 1): read fault (no-link) at"
                           " 0x8000000000"));
    /* The write fault a moment later: one line a second is enough */
    assert_non_null(strstr(lines[2], "Z sdm hears brick0's RMC port 0:"
                           " link up"));
    assert_string_equal(lines[3], "");
    /* Each link change read the faults at once; a fault does not */
    assert_int_equal(polls, 2);
    g_clear_pointer(&lines, g_strfreev);
    g_clear_pointer(&text, g_free);

    /*
     * The agent, from a second later (the controller tries every second):
     * what it says is logged, and memory its guest gave up is freed once
     * the fabric answers.
     */
    agent_server = fake_listen(&agent, agent_sock);
    assert_true(spin_until(cannot_free_logged, &agent));
    assert_int_equal(freed, -1);
    fabric_answers = true;
    assert_true(spin_until(freed_one, &agent));
    assert_int_equal(freed, 1);
    left = sdm_state_list(sdm.state, NULL);
    assert_int_equal(left->len, 0);
    g_thread_join(agent_server);
    g_object_unref(agent.listener);
    assert_true(g_file_get_contents(log_path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    assert_int_equal(g_strv_length(lines), 10);
    for (size_t k = 0; k < G_N_ELEMENTS(agent_logged); k++) {
        assert_non_null(strstr(lines[3 + k], agent_logged[k]));
    }
    assert_int_equal(polls, 3);

    g_object_unref(fb.listener);
    g_free(fb.caps);
    sdm_state_close(sdm.state);
    sdm_graph_free(sdm.graph);
    for (const char *const *f = (const char *const[]) {
             "faults.log", "sdm.db", "sdm.db-wal", "sdm.db-shm",
             "brick0.events", "brick0.agent-events", NULL }; *f; f++) {
        g_autofree char *path = g_build_filename(dir, *f, NULL);

        g_unlink(path);
    }
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    g_free(log_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
