/*
 * dredbox-mem: a TCG plugin that counts a compute brick's memory accesses
 * by where they land (docs/tracing.md):
 *
 *   local DRAM, remote memory behind virtio-mem, and for each RMC port and
 *   each memory brick the accesses the RMC's committed NetPort table sends
 *   there, translated as the RMC translates them.
 *
 * It is the rack's own plugin rather than a contrib one because it knows
 * the dredbox-compute memory map and reads the RMC's published table
 * (include/dredbox/rmc-table.h), which QEMU rewrites at every commit:
 * a reprogrammed entry counts from the next access on.
 *
 * In trace mode it writes every (or every Nth) access instead, with the
 * vCPU, ASID, virtual and physical address, brick and offset after the
 * RMC's translation, size, load/store and instruction count
 * (include/dredbox/mem-trace.h); if the disk fills up it stops
 * tracing and says so, and the guest runs on.
 *
 * In timing mode (mode=timing, which the dredbox-compute machine selects
 * itself with timing=on, docs/timing.md) it models the brick's data
 * caches instead, a per-vCPU L1D and a shared L2, and charges each load
 * the latency of where it is served from: a cache, local DRAM, or the
 * memory brick behind an RMC window or a remote NUMA node or virtio-mem
 * device, as a stall of the vCPU in icount time.  The machine shares the
 * figures, the remote ranges and the counts with it in a TimingTable
 * (include/dredbox/timing-table.h), passed as an inherited memfd.
 *
 * With cmo=on (mode=count) it also checks the guest's cache maintenance
 * of the RMC windows: that each line was cleaned to the point of
 * coherency before its entry was cleared (cache-maintenance.h).
 *
 * Which process runs it learns as the hardware's trace units do: from
 * the guest's writes to TTBR0/TTBR1/TCR_EL1 (the address space) and
 * CONTEXTIDR_EL1 (where Linux puts the thread's PID), so that it can keep
 * to one process.  A control socket changes that filter and reads the
 * counts while the guest runs.
 *
 *   -plugin PATH/libdredbox-mem.so,mode=count|trace|timing,rmc=TABLE
 *           [,map=MEMORY_MAP][,range=A-B]...[,sample=N][,pid=N|ttbr=ADDR][,ctl=SOCKET]
 *           [,cmo=on][,out=FILE]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>

#include <qemu-plugin.h>

#include "dredbox/mem-trace.h"
#include "dredbox/address-map.h"
#include "dredbox/latency-class.h"
#include "dredbox/memory-map.h"
#include "dredbox/rmc-table.h"
#include "dredbox/timing-table.h"
#include "cache-maintenance.h"
#include "line-server.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* docs/memory-map.md */
#define LOCAL_DRAM_BASE     DREDBOX_LOCAL_DRAM_BASE
#define LOCAL_DRAM_END      DREDBOX_DEVICE_MEMORY_BASE
#define DEVICE_MEMORY_END   (DREDBOX_DEVICE_MEMORY_BASE + \
                             DREDBOX_DEVICE_MEMORY_SIZE)
#define PMEM_BASE           DREDBOX_PMEM_BASE
#define MAX_BRICKS          256

/*
 * The system registers that say which process runs, by the encoding of
 * "MSR <reg>, Xt" without Rt (the low 5 bits).
 */
enum { TTBR0, TTBR1, TCR, CONTEXTIDR, SYSREGS };
static const uint32_t msr_insn[SYSREGS] = {
    [TTBR0] = 0xd5182000, [TTBR1] = 0xd5182020, [TCR] = 0xd5182040,
    [CONTEXTIDR] = 0xd518d020,
};
#define MSR_RT_MASK         0x1fu
#define TCR_A1              (1ULL << 22)    /* TTBR1 holds the ASID */
#define TCR_AS              (1ULL << 36)    /* 16-bit ASIDs */
#define TTBR_ASID_SHIFT     48
#define TTBR_BADDR_MASK     0x0000fffffffffffeULL   /* without CnP */

/* The process filter: kind << FILTER_SHIFT | value, 0 for none. */
enum { FILTER_NONE, FILTER_PID, FILTER_TTBR };
#define FILTER_SHIFT        56

typedef struct Counts {
    uint64_t loads, stores, bytes;
} Counts;

