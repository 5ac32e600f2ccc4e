/*
 * The socket a fake peer of a unit test listens on: a UNIX socket in a
 * folder of its own, which fake_listener_close removes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FAKE_LISTENER_H
#define FAKE_LISTENER_H

#include <glib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct FakeListener {
    char *dir;
    char *path;
    int fd;
} FakeListener;

/* Listen on @name in a new folder made from @tmpl ("name-XXXXXX"). */
static inline void fake_listener_open(FakeListener *l, const char *tmpl,
                                      const char *name)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    l->dir = g_dir_make_tmp(tmpl, NULL);
    g_assert(l->dir);
    l->path = g_build_filename(l->dir, name, NULL);
    l->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_strlcpy(sa.sun_path, l->path, sizeof(sa.sun_path));
    g_assert(bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    g_assert(listen(l->fd, 1) == 0);
}

static inline void fake_listener_close(FakeListener *l)
{
    close(l->fd);
    unlink(l->path);
    rmdir(l->dir);
    g_free(l->path);
    g_free(l->dir);
}

#endif
