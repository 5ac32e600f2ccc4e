/*
 * dredbox-mem: a TCG plugin that counts a compute brick's memory accesses
 * by where they land (docs/tracing.md):
 *
 *   local DRAM, remote memory behind virtio-mem, and for each RMC port and
 *   each memory brick the accesses the RMC's committed NetPort table sends
 *   there, translated as the RMC translates them.
 *
 * It is a target-arm piece rather than a contrib plugin because it knows
 * the dredbox-compute memory map and reads the RMC's published table
 * (include/hw/dredbox/rmc-table.h), which QEMU rewrites at every commit:
 * a reprogrammed entry counts from the next access on.
 *
 * In trace mode it writes every (or every Nth) access instead, with the
 * vCPU, virtual and physical address, brick and offset after the RMC's
 * translation, size, load/store and instruction count
 * (include/hw/dredbox/mem-trace.h); if the disk fills up it stops
 * tracing and says so, and the guest runs on.
 *
 *   -plugin PATH/libdredbox-mem.so,mode=count|trace,rmc=TABLE
 *           [,range=A-B]...[,sample=N][,interval=N][,out=FILE]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>

#include <qemu-plugin.h>

#include "hw/dredbox/mem-trace.h"
#include "hw/dredbox/rmc-table.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* docs/memory-map.md */
#define GiB                 (1ULL << 30)
#define LOCAL_DRAM_BASE     (4 * GiB)
#define LOCAL_DRAM_END      (256 * GiB)     /* device memory follows */
#define DEVICE_MEMORY_END   (512 * GiB)
#define MAX_BRICKS          256

typedef struct Counts {
    uint64_t loads, stores, bytes;
} Counts;

/* The trace's kinds; RMC (through a port) is counted per port instead. */
enum {
    LOCAL = MEM_TRACE_LOCAL, VIRTIO_MEM = MEM_TRACE_VIRTIO_MEM,
    RMC = MEM_TRACE_RMC, RMC_UNMAPPED = MEM_TRACE_RMC_UNMAPPED,
    IO = MEM_TRACE_IO, OTHER = MEM_TRACE_OTHER, KINDS
};
static const char *const kind_names[KINDS] = {
    [LOCAL] = "local", [VIRTIO_MEM] = "virtio-mem", [RMC] = NULL,
    [RMC_UNMAPPED] = "rmc-unmapped", [IO] = "io", [OTHER] = "other",
};

typedef struct Tally {
    Counts kinds[KINDS];
    Counts ports[RMC_TABLE_PORTS];
    Counts bricks[MAX_BRICKS];
} Tally;

/*
 * Each vCPU's own state, a scoreboard entry: the per-access path writes
 * only its own vCPU's, with plain stores (no atomic read-modify-write,
 * no counter another vCPU writes).  Others only read the counts
 * (print_all, at intervals and at exit).
 */
typedef struct Vcpu {
    uint64_t icount;        /* mode=trace: instructions so far (inline) */
    uint64_t skip;          /* sample=N: accesses still to skip */
    Tally tally;            /* mode=count */
} Vcpu;

static struct qemu_plugin_scoreboard *vcpus;    /* Vcpu per vCPU */
static uint32_t port_brick[RMC_TABLE_PORTS];    /* the last seen per port */

static char *table_path;
static const RmcTable *table;          /* QEMU's, shared-mapped */
static bool table_failed;
static RmcTable *snap;                 /* our consistent copy */
static GPtrArray *old_snaps;
static GMutex snap_lock;
static GArray *ranges;                 /* pairs of uint64_t, [a, b) */
static uint64_t sample = 1;
static FILE *out;                      /* mode=trace; its lock orders records */
static bool tracing;                   /* mode=trace */
static bool trace_stopped;
static char *out_path;
static uint64_t interval;              /* count: publish every N accesses */
static uint64_t counted;
static GMutex publish_lock;

