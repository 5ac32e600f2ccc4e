/*
 * Typed access to the members of a JSON object that came from outside the
 * process: a control-socket request or a peer's reply.
 *
 * json-glib's own getters answer a member of the wrong type with NULL or
 * 0 (and a CRITICAL), so a caller crashes or silently misreads.  These
 * check presence, type and range first; a mismatch is a RACK_ERROR_INVALID
 * that names the member ("member \"cmd\" must be a string").
 *
 * json_get_* need the member.  json_opt_* accept it absent or null and
 * then leave *out as it was: set the default before the call.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_RACK_JSON_H
#define DREDBOX_RACK_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <json-glib/json-glib.h>

/*
 * The object @text holds, or NULL if @text is not one JSON object.  A
 * blank @text parses without error into no value at all, which json-glib's
 * node macros do not accept.  The object belongs to @parser.
 */
JsonObject *rack_json_parse_object(JsonParser *parser, const char *text);

bool rack_json_get_str(JsonObject *o, const char *name, const char **out,
                  GError **errp);
bool rack_json_opt_str(JsonObject *o, const char *name, const char **out,
                  GError **errp);

/* An integer from 0 to @max. */
bool rack_json_get_uint(JsonObject *o, const char *name, uint64_t max,
                   uint64_t *out, GError **errp);
bool rack_json_opt_uint(JsonObject *o, const char *name, uint64_t max,
                   uint64_t *out, GError **errp);

/* A number of bytes, or a string with a K/M/G/T suffix ("512M"). */
bool rack_json_get_size(JsonObject *o, const char *name, uint64_t *out,
                   GError **errp);

bool rack_json_get_bool(JsonObject *o, const char *name, bool *out,
                   GError **errp);
bool rack_json_opt_bool(JsonObject *o, const char *name, bool *out,
                   GError **errp);

bool rack_json_get_object(JsonObject *o, const char *name, JsonObject **out,
                     GError **errp);
bool rack_json_get_array(JsonObject *o, const char *name, JsonArray **out,
                    GError **errp);

/* NULL in *@out when it is absent or null */
bool rack_json_opt_array(JsonObject *o, const char *name, JsonArray **out,
                    GError **errp);

/* Element @i of @a, which must be an object. */
bool rack_json_array_get_obj(JsonArray *a, guint i, JsonObject **out,
                        GError **errp);
/* Element @i of @a, which must be a string. */
bool rack_json_array_get_str(JsonArray *a, guint i, const char **out,
                             GError **errp);
/* Element @i of @a, which must be an integer from 0 to @max. */
bool rack_json_array_get_uint(JsonArray *a, guint i, uint64_t max,
                              uint64_t *out, GError **errp);

/* Add member @name to the object @b is building. */
void rack_json_member_int(JsonBuilder *b, const char *name, gint64 value);
void rack_json_member_str(JsonBuilder *b, const char *name, const char *value);
void rack_json_member_bool(JsonBuilder *b, const char *name, gboolean value);

/* A JSON object for one line; rack_json_end closes it and returns the
 * line (consumes @b). */
JsonBuilder *rack_json_begin(void);
char *rack_json_end(JsonBuilder *b);
/* A reply object that already says {"ok": true, ...}; end it with
 * rack_json_end. */
JsonBuilder *rack_json_reply_begin(void);
/* {"ok": false, "code": ..., "error": ...}: @err as a reply (rack-error.h) */
char *rack_json_error_reply(const GError *err);
/* A request object that already says {"cmd": @cmd, ...}; end it with
 * rack_json_end. */
JsonBuilder *rack_json_request(const char *cmd);
/* A QMP command {"execute": @command, "arguments": {...}}: add the
 * arguments, then end it with rack_json_qmp_end. */
JsonBuilder *rack_json_qmp(const char *command);
char *rack_json_qmp_end(JsonBuilder *b);

#endif
