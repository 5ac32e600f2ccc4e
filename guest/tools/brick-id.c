/*
 * brick-id: print this compute brick's rack-wide id, which the board puts
 * in the device tree as /dredbox,brick-id (one big-endian 32-bit cell).
 */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    FILE *f = fopen("/proc/device-tree/dredbox,brick-id", "rb");
    uint8_t b[4];

    if (!f || fread(b, 1, 4, f) != 4) {
        fprintf(stderr, "brick-id: no dredbox,brick-id in the device tree\n");
        return 1;
    }
    fclose(f);
    printf("%u\n", (unsigned)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    return 0;
}
