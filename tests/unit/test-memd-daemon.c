/*
 * Integration test of dredbox-memd over its real socket: real memfd and
 * file-backed segments, fds passed with SCM_RIGHTS, data shared between
 * two clients, leases that outlive a dead client, malformed and oversized
 * requests, persistent bricks across a restart, hugepage segments on
 * hugetlbfs across a kill and restart, and cleanup on exit.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memd-fixture.h"
#include "wire.h"

#define MiB (1ULL << 20)

static int conn(Daemon *d)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM, 0);

    g_strlcpy(sa.sun_path, d->sock, sizeof(sa.sun_path));
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return s;
}

/* Send a line, read one reply line (and an fd, if one comes with it). */
static char *call(int s, const char *line, int *fd)
{
    int got;
    char *reply;

    assert_true(rack_wire_send(s, line, -1));
    reply = rack_wire_recv(s, 1 << 20, &got);
    /* No fd may come unless one is expected. */
    if (fd) {
        *fd = got;
    } else {
        assert_int_equal(got, -1);
    }
    return reply ? reply : g_strdup("");
}

static void expect(int s, const char *line, const char *fragment, int *fd)
{
    g_autofree char *reply = call(s, line, fd);

    if (!strstr(reply, fragment)) {
        fail_msg("%s -> %s (expected %s)", line, reply, fragment);
    }
}

static void test_share_between_clients(void **state)
{
    Daemon *d = *state;
    int a = conn(d), b = conn(d), fa, fb;
    uint32_t *pa, *pb;

    expect(a, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(a, "{\"cmd\":\"alloc\",\"size\":\"256M\",\"brick\":0}",
           "\"id\":1,\"brick\":0,\"offset\":0,\"size\":268435456", &fa);
    assert_true(fa >= 0);
    pa = mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
    assert_true(pa != MAP_FAILED);
    for (uint32_t i = 0; i < 256 * MiB / 4; i += 4096) {
        pa[i] = 0xdb000000 | i;
    }

    expect(b, "{\"cmd\":\"hello\",\"client\":\"brick1\"}", "\"ok\":true",
           NULL);
    expect(b, "{\"cmd\":\"open\",\"segment\":1}", "not granted to brick1",
           &fb);
    assert_int_equal(fb, -1);
    expect(a, "{\"cmd\":\"grant\",\"segment\":1,\"client\":\"brick1\"}",
           "{\"ok\":true}", NULL);
    expect(b, "{\"cmd\":\"open\",\"segment\":1}", "\"writable\":false", &fb);
    assert_true(fb >= 0);
    /* A read-only grant cannot be mapped writable. */
    assert_true(mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fb,
                     0) == MAP_FAILED);
    pb = mmap(NULL, 256 * MiB, PROT_READ, MAP_SHARED, fb, 0);
    assert_true(pb != MAP_FAILED);
    for (uint32_t i = 0; i < 256 * MiB / 4; i += 4096) {
        assert_int_equal(pb[i], 0xdb000000 | i);
    }
    munmap(pa, 256 * MiB);
    munmap(pb, 256 * MiB);
    close(fa);
    close(fb);
    close(a);
    close(b);
}

/* In the child of a spawn: become nobody, as a pool run by a user is */
static void become_nobody(gpointer data)
{
    if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
        setresuid(65534, 65534, 65534) < 0) {
        _exit(127);
    }
}

/* Run the daemon with @argv, which must fail; what it said on stderr */
static char *memd_fails(const char **argv)
{
    char *err = NULL;
    int status;

    argv[0] = g_getenv("DREDBOX_MEMD");
    assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                             G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                             &err, &status, NULL));
    assert_false(g_spawn_check_wait_status(status, NULL));
    return err;
}

