/*
 * A minimal blocking QMP client (qmp-client.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "line-client.h"
#include "qmp-client.h"
#include "rack-error.h"
#include "rack-json.h"

/* QEMU's main loop answers QMP, not the guest: 10 s tells a hang. */
#define QMP_TIMEOUT_MS 10000

/* Read lines until a reply (skipping the greeting and events). */
static JsonObject *qmp_reply(RackClient *c, JsonParser *parser,
                             GError **errp)
{
    for (;;) {
        g_autofree char *line = rack_client_recv(c, NULL, errp);
        JsonObject *o;

        if (!line) {
            return NULL;
        }
        o = rack_json_parse_object(parser, line);
        if (o && (json_object_has_member(o, "return") ||
                  json_object_has_member(o, "error"))) {
            return o;
        }
    }
}

JsonNode *qmp_call(const char *path, const char *command, GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(RackClient) c = rack_client_open("QMP", path, QMP_TIMEOUT_MS,
                                               errp);
    JsonObject *reply;
    const char *cls = "", *desc = "QMP error";
    JsonObject *e;

    if (!c ||
        !rack_client_send(c, "{\"execute\":\"qmp_capabilities\"}", -1,
                          errp) ||
        !qmp_reply(c, parser, errp) ||
        !rack_client_send(c, command, -1, errp) ||
        !(reply = qmp_reply(c, parser, errp))) {
        return NULL;
    }
    if (!json_object_has_member(reply, "error")) {
        return json_node_copy(json_object_get_member(reply, "return"));
    }
    if (rack_json_get_object(reply, "error", &e, NULL)) {
        rack_json_opt_str(e, "class", &cls, NULL);
        rack_json_opt_str(e, "desc", &desc, NULL);
    }
    /* QMP's DeviceNotFound class: the object asked for is not there. */
    g_set_error(errp, RACK_ERROR, !strcmp(cls, "DeviceNotFound")
                ? RACK_ERROR_NOT_FOUND : RACK_ERROR_DENIED, "%s", desc);
    return NULL;
}

bool qmp_run(const char *path, const char *command, GError **errp)
{
    JsonNode *ret = qmp_call(path, command, errp);

    if (ret) {
        json_node_unref(ret);
    }
    return ret != NULL;
}
