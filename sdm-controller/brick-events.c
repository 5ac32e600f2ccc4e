/*
 * The compute bricks' QMP events and what their agents tell unasked, as
 * they happen (docs/reliability.md).
 *
 * QEMU serves one client at a time on a QMP monitor, and RUN/brickN.qmp
 * is everyone's (the fabric, the launcher, the controller's own calls),
 * so each brick has a second monitor for the controller alone,
 * RUN/brickN.events.  The controller holds it open and hears each RMC
 * link change and fault the moment the RMC raises it: each is logged,
 * with the allocation it hit, and a link change makes the controller
 * read the fabric's and the pool's faults at once instead of at the next
 * poll.
 *
 * The brick's SDM agent says what its guest sees on a second
 * virtio-serial port, RUN/brickN.agent-events (guest/agent): a link lost
 * or back under its memory, a fault, and memory the guest gave up, which
 * the controller then frees.  That is what the controller of a real rack
 * hears, which has no QMP.
 *
 * A brick that is not there (yet, or any more) is tried again every
 * second, and so is freeing what a guest gave up while the fabric or the
 * pool did not answer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "controller.h"
#include "dredbox/address-map.h"
#include "dredbox/rmc-regs.h"
#include "fault-log.h"
#include "lock.h"
#include "rack-json.h"

#define RETRY_MS 1000

typedef struct BrickEvents BrickEvents;

/* A channel the controller holds open to each compute brick */
typedef struct EventChannel {
    const char *path;           /* sdm_run_path()'s format */
    const char *greeting;       /* sent on connecting, or NULL */
    void (*on_line)(BrickEvents *be, const char *line);
} EventChannel;

struct BrickEvents {
    const EventChannel *channel;
    unsigned brick;
    GSocketConnection *conn;
    GDataInputStream *in;
    GCancellable *cancel;
    gint64 logged_fault_us;     /* the last fault logged: one per second */
};

/* A guest gave this memory up: to be freed once the fabric and pool answer. */
typedef struct Released {
    unsigned brick;
    uint64_t port, memory, start, size;
} Released;

static GPtrArray *bricks;
static GArray *released;

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
static void on_qmp_line(BrickEvents *be, const char *line)
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

/* Its allocation, if @r still names one that holds what the guest gave up */
static bool released_allocation(const Released *r, SdmAlloc *out)
{
    g_autoptr(GArray) list = sdm_state_list(sdm.state, NULL);

    for (guint i = 0; list && i < list->len; i++) {
        SdmAlloc *a = &g_array_index(list, SdmAlloc, i);

        if (a->status == SDM_ALLOC_COMMITTED && a->rmc && !a->has_accel &&
            a->compute == r->brick && a->compute_port == r->port &&
            a->memory == r->memory && a->size == r->size &&
            QUEUE_WINDOW_BASE + r->port * sdm_port_window(r->brick) ==
            r->start) {
            *out = *a;
            return true;
        }
    }
    return false;
}

/* Free what @r names; false to try again later. */
static bool free_released(const Released *r)
{
    g_autoptr(GError) err = NULL;
    SdmAlloc a;
    bool ok;

    if (!sdm_brick_claim(r->brick, false)) {
        return false;           /* a request works on the brick */
    }
    if (!released_allocation(r, &a)) {
        sdm_brick_unclaim(r->brick);
        return true;            /* detached meanwhile, or never ours */
    }
    ok = sdm_faults_sync(&err) && sdm_free(&a, &err);
    sdm_brick_unclaim(r->brick);
    if (!ok) {
        rack_fault_log(sdm_fault_log(), "sdm", "cannot free allocation %"
                       G_GINT64_FORMAT " yet: %s", a.id, err->message);
        return false;
    }
    rack_fault_log(sdm_fault_log(), "sdm", "freed allocation %"
                   G_GINT64_FORMAT ": brick%u's guest gave it up", a.id,
                   r->brick);
    return true;
}

/* Unsigned @s in @base (no sign, space, prefix or junk), at most @max */
static bool agent_number(const char *s, guint base, guint64 max,
                         guint64 *out)
{
    return g_ascii_string_to_unsigned(s, base, 0, max, out, NULL);
}

/*
 * One line from the agent (guest/agent): "link PORT up|down BRICK START
 * SIZE", "released PORT BRICK START SIZE" or "fault PORT REASON ADDR",
 * START, SIZE and ADDR in hex.  Anything else is not trusted, and ignored.
 */
