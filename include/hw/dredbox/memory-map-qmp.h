/*
 * The compute brick's memory map (memory-map.h) as the machine hands it
 * to QMP's query-dredbox-memory-map.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_MEMORY_MAP_QMP_H
#define HW_DREDBOX_MEMORY_MAP_QMP_H

#include "dredbox/memory-map.h"

void dredbox_memory_map_publish(const MemoryMap *map);

#endif
