/*
 * The pool's journal (pool-journal.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "pool-journal.h"
#include "protocol.h"
#include "rack-json.h"

#include <unistd.h>

static void add_brick(JsonBuilder *b, const PoolBrick *brick)
{
    json_builder_begin_object(b);
    rack_json_member_int(b, "id", brick->id);
    rack_json_member_str(b, "class", mem_class_name(brick->mem_class));
    rack_json_member_int(b, "size", brick->size);
    rack_json_member_bool(b, "down", brick->down);
    rack_json_member_int(b, "scrubs", brick->scrubs);
    memd_offsets_member(b, "poisoned", brick->poisoned);
    json_builder_end_object(b);
}

static void add_segment(JsonBuilder *b, const PoolSegment *seg)
{
    GHashTableIter it;
    gpointer client, writable;

    json_builder_begin_object(b);
    memd_segment_members(b, seg);
    json_builder_set_member_name(b, "grants");
    json_builder_begin_array(b);
    g_hash_table_iter_init(&it, seg->grants);
    while (g_hash_table_iter_next(&it, &client, &writable)) {
        json_builder_begin_object(b);
        rack_json_member_str(b, "client", client);
        rack_json_member_bool(b, "writable", GPOINTER_TO_INT(writable));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

bool pool_journal_save(Pool *pool, const char *path, const char *memory_dir,
                       const char *huge_dir, GError **errp)
{
    JsonBuilder *b = rack_json_begin();
    g_autoptr(GPtrArray) segs = pool_list_segments(pool);
    g_autofree char *text = NULL;

    rack_json_member_int(b, "version", POOL_JOURNAL_VERSION);
    rack_json_member_str(b, "memory-dir", memory_dir);
    if (huge_dir) {
        rack_json_member_str(b, "huge-dir", huge_dir);
    }
    rack_json_member_int(b, "granule", pool->granule);
    rack_json_member_int(b, "next-segment", pool->next_segment);
    json_builder_set_member_name(b, "bricks");
    json_builder_begin_array(b);
    for (guint i = 0; i < pool->bricks->len; i++) {
        add_brick(b, g_ptr_array_index(pool->bricks, i));
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "segments");
    json_builder_begin_array(b);
    for (guint i = 0; i < segs->len; i++) {
        add_segment(b, g_ptr_array_index(segs, i));
    }
    json_builder_end_array(b);
    text = rack_json_end(b);
    /* g_file_set_contents writes a new file, syncs and renames it: a
     * crash leaves the old journal or the new one, never half of one. */
    if (!g_file_set_contents(path, text, -1, errp)) {
        g_prefix_error(errp, "cannot write the pool's journal: ");
        return false;
    }
    return true;
}

JsonObject *pool_journal_read(const char *path, GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    JsonObject *j;
    uint64_t version;
    const char *dir;

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        if (!g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            g_propagate_error(errp, g_steal_pointer(&err));
        }
        return NULL;
    }
    j = rack_json_parse_object(parser, text);
    if (!j) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "%s is not a pool journal", path);
        return NULL;
    }
    if (!rack_json_get_uint(j, "version", G_MAXUINT32, &version, errp) ||
        !rack_json_get_str(j, "memory-dir", &dir, errp) ||
        !rack_json_opt_str(j, "huge-dir", &dir, errp)) {
        g_prefix_error(errp, "%s: ", path);
        return NULL;
    }
    if (version != POOL_JOURNAL_VERSION) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "%s: journal version %u, this pool reads %u", path,
                    (unsigned)version, POOL_JOURNAL_VERSION);
        return NULL;
    }
    return json_object_ref(j);
}

const char *pool_journal_memory_dir(JsonObject *journal)
{
    return json_object_get_string_member(journal, "memory-dir");
}

const char *pool_journal_huge_dir(JsonObject *journal)
{
    return json_object_get_string_member_with_default(journal, "huge-dir",
                                                      NULL);
}

