/*
 * crc32c-ref [FILE]: the CRC32C of a file (or stdin) as 8 hex digits, for
 * tests that check an accelerator's result from the host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include "crc32c-ref.h"

int main(int argc, char **argv)
{
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
    static uint8_t buf[1 << 16];
    uint32_t crc = 0;
    size_t n;

    if (!f) {
        perror(argv[1]);
        return 1;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        crc = crc32c_ref(crc, buf, n);
    }
    if (ferror(f)) {
        perror("read");
        return 1;
    }
    printf("%08x\n", crc);
    return 0;
}
