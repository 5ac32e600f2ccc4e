/*
 * The rack description (docs/rack.md): which bricks a rack has, the
 * switches between them and how they are cabled.  One statement per line;
 * every error names the file and line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DREDBOX_RACKFILE_H
#define DREDBOX_RACKFILE_H

#include <stdbool.h>
#include <glib.h>
#include <stdint.h>

#define RACK_MAX_BRICKS 64
#define RACK_MAX_PORTS 32       /* memory ports of a compute brick */
#define RACK_MAX_ENGINES 64     /* of an accelerator brick */

typedef enum {
    RACK_COMPUTE,
    RACK_MEMORY,
    RACK_ACCELERATOR,
} RackBrickKind;

typedef enum {
    RACK_TRAY_LOCAL,
    RACK_RACK_LOCAL,
    RACK_INTER_RACK,
} RackLatency;

/*
 * What a compute brick boots and is given (docs/rack.md, "Software"): on
 * its compute line, or rack-wide on the compute-defaults line.  Paths are
 * as written; rack_software_path() resolves them.  NULL: not given (the
 * launcher's built kernel and initramfs, no disk, no share).
 */
typedef struct RackSoftware {
    char *kernel;
    char *initrd;
    char *append;           /* added to the command line the rack needs */
    char *disk;             /* raw or qcow2, under a copy-on-write overlay */
    char *share;            /* a host folder, virtio-9p */
    bool uplink;            /* a user-mode network NIC to the host's world */
    bool uplink_set;
    unsigned line;          /* where it was written, 0: nowhere */
} RackSoftware;

typedef struct RackBrick {
    RackBrickKind kind;
    unsigned id;
    unsigned tray;
    unsigned cpus;          /* compute */
    uint64_t ram;           /* compute: local DRAM */
    unsigned ports;         /* optical ports (compute: memory ports) */
    uint64_t size;          /* memory */
    char *mem_class;        /* memory: dram, hugepage, persistent */
    unsigned engines;       /* accelerator: engines working at once */
    unsigned rate;          /* accelerator: MiB/s per engine, 0 = host's */
    bool timing;            /* compute: timing mode, its own or the rack's */
    bool timing_own;        /* compute: timing= on its own line */
    unsigned pmem_memory;   /* compute: pmem='s memory brick */
    uint64_t pmem_size;     /* compute: persistent memory, 0: none */
    RackSoftware software;  /* compute: its own, then the rack's defaults */
    unsigned line;
} RackBrick;

/* A fibre from one of a brick's ports to a port of the optical switch. */
typedef struct RackCable {
    RackBrick *brick;
    unsigned brick_port;
    unsigned switch_port;
    RackLatency latency;
    unsigned line;
} RackCable;

/*
 * The rack's "timing" statement: the default of compute bricks' timing=
 * and the figures that override the machine's (0: the machine's own).
 */
typedef struct RackTiming {
    bool on;
    unsigned class_ns[3];       /* the fabric's round trip per RackLatency */
    uint64_t link_bandwidth;    /* bytes per second */
    unsigned line;              /* of the statement, 0: none */
} RackTiming;

typedef struct Rack {
    char *name;
    char *file;             /* as given: errors name it, paths are relative */
    GPtrArray *bricks;      /* RackBrick *, in file order */
    GPtrArray *cables;      /* RackCable * */
    unsigned optical_ports; /* 0: no optical switch */
    unsigned reconfig_ms;   /* optical reconfiguration time */
    bool electrical;        /* an electrical packet switch joins the NICs */
    RackTiming timing;
    RackSoftware defaults;  /* compute-defaults: what compute bricks inherit */
} Rack;

#define RACK_DEFAULT_RECONFIG_MS 25
/* A fabric figure past 1 ms is a typo, and QEMU holds it in 32 bits. */
#define RACK_TIMING_MAX_NS 1000000
/*
 * How much longer host-side deadlines that wait for a compute brick in
 * timing mode are (its boot, its SDM agent, its RMC link): such a brick
 * runs about 3x slower in host time (docs/timing.md), 4 leaves headroom.
 * The one definition: the launcher reads it from dredbox-rack-check.
 */
