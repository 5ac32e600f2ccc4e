/*
 * memory-backend-remote: guest RAM taken from a dReDBox memory brick.
 *
 * The memory comes from the rack's pool daemon (dredbox-memd) as segment
 * fds passed over its UNIX socket, so every QEMU process that maps the
 * same segment shares its contents, like compute bricks sharing a memory
 * brick.  Two modes:
 *
 *  - static (default): one segment of the backend's size, taken when the
 *    backend is created (or an existing segment attached with segment=),
 *    for -numa node memdevs and memory devices;
 *  - on-demand=on, for virtio-mem: the backend starts empty and takes one
 *    pool granule per block the device plugs, giving it back on unplug, so
 *    the pool's accounting follows the guest's size.
 *
 * Segments this backend allocated are returned to the pool when it is
 * deleted or QEMU exits; if QEMU dies, they stay leased to its client name
 * until the controller releases them.
 *
 * When its memory brick fails, the memory becomes unreachable: a region
 * that refuses every access is laid over it in guest memory, so the CPU
 * takes a synchronous external abort, and taken away on repair.  The
 * memory itself stays mapped: what it holds is the pool's to keep.  A
 * poisoned page of the brick is refused the same way, page by page: the
 * pool's poisoned pages from when a segment is mapped, and those poisoned
 * later through QMP.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-types-dredbox.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "qemu/mmap-alloc.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qom/object_interfaces.h"
#include "system/hostmem.h"
#include "system/system.h"
#include "exec/memory.h"
#include "exec/address-spaces.h"
#include "hw/dredbox/pool-client.h"
#include "hw/dredbox/remote-memory.h"

OBJECT_DECLARE_SIMPLE_TYPE(HostMemoryBackendRemote, MEMORY_BACKEND_REMOTE)

/* The page size of a memory brick's uncorrectable errors */
#define REMOTE_PAGE 4096

/*
 * A poisoned page, laid over the backend's memory: every access refused.
 * Flat views refer to I/O regions until they are destroyed, which may be
 * long after an RCU grace period (virtio's region caches hold them), so
 * an unpoisoned page's region stays the backend's, to be used again, and
 * goes with the backend.
 */
typedef struct RemotePoison {
    MemoryRegion mr;
    uint32_t segment;       /* 0: not in use */
    uint64_t offset;        /* of the page in the segment */
    QLIST_ENTRY(RemotePoison) next;
} RemotePoison;

struct HostMemoryBackendRemote {
    HostMemoryBackend parent_obj;

    /* properties */
    char *pool;
    char *client;
    bool has_brick;
    uint32_t brick;
    uint32_t segment;
    bool has_mem_class;
    DredboxMemoryClass mem_class;
    DredboxLatencyClass latency_class;
    bool on_demand;

    PoolClient *pc;
    Object *pool_holder;    /* the dredbox-pool object pc is, if any */
    /* static mode: the segment mapped, and whether we allocated it */
    PoolSegmentInfo seg;
    bool seg_owned;
    /* on-demand mode: the segment behind each granule, 0 if none */
    void *host;
    uint64_t granule;
    uint32_t *granule_seg;
    uint64_t *granule_offset;   /* and where it is in the brick */
    MemoryListener listener;
    RamDiscardListener rdl;
    RamDiscardManager *rdm;
    Notifier exit_notifier;
    /* laid over the memory while its brick is unreachable */
    MemoryRegion unreachable;
    QLIST_HEAD(, RemotePoison) poisoned;
    bool exiting;
};

/* Who watches where on-demand memory is (remote-memory.h). */
static NotifierList remote_changes =
    NOTIFIER_LIST_INITIALIZER(remote_changes);

void dredbox_remote_memory_add_notifier(Notifier *n)
{
    notifier_list_add(&remote_changes, n);
}

bool dredbox_remote_memory_info(Object *memdev,
                                DredboxRemoteMemoryInfo *info)
{
    HostMemoryBackendRemote *r = (HostMemoryBackendRemote *)
        object_dynamic_cast(memdev, TYPE_MEMORY_BACKEND_REMOTE);

    if (!r) {
        return false;
    }
    *info = (DredboxRemoteMemoryInfo) {
        .brick = r->on_demand ? r->brick : r->seg.brick,
        .latency = r->latency_class,
        .granule = r->on_demand ? r->granule : 0,
        .offset = r->on_demand ? 0 : r->seg.offset,
    };
    return true;
}

