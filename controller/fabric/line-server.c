/*
 * JSON-lines control socket server (line-server.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE   /* accept4 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "line-server.h"
#include "memd-wire.h"
#include "pool.h"

static gboolean client_io(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    LineHandler handle = data;
    g_autofree char *line = NULL;
    g_autofree char *reply = NULL;
    gsize len;

    if (g_io_channel_read_line(ch, &line, &len, NULL, NULL) !=
        G_IO_STATUS_NORMAL || len > 65536) {
        g_io_channel_shutdown(ch, FALSE, NULL);
        g_io_channel_unref(ch);
        return G_SOURCE_REMOVE;
    }
    reply = handle(g_strstrip(line));
    if (!memd_wire_send(g_io_channel_unix_get_fd(ch), reply, -1)) {
        g_io_channel_shutdown(ch, FALSE, NULL);
        g_io_channel_unref(ch);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean accept_client(gint fd, GIOCondition cond, gpointer data)
{
    int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    GIOChannel *ch;

    if (s >= 0) {
        ch = g_io_channel_unix_new(s);
        g_io_channel_set_close_on_unref(ch, TRUE);
        g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, client_io, data);
    }
    return G_SOURCE_CONTINUE;
}

int line_server_start(const char *path, LineHandler handle, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_INVALID,
                    "socket path too long: %s", path);
        close(s);
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 16)) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_STORE, "%s: %s", path,
                    g_strerror(errno));
        close(s);
        return -1;
    }
    g_unix_fd_add(s, G_IO_IN, accept_client, handle);
    return s;
}

void line_server_stop(int fd, const char *path)
{
    close(fd);
    unlink(path);
}
