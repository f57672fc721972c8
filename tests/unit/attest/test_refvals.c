/*
 * Reference values (attest/refvals.h): the accepted RoT firmware list in
 * both its forms (an array, and the single string older files carry), and
 * every malformed list refused with the field named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "attest/refvals.h"

/* A small valid policy: one hypervisor image, the given S-CRTM versions. */
static void policy_with(attest_policy_t *p, const char *const *fw, uint32_t n) {
  memset(p, 0, sizeof(*p));
  p->pcr_mask = 0xb3u;
  p->nbanks = 2;
  p->banks[0] = 0x000b;
  p->banks[1] = 0x000c;
  memset(p->root_key_sha384, 0x5a, sizeof(p->root_key_sha384));
  p->lifecycles = 1u << ROT_LIFECYCLE_PROD;
  p->nimages = 1;
  p->images[0].type = ROT_IMAGE_TYPE_HYPERVISOR;
  p->images[0].svn = 3;
  p->images[0].ver_major = 1;
  p->signers[ROT_IMAGE_TYPE_HYPERVISOR] = 1u;
  p->svn_floor[ROT_IMAGE_TYPE_HYPERVISOR] = 3;
  for (uint32_t i = 0; i < n; i++) {
    strcpy(p->rot_firmware[i], fw[i]);
  }
  p->nrot_firmware = n;
}

/* The policy's JSON with "rot_firmware" replaced by value (json-c owns
 * it), decoded; detail gets the decoder's reason. */
static rot_error_t decode_with(json_object *value, attest_policy_t *out,
                               char *detail, size_t cap) {
  static const char *const one[] = {"rot-stack rot 1.0.0 svn 1"};
  attest_policy_t p;
  policy_with(&p, one, 1);
  char *json = NULL;
  assert_int_equal(attest_refvals_encode(&p, &json), ROT_OK);
  json_object *root = json_tokener_parse(json);
  assert_non_null(root);
  free(json);
  json_object_object_add(root, "rot_firmware", value);
  const char *s = json_object_to_json_string(root);
  rot_error_t err = attest_refvals_decode(s, strlen(s), out, detail, cap);
  json_object_put(root);
  return err;
}

static void refvals_test_rot_firmware_list_round_trip(void **state) {
  (void)state;
  static const char *const two[] = {"rot-stack rot 1.0.0 svn 1",
                                    "rot-stack rot 1.1.0 svn 2"};
  attest_policy_t p, q;
  policy_with(&p, two, 2);
  char *json = NULL;
  assert_int_equal(attest_refvals_encode(&p, &json), ROT_OK);
  /* Written as an array, every accepted version in it. */
  json_object *root = json_tokener_parse(json);
  json_object *fw = NULL;
  assert_true(json_object_object_get_ex(root, "rot_firmware", &fw));
  assert_true(json_object_is_type(fw, json_type_array));
  assert_int_equal(json_object_array_length(fw), 2);
  json_object_put(root);
  char detail[256];
  assert_int_equal(attest_refvals_decode(json, strlen(json), &q, detail,
                                         sizeof(detail)),
                   ROT_OK);
  free(json);
  assert_int_equal(q.nrot_firmware, 2);
  assert_string_equal(q.rot_firmware[0], two[0]);
  assert_string_equal(q.rot_firmware[1], two[1]);
}

/* A file written before the list: one string, still read. */
static void refvals_test_rot_firmware_single_string_reads(void **state) {
  (void)state;
  attest_policy_t q;
  char detail[256];
  assert_int_equal(decode_with(json_object_new_string("rot-stack 0.1.0"), &q,
                               detail, sizeof(detail)),
                   ROT_OK);
  assert_int_equal(q.nrot_firmware, 1);
  assert_string_equal(q.rot_firmware[0], "rot-stack 0.1.0");
}

static void refvals_test_rot_firmware_hostile(void **state) {
  (void)state;
  attest_policy_t q;
  char detail[256];
  json_object *cases[8];
  size_t n = 0;
  cases[n++] = json_object_new_array();         /* empty */
  cases[n++] = json_object_new_string("");      /* empty string */
  cases[n++] = json_object_new_int(7);          /* not a string */
  json_object *a = json_object_new_array();     /* a non-string entry */
  json_object_array_add(a, json_object_new_string("rot-stack 0.1.0"));
  json_object_array_add(a, json_object_new_int(1));
  cases[n++] = a;
  a = json_object_new_array(); /* repeated */
  json_object_array_add(a, json_object_new_string("rot-stack 0.1.0"));
  json_object_array_add(a, json_object_new_string("rot-stack 0.1.0"));
  cases[n++] = a;
  a = json_object_new_array(); /* too many */
  for (uint32_t i = 0; i <= ATTEST_REF_MAX_IMAGES; i++) {
    char v[32];
    snprintf(v, sizeof(v), "rot-stack rot 1.%u.0 svn 1", i);
    json_object_array_add(a, json_object_new_string(v));
  }
  cases[n++] = a;
  char longer[80];
  memset(longer, 'v', sizeof(longer) - 1);
  longer[sizeof(longer) - 1] = '\0';
  cases[n++] = json_object_new_string(longer); /* over 63 chars */
  cases[n++] = json_object_new_string_len("rot\0stack", 9); /* embedded NUL */
  for (size_t i = 0; i < n; i++) {
    detail[0] = '\0';
    if (decode_with(cases[i], &q, detail, sizeof(detail)) !=
            ROT_ERROR_ATTEST_BAD_POLICY ||
        strstr(detail, "rot_firmware") == NULL) {
      fail_msg("case %zu: not refused naming rot_firmware (%s)", i, detail);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(refvals_test_rot_firmware_list_round_trip),
      cmocka_unit_test(refvals_test_rot_firmware_single_string_reads),
      cmocka_unit_test(refvals_test_rot_firmware_hostile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