static void test_dead_client_keeps_lease(void **state)
{
    Daemon *d = *state;
    int a = conn(d), admin, fd;
    pid_t child;

    expect(a, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(a, "{\"cmd\":\"alloc\",\"size\":\"128M\"}", "\"id\":1", &fd);
    close(fd);
    close(a);   /* brick0 "dies" */

    /* A client killed in the middle of writing a request. */
    child = fork();
    if (child == 0) {
        int s = conn(d);
        const char *half = "{\"cmd\":\"hello\",\"client\":\"x\"}\n"
                           "{\"cmd\":\"alloc\",\"si";

        if (write(s, half, strlen(half)) < 0) {
            _exit(1);
        }
        kill(getpid(), SIGKILL);
    }
    waitpid(child, NULL, 0);

    admin = conn(d);
    expect(admin, "{\"cmd\":\"query\"}",
           "\"segments\":[{\"id\":1,\"brick\":0,\"offset\":0,"
           "\"size\":134217728,\"owner\":\"brick0\"}]", NULL);
    /* brick0 comes back and still holds its lease. */
    expect(admin, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(admin, "{\"cmd\":\"open\",\"segment\":1}", "\"writable\":true",
           &fd);
    assert_true(fd >= 0);
    close(fd);
    expect(admin, "{\"cmd\":\"hello\",\"client\":\"sdm\",\"role\":\"admin\"}",
           "\"ok\":true", NULL);
    expect(admin, "{\"cmd\":\"release\",\"client\":\"brick0\"}",
           "\"released\":1", NULL);
    expect(admin, "{\"cmd\":\"query\"}", "\"used\":0,\"free\":536870912,"
           "\"backable\":536870912,\"scrubs\":1,\"down\":false,"
           "\"poisoned\":[]}", NULL);
    close(admin);
}

static void test_bad_requests_keep_serving(void **state)
{
    Daemon *d = *state;
    int s = conn(d);
    g_autofree char *big = g_strnfill(70000, 'x');
    g_autofree char *reply = NULL;

    expect(s, "this is not json", "malformed JSON", NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\"}", "say hello first",
           NULL);
    expect(s, "{\"cmd\":\"query\"}", "\"ok\":true", NULL);
    /* An endless line is refused and the connection dropped. */
    reply = call(s, big, NULL);
    assert_non_null(strstr(reply, "request line too long"));
    close(s);
    s = conn(d);
    expect(s, "{\"cmd\":\"query\"}", "\"segments\":[]", NULL);
    close(s);
}

static void test_scrub_and_persistence(void **state)
{
    Daemon *d = *state;
    int s = conn(d), fd;
    uint64_t *p;
    g_autofree char *manifest = g_build_filename(d->dir, "pool.json", NULL);
    g_autofree char *text = NULL;

    assert_true(g_file_get_contents(manifest, &text, NULL, NULL));
    assert_non_null(strstr(text, "\"socket\" : \""));
    assert_non_null(strstr(text, "\"class\" : \"persistent\""));

    /* DRAM: a released segment comes back zeroed. */
    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"offset\":0", &fd);
    p = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    p[12345] = 0x5ec2e7;
    munmap(p, 128 * MiB);
    close(fd);
    expect(s, "{\"cmd\":\"free\",\"segment\":1}", "{\"ok\":true}", NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"offset\":0", &fd);
    p = mmap(NULL, 128 * MiB, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(p[12345], 0);
    munmap(p, 128 * MiB);
    close(fd);

    /* Persistent: data survives a daemon restart. */
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"class\":\"persistent\"}",
           "\"brick\":1,\"offset\":0", &fd);
    p = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    p[777] = 0xfeedf00d;
    munmap(p, 128 * MiB);
    close(fd);
    close(s);

    assert_int_equal(daemon_stop(d), 0);
    assert_false(g_file_test(d->sock, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(manifest, G_FILE_TEST_EXISTS));
    daemon_start(d);

    s = conn(d);
    expect(s, "{\"cmd\":\"query\"}", "\"brick\":1,\"offset\":0,"
           "\"size\":134217728,\"owner\":\"brick0\"}]", NULL);
    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"open\",\"segment\":1}", "\"brick\":1", &fd);
    p = mmap(NULL, 128 * MiB, PROT_READ, MAP_SHARED, fd, 0);
    assert_int_equal(p[777], 0xfeedf00d);
    munmap(p, 128 * MiB);
    close(fd);
    /* An explicit release scrubs it for good. */
    expect(s, "{\"cmd\":\"free\",\"segment\":1}", "{\"ok\":true}", NULL);
    close(s);
    assert_int_equal(daemon_stop(d), 0);
    daemon_start(d);
    s = conn(d);
    expect(s, "{\"cmd\":\"query\"}", "\"segments\":[]", NULL);
    close(s);
}

/*
 * A memory brick failed on purpose: the DRAM brick loses its contents
 * (a mapping reads zeroes) but keeps its leases, the persistent one keeps
 * both; while down, nothing is allocated or opened there; only an admin
 * may do it; both are logged.
 */
static void test_fail_and_repair(void **state)
{
    Daemon *d = *state;
    int s = conn(d), admin = conn(d), fd, pfd;
    uint64_t *dram, *pm;
    g_autofree char *log = g_build_filename(d->dir, "faults.log", NULL);
    g_autofree char *text = NULL;

    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"id\":1", &fd);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":1}",
           "\"id\":2", &pfd);
    dram = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    pm = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
    dram[4242] = 0xd7a3;
    pm[4242] = 0x9e75;

    expect(s, "{\"cmd\":\"fail\",\"brick\":0}",
           "\"code\":\"denied\",\"error\":\"only an admin client may fail"
           " or repair a memory brick\"", NULL);
    expect(admin, "{\"cmd\":\"hello\",\"client\":\"sdm\",\"role\":\"admin\"}",
           "\"ok\":true", NULL);
    expect(admin, "{\"cmd\":\"fail\",\"brick\":0}", "\"wiped\":1", NULL);
    expect(admin, "{\"cmd\":\"fail\",\"brick\":1}", "\"wiped\":0", NULL);
    assert_int_equal(dram[4242], 0);
    assert_int_equal(pm[4242], 0x9e75);
    expect(admin, "{\"cmd\":\"query\"}",
           "\"scrubs\":0,\"down\":true,\"poisoned\":[]}",
           NULL);
    expect(admin, "{\"cmd\":\"query\"}", "\"owner\":\"brick0\"},{\"id\":2",
           NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"code\":\"down\",\"error\":\"memory brick 0 is down\"", NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\"}",
           "\"code\":\"no-space\"", NULL);
    expect(s, "{\"cmd\":\"open\",\"segment\":2}",
           "\"code\":\"down\",\"error\":\"segment 2 cannot be reached:"
           " memory brick 1 is down\"", NULL);
    expect(admin, "{\"cmd\":\"fail\",\"brick\":0}",
           "\"code\":\"exists\",\"error\":\"memory brick 0 is already"
           " down\"", NULL);
    expect(admin, "{\"cmd\":\"fail\",\"brick\":7}",
           "\"code\":\"not-found\"", NULL);
    expect(admin, "{\"cmd\":\"fail\",\"brick\":\"0\"}",
           "\"code\":\"invalid\"", NULL);

    /* A bad page: the brick's, in every segment over it. */
    expect(s, "{\"cmd\":\"poison\",\"brick\":1,\"offset\":8192}",
           "\"code\":\"denied\",\"error\":\"only an admin client may"
           " poison or clear a page\"", NULL);
    expect(admin, "{\"cmd\":\"poison\",\"brick\":1,\"offset\":8192}",
           "\"segment\":2", NULL);
    expect(admin, "{\"cmd\":\"poison\",\"brick\":1,\"offset\":8192}",
           "\"code\":\"exists\"", NULL);
    expect(admin, "{\"cmd\":\"poison\",\"brick\":1,\"offset\":\"8192\"}",
           "\"code\":\"invalid\"", NULL);
    expect(admin, "{\"cmd\":\"poison\",\"brick\":1,\"offset\":8193}",
           "\"code\":\"invalid\",\"error\":\"memory brick 1 has no page at"
           " offset 0x2001", NULL);
    expect(admin, "{\"cmd\":\"poison\",\"brick\":1,\"offset\":268431360}",
           "{\"ok\":true}", NULL);
    expect(admin, "{\"cmd\":\"query\"}", "\"poisoned\":[8192,268431360]",
           NULL);
    expect(admin, "{\"cmd\":\"unpoison\",\"brick\":1,"
           "\"offset\":268431360}", "{\"ok\":true}", NULL);

    expect(admin, "{\"cmd\":\"repair\",\"brick\":0}", "\"wiped\":0", NULL);
    expect(admin, "{\"cmd\":\"repair\",\"brick\":1}", "\"ok\":true", NULL);
    expect(admin, "{\"cmd\":\"repair\",\"brick\":1}",
           "\"error\":\"memory brick 1 is not down\"", NULL);
    expect(s, "{\"cmd\":\"open\",\"segment\":2}",
           "\"writable\":true,\"poisoned\":[8192]}", &fd);
    close(fd);
    dram[1] = 1;    /* usable again */
    assert_int_equal(dram[1], 1);
    munmap(dram, 128 * MiB);
    munmap(pm, 128 * MiB);
    close(pfd);

    assert_true(g_file_get_contents(log, &text, NULL, NULL));
    assert_non_null(strstr(text, "Z pool failed memory brick 0 (dram): the"
                           " contents of its segments are lost\n"));
    assert_non_null(strstr(text, "Z pool failed memory brick 1 (persistent):"
                           " it keeps its contents\n"));
    assert_non_null(strstr(text, "Z pool repaired memory brick 0 (dram)\n"));
    assert_non_null(strstr(text, "Z pool repaired memory brick 1"
                           " (persistent)\n"));
    assert_non_null(strstr(text, "Z pool poisoned page 0x2000 of memory"
                           " brick 1\n"));
    assert_non_null(strstr(text, "Z pool cleared page 0xffff000 of memory"
                           " brick 1 (in no segment)\n"));
    close(s);
    close(admin);
}

