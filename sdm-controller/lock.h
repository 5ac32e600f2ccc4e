/*
 * What lets the controller serve requests at once (docs/controller.md,
 * "Requests at once"): one lock over its graph, database and fault log,
 * held by whoever runs controller code (a request's worker thread, the
 * main loop's watches), and let go only while waiting on a compute brick
 * (its QMP, its agent, its guest); and a claim on each compute brick, so
 * that one request at a time works on a brick while other bricks'
 * requests go on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_LOCK_H
#define DREDBOX_SDM_LOCK_H

#include <stdbool.h>
#include <glib.h>
#include <json-glib/json-glib.h>

/* Around a request, a watch's work: at work in controller code */
void sdm_lock(void);
void sdm_unlock(void);

/*
 * Around a wait on a compute brick: the lock is let go meanwhile, if this
 * thread holds it (tools and tests that use the brick calls alone do
 * not).  Whoever holds the lock may change the graph and the database
 * meanwhile, except what belongs to a brick this thread has claimed.
 */
void sdm_wait_begin(void);
void sdm_wait_end(void);
/* g_usleep(@us) and the lib's QMP calls, as such a wait */
void sdm_sleep(gulong us);
JsonNode *sdm_qmp_call(const char *path, const char *command, GError **errp);
bool sdm_qmp_run(const char *path, const char *command, GError **errp);

/*
 * Claim compute brick @c for this thread, with the lock held: waits (the
 * lock let go) until no one else has it if @wait, else false at once
 * when someone has.
 */
bool sdm_brick_claim(unsigned c, bool wait);
void sdm_brick_unclaim(unsigned c);

/*
 * With the lock held: wait until no other thread is at work in
 * controller code (their waits on bricks over), and let none start
 * until sdm_alone_end(); for what replaces the graph and the rack that
 * the others point into (a registration).
 */
void sdm_alone_begin(void);
void sdm_alone_end(void);

#endif
