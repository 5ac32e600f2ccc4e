/*
 * Electrical packet switch: a learning Ethernet switch between the
 * bricks' NICs.  Brick NAME's port is the datagram socket RUN/eps-NAME.sock;
 * QEMU's NIC sends there from RUN/NAME-nic.sock:
 *
 *   -netdev dgram,id=net0,local.type=unix,local.path=RUN/NAME-nic.sock,
 *           remote.type=unix,remote.path=RUN/eps-NAME.sock
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_EPS_H
#define DREDBOX_EPS_H

#include <stdbool.h>
#include <glib.h>
#include "rackfile.h"

typedef struct Eps Eps;

/* One port per compute and accelerator brick of @rack. */
Eps *eps_new(const Rack *rack, const char *run_dir, GError **errp);
void eps_free(Eps *eps);
unsigned eps_ports(const Eps *eps);

#endif