/*
 * The pool killed with SIGKILL and started again with --restore: every
 * segment is back under its id, with its lease, its grants and the very
 * memory its clients still map; no id or range is given twice; a second
 * pool on the same directory is refused; a pool started afresh over a
 * killed one's leftovers drops its DRAM but keeps persistent contents.
 */
static void test_kill_and_restore(void **state)
{
    Daemon *d = *state;
    int s = conn(d), admin = conn(d), fd, pfd;
    g_autofree char *mem = g_build_filename(d->dir, "mem", NULL);
    g_autofree char *journal = g_build_filename(d->dir, "journal.json",
                                                NULL);
    g_autofree char *stray = NULL;
    const char *argv[] = { NULL, "--dir", d->dir, "--brick", "0:512M", NULL };
    g_autofree char *err = NULL;
    uint64_t *p, *q;

    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"id\":1", &fd);
    p = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    p[99] = 0xabc;
    expect(s, "{\"cmd\":\"grant\",\"segment\":1,\"client\":\"accel0\","
           "\"writable\":true}", "\"ok\":true", NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":1}",
           "\"id\":2", &pfd);
    q = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
    close(pfd);
    q[7] = 0x5157;
    munmap(q, 128 * MiB);
    expect(admin, "{\"cmd\":\"hello\",\"client\":\"sdm\",\"role\":"
           "\"admin\"}", "\"ok\":true", NULL);
    expect(admin, "{\"cmd\":\"add-brick\",\"brick\":5,\"size\":\"256M\"}",
           "\"ok\":true", NULL);
    expect(admin, "{\"cmd\":\"fail\",\"brick\":5}", "\"ok\":true", NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"id\":3", &fd);
    close(fd);
    expect(s, "{\"cmd\":\"free\",\"segment\":3}", "\"ok\":true", NULL);
    close(s);
    close(admin);

    assert_true(WIFSIGNALED(daemon_signal(d, SIGKILL)));
    assert_true(g_file_test(journal, G_FILE_TEST_EXISTS));
    /* Memory made for a request the pool died in, never journaled. */
    stray = g_build_filename(mem, "brick0-seg9", NULL);
    assert_true(g_file_set_contents(stray, "", 0, NULL));
    daemon_restore(d);
    assert_false(g_file_test(stray, G_FILE_TEST_EXISTS));
    s = conn(d);
    expect(s, "{\"cmd\":\"query\"}", "\"segments\":[{\"id\":1,\"brick\":0,"
           "\"offset\":0,\"size\":134217728,\"owner\":\"brick0\"},{\"id\":2,"
           "\"brick\":1,\"offset\":0,\"size\":134217728,\"owner\":\"brick0\"}]",
           NULL);
    expect(s, "{\"cmd\":\"query\"}", "{\"id\":5,\"class\":\"dram\","
           "\"size\":268435456,\"used\":0,\"free\":268435456,"
           "\"backable\":268435456,\"scrubs\":0,"
           "\"down\":true,\"poisoned\":[]}", NULL);
    expect(s, "{\"cmd\":\"query\"}",
           "\"scrubs\":1,\"down\":false,\"poisoned\":[]}", NULL);
    /* The grantee opens the very memory brick 0 still maps. */
    expect(s, "{\"cmd\":\"hello\",\"client\":\"accel0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"open\",\"segment\":1}", "\"writable\":true", &fd);
    q = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_int_equal(q[99], 0xabc);
    q[100] = 0xfed;
    assert_int_equal(p[100], 0xfed);
    munmap(q, 128 * MiB);
    expect(s, "{\"cmd\":\"open\",\"segment\":2}", "\"code\":\"denied\"",
           NULL);
    /* Nothing is given twice: not the range, not an id freed before. */
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"id\":4,\"brick\":0,\"offset\":134217728", &fd);
    close(fd);
    close(s);

    /* A second pool on the same directory stops before touching it. */
    err = memd_fails(argv);
    assert_non_null(strstr(err, "another process already listens on"));
    s = conn(d);
    expect(s, "{\"cmd\":\"query\"}", "\"id\":4", NULL);
    close(s);

    /* Killed again and started afresh: DRAM is gone, persistent stays. */
    assert_true(WIFSIGNALED(daemon_signal(d, SIGKILL)));
    daemon_start(d);
    s = conn(d);
    expect(s, "{\"cmd\":\"query\"}", "\"segments\":[{\"id\":1,\"brick\":1,"
           "\"offset\":0,\"size\":134217728,\"owner\":\"brick0\"}]", NULL);
    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"open\",\"segment\":1}", "\"brick\":1", &pfd);
    q = mmap(NULL, 128 * MiB, PROT_READ, MAP_SHARED, pfd, 0);
    close(pfd);
    assert_int_equal(q[7], 0x5157);
    munmap(q, 128 * MiB);
    close(s);
    munmap(p, 128 * MiB);

    /* A clean stop leaves no memory, journal or directory behind. */
    assert_int_equal(daemon_stop(d), 0);
    assert_false(g_file_test(mem, G_FILE_TEST_EXISTS));
    assert_false(g_file_test(journal, G_FILE_TEST_EXISTS));
}

