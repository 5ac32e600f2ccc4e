/*
 * The accelerator brick's engines (engine.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <glib.h>

#include "engine.h"

#define CHUNK (1u << 20)    /* the unit of work between rate checks */

static const char *const op_names[] = {
    [DRQ_OP_COPY] = "copy",
    [DRQ_OP_FILL] = "fill",
    [DRQ_OP_CRC32C] = "crc32c",
    [DRQ_OP_SHA256] = "sha256",
};

const char *engine_op_name(uint32_t op)
{
    return op < G_N_ELEMENTS(op_names) ? op_names[op] : NULL;
}

/* CRC32C (Castagnoli, reflected 0x82f63b78), eight bytes at a time. */
static uint32_t crc_table[8][256];

static gpointer crc_init(gpointer unused)
{
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                              crc_table[0][crc_table[t - 1][i] & 0xff];
        }
    }
    return NULL;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    static GOnce once = G_ONCE_INIT;
    const uint8_t *p = buf;

    g_once(&once, crc_init, NULL);
    crc = ~crc;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t v;

        memcpy(&v, p, 8);
        v = GUINT64_FROM_LE(v) ^ crc;
        crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
              crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
              crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
              crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
    }
    while (len--) {
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    }
    return ~crc;
}

/* Where [off, off + len) may not go: outside the segment, into the queue. */
static uint32_t check_range(uint64_t off, uint64_t len, uint64_t size)
{
    if (off > size || len > size - off) {
        return DRQ_ERR_RANGE;
    }
    return off < DRQ_DATA_OFFSET ? DRQ_ERR_QUEUE : DRQ_OK;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

uint32_t engine_check(const DrqSlot *d, uint64_t size)
{
    /* Fields an operation does not use must be zero. */
    bool uses_src = d->op != DRQ_OP_FILL;
    bool uses_dst = d->op != DRQ_OP_CRC32C;
    bool uses_arg = d->op == DRQ_OP_FILL || d->op == DRQ_OP_CRC32C;
    uint64_t dst_len = d->op == DRQ_OP_SHA256 ? 32 : d->len;
    uint32_t r;

    if (!engine_op_name(d->op)) {
        return DRQ_ERR_OP;
    }
    if (d->reserved || (!uses_src && d->src) ||
        (!uses_dst && d->dst) || (!uses_arg && d->arg)) {
        return DRQ_ERR_MALFORMED;
    }
    if (!d->len || (d->op == DRQ_OP_FILL && d->len % 8)) {
        return DRQ_ERR_LENGTH;
    }
    if ((uses_src && (r = check_range(d->src, d->len, size))) ||
        (uses_dst && (r = check_range(d->dst, dst_len, size)))) {
        return r;
    }
    if (uses_src && uses_dst && overlap(d->src, d->len, d->dst, dst_len)) {
        return DRQ_ERR_OVERLAP;
    }
    return DRQ_OK;
}

/* Hold the engine to @rate bytes per second since @start. */
static void pace(uint64_t done, uint64_t rate, gint64 start)
{
    gint64 ahead;

    if (rate) {
        ahead = start + (gint64)(done * (double)G_USEC_PER_SEC / rate) -
                g_get_monotonic_time();
        if (ahead > 0) {
            g_usleep(ahead);
        }
    }
}

uint64_t engine_run(const DrqSlot *d, uint8_t *base, uint64_t rate)
{
    g_autoptr(GChecksum) sha = NULL;
    gint64 start = g_get_monotonic_time();
    uint32_t crc = d->arg;
    uint64_t pattern = GUINT64_TO_LE(d->arg);

    if (d->op == DRQ_OP_SHA256) {
        sha = g_checksum_new(G_CHECKSUM_SHA256);
    }
    for (uint64_t done = 0; done < d->len;) {
        uint64_t n = MIN(CHUNK, d->len - done);

        switch (d->op) {
        case DRQ_OP_COPY:
            memcpy(base + d->dst + done, base + d->src + done, n);
            break;
        case DRQ_OP_FILL:
            for (uint64_t i = 0; i < n; i += 8) {
                memcpy(base + d->dst + done + i, &pattern, 8);
            }
            break;
        case DRQ_OP_CRC32C:
            crc = crc32c(crc, base + d->src + done, n);
            break;
        case DRQ_OP_SHA256:
            g_checksum_update(sha, base + d->src + done, n);
            break;
        }
        done += n;
        pace(done, rate, start);
    }
    if (sha) {
        gsize len = 32;

        g_checksum_get_digest(sha, base + d->dst, &len);
    }
    return d->op == DRQ_OP_CRC32C ? crc : 0;
}
