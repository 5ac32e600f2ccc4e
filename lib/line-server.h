/*
 * The rack daemons' UNIX control sockets (owner-only, mode 0600), the
 * connections on them (LineConn: lines in, replies out, on the GLib main
 * loop), and a server for the stateless JSON-lines ones (fabric,
 * controller, accelerator): each request line, a JSON object with a
 * "cmd", is handed to a handler; its reply, or {"ok":false,"error":...}
 * if it fails or the line is not a JSON object, goes back as one line.
 *
 * A connection never blocks the daemon for another: it reads what has
 * come and keeps a partial line until its end comes; a line longer than
 * RACK_MAX_LINE is refused and the connection closed; a reply the client
 * does not take within RACK_SEND_TIMEOUT_S closes it too.  A threaded
 * server (the controller's, whose requests wait on bricks) handles
 * requests on worker threads: a slow one holds up only its own
 * connection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_LINE_SERVER_H
#define DREDBOX_LINE_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "rack-json.h"

/* Returns the reply to @req (whose "cmd" is the string @cmd), or NULL
 * with @errp set.  Read its other members with rack-json.h. */
typedef char *(*LineHandler)(JsonObject *req, const char *cmd,
                             GError **errp);

#define RACK_MAX_LINE 65536
#define RACK_SEND_TIMEOUT_S 10

/* A new connection, @fd, for the caller to watch and close. */
typedef void (*ServerAccepted)(int fd, gpointer data);

typedef struct LineConn LineConn;
/* One line of @c (without its newline); false closes @c. */
typedef bool (*LineConnHandler)(LineConn *c, char *line, gpointer data);

/*
 * Serve connection @fd: each line to @on_line; when it closes, @closed
 * (if not NULL) gets @data.
 */
void line_conn_start(int fd, LineConnHandler on_line, gpointer data,
                     GDestroyNotify closed);
/* Where to send replies (rack_wire_send). */
int line_conn_fd(LineConn *c);
/*
 * Read no more of @c until line_conn_resume(): its handler's reply comes
 * later, from the main loop, and the next line must wait for it.
 */
void line_conn_pause(LineConn *c);
void line_conn_resume(LineConn *c);

/*
 * Listen at @path (replacing a stale socket) and hand each connection to
 * @accepted on the GLib main loop; the socket, or -1 and @errp.
 */
int line_server_accept(const char *path, ServerAccepted accepted,
                       gpointer data, GError **errp);
/* Listen on @path and serve @handle; -1 and @errp on failure. */
int line_server_start(const char *path, LineHandler handle, GError **errp);
/*
 * The same, with up to @threads requests handled at once, each on a
 * worker thread (@handle must be thread-safe); one connection's requests
 * are answered in order, one at a time.  A request not answered within
 * @deadline_s (0: no deadline) gets {"ok":false,"code":"pending",...}
 * and goes on; its late reply is dropped, and the connection's next
 * request is read.
 */
int line_server_start_threaded(const char *path, LineHandler handle,
                               unsigned threads, unsigned deadline_s,
                               GError **errp);
/* Stop listening and remove the socket. */
void line_server_stop(int fd, const char *path);

#endif
