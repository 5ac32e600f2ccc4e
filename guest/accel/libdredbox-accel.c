/*
 * libdredbox-accel (libdredbox-accel.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dredbox/address-map.h"
#include "dredbox/rmc-regs.h"
#include "libdredbox-accel.h"
#include "rmc-regs-map.h"


struct DrqQueue {
    int memfd;
    volatile uint32_t *rmc;
    unsigned port;
    uint32_t entry;                 /* the port's wide entry */
    volatile uint8_t *seg;
    uint64_t size;
    uint8_t abandoned[DRQ_SLOTS];   /* timed out: reclaim when finished */
    uint32_t submit_error;          /* why drq_submit last gave -1 */
};

static void say(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static uint32_t rd(DrqQueue *q, uint32_t off)
{
    return q->rmc[off / 4];
}

static void wr(DrqQueue *q, uint32_t off, uint32_t v)
{
    q->rmc[off / 4] = v;
}

static uint64_t rd64(DrqQueue *q, uint32_t off)
{
    return rd(q, off) | (uint64_t)rd(q, off + 4) << 32;
}

static uint32_t port_status(DrqQueue *q, unsigned port)
{
    return rd(q, RMC_WIDE_BASE + port * RMC_WIDE_STRIDE + RMC_WIDE_STATUS);
}

static volatile DrqSlot *slot_at(DrqQueue *q, int i)
{
    return (volatile DrqSlot *)(q->seg + DRQ_SLOTS_OFFSET) + i;
}

static volatile DrqHeader *header(DrqQueue *q)
{
    return (volatile DrqHeader *)q->seg;
}

/* A queue this process did not leave behind gets a fresh layout. */
static void queue_setup(DrqQueue *q)
{
    volatile DrqHeader *h = header(q);

    if (h->magic == DRQ_MAGIC && h->version == DRQ_VERSION &&
        h->nslots == DRQ_SLOTS && h->slot_size == sizeof(DrqSlot) &&
        h->data_offset == DRQ_DATA_OFFSET) {
        /* Only finished or half-written slots are ours to take back. */
        for (int i = 0; i < DRQ_SLOTS; i++) {
            uint32_t st = slot_at(q, i)->state;

            if (st == DRQ_DONE || st == DRQ_ERROR || st == DRQ_OWNED) {
                slot_at(q, i)->state = DRQ_FREE;
            }
        }
        return;
    }
    for (int i = 0; i < DRQ_SLOTS; i++) {
        volatile uint64_t *w = (volatile uint64_t *)slot_at(q, i);

        for (unsigned k = 0; k < sizeof(DrqSlot) / 8; k++) {
            w[k] = 0;
        }
    }
    h->version = DRQ_VERSION;
    h->closing = 0;
    h->nslots = DRQ_SLOTS;
    h->slot_size = sizeof(DrqSlot);
    h->data_offset = DRQ_DATA_OFFSET;
    h->submitted = 0;
    h->completed = 0;
    __sync_synchronize();
    h->magic = DRQ_MAGIC;
}

static void *map_phys(int fd, uint64_t phys, uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, phys);

    return p == MAP_FAILED ? NULL : p;
}

/* A queue handle with the RMC's registers mapped, or NULL. */
static DrqQueue *rmc_open(char *err, size_t errlen)
{
    DrqQueue *q = calloc(1, sizeof(*q));

    if (!q) {
        say(err, errlen, "out of memory");
        return NULL;
    }
    q->submit_error = DRQ_ERR_FULL;
    q->memfd = open("/dev/mem", O_RDWR | O_SYNC);
    if (q->memfd < 0) {
        say(err, errlen, "cannot open /dev/mem: %s", strerror(errno));
        free(q);
        return NULL;
    }
    q->rmc = rmc_regs_map(err, errlen);
    if (!q->rmc) {
        drq_close(q);
        return NULL;
    }
    if (rd(q, RMC_ID) != RMC_ID_VALUE ||
        !(rd(q, RMC_CAP) & RMC_CAP_DOORBELL)) {
        say(err, errlen, "no Remote Memory Controller with doorbells here");
        drq_close(q);
        return NULL;
    }
    return q;
}

/* Map the segment behind port @port's entry (@len bytes of it, 0: all). */
static int segment_map(DrqQueue *q, unsigned port, uint64_t len, char *err,
                       size_t errlen)
{
    q->port = port;
    q->entry = RMC_WIDE_BASE + port * RMC_WIDE_STRIDE;
    q->size = rd64(q, q->entry + RMC_WIDE_END) -
              rd64(q, q->entry + RMC_WIDE_START) + 1;
    if (q->size <= DRQ_DATA_OFFSET) {
        say(err, errlen, "port %u's window is too small for a queue", port);
        return -1;
    }
    q->size = len ? len : q->size;
    q->seg = map_phys(q->memfd, rd64(q, q->entry + RMC_WIDE_START), q->size);
    if (!q->seg) {
        say(err, errlen, "cannot map port %u's window: %s", port,
            strerror(errno));
        return -1;
    }
    return 0;
}

