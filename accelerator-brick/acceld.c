/*
 * dredbox-acceld: an accelerator brick (docs/accelerator.md).
 *
 * The brick has no CPU a guest runs on, so it is a host process on the
 * fabric rather than a QEMU.  Compute bricks' RMCs connect to its doorbell
 * link socket (include/dredbox/accel-queue.h), each naming the pool
 * segment that holds its work queue; the accelerator opens that segment
 * through its own grant from the pool (so it can touch nothing it was not
 * given), and on every doorbell takes the queue's submitted slots and
 * hands them to a pool of engine threads.  Each finished slot is reported
 * back over the link, which the RMC turns into an interrupt.
 *
 * A JSON-lines control socket answers "query": queues and job counts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "engine.h"
#include "line-server.h"
#include "memd-client.h"
#include "rack-error.h"

/* One compute brick's queue: its link and the segment it names. */
typedef struct Queue {
    gint refs;
    int fd;                 /* the link; -1 once it is gone */
    guint watch;
    GMutex send_lock;
    uint8_t in[sizeof(DrqLinkMsg)];
    size_t have;
    uint32_t segment;
    uint8_t *base;          /* the segment, NULL until HELLO */
    uint64_t size;
    bool bad_header_said;
} Queue;

typedef struct Job {
    Queue *q;
    unsigned slot;
    DrqSlot d;              /* the descriptor as it was taken */
} Job;

static char *pool_path;
static char *client;
static MemdConn *pool;
static GThreadPool *engines;
static uint64_t rate;
static GPtrArray *queues;   /* Queue *, with a link */
static gint jobs_done, jobs_failed;
/* Failed jobs by the status engine_check gave them. */
static const char *const error_names[] = {
    [DRQ_ERR_OP] = "op", [DRQ_ERR_MALFORMED] = "malformed",
    [DRQ_ERR_LENGTH] = "length", [DRQ_ERR_RANGE] = "range",
    [DRQ_ERR_QUEUE] = "queue", [DRQ_ERR_OVERLAP] = "overlap",
};
G_STATIC_ASSERT(G_N_ELEMENTS(error_names) == DRQ_ERR_OVERLAP + 1);
static gint errors[G_N_ELEMENTS(error_names)];
/* Jobs running per queue segment, whichever link brought them. */
static GMutex inflight_lock;
static GHashTable *inflight;    /* segment -> count */

static void inflight_add(uint32_t segment, int n)
{
    gpointer key = GUINT_TO_POINTER(segment);

    g_mutex_lock(&inflight_lock);
    g_hash_table_insert(inflight, key, GINT_TO_POINTER(
        GPOINTER_TO_INT(g_hash_table_lookup(inflight, key)) + n));
    g_mutex_unlock(&inflight_lock);
}

static void queue_unref(Queue *q)
{
    if (g_atomic_int_dec_and_test(&q->refs)) {
        if (q->base) {
            munmap(q->base, q->size);
        }
        g_mutex_clear(&q->send_lock);
        g_free(q);
    }
}

static void link_send(Queue *q, uint32_t type, uint32_t value)
{
    DrqLinkMsg m = { GUINT32_TO_LE(type), GUINT32_TO_LE(value), 0 };

    g_mutex_lock(&q->send_lock);
    /* A compute brick that went away just misses the message. */
    if (q->fd >= 0 &&
        send(q->fd, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m)) {
        shutdown(q->fd, SHUT_RDWR);
    }
    g_mutex_unlock(&q->send_lock);
}

static void queue_close(Queue *q)
{
    g_source_remove(q->watch);
    g_mutex_lock(&q->send_lock);
    close(q->fd);
    q->fd = -1;
    g_mutex_unlock(&q->send_lock);
    g_ptr_array_remove(queues, q);
    if (q->base) {
        g_printerr("dredbox-acceld: queue on segment %u closed\n",
                   q->segment);
    }
    queue_unref(q);
}

