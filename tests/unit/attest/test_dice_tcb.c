/*
 * DiceTcbInfo parser (attest/verify.h): reads what the chip's encoder
 * (rot_dice_tcbinfo_encode) writes, and refuses malformed DER without
 * reading past its input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attest/verify.h"
#include "rot/dice.h"

static size_t encode(uint8_t mode, uint32_t svn, uint8_t *out) {
  rot_dice_tcb_t t;
  memset(&t, 0, sizeof(t));
  t.ver_major = 1;
  t.ver_minor = 22;
  t.ver_patch = 333;
  t.svn = svn;
  t.mode = mode;
  for (size_t i = 0; i < sizeof(t.fwid); i++) {
    t.fwid[i] = (uint8_t)(0xa0 + i);
  }
  size_t len = 0;
  assert_int_equal(rot_dice_tcbinfo_encode(&t, out, ROT_DICE_TCBINFO_MAX, &len),
                   ROT_OK);
  return len;
}

static void dice_tcb_test_reads_the_chip_encoding(void **state) {
  (void)state;
  static const struct {
    uint8_t mode;
    uint32_t svn, flags;
  } cases[] = {
      {ROT_DICE_MODE_NORMAL, 0, 0},
      {ROT_DICE_MODE_DEBUG, 2, ATTEST_DICE_FLAG_DEBUG},
      {ROT_DICE_MODE_NOT_CONFIGURED, 0x80, ATTEST_DICE_FLAG_NOT_CONFIGURED},
      {ROT_DICE_MODE_NORMAL, UINT32_MAX, 0},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    uint8_t der[ROT_DICE_TCBINFO_MAX];
    size_t len = encode(cases[c].mode, cases[c].svn, der);
    attest_dice_tcb_t t;
    assert_int_equal(attest_dice_tcbinfo_parse(der, len, &t), ROT_OK);
    assert_string_equal(t.vendor, ROT_DICE_VENDOR);
    assert_string_equal(t.model, ROT_DICE_MODEL);
    assert_string_equal(t.version, "1.22.333");
    assert_true(t.has_svn && t.has_fwid && t.has_flags);
    assert_int_equal(t.svn, cases[c].svn);
    assert_int_equal(t.flags, cases[c].flags);
    assert_int_equal(t.fwid[0], 0xa0);
    assert_int_equal(t.fwid[47], 0xa0 + 47);
  }
}

static void dice_tcb_test_every_truncation_and_flip(void **state) {
  (void)state;
  uint8_t der[ROT_DICE_TCBINFO_MAX];
  size_t len = encode(ROT_DICE_MODE_DEBUG, 7, der);
  attest_dice_tcb_t t;
  for (size_t n = 0; n < len; n++) {
    /* An exact-size heap copy, so ASan sees any read past the end. */
    uint8_t *cut = malloc(n ? n : 1);
    assert_non_null(cut);
    memcpy(cut, der, n);
    assert_int_equal(attest_dice_tcbinfo_parse(cut, n, &t),
                     ROT_ERROR_ATTEST_BAD_EVIDENCE);
    free(cut);
  }
  for (size_t i = 0; i < len; i++) {
    for (unsigned b = 0; b < 8; b++) {
      uint8_t *x = malloc(len);
      assert_non_null(x);
      memcpy(x, der, len);
      x[i] ^= (uint8_t)(1u << b);
      rot_error_t err = attest_dice_tcbinfo_parse(x, len, &t);
      assert_true(err == ROT_OK || err == ROT_ERROR_ATTEST_BAD_EVIDENCE);
      free(x);
    }
  }
}

