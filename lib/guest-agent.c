/*
 * A client of the QEMU guest agent (guest-agent.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "guest-agent.h"
#include "line-client.h"
#include "rack-error.h"
#include "rack-json.h"

/* Bytes per guest-file-write/read: the agent caps a read at 48 MiB. */
#define GA_CHUNK (1 << 20)
/* How often guest-exec-status asks whether the command ended. */
#define GA_POLL_MS 20

struct GuestAgent {
    RackClient *client;
    JsonParser *parser;
};

void guest_agent_close(GuestAgent *ga)
{
    if (ga) {
        rack_client_close(ga->client);
        g_object_unref(ga->parser);
        g_free(ga);
    }
}

/*
 * The next reply ("return" or "error"): guest-sync-delimited puts a 0xFF
 * byte before its own, which is skipped.
 */
static JsonObject *reply(GuestAgent *ga, GError **errp)
{
    for (;;) {
        g_autofree char *line = rack_client_recv(ga->client, NULL, errp);
        const char *text = line;
        JsonObject *o;

        if (!line) {
            return NULL;
        }
        while (*text == '\xff') {
            text++;
        }
        o = rack_json_parse_object(ga->parser, text);
        if (o && (json_object_has_member(o, "return") ||
                  json_object_has_member(o, "error"))) {
            return o;
        }
    }
}

GuestAgent *guest_agent_open(const char *path, unsigned timeout_ms,
                             GError **errp)
{
    g_autoptr(GuestAgent) ga = g_new0(GuestAgent, 1);
    guint32 id = g_random_int_range(1, G_MAXINT32);
    g_autofree char *sync = g_strdup_printf(
        "\xff{\"execute\":\"guest-sync-delimited\","
        "\"arguments\":{\"id\":%u}}", id);

    ga->parser = json_parser_new();
    ga->client = rack_client_open("the guest agent", path, timeout_ms,
                                  errp);
    /* 0xFF first: it resets the agent's parser after a torn request. */
    if (!ga->client || !rack_client_send(ga->client, sync, -1, errp)) {
        return NULL;
    }
    /* Replies to an earlier client's requests may come first. */
    for (;;) {
        JsonObject *o = reply(ga, errp);
        JsonNode *r;

        if (!o) {
            return NULL;
        }
        r = json_object_get_member(o, "return");
        if (r && JSON_NODE_HOLDS_VALUE(r) &&
            json_node_get_value_type(r) == G_TYPE_INT64 &&
            json_node_get_int(r) == id) {
            return g_steal_pointer(&ga);
        }
    }
}

JsonNode *guest_agent_call(GuestAgent *ga, const char *command,
                           GError **errp)
{
    JsonObject *o, *e;
    const char *desc = "the guest agent refused";

    if (!rack_client_send(ga->client, command, -1, errp) ||
        !(o = reply(ga, errp))) {
        return NULL;
    }
    if (!json_object_has_member(o, "error")) {
        return json_node_copy(json_object_get_member(o, "return"));
    }
    if (rack_json_get_object(o, "error", &e, NULL)) {
        rack_json_opt_str(e, "desc", &desc, NULL);
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED, "%s", desc);
    return NULL;
}

/* The call's "return", which must be an object. */
static JsonObject *call_object(GuestAgent *ga, const char *command,
                               JsonNode **keep, GError **errp)
{
    *keep = guest_agent_call(ga, command, errp);
    if (!*keep) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(*keep)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_PROTOCOL, "the guest"
                    " agent's reply to %s is not an object", command);
        return NULL;
    }
    return json_node_get_object(*keep);
}

/* Append member @name of @o, base64, to @to, if it is there. */
static bool opt_base64(JsonObject *o, const char *name, GByteArray *to,
                       GError **errp)
{
    const char *b64 = NULL;
    g_autofree guchar *bytes = NULL;
    gsize n;

    if (!rack_json_opt_str(o, name, &b64, errp)) {
        return false;
    }
    if (b64) {
        bytes = g_base64_decode(b64, &n);
        g_byte_array_append(to, bytes, n);
    }
    return true;
}

bool guest_agent_exec(GuestAgent *ga, char **argv, GBytes *input,
                      unsigned deadline_ms, GByteArray *out,
                      GByteArray *err, int *status, GError **errp)
{
    JsonBuilder *b = rack_json_qmp("guest-exec");
    g_autofree char *cmd = NULL;
    g_autoptr(JsonNode) started = NULL;
    gint64 end = g_get_monotonic_time() + deadline_ms * (gint64)1000;
    JsonObject *o;
    uint64_t pid;

    rack_json_member_str(b, "path", argv[0]);
    json_builder_set_member_name(b, "arg");
    json_builder_begin_array(b);
    for (int i = 1; argv[i]; i++) {
        json_builder_add_string_value(b, argv[i]);
    }
    json_builder_end_array(b);
    if (input) {
        g_autofree char *b64 = g_base64_encode(
            g_bytes_get_data(input, NULL), g_bytes_get_size(input));

        rack_json_member_str(b, "input-data", b64);
    }
    rack_json_member_bool(b, "capture-output", true);
    cmd = rack_json_qmp_end(b);
    if (!(o = call_object(ga, cmd, &started, errp)) ||
        !rack_json_get_uint(o, "pid", G_MAXINT32, &pid, errp)) {
        return false;
    }
    for (;;) {
        g_autofree char *ask = g_strdup_printf(
            "{\"execute\":\"guest-exec-status\",\"arguments\":"
            "{\"pid\":%" G_GUINT64_FORMAT "}}", pid);
        g_autoptr(JsonNode) keep = NULL;
        bool exited = false, truncated = false;
        uint64_t code = 0, sig = 0;

        if (!(o = call_object(ga, ask, &keep, errp)) ||
            !rack_json_get_bool(o, "exited", &exited, errp)) {
            return false;
        }
        if (exited) {
            if (!rack_json_opt_uint(o, "exitcode", 255, &code, errp) ||
                !rack_json_opt_uint(o, "signal", 127, &sig, errp) ||
                !opt_base64(o, "out-data", out, errp) ||
                !opt_base64(o, "err-data", err, errp) ||
                !rack_json_opt_bool(o, "out-truncated", &truncated, errp)) {
                return false;
            }
            *status = sig ? 128 + (int)sig : (int)code;
            if (truncated) {
                g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "the guest"
                            " agent cut the command's output short");
                return false;
            }
            return true;
        }
        if (deadline_ms && g_get_monotonic_time() > end) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_TIMEOUT, "%s (pid %"
                        G_GUINT64_FORMAT ") did not end in %u ms; it still"
                        " runs in the guest", argv[0], pid, deadline_ms);
            return false;
        }
        g_usleep(GA_POLL_MS * 1000);
    }
}