/* An engine thread: one job at a time. */
static void engine_work(gpointer data, gpointer unused)
{
    Job *j = data;
    DrqSlot *slot = (DrqSlot *)(j->q->base + DRQ_SLOTS_OFFSET) + j->slot;
    DrqHeader *h = (DrqHeader *)j->q->base;
    uint32_t status = engine_check(&j->d, j->q->size);

    if (status == DRQ_OK) {
        slot->result = GUINT64_TO_LE(engine_run(&j->d, j->q->base, rate));
        g_atomic_int_inc(&jobs_done);
    } else {
        g_atomic_int_inc(&jobs_failed);
        g_atomic_int_inc(&errors[status]);
    }
    slot->status = GUINT32_TO_LE(status);
    __atomic_store_n(&slot->state, GUINT32_TO_LE(status ? DRQ_ERROR
                                                        : DRQ_DONE),
                     __ATOMIC_RELEASE);
    __atomic_fetch_add(&h->completed, 1, __ATOMIC_RELEASE);
    link_send(j->q, DRQ_LINK_COMPLETION, j->slot);
    inflight_add(j->q->segment, -1);
    queue_unref(j->q);
    g_free(j);
}

static bool header_ok(Queue *q)
{
    const DrqHeader *h = (const DrqHeader *)q->base;

    return GUINT32_FROM_LE(h->magic) == DRQ_MAGIC &&
           GUINT32_FROM_LE(h->version) == DRQ_VERSION &&
           GUINT32_FROM_LE(h->nslots) == DRQ_SLOTS &&
           GUINT32_FROM_LE(h->slot_size) == sizeof(DrqSlot) &&
           GUINT64_FROM_LE(h->data_offset) == DRQ_DATA_OFFSET;
}

/* A doorbell: take every submitted slot (doorbells may coalesce). */
static void queue_scan(Queue *q)
{
    DrqSlot *slots = (DrqSlot *)(q->base + DRQ_SLOTS_OFFSET);

    if (!header_ok(q)) {
        if (!q->bad_header_said) {
            g_printerr("dredbox-acceld: queue on segment %u has no valid"
                       " header; doorbells ignored until it has\n",
                       q->segment);
            q->bad_header_said = true;
        }
        return;
    }
    for (unsigned i = 0; i < DRQ_SLOTS; i++) {
        uint32_t expect = GUINT32_TO_LE(DRQ_SUBMITTED);
        Job *j;

        if (!__atomic_compare_exchange_n(&slots[i].state, &expect,
                                         GUINT32_TO_LE(DRQ_IN_PROGRESS),
                                         false, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED)) {
            continue;
        }
        j = g_new(Job, 1);
        j->q = q;
        j->slot = i;
        /* Checked and used from this copy: the producer may scribble. */
        memcpy(&j->d, &slots[i], sizeof(j->d));
        j->d.op = GUINT32_FROM_LE(j->d.op);
        j->d.src = GUINT64_FROM_LE(j->d.src);
        j->d.dst = GUINT64_FROM_LE(j->d.dst);
        j->d.len = GUINT64_FROM_LE(j->d.len);
        j->d.arg = GUINT64_FROM_LE(j->d.arg);
        j->d.reserved = GUINT64_FROM_LE(j->d.reserved);
        g_atomic_int_inc(&q->refs);
        inflight_add(q->segment, 1);
        g_thread_pool_push(engines, j, NULL);
    }
}

