/*
 * Unit tests of how the controller grows and shrinks a compute brick's
 * memory over QMP, against a fake QMP peer (this test's own socket, never
 * a stand-in for QEMU outside it): the guest plugging gradually, a guest
 * that never does, a QMP error, a brick that is gone; and the
 * synthesizer rolling back an earlier step when the brick step fails.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "brick-memory.h"
#include "wire.h"
#include "rack-error.h"
#include "synth.h"

typedef struct FakeBrick {
    char *dir;
    char *path;
    int listener;
    GThread *thread;
    /* behaviour */
    int plug_polls;         /* size reaches the request after N queries */
    bool refuse;            /* answer commands with a QMP error */
    /* what happened */
    uint64_t requested;
    uint64_t size;
    int sets;
} FakeBrick;

static gpointer serve(gpointer opaque)
{
    FakeBrick *f = opaque;
    int polls = 0;

    for (;;) {
        int c = accept(f->listener, NULL, NULL);
        g_autofree char *caps = NULL, *cmd = NULL;
        char reply[128];

        if (c < 0) {
            return NULL;
        }
        rack_wire_send(c, "{\"QMP\": {\"version\": {}}}", -1);
        caps = rack_wire_recv(c, 65536, NULL);
        rack_wire_send(c, "{\"return\": {}}", -1);
        cmd = rack_wire_recv(c, 65536, NULL);
        if (!cmd) {
            close(c);
            continue;
        }
        if (f->refuse) {
            snprintf(reply, sizeof(reply), "{\"error\": {\"class\":"
                     " \"DeviceNotFound\", \"desc\": \"Device 'vmem-m9'"
                     " not found\"}}");
        } else if (strstr(cmd, "qom-set")) {
            f->requested = g_ascii_strtoull(strstr(cmd, "\"value\":") + 8,
                                            NULL, 10);
            f->sets++;
            polls = 0;
            snprintf(reply, sizeof(reply), "{\"return\": {}}");
        } else {
            if (f->plug_polls >= 0 && ++polls >= f->plug_polls) {
                f->size = f->requested;
            }
            snprintf(reply, sizeof(reply), "{\"return\": %" G_GUINT64_FORMAT
                     "}", f->size);
        }
        rack_wire_send(c, "{\"event\": \"MEMORY_DEVICE_SIZE_CHANGE\"}", -1);
        rack_wire_send(c, reply, -1);
        close(c);
    }
}

static int setup(void **state)
{
    FakeBrick *f = g_new0(FakeBrick, 1);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    f->dir = g_dir_make_tmp("sdm-brick-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "brick0.qmp", NULL);
    f->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(sa.sun_path, f->path, sizeof(sa.sun_path));
    assert_int_equal(bind(f->listener, (struct sockaddr *)&sa, sizeof(sa)),
                     0);
    assert_int_equal(listen(f->listener, 8), 0);
    f->plug_polls = 3;
    f->thread = g_thread_new("fake-qmp", serve, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    FakeBrick *f = *state;

    shutdown(f->listener, SHUT_RDWR);
    close(f->listener);
    g_thread_join(f->thread);
    unlink(f->path);
    rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static void test_plug_waits_for_guest(void **state)
{
    FakeBrick *f = *state;
    uint64_t size;

    assert_true(brick_memory_resize(f->path, 0, 1, 512 << 20,
                                    5 * G_USEC_PER_SEC, NULL));
    assert_int_equal(f->requested, 512 << 20);
    assert_int_equal(f->size, 512 << 20);
    assert_true(brick_memory_get(f->path, 0, 1, "size", &size, NULL));
    assert_int_equal(size, 512 << 20);
}

static void test_guest_never_plugs(void **state)
{
    FakeBrick *f = *state;
    GError *err = NULL;

    f->plug_polls = -1;
    assert_false(brick_memory_resize(f->path, 0, 1, 256 << 20,
                                     G_USEC_PER_SEC / 2, &err));
    assert_string_equal(err->message, "compute brick 0 holds 0 MiB of memory"
                        " brick 1, not 256 MiB (the guest did not plug or"
                        " unplug it: pool full, or memory in use)");
    g_error_free(err);
}

static void test_qmp_error_and_gone(void **state)
{
    FakeBrick *f = *state;
    GError *err = NULL;

    f->refuse = true;
    assert_false(brick_memory_resize(f->path, 0, 9, 128 << 20,
                                     G_USEC_PER_SEC, &err));
    assert_string_equal(err->message,
                        "compute brick 0: Device 'vmem-m9' not found");
    /* QMP's error class comes through: the device is not there. */
    assert_true(g_error_matches(err, RACK_ERROR, RACK_ERROR_NOT_FOUND));
    g_clear_error(&err);
    assert_false(brick_memory_resize("/nonexistent/brick5.qmp", 5, 0,
                                     128 << 20, G_USEC_PER_SEC, &err));
    assert_non_null(strstr(err->message, "compute brick 5: cannot reach QMP"
                                         " at /nonexistent/brick5.qmp"));
    g_clear_error(&err);
}

typedef struct Attach {
    FakeBrick *brick;
    GString *log;
} Attach;

static bool circuit_up(void *opaque, GError **errp)
{
    g_string_append(((Attach *)opaque)->log, "circuit ");
    return true;
}

static bool circuit_down(void *opaque, GError **errp)
{
    g_string_append(((Attach *)opaque)->log, "teardown ");
    return true;
}

static bool memory_online(void *opaque, GError **errp)
{
    Attach *a = opaque;

    return brick_memory_resize(a->brick->path, 0, 1, 512 << 20,
                               G_USEC_PER_SEC / 2, errp);
}

static bool memory_offline(void *opaque, GError **errp)
{
    Attach *a = opaque;

    g_string_append(a->log, "unplug ");
    return brick_memory_resize(a->brick->path, 0, 1, 0, G_USEC_PER_SEC / 2,
                               errp);
}

/*
 * A brick that cannot plug makes the synthesizer ask for the old size
 * again (nothing is plugged later, unaccounted) and tear the circuit down.
 */
static void test_rollback_on_brick(void **state)
{
    static const SdmStep steps[] = {
        { "optical circuit", circuit_up, circuit_down, false },
        { "memory online", memory_online, memory_offline, false },
    };
    FakeBrick *f = *state;
    Attach a = { f, g_string_new(NULL) };
    GError *err = NULL;

    f->plug_polls = -1;
    assert_false(sdm_synth_run(steps, 2, &a, NULL, &err));
    assert_string_equal(a.log->str, "circuit unplug teardown ");
    assert_non_null(strstr(err->message, "memory online failed: compute"
                                         " brick 0 holds 0 MiB"));
    assert_int_equal(f->sets, 2);
    assert_int_equal(f->requested, 0);
    g_error_free(err);
    g_string_free(a.log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plug_waits_for_guest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_guest_never_plugs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_qmp_error_and_gone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_on_brick, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