uint64_t dredbox_remote_memory_granule(Object *memdev, uint64_t g)
{
    HostMemoryBackendRemote *r = (HostMemoryBackendRemote *)
        object_dynamic_cast(memdev, TYPE_MEMORY_BACKEND_REMOTE);

    if (!r || !r->granule_seg || !r->granule ||
        g >= MEMORY_BACKEND(r)->size / r->granule || !r->granule_seg[g]) {
        return UINT64_MAX;
    }
    return r->granule_offset[g];
}

static MemTxResult remote_unreachable_read(void *opaque, hwaddr addr,
                                           uint64_t *data, unsigned size,
                                           MemTxAttrs attrs)
{
    *data = 0;
    return MEMTX_DECODE_ERROR;
}

static MemTxResult remote_unreachable_write(void *opaque, hwaddr addr,
                                            uint64_t data, unsigned size,
                                            MemTxAttrs attrs)
{
    return MEMTX_DECODE_ERROR;
}

static const MemoryRegionOps remote_unreachable_ops = {
    .read_with_attrs = remote_unreachable_read,
    .write_with_attrs = remote_unreachable_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
};

/* Where pool segment @id starts in @r's memory, or UINT64_MAX if not */
static uint64_t remote_segment_base(HostMemoryBackendRemote *r, uint32_t id)
{
    if (!r->pc || !id) {
        return UINT64_MAX;
    }
    if (!r->on_demand) {
        return r->seg.id == id ? 0 : UINT64_MAX;
    }
    for (uint64_t g = 0; g < MEMORY_BACKEND(r)->size / r->granule; g++) {
        if (r->granule_seg[g] == id) {
            return g * r->granule;
        }
    }
    return UINT64_MAX;
}

/* The poisoned page @offset of @segment (0: a region not in use) */
static RemotePoison *remote_poison_find(HostMemoryBackendRemote *r,
                                        uint32_t segment, uint64_t offset)
{
    RemotePoison *p;

    QLIST_FOREACH(p, &r->poisoned, next) {
        if (p->segment == segment && (!segment || p->offset == offset)) {
            return p;
        }
    }
    return NULL;
}

/* Refuse every access to page @offset of segment @segment, at @base */
static void remote_poison_add(HostMemoryBackendRemote *r, uint32_t segment,
                              uint64_t base, uint64_t offset)
{
    RemotePoison *p = remote_poison_find(r, 0, 0);

    if (!p) {
        p = g_new0(RemotePoison, 1);
        memory_region_init_io(&p->mr, OBJECT(r), &remote_unreachable_ops,
                              r, "poisoned-page", REMOTE_PAGE);
        QLIST_INSERT_HEAD(&r->poisoned, p, next);
    }
    p->segment = segment;
    p->offset = offset;
    memory_region_add_subregion_overlap(&MEMORY_BACKEND(r)->mr,
                                        base + offset, &p->mr, 1);
}

/* The page serves again; its region waits to be used again */
static void remote_poison_del(RemotePoison *p)
{
    memory_region_del_subregion(p->mr.container, &p->mr);
    p->segment = 0;
}

/* Forget the poisoned pages of @segment (0: of every segment) */
static void remote_poison_forget(HostMemoryBackendRemote *r,
                                 uint32_t segment)
{
    RemotePoison *p;

    if (r->exiting) {
        return;
    }
    QLIST_FOREACH(p, &r->poisoned, next) {
        if (p->segment && (!segment || p->segment == segment)) {
            remote_poison_del(p);
        }
    }
}

/* With the backend: no flat view refers to its regions any more */
static void remote_poison_free_all(HostMemoryBackendRemote *r)
{
    RemotePoison *p, *next;

    QLIST_FOREACH_SAFE(p, &r->poisoned, next, next) {
        if (p->mr.container) {
            memory_region_del_subregion(p->mr.container, &p->mr);
        }
        QLIST_REMOVE(p, next);
        object_unparent(OBJECT(&p->mr));
        g_free(p);
    }
}

/* The pool's poisoned pages of a segment just mapped at @base */
static void remote_poison_segment(HostMemoryBackendRemote *r,
                                  const PoolSegmentInfo *info, uint64_t base)
{
    for (guint i = 0; i < info->poisoned->len; i++) {
        remote_poison_add(r, info->id, base,
                          g_array_index(info->poisoned, uint64_t, i));
    }
}

