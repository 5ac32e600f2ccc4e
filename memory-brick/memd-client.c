/*
 * Client side of the pool daemon's protocol (docs/memory-pool.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "line-client.h"
#include "memd-client.h"
#include "rack-error.h"
#include "rack-json.h"

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
    if (!root || !JSON_NODE_HOLDS_OBJECT(root) ||
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
    JsonBuilder *b;
    RackClient *c;
    JsonObject *reply;

    if (!path ||
        !(c = rack_client_open("the memory pool", path, MEMD_TIMEOUT_MS,
                               errp))) {
        return NULL;
    }
    b = rack_json_request("hello");
    rack_json_member_str(b, "client", client);
    rack_json_member_str(b, "role", admin ? "admin" : "client");
    hello = rack_json_end(b);
    reply = rack_client_request(c, hello, NULL, errp);
    if (!reply) {
        rack_client_close(c);
        return NULL;
    }
    json_object_unref(reply);
    return c;
}

void memd_close(MemdConn *c)
{
    rack_client_close(c);
}

JsonObject *memd_call(MemdConn *c, const char *request, int *fd,
                      GError **errp)
{
    return rack_client_request(c, request, fd, errp);
}
