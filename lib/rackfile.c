/*
 * Rack description parser (docs/rack.md).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE   /* strchrnul */
#include <string.h>

#include "rackfile.h"
#include "dredbox/latency-class.h"
#include "size.h"
#include "rack-error.h"
#include "dredbox/address-map.h"

static const char *const kind_names[] = {
    [RACK_COMPUTE] = "compute",
    [RACK_MEMORY] = "memory",
    [RACK_ACCELERATOR] = "accelerator",
};

_Static_assert(RACK_INTER_RACK + 1 == DREDBOX_CLASSES,
               "RackLatency is latency-class.h's class order");

const char *rack_kind_name(RackBrickKind kind)
{
    return kind_names[kind];
}

const char *rack_latency_name(RackLatency latency)
{
    return dredbox_class_name(latency);
}

char *rack_endpoint_name(const RackCable *c)
{
    if (c->brick->kind == RACK_COMPUTE || c->brick->ports > 1) {
        return g_strdup_printf("%s%u.port%u", kind_names[c->brick->kind],
                               c->brick->id, c->brick_port);
    }
    return g_strdup_printf("%s%u", kind_names[c->brick->kind], c->brick->id);
}

static void software_clear(RackSoftware *sw)
{
    g_free(sw->kernel);
    g_free(sw->initrd);
    g_free(sw->append);
    g_free(sw->disk);
    g_free(sw->share);
}

static void brick_free(RackBrick *b)
{
    software_clear(&b->software);
    g_free(b->mem_class);
    g_free(b);
}

void rack_free(Rack *rack)
{
    if (rack) {
        g_ptr_array_free(rack->bricks, true);
        g_ptr_array_free(rack->cables, true);
        software_clear(&rack->defaults);
        g_free(rack->name);
        g_free(rack->file);
        g_free(rack);
    }
}

RackBrick *rack_brick(const Rack *rack, RackBrickKind kind, unsigned id)
{
    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *b = g_ptr_array_index(rack->bricks, i);

        if (b->kind == kind && b->id == id) {
            return b;
        }
    }
    return NULL;
}

RackCable *rack_cable_at(const Rack *rack, unsigned port)
{
    for (guint i = 0; i < rack->cables->len; i++) {
        RackCable *c = g_ptr_array_index(rack->cables, i);

        if (c->switch_port == port) {
            return c;
        }
    }
    return NULL;
}

char *rack_timing_options(const Rack *rack, const RackBrick *b)
{
    GString *s;

    if (b->kind != RACK_COMPUTE || !b->timing) {
        return NULL;
    }
    s = g_string_new("timing=on");
    for (int i = 0; i < DREDBOX_CLASSES; i++) {
        if (rack->timing.class_ns[i]) {
            g_string_append_printf(s, ",timing-%s-ns=%u",
                                   dredbox_class_name(i),
                                   rack->timing.class_ns[i]);
        }
    }
    if (rack->timing.link_bandwidth) {
        g_string_append_printf(s, ",timing-link-bandwidth=%" G_GUINT64_FORMAT,
                               rack->timing.link_bandwidth);
    }
    return g_string_free(s, false);
}

unsigned rack_deadline_scale(const Rack *rack, unsigned id)
{
    RackBrick *b = rack_brick(rack, RACK_COMPUTE, id);

    return b && b->timing ? RACK_TIMING_DEADLINE_SCALE : 1;
}

bool rack_pair_latency(const Rack *rack, const RackBrick *a,
                       const RackBrick *b, RackLatency *latency)
{
    bool found = false;

    for (guint i = 0; i < rack->cables->len; i++) {
        RackCable *ca = g_ptr_array_index(rack->cables, i);

        for (guint j = 0; ca->brick == a && j < rack->cables->len; j++) {
            RackCable *cb = g_ptr_array_index(rack->cables, j);
            RackLatency l = MAX(ca->latency, cb->latency);

            if (cb->brick == b && (!found || l < *latency)) {
                *latency = l;
                found = true;
            }
        }
    }
    return found;
}

