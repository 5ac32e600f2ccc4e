/*
 * QMP commands of the dReDBox Remote Memory Controller, for binaries
 * built without it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-dredbox.h"

static void no_rmc(Error **errp)
{
    error_setg(errp, "this QEMU has no dReDBox Remote Memory Controller");
}

DredboxRmcInfo *qmp_query_dredbox_rmc(const char *rmc, Error **errp)
{
    no_rmc(errp);
    return NULL;
}

void qmp_dredbox_rmc_set_entry(uint8_t port, uint16_t brick, uint64_t start,
                               uint64_t end, uint64_t offset, bool add,
                               const char *rmc, Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_clear_entry(uint8_t port, const char *rmc, Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_connect(uint8_t port, uint16_t brick,
                             bool has_latency_class,
                             DredboxLatencyClass latency_class,
                             const char *rmc, Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_disconnect(uint8_t port, const char *rmc, Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_attach_segment(uint32_t segment, const char *rmc,
                                    Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_detach_segment(uint32_t segment, const char *rmc,
                                    Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_poison_page(uint32_t segment, uint64_t offset,
                                  const char *rmc, Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_unpoison_page(uint32_t segment, uint64_t offset,
                                    const char *rmc, Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_connect_doorbell(uint8_t port, const char *path,
                                      uint32_t segment, const char *rmc,
                                      Error **errp)
{
    no_rmc(errp);
}

void qmp_dredbox_rmc_disconnect_doorbell(uint8_t port, const char *rmc,
                                         Error **errp)
{
    no_rmc(errp);
}
