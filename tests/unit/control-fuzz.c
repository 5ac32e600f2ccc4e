/*
 * A fuzzer for the rack's JSON-lines control sockets (control-fuzz.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "control-fuzz.h"
#include "rack-json.h"

/* How long a daemon may take to answer one line: tells a hang from work. */
#define REPLY_TIMEOUT_MS 30000
/* The line servers drop longer lines without a reply. */
#define LONG_LINE 65536

/*
 * A valid request and what each member may hold:
 *   i  an integer below 2^32      I  any non-negative integer
 *   s  a string                   b  true or false
 *   n  absent or null (optional)
 * The fuzzer gives a member only values it may not hold, so every line it
 * makes from a template must be refused.
 */
typedef struct Template {
    const char *line;
    const char *members;
} Template;

static const Template pool_templates[] = {
    { "{\"cmd\":\"query\"}", "cmd:s" },
    { "{\"cmd\":\"hello\",\"client\":\"fuzz\",\"role\":\"client\"}",
      "cmd:s client:s role:sn" },
    { "{\"cmd\":\"alloc\",\"size\":134217728,\"brick\":0,\"class\":\"dram\"}",
      "cmd:s size:Is brick:isn class:sn" },
    { "{\"cmd\":\"open\",\"segment\":1}", "cmd:s segment:i" },
    { "{\"cmd\":\"free\",\"segment\":1}", "cmd:s segment:i" },
    { "{\"cmd\":\"grant\",\"segment\":1,\"client\":\"brick0\","
      "\"writable\":true}", "cmd:s segment:i client:s writable:bn" },
    { "{\"cmd\":\"release\",\"client\":\"fuzz\"}", "cmd:s client:s" },
    { "{\"cmd\":\"add-brick\",\"brick\":9,\"size\":134217728,"
      "\"class\":\"dram\"}", "cmd:s brick:i size:Is class:sn" },
    { "{\"cmd\":\"fail\",\"brick\":0}", "cmd:s brick:i" },
    { "{\"cmd\":\"repair\",\"brick\":0}", "cmd:s brick:i" },
};

static const Template fabric_templates[] = {
    { "{\"cmd\":\"query\"}", "cmd:s" },
    { "{\"cmd\":\"reload\"}", "cmd:s" },
    { "{\"cmd\":\"connect\",\"a\":\"compute0.port0\",\"b\":\"memory0\"}",
      "cmd:s a:is b:is" },
    { "{\"cmd\":\"connect\",\"a\":0,\"b\":4}", "cmd:s a:is b:is" },
    { "{\"cmd\":\"disconnect\",\"port\":0}", "cmd:s port:is" },
    { "{\"cmd\":\"fail\",\"cable\":\"compute0.port0\"}", "cmd:s cable:is" },
    { "{\"cmd\":\"repair\",\"switch-port\":7}", "cmd:s switch-port:i" },
    { "{\"cmd\":\"fail\",\"brick\":\"memory0\"}", "cmd:s brick:s" },
};

static const Template sdm_templates[] = {
    { "{\"cmd\":\"status\"}", "cmd:s" },
    { "{\"cmd\":\"graph\"}", "cmd:s" },
    { "{\"cmd\":\"plan-power\"}", "cmd:s" },
    { "{\"cmd\":\"attach\",\"brick\":0,\"size\":\"512M\","
      "\"latency\":\"rack-local\",\"policy\":\"locality\","
      "\"path\":\"virtio-mem\",\"accelerator\":false}",
      "cmd:s brick:i size:Is latency:sn policy:sn path:sn accelerator:bn" },
    { "{\"cmd\":\"attach\",\"brick\":0,\"accelerator\":true}",
      "cmd:s brick:i accelerator:b" },
    /* One of brick and allocation: the other left out is no error. */
    { "{\"cmd\":\"detach\",\"allocation\":999999,\"force\":false}",
      "cmd:s allocation:I force:bn" },
    { "{\"cmd\":\"detach\",\"brick\":63,\"force\":false}",
      "cmd:s brick:i force:bn" },
    { "{\"cmd\":\"register\",\"lines\":\"memory 9 size=1G\"}",
      "cmd:s lines:s" },
};

static const Template accel_templates[] = {
    { "{\"cmd\":\"query\"}", "cmd:s" },
};

static const struct {
    const char *name;
    const Template *templates;
    unsigned n;
    const char *preamble;   /* sent first on each connection, accepted */
    const char *alive;      /* a request it must still accept */
} targets[] = {
    [FUZZ_POOL] = { "pool", pool_templates, G_N_ELEMENTS(pool_templates),
                    "{\"cmd\":\"hello\",\"client\":\"fuzz\"}",
                    "{\"cmd\":\"query\"}" },
    [FUZZ_FABRIC] = { "fabric", fabric_templates,
                      G_N_ELEMENTS(fabric_templates), NULL,
                      "{\"cmd\":\"query\"}" },
    [FUZZ_SDM] = { "sdm", sdm_templates, G_N_ELEMENTS(sdm_templates), NULL,
                   "{\"cmd\":\"graph\"}" },
    [FUZZ_ACCEL] = { "accel", accel_templates,
                     G_N_ELEMENTS(accel_templates), NULL,
                     "{\"cmd\":\"query\"}" },
};