/* The memory bricks compute brick @c reaches, in rack-file order. */
static GPtrArray *reachable_memory(const Rack *rack, const RackBrick *c)
{
    GPtrArray *reach = g_ptr_array_new();
    RackLatency l;

    for (guint i = 0; i < rack->bricks->len; i++) {
        RackBrick *m = g_ptr_array_index(rack->bricks, i);

        if (m->kind == RACK_MEMORY && rack_pair_latency(rack, c, m, &l)) {
            g_ptr_array_add(reach, m);
        }
    }
    return reach;
}

int rack_memory_node(const Rack *rack, const RackBrick *c,
                     const RackBrick *m)
{
    g_autoptr(GPtrArray) reach = reachable_memory(rack, c);
    RackLatency l;
    guint i;

    if (!g_ptr_array_find(reach, m, &i)) {
        return -1;
    }
    if (reach->len > RACK_MAX_MEMORY_NODES) {
        rack_pair_latency(rack, c, m, &l);
        return 1 + l;
    }
    return 1 + i;
}

char *rack_numa_options(const Rack *rack, const RackBrick *c)
{
    g_autoptr(GPtrArray) reach = reachable_memory(rack, c);
    /* Node n's distance from node 0 */
    unsigned dist[1 + MAX(RACK_MAX_MEMORY_NODES, 3)] = {
        DREDBOX_DISTANCE_LOCAL
    };
    unsigned nodes = 1;
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "-object memory-backend-ram,id=dram,"
                           "size=%" G_GUINT64_FORMAT " -numa node,nodeid=0,"
                           "cpus=0-%u,memdev=dram", c->ram, c->cpus - 1);
    if (reach->len > RACK_MAX_MEMORY_NODES) {
        for (RackLatency l = RACK_TRAY_LOCAL; l <= RACK_INTER_RACK; l++) {
            dist[nodes++] = dredbox_class_distance(l);
        }
    } else {
        for (guint i = 0; i < reach->len; i++) {
            RackLatency l;

            rack_pair_latency(rack, c, g_ptr_array_index(reach, i), &l);
            dist[nodes++] = dredbox_class_distance(l);
        }
    }
    for (unsigned n = 1; n < nodes; n++) {
        g_string_append_printf(s, " -numa node,nodeid=%u", n);
    }
    /* Between two memory nodes, the farther one's distance */
    for (unsigned i = 0; i < nodes; i++) {
        for (unsigned j = i + 1; j < nodes; j++) {
            g_string_append_printf(s, " -numa dist,src=%u,dst=%u,val=%u",
                                   i, j, MAX(dist[i], dist[j]));
        }
    }
    return g_string_free(s, false);
}

/* Parsing state: where we are, for error messages. */
typedef struct Parser {
    const char *file;
    unsigned line;
    Rack *rack;
    GError **errp;
} Parser;

static bool fail(Parser *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool fail(Parser *p, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(p->errp, RACK_ERROR, RACK_ERROR_INVALID, "%s:%u: %s",
                p->file, p->line, msg);
    return false;
}

static bool parse_uint(Parser *p, const char *what, const char *s,
                       unsigned max, unsigned *out)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(s, 10, 0, max, &v, NULL)) {
        fail(p, "%s must be a number from 0 to %u, not '%s'", what, max, s);
        return false;       /* said here, so that -O2 sees *out is set */
    }
    *out = v;
    return true;
}

static bool parse_size(Parser *p, const char *what, const char *s,
                       uint64_t *out)
{
    if (!rack_parse_size(s, out) || !*out) {
        return fail(p, "%s must be a size such as 512M or 4G, not '%s'",
                    what, s);
    }
    return true;
}

