/*
 * A real dredbox-memd ($DREDBOX_MEMD) in a private directory, for the
 * cmocka tests of the daemon and of the tools that talk to it.  Bricks:
 * 0 = 512 MiB dram, 1 = 256 MiB persistent; DRAM segments in DIR/mem;
 * with @huge set, 2 = 256 MiB hugepage, its segments in @huge.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MEMD_FIXTURE_H
#define MEMD_FIXTURE_H

#include <glib.h>

typedef struct Daemon {
    char *dir;
    char *sock;
    GPid pid;
    char *huge;     /* a directory on hugetlbfs, or NULL */
} Daemon;

/* For g_spawn_*: a test that fails aborts, its daemon must not outlive
 * it. */
void daemon_child_setup(gpointer data);
void daemon_start(Daemon *d);
/* The same, as a restart after a crash (--restore). */
void daemon_restore(Daemon *d);
/* Send it @sig (SIGTERM stops it cleanly, SIGKILL crashes it); returns
 * its wait status. */
int daemon_signal(Daemon *d, int sig);
int daemon_stop(Daemon *d);
/* cmocka group fixtures: *state is a started Daemon. */
int memd_fixture_setup(void **state);
int memd_fixture_teardown(void **state);

#endif