/* A number /proc/meminfo gives for @key ("HugePages_Free:") */
static uint64_t meminfo(const char *key)
{
    g_autofree char *text = NULL;
    const char *at;

    if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL) ||
        !(at = strstr(text, key))) {
        return 0;
    }
    return g_ascii_strtoull(at + strlen(key), NULL, 10);
}

/* The host's huge page size */
static uint64_t huge_page_bytes(void)
{
    return meminfo("Hugepagesize:") * 1024;
}

/* Free huge pages on the host */
static uint64_t free_huge_bytes(void)
{
    return meminfo("HugePages_Free:") * huge_page_bytes();
}

/*
 * A hugepage brick on a host without free huge pages: the pool refuses
 * the allocation and says what to reserve, rather than hand out a
 * segment no brick can map.
 */
static void test_hugepage_without_huge_pages(void **state)
{
    Daemon d = { .dir = g_dir_make_tmp("memd-huge-XXXXXX", NULL) };
    const char *bin = g_getenv("DREDBOX_MEMD");
    const char *argv[] = { bin, "--dir", d.dir, "--brick", "0:256M:hugepage",
                           NULL };
    g_autofree char *manifest = g_build_filename(d.dir, "pool.json", NULL);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", d.dir);
    int s;

    if (free_huge_bytes() >= 128 * MiB) {
        skip();
    }
    d.sock = g_build_filename(d.dir, "memd.sock", NULL);
    assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD |
                              G_SPAWN_STDOUT_TO_DEV_NULL, daemon_child_setup,
                              NULL, &d.pid, NULL));
    for (int i = 0; i < 500 && !g_file_test(manifest, G_FILE_TEST_EXISTS);
         i++) {
        g_usleep(10000);
    }
    s = conn(&d);
    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":0}",
           "\"code\":\"no-space\",\"error\":\"the host has no 128 MiB of"
           " free huge pages for memory brick 0 (reserve them: sysctl"
           " vm.nr_hugepages)", NULL);
    expect(s, "{\"cmd\":\"query\"}", "\"segments\":[]", NULL);
    /* The query says so before anyone asks, with the fix */
    expect(s, "{\"cmd\":\"query\"}", "\"free\":268435456,\"backable\":",
           NULL);
    expect(s, "{\"cmd\":\"query\"}", " MiB of free huge pages for its 256"
           " MiB (reserve them: sysctl vm.nr_hugepages=", NULL);
    close(s);
    assert_int_equal(daemon_stop(&d), 0);
    assert_int_equal(system(cmd), 0);
    g_free(d.sock);
    g_free(d.dir);
}

