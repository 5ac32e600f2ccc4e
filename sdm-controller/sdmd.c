/*
 * dredbox-sdmd: the SDM controller (docs/controller.md).
 *
 * Serves "give compute brick C N bytes of remote memory" over a JSON-lines
 * socket (RUN/sdm.sock, dredboxctl is its CLI).  The reservation engine
 * picks a memory brick and a port on each side; the platform synthesizer
 * sets up the optical circuit (dredbox-fabricd) and grows the brick's
 * virtio-mem device for that memory brick (vmem-mM, whose memory comes
 * only from brick M) over the brick's QMP socket, waiting until the guest
 * has plugged it.  "Give C an accelerator" allocates the accelerator's
 * queue segment in the pool, sets up circuits from C and from the
 * accelerator to its memory brick, maps it behind one of C's RMC ports
 * and binds that port's doorbell to the accelerator (docs/accelerator.md).
 * Every allocation is in SQLite before it is
 * acknowledged; on start, and every few seconds, the controller compares
 * them with the rack and repairs what differs (reconcile.c).
 * What fails in the rack it reads from the fabric and the pool every
 * second, and at once when a brick's RMC reports a link change
 * (faults.c, brick-events.c).  Requests are served at once, one at a
 * time per compute brick (lock.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "controller.h"
#include "line-server.h"
#include "lock.h"

/* Requests handled at once at most; more wait for a thread */
#define REQUEST_THREADS 16
/*
 * A request's deadline: past its calls' own deadlines, even in timing
 * mode, so it only catches a request that hangs; its client then hears
 * "pending", and the same key tells how it ended.
 */
#define REQUEST_DEADLINE_S 600

SdmController sdm = { .default_policy = SDM_POLICY_LOCALITY, .starting = 1 };

/* Back on the main loop once the rack matches the database: serve */
static gboolean started(gpointer unused)
{
    sdm_reconcile_watch();
    sdm_faults_watch();
    sdm_brick_events_watch();
    g_atomic_int_set(&sdm.starting, 0);
    printf("dredbox-sdmd: reconciled, serving requests\n");
    fflush(stdout);
    return G_SOURCE_REMOVE;
}

/* Reconcile at start, while the socket answers "busy" */
static gpointer start(gpointer unused)
{
    sdm_step_hook_start();
    sdm_lock();
    g_ptr_array_unref(sdm_reconcile(true));
    sdm_unlock();
    g_idle_add(started, NULL);
    return NULL;
}

static gboolean quit(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    g_autofree char *db = NULL, *policy = NULL;
    g_autofree char *sock = NULL;
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- dReDBox SDM controller");
    g_autoptr(GError) err = NULL;
    GOptionEntry entries[] = {
        { "rack", 'r', 0, G_OPTION_ARG_FILENAME, &sdm.rack_path,
          "The rack description", "FILE" },
        { "run-dir", 'd', 0, G_OPTION_ARG_FILENAME, &sdm.run_dir,
          "The rack's run directory (sockets of bricks, pool, fabric)",
          "DIR" },
        { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
          "The state database (default RUN/sdm.db)", "FILE" },
        { "policy", 'p', 0, G_OPTION_ARG_STRING, &policy,
          "Default placement policy: locality or first-fit", "NAME" },
        { NULL }
    };
    GMainLoop *loop;
    int s;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || !sdm.rack_path ||
        !sdm.run_dir || (policy && !sdm_policy_parse(policy, &sdm.default_policy))) {
        g_printerr("dredbox-sdmd: %s\n", err ? err->message
                   : "--rack and --run-dir are required; --policy is"
                     " locality or first-fit");
        return 2;
    }
    sdm.rack = rack_load(sdm.rack_path, &err);
    if (!sdm.rack) {
        g_printerr("dredbox-sdmd: %s\n", err->message);
        return 1;
    }
    sdm.graph = sdm_graph_new(sdm.rack);
    if (!db) {
        db = g_build_filename(sdm.run_dir, "sdm.db", NULL);
    }
    sdm.state = sdm_state_open(db, &err);
    if (!sdm.state) {
        g_printerr("dredbox-sdmd: %s\n", err->message);
        return 1;
    }
    /* Listening first: a second controller on this run directory stops */
    sock = g_build_filename(sdm.run_dir, "sdm.sock", NULL);
    s = line_server_start_threaded(sock, sdm_handle, REQUEST_THREADS,
                                   REQUEST_DEADLINE_S, &err);
    if (s < 0) {
        g_printerr("dredbox-sdmd: %s\n", err->message);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    loop = g_main_loop_new(NULL, FALSE);
    g_thread_unref(g_thread_new("reconcile", start, NULL));
    g_unix_signal_add(SIGTERM, quit, loop);
    g_unix_signal_add(SIGINT, quit, loop);
    printf("dredbox-sdmd: %u bricks, state %s, control %s\n",
           sdm.graph->vertices->len, db, sock);
    fflush(stdout);
    g_main_loop_run(loop);
    line_server_stop(s, sock);
    sdm_state_close(sdm.state);
    sdm_graph_free(sdm.graph);
    rack_free(sdm.rack);
    return 0;
}
