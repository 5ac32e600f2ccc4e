/*
 * JSON-lines control socket server (line-server.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE   /* accept4 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>

#include "rack-json.h"
#include "line-server.h"
#include "wire.h"
#include "rack-error.h"

struct LineConn {
    int fd;
    GString *in;            /* a partial line, or lines not handled yet */
    LineConnHandler on_line;
    gpointer data;
    GDestroyNotify closed;
    bool paused;            /* a reply is on its way: no more lines */
};

static void line_conn_close(LineConn *c)
{
    if (c->closed) {
        c->closed(c->data);
    }
    close(c->fd);
    g_string_free(c->in, TRUE);
    g_free(c);
}

/*
 * Hand @c's complete lines to its handler until it pauses; false if @c
 * was closed.
 */
static bool line_conn_drain(LineConn *c)
{
    char *nl;

    while (!c->paused && (nl = memchr(c->in->str, '\n', c->in->len))) {
        g_autofree char *line = g_strndup(c->in->str, nl - c->in->str);

        g_string_erase(c->in, 0, nl - c->in->str + 1);
        if (!c->on_line(c, line, c->data)) {
            line_conn_close(c);
            return false;
        }
    }
    if (!c->paused && c->in->len > RACK_MAX_LINE) {
        rack_wire_send(c->fd, "{\"ok\":false,\"code\":\"invalid\","
                       "\"error\":\"request line too long\"}", -1);
        line_conn_close(c);
        return false;
    }
    return true;
}

static gboolean line_conn_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    LineConn *c = opaque;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        line_conn_close(c);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(c->in, buf, n);
    if (!line_conn_drain(c) || c->paused) {
        return G_SOURCE_REMOVE;     /* line_conn_resume() watches again */
    }
    return G_SOURCE_CONTINUE;
}

static void line_conn_watch(LineConn *c)
{
    g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, line_conn_readable, c);
}

void line_conn_pause(LineConn *c)
{
    c->paused = true;
}

void line_conn_resume(LineConn *c)
{
    c->paused = false;
    if (line_conn_drain(c) && !c->paused) {
        line_conn_watch(c);
    }
}

void line_conn_start(int fd, LineConnHandler on_line, gpointer data,
                     GDestroyNotify closed)
{
    LineConn *c = g_new0(LineConn, 1);
    struct timeval tv = { .tv_sec = RACK_SEND_TIMEOUT_S };

    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->fd = fd;
    c->in = g_string_new(NULL);
    c->on_line = on_line;
    c->data = data;
    c->closed = closed;
    line_conn_watch(c);
}

int line_conn_fd(LineConn *c)
{
    return c->fd;
}

/* The reply to request @line for @handle */
static char *handle_line(char *line, LineHandler handle)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    JsonObject *req = rack_json_parse_object(parser, g_strstrip(line));
    char *reply = NULL;

    if (!req) {
        g_set_error(&err, RACK_ERROR, RACK_ERROR_INVALID,
                    "malformed JSON request");
    } else {
        const char *cmd;

        if (rack_json_get_str(req, "cmd", &cmd, &err)) {
            reply = handle(req, cmd, &err);
        }
    }
    return reply ? reply : rack_json_error_reply(err);
}

/* A request line for a LineHandler: parsed, handled, answered. */
static bool serve_line(LineConn *c, char *line, gpointer data)
{
    g_autofree char *reply = handle_line(line, data);

    return rack_wire_send(line_conn_fd(c), reply, -1);
}

static void client_new(int fd, gpointer handle)
{
    line_conn_start(fd, serve_line, handle, NULL);
}

/* A server whose requests are handled on worker threads */
typedef struct ThreadedServer {
    GThreadPool *workers;
    LineHandler handle;
    unsigned deadline_s;
} ThreadedServer;

/*
 * A request handled on a worker thread.  Only @line and @reply are the
 * worker's; the rest is the main loop's.
 */
typedef struct LineJob {
    LineConn *c;            /* NULL once answered at the deadline */
    guint late;             /* the deadline's timer, or 0 */
    char *line;
    char *reply;
} LineJob;

