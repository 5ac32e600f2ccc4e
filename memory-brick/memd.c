/*
 * dredbox-memd: the rack's memory-brick pool daemon.
 *
 * Creates the memory bricks named on the command line, serves segment
 * allocations over a UNIX socket (docs/memory-pool.md), hands each
 * segment's fd only to its lease holder and grantees, writes the manifest
 * that QEMU and the tools read, journals every change before it answers
 * (pool-journal.h), and removes its socket, manifest and journal (and
 * every non-persistent segment) when it stops.  Killed instead, it comes
 * back with --restore as it was.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include "pool.h"
#include "pool-journal.h"
#include "line-server.h"
#include "wire.h"
#include "protocol.h"
#include "rack-json.h"
#include "size.h"
#include "store.h"

#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static Pool *pool;
static GMainLoop *loop;
static char *journal;           /* its path */
static HostStoreDirs dirs;      /* where DRAM and hugepage segments live */
static uint64_t journaled;      /* pool->changes when last written */
/*
 * A test's way into the window where the pool has done a request and
 * journaled it but not answered (docs/testing.md): with
 * DREDBOX_MEMD_TEST_DIE_AFTER=CMD in its environment, the first CMD
 * request kills the pool there, as a crash would.
 */
static const char *die_after;

/* Journal what changed, before anyone hears of it. */
static void journal_changes(void)
{
    g_autoptr(GError) err = NULL;

    if (pool->changes == journaled) {
        return;
    }
    if (!pool_journal_save(pool, journal, dirs.memory, dirs.huge, &err)) {
        /* Serving on beats refusing all: only a restart would suffer. */
        g_warning("%s", err->message);
        return;
    }
    journaled = pool->changes;
}

static void test_die_after(const char *line)
{
    g_autoptr(JsonParser) parser = NULL;
    JsonObject *o;
    const char *cmd;

    if (!die_after) {
        return;
    }
    parser = json_parser_new();
    o = rack_json_parse_object(parser, line);
    if (o && rack_json_get_str(o, "cmd", &cmd, NULL) &&
        !strcmp(cmd, die_after)) {
        raise(SIGKILL);
    }
}

/* One request line of @client's connection; false closes it. */
static bool memd_line(LineConn *c, char *line, gpointer client)
{
    g_autofree char *reply = NULL;
    uint32_t granted;
    int seg_fd;

    if (!*g_strstrip(line)) {
        return true;
    }
    reply = memd_handle(pool, client, line, &seg_fd, &granted);
    journal_changes();
    test_die_after(line);
    if (!rack_wire_send(line_conn_fd(c), reply, seg_fd)) {
        /* Nobody learned of a fresh allocation: undo it.  A client that
         * dies mid-request loses the request, not its leases. */
        if (granted) {
            pool_release_segment(pool, NULL, true, granted, NULL);
            journal_changes();
        }
        return false;
    }
    return true;
}

static void client_gone(gpointer data)
{
    MemdClient *client = data;

    g_free(client->name);
    g_free(client);
}

static void conn_new(int fd, gpointer unused)
{
    line_conn_start(fd, memd_line, g_new0(MemdClient, 1), client_gone);
}

static bool write_manifest(const char *path, const char *socket_path,
                           GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *query = memd_query_json(pool);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    JsonObject *o;

    /* The manifest is the query minus the live state, plus where to ask. */
    json_parser_load_from_data(parser, query, -1, NULL);
    o = json_node_get_object(json_parser_get_root(parser));
    json_object_remove_member(o, "ok");
    json_object_remove_member(o, "segments");
    for (guint i = 0; i < pool->bricks->len; i++) {
        JsonObject *b = json_array_get_object_element(
            json_object_get_array_member(o, "bricks"), i);

        json_object_remove_member(b, "used");
        json_object_remove_member(b, "free");
        json_object_remove_member(b, "scrubs");
    }
    json_object_set_int_member(o, "version", MEMD_PROTOCOL_VERSION);
    json_object_set_string_member(o, "socket", socket_path);
    json_object_set_int_member(o, "pid", getpid());
    json_generator_set_root(gen, json_parser_get_root(parser));
    json_generator_set_pretty(gen, TRUE);
    return json_generator_to_file(gen, path, errp);
}

/* --brick ID:SIZE[:CLASS[:DIR]] */
static bool add_brick_arg(const char *arg, const char *state_dir,
                          GError **errp)
{
    g_auto(GStrv) f = g_strsplit(arg, ":", 4);
    guint64 id;
    uint64_t size;
    MemClass cls = MEM_CLASS_DRAM;
    g_autofree char *dir = NULL;
    PoolBrick *b;

    if (g_strv_length(f) < 2 ||
        !g_ascii_string_to_unsigned(f[0], 10, 0, POOL_ANY_BRICK - 1, &id,
                                    NULL) ||
        !rack_parse_size(f[1], &size) ||
        (f[2] && !mem_class_parse(f[2], &cls))) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "bad --brick '%s': expected ID:SIZE[:dram|hugepage|"
                    "persistent[:DIR]]", arg);
        return false;
    }
    if (cls == MEM_CLASS_PERSISTENT) {
        dir = f[2] && f[3] ? g_strdup(f[3]) :
              g_strdup_printf("%s/brick%u", state_dir, (unsigned)id);
    }
    b = pool_add_brick(pool, id, cls, size, dir, errp);
    return b != NULL;
}