/* The host's huge pages reserved (vm.nr_hugepages) */
static long nr_hugepages(long set)
{
    FILE *f = fopen("/proc/sys/vm/nr_hugepages", set < 0 ? "r" : "w");
    long n = set;

    assert_non_null(f);
    if (set < 0) {
        assert_int_equal(fscanf(f, "%ld", &n), 1);
    } else {
        fprintf(f, "%ld\n", set);
    }
    fclose(f);
    return set < 0 ? n : nr_hugepages(-1);
}

/* What test_hugepage_restore changed on the host, undone at teardown */
static struct {
    char *dir;          /* its scratch directory */
    char *mount;        /* a hugetlbfs mounted in it */
    long reserved;      /* nr_hugepages before, or -1 */
    Daemon d;           /* the pool on it */
    uint64_t *p;        /* a segment mapped */
} hugefs = { .reserved = -1 };

static int hugefs_teardown(void **state)
{
    g_autofree char *cmd = NULL;

    if (hugefs.d.pid) {
        daemon_signal(&hugefs.d, SIGKILL);
    }
    if (hugefs.p) {
        munmap(hugefs.p, 128 * MiB);
    }
    if (hugefs.mount) {
        umount2(hugefs.mount, MNT_DETACH);
    }
    if (hugefs.reserved >= 0) {
        nr_hugepages(hugefs.reserved);
    }
    if (hugefs.dir) {
        cmd = g_strdup_printf("rm -rf '%s'", hugefs.dir);
        assert_int_equal(system(cmd), 0);
    }
    g_clear_pointer(&hugefs.dir, g_free);
    g_clear_pointer(&hugefs.mount, g_free);
    g_clear_pointer(&hugefs.d.dir, g_free);
    g_clear_pointer(&hugefs.d.sock, g_free);
    g_clear_pointer(&hugefs.d.huge, g_free);
    hugefs.p = NULL;
    hugefs.reserved = -1;
    return 0;
}

