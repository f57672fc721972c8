/*
 * Both host crypto backends, mbedTLS and OpenSSL's libcrypto, on the same
 * vectors: every hash (published digests, streamed in odd splits), HMAC
 * (RFC 4231) and HKDF (RFC 5869) vectors, every verify (signatures made by
 * mbedTLS and by libcrypto itself), and every known-bad signature and key.
 * The verdicts and codes must be identical, so either backend can stand in
 * for the other.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ECDSA_do_sign: an independent signer */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>

#include "rot/crypto.h"
#include "rot_client/names.h"
#include "rot_host/crypto_host.h"

typedef const rot_crypto_t *(*backend_fn)(void);
static const backend_fn kBackends[] = {rot_host_crypto_mbedtls,
                                       rot_host_crypto_openssl};
static const char *const kNames[] = {"mbedtls", "openssl"};
#define NB (sizeof(kBackends) / sizeof(kBackends[0]))

static size_t unhex(const char *h, uint8_t *out, size_t cap) {
  size_t n = strlen(h) / 2;
  assert_true(n <= cap);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
  return n;
}

/* Streamed in splits of 1, 2, 3 ... bytes, then one-shot: same digest. */
static void hash_both_ways(const rot_crypto_t *c, rot_hash_alg_t alg,
                           const uint8_t *m, size_t len, uint8_t *out) {
  rot_hash_ctx_t ctx;
  assert_int_equal(c->hash_start(c, &ctx, alg), ROT_OK);
  size_t off = 0, step = 1;
  while (off < len) {
    size_t n = len - off < step ? len - off : step;
    assert_int_equal(c->hash_update(c, &ctx, m + off, n), ROT_OK);
    off += n;
    step++;
  }
  assert_int_equal(c->hash_update(c, &ctx, NULL, 0), ROT_OK);
  assert_int_equal(c->hash_finish(c, &ctx, out, 48), ROT_OK);
  uint8_t once[48];
  assert_int_equal(rot_hash(c, alg, m, len, once, sizeof(once)), ROT_OK);
  assert_memory_equal(out, once, rot_hash_len(alg));
}

