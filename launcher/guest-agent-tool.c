/*
 * dredbox-ga: a command or a file through a compute brick's QEMU guest
 * agent (docs/your-software.md).  `dredbox-rack exec` and `cp` use it.
 *
 *   dredbox-ga SOCKET exec [--timeout S] [--stdin] -- COMMAND [ARG...]
 *       run COMMAND in the brick; its output on ours, its status ours
 *   dredbox-ga SOCKET put FILE PATH    copy FILE to PATH in the brick
 *   dredbox-ga SOCKET get PATH FILE    copy PATH in the brick to FILE
 *   dredbox-ga SOCKET ping             the agent answers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest-agent.h"

/* How long the agent may take to answer one request: a hang, not work. */
#define GA_REPLY_TIMEOUT_MS 20000
/* What a failure of the tool itself returns, as env(1) and timeout(1) do */
#define GA_EXIT_FAILURE 125

static int usage(void)
{
    fprintf(stderr, "usage: dredbox-ga SOCKET exec [--timeout S] [--stdin]"
            " -- COMMAND [ARG...]\n"
            "       dredbox-ga SOCKET put FILE PATH\n"
            "       dredbox-ga SOCKET get PATH FILE\n"
            "       dredbox-ga SOCKET ping\n");
    return 2;
}

static int run(GuestAgent *ga, char **argv, unsigned timeout_s,
               gboolean with_stdin, GError **errp)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) err = g_byte_array_new();
    g_autoptr(GBytes) input = NULL;
    int status;

    if (with_stdin) {
        g_autoptr(GIOChannel) in = g_io_channel_unix_new(STDIN_FILENO);
        char *data = NULL;
        gsize n = 0;

        g_io_channel_set_encoding(in, NULL, NULL);
        if (g_io_channel_read_to_end(in, &data, &n, errp) !=
            G_IO_STATUS_NORMAL) {
            return -1;
        }
        input = g_bytes_new_take(data, n);
    }
    if (!guest_agent_exec(ga, argv, input, timeout_s * 1000, out, err,
                          &status, errp)) {
        return -1;
    }
    /* An empty GByteArray has no data at all, which fwrite may not take */
    if (out->len) {
        fwrite(out->data, 1, out->len, stdout);
    }
    if (err->len) {
        fwrite(err->data, 1, err->len, stderr);
    }
    return status;
}

static bool put(GuestAgent *ga, const char *file, const char *path,
                GError **errp)
{
    g_autoptr(GBytes) bytes = NULL;
    char *data;
    gsize n;
    struct stat st;

    if (!g_file_get_contents(file, &data, &n, errp)) {
        return false;
    }
    bytes = g_bytes_new_take(data, n);
    if (stat(file, &st)) {
        st.st_mode = 0644;
    }
    return guest_agent_put(ga, bytes, path, st.st_mode & 07777, errp);
}

static bool get(GuestAgent *ga, const char *path, const char *file,
                GError **errp)
{
    g_autoptr(GBytes) data = guest_agent_get(ga, path, errp);

    return data && g_file_set_contents(file, g_bytes_get_data(data, NULL),
                                       g_bytes_get_size(data), errp);
}

int main(int argc, char **argv)
{
    gint timeout_s = 0;
    gboolean with_stdin = false;
    GOptionEntry entries[] = {
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
          "exec: give up after S seconds (default: wait)", "S" },
        { "stdin", 0, 0, G_OPTION_ARG_NONE, &with_stdin,
          "exec: our standard input is the command's", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "SOCKET exec|put|get|ping ...");
    g_autoptr(GError) err = NULL;
    g_autoptr(GuestAgent) ga = NULL;
    int rc = 0;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "dredbox-ga: %s\n", err->message);
        return usage();
    }
    if (argc < 3 || timeout_s < 0) {
        return usage();
    }
    /* g_option_context_parse keeps a "--" only when options precede it */
    if (!strcmp(argv[2], "exec") && argc > 3 && !strcmp(argv[3], "--")) {
        memmove(argv + 3, argv + 4, (argc - 3) * sizeof(*argv));
        argc--;
    }
    if (!((!strcmp(argv[2], "exec") && argc >= 4) ||
          ((!strcmp(argv[2], "put") || !strcmp(argv[2], "get")) &&
           argc == 5) ||
          (!strcmp(argv[2], "ping") && argc == 3))) {
        return usage();
    }
    ga = guest_agent_open(argv[1], GA_REPLY_TIMEOUT_MS, &err);
    if (ga && !strcmp(argv[2], "exec")) {
        rc = run(ga, argv + 3, timeout_s, with_stdin, &err);
    } else if (ga && !strcmp(argv[2], "put")) {
        rc = put(ga, argv[3], argv[4], &err) ? 0 : -1;
    } else if (ga && !strcmp(argv[2], "get")) {
        rc = get(ga, argv[3], argv[4], &err) ? 0 : -1;
    }
    if (!ga || rc < 0) {
        fprintf(stderr, "dredbox-ga: %s\n", err->message);
        return GA_EXIT_FAILURE;
    }
    return rc;
}
