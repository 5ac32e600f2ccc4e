/*
 * The pool daemon's request protocol (see protocol.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "rack-json.h"
#include "fault-log.h"
#include "protocol.h"
#include "rack-name.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

bool memd_valid_client_name(const char *s)
{
    return rack_name_valid(s, 64);
}

void memd_segment_members(JsonBuilder *b, const PoolSegment *seg)
{
    rack_json_member_int(b, "id", seg->id);
    rack_json_member_int(b, "brick", seg->brick);
    rack_json_member_int(b, "offset", seg->offset);
    rack_json_member_int(b, "size", seg->size);
    rack_json_member_str(b, "owner", seg->owner);
}

void memd_offsets_member(JsonBuilder *b, const char *name, GArray *offsets)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < offsets->len; i++) {
        json_builder_add_int_value(b, g_array_index(offsets, uint64_t, i));
    }
    json_builder_end_array(b);
}

static void add_segment(JsonBuilder *b, const PoolSegment *seg)
{
    json_builder_begin_object(b);
    memd_segment_members(b, seg);
    json_builder_end_object(b);
}

/* {"ok": true, "segment": ..., "class": c, "writable": w, "poisoned": [...]} */
static char *reply_segment(const PoolSegment *seg, Pool *pool, bool writable)
{
    JsonBuilder *b = rack_json_begin();
    PoolBrick *brick = pool_brick(pool, seg->brick);
    g_autoptr(GArray) poisoned = pool_segment_poisoned(pool, seg);

    rack_json_member_bool(b, "ok", TRUE);
    json_builder_set_member_name(b, "segment");
    add_segment(b, seg);
    rack_json_member_str(b, "class", mem_class_name(brick->mem_class));
    rack_json_member_bool(b, "writable", writable);
    memd_offsets_member(b, "poisoned", poisoned);
    return rack_json_end(b);
}

static char *reply_ok(const char *member, gint64 value)
{
    JsonBuilder *b = rack_json_reply_begin();

    if (member) {
        rack_json_member_int(b, member, value);
    }
    return rack_json_end(b);
}

char *memd_query_json(Pool *pool)
{
    JsonBuilder *b = rack_json_begin();
    g_autoptr(GPtrArray) segs = pool_list_segments(pool);

    rack_json_member_bool(b, "ok", TRUE);
    rack_json_member_int(b, "granule", pool->granule);
    json_builder_set_member_name(b, "bricks");
    json_builder_begin_array(b);
    for (guint i = 0; i < pool->bricks->len; i++) {
        PoolBrick *brick = g_ptr_array_index(pool->bricks, i);
        g_autofree char *why = NULL;

        json_builder_begin_object(b);
        rack_json_member_int(b, "id", brick->id);
        rack_json_member_str(b, "class", mem_class_name(brick->mem_class));
        rack_json_member_int(b, "size", brick->size);
        rack_json_member_int(b, "used", brick->used);
        rack_json_member_int(b, "free", brick->size - brick->used);
        rack_json_member_int(b, "backable",
                             pool_brick_backable(pool, brick, &why));
        if (why) {
            rack_json_member_str(b, "backing", why);
        }
        rack_json_member_int(b, "scrubs", brick->scrubs);
        rack_json_member_bool(b, "down", brick->down);
        memd_offsets_member(b, "poisoned", brick->poisoned);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "segments");
    json_builder_begin_array(b);
    for (guint i = 0; i < segs->len; i++) {
        add_segment(b, g_ptr_array_index(segs, i));
    }
    json_builder_end_array(b);
    return rack_json_end(b);
}

static char *do_hello(MemdClient *c, JsonObject *o, GError **errp)
{
    const char *name, *role = NULL;

    if (!rack_json_get_str(o, "client", &name, errp) ||
        !rack_json_opt_str(o, "role", &role, errp)) {
        return NULL;
    }
    if (!memd_valid_client_name(name)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "client name must be 1-64 characters of [A-Za-z0-9._-]");
        return NULL;
    }
    if (role && strcmp(role, "admin") && strcmp(role, "client")) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "role must be \"client\" or \"admin\"");
        return NULL;
    }
    g_free(c->name);
    c->name = g_strdup(name);
    c->admin = role && !strcmp(role, "admin");
    return reply_ok("version", MEMD_PROTOCOL_VERSION);
}

