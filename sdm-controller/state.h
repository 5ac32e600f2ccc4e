/*
 * The SDM controller's persistent state: every allocation in SQLite.  An
 * allocation is written as "pending" before the platform synthesizer
 * touches the rack and becomes "committed" before the request is
 * acknowledged, so that after a crash the controller knows both what it
 * promised and what it may have left half done.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_STATE_H
#define DREDBOX_SDM_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct SdmState SdmState;

typedef enum {
    SDM_ALLOC_PENDING,      /* being set up, or its outcome not known yet */
    SDM_ALLOC_COMMITTED,    /* set up: promised to its brick */
    SDM_ALLOC_RELEASING,    /* a detach has begun taking it down */
} SdmAllocStatus;

/*
 * A client's name for one request (dredboxctl makes one per request): a
 * retry with the same key gets the first request's outcome.
 */
#define SDM_KEY_MAX 64

typedef struct SdmAlloc {
    int64_t id;
    unsigned compute;
    unsigned compute_port;
    unsigned memory;
    unsigned memory_port;
    uint64_t size;
    int64_t segment;        /* pool segment, -1 until known */
    SdmAllocStatus status;
    /* Memory on the RMC path: the brick's agent and driver hot-add it
     * (otherwise its virtio-mem device for the memory brick grows). */
    bool rmc;
    /* An accelerator's queue: the memory is shared with it (reserve.h). */
    bool has_accel;
    unsigned accel;
    unsigned accel_port;
    unsigned accel_memory_port;
    char key[SDM_KEY_MAX + 1];  /* the attach request's key, "" if none */
    char release_key[SDM_KEY_MAX + 1];  /* the detach's, once releasing */
} SdmAlloc;

SdmState *sdm_state_open(const char *path, GError **errp);
void sdm_state_close(SdmState *st);
/* Record a new allocation as pending; sets @a->id. */
bool sdm_state_add(SdmState *st, SdmAlloc *a, GError **errp);
bool sdm_state_commit(SdmState *st, int64_t id, int64_t segment,
                      GError **errp);
/*
 * A committed allocation is being released (by the detach with @key, or
 * NULL), or a release was refused.
 */
bool sdm_state_set_status(SdmState *st, int64_t id, SdmAllocStatus status,
                          const char *key, GError **errp);
/* Record the pool segment of a pending allocation as soon as it exists. */
bool sdm_state_set_segment(SdmState *st, int64_t id, int64_t segment,
                           GError **errp);
/* The allocation's circuit now ends at its memory brick's port @port. */
bool sdm_state_set_memory_port(SdmState *st, int64_t id, unsigned port,
                               GError **errp);
bool sdm_state_remove(SdmState *st, int64_t id, GError **errp);
/*
 * No new allocation gets an id up to @last: leases named after it
 * (sdm-aID) may be a former database's, e.g. a persistent brick's.
 */
bool sdm_state_reserve_ids(SdmState *st, int64_t last, GError **errp);
/* Every allocation, in id order (free with g_array_unref). */
GArray *sdm_state_list(SdmState *st, GError **errp);
/*
 * The first allocation id this database gave, or -1 if none yet: "sdm-aN"
 * leases below it are an earlier database's (a persistent brick's).
 */
int64_t sdm_state_first_id(SdmState *st);
/* Whether @key is a valid request key: 1 to SDM_KEY_MAX of [A-Za-z0-9._-] */
bool sdm_key_valid(const char *key);
/*
 * The reply kept for request @key in *@reply (NULL: none kept).  The
 * newest SDM_REPLIES_KEPT are kept.
 */
#define SDM_REPLIES_KEPT 4096
bool sdm_state_reply_get(SdmState *st, const char *key, char **reply,
                         GError **errp);
bool sdm_state_reply_put(SdmState *st, const char *key, const char *reply,
                         GError **errp);

#endif