/* The trace's kinds; RMC (through a port) is counted per port instead. */
enum {
    LOCAL = MEM_TRACE_LOCAL, VIRTIO_MEM = MEM_TRACE_VIRTIO_MEM,
    RMC = MEM_TRACE_RMC, RMC_UNMAPPED = MEM_TRACE_RMC_UNMAPPED,
    IO = MEM_TRACE_IO, OTHER = MEM_TRACE_OTHER,
    REMOTE_NODE = MEM_TRACE_REMOTE_NODE, PMEM = MEM_TRACE_PMEM, KINDS
};
static const char *const kind_names[KINDS] = {
    [LOCAL] = "local", [VIRTIO_MEM] = "virtio-mem", [RMC] = NULL,
    [RMC_UNMAPPED] = "rmc-unmapped", [IO] = "io", [OTHER] = "other",
    [REMOTE_NODE] = "remote-node", [PMEM] = "pmem",
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
 * (walk_counts, for the control socket and at exit).
 */
/* mode=timing: the streams a vCPU's prefetcher follows */
#define STREAMS 8

typedef struct Vcpu {
    uint64_t *l1;           /* mode=timing: L1D tags, sets x ways */
    uint64_t stream[STREAMS];   /* mode=timing: each one's next line */
    unsigned stream_victim; /* the one a new stream replaces */
    uint64_t icount;        /* mode=trace: instructions so far (inline) */
    uint64_t skip;          /* sample=N: accesses still to skip */
    uint64_t sysreg[SYSREGS];   /* as the guest last wrote them */
    Tally tally;            /* mode=count */
} Vcpu;

static struct qemu_plugin_scoreboard *vcpus;    /* Vcpu per vCPU */
static uint32_t port_brick[RMC_TABLE_PORTS];    /* the last seen per port */

/*
 * A table QEMU publishes for us (rmc-table.h, memory-map.h): magic,
 * version and a seqlock generation are its first three words.  QEMU
 * creates it when the machine is built, after plugins are loaded, so it is
 * mapped at first use; readers take a consistent copy after each rewrite
 * and keep the old copies until exit, as other vCPUs may still read them.
 */
typedef struct Published {
    const char *arg;            /* the argument that names it */
    const char *hint;           /* how QEMU is told to publish it */
    size_t size;
    uint32_t magic, version;
    char *path;
    const void *shared;         /* QEMU's, shared-mapped */
    bool failed;
    void *snap;                 /* our consistent copy */
    GPtrArray *old;
    GMutex lock;
} Published;

static Published rmc_pub = {
    .arg = "rmc", .hint = "-global dredbox-rmc.table=PATH",
    .size = sizeof(RmcTable), .magic = RMC_TABLE_MAGIC,
    .version = RMC_TABLE_VERSION,
};
static Published map_pub = {
    .arg = "map", .hint = "-machine dredbox-compute,memory-map=PATH",
    .size = sizeof(MemoryMap), .magic = MEMORY_MAP_MAGIC,
    .version = MEMORY_MAP_VERSION,
};
static GArray *ranges;                 /* pairs of uint64_t, [a, b) */
static uint64_t sample = 1;
static FILE *out;                      /* mode=trace; its lock orders records */
static bool tracing;                   /* mode=trace */
static bool trace_stopped;
static char *out_path;
static uint64_t filter;                /* FILTER_*: set by ctl, read by all */
static struct qemu_plugin_register *xreg[31];   /* X0-X30 */
static GHashTable *threads;            /* pid -> Thread, the last seen */
static GMutex threads_lock;
static char *ctl_path;
static int ctl_fd = -1;
static bool cmo;                       /* cmo=on: cache-maintenance.h */

/* A guest thread as it was last switched to. */
typedef struct Thread {
    uint64_t ttbr;          /* its address space: TTBR0_EL1's table base */
    uint16_t asid;
} Thread;

static uint32_t pub_generation(const void *table)
{
    return __atomic_load_n((const uint32_t *)table + 2, __ATOMIC_ACQUIRE);
}

/* A consistent copy of @p's table after QEMU rewrote it. */
static void *pub_refresh(Published *p)
{
    void *t = g_malloc(p->size);
    void *cur;
    uint32_t gen;

    do {
        gen = pub_generation(p->shared);
        memcpy(t, p->shared, p->size);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((gen & 1) || gen != pub_generation(p->shared));
    ((uint32_t *)t)[2] = gen;
    g_mutex_lock(&p->lock);
    cur = p->snap;
    if (((uint32_t *)cur)[2] == gen) {
        /* Another vCPU got there first. */
        g_free(t);
        t = cur;
    } else {
        g_ptr_array_add(p->old, cur);
        __atomic_store_n(&p->snap, t, __ATOMIC_RELEASE);
    }
    g_mutex_unlock(&p->lock);
    return t;
}

static bool pub_open(Published *p)
{
    void *m = MAP_FAILED;
    int fd;

    if (!p->path || __atomic_load_n(&p->failed, __ATOMIC_RELAXED)) {
        return false;
    }
    g_mutex_lock(&p->lock);
    if (!p->shared && !p->failed) {
        fd = open(p->path, O_RDONLY);
        if (fd >= 0) {
            m = mmap(NULL, p->size, PROT_READ, MAP_SHARED, fd, 0);
            close(fd);
        }
        if (m == MAP_FAILED || ((uint32_t *)m)[0] != p->magic ||
            ((uint32_t *)m)[1] != p->version) {
            fprintf(stderr, "dredbox-mem: %s=%s is not what QEMU publishes"
                    " with %s; what it describes counts as other\n", p->arg,
                    p->path, p->hint);
            __atomic_store_n(&p->failed, true, __ATOMIC_RELAXED);
        } else {
            p->snap = g_malloc0(p->size);
            ((uint32_t *)p->snap)[2] = UINT32_MAX;  /* refreshed at once */
            p->old = g_ptr_array_new_with_free_func(g_free);
            __atomic_store_n(&p->shared, m, __ATOMIC_RELEASE);
        }
    }
    g_mutex_unlock(&p->lock);
    return p->shared;
}

/* A consistent copy of @p's table, or NULL if there is none. */
static const void *pub_get(Published *p)
{
    const void *t;

    if (!__atomic_load_n(&p->shared, __ATOMIC_ACQUIRE) && !pub_open(p)) {
        return NULL;
    }
    t = __atomic_load_n(&p->snap, __ATOMIC_ACQUIRE);
    if (pub_generation(p->shared) != ((const uint32_t *)t)[2]) {
        t = pub_refresh(p);
    }
    return t;
}

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

/* Whether @pa is RAM the memory map describes, not the RMC's or I/O. */
static bool in_memory_map(uint64_t pa)
{
    return (pa >= LOCAL_DRAM_BASE && pa < DEVICE_MEMORY_END) ||
           pa >= PMEM_BASE;
}

/*
 * Where @pa lands: the kind; for RMC the port, brick and offset; for
 * memory a memory brick backs outside the RMC (the memory map), the brick
 * and the offset in it.
 */
static int classify(uint64_t pa, bool io, unsigned *port, uint32_t *brick,
                    uint64_t *offset)
{
    const RmcTable *t;

    if (io) {
        return IO;
    }
    if (in_memory_map(pa)) {
        const MemoryMap *m = pub_get(&map_pub);
        const MemoryMapRange *r = m ? memory_map_find(m, pa) : NULL;

        if (r && r->brick != MEMORY_MAP_NO_BRICK) {
            *brick = r->brick;
            *offset = memory_map_offset(m, r, pa);
            return r->kind == MEMORY_MAP_NODE ? REMOTE_NODE
                   : r->kind == MEMORY_MAP_PMEM ? PMEM : VIRTIO_MEM;
        }
        return pa >= PMEM_BASE ? PMEM : pa < LOCAL_DRAM_END ? LOCAL
                                                            : VIRTIO_MEM;
    }
    t = pub_get(&rmc_pub);
    if (!t) {
        return OTHER;
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

static uint64_t ttbr_base(const Vcpu *vcpu)
{
    return vcpu->sysreg[TTBR0] & TTBR_BADDR_MASK;
}

/* The ASID the vCPU translates with (TCR_EL1.A1 and .AS say where). */
static uint16_t current_asid(const Vcpu *vcpu)
{
    uint64_t tcr = vcpu->sysreg[TCR];
    uint64_t ttbr = vcpu->sysreg[tcr & TCR_A1 ? TTBR1 : TTBR0];

    return (ttbr >> TTBR_ASID_SHIFT) & (tcr & TCR_AS ? 0xffff : 0xff);
}

/* Whether the vCPU runs what the process filter keeps. */
static bool filter_keeps(const Vcpu *vcpu)
{
    uint64_t f = __atomic_load_n(&filter, __ATOMIC_RELAXED);
    uint64_t value = f & ((1ULL << FILTER_SHIFT) - 1);

    switch (f >> FILTER_SHIFT) {
    case FILTER_PID:
        return vcpu->sysreg[CONTEXTIDR] == value;
    case FILTER_TTBR:
        return ttbr_base(vcpu) == value;
    default:
        return true;
    }
}

/* Xt's value as the instruction about to execute reads it; 0 for XZR. */
static bool read_x(unsigned rt, uint64_t *value)
{
    static __thread GByteArray *buf;    /* each vCPU thread's, kept */

    *value = 0;
    if (rt >= G_N_ELEMENTS(xreg)) {
        return true;
    }
    if (!buf) {
        buf = g_byte_array_new();
    }
    g_byte_array_set_size(buf, 0);
    if (!xreg[rt] || qemu_plugin_read_register(xreg[rt], buf) != 8) {
        return false;
    }
    memcpy(value, buf->data, 8);
    *value = GUINT64_FROM_LE(*value);
    return true;
}

/*
 * The guest wrote a system register that says which process runs: the
 * value is in Xt, read before the MSR executes.  Linux writes
 * CONTEXTIDR_EL1 after switching the address space, so the thread table
 * records the pair.
 */
static void vcpu_msr(unsigned int vcpu_index, void *udata)
{
    Vcpu *vcpu = qemu_plugin_scoreboard_find(vcpus, vcpu_index);
    unsigned reg = GPOINTER_TO_UINT(udata) >> 8;
    unsigned rt = GPOINTER_TO_UINT(udata) & MSR_RT_MASK;
    uint64_t value;
    Thread *t;

    if (!read_x(rt, &value)) {
        return;
    }
    vcpu->sysreg[reg] = value;
    if (reg == CONTEXTIDR) {
        g_mutex_lock(&threads_lock);
        t = g_hash_table_lookup(threads, GUINT_TO_POINTER(value));
        if (!t) {
            t = g_new(Thread, 1);
            g_hash_table_insert(threads, GUINT_TO_POINTER(value), t);
        }
        t->ttbr = ttbr_base(vcpu);
        t->asid = current_asid(vcpu);
        g_mutex_unlock(&threads_lock);
    }
}

/*
 * If @insn writes one of the system registers, vcpu_msr's data for it:
 * the register << 8 | Rt; else -1.
 */
static int msr_target(struct qemu_plugin_insn *insn)
{
    uint32_t op = 0;

    if (qemu_plugin_insn_data(insn, &op, sizeof(op)) != sizeof(op)) {
        return -1;
    }
    op = GUINT32_FROM_LE(op);
    for (unsigned r = 0; r < SYSREGS; r++) {
        if ((op & ~MSR_RT_MASK) == msr_insn[r]) {
            return r << 8 | (op & MSR_RT_MASK);
        }
    }
    return -1;
}

/* cmo=on: the guest cleans the line of the address in Xt (udata: Rt). */
static void vcpu_dc_clean(unsigned int vcpu_index, void *udata)
{
    uint64_t va;

    if (read_x(GPOINTER_TO_UINT(udata), &va)) {
        cmo_clean(pub_get(&rmc_pub), va);
    }
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
    unsigned shift, port = 0;
    uint32_t brick = MEMORY_MAP_NO_BRICK;
    uint64_t pa, offset = 0;
    int kind;

    if (tracing && __atomic_load_n(&trace_stopped, __ATOMIC_RELAXED)) {
        return;     /* the disk is full: nothing more to do */
    }
    if (cmo) {
        /* Every process's, unsampled: any store may dirty a line. */
        hw = qemu_plugin_get_hwaddr(info, vaddr);
        if (hw && !qemu_plugin_hwaddr_is_io(hw)) {
            cmo_access(pub_get(&rmc_pub), vaddr,
                       qemu_plugin_hwaddr_phys_addr(hw),
                       qemu_plugin_mem_is_store(info));
        }
    }
    if (!filter_keeps(vcpu)) {
        return;
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
    shift = qemu_plugin_mem_size_shift(info);
    kind = classify(pa, qemu_plugin_hwaddr_is_io(hw), &port, &brick,
                    &offset);
    if (tracing) {
        MemTraceRecord r = {
            .icount = vcpu->icount,
            .vaddr = vaddr, .paddr = pa, .offset = offset,
            .vcpu = vcpu_index, .brick = brick, .asid = current_asid(vcpu),
            .port = port, .flags = mem_trace_flags(kind, store, shift),
        };

        trace_write(&r);
        return;
    }
    if (kind != RMC) {
        add(&vcpu->tally.kinds[kind], store, 1u << shift);
    } else {
        add(&vcpu->tally.ports[port], store, 1u << shift);
        if (__atomic_load_n(&port_brick[port], __ATOMIC_RELAXED) != brick) {
            __atomic_store_n(&port_brick[port], brick, __ATOMIC_RELAXED);
        }
    }
    /* Every path to a memory brick counts for it. */
    if ((kind == RMC || kind == VIRTIO_MEM || kind == REMOTE_NODE ||
         kind == PMEM) && brick < MAX_BRICKS) {
        add(&vcpu->tally.bricks[brick], store, 1u << shift);
    }
}

/*
 * mode=timing (docs/timing.md).  icount runs every vCPU on one thread,
 * in turn, so the shared L2 and the range snapshot need no lock.
 */
static int fail(const char *fmt, const char *arg);

static TimingTable *tt;             /* the machine's, shared-mapped */
static const void *time_handle;
static uint64_t *l2;                /* L2 tags, sets x ways */
static unsigned line_shift, l1_sets, l2_sets;
static TimingRange tranges[TIMING_TABLE_RANGES];
static uint32_t tranges_n, tranges_gen = 1;    /* odd: none copied yet */

/*
 * Whether @line is in the set-associative cache @tags (@sets x @ways,
 * each set in most- to least-recently used order, 0 for empty), which
 * it is afterwards: an access fills the line, evicting the LRU one.
 */
static bool cache_access(uint64_t *tags, unsigned sets, unsigned ways,
                         uint64_t line)
{
    uint64_t *set = tags + (line % sets) * ways;
    uint64_t tag = line + 1;
    unsigned w;
    bool hit;

    for (w = 0; w < ways - 1 && set[w] != tag; w++) {
        ;
    }
    hit = set[w] == tag;

    memmove(set + 1, set, w * sizeof(*set));
    set[0] = tag;
    return hit;
}

/* Where the remote memory outside the RMC windows is (the machine's). */
static const TimingRange *range_find(uint64_t pa)
{
    uint32_t gen = __atomic_load_n(&tt->generation, __ATOMIC_ACQUIRE);

    while (gen != tranges_gen) {
        memcpy(tranges, tt->range, sizeof(tranges));
        tranges_n = MIN(tt->nranges, TIMING_TABLE_RANGES);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        tranges_gen = gen;
        gen = __atomic_load_n(&tt->generation, __ATOMIC_ACQUIRE);
        if (gen & 1) {
            tranges_gen = 1;    /* being rewritten: copy again */
        }
    }
    for (uint32_t i = 0; i < tranges_n; i++) {
        if (pa >= tranges[i].start && pa < tranges[i].end &&
            tranges[i].dest < TIMING_DESTS && tranges[i].link < TIMING_LINKS) {
            return &tranges[i];
        }
    }
    return NULL;
}

/*
 * Where an access to @pa is served from (TIMING_DEST_*) and over which
 * link (TIMING_LINK_*), or -1 if it is not RAM.
 */
static int timing_dest(uint64_t pa, unsigned *link)
{
    const TimingRange *r;
    unsigned port;
    uint32_t brick;
    uint64_t offset;

    if (in_memory_map(pa)) {
        r = range_find(pa);
        *link = r ? r->link : TIMING_LINK_DRAM;
        return r ? (int)r->dest : TIMING_DEST_LOCAL;
    }
    if (classify(pa, false, &port, &brick, &offset) == RMC) {
        /* classify() read the table copy this gives */
        uint32_t latency = ((const RmcTable *)pub_get(&rmc_pub))->
                           port[port].latency;

        *link = TIMING_LINK_PORT(MIN(port, TIMING_TABLE_PORTS - 1));
        return TIMING_DEST_TRAY_LOCAL + MIN(latency, TIMING_DESTS - 2);
    }
    return -1;
}

static void count_add(uint64_t *n, uint64_t v)
{
    __atomic_store_n(n, *n + v, __ATOMIC_RELAXED);
}

/*
 * Whether line @vline continues one of @vcpu's streams (the line after
 * one it missed last), which the prefetcher then fetched ahead; a miss
 * that does not starts a new stream.  Streams follow virtual addresses,
 * as if within one huge page.
 */
static bool stream_follow(Vcpu *vcpu, uint64_t vline)
{
    for (unsigned i = 0; i < STREAMS; i++) {
        if (vcpu->stream[i] == vline) {
            vcpu->stream[i] = vline + 1;
            return true;
        }
    }
    vcpu->stream[vcpu->stream_victim] = vline + 1;
    vcpu->stream_victim = (vcpu->stream_victim + 1) % STREAMS;
    return false;
}

/*
 * The links' bandwidth.  Each link's time is cut into slots of SLOT_PS,
 * and a line takes its time on the link from the slot it is asked for
 * in, or the first later one with room (and on into the next slots, if
 * it does not fit).  Within a slot lines are sent back to back from its
 * start, in the order they were booked.  So a stream faster than the
 * link queues: one vCPU's, in time order, exactly as on a link that
 * sends one line at a time.
 *
 * Several vCPUs run in turn over the same stretch of modelled time, a
 * quantum (docs/timing.md, "Several vCPUs"): the first to run would find
 * every slot free and take them all, and the others would queue behind
 * it.  So each vCPU leaves room in every slot for each other one that
 * used the link lately: a quarter more than it used in its last window
 * (and a little), up to its fair share.  A vCPU that wants more gets more
 * from window to window, streams that share a link share it evenly, and
 * a light user (a pointer chase) takes little from a stream.
 */
#define SLOT_PS         100000ULL       /* 100 ns */
#define SHARE_ONE       1024            /* a whole link, in shares */
#define ACTIVE_WINDOWS  8               /* a vCPU uses a link if it did */

typedef struct LinkSlot {
    uint64_t index;                     /* which slot of the link's time */
    uint32_t used_ps[TIMING_TABLE_VCPUS];   /* link time booked, by vCPU */
} LinkSlot;

/* One vCPU's use of one link, in windows of its own time */
typedef struct LinkUse {
    uint64_t since_ps;                  /* the current window's start */
    uint64_t used_ps;                   /* link time booked in it */
    uint64_t last_ps;                   /* the last booking */
    uint32_t share;                     /* in the last window, /SHARE_ONE */
} LinkUse;

/* Each link's ring of slots: a round's skew and a queue beyond it */
static LinkSlot *link_slots;
static uint64_t link_ring;
static LinkUse link_use[TIMING_LINKS][TIMING_TABLE_VCPUS];
/* Each line's time on the links; the window: two quanta, 0 with one vCPU */
static uint64_t dram_line_ps, link_line_ps, window_ps;

/*
 * Slot @index of @link, emptied if it last held an earlier one; NULL if
 * the ring has moved past it.
 */
static LinkSlot *link_slot(unsigned link, uint64_t index)
{
    LinkSlot *slot = &link_slots[link * link_ring + index % link_ring];

    if (slot->index > index) {
        return NULL;
    }
    if (slot->index < index) {
        *slot = (LinkSlot) { .index = index };
    }
    return slot;
}

/* How long @link takes to send a line, ps */
static uint64_t line_ps_of(unsigned link)
{
    return link == TIMING_LINK_DRAM ? dram_line_ps : link_line_ps;
}

/* Whether vCPU @u used @link lately, as seen at @now (ps) */
static bool link_user(unsigned link, unsigned u, uint64_t now)
{
    return link_use[link][u].last_ps + ACTIVE_WINDOWS * window_ps > now;
}

/*
 * What vCPU @v leaves, at @now (ps), of each of @link's slots to each
 * other vCPU (@reserve, ps).
 */
static void link_reserve(unsigned link, unsigned v, uint64_t now,
                         uint64_t reserve[TIMING_TABLE_VCPUS])
{
    uint32_t users = 1, fair;

    for (unsigned u = 0; u < TIMING_TABLE_VCPUS; u++) {
        users += u != v && link_user(link, u, now);
    }
    fair = SHARE_ONE / users;
    for (unsigned u = 0; u < TIMING_TABLE_VCPUS; u++) {
        uint32_t share = link_use[link][u].share * 5 / 4 + SHARE_ONE / 32;

        reserve[u] = window_ps && u != v && link_user(link, u, now) ?
                     SLOT_PS * MIN(share, fair) / SHARE_ONE : 0;
    }
}

/* Count a line that vCPU @v booked on @link at @now (ps). */
static void link_count(unsigned link, unsigned v, uint64_t now)
{
    LinkUse *use = &link_use[link][v];

    if (!window_ps) {
        return;                         /* one vCPU: nobody to share with */
    }
    if (now >= use->since_ps + window_ps) {
        use->share = MIN(use->used_ps * SHARE_ONE /
                         MAX(now - use->since_ps, 1), SHARE_ONE);
        use->since_ps = now;
        use->used_ps = 0;
    }
    use->used_ps += line_ps_of(link);
    use->last_ps = now;
}

/*
 * Send a line for vCPU @v over @link, asked for at @ask (ps), at its
 * time @now: returns when it starts.
 */
static uint64_t link_send(unsigned link, unsigned v, uint64_t ask,
                          uint64_t now)
{
    uint64_t need = line_ps_of(link), reserve[TIMING_TABLE_VCPUS];
    uint64_t index = ask / SLOT_PS, start = 0, used, claimed, take;
    LinkSlot *slot;

    link_reserve(link, v, now, reserve);
    link_count(link, v, now);
    /* The line takes the room @v has, from the first slot on */
    while (need && (slot = link_slot(link, index))) {
        used = claimed = 0;
        for (unsigned u = 0; u < TIMING_TABLE_VCPUS; u++) {
            used += slot->used_ps[u];
            claimed += MAX(slot->used_ps[u], reserve[u]);
        }
        if (claimed < SLOT_PS) {
            if (!start) {
                start = MAX(ask, index * SLOT_PS + used);
            }
            take = MIN(SLOT_PS - claimed, need);
            slot->used_ps[v] += take;
            need -= take;
        }
        index++;
    }
    return start ? start : ask;     /* older than the ring: no queue */
}

/*
 * A load that misses the L2, at modelled time @now (ns): how long it
 * stalls (ns), and of that how long it queued for its link (@queue).  A
 * demand miss asks for the line now and waits for the queue and the
 * latency.  A line that a stream prefetched was asked for one latency
 * earlier (the prefetcher runs that far ahead) and is waited for only if
 * the link has not delivered it yet: a stream is bound by the link's
 * bandwidth, not by its latency.
 */
/* A load's latency beyond its instruction's own nanosecond */
static uint32_t beyond_insn(uint32_t ns)
{
    return ns ? ns - 1 : 0;
}

static uint64_t miss_stall(unsigned v, bool prefetched, unsigned link,
                           uint32_t latency, uint64_t now, uint64_t *queue)
{
    uint64_t now_ps = now * 1000, lat_ps = latency * 1000ULL, start, done;

    if (!prefetched) {
        start = link_send(link, v, now_ps, now_ps);
        *queue = (start - now_ps + 999) / 1000;
        return *queue + beyond_insn(latency);
    }
    start = link_send(link, v, now_ps - MIN(now_ps, lat_ps), now_ps);
    done = start + line_ps_of(link);
    *queue = done > now_ps ? (done - now_ps + 999) / 1000 : 0;
    return *queue;
}

/*
 * A load costs its latency: the L1's, the L2's, or where the line comes
 * from, with its link's queue; its instruction's own nanosecond is
 * already counted.  A store fills the caches but does not wait (the
 * store buffer posts it) and takes no bandwidth.
 */
static void vcpu_mem_timing(unsigned int vcpu_index,
                            qemu_plugin_meminfo_t info, uint64_t vaddr,
                            void *udata)
{
    Vcpu *vcpu = qemu_plugin_scoreboard_find(vcpus, vcpu_index);
    struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
    bool store = qemu_plugin_mem_is_store(info), prefetched;
    uint64_t pa, line, stall, queue = 0;
    TimingCounts *c;
    unsigned link;
    int dest;

    if (!hw || qemu_plugin_hwaddr_is_io(hw) || !vcpu->l1) {
        return;
    }
    pa = qemu_plugin_hwaddr_phys_addr(hw);
    dest = timing_dest(pa, &link);
    if (dest < 0) {
        return;
    }
    c = &tt->counts[MIN(vcpu_index, TIMING_TABLE_VCPUS - 1)][dest];
    line = pa >> line_shift;
    count_add(&c->accesses, 1);
    if (cache_access(vcpu->l1, l1_sets, tt->l1_ways, line)) {
        stall = beyond_insn(tt->l1_ns);
    } else {
        count_add(&c->l1_misses, 1);
        if (cache_access(l2, l2_sets, tt->l2_ways, line)) {
            stall = beyond_insn(tt->l2_ns);
        } else {
            count_add(&c->l2_misses, 1);
            if (store) {
                return;
            }
            prefetched = stream_follow(vcpu, vaddr >> line_shift);
            count_add(&c->prefetched, prefetched);
            stall = miss_stall(MIN(vcpu_index, TIMING_TABLE_VCPUS - 1),
                               prefetched, link, timing_dest_ns(tt, dest),
                               qemu_plugin_vcpu_stall_ns(time_handle, 0),
                               &queue);
            /* A prefetched line is in the L1 when its data is there */
            stall = MAX(stall, beyond_insn(tt->l1_ns));
        }
    }
    if (store || !stall) {
        return;
    }
    qemu_plugin_vcpu_stall_ns(time_handle, stall);
    count_add(&c->stall_ns, stall);
    count_add(&c->queue_ns, queue);
}

/* The machine's table, from the memfd it handed down (timing=FD). */
static int timing_open(const char *arg)
{
    char *end;
    long fd;
    void *m;

    errno = 0;
    fd = strtol(arg, &end, 10);
    if (errno || *end || fd < 0 || fd > INT_MAX) {
        return fail("timing=FD (the machine's table), not '%s'", arg);
    }
    m = mmap(NULL, sizeof(TimingTable), PROT_READ | PROT_WRITE, MAP_SHARED,
             fd, 0);
    if (m == MAP_FAILED) {
        return fail("timing: fd %s is not the machine's table (it is"
                    " -machine dredbox-compute,timing=on that loads this"
                    " plugin in timing mode)", arg);
    }
    tt = m;
    if (tt->magic != TIMING_TABLE_MAGIC ||
        tt->version != TIMING_TABLE_VERSION || !tt->line ||
        (tt->line & (tt->line - 1)) || !tt->l1_ways || !tt->l2_ways ||
        tt->l1_size % (tt->line * tt->l1_ways) ||
        tt->l2_size % (tt->line * tt->l2_ways) ||
        tt->l1_size < tt->line * tt->l1_ways ||
        tt->l2_size < tt->line * tt->l2_ways ||
        tt->dram_bw < tt->line || tt->link_bw < tt->line) {
        return fail("timing: fd %s is not a valid timing table", arg);
    }
    line_shift = __builtin_ctz(tt->line);
    l1_sets = tt->l1_size / tt->line / tt->l1_ways;
    l2_sets = tt->l2_size / tt->line / tt->l2_ways;
    l2 = g_new0(uint64_t, (size_t)l2_sets * tt->l2_ways);
    dram_line_ps = tt->line * 1000000000000ULL / tt->dram_bw;
    link_line_ps = tt->line * 1000000000000ULL / tt->link_bw;
    /* Sharing a link needs a look back over a round of every vCPU's */
    window_ps = 2 * tt->quantum_ns * 1000ULL;
    link_ring = 1024;
    while (link_ring * SLOT_PS < 100000000ULL + 2 * window_ps) {
        link_ring *= 2;     /* 100 us of queue, and two windows of skew */
    }
    link_slots = g_new0(LinkSlot, TIMING_LINKS * link_ring);
    time_handle = qemu_plugin_request_time_control();
    if (!time_handle) {
        return fail("timing: another plugin controls time%s", "");
    }
    return 0;
}

_Static_assert(TIMING_DESTS == 1 + DREDBOX_CLASSES,
               "local DRAM, then one destination per latency class");

static void timing_print(FILE *f)
{
    fprintf(f, "dredbox-mem timing l1=%u l2=%u dram=%u rmc=%u", tt->l1_ns,
            tt->l2_ns, tt->dram_ns, tt->rmc_ns);
    for (int c = 0; c < DREDBOX_CLASSES; c++) {
        fprintf(f, " %s=%u", dredbox_class_name(c), tt->class_ns[c]);
    }
    fprintf(f, " dram-bandwidth=%" PRIu64 " link-bandwidth=%" PRIu64 "\n",
            tt->dram_bw, tt->link_bw);
    for (int d = 0; d < TIMING_DESTS; d++) {
        TimingCounts sum = { 0 };

        for (int v = 0; v < TIMING_TABLE_VCPUS; v++) {
            sum.accesses += tt->counts[v][d].accesses;
            sum.l1_misses += tt->counts[v][d].l1_misses;
            sum.l2_misses += tt->counts[v][d].l2_misses;
            sum.prefetched += tt->counts[v][d].prefetched;
            sum.stall_ns += tt->counts[v][d].stall_ns;
            sum.queue_ns += tt->counts[v][d].queue_ns;
        }
        fprintf(f, "dest=%s accesses=%" PRIu64 " l1-misses=%" PRIu64
                " l2-misses=%" PRIu64 " prefetched=%" PRIu64 " stall-ns=%"
                PRIu64 " queue-ns=%" PRIu64 "\n",
                d == TIMING_DEST_LOCAL ? "local"
                : dredbox_class_name(d - TIMING_DEST_TRAY_LOCAL), sum.accesses,
                sum.l1_misses, sum.l2_misses, sum.prefetched, sum.stall_ns,
                sum.queue_ns);
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
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        int msr = msr_target(insn);
        uint32_t op = 0;
        unsigned rt;

        if (msr >= 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, vcpu_msr,
                                                   QEMU_PLUGIN_CB_R_REGS,
                                                   GINT_TO_POINTER(msr));
        }
        if (cmo && qemu_plugin_insn_data(insn, &op, sizeof(op)) ==
            sizeof(op) && cmo_is_clean(GUINT32_FROM_LE(op), &rt)) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, vcpu_dc_clean,
                                                   QEMU_PLUGIN_CB_R_REGS,
                                                   GUINT_TO_POINTER(rt));
        }
        qemu_plugin_register_vcpu_mem_cb(insn, tt ? vcpu_mem_timing : vcpu_mem,
                                         QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, NULL);
    }
}

/* The handles of X0-X30, to read the value an MSR writes. */
static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index)
{
    g_autoptr(GArray) regs = qemu_plugin_get_registers();

    if (tt) {
        Vcpu *vcpu = qemu_plugin_scoreboard_find(vcpus, vcpu_index);

        vcpu->l1 = g_new0(uint64_t, (size_t)l1_sets * tt->l1_ways);
    }

    for (guint i = 0; i < regs->len; i++) {
        qemu_plugin_reg_descriptor *d =
            &g_array_index(regs, qemu_plugin_reg_descriptor, i);
        unsigned n;
        char *end;

        if (d->name[0] == 'x' && g_ascii_isdigit(d->name[1])) {
            n = strtoul(d->name + 1, &end, 10);
            if (!*end && n < G_N_ELEMENTS(xreg)) {
                xreg[n] = d->handle;    /* the same for every vCPU */
            }
        }
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

/*
 * Calls @fn for each line of the counts: every kind but RMC, then each
 * RMC port and each memory brick that saw accesses.  @port, @brick: -1
 * if not about one.
 */
typedef void (*CountsFn)(const char *kind, int port, int brick,
                         const Counts *c, void *opaque);

static void walk_counts(CountsFn fn, void *opaque)
{
    Tally t;

    sum_counts(&t);
    for (int k = 0; k < KINDS; k++) {
        if (kind_names[k]) {
            fn(kind_names[k], -1, -1, &t.kinds[k], opaque);
        }
    }
    for (int p = 0; p < RMC_TABLE_PORTS; p++) {
        if (t.ports[p].loads || t.ports[p].stores) {
            fn(NULL, p, __atomic_load_n(&port_brick[p], __ATOMIC_RELAXED),
               &t.ports[p], opaque);
        }
    }
    for (int b = 0; b < MAX_BRICKS; b++) {
        if (t.bricks[b].loads || t.bricks[b].stores) {
            fn(NULL, -1, b, &t.bricks[b], opaque);
        }
    }
}

static void print_line(const char *kind, int port, int brick,
                       const Counts *c, void *opaque)
{
    FILE *f = opaque;

    if (kind) {
        fprintf(f, "kind=%s ", kind);
    }
    if (port >= 0) {
        fprintf(f, "port=%d ", port);
    }
    if (brick >= 0) {
        fprintf(f, "brick=%d ", brick);
    }
    fprintf(f, "loads=%" PRIu64 " stores=%" PRIu64 " bytes=%" PRIu64 "\n",
            c->loads, c->stores, c->bytes);
}

static void add_counts(const char *kind, int port, int brick,
                       const Counts *c, void *opaque)
{
    JsonBuilder *b = opaque;

    json_builder_begin_object(b);
    if (kind) {
        rack_json_member_str(b, "kind", kind);
    }
    if (port >= 0) {
        rack_json_member_int(b, "port", port);
    }
    if (brick >= 0) {
        rack_json_member_int(b, "brick", brick);
    }
    rack_json_member_int(b, "loads", c->loads);
    rack_json_member_int(b, "stores", c->stores);
    rack_json_member_int(b, "bytes", c->bytes);
    json_builder_end_object(b);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    FILE *f;

    if (ctl_fd >= 0) {
        line_server_stop(ctl_fd, ctl_path);
    }
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
    if (tt && !out_path) {
        return;     /* QMP reads the counts: query-dredbox-timing */
    }
    f = out_path ? fopen(out_path, "w") : stderr;
    if (!f) {
        fprintf(stderr, "dredbox-mem: cannot write %s (%s)\n", out_path,
                strerror(errno));
        return;
    }
    if (tt) {
        timing_print(f);
    } else {
        fprintf(f, "dredbox-mem count sample=%" PRIu64 "\n", sample);
        walk_counts(print_line, f);
        if (cmo) {
            cmo_print(f);
        }
    }
    if (f != stderr && fclose(f)) {
        fprintf(stderr, "dredbox-mem: cannot write %s (%s)\n", out_path,
                strerror(errno));
    }
}

/* A filter from KEY=VALUE (pid, ttbr); false if @key is not one. */
static bool parse_filter(const char *key, uint64_t v, uint64_t *f)
{
    if (!strcmp(key, "pid") && v <= UINT32_MAX) {
        *f = (uint64_t)FILTER_PID << FILTER_SHIFT | v;
    } else if (!strcmp(key, "ttbr") && !(v & ~TTBR_BADDR_MASK)) {
        *f = (uint64_t)FILTER_TTBR << FILTER_SHIFT | v;
    } else {
        return false;
    }
    return true;
}

static void add_filter(JsonBuilder *b)
{
    uint64_t f = __atomic_load_n(&filter, __ATOMIC_RELAXED);
    uint64_t value = f & ((1ULL << FILTER_SHIFT) - 1);

    json_builder_set_member_name(b, "filter");
    json_builder_begin_object(b);
    if (f >> FILTER_SHIFT == FILTER_PID) {
        rack_json_member_int(b, "pid", value);
    } else if (f >> FILTER_SHIFT == FILTER_TTBR) {
        rack_json_member_int(b, "ttbr", value);
    }
    json_builder_end_object(b);
}

/*
 * The control socket (docs/tracing.md): "counts", "filter" (with "pid"
 * or "ttbr", or neither for all), "threads" and "cmo".
 */
static char *ctl_request(JsonObject *req, const char *cmd, GError **errp)
{
    JsonBuilder *b;

    if (!strcmp(cmd, "filter")) {
        bool pid = json_object_has_member(req, "pid");
        const char *key = pid ? "pid" : "ttbr";
        uint64_t v, f = 0;

        if (pid && json_object_has_member(req, "ttbr")) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "filter takes pid or ttbr, not both");
            return NULL;
        }
        if (json_object_has_member(req, key)) {
            if (!rack_json_get_uint(req, key, G_MAXUINT64, &v, errp)) {
                return NULL;
            }
            if (!parse_filter(key, v, &f)) {
                g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "\"%s\" is out of range (pid: a thread ID; ttbr:"
                            " a page-table base, 2-byte aligned, below"
                            " 2^48)", key);
                return NULL;
            }
        }
        __atomic_store_n(&filter, f, __ATOMIC_RELAXED);
        b = rack_json_reply_begin();
    } else if (!strcmp(cmd, "counts")) {
        if (tracing) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "counts are kept in mode=count, this is mode=trace");
            return NULL;
        }
        b = rack_json_reply_begin();
        rack_json_member_int(b, "sample", sample);
        add_filter(b);
        json_builder_set_member_name(b, "counts");
        json_builder_begin_array(b);
        walk_counts(add_counts, b);
        json_builder_end_array(b);
    } else if (!strcmp(cmd, "cmo")) {
        if (!cmo) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "the cache-maintenance check is off (cmo=on)");
            return NULL;
        }
        b = rack_json_reply_begin();
        cmo_json(b);
    } else if (!strcmp(cmd, "threads")) {
        GHashTableIter it;
        gpointer k, v;

        b = rack_json_reply_begin();
        add_filter(b);
        json_builder_set_member_name(b, "threads");
        json_builder_begin_array(b);
        g_mutex_lock(&threads_lock);
        g_hash_table_iter_init(&it, threads);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            const Thread *t = v;

            json_builder_begin_object(b);
            rack_json_member_int(b, "pid", GPOINTER_TO_UINT(k));
            rack_json_member_int(b, "ttbr", t->ttbr);
            rack_json_member_int(b, "asid", t->asid);
            json_builder_end_object(b);
        }
        g_mutex_unlock(&threads_lock);
        json_builder_end_array(b);
    } else {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "unknown cmd '%s' (counts, filter, threads, cmo)", cmd);
        return NULL;
    }
    return rack_json_end(b);
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
    const char *rmc = NULL, *mode = NULL, *path = NULL, *timing = NULL;
    static bool installed;

    /* A second load would share this one's globals (dlopen). */
    if (installed) {
        return fail("loaded twice (timing=on loads it already)%s", "");
    }
    installed = true;

    ranges = g_array_new(false, false, sizeof(uint64_t));
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
        } else if (!strcmp(key, "map")) {
            map_pub.path = g_strdup(v);
        } else if (!strcmp(key, "out")) {
            path = v;
        } else if (!strcmp(key, "sample")) {
            char *end;

            sample = strtoull(v, &end, 10);
            /* The trace's header holds it in 32 bits. */
            if (*end || !sample || sample > UINT32_MAX) {
                return fail("sample must be a positive number, not '%s'", v);
            }
        } else if (!strcmp(key, "pid") || !strcmp(key, "ttbr")) {
            uint64_t n;
            char *end;

            errno = 0;
            n = strtoull(v, &end, 0);
            if (errno || !*v || *end || filter || !parse_filter(key, n,
                                                                &filter)) {
                return fail("pid=THREAD_ID or ttbr=PAGE_TABLE_BASE (one of"
                            " them, once), not '%s'", argv[i]);
            }
        } else if (!strcmp(key, "ctl")) {
            ctl_path = g_strdup(v);
        } else if (!strcmp(key, "timing")) {
            timing = v;
        } else if (!strcmp(key, "cmo")) {
            if (strcmp(v, "on") && strcmp(v, "off")) {
                return fail("cmo must be on or off, not '%s'", v);
            }
            cmo = !strcmp(v, "on");
        } else if (!strcmp(key, "range")) {
            uint64_t a, b;

            if (!parse_range(v, &a, &b)) {
                return fail("range must be START-END (END above START),"
                            " not '%s'", v);
            }
            g_array_append_val(ranges, a);
            g_array_append_val(ranges, b);
        } else {
            return fail("unknown argument '%s' (mode, rmc, map, range,"
                        " sample, pid, ttbr, ctl, out, timing, cmo)", argv[i]);
        }
    }
    /* mode=timing is the machine's (-machine dredbox-compute,timing=on) */
    if (mode && !strcmp(mode, "timing") != !!timing) {
        return fail("mode=timing goes with timing=FD, which the machine"
                    " gives: use -machine dredbox-compute,timing=on%s", "");
    }
    if (!mode || (strcmp(mode, "count") && strcmp(mode, "trace") &&
                  !timing)) {
        return fail("mode must be count or trace, not '%s'",
                    mode ? mode : "");
    }
    if (timing && timing_open(timing)) {
        return -1;
    }
    tracing = !strcmp(mode, "trace");
    if (cmo && (tracing || timing)) {
        return fail("cmo=on goes with mode=count, not mode=%s", mode);
    }
    if (cmo && !rmc) {
        return fail("cmo=on follows the RMC's table: it needs rmc=TABLE%s",
                    "");
    }
    if (tracing && !path) {
        return fail("trace mode needs out=FILE%s", "");
    }
    out_path = g_strdup(path);
    if (strcmp(info->target_name, "aarch64") || !info->system_emulation) {
        return fail("needs qemu-system-aarch64 (a dredbox-compute brick),"
                    " not %s", info->target_name);
    }
    rmc_pub.path = rmc ? g_strdup(rmc) : NULL;
    if (path) {
        /* Counts are written at exit: find out now if that cannot be. */
        out = fopen(path, tracing ? "wb" : "w");
        if (!out) {
            return fail("cannot write %s", path);
        }
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
    if (!tracing && out) {
        fclose(out);
        out = NULL;
    }
    threads = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    if (ctl_path) {
        g_autoptr(GError) err = NULL;

        /* Served by QEMU's main loop, which runs GLib's default context. */
        ctl_fd = line_server_start(ctl_path, ctl_request, &err);
        if (ctl_fd < 0) {
            return fail("ctl: %s", err->message);
        }
    }
    vcpus = qemu_plugin_scoreboard_new(sizeof(Vcpu));
    qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
