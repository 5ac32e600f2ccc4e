/*
 * A compute brick's remote memory as the controller drives it
 * (brick-memory.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "brick-memory.h"
#include "lock.h"
#include "rack-error.h"
#include "rack-json.h"

/* The QMP command that reads QOM property @prop of @path. */
static char *qom_get(const char *path, const char *prop)
{
    JsonBuilder *b = rack_json_qmp("qom-get");

    rack_json_member_str(b, "path", path);
    rack_json_member_str(b, "property", prop);
    return rack_json_qmp_end(b);
}

/* QOM property @prop of @path in brick @c: an unsigned number. */
static bool qom_get_uint(const char *qmp, unsigned c, const char *path,
                         const char *prop, uint64_t *out, GError **errp)
{
    g_autofree char *cmd = qom_get(path, prop);
    JsonNode *ret = sdm_qmp_call(qmp, cmd, errp);

    if (!ret) {
        g_prefix_error(errp, "compute brick %u: ", c);
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(ret) ||
        json_node_get_value_type(ret) != G_TYPE_INT64 ||
        json_node_get_int(ret) < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "compute brick %u: %s of %s is not a number", c, prop,
                    path);
        json_node_unref(ret);
        return false;
    }
    *out = json_node_get_int(ret);
    json_node_unref(ret);
    return true;
}

bool brick_memory_get(const char *qmp, unsigned c, unsigned m,
                      const char *prop, uint64_t *out, GError **errp)
{
    g_autofree char *dev = g_strdup_printf("vmem-m%u", m);

    return qom_get_uint(qmp, c, dev, prop, out, errp);
}

bool brick_memory_range(const char *qmp, unsigned c, unsigned m,
                        uint64_t *start, uint64_t *size, GError **errp)
{
    g_autofree char *dev = g_strdup_printf("vmem-m%u", m);
    g_autofree char *cmd = qom_get(dev, "memdev");
    g_autoptr(JsonNode) memdev = NULL;

    if (!qom_get_uint(qmp, c, dev, "memaddr", start, errp)) {
        return false;
    }
    memdev = sdm_qmp_call(qmp, cmd, errp);
    if (!memdev) {
        g_prefix_error(errp, "compute brick %u: ", c);
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(memdev) ||
        json_node_get_value_type(memdev) != G_TYPE_STRING) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "compute brick %u: memdev of %s is not a path", c, dev);
        return false;
    }
    return qom_get_uint(qmp, c, json_node_get_string(memdev), "size", size,
                        errp);
}

bool brick_memory_request(const char *qmp, unsigned c, unsigned m,
                          uint64_t target, GError **errp)
{
    g_autofree char *dev = g_strdup_printf("vmem-m%u", m);
    JsonBuilder *b = rack_json_qmp("qom-set");
    g_autofree char *cmd = NULL;

    rack_json_member_str(b, "path", dev);
    rack_json_member_str(b, "property", "requested-size");
    rack_json_member_int(b, "value", target);
    cmd = rack_json_qmp_end(b);
    if (!sdm_qmp_run(qmp, cmd, errp)) {
        g_prefix_error(errp, "compute brick %u: ", c);
        return false;
    }
    return true;
}

bool brick_memory_resize(const char *qmp, unsigned c, unsigned m,
                         uint64_t target, gint64 timeout_us, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    uint64_t size = 0;

    if (!brick_memory_request(qmp, c, m, target, errp)) {
        return false;
    }
    while (g_get_monotonic_time() < deadline) {
        if (!brick_memory_get(qmp, c, m, "size", &size, errp)) {
            return false;
        }
        if (size == target) {
            return true;
        }
        sdm_sleep(100000);
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_NO_SPACE,
                "compute brick %u holds %" G_GUINT64_FORMAT " MiB of memory"
                " brick %u, not %" G_GUINT64_FORMAT " MiB (the guest did not"
                " plug or unplug it: pool full, or memory in use)",
                c, size >> 20, m, target >> 20);
    return false;
}
