/*
 * Tables published for tools (publish.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/dredbox/publish.h"

void *dredbox_publish_open(const char *what, const char *path, size_t size,
                           Error **errp)
{
    int fd = qemu_create(path, O_RDWR | O_TRUNC, 0644, errp);
    void *p;

    if (fd < 0) {
        error_prepend(errp, "%s: ", what);
        return NULL;
    }
    if (ftruncate(fd, size) < 0) {
        error_setg_errno(errp, errno, "%s: cannot size %s", what, path);
        close(fd);
        return NULL;
    }
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "%s: cannot map %s", what, path);
        return NULL;
    }
    return p;
}
