/*
 * The rack's line client (line-client.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "line-client.h"
#include "rack-error.h"
#include "rack-json.h"
#include "wire.h"

struct RackClient {
    int fd;
    char *peer;         /* "the memory pool at PATH", for errors */
    unsigned timeout_ms;
};

RackClient *rack_client_open(const char *peer, const char *path,
                             unsigned timeout_ms, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    RackClient *c;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "cannot reach %s: socket path too long: %s", peer, path);
        return NULL;
    }
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    c = g_new0(RackClient, 1);
    c->peer = g_strdup_printf("%s at %s", peer, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_UNREACHABLE,
                    "cannot reach %s: %s", c->peer, g_strerror(errno));
        rack_client_close(c);
        return NULL;
    }
    rack_client_set_timeout(c, timeout_ms);
    return c;
}

void rack_client_close(RackClient *c)
{
    if (c) {
        if (c->fd >= 0) {
            close(c->fd);
        }
        g_free(c->peer);
        g_free(c);
    }
}

void rack_client_set_timeout(RackClient *c, unsigned timeout_ms)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000,
                          .tv_usec = timeout_ms % 1000 * 1000 };

    c->timeout_ms = timeout_ms;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* @what failed on @c with errno: the transport code that says why. */
static void transport_error(RackClient *c, const char *what, GError **errp)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_TIMEOUT,
                    "%s did not answer within %u ms", c->peer,
                    c->timeout_ms);
    } else if (errno == EMSGSIZE) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_PROTOCOL,
                    "%s sent a line longer than %d bytes", c->peer,
                    RACK_CLIENT_MAX_LINE);
    } else {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_CLOSED,
                    "%s is gone (%s: %s)", c->peer, what,
                    errno == ECONNRESET ? "connection closed"
                                        : g_strerror(errno));
    }
}

bool rack_client_send(RackClient *c, const char *line, int fd,
                      GError **errp)
{
    if (!rack_wire_send(c->fd, line, fd)) {
        transport_error(c, "send", errp);
        return false;
    }
    return true;
}

char *rack_client_recv(RackClient *c, int *fd, GError **errp)
{
    char *line = rack_wire_recv(c->fd, RACK_CLIENT_MAX_LINE, fd);

    if (!line) {
        transport_error(c, "receive", errp);
    }
    return line;
}

JsonObject *rack_client_request(RackClient *c, const char *request, int *fd,
                                GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *line = NULL;
    const char *why = "refused", *code = NULL;
    JsonObject *reply;
    bool ok = false;

    if (fd) {
        *fd = -1;
    }
    if (!rack_client_send(c, request, -1, errp) ||
        !(line = rack_client_recv(c, fd, errp))) {
        return NULL;
    }
    reply = rack_json_parse_object(parser, line);
    if (!reply) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_PROTOCOL,
                    "malformed reply from %s: %s", c->peer, line);
        goto fail;
    }
    if (!rack_json_opt_bool(reply, "ok", &ok, NULL) ||
        !rack_json_opt_str(reply, "error", &why, NULL) ||
        !rack_json_opt_str(reply, "code", &code, NULL) || !ok) {
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

JsonObject *rack_client_call(const char *peer, const char *path,
                             const char *request, int *fd,
                             unsigned timeout_ms, GError **errp)
{
    g_autoptr(RackClient) c = rack_client_open(peer, path, timeout_ms, errp);

    if (fd) {
        *fd = -1;
    }
    return c ? rack_client_request(c, request, fd, errp) : NULL;
}
