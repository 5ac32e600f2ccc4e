/*
 * The rack daemons' UNIX control sockets (owner-only, mode 0600) and a
 * server for the stateless JSON-lines ones (fabric, controller,
 * accelerator): each request line, a JSON object with a "cmd", is handed
 * to a handler on the GLib main loop; its reply, or
 * {"ok":false,"error":...} if it fails or the line is not a JSON object,
 * goes back as one line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_LINE_SERVER_H
#define DREDBOX_LINE_SERVER_H

#include <glib.h>
#include <json-glib/json-glib.h>

/* Returns the reply to @req (whose "cmd" is @cmd, "" if none), or NULL
 * with @errp set. */
typedef char *(*LineHandler)(JsonObject *req, const char *cmd,
                             GError **errp);

/* A listening socket at @path (replacing a stale one); -1 and @errp. */
int line_server_listen(const char *path, GError **errp);
/* Listen on @path and serve @handle; -1 and @errp on failure. */
int line_server_start(const char *path, LineHandler handle, GError **errp);
/* Stop listening and remove the socket. */
void line_server_stop(int fd, const char *path);

/* A reply object that already says {"ok": true, ...}. */
JsonBuilder *line_reply_begin(void);
/* Close the object and return it as a line (consumes @b). */
char *line_reply_end(JsonBuilder *b);

#endif
