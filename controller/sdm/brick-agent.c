/*
 * A compute brick's SDM agent as the controller talks to it
 * (brick-agent.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "brick-agent.h"
#include "rack-error.h"

char *brick_agent_call(const char *path, unsigned c, const char *request,
                       gint64 timeout_us, GError **errp)
{
    static unsigned long seq;
    g_autofree char *line = NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    g_autoptr(GString) in = g_string_new(NULL);
    unsigned long id = (unsigned long)g_get_real_time() * 1000 + ++seq;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char *reply = NULL;

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    line = g_strdup_printf("%lu %s\n", id, request);
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) ||
        write(s, line, strlen(line)) != (ssize_t)strlen(line)) {
        close(s);
        g_set_error(errp, RACK_ERROR, RACK_ERROR_UNREACHABLE,
                    "compute brick %u's agent is not reachable at %s", c,
                    path);
        return NULL;
    }
    while (!reply && g_get_monotonic_time() < deadline) {
        struct pollfd p = { s, POLLIN, 0 };
        char buf[1024], *nl;
        ssize_t n;

        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        n = read(s, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        g_string_append_len(in, buf, n);
        while (!reply && (nl = strchr(in->str, '\n'))) {
            char *rest;

            *nl = '\0';
            if (strtoul(in->str, &rest, 10) == id && *rest == ' ') {
                reply = g_strdup(rest + 1);
            }
            g_string_erase(in, 0, nl + 1 - in->str);
        }
    }
    close(s);
    if (!reply) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_TIMEOUT,
                    "compute brick %u's agent did not answer", c);
        return NULL;
    }
    if (g_str_has_prefix(reply, "ok")) {
        char *rest = g_strdup(g_strchug(reply + 2));

        g_free(reply);
        return rest;
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "compute brick %u: %s",
                c, g_str_has_prefix(reply, "error ") ? reply + 6 : reply);
    g_free(reply);
    return NULL;
}