/* "kindN.portM" (or "kindN" for a one-port brick) -> brick, port. */
static bool brick_ref(Parser *p, const char *word, RackBrick **out,
                      unsigned *port)
{
    g_auto(GStrv) parts = g_strsplit(word, ".", 2);

    *port = 0;
    for (int k = 0; k < (int)G_N_ELEMENTS(kind_names); k++) {
        size_t n = strlen(kind_names[k]);
        unsigned id;

        if (strncmp(parts[0], kind_names[k], n) || !parts[0][n]) {
            continue;
        }
        if (!parse_uint(p, "brick id", parts[0] + n, RACK_MAX_BRICKS - 1,
                        &id)) {
            return false;
        }
        *out = rack_brick(p->rack, k, id);
        if (!*out) {
            return fail(p, "no %s brick %u is declared above",
                        kind_names[k], id);
        }
        if (!parts[1]) {
            if (k == RACK_COMPUTE || (*out)->ports > 1) {
                return fail(p, "%s has %u ports: write %s.portN", parts[0],
                            (*out)->ports, parts[0]);
            }
            return true;
        }
        if (strncmp(parts[1], "port", 4)) {
            return fail(p, "expected %s.portN, not '%s'", parts[0], word);
        }
        if (!parse_uint(p, "port", parts[1] + 4, RACK_MAX_PORTS - 1, port)) {
            return false;
        }
        if (*port >= (*out)->ports) {
            return fail(p, "%s has %u ports (0 to %u)", parts[0],
                        (*out)->ports, (*out)->ports - 1);
        }
        return true;
    }
    return fail(p, "'%s' is not a brick: expected computeN.portM, memoryN"
                " or acceleratorN", word);
}

static bool parse_on_off(Parser *p, const char *what, const char *s,
                         bool *out)
{
    if (strcmp(s, "on") && strcmp(s, "off")) {
        return fail(p, "%s must be on or off, not '%s'", what, s);
    }
    *out = !strcmp(s, "on");
    return true;
}

typedef struct Attr {
    const char *key;
    const char *value;
} Attr;

/* Split "key=value" words; refuse keys not in @allowed (NULL-ended). */
static bool attrs(Parser *p, char **words, const char *const *allowed,
                  GArray *out)
{
    for (int i = 0; words[i]; i++) {
        char *eq = strchr(words[i], '=');
        bool ok = false;

        if (!eq || eq == words[i] || !eq[1]) {
            return fail(p, "expected key=value, not '%s'", words[i]);
        }
        *eq = 0;
        for (int a = 0; allowed[a]; a++) {
            ok |= !strcmp(words[i], allowed[a]);
        }
        if (!ok) {
            g_autofree char *list = g_strjoinv(", ", (char **)allowed);

            return fail(p, "unknown attribute '%s' (known: %s)", words[i],
                        list);
        }
        for (guint j = 0; j < out->len; j++) {
            if (!strcmp(g_array_index(out, Attr, j).key, words[i])) {
                return fail(p, "'%s' given twice", words[i]);
            }
        }
        g_array_append_val(out, ((Attr) { words[i], eq + 1 }));
    }
    return true;
}

static const char *attr(GArray *a, const char *key)
{
    for (guint i = 0; i < a->len; i++) {
        if (!strcmp(g_array_index(a, Attr, i).key, key)) {
            return g_array_index(a, Attr, i).value;
        }
    }
    return NULL;
}

/*
 * pmem=memoryM:SIZE: syntax only; whether M is a persistent memory brick
 * the compute brick reaches is known once the whole file is read
 * (check_pmem).
 */
static bool parse_pmem(Parser *p, const char *v, RackBrick *b)
{
    g_auto(GStrv) parts = g_strsplit(v, ":", 2);

    if (!g_str_has_prefix(parts[0], "memory") || !parts[1]) {
        return fail(p, "pmem= is memoryN:SIZE, not '%s'", v);
    }
    if (!parse_uint(p, "pmem='s brick id", parts[0] + strlen("memory"),
                    RACK_MAX_BRICKS - 1, &b->pmem_memory) ||
        !parse_size(p, "pmem='s size", parts[1], &b->pmem_size)) {
        return false;
    }
    if (b->pmem_size % DREDBOX_MEMORY_BLOCK) {
        return fail(p, "pmem='s size %s is not a multiple of the pool's"
                    " %" G_GUINT64_FORMAT " MiB granule", parts[1],
                    DREDBOX_MEMORY_BLOCK >> 20);
    }
    return true;
}