static void crypto_backends_test_hash_vectors(void **state) {
  (void)state;
  static const struct {
    rot_hash_alg_t alg;
    const char *msg;
    const char *hex;
  } v[] = {
      {ROT_HASH_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {ROT_HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {ROT_HASH_SHA384, "",
       "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"},
      {ROT_HASH_SHA384, "abc",
       "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
  };
  for (size_t b = 0; b < NB; b++) {
    const rot_crypto_t *c = kBackends[b]();
    assert_non_null(c);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
      uint8_t want[48], got[48];
      size_t n = unhex(v[i].hex, want, sizeof(want));
      hash_both_ways(c, v[i].alg, (const uint8_t *)v[i].msg, strlen(v[i].msg), got);
      if (memcmp(got, want, n) != 0) {
        fail_msg("%s: digest %zu differs", kNames[b], i);
      }
    }
  }
}

/* A long input over block boundaries: both backends agree. */
static void crypto_backends_test_hash_long_agree(void **state) {
  (void)state;
  size_t len = 300001;
  uint8_t *m = malloc(len);
  assert_non_null(m);
  uint32_t x = 12345;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    m[i] = (uint8_t)(x >> 16);
  }
  for (int a = 0; a < 2; a++) {
    rot_hash_alg_t alg = a ? ROT_HASH_SHA384 : ROT_HASH_SHA256;
    uint8_t d[NB][48];
    for (size_t b = 0; b < NB; b++) {
      hash_both_ways(kBackends[b](), alg, m, len, d[b]);
    }
    assert_memory_equal(d[0], d[1], rot_hash_len(alg));
  }
  free(m);
}

static void crypto_backends_test_hash_bad_args(void **state) {
  (void)state;
  for (size_t b = 0; b < NB; b++) {
    const rot_crypto_t *c = kBackends[b]();
    rot_hash_ctx_t ctx;
    uint8_t out[48];
    assert_int_equal(c->hash_start(c, &ctx, (rot_hash_alg_t)0x99),
                     ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_start(c, NULL, ROT_HASH_SHA256), ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_start(c, &ctx, ROT_HASH_SHA384), ROT_OK);
    assert_int_equal(c->hash_update(c, &ctx, NULL, 1), ROT_ERROR_INVALID_ARGUMENT);
    /* Too small an output: refused, and the context is wiped anyway. */
    assert_int_equal(c->hash_finish(c, &ctx, out, 47), ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(ctx.alg, 0);
    /* A wiped context, or one whose start was refused, takes no data and
     * gives no digest, even an empty update. */
    assert_int_equal(c->hash_update(c, &ctx, out, 1), ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_update(c, &ctx, NULL, 0), ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_start(c, &ctx, (rot_hash_alg_t)0x99),
                     ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_update(c, &ctx, out, 1), ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_finish(c, &ctx, out, sizeof(out)),
                     ROT_ERROR_INVALID_ARGUMENT);
    /* NULL arguments, and a NULL output still wipes the context. */
    assert_int_equal(c->hash_update(c, NULL, out, 1), ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_finish(c, NULL, out, sizeof(out)),
                     ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(c->hash_start(c, &ctx, ROT_HASH_SHA256), ROT_OK);
    assert_int_equal(c->hash_finish(c, &ctx, NULL, sizeof(out)),
                     ROT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(ctx.alg, 0);
  }
}

static void crypto_backends_test_hmac_rfc4231(void **state) {
  (void)state;
  static const char kData[] = "what do ya want for nothing?";
  static const char kKey[] = "Jefe";
  static const char k256[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  static const char k384[] =
      "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
      "8e2240ca5e69e2c78b3239ecfab21649";
  for (size_t b = 0; b < NB; b++) {
    const rot_crypto_t *c = kBackends[b]();
    uint8_t want[48], got[48];
    size_t n = unhex(k256, want, sizeof(want));
    assert_int_equal(c->hmac(c, ROT_HASH_SHA256, (const uint8_t *)kKey, 4, kData,
                             strlen(kData), got, sizeof(got)),
                     ROT_OK);
    assert_memory_equal(got, want, n);
    n = unhex(k384, want, sizeof(want));
    assert_int_equal(c->hmac(c, ROT_HASH_SHA384, (const uint8_t *)kKey, 4, kData,
                             strlen(kData), got, sizeof(got)),
                     ROT_OK);
    assert_memory_equal(got, want, n);
    assert_int_equal(c->hmac(c, ROT_HASH_SHA256, (const uint8_t *)kKey, 4, kData,
                             strlen(kData), got, 31),
                     ROT_ERROR_INVALID_ARGUMENT);
  }
}

static void crypto_backends_test_hkdf_rfc5869(void **state) {
  (void)state;
  uint8_t ikm[22], salt[13], info[10];
  memset(ikm, 0x0b, sizeof(ikm));
  for (size_t i = 0; i < sizeof(salt); i++) {
    salt[i] = (uint8_t)i;
  }
  for (size_t i = 0; i < sizeof(info); i++) {
    info[i] = (uint8_t)(0xf0 + i);
  }
  uint8_t want1[42], want3[42];
  unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        want1, sizeof(want1));
  unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        want3, sizeof(want3));
  for (size_t b = 0; b < NB; b++) {
    const rot_crypto_t *c = kBackends[b]();
    uint8_t got[42];
    assert_int_equal(c->hkdf(c, ROT_HASH_SHA256, salt, sizeof(salt), ikm, sizeof(ikm),
                             info, sizeof(info), got, sizeof(got)),
                     ROT_OK);
    assert_memory_equal(got, want1, sizeof(got));
    /* Test case 3: no salt, no info. */
    assert_int_equal(c->hkdf(c, ROT_HASH_SHA256, NULL, 0, ikm, sizeof(ikm), NULL, 0,
                             got, sizeof(got)),
                     ROT_OK);
    assert_memory_equal(got, want3, sizeof(got));
  }
}

/* ---- P-384 ------------------------------------------------------------------ */

typedef struct sig_case {
  uint8_t pub[ROT_P384_PUBKEY_LEN];
  uint8_t digest[ROT_SHA384_LEN];
  uint8_t sig[ROT_P384_SIG_LEN];
} sig_case_t;

/* A signature made by libcrypto itself (random nonce), low-S normalised
 * as the format requires: an independent signer for the mbedTLS verify. */
static void ossl_sign(const uint8_t priv[ROT_P384_SCALAR_LEN],
                      const uint8_t digest[ROT_SHA384_LEN],
                      uint8_t sig[ROT_P384_SIG_LEN]) {
  EC_KEY *k = EC_KEY_new_by_curve_name(NID_secp384r1);
  BIGNUM *d = BN_bin2bn(priv, ROT_P384_SCALAR_LEN, NULL);
  assert_non_null(k);
  assert_non_null(d);
  assert_int_equal(EC_KEY_set_private_key(k, d), 1);
  ECDSA_SIG *s = ECDSA_do_sign(digest, ROT_SHA384_LEN, k);
  assert_non_null(s);
  const BIGNUM *r = NULL, *sv = NULL;
  ECDSA_SIG_get0(s, &r, &sv);
  assert_int_equal(BN_bn2binpad(r, sig, ROT_P384_SCALAR_LEN), ROT_P384_SCALAR_LEN);
  assert_int_equal(BN_bn2binpad(sv, sig + ROT_P384_SCALAR_LEN, ROT_P384_SCALAR_LEN),
                   ROT_P384_SCALAR_LEN);
  assert_int_equal(rot_p384_sig_normalize(sig), ROT_OK);
  ECDSA_SIG_free(s);
  BN_free(d);
  EC_KEY_free(k);
}

static void make_cases(sig_case_t cases[2]) {
  uint8_t priv[ROT_P384_SCALAR_LEN];
  const rot_crypto_t *m = rot_host_crypto_mbedtls();
  for (int i = 0; i < 2; i++) {
    sig_case_t *t = &cases[i];
    assert_int_equal(rot_host_p384_keygen(priv, t->pub), ROT_OK);
    char msg[32];
    snprintf(msg, sizeof(msg), "cross-check %d", i);
    assert_int_equal(rot_hash(m, ROT_HASH_SHA384, msg, strlen(msg), t->digest,
                              sizeof(t->digest)),
                     ROT_OK);
    if (i == 0) {
      assert_int_equal(m->ecdsa_p384_sign(m, priv, t->digest, ROT_SHA384_LEN, t->sig),
                       ROT_OK);
    } else {
      ossl_sign(priv, t->digest, t->sig);
    }
  }
}

/* Both backends, raw and through the core's checks, give want. */
static void expect_verdict(const sig_case_t *t, const uint8_t *pub,
                           const uint8_t *digest, const uint8_t *sig,
                           rot_error_t want_raw, rot_error_t want_core,
                           const char *what) {
  for (size_t b = 0; b < NB; b++) {
    const rot_crypto_t *c = kBackends[b]();
    (void)t;
    if (want_raw != ROT_OK + 1u) {
      rot_error_t raw = c->ecdsa_p384_verify(c, pub, digest, ROT_SHA384_LEN, sig);
      if (raw != want_raw) {
        fail_msg("%s, %s raw: got %s, want %s", what, kNames[b], rot_error_name(raw),
                 rot_error_name(want_raw));
      }
    }
    rot_error_t core = rot_ecdsa_p384_verify(c, pub, digest, ROT_SHA384_LEN, sig);
    if (core != want_core) {
      fail_msg("%s, %s core: got %s, want %s", what, kNames[b], rot_error_name(core),
               rot_error_name(want_core));
    }
  }
}

/* A value no raw check is made against (the core refuses it first). */
#define NO_RAW ((rot_error_t)(ROT_OK + 1u))

static void crypto_backends_test_verify_good(void **state) {
  (void)state;
  sig_case_t cases[2];
  make_cases(cases);
  for (int i = 0; i < 2; i++) {
    const sig_case_t *t = &cases[i];
    expect_verdict(t, t->pub, t->digest, t->sig, ROT_OK, ROT_OK,
                   i ? "libcrypto-made signature" : "mbedTLS-made signature");
  }
  /* Deterministic signing: both backends sign alike (RFC 6979). */
  uint8_t priv[ROT_P384_SCALAR_LEN], pub[ROT_P384_PUBKEY_LEN];
  assert_int_equal(rot_host_p384_keygen(priv, pub), ROT_OK);
  uint8_t s[NB][ROT_P384_SIG_LEN], p[NB][ROT_P384_PUBKEY_LEN];
  for (size_t b = 0; b < NB; b++) {
    const rot_crypto_t *c = kBackends[b]();
    assert_int_equal(c->ecdsa_p384_sign(c, priv, cases[0].digest, ROT_SHA384_LEN, s[b]),
                     ROT_OK);
    assert_int_equal(c->ecdsa_p384_pubkey(c, priv, p[b]), ROT_OK);
    assert_memory_equal(p[b], pub, sizeof(pub));
  }
  assert_memory_equal(s[0], s[1], ROT_P384_SIG_LEN);
}

static void crypto_backends_test_verify_known_bad(void **state) {
  (void)state;
  sig_case_t cases[2];
  make_cases(cases);
  for (int i = 0; i < 2; i++) {
    const sig_case_t *t = &cases[i];
    uint8_t sig[ROT_P384_SIG_LEN], d[ROT_SHA384_LEN], pub[ROT_P384_PUBKEY_LEN];

    /* Every byte of r and s, one bit flipped. */
    for (size_t k = 0; k < ROT_P384_SIG_LEN; k += 7) {
      memcpy(sig, t->sig, sizeof(sig));
      sig[k] ^= 0x01;
      for (size_t b = 0; b < NB; b++) {
        const rot_crypto_t *c = kBackends[b]();
        rot_error_t e = rot_ecdsa_p384_verify(c, t->pub, t->digest, ROT_SHA384_LEN, sig);
        /* A flip may push s above n/2 (refused as high-S) or r/s out of
         * range; it never verifies, and both backends agree. */
        assert_int_not_equal(e, ROT_OK);
      }
      rot_error_t e0 = rot_ecdsa_p384_verify(kBackends[0](), t->pub, t->digest,
                                             ROT_SHA384_LEN, sig);
      rot_error_t e1 = rot_ecdsa_p384_verify(kBackends[1](), t->pub, t->digest,
                                             ROT_SHA384_LEN, sig);
      assert_int_equal(e0, e1);
    }
    /* Another digest. */
    memcpy(d, t->digest, sizeof(d));
    d[17] ^= 0x40;
    expect_verdict(t, t->pub, d, t->sig, ROT_ERROR_CRYPTO_BAD_SIGNATURE,
                   ROT_ERROR_CRYPTO_BAD_SIGNATURE, "other digest");
    /* Another key (the other case's). */
    expect_verdict(t, cases[1 - i].pub, t->digest, t->sig, ROT_ERROR_CRYPTO_BAD_SIGNATURE,
                   ROT_ERROR_CRYPTO_BAD_SIGNATURE, "other key");
    /* r = 0, s = 0, r = n, s = n: out of range. */
    memcpy(sig, t->sig, sizeof(sig));
    memset(sig, 0, ROT_P384_SCALAR_LEN);
    expect_verdict(t, t->pub, t->digest, sig, NO_RAW, ROT_ERROR_CRYPTO_SIG_RANGE, "r = 0");
    memcpy(sig, t->sig, sizeof(sig));
    memset(sig + ROT_P384_SCALAR_LEN, 0, ROT_P384_SCALAR_LEN);
    expect_verdict(t, t->pub, t->digest, sig, NO_RAW, ROT_ERROR_CRYPTO_SIG_RANGE, "s = 0");
    memcpy(sig, t->sig, sizeof(sig));
    memcpy(sig, rot_p384_order, ROT_P384_SCALAR_LEN);
    expect_verdict(t, t->pub, t->digest, sig, NO_RAW, ROT_ERROR_CRYPTO_SIG_RANGE, "r = n");
    /* High S: the same signature with s -> n - s verifies mathematically
     * (raw backends accept it) but the format refuses it. */
    memcpy(sig, t->sig, sizeof(sig));
    uint8_t *s = sig + ROT_P384_SCALAR_LEN;
    uint32_t borrow = 0;
    for (size_t k = ROT_P384_SCALAR_LEN; k-- > 0;) {
      uint32_t v = (uint32_t)rot_p384_order[k] - s[k] - borrow;
      s[k] = (uint8_t)v;
      borrow = (v >> 8) & 1u;
    }
    expect_verdict(t, t->pub, t->digest, sig, ROT_OK, ROT_ERROR_CRYPTO_SIG_HIGH_S,
                   "high s");
    /* A public key off the curve, and one with X >= p. */
    memcpy(pub, t->pub, sizeof(pub));
    pub[ROT_P384_PUBKEY_LEN - 1] ^= 0x01;
    expect_verdict(t, pub, t->digest, t->sig, ROT_ERROR_CRYPTO_BAD_KEY,
                   ROT_ERROR_CRYPTO_BAD_KEY, "key off the curve");
    memset(pub, 0xff, ROT_P384_SCALAR_LEN);
    expect_verdict(t, pub, t->digest, t->sig, ROT_ERROR_CRYPTO_BAD_KEY,
                   ROT_ERROR_CRYPTO_BAD_KEY, "key X >= p");
  }
}

static void crypto_backends_test_select(void **state) {
  (void)state;
  const char *saved = getenv("ROT_CRYPTO");
  char *copy = saved != NULL ? strdup(saved) : NULL;
  assert_int_equal(setenv("ROT_CRYPTO", "mbedtls", 1), 0);
  assert_ptr_equal(rot_host_crypto(), rot_host_crypto_mbedtls());
  assert_string_equal(rot_host_crypto_name(), "mbedtls");
  assert_int_equal(setenv("ROT_CRYPTO", "openssl", 1), 0);
  assert_ptr_equal(rot_host_crypto(), rot_host_crypto_openssl());
  const rot_crypto_t *got = rot_host_crypto_openssl();
  assert_int_equal(rot_host_crypto_get(&got), ROT_OK);
  assert_ptr_equal(got, rot_host_crypto_openssl());
  assert_int_equal(setenv("ROT_CRYPTO", "no-such", 1), 0);
  assert_null(rot_host_crypto());
  assert_null(rot_host_crypto_name());
  /* Named as what it is, not as a failing RNG. */
  assert_int_equal(rot_host_crypto_get(&got), ROT_ERROR_CRYPTO_UNKNOWN_BACKEND);
  assert_null(got);
  assert_int_equal(rot_host_crypto_get(NULL), ROT_ERROR_CRYPTO_UNKNOWN_BACKEND);
  assert_int_equal(unsetenv("ROT_CRYPTO"), 0);
  assert_non_null(rot_host_crypto());
  if (copy != NULL) {
    assert_int_equal(setenv("ROT_CRYPTO", copy, 1), 0);
    free(copy);
  }
}

static void crypto_backends_test_rng(void **state) {
  (void)state;
  for (size_t b = 0; b < NB; b++) {
    const rot_crypto_t *c = kBackends[b]();
    uint8_t a[64], z[64];
    memset(a, 0, sizeof(a));
    memset(z, 0, sizeof(z));
    assert_int_equal(c->rng(c, a, sizeof(a)), ROT_OK);
    assert_memory_not_equal(a, z, sizeof(a));
    assert_int_equal(c->rng(c, NULL, 1), ROT_ERROR_INVALID_ARGUMENT);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(crypto_backends_test_hash_vectors),
      cmocka_unit_test(crypto_backends_test_hash_long_agree),
      cmocka_unit_test(crypto_backends_test_hash_bad_args),
      cmocka_unit_test(crypto_backends_test_hmac_rfc4231),
      cmocka_unit_test(crypto_backends_test_hkdf_rfc5869),
      cmocka_unit_test(crypto_backends_test_verify_good),
      cmocka_unit_test(crypto_backends_test_verify_known_bad),
      cmocka_unit_test(crypto_backends_test_select),
      cmocka_unit_test(crypto_backends_test_rng),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
