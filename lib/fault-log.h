/*
 * The rack's fault log (docs/reliability.md): every fault injected and
 * every repair, one line each, appended by the component that applied
 * it to the rack's log (RUN/faults.log):
 *
 *   2026-11-30T11:40:00.123Z fabric cut cable compute0.port0 (optical port 0)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_FAULT_LOG_H
#define DREDBOX_FAULT_LOG_H

#include <glib.h>

/*
 * Append "TIME COMPONENT MESSAGE" to the log at @path.  One write per
 * line (O_APPEND), so that components logging at once do not mix.  A log
 * that cannot be written is reported on stderr, not fatal.
 */
void rack_fault_log(const char *path, const char *component,
                    const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#endif
