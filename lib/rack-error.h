/*
 * The rack's error domain: one for every tool, library and daemon.
 *
 * The first codes say what a request, a file or an option got wrong or
 * what a peer refused; a daemon's error reply carries them by name as its
 * "code" (docs/memory-pool.md, "The protocol").  The transport codes say
 * that a peer could not be asked at all; they never travel in a reply.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_RACK_ERROR_H
#define DREDBOX_RACK_ERROR_H

#include <glib.h>

#define RACK_ERROR rack_error_quark()
typedef enum {
    RACK_ERROR_INVALID,     /* "invalid": malformed or out of range */
    RACK_ERROR_NO_SPACE,    /* "no-space": no brick or port has room */
    RACK_ERROR_NOT_FOUND,   /* "not-found": no such brick, segment, ... */
    RACK_ERROR_DENIED,      /* "denied": the requester may not do that */
    RACK_ERROR_EXISTS,      /* "exists": declared twice */
    RACK_ERROR_HOST,        /* "host": the host could not do it */
    RACK_ERROR_DOWN,        /* "down": a part it needs has failed */
    RACK_ERROR_PENDING,     /* "pending": its outcome is not known yet */
    RACK_ERROR_BUSY,        /* "busy": not now, ask again in a moment */
    /* Transport: the peer could not be asked */
    RACK_ERROR_UNREACHABLE, /* no one listens, or the connection failed */
    RACK_ERROR_TIMEOUT,     /* no reply in time */
    RACK_ERROR_CLOSED,      /* the peer hung up */
    RACK_ERROR_PROTOCOL,    /* the peer's reply makes no sense */
} RackError;

GQuark rack_error_quark(void);
/*
 * The name of @err's code in a reply: "invalid" ... "busy"; "invalid" for
 * other domains and the transport codes, which no reply carries.
 */
const char *rack_error_code(const GError *err);
/* The code a reply's "code" names; RACK_ERROR_INVALID if none does. */
RackError rack_error_from_code(const char *code);
/* Whether @err says that the peer could not be asked (transport). */
gboolean rack_error_is_transport(const GError *err);

#endif
