/*
 * The names the rack's peers give things (rack-name.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <glib.h>

#include "rack-name.h"

bool rack_name_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!g_ascii_isalnum(s[i]) && !strchr("._-", s[i])) {
            return false;
        }
    }
    return true;
}
