/*
 * A minimal blocking QMP client (qmp-client.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "qmp-client.h"
#include "rack-json.h"
#include "wire.h"
#include "rack-error.h"

#define QMP_TIMEOUT_SEC 10

/* Read lines until a reply (skipping the greeting and events). */
static JsonObject *qmp_reply(int s, JsonParser *parser, GError **errp)
{
    for (;;) {
        g_autofree char *line = rack_wire_recv(s, 1 << 20, NULL);
        JsonObject *o;

        if (!line) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_CLOSED,
                        "QMP connection closed");
            return NULL;
        }
        if (!json_parser_load_from_data(parser, line, -1, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
            continue;
        }
        o = json_node_get_object(json_parser_get_root(parser));
        if (json_object_has_member(o, "return") ||
            json_object_has_member(o, "error")) {
            return o;
        }
    }
}

JsonNode *qmp_call(const char *path, const char *command, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = QMP_TIMEOUT_SEC };
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *reply;
    JsonNode *ret = NULL;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_UNREACHABLE,
                    "cannot reach QMP at %s: %s", path, g_strerror(errno));
        goto out;
    }
    if (!rack_wire_send(s, "{\"execute\":\"qmp_capabilities\"}", -1) ||
        !qmp_reply(s, parser, errp) ||
        !rack_wire_send(s, command, -1) ||
        !(reply = qmp_reply(s, parser, errp))) {
        if (errp && !*errp) {
            g_set_error(errp, RACK_ERROR, errno == EAGAIN
                        ? RACK_ERROR_TIMEOUT : RACK_ERROR_CLOSED,
                        "QMP at %s: %s", path, g_strerror(errno));
        }
        goto out;
    }
    if (json_object_has_member(reply, "error")) {
        const char *cls = "", *desc = "QMP error";
        JsonObject *e;

        if (rack_json_get_object(reply, "error", &e, NULL)) {
            rack_json_opt_str(e, "class", &cls, NULL);
            rack_json_opt_str(e, "desc", &desc, NULL);
        }
        /* QMP's DeviceNotFound class: the object asked for is not there. */
        g_set_error(errp, RACK_ERROR, !strcmp(cls, "DeviceNotFound")
                    ? RACK_ERROR_NOT_FOUND : RACK_ERROR_DENIED, "%s", desc);
        goto out;
    }
    ret = json_node_copy(json_object_get_member(reply, "return"));
out:
    close(s);
    return ret;
}

bool qmp_run(const char *path, const char *command, GError **errp)
{
    JsonNode *ret = qmp_call(path, command, errp);

    if (ret) {
        json_node_unref(ret);
    }
    return ret != NULL;
}
