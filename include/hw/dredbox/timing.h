/*
 * dReDBox compute brick timing mode (docs/timing.md): the machine
 * publishes the table it shares with its timing plugin for QMP's
 * query-dredbox-timing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_DREDBOX_TIMING_H
#define HW_DREDBOX_TIMING_H

#include "dredbox/timing-table.h"

/* The machine's table, from timing=on; query-dredbox-timing reads it. */
void dredbox_timing_publish(const TimingTable *table);

#endif