typedef struct RemoteFind {
    uint32_t segment;
    HostMemoryBackendRemote *r;     /* the backend that maps it */
    uint64_t base;                  /* where */
} RemoteFind;

static int remote_find_segment_one(Object *obj, void *opaque)
{
    HostMemoryBackendRemote *r = (HostMemoryBackendRemote *)
        object_dynamic_cast(obj, TYPE_MEMORY_BACKEND_REMOTE);
    RemoteFind *find = opaque;

    find->base = r ? remote_segment_base(r, find->segment) : UINT64_MAX;
    if (find->base == UINT64_MAX) {
        return 0;
    }
    find->r = r;
    return 1;
}

bool dredbox_remote_memory_poison_page(uint32_t segment, uint64_t offset,
                                       bool poison, Error **errp)
{
    RemoteFind find = { .segment = segment };
    HostMemoryBackendRemote *r;
    uint64_t size;
    RemotePoison *p;

    object_child_foreach_recursive(object_get_root(),
                                   remote_find_segment_one, &find);
    r = find.r;
    if (!r) {
        error_setg(errp, "segment %u is not mapped by memory-backend-remote",
                   segment);
        return false;
    }
    size = r->on_demand ? r->granule : r->seg.size;
    if (offset % REMOTE_PAGE || offset >= size) {
        error_setg(errp, "segment %u has no page at offset 0x%" PRIx64
                   ": a page is 4 KiB, at a multiple of 4096 below 0x%"
                   PRIx64, segment, offset, size);
        return false;
    }
    p = remote_poison_find(r, segment, offset);
    if (!!p == poison) {
        error_setg(errp, "page 0x%" PRIx64 " of segment %u is %s", offset,
                   segment, poison ? "already poisoned" : "not poisoned");
        return false;
    }
    if (poison) {
        remote_poison_add(r, segment, find.base, offset);
    } else {
        remote_poison_del(p);
    }
    return true;
}

/* Take @size bytes from the brick and memory class asked for. */
static int remote_pool_alloc(HostMemoryBackendRemote *r, uint64_t size,
                             PoolSegmentInfo *info, Error **errp)
{
    return pool_client_alloc(r->pc, size,
                             r->has_brick ? (int64_t)r->brick : -1,
                             r->has_mem_class
                             ? DredboxMemoryClass_str(r->mem_class) : NULL,
                             info, errp);
}

/* Replace granule @g's mapping by private anonymous memory. */
static void remote_unmap_granule(HostMemoryBackendRemote *r, uint64_t g)
{
    void *p = mmap((char *)r->host + g * r->granule, r->granule,
                   PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);

    /* Failing here would leave a hole in guest RAM: nothing can recover. */
    g_assert(p != MAP_FAILED);
}

static void remote_discard_granules(HostMemoryBackendRemote *r,
                                    uint64_t first, uint64_t count)
{
    for (uint64_t g = first; g < first + count; g++) {
        Error *err = NULL;

        if (!r->granule_seg[g]) {
            continue;
        }
        remote_poison_forget(r, r->granule_seg[g]);
        remote_unmap_granule(r, g);
        if (!pool_client_free(r->pc, r->granule_seg[g], &err)) {
            warn_report_err(err);
        }
        r->granule_seg[g] = 0;
    }
    notifier_list_notify(&remote_changes, r);
}

static bool remote_section_granules(HostMemoryBackendRemote *r,
                                    MemoryRegionSection *s,
                                    uint64_t *first, uint64_t *count)
{
    uint64_t offset = s->offset_within_region;
    uint64_t size = int128_get64(s->size);

    if (offset % r->granule || size % r->granule) {
        return false;
    }
    *first = offset / r->granule;
    *count = size / r->granule;
    return true;
}

