/*
 * The compute bricks' QMP events, as they happen (docs/reliability.md).
 *
 * QEMU serves one client at a time on a QMP monitor, and RUN/brickN.qmp
 * is everyone's (the fabric, the launcher, the controller's own calls),
 * so each brick has a second monitor for the controller alone,
 * RUN/brickN.events.  The controller holds it open and hears each RMC
 * link change and fault the moment the RMC raises it: each is logged,
 * with the allocation it hit, and a link change makes the controller
 * read the fabric's and the pool's faults at once instead of at the next
 * poll.  A brick that is not there (yet, or any more) is tried again
 * every second.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "controller.h"
#include "fault-log.h"
#include "rack-json.h"

#define RETRY_MS 1000

typedef struct BrickEvents {
    unsigned brick;
    GSocketConnection *conn;
    GDataInputStream *in;
    GCancellable *cancel;
    gint64 logged_fault_us;     /* the last fault logged: one per second */
} BrickEvents;

static GPtrArray *bricks;

static void read_next(BrickEvents *be);

static void hang_up(BrickEvents *be)
{
    g_cancellable_cancel(be->cancel);
    g_clear_object(&be->cancel);
    g_clear_object(&be->in);
    g_clear_object(&be->conn);
}

/* The committed RMC-path allocation on @brick's RMC port @port, or -1 */
static gint64 allocation_at(unsigned brick, uint64_t port)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);

    for (guint i = 0; list && i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

        if (a->status == SDM_ALLOC_COMMITTED && (a->rmc || a->has_accel) &&
            a->compute == brick && a->compute_port == port) {
            return a->id;
        }
    }
    return -1;
}

/* "allocation 3 (brick0's RMC port 1)", or "brick0's RMC port 1" */
static char *what_at(unsigned brick, uint64_t port)
{
    gint64 id = allocation_at(brick, port);

    if (id < 0) {
        return g_strdup_printf("brick%u's RMC port %" G_GUINT64_FORMAT,
                               brick, port);
    }
    return g_strdup_printf("allocation %" G_GINT64_FORMAT " (brick%u's RMC"
                           " port %" G_GUINT64_FORMAT ")", id, brick, port);
}

static void on_link_change(BrickEvents *be, JsonObject *data)
{
    g_autofree char *what = NULL;
    uint64_t port;
    bool up;

    if (!rack_json_get_uint(data, "port", G_MAXUINT8, &port, NULL) ||
        !rack_json_get_bool(data, "link-up", &up, NULL)) {
        return;
    }
    what = what_at(be->brick, port);
    rack_fault_log(sdm_fault_log(), "sdm", "hears %s: link %s", what,
                   up ? "up" : "down");
    sdm_faults_poll_now();
}

/*
 * A guest that keeps touching lost memory raises a fault per access:
 * one line a second says enough.
 */
static void on_fault(BrickEvents *be, JsonObject *data)
{
    g_autofree char *what = NULL;
    const char *reason;
    uint64_t port, address;
    bool write;
    gint64 now = g_get_monotonic_time();

    if (now - be->logged_fault_us < G_USEC_PER_SEC ||
        !rack_json_get_uint(data, "address", G_MAXUINT64, &address, NULL) ||
        !rack_json_get_str(data, "reason", &reason, NULL) ||
        !rack_json_get_bool(data, "write", &write, NULL)) {
        return;
    }
    be->logged_fault_us = now;
    what = rack_json_get_uint(data, "port", G_MAXUINT8, &port, NULL)
        ? what_at(be->brick, port)
        : g_strdup_printf("brick%u's RMC", be->brick);
    rack_fault_log(sdm_fault_log(), "sdm", "hears %s: %s fault (%s) at"
                   " 0x%" G_GINT64_MODIFIER "x", what,
                   write ? "write" : "read", reason, (guint64)address);
}

/* One line from QMP: an event (replies and greetings are not) */
static void on_message(BrickEvents *be, const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *msg, *data;
    const char *event;

    msg = rack_json_parse_object(parser, line);
    if (!msg || !rack_json_get_str(msg, "event", &event, NULL) ||
        !rack_json_get_object(msg, "data", &data, NULL)) {
        return;
    }
    if (!strcmp(event, "DREDBOX_RMC_LINK_CHANGE")) {
        on_link_change(be, data);
    } else if (!strcmp(event, "DREDBOX_RMC_FAULT")) {
        on_fault(be, data);
    }
}

static void on_line(GObject *src, GAsyncResult *res, gpointer opaque)
{
    BrickEvents *be = opaque;
    g_autoptr(GError) err = NULL;
    g_autofree char *line = g_data_input_stream_read_line_finish(
        G_DATA_INPUT_STREAM(src), res, NULL, &err);

    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        return;                 /* hung up: @be may be reused already */
    }
    if (!line) {
        hang_up(be);            /* the brick is gone: tried again */
        return;
    }
    on_message(be, line);
    read_next(be);
}

static void read_next(BrickEvents *be)
{
    g_data_input_stream_read_line_async(be->in, G_PRIORITY_DEFAULT,
                                        be->cancel, on_line, be);
}

/* Connect to @be's monitor if it is there; quietly not if it is not. */
static void try_connect(BrickEvents *be)
{
    g_autofree char *path = sdm_run_path("brick%u.events", be->brick);
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";

    be->conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr),
                                       NULL, NULL);
    if (!be->conn) {
        return;
    }
    if (!g_output_stream_write_all(
            g_io_stream_get_output_stream(G_IO_STREAM(be->conn)), caps,
            sizeof(caps) - 1, NULL, NULL, NULL)) {
        g_clear_object(&be->conn);
        return;
    }
    be->in = g_data_input_stream_new(
        g_io_stream_get_input_stream(G_IO_STREAM(be->conn)));
    be->cancel = g_cancellable_new();
    read_next(be);
}

static gboolean connect_all(gpointer unused)
{
    for (guint i = 0; i < bricks->len; i++) {
        BrickEvents *be = g_ptr_array_index(bricks, i);

        if (!be->conn) {
            try_connect(be);
        }
    }
    return G_SOURCE_CONTINUE;
}

void sdm_brick_events_watch(void)
{
    bricks = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(sdm.graph->vertices, i);

        if (v->kind == RACK_COMPUTE) {
            BrickEvents *be = g_new0(BrickEvents, 1);

            be->brick = v->id;
            g_ptr_array_add(bricks, be);
        }
    }
    connect_all(NULL);
    g_timeout_add(RETRY_MS, connect_all, NULL);
}
