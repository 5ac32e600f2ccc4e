/*
 * Typed access to JSON members from outside the process (rack-json.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "rack-json.h"
#include "rack-error.h"
#include "size.h"

typedef enum Want {
    WANT_STRING,
    WANT_INT,
    WANT_BOOL,
    WANT_OBJECT,
    WANT_ARRAY,
} Want;

static const char *const want_name[] = {
    [WANT_STRING] = "a string",
    [WANT_INT] = "an integer",
    [WANT_BOOL] = "true or false",
    [WANT_OBJECT] = "an object",
    [WANT_ARRAY] = "an array",
};

static bool holds(JsonNode *n, Want want)
{
    switch (want) {
    case WANT_OBJECT:
        return JSON_NODE_HOLDS_OBJECT(n);
    case WANT_ARRAY:
        return JSON_NODE_HOLDS_ARRAY(n);
    default:
        break;
    }
    if (!JSON_NODE_HOLDS_VALUE(n)) {
        return false;
    }
    switch (json_node_get_value_type(n)) {
    case G_TYPE_STRING:
        return want == WANT_STRING;
    case G_TYPE_INT64:
        return want == WANT_INT;
    case G_TYPE_BOOLEAN:
        return want == WANT_BOOL;
    default:
        return false;
    }
}

/*
 * Member @name of @o if it holds @want; NULL in *out when it is absent
 * (or null) and not @required.
 */
static bool member(JsonObject *o, const char *name, bool required, Want want,
                   JsonNode **out, GError **errp)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    *out = NULL;
    if (!n || (!required && JSON_NODE_HOLDS_NULL(n))) {
        if (required) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                        "missing \"%s\"", name);
        }
        return !required;
    }
    if (!holds(n, want)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "member \"%s\" must be %s", name, want_name[want]);
        return false;
    }
    *out = n;
    return true;
}

static bool str_member(JsonObject *o, const char *name, bool required,
                       const char **out, GError **errp)
{
    JsonNode *n;

    if (!member(o, name, required, WANT_STRING, &n, errp)) {
        return false;
    }
    if (n) {
        *out = json_node_get_string(n);
    }
    return true;
}

JsonObject *rack_json_parse_object(JsonParser *parser, const char *text)
{
    JsonNode *root;

    if (!json_parser_load_from_data(parser, text, -1, NULL)) {
        return NULL;
    }
    root = json_parser_get_root(parser);
    return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root)
                                                : NULL;
}

bool rack_json_get_str(JsonObject *o, const char *name, const char **out,
                  GError **errp)
{
    return str_member(o, name, true, out, errp);
}

bool rack_json_opt_str(JsonObject *o, const char *name, const char **out,
                  GError **errp)
{
    return str_member(o, name, false, out, errp);
}

static bool uint_member(JsonObject *o, const char *name, bool required,
                        uint64_t max, uint64_t *out, GError **errp)
{
    JsonNode *n;
    gint64 v;

    if (!member(o, name, required, WANT_INT, &n, errp)) {
        return false;
    }
    if (!n) {
        return true;
    }
    v = json_node_get_int(n);
    if (v < 0 || (uint64_t)v > max) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "\"%s\" is out of range (0 to %" G_GUINT64_FORMAT ")",
                    name, max);
        return false;
    }
    *out = v;
    return true;
}

bool rack_json_get_uint(JsonObject *o, const char *name, uint64_t max,
                   uint64_t *out, GError **errp)
{
    return uint_member(o, name, true, max, out, errp);
}

bool rack_json_opt_uint(JsonObject *o, const char *name, uint64_t max,
                   uint64_t *out, GError **errp)
{
    return uint_member(o, name, false, max, out, errp);
}

bool rack_json_get_size(JsonObject *o, const char *name, uint64_t *out,
                   GError **errp)
{
    JsonNode *n = json_object_get_member(o, name);

    if (n && JSON_NODE_HOLDS_VALUE(n) &&
        json_node_get_value_type(n) == G_TYPE_STRING) {
        if (!rack_parse_size(json_node_get_string(n), out)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                        "\"%s\" must be bytes or a number with K/M/G/T",
                        name);
            return false;
        }
        return true;
    }
    return rack_json_get_uint(o, name, G_MAXINT64, out, errp);
}

