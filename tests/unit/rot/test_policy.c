/*
 * Image types, their names and load regions, and lifecycle names: the
 * tables every verification decision about placement rests on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rot/policy.h"
#include "rot_client/names.h"

static void policy_test_image_region_every_type(void **state) {
  (void)state;
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    const rot_region_t *r = rot_image_region(t);
    assert_non_null(r);
    assert_true(r->base < r->end);
  }
}

static void policy_test_image_region_unknown_type(void **state) {
  (void)state;
  assert_null(rot_image_region(0));
  assert_null(rot_image_region(ROT_IMAGE_TYPE_MAX + 1));
  assert_null(rot_image_region(ROT_IMAGE_TYPE_ANY));
}

static void policy_test_image_region_code_and_data(void **state) {
  (void)state;
  assert_int_equal(rot_image_region(ROT_IMAGE_TYPE_ROT)->executable, 1);
  assert_int_equal(rot_image_region(ROT_IMAGE_TYPE_OPENSBI)->executable, 1);
  assert_int_equal(rot_image_region(ROT_IMAGE_TYPE_HYPERVISOR)->executable, 1);
  assert_int_equal(rot_image_region(ROT_IMAGE_TYPE_RECOVERY)->executable, 1);
  assert_int_equal(rot_image_region(ROT_IMAGE_TYPE_DTB)->executable, 0);
}

static void policy_test_image_region_host_windows_disjoint(void **state) {
  (void)state;
  /* Firmware, payload and device tree must not be loadable over each
   * other (recovery replaces the payload, so it may share its window). */
  static const uint32_t kTypes[] = {ROT_IMAGE_TYPE_OPENSBI,
                                    ROT_IMAGE_TYPE_HYPERVISOR,
                                    ROT_IMAGE_TYPE_DTB};
  for (size_t i = 0; i < 3; i++) {
    for (size_t j = i + 1; j < 3; j++) {
      const rot_region_t *a = rot_image_region(kTypes[i]);
      const rot_region_t *b = rot_image_region(kTypes[j]);
      assert_true(a->end <= b->base || b->end <= a->base);
    }
  }
}

static void policy_test_image_type_name_every_type(void **state) {
  (void)state;
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    const char *n = rot_image_type_name(t);
    assert_non_null(n);
    assert_true(strlen(n) > 0);
    assert_int_equal(rot_image_type_from_name(n), t);
  }
  assert_string_equal(rot_image_type_name(ROT_IMAGE_TYPE_OPENSBI), "opensbi");
  assert_string_equal(rot_image_type_name(ROT_IMAGE_TYPE_DTB), "dtb");
}

static void policy_test_image_type_name_unknown(void **state) {
  (void)state;
  assert_null(rot_image_type_name(0));
  assert_null(rot_image_type_name(ROT_IMAGE_TYPE_MAX + 1));
  assert_null(rot_image_type_name(0xffffffffu));
}

static void policy_test_image_type_from_name_null(void **state) {
  (void)state;
  assert_int_equal(rot_image_type_from_name(NULL), 0);
}

static void policy_test_image_type_from_name_empty(void **state) {
  (void)state;
  assert_int_equal(rot_image_type_from_name(""), 0);
}

static void policy_test_image_type_from_name_near_misses(void **state) {
  (void)state;
  assert_int_equal(rot_image_type_from_name("opens"), 0);
  assert_int_equal(rot_image_type_from_name("opensbi2"), 0);
  assert_int_equal(rot_image_type_from_name("OpenSBI"), 0);
  assert_int_equal(rot_image_type_from_name(" dtb"), 0);
}

static void policy_test_image_type_from_name_oversized(void **state) {
  (void)state;
  char big[4096];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(rot_image_type_from_name(big), 0);
}

static void policy_test_lifecycle_name_every_state(void **state) {
  (void)state;
  assert_string_equal(rot_lifecycle_name(ROT_LIFECYCLE_BLANK), "blank");
  assert_string_equal(rot_lifecycle_name(ROT_LIFECYCLE_DEV), "dev");
  assert_string_equal(rot_lifecycle_name(ROT_LIFECYCLE_PROD), "production");
  assert_string_equal(rot_lifecycle_name(ROT_LIFECYCLE_DECOMMISSIONED),
                      "decommissioned");
}

static void policy_test_lifecycle_name_unknown(void **state) {
  (void)state;
  assert_string_equal(rot_lifecycle_name(4), "invalid");
  assert_string_equal(rot_lifecycle_name(0xffffffffu), "invalid");
}

static void policy_test_types_fit_floor_slots(void **state) {
  (void)state;
  /* policy->svn_floor is indexed by type without a further check. */
  assert_true(ROT_IMAGE_TYPE_MAX < ROT_IMAGE_TYPE_SLOTS);
  assert_true(ROT_MAX_KEY_INDEX <= 32);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(policy_test_image_region_every_type),
      cmocka_unit_test(policy_test_image_region_unknown_type),
      cmocka_unit_test(policy_test_image_region_code_and_data),
      cmocka_unit_test(policy_test_image_region_host_windows_disjoint),
      cmocka_unit_test(policy_test_image_type_name_every_type),
      cmocka_unit_test(policy_test_image_type_name_unknown),
      cmocka_unit_test(policy_test_image_type_from_name_null),
      cmocka_unit_test(policy_test_image_type_from_name_empty),
      cmocka_unit_test(policy_test_image_type_from_name_near_misses),
      cmocka_unit_test(policy_test_image_type_from_name_oversized),
      cmocka_unit_test(policy_test_lifecycle_name_every_state),
      cmocka_unit_test(policy_test_lifecycle_name_unknown),
      cmocka_unit_test(policy_test_types_fit_floor_slots),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
