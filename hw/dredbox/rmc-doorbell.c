/*
 * The dReDBox RMC's doorbells (rmc.c, docs/rmc.md): a port's doorbell
 * register as DOORBELL messages to an accelerator brick over a socket
 * chardev that reconnects by itself, and its COMPLETION messages as
 * the completion interrupt.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-events-dredbox.h"
#include "chardev/char-fe.h"
#include "chardev/char-socket.h"
#include "rmc-internal.h"
#include "trace.h"

/*
 * Send one message without waiting: a doorbell that finds the link
 * busy is dropped (they coalesce, docs/rmc.md).  False if the message
 * did not go whole; a part of one leaves the stream unusable, so the
 * link is then dropped and the chardev reconnects.
 */
static bool rmc_link_send(DredboxRmcDoorbell *db, uint32_t type,
                          uint32_t value, const char **why)
{
    DrqLinkMsg msg = {
        .type = cpu_to_le32(type),
        .value = cpu_to_le32(value),
    };
    int n = qemu_chr_fe_write(&db->chr, (const uint8_t *)&msg, sizeof(msg));

    if (n == sizeof(msg)) {
        return true;
    }
    if (n < 0 && errno == EAGAIN) {
        *why = "link busy";
        return false;
    }
    *why = "link broken";
    qemu_chr_fe_disconnect(&db->chr);
    return false;
}

/* The engine is gone: tell the guest, if it had been ready. */
static void rmc_doorbell_not_ready(DredboxRmcDoorbell *db)
{
    db->rx_len = 0;
    if (db->ready) {
        db->ready = false;
        rmc_raise(db->rmc, RMC_IRQ_ENGINE);
        qapi_event_send_dredbox_rmc_engine_change(db->port, false);
    }
}

/* The link is up: say HELLO; the engine is ready once it answers READY 0. */
static void rmc_doorbell_event(void *opaque, QEMUChrEvent event)
{
    DredboxRmcDoorbell *db = opaque;
    const char *why;

    switch (event) {
    case CHR_EVENT_OPENED:
        db->rx_len = 0;
        if (rmc_link_send(db, DRQ_LINK_HELLO, db->segment, &why)) {
            trace_dredbox_rmc_doorbell_connect(db->port, db->path,
                                               db->segment);
        } else {
            trace_dredbox_rmc_doorbell_lost(db->port, why);
        }
        break;
    case CHR_EVENT_CLOSED:
        trace_dredbox_rmc_doorbell_lost(db->port, "closed");
        rmc_doorbell_not_ready(db);
        break;
    default:
        break;
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
            /* Hang up; the chardev says HELLO again after reconnecting. */
            trace_dredbox_rmc_doorbell_lost(db->port,
                                            "the accelerator refused the"
                                            " queue");
            qemu_chr_fe_disconnect(&db->chr);
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

/* Take no more than the rest of one message, so that each is whole. */
static int rmc_doorbell_can_read(void *opaque)
{
    DredboxRmcDoorbell *db = opaque;

    return sizeof(db->rx) - db->rx_len;
}

static void rmc_doorbell_read(void *opaque, const uint8_t *buf, int size)
{
    DredboxRmcDoorbell *db = opaque;

    assert(size <= sizeof(db->rx) - db->rx_len);
    memcpy(db->rx + db->rx_len, buf, size);
    db->rx_len += size;
    if (db->rx_len == sizeof(db->rx)) {
        DrqLinkMsg msg;

        memcpy(&msg, db->rx, sizeof(msg));
        db->rx_len = 0;
        rmc_doorbell_message(db, &msg);
    }
}

/* A write to the doorbell register. */
void rmc_ring(DredboxRmcDoorbell *db, uint32_t value)
{
    const char *why = "no engine";

    if (db->ready && rmc_link_send(db, DRQ_LINK_DOORBELL, value, &why)) {
        trace_dredbox_rmc_doorbell(db->port, value);
        db->doorbells++;
    } else {
        trace_dredbox_rmc_doorbell_dropped(db->port, value, why);
    }
}

/* Close the link, delete its chardev and forget the accelerator. */
void rmc_doorbell_unbind(DredboxRmcDoorbell *db)
{
    rmc_doorbell_not_ready(db);
    qemu_chr_fe_deinit(&db->chr, true);
    g_clear_pointer(&db->path, g_free);
}

/*
 * The link to the accelerator: a UNIX socket chardev of the RMC's own
 * (an internal id, "#chrN" in query-chardev) that connects in the
 * background and again every RMC_RECONNECT_MS after it breaks.
 */
static Chardev *rmc_doorbell_chardev(const char *path, Error **errp)
{
    UnixSocketAddress un = { .path = (char *)path };
    ChardevSocket sock = {
        .addr = &(SocketAddressLegacy) {
            .type = SOCKET_ADDRESS_TYPE_UNIX,
            .u.q_unix.data = &un,
        },
        .has_server = true,
        .server = false,
        .has_reconnect_ms = true,
        .reconnect_ms = RMC_RECONNECT_MS,
    };
    ChardevBackend backend = {
        .type = CHARDEV_BACKEND_KIND_SOCKET,
        .u.socket.data = &sock,
    };

    if (!*path) {
        error_setg(errp, "the accelerator's socket path is empty");
        return NULL;
    }
    if (strlen(path) >= sizeof_field(struct sockaddr_un, sun_path)) {
        error_setg(errp, "the accelerator's socket path '%s' is too long",
                   path);
        return NULL;
    }
    return qemu_chardev_new(NULL, TYPE_CHARDEV_SOCKET, &backend, NULL, errp);
}

bool dredbox_rmc_connect_doorbell(DredboxRmcState *s, unsigned port,
                                  const char *path, uint32_t segment,
                                  Error **errp)
{
    DredboxRmcDoorbell *db = &s->port[port].db;
    Chardev *chr;

    if (db->path) {
        error_setg(errp, "port %u already has a doorbell; disconnect it"
                   " first", port);
        return false;
    }
    chr = rmc_doorbell_chardev(path, errp);
    if (!chr) {
        error_prepend(errp, "port %u: ", port);
        return false;
    }
    if (!qemu_chr_fe_init(&db->chr, chr, errp)) {
        object_unparent(OBJECT(chr));
        return false;
    }
    db->path = g_strdup(path);
    db->segment = segment;
    /* The counters are the binding's; a reset leaves them. */
    db->doorbells = 0;
    db->completions = 0;
    if (!rmc_update_migration_blocker(s, errp)) {
        rmc_doorbell_unbind(db);
        return false;
    }
    qemu_chr_fe_set_handlers(&db->chr, rmc_doorbell_can_read,
                             rmc_doorbell_read, rmc_doorbell_event, NULL,
                             db, NULL, true);
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
