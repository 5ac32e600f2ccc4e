/*
 * The rack graph as a picture (docs/reliability.md): the controller's
 * "graph" reply as Graphviz DOT, bricks by tray, circuits between them,
 * and what is down or degraded in red.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_GRAPH_DOT_H
#define DREDBOX_GRAPH_DOT_H

#include <json-glib/json-glib.h>

/* DOT for @graph, a "graph" reply; NULL and @errp if it is malformed */
char *sdm_graph_dot(JsonObject *graph, GError **errp);

#endif
