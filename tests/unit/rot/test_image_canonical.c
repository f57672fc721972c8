/*
 * Signed image v1: the signature bytes are canonical and the keys are
 * curve points.
 *
 * ECDSA verifies (r, s) and (r, n - s) alike, so a verifier that took both
 * would accept a second, byte-different copy of every signed image that
 * nobody signed. The signers emit only s <= n/2 and the verifier refuses
 * the other half with its own code. A manifest key that is not a point of
 * P-384 is reported as such, not as a signature that does not verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rot/image.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/image_sign.h"
#include "test_keys.h"

#define PAYLOAD_LEN 48u
#define HYP ROT_IMAGE_TYPE_HYPERVISOR

/* ---- helpers ------------------------------------------------------------- */

static size_t manifest_sig_off(void) {
  return ROT_IMAGE_HEADER_SIZE + test_keys()->manifest_len - ROT_P384_SIG_LEN;
}

/* s := n - s, big-endian (s in [1, n-1]): the other valid signature. */
static void flip_s(uint8_t sig[ROT_P384_SIG_LEN]) {
  uint8_t *s = sig + ROT_P384_SCALAR_LEN;
  unsigned borrow = 0;
  for (size_t i = ROT_P384_SCALAR_LEN; i-- > 0;) {
    unsigned d = (unsigned)rot_p384_order[i] - s[i] - borrow;
    s[i] = (uint8_t)d;
    borrow = (d >> 8) & 1u;
  }
}

static rot_error_t verify_policy(const rot_policy_t *p, const uint8_t *img,
                                 size_t len) {
  uint8_t *copy = test_copy(img, len);
  rot_verified_image_t v;
  rot_error_t err =
      rot_image_verify(test_crypto(), p, copy, len, ROT_IMAGE_TYPE_ANY, &v);
  free(copy);
  if (err != ROT_OK) {
    assert_int_not_equal(v.token, ROT_VERIFY_TOKEN_VALID);
    assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  }
  return err;
}

static rot_error_t verify(const uint8_t *img, size_t len) {
  return verify_policy(&test_keys()->policy, img, len);
}

/*
 * A crypto port whose signer always answers with the high-S twin of the
 * real signature: a valid ECDSA signature the format does not accept.
 */
static const rot_crypto_t *g_real;
static rot_crypto_t g_high_s_crypto;

static rot_error_t high_s_sign(const rot_crypto_t *c,
                               const uint8_t priv[ROT_P384_SCALAR_LEN],
                               const uint8_t *digest, size_t digest_len,
                               uint8_t sig[ROT_P384_SIG_LEN]) {
  (void)c;
  ROT_TRY(g_real->ecdsa_p384_sign(g_real, priv, digest, digest_len, sig));
  if (rot_p384_low_s_check(sig + ROT_P384_SCALAR_LEN) == ROT_OK) {
    flip_s(sig);
  }
  return ROT_OK;
}

static const rot_crypto_t *high_s_crypto(void) {
  g_real = test_crypto();
  g_high_s_crypto = *g_real;
  g_high_s_crypto.ecdsa_p384_sign = high_s_sign;
  return &g_high_s_crypto;
}

/* ---- signers emit low-S --------------------------------------------------- */

static void image_canonical_test_sign_low_s_every_time(void **state) {
  (void)state;
  /* Half of all raw ECDSA signatures have a high s; 64 images that all
   * come out low cannot be luck. */
  const test_keys_t *k = test_keys();
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  for (uint32_t svn = 0; svn < 64; svn++) {
    rot_image_header_t h = test_header(HYP);
    h.svn = svn;
    size_t len;
    uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                   k->signer.priv, payload, PAYLOAD_LEN, &len);
    rot_error_t err =
        rot_p384_low_s_check(img + len - ROT_IMAGE_SIG_SIZE + ROT_P384_SCALAR_LEN);
    if (err != ROT_OK) {
      fail_msg("svn %u: image signature: %s", svn, rot_error_name(err));
    }
    assert_int_equal(verify(img, len), ROT_OK);
    free(img);
  }
  free(payload);
}

