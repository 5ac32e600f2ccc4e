/*
 * A compute brick's SDM agent as the controller talks to it
 * (brick-agent.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>

#include "brick-agent.h"
#include "line-client.h"
#include "lock.h"
#include "rack-error.h"

static char *agent_call(const char *path, unsigned c, const char *request,
                        gint64 timeout_us, GError **errp)
{
    static gint seq;
    g_autofree char *peer = g_strdup_printf("compute brick %u's agent", c);
    g_autofree char *line = NULL;
    g_autoptr(RackClient) agent = NULL;
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    unsigned long id = (unsigned long)g_get_real_time() * 1000 +
                       (unsigned)g_atomic_int_add(&seq, 1);
    char *reply = NULL;

    line = g_strdup_printf("%lu %s", id, request);
    agent = rack_client_open(peer, path, timeout_us / 1000, errp);
    if (!agent || !rack_client_send(agent, line, -1, errp)) {
        return NULL;
    }
    while (!reply) {
        gint64 left = deadline - g_get_monotonic_time();
        g_autofree char *in = NULL;
        char *rest;

        if (left <= 0) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_TIMEOUT,
                        "%s did not answer", peer);
            return NULL;
        }
        rack_client_set_timeout(agent, MAX(left / 1000, 1));
        in = rack_client_recv(agent, NULL, errp);
        if (!in) {
            return NULL;
        }
        if (strtoul(in, &rest, 10) == id && *rest == ' ') {
            reply = g_strdup(rest + 1);
        }
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

char *brick_agent_call(const char *path, unsigned c, const char *request,
                       gint64 timeout_us, GError **errp)
{
    char *reply;

    sdm_wait_begin();
    reply = agent_call(path, c, request, timeout_us, errp);
    sdm_wait_end();
    return reply;
}