static bool bool_member(JsonObject *o, const char *name, bool required,
                        bool *out, GError **errp)
{
    JsonNode *n;

    if (!member(o, name, required, WANT_BOOL, &n, errp)) {
        return false;
    }
    if (n) {
        *out = json_node_get_boolean(n);
    }
    return true;
}

bool rack_json_get_bool(JsonObject *o, const char *name, bool *out,
                   GError **errp)
{
    return bool_member(o, name, true, out, errp);
}

bool rack_json_opt_bool(JsonObject *o, const char *name, bool *out,
                   GError **errp)
{
    return bool_member(o, name, false, out, errp);
}

bool rack_json_get_object(JsonObject *o, const char *name, JsonObject **out,
                     GError **errp)
{
    JsonNode *n;

    if (!member(o, name, true, WANT_OBJECT, &n, errp)) {
        return false;
    }
    *out = json_node_get_object(n);
    return true;
}

bool rack_json_get_array(JsonObject *o, const char *name, JsonArray **out,
                    GError **errp)
{
    JsonNode *n;

    if (!member(o, name, true, WANT_ARRAY, &n, errp)) {
        return false;
    }
    *out = json_node_get_array(n);
    return true;
}

bool rack_json_opt_array(JsonObject *o, const char *name, JsonArray **out,
                    GError **errp)
{
    JsonNode *n;

    if (!member(o, name, false, WANT_ARRAY, &n, errp)) {
        return false;
    }
    *out = n ? json_node_get_array(n) : NULL;
    return true;
}

bool rack_json_array_get_uint(JsonArray *a, guint i, uint64_t max,
                              uint64_t *out, GError **errp)
{
    JsonNode *n = i < json_array_get_length(a)
                  ? json_array_get_element(a, i) : NULL;

    if (!n || !holds(n, WANT_INT) || json_node_get_int(n) < 0 ||
        (uint64_t)json_node_get_int(n) > max) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "element %u must be an integer from 0 to %"
                    G_GUINT64_FORMAT, i, max);
        return false;
    }
    *out = json_node_get_int(n);
    return true;
}

bool rack_json_array_get_str(JsonArray *a, guint i, const char **out,
                             GError **errp)
{
    JsonNode *n = i < json_array_get_length(a)
                  ? json_array_get_element(a, i) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
        json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "element %u must be a string", i);
        return false;
    }
    *out = json_node_get_string(n);
    return true;
}

bool rack_json_array_get_obj(JsonArray *a, guint i, JsonObject **out,
                        GError **errp)
{
    JsonNode *n = i < json_array_get_length(a)
                  ? json_array_get_element(a, i) : NULL;

    if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "element %u must be an object", i);
        return false;
    }
    *out = json_node_get_object(n);
    return true;
}

void rack_json_member_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void rack_json_member_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

void rack_json_member_bool(JsonBuilder *b, const char *name, gboolean value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value);
}

JsonBuilder *rack_json_begin(void)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    return b;
}

JsonBuilder *rack_json_reply_begin(void)
{
    JsonBuilder *b = rack_json_begin();

    rack_json_member_bool(b, "ok", TRUE);
    return b;
}

char *rack_json_error_reply(const GError *err)
{
    JsonBuilder *b = rack_json_begin();

    rack_json_member_bool(b, "ok", FALSE);
    rack_json_member_str(b, "code", rack_error_code(err));
    rack_json_member_str(b, "error", err->message);
    return rack_json_end(b);
}

JsonBuilder *rack_json_request(const char *cmd)
{
    JsonBuilder *b = rack_json_begin();

    rack_json_member_str(b, "cmd", cmd);
    return b;
}

JsonBuilder *rack_json_qmp(const char *command)
{
    JsonBuilder *b = rack_json_begin();

    rack_json_member_str(b, "execute", command);
    json_builder_set_member_name(b, "arguments");
    json_builder_begin_object(b);
    return b;
}

char *rack_json_qmp_end(JsonBuilder *b)
{
    json_builder_end_object(b);
    return rack_json_end(b);
}

char *rack_json_end(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = NULL;

    json_builder_end_object(b);
    root = json_builder_get_root(b);
    g_object_unref(b);
    return json_to_string(root, FALSE);
}