static int remote_populate(RamDiscardListener *rdl, MemoryRegionSection *s)
{
    HostMemoryBackendRemote *r = container_of(rdl, HostMemoryBackendRemote,
                                              rdl);
    g_autofree char *name = host_memory_backend_get_name(MEMORY_BACKEND(r));
    uint64_t first, count;

    if (!remote_section_granules(r, s, &first, &count)) {
        warn_report("memory-backend-remote '%s': virtio-mem block size must"
                    " be a multiple of the pool granule (%" PRIu64 " MiB)",
                    name, r->granule / MiB);
        return -EINVAL;
    }
    for (uint64_t g = first; g < first + count; g++) {
        g_autoptr(GArray) poisoned = g_array_new(false, false,
                                                 sizeof(uint64_t));
        PoolSegmentInfo info = { .poisoned = poisoned };
        Error *err = NULL;
        void *p;
        int fd;

        if (r->granule_seg[g]) {
            continue;
        }
        fd = remote_pool_alloc(r, r->granule, &info, &err);
        if (fd < 0) {
            error_prepend(&err, "memory-backend-remote '%s': ", name);
            warn_report_err(err);
            remote_discard_granules(r, first, g - first);
            return -ENOMEM;
        }
        p = mmap((char *)r->host + g * r->granule, r->granule,
                 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
        close(fd);
        r->granule_seg[g] = info.id;
        r->granule_offset[g] = info.offset;
        if (p == MAP_FAILED) {
            warn_report("memory-backend-remote '%s': cannot map segment %u:"
                        " %s", name, info.id, strerror(errno));
            remote_discard_granules(r, first, g - first + 1);
            return -ENOMEM;
        }
        remote_poison_segment(r, &info, g * r->granule);
    }
    notifier_list_notify(&remote_changes, r);
    return 0;
}

static void remote_discard(RamDiscardListener *rdl, MemoryRegionSection *s)
{
    HostMemoryBackendRemote *r = container_of(rdl, HostMemoryBackendRemote,
                                              rdl);
    uint64_t first, count;

    if (remote_section_granules(r, s, &first, &count)) {
        remote_discard_granules(r, first, count);
    }
}

/*
 * virtio-mem makes itself the RamDiscardManager of our region when it is
 * realized; we learn of it when the region is mapped into guest memory.
 */
static void remote_region_add(MemoryListener *l, MemoryRegionSection *s)
{
    HostMemoryBackendRemote *r = container_of(l, HostMemoryBackendRemote,
                                              listener);
    g_autofree char *name = NULL;

    if (s->mr != &MEMORY_BACKEND(r)->mr || r->rdm) {
        return;
    }
    r->rdm = memory_region_get_ram_discard_manager(s->mr);
    if (!r->rdm) {
        name = host_memory_backend_get_name(MEMORY_BACKEND(r));
        warn_report("memory-backend-remote '%s': on-demand=on needs a"
                    " virtio-mem device; this memory is not from the pool",
                    name);
        return;
    }
    if (ram_discard_manager_get_min_granularity(r->rdm, s->mr) %
        r->granule) {
        name = host_memory_backend_get_name(MEMORY_BACKEND(r));
        warn_report("memory-backend-remote '%s': the device's block-size is"
                    " not a multiple of the pool granule (%" PRIu64 " MiB);"
                    " it cannot plug any memory", name, r->granule / MiB);
    }
    ram_discard_listener_init(&r->rdl, remote_populate, remote_discard, true);
    ram_discard_manager_register_listener(r->rdm, &r->rdl, s);
}

static void remote_region_del(MemoryListener *l, MemoryRegionSection *s)
{
    HostMemoryBackendRemote *r = container_of(l, HostMemoryBackendRemote,
                                              listener);

    /* Hidden while unreachable is not gone: the device still plugs it. */
    if (s->mr != &MEMORY_BACKEND(r)->mr || !r->rdm ||
        memory_region_is_mapped(s->mr)) {
        return;
    }
    ram_discard_manager_unregister_listener(r->rdm, &r->rdl);
    r->rdm = NULL;
    remote_discard_granules(r, 0, MEMORY_BACKEND(r)->size / r->granule);
}

static bool remote_alloc_on_demand(HostMemoryBackendRemote *r,
                                   const char *name, Error **errp)
{
    HostMemoryBackend *backend = MEMORY_BACKEND(r);

    r->granule = pool_client_granule(r->pc);
    if (!r->granule || backend->size % r->granule) {
        error_setg(errp, "memory-backend-remote '%s': size must be a"
                   " multiple of the pool granule (%" PRIu64 " MiB)",
                   name, r->granule / MiB);
        return false;
    }
    /*
     * Granule-aligned, so that segments of huge pages can be mapped over
     * it; empty granules read as zeroes until virtio-mem plugs them.
     */
    r->host = qemu_ram_mmap(-1, backend->size, r->granule,
                            QEMU_MAP_NORESERVE, 0);
    if (r->host == MAP_FAILED) {
        r->host = NULL;
        error_setg_errno(errp, errno, "memory-backend-remote '%s': cannot"
                         " reserve address space", name);
        return false;
    }
    r->granule_seg = g_new0(uint32_t, backend->size / r->granule);
    r->granule_offset = g_new0(uint64_t, backend->size / r->granule);
    memory_region_init_ram_ptr(&backend->mr, OBJECT(r), name, backend->size,
                               r->host);
    /* Memory devices are placed at multiples of this. */
    backend->mr.align = r->granule;
    r->listener = (MemoryListener) {
        .name = "memory-backend-remote",
        .region_add = remote_region_add,
        .region_del = remote_region_del,
    };
    memory_listener_register(&r->listener, &address_space_memory);
    return true;
}

static bool remote_alloc_static(HostMemoryBackendRemote *r, const char *name,
                                Error **errp)
{
    HostMemoryBackend *backend = MEMORY_BACKEND(r);
    g_autoptr(GArray) poisoned = g_array_new(false, false, sizeof(uint64_t));
    uint32_t flags = RAM_SHARED;
    int fd;

    r->seg.poisoned = poisoned;
    if (r->segment) {
        fd = pool_client_open(r->pc, r->segment, &r->seg, errp);
    } else {
        fd = remote_pool_alloc(r, backend->size, &r->seg, errp);
        r->seg_owned = fd >= 0;
    }
    r->seg.poisoned = NULL;
    if (fd < 0) {
        error_prepend(errp, "memory-backend-remote '%s': ", name);
        return false;
    }
    if (r->seg.size != backend->size) {
        error_setg(errp, "memory-backend-remote '%s': segment %u has %"
                   PRIu64 " bytes, but size is %" PRIu64, name, r->seg.id,
                   r->seg.size, backend->size);
        close(fd);
        return false;
    }
    if (!r->seg.writable) {
        /* A read-only grant: the guest sees ROM, its writes are dropped. */
        flags |= RAM_READONLY | RAM_READONLY_FD;
    }
    backend->aligned = true;
    if (!memory_region_init_ram_from_fd(&backend->mr, OBJECT(r), name,
                                        backend->size, flags, fd, 0, errp)) {
        close(fd);  /* the RAMBlock owns it only once mapped */
        return false;
    }
    remote_poison_segment(r, &(PoolSegmentInfo) { .id = r->seg.id,
                                                  .poisoned = poisoned }, 0);
    return true;
}

static void remote_give_back(HostMemoryBackendRemote *r)
{
    Error *err = NULL;

    if (!r->pc) {
        return;
    }
    if (r->granule_seg) {
        remote_discard_granules(r, 0, MEMORY_BACKEND(r)->size / r->granule);
    }
    if (r->seg_owned && !pool_client_free(r->pc, r->seg.id, &err)) {
        warn_report_err(err);
    }
    r->seg_owned = false;
}

static void remote_exit_notify(Notifier *n, void *data)
{
    HostMemoryBackendRemote *r = container_of(n, HostMemoryBackendRemote,
                                              exit_notifier);

    /* Guest memory is going away with QEMU: leave its layout alone. */
    r->exiting = true;
    remote_give_back(r);
}


typedef struct RemoteReach {
    uint32_t brick;
    bool reachable;
} RemoteReach;

static int remote_set_reachable_one(Object *obj, void *opaque)
{
    HostMemoryBackendRemote *r = (HostMemoryBackendRemote *)
        object_dynamic_cast(obj, TYPE_MEMORY_BACKEND_REMOTE);
    RemoteReach *want = opaque;
    MemoryRegion *mr, *over;

    /* On-demand memory of any brick may be in several: not followed. */
    if (!r || !r->pc || (r->on_demand && !r->has_brick) ||
        (r->on_demand ? r->brick : r->seg.brick) != want->brick) {
        return 0;
    }
    mr = &MEMORY_BACKEND(r)->mr;
    over = &r->unreachable;
    if (!mr->container || memory_region_is_mapped(over) != want->reachable) {
        return 0;       /* not in guest memory, or already so */
    }
    if (want->reachable) {
        memory_region_del_subregion(over->container, over);
    } else {
        memory_region_add_subregion_overlap(mr->container, mr->addr, over,
                                            mr->priority + 1);
    }
    return 0;
}

void dredbox_remote_memory_set_reachable(uint32_t brick, bool reachable)
{
    RemoteReach want = { brick, reachable };

    object_child_foreach_recursive(object_get_root(),
                                   remote_set_reachable_one, &want);
}

static bool remote_backend_memory_alloc(HostMemoryBackend *backend,
                                        Error **errp)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(backend);
    g_autofree char *name = host_memory_backend_get_name(backend);
    bool ok;

    if (!r->pool) {
        error_setg(errp, "memory-backend-remote '%s': property 'pool' (a"
                   " dredbox-pool object, or the pool daemon's socket or"
                   " manifest) is required", name);
        return false;
    }
    if (!backend->size) {
        error_setg(errp, "memory-backend-remote '%s': size must not be 0",
                   name);
        return false;
    }
    if (!backend->share) {
        error_setg(errp, "memory-backend-remote '%s': memory-brick memory is"
                   " always shared; share=off is not supported", name);
        return false;
    }
    if (r->on_demand && r->segment) {
        error_setg(errp, "memory-backend-remote '%s': on-demand=on and"
                   " segment= exclude each other", name);
        return false;
    }
    r->pc = dredbox_pool_get(r->pool, r->client, &r->pool_holder, errp);
    if (!r->pc) {
        error_prepend(errp, "memory-backend-remote '%s': ", name);
        return false;
    }
    ok = r->on_demand ? remote_alloc_on_demand(r, name, errp)
                      : remote_alloc_static(r, name, errp);
    if (!ok) {
        remote_give_back(r);
        dredbox_pool_put(r->pc, r->pool_holder);
        r->pc = NULL;
        return false;
    }
    memory_region_init_io(&r->unreachable, OBJECT(r),
                          &remote_unreachable_ops, r, "unreachable-memory",
                          backend->size);
    r->exit_notifier.notify = remote_exit_notify;
    qemu_add_exit_notifier(&r->exit_notifier);
    return true;
}