/* Values no member may hold, each with the member types that accept it. */
static const struct {
    const char *json;
    const char *accepted_by;
} hostile[] = {
    { "null", "n" },
    { "true", "b" },
    { "false", "b" },
    { "1.5", "" },
    { "1e300", "" },
    { "-1", "" },
    { "-9223372036854775808", "" },
    { "4294967297", "I" },      /* wraps to 1 in a 32-bit reader */
    { "9223372036854775807", "I" },
    { "18446744073709551617", "" },
    { "\"\"", "s" },
    { "\"x\"", "s" },
    { "\"-1\"", "s" },
    { "[]", "" },
    { "[1,\"a\",{}]", "" },
    { "{}", "" },
    { "{\"cmd\":\"query\"}", "" },
};

bool fuzz_target_parse(const char *name, FuzzTarget *out)
{
    for (unsigned t = 0; t < G_N_ELEMENTS(targets); t++) {
        if (!strcmp(name, targets[t].name)) {
            *out = t;
            return true;
        }
    }
    return false;
}

/* Whether a member of @types may hold hostile value @v. */
static bool accepts(const char *types, unsigned v)
{
    for (const char *a = hostile[v].accepted_by; *a; a++) {
        if (strchr(types, *a)) {
            return true;
        }
    }
    return false;
}

/* @t's line with member @name given @value, or removed if @value is
 * NULL. */
static char *with_member(const Template *t, const char *name,
                         const char *value)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(JsonParser) v = json_parser_new();
    JsonObject *o;

    g_assert(json_parser_load_from_data(p, t->line, -1, NULL));
    o = json_node_get_object(json_parser_get_root(p));
    json_object_remove_member(o, name);
    if (value) {
        g_assert(json_parser_load_from_data(v, value, -1, NULL));
        json_object_set_member(o, name,
                               json_node_copy(json_parser_get_root(v)));
    }
    return json_to_string(json_parser_get_root(p), FALSE);
}

/* A member of @t given a value it may not hold, or a required one left
 * out. */
static char *confuse(GRand *r, const Template *t)
{
    g_auto(GStrv) members = g_strsplit(t->members, " ", -1);
    const char *m = members[g_rand_int_range(r, 0,
                                             g_strv_length(members))];
    g_autofree char *name = g_strndup(m, strchr(m, ':') - m);
    const char *types = strchr(m, ':') + 1;
    unsigned v;

    if (!strchr(types, 'n') && g_rand_int_range(r, 0, 8) == 0) {
        return with_member(t, name, NULL);
    }
    do {
        v = g_rand_int_range(r, 0, G_N_ELEMENTS(hostile));
    } while (accepts(types, v));
    return with_member(t, name, hostile[v].json);
}

static char *random_bytes(GRand *r)
{
    unsigned n = g_rand_int_range(r, 1, 200);
    char *s = g_malloc(n + 1);

    for (unsigned i = 0; i < n; i++) {
        do {
            s[i] = g_rand_int_range(r, 1, 256);
        } while (s[i] == '\n');
    }
    s[n] = '\0';
    return s;
}

static char *nested(GRand *r)
{
    unsigned depth = g_rand_int_range(r, 1, 4000);
    g_autofree char *open = g_strnfill(depth, '[');
    g_autofree char *close = g_strnfill(depth, ']');

    return g_strdup_printf("{\"cmd\":%s%s}", open, close);
}

/* A line for @target that it must refuse; *drop_ok if it may instead
 * close the connection without a reply. */
static char *hostile_line(GRand *r, FuzzTarget target, bool *drop_ok)
{
    const Template *t = &targets[target].templates[
        g_rand_int_range(r, 0, targets[target].n)];
    static const char *const not_objects[] = {
        "[]", "[{\"cmd\":\"query\"}]", "42", "\"query\"", "null", "true",
        "{", "}", "{\"cmd\"}", "{\"cmd\":}", "{\"cmd\":\"query\"", "{'cmd':1}",
        "", " \t ",      /* blank: JSON with no value at all */
    };
    unsigned kind = g_rand_int_range(r, 0, 100);

    *drop_ok = false;
    if (kind < 55) {
        return confuse(r, t);
    } else if (kind < 67) {
        /* Cut short: never a whole object, whatever the cut. */
        return g_strndup(t->line, g_rand_int_range(r, 1, strlen(t->line)));
    } else if (kind < 90) {
        char *s = kind < 80 ? random_bytes(r)
                  : g_strdup(not_objects[g_rand_int_range(
                                 r, 0, G_N_ELEMENTS(not_objects))]);
        g_autofree char *stripped = g_strstrip(g_strdup(s));

        /* A blank line is no request: the pool answers nothing. */
        *drop_ok = !*stripped;
        return s;
    } else if (kind < 94) {
        g_autofree char *name = g_strnfill(
            g_rand_int_range(r, LONG_LINE / 2, 3 * LONG_LINE), 'a');

        *drop_ok = true;
        return g_strdup_printf("{\"cmd\":\"%s\"}", name);
    } else if (kind < 97) {
        return nested(r);
    }
    /* The last of two "cmd" members counts. */
    return g_strdup_printf("%.*s,\"cmd\":%s}", (int)strlen(t->line) - 1,
                           t->line, hostile[g_rand_int_range(r, 1, 4)].json);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
        close(s);
        return -1;
    }
    return s;
}