/* A consistent copy of the table after QEMU rewrote it. */
static RmcTable *refresh(void)
{
    RmcTable *t = g_new(RmcTable, 1);
    RmcTable *cur;
    uint32_t gen;

    do {
        gen = __atomic_load_n(&table->generation, __ATOMIC_ACQUIRE);
        memcpy(t, table, sizeof(*t));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((gen & 1) ||
             gen != __atomic_load_n(&table->generation, __ATOMIC_ACQUIRE));
    t->generation = gen;
    g_mutex_lock(&snap_lock);
    cur = snap;
    if (cur->generation == gen) {
        /* Another vCPU got there first. */
        g_free(t);
        t = cur;
    } else {
        /* Readers may still hold the old copy: keep it until exit. */
        g_ptr_array_add(old_snaps, cur);
        __atomic_store_n(&snap, t, __ATOMIC_RELEASE);
    }
    g_mutex_unlock(&snap_lock);
    return t;
}

/*
 * The RMC creates its table when the machine is built, after plugins are
 * loaded: map it at the first access to an RMC window.
 */
static bool table_open(void)
{
    RmcTable *m = MAP_FAILED;
    int fd;

    if (!table_path || __atomic_load_n(&table_failed, __ATOMIC_RELAXED)) {
        return false;
    }
    g_mutex_lock(&snap_lock);
    if (!table && !table_failed) {
        fd = open(table_path, O_RDONLY);
        if (fd >= 0) {
            m = mmap(NULL, sizeof(RmcTable), PROT_READ, MAP_SHARED, fd, 0);
            close(fd);
        }
        if (m == MAP_FAILED || m->magic != RMC_TABLE_MAGIC ||
            m->version != RMC_TABLE_VERSION) {
            fprintf(stderr, "dredbox-mem: %s is not an RMC table (give QEMU"
                    " -global dredbox-rmc.table=%s); RMC accesses count as"
                    " other\n", table_path, table_path);
            __atomic_store_n(&table_failed, true, __ATOMIC_RELAXED);
        } else {
            snap = g_new0(RmcTable, 1);
            snap->generation = UINT32_MAX;  /* refreshed right away */
            __atomic_store_n(&table, m, __ATOMIC_RELEASE);
        }
    }
    g_mutex_unlock(&snap_lock);
    return table;
}

static void publish_counts(void);

/* Only this vCPU writes @c; others may read it at the same time. */
static void add(Counts *c, bool store, unsigned size)
{
    uint64_t *n = store ? &c->stores : &c->loads;

    __atomic_store_n(n, *n + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&c->bytes, c->bytes + size, __ATOMIC_RELAXED);
}

static bool in_ranges(uint64_t pa)
{
    for (guint i = 0; i < ranges->len; i += 2) {
        if (pa >= g_array_index(ranges, uint64_t, i) &&
            pa < g_array_index(ranges, uint64_t, i + 1)) {
            return true;
        }
    }
    return !ranges->len;
}

/* Where @pa lands: the kind, and for RMC the port, brick and offset. */
static int classify(uint64_t pa, bool io, unsigned *port, uint32_t *brick,
                    uint64_t *offset)
{
    RmcTable *t;

    if (io) {
        return IO;
    }
    if (pa >= LOCAL_DRAM_BASE && pa < LOCAL_DRAM_END) {
        return LOCAL;
    }
    if (pa >= LOCAL_DRAM_END && pa < DEVICE_MEMORY_END) {
        return VIRTIO_MEM;
    }
    if (!__atomic_load_n(&table, __ATOMIC_ACQUIRE) && !table_open()) {
        return OTHER;
    }
    t = __atomic_load_n(&snap, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&table->generation, __ATOMIC_RELAXED) !=
        t->generation) {
        t = refresh();
    }
    for (unsigned p = 0; p < t->nports && p < RMC_TABLE_PORTS; p++) {
        const RmcTableEntry *e = &t->port[p];

        if (e->enabled && pa >= e->start && pa <= e->end) {
            *port = p;
            *brick = e->brick;
            *offset = e->add ? pa + e->offset : pa - e->offset;
            return RMC;
        }
    }
    return RMC_UNMAPPED;
}

static void trace_write(const MemTraceRecord *r)
{
    flockfile(out);
    if (!trace_stopped && fwrite_unlocked(r, sizeof(*r), 1, out) != 1) {
        /* A full disk ends the trace, not the guest. */
        __atomic_store_n(&trace_stopped, true, __ATOMIC_RELAXED);
        fprintf(stderr, "dredbox-mem: cannot write the trace (%s): tracing"
                " stopped, the guest runs on\n", strerror(errno));
    }
    funlockfile(out);
}

