/*
 * dredbox-agent: the SDM agent of a compute brick's Linux (docs/guest-
 * kernel.md).  It carries out the SDM controller's requests for memory on
 * the RMC path with the dredbox-rmc driver, and answers each with one
 * line.  The channel is a virtio-serial port named "dredbox.agent": an
 * out-of-band management link, like a baseboard controller's, that works
 * whatever the guest does with its network and needs no address.
 *
 * Requests, one per line, each after a number the reply repeats (a reply
 * the host missed, e.g. because it hung up, is then told from the answer
 * to its next request):
 *   ID attach PORT BRICK BRICK_OFFSET_HEX SIZE_HEX CLASS
 *   ID detach PORT TIMEOUT_MS
 *   ID status
 *   ID nodes START_HEX SIZE_HEX
 *   ID release PORT TIMEOUT_MS
 * Replies: "ID ok" (status: "ID ok " and the driver's port lines,
 * ';'-joined; nodes: "ID ok " and the NUMA nodes of the online memory
 * blocks in the range, ','-joined, or "none"; release: once the
 * accelerator queue behind PORT is closed to new jobs and has none left
 * running, libdredbox-accel.h) or "ID error " and what went wrong.  A
 * detach that the guest cannot finish in TIMEOUT_MS (its memory is in
 * use, e.g. pinned) is given up, and the memory stays attached: the agent
 * answers within the deadline the controller gave it, so the two agree
 * on whether the guest still has the port's memory.
 *
 * What the agent tells the controller unasked goes over a second port,
 * "dredbox.agent-events", one line per event (hex without 0x):
 *   link PORT up|down BRICK START_HEX SIZE_HEX   under PORT's memory
 *   released PORT BRICK START_HEX SIZE_HEX       the guest gave it up
 *   fault PORT REASON ADDR_HEX                   the RMC refused an access
 * It learns them from the driver, which wakes it on each fault and link
 * change (and it looks every second too).  Lines wait in the guest while
 * no controller listens.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libdredbox-accel.h"

#define PORT_NAME "dredbox.agent"
#define EVENTS_NAME "dredbox.agent-events"
#define MAX_PORTS 32            /* RMC_MAX_PORTS */

/* The /dev node of the virtio-serial port named @want, opened @flags. */
static int open_channel(const char *want, int flags)
{
    glob_t g;
    int fd = -1;

    if (glob("/sys/class/virtio-ports/*/name", 0, NULL, &g)) {
        return -1;
    }
    for (size_t i = 0; i < g.gl_pathc && fd < 0; i++) {
        /* /sys/class/virtio-ports/vportNpM/name -> /dev/vportNpM */
        char *port = g.gl_pathv[i] + strlen("/sys/class/virtio-ports/");
        char name[64] = "", dev[128];
        FILE *f = fopen(g.gl_pathv[i], "r");

        if (!f) {
            continue;
        }
        if (fgets(name, sizeof(name), f)) {
            name[strcspn(name, "\n")] = '\0';
        }
        fclose(f);
        if (!strcmp(name, want)) {
            snprintf(dev, sizeof(dev), "/dev/%.*s",
                     (int)(strchr(port, '/') - port), port);
            fd = open(dev, flags);
        }
    }
    globfree(&g);
    return fd;
}

