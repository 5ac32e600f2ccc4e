/*
 * Sizes as people write them (size.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>

#include "size.h"

bool rack_parse_size(const char *s, uint64_t *out)
{
    char *end;
    guint64 v, mult = 1;

    if (!s || !g_ascii_isdigit(*s)) {
        return false;
    }
    errno = 0;
    v = g_ascii_strtoull(s, &end, 10);
    if (errno) {
        return false;
    }
    switch (g_ascii_toupper(*end)) {
    case 'K':
        mult = 1ULL << 10;
        end++;
        break;
    case 'M':
        mult = 1ULL << 20;
        end++;
        break;
    case 'G':
        mult = 1ULL << 30;
        end++;
        break;
    case 'T':
        mult = 1ULL << 40;
        end++;
        break;
    }
    if (*end == 'i' && mult > 1) {
        end++;
    }
    if ((*end == 'B' || *end == 'b') && mult > 1) {
        end++;
    }
    if (*end || v > G_MAXUINT64 / mult) {
        return false;
    }
    *out = v * mult;
    return true;
}
