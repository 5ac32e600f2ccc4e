/*
 * The one client of the rack's UNIX sockets (the pool, the fabric, the
 * SDM controller, the accelerators, a brick's QMP and SDM agent): connect,
 * then send and read lines (wire.h), each read and write bounded by a
 * timeout.  Errors name the peer ("the memory pool at PATH") and carry a
 * RACK_ERROR code: a transport code when the peer could not be asked, the
 * reply's own code when it refused (rack-error.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_LINE_CLIENT_H
#define DREDBOX_LINE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct RackClient RackClient;

/* The longest reply line a client reads. */
#define RACK_CLIENT_MAX_LINE (1 << 24)

/*
 * Connect to @path; @peer names what listens there in errors ("the
 * memory pool").  Every later read or write waits at most @timeout_ms
 * (0: as long as it takes).
 */
RackClient *rack_client_open(const char *peer, const char *path,
                             unsigned timeout_ms, GError **errp);
void rack_client_close(RackClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RackClient, rack_client_close)
/* Wait at most @timeout_ms (0: as long as it takes) from now on. */
void rack_client_set_timeout(RackClient *c, unsigned timeout_ms);

/* Send @line (no newline) with @fd attached if >= 0. */
bool rack_client_send(RackClient *c, const char *line, int fd,
                      GError **errp);
/*
 * The next line (without its newline), and in *@fd the descriptor that
 * came with it (or -1) if @fd is not NULL; NULL with @errp set if the
 * peer hung up, did not answer in time or sent a line past
 * RACK_CLIENT_MAX_LINE.
 */
char *rack_client_recv(RackClient *c, int *fd, GError **errp);
/*
 * Send the JSON request @request and read its reply: the reply object if
 * it says "ok": true, else NULL with @errp set to the reply's "error" and
 * the code its "code" names.  *@fd as for rack_client_recv.
 */
JsonObject *rack_client_request(RackClient *c, const char *request, int *fd,
                                GError **errp);
/* One request on a connection of its own. */
JsonObject *rack_client_call(const char *peer, const char *path,
                             const char *request, int *fd,
                             unsigned timeout_ms, GError **errp);

#endif