/* Open the queue's segment through this accelerator's own grant. */
static uint32_t queue_open(Queue *q, uint32_t segment)
{
    JsonBuilder *b = rack_json_request("open");
    g_autofree char *req = NULL;
    g_autoptr(GError) err = NULL;
    JsonObject *r = NULL, *seg;
    bool writable = false;
    uint64_t size;
    int fd = -1;

    rack_json_member_int(b, "segment", segment);
    req = rack_json_end(b);
    /* Twice: the pool may have restarted since the last open. */
    for (int attempt = 0; attempt < 2 && !r; attempt++) {
        g_clear_error(&err);
        if (!pool) {
            pool = memd_connect(pool_path, client, FALSE, &err);
        }
        if (pool && !(r = memd_call(pool, req, &fd, &err)) &&
            rack_error_is_transport(err)) {
            g_clear_pointer(&pool, memd_close);
        }
    }
    if (r && fd >= 0 && !err &&
        (!rack_json_get_bool(r, "writable", &writable, &err) ||
         !rack_json_get_object(r, "segment", &seg, &err) ||
         !rack_json_get_uint(seg, "size", G_MAXSIZE, &size, &err))) {
        g_prefix_error(&err, "malformed reply from the pool: ");
    }
    if (!r || fd < 0 || err || !writable) {
        g_printerr("dredbox-acceld: segment %u: %s\n", segment,
                   err ? err->message : "not granted writable");
        if (fd >= 0) {
            close(fd);
        }
        g_clear_pointer(&r, json_object_unref);
        return DRQ_LINK_ERR_SEGMENT;
    }
    q->size = size;
    json_object_unref(r);
    q->base = q->size >= DRQ_DATA_OFFSET
              ? mmap(NULL, q->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
              : MAP_FAILED;
    close(fd);
    if (q->base == MAP_FAILED) {
        q->base = NULL;
        g_printerr("dredbox-acceld: segment %u cannot hold a queue\n",
                   segment);
        return DRQ_LINK_ERR_SEGMENT;
    }
    q->segment = segment;
    g_printerr("dredbox-acceld: serving the queue on segment %u\n",
               segment);
    return DRQ_LINK_OK;
}

/*
 * A queue (re)joined with nothing of ours running on it: slots left in
 * progress belong to an accelerator process that died, and will never
 * finish; fail them so that no producer waits for them forever.
 */
static void queue_reclaim(Queue *q)
{
    DrqSlot *slots = (DrqSlot *)(q->base + DRQ_SLOTS_OFFSET);
    bool idle;

    g_mutex_lock(&inflight_lock);
    idle = !g_hash_table_lookup(inflight, GUINT_TO_POINTER(q->segment));
    g_mutex_unlock(&inflight_lock);
    if (!idle || !header_ok(q)) {
        return;
    }
    for (unsigned i = 0; i < DRQ_SLOTS; i++) {
        uint32_t expect = GUINT32_TO_LE(DRQ_IN_PROGRESS);

        if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) != expect) {
            continue;
        }
        slots[i].status = GUINT32_TO_LE(DRQ_ERR_LOST);
        __atomic_compare_exchange_n(&slots[i].state, &expect,
                                    GUINT32_TO_LE(DRQ_ERROR), false,
                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
}

/* One message from an RMC; false to drop the link. */
static bool link_message(Queue *q, const DrqLinkMsg *m)
{
    uint32_t type = GUINT32_FROM_LE(m->type);
    uint32_t value = GUINT32_FROM_LE(m->value);
    uint32_t err;

    if (type == DRQ_LINK_HELLO && !q->base) {
        err = queue_open(q, value);
        if (err == DRQ_LINK_OK) {
            queue_reclaim(q);
        }
        link_send(q, DRQ_LINK_READY, err);
        return err == DRQ_LINK_OK;
    }
    if (type == DRQ_LINK_DOORBELL && q->base) {
        queue_scan(q);
        return true;
    }
    g_printerr("dredbox-acceld: protocol error on a link (message %u);"
               " dropping it\n", type);
    link_send(q, DRQ_LINK_READY, DRQ_LINK_ERR_PROTOCOL);
    return false;
}

static gboolean link_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    Queue *q = opaque;
    ssize_t n = recv(fd, q->in + q->have, sizeof(q->in) - q->have,
                     MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        queue_close(q);
        return G_SOURCE_REMOVE;
    }
    q->have += n;
    if (q->have == sizeof(q->in)) {
        DrqLinkMsg m;

        memcpy(&m, q->in, sizeof(m));
        q->have = 0;
        if (!link_message(q, &m)) {
            queue_close(q);
            return G_SOURCE_REMOVE;
        }
    }
    return G_SOURCE_CONTINUE;
}

