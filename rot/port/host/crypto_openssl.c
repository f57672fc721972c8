/*
 * The crypto port on OpenSSL 3's libcrypto: the faster backend for host
 * tools (SHA-NI for SHA-256, AVX2 SHA-512, P-384 verify about 3x and
 * P-256 16x mbedTLS's on x86-64). mbedTLS stays the chip's backend; the
 * unit suite checks both on the same vectors (test_crypto_backends).
 *
 * The streaming hash lives inside rot_hash_ctx_t, so it must be plain
 * bytes that a caller may wipe or drop at any point without a leak: that is
 * libcrypto's SHA256_CTX / SHA512_CTX (the same assembly the EVP layer
 * runs), not an EVP_MD_CTX, which is heap-allocated. Those low-level calls
 * are marked deprecated in OpenSSL 3.0, hence OPENSSL_SUPPRESS_DEPRECATED
 * here and only here, as are the EC_KEY calls of the verify (no per-call
 * EVP_PKEY build: that costs more than a small image's hash).
 *
 * Signing and public-key derivation stay on mbedTLS: the port promises
 * deterministic ECDSA (RFC 6979), which OpenSSL 3.0 does not offer, and
 * neither is on a hot path (host signing tools).
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "rot_host/crypto_host.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hash_front.h"

typedef union ossl_hash {
  SHA256_CTX sha256;
  SHA512_CTX sha512;
} ossl_hash_t;

_Static_assert(sizeof(ossl_hash_t) <= sizeof(((rot_hash_ctx_t *)0)->opaque),
               "rot_hash_ctx_t too small for libcrypto");

typedef struct ossl_state {
  int ready;
  EC_GROUP *grp;
} ossl_state_t;

static ossl_state_t g_state;

/* The primitive steps under the shared front (hash_front.h), which has
 * checked the context, the algorithm and the lengths already. libcrypto's
 * low-level calls return 1 on success. */
static int ossl_start(void *p, rot_hash_alg_t alg) {
  ossl_hash_t *h = p;
  int rc = alg == ROT_HASH_SHA256 ? SHA256_Init(&h->sha256)
                                  : SHA384_Init(&h->sha512);
  return rc == 1 ? 0 : -1;
}

static int ossl_update(void *p, rot_hash_alg_t alg, const void *data,
                       size_t len) {
  ossl_hash_t *h = p;
  int rc = alg == ROT_HASH_SHA256 ? SHA256_Update(&h->sha256, data, len)
                                  : SHA384_Update(&h->sha512, data, len);
  return rc == 1 ? 0 : -1;
}

static int ossl_finish(void *p, rot_hash_alg_t alg, uint8_t *out) {
  ossl_hash_t *h = p;
  int rc = alg == ROT_HASH_SHA256 ? SHA256_Final(out, &h->sha256)
                                  : SHA384_Final(out, &h->sha512);
  return rc == 1 ? 0 : -1;
}

static const rot_host_hash_ops_t kOsslHash = {ossl_start, ossl_update,
                                              ossl_finish};

ROT_HOST_HASH_ENTRIES(ossl, kOsslHash)

static const EVP_MD *md_of(rot_hash_alg_t alg) {
  switch (alg) {
    case ROT_HASH_SHA256:
      return EVP_sha256();
    case ROT_HASH_SHA384:
      return EVP_sha384();
  }
  return NULL;
}

static rot_error_t ossl_hmac(const rot_crypto_t *c, rot_hash_alg_t alg,
                             const uint8_t *key, size_t key_len,
                             const void *data, size_t len, uint8_t *out,
                             size_t out_len) {
  (void)c;
  const EVP_MD *md = md_of(alg);
  if (md == NULL || key == NULL || (data == NULL && len != 0) || out == NULL ||
      out_len < rot_hash_len(alg) || key_len > INT32_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  static const uint8_t kEmpty[1] = {0};
  unsigned int n = 0;
  /* HMAC() takes NULL data only with length 0 on some versions: pass a
   * valid pointer either way. */
  if (HMAC(md, key, (int)key_len, len != 0 ? data : kEmpty, len, out, &n) ==
          NULL ||
      n != rot_hash_len(alg)) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  return ROT_OK;
}

static rot_error_t ossl_hkdf(const rot_crypto_t *c, rot_hash_alg_t alg,
                             const uint8_t *salt, size_t salt_len,
                             const uint8_t *ikm, size_t ikm_len,
                             const uint8_t *info, size_t info_len, uint8_t *out,
                             size_t out_len) {
  (void)c;
  const EVP_MD *md = md_of(alg);
  if (md == NULL || ikm == NULL || out == NULL || out_len == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
  EVP_KDF_free(kdf);
  if (kctx == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                 (char *)EVP_MD_get0_name(md), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  (void *)ikm, ikm_len);
  /* No salt: RFC 5869's default, a string of HashLen zeros. */
  if (salt != NULL && salt_len != 0) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    (void *)salt, salt_len);
  }
  if (info != NULL && info_len != 0) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                    (void *)info, info_len);
  }
  params[n] = OSSL_PARAM_construct_end();
  int rc = EVP_KDF_derive(kctx, out, out_len, params);
  EVP_KDF_CTX_free(kctx);
  return rc == 1 ? ROT_OK : ROT_ERROR_CRYPTO_FAILED;
}