/* A brick of the journal: the command line's, or one added at run time. */
static bool restore_brick(Pool *pool, JsonObject *o, GError **errp)
{
    uint64_t id, size, scrubs;
    const char *cls_name;
    bool down;
    MemClass cls;
    PoolBrick *b;
    JsonArray *poisoned;

    if (!rack_json_get_uint(o, "id", POOL_ANY_BRICK - 1, &id, errp) ||
        !rack_json_get_str(o, "class", &cls_name, errp) ||
        !rack_json_get_uint(o, "size", INT64_MAX, &size, errp) ||
        !rack_json_get_bool(o, "down", &down, errp) ||
        !rack_json_get_uint(o, "scrubs", INT64_MAX, &scrubs, errp)) {
        return false;
    }
    if (!mem_class_parse(cls_name, &cls)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "memory brick %u: unknown class \"%s\"", (unsigned)id,
                    cls_name);
        return false;
    }
    b = pool_brick(pool, id);
    if (!b) {
        b = pool_add_brick(pool, id, cls, size, NULL, errp);
        if (!b) {
            return false;
        }
    } else if (b->mem_class != cls || b->size != size) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "memory brick %u was %s, %" G_GUINT64_FORMAT " MiB;"
                    " now it is %s, %" G_GUINT64_FORMAT " MiB",
                    (unsigned)id, cls_name, size >> 20,
                    mem_class_name(b->mem_class), b->size >> 20);
        return false;
    }
    b->down = down;
    b->scrubs = scrubs;
    if (!rack_json_get_array(o, "poisoned", &poisoned, errp)) {
        return false;
    }
    for (guint i = 0; i < json_array_get_length(poisoned); i++) {
        uint64_t off;

        if (!rack_json_array_get_uint(poisoned, i, INT64_MAX, &off, errp) ||
            !pool_set_page_poisoned(pool, id, off, true, errp)) {
            return false;
        }
    }
    return true;
}

static bool restore_segment(Pool *pool, JsonObject *o, GError **errp)
{
    uint64_t id, brick, offset, size;
    const char *owner;
    JsonArray *grants;
    PoolSegment probe, *seg;
    g_autoptr(GError) lost = NULL;
    PoolBrick *b;
    int fd;

    if (!rack_json_get_uint(o, "id", G_MAXUINT32, &id, errp) ||
        !rack_json_get_uint(o, "brick", POOL_ANY_BRICK - 1, &brick, errp) ||
        !rack_json_get_uint(o, "offset", INT64_MAX, &offset, errp) ||
        !rack_json_get_uint(o, "size", INT64_MAX, &size, errp) ||
        !rack_json_get_str(o, "owner", &owner, errp) ||
        !rack_json_get_array(o, "grants", &grants, errp)) {
        return false;
    }
    b = pool_brick(pool, brick);
    if (!id || !b || !memd_valid_client_name(owner)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "segment %u: %s", (unsigned)id,
                    !id ? "id 0" : !b ? "no such memory brick"
                                      : "not a client name as owner");
        return false;
    }
    probe = (PoolSegment) {
        .id = id, .brick = brick, .offset = offset, .size = size,
        .owner = (char *)owner,
    };
    fd = pool->store.reopen(pool->store.opaque, b, &probe, &lost);
    if (fd < 0) {
        g_warning("segment %u of memory brick %u is leased, but its memory"
                  " is lost: %s", (unsigned)id, b->id, lost->message);
    }
    seg = pool_restore(pool, id, owner, brick, offset, size, fd, errp);
    if (!seg) {
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    for (guint i = 0; i < json_array_get_length(grants); i++) {
        JsonObject *g;
        const char *client;
        bool writable;

        if (!rack_json_array_get_obj(grants, i, &g, errp) ||
            !rack_json_get_str(g, "client", &client, errp) ||
            !rack_json_get_bool(g, "writable", &writable, errp)) {
            return false;
        }
        if (!memd_valid_client_name(client)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                        "segment %u: grant to \"%s\": not a client name",
                        (unsigned)id, client);
            return false;
        }
        if (!pool_grant(pool, NULL, true, id, client, writable, errp)) {
            return false;
        }
    }
    return true;
}

bool pool_journal_restore(Pool *pool, JsonObject *journal, GError **errp)
{
    uint64_t granule, next;
    JsonArray *bricks, *segs;

    if (!rack_json_get_uint(journal, "granule", INT64_MAX, &granule, errp) ||
        !rack_json_get_uint(journal, "next-segment", G_MAXUINT32, &next,
                            errp) ||
        !rack_json_get_array(journal, "bricks", &bricks, errp) ||
        !rack_json_get_array(journal, "segments", &segs, errp)) {
        return false;
    }
    if (granule != pool->granule) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "the granule was %" G_GUINT64_FORMAT " MiB, now it is %"
                    G_GUINT64_FORMAT " MiB", granule >> 20,
                    pool->granule >> 20);
        return false;
    }
    for (guint i = 0; i < json_array_get_length(bricks); i++) {
        JsonObject *o;

        if (!rack_json_array_get_obj(bricks, i, &o, errp) ||
            !restore_brick(pool, o, errp)) {
            g_prefix_error(errp, "bricks %u: ", i);
            return false;
        }
    }
    for (guint i = 0; i < json_array_get_length(segs); i++) {
        JsonObject *o;

        if (!rack_json_array_get_obj(segs, i, &o, errp) ||
            !restore_segment(pool, o, errp)) {
            g_prefix_error(errp, "segments %u: ", i);
            return false;
        }
    }
    pool->next_segment = MAX(pool->next_segment, next);
    return true;
}
