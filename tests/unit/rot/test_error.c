/*
 * The error list: unique, named, explained, and far apart, so a single
 * flipped bit can neither turn an error into ROT_OK nor into another error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rot/error.h"
#include "rot/hardened.h"
#include "rot_client/names.h"

typedef struct error_row {
  rot_error_t code;
  const char *name;
  uint32_t module;
  uint32_t number;
  const char *reason;
} error_row_t;

static const error_row_t kRows[] = {
#define ROW_(name, mod, num, text) {name, #name, mod, num, text},
    ROT_ERROR_LIST(ROW_)
#undef ROW_
};

#define N_ROWS (sizeof(kRows) / sizeof(kRows[0]))

static unsigned hamming(uint32_t a, uint32_t b) {
  return (unsigned)__builtin_popcount(a ^ b);
}

static void error_test_list_not_empty(void **state) {
  (void)state;
  assert_true(N_ROWS > 0);
}

static void error_test_list_codes_unique(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    for (size_t j = i + 1; j < N_ROWS; j++) {
      if (kRows[i].code == kRows[j].code) {
        fail_msg("%s and %s share a code", kRows[i].name, kRows[j].name);
      }
    }
  }
}

static void error_test_list_module_number_unique(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    for (size_t j = i + 1; j < N_ROWS; j++) {
      if (kRows[i].module == kRows[j].module &&
          kRows[i].number == kRows[j].number) {
        fail_msg("%s and %s share (module, number)", kRows[i].name,
                 kRows[j].name);
      }
    }
  }
}

static void error_test_list_codes_nonzero_and_positive(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    assert_int_not_equal(kRows[i].code, 0);
    /* Positive so a code survives a round trip through a plain int. */
    assert_true((int32_t)kRows[i].code > 0);
    assert_int_not_equal(kRows[i].code, ROT_OK);
  }
}

static void error_test_list_pairwise_hamming_at_least_2(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    for (size_t j = i + 1; j < N_ROWS; j++) {
      unsigned d = hamming((uint32_t)kRows[i].code, (uint32_t)kRows[j].code);
      if (d < 2) {
        fail_msg("%s and %s differ in %u bit(s)", kRows[i].name, kRows[j].name,
                 d);
      }
    }
  }
}

static void error_test_ok_hamming_at_least_8_from_every_error(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    unsigned d = hamming((uint32_t)kRows[i].code, (uint32_t)ROT_OK);
    if (d < 8) {
      fail_msg("%s is %u bit(s) from ROT_OK", kRows[i].name, d);
    }
  }
}

static void error_test_ok_far_from_zero(void **state) {
  (void)state;
  /* A zeroed register or a cleared return value must not read as success. */
  assert_true(hamming((uint32_t)ROT_OK, 0) >= 6);
}

static void error_test_value_low_half_is_complement(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    uint32_t v = (uint32_t)kRows[i].code;
    assert_int_equal(v & 0xffffu, (~(v >> 16)) & 0xffffu);
  }
}

static void error_test_name_every_code(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    assert_string_equal(rot_error_name(kRows[i].code), kRows[i].name);
  }
  assert_string_equal(rot_error_name(ROT_OK), "ROT_OK");
}

static void error_test_name_unknown(void **state) {
  (void)state;
  assert_string_equal(rot_error_name((rot_error_t)0), "ROT_ERROR_UNKNOWN");
  assert_string_equal(rot_error_name((rot_error_t)0x7fffffff),
                      "ROT_ERROR_UNKNOWN");
}

static void error_test_str_every_code(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    const char *s = rot_error_str(kRows[i].code);
    assert_non_null(s);
    assert_true(strlen(s) > 0);
    assert_string_equal(s, kRows[i].reason);
    assert_string_not_equal(s, "unknown error");
  }
  assert_string_equal(rot_error_str(ROT_OK), "ok");
}

static void error_test_str_reasons_unique(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    for (size_t j = i + 1; j < N_ROWS; j++) {
      if (strcmp(kRows[i].reason, kRows[j].reason) == 0) {
        fail_msg("%s and %s give the same reason", kRows[i].name,
                 kRows[j].name);
      }
    }
  }
}

