/* Strict command-line number parsing (host port). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rot_client/parse.h"

/* A value no successful parse in these tests produces. */
#define UNTOUCHED 0x5a5a5a5a5a5a5a5aull

/* Expect s to be refused in base, leaving the output alone. */
static void expect_reject(const char *s, rot_parse_base_t base, uint64_t max) {
  uint64_t v = UNTOUCHED;
  assert_int_equal(rot_parse_uint(s, base, max, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_true(v == UNTOUCHED);
}

static uint64_t expect_accept(const char *s, rot_parse_base_t base,
                              uint64_t max) {
  uint64_t v = UNTOUCHED;
  assert_int_equal(rot_parse_uint(s, base, max, &v), ROT_OK);
  return v;
}

static void parse_test_uint_decimal(void **state) {
  (void)state;
  assert_true(expect_accept("0", ROT_PARSE_DEC, UINT64_MAX) == 0);
  assert_true(expect_accept("42", ROT_PARSE_DEC, UINT64_MAX) == 42);
  assert_true(expect_accept("007", ROT_PARSE_DEC, UINT64_MAX) == 7);
  assert_true(expect_accept("42", ROT_PARSE_DEC_OR_HEX, UINT64_MAX) == 42);
}

static void parse_test_uint_hex(void **state) {
  (void)state;
  assert_true(expect_accept("0x0", ROT_PARSE_DEC_OR_HEX, UINT64_MAX) == 0);
  assert_true(expect_accept("0x80200000", ROT_PARSE_DEC_OR_HEX, UINT64_MAX) ==
              0x80200000u);
  assert_true(expect_accept("0XaBcD", ROT_PARSE_DEC_OR_HEX, UINT64_MAX) ==
              0xabcd);
}

static void parse_test_uint_full_range(void **state) {
  (void)state;
  assert_true(expect_accept("18446744073709551615", ROT_PARSE_DEC,
                            UINT64_MAX) == UINT64_MAX);
  assert_true(expect_accept("0xffffffffffffffff", ROT_PARSE_DEC_OR_HEX,
                            UINT64_MAX) == UINT64_MAX);
}

static void parse_test_uint_max_inclusive(void **state) {
  (void)state;
  assert_true(expect_accept("3600", ROT_PARSE_DEC, 3600) == 3600);
  assert_true(expect_accept("0xffffffff", ROT_PARSE_DEC_OR_HEX, UINT32_MAX) ==
              UINT32_MAX);
}

static void parse_test_uint_null(void **state) {
  (void)state;
  expect_reject(NULL, ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
  assert_int_equal(rot_parse_uint("1", ROT_PARSE_DEC, UINT64_MAX, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void parse_test_uint_empty(void **state) {
  (void)state;
  expect_reject("", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
}

static void parse_test_uint_sign(void **state) {
  (void)state;
  expect_reject("-1", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("+1", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("-0", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
  expect_reject("-0x1", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
  expect_reject("0x-1", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
}

static void parse_test_uint_space(void **state) {
  (void)state;
  expect_reject(" 1", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("1 ", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("\t1", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
  expect_reject("0x 1", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
}

static void parse_test_uint_junk(void **state) {
  (void)state;
  expect_reject("12abc", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("1k", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("1.5", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("abc", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
  expect_reject("0x1g", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
  expect_reject("0x0x1", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
}

static void parse_test_uint_bare_hex_prefix(void **state) {
  (void)state;
  expect_reject("0x", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
  expect_reject("0X", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
}

static void parse_test_uint_hex_in_decimal(void **state) {
  (void)state;
  expect_reject("0x10", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("ff", ROT_PARSE_DEC, UINT64_MAX);
  /* Without the prefix hex digits are not digits, even where hex is allowed. */
  expect_reject("ff", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
}

static void parse_test_uint_overflow(void **state) {
  (void)state;
  expect_reject("18446744073709551616", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("99999999999999999999999", ROT_PARSE_DEC, UINT64_MAX);
  expect_reject("0x10000000000000000", ROT_PARSE_DEC_OR_HEX, UINT64_MAX);
}

static void parse_test_uint_above_max(void **state) {
  (void)state;
  expect_reject("3601", ROT_PARSE_DEC, 3600);
  expect_reject("0x100000000", ROT_PARSE_DEC_OR_HEX, UINT32_MAX);
  expect_reject("1", ROT_PARSE_DEC, 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_test_uint_decimal),
      cmocka_unit_test(parse_test_uint_hex),
      cmocka_unit_test(parse_test_uint_full_range),
      cmocka_unit_test(parse_test_uint_max_inclusive),
      cmocka_unit_test(parse_test_uint_null),
      cmocka_unit_test(parse_test_uint_empty),
      cmocka_unit_test(parse_test_uint_sign),
      cmocka_unit_test(parse_test_uint_space),
      cmocka_unit_test(parse_test_uint_junk),
      cmocka_unit_test(parse_test_uint_bare_hex_prefix),
      cmocka_unit_test(parse_test_uint_hex_in_decimal),
      cmocka_unit_test(parse_test_uint_overflow),
      cmocka_unit_test(parse_test_uint_above_max),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
