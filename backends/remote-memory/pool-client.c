/*
 * Client of the dReDBox memory-brick pool daemon.  The protocol is
 * described in docs/memory-pool.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/sockets.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "hw/dredbox/pool-client.h"
/* Shared with the rack tools; overlaid from our memory-brick/. */
#include "../../lib/wire.h"

/* A local daemon answers at once; never let a wedged one hang QEMU. */
#define POOL_REPLY_TIMEOUT_SEC 10
#define POOL_MAX_REPLY 65536

struct PoolClient {
    int fd;
    char *socket;
    uint64_t granule;
    GArray *bricks;     /* uint32_t ids, in the pool's order */
};

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

/* Send @req; return the reply if it says ok, else set @errp. */
static QDict *pool_call(PoolClient *pc, QDict *req, int *fd, Error **errp)
{
    g_autoptr(GString) json = qobject_to_json(QOBJECT(req));
    g_autofree char *line = NULL;
    QObject *obj;
    QDict *reply;

    if (fd) {
        *fd = -1;
    }
    if (!rack_wire_send(pc->fd, json->str, -1)) {
        error_setg_errno(errp, errno, "memory pool at %s is gone",
                         pc->socket);
        return NULL;
    }
    line = rack_wire_recv(pc->fd, POOL_MAX_REPLY, fd);
    if (!line) {
        error_setg(errp, "memory pool at %s did not answer", pc->socket);
        return NULL;
    }

    obj = qobject_from_json(line, NULL);
    reply = qobject_to(QDict, obj);
    if (!reply) {
        qobject_unref(obj);
        error_setg(errp, "memory pool sent a malformed reply");
        goto fail;
    }
    if (!qdict_get_try_bool(reply, "ok", false)) {
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

PoolClient *pool_client_connect(const char *pool, const char *client,
                                Error **errp)
{
    PoolClient *pc = g_new0(PoolClient, 1);
    struct timeval tv = { .tv_sec = POOL_REPLY_TIMEOUT_SEC };
    QDict *req, *reply;

    pc->fd = -1;
    pc->socket = pool_socket_path(pool, errp);
    if (!pc->socket) {
        goto fail;
    }
    pc->fd = unix_connect(pc->socket, errp);
    if (pc->fd < 0) {
        error_prepend(errp, "cannot reach the memory pool: ");
        goto fail;
    }
    setsockopt(pc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    req = qdict_new();
    qdict_put_str(req, "cmd", "hello");
    qdict_put_str(req, "client", client);
    reply = pool_call(pc, req, NULL, errp);
    qobject_unref(req);
    if (!reply) {
        goto fail;
    }
    qobject_unref(reply);

    req = qdict_new();
    qdict_put_str(req, "cmd", "query");
    reply = pool_call(pc, req, NULL, errp);
    qobject_unref(req);
    if (!reply) {
        goto fail;
    }
    pc->granule = qdict_get_try_int(reply, "granule", 0);
    pc->bricks = g_array_new(false, false, sizeof(uint32_t));
    if (qdict_get_qlist(reply, "bricks")) {
        QListEntry *e;

        QLIST_FOREACH_ENTRY(qdict_get_qlist(reply, "bricks"), e) {
            QDict *b = qobject_to(QDict, qlist_entry_obj(e));
            uint32_t id = b ? qdict_get_try_int(b, "id", 0) : 0;

            g_array_append_val(pc->bricks, id);
        }
    }
    qobject_unref(reply);
    return pc;

fail:
    pool_client_close(pc);
    return NULL;
}

void pool_client_close(PoolClient *pc)
{
    if (pc) {
        if (pc->fd >= 0) {
            close(pc->fd);
        }
        g_free(pc->socket);
        if (pc->bricks) {
            g_array_free(pc->bricks, true);
        }
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

static int segment_reply(QDict *reply, int fd, PoolSegmentInfo *info,
                         Error **errp)
{
    QDict *seg = qdict_get_qdict(reply, "segment");

    if (!seg || fd < 0) {
        error_setg(errp, "memory pool granted no segment");
        qobject_unref(reply);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    info->id = qdict_get_int(seg, "id");
    info->brick = qdict_get_int(seg, "brick");
    info->offset = qdict_get_int(seg, "offset");
    info->size = qdict_get_int(seg, "size");
    info->writable = qdict_get_try_bool(reply, "writable", false);
    qobject_unref(reply);
    return fd;
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
    return reply ? segment_reply(reply, fd, info, errp) : -1;
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
    return reply ? segment_reply(reply, fd, info, errp) : -1;
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
    return reply != NULL;
}