#define RACK_TIMING_DEADLINE_SCALE 4

Rack *rack_parse(const char *text, const char *filename, GError **errp);
Rack *rack_load(const char *path, GError **errp);
void rack_free(Rack *rack);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Rack, rack_free)

RackBrick *rack_brick(const Rack *rack, RackBrickKind kind, unsigned id);
/*
 * Whether @next is @rack plus memory bricks and cables for them (what may
 * be registered while the rack runs); false with the reason if not.
 */
bool rack_extends(const Rack *rack, const Rack *next, GError **errp);
/* The cable at optical switch port @port, or NULL. */
RackCable *rack_cable_at(const Rack *rack, unsigned port);
/*
 * What compute brick @b adds to its -machine option: NULL if it is not in
 * timing mode, else "timing=on" and the figures the rack file sets, e.g.
 * "timing=on,timing-rack-local-ns=50,timing-link-bandwidth=1887436800".
 */
char *rack_timing_options(const Rack *rack, const RackBrick *b);
/*
 * The latency class of the best circuit between bricks @a and @b: for the
 * pair of their cables that gives the nearest class, the farther of the
 * two cables' classes.  False if either brick has no cable.
 */
bool rack_pair_latency(const Rack *rack, const RackBrick *a,
                       const RackBrick *b, RackLatency *latency);
/*
 * NUMA nodes of a compute brick (docs/rack.md, "NUMA nodes"): node 0 is
 * its DRAM and CPUs; each memory brick it can reach gets an empty CPU-less
 * node, 1, 2, ... in rack-file order, at its pair class's distance.  The
 * guest's kernel takes 16 nodes and rmc-numa adds 3: past
 * RACK_MAX_MEMORY_NODES memory bricks, there is one node per class
 * instead (1 tray-local, 2 rack-local, 3 inter-rack).
 */
#define RACK_MAX_MEMORY_NODES 12
/* Compute brick @c's node for memory brick @m's memory, or -1: no path */
int rack_memory_node(const Rack *rack, const RackBrick *c,
                     const RackBrick *m);
/*
 * What compute brick @c adds to QEMU's options for its nodes, e.g.
 * "-object memory-backend-ram,id=dram,size=1073741824 -numa node,nodeid=0,
 * cpus=0-3,memdev=dram -numa node,nodeid=1 -numa dist,src=0,dst=1,val=20".
 */
char *rack_numa_options(const Rack *rack, const RackBrick *c);
/*
 * How much of memory brick @m the compute bricks' pmem= take: their
 * persistent memory, leased for good, which the SDM controller cannot
 * place.
 */
uint64_t rack_pmem_total(const Rack *rack, const RackBrick *m);
/* What host-side deadlines for compute brick @id are multiplied by. */
unsigned rack_deadline_scale(const Rack *rack, unsigned id);
/*
 * The absolute path a software attribute names: as written if absolute,
 * else relative to the rack file's folder.
 */
char *rack_software_path(const Rack *rack, const char *path);
/*
 * Check that every compute brick's software is there and of a kind QEMU
 * boots or attaches (an arm64 kernel, a raw or qcow2 disk, a folder);
 * false with the file, the line and what is wrong if not.  Only the
 * tools that start bricks ask: the daemons read a copy of the rack file.
 */
bool rack_check_software(const Rack *rack, GError **errp);
/* The format of disk image @path: "qcow2" or "raw"; NULL with why not. */
const char *rack_disk_format(const char *path, GError **errp);
const char *rack_kind_name(RackBrickKind kind);
const char *rack_latency_name(RackLatency latency);
/* "compute0.port1", "memory1.port0"; "memory1" for a one-port brick */
char *rack_endpoint_name(const RackCable *cable);

#endif
