/*
 * Client of the dReDBox memory-brick pool daemon (pool-client.h).  The
 * protocol is described in docs/memory-pool.md: one JSON object per line
 * each way; a reply granting a segment carries its fd (SCM_RIGHTS), which
 * QIOChannelSocket receives.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "io/channel-socket.h"
#include "qobject/qbool.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "dredbox/address-map.h"
#include "hw/dredbox/pool-client.h"

/* A local daemon answers at once; never let a wedged one hang QEMU. */
#define POOL_REPLY_TIMEOUT_SEC 10
#define POOL_MAX_REPLY 65536

struct PoolClient {
    QIOChannelSocket *sioc;     /* NULL: not connected (again) yet */
    char *socket;
    char *client;
    uint64_t granule;
    GArray *bricks;     /* uint32_t ids, in the pool's order */
    GHashTable *held;   /* the segments it holds (allocated or opened) */
};

/* Every session: several may share a pool and a client name (qemu-PID) */
static GSList *sessions;

/*
 * The "CLIENT SOCKET" pairs for which an alloc or free went unanswered:
 * the pool may have done it before it died (docs/memory-pool.md,
 * "Restart after a crash"), so the next connection of that client frees
 * what is leased to it that no session here holds.  Kept apart from the
 * sessions, as the one that asked may be gone by then.
 */
static GHashTable *doubts;

static char *pool_doubt_key(PoolClient *pc)
{
    return g_strdup_printf("%s %s", pc->client, pc->socket);
}

static void pool_doubt(PoolClient *pc)
{
    if (!doubts) {
        doubts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       NULL);
    }
    g_hash_table_add(doubts, pool_doubt_key(pc));
}

/* Whether a session of this QEMU on @pc's pool holds @segment */
static bool pool_segment_held(PoolClient *pc, uint32_t segment)
{
    for (GSList *l = sessions; l; l = l->next) {
        PoolClient *other = l->data;

        if (!g_strcmp0(other->socket, pc->socket) &&
            g_hash_table_contains(other->held, GUINT_TO_POINTER(segment))) {
            return true;
        }
    }
    return false;
}

static char *pool_socket_path(const char *pool, Error **errp)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    QDict *manifest;
    char *path;

    if (!g_str_has_suffix(pool, ".json")) {
        return g_strdup(pool);
    }
    if (!g_file_get_contents(pool, &text, NULL, &gerr)) {
        error_setg(errp, "cannot read pool manifest: %s", gerr->message);
        return NULL;
    }
    manifest = qobject_to(QDict, qobject_from_json(text, NULL));
    if (!manifest || !qdict_get_try_str(manifest, "socket")) {
        error_setg(errp, "%s is not a pool manifest (no \"socket\")", pool);
        qobject_unref(manifest);
        return NULL;
    }
    path = g_strdup(qdict_get_str(manifest, "socket"));
    qobject_unref(manifest);
    return path;
}

/* Member @key of @d: an unsigned number up to @max, else an error. */
static bool get_uint(QDict *d, const char *key, uint64_t max, uint64_t *out,
                     Error **errp)
{
    QNum *n = d ? qobject_to(QNum, qdict_get(d, key)) : NULL;

    if (!n || !qnum_get_try_uint(n, out) || *out > max) {
        error_setg(errp, "memory pool sent a malformed reply (\"%s\")", key);
        return false;
    }
    return true;
}

static void pool_disconnect(PoolClient *pc)
{
    if (pc->sioc) {
        qio_channel_close(QIO_CHANNEL(pc->sioc), NULL);
        object_unref(OBJECT(pc->sioc));
        pc->sioc = NULL;
    }
}

