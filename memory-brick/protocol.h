/*
 * The pool daemon's request protocol: one JSON object per line in each
 * direction over a UNIX stream socket; a reply that grants a segment
 * carries its fd (SCM_RIGHTS).  docs/memory-pool.md describes it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_PROTOCOL_H
#define DREDBOX_PROTOCOL_H

#include <json-glib/json-glib.h>

#include "pool.h"

#define MEMD_PROTOCOL_VERSION 1

typedef struct MemdClient {
    char *name;         /* from "hello" */
    bool admin;         /* the SDM controller: may free any lease */
} MemdClient;

/*
 * Handle one request line.  Returns the reply (no newline); when the reply
 * grants a segment, *fd_out is the fd to send with it (still owned by the
 * pool), else -1; *granted is that segment's id, so that the caller can
 * undo the allocation if the reply cannot be delivered.
 */
char *memd_handle(Pool *pool, MemdClient *client, const char *line,
                  int *fd_out, uint32_t *granted);

/* The reply to "query", also used for the manifest's brick list. */
char *memd_query_json(Pool *pool);

/* A client name: 1-64 characters of [A-Za-z0-9._-] (it names files). */
bool memd_valid_client_name(const char *s);

/* A segment as "query" lists it: id, brick, offset, size and owner, the
 * members of an object @b has begun. */
void memd_segment_members(JsonBuilder *b, const PoolSegment *seg);
/* Member @name of the object @b is building: @offsets (uint64_t) */
void memd_offsets_member(JsonBuilder *b, const char *name, GArray *offsets);

#endif