/* The driver's device directory. */
static const char *rmc_dir(void)
{
    static char path[256];
    glob_t g;

    if (!path[0] &&
        !glob("/sys/bus/platform/drivers/dredbox-rmc/*rmc*", 0, NULL, &g)) {
        snprintf(path, sizeof(path), "%s", g.gl_pathv[0]);
        globfree(&g);
    }
    return path[0] ? path : NULL;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Write @value to the driver's @attr; with @timeout_ms, give up after
 * that long.  Offlining memory stops only at a fatal signal (and puts
 * back what it had offlined), so the write is a child's, killed at the
 * deadline: a write cut short changed nothing.
 */
static int write_attr(const char *attr, const char *value,
                      unsigned long long timeout_ms, char *err, size_t len)
{
    double deadline = now_s() + timeout_ms / 1000.0;
    char path[300];
    int fd, status;
    pid_t pid;

    if (!rmc_dir()) {
        snprintf(err, len, "the dredbox-rmc driver is not loaded");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", rmc_dir(), attr);
    fd = open(path, O_WRONLY);
    if (fd < 0) {
        snprintf(err, len, "%s: %s", attr, strerror(errno));
        return -1;
    }
    if (!timeout_ms) {
        status = write(fd, value, strlen(value)) < 0 ? errno : 0;
        close(fd);
        snprintf(err, len, "%s: %s", attr, strerror(status));
        return status ? -1 : 0;
    }
    pid = fork();
    if (pid == 0) {
        _exit(write(fd, value, strlen(value)) < 0 ? errno : 0);
    }
    close(fd);
    if (pid < 0) {
        snprintf(err, len, "%s: fork: %s", attr, strerror(errno));
        return -1;
    }
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_s() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, len, "%s: not done in %llu ms (the guest still"
                     " uses the memory), nothing changed", attr, timeout_ms);
            return -1;
        }
        usleep(10000);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        snprintf(err, len, "%s: %s", attr, WIFEXITED(status)
                 ? strerror(WEXITSTATUS(status)) : "the writer died");
        return -1;
    }
    return 0;
}

/*
 * After "ok ", the NUMA nodes that hold online memory in [@start, @start +
 * @size): how the controller checks where a virtio-mem device's memory
 * went (docs/controller.md).
 */
static void nodes(unsigned long long start, unsigned long long size,
                  char *reply, size_t len)
{
    const char *sys = "/sys/devices/system/memory";
    unsigned long long block, first, last;
    uint64_t seen = 0;      /* node n < 64: bit n */
    char path[300], buf[64];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/block_size_bytes", sys);
    f = fopen(path, "r");
    block = f && fgets(buf, sizeof(buf), f) ? strtoull(buf, NULL, 16) : 0;
    if (f) {
        fclose(f);
    }
    if (!block) {
        snprintf(reply, len, "error no memory blocks in sysfs");
        return;
    }
    if (!size || start + size < start || size / block > (1 << 20)) {
        snprintf(reply, len, "error nodes takes a range of at most 2^20"
                 " memory blocks");
        return;
    }
    first = start / block;
    last = (start + size - 1) / block;
    for (unsigned long long b = first; b <= last; b++) {
        glob_t g;

        snprintf(path, sizeof(path), "%s/memory%llu/online", sys, b);
        f = fopen(path, "r");
        if (!f) {
            continue;       /* not present: not plugged */
        }
        if (!fgets(buf, sizeof(buf), f) || buf[0] != '1') {
            fclose(f);
            continue;
        }
        fclose(f);
        snprintf(path, sizeof(path), "%s/memory%llu/node[0-9]*", sys, b);
        if (glob(path, 0, NULL, &g) == 0) {
            unsigned nid = strtoul(strrchr(g.gl_pathv[0], 'e') + 1, NULL,
                                   10);

            seen |= nid < 64 ? UINT64_C(1) << nid : 0;
            globfree(&g);
        }
    }
    n = snprintf(reply, len, seen ? "ok" : "ok none");
    for (unsigned nid = 0; nid < 64 && n < len; nid++) {
        if (seen & UINT64_C(1) << nid) {
            n += snprintf(reply + n, len - n, "%s%u",
                          n == 2 ? " " : ",", nid);
        }
    }
}

/*
 * @s as a number in @base, all of it digits (no sign, space or prefix)
 * and at most @max; the controller is trusted no more than any input.
 */
static bool number(const char *s, int base, unsigned long long max,
                   unsigned long long *out)
{
    char *end;

    if (!(base == 16 ? isxdigit((unsigned char)*s)
                     : isdigit((unsigned char)*s)) ||
        (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
        return false;
    }
    errno = 0;
    *out = strtoull(s, &end, base);
    return !errno && !*end && *out <= max;
}

/* Split @line at spaces into at most @max words; their number, or -1 if
 * there are more. */
static int split(char *line, char **w, int max)
{
    int n = 0;

    for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
        if (n == max) {
            return -1;
        }
        w[n++] = tok;
    }
    return n;
}

