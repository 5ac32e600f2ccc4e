/*
 * A minimal blocking QMP client for the rack tools: connect to a brick's
 * QMP socket, negotiate, run one command.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_QMP_CLIENT_H
#define DREDBOX_QMP_CLIENT_H

#include <stdbool.h>
#include <glib.h>

#include <json-glib/json-glib.h>

/* Run @command (a JSON object) on the QMP socket @path; false + @errp on
 * a QMP error (RACK_ERROR_NOT_FOUND for QMP's DeviceNotFound, else
 * RACK_ERROR_DENIED) or an unreachable brick. */
bool qmp_run(const char *path, const char *command, GError **errp);
/* The same, returning the reply's "return" value (json_node_unref it). */
JsonNode *qmp_call(const char *path, const char *command, GError **errp);

#endif