static void image_canonical_test_manifest_build_low_s_every_time(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e;
  memset(&e, 0, sizeof(e));
  memcpy(e.pub, k->signer.pub, ROT_P384_PUBKEY_LEN);
  for (uint32_t i = 0; i < 64; i++) {
    uint8_t m[ROT_MANIFEST_MAX_SIZE];
    size_t len = 0;
    e.key_index = i % ROT_MAX_KEY_INDEX;
    e.allowed_types = 1u << (1u + i % ROT_IMAGE_TYPE_MAX);
    assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, &e, 1, m,
                                        sizeof(m), &len),
                     ROT_OK);
    rot_error_t err = rot_p384_low_s_check(m + len - ROT_P384_SCALAR_LEN);
    if (err != ROT_OK) {
      fail_msg("manifest %u: root signature: %s", i, rot_error_name(err));
    }
  }
}

static void image_canonical_test_sign_normalizes_high_s_backend(void **state) {
  (void)state;
  /* A backend that returns the high twin: the core signer still writes
   * the canonical form, and the image verifies. */
  const test_keys_t *k = test_keys();
  const rot_crypto_t *c = high_s_crypto();
  rot_image_header_t h = test_header(HYP);
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  size_t cap = ROT_IMAGE_HEADER_SIZE + k->manifest_len + PAYLOAD_LEN +
               ROT_IMAGE_SIG_SIZE;
  uint8_t *img = malloc(cap);
  assert_non_null(img);
  size_t len = 0;
  assert_int_equal(rot_image_sign(c, &h, k->manifest, k->manifest_len,
                                  k->signer.priv, payload, PAYLOAD_LEN, img,
                                  cap, &len),
                   ROT_OK);
  assert_int_equal(len, cap);
  assert_int_equal(rot_p384_low_s_check(img + len - ROT_P384_SCALAR_LEN),
                   ROT_OK);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
  free(payload);
}

static void image_canonical_test_manifest_build_normalizes_high_s_backend(
    void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  const rot_crypto_t *c = high_s_crypto();
  rot_manifest_entry_t e;
  memset(&e, 0, sizeof(e));
  e.key_index = TEST_KEY_INDEX_ALL;
  e.allowed_types = TEST_ALL_TYPES;
  memcpy(e.pub, k->signer.pub, ROT_P384_PUBKEY_LEN);
  uint8_t m[ROT_MANIFEST_MAX_SIZE];
  size_t mlen = 0;
  assert_int_equal(
      rot_manifest_build(c, k->root.priv, &e, 1, m, sizeof(m), &mlen), ROT_OK);
  assert_int_equal(rot_p384_low_s_check(m + mlen - ROT_P384_SCALAR_LEN), ROT_OK);
  /* And an image under it verifies against the root. */
  rot_image_header_t h = test_header(HYP);
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  size_t len;
  uint8_t *img = test_image_sign(&h, m, mlen, k->signer.priv, payload,
                                 PAYLOAD_LEN, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
  free(payload);
}

/* ---- the verifier refuses high-S ----------------------------------------- */

static void image_canonical_test_verify_image_sig_high_s(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  uint8_t *sig = img + len - ROT_IMAGE_SIG_SIZE;
  flip_s(sig);
  /* The twin is a valid ECDSA signature over the same bytes... */
  const rot_crypto_t *c = test_crypto();
  uint8_t d[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, img,
                            ROT_IMAGE_HEADER_SIZE + test_keys()->manifest_len,
                            d, sizeof(d)),
                   ROT_OK);
  assert_int_equal(c->ecdsa_p384_verify(c, test_keys()->signer.pub, d,
                                        sizeof(d), sig),
                   ROT_OK);
  /* ...that the format refuses, with its own code. */
  assert_int_equal(verify(img, len), ROT_ERROR_CRYPTO_SIG_HIGH_S);
  flip_s(sig);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
}

