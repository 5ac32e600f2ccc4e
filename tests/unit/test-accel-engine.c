/*
 * Unit tests of the accelerator brick's engines: descriptor checks (every
 * rejection reason, every boundary) and each operation's result, the
 * CRC32C against a bit-at-a-time reference and published test vectors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include "crc32c-ref.h"
#include "engine.h"

#define SEG (1u << 20)      /* a small segment */

static DrqSlot desc(uint32_t op, uint64_t src, uint64_t dst, uint64_t len,
                    uint64_t arg)
{
    return (DrqSlot) { .op = op, .src = src, .dst = dst, .len = len,
                       .arg = arg };
}

static void test_check(void **state)
{
    const uint64_t D = DRQ_DATA_OFFSET;
    DrqSlot d;

    assert_int_equal(engine_check(&(DrqSlot) { .op = 0 }, SEG), DRQ_ERR_OP);
    assert_int_equal(engine_check(&(DrqSlot) { .op = 99 }, SEG), DRQ_ERR_OP);
    /* Valid at the edges of the data area. */
    d = desc(DRQ_OP_COPY, D, SEG - 4096, 4096, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_OK);
    d = desc(DRQ_OP_FILL, 0, D, SEG - D, 7);
    assert_int_equal(engine_check(&d, SEG), DRQ_OK);
    d = desc(DRQ_OP_CRC32C, SEG - 1, 0, 1, 0xffffffff);
    assert_int_equal(engine_check(&d, SEG), DRQ_OK);
    d = desc(DRQ_OP_SHA256, D, SEG - 32, SEG - D - 32, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_OK);

    /* Lengths. */
    d = desc(DRQ_OP_COPY, D, D + 4096, 0, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_LENGTH);
    d = desc(DRQ_OP_FILL, 0, D, 12, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_LENGTH);
    /* One byte past the end, huge, wrapping. */
    d = desc(DRQ_OP_CRC32C, SEG - 8, 0, 9, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_RANGE);
    d = desc(DRQ_OP_COPY, D, D + 8, UINT64_MAX, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_RANGE);
    d = desc(DRQ_OP_COPY, UINT64_MAX - 7, D, 16, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_RANGE);
    d = desc(DRQ_OP_SHA256, D, SEG - 31, 64, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_RANGE);
    /* Into the queue's own pages: the header, the slots. */
    d = desc(DRQ_OP_FILL, 0, 0, 64, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_QUEUE);
    d = desc(DRQ_OP_COPY, D, DRQ_SLOTS_OFFSET, 64, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_QUEUE);
    d = desc(DRQ_OP_CRC32C, D - 1, 0, 2, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_QUEUE);
    /* Overlaps. */
    d = desc(DRQ_OP_COPY, D, D + 4095, 4096, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_OVERLAP);
    d = desc(DRQ_OP_COPY, D + 4096, D, 8192, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_OVERLAP);
    d = desc(DRQ_OP_SHA256, D, D + 100, 4096, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_OVERLAP);
    d = desc(DRQ_OP_COPY, D, D + 4096, 4096, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_OK);
    /* Reserved and unused fields. */
    d = desc(DRQ_OP_COPY, D, D + 4096, 4096, 0);
    d.reserved = 1;
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_MALFORMED);
    d = desc(DRQ_OP_COPY, D, D + 4096, 4096, 5);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_MALFORMED);
    d = desc(DRQ_OP_FILL, D, D + 4096, 4096, 5);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_MALFORMED);
    d = desc(DRQ_OP_CRC32C, D, D, 4096, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_ERR_MALFORMED);
    /* A segment too small for a data area has no valid descriptor. */
    d = desc(DRQ_OP_FILL, 0, D, 8, 0);
    assert_int_equal(engine_check(&d, D), DRQ_ERR_RANGE);
}

static void test_crc32c(void **state)
{
    g_autofree uint8_t *buf = g_malloc(SEG);
    GRand *r = g_rand_new_with_seed(7);
    uint8_t zeros[32] = { 0 };

    /* RFC 3720 B.4 and the usual check value. */
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
    assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aa);
    for (unsigned i = 0; i < SEG; i++) {
        buf[i] = g_rand_int(r);
    }
    for (unsigned len = 0; len < 300; len += 7) {
        assert_int_equal(crc32c(0, buf + len % 5, len),
                         crc32c_ref(0, buf + len % 5, len));
    }
    assert_int_equal(crc32c(0, buf, SEG), crc32c_ref(0, buf, SEG));
    /* Chained over two pieces, as a seed in the descriptor does it. */
    assert_int_equal(crc32c(crc32c(0, buf, 12345), buf + 12345, SEG - 12345),
                     crc32c(0, buf, SEG));
    g_rand_free(r);
}

static void test_run(void **state)
{
    g_autofree uint8_t *seg = g_malloc0(SEG);
    const uint64_t D = DRQ_DATA_OFFSET;
    static const uint8_t abc_sha[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    DrqSlot d;

    for (unsigned i = 0; i < 3000; i++) {
        seg[D + i] = i * 7;
    }
    d = desc(DRQ_OP_COPY, D, D + 8192, 3000, 0);
    assert_int_equal(engine_run(&d, seg, 0), 0);
    assert_memory_equal(seg + D, seg + D + 8192, 3000);
    assert_int_equal(seg[D + 8192 + 3000], 0);

    d = desc(DRQ_OP_FILL, 0, D + 16384, 24, 0x0807060504030201ull);
    engine_run(&d, seg, 0);
    assert_memory_equal(seg + D + 16384,
                        "\1\2\3\4\5\6\7\10\1\2\3\4\5\6\7\10\1\2\3\4\5\6\7\10",
                        24);
    assert_int_equal(seg[D + 16384 + 24], 0);

    d = desc(DRQ_OP_CRC32C, D, 0, 3000, 0);
    assert_int_equal(engine_run(&d, seg, 0), crc32c_ref(0, seg + D, 3000));
    /* The seed continues an earlier checksum. */
    d = desc(DRQ_OP_CRC32C, D + 1000, 0, 2000, crc32c_ref(0, seg + D, 1000));
    assert_int_equal(engine_run(&d, seg, 0), crc32c_ref(0, seg + D, 3000));

    memcpy(seg + D + 32768, "abc", 3);
    d = desc(DRQ_OP_SHA256, D + 32768, D + 40000, 3, 0);
    assert_int_equal(engine_check(&d, SEG), DRQ_OK);
    engine_run(&d, seg, 0);
    assert_memory_equal(seg + D + 40000, abc_sha, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_run),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