/* A port as the driver's port%u directory shows it. */
typedef struct Port {
    bool present, link, attached;
    unsigned long long brick, start, size, faults;
    long long node;
    char last[48];              /* the last fault: "REASON@0xADDR" */
} Port;

static Port told[MAX_PORTS];    /* the ports as the controller knows them */
static double fault_told_at[MAX_PORTS];
/* The driver's events file, pollable; the events channel to the host */
static int changes_fd = -1, events_fd = -1;
static char events[16384];      /* not yet sent */
static size_t events_len;


/* Send what waits, as far as a controller listens. */
static void flush_events(void)
{
    while (events_len) {
        ssize_t n = write(events_fd, events, events_len);

        if (n <= 0) {
            return;             /* EAGAIN: nobody listens yet */
        }
        memmove(events, events + n, events_len - n);
        events_len -= n;
    }
}

static void event(const char *line)
{
    size_t n = strlen(line);

    if (events_fd < 0) {
        return;
    }
    if (events_len + n + 1 > sizeof(events)) {
        fprintf(stderr, "dredbox-agent: no controller listens, event"
                " dropped: %s\n", line);
        return;
    }
    memcpy(events + events_len, line, n);
    events[events_len + n] = '\n';
    events_len += n + 1;
    flush_events();
}

/* The first line of the driver's file @rel in @buf; false if none. */
static bool read_value(const char *rel, char *buf, size_t len)
{
    char path[300];
    bool ok;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", rmc_dir(), rel);
    f = fopen(path, "r");
    if (!f) {
        return false;
    }
    ok = fgets(buf, len, f) != NULL;
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

/* Port @p's file @name as a number (C syntax), or 0. */
static long long port_number(unsigned p, const char *name)
{
    char rel[64], v[32];

    snprintf(rel, sizeof(rel), "port%u/%s", p, name);
    return read_value(rel, v, sizeof(v)) ? strtoll(v, NULL, 0) : 0;
}

/*
 * The driver's ports into @now[MAX_PORTS], from their port%u
 * directories; false if the driver is not there.  Reading its events
 * file again makes the next change wake poll().
 */
static bool read_ports(Port *now)
{
    char rel[64], v[64];

    memset(now, 0, MAX_PORTS * sizeof(*now));
    if (!rmc_dir()) {
        return false;
    }
    if (changes_fd < 0) {
        snprintf(rel, sizeof(rel), "%s/events", rmc_dir());
        changes_fd = open(rel, O_RDONLY);
    }
    if (changes_fd >= 0 && lseek(changes_fd, 0, SEEK_SET) == 0) {
        if (read(changes_fd, v, sizeof(v)) < 0) {
            perror("dredbox-agent: events");
        }
    }
    for (unsigned p = 0; p < MAX_PORTS; p++) {
        Port *x = &now[p];

        snprintf(rel, sizeof(rel), "port%u/link", p);
        if (!read_value(rel, v, sizeof(v))) {
            break;              /* the RMC has no more ports */
        }
        x->present = true;
        x->link = !strcmp(v, "up");
        x->size = port_number(p, "size");
        x->attached = x->size != 0;
        x->brick = port_number(p, "brick");
        x->start = port_number(p, "start");
        x->node = port_number(p, "node");
        x->faults = port_number(p, "faults");
        snprintf(rel, sizeof(rel), "port%u/last_fault", p);
        if (x->faults && read_value(rel, v, sizeof(v))) {
            snprintf(x->last, sizeof(x->last), "%.20s@0x%llx", v,
                     (unsigned long long)port_number(p, "last_fault_addr"));
        }
    }
    return true;
}

/*
 * After "ok ", a line per port, ';'-ended: "P link=up|down", then
 * " brick=B start=0xADDR size=BYTES node=N" if memory is attached, then
 * " faults=N last=REASON@0xADDR" once it faulted.
 */
static void status(char *reply, size_t len)
{
    Port now[MAX_PORTS];
    size_t n = snprintf(reply, len, "ok ");

    if (!read_ports(now)) {
        snprintf(reply, len, "error the dredbox-rmc driver is not loaded");
        return;
    }
    for (unsigned p = 0; p < MAX_PORTS && now[p].present && n < len; p++) {
        const Port *x = &now[p];

        n += snprintf(reply + n, len - n, "%u link=%s", p,
                      x->link ? "up" : "down");
        if (x->attached && n < len) {
            n += snprintf(reply + n, len - n, " brick=%llu start=0x%llx"
                          " size=%llu node=%lld", x->brick, x->start,
                          x->size, x->node);
        }
        if (x->faults && n < len) {
            n += snprintf(reply + n, len - n, " faults=%llu last=%s",
                          x->faults, x->last);
        }
        if (n < len) {
            n += snprintf(reply + n, len - n, ";");
        }
    }
}

/*
 * Tell the controller what changed on the ports since it was last told:
 * memory the guest gave up, a link under memory, faults (one a second per
 * port: a guest that keeps touching lost memory faults on each access).
 */
static void watch(void)
{
    Port now[MAX_PORTS];
    double t = now_s();
    char line[160];

    if (!read_ports(now)) {
        return;
    }
    for (unsigned p = 0; p < MAX_PORTS; p++) {
        Port *was = &told[p], *is = &now[p];

        if (was->attached && (!is->attached || is->start != was->start)) {
            snprintf(line, sizeof(line), "released %u %llu %llx %llx", p,
                     was->brick, was->start, was->size);
            event(line);
        } else if (is->attached && is->link != was->link) {
            snprintf(line, sizeof(line), "link %u %s %llu %llx %llx", p,
                     is->link ? "up" : "down", is->brick, is->start,
                     is->size);
            event(line);
        }
        if (is->faults != was->faults && t - fault_told_at[p] < 1) {
            is->faults = was->faults;   /* told at a later look */
        } else if (is->faults != was->faults && strchr(is->last, '@')) {
            char *at = strchr(is->last, '@');

            snprintf(line, sizeof(line), "fault %u %.*s %llx", p,
                     (int)(at - is->last), is->last,
                     strtoull(at + 1, NULL, 0));
            event(line);
            fault_told_at[p] = t;
        }
        *was = *is;
    }
}

/*
 * After the agent itself attached or detached @port for the controller,
 * the port's memory as it now is, which needs no telling.
 */
static void took(unsigned long long port)
{
    Port now[MAX_PORTS];

    if (port < MAX_PORTS && read_ports(now)) {
        now[port].faults = told[port].faults;
        snprintf(now[port].last, sizeof(now[port].last), "%s",
                 told[port].last);
        told[port] = now[port];
    }
}

static void handle(const char *line, char *reply, size_t len)
{
    unsigned long long port, brick, off, size, timeout_ms = 0;
    char copy[512], value[128], err[200];
    char *w[7];
    int n;
    const char *attr;

    snprintf(copy, sizeof(copy), "%s", line);
    n = split(copy, w, (int)(sizeof(w) / sizeof(w[0])));
    if (n == 1 && !strcmp(w[0], "status")) {
        status(reply, len);
        return;
    }
    if (n >= 1 && !strcmp(w[0], "nodes")) {
        if (n != 3 || !number(w[1], 16, UINT64_MAX, &off) ||
            !number(w[2], 16, UINT64_MAX, &size)) {
            snprintf(reply, len, "error nodes takes START_HEX SIZE_HEX");
            return;
        }
        nodes(off, size, reply, len);
        return;
    }
    if (n >= 1 && !strcmp(w[0], "release")) {
        if (n != 3 || !number(w[1], 10, UINT32_MAX, &port) ||
            !number(w[2], 10, UINT32_MAX, &size)) {
            snprintf(reply, len, "error release takes PORT TIMEOUT_MS");
        } else if (drq_release(port, size, err, sizeof(err))) {
            snprintf(reply, len, "error release: %s", err);
        } else {
            snprintf(reply, len, "ok");
        }
        return;
    }
    if (n >= 1 && !strcmp(w[0], "attach")) {
        if (n != 6 || !number(w[1], 10, UINT32_MAX, &port) ||
            !number(w[2], 10, UINT32_MAX, &brick) ||
            !number(w[3], 16, UINT64_MAX, &off) ||
            !number(w[4], 16, UINT64_MAX, &size) || strlen(w[5]) > 15) {
            snprintf(reply, len, "error attach takes PORT BRICK"
                     " OFFSET_HEX SIZE_HEX CLASS");
            return;
        }
        attr = "attach";
        snprintf(value, sizeof(value), "%llu %llu %llx %llx %s", port,
                 brick, off, size, w[5]);
    } else if (n >= 1 && !strcmp(w[0], "detach")) {
        if (n != 3 || !number(w[1], 10, UINT32_MAX, &port) ||
            !number(w[2], 10, UINT32_MAX, &timeout_ms) || !timeout_ms) {
            snprintf(reply, len, "error detach takes PORT TIMEOUT_MS");
            return;
        }
        attr = "detach";
        snprintf(value, sizeof(value), "%llu", port);
    } else {
        snprintf(reply, len, "error unknown request (attach, detach,"
                 " status, nodes, release)");
        return;
    }
    if (write_attr(attr, value, timeout_ms, err, sizeof(err))) {
        snprintf(reply, len, "error %s", err);
    } else {
        took(port);
        snprintf(reply, len, "ok");
    }
}

/* Answer one request line (without its newline) on @fd: "ID REQUEST",
 * or "0 error ..." if it has no ID. */
static void answer(int fd, const char *line)
{
    char reply[8192];   /* status: up to 32 ports' lines of ~90 bytes */
    const char *sp = strchr(line, ' ');
    char id[24] = "0";
    unsigned long long v;
    size_t n;

    if (sp && sp - line < (int)sizeof(id)) {
        memcpy(id, line, sp - line);
        id[sp - line] = '\0';
    }
    if (!sp || !number(id, 10, ULONG_MAX, &v)) {
        snprintf(reply, sizeof(reply), "0 error a request is ID REQUEST");
    } else {
        n = snprintf(reply, sizeof(reply), "%llu ", v);
        handle(sp + 1, reply + n, sizeof(reply) - n - 1);
    }
    strcat(reply, "\n");
    if (write(fd, reply, strlen(reply)) < 0) {
        perror("dredbox-agent: write");
    }
}

/* Read what the controller sent on @fd and answer each whole request. */
static bool serve(int fd)
{
    static char line[512];
    static size_t have;
    static bool dropping;       /* in a line too long to be a request */
    ssize_t n = read(fd, line + have, sizeof(line) - 1 - have);
    char *nl;

    if (n <= 0) {
        return false;
    }
    have += n;
    while ((nl = memchr(line, '\n', have))) {
        *nl = '\0';
        if (!dropping) {
            answer(fd, line);
        }
        dropping = false;
        have -= nl + 1 - line;
        memmove(line, nl + 1, have);
    }
    if (have == sizeof(line) - 1) {
        /* Drop it, up to its newline still to come. */
        have = 0;
        dropping = true;
    }
    return true;
}

int main(void)
{
    int fd = open_channel(PORT_NAME, O_RDWR);
    bool idle = false;          /* no controller on the request channel */
    double next_look = 0;

    if (fd < 0) {
        fprintf(stderr, "dredbox-agent: no virtio-serial port named "
                PORT_NAME "\n");
        return 1;
    }
    /* Without it (a brick set up by hand), nothing is told unasked. */
    events_fd = open_channel(EVENTS_NAME, O_RDWR | O_NONBLOCK);
    read_ports(told);
    for (;;) {
        /*
         * With no client connected, the request channel polls as hung
         * up at once: it is then looked at again in 50 ms.
         */
        struct pollfd p[2] = {
            { .fd = idle ? -1 : fd, .events = POLLIN },
            { .fd = changes_fd, .events = POLLPRI },
        };

        poll(p, 2, idle ? 50 : 1000);
        idle = false;
        if (p[0].revents & POLLIN) {
            idle = !serve(fd);
        } else if (p[0].revents & (POLLHUP | POLLERR)) {
            idle = true;
        }
        if ((p[1].revents & (POLLPRI | POLLERR)) || now_s() >= next_look) {
            watch();
            next_look = now_s() + 1;
        }
        flush_events();
    }
}
