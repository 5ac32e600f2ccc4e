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
 *   ID detach PORT
 *   ID status
 * Replies: "ID ok" (status: "ID ok " and the driver's port lines,
 * ';'-joined) or "ID error " and what went wrong.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PORT_NAME "dredbox.agent"

/* The /dev node of the virtio-serial port named PORT_NAME. */
static int open_channel(void)
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
        if (!strcmp(name, PORT_NAME)) {
            snprintf(dev, sizeof(dev), "/dev/%.*s",
                     (int)(strchr(port, '/') - port), port);
            fd = open(dev, O_RDWR);
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

static int write_attr(const char *attr, const char *value, char *err,
                      size_t len)
{
    char path[300];
    int fd;

    if (!rmc_dir()) {
        snprintf(err, len, "the dredbox-rmc driver is not loaded");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", rmc_dir(), attr);
    fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, value, strlen(value)) < 0) {
        snprintf(err, len, "%s: %s", attr, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    close(fd);
    return 0;
}

/* The driver's ports lines, ';'-joined, after "ok ". */
static void status(char *reply, size_t len)
{
    char path[300];
    size_t n = snprintf(reply, len, "ok ");
    FILE *f = NULL;

    if (rmc_dir()) {
        snprintf(path, sizeof(path), "%s/ports", rmc_dir());
        f = fopen(path, "r");
    }
    if (!f) {
        snprintf(reply, len, "error the dredbox-rmc driver is not loaded");
        return;
    }
    while (n < len - 1 && fgets(reply + n, len - n, f)) {
        n += strlen(reply + n);
        if (reply[n - 1] == '\n') {
            reply[n - 1] = ';';
        }
    }
    fclose(f);
}

static void handle(const char *line, char *reply, size_t len)
{
    unsigned port, brick;
    unsigned long long off, size;
    char cls[16], value[128], err[200];
    const char *attr;

    if (!strcmp(line, "status")) {
        status(reply, len);
        return;
    }
    if (sscanf(line, "attach %u %u %llx %llx %15s", &port, &brick, &off,
               &size, cls) == 5) {
        attr = "attach";
        snprintf(value, sizeof(value), "%u %u %llx %llx %s", port, brick,
                 off, size, cls);
    } else if (sscanf(line, "detach %u", &port) == 1) {
        attr = "detach";
        snprintf(value, sizeof(value), "%u", port);
    } else {
        snprintf(reply, len, "error unknown request (attach, detach,"
                 " status)");
        return;
    }
    if (write_attr(attr, value, err, sizeof(err))) {
        snprintf(reply, len, "error %s", err);
    } else {
        snprintf(reply, len, "ok");
    }
}

/* Answer one request line (without its newline) on @fd. */
static void answer(int fd, const char *line)
{
    char reply[2048];
    unsigned long id = 0;
    int skip = 0, n;

    sscanf(line, "%lu %n", &id, &skip);
    n = snprintf(reply, sizeof(reply), "%lu ", id);
    handle(line + skip, reply + n, sizeof(reply) - n - 1);
    strcat(reply, "\n");
    if (write(fd, reply, strlen(reply)) < 0) {
        perror("dredbox-agent: write");
    }
}

int main(void)
{
    char line[512];
    size_t have = 0;
    bool dropping = false;      /* in a line too long to be a request */
    int fd = open_channel();

    if (fd < 0) {
        fprintf(stderr, "dredbox-agent: no virtio-serial port named "
                PORT_NAME "\n");
        return 1;
    }
    for (;;) {
        ssize_t n = read(fd, line + have, sizeof(line) - 1 - have);
        char *nl;

        if (n <= 0) {
            /* No controller connected: wait for one. */
            usleep(50000);
            continue;
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
    }
}
