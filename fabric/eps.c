/*
 * Electrical packet switch (eps.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "eps.h"
#include "rack-error.h"

#define ETH_ALEN 6
#define MAX_FRAME 65536

typedef struct EpsPort {
    Eps *eps;
    int fd;
    char *path;             /* our socket */
    struct sockaddr_un nic; /* the NIC's socket */
    guint watch;
} EpsPort;

struct Eps {
    GPtrArray *ports;       /* EpsPort * */
    GHashTable *macs;       /* MAC (as guint64) -> EpsPort * */
};

static guint64 mac_key(const uint8_t *mac)
{
    guint64 k = 0;

    memcpy(&k, mac, ETH_ALEN);
    return k;
}

static void send_to(EpsPort *p, const uint8_t *frame, size_t len)
{
    /* A brick that is down has no socket: the frame is simply lost. */
    sendto(p->fd, frame, len, MSG_DONTWAIT, (struct sockaddr *)&p->nic,
           sizeof(p->nic));
}

static gboolean port_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    EpsPort *in = opaque;
    Eps *eps = in->eps;
    static uint8_t frame[MAX_FRAME];
    ssize_t n = recv(fd, frame, sizeof(frame), 0);
    guint64 key;
    EpsPort *out;

    if (n < 2 * ETH_ALEN) {
        return G_SOURCE_CONTINUE;
    }
    /* Learn where the source lives; forward to the destination or flood. */
    key = mac_key(frame + ETH_ALEN);
    g_hash_table_insert(eps->macs, g_memdup2(&key, sizeof(key)), in);
    key = mac_key(frame);
    out = (frame[0] & 1) ? NULL : g_hash_table_lookup(eps->macs, &key);
    if (out) {
        if (out != in) {
            send_to(out, frame, n);
        }
        return G_SOURCE_CONTINUE;
    }
    for (guint i = 0; i < eps->ports->len; i++) {
        EpsPort *p = g_ptr_array_index(eps->ports, i);

        if (p != in) {
            send_to(p, frame, n);
        }
    }
    return G_SOURCE_CONTINUE;
}

static void port_free(EpsPort *p)
{
    if (p->watch) {
        g_source_remove(p->watch);
    }
    if (p->fd >= 0) {
        close(p->fd);
        unlink(p->path);
    }
    g_free(p->path);
    g_free(p);
}

static bool add_port(Eps *eps, const char *run_dir, const char *name,
                     GError **errp)
{
    EpsPort *p = g_new0(EpsPort, 1);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_autofree char *nic = g_strdup_printf("%s/%s-nic.sock", run_dir, name);

    p->eps = eps;
    p->path = g_strdup_printf("%s/eps-%s.sock", run_dir, name);
    p->nic.sun_family = AF_UNIX;
    p->fd = -1;
    g_ptr_array_add(eps->ports, p);
    if (strlen(p->path) >= sizeof(sa.sun_path) ||
        strlen(nic) >= sizeof(sa.sun_path)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "socket path too long: %s", nic);
        return false;
    }
    strcpy(sa.sun_path, p->path);
    strcpy(p->nic.sun_path, nic);
    unlink(p->path);
    p->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (bind(p->fd, (struct sockaddr *)&sa, sizeof(sa))) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "%s: %s", p->path,
                    g_strerror(errno));
        close(p->fd);
        p->fd = -1;
        return false;
    }
    p->watch = g_unix_fd_add(p->fd, G_IO_IN, port_readable, p);
    return true;
}

Eps *eps_new(const Rack *rack, const char *run_dir, GError **errp)
{
    Eps *eps = g_new0(Eps, 1);

    eps->ports = g_ptr_array_new_with_free_func((GDestroyNotify)port_free);
    eps->macs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                      NULL);
    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *b = g_ptr_array_index(rack->bricks, i);
        g_autofree char *name = NULL;

        if (b->kind == RACK_MEMORY) {
            continue;   /* memory bricks sit on the optical side only */
        }
        name = g_strdup_printf("%s%u", b->kind == RACK_COMPUTE ? "brick"
                               : "accelerator", b->id);
        if (!add_port(eps, run_dir, name, errp)) {
            eps_free(eps);
            return NULL;
        }
    }
    return eps;
}

void eps_free(Eps *eps)
{
    if (eps) {
        g_ptr_array_free(eps->ports, true);
        g_hash_table_destroy(eps->macs);
        g_free(eps);
    }
}

unsigned eps_ports(const Eps *eps)
{
    return eps->ports->len;
}
