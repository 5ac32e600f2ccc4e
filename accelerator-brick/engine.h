/*
 * The accelerator brick's engines (docs/accelerator.md): check one queue
 * descriptor against the segment it came from, then carry it out.  Pure
 * functions on a mapping, so that the daemon and the unit tests share
 * them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_ACCEL_ENGINE_H
#define DREDBOX_ACCEL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dredbox/accel-queue.h"

/* DRQ_OK, or the DRQ_ERR_* a descriptor deserves in a @size-byte segment. */
uint32_t engine_check(const DrqSlot *d, uint64_t size);

/*
 * Carry out the checked descriptor @d on the segment at @base, at most
 * @rate bytes per second (0: as fast as the host goes).  Returns what
 * goes in the slot's result.
 */
uint64_t engine_run(const DrqSlot *d, uint8_t *base, uint64_t rate);

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* Name of an operation, or NULL. */
const char *engine_op_name(uint32_t op);

#endif
