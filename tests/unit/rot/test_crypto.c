/*
 * The crypto port on mbedTLS and the core's own checks around it: known
 * answers for every primitive, the ECDSA range check the core runs before
 * any backend, and the failure codes a verifier relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rot/crypto.h"
#include "rot/hardened.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"
#include "test_keys.h"

/* Decode a hex string into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  assert_true(n <= cap);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
  return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *hex) {
  uint8_t want[128];
  assert_int_equal(unhex(hex, want, sizeof(want)), len);
  assert_memory_equal(got, want, len);
}

/* ---- rot_p384_scalar_check ------------------------------------------- */

static void crypto_test_scalar_check_null(void **state) {
  (void)state;
  assert_int_equal(rot_p384_scalar_check(NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_scalar_check_zero(void **state) {
  (void)state;
  uint8_t s[ROT_P384_SCALAR_LEN] = {0};
  assert_int_equal(rot_p384_scalar_check(s), ROT_ERROR_CRYPTO_SIG_RANGE);
}

static void crypto_test_scalar_check_one_ok(void **state) {
  (void)state;
  uint8_t s[ROT_P384_SCALAR_LEN] = {0};
  s[ROT_P384_SCALAR_LEN - 1] = 1;
  assert_int_equal(rot_p384_scalar_check(s), ROT_OK);
}

static void crypto_test_scalar_check_n_minus_1_ok(void **state) {
  (void)state;
  uint8_t s[ROT_P384_SCALAR_LEN];
  memcpy(s, rot_p384_order, sizeof(s));
  s[ROT_P384_SCALAR_LEN - 1]--; /* n ends in 0x73: no borrow */
  assert_int_equal(rot_p384_scalar_check(s), ROT_OK);
}

static void crypto_test_scalar_check_n(void **state) {
  (void)state;
  assert_int_equal(rot_p384_scalar_check(rot_p384_order),
                   ROT_ERROR_CRYPTO_SIG_RANGE);
}

static void crypto_test_scalar_check_n_plus_1(void **state) {
  (void)state;
  uint8_t s[ROT_P384_SCALAR_LEN];
  test_order_plus(1, s);
  assert_int_equal(rot_p384_scalar_check(s), ROT_ERROR_CRYPTO_SIG_RANGE);
}

static void crypto_test_scalar_check_all_ff(void **state) {
  (void)state;
  uint8_t s[ROT_P384_SCALAR_LEN];
  memset(s, 0xff, sizeof(s));
  assert_int_equal(rot_p384_scalar_check(s), ROT_ERROR_CRYPTO_SIG_RANGE);
}

static void crypto_test_scalar_check_high_byte_below_n_ok(void **state) {
  (void)state;
  /* Equal to n in every byte but one, which is lower: decided late. */
  uint8_t s[ROT_P384_SCALAR_LEN];
  memcpy(s, rot_p384_order, sizeof(s));
  s[30] = (uint8_t)(s[30] - 1);
  s[ROT_P384_SCALAR_LEN - 1] = 0xff;
  assert_int_equal(rot_p384_scalar_check(s), ROT_OK);
}

/* ---- hashes ------------------------------------------------------------ */

static void crypto_test_hash_sha256_abc(void **state) {
  (void)state;
  uint8_t d[ROT_SHA256_LEN];
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA256, "abc", 3, d,
                            sizeof(d)),
                   ROT_OK);
  assert_hex(d, sizeof(d),
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void crypto_test_hash_sha384_abc(void **state) {
  (void)state;
  uint8_t d[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, "abc", 3, d,
                            sizeof(d)),
                   ROT_OK);
  assert_hex(d, sizeof(d),
             "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
             "8086072ba1e7cc2358baeca134c825a7");
}

static void crypto_test_hash_sha256_empty(void **state) {
  (void)state;
  uint8_t d[ROT_SHA256_LEN];
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA256, NULL, 0, d,
                            sizeof(d)),
                   ROT_OK);
  assert_hex(d, sizeof(d),
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void crypto_test_hash_sha384_empty(void **state) {
  (void)state;
  uint8_t d[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, "", 0, d,
                            sizeof(d)),
                   ROT_OK);
  assert_hex(d, sizeof(d),
             "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
             "274edebfe76f65fbd51ad2f14898b95b");
}

static void crypto_test_hash_null_crypto(void **state) {
  (void)state;
  uint8_t d[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(NULL, ROT_HASH_SHA384, "abc", 3, d, sizeof(d)),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_hash_null_data_nonzero_len(void **state) {
  (void)state;
  uint8_t d[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, NULL, 1, d,
                            sizeof(d)),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_hash_null_out(void **state) {
  (void)state;
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, "abc", 3, NULL,
                            ROT_SHA384_LEN),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_hash_out_too_small(void **state) {
  (void)state;
  uint8_t d[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, "abc", 3, d,
                            ROT_SHA384_LEN - 1),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA256, "abc", 3, d,
                            ROT_SHA256_LEN - 1),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_hash_unknown_alg(void **state) {
  (void)state;
  uint8_t d[64];
  assert_int_equal(rot_hash(test_crypto(), (rot_hash_alg_t)0x0d, "abc", 3, d,
                            sizeof(d)),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_hash_len((rot_hash_alg_t)0), 0);
}

static void crypto_test_hash_len(void **state) {
  (void)state;
  assert_int_equal(rot_hash_len(ROT_HASH_SHA256), 32);
  assert_int_equal(rot_hash_len(ROT_HASH_SHA384), 48);
}

/* Streaming in two pieces split at every point equals one shot. */
static void check_streaming(rot_hash_alg_t alg) {
  const rot_crypto_t *c = test_crypto();
  uint8_t data[300];
  for (size_t i = 0; i < sizeof(data); i++) {
    data[i] = (uint8_t)(i * 7u + 1u);
  }
  uint8_t one[ROT_SHA384_LEN], two[ROT_SHA384_LEN];
  size_t dl = rot_hash_len(alg);
  assert_int_equal(rot_hash(c, alg, data, sizeof(data), one, sizeof(one)),
                   ROT_OK);
  for (size_t cut = 0; cut <= sizeof(data); cut++) {
    rot_hash_ctx_t ctx;
    assert_int_equal(c->hash_start(c, &ctx, alg), ROT_OK);
    assert_int_equal(c->hash_update(c, &ctx, data, cut), ROT_OK);
    assert_int_equal(c->hash_update(c, &ctx, data + cut, sizeof(data) - cut),
                     ROT_OK);
    assert_int_equal(c->hash_finish(c, &ctx, two, sizeof(two)), ROT_OK);
    assert_memory_equal(one, two, dl);
  }
}

static void crypto_test_hash_streaming_sha256_equals_one_shot(void **state) {
  (void)state;
  check_streaming(ROT_HASH_SHA256);
}

static void crypto_test_hash_streaming_sha384_equals_one_shot(void **state) {
  (void)state;
  check_streaming(ROT_HASH_SHA384);
}

static void crypto_test_hash_finish_wipes_ctx(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  rot_hash_ctx_t ctx, zero;
  uint8_t d[ROT_SHA384_LEN];
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(c->hash_start(c, &ctx, ROT_HASH_SHA384), ROT_OK);
  assert_int_equal(c->hash_update(c, &ctx, "secret", 6), ROT_OK);
  assert_int_equal(c->hash_finish(c, &ctx, d, sizeof(d)), ROT_OK);
  assert_memory_equal(&ctx, &zero, sizeof(ctx));
}

/* ---- HMAC and HKDF ------------------------------------------------------ */

static void crypto_test_hmac_sha256_rfc4231_case1(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t key[20], mac[ROT_SHA256_LEN];
  memset(key, 0x0b, sizeof(key));
  assert_int_equal(c->hmac(c, ROT_HASH_SHA256, key, sizeof(key), "Hi There", 8,
                           mac, sizeof(mac)),
                   ROT_OK);
  assert_hex(mac, sizeof(mac),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void crypto_test_hmac_sha384_rfc4231_case1(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t key[20], mac[ROT_SHA384_LEN];
  memset(key, 0x0b, sizeof(key));
  assert_int_equal(c->hmac(c, ROT_HASH_SHA384, key, sizeof(key), "Hi There", 8,
                           mac, sizeof(mac)),
                   ROT_OK);
  assert_hex(mac, sizeof(mac),
             "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
             "faea9ea9076ede7f4af152e8b2fa9cb6");
}

static void crypto_test_hmac_out_too_small(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t key[20] = {0}, mac[ROT_SHA256_LEN];
  assert_int_equal(c->hmac(c, ROT_HASH_SHA256, key, sizeof(key), "x", 1, mac,
                           sizeof(mac) - 1),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_hmac_null_key(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t mac[ROT_SHA256_LEN];
  assert_int_equal(c->hmac(c, ROT_HASH_SHA256, NULL, 0, "x", 1, mac,
                           sizeof(mac)),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_hkdf_sha256_rfc5869_case1(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t ikm[22], salt[13], info[10], okm[42];
  memset(ikm, 0x0b, sizeof(ikm));
  for (size_t i = 0; i < sizeof(salt); i++) {
    salt[i] = (uint8_t)i;
  }
  for (size_t i = 0; i < sizeof(info); i++) {
    info[i] = (uint8_t)(0xf0 + i);
  }
  assert_int_equal(c->hkdf(c, ROT_HASH_SHA256, salt, sizeof(salt), ikm,
                           sizeof(ikm), info, sizeof(info), okm, sizeof(okm)),
                   ROT_OK);
  assert_hex(okm, sizeof(okm),
             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
             "34007208d5b887185865");
}

static void crypto_test_hkdf_empty_out(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t ikm[22] = {0}, okm[1];
  assert_int_equal(c->hkdf(c, ROT_HASH_SHA256, NULL, 0, ikm, sizeof(ikm), NULL,
                           0, okm, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_hkdf_oversized_out(void **state) {
  (void)state;
  /* RFC 5869 caps the output at 255 blocks of the hash. */
  const rot_crypto_t *c = test_crypto();
  static uint8_t okm[255 * ROT_SHA256_LEN + 1];
  uint8_t ikm[22] = {0};
  assert_int_equal(c->hkdf(c, ROT_HASH_SHA256, NULL, 0, ikm, sizeof(ikm), NULL,
                           0, okm, sizeof(okm)),
                   ROT_ERROR_CRYPTO_FAILED);
  assert_int_equal(c->hkdf(c, ROT_HASH_SHA256, NULL, 0, ikm, sizeof(ikm), NULL,
                           0, okm, sizeof(okm) - 1),
                   ROT_OK);
}

static void crypto_test_hkdf_null_ikm(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t okm[32];
  assert_int_equal(c->hkdf(c, ROT_HASH_SHA256, NULL, 0, NULL, 0, NULL, 0, okm,
                           sizeof(okm)),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- ECDSA P-384 -------------------------------------------------------- */

static void digest_of(const char *msg, uint8_t d[ROT_SHA384_LEN]) {
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, msg, strlen(msg), d,
                            ROT_SHA384_LEN),
                   ROT_OK);
}

static void crypto_test_ecdsa_sign_verify_round_trip(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  digest_of("round trip", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                   ROT_OK);
}

static void crypto_test_ecdsa_sign_deterministic(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], s1[ROT_P384_SIG_LEN], s2[ROT_P384_SIG_LEN];
  digest_of("rfc 6979", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), s1),
                   ROT_OK);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), s2),
                   ROT_OK);
  assert_memory_equal(s1, s2, sizeof(s1));
}

static void crypto_test_ecdsa_verify_wrong_key(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  digest_of("wrong key", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  assert_int_equal(rot_ecdsa_p384_verify(c, k->stranger.pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_SIGNATURE);
}

static void crypto_test_ecdsa_verify_tampered_digest(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  digest_of("tampered digest", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  d[17] ^= 0x20;
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_SIGNATURE);
}

static void crypto_test_ecdsa_verify_tampered_signature(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  digest_of("tampered sig", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  sig[ROT_P384_SIG_LEN - 1] ^= 0x01;
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_SIGNATURE);
}

static void crypto_test_ecdsa_verify_r_zero(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  digest_of("r zero", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  memset(sig, 0, ROT_P384_SCALAR_LEN);
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_SIG_RANGE);
}

static void crypto_test_ecdsa_verify_s_equal_n(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  digest_of("s = n", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  memcpy(sig + ROT_P384_SCALAR_LEN, rot_p384_order, ROT_P384_SCALAR_LEN);
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_SIG_RANGE);
}

static void crypto_test_ecdsa_verify_pub_not_on_curve(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN], pub[ROT_P384_PUBKEY_LEN];
  digest_of("not on curve", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  memcpy(pub, k->signer.pub, sizeof(pub));
  pub[ROT_P384_PUBKEY_LEN - 1] ^= 0x01; /* y changed: off the curve */
  assert_int_equal(rot_ecdsa_p384_verify(c, pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_KEY);
}

static void crypto_test_ecdsa_verify_pub_zero(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  uint8_t pub[ROT_P384_PUBKEY_LEN] = {0};
  digest_of("zero key", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  assert_int_equal(rot_ecdsa_p384_verify(c, pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_KEY);
}

static void crypto_test_ecdsa_verify_pub_coordinate_ge_p(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN], pub[ROT_P384_PUBKEY_LEN];
  digest_of("x >= p", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  memset(pub, 0xff, sizeof(pub));
  assert_int_equal(rot_ecdsa_p384_verify(c, pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_KEY);
}

static void crypto_test_ecdsa_verify_null_args(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN] = {1}, sig[ROT_P384_SIG_LEN] = {1};
  assert_int_equal(rot_ecdsa_p384_verify(NULL, k->signer.pub, d, sizeof(d), sig),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_ecdsa_p384_verify(c, NULL, d, sizeof(d), sig),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, NULL, sizeof(d), sig),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_ecdsa_verify_empty_digest(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN] = {1}, sig[ROT_P384_SIG_LEN] = {1};
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, 0, sig),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_ecdsa_sign_zero_key(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t priv[ROT_P384_SCALAR_LEN] = {0}, d[ROT_SHA384_LEN] = {1};
  uint8_t sig[ROT_P384_SIG_LEN];
  assert_int_equal(c->ecdsa_p384_sign(c, priv, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_KEY);
}

static void crypto_test_ecdsa_sign_key_equal_n(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t d[ROT_SHA384_LEN] = {1}, sig[ROT_P384_SIG_LEN];
  assert_int_equal(c->ecdsa_p384_sign(c, rot_p384_order, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_BAD_KEY);
}

static void crypto_test_ecdsa_pubkey_matches_keygen(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t pub[ROT_P384_PUBKEY_LEN];
  assert_int_equal(c->ecdsa_p384_pubkey(c, k->root.priv, pub), ROT_OK);
  assert_memory_equal(pub, k->root.pub, sizeof(pub));
}

static void crypto_test_ecdsa_pubkey_zero_key(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t priv[ROT_P384_SCALAR_LEN] = {0}, pub[ROT_P384_PUBKEY_LEN];
  assert_int_equal(c->ecdsa_p384_pubkey(c, priv, pub), ROT_ERROR_CRYPTO_BAD_KEY);
}

static void crypto_test_keygen_distinct(void **state) {
  (void)state;
  uint8_t p1[ROT_P384_SCALAR_LEN], q1[ROT_P384_PUBKEY_LEN];
  uint8_t p2[ROT_P384_SCALAR_LEN], q2[ROT_P384_PUBKEY_LEN];
  assert_int_equal(rot_host_p384_keygen(p1, q1), ROT_OK);
  assert_int_equal(rot_host_p384_keygen(p2, q2), ROT_OK);
  assert_memory_not_equal(p1, p2, sizeof(p1));
  assert_memory_not_equal(q1, q2, sizeof(q1));
}

static void crypto_test_keygen_null(void **state) {
  (void)state;
  uint8_t priv[ROT_P384_SCALAR_LEN], pub[ROT_P384_PUBKEY_LEN];
  assert_int_not_equal(rot_host_p384_keygen(NULL, pub), ROT_OK);
  assert_int_not_equal(rot_host_p384_keygen(priv, NULL), ROT_OK);
}

/* ---- canonical (low-S) signatures ------------------------------------- */

/* out := n - s, big-endian (s <= n). */
static void order_minus(const uint8_t s[ROT_P384_SCALAR_LEN],
                        uint8_t out[ROT_P384_SCALAR_LEN]) {
  unsigned borrow = 0;
  for (size_t i = ROT_P384_SCALAR_LEN; i-- > 0;) {
    unsigned d = (unsigned)rot_p384_order[i] - s[i] - borrow;
    out[i] = (uint8_t)d;
    borrow = (d >> 8) & 1u;
  }
}

static void crypto_test_half_order_is_n_over_2(void **state) {
  (void)state;
  /* 2 * half + 1 == n, byte by byte from the least significant end. */
  unsigned carry = 1;
  for (size_t i = ROT_P384_SCALAR_LEN; i-- > 0;) {
    unsigned v = 2u * rot_p384_half_order[i] + carry;
    assert_int_equal(v & 0xffu, rot_p384_order[i]);
    carry = v >> 8;
  }
  assert_int_equal(carry, 0);
}

static void crypto_test_low_s_check_null(void **state) {
  (void)state;
  assert_int_equal(rot_p384_low_s_check(NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_low_s_check_range(void **state) {
  (void)state;
  uint8_t s[ROT_P384_SCALAR_LEN] = {0};
  assert_int_equal(rot_p384_low_s_check(s), ROT_ERROR_CRYPTO_SIG_RANGE);
  assert_int_equal(rot_p384_low_s_check(rot_p384_order),
                   ROT_ERROR_CRYPTO_SIG_RANGE);
  memset(s, 0xff, sizeof(s));
  assert_int_equal(rot_p384_low_s_check(s), ROT_ERROR_CRYPTO_SIG_RANGE);
}

static void crypto_test_low_s_check_boundary(void **state) {
  (void)state;
  uint8_t s[ROT_P384_SCALAR_LEN] = {0};
  s[ROT_P384_SCALAR_LEN - 1] = 1;
  assert_int_equal(rot_p384_low_s_check(s), ROT_OK);
  assert_int_equal(rot_p384_low_s_check(rot_p384_half_order), ROT_OK);
  memcpy(s, rot_p384_half_order, sizeof(s));
  s[ROT_P384_SCALAR_LEN - 1]++; /* ends in 0xb9: no carry */
  assert_int_equal(rot_p384_low_s_check(s), ROT_ERROR_CRYPTO_SIG_HIGH_S);
  memcpy(s, rot_p384_order, sizeof(s));
  s[ROT_P384_SCALAR_LEN - 1]--;
  assert_int_equal(rot_p384_low_s_check(s), ROT_ERROR_CRYPTO_SIG_HIGH_S);
  /* High byte alone decides: 0x80.. is above n/2 = 0x7f... */
  memset(s, 0, sizeof(s));
  s[0] = 0x80;
  assert_int_equal(rot_p384_low_s_check(s), ROT_ERROR_CRYPTO_SIG_HIGH_S);
}

static void crypto_test_sig_normalize_null(void **state) {
  (void)state;
  assert_int_equal(rot_p384_sig_normalize(NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_sig_normalize_low_unchanged(void **state) {
  (void)state;
  uint8_t sig[ROT_P384_SIG_LEN], before[ROT_P384_SIG_LEN];
  memset(sig, 0x11, sizeof(sig));
  memcpy(sig + ROT_P384_SCALAR_LEN, rot_p384_half_order, ROT_P384_SCALAR_LEN);
  memcpy(before, sig, sizeof(sig));
  assert_int_equal(rot_p384_sig_normalize(sig), ROT_OK);
  assert_memory_equal(sig, before, sizeof(sig));
}

static void crypto_test_sig_normalize_high_becomes_n_minus_s(void **state) {
  (void)state;
  uint8_t sig[ROT_P384_SIG_LEN], want[ROT_P384_SCALAR_LEN];
  memset(sig, 0x22, ROT_P384_SCALAR_LEN);
  /* n - 1 -> 1 */
  memcpy(sig + ROT_P384_SCALAR_LEN, rot_p384_order, ROT_P384_SCALAR_LEN);
  sig[ROT_P384_SIG_LEN - 1]--;
  assert_int_equal(rot_p384_sig_normalize(sig), ROT_OK);
  memset(want, 0, sizeof(want));
  want[ROT_P384_SCALAR_LEN - 1] = 1;
  assert_memory_equal(sig + ROT_P384_SCALAR_LEN, want, sizeof(want));
  /* n/2 + 1 -> n/2 (n is odd) */
  memcpy(sig + ROT_P384_SCALAR_LEN, rot_p384_half_order, ROT_P384_SCALAR_LEN);
  sig[ROT_P384_SIG_LEN - 1]++;
  assert_int_equal(rot_p384_sig_normalize(sig), ROT_OK);
  assert_memory_equal(sig + ROT_P384_SCALAR_LEN, rot_p384_half_order,
                      ROT_P384_SCALAR_LEN);
  /* r is never touched */
  for (size_t i = 0; i < ROT_P384_SCALAR_LEN; i++) {
    assert_int_equal(sig[i], 0x22);
  }
}

static void crypto_test_sig_normalize_out_of_range_untouched(void **state) {
  (void)state;
  uint8_t sig[ROT_P384_SIG_LEN], before[ROT_P384_SIG_LEN];
  memset(sig, 0, ROT_P384_SCALAR_LEN); /* r = 0 */
  memset(sig + ROT_P384_SCALAR_LEN, 0xff, ROT_P384_SCALAR_LEN);
  memcpy(before, sig, sizeof(sig));
  assert_int_equal(rot_p384_sig_normalize(sig), ROT_ERROR_CRYPTO_SIG_RANGE);
  assert_memory_equal(sig, before, sizeof(sig));
  memset(sig, 0x33, ROT_P384_SCALAR_LEN); /* r fine, s = n */
  memcpy(sig + ROT_P384_SCALAR_LEN, rot_p384_order, ROT_P384_SCALAR_LEN);
  memcpy(before, sig, sizeof(sig));
  assert_int_equal(rot_p384_sig_normalize(sig), ROT_ERROR_CRYPTO_SIG_RANGE);
  assert_memory_equal(sig, before, sizeof(sig));
}

static void crypto_test_ecdsa_sign_low_s_every_time(void **state) {
  (void)state;
  /* Raw ECDSA gives a high s half the time; the backend must not. */
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  for (unsigned i = 0; i < 64; i++) {
    char msg[32];
    uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
    snprintf(msg, sizeof(msg), "low s %u", i);
    digest_of(msg, d);
    assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                     ROT_OK);
    rot_error_t err = rot_p384_low_s_check(sig + ROT_P384_SCALAR_LEN);
    if (err != ROT_OK) {
      fail_msg("digest %u: %s", i, rot_error_name(err));
    }
    assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                     ROT_OK);
  }
}

static void crypto_test_ecdsa_verify_high_s_twin(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN], sig[ROT_P384_SIG_LEN];
  digest_of("malleable", d);
  assert_int_equal(c->ecdsa_p384_sign(c, k->signer.priv, d, sizeof(d), sig),
                   ROT_OK);
  order_minus(sig + ROT_P384_SCALAR_LEN, sig + ROT_P384_SCALAR_LEN);
  /* The twin is valid ECDSA (the backend takes it)... */
  assert_int_equal(c->ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                   ROT_OK);
  /* ...and the core refuses it before the backend is asked. */
  assert_int_equal(rot_ecdsa_p384_verify(c, k->signer.pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_SIG_HIGH_S);
}

static void crypto_test_ecdsa_verify_high_s_before_key(void **state) {
  (void)state;
  /* A high s is judged before the key: no curve work for a malformed
   * signature. */
  const rot_crypto_t *c = test_crypto();
  uint8_t d[ROT_SHA384_LEN] = {1}, sig[ROT_P384_SIG_LEN];
  uint8_t pub[ROT_P384_PUBKEY_LEN] = {0};
  memset(sig, 0x01, ROT_P384_SCALAR_LEN);
  memset(sig + ROT_P384_SCALAR_LEN, 0x90, ROT_P384_SCALAR_LEN);
  assert_int_equal(rot_ecdsa_p384_verify(c, pub, d, sizeof(d), sig),
                   ROT_ERROR_CRYPTO_SIG_HIGH_S);
}

/*
 * The second look in rot_ecdsa_p384_verify: a backend that, once the core
 * has judged the scalars, leaves a high s in the buffer and says "valid".
 * The core must not return ROT_OK for bytes it would refuse: it stops.
 */
static uint8_t *g_swap_sig;
static const rot_crypto_t *g_swap_real;

static rot_error_t swap_verify(const rot_crypto_t *c,
                               const uint8_t pub[ROT_P384_PUBKEY_LEN],
                               const uint8_t *digest, size_t digest_len,
                               const uint8_t sig[ROT_P384_SIG_LEN]) {
  (void)c;
  rot_error_t err =
      g_swap_real->ecdsa_p384_verify(g_swap_real, pub, digest, digest_len, sig);
  order_minus(g_swap_sig + ROT_P384_SCALAR_LEN, g_swap_sig + ROT_P384_SCALAR_LEN);
  return err;
}

static void crypto_test_ecdsa_verify_second_look_stops(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN];
  digest_of("second look", d);
  g_swap_real = test_crypto();
  uint8_t *sig = malloc(ROT_P384_SIG_LEN);
  assert_non_null(sig);
  assert_int_equal(g_swap_real->ecdsa_p384_sign(g_swap_real, k->signer.priv, d,
                                                sizeof(d), sig),
                   ROT_OK);
  g_swap_sig = sig;
  rot_crypto_t swap = *g_swap_real;
  swap.ecdsa_p384_verify = swap_verify;

  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      dup2(devnull, STDERR_FILENO);
    }
    rot_error_t err = rot_ecdsa_p384_verify(&swap, k->signer.pub, d, sizeof(d),
                                            sig);
    _exit(err == ROT_OK ? 10 : 11);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  free(sig);
  if (!WIFSIGNALED(status) ||
      (WTERMSIG(status) != SIGABRT && WTERMSIG(status) != SIGILL &&
       WTERMSIG(status) != SIGTRAP)) {
    fail_msg("verify with a swapped s: %s %d, want a stop",
             WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
}

/* ---- RNG and constant-time compare ------------------------------------- */

static void crypto_test_rng_distinct_outputs(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t a[32], b[32];
  assert_int_equal(c->rng(c, a, sizeof(a)), ROT_OK);
  assert_int_equal(c->rng(c, b, sizeof(b)), ROT_OK);
  assert_memory_not_equal(a, b, sizeof(a));
}

static void crypto_test_rng_empty(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  uint8_t a[1] = {0x5a};
  assert_int_equal(c->rng(c, a, 0), ROT_OK);
  assert_int_equal(a[0], 0x5a);
}

static void crypto_test_rng_larger_than_one_request(void **state) {
  (void)state;
  /* Longer than one DRBG request: the backend must loop, not fail. */
  const rot_crypto_t *c = test_crypto();
  static uint8_t big[5000];
  memset(big, 0, sizeof(big));
  assert_int_equal(c->rng(c, big, sizeof(big)), ROT_OK);
  size_t zeros = 0;
  for (size_t i = 4096; i < sizeof(big); i++) {
    zeros += big[i] == 0;
  }
  assert_true(zeros < 64); /* the tail was written too */
}

static void crypto_test_rng_null(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  assert_int_equal(c->rng(c, NULL, 4), ROT_ERROR_INVALID_ARGUMENT);
}

static void crypto_test_ct_equal_equal(void **state) {
  (void)state;
  uint8_t a[48], b[48];
  memset(a, 0x3c, sizeof(a));
  memset(b, 0x3c, sizeof(b));
  assert_int_equal(rot_ct_equal(a, b, sizeof(a)), HARDENED_TRUE);
  assert_int_equal(rot_ct_equal(a, b, 0), HARDENED_TRUE);
}

static void crypto_test_ct_equal_differs_anywhere(void **state) {
  (void)state;
  uint8_t a[48], b[48];
  memset(a, 0x3c, sizeof(a));
  for (size_t i = 0; i < sizeof(a); i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      memcpy(b, a, sizeof(b));
      b[i] ^= (uint8_t)(1u << bit);
      assert_int_equal(rot_ct_equal(a, b, sizeof(a)), HARDENED_FALSE);
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(crypto_test_scalar_check_null),
      cmocka_unit_test(crypto_test_scalar_check_zero),
      cmocka_unit_test(crypto_test_scalar_check_one_ok),
      cmocka_unit_test(crypto_test_scalar_check_n_minus_1_ok),
      cmocka_unit_test(crypto_test_scalar_check_n),
      cmocka_unit_test(crypto_test_scalar_check_n_plus_1),
      cmocka_unit_test(crypto_test_scalar_check_all_ff),
      cmocka_unit_test(crypto_test_scalar_check_high_byte_below_n_ok),
      cmocka_unit_test(crypto_test_hash_sha256_abc),
      cmocka_unit_test(crypto_test_hash_sha384_abc),
      cmocka_unit_test(crypto_test_hash_sha256_empty),
      cmocka_unit_test(crypto_test_hash_sha384_empty),
      cmocka_unit_test(crypto_test_hash_null_crypto),
      cmocka_unit_test(crypto_test_hash_null_data_nonzero_len),
      cmocka_unit_test(crypto_test_hash_null_out),
      cmocka_unit_test(crypto_test_hash_out_too_small),
      cmocka_unit_test(crypto_test_hash_unknown_alg),
      cmocka_unit_test(crypto_test_hash_len),
      cmocka_unit_test(crypto_test_hash_streaming_sha256_equals_one_shot),
      cmocka_unit_test(crypto_test_hash_streaming_sha384_equals_one_shot),
      cmocka_unit_test(crypto_test_hash_finish_wipes_ctx),
      cmocka_unit_test(crypto_test_hmac_sha256_rfc4231_case1),
      cmocka_unit_test(crypto_test_hmac_sha384_rfc4231_case1),
      cmocka_unit_test(crypto_test_hmac_out_too_small),
      cmocka_unit_test(crypto_test_hmac_null_key),
      cmocka_unit_test(crypto_test_hkdf_sha256_rfc5869_case1),
      cmocka_unit_test(crypto_test_hkdf_empty_out),
      cmocka_unit_test(crypto_test_hkdf_oversized_out),
      cmocka_unit_test(crypto_test_hkdf_null_ikm),
      cmocka_unit_test(crypto_test_ecdsa_sign_verify_round_trip),
      cmocka_unit_test(crypto_test_ecdsa_sign_deterministic),
      cmocka_unit_test(crypto_test_ecdsa_verify_wrong_key),
      cmocka_unit_test(crypto_test_ecdsa_verify_tampered_digest),
      cmocka_unit_test(crypto_test_ecdsa_verify_tampered_signature),
      cmocka_unit_test(crypto_test_ecdsa_verify_r_zero),
      cmocka_unit_test(crypto_test_ecdsa_verify_s_equal_n),
      cmocka_unit_test(crypto_test_ecdsa_verify_pub_not_on_curve),
      cmocka_unit_test(crypto_test_ecdsa_verify_pub_zero),
      cmocka_unit_test(crypto_test_ecdsa_verify_pub_coordinate_ge_p),
      cmocka_unit_test(crypto_test_ecdsa_verify_null_args),
      cmocka_unit_test(crypto_test_ecdsa_verify_empty_digest),
      cmocka_unit_test(crypto_test_ecdsa_sign_zero_key),
      cmocka_unit_test(crypto_test_ecdsa_sign_key_equal_n),
      cmocka_unit_test(crypto_test_ecdsa_pubkey_matches_keygen),
      cmocka_unit_test(crypto_test_ecdsa_pubkey_zero_key),
      cmocka_unit_test(crypto_test_keygen_distinct),
      cmocka_unit_test(crypto_test_keygen_null),
      cmocka_unit_test(crypto_test_half_order_is_n_over_2),
      cmocka_unit_test(crypto_test_low_s_check_null),
      cmocka_unit_test(crypto_test_low_s_check_range),
      cmocka_unit_test(crypto_test_low_s_check_boundary),
      cmocka_unit_test(crypto_test_sig_normalize_null),
      cmocka_unit_test(crypto_test_sig_normalize_low_unchanged),
      cmocka_unit_test(crypto_test_sig_normalize_high_becomes_n_minus_s),
      cmocka_unit_test(crypto_test_sig_normalize_out_of_range_untouched),
      cmocka_unit_test(crypto_test_ecdsa_sign_low_s_every_time),
      cmocka_unit_test(crypto_test_ecdsa_verify_high_s_twin),
      cmocka_unit_test(crypto_test_ecdsa_verify_high_s_before_key),
      cmocka_unit_test(crypto_test_ecdsa_verify_second_look_stops),
      cmocka_unit_test(crypto_test_rng_distinct_outputs),
      cmocka_unit_test(crypto_test_rng_empty),
      cmocka_unit_test(crypto_test_rng_larger_than_one_request),
      cmocka_unit_test(crypto_test_rng_null),
      cmocka_unit_test(crypto_test_ct_equal_equal),
      cmocka_unit_test(crypto_test_ct_equal_differs_anywhere),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
