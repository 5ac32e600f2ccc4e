/*
 * The pool protocol's framing, shared by the daemon's clients in QEMU
 * (backends/remote-memory/) and in the rack tools: requests and replies
 * are lines; a reply granting a segment carries its fd (SCM_RIGHTS).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_MEMD_WIRE_H
#define DREDBOX_MEMD_WIRE_H

#include <stdbool.h>
#include <glib.h>

/*
 * Write all of @line and a newline, with @fd attached if >= 0; false
 * with errno set on failure.
 */
bool memd_wire_send(int sock, const char *line, int fd);

/*
 * Read one line (without its newline) of at most @max bytes.  The first fd
 * that comes with it goes to *@fd (if @fd, else it is closed), others are
 * closed.  NULL if the peer closed, failed or sent too much.
 */
char *memd_wire_recv(int sock, size_t max, int *fd);

#endif
