/*
 * A compute brick's remote memory as the controller drives it
 * (brick-memory.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "brick-memory.h"
#include "pool.h"
#include "qmp-client.h"

bool brick_memory_get(const char *qmp, unsigned c, unsigned m,
                      const char *prop, uint64_t *out, GError **errp)
{
    g_autofree char *cmd = g_strdup_printf(
        "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"vmem-m%u\","
        "\"property\":\"%s\"}}", m, prop);
    JsonNode *ret = qmp_call(qmp, cmd, errp);

    if (!ret) {
        g_prefix_error(errp, "compute brick %u: ", c);
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(ret) ||
        json_node_get_value_type(ret) != G_TYPE_INT64 ||
        json_node_get_int(ret) < 0) {
        g_set_error(errp, POOL_ERROR, POOL_ERROR_INVALID,
                    "compute brick %u: %s of vmem-m%u is not a size", c,
                    prop, m);
        json_node_unref(ret);
        return false;
    }
    *out = json_node_get_int(ret);
    json_node_unref(ret);
    return true;
}

bool brick_memory_resize(const char *qmp, unsigned c, unsigned m,
                         uint64_t target, gint64 timeout_us, GError **errp)
{
    g_autofree char *cmd = g_strdup_printf(
        "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"vmem-m%u\","
        "\"property\":\"requested-size\",\"value\":%" G_GUINT64_FORMAT "}}",
        m, target);
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    uint64_t size = 0;

    if (!qmp_run(qmp, cmd, errp)) {
        g_prefix_error(errp, "compute brick %u: ", c);
        return false;
    }
    while (g_get_monotonic_time() < deadline) {
        if (!brick_memory_get(qmp, c, m, "size", &size, errp)) {
            return false;
        }
        if (size == target) {
            return true;
        }
        g_usleep(100000);
    }
    g_set_error(errp, POOL_ERROR, POOL_ERROR_NO_SPACE,
                "compute brick %u holds %" G_GUINT64_FORMAT " MiB of memory"
                " brick %u, not %" G_GUINT64_FORMAT " MiB (the guest did not"
                " plug or unplug it: pool full, or memory in use)",
                c, size >> 20, m, target >> 20);
    return false;
}