/* One reply line, with the first fd that came with it (others closed). */
static char *pool_recv(PoolClient *pc, int *fd, Error **errp)
{
    g_autoptr(GString) line = g_string_new(NULL);

    while (!line->len || line->str[line->len - 1] != '\n') {
        char buf[4096];
        struct iovec iov = { buf, sizeof(buf) };
        int *fds = NULL;
        size_t nfds = 0;
        ssize_t n;

        n = qio_channel_readv_full(QIO_CHANNEL(pc->sioc), &iov, 1,
                                   fd ? &fds : NULL, fd ? &nfds : NULL, 0,
                                   errp);
        for (size_t i = 0; i < nfds; i++) {
            if (*fd < 0) {
                *fd = fds[i];
            } else {
                close(fds[i]);
            }
        }
        g_free(fds);
        if (n == QIO_CHANNEL_ERR_BLOCK) {
            error_setg(errp, "memory pool at %s did not answer in %d s",
                       pc->socket, POOL_REPLY_TIMEOUT_SEC);
            return NULL;
        }
        if (n <= 0) {
            if (!n) {
                error_setg(errp, "memory pool at %s closed the connection",
                           pc->socket);
            }
            return NULL;
        }
        if (line->len + n > POOL_MAX_REPLY) {
            error_setg(errp, "memory pool at %s sent a reply longer than"
                       " %d bytes", pc->socket, POOL_MAX_REPLY);
            return NULL;
        }
        g_string_append_len(line, buf, n);
    }
    g_string_truncate(line, line->len - 1);
    return g_string_free(g_steal_pointer(&line), false);
}

/*
 * Send @req; return the reply if it says ok, else set @errp.  A broken
 * connection is dropped, so that the next call connects again; *@unsent
 * (if not NULL) says whether it broke before the pool could read @req.
 */
