/*
 * A compute brick's software in the rack file (docs/rack.md, "Software"):
 * where its files are and whether QEMU can boot or attach them, checked
 * before any brick starts so that a mistake is reported with its line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rackfile.h"
#include "rack-error.h"

char *rack_software_path(const Rack *rack, const char *path)
{
    g_autofree char *dir = g_path_get_dirname(rack->file);
    /* A rack file named relative to the current folder */
    g_autofree char *abs = g_canonicalize_filename(dir, NULL);

    return g_canonicalize_filename(path, abs);
}

/* The first @n bytes of @path at @offset; false if it is shorter. */
static bool read_head(const char *path, goffset offset, guint8 *buf,
                      gsize n)
{
    FILE *f = fopen(path, "rb");
    bool ok = f && fseek(f, offset, SEEK_SET) == 0 &&
              fread(buf, 1, n, f) == n;

    if (f) {
        fclose(f);
    }
    return ok;
}

/* A file the brick reads: what is wrong with @path, or NULL. */
static char *regular_file(const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        return g_strdup("no such file");
    }
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        return g_strdup("not a regular file");
    }
    if (access(path, R_OK)) {
        return g_strdup_printf("cannot be read: %s", g_strerror(errno));
    }
    return NULL;
}

/* Compressed containers a disk or kernel may arrive in, by magic. */
static const char *compression(const guint8 *m)
{
    if (m[0] == 0x1f && m[1] == 0x8b) {
        return "gzip";
    }
    if (!memcmp(m, "\xfd" "7zXZ", 5)) {
        return "xz";
    }
    if (!memcmp(m, "\x28\xb5\x2f\xfd", 4)) {
        return "zstd";
    }
    return NULL;
}

const char *rack_disk_format(const char *path, GError **errp)
{
    g_autofree char *wrong = regular_file(path);
    guint8 m[8] = { 0 };
    struct stat st;

    if (!wrong && (stat(path, &st) || !st.st_size)) {
        wrong = g_strdup("empty");
    }
    if (!wrong && !read_head(path, 0, m, sizeof(m))) {
        wrong = g_strdup("shorter than a disk sector");
    }
    if (wrong) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "%s", wrong);
        return NULL;
    }
    if (!memcmp(m, "QFI\xfb", 4)) {
        return "qcow2";
    }
    if (compression(m)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "compressed"
                    " (%s): unpack it first", compression(m));
        return NULL;
    }
    if (!memcmp(m, "KDMV", 4) || !memcmp(m, "vhdxfile", 8) ||
        !memcmp(m, "conectix", 8)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "a VMware or"
                    " Hyper-V image: convert it with 'qemu-img convert -O"
                    " qcow2'");
        return NULL;
    }
    if (st.st_size % 512) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "not qcow2, and"
                    " %lld bytes is not a whole number of 512-byte sectors"
                    " for a raw image", (long long)st.st_size);
        return NULL;
    }
    return "raw";
}

/*
 * What QEMU's -kernel boots on arm64: an Image (its header's magic
 * "ARM\x64" at 56), one compressed with gzip, or an EFI zboot vmlinuz
 * ("zimg" at 4), as Debian's linux-image packages ship.
 */
static char *arm64_kernel(const char *path)
{
    char *wrong = regular_file(path);
    guint8 m[64] = { 0 };

    if (wrong) {
        return wrong;
    }
    if (!read_head(path, 0, m, sizeof(m))) {
        return g_strdup("too short for a kernel");
    }
    if (!memcmp(m + 56, "ARM\x64", 4) || !memcmp(m + 4, "zimg", 4) ||
        (m[0] == 0x1f && m[1] == 0x8b)) {
        return NULL;
    }
    if (!memcmp(m, "\x7f" "ELF", 4)) {
        return g_strdup("an ELF file (vmlinux?): give the Image,"
                        " arch/arm64/boot/Image in a kernel tree");
    }
    return g_strdup("not an arm64 kernel Image (an Image, Image.gz or a"
                    " Debian vmlinuz)");
}

static char *folder(const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        return g_strdup(g_file_test(path, G_FILE_TEST_EXISTS) ?
                        "not a folder" : "no such folder");
    }
    return NULL;
}

static char *disk(const char *path)
{
    g_autoptr(GError) err = NULL;

    return rack_disk_format(path, &err) ? NULL : g_strdup(err->message);
}

static bool check(const Rack *rack, const RackSoftware *sw, GError **errp)
{
    static const struct {
        const char *key;
        size_t offset;
        char *(*wrong)(const char *path);
    } files[] = {
        { "kernel", offsetof(RackSoftware, kernel), arm64_kernel },
        { "initrd", offsetof(RackSoftware, initrd), regular_file },
        { "disk", offsetof(RackSoftware, disk), disk },
        { "share", offsetof(RackSoftware, share), folder },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        const char *v = G_STRUCT_MEMBER(char *, sw, files[i].offset);
        g_autofree char *path = v ? rack_software_path(rack, v) : NULL;
        g_autofree char *wrong = path ? files[i].wrong(path) : NULL;

        if (wrong) {
            g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID,
                        "%s:%u: %s=%s: %s (%s)", rack->file, sw->line,
                        files[i].key, v, wrong, path);
            return false;
        }
    }
    return true;
}

bool rack_check_software(const Rack *rack, GError **errp)
{
    /* The defaults first, so that an inherited mistake names their line */
    if (rack->defaults.line && !check(rack, &rack->defaults, errp)) {
        return false;
    }
    for (guint i = 0; i < rack->bricks->len; i++) {
        const RackBrick *b = g_ptr_array_index(rack->bricks, i);

        if (b->kind == RACK_COMPUTE && !check(rack, &b->software, errp)) {
            return false;
        }
    }
    return true;
}
