/*
 * libdredbox-accel: submit work to an accelerator brick from a compute
 * brick's Linux user space (docs/accelerator.md).
 *
 * The SDM controller gives the brick an accelerator by putting a shared
 * pool segment behind one RMC port (an entry covering exactly the
 * segment) and binding that port's doorbell to the accelerator.  The
 * library finds such a port, maps its window through /dev/mem and the
 * RMC's registers through the dredbox-rmc driver's regs file, or /dev/mem
 * without the driver (a stock kernel needs none), lays out the queue
 * (include/dredbox/accel-queue.h) and polls for completions: without a
 * kernel driver user space cannot take the RMC's completion interrupt, so
 * it watches the port's completion bit and the slot instead.
 *
 * The window is device memory: touch it with aligned accesses only
 * (drq_read / drq_write do).  One process per queue; not thread-safe.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LIBDREDBOX_ACCEL_H
#define LIBDREDBOX_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#include "dredbox/accel-queue.h"

typedef struct DrqQueue DrqQueue;

/*
 * Open the queue behind RMC port @port (-1: the first port with one),
 * waiting up to @wait_ms for its accelerator to answer.  NULL with a
 * message in @err if there is none.
 */
DrqQueue *drq_open(int port, unsigned wait_ms, char *err, size_t errlen);
void drq_close(DrqQueue *q);

unsigned drq_port(const DrqQueue *q);
uint64_t drq_size(const DrqQueue *q);          /* the segment's bytes */
/* The segment at offset @off, for aligned accesses of your own. */
volatile void *drq_mem(const DrqQueue *q, uint64_t off);
/* Copy in or out with aligned 8-byte accesses (@off, @len multiples of 8). */
void drq_write(DrqQueue *q, uint64_t off, const void *buf, uint64_t len);
void drq_read(DrqQueue *q, uint64_t off, void *buf, uint64_t len);

/*
 * Put one descriptor in a free slot and ring: the slot, or -1 if there is
 * none or the queue is being released (drq_wait(-1) says which).
 */
int drq_submit(DrqQueue *q, uint32_t op, uint64_t src, uint64_t dst,
               uint64_t len, uint64_t arg);
/*
 * Wait for @slot: DRQ_OK (its result in @result), the accelerator's
 * DRQ_ERR_*, DRQ_ERR_LOST if the accelerator went away (every slot it
 * held fails so) or DRQ_ERR_TIMEOUT after @timeout_ms.  Frees the slot.
 * drq_submit's -1 is DRQ_ERR_FULL or DRQ_ERR_CLOSED.
 */
uint32_t drq_wait(DrqQueue *q, int slot, unsigned timeout_ms,
                  uint64_t *result);
/* drq_submit then drq_wait. */
uint32_t drq_run(DrqQueue *q, uint32_t op, uint64_t src, uint64_t dst,
                 uint64_t len, uint64_t arg, unsigned timeout_ms,
                 uint64_t *result);
const char *drq_strerror(uint32_t status);

/*
 * Release the queue behind RMC port @port (the SDM agent does, when the
 * controller takes the accelerator away): its users submit nothing more
 * (DRQ_ERR_CLOSED, and drq_open refuses it), and what they submitted
 * finishes.  0 once nothing is in flight; -1 with a message in @err if the
 * port has no queue or jobs still run after @timeout_ms (the queue is then
 * open again).
 */
int drq_release(unsigned port, unsigned timeout_ms, char *err, size_t errlen);

#endif
