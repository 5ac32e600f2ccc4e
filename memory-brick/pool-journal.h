/*
 * The pool's journal: everything the pool has acknowledged (its bricks,
 * which are down, its segments with their ids, leases and grants, the
 * next segment id), written to a file after every change and before the
 * reply, so that a pool killed at any point and started again with
 * --restore gives every client what it had (docs/memory-pool.md,
 * "Restart").
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_POOL_JOURNAL_H
#define DREDBOX_POOL_JOURNAL_H

#include <json-glib/json-glib.h>

#include "pool.h"

#define POOL_JOURNAL_VERSION 1

/* Write @pool's state to @path atomically (a new file renamed over it),
 * with where its DRAM and hugepage (NULL: memfds) segments live. */
bool pool_journal_save(Pool *pool, const char *path, const char *memory_dir,
                       const char *huge_dir, GError **errp);

/* The journal at @path; NULL with no error if there is none. */
JsonObject *pool_journal_read(const char *path, GError **errp);

/* Where the journal's DRAM segments live. */
const char *pool_journal_memory_dir(JsonObject *journal);
/* Where its hugepage segments live; NULL: they were memfds. */
const char *pool_journal_huge_dir(JsonObject *journal);

/*
 * Put @journal's state back into @pool, whose bricks from the command
 * line are there already: bricks added at run time come back, each
 * segment comes back under its id with its memory (pool->store.reopen)
 * or, if that did not survive, without it.
 */
bool pool_journal_restore(Pool *pool, JsonObject *journal, GError **errp);

#endif
