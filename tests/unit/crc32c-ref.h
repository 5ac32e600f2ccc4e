/*
 * CRC32C one bit at a time, straight from the definition (reflected
 * polynomial 0x82f63b78): the reference the accelerator's table-driven
 * engine and the guest's results are checked against.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CRC32C_REF_H
#define CRC32C_REF_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t crc32c_ref(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
        }
    }
    return ~crc;
}

#endif