/*
 * Hugepage segments are files on hugetlbfs: the pool killed with SIGKILL
 * and started again with --restore gives a client the very memory it
 * still maps, contents and all, as for DRAM; freed, the file goes; a
 * clean stop leaves no directory.  Needs root, to mount a hugetlbfs and
 * reserve 128 MiB of huge pages, which the teardown gives back.
 */
static void test_hugepage_restore(void **state)
{
    Daemon *d = &hugefs.d;
    g_autofree char *file = NULL;
    uint64_t *q;
    int s, fd;

    if (geteuid() != 0) {
        print_message("skipped: mounting hugetlbfs needs root\n");
        skip();
    }
    hugefs.dir = g_dir_make_tmp("memd-hugefs-XXXXXX", NULL);
    hugefs.mount = g_build_filename(hugefs.dir, "hugetlbfs", NULL);
    assert_int_equal(g_mkdir(hugefs.mount, 0700), 0);
    assert_int_equal(mount("none", hugefs.mount, "hugetlbfs", 0, NULL), 0);
    if (free_huge_bytes() < 128 * MiB) {
        hugefs.reserved = nr_hugepages(-1);
        nr_hugepages(hugefs.reserved + 128 * MiB / huge_page_bytes());
        if (free_huge_bytes() < 128 * MiB) {
            print_message("skipped: the host could not reserve 128 MiB of"
                          " huge pages\n");
            skip();
        }
    }

    d->dir = g_build_filename(hugefs.dir, "pool", NULL);
    d->sock = g_build_filename(d->dir, "memd.sock", NULL);
    d->huge = g_build_filename(hugefs.mount, "pool", NULL);
    file = g_build_filename(d->huge, "brick2-seg1", NULL);
    daemon_start(d);
    s = conn(d);
    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"alloc\",\"size\":\"128M\",\"brick\":2}",
           "\"id\":1,\"brick\":2", &fd);
    hugefs.p = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                    0);
    assert_true(hugefs.p != MAP_FAILED);
    close(fd);
    hugefs.p[5] = 0x6875676521;
    assert_true(g_file_test(file, G_FILE_TEST_EXISTS));
    close(s);

    assert_true(WIFSIGNALED(daemon_signal(d, SIGKILL)));
    daemon_restore(d);
    s = conn(d);
    expect(s, "{\"cmd\":\"hello\",\"client\":\"brick0\"}", "\"ok\":true",
           NULL);
    expect(s, "{\"cmd\":\"open\",\"segment\":1}", "\"brick\":2", &fd);
    q = mmap(NULL, 128 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(q != MAP_FAILED);
    close(fd);
    assert_int_equal(q[5], 0x6875676521);
    q[6] = 0x7368617265;
    assert_int_equal(hugefs.p[6], 0x7368617265);
    munmap(q, 128 * MiB);
    expect(s, "{\"cmd\":\"free\",\"segment\":1}", "\"ok\":true", NULL);
    assert_false(g_file_test(file, G_FILE_TEST_EXISTS));
    close(s);
    assert_int_equal(daemon_stop(d), 0);
    assert_false(g_file_test(d->huge, G_FILE_TEST_EXISTS));
}