/* The software attributes among @a (RackSoftware). */
static bool parse_software(Parser *p, GArray *a, RackSoftware *sw)
{
    const char *v;

    sw->kernel = g_strdup(attr(a, "kernel"));
    sw->initrd = g_strdup(attr(a, "initrd"));
    sw->append = g_strdup(attr(a, "append"));
    sw->disk = g_strdup(attr(a, "disk"));
    sw->share = g_strdup(attr(a, "share"));
    if ((v = attr(a, "uplink"))) {
        if (!parse_on_off(p, "uplink", v, &sw->uplink)) {
            return false;
        }
        sw->uplink_set = true;
    }
    sw->line = p->line;
    return true;
}

/*
 * "compute-defaults [kernel=PATH] [initrd=PATH] [append=TEXT] [disk=PATH]
 * [share=DIR] [uplink=on|off]": what compute bricks that do not say
 * otherwise boot and are given.
 */
static bool parse_defaults(Parser *p, char **w)
{
    static const char *const keys[] = { "kernel", "initrd", "append",
                                        "disk", "share", "uplink", NULL };
    g_autoptr(GArray) a = g_array_new(false, false, sizeof(Attr));

    if (p->rack->defaults.line) {
        return fail(p, "the rack has one compute-defaults statement"
                    " (line %u)", p->rack->defaults.line);
    }
    return attrs(p, w + 1, keys, a) &&
           parse_software(p, a, &p->rack->defaults);
}

static bool parse_brick(Parser *p, RackBrickKind kind, char **w)
{
    static const char *const compute_keys[] = { "tray", "cpus", "ram",
                                                "ports", "timing", "pmem",
                                                "kernel", "initrd", "append",
                                                "disk", "share", "uplink",
                                                NULL };
    static const char *const memory_keys[] = { "tray", "size", "class",
                                               "ports", NULL };
    static const char *const accel_keys[] = { "tray", "ports", "engines",
                                               "rate", NULL };
    static const char *const *keys[] = { compute_keys, memory_keys,
                                         accel_keys };
    g_autoptr(GArray) a = g_array_new(false, false, sizeof(Attr));
    RackBrick *b;
    const char *v;
    unsigned id;

    if (!w[1]) {
        return fail(p, "%s needs an id", kind_names[kind]);
    }
    if (!parse_uint(p, "brick id", w[1], RACK_MAX_BRICKS - 1, &id)) {
        return false;
    }
    /* Said outright: "unknown attribute" would not tell why. */
    for (int i = 2; kind != RACK_COMPUTE && w[i]; i++) {
        if (g_str_has_prefix(w[i], "timing=")) {
            return fail(p, "timing= is for compute bricks: %s brick %u runs"
                        " no guest to time", kind_names[kind], id);
        }
    }
    if (!attrs(p, w + 2, keys[kind], a)) {
        return false;
    }
    if (rack_brick(p->rack, kind, id)) {
        return fail(p, "%s brick %u is declared twice", kind_names[kind], id);
    }
    b = g_new0(RackBrick, 1);
    b->kind = kind;
    b->id = id;
    b->line = p->line;
    b->cpus = 4;
    b->ram = 1ULL << 30;
    b->ports = kind == RACK_COMPUTE ? 4 : 1;
    b->engines = 4;
    g_ptr_array_add(p->rack->bricks, b);
    if ((v = attr(a, "tray")) && !parse_uint(p, "tray", v, 255, &b->tray)) {
        return false;
    }
    if ((v = attr(a, "cpus")) && !parse_uint(p, "cpus", v, 4, &b->cpus)) {
        return false;
    }
    if (!b->cpus) {
        return fail(p, "cpus must be 1 to 4");
    }
    if ((v = attr(a, "ram")) && !parse_size(p, "ram", v, &b->ram)) {
        return false;
    }
    if ((v = attr(a, "ports")) &&
        !parse_uint(p, "ports", v, RACK_MAX_PORTS, &b->ports)) {
        return false;
    }
    if (!b->ports) {
        return fail(p, "ports must be 1 to %d", RACK_MAX_PORTS);
    }
    if ((v = attr(a, "timing"))) {
        if (!parse_on_off(p, "timing", v, &b->timing)) {
            return false;
        }
        b->timing_own = true;
    }
    if ((v = attr(a, "pmem")) && !parse_pmem(p, v, b)) {
        return false;
    }
    if (kind == RACK_COMPUTE && !parse_software(p, a, &b->software)) {
        return false;
    }
    if (kind == RACK_MEMORY) {
        if (!(v = attr(a, "size"))) {
            return fail(p, "memory brick %u needs size=", id);
        }
        if (!parse_size(p, "size", v, &b->size)) {
            return false;
        }
        v = attr(a, "class");
        if (v && strcmp(v, "dram") && strcmp(v, "hugepage") &&
            strcmp(v, "persistent")) {
            return fail(p, "class must be dram, hugepage or persistent,"
                        " not '%s'", v);
        }
        b->mem_class = g_strdup(v ? v : "dram");
    }
    if ((v = attr(a, "engines")) &&
        !parse_uint(p, "engines", v, RACK_MAX_ENGINES, &b->engines)) {
        return false;
    }
    if (!b->engines) {
        return fail(p, "engines must be 1 to %d", RACK_MAX_ENGINES);
    }
    if ((v = attr(a, "rate")) &&
        !parse_uint(p, "rate", v, 1 << 20, &b->rate)) {
        return false;
    }
    return true;
}

