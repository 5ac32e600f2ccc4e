/*
 * A compute brick's SDM agent (guest/agent, docs/guest-kernel.md) as the
 * controller talks to it: numbered request lines over the brick's
 * virtio-serial channel RUN/brickN.agent.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_BRICK_AGENT_H
#define DREDBOX_SDM_BRICK_AGENT_H

#include <glib.h>

/*
 * Send @request to compute brick @c's agent at @path and wait at most
 * @timeout_us: what the reply says after "ok", or NULL with the agent's
 * error.  A late reply to an earlier request (the channel keeps what a
 * client that hung up did not read) is told apart by its number.
 */
char *brick_agent_call(const char *path, unsigned c, const char *request,
                       gint64 timeout_us, GError **errp);

#endif
