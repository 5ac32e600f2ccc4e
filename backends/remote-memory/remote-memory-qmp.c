/*
 * QMP of memory-backend-remote (docs/reliability.md):
 * dredbox-remote-memory-set-reachable fails and repairs, as this compute
 * brick sees it, the memory of a memory brick that it maps directly;
 * dredbox-remote-memory-poison-page and -unpoison-page a page of it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-dredbox.h"
#include "hw/dredbox/remote-memory.h"

void qmp_dredbox_remote_memory_set_reachable(uint32_t brick, bool reachable,
                                             Error **errp)
{
    dredbox_remote_memory_set_reachable(brick, reachable);
}

void qmp_dredbox_remote_memory_poison_page(uint32_t segment, uint64_t offset,
                                           Error **errp)
{
    dredbox_remote_memory_poison_page(segment, offset, true, errp);
}

void qmp_dredbox_remote_memory_unpoison_page(uint32_t segment,
                                             uint64_t offset, Error **errp)
{
    dredbox_remote_memory_poison_page(segment, offset, false, errp);
}
