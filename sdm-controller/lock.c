/*
 * The controller's lock and its claims on compute bricks (lock.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "lock.h"
#include "qmp-client.h"
#include "rackfile.h"

static GMutex lock;
static GCond changed;       /* a claim, a thread's work or "alone" ended */
static bool claimed[RACK_MAX_BRICKS];
/* Threads at work in controller code, waiting on a brick or not */
static unsigned at_work;
/* One of them waits to be alone (sdm_alone_begin()): no one else starts */
static bool alone;
/* Whether this thread holds the lock, and whether a wait let it go */
static __thread bool held, let_go;

void sdm_lock(void)
{
    g_mutex_lock(&lock);
    while (alone) {
        g_cond_wait(&changed, &lock);
    }
    at_work++;
    held = true;
}

void sdm_unlock(void)
{
    g_assert(held && at_work);
    held = false;
    at_work--;
    g_cond_broadcast(&changed);
    g_mutex_unlock(&lock);
}

void sdm_wait_begin(void)
{
    g_assert(!let_go);
    if (held) {
        let_go = true;
        held = false;
        g_mutex_unlock(&lock);
    }
}

void sdm_wait_end(void)
{
    if (let_go) {
        let_go = false;
        g_mutex_lock(&lock);
        held = true;
    }
}

/* Wait on @changed, with the lock held */
static void wait_changed(void)
{
    held = false;
    g_cond_wait(&changed, &lock);
    held = true;
}

void sdm_alone_begin(void)
{
    g_assert(held);
    /* Another waits to be alone: let it, not at work meanwhile */
    while (alone) {
        at_work--;
        g_cond_broadcast(&changed);
        wait_changed();
        at_work++;
    }
    alone = true;
    while (at_work > 1) {
        wait_changed();
    }
}

void sdm_alone_end(void)
{
    g_assert(held && alone);
    alone = false;
    g_cond_broadcast(&changed);
}

void sdm_sleep(gulong us)
{
    sdm_wait_begin();
    g_usleep(us);
    sdm_wait_end();
}

JsonNode *sdm_qmp_call(const char *path, const char *command, GError **errp)
{
    JsonNode *ret;

    sdm_wait_begin();
    ret = qmp_call(path, command, errp);
    sdm_wait_end();
    return ret;
}

bool sdm_qmp_run(const char *path, const char *command, GError **errp)
{
    bool ok;

    sdm_wait_begin();
    ok = qmp_run(path, command, errp);
    sdm_wait_end();
    return ok;
}

bool sdm_brick_claim(unsigned c, bool wait)
{
    g_assert(held && c < RACK_MAX_BRICKS);
    while (claimed[c]) {
        if (!wait) {
            return false;
        }
        wait_changed();
    }
    claimed[c] = true;
    return true;
}

void sdm_brick_unclaim(unsigned c)
{
    g_assert(held && c < RACK_MAX_BRICKS && claimed[c]);
    claimed[c] = false;
    g_cond_broadcast(&changed);
}