static void remote_backend_finalize(Object *obj)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);

    remote_poison_free_all(r);
    if (r->pc) {
        if (memory_region_is_mapped(&r->unreachable)) {
            memory_region_del_subregion(r->unreachable.container,
                                        &r->unreachable);
        }
        qemu_remove_exit_notifier(&r->exit_notifier);
        if (r->listener.region_add) {
            memory_listener_unregister(&r->listener);
        }
        remote_give_back(r);
        dredbox_pool_put(r->pc, r->pool_holder);
    }
    if (r->host) {
        qemu_ram_munmap(-1, r->host, MEMORY_BACKEND(r)->size);
    }
    g_free(r->granule_seg);
    g_free(r->granule_offset);
    g_free(r->pool);
    g_free(r->client);
}

static bool remote_set_allowed(Object *obj, Error **errp)
{
    if (host_memory_backend_mr_inited(MEMORY_BACKEND(obj))) {
        error_setg(errp, "cannot change property value");
        return false;
    }
    return true;
}

static char *remote_get_pool(Object *obj, Error **errp)
{
    return g_strdup(MEMORY_BACKEND_REMOTE(obj)->pool);
}

static void remote_set_pool(Object *obj, const char *value, Error **errp)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);

    if (remote_set_allowed(obj, errp)) {
        g_free(r->pool);
        r->pool = g_strdup(value);
    }
}