static void error_test_str_unknown(void **state) {
  (void)state;
  assert_string_equal(rot_error_str((rot_error_t)0), "unknown error");
  assert_string_equal(rot_error_str((rot_error_t)-1), "unknown error");
}

static void error_test_module_every_code(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ROWS; i++) {
    assert_int_equal(rot_error_module(kRows[i].code), kRows[i].module);
  }
}

static void error_test_module_ok_is_zero(void **state) {
  (void)state;
  assert_int_equal(rot_error_module(ROT_OK), 0);
}

static void error_test_module_examples(void **state) {
  (void)state;
  assert_int_equal(rot_error_module(ROT_ERROR_IMAGE_BAD_MAGIC), ROT_MOD_IMAGE);
  assert_int_equal(rot_error_module(ROT_ERROR_MANIFEST_WRONG_ROOT),
                   ROT_MOD_MANIFEST);
  assert_int_equal(rot_error_module(ROT_ERROR_CRYPTO_SIG_RANGE),
                   ROT_MOD_CRYPTO);
  assert_int_equal(rot_error_module(ROT_ERROR_OTP_WRITE_FAILED), ROT_MOD_OTP);
  assert_int_equal(rot_error_module(ROT_ERROR_POLICY_KEY_REVOKED),
                   ROT_MOD_POLICY);
}

static int g_calls;

static rot_error_t count_call(rot_error_t e) {
  g_calls++;
  return e;
}

static rot_error_t try_two(rot_error_t first, rot_error_t second) {
  ROT_TRY(count_call(first));
  ROT_TRY(count_call(second));
  return ROT_OK;
}

static void error_test_try_stops_at_first_failure(void **state) {
  (void)state;
  g_calls = 0;
  assert_int_equal(try_two(ROT_ERROR_IO_READ, ROT_OK), ROT_ERROR_IO_READ);
  assert_int_equal(g_calls, 1);
}

static void error_test_try_passes_ok_through(void **state) {
  (void)state;
  g_calls = 0;
  assert_int_equal(try_two(ROT_OK, ROT_ERROR_IO_WRITE), ROT_ERROR_IO_WRITE);
  assert_int_equal(g_calls, 2);
  g_calls = 0;
  assert_int_equal(try_two(ROT_OK, ROT_OK), ROT_OK);
  assert_int_equal(g_calls, 2);
}

static void error_test_hardened_bools_far_apart(void **state) {
  (void)state;
  assert_true(hamming(HARDENED_TRUE, HARDENED_FALSE) >= 8);
  assert_true(hamming(HARDENED_TRUE, 0) >= 6);
  assert_true(hamming(HARDENED_FALSE, 0) >= 4);
}

int main(void) {
  /* Whole lines, so the runner's summary parse never meets a torn line. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(error_test_list_not_empty),
      cmocka_unit_test(error_test_list_codes_unique),
      cmocka_unit_test(error_test_list_module_number_unique),
      cmocka_unit_test(error_test_list_codes_nonzero_and_positive),
      cmocka_unit_test(error_test_list_pairwise_hamming_at_least_2),
      cmocka_unit_test(error_test_ok_hamming_at_least_8_from_every_error),
      cmocka_unit_test(error_test_ok_far_from_zero),
      cmocka_unit_test(error_test_value_low_half_is_complement),
      cmocka_unit_test(error_test_name_every_code),
      cmocka_unit_test(error_test_name_unknown),
      cmocka_unit_test(error_test_str_every_code),
      cmocka_unit_test(error_test_str_reasons_unique),
      cmocka_unit_test(error_test_str_unknown),
      cmocka_unit_test(error_test_module_every_code),
      cmocka_unit_test(error_test_module_ok_is_zero),
      cmocka_unit_test(error_test_module_examples),
      cmocka_unit_test(error_test_try_stops_at_first_failure),
      cmocka_unit_test(error_test_try_passes_ok_through),
      cmocka_unit_test(error_test_hardened_bools_far_apart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