static bool parse_optical(Parser *p, char **w)
{
    static const char *const keys[] = { "ports", "reconfigure-ms", NULL };
    g_autoptr(GArray) a = g_array_new(false, false, sizeof(Attr));
    const char *v;

    if (p->rack->optical_ports) {
        return fail(p, "the rack has one optical switch");
    }
    if (!attrs(p, w + 1, keys, a)) {
        return false;
    }
    if (!(v = attr(a, "ports"))) {
        return fail(p, "optical-switch needs ports=");
    }
    if (!parse_uint(p, "ports", v, 1024, &p->rack->optical_ports)) {
        return false;
    }
    if (p->rack->optical_ports < 2) {
        return fail(p, "ports must be 2 to 1024");
    }
    p->rack->reconfig_ms = RACK_DEFAULT_RECONFIG_MS;
    if ((v = attr(a, "reconfigure-ms")) &&
        !parse_uint(p, "reconfigure-ms", v, 60000, &p->rack->reconfig_ms)) {
        return false;
    }
    return true;
}

/*
 * "timing on|off [tray-local-ns=NS] [rack-local-ns=NS] [inter-rack-ns=NS]
 * [link-bandwidth=SIZE]": whether compute bricks without their own timing=
 * run in timing mode, and the rack's figures for those that do.
 */
static bool parse_timing(Parser *p, char **w)
{
    static const char *const keys[] = { "tray-local-ns", "rack-local-ns",
                                        "inter-rack-ns", "link-bandwidth",
                                        NULL };
    g_autoptr(GArray) a = g_array_new(false, false, sizeof(Attr));
    RackTiming *t = &p->rack->timing;
    const char *v;

    if (t->line) {
        return fail(p, "the rack has one timing statement (line %u)",
                    t->line);
    }
    if (!w[1] || strchr(w[1], '=')) {
        return fail(p, "expected: timing on|off [tray-local-ns=NS]"
                    " [rack-local-ns=NS] [inter-rack-ns=NS]"
                    " [link-bandwidth=SIZE]");
    }
    if (!parse_on_off(p, "timing", w[1], &t->on) ||
        !attrs(p, w + 2, keys, a)) {
        return false;
    }
    for (int i = 0; i < DREDBOX_CLASSES; i++) {
        g_autofree char *key = g_strdup_printf("%s-ns", dredbox_class_name(i));

        if (!(v = attr(a, key))) {
            continue;
        }
        if (!parse_uint(p, key, v, RACK_TIMING_MAX_NS, &t->class_ns[i])) {
            return false;
        }
        if (!t->class_ns[i]) {
            return fail(p, "%s must be 1 to %u", key, RACK_TIMING_MAX_NS);
        }
    }
    if ((v = attr(a, "link-bandwidth")) &&
        (!rack_parse_size(v, &t->link_bandwidth) || !t->link_bandwidth)) {
        return fail(p, "link-bandwidth must be bytes per second such as"
                    " 1800M, not '%s'", v);
    }
    t->line = p->line;
    return true;
}

