/*
 * The dReDBox RMC's doorbells (rmc.c, docs/rmc.md): a port's doorbell
 * register as DOORBELL messages on a UNIX stream socket to an
 * accelerator brick, its COMPLETION messages as the completion
 * interrupt, and reconnection when the link breaks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-events-dredbox.h"
#include "qemu/cutils.h"
#include "qemu/main-loop.h"
#include "qemu/sockets.h"
#include "rmc-internal.h"
#include "trace.h"

static void rmc_link_read(void *opaque);

static int rmc_link_connect(const char *path, Error **errp)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd, ret;

    if (!*path) {
        error_setg(errp, "the accelerator's socket path is empty");
        return -1;
    }
    if (strlen(path) >= sizeof(un.sun_path)) {
        error_setg(errp, "the accelerator's socket path '%s' is too long",
                   path);
        return -1;
    }
    pstrcpy(un.sun_path, sizeof(un.sun_path), path);
    fd = qemu_socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot create a socket");
        return -1;
    }
    /* An accelerator that does not accept must not stall QEMU. */
    qemu_socket_set_nonblock(fd);
    do {
        ret = connect(fd, (struct sockaddr *)&un, sizeof(un));
    } while (ret < 0 && errno == EINTR);
    if (ret < 0) {
        error_setg_errno(errp, errno, "cannot connect to the accelerator at"
                         " '%s'", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* Send one message without waiting: the bytes sent or -errno. */
static ssize_t rmc_link_send(int fd, uint32_t type, uint32_t value)
{
    DrqLinkMsg msg = {
        .type = cpu_to_le32(type),
        .value = cpu_to_le32(value),
    };
    ssize_t n;

    do {
        n = send(fd, &msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* Connect and say HELLO; the engine is ready once it answers READY 0. */
static bool rmc_doorbell_open(DredboxRmcDoorbell *db, Error **errp)
{
    int fd = rmc_link_connect(db->path, errp);
    ssize_t n;

    if (fd < 0) {
        return false;
    }
    n = rmc_link_send(fd, DRQ_LINK_HELLO, db->segment);
    if (n != sizeof(DrqLinkMsg)) {
        error_setg_errno(errp, n < 0 ? -n : EPROTO, "cannot say HELLO to"
                         " the accelerator at '%s'", db->path);
        close(fd);
        return false;
    }
    trace_dredbox_rmc_doorbell_connect(db->port, db->path, db->segment);
    db->fd = fd;
    db->rx_len = 0;
    qemu_set_fd_handler(fd, rmc_link_read, NULL, db);
    return true;
}

/* Close the link; if the engine was ready, tell the guest it is gone. */
static void rmc_doorbell_close(DredboxRmcDoorbell *db)
{
    if (db->fd >= 0) {
        qemu_set_fd_handler(db->fd, NULL, NULL, NULL);
        close(db->fd);
        db->fd = -1;
    }
    db->rx_len = 0;
    if (db->ready) {
        db->ready = false;
        rmc_raise(db->rmc, RMC_IRQ_ENGINE);
        qapi_event_send_dredbox_rmc_engine_change(db->port, false);
    }
}

static void rmc_doorbell_retry_later(DredboxRmcDoorbell *db)
{
    timer_mod(db->reconnect,
              qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + RMC_RECONNECT_MS);
}

/* The link broke: close it and keep trying to get the engine back. */
static void rmc_doorbell_lost(DredboxRmcDoorbell *db, const char *why)
{
    trace_dredbox_rmc_doorbell_lost(db->port, why);
    rmc_doorbell_close(db);
    rmc_doorbell_retry_later(db);
}

static void rmc_doorbell_retry(void *opaque)
{
    DredboxRmcDoorbell *db = opaque;
    Error *err = NULL;

    if (!rmc_doorbell_open(db, &err)) {
        trace_dredbox_rmc_doorbell_retry(db->port, error_get_pretty(err));
        error_free(err);
        rmc_doorbell_retry_later(db);
    }
}

static void rmc_doorbell_message(DredboxRmcDoorbell *db,
                                 const DrqLinkMsg *msg)
{
    DredboxRmcState *s = db->rmc;
    uint32_t type = le32_to_cpu(msg->type);
    uint32_t value = le32_to_cpu(msg->value);
    uint64_t arg = le64_to_cpu(msg->arg);
    const char *why = NULL;

    /* Known messages with bad fields are ignored, like unknown ones. */
    if (arg && (type == DRQ_LINK_READY || type == DRQ_LINK_COMPLETION)) {
        why = "arg is not 0";
    } else if (type == DRQ_LINK_COMPLETION && !db->ready) {
        why = "completion before READY";
    } else if (type == DRQ_LINK_COMPLETION && value >= DRQ_SLOTS) {
        why = "no such slot";
    }
    if (why) {
        trace_dredbox_rmc_doorbell_malformed(db->port, type, value, arg, why);
        return;
    }
    switch (type) {
    case DRQ_LINK_READY:
        trace_dredbox_rmc_doorbell_ready(db->port, value);
        if (value != DRQ_LINK_OK) {
            rmc_doorbell_lost(db, "the accelerator refused the queue");
        } else if (!db->ready) {
            db->ready = true;
            rmc_raise(s, RMC_IRQ_ENGINE);
            qapi_event_send_dredbox_rmc_engine_change(db->port, true);
        }
        break;
    case DRQ_LINK_COMPLETION:
        trace_dredbox_rmc_doorbell_completion(db->port, value);
        db->completions++;
        s->completion |= BIT(db->port);
        rmc_raise(s, RMC_IRQ_COMPLETION);
        break;
    default:
        trace_dredbox_rmc_doorbell_unknown(db->port, type, value);
        break;
    }
}

static void rmc_link_read(void *opaque)
{
    DredboxRmcDoorbell *db = opaque;
    int msgs = 0;

    /* A bounded batch, so that a chatty engine cannot starve the rest. */
    while (db->fd >= 0 && msgs < 64) {
        ssize_t n = recv(db->fd, db->rx + db->rx_len,
                         sizeof(db->rx) - db->rx_len, MSG_DONTWAIT);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n <= 0) {
            rmc_doorbell_lost(db, n ? strerror(errno) : "end of file");
            return;
        }
        db->rx_len += n;
        if (db->rx_len == sizeof(db->rx)) {
            DrqLinkMsg msg;

            memcpy(&msg, db->rx, sizeof(msg));
            db->rx_len = 0;
            rmc_doorbell_message(db, &msg);
            msgs++;
        }
    }
}

/* A write to the doorbell register. */
void rmc_ring(DredboxRmcDoorbell *db, uint32_t value)
{
    ssize_t n;

    if (!db->ready) {
        trace_dredbox_rmc_doorbell_dropped(db->port, value, "no engine");
        return;
    }
    n = rmc_link_send(db->fd, DRQ_LINK_DOORBELL, value);
    if (n == sizeof(DrqLinkMsg)) {
        trace_dredbox_rmc_doorbell(db->port, value);
        db->doorbells++;
    } else if (n == -EAGAIN || n == -EWOULDBLOCK) {
        trace_dredbox_rmc_doorbell_dropped(db->port, value, "link busy");
    } else {
        /* An error, or part of a message: the stream is unusable. */
        trace_dredbox_rmc_doorbell_dropped(db->port, value, "link broken");
        rmc_doorbell_lost(db, n < 0 ? strerror(-n) : "short write");
    }
}

/* Close the link, stop reconnecting and forget the accelerator. */
void rmc_doorbell_unbind(DredboxRmcDoorbell *db)
{
    rmc_doorbell_close(db);
    timer_free(db->reconnect);
    db->reconnect = NULL;
    g_clear_pointer(&db->path, g_free);
}

bool dredbox_rmc_connect_doorbell(DredboxRmcState *s, unsigned port,
                                  const char *path, uint32_t segment,
                                  Error **errp)
{
    DredboxRmcDoorbell *db = &s->port[port].db;

    if (db->path) {
        error_setg(errp, "port %u already has a doorbell; disconnect it"
                   " first", port);
        return false;
    }
    db->path = g_strdup(path);
    db->segment = segment;
    db->reconnect = timer_new_ms(QEMU_CLOCK_REALTIME, rmc_doorbell_retry,
                                 db);
    if (!rmc_doorbell_open(db, errp)) {
        error_prepend(errp, "port %u: ", port);
        rmc_doorbell_unbind(db);
        return false;
    }
    if (!rmc_update_migration_blocker(s, errp)) {
        rmc_doorbell_unbind(db);
        return false;
    }
    /* The counters are the binding's; a reset leaves them. */
    db->doorbells = 0;
    db->completions = 0;
    return true;
}

bool dredbox_rmc_disconnect_doorbell(DredboxRmcState *s, unsigned port,
                                     Error **errp)
{
    DredboxRmcDoorbell *db = &s->port[port].db;

    if (!db->path) {
        error_setg(errp, "port %u has no doorbell", port);
        return false;
    }
    trace_dredbox_rmc_doorbell_unbind(port);
    rmc_doorbell_unbind(db);
    rmc_update_migration_blocker(s, &error_abort);
    return true;
}

/* Registers */

/* The word of a 64-bit register at @addr: low word first. */
