/*
 * dredbox-rack-check RACKFILE: validate a rack description and print what
 * it declares, one brick per line, for people and for the launcher:
 *
 *   rack NAME optical-ports N reconfigure-ms MS electrical yes|no
 *   compute ID tray=T cpus=N ram=BYTES ports=N
 *   memory ID tray=T size=BYTES class=CLASS ports=N
 *   accelerator ID tray=T ports=N engines=E rate=MIBS
 *   cable ENDPOINT optical:PORT latency=CLASS
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include "rackfile.h"

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Rack) rack = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: dredbox-rack-check RACKFILE\n");
        return 2;
    }
    rack = rack_load(argv[1], &err);
    if (!rack) {
        fprintf(stderr, "dredbox-rack-check: %s\n", err->message);
        return 1;
    }
    printf("rack %s optical-ports %u reconfigure-ms %u electrical %s\n",
           rack->name, rack->optical_ports, rack->reconfig_ms,
           rack->electrical ? "yes" : "no");
    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *b = g_ptr_array_index(rack->bricks, i);

        printf("%s %u tray=%u", rack_kind_name(b->kind), b->id, b->tray);
        if (b->kind == RACK_COMPUTE) {
            printf(" cpus=%u ram=%" G_GUINT64_FORMAT " ports=%u", b->cpus,
                   b->ram, b->ports);
        } else if (b->kind == RACK_MEMORY) {
            printf(" size=%" G_GUINT64_FORMAT " class=%s ports=%u", b->size,
                   b->mem_class, b->ports);
        } else {
            printf(" ports=%u engines=%u rate=%u", b->ports, b->engines,
                   b->rate);
        }
        printf("\n");
    }
    for (guint i = 0; i < rack->cables->len; i++) {
        RackCable *c = g_ptr_array_index(rack->cables, i);
        g_autofree char *name = rack_endpoint_name(c);

        printf("cable %s optical:%u latency=%s\n", name, c->switch_port,
               rack_latency_name(c->latency));
    }
    return 0;
}
