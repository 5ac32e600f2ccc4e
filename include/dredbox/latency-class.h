/*
 * The latency classes of the way to a memory brick (docs/rack.md): their
 * order, names and NUMA distances (docs/memory-map.md).  The one
 * definition for the machine (QAPI's DredboxLatencyClass has the same
 * order and names, checked when the machine's class is set up), the rack
 * tools, the TCG plugin and the guest's RMC driver.  Plain C.
 *
 * Local DRAM is at distance 10, remote memory roughly at its access
 * latency relative to local DRAM.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_LATENCY_CLASS_H
#define DREDBOX_LATENCY_CLASS_H

#define DREDBOX_DISTANCE_LOCAL  10
#define DREDBOX_CLASSES         3

/* The name of latency class @cls (0 tray-local ... 2 inter-rack) */
static inline const char *dredbox_class_name(unsigned cls)
{
    static const char *const name[DREDBOX_CLASSES] = {
        "tray-local", "rack-local", "inter-rack",
    };

    return name[cls];
}

/* The distance of memory of latency class @cls */
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