/*
 * The segments a restarted pool had: the journal's, with their ids, then
 * whatever the persistent bricks hold besides; memory nobody was told of
 * goes.
 */
static bool restore(JsonObject *prev, GError **errp)
{
    unsigned swept;

    if (prev && !pool_journal_restore(pool, prev, errp)) {
        g_prefix_error(errp, "cannot restore from %s: ", journal);
        return false;
    }
    for (guint i = 0; i < pool->bricks->len; i++) {
        PoolBrick *b = g_ptr_array_index(pool->bricks, i);

        if (b->mem_class == MEM_CLASS_PERSISTENT &&
            !host_store_recover(pool, b, errp)) {
            return false;
        }
    }
    swept = host_store_sweep(pool, dirs.memory);
    if (dirs.huge) {
        swept += host_store_sweep(pool, dirs.huge);
    }
    if (prev) {
        printf("dredbox-memd: restored %u segments from %s%s\n",
               g_hash_table_size(pool->segments), journal,
               swept ? " (and dropped memory made for a request it never"
                       " answered)" : "");
    }
    journaled = pool->changes - 1;
    journal_changes();
    return true;
}

/* The memory a killed pool left in @dir (NULL: none), and @dir */
static void forget_memory(const char *dir)
{
    if (dir) {
        host_store_sweep(NULL, dir);
        rmdir(dir);
    }
}

/* The memory directories, which must be on tmpfs and hugetlbfs */
static void make_memory_dirs(GError **errp)
{
    const char *want[] = { dirs.memory, dirs.huge };

    if (!dirs.memory) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "cannot create a memory directory: %s",
                    g_strerror(errno));
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (want[i] && g_mkdir_with_parents(want[i], 0700) < 0) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                        "cannot create %s: %s", want[i], g_strerror(errno));
            return;
        }
    }
    if (dirs.huge && !host_store_is_hugetlbfs(dirs.huge)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "--huge-dir %s is not on hugetlbfs", dirs.huge);
    }
}

/* Gone on a clean stop, if nothing else is in them */
static void remove_memory_dirs(void)
{
    if (dirs.memory) {
        rmdir(dirs.memory);
    }
    if (dirs.huge) {
        rmdir(dirs.huge);
    }
}

/* A directory of its own on tmpfs, if the host has one. */
static char *new_memory_dir(void)
{
    const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                       ? "/dev/shm" : g_get_tmp_dir();
    g_autofree char *tmpl = g_build_filename(base, "dredbox-memd-XXXXXX",
                                             NULL);

    return g_mkdtemp(tmpl) ? g_steal_pointer(&tmpl) : NULL;
}