static bool parse_cable(Parser *p, char **w)
{
    static const char *const keys[] = { "latency", NULL };
    g_autoptr(GArray) a = g_array_new(false, false, sizeof(Attr));
    RackCable *c;
    const char *v;
    int i;

    if (!w[1] || !w[2] || strncmp(w[2], "optical:", 8)) {
        return fail(p, "expected: cable BRICK optical:PORT [latency=...]");
    }
    if (!p->rack->optical_ports) {
        return fail(p, "declare the optical-switch before its cables");
    }
    c = g_new0(RackCable, 1);
    c->line = p->line;
    c->latency = RACK_RACK_LOCAL;
    g_ptr_array_add(p->rack->cables, c);
    if (!brick_ref(p, w[1], &c->brick, &c->brick_port) ||
        !parse_uint(p, "optical switch port", w[2] + 8,
                    p->rack->optical_ports - 1, &c->switch_port) ||
        !attrs(p, w + 3, keys, a)) {
        return false;
    }
    for (guint j = 0; j + 1 < p->rack->cables->len; j++) {
        RackCable *o = g_ptr_array_index(p->rack->cables, j);

        if (o->switch_port == c->switch_port) {
            return fail(p, "optical port %u is already cabled (line %u)",
                        c->switch_port, o->line);
        }
        if (o->brick == c->brick && o->brick_port == c->brick_port) {
            g_autofree char *name = rack_endpoint_name(c);

            return fail(p, "%s is already cabled (line %u)", name, o->line);
        }
    }
    if ((v = attr(a, "latency"))) {
        for (i = 0; i < DREDBOX_CLASSES; i++) {
            if (!strcmp(v, dredbox_class_name(i))) {
                break;
            }
        }
        if (i == DREDBOX_CLASSES) {
            return fail(p, "latency must be tray-local, rack-local or"
                        " inter-rack, not '%s'", v);
        }
        c->latency = i;
    }
    return true;
}

static bool parse_line(Parser *p, char **w)
{
    if (!strcmp(w[0], "rack")) {
        if (!w[1] || w[2]) {
            return fail(p, "expected: rack NAME");
        }
        if (p->rack->name) {
            return fail(p, "the rack is already named %s", p->rack->name);
        }
        p->rack->name = g_strdup(w[1]);
        return true;
    }
    for (int k = 0; k < (int)G_N_ELEMENTS(kind_names); k++) {
        if (!strcmp(w[0], kind_names[k])) {
            return parse_brick(p, k, w);
        }
    }
    if (!strcmp(w[0], "optical-switch")) {
        return parse_optical(p, w);
    }
    if (!strcmp(w[0], "electrical-switch")) {
        if (w[1]) {
            return fail(p, "electrical-switch takes no attributes");
        }
        p->rack->electrical = true;
        return true;
    }
    if (!strcmp(w[0], "cable")) {
        return parse_cable(p, w);
    }
    if (!strcmp(w[0], "timing")) {
        return parse_timing(p, w);
    }
    if (!strcmp(w[0], "compute-defaults")) {
        return parse_defaults(p, w);
    }
    return fail(p, "unknown statement '%s' (expected rack, compute, memory,"
                " accelerator, optical-switch, electrical-switch, cable,"
                " timing or compute-defaults)", w[0]);
}

