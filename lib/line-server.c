/*
 * JSON-lines control socket server (line-server.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE   /* accept4 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "rack-json.h"
#include "line-server.h"
#include "wire.h"
#include "rack-error.h"

struct LineConn {
    int fd;
    GString *in;            /* a partial line */
    LineConnHandler on_line;
    gpointer data;
    GDestroyNotify closed;
};

static void line_conn_close(LineConn *c)
{
    if (c->closed) {
        c->closed(c->data);
    }
    close(c->fd);
    g_string_free(c->in, TRUE);
    g_free(c);
}

static gboolean line_conn_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    LineConn *c = opaque;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    char *nl;

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        line_conn_close(c);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(c->in, buf, n);
    while ((nl = memchr(c->in->str, '\n', c->in->len))) {
        g_autofree char *line = g_strndup(c->in->str, nl - c->in->str);

        g_string_erase(c->in, 0, nl - c->in->str + 1);
        if (!c->on_line(c, line, c->data)) {
            line_conn_close(c);
            return G_SOURCE_REMOVE;
        }
    }
    if (c->in->len > RACK_MAX_LINE) {
        rack_wire_send(fd, "{\"ok\":false,\"code\":\"invalid\","
                       "\"error\":\"request line too long\"}", -1);
        line_conn_close(c);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void line_conn_start(int fd, LineConnHandler on_line, gpointer data,
                     GDestroyNotify closed)
{
    LineConn *c = g_new0(LineConn, 1);
    struct timeval tv = { .tv_sec = RACK_SEND_TIMEOUT_S };

    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->fd = fd;
    c->in = g_string_new(NULL);
    c->on_line = on_line;
    c->data = data;
    c->closed = closed;
    g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, line_conn_readable, c);
}

int line_conn_fd(LineConn *c)
{
    return c->fd;
}

/* A request line for a LineHandler: parsed, handled, answered. */
static bool serve_line(LineConn *c, char *line, gpointer data)
{
    LineHandler handle = data;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *reply = NULL;
    g_autoptr(GError) err = NULL;
    JsonObject *req = rack_json_parse_object(parser, g_strstrip(line));

    if (!req) {
        g_set_error(&err, RACK_ERROR, RACK_ERROR_INVALID,
                    "malformed JSON request");
    } else {
        const char *cmd;

        if (rack_json_get_str(req, "cmd", &cmd, &err)) {
            reply = handle(req, cmd, &err);
        }
    }
    if (!reply) {
        reply = rack_json_error_reply(err);
    }
    return rack_wire_send(line_conn_fd(c), reply, -1);
}

static void client_new(int fd, gpointer handle)
{
    line_conn_start(fd, serve_line, handle, NULL);
}

typedef struct Acceptor {
    ServerAccepted accepted;
    gpointer data;
} Acceptor;

static gboolean acceptor_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    Acceptor *a = opaque;
    int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (s >= 0) {
        a->accepted(s, a->data);
    }
    return G_SOURCE_CONTINUE;
}

/* Whether a process listens on the socket at @sa. */
static bool in_use(const struct sockaddr_un *sa)
{
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool used = probe >= 0 &&
                connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0;

    if (probe >= 0) {
        close(probe);
    }
    return used;
}

/*
 * A listening socket at @path, replacing a stale one (its daemon died),
 * never a live one: two daemons on one run directory would each think
 * the state there theirs.  -1 and @errp.
 */
static int listen_at(const char *path, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (in_use(&sa)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS,
                    "another process already listens on %s", path);
        return -1;
    }
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(path, 0600) < 0 || listen(s, 64) < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "cannot listen on %s: %s", path, g_strerror(errno));
        if (s >= 0) {
            close(s);
        }
        return -1;
    }
    return s;
}

int line_server_accept(const char *path, ServerAccepted accepted,
                       gpointer data, GError **errp)
{
    int s = listen_at(path, errp);
    Acceptor *a;

    if (s >= 0) {
        a = g_new(Acceptor, 1);
        a->accepted = accepted;
        a->data = data;
        g_unix_fd_add_full(G_PRIORITY_DEFAULT, s, G_IO_IN, acceptor_readable,
                           a, g_free);
    }
    return s;
}

int line_server_start(const char *path, LineHandler handle, GError **errp)
{
    return line_server_accept(path, client_new, handle, errp);
}

void line_server_stop(int fd, const char *path)
{
    close(fd);
    unlink(path);
}
