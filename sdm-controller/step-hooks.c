/*
 * The controller's test hooks (docs/controller.md, "Failure windows"):
 * what makes one step of an attach or a detach fail, time out, or kill
 * the controller right after it, so that a test reaches every window
 * without a sleep; and what holds a request after a step until the test
 * lets it go (RUN/sdm-held, removed), to show other requests meanwhile.
 * Off unless DREDBOX_SDM_TEST_HOOKS=1 is in the controller's environment.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "lock.h"
#include "rack-error.h"
#include "rack-json.h"

typedef enum {
    HOOK_FAIL,
    HOOK_TIME_OUT,
    HOOK_KILL,
    HOOK_KILL_POOL,
    HOOK_HOLD,
} HookAction;

static const char *const actions[] = {
    [HOOK_FAIL] = "fail",
    [HOOK_TIME_OUT] = "time-out",
    [HOOK_KILL] = "kill",
    [HOOK_KILL_POOL] = "kill-pool",
    [HOOK_HOLD] = "hold",
};

/* How long "hold" holds at most, should the test never let go */
#define HOLD_MAX_US (120 * G_USEC_PER_SEC)

/* SIGKILL the rack's pool (RUN/memd.pid, the launcher's) and wait for it */
static void kill_pool(void)
{
    g_autofree char *file = g_build_filename(sdm.run_dir, "memd.pid", NULL);
    g_autofree char *text = NULL;
    guint64 pid;

    if (g_file_get_contents(file, &text, NULL, NULL) &&
        g_ascii_string_to_unsigned(g_strstrip(text), 10, 2, G_MAXINT, &pid,
                                   NULL) &&
        kill(pid, SIGKILL) == 0) {
        /* Gone once signal 0 finds it no more, or a zombie of the launcher */
        for (int i = 0; i < 100 && kill(pid, 0) == 0; i++) {
            g_autofree char *stat = g_strdup_printf("/proc/%" G_GUINT64_FORMAT
                                                    "/stat", pid);
            g_autofree char *st = NULL;

            if (g_file_get_contents(stat, &st, NULL, NULL) &&
                strstr(st, ") Z ")) {
                break;
            }
            g_usleep(10000);
        }
    }
}

/* RUN/sdm-held: what a "hold" waits on */
static char *held_file(void)
{
    return g_build_filename(sdm.run_dir, "sdm-held", NULL);
}

/* Wait, the lock let go, while @file is there */
static void wait_removed(const char *file)
{
    gint64 deadline = g_get_monotonic_time() + HOLD_MAX_US;

    while (g_file_test(file, G_FILE_TEST_EXISTS) &&
           g_get_monotonic_time() < deadline) {
        sdm_sleep(10000);
    }
}

/* Hold after @step until RUN/sdm-held, written now naming it, is gone */
static bool hold(const char *step, GError **errp)
{
    g_autofree char *file = held_file();

    if (!g_file_set_contents(file, step, -1, errp)) {
        return false;
    }
    wait_removed(file);
    return true;
}

void sdm_step_hook_start(void)
{
    g_autofree char *file = held_file();

    if (!g_strcmp0(g_getenv("DREDBOX_SDM_TEST_HOOKS"), "1")) {
        wait_removed(file);
    }
}

/* Each request's own: requests run at once, on their own threads */
static __thread struct {
    char *step;
    HookAction action;
} armed;

static bool hook(const char *step, bool undo, GError **errp)
{
    if (strcmp(step, armed.step)) {
        return true;
    }
    switch (armed.action) {
    case HOOK_KILL:
        raise(SIGKILL);
        break;
    case HOOK_KILL_POOL:
        kill_pool();
        return true;
    case HOOK_TIME_OUT:
        g_set_error(errp, RACK_ERROR, RACK_ERROR_TIMEOUT,
                    "test hook: no answer in time");
        return false;
    case HOOK_HOLD:
        return hold(step, errp);
    case HOOK_FAIL:
        break;
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "test hook: %s failed",
                undo ? "undo" : "step");
    return false;
}

bool sdm_step_hook_arm(JsonObject *req, GError **errp)
{
    JsonObject *h;
    const char *step, *action;

    if (!json_object_has_member(req, "test-hook")) {
        return true;
    }
    if (g_strcmp0(g_getenv("DREDBOX_SDM_TEST_HOOKS"), "1")) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED, "test hooks are"
                    " off (the controller runs without"
                    " DREDBOX_SDM_TEST_HOOKS=1)");
        return false;
    }
    if (!rack_json_get_object(req, "test-hook", &h, errp) ||
        !rack_json_get_str(h, "step", &step, errp) ||
        !rack_json_get_str(h, "do", &action, errp)) {
        return false;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(actions); i++) {
        if (!strcmp(action, actions[i])) {
            g_free(armed.step);
            armed.step = g_strdup(step);
            armed.action = i;
            sdm_synth_set_hook(hook);
            return true;
        }
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "test-hook: \"do\""
                " must be fail, time-out, kill, kill-pool or hold, not"
                " \"%s\"",
                action);
    return false;
}

void sdm_step_hook_disarm(void)
{
    sdm_synth_set_hook(NULL);
    g_clear_pointer(&armed.step, g_free);
}
