/*
 * NUMA distances of a compute brick's nodes (docs/memory-map.md): local
 * DRAM is 10, remote memory roughly its access latency relative to local
 * DRAM, by latency class.  Plain C: shared by the machine, which writes the
 * guest's distance map, and the rack tools, which give the bricks' -numa
 * options.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_NUMA_DISTANCE_H
#define HW_DREDBOX_NUMA_DISTANCE_H

#define DREDBOX_DISTANCE_LOCAL  10
/* Latency classes, in the order of QAPI's DredboxLatencyClass */
#define DREDBOX_CLASSES         3

/* The distance of memory of latency class @cls (0 tray-local ... 2) */
static inline unsigned dredbox_class_distance(unsigned cls)
{
    static const unsigned char distance[DREDBOX_CLASSES] = {
        20,     /* tray-local */
        30,     /* rack-local */
        50,     /* inter-rack */
    };

    return distance[cls];
}

#endif
