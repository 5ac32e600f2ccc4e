/*
 * The rack's fault log (fault-log.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "fault-log.h"

void rack_fault_log(const char *path, const char *component,
                    const char *fmt, ...)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
    g_autofree char *what = NULL, *line = NULL;
    va_list ap;
    ssize_t n;
    int fd;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strdup_printf("%s.%03dZ %s %s\n", when,
                           g_date_time_get_microsecond(now) / 1000, component,
                           what);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_printerr("dredbox: cannot log to %s (%s): %s", path,
                   g_strerror(errno), line);
        return;
    }
    do {
        n = write(fd, line, strlen(line));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)strlen(line)) {
        g_printerr("dredbox: cannot log to %s: %s", path, line);
    }
    close(fd);
}