/* Whether the queue has a layout and is being released. */
static int queue_closing(DrqQueue *q)
{
    volatile DrqHeader *h = header(q);

    return h->magic == DRQ_MAGIC && h->version == DRQ_VERSION && h->closing;
}

DrqQueue *drq_open(int port, unsigned wait_ms, char *err, size_t errlen)
{
    DrqQueue *q = rmc_open(err, errlen);
    uint64_t deadline = now_ms() + wait_ms;
    const uint32_t ready = RMC_STATUS_LIVE | RMC_STATUS_ENGINE;
    unsigned nports, first, last;
    int found = -1;

    if (!q) {
        return NULL;
    }
    nports = rd(q, RMC_CAP) & RMC_CAP_PORTS_MASK;
    if (port >= (int)nports) {
        say(err, errlen, "port %d does not exist (0 to %u)", port,
            nports - 1);
        goto fail;
    }
    /* The ports to look at: @port, or all of them. */
    first = port < 0 ? 0 : port;
    last = port < 0 ? nports : (unsigned)port + 1;
    for (;;) {
        for (unsigned p = first; p < last && found < 0; p++) {
            if ((port_status(q, p) & ready) == ready) {
                found = p;
            }
        }
        if (found >= 0 || now_ms() >= deadline) {
            break;
        }
        usleep(20000);
    }
    if (found < 0) {
        say(err, errlen, port < 0 ? "no RMC port has an accelerator"
            " (ask the SDM controller: dredboxctl attach --accelerator)"
            : "RMC port %d has no accelerator", port);
        goto fail;
    }
    if (segment_map(q, found, 0, err, errlen)) {
        goto fail;
    }
    if (queue_closing(q)) {
        say(err, errlen, "port %d: %s", found, drq_strerror(DRQ_ERR_CLOSED));
        goto fail;
    }
    queue_setup(q);
    return q;

fail:
    drq_close(q);
    return NULL;
}

void drq_close(DrqQueue *q)
{
    if (q->seg) {
        munmap((void *)q->seg, q->size);
    }
    if (q->rmc) {
        munmap((void *)q->rmc, RMC_CONFIG_SIZE);
    }
    close(q->memfd);
    free(q);
}

unsigned drq_port(const DrqQueue *q)
{
    return q->port;
}

uint64_t drq_size(const DrqQueue *q)
{
    return q->size;
}

volatile void *drq_mem(const DrqQueue *q, uint64_t off)
{
    return q->seg + off;
}

/* @len bytes in aligned 8-byte accesses (the window is device memory). */
static void copy_words(volatile uint64_t *d, const volatile uint64_t *s,
                       uint64_t len)
{
    for (uint64_t i = 0; i < len / 8; i++) {
        d[i] = s[i];
    }
}

void drq_write(DrqQueue *q, uint64_t off, const void *buf, uint64_t len)
{
    copy_words((volatile uint64_t *)(q->seg + off), buf, len);
}

void drq_read(DrqQueue *q, uint64_t off, void *buf, uint64_t len)
{
    copy_words(buf, (const volatile uint64_t *)(q->seg + off), len);
}

int drq_submit(DrqQueue *q, uint32_t op, uint64_t src, uint64_t dst,
               uint64_t len, uint64_t arg)
{
    volatile DrqSlot *s = NULL;
    int i;

    for (i = 0; i < DRQ_SLOTS; i++) {
        uint32_t st = slot_at(q, i)->state;

        if (q->abandoned[i] && (st == DRQ_DONE || st == DRQ_ERROR)) {
            q->abandoned[i] = 0;
            slot_at(q, i)->state = DRQ_FREE;
            st = DRQ_FREE;
        }
        if (st == DRQ_FREE && !q->abandoned[i]) {
            s = slot_at(q, i);
            break;
        }
    }
    if (!s) {
        q->submit_error = DRQ_ERR_FULL;
        return -1;
    }
    s->state = DRQ_OWNED;
    __sync_synchronize();   /* OWNED before closing is read: accel-queue.h */
    if (header(q)->closing) {
        s->state = DRQ_FREE;
        q->submit_error = DRQ_ERR_CLOSED;
        return -1;
    }
    s->op = op;
    s->src = src;
    s->dst = dst;
    s->len = len;
    s->arg = arg;
    s->result = 0;
    s->status = 0;
    s->tag = i;
    s->reserved = 0;
    __sync_synchronize();
    s->state = DRQ_SUBMITTED;
    header(q)->submitted++;
    __sync_synchronize();
    wr(q, q->entry + RMC_WIDE_DOORBELL, i);
    return i;
}