static char *do_alloc(Pool *pool, MemdClient *c, JsonObject *o, int *fd_out,
                      uint32_t *granted, GError **errp)
{
    uint64_t size, brick = POOL_ANY_BRICK;
    const char *cls_name = NULL;
    MemClass cls = MEM_CLASS_DRAM;
    JsonNode *bn = json_object_get_member(o, "brick");
    PoolSegment *seg;

    if (!rack_json_get_size(o, "size", &size, errp) ||
        !rack_json_opt_str(o, "class", &cls_name, errp)) {
        return NULL;
    }
    if (cls_name && !mem_class_parse(cls_name, &cls)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "unknown memory class \"%s\"", cls_name);
        return NULL;
    }
    if (bn && !(JSON_NODE_HOLDS_VALUE(bn) &&
                json_node_get_value_type(bn) == G_TYPE_STRING &&
                !strcmp(json_node_get_string(bn), "any")) &&
        !rack_json_get_uint(o, "brick", POOL_ANY_BRICK - 1, &brick, errp)) {
        return NULL;
    }
    if (cls_name && brick != POOL_ANY_BRICK && pool_brick(pool, brick) &&
        pool_brick(pool, brick)->mem_class != cls) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "memory brick %u is %s, not %s", (unsigned)brick,
                    mem_class_name(pool_brick(pool, brick)->mem_class),
                    cls_name);
        return NULL;
    }
    seg = pool_alloc(pool, c->name, brick, cls, size, errp);
    if (!seg) {
        return NULL;
    }
    *fd_out = seg->fd;
    *granted = seg->id;
    return reply_segment(seg, pool, true);
}

static char *do_open(Pool *pool, MemdClient *c, JsonObject *o, int *fd_out,
                     GError **errp)
{
    uint64_t id;
    bool writable;
    PoolSegment *seg;

    if (!rack_json_get_uint(o, "segment", G_MAXUINT32, &id, errp)) {
        return NULL;
    }
    seg = pool_open(pool, c->name, c->admin, id, &writable, errp);
    if (!seg) {
        return NULL;
    }
    *fd_out = writable ? seg->fd : seg->ro_fd;
    return reply_segment(seg, pool, writable);
}

/*
 * A memory brick joins the rack while it runs (the SDM controller's
 * registration, docs/controller.md).  Persistent bricks need a directory
 * and come from the command line.
 */
static char *do_add_brick(Pool *pool, MemdClient *c, JsonObject *o,
                          GError **errp)
{
    uint64_t id, size;
    const char *cls_name = NULL;
    MemClass cls = MEM_CLASS_DRAM;

    if (!c->admin) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED,
                    "only an admin client may add memory bricks");
        return NULL;
    }
    if (!rack_json_get_uint(o, "brick", POOL_ANY_BRICK - 1, &id, errp) ||
        !rack_json_get_size(o, "size", &size, errp) ||
        !rack_json_opt_str(o, "class", &cls_name, errp)) {
        return NULL;
    }
    if (cls_name && (!mem_class_parse(cls_name, &cls) ||
                     cls == MEM_CLASS_PERSISTENT)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "a brick added at run time is dram or hugepage, not"
                    " \"%s\"", cls_name);
        return NULL;
    }
    if (!pool_add_brick(pool, id, cls, size, NULL, errp)) {
        return NULL;
    }
    return reply_ok(NULL, 0);
}

static char *do_free(Pool *pool, MemdClient *c, JsonObject *o, GError **errp)
{
    uint64_t id;

    if (!rack_json_get_uint(o, "segment", G_MAXUINT32, &id, errp) ||
        !pool_release_segment(pool, c->name, c->admin, id, errp)) {
        return NULL;
    }
    return reply_ok(NULL, 0);
}

static char *do_grant(Pool *pool, MemdClient *c, JsonObject *o,
                      GError **errp)
{
    uint64_t id;
    const char *to;
    bool writable = false;

    if (!rack_json_get_uint(o, "segment", G_MAXUINT32, &id, errp) ||
        !rack_json_get_str(o, "client", &to, errp) ||
        !rack_json_opt_bool(o, "writable", &writable, errp)) {
        return NULL;
    }
    if (!memd_valid_client_name(to)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "client name must be 1-64 characters of [A-Za-z0-9._-]");
        return NULL;
    }
    if (!pool_grant(pool, c->name, c->admin, id, to, writable, errp)) {
        return NULL;
    }
    return reply_ok(NULL, 0);
}

static char *do_release(Pool *pool, MemdClient *c, JsonObject *o,
                        GError **errp)
{
    const char *owner;

    if (!rack_json_get_str(o, "client", &owner, errp)) {
        return NULL;
    }
    if (!c->admin && strcmp(owner, c->name)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED,
                    "only an admin client may release another's leases");
        return NULL;
    }
    return reply_ok("released", pool_release_owner(pool, owner));
}

