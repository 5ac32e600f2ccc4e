/*
 * dredbox-rack-check RACKFILE: validate a rack description and print what
 * it declares, one brick per line, for people and for the launcher.
 * dredbox-rack-check --disk-format IMAGE: print the format of a disk
 * image a brick can attach (raw or qcow2), or say why it cannot.
 *
 *
 *   rack NAME optical-ports N reconfigure-ms MS electrical yes|no
 *   timing on|off [tray-local-ns=NS ...] [link-bandwidth=BYTES]
 *   compute ID tray=T cpus=N ram=BYTES ports=N deadline-scale=S TIMING
 *   (TIMING: timing=off, or what the brick adds to -machine, e.g.
 *   timing=on,timing-rack-local-ns=50; S: what host-side deadlines that
 *   wait for the brick are multiplied by)
 *   memory ID tray=T size=BYTES class=CLASS ports=N
 *   accelerator ID tray=T ports=N engines=E rate=MIBS
 *   cable ENDPOINT optical:PORT latency=CLASS
 *   numa ID QEMU-OPTIONS
 *   (compute brick ID's NUMA nodes: what it adds to QEMU's options)
 *   vmem ID MEMORY-ID node=N latency=CLASS
 *   (compute brick ID's virtio-mem device for memory brick MEMORY-ID: the
 *   NUMA node it fills and the class of their circuit)
 *   pmem ID MEMORY-ID size=BYTES latency=CLASS
 *   (compute brick ID's persistent memory on memory brick MEMORY-ID)
 *   kernel ID PATH, initrd ID PATH, append ID TEXT, disk ID FORMAT PATH,
 *   share ID PATH, uplink ID
 *   (compute brick ID's software, where the rack file gives it: absolute
 *   paths, the rest of the line; FORMAT: raw or qcow2)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "rackfile.h"

static void print_path(const Rack *rack, const char *what, unsigned id,
                       const char *path)
{
    g_autofree char *abs = path ? rack_software_path(rack, path) : NULL;

    if (abs) {
        printf("%s %u %s\n", what, id, abs);
    }
}

static void print_software(const Rack *rack, const RackBrick *c)
{
    const RackSoftware *sw = &c->software;

    print_path(rack, "kernel", c->id, sw->kernel);
    print_path(rack, "initrd", c->id, sw->initrd);
    if (sw->append) {
        printf("append %u %s\n", c->id, sw->append);
    }
    if (sw->disk) {
        g_autofree char *abs = rack_software_path(rack, sw->disk);

        printf("disk %u %s %s\n", c->id, rack_disk_format(abs, NULL), abs);
    }
    print_path(rack, "share", c->id, sw->share);
    if (sw->uplink) {
        printf("uplink %u\n", c->id);
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Rack) rack = NULL;

    if (argc == 3 && !strcmp(argv[1], "--disk-format")) {
        const char *format = rack_disk_format(argv[2], &err);

        if (!format) {
            fprintf(stderr, "dredbox-rack-check: %s: %s\n", argv[2],
                    err->message);
            return 1;
        }
        printf("%s\n", format);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: dredbox-rack-check RACKFILE\n"
                "       dredbox-rack-check --disk-format IMAGE\n");
        return 2;
    }
    rack = rack_load(argv[1], &err);
    if (!rack || !rack_check_software(rack, &err)) {
        fprintf(stderr, "dredbox-rack-check: %s\n", err->message);
        return 1;
    }
    printf("rack %s optical-ports %u reconfigure-ms %u electrical %s\n",
           rack->name, rack->optical_ports, rack->reconfig_ms,
           rack->electrical ? "yes" : "no");
    if (rack->timing.line) {
        printf("timing %s", rack->timing.on ? "on" : "off");
        for (RackLatency l = RACK_TRAY_LOCAL; l <= RACK_INTER_RACK; l++) {
            if (rack->timing.class_ns[l]) {
                printf(" %s-ns=%u", rack_latency_name(l),
                       rack->timing.class_ns[l]);
            }
        }
        if (rack->timing.link_bandwidth) {
            printf(" link-bandwidth=%" G_GUINT64_FORMAT,
                   rack->timing.link_bandwidth);
        }
        printf("\n");
    }
    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *b = g_ptr_array_index(rack->bricks, i);

        printf("%s %u tray=%u", rack_kind_name(b->kind), b->id, b->tray);
        if (b->kind == RACK_COMPUTE) {
            g_autofree char *timing = rack_timing_options(rack, b);

            printf(" cpus=%u ram=%" G_GUINT64_FORMAT " ports=%u"
                   " deadline-scale=%u %s", b->cpus, b->ram, b->ports,
                   rack_deadline_scale(rack, b->id),
                   timing ? timing : "timing=off");
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
    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *c = g_ptr_array_index(rack->bricks, i);
        g_autofree char *numa = NULL;

        if (c->kind != RACK_COMPUTE) {
            continue;
        }
        numa = rack_numa_options(rack, c);
        printf("numa %u %s\n", c->id, numa);
        for (guint j = 0; j < rack->bricks->len; j++) {
            RackBrick *m = g_ptr_array_index(rack->bricks, j);
            RackLatency l;

            if (m->kind == RACK_MEMORY && rack_pair_latency(rack, c, m, &l)) {
                printf("vmem %u %u node=%d latency=%s\n", c->id, m->id,
                       rack_memory_node(rack, c, m), rack_latency_name(l));
            }
            if (m->kind == RACK_MEMORY && c->pmem_size &&
                c->pmem_memory == m->id) {
                printf("pmem %u %u size=%" G_GUINT64_FORMAT " latency=%s\n",
                       c->id, m->id, c->pmem_size, rack_latency_name(l));
            }
        }
        print_software(rack, c);
    }
    return 0;
}
