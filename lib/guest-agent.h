/*
 * A client of the QEMU guest agent (qemu-ga) in a compute brick, on the
 * brick's virtio-serial port org.qemu.guest_agent.0 (RUN/brickN.qga):
 * run a command and collect its output and status, copy a file in or
 * out (docs/your-software.md).  The protocol is QMP without a greeting
 * (the QEMU guest agent's QAPI schema); every reply is checked for the
 * type of each member it uses.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_GUEST_AGENT_H
#define DREDBOX_GUEST_AGENT_H

#include <stdbool.h>
#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct GuestAgent GuestAgent;

/*
 * Connect to the agent's socket @path and synchronise with it
 * (guest-sync-delimited: a reply left over from an earlier client is
 * skipped).  Each reply must come within @timeout_ms.
 */
GuestAgent *guest_agent_open(const char *path, unsigned timeout_ms,
                             GError **errp);
void guest_agent_close(GuestAgent *ga);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestAgent, guest_agent_close)

/*
 * Run @command (a JSON object) and return its reply's "return" value
 * (json_node_unref it); NULL with the agent's error if it refused.
 */
JsonNode *guest_agent_call(GuestAgent *ga, const char *command,
                           GError **errp);

/*
 * Run @argv[0] with its arguments in the guest, with @input (may be
 * NULL) on its standard input; wait until it ends, at most @deadline_ms
 * (0: as long as it takes).  Its output is appended to @out and @err,
 * its status in *@status: the exit code, or 128 + the signal that
 * killed it, as a shell says.
 */
bool guest_agent_exec(GuestAgent *ga, char **argv, GBytes *input,
                      unsigned deadline_ms, GByteArray *out,
                      GByteArray *err, int *status, GError **errp);

/* Write @data to @path in the guest and give it permissions @mode. */
bool guest_agent_put(GuestAgent *ga, GBytes *data, const char *path,
                     unsigned mode, GError **errp);
/* The contents of @path in the guest. */
GBytes *guest_agent_get(GuestAgent *ga, const char *path, GError **errp);

#endif
