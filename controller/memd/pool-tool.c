/*
 * dredbox-pool: look at and change a memory pool from the shell.
 *
 *   dredbox-pool -p POOL query [--json]
 *   dredbox-pool -p POOL -c NAME alloc SIZE [--brick N] [--class C]
 *   dredbox-pool -p POOL -c NAME free SEGMENT
 *   dredbox-pool -p POOL -c NAME grant SEGMENT CLIENT [--writable]
 *   dredbox-pool -p POOL release CLIENT                 (as admin)
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

static void print_query(JsonObject *q)
{
    JsonArray *bricks = json_object_get_array_member(q, "bricks");
    JsonArray *segs = json_object_get_array_member(q, "segments");

    printf("granule %" G_GINT64_FORMAT " MiB\n",
           json_object_get_int_member(q, "granule") >> 20);
    printf("%-6s %-11s %10s %10s %10s\n", "brick", "class", "size MiB",
           "used MiB", "free MiB");
    for (guint i = 0; i < json_array_get_length(bricks); i++) {
        JsonObject *b = json_array_get_object_element(bricks, i);

        printf("%-6" G_GINT64_FORMAT " %-11s %10" G_GINT64_FORMAT
               " %10" G_GINT64_FORMAT " %10" G_GINT64_FORMAT "\n",
               json_object_get_int_member(b, "id"),
               json_object_get_string_member(b, "class"),
               json_object_get_int_member(b, "size") >> 20,
               json_object_get_int_member(b, "used") >> 20,
               json_object_get_int_member(b, "free") >> 20);
    }
    printf("%-8s %-6s %12s %10s  %s\n", "segment", "brick", "offset MiB",
           "size MiB", "owner");
    for (guint i = 0; i < json_array_get_length(segs); i++) {
        JsonObject *s = json_array_get_object_element(segs, i);

        printf("%-8" G_GINT64_FORMAT " %-6" G_GINT64_FORMAT " %12"
               G_GINT64_FORMAT " %10" G_GINT64_FORMAT "  %s\n",
               json_object_get_int_member(s, "id"),
               json_object_get_int_member(s, "brick"),
               json_object_get_int_member(s, "offset") >> 20,
               json_object_get_int_member(s, "size") >> 20,
               json_object_get_string_member(s, "owner"));
    }
}

/* Copy LENGTH bytes of a segment from OFFSET to stdout. */
static gboolean read_segment(MemdConn *c, uint64_t seg, char **args,
                             int nargs, GError **errp)
{
    g_autofree char *req = g_strdup_printf("{\"cmd\":\"open\","
                                           "\"segment\":%" G_GUINT64_FORMAT
                                           "}", seg);
    uint64_t off = 0, len, size;
    JsonObject *reply;
    char *map;
    int fd;

    reply = memd_call(c, req, &fd, errp);
    if (!reply) {
        return FALSE;
    }
    size = json_object_get_int_member(
        json_object_get_object_member(reply, "segment"), "size");
    json_object_unref(reply);
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
    MemdConn *c;
    JsonObject *reply = NULL;
    uint64_t a = 0, brick = POOL_ANY_BRICK;
    gboolean ok = FALSE;
    static const struct { const char *name; int min, max; } cmds[] = {
        { "query", 0, 0 }, { "alloc", 1, 1 }, { "free", 1, 1 },
        { "grant", 2, 2 }, { "release", 1, 1 }, { "read", 1, 3 },
    };
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
        !parse_u64(strcmp(cmd, "alloc") ? "segment" : "size", argv[2],
                   !strcmp(cmd, "alloc"), &a, errp)) {
        return FALSE;
    }
    if (opt_brick && !parse_u64("brick", opt_brick, FALSE, &brick, errp)) {
        return FALSE;
    }
    c = memd_connect(opt_pool, opt_client, opt_admin ||
                     !strcmp(cmd, "release"), errp);
    if (!c) {
        return FALSE;
    }
    if (!strcmp(cmd, "read")) {
        ok = read_segment(c, a, argv + 3, argc - 3, errp);
        memd_close(c);
        return ok;
    }
    if (!strcmp(cmd, "query")) {
        req = g_strdup("{\"cmd\":\"query\"}");
    } else if (!strcmp(cmd, "alloc")) {
        g_autofree char *b = brick == POOL_ANY_BRICK ? g_strdup("\"any\"")
            : g_strdup_printf("%" G_GUINT64_FORMAT, brick);

        g_autofree char *cls = opt_class
            ? g_strdup_printf(",\"class\":\"%s\"", opt_class) : g_strdup("");

        req = g_strdup_printf("{\"cmd\":\"alloc\",\"size\":%" G_GUINT64_FORMAT
                              ",\"brick\":%s%s}", a, b, cls);
    } else if (!strcmp(cmd, "free")) {
        req = g_strdup_printf("{\"cmd\":\"free\",\"segment\":%"
                              G_GUINT64_FORMAT "}", a);
    } else if (!strcmp(cmd, "grant")) {
        req = g_strdup_printf("{\"cmd\":\"grant\",\"segment\":%"
                              G_GUINT64_FORMAT ",\"client\":\"%s\","
                              "\"writable\":%s}", a, argv[3],
                              opt_writable ? "true" : "false");
    } else {
        req = g_strdup_printf("{\"cmd\":\"release\",\"client\":\"%s\"}",
                              argv[2]);
    }
    /* Replies keep their fds from us: alloc's lease outlives this tool. */
    reply = memd_call(c, req, NULL, errp);
    memd_close(c);
    if (!reply) {
        return FALSE;
    }
    if (!strcmp(cmd, "query") && !opt_json) {
        print_query(reply);
    } else if (!strcmp(cmd, "alloc") && !opt_json) {
        JsonObject *s = json_object_get_object_member(reply, "segment");

        printf("%" G_GINT64_FORMAT "\n", json_object_get_int_member(s, "id"));
    } else if (opt_json) {
        JsonNode *n = json_node_init_object(json_node_alloc(), reply);
        g_autofree char *text = json_to_string(n, FALSE);

        printf("%s\n", text);
        json_node_unref(n);
    }
    json_object_unref(reply);
    return TRUE;
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
        "  read SEGMENT [OFFSET [LENGTH]] copy its bytes to stdout\n");
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
