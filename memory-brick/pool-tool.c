/*
 * dredbox-pool: look at and change a memory pool from the shell.
 *
 *   dredbox-pool -p POOL query [--json]
 *   dredbox-pool -p POOL -c NAME alloc SIZE [--brick N] [--class C]
 *   dredbox-pool -p POOL -c NAME free SEGMENT
 *   dredbox-pool -p POOL -c NAME grant SEGMENT CLIENT [--writable]
 *   dredbox-pool -p POOL release CLIENT                 (as admin)
 *   dredbox-pool -p POOL fail|repair BRICK              (as admin)
 *   dredbox-pool -p POOL read SEGMENT [OFFSET [LENGTH]] (raw bytes)
 *
 * POOL is the daemon's socket or manifest.  Allocations are leased to the
 * client name (-c) and outlive this process; an admin (--admin, implied
 * for release) may free, open and release any lease.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memd-client.h"
#include "rack-json.h"
#include "pool.h"
#include "protocol.h"
#include "size.h"

static char *opt_pool, *opt_client, *opt_brick, *opt_class;
static gboolean opt_admin, opt_writable, opt_json;

static GOptionEntry entries[] = {
    { "pool", 'p', 0, G_OPTION_ARG_FILENAME, &opt_pool,
      "The pool's socket or manifest (default $DREDBOX_POOL)", "PATH" },
    { "client", 'c', 0, G_OPTION_ARG_STRING, &opt_client,
      "Client name to act as (default dredbox-pool)", "NAME" },
    { "admin", 'a', 0, G_OPTION_ARG_NONE, &opt_admin,
      "Act as the rack's administrator", NULL },
    { "brick", 'b', 0, G_OPTION_ARG_STRING, &opt_brick,
      "alloc: the memory brick (default any)", "N" },
    { "class", 0, 0, G_OPTION_ARG_STRING, &opt_class,
      "alloc: dram, hugepage or persistent (default dram)", "CLASS" },
    { "writable", 'w', 0, G_OPTION_ARG_NONE, &opt_writable,
      "grant: allow writes", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json,
      "Print the pool's reply as it is", NULL },
    { NULL }
};

static gboolean parse_u64(const char *what, const char *s, gboolean size,
                          uint64_t *out, GError **errp)
{
    guint64 v;

    if (size ? rack_parse_size(s, out)
             : g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL)) {
        if (!size) {
            *out = v;
        }
        return TRUE;
    }
    g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "bad %s '%s'", what, s);
    return FALSE;
}

/* The pool's query reply as a table; false if it is malformed. */
static gboolean print_query(JsonObject *q, GError **errp)
{
    JsonArray *bricks, *segs;
    JsonObject *o;
    uint64_t granule, id, brick, size, used, avail, offset;
    const char *cls, *owner;

    if (!rack_json_get_uint(q, "granule", G_MAXUINT64, &granule, errp) ||
        !rack_json_get_array(q, "bricks", &bricks, errp) ||
        !rack_json_get_array(q, "segments", &segs, errp)) {
        return FALSE;
    }
    printf("granule %" G_GUINT64_FORMAT " MiB\n", granule >> 20);
    printf("%-6s %-11s %10s %10s %10s\n", "brick", "class", "size MiB",
           "used MiB", "free MiB");
    for (guint i = 0; i < json_array_get_length(bricks); i++) {
        if (!rack_json_array_get_obj(bricks, i, &o, errp) ||
            !rack_json_get_uint(o, "id", G_MAXUINT32, &id, errp) ||
            !rack_json_get_str(o, "class", &cls, errp) ||
            !rack_json_get_uint(o, "size", G_MAXUINT64, &size, errp) ||
            !rack_json_get_uint(o, "used", G_MAXUINT64, &used, errp) ||
            !rack_json_get_uint(o, "free", G_MAXUINT64, &avail, errp)) {
            return FALSE;
        }
        printf("%-6" G_GUINT64_FORMAT " %-11s %10" G_GUINT64_FORMAT
               " %10" G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT "\n",
               id, cls, size >> 20, used >> 20, avail >> 20);
    }
    printf("%-8s %-6s %12s %10s  %s\n", "segment", "brick", "offset MiB",
           "size MiB", "owner");
    for (guint i = 0; i < json_array_get_length(segs); i++) {
        if (!rack_json_array_get_obj(segs, i, &o, errp) ||
            !rack_json_get_uint(o, "id", G_MAXUINT32, &id, errp) ||
            !rack_json_get_uint(o, "brick", G_MAXUINT32, &brick, errp) ||
            !rack_json_get_uint(o, "offset", G_MAXUINT64, &offset, errp) ||
            !rack_json_get_uint(o, "size", G_MAXUINT64, &size, errp) ||
            !rack_json_get_str(o, "owner", &owner, errp)) {
            return FALSE;
        }
        printf("%-8" G_GUINT64_FORMAT " %-6" G_GUINT64_FORMAT " %12"
               G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT "  %s\n",
               id, brick, offset >> 20, size >> 20, owner);
    }
    return TRUE;
}