/* The accelerator is gone: whatever it held will never finish. */
static void fail_outstanding(DrqQueue *q)
{
    for (int i = 0; i < DRQ_SLOTS; i++) {
        volatile DrqSlot *s = slot_at(q, i);

        if (s->state == DRQ_SUBMITTED || s->state == DRQ_IN_PROGRESS) {
            s->status = DRQ_ERR_LOST;
            s->state = DRQ_ERROR;
        }
    }
}

uint32_t drq_wait(DrqQueue *q, int slot, unsigned timeout_ms,
                  uint64_t *result)
{
    volatile DrqSlot *s;
    uint64_t deadline = now_ms() + timeout_ms;
    uint32_t bit = 1u << q->port;

    if (slot < 0 || slot >= DRQ_SLOTS) {
        return q->submit_error; /* drq_submit's -1 */
    }
    s = slot_at(q, slot);
    for (unsigned spin = 0;; spin++) {
        uint32_t st = s->state, status;

        if (st == DRQ_DONE || st == DRQ_ERROR) {
            status = s->status;
            if (result) {
                *result = s->result;
            }
            s->state = DRQ_FREE;
            return status;
        }
        if (rd(q, RMC_COMPLETION) & bit) {
            wr(q, RMC_COMPLETION, bit);
            continue;
        }
        if (!(port_status(q, q->port) & RMC_STATUS_ENGINE)) {
            fail_outstanding(q);
            continue;
        }
        if (now_ms() >= deadline) {
            q->abandoned[slot] = 1;
            return DRQ_ERR_TIMEOUT;
        }
        if (spin > 1000) {
            usleep(100);
        }
    }
}

uint32_t drq_run(DrqQueue *q, uint32_t op, uint64_t src, uint64_t dst,
                 uint64_t len, uint64_t arg, unsigned timeout_ms,
                 uint64_t *result)
{
    return drq_wait(q, drq_submit(q, op, src, dst, len, arg), timeout_ms,
                    result);
}

/* Slots a producer or the accelerator still holds. */
static unsigned in_flight(DrqQueue *q)
{
    unsigned n = 0;

    for (int i = 0; i < DRQ_SLOTS; i++) {
        uint32_t st = slot_at(q, i)->state;

        n += st == DRQ_OWNED || st == DRQ_SUBMITTED || st == DRQ_IN_PROGRESS;
    }
    return n;
}

int drq_release(unsigned port, unsigned timeout_ms, char *err, size_t errlen)
{
    DrqQueue *q = rmc_open(err, errlen);
    uint64_t deadline = now_ms() + timeout_ms;
    volatile DrqHeader *h;
    unsigned busy;
    int ret = -1;

    if (!q) {
        return -1;
    }
    if (port >= (rd(q, RMC_CAP) & RMC_CAP_PORTS_MASK) ||
        !(port_status(q, port) & RMC_STATUS_LIVE)) {
        say(err, errlen, "RMC port %u has no queue", port);
        goto out;
    }
    /* The header and the slots: the data is not ours to touch. */
    if (segment_map(q, port, DRQ_DATA_OFFSET, err, errlen)) {
        goto out;
    }
    h = header(q);
    if (h->magic != DRQ_MAGIC || h->version != DRQ_VERSION) {
        ret = 0;            /* never set up: nobody to tell */
        goto out;
    }
    h->closing = 1;
    __sync_synchronize();   /* closing before the slots are read */
    while ((busy = in_flight(q)) && now_ms() < deadline) {
        usleep(10000);
    }
    if (busy) {
        h->closing = 0;
        say(err, errlen, "%u job%s still running after %u ms", busy,
            busy == 1 ? "" : "s", timeout_ms);
        goto out;
    }
    ret = 0;
out:
    drq_close(q);
    return ret;
}

const char *drq_strerror(uint32_t status)
{
    static const char *const msg[] = {
        [DRQ_OK] = "done",
        [DRQ_ERR_OP] = "unknown operation",
        [DRQ_ERR_MALFORMED] = "malformed descriptor (reserved or unused"
                              " fields not zero)",
        [DRQ_ERR_LENGTH] = "bad length",
        [DRQ_ERR_RANGE] = "range outside the shared segment",
        [DRQ_ERR_QUEUE] = "range reaches into the queue itself",
        [DRQ_ERR_OVERLAP] = "source and destination overlap",
        [DRQ_ERR_LOST] = "the accelerator went away",
        [DRQ_ERR_TIMEOUT] = "no answer in time",
        [DRQ_ERR_FULL] = "every slot of the queue is taken",
        [DRQ_ERR_CLOSED] = "the queue is being released (the SDM controller"
                           " is taking the accelerator away)",
    };

    return status < sizeof(msg) / sizeof(msg[0]) && msg[status]
           ? msg[status] : "unknown status";
}
