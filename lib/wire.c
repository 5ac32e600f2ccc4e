/*
 * The pool protocol's framing (wire.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

bool rack_wire_send(int sock, const char *line, int fd)
{
    g_autofree char *out = g_strconcat(line, "\n", NULL);
    size_t done = 0, len = strlen(out);

    while (done < len) {
        struct iovec iov = { out + done, len - done };
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (fd >= 0 && done == 0) {
            struct cmsghdr *cm;

            memset(&u, 0, sizeof(u));
            msg.msg_control = u.buf;
            msg.msg_controllen = sizeof(u.buf);
            cm = CMSG_FIRSTHDR(&msg);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        }
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += n;
    }
    return true;
}

char *rack_wire_recv(int sock, size_t max, int *fd)
{
    g_autoptr(GString) line = g_string_new(NULL);

    if (fd) {
        *fd = -1;
    }
    for (;;) {
        char ch;
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        struct iovec iov = { &ch, 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = u.buf,
                              .msg_controllen = sizeof(u.buf) };
        struct cmsghdr *cm;
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != 1 || line->len > max) {
            errno = n == 0 ? ECONNRESET : n == 1 ? EMSGSIZE : errno;
            break;
        }
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                int got;

                memcpy(&got, CMSG_DATA(cm), sizeof(int));
                if (fd && *fd < 0) {
                    *fd = got;
                } else {
                    close(got);
                }
            }
        }
        if (ch == '\n') {
            return g_string_free(g_steal_pointer(&line), FALSE);
        }
        g_string_append_c(line, ch);
    }
    if (fd && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return NULL;
}
