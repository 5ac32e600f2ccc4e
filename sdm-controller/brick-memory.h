/*
 * A compute brick's remote memory as the controller drives it: the brick
 * has one virtio-mem device per memory brick M, "vmem-mM", reached over
 * the brick's QMP socket.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_SDM_BRICK_MEMORY_H
#define DREDBOX_SDM_BRICK_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* Property @prop ("size", "requested-size", "node") of brick @c's
 * vmem-m@m. */
bool brick_memory_get(const char *qmp, unsigned c, unsigned m,
                      const char *prop, uint64_t *out, GError **errp);
/*
 * Where brick @c's vmem-m@m sits in its guest's physical memory: its
 * first address and the size of its whole range (its backend's).
 */
bool brick_memory_range(const char *qmp, unsigned c, unsigned m,
                        uint64_t *start, uint64_t *size, GError **errp);
/* Ask for @target bytes (the guest plugs or unplugs in its own time) */
bool brick_memory_request(const char *qmp, unsigned c, unsigned m,
                          uint64_t target, GError **errp);
/* Ask for @target bytes and wait until the guest has plugged (or
 * unplugged) to exactly that, at most @timeout_us. */
bool brick_memory_resize(const char *qmp, unsigned c, unsigned m,
                         uint64_t target, gint64 timeout_us, GError **errp);

#endif