static gboolean on_signal(gpointer data)
{
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    g_autofree char *run_dir = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *fault_log = NULL;
    g_autofree char *granule_arg = NULL;
    g_autoptr(JsonObject) prev = NULL;
    gboolean restart = FALSE;
    g_auto(GStrv) bricks = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GOptionContext) ctx = NULL;
    g_autofree char *sock_path = NULL;
    g_autofree char *manifest = NULL;
    uint64_t granule = POOL_DEFAULT_GRANULE;
    GOptionEntry entries[] = {
        { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &run_dir,
          "Directory for the socket (memd.sock) and manifest (pool.json)",
          "DIR" },
        { "brick", 'b', 0, G_OPTION_ARG_STRING_ARRAY, &bricks,
          "A memory brick: ID:SIZE[:dram|hugepage|persistent[:DIR]]",
          "SPEC" },
        { "state-dir", 's', 0, G_OPTION_ARG_FILENAME, &state_dir,
          "Where persistent bricks live (default: DIR/persistent)", "DIR" },
        { "fault-log", 0, 0, G_OPTION_ARG_FILENAME, &fault_log,
          "Where bricks failed and repaired are logged (default:"
          " DIR/faults.log)", "FILE" },
        { "granule", 'g', 0, G_OPTION_ARG_STRING, &granule_arg,
          "Segment granule, a power of two (default 128M)", "SIZE" },
        { "memory-dir", 'm', 0, G_OPTION_ARG_FILENAME, &dirs.memory,
          "Where DRAM segments live (default: a new directory in /dev/shm)",
          "DIR" },
        { "huge-dir", 0, 0, G_OPTION_ARG_FILENAME, &dirs.huge,
          "Where hugepage segments live, on hugetlbfs (default: a new"
          " directory in the first hugetlbfs mount)", "DIR" },
        { "restore", 'r', 0, G_OPTION_ARG_NONE, &restart,
          "Come back as the pool killed before was (DIR/journal.json)",
          NULL },
        { NULL }
    };
    int listener;

    die_after = g_getenv("DREDBOX_MEMD_TEST_DIE_AFTER");
    ctx = g_option_context_new("- dReDBox memory-brick pool daemon");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "dredbox-memd: %s\n", err->message);
        return 2;
    }
    if (!run_dir || !bricks) {
        fprintf(stderr, "dredbox-memd: --dir and at least one --brick are"
                " required (see --help)\n");
        return 2;
    }
    if (granule_arg && (!rack_parse_size(granule_arg, &granule) ||
                        granule < 4096 || (granule & (granule - 1)))) {
        fprintf(stderr, "dredbox-memd: bad --granule '%s': a power of two"
                " of at least 4K\n", granule_arg);
        return 2;
    }
    if (!state_dir) {
        state_dir = g_build_filename(run_dir, "persistent", NULL);
    }
    if (g_mkdir_with_parents(run_dir, 0700) < 0) {
        fprintf(stderr, "dredbox-memd: cannot create %s: %s\n", run_dir,
                g_strerror(errno));
        return 1;
    }

    /* Listening first claims the run directory: a second pool there
     * stops before it touches the first one's journal or memory. */
    sock_path = g_build_filename(run_dir, "memd.sock", NULL);
    manifest = g_build_filename(run_dir, "pool.json", NULL);
    journal = g_build_filename(run_dir, "journal.json", NULL);
    listener = line_server_accept(sock_path, conn_new, NULL, &err);
    if (listener < 0) {
        fprintf(stderr, "dredbox-memd: %s\n", err->message);
        return 1;
    }
    unlink(manifest);   /* a killed pool's: not ready yet */
    prev = pool_journal_read(journal, &err);
    if (!err && !restart && prev) {
        /* A pool was killed here and not restarted: start afresh. */
        forget_memory(pool_journal_memory_dir(prev));
        forget_memory(pool_journal_huge_dir(prev));
        g_clear_pointer(&prev, json_object_unref);
    }
    if (prev) {
        g_free(dirs.memory);
        g_free(dirs.huge);
        dirs.memory = g_strdup(pool_journal_memory_dir(prev));
        dirs.huge = g_strdup(pool_journal_huge_dir(prev));
    } else if (!dirs.memory) {
        dirs.memory = new_memory_dir();
    }
    if (!prev && !dirs.huge && dirs.memory) {
        /* The host's hugetlbfs if this pool may write there, else memfds */
        dirs.huge = host_store_huge_dir(dirs.memory);
        if (dirs.huge && g_mkdir_with_parents(dirs.huge, 0700) < 0) {
            g_clear_pointer(&dirs.huge, g_free);
        }
    }
    if (!err) {
        make_memory_dirs(&err);
    }
    if (!err) {
        pool = pool_new(granule, &(PoolStore) { 0 });
        pool->store = host_store(&dirs);
        pool->fault_log = fault_log ? g_steal_pointer(&fault_log)
                                    : g_build_filename(run_dir, "faults.log",
                                                       NULL);
        for (int i = 0; bricks[i] && !err; i++) {
            add_brick_arg(bricks[i], state_dir, &err);
        }
    }
    if (err || !restore(prev, &err) ||
        !write_manifest(manifest, sock_path, &err)) {
        /* Exit without freeing the pool: its memory is the clients'.
         * Only a directory with none in it goes. */
        fprintf(stderr, "dredbox-memd: %s\n", err->message);
        unlink(sock_path);
        remove_memory_dirs();
        return 1;
    }

    loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_signal, NULL);
    g_unix_signal_add(SIGINT, on_signal, NULL);
    g_unix_signal_add(SIGHUP, on_signal, NULL);
    /* A brick the host cannot back serves less: said now, not at an alloc */
    for (guint i = 0; i < pool->bricks->len; i++) {
        PoolBrick *b = g_ptr_array_index(pool->bricks, i);
        g_autofree char *why = NULL;

        pool_brick_backable(pool, b, &why);
        if (why) {
            printf("dredbox-memd: memory brick %u (%s): %s\n", b->id,
                   mem_class_name(b->mem_class), why);
        }
        if (b->mem_class == MEM_CLASS_HUGEPAGE && !dirs.huge) {
            printf("dredbox-memd: memory brick %u (hugepage): no hugetlbfs"
                   " this pool may write to is mounted, so its segments do"
                   " not survive a restart of the pool (mount -t hugetlbfs"
                   " none /dev/hugepages, or give --huge-dir)\n", b->id);
        }
    }
    printf("dredbox-memd: %u memory bricks, socket %s, manifest %s\n",
           pool->bricks->len, sock_path, manifest);
    fflush(stdout);
    g_main_loop_run(loop);

    close(listener);
    unlink(sock_path);
    unlink(manifest);
    pool_free(pool);
    remove_memory_dirs();
    unlink(journal);
    g_main_loop_unref(loop);
    return 0;
}