static void link_accepted(int fd, gpointer unused)
{
    Queue *q = g_new0(Queue, 1);

    q->refs = 1;
    q->fd = fd;
    g_mutex_init(&q->send_lock);
    q->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                             link_readable, q);
    g_ptr_array_add(queues, q);
}

static char *control(JsonObject *req, const char *cmd, GError **errp)
{
    JsonBuilder *b;

    if (strcmp(cmd, "query")) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "unknown command \"%s\" (query)", cmd);
        return NULL;
    }
    b = rack_json_reply_begin();
    rack_json_member_int(b, "engines", g_thread_pool_get_max_threads(engines));
    json_builder_set_member_name(b, "queues");
    json_builder_begin_array(b);
    for (guint i = 0; i < queues->len; i++) {
        Queue *q = g_ptr_array_index(queues, i);

        if (q->base) {
            json_builder_add_int_value(b, q->segment);
        }
    }
    json_builder_end_array(b);
    rack_json_member_int(b, "done", g_atomic_int_get(&jobs_done));
    rack_json_member_int(b, "failed", g_atomic_int_get(&jobs_failed));
    json_builder_set_member_name(b, "errors");
    json_builder_begin_object(b);
    for (unsigned e = DRQ_ERR_OP; e < G_N_ELEMENTS(error_names); e++) {
        rack_json_member_int(b, error_names[e], g_atomic_int_get(&errors[e]));
    }
    json_builder_end_object(b);
    return rack_json_end(b);
}

static gboolean quit(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    g_autofree char *link_path = NULL, *control_path = NULL;
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- dReDBox accelerator brick");
    g_autoptr(GError) err = NULL;
    int id = -1, nengines = 4, mib_per_s = 0;
    GOptionEntry entries[] = {
        { "id", 'i', 0, G_OPTION_ARG_INT, &id,
          "This accelerator brick's id (pool client acceleratorID)", "N" },
        { "pool", 'p', 0, G_OPTION_ARG_FILENAME, &pool_path,
          "The memory pool (its socket or pool.json)", "PATH" },
        { "link", 'l', 0, G_OPTION_ARG_FILENAME, &link_path,
          "Listen for RMC doorbell links here", "SOCKET" },
        { "control", 'c', 0, G_OPTION_ARG_FILENAME, &control_path,
          "JSON control socket (query)", "SOCKET" },
        { "engines", 'e', 0, G_OPTION_ARG_INT, &nengines,
          "Engines working at once (default 4)", "N" },
        { "rate", 'r', 0, G_OPTION_ARG_INT, &mib_per_s,
          "Each engine's speed in MiB/s (default 0: the host's)", "MIBS" },
        { NULL }
    };
    GMainLoop *loop;
    int lfd, cfd = -1;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || id < 0 ||
        !pool_path || !link_path || nengines < 1 || nengines > 64 ||
        mib_per_s < 0) {
        g_printerr("dredbox-acceld: %s\n", err ? err->message
                   : "--id, --pool and --link are required; --engines is"
                     " 1 to 64 and --rate not negative");
        return 2;
    }
    client = g_strdup_printf("accelerator%d", id);
    rate = (uint64_t)mib_per_s << 20;
    queues = g_ptr_array_new();
    inflight = g_hash_table_new(NULL, NULL);
    engines = g_thread_pool_new(engine_work, NULL, nengines, TRUE, &err);
    lfd = engines ? line_server_accept(link_path, link_accepted, NULL, &err)
                  : -1;
    if (lfd >= 0 && control_path) {
        cfd = line_server_start(control_path, control, &err);
    }
    if (lfd < 0 || (control_path && cfd < 0)) {
        g_printerr("dredbox-acceld: %s\n", err->message);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, quit, loop);
    g_unix_signal_add(SIGINT, quit, loop);
    printf("dredbox-acceld: %s, %d engines%s, link %s\n", client, nengines,
           rate ? " (rate-limited)" : "", link_path);
    fflush(stdout);
    g_main_loop_run(loop);
    line_server_stop(lfd, link_path);
    if (cfd >= 0) {
        line_server_stop(cfd, control_path);
    }
    return 0;
}