static void on_agent_line(BrickEvents *be, const char *line)
{
    g_auto(GStrv) w = g_strsplit(line, " ", 0);
    guint n = g_strv_length(w);
    bool link = n == 6 && !strcmp(w[0], "link");
    bool rel = n == 5 && !strcmp(w[0], "released");
    guint o = link ? 3 : 2;     /* where BRICK is */
    g_autofree char *what = NULL;
    Released r = { .brick = be->brick };
    guint64 addr;
    gint64 now = g_get_monotonic_time();

    if (n < 2 || !agent_number(w[1], 10, RMC_MAX_PORTS - 1, &r.port)) {
        return;
    }
    what = what_at(be->brick, r.port);
    if ((link || rel) &&
        (rel || !strcmp(w[2], "up") || !strcmp(w[2], "down")) &&
        agent_number(w[o], 10, RACK_MAX_BRICKS - 1, &r.memory) &&
        agent_number(w[o + 1], 16, G_MAXUINT64, &r.start) &&
        agent_number(w[o + 2], 16, G_MAXUINT64 - r.start, &r.size) &&
        r.size) {
        rack_fault_log(sdm_fault_log(), "sdm", "hears from brick%u's agent:"
                       " %s: memory brick %" G_GUINT64_FORMAT " range 0x%"
                       G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x %s",
                       be->brick, what, r.memory, (guint64)r.start,
                       (guint64)(r.start + r.size - 1),
                       rel ? "given up by the guest"
                       : !strcmp(w[2], "up") ? "reachable again"
                       : "unreachable: link down");
        if (link) {
            sdm_faults_poll_now();
        } else if (!free_released(&r)) {
            g_array_append_val(released, r);
        }
    } else if (n == 4 && !strcmp(w[0], "fault") &&
               agent_number(w[3], 16, G_MAXUINT64, &addr) &&
               now - be->logged_fault_us >= G_USEC_PER_SEC) {
        /* A guest that keeps touching lost memory: one line a second */
        be->logged_fault_us = now;
        g_strcanon(w[2], "abcdefghijklmnopqrstuvwxyz-", '?');
        rack_fault_log(sdm_fault_log(), "sdm", "hears from brick%u's agent:"
                       " %s: %.32s fault at 0x%" G_GINT64_MODIFIER "x",
                       be->brick, what, w[2], (guint64)addr);
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
    sdm_lock();
    be->channel->on_line(be, line);
    sdm_unlock();
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
    g_autofree char *path = sdm_run_path(be->channel->path, be->brick);
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    const char *hello = be->channel->greeting;

    be->conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr),
                                       NULL, NULL);
    if (!be->conn) {
        return;
    }
    if (hello && !g_output_stream_write_all(
            g_io_stream_get_output_stream(G_IO_STREAM(be->conn)), hello,
            strlen(hello), NULL, NULL, NULL)) {
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
    sdm_lock();
    for (guint i = 0; i < bricks->len; i++) {
        BrickEvents *be = g_ptr_array_index(bricks, i);

        if (!be->conn) {
            try_connect(be);
        }
    }
    for (guint i = released->len; i-- > 0;) {
        if (free_released(&g_array_index(released, Released, i))) {
            g_array_remove_index(released, i);
        }
    }
    sdm_unlock();
    return G_SOURCE_CONTINUE;
}

static const EventChannel channels[] = {
    { "brick%u.events", "{\"execute\":\"qmp_capabilities\"}\n", on_qmp_line },
    { "brick%u.agent-events", NULL, on_agent_line },
};

void sdm_brick_events_watch(void)
{
    bricks = g_ptr_array_new_with_free_func(g_free);
    released = g_array_new(FALSE, FALSE, sizeof(Released));
    for (guint i = 0; i < sdm.graph->vertices->len; i++) {
        SdmVertex *v = g_ptr_array_index(sdm.graph->vertices, i);

        for (guint c = 0; v->kind == RACK_COMPUTE && c < G_N_ELEMENTS(channels);
             c++) {
            BrickEvents *be = g_new0(BrickEvents, 1);

            be->channel = &channels[c];
            be->brick = v->id;
            g_ptr_array_add(bricks, be);
        }
    }
    connect_all(NULL);
    g_timeout_add(RETRY_MS, connect_all, NULL);
}
