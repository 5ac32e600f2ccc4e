/*
 * A real dredbox-memd for cmocka tests (memd-fixture.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memd-fixture.h"

void daemon_child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void start(Daemon *d, const char *restore)
{
    const char *bin = g_getenv("DREDBOX_MEMD");
    g_autofree char *mem = g_build_filename(d->dir, "mem", NULL);
    const char *argv[] = { bin, "--dir", d->dir, "--brick", "0:512M",
                           "--brick", "1:256M:persistent", "--memory-dir",
                           mem, "--brick", "2:256M:hugepage", "--huge-dir",
                           d->huge, restore, NULL };
    /* The daemon writes its manifest last, once its socket listens. */
    g_autofree char *manifest = g_build_filename(d->dir, "pool.json", NULL);
    g_autoptr(GError) err = NULL;

    assert_non_null(bin);
    if (!d->huge) {
        argv[9] = restore;
        argv[10] = NULL;
    }
    unlink(manifest);   /* a killed daemon's */
    assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD |
                              G_SPAWN_STDOUT_TO_DEV_NULL, daemon_child_setup,
                              NULL, &d->pid, &err));
    for (int i = 0; i < 500 && !g_file_test(manifest, G_FILE_TEST_EXISTS);
         i++) {
        g_usleep(10000);
    }
    assert_true(g_file_test(manifest, G_FILE_TEST_EXISTS));
}

void daemon_start(Daemon *d)
{
    start(d, NULL);
}

void daemon_restore(Daemon *d)
{
    start(d, "--restore");
}

int daemon_signal(Daemon *d, int sig)
{
    int status;

    kill(d->pid, sig);
    assert_int_equal(waitpid(d->pid, &status, 0), d->pid);
    g_spawn_close_pid(d->pid);
    d->pid = 0;
    return status;
}

int daemon_stop(Daemon *d)
{
    return daemon_signal(d, SIGTERM);
}

int memd_fixture_setup(void **state)
{
    Daemon *d = g_new0(Daemon, 1);

    d->dir = g_dir_make_tmp("memd-test-XXXXXX", NULL);
    d->sock = g_build_filename(d->dir, "memd.sock", NULL);
    daemon_start(d);
    *state = d;
    return 0;
}

int memd_fixture_teardown(void **state)
{
    Daemon *d = *state;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", d->dir);

    if (d->pid) {
        daemon_stop(d);
    }
    assert_int_equal(system(cmd), 0);
    g_free(d->sock);
    g_free(d->dir);
    g_free(d);
    return 0;
}