static void vcpu_mem(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                     uint64_t vaddr, void *udata)
{
    Vcpu *vcpu = qemu_plugin_scoreboard_find(vcpus, vcpu_index);
    struct qemu_plugin_hwaddr *hw;
    bool store;
    unsigned size, port = 0;
    uint32_t brick = 0;
    uint64_t pa, offset = 0;
    int kind;

    if (tracing && __atomic_load_n(&trace_stopped, __ATOMIC_RELAXED)) {
        return;     /* the disk is full: nothing more to do */
    }
    if (sample > 1) {
        /* The first access, then one in @sample. */
        if (vcpu->skip) {
            vcpu->skip--;
            return;
        }
        vcpu->skip = sample - 1;
    }
    hw = qemu_plugin_get_hwaddr(info, vaddr);
    if (!hw) {
        return;
    }
    pa = qemu_plugin_hwaddr_phys_addr(hw);
    if (!in_ranges(pa)) {
        return;
    }
    store = qemu_plugin_mem_is_store(info);
    size = 1u << qemu_plugin_mem_size_shift(info);
    kind = classify(pa, qemu_plugin_hwaddr_is_io(hw), &port, &brick,
                    &offset);
    if (tracing) {
        MemTraceRecord r = {
            .icount = vcpu->icount,
            .vaddr = vaddr, .paddr = pa, .offset = offset,
            .vcpu = vcpu_index, .brick = brick, .port = port, .kind = kind,
            .size = size, .store = store,
        };

        trace_write(&r);
        return;
    }
    if (kind != RMC) {
        add(&vcpu->tally.kinds[kind], store, size);
    } else {
        add(&vcpu->tally.ports[port], store, size);
        if (__atomic_load_n(&port_brick[port], __ATOMIC_RELAXED) != brick) {
            __atomic_store_n(&port_brick[port], brick, __ATOMIC_RELAXED);
        }
        if (brick < MAX_BRICKS) {
            add(&vcpu->tally.bricks[brick], store, size);
        }
    }
    if (interval &&
        __atomic_add_fetch(&counted, 1, __ATOMIC_RELAXED) % interval == 0) {
        publish_counts();
    }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    if (tracing) {
        qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(
            tb, QEMU_PLUGIN_INLINE_ADD_U64,
            qemu_plugin_scoreboard_u64_in_struct(vcpus, Vcpu, icount),
            qemu_plugin_tb_n_insns(tb));
    }
    for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); i++) {
        qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i),
                                         vcpu_mem, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, NULL);
    }
}

/* Every vCPU's counts added up (while they may still be counting). */
static void sum_counts(Tally *sum)
{
    uint64_t *to = (uint64_t *)sum;

    memset(sum, 0, sizeof(*sum));
    for (int v = 0; v < qemu_plugin_num_vcpus(); v++) {
        const Vcpu *vcpu = qemu_plugin_scoreboard_find(vcpus, v);
        const uint64_t *from = (const uint64_t *)&vcpu->tally;

        for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++) {
            to[i] += __atomic_load_n(&from[i], __ATOMIC_RELAXED);
        }
    }
}

static void print_counts(FILE *f, const char *what, const Counts *c)
{
    fprintf(f, "%s loads=%" PRIu64 " stores=%" PRIu64 " bytes=%" PRIu64
            "\n", what, c->loads, c->stores, c->bytes);
}

static void print_all(FILE *f)
{
    Tally t;

    sum_counts(&t);
    fprintf(f, "dredbox-mem count sample=%" PRIu64 "\n", sample);
    for (int k = 0; k < KINDS; k++) {
        if (kind_names[k]) {
            g_autofree char *w = g_strdup_printf("kind=%s", kind_names[k]);

            print_counts(f, w, &t.kinds[k]);
        }
    }
    for (int p = 0; p < RMC_TABLE_PORTS; p++) {
        if (t.ports[p].loads || t.ports[p].stores) {
            g_autofree char *w = g_strdup_printf(
                "port=%d brick=%u", p,
                __atomic_load_n(&port_brick[p], __ATOMIC_RELAXED));

            print_counts(f, w, &t.ports[p]);
        }
    }
    for (int b = 0; b < MAX_BRICKS; b++) {
        if (t.bricks[b].loads || t.bricks[b].stores) {
            g_autofree char *w = g_strdup_printf("brick=%d", b);

            print_counts(f, w, &t.bricks[b]);
        }
    }
    fflush(f);
}

/*
 * Counts while the guest runs: out=FILE is rewritten (whole, renamed
 * into place) every @interval counted accesses.
 */