/*
 * A pool run by a user who may not write to the host's hugetlbfs (root's
 * /dev/hugepages) still starts: its hugepage segments are memfds, and it
 * says they do not survive a restart.  Needs root, to mount a hugetlbfs.
 */
static void test_hugetlbfs_not_writable(void **state)
{
    const char *argv[] = { g_getenv("DREDBOX_MEMD"), "--dir", NULL,
                           "--brick", "0:256M:hugepage", NULL };
    g_autofree char *dir = NULL, *out = NULL;
    g_autoptr(GIOChannel) ch = NULL;
    GPid pid;
    int fd, status;

    if (geteuid() != 0) {
        print_message("skipped: mounting hugetlbfs needs root\n");
        skip();
    }
    hugefs.dir = g_dir_make_tmp("memd-hugefs-XXXXXX", NULL);
    hugefs.mount = g_build_filename(hugefs.dir, "hugetlbfs", NULL);
    assert_int_equal(g_mkdir(hugefs.mount, 0755), 0);
    assert_int_equal(mount("none", hugefs.mount, "hugetlbfs", 0, NULL), 0);
    assert_int_equal(chmod(hugefs.dir, 0777), 0);
    dir = g_build_filename(hugefs.dir, "pool", NULL);
    argv[2] = dir;
    assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD,
                                         become_nobody, NULL, &pid, NULL,
                                         &fd, NULL, NULL));
    ch = g_io_channel_unix_new(fd);
    g_io_channel_set_close_on_unref(ch, true);
    /* What it says at start, up to the line that it serves */
    while (!out || !strstr(out, " memory bricks, socket ")) {
        g_free(out);
        out = NULL;
        if (g_io_channel_read_line(ch, &out, NULL, NULL, NULL) !=
            G_IO_STATUS_NORMAL) {
            break;
        }
        if (strstr(out, "(hugepage): no hugetlbfs")) {
            break;
        }
    }
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    assert_non_null(out);
    assert_string_equal(out, "dredbox-memd: memory brick 0 (hugepage): no"
                        " hugetlbfs this pool may write to is mounted, so"
                        " its segments do not survive a restart of the pool"
                        " (mount -t hugetlbfs none /dev/hugepages, or give"
                        " --huge-dir)\n");
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_bad_command_line(void **state)
{
    const char *argv[] = { NULL, "--dir", "/tmp/memd-unused", "--brick",
                           "0:100M", NULL };
    g_autofree char *err = memd_fails(argv);

    assert_non_null(strstr(err, "multiple of the 128 MiB granule"));
}