/* guest-file-open @path in @mode: the handle */
static bool file_open(GuestAgent *ga, const char *path, const char *mode,
                      uint64_t *handle, GError **errp)
{
    JsonBuilder *b = rack_json_qmp("guest-file-open");
    g_autofree char *cmd = NULL;
    g_autoptr(JsonNode) r = NULL;

    rack_json_member_str(b, "path", path);
    rack_json_member_str(b, "mode", mode);
    cmd = rack_json_qmp_end(b);
    r = guest_agent_call(ga, cmd, errp);
    if (!r) {
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(r) ||
        json_node_get_value_type(r) != G_TYPE_INT64 ||
        json_node_get_int(r) < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_PROTOCOL, "the guest"
                    " agent's handle for %s is not a number", path);
        return false;
    }
    *handle = json_node_get_int(r);
    return true;
}

static bool file_close(GuestAgent *ga, uint64_t handle, GError **errp)
{
    g_autofree char *cmd = g_strdup_printf(
        "{\"execute\":\"guest-file-close\",\"arguments\":{\"handle\":%"
        G_GUINT64_FORMAT "}}", handle);
    g_autoptr(JsonNode) r = guest_agent_call(ga, cmd, errp);

    return r != NULL;
}

bool guest_agent_put(GuestAgent *ga, GBytes *data, const char *path,
                     unsigned mode, GError **errp)
{
    const guint8 *p = g_bytes_get_data(data, NULL);
    gsize size = g_bytes_get_size(data);
    g_autofree char *perm = g_strdup_printf("%o", mode & 07777);
    char *chmod[] = { (char *)"chmod", perm, (char *)path, NULL };
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) err = g_byte_array_new();
    uint64_t handle;
    int status;

    if (!file_open(ga, path, "w", &handle, errp)) {
        return false;
    }
    for (gsize off = 0; off < size; off += GA_CHUNK) {
        g_autofree char *b64 = g_base64_encode(p + off,
                                               MIN(GA_CHUNK, size - off));
        g_autofree char *cmd = g_strdup_printf(
            "{\"execute\":\"guest-file-write\",\"arguments\":{\"handle\":%"
            G_GUINT64_FORMAT ",\"buf-b64\":\"%s\"}}", handle, b64);
        g_autoptr(JsonNode) keep = NULL;
        JsonObject *o = call_object(ga, cmd, &keep, errp);
        uint64_t count;

        if (!o || !rack_json_get_uint(o, "count", GA_CHUNK, &count, errp)) {
            file_close(ga, handle, NULL);
            return false;
        }
        if (count != MIN(GA_CHUNK, size - off)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "the guest wrote"
                        " %" G_GUINT64_FORMAT " of %zu bytes to %s (its disk"
                        " full?)", count, (size_t)MIN(GA_CHUNK, size - off),
                        path);
            file_close(ga, handle, NULL);
            return false;
        }
    }
    if (!file_close(ga, handle, errp) ||
        !guest_agent_exec(ga, chmod, NULL, 0, out, err, &status, errp)) {
        return false;
    }
    if (status) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "chmod %s %s in the"
                    " guest: %.*s", perm, path, (int)err->len,
                    (char *)err->data);
        return false;
    }
    return true;
}

GBytes *guest_agent_get(GuestAgent *ga, const char *path, GError **errp)
{
    g_autoptr(GByteArray) data = g_byte_array_new();
    uint64_t handle;
    bool eof = false;

    if (!file_open(ga, path, "r", &handle, errp)) {
        return NULL;
    }
    while (!eof) {
        g_autofree char *cmd = g_strdup_printf(
            "{\"execute\":\"guest-file-read\",\"arguments\":{\"handle\":%"
            G_GUINT64_FORMAT ",\"count\":%d}}", handle, GA_CHUNK);
        g_autoptr(JsonNode) keep = NULL;
        JsonObject *o = call_object(ga, cmd, &keep, errp);

        if (!o || !rack_json_get_bool(o, "eof", &eof, errp) ||
            !opt_base64(o, "buf-b64", data, errp)) {
            file_close(ga, handle, NULL);
            return NULL;
        }
    }
    if (!file_close(ga, handle, errp)) {
        return NULL;
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&data));
}