/* Send @text on a new connection, close our side, read the reply lines
 * until the daemon closes its side; NULL if it does not answer. */
static GPtrArray *exchange(const char *path, const char *text)
{
    g_autoptr(GString) in = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + REPLY_TIMEOUT_MS * 1000LL;
    size_t len = strlen(text), done = 0;
    int s = connect_to(path);

    if (s < 0) {
        return NULL;
    }
    /* Write and read at once: a daemon may answer before it has read all. */
    for (;;) {
        struct pollfd p = { s, POLLIN | (done < len ? POLLOUT : 0), 0 };
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        char buf[4096];
        ssize_t n;

        if (left <= 0 || poll(&p, 1, left) < 0) {
            close(s);
            return NULL;
        }
        if (p.revents & POLLOUT) {
            n = send(s, text + done, len - done, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                done = len;     /* it closed on us: read what it said */
            } else if (n > 0) {
                done += n;
            }
            if (done == len) {
                shutdown(s, SHUT_WR);
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = read(s, buf, sizeof(buf));
            if (n <= 0) {
                break;
            }
            g_string_append_len(in, buf, n);
        }
    }
    close(s);
    {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) parts = g_strsplit(in->str, "\n", -1);

        for (int i = 0; parts[i]; i++) {
            if (*parts[i]) {
                g_ptr_array_add(lines, g_strdup(parts[i]));
            }
        }
        return lines;
    }
}

/* A reply line's "ok", or -1 if it is not {"ok": BOOL, ...}. */
static int reply_ok(const char *line)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = rack_json_parse_object(p, line);
    JsonNode *ok;

    if (!o) {
        return -1;
    }
    ok = json_object_get_member(o, "ok");
    if (!ok || !JSON_NODE_HOLDS_VALUE(ok) ||
        json_node_get_value_type(ok) != G_TYPE_BOOLEAN) {
        return -1;
    }
    return json_node_get_boolean(ok);
}

/* Whether the daemon at @path accepts @request (after @preamble). */
static bool answers(const char *path, const char *preamble,
                    const char *request)
{
    g_autofree char *text = g_strconcat(preamble ? preamble : "",
                                        preamble ? "\n" : "", request, "\n",
                                        NULL);
    g_autoptr(GPtrArray) replies = exchange(path, text);
    guint want = preamble ? 2 : 1;

    return replies && replies->len == want &&
           reply_ok(g_ptr_array_index(replies, want - 1)) == 1;
}

bool control_fuzz(FuzzTarget t, const char *socket, guint32 seed,
                  unsigned lines, GError **errp)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    const char *pre = targets[t].preamble;

    if (!answers(socket, pre, targets[t].alive)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s at %s does not answer %s before the fuzz",
                    targets[t].name, socket, targets[t].alive);
        return false;
    }
    for (unsigned i = 1; i <= lines; i++) {
        bool drop_ok;
        g_autofree char *line = hostile_line(r, t, &drop_ok);
        g_autofree char *text = g_strconcat(pre ? pre : "", pre ? "\n" : "",
                                            line, "\n", NULL);
        g_autoptr(GPtrArray) replies = exchange(socket, text);
        guint want = pre ? 2 : 1;
        const char *why = NULL;

        if (!replies) {
            why = "no answer within the deadline";
        } else if (replies->len > want) {
            why = "more than one reply";
        } else if (replies->len < want && !drop_ok) {
            why = "no reply";
        } else if (pre && reply_ok(g_ptr_array_index(replies, 0)) != 1) {
            why = "the preamble was refused";
        } else if (replies->len == want &&
                   reply_ok(g_ptr_array_index(replies, want - 1)) != 0) {
            why = reply_ok(g_ptr_array_index(replies, want - 1)) == 1
                  ? "accepted" : "malformed reply";
        } else if (i % 64 == 0 && !answers(socket, pre, targets[t].alive)) {
            why = "the daemon stopped answering after it";
        }
        if (why) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "%s, seed %u, line %u: %s: %.200s%s (reply: %.200s)",
                        targets[t].name, seed, i, why, line,
                        strlen(line) > 200 ? "..." : "",
                        replies && replies->len
                        ? (char *)g_ptr_array_index(replies,
                                                    replies->len - 1)
                        : "none");
            return false;
        }
    }
    if (!answers(socket, pre, targets[t].alive)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s, seed %u: no answer after the fuzz", targets[t].name,
                    seed);
        return false;
    }
    return true;
}