static void write_counts(void)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp", out_path);
    FILE *f;

    f = fopen(tmp, "w");
    if (f) {
        print_all(f);
        if (fclose(f) == 0) {
            rename(tmp, out_path);
        }
    }
}

static void publish_counts(void)
{
    if (g_mutex_trylock(&publish_lock)) {   /* else another vCPU is at it */
        write_counts();
        g_mutex_unlock(&publish_lock);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    if (tracing) {
        flockfile(out);
        if (!trace_stopped && fflush(out)) {
            fprintf(stderr, "dredbox-mem: cannot write the trace (%s)\n",
                    strerror(errno));
        }
        __atomic_store_n(&trace_stopped, true, __ATOMIC_RELAXED);
        funlockfile(out);
        return;
    }
    if (out_path) {
        g_mutex_lock(&publish_lock);
        write_counts();
        g_mutex_unlock(&publish_lock);
    } else {
        print_all(stderr);
    }
}

static bool parse_range(const char *v, uint64_t *a, uint64_t *b)
{
    char *end;

    errno = 0;
    *a = strtoull(v, &end, 0);
    if (errno || *end != '-') {
        return false;
    }
    *b = strtoull(end + 1, &end, 0);
    return !errno && !*end && *b > *a;
}

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "dredbox-mem: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    const char *rmc = NULL, *mode = NULL, *path = NULL;

    ranges = g_array_new(false, false, sizeof(uint64_t));
    old_snaps = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        g_autofree char *key = eq ? g_strndup(argv[i], eq - argv[i]) : NULL;
        const char *v = eq ? eq + 1 : NULL;

        if (!key) {
            return fail("expected KEY=VALUE, not '%s'", argv[i]);
        } else if (!strcmp(key, "mode")) {
            mode = v;
        } else if (!strcmp(key, "rmc")) {
            rmc = v;
        } else if (!strcmp(key, "out")) {
            path = v;
        } else if (!strcmp(key, "sample")) {
            char *end;

            sample = strtoull(v, &end, 10);
            /* The trace's header holds it in 32 bits. */
            if (*end || !sample || sample > UINT32_MAX) {
                return fail("sample must be a positive number, not '%s'", v);
            }
        } else if (!strcmp(key, "interval")) {
            char *end;

            interval = strtoull(v, &end, 10);
            if (*end || !interval) {
                return fail("interval must be a positive number, not '%s'",
                            v);
            }
        } else if (!strcmp(key, "range")) {
            uint64_t a, b;

            if (!parse_range(v, &a, &b)) {
                return fail("range must be START-END (END above START),"
                            " not '%s'", v);
            }
            g_array_append_val(ranges, a);
            g_array_append_val(ranges, b);
        } else {
            return fail("unknown argument '%s' (mode, rmc, range, sample,"
                        " interval, out)", argv[i]);
        }
    }
    if (!mode || (strcmp(mode, "count") && strcmp(mode, "trace"))) {
        return fail("mode must be count or trace, not '%s'",
                    mode ? mode : "");
    }
    tracing = !strcmp(mode, "trace");
    if (tracing && !path) {
        return fail("trace mode needs out=FILE%s", "");
    }
    if (interval && (tracing || !path)) {
        return fail("interval= is for count mode with out=FILE%s", "");
    }
    out_path = g_strdup(path);
    if (strcmp(info->target_name, "aarch64") || !info->system_emulation) {
        return fail("needs qemu-system-aarch64 (a dredbox-compute brick),"
                    " not %s", info->target_name);
    }
    table_path = rmc ? g_strdup(rmc) : NULL;
    out = path ? fopen(path, tracing ? "wb" : "w") : stderr;
    if (!out) {
        return fail("cannot write %s", path);
    }
    if (!tracing && path) {
        /* Counts replace the file whole, at intervals and at exit. */
        fclose(out);
        out = NULL;
    }
    if (tracing) {
        MemTraceHeader h = {
            .magic = MEM_TRACE_MAGIC, .version = MEM_TRACE_VERSION,
            .record_size = sizeof(MemTraceRecord), .sample = sample,
        };

        setvbuf(out, NULL, _IOFBF, 1 << 20);
        if (fwrite(&h, sizeof(h), 1, out) != 1) {
            return fail("cannot write %s", path);
        }
    }
    vcpus = qemu_plugin_scoreboard_new(sizeof(Vcpu));
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