/* Copy LENGTH bytes of a segment from OFFSET to stdout. */
static gboolean read_segment(MemdConn *c, uint64_t seg, char **args,
                             int nargs, GError **errp)
{
    JsonBuilder *b = rack_json_request("open");
    g_autofree char *req = NULL;
    uint64_t off = 0, len, size;
    JsonObject *reply, *s;
    gboolean ok;
    char *map;
    int fd;

    rack_json_member_int(b, "segment", seg);
    req = rack_json_end(b);
    reply = memd_call(c, req, &fd, errp);
    if (!reply) {
        return FALSE;
    }
    ok = rack_json_get_object(reply, "segment", &s, errp) &&
         rack_json_get_uint(s, "size", G_MAXSIZE, &size, errp);
    json_object_unref(reply);
    if (!ok) {
        close(fd);
        return FALSE;
    }
    len = size;
    if ((nargs > 0 && !parse_u64("offset", args[0], TRUE, &off, errp)) ||
        (nargs > 1 && !parse_u64("length", args[1], TRUE, &len, errp))) {
        close(fd);
        return FALSE;
    }
    if (off > size || len > size - off) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "segment %" G_GUINT64_FORMAT " has %" G_GUINT64_FORMAT
                    " bytes", seg, size);
        close(fd);
        return FALSE;
    }
    map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        g_set_error(errp, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot map segment: %s", g_strerror(errno));
        return FALSE;
    }
    for (uint64_t done = 0; done < len;) {
        ssize_t n = write(STDOUT_FILENO, map + off + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_set_error(errp, G_IO_ERROR, g_io_error_from_errno(errno),
                        "write: %s", g_strerror(errno));
            munmap(map, size);
            return FALSE;
        }
        done += n;
    }
    munmap(map, size);
    return TRUE;
}