/* The name the memory is leased to: its own, its pool object's, qemu-PID */
static char *remote_get_client(Object *obj, Error **errp)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);

    if (r->client) {
        return g_strdup(r->client);
    }
    if (r->pool_holder) {
        return object_property_get_str(r->pool_holder, "client", errp);
    }
    return g_strdup_printf("qemu-%d", (int)getpid());
}

static void remote_set_client(Object *obj, const char *value, Error **errp)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);

    if (remote_set_allowed(obj, errp)) {
        g_free(r->client);
        r->client = g_strdup(value);
    }
}

static void remote_get_u32(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);
    uint32_t value;

    if (!strcmp(name, "brick")) {
        value = r->has_brick ? r->brick : r->seg.brick;
    } else if (!strcmp(name, "segment")) {
        value = r->segment ? r->segment : r->seg.id;
    } else {
        g_assert_not_reached();
    }
    visit_type_uint32(v, name, &value, errp);
}

static void remote_set_u32(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);
    uint32_t value;

    if (!remote_set_allowed(obj, errp) ||
        !visit_type_uint32(v, name, &value, errp)) {
        return;
    }
    if (!strcmp(name, "brick")) {
        r->brick = value;
        r->has_brick = true;
    } else {
        r->segment = value;
    }
}

static void remote_get_offset(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    uint64_t value = MEMORY_BACKEND_REMOTE(obj)->seg.offset;

    visit_type_uint64(v, name, &value, errp);
}

