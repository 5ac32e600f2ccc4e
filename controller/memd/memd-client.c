/*
 * Client side of the pool daemon's protocol (docs/memory-pool.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rack-json.h"
#include "memd-client.h"
#include "wire.h"
#include "pool.h"
#include "protocol.h"

struct MemdConn {
    int fd;
};

/* The socket named by a manifest, or @pool itself. */
static char *socket_path(const char *pool, GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    const char *sock;

    if (!g_str_has_suffix(pool, ".json")) {
        return g_strdup(pool);
    }
    if (!json_parser_load_from_file(parser, pool, errp)) {
        g_prefix_error(errp, "cannot read pool manifest %s: ", pool);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!JSON_NODE_HOLDS_OBJECT(root) ||
        !rack_json_get_str(json_node_get_object(root), "socket", &sock, NULL)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "%s is not a pool manifest (no \"socket\" string)",
                    pool);
        return NULL;
    }
    return g_strdup(sock);
}

MemdConn *memd_connect(const char *pool, const char *client, gboolean admin,
                       GError **errp)
{
    g_autofree char *path = socket_path(pool, errp);
    g_autofree char *hello = NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    MemdConn *c;
    JsonObject *reply;

    if (!path) {
        return NULL;
    }
    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "pool socket path too long: %s", path);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    c = g_new0(MemdConn, 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_UNREACHABLE,
                    "cannot reach the memory pool at %s: %s", path,
                    g_strerror(errno));
        memd_close(c);
        return NULL;
    }
    hello = g_strdup_printf("{\"cmd\":\"hello\",\"client\":\"%s\","
                            "\"role\":\"%s\"}", client,
                            admin ? "admin" : "client");
    reply = memd_call(c, hello, NULL, errp);
    if (!reply) {
        memd_close(c);
        return NULL;
    }
    json_object_unref(reply);
    return c;
}

void memd_close(MemdConn *c)
{
    if (c) {
        if (c->fd >= 0) {
            close(c->fd);
        }
        g_free(c);
    }
}

JsonObject *memd_call(MemdConn *c, const char *request, int *fd,
                      GError **errp)
{
    g_autofree char *text = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    JsonObject *reply;
    const char *why = "the memory pool refused";
    const char *code = NULL;
    bool ok = false;

    if (fd) {
        *fd = -1;
    }
    if (!rack_wire_send(c->fd, request, -1)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_CLOSED,
                    "the memory pool is gone: %s", g_strerror(errno));
        return NULL;
    }
    text = rack_wire_recv(c->fd, MEMD_MAX_LINE, fd);
    if (!text) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_CLOSED,
                    "the memory pool closed the connection");
        return NULL;
    }
    root = json_parser_load_from_data(parser, text, -1, NULL)
           ? json_parser_get_root(parser) : NULL;
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_PROTOCOL,
                    "malformed reply from the memory pool: %s", text);
        goto fail;
    }
    reply = json_node_get_object(root);
    if (!rack_json_opt_bool(reply, "ok", &ok, NULL) ||
        !rack_json_opt_str(reply, "error", &why, NULL) ||
        !rack_json_opt_str(reply, "code", &code, NULL) || !ok) {
        /* The pool's refusal, by its code */
        g_set_error(errp, RACK_ERROR, rack_error_from_code(code), "%s", why);
        goto fail;
    }
    return json_object_ref(reply);

fail:
    if (fd && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return NULL;
}
