/*
 * The names the rack's peers give things: a pool client, a circuit's
 * owner, a request key.  They end up in file names, logs and databases,
 * so they are 1 to a maximum of [A-Za-z0-9._-].
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_RACK_NAME_H
#define DREDBOX_RACK_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* Whether @s (NULL: no) is such a name, at most @max characters long */
bool rack_name_valid(const char *s, size_t max);

#endif
