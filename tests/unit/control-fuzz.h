/*
 * A fuzzer for the rack's JSON-lines control sockets (pool, fabric, SDM
 * controller, accelerator).  From a seed it makes hostile lines out of
 * each socket's valid requests: a member given a value of another JSON
 * type, integers that wrap or are out of range, truncated lines, random
 * bytes, oversized and deeply nested lines, top-level values that are not
 * objects.  Every line it makes must be refused: each one goes on its own
 * connection, and every reply must be a JSON object with "ok": false.
 * Replies may be missing only where the daemon drops an oversized line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_CONTROL_FUZZ_H
#define DREDBOX_CONTROL_FUZZ_H

#include <stdbool.h>
#include <glib.h>

#include "fuzz-seed.h"

typedef enum FuzzTarget {
    FUZZ_POOL,
    FUZZ_FABRIC,
    FUZZ_SDM,
    FUZZ_ACCEL,
} FuzzTarget;

/* "pool", "fabric", "sdm", "accel"; false if @name is none of them. */
bool fuzz_target_parse(const char *name, FuzzTarget *out);

/*
 * Send @lines hostile lines from @seed to the daemon of kind @t at
 * @socket.  False with @errp (naming the seed, the line's number and the
 * line) at the first line that is accepted, gets a malformed reply, or
 * after which the daemon no longer answers.
 */
bool control_fuzz(FuzzTarget t, const char *socket, guint32 seed,
                  unsigned lines, GError **errp);

#endif
