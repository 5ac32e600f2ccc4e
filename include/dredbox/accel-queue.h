/*
 * dReDBox accelerator brick: the work queue a compute brick shares with an
 * accelerator in one remote-memory segment, and the doorbell link between
 * the compute brick's RMC and the accelerator; docs/accelerator.md
 * describes both.  Plain C so that the accelerator, the RMC model, the
 * tests and the guest library share it.  Everything is little-endian.
 *
 * Segment layout (offsets from the segment's start):
 *
 *   0x0000  DrqHeader: magic, version, geometry, the producer's and the
 *           consumer's counters on separate cache lines
 *   0x1000  DRQ_SLOTS descriptors (DrqSlot, 64 bytes each)
 *   0x10000 data area: every descriptor's source and destination must lie
 *           in [DRQ_DATA_OFFSET, segment size)
 *
 * A slot moves FREE -> OWNED -> SUBMITTED (the compute brick, the
 * producer), SUBMITTED -> IN_PROGRESS -> DONE or ERROR (the accelerator,
 * the consumer), DONE/ERROR -> FREE (the producer, after reading the
 * result).
 *
 * Release (the SDM controller takes the accelerator away): the brick's
 * agent sets DrqHeader.closing, then waits until no slot is OWNED,
 * SUBMITTED or IN_PROGRESS.  A producer marks its slot OWNED, then reads
 * closing: if set, it frees the slot and submits nothing (DRQ_ERR_CLOSED);
 * if not, the agent will wait for that slot.  Both sides order their write
 * before their read with a full barrier.  The accelerator only ever takes SUBMITTED slots, copies the
 * descriptor before checking it, and writes nothing but the slot's
 * result, status and state outside the data ranges it was given.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_ACCEL_QUEUE_H
#define HW_DREDBOX_ACCEL_QUEUE_H

#include <stdint.h>

#define DRQ_MAGIC               0x51524244u     /* "DBRQ" */
#define DRQ_VERSION             1
#define DRQ_SLOTS               256
#define DRQ_SLOTS_OFFSET        0x1000
#define DRQ_DATA_OFFSET         0x10000

typedef struct DrqHeader {
    uint32_t magic;             /* DRQ_MAGIC once the producer set it up */
    uint32_t version;           /* DRQ_VERSION */
    uint32_t nslots;            /* DRQ_SLOTS */
    uint32_t slot_size;         /* sizeof(DrqSlot) */
    uint64_t data_offset;       /* DRQ_DATA_OFFSET */
    uint32_t closing;           /* nonzero: being released, submit nothing */
    uint8_t pad0[36];
    uint64_t submitted;         /* producer: slots submitted so far */
    uint8_t pad1[56];
    uint64_t completed;         /* consumer: slots finished so far */
    uint8_t pad2[56];
} DrqHeader;

/* DrqSlot.state */
enum {
    DRQ_FREE = 0,
    DRQ_OWNED = 1,              /* the producer is filling it in */
    DRQ_SUBMITTED = 2,
    DRQ_IN_PROGRESS = 3,
    DRQ_DONE = 4,
    DRQ_ERROR = 5,              /* DrqSlot.status says why */
};

/* DrqSlot.op */
enum {
    DRQ_OP_COPY = 1,            /* len bytes from src to dst, no overlap */
    DRQ_OP_FILL = 2,            /* dst, len (a multiple of 8) := arg */
    DRQ_OP_CRC32C = 3,          /* result := CRC32C of src, len from arg */
    DRQ_OP_SHA256 = 4,          /* 32 bytes at dst := SHA-256 of src, len */
};

/* DrqSlot.status */
enum {
    DRQ_OK = 0,
    DRQ_ERR_OP = 1,             /* unknown operation */
    DRQ_ERR_MALFORMED = 2,      /* reserved fields not zero */
    DRQ_ERR_LENGTH = 3,         /* zero, or not what the operation needs */
    DRQ_ERR_RANGE = 4,          /* outside the segment */
    DRQ_ERR_QUEUE = 5,          /* reaches into the queue's own pages */
    DRQ_ERR_OVERLAP = 6,        /* source and destination overlap */
    DRQ_ERR_LOST = 7,           /* producer: the accelerator went away */
    DRQ_ERR_TIMEOUT = 8,        /* producer: no answer in time */
    DRQ_ERR_FULL = 9,           /* producer: no free slot */
    DRQ_ERR_CLOSED = 10,        /* producer: the queue is being released */
};

typedef struct DrqSlot {
    uint32_t state;
    uint32_t op;
    uint64_t src;               /* segment offsets */
    uint64_t dst;
    uint64_t len;
    uint64_t arg;               /* FILL: the pattern; CRC32C: the seed */
    uint64_t result;            /* CRC32C: the checksum */
    uint32_t status;
    uint32_t tag;               /* the producer's, left alone */
    uint64_t reserved;          /* must be zero */
} DrqSlot;

_Static_assert(sizeof(DrqHeader) == 192, "DrqHeader layout");
_Static_assert(sizeof(DrqSlot) == 64, "DrqSlot layout");
_Static_assert(DRQ_SLOTS_OFFSET + DRQ_SLOTS * 64 <= DRQ_DATA_OFFSET,
               "slots fit below the data area");

/*
 * The doorbell link: a UNIX stream socket the accelerator listens on.
 * The RMC connects and sends HELLO naming the queue's segment; the
 * accelerator opens that segment through its own pool grant and answers
 * READY (value 0) or READY with a DRQ_LINK_ERR_* and hangs up.  Then each
 * write to the port's doorbell register becomes a DOORBELL, and each
 * finished slot a COMPLETION back (value: the slot), which the RMC turns
 * into its completion interrupt.  Messages are 16 bytes.
 */
typedef struct DrqLinkMsg {
    uint32_t type;
    uint32_t value;
    uint64_t arg;               /* zero */
} DrqLinkMsg;

enum {
    DRQ_LINK_HELLO = 1,         /* RMC -> accelerator: value = segment */
    DRQ_LINK_READY = 2,         /* accelerator -> RMC: value = error */
    DRQ_LINK_DOORBELL = 3,      /* RMC -> accelerator: the guest's value */
    DRQ_LINK_COMPLETION = 4,    /* accelerator -> RMC: value = slot */
};

enum {
    DRQ_LINK_OK = 0,
    DRQ_LINK_ERR_SEGMENT = 1,   /* not granted to the accelerator, gone */
    DRQ_LINK_ERR_PROTOCOL = 2,
};

#endif