static int remote_get_mem_class(Object *obj, Error **errp)
{
    return MEMORY_BACKEND_REMOTE(obj)->mem_class;
}

static void remote_set_mem_class(Object *obj, int value, Error **errp)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);

    if (remote_set_allowed(obj, errp)) {
        r->mem_class = value;
        r->has_mem_class = true;
    }
}

static int remote_get_latency_class(Object *obj, Error **errp)
{
    return MEMORY_BACKEND_REMOTE(obj)->latency_class;
}

static void remote_set_latency_class(Object *obj, int value, Error **errp)
{
    if (remote_set_allowed(obj, errp)) {
        MEMORY_BACKEND_REMOTE(obj)->latency_class = value;
    }
}

static bool remote_get_on_demand(Object *obj, Error **errp)
{
    return MEMORY_BACKEND_REMOTE(obj)->on_demand;
}

static void remote_set_on_demand(Object *obj, bool value, Error **errp)
{
    if (remote_set_allowed(obj, errp)) {
        MEMORY_BACKEND_REMOTE(obj)->on_demand = value;
    }
}

static void remote_backend_instance_init(Object *obj)
{
    HostMemoryBackendRemote *r = MEMORY_BACKEND_REMOTE(obj);

    /* Remote memory is shared by nature: other bricks may map it. */
    MEMORY_BACKEND(obj)->share = true;
    r->latency_class = DREDBOX_LATENCY_CLASS_RACK_LOCAL;
}

static void remote_backend_class_init(ObjectClass *oc, void *data)
{
    HostMemoryBackendClass *bc = MEMORY_BACKEND_CLASS(oc);

    bc->alloc = remote_backend_memory_alloc;

    object_class_property_add_str(oc, "pool", remote_get_pool,
                                  remote_set_pool);
    object_class_property_set_description(oc, "pool",
        "The pool daemon's socket, or its manifest (pool.json)");
    object_class_property_add_str(oc, "client", remote_get_client,
                                  remote_set_client);
    object_class_property_set_description(oc, "client",
        "Name the memory is leased to (default qemu-PID)");
    object_class_property_add(oc, "brick", "uint32", remote_get_u32,
                              remote_set_u32, NULL, NULL);
    object_class_property_set_description(oc, "brick",
        "Memory brick to allocate from (default: any); "
        "reads back the brick in use");
    object_class_property_add(oc, "segment", "uint32", remote_get_u32,
                              remote_set_u32, NULL, NULL);
    object_class_property_set_description(oc, "segment",
        "Attach this existing pool segment; reads back the segment in use");
    object_class_property_add(oc, "offset", "uint64", remote_get_offset,
                              NULL, NULL, NULL);
    object_class_property_set_description(oc, "offset",
        "Offset of the segment in its memory brick (read-only)");
    object_class_property_add_enum(oc, "memory-class", "DredboxMemoryClass",
                                   &DredboxMemoryClass_lookup,
                                   remote_get_mem_class,
                                   remote_set_mem_class);
    object_class_property_set_description(oc, "memory-class",
        "Class of memory brick: dram, hugepage or persistent");
    object_class_property_add_enum(oc, "latency-class",
                                   "DredboxLatencyClass",
                                   &DredboxLatencyClass_lookup,
                                   remote_get_latency_class,
                                   remote_set_latency_class);
    object_class_property_set_description(oc, "latency-class",
        "tray-local, rack-local or inter-rack: the NUMA distance class");
    object_class_property_add_bool(oc, "on-demand", remote_get_on_demand,
                                   remote_set_on_demand);
    object_class_property_set_description(oc, "on-demand",
        "Take pool memory only for what a virtio-mem device plugs");
}

static const TypeInfo remote_backend_info = {
    .name = TYPE_MEMORY_BACKEND_REMOTE,
    .parent = TYPE_MEMORY_BACKEND,
    .instance_init = remote_backend_instance_init,
    .instance_finalize = remote_backend_finalize,
    .class_init = remote_backend_class_init,
    .instance_size = sizeof(HostMemoryBackendRemote),
};

static void remote_backend_register_types(void)
{
    type_register_static(&remote_backend_info);
}

type_init(remote_backend_register_types);