/* An admin fails or repairs a memory brick (docs/reliability.md). */
static char *do_fault(Pool *pool, MemdClient *c, JsonObject *o, bool down,
                      GError **errp)
{
    uint64_t id;
    unsigned wiped;
    PoolBrick *b;

    if (!rack_json_get_uint(o, "brick", G_MAXUINT32, &id, errp)) {
        return NULL;
    }
    if (!c->admin) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED,
                    "only an admin client may fail or repair a memory"
                    " brick");
        return NULL;
    }
    if (!pool_set_brick_down(pool, id, down, &wiped, errp)) {
        return NULL;
    }
    b = pool_brick(pool, id);
    if (pool->fault_log) {
        rack_fault_log(pool->fault_log, "pool", "%s memory brick %u (%s)%s",
                       down ? "failed" : "repaired", b->id,
                       mem_class_name(b->mem_class),
                       !down ? "" : wiped ? ": the contents of its segments"
                       " are lost" : ": it keeps its contents");
    }
    return reply_ok("wiped", wiped);
}

/* An admin poisons or clears a page of a memory brick (reliability.md). */
static char *do_poison(Pool *pool, MemdClient *c, JsonObject *o, bool bad,
                       GError **errp)
{
    uint64_t id, offset;
    PoolSegment *seg;

    if (!rack_json_get_uint(o, "brick", G_MAXUINT32, &id, errp) ||
        !rack_json_get_uint(o, "offset", INT64_MAX, &offset, errp)) {
        return NULL;
    }
    if (!c->admin) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_DENIED,
                    "only an admin client may poison or clear a page");
        return NULL;
    }
    if (!pool_set_page_poisoned(pool, id, offset, bad, errp)) {
        return NULL;
    }
    seg = pool_segment_at(pool, id, offset);
    if (pool->fault_log) {
        rack_fault_log(pool->fault_log, "pool", "%s page 0x%"
                       G_GINT64_MODIFIER "x of memory brick %u%s",
                       bad ? "poisoned" : "cleared", (guint64)offset,
                       (unsigned)id, seg ? "" : " (in no segment)");
    }
    return seg ? reply_ok("segment", seg->id) : reply_ok(NULL, 0);
}

char *memd_handle(Pool *pool, MemdClient *client, const char *line,
                  int *fd_out, uint32_t *granted)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonNode *root;
    JsonObject *o;
    const char *cmd;
    char *reply = NULL;

    *fd_out = -1;
    *granted = 0;
    if (!json_parser_load_from_data(parser, line, -1, &err)) {
        g_autoptr(GError) e = g_error_new(RACK_ERROR, RACK_ERROR_INVALID,
                                          "malformed JSON: %s", err->message);
        return rack_json_error_reply(e);
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(&err, RACK_ERROR, RACK_ERROR_INVALID,
                    "a request must be a JSON object");
        return rack_json_error_reply(err);
    }
    o = json_node_get_object(root);
    if (!rack_json_get_str(o, "cmd", &cmd, &err)) {
        return rack_json_error_reply(err);
    }

    if (!strcmp(cmd, "hello")) {
        reply = do_hello(client, o, &err);
    } else if (!strcmp(cmd, "query")) {
        reply = memd_query_json(pool);
    } else if (!client->name) {
        g_set_error(&err, RACK_ERROR, RACK_ERROR_DENIED,
                    "say hello first: {\"cmd\": \"hello\", \"client\": NAME}");
    } else if (!strcmp(cmd, "alloc")) {
        reply = do_alloc(pool, client, o, fd_out, granted, &err);
    } else if (!strcmp(cmd, "open")) {
        reply = do_open(pool, client, o, fd_out, &err);
    } else if (!strcmp(cmd, "free")) {
        reply = do_free(pool, client, o, &err);
    } else if (!strcmp(cmd, "grant")) {
        reply = do_grant(pool, client, o, &err);
    } else if (!strcmp(cmd, "release")) {
        reply = do_release(pool, client, o, &err);
    } else if (!strcmp(cmd, "add-brick")) {
        reply = do_add_brick(pool, client, o, &err);
    } else if (!strcmp(cmd, "fail") || !strcmp(cmd, "repair")) {
        reply = do_fault(pool, client, o, !strcmp(cmd, "fail"), &err);
    } else if (!strcmp(cmd, "poison") || !strcmp(cmd, "unpoison")) {
        reply = do_poison(pool, client, o, !strcmp(cmd, "poison"), &err);
    } else {
        g_set_error(&err, RACK_ERROR, RACK_ERROR_INVALID,
                    "unknown command \"%s\"", cmd);
    }
    return reply ? reply : rack_json_error_reply(err);
}
