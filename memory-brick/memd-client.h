/*
 * Client side of the pool daemon's protocol, for the rack tools: one
 * request line out, one reply line (and maybe a segment fd) back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_MEMD_CLIENT_H
#define DREDBOX_MEMD_CLIENT_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "line-client.h"

/* A session with the pool: a line client that said hello. */
typedef RackClient MemdConn;
/* The pool answers at once; as long as QEMU's memory-backend-remote waits. */
#define MEMD_TIMEOUT_MS 10000

/*
 * Connect to the pool at @pool (its socket, or its manifest pool.json)
 * and say hello as @client, an admin if @admin.
 */
MemdConn *memd_connect(const char *pool, const char *client, gboolean admin,
                       GError **errp);
void memd_close(MemdConn *c);

/*
 * Send @request (a JSON object, no newline).  Returns the reply object if
 * it says ok, else NULL with @errp set: the pool's refusal with the
 * RACK_ERROR code its reply names, or a transport code (rack-error.h) if
 * the pool could not be asked.  If @fd is not
 * NULL it receives the fd that came with the reply, or -1.
 */
JsonObject *memd_call(MemdConn *c, const char *request, int *fd,
                      GError **errp);

#endif