/* Back on the main loop: answer, and read the connection's next line */
static gboolean job_done(gpointer opaque)
{
    LineJob *job = opaque;

    if (job->late) {
        g_source_remove(job->late);
    }
    if (!job->c) {
        /* answered at the deadline: the client asks again to know */
    } else if (rack_wire_send(job->c->fd, job->reply, -1)) {
        line_conn_resume(job->c);
    } else {
        line_conn_close(job->c);
    }
    g_free(job->line);
    g_free(job->reply);
    g_free(job);
    return G_SOURCE_REMOVE;
}

/* The deadline passed: say the outcome is not known; the job goes on */
static gboolean job_late(gpointer opaque)
{
    LineJob *job = opaque;
    LineConn *c = job->c;

    job->late = 0;
    job->c = NULL;
    if (rack_wire_send(c->fd, "{\"ok\":false,\"code\":\"pending\","
                       "\"error\":\"no reply within the server's deadline:"
                       " the request goes on, and its outcome is not known"
                       " yet\"}", -1)) {
        line_conn_resume(c);
    } else {
        line_conn_close(c);
    }
    return G_SOURCE_REMOVE;
}

static void job_run(gpointer opaque, gpointer server)
{
    LineJob *job = opaque;

    job->reply = handle_line(job->line, ((ThreadedServer *)server)->handle);
    g_main_context_invoke(NULL, job_done, job);
}

/* A request line for a pool of workers: the connection waits for it */
static bool serve_line_threaded(LineConn *c, char *line, gpointer server)
{
    ThreadedServer *ts = server;
    LineJob *job = g_new0(LineJob, 1);

    job->c = c;
    job->line = g_strdup(line);
    if (ts->deadline_s) {
        job->late = g_timeout_add_seconds(ts->deadline_s, job_late, job);
    }
    line_conn_pause(c);
    g_thread_pool_push(ts->workers, job, NULL);
    return true;
}

static void client_new_threaded(int fd, gpointer server)
{
    line_conn_start(fd, serve_line_threaded, server, NULL);
}

typedef struct Acceptor {
    ServerAccepted accepted;
    gpointer data;
} Acceptor;

static gboolean acceptor_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    Acceptor *a = opaque;
    int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (s >= 0) {
        a->accepted(s, a->data);
    }
    return G_SOURCE_CONTINUE;
}

/* Whether a process listens on the socket at @sa. */
static bool in_use(const struct sockaddr_un *sa)
{
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool used = probe >= 0 &&
                connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0;

    if (probe >= 0) {
        close(probe);
    }
    return used;
}

/*
 * A listening socket at @path, replacing a stale one (its daemon died),
 * never a live one: two daemons on one run directory would each think
 * the state there theirs.  -1 and @errp.
 */
static int listen_at(const char *path, GError **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (in_use(&sa)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_EXISTS,
                    "another process already listens on %s", path);
        return -1;
    }
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(path, 0600) < 0 || listen(s, 64) < 0) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST,
                    "cannot listen on %s: %s", path, g_strerror(errno));
        if (s >= 0) {
            close(s);
        }
        return -1;
    }
    return s;
}

int line_server_accept(const char *path, ServerAccepted accepted,
                       gpointer data, GError **errp)
{
    int s = listen_at(path, errp);
    Acceptor *a;

    if (s >= 0) {
        a = g_new(Acceptor, 1);
        a->accepted = accepted;
        a->data = data;
        g_unix_fd_add_full(G_PRIORITY_DEFAULT, s, G_IO_IN, acceptor_readable,
                           a, g_free);
    }
    return s;
}

int line_server_start(const char *path, LineHandler handle, GError **errp)
{
    return line_server_accept(path, client_new, handle, errp);
}

int line_server_start_threaded(const char *path, LineHandler handle,
                               unsigned threads, unsigned deadline_s,
                               GError **errp)
{
    ThreadedServer *ts = g_new0(ThreadedServer, 1);
    int s = -1;

    ts->handle = handle;
    ts->deadline_s = deadline_s;
    ts->workers = g_thread_pool_new(job_run, ts, threads, FALSE, errp);
    if (ts->workers) {
        s = line_server_accept(path, client_new_threaded, ts, errp);
    }
    if (s < 0) {
        if (ts->workers) {
            g_thread_pool_free(ts->workers, TRUE, FALSE);
        }
        g_free(ts);
    }
    return s;
}

void line_server_stop(int fd, const char *path)
{
    close(fd);
    unlink(path);
}
