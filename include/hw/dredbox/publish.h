/*
 * Tables QEMU publishes for tools that watch a compute brick (the RMC's
 * NetPort table, the memory map): a file of a fixed layout, shared-mapped
 * and rewritten in place under a seqlock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_PUBLISH_H
#define HW_DREDBOX_PUBLISH_H

/*
 * Create (or truncate) @path with @size zero bytes and map it shared;
 * NULL with an error naming @what if that fails.
 */
void *dredbox_publish_open(const char *what, const char *path, size_t size,
                           Error **errp);

#endif