static QDict *pool_request(PoolClient *pc, QDict *req, int *fd,
                           bool *unsent, Error **errp)
{
    g_autoptr(GString) json = qobject_to_json(QOBJECT(req));
    g_autofree char *line = NULL;
    QBool *ok;
    QDict *reply;

    if (fd) {
        *fd = -1;
    }
    g_string_append_c(json, '\n');
    if (qio_channel_write_all(QIO_CHANNEL(pc->sioc), json->str, json->len,
                              errp) < 0) {
        error_prepend(errp, "memory pool at %s is gone: ", pc->socket);
        pool_disconnect(pc);
        if (unsent) {
            *unsent = true;
        }
        goto fail;
    }
    line = pool_recv(pc, fd, errp);
    if (!line) {
        pool_disconnect(pc);
        goto fail;
    }
    reply = qobject_to(QDict, qobject_from_json(line, NULL));
    if (!reply) {
        error_setg(errp, "memory pool sent a malformed reply");
        pool_disconnect(pc);
        goto fail;
    }
    ok = qobject_to(QBool, qdict_get(reply, "ok"));
    if (!ok || !qbool_get_bool(ok)) {
        const char *msg = qdict_get_try_str(reply, "error");

        error_setg(errp, "memory pool refused: %s", msg ? msg : "no reason");
        qobject_unref(reply);
        goto fail;
    }
    return reply;

fail:
    if (fd && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return NULL;
}

/*
 * Free the segments of @query (a query's reply) leased to this session's
 * client that no session here holds: what an unanswered alloc left, or a
 * free that did not reach the pool.
 */
static void pool_free_unheld(PoolClient *pc, QDict *query)
{
    QList *segs = qobject_to(QList, qdict_get(query, "segments"));
    g_autofree char *key = pool_doubt_key(pc);
    QListEntry *e;

    if (!doubts || !g_hash_table_contains(doubts, key) || !segs) {
        return;
    }
    QLIST_FOREACH_ENTRY(segs, e) {
        QDict *seg = qobject_to(QDict, qlist_entry_obj(e));
        const char *owner = seg ? qdict_get_try_str(seg, "owner") : NULL;
        Error *err = NULL;
        uint64_t id;
        QDict *req, *reply;

        if (!owner || strcmp(owner, pc->client) ||
            !get_uint(seg, "id", UINT32_MAX, &id, &err) ||
            pool_segment_held(pc, id)) {
            error_free(err);
            continue;
        }
        req = qdict_new();
        qdict_put_str(req, "cmd", "free");
        qdict_put_int(req, "segment", id);
        reply = pool_request(pc, req, NULL, NULL, &err);
        qobject_unref(req);
        if (!reply) {
            warn_report_err(err);
            if (!pc->sioc) {
                return;     /* in doubt still: the next connection sees */
            }
            continue;
        }
        qobject_unref(reply);
        warn_report("memory pool at %s: freed segment %" PRIu64 ", leased"
                    " to %s by a request it did not answer", pc->socket, id,
                    pc->client);
    }
    g_hash_table_remove(doubts, key);
}

/* Connect, say hello and learn the granule and the bricks. */
static bool pool_connect(PoolClient *pc, Error **errp)
{
    SocketAddress addr = {
        .type = SOCKET_ADDRESS_TYPE_UNIX,
        .u.q_unix.path = pc->socket,
    };
    struct timeval tv = { .tv_sec = POOL_REPLY_TIMEOUT_SEC };
    QDict *req, *reply;
    QList *bricks;
    QListEntry *e;

    pc->sioc = qio_channel_socket_new();
    if (qio_channel_socket_connect_sync(pc->sioc, &addr, errp) < 0) {
        error_prepend(errp, "cannot reach the memory pool: ");
        pool_disconnect(pc);
        return false;
    }
    setsockopt(pc->sioc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(pc->sioc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    req = qdict_new();
    qdict_put_str(req, "cmd", "hello");
    qdict_put_str(req, "client", pc->client);
    reply = pool_request(pc, req, NULL, NULL, errp);
    qobject_unref(req);
    if (!reply) {
        return false;
    }
    qobject_unref(reply);

    req = qdict_new();
    qdict_put_str(req, "cmd", "query");
    reply = pool_request(pc, req, NULL, NULL, errp);
    qobject_unref(req);
    if (!reply) {
        return false;
    }
    bricks = qobject_to(QList, qdict_get(reply, "bricks"));
    if (!get_uint(reply, "granule", INT64_MAX, &pc->granule, errp) ||
        !bricks) {
        if (!bricks) {
            error_setg(errp, "memory pool sent a malformed reply"
                       " (\"bricks\")");
        }
        qobject_unref(reply);
        pool_disconnect(pc);
        return false;
    }
    g_array_set_size(pc->bricks, 0);
    QLIST_FOREACH_ENTRY(bricks, e) {
        uint64_t id;
        uint32_t brick;

        if (!get_uint(qobject_to(QDict, qlist_entry_obj(e)), "id",
                      UINT32_MAX, &id, errp)) {
            qobject_unref(reply);
            pool_disconnect(pc);
            return false;
        }
        brick = id;
        g_array_append_val(pc->bricks, brick);
    }
    pool_free_unheld(pc, reply);
    qobject_unref(reply);
    if (!pc->sioc) {
        error_setg(errp, "memory pool at %s closed the connection",
                   pc->socket);
        return false;
    }
    return true;
}

/*
 * A request on the session, connecting again first if it broke.  A pool
 * restarted since the last call (docs/memory-pool.md, "Restart") shows as
 * a connection that cannot be written: it read nothing, so the request
 * goes once more on a new connection.
 */
static QDict *pool_call(PoolClient *pc, QDict *req, int *fd, Error **errp)
{
    bool unsent = false;
    QDict *reply;

    if (pc->sioc) {
        Error *err = NULL;

        reply = pool_request(pc, req, fd, &unsent, &err);
        if (reply || !unsent) {
            error_propagate(errp, err);
            return reply;
        }
        error_free(err);
    }
    if (!pool_connect(pc, errp)) {
        if (fd) {
            *fd = -1;
        }
        return NULL;
    }
    return pool_request(pc, req, fd, NULL, errp);
}

PoolClient *pool_client_connect(const char *pool, const char *client,
                                Error **errp)
{
    PoolClient *pc = g_new0(PoolClient, 1);

    pc->client = g_strdup(client);
    pc->bricks = g_array_new(false, false, sizeof(uint32_t));
    pc->held = g_hash_table_new(NULL, NULL);
    sessions = g_slist_prepend(sessions, pc);
    pc->socket = pool_socket_path(pool, errp);
    if (!pc->socket || !pool_connect(pc, errp)) {
        pool_client_close(pc);
        return NULL;
    }
    return pc;
}

void pool_client_close(PoolClient *pc)
{
    if (pc) {
        pool_disconnect(pc);
        g_free(pc->socket);
        g_free(pc->client);
        g_array_free(pc->bricks, true);
        g_hash_table_destroy(pc->held);
        sessions = g_slist_remove(sessions, pc);
        g_free(pc);
    }
}

uint64_t pool_client_granule(PoolClient *pc)
{
    return pc->granule;
}

const GArray *pool_client_bricks(PoolClient *pc)
{
    return pc->bricks;
}

QDict *pool_client_call(PoolClient *pc, QDict *req, int *fd, Error **errp)
{
    return pool_call(pc, req, fd, errp);
}

/* The reply's "poisoned" pages, each a 4 KiB page of the segment */
static bool segment_poisoned(QDict *reply, PoolSegmentInfo *info,
                             Error **errp)
{
    QList *list = qobject_to(QList, qdict_get(reply, "poisoned"));
    uint64_t last = 0;
    QListEntry *e;

    if (!list) {
        return true;        /* a pool from before poisoned pages */
    }
    QLIST_FOREACH_ENTRY(list, e) {
        QNum *n = qobject_to(QNum, qlist_entry_obj(e));
        uint64_t off;

        if (!n || !qnum_get_try_uint(n, &off) || off % DREDBOX_POISON_PAGE ||
            off >= info->size || (info->poisoned->len && off <= last)) {
            error_setg(errp, "memory pool sent a malformed list of poisoned"
                       " pages for segment %u", info->id);
            return false;
        }
        g_array_append_val(info->poisoned, off);
        last = off;
    }
    return true;
}

/* A segment granted: its fd and @info, and this session holds it */
static int segment_reply(PoolClient *pc, QDict *reply, int fd,
                         PoolSegmentInfo *info, Error **errp)
{
    QDict *seg = qobject_to(QDict, qdict_get(reply, "segment"));
    QBool *writable = qobject_to(QBool, qdict_get(reply, "writable"));
    uint64_t id, brick;

    if (fd < 0 || !seg) {
        error_setg(errp, "memory pool granted no segment");
        goto fail;
    }
    if (!get_uint(seg, "id", UINT32_MAX, &id, errp) ||
        !get_uint(seg, "brick", UINT32_MAX, &brick, errp) ||
        !get_uint(seg, "offset", INT64_MAX, &info->offset, errp) ||
        !get_uint(seg, "size", INT64_MAX, &info->size, errp)) {
        goto fail;
    }
    info->id = id;
    info->brick = brick;
    info->writable = writable && qbool_get_bool(writable);
    if (info->poisoned && !segment_poisoned(reply, info, errp)) {
        goto fail;
    }
    qobject_unref(reply);
    g_hash_table_add(pc->held, GUINT_TO_POINTER(info->id));
    return fd;

fail:
    qobject_unref(reply);
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

int pool_client_alloc(PoolClient *pc, uint64_t size, int64_t brick,
                      const char *mem_class, PoolSegmentInfo *info,
                      Error **errp)
{
    QDict *req = qdict_new();
    QDict *reply;
    int fd;

    qdict_put_str(req, "cmd", "alloc");
    qdict_put_int(req, "size", size);
    if (brick >= 0) {
        qdict_put_int(req, "brick", brick);
    }
    if (mem_class) {
        qdict_put_str(req, "class", mem_class);
    }
    reply = pool_call(pc, req, &fd, errp);
    qobject_unref(req);
    if (reply) {
        fd = segment_reply(pc, reply, fd, info, errp);
    }
    /*
     * Unanswered, or answered with what we cannot hold: maybe leased.
     * The next connection looks (a pool that answers wrongly is dropped).
     */
    if (reply ? fd < 0 : !pc->sioc) {
        pool_doubt(pc);
        pool_disconnect(pc);
    }
    return fd;
}

int pool_client_open(PoolClient *pc, uint32_t segment, PoolSegmentInfo *info,
                     Error **errp)
{
    QDict *req = qdict_new();
    QDict *reply;
    int fd;

    qdict_put_str(req, "cmd", "open");
    qdict_put_int(req, "segment", segment);
    reply = pool_call(pc, req, &fd, errp);
    qobject_unref(req);
    return reply ? segment_reply(pc, reply, fd, info, errp) : -1;
}

bool pool_client_free(PoolClient *pc, uint32_t segment, Error **errp)
{
    QDict *req = qdict_new();
    QDict *reply;

    qdict_put_str(req, "cmd", "free");
    qdict_put_int(req, "segment", segment);
    reply = pool_call(pc, req, NULL, errp);
    qobject_unref(req);
    qobject_unref(reply);
    g_hash_table_remove(pc->held, GUINT_TO_POINTER(segment));
    /* Unanswered: maybe still leased, freed on the next connection */
    if (!reply && !pc->sioc) {
        pool_doubt(pc);
    }
    return reply != NULL;
}