static gboolean run(int argc, char **argv, GError **errp)
{
    const char *cmd = argv[1];
    g_autofree char *req = NULL;
    JsonBuilder *b;
    MemdConn *c;
    JsonObject *reply = NULL;
    uint64_t a = 0, brick = POOL_ANY_BRICK;
    gboolean ok = FALSE;
    static const struct { const char *name; int min, max; } cmds[] = {
        { "query", 0, 0 }, { "alloc", 1, 1 }, { "free", 1, 1 },
        { "grant", 2, 2 }, { "release", 1, 1 }, { "read", 1, 3 },
        { "fail", 1, 1 }, { "repair", 1, 1 }, { "poison", 2, 2 },
        { "unpoison", 2, 2 },
    };
    bool page = !strcmp(cmd, "poison") || !strcmp(cmd, "unpoison");
    /* Failing and repairing bricks and pages: the administrator's */
    bool fault = !strcmp(cmd, "fail") || !strcmp(cmd, "repair") || page;
    uint64_t off = 0;
    guint i;

    for (i = 0; i < G_N_ELEMENTS(cmds); i++) {
        if (!strcmp(cmd, cmds[i].name)) {
            break;
        }
    }
    if (i == G_N_ELEMENTS(cmds) || argc - 2 < cmds[i].min ||
        argc - 2 > cmds[i].max) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "unknown command or wrong arguments: %s (see --help)",
                    cmd);
        return FALSE;
    }
    if (argc > 2 && strcmp(cmd, "release") &&
        !parse_u64(!strcmp(cmd, "alloc") ? "size" : fault ? "brick"
                   : "segment", argv[2], !strcmp(cmd, "alloc"), &a, errp)) {
        return FALSE;
    }
    if (page && !parse_u64("offset", argv[3], TRUE, &off, errp)) {
        return FALSE;
    }
    if (opt_brick && !parse_u64("brick", opt_brick, FALSE, &brick, errp)) {
        return FALSE;
    }
    c = memd_connect(opt_pool, opt_client, opt_admin || fault ||
                     !strcmp(cmd, "release"), errp);
    if (!c) {
        return FALSE;
    }
    if (!strcmp(cmd, "read")) {
        ok = read_segment(c, a, argv + 3, argc - 3, errp);
        memd_close(c);
        return ok;
    }
    b = rack_json_request(cmd);
    if (!strcmp(cmd, "alloc")) {
        rack_json_member_int(b, "size", a);
        if (brick == POOL_ANY_BRICK) {
            rack_json_member_str(b, "brick", "any");
        } else {
            rack_json_member_int(b, "brick", brick);
        }
        if (opt_class) {
            rack_json_member_str(b, "class", opt_class);
        }
    } else if (!strcmp(cmd, "free")) {
        rack_json_member_int(b, "segment", a);
    } else if (!strcmp(cmd, "grant")) {
        rack_json_member_int(b, "segment", a);
        rack_json_member_str(b, "client", argv[3]);
        rack_json_member_bool(b, "writable", opt_writable);
    } else if (!strcmp(cmd, "release")) {
        rack_json_member_str(b, "client", argv[2]);
    } else if (fault) {
        rack_json_member_int(b, "brick", a);
        if (page) {
            rack_json_member_int(b, "offset", off);
        }
    }
    req = rack_json_end(b);
    /* Replies keep their fds from us: alloc's lease outlives this tool. */
    reply = memd_call(c, req, NULL, errp);
    memd_close(c);
    if (!reply) {
        return FALSE;
    }
    if (opt_json) {
        JsonNode *n = json_node_init_object(json_node_alloc(), reply);
        g_autofree char *text = json_to_string(n, FALSE);

        printf("%s\n", text);
        json_node_unref(n);
        ok = TRUE;
    } else if (!strcmp(cmd, "query")) {
        ok = print_query(reply, errp);
    } else if (!strcmp(cmd, "alloc")) {
        JsonObject *s;
        uint64_t id;

        ok = rack_json_get_object(reply, "segment", &s, errp) &&
             rack_json_get_uint(s, "id", G_MAXUINT32, &id, errp);
        if (ok) {
            printf("%" G_GUINT64_FORMAT "\n", id);
        }
    } else {
        ok = TRUE;
    }
    json_object_unref(reply);
    if (!ok) {
        g_prefix_error(errp, "malformed reply from the pool: ");
    }
    return ok;
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "COMMAND [ARGS] - look at and change a dReDBox memory pool");
    g_autoptr(GError) err = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Commands:\n"
        "  query                          bricks and segments\n"
        "  alloc SIZE                     lease SIZE (e.g. 256M) to -c NAME;"
        " prints the segment\n"
        "  free SEGMENT                   give a segment back\n"
        "  grant SEGMENT CLIENT           let CLIENT map it (-w: writable)\n"
        "  release CLIENT                 free every lease of CLIENT\n"
        "  read SEGMENT [OFFSET [LENGTH]] copy its bytes to stdout\n"
        "  fail BRICK                     fail memory brick BRICK on purpose"
        " (docs/reliability.md)\n"
        "  repair BRICK                   repair it\n"
        "  poison BRICK OFFSET            an uncorrectable error in the page"
        " at OFFSET\n"
        "  unpoison BRICK OFFSET          clear it\n");
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "dredbox-pool: %s\n", err->message);
        return 2;
    }
    if (!opt_pool) {
        opt_pool = g_strdup(g_getenv("DREDBOX_POOL"));
    }
    if (!opt_client) {
        opt_client = g_strdup("dredbox-pool");
    }
    if (argc < 2 || !opt_pool) {
        fprintf(stderr, "dredbox-pool: %s\n", argc < 2 ? "no command"
                : "no pool: give -p SOCKET|MANIFEST or set DREDBOX_POOL");
        return 2;
    }
    if (!run(argc, argv, &err)) {
        fprintf(stderr, "dredbox-pool: %s\n", err->message);
        return 1;
    }
    return 0;
}