static void dice_tcb_test_hostile(void **state) {
  (void)state;
  attest_dice_tcb_t t;
  /* Fields out of order (svn before version). */
  static const uint8_t order[] = {0x30, 0x06, 0x83, 0x01, 0x01,
                                  0x82, 0x01, 0x31};
  assert_int_equal(attest_dice_tcbinfo_parse(order, sizeof(order), &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  /* Indefinite length. */
  static const uint8_t indef[] = {0x30, 0x80, 0x83, 0x01, 0x01, 0x00, 0x00};
  assert_int_equal(attest_dice_tcbinfo_parse(indef, sizeof(indef), &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  /* A negative svn, and one over 32 bits. */
  static const uint8_t neg[] = {0x30, 0x03, 0x83, 0x01, 0xff};
  assert_int_equal(attest_dice_tcbinfo_parse(neg, sizeof(neg), &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  static const uint8_t big[] = {0x30, 0x07, 0x83, 0x05, 0x01,
                                0x00, 0x00, 0x00, 0x00};
  assert_int_equal(attest_dice_tcbinfo_parse(big, sizeof(big), &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  /* A length running past the end of the SEQUENCE. */
  static const uint8_t past[] = {0x30, 0x04, 0x80, 0x09, 0x72, 0x6f};
  assert_int_equal(attest_dice_tcbinfo_parse(past, sizeof(past), &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  /* Two SHA-384 FWIDs: which one did the chip measure? */
  uint8_t two[3 + 2 + 2 * 63];
  size_t n = 0;
  two[n++] = 0x30;
  two[n++] = 0x81;
  two[n++] = 2 + 2 * 63;
  two[n++] = 0xa6;
  two[n++] = 2 * 63;
  for (int k = 0; k < 2; k++) {
    static const uint8_t head[] = {0x30, 61, 0x06, 0x09, 0x60, 0x86, 0x48,
                                   0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
                                   0x04, 48};
    memcpy(two + n, head, sizeof(head));
    n += sizeof(head);
    memset(two + n, k, 48);
    n += 48;
  }
  assert_int_equal(n, sizeof(two));
  assert_int_equal(attest_dice_tcbinfo_parse(two, n, &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(attest_dice_tcbinfo_parse(NULL, 0, &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
}

/* A DER TLV with a minimal length; returns its size. */
static size_t tlv(uint8_t *out, uint8_t tag, const uint8_t *body, size_t n) {
  size_t h = 0;
  out[h++] = tag;
  if (n < 0x80) {
    out[h++] = (uint8_t)n;
  } else if (n < 0x100) {
    out[h++] = 0x81;
    out[h++] = (uint8_t)n;
  } else {
    out[h++] = 0x82;
    out[h++] = (uint8_t)(n >> 8);
    out[h++] = (uint8_t)n;
  }
  memmove(out + h, body, n);
  return h + n;
}

/* Extensions ::= SEQUENCE OF Extension, built around the chip's encoding. */
static size_t exts(const uint8_t *val, size_t vlen, int copies, int critical,
                   uint8_t *out) {
  static const uint8_t oid[] = {0x06, 0x06, 0x67, 0x81, 0x05, 0x05, 0x04, 0x01};
  static const uint8_t crit[] = {0x01, 0x01, 0xff};
  uint8_t ext[ROT_DICE_TCBINFO_MAX + 32], all[2 * sizeof(ext)];
  size_t e = 0;
  memcpy(ext, oid, sizeof(oid));
  e = sizeof(oid);
  if (critical) {
    memcpy(ext + e, crit, sizeof(crit));
    e += sizeof(crit);
  }
  e += tlv(ext + e, 0x04, val, vlen);
  uint8_t one[sizeof(ext) + 4];
  size_t o = tlv(one, 0x30, ext, e);
  size_t n = 0;
  for (int c = 0; c < copies; c++) {
    memcpy(all + n, one, o);
    n += o;
  }
  return tlv(out, 0x30, all, n);
}

static void dice_tcb_test_extension_search(void **state) {
  (void)state;
  uint8_t der[ROT_DICE_TCBINFO_MAX], e[2 * ROT_DICE_TCBINFO_MAX + 64];
  size_t len = encode(ROT_DICE_MODE_NORMAL, 9, der);
  attest_dice_tcb_t t;
  int found = -1;
  size_t n = exts(der, len, 1, 1, e);
  assert_int_equal(attest_dice_tcb_from_exts(e, n, &found, &t), ROT_OK);
  assert_int_equal(found, 1);
  assert_int_equal(t.svn, 9);
  n = exts(der, len, 2, 0, e);
  assert_int_equal(attest_dice_tcb_from_exts(e, n, &found, &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(found, 0);
  n = exts(der, len, 1, 0, e);
  e[9] ^= 0x01; /* another OID: no DiceTcbInfo */
  assert_int_equal(attest_dice_tcb_from_exts(e, n, &found, &t), ROT_OK);
  assert_int_equal(found, 0);
  assert_int_equal(attest_dice_tcb_from_exts(e, n - 1, &found, &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
  assert_int_equal(attest_dice_tcb_from_cert(e, n, &found, &t),
                   ROT_ERROR_ATTEST_BAD_EVIDENCE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(dice_tcb_test_reads_the_chip_encoding),
      cmocka_unit_test(dice_tcb_test_every_truncation_and_flip),
      cmocka_unit_test(dice_tcb_test_hostile),
      cmocka_unit_test(dice_tcb_test_extension_search),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
