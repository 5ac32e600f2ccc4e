/*
 * Sizes as people write them in rack files, requests and options: bytes,
 * or a number with K, M, G or T (powers of 1024), optionally followed by
 * "i" and/or "B": "4096", "512M", "1GiB".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SIZE_H
#define DREDBOX_SIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* *@out = the size @s says; false if it says none or overflows. */
bool rack_parse_size(const char *s, uint64_t *out);

#endif