static void image_canonical_test_verify_manifest_sig_high_s(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  /* The manifest is inside the image signature's scope: re-sign the image
   * so only the manifest's root signature is non-canonical. */
  flip_s(img + manifest_sig_off());
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_CRYPTO_SIG_HIGH_S);
  free(img);
}

static void image_canonical_test_verify_half_order_boundary(void **state) {
  (void)state;
  /* s = n/2 is the largest canonical s, s = n/2 + 1 the smallest high
   * one: the verdicts split exactly there, before any curve arithmetic. */
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  uint8_t *s = img + len - ROT_P384_SCALAR_LEN;
  memcpy(s, rot_p384_half_order, ROT_P384_SCALAR_LEN);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  s[ROT_P384_SCALAR_LEN - 1]++; /* half order ends in 0xb9: no carry */
  assert_int_equal(verify(img, len), ROT_ERROR_CRYPTO_SIG_HIGH_S);
  free(img);
}

/* ---- keys that are not curve points -------------------------------------- */

static void off_curve(uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  pub[ROT_P384_PUBKEY_LEN - 1] ^= 0x01; /* y changed: off the curve */
}

static void image_canonical_test_verify_signing_key_off_curve(void **state) {
  (void)state;
  /* The root certified a signing key that is not a point of P-384. */
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e;
  memset(&e, 0, sizeof(e));
  e.key_index = TEST_KEY_INDEX_ALL;
  e.allowed_types = TEST_ALL_TYPES;
  memcpy(e.pub, k->signer.pub, ROT_P384_PUBKEY_LEN);
  off_curve(e.pub);
  uint8_t m[ROT_MANIFEST_MAX_SIZE];
  size_t mlen = 0;
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, &e, 1, m,
                                      sizeof(m), &mlen),
                   ROT_OK);
  rot_image_header_t h = test_header(HYP);
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  size_t len;
  uint8_t *img = test_image_sign(&h, m, mlen, k->signer.priv, payload,
                                 PAYLOAD_LEN, &len);
  assert_int_equal(verify(img, len), ROT_ERROR_CRYPTO_BAD_KEY);
  free(img);
  free(payload);
}

static void image_canonical_test_verify_root_key_off_curve(void **state) {
  (void)state;
  /* OTP names the hash of a root key that is not a curve point (a bad
   * provisioning): the manifest check says so. */
  const test_keys_t *k = test_keys();
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  uint8_t *m = img + ROT_IMAGE_HEADER_SIZE;
  off_curve(m + offsetof(rot_manifest_head_t, root_pub));
  test_manifest_resign(m, k->manifest_len, k->root.priv);
  test_image_resign(img, len, k->signer.priv);
  rot_policy_t p = k->policy;
  test_key_hash(m + offsetof(rot_manifest_head_t, root_pub), p.root_key_hash);
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_CRYPTO_BAD_KEY);
  free(img);
}

static void image_canonical_test_verify_key_on_curve_wrong_signer(void **state) {
  (void)state;
  /* The contrast: a good point that did not sign is still a bad signature. */
  const test_keys_t *k = test_keys();
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  test_image_resign(img, len, k->stranger.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(image_canonical_test_sign_low_s_every_time),
      cmocka_unit_test(image_canonical_test_manifest_build_low_s_every_time),
      cmocka_unit_test(image_canonical_test_sign_normalizes_high_s_backend),
      cmocka_unit_test(
          image_canonical_test_manifest_build_normalizes_high_s_backend),
      cmocka_unit_test(image_canonical_test_verify_image_sig_high_s),
      cmocka_unit_test(image_canonical_test_verify_manifest_sig_high_s),
      cmocka_unit_test(image_canonical_test_verify_half_order_boundary),
      cmocka_unit_test(image_canonical_test_verify_signing_key_off_curve),
      cmocka_unit_test(image_canonical_test_verify_root_key_off_curve),
      cmocka_unit_test(image_canonical_test_verify_key_on_curve_wrong_signer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
