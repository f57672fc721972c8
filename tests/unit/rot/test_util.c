/* The core's own byte helpers: little-endian access, copy, fill, wipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rot/util.h"

static void util_test_ld_st_little_endian(void **state) {
  (void)state;
  uint8_t b[8];
  rot_st16(b, 0x1234);
  assert_int_equal(b[0], 0x34);
  assert_int_equal(b[1], 0x12);
  assert_int_equal(rot_ld16(b), 0x1234);
  rot_st32(b, 0x89abcdefu);
  assert_int_equal(b[0], 0xef);
  assert_int_equal(b[3], 0x89);
  assert_int_equal(rot_ld32(b), 0x89abcdefu);
  rot_st64(b, 0x0102030405060708ull);
  assert_int_equal(b[0], 0x08);
  assert_int_equal(b[7], 0x01);
  assert_int_equal(rot_ld64(b), 0x0102030405060708ull);
}

static void util_test_ld_high_bits(void **state) {
  (void)state;
  /* Top bits must not go through a signed int on the way. */
  uint8_t b[8];
  memset(b, 0xff, sizeof(b));
  assert_int_equal(rot_ld16(b), 0xffff);
  assert_int_equal(rot_ld32(b), 0xffffffffu);
  assert_true(rot_ld64(b) == 0xffffffffffffffffull);
}

static void util_test_memcpy_copies(void **state) {
  (void)state;
  uint8_t a[16], b[16];
  for (size_t i = 0; i < sizeof(a); i++) {
    a[i] = (uint8_t)i;
  }
  memset(b, 0, sizeof(b));
  rot_memcpy(b, a, sizeof(a));
  assert_memory_equal(a, b, sizeof(a));
}

static void util_test_memcpy_empty(void **state) {
  (void)state;
  uint8_t a = 1, b = 2;
  rot_memcpy(&b, &a, 0);
  assert_int_equal(b, 2);
}

static void util_test_memset_fills(void **state) {
  (void)state;
  uint8_t a[9];
  rot_memset(a, 0x1c7, sizeof(a)); /* only the low byte counts */
  for (size_t i = 0; i < sizeof(a); i++) {
    assert_int_equal(a[i], 0xc7);
  }
  rot_memset(a, 0, 0);
  assert_int_equal(a[0], 0xc7);
}

static void util_test_wipe_zeroes(void **state) {
  (void)state;
  uint8_t a[32];
  memset(a, 0xaa, sizeof(a));
  rot_wipe(a, sizeof(a) - 1);
  for (size_t i = 0; i < sizeof(a) - 1; i++) {
    assert_int_equal(a[i], 0);
  }
  assert_int_equal(a[sizeof(a) - 1], 0xaa);
}

static void util_test_memeq(void **state) {
  (void)state;
  uint8_t a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 2, 3, 4, 5};
  assert_int_equal(rot_memeq(a, b, sizeof(a)), 1);
  b[4] = 6;
  assert_int_equal(rot_memeq(a, b, sizeof(a)), 0);
  assert_int_equal(rot_memeq(a, b, 4), 1);
  assert_int_equal(rot_memeq(a, b, 0), 1);
}

static void util_test_is_zero(void **state) {
  (void)state;
  uint8_t a[48] = {0};
  assert_int_equal(rot_is_zero(a, sizeof(a)), 1);
  assert_int_equal(rot_is_zero(a, 0), 1);
  a[47] = 0x80;
  assert_int_equal(rot_is_zero(a, sizeof(a)), 0);
  assert_int_equal(rot_is_zero(a, 47), 1);
}

static void util_test_is_erased(void **state) {
  (void)state;
  uint8_t a[48];
  memset(a, 0xff, sizeof(a));
  assert_int_equal(rot_is_erased(a, sizeof(a)), 1);
  assert_int_equal(rot_is_erased(a, 0), 1);
  a[47] = 0xfe; /* one programmed bit is not erased */
  assert_int_equal(rot_is_erased(a, sizeof(a)), 0);
  assert_int_equal(rot_is_erased(a, 47), 1);
}

/* rot_memeq reads words when it can: a difference anywhere, at any
 * relative alignment and length, is still seen. */
static void util_test_memeq_every_position(void **state) {
  (void)state;
  uint8_t a[72], b[80];
  for (size_t sa = 0; sa < 4; sa++) {
    for (size_t sb = 0; sb < 8; sb++) {
      for (size_t len = 0; sa + len <= 64; len += 3) {
        for (size_t i = 0; i < len; i++) {
          a[sa + i] = b[sb + i] = (uint8_t)(i * 7 + 1);
        }
        assert_int_equal(rot_memeq(a + sa, b + sb, len), 1);
        for (size_t i = 0; i < len; i++) {
          b[sb + i] ^= 0x20;
          assert_int_equal(rot_memeq(a + sa, b + sb, len), 0);
          b[sb + i] ^= 0x20;
        }
      }
    }
  }
}

/* The check reads words: one programmed bit anywhere, at any alignment of
 * the buffer and any length, is still seen. */
static void util_test_is_erased_every_position(void **state) {
  (void)state;
  uint8_t a[80];
  for (size_t start = 0; start < 8; start++) {
    for (size_t len = 0; start + len <= sizeof(a); len++) {
      memset(a, 0xff, sizeof(a));
      assert_int_equal(rot_is_erased(a + start, len), 1);
      for (size_t i = 0; i < len; i++) {
        a[start + i] = 0x7f;
        assert_int_equal(rot_is_erased(a + start, len), 0);
        a[start + i] = 0xff;
      }
      /* Bytes just outside the range do not count. */
      if (start > 0) {
        a[start - 1] = 0;
      }
      if (start + len < sizeof(a)) {
        a[start + len] = 0;
      }
      assert_int_equal(rot_is_erased(a + start, len), 1);
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(util_test_ld_st_little_endian),
      cmocka_unit_test(util_test_is_erased_every_position),
      cmocka_unit_test(util_test_memeq_every_position),
      cmocka_unit_test(util_test_ld_high_bits),
      cmocka_unit_test(util_test_memcpy_copies),
      cmocka_unit_test(util_test_memcpy_empty),
      cmocka_unit_test(util_test_memset_fills),
      cmocka_unit_test(util_test_wipe_zeroes),
      cmocka_unit_test(util_test_memeq),
      cmocka_unit_test(util_test_is_zero),
      cmocka_unit_test(util_test_is_erased),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