/* Hugepage segments in a directory that is not on hugetlbfs: refused. */
static void test_huge_dir_not_hugetlbfs(void **state)
{
    g_autofree char *dir = g_dir_make_tmp("memd-nothuge-XXXXXX", NULL);
    g_autofree char *huge = g_build_filename(dir, "huge", NULL);
    g_autofree char *expected = g_strdup_printf(
        "dredbox-memd: --huge-dir %s is not on hugetlbfs\n", huge);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    const char *argv[] = { NULL, "--dir", dir, "--brick", "0:256M:hugepage",
                           "--huge-dir", huge, NULL };
    g_autofree char *err = memd_fails(argv);

    assert_string_equal(err, expected);
    /* It leaves nothing behind, not even the directory it made. */
    assert_false(g_file_test(huge, G_FILE_TEST_EXISTS));
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define WITH_DAEMON(t) \
        cmocka_unit_test_setup_teardown(t, memd_fixture_setup, \
                                        memd_fixture_teardown)
        WITH_DAEMON(test_share_between_clients),
        WITH_DAEMON(test_dead_client_keeps_lease),
        WITH_DAEMON(test_bad_requests_keep_serving),
        WITH_DAEMON(test_scrub_and_persistence),
        WITH_DAEMON(test_fail_and_repair),
        WITH_DAEMON(test_kill_and_restore),
        cmocka_unit_test(test_hugepage_without_huge_pages),
        cmocka_unit_test_teardown(test_hugepage_restore, hugefs_teardown),
        cmocka_unit_test_teardown(test_hugetlbfs_not_writable,
                                  hugefs_teardown),
        cmocka_unit_test(test_bad_command_line),
        cmocka_unit_test(test_huge_dir_not_hugetlbfs),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