/*
 * The blank-separated words of @line, up to a '#'; double quotes keep
 * blanks and '#' in a word (append="quiet foo=bar") and are dropped.
 * NULL if a quote is not closed.
 */
static char **split_words(Parser *p, const char *line)
{
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) word = NULL;
    bool quoted = false;

    for (const char *c = line; *c && (quoted || *c != '#'); c++) {
        if (*c == '"') {
            quoted = !quoted;
            word = word ? word : g_string_new(NULL);
        } else if (!quoted && strchr(" \t\r", *c)) {
            if (word) {
                g_ptr_array_add(words, g_string_free(g_steal_pointer(&word),
                                                     false));
            }
        } else {
            word = word ? word : g_string_new(NULL);
            g_string_append_c(word, *c);
        }
    }
    if (quoted) {
        fail(p, "a double quote is not closed");
        return NULL;
    }
    if (word) {
        g_ptr_array_add(words, g_string_free(g_steal_pointer(&word), false));
    }
    g_ptr_array_add(words, NULL);
    return (char **)g_ptr_array_steal(words, NULL);
}

/* A compute brick's software @sw: its own, else the rack's defaults @d. */
static void inherit_software(RackSoftware *sw, const RackSoftware *d)
{
    sw->kernel = sw->kernel ? sw->kernel : g_strdup(d->kernel);
    sw->initrd = sw->initrd ? sw->initrd : g_strdup(d->initrd);
    sw->disk = sw->disk ? sw->disk : g_strdup(d->disk);
    sw->share = sw->share ? sw->share : g_strdup(d->share);
    if (!sw->uplink_set) {
        sw->uplink = d->uplink;
    }
    /* Both: the rack's, then the brick's own. */
    if (d->append) {
        char *own = sw->append;

        sw->append = own ? g_strjoin(" ", d->append, own, NULL)
                         : g_strdup(d->append);
        g_free(own);
    }
}

uint64_t rack_pmem_total(const Rack *rack, const RackBrick *m)
{
    uint64_t sum = 0;

    for (guint i = 0; i < rack->bricks->len; i++) {
        const RackBrick *c = g_ptr_array_index(rack->bricks, i);

        if (c->kind == RACK_COMPUTE && c->pmem_size &&
            c->pmem_memory == m->id) {
            sum += c->pmem_size;
        }
    }
    return sum;
}

/* Compute brick @c's pmem=, against the whole rack. */
static bool check_pmem(Parser *p, RackBrick *c)
{
    RackBrick *m = rack_brick(p->rack, RACK_MEMORY, c->pmem_memory);
    RackLatency l;

    p->line = c->line;
    if (!m) {
        return fail(p, "pmem=: the rack has no memory brick %u",
                    c->pmem_memory);
    }
    if (strcmp(m->mem_class, "persistent")) {
        return fail(p, "pmem=: memory brick %u is %s, not persistent",
                    m->id, m->mem_class);
    }
    if (!rack_pair_latency(p->rack, c, m, &l)) {
        return fail(p, "pmem=: compute%u has no cable path to memory%u",
                    c->id, m->id);
    }
    if (rack_pmem_total(p->rack, m) > m->size) {
        return fail(p, "pmem=: the compute bricks' persistent memory on"
                    " memory brick %u, %" G_GUINT64_FORMAT " MiB, exceeds"
                    " its %" G_GUINT64_FORMAT " MiB",
                    m->id, rack_pmem_total(p->rack, m) >> 20, m->size >> 20);
    }
    return true;
}

