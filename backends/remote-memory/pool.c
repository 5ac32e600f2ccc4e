/*
 * The dredbox-pool object: a compute brick's session with the rack's
 * memory pool (pool-client.h, docs/memory-pool.md), shared by its RMC and
 * its memory-backend-remote objects, so that they all hold their leases
 * under one client name over one connection:
 *
 *   -object dredbox-pool,id=pool0,path=RUN/pool/pool.json,client=brick0
 *   -machine dredbox-compute,pool=pool0
 *   -object memory-backend-remote,id=m0,size=1G,pool=pool0
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qom/object_interfaces.h"
#include "hw/dredbox/pool-client.h"

OBJECT_DECLARE_SIMPLE_TYPE(DredboxPool, DREDBOX_POOL)

struct DredboxPool {
    Object parent_obj;
    char *path;         /* the daemon's socket or manifest */
    char *client;       /* the name its leases are held by */
    PoolClient *pc;     /* connected once the object is complete */
};

static void dredbox_pool_complete(UserCreatable *uc, Error **errp)
{
    DredboxPool *p = DREDBOX_POOL(uc);

    if (!p->path) {
        error_setg(errp, "dredbox-pool: property 'path' (the pool daemon's"
                   " socket or manifest) is required");
        return;
    }
    if (!p->client) {
        p->client = g_strdup_printf("qemu-%d", (int)getpid());
    }
    p->pc = pool_client_connect(p->path, p->client, errp);
    if (!p->pc) {
        error_prepend(errp, "dredbox-pool '%s': ",
                      object_get_canonical_path_component(OBJECT(p)));
    }
}

/* Only while no RMC or memory backend uses it. */
static bool dredbox_pool_can_be_deleted(UserCreatable *uc)
{
    return OBJECT(uc)->ref == 1;
}

static char *dredbox_pool_get_path(Object *obj, Error **errp)
{
    return g_strdup(DREDBOX_POOL(obj)->path);
}

static void dredbox_pool_set_path(Object *obj, const char *value,
                                  Error **errp)
{
    DredboxPool *p = DREDBOX_POOL(obj);

    g_free(p->path);
    p->path = g_strdup(value);
}

static char *dredbox_pool_get_client(Object *obj, Error **errp)
{
    return g_strdup(DREDBOX_POOL(obj)->client);
}

static void dredbox_pool_set_client(Object *obj, const char *value,
                                    Error **errp)
{
    DredboxPool *p = DREDBOX_POOL(obj);

    g_free(p->client);
    p->client = g_strdup(value);
}

static void dredbox_pool_finalize(Object *obj)
{
    DredboxPool *p = DREDBOX_POOL(obj);

    pool_client_close(p->pc);
    g_free(p->path);
    g_free(p->client);
}

static void dredbox_pool_class_init(ObjectClass *oc, void *data)
{
    UserCreatableClass *ucc = USER_CREATABLE_CLASS(oc);

    ucc->complete = dredbox_pool_complete;
    ucc->can_be_deleted = dredbox_pool_can_be_deleted;
    object_class_property_add_str(oc, "path", dredbox_pool_get_path,
                                  dredbox_pool_set_path);
    object_class_property_set_description(oc, "path",
        "the pool daemon's socket, or its manifest (a path ending in .json)");
    object_class_property_add_str(oc, "client", dredbox_pool_get_client,
                                  dredbox_pool_set_client);
    object_class_property_set_description(oc, "client",
        "the name the session's leases are held by (default qemu-PID)");
}

static const TypeInfo dredbox_pool_info = {
    .name = TYPE_DREDBOX_POOL,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(DredboxPool),
    .instance_finalize = dredbox_pool_finalize,
    .class_init = dredbox_pool_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_USER_CREATABLE },
        { }
    },
};

static void dredbox_pool_register_types(void)
{
    type_register_static(&dredbox_pool_info);
}

type_init(dredbox_pool_register_types);

static DredboxPool *dredbox_pool_find(const char *pool)
{
    Object *obj = object_resolve_path_component(object_get_objects_root(),
                                                pool);

    return obj ? (DredboxPool *)object_dynamic_cast(obj, TYPE_DREDBOX_POOL)
               : NULL;
}

bool dredbox_pool_is_object(const char *pool)
{
    return pool && dredbox_pool_find(pool);
}

PoolClient *dredbox_pool_get(const char *pool, const char *client,
                             Object **holder, Error **errp)
{
    DredboxPool *p = dredbox_pool_find(pool);

    *holder = NULL;
    if (!p) {
        g_autofree char *name = client ? g_strdup(client)
                                : g_strdup_printf("qemu-%d", (int)getpid());

        return pool_client_connect(pool, name, errp);
    }
    if (client) {
        error_setg(errp, "client=%s: the dredbox-pool object '%s' holds the"
                   " leases under its own client name", client, pool);
        return NULL;
    }
    *holder = object_ref(OBJECT(p));
    return p->pc;
}

void dredbox_pool_put(PoolClient *pc, Object *holder)
{
    if (holder) {
        object_unref(holder);
    } else {
        pool_client_close(pc);
    }
}
