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

static gboolean client_io(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    LineHandler handle = data;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *line = NULL;
    g_autofree char *reply = NULL;
    g_autoptr(GError) err = NULL;
    JsonObject *req;
    gsize len;

    if (g_io_channel_read_line(ch, &line, &len, NULL, NULL) !=
        G_IO_STATUS_NORMAL || len > 65536) {
        g_io_channel_shutdown(ch, FALSE, NULL);
        g_io_channel_unref(ch);
        return G_SOURCE_REMOVE;
    }
    req = rack_json_parse_object(parser, g_strstrip(line));
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
    if (!rack_wire_send(g_io_channel_unix_get_fd(ch), reply, -1)) {
        g_io_channel_shutdown(ch, FALSE, NULL);
        g_io_channel_unref(ch);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void client_new(int fd, gpointer handle)
{
    GIOChannel *ch = g_io_channel_unix_new(fd);

    g_io_channel_set_close_on_unref(ch, TRUE);
    /* Bytes, not UTF-8, ending at "\n" only: one reply for every line,
     * whatever it holds. */
    g_io_channel_set_encoding(ch, NULL, NULL);
    g_io_channel_set_line_term(ch, "\n", 1);
    g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, client_io, handle);
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
