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
        char name[64] = "", dev[128];
        FILE *f = fopen(g.gl_pathv[i], "r");

        if (f && fgets(name, sizeof(name), f) &&
            !strcmp(strtok(name, "\n"), PORT_NAME)) {
            /* /sys/class/virtio-ports/vportNpM/name -> /dev/vportNpM */
            char *base = g.gl_pathv[i] + strlen("/sys/class/virtio-ports/");

            snprintf(dev, sizeof(dev), "/dev/%.*s",
                     (int)(strchr(base, '/') - base), base);
            fd = open(dev, O_RDWR);
        }
        if (f) {
            fclose(f);
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

static void handle(const char *line, char *reply, size_t len)
{
    unsigned port, brick;
    unsigned long long off, size;
    char cls[16], value[128], err[200];

    if (sscanf(line, "attach %u %u %llx %llx %15s", &port, &brick, &off,
               &size, cls) == 5) {
        snprintf(value, sizeof(value), "%u %u %llx %llx %s", port, brick,
                 off, size, cls);
        if (write_attr("attach", value, err, sizeof(err))) {
            snprintf(reply, len, "error %s", err);
            return;
        }
    } else if (sscanf(line, "detach %u", &port) == 1) {
        snprintf(value, sizeof(value), "%u", port);
        if (write_attr("detach", value, err, sizeof(err))) {
            snprintf(reply, len, "error %s", err);
            return;
        }
    } else if (!strcmp(line, "status")) {
        char path[300];
        size_t n = snprintf(reply, len, "ok ");
        FILE *f;

        snprintf(path, sizeof(path), "%s/ports", rmc_dir() ? rmc_dir() : "");
        f = fopen(path, "r");
        if (!f) {
            snprintf(reply, len, "error the dredbox-rmc driver is not"
                     " loaded");
            return;
        }
        while (n < len - 1 && fgets(reply + n, len - n, f)) {
            n += strlen(reply + n);
            if (reply[n - 1] == '\n') {
                reply[n - 1] = ';';
            }
        }
        fclose(f);
        return;
    } else {
        snprintf(reply, len, "error unknown request (attach, detach,"
                 " status)");
        return;
    }
    snprintf(reply, len, "ok");
}

int main(void)
{
    char line[512], reply[2048];
    size_t have = 0;
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
        line[have] = '\0';
        while ((nl = strchr(line, '\n'))) {
            unsigned long id = 0;
            int skip = 0;

            *nl = '\0';
            sscanf(line, "%lu %n", &id, &skip);
            n = snprintf(reply, sizeof(reply), "%lu ", id);
            handle(line + skip, reply + n, sizeof(reply) - n - 1);
            strcat(reply, "\n");
            if (write(fd, reply, strlen(reply)) < 0) {
                perror("dredbox-agent: write");
            }
            have -= nl + 1 - line;
            memmove(line, nl + 1, have + 1);
        }
        if (have == sizeof(line) - 1) {
            have = 0;   /* a line too long to be a request */
        }
    }
}
