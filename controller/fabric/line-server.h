/*
 * A UNIX-socket server for the rack daemons' JSON-lines control
 * interfaces: each request line is handed to a handler on the GLib main
 * loop, its reply goes back as one line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_LINE_SERVER_H
#define DREDBOX_LINE_SERVER_H

#include <glib.h>

/* Returns the reply to @line (g_free'd by the server). */
typedef char *(*LineHandler)(const char *line);

/* Listen on @path (replacing a stale socket); -1 and @errp on failure. */
int line_server_start(const char *path, LineHandler handle, GError **errp);
/* Stop listening and remove the socket. */
void line_server_stop(int fd, const char *path);

#endif