static ossl_state_t *state_of(const rot_crypto_t *c) {
  ossl_state_t *s = c->state;
  if (!s->ready) {
    s->grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
    if (s->grp == NULL) {
      return NULL;
    }
    s->ready = 1;
  }
  return s;
}

static rot_error_t ossl_verify(const rot_crypto_t *c,
                               const uint8_t pub[ROT_P384_PUBKEY_LEN],
                               const uint8_t *digest, size_t digest_len,
                               const uint8_t sig[ROT_P384_SIG_LEN]) {
  if (pub == NULL || digest == NULL || sig == NULL || digest_len == 0 ||
      digest_len > INT32_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ossl_state_t *s = state_of(c);
  if (s == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  sec1[0] = 0x04; /* uncompressed point */
  memcpy(sec1 + 1, pub, ROT_P384_PUBKEY_LEN);
  rot_error_t err = ROT_ERROR_CRYPTO_FAILED;
  EC_KEY *key = EC_KEY_new();
  EC_POINT *q = EC_POINT_new(s->grp);
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, ROT_P384_SCALAR_LEN, NULL);
  BIGNUM *sv = BN_bin2bn(sig + ROT_P384_SCALAR_LEN, ROT_P384_SCALAR_LEN, NULL);
  if (key == NULL || q == NULL || es == NULL || r == NULL || sv == NULL ||
      EC_KEY_set_group(key, s->grp) != 1) {
    goto out;
  }
  /* oct2point refuses coordinates >= p and a point not on the curve (the
   * uncompressed form cannot encode infinity); P-384's cofactor is 1, so
   * every curve point is in the group, as mbedtls_ecp_check_pubkey has it. */
  if (EC_POINT_oct2point(s->grp, q, sec1, sizeof(sec1), NULL) != 1 ||
      EC_KEY_set_public_key(key, q) != 1) {
    err = ROT_ERROR_CRYPTO_BAD_KEY;
    goto out;
  }
  if (ECDSA_SIG_set0(es, r, sv) != 1) {
    goto out;
  }
  r = sv = NULL; /* owned by es now */
  err = ECDSA_do_verify(digest, (int)digest_len, es, key) == 1
            ? ROT_OK
            : ROT_ERROR_CRYPTO_BAD_SIGNATURE;
out:
  BN_free(r);
  BN_free(sv);
  ECDSA_SIG_free(es);
  EC_POINT_free(q);
  EC_KEY_free(key);
  return err;
}

/* Deterministic signing and key derivation: the mbedTLS backend's. */
static rot_error_t ossl_sign(const rot_crypto_t *c,
                             const uint8_t priv[ROT_P384_SCALAR_LEN],
                             const uint8_t *digest, size_t digest_len,
                             uint8_t sig[ROT_P384_SIG_LEN]) {
  (void)c;
  const rot_crypto_t *m = rot_host_crypto_mbedtls();
  if (m == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  return m->ecdsa_p384_sign(m, priv, digest, digest_len, sig);
}

static rot_error_t ossl_pubkey(const rot_crypto_t *c,
                               const uint8_t priv[ROT_P384_SCALAR_LEN],
                               uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  (void)c;
  const rot_crypto_t *m = rot_host_crypto_mbedtls();
  if (m == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  return m->ecdsa_p384_pubkey(m, priv, pub);
}

static rot_error_t ossl_rng(const rot_crypto_t *c, uint8_t *out, size_t len) {
  (void)c;
  if (out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  while (len > 0) {
    int n = len > (1u << 20) ? (1 << 20) : (int)len;
    if (RAND_bytes(out, n) != 1) {
      return ROT_ERROR_CRYPTO_RNG;
    }
    out += n;
    len -= (size_t)n;
  }
  return ROT_OK;
}

static const rot_crypto_t kOsslCrypto = {
    .hash_start = ossl_hash_start,
    .hash_update = ossl_hash_update,
    .hash_finish = ossl_hash_finish,
    .hmac = ossl_hmac,
    .hkdf = ossl_hkdf,
    .ecdsa_p384_verify = ossl_verify,
    .ecdsa_p384_sign = ossl_sign,
    .ecdsa_p384_pubkey = ossl_pubkey,
    .rng = ossl_rng,
    .state = &g_state,
};

const rot_crypto_t *rot_host_crypto_openssl(void) {
  return state_of(&kOsslCrypto) != NULL ? &kOsslCrypto : NULL;
}