Rack *rack_parse(const char *text, const char *filename, GError **errp)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    Parser p = { .file = filename, .errp = errp };

    p.rack = g_new0(Rack, 1);
    p.rack->file = g_strdup(filename);
    p.rack->bricks = g_ptr_array_new_with_free_func((GDestroyNotify)
                                                    brick_free);
    p.rack->cables = g_ptr_array_new_with_free_func(g_free);
    for (p.line = 1; lines[p.line - 1]; p.line++) {
        char *l = lines[p.line - 1];
        g_auto(GStrv) words = NULL;

        words = split_words(&p, l);
        if (!words || (words[0] && !parse_line(&p, words))) {
            rack_free(p.rack);
            return NULL;
        }
    }
    if (!p.rack->name) {
        p.rack->name = g_strdup("rack");
    }
    /* The timing statement may come anywhere; a brick's own timing= wins. */
    for (guint i = 0; i < p.rack->bricks->len; i++) {
        RackBrick *b = g_ptr_array_index(p.rack->bricks, i);

        if (b->kind == RACK_COMPUTE && !b->timing_own) {
            b->timing = p.rack->timing.on;
        }
        if (b->kind == RACK_COMPUTE) {
            inherit_software(&b->software, &p.rack->defaults);
        }
        if (b->kind == RACK_COMPUTE && b->pmem_size && !check_pmem(&p, b)) {
            rack_free(p.rack);
            return NULL;
        }
    }
    if (!p.rack->bricks->len) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                    "%s: the rack has no bricks", filename);
        rack_free(p.rack);
        return NULL;
    }
    return p.rack;
}

Rack *rack_load(const char *path, GError **errp)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, errp)) {
        return NULL;
    }
    return rack_parse(text, path, errp);
}

static bool same_brick(const RackBrick *a, const RackBrick *b)
{
    return a->tray == b->tray && a->cpus == b->cpus && a->ram == b->ram &&
           a->ports == b->ports && a->size == b->size &&
           !g_strcmp0(a->mem_class, b->mem_class) &&
           a->engines == b->engines && a->rate == b->rate &&
           a->timing == b->timing && a->pmem_memory == b->pmem_memory &&
           a->pmem_size == b->pmem_size;
}

bool rack_extends(const Rack *rack, const Rack *next, GError **errp)
{
    if (next->optical_ports != rack->optical_ports ||
        next->reconfig_ms != rack->reconfig_ms ||
        next->electrical != rack->electrical) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "the switches cannot change while"
                    " the rack runs");
        return false;
    }
    /* The running bricks were started with them. */
    if (memcmp(next->timing.class_ns, rack->timing.class_ns,
               sizeof(rack->timing.class_ns)) ||
        next->timing.link_bandwidth != rack->timing.link_bandwidth) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "the timing"
                    " figures cannot change while the rack runs");
        return false;
    }
    for (guint i = 0; i < rack->bricks->len; i++) {
        const RackBrick *b = g_ptr_array_index(rack->bricks, i);
        const RackBrick *n = rack_brick(next, b->kind, b->id);

        if (!n || !same_brick(b, n)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "%s brick %u cannot change or"
                        " go while the rack runs", kind_names[b->kind],
                        b->id);
            return false;
        }
    }
    for (guint i = 0; i < next->bricks->len; i++) {
        const RackBrick *n = g_ptr_array_index(next->bricks, i);

        if (!rack_brick(rack, n->kind, n->id) && n->kind != RACK_MEMORY) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "only memory bricks join a"
                        " running rack (%s brick %u needs its own process:"
                        " dredbox-rack up)", kind_names[n->kind], n->id);
            return false;
        }
    }
    for (guint i = 0; i < rack->cables->len; i++) {
        const RackCable *c = g_ptr_array_index(rack->cables, i);
        const RackCable *n = rack_cable_at(next, c->switch_port);

        if (!n || n->brick->kind != c->brick->kind ||
            n->brick->id != c->brick->id || n->brick_port != c->brick_port ||
            n->latency != c->latency) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "the cable at optical port %u"
                        " cannot change while the rack runs",
                        c->switch_port);
            return false;
        }
    }
    for (guint i = 0; i < next->cables->len; i++) {
        const RackCable *n = g_ptr_array_index(next->cables, i);

        if (!rack_cable_at(rack, n->switch_port) &&
            rack_brick(rack, n->brick->kind, n->brick->id)) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "only new memory bricks get"
                        " new cables while the rack runs (optical port %u)",
                        n->switch_port);
            return false;
        }
    }
    return true;
}
