/*
 * The rack's error domain (rack-error.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "rack-error.h"

G_DEFINE_QUARK(dredbox-rack-error-quark, rack_error)

/* The codes a reply may carry, by name */
static const char *const codes[] = {
    [RACK_ERROR_INVALID] = "invalid",
    [RACK_ERROR_NO_SPACE] = "no-space",
    [RACK_ERROR_NOT_FOUND] = "not-found",
    [RACK_ERROR_DENIED] = "denied",
    [RACK_ERROR_EXISTS] = "exists",
    [RACK_ERROR_HOST] = "host",
    [RACK_ERROR_DOWN] = "down",
    [RACK_ERROR_PENDING] = "pending",
    [RACK_ERROR_BUSY] = "busy",
};

const char *rack_error_code(const GError *err)
{
    if (err->domain == RACK_ERROR && err->code >= 0 &&
        err->code < (int)G_N_ELEMENTS(codes)) {
        return codes[err->code];
    }
    return "invalid";
}

RackError rack_error_from_code(const char *code)
{
    for (guint i = 0; code && i < G_N_ELEMENTS(codes); i++) {
        if (!strcmp(code, codes[i])) {
            return i;
        }
    }
    return RACK_ERROR_INVALID;
}

gboolean rack_error_is_transport(const GError *err)
{
    return err && err->domain == RACK_ERROR &&
           err->code >= RACK_ERROR_UNREACHABLE;
}
