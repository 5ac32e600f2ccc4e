/*
 * The rack's framing on UNIX sockets, shared by every daemon and client
 * of the rack tools and by QEMU's pool client (backends/remote-memory/):
 * requests and replies are lines; a reply granting a pool segment carries
 * its fd (SCM_RIGHTS).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_WIRE_H
#define DREDBOX_WIRE_H

#include <stdbool.h>
#include <glib.h>

/*
 * Write all of @line and a newline, with @fd attached if >= 0; false
 * with errno set on failure.
 */
bool rack_wire_send(int sock, const char *line, int fd);

/*
 * Read one line (without its newline) of at most @max bytes.  The first fd
 * that comes with it goes to *@fd (if @fd, else it is closed), others are
 * closed.  NULL with errno set if there is none: ECONNRESET if the peer
 * closed, EMSGSIZE if it sent too much, EAGAIN if a receive timeout
 * (SO_RCVTIMEO) passed, else the socket's error.
 */
char *rack_wire_recv(int sock, size_t max, int *fd);

#endif
