/*
 * The RMC's register page, mapped in a brick's user space (the SDM
 * agent's accelerator library, the test programs): through the
 * dredbox-rmc driver's regs file when the driver is bound (it claims
 * the page, so /dev/mem may not map it: CONFIG_IO_STRICT_DEVMEM), else
 * through /dev/mem at the address of the device tree's rmc@ node.
 * docs/guest-kernel.md, "sysfs interface".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef GUEST_RMC_REGS_MAP_H
#define GUEST_RMC_REGS_MAP_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dredbox/address-map.h"
#include "dredbox/rmc-regs.h"

/* The RMC's registers, from its device-tree node name rmc@ADDRESS. */
static inline uint64_t rmc_regs_phys(void)
{
    DIR *d = opendir("/proc/device-tree");
    struct dirent *e;
    uint64_t base = DREDBOX_RMC_CONFIG_BASE;

    while (d && (e = readdir(d))) {
        if (!strncmp(e->d_name, "rmc@", 4)) {
            base = strtoull(e->d_name + 4, NULL, 16);
        }
    }
    if (d) {
        closedir(d);
    }
    return base;
}

/*
 * The register page (RMC_CONFIG_SIZE bytes, uncached), or NULL with why
 * in @err.
 */
static inline volatile uint32_t *rmc_regs_map(char *err, size_t errlen)
{
    const char *path = "/dev/mem";
    uint64_t offset = 0;
    glob_t g;
    void *p;
    int fd;

    if (!glob("/sys/bus/platform/drivers/dredbox-rmc/*rmc*/regs", 0, NULL,
              &g)) {
        fd = open(g.gl_pathv[0], O_RDWR | O_SYNC);
        path = "the dredbox-rmc driver's regs";
        globfree(&g);
    } else {
        offset = rmc_regs_phys();
        fd = open(path, O_RDWR | O_SYNC);
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    p = mmap(NULL, RMC_CONFIG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             offset);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
        return NULL;
    }
    return p;
}

#endif
