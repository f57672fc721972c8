/*
 * The crypto port on mbedTLS 2.28. The curve group and the DRBG are set up
 * once and kept in the instance state: loading P-384 per call would cost
 * more than hashing a small image.
 */
#include "rot_host/crypto_host.h"

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "hash_front.h"

typedef struct mbed_state {
  int ready;
  mbedtls_ecp_group grp;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
} mbed_state_t;

typedef union mbed_hash {
  mbedtls_sha256_context sha256;
  mbedtls_sha512_context sha512;
} mbed_hash_t;

_Static_assert(sizeof(mbed_hash_t) <= sizeof(((rot_hash_ctx_t *)0)->opaque),
               "rot_hash_ctx_t too small for mbedTLS");

static mbed_state_t g_state;

/* The primitive steps under the shared front (hash_front.h), which has
 * checked the context, the algorithm and the lengths already. */
static int mbed_start(void *p, rot_hash_alg_t alg) {
  mbed_hash_t *h = p;
  if (alg == ROT_HASH_SHA256) {
    mbedtls_sha256_init(&h->sha256);
    return mbedtls_sha256_starts_ret(&h->sha256, 0);
  }
  mbedtls_sha512_init(&h->sha512);
  return mbedtls_sha512_starts_ret(&h->sha512, 1);
}

static int mbed_update(void *p, rot_hash_alg_t alg, const void *data,
                       size_t len) {
  mbed_hash_t *h = p;
  return alg == ROT_HASH_SHA256 ? mbedtls_sha256_update_ret(&h->sha256, data, len)
                                : mbedtls_sha512_update_ret(&h->sha512, data, len);
}

static int mbed_finish(void *p, rot_hash_alg_t alg, uint8_t *out) {
  mbed_hash_t *h = p;
  if (alg == ROT_HASH_SHA256) {
    return mbedtls_sha256_finish_ret(&h->sha256, out);
  }
  uint8_t full[64];
  int rc = mbedtls_sha512_finish_ret(&h->sha512, full);
  memcpy(out, full, ROT_SHA384_LEN);
  mbedtls_platform_zeroize(full, sizeof(full));
  return rc;
}

static const rot_host_hash_ops_t kMbedHash = {mbed_start, mbed_update,
                                              mbed_finish};

ROT_HOST_HASH_ENTRIES(mbed, kMbedHash)

static const mbedtls_md_info_t *md_of(rot_hash_alg_t alg) {
  switch (alg) {
    case ROT_HASH_SHA256:
      return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    case ROT_HASH_SHA384:
      return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
  }
  return NULL;
}

static rot_error_t mbed_hmac(const rot_crypto_t *c, rot_hash_alg_t alg,
                             const uint8_t *key, size_t key_len,
                             const void *data, size_t len, uint8_t *out,
                             size_t out_len) {
  (void)c;
  const mbedtls_md_info_t *md = md_of(alg);
  if (md == NULL || key == NULL || (data == NULL && len != 0) || out == NULL ||
      out_len < rot_hash_len(alg)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return mbedtls_md_hmac(md, key, key_len, data, len, out) == 0
             ? ROT_OK
             : ROT_ERROR_CRYPTO_FAILED;
}

static rot_error_t mbed_hkdf(const rot_crypto_t *c, rot_hash_alg_t alg,
                             const uint8_t *salt, size_t salt_len,
                             const uint8_t *ikm, size_t ikm_len,
                             const uint8_t *info, size_t info_len, uint8_t *out,
                             size_t out_len) {
  (void)c;
  const mbedtls_md_info_t *md = md_of(alg);
  if (md == NULL || ikm == NULL || out == NULL || out_len == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return mbedtls_hkdf(md, salt, salt_len, ikm, ikm_len, info, info_len, out,
                      out_len) == 0
             ? ROT_OK
             : ROT_ERROR_CRYPTO_FAILED;
}

static mbed_state_t *state_of(const rot_crypto_t *c) {
  mbed_state_t *s = c->state;
  if (!s->ready) {
    static const char pers[] = "rot-host-crypto";
    mbedtls_ecp_group_init(&s->grp);
    mbedtls_entropy_init(&s->entropy);
    mbedtls_ctr_drbg_init(&s->drbg);
    if (mbedtls_ecp_group_load(&s->grp, MBEDTLS_ECP_DP_SECP384R1) != 0 ||
        mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
                              (const unsigned char *)pers, sizeof(pers)) != 0) {
      return NULL;
    }
    s->ready = 1;
  }
  return s;
}

static int read_point(mbed_state_t *s, const uint8_t pub[ROT_P384_PUBKEY_LEN],
                      mbedtls_ecp_point *q) {
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  sec1[0] = 0x04;
  memcpy(sec1 + 1, pub, ROT_P384_PUBKEY_LEN);
  if (mbedtls_ecp_point_read_binary(&s->grp, q, sec1, sizeof(sec1)) != 0) {
    return -1;
  }
  return mbedtls_ecp_check_pubkey(&s->grp, q);
}

static rot_error_t mbed_verify(const rot_crypto_t *c,
                               const uint8_t pub[ROT_P384_PUBKEY_LEN],
                               const uint8_t *digest, size_t digest_len,
                               const uint8_t sig[ROT_P384_SIG_LEN]) {
  if (pub == NULL || digest == NULL || sig == NULL || digest_len == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  mbed_state_t *s = state_of(c);
  if (s == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  mbedtls_ecp_point q;
  mbedtls_mpi r, sv;
  mbedtls_ecp_point_init(&q);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&sv);
  rot_error_t err = ROT_ERROR_CRYPTO_BAD_SIGNATURE;
  if (read_point(s, pub, &q) != 0) {
    err = ROT_ERROR_CRYPTO_BAD_KEY;
  } else if (mbedtls_mpi_read_binary(&r, sig, ROT_P384_SCALAR_LEN) == 0 &&
             mbedtls_mpi_read_binary(&sv, sig + ROT_P384_SCALAR_LEN,
                                     ROT_P384_SCALAR_LEN) == 0 &&
             mbedtls_ecdsa_verify(&s->grp, digest, digest_len, &q, &r, &sv) ==
                 0) {
    err = ROT_OK;
  }
  mbedtls_ecp_point_free(&q);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&sv);
  return err;
}

static int drbg_rng(void *p, unsigned char *out, size_t len) {
  return mbedtls_ctr_drbg_random(p, out, len);
}

static rot_error_t mbed_sign(const rot_crypto_t *c,
                             const uint8_t priv[ROT_P384_SCALAR_LEN],
                             const uint8_t *digest, size_t digest_len,
                             uint8_t sig[ROT_P384_SIG_LEN]) {
  if (priv == NULL || digest == NULL || sig == NULL || digest_len == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  mbed_state_t *s = state_of(c);
  if (s == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  mbedtls_mpi d, r, sv, half;
  mbedtls_mpi_init(&d);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&sv);
  mbedtls_mpi_init(&half);
  rot_error_t err = ROT_ERROR_CRYPTO_FAILED;
  if (mbedtls_mpi_read_binary(&d, priv, ROT_P384_SCALAR_LEN) == 0 &&
      mbedtls_ecp_check_privkey(&s->grp, &d) == 0) {
    /* mbedTLS returns either s or n - s; the format wants the low one. */
    if (mbedtls_ecdsa_sign_det_ext(&s->grp, &r, &sv, &d, digest, digest_len,
                                   MBEDTLS_MD_SHA384, drbg_rng, &s->drbg) == 0 &&
        mbedtls_mpi_copy(&half, &s->grp.N) == 0 &&
        mbedtls_mpi_shift_r(&half, 1) == 0 &&
        (mbedtls_mpi_cmp_mpi(&sv, &half) <= 0 ||
         mbedtls_mpi_sub_mpi(&sv, &s->grp.N, &sv) == 0) &&
        mbedtls_mpi_write_binary(&r, sig, ROT_P384_SCALAR_LEN) == 0 &&
        mbedtls_mpi_write_binary(&sv, sig + ROT_P384_SCALAR_LEN,
                                 ROT_P384_SCALAR_LEN) == 0) {
      err = ROT_OK;
    }
  } else {
    err = ROT_ERROR_CRYPTO_BAD_KEY;
  }
  mbedtls_mpi_free(&d);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&sv);
  mbedtls_mpi_free(&half);
  return err;
}

static rot_error_t mbed_pubkey(const rot_crypto_t *c,
                               const uint8_t priv[ROT_P384_SCALAR_LEN],
                               uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  if (priv == NULL || pub == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  mbed_state_t *s = state_of(c);
  if (s == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  mbedtls_mpi d;
  mbedtls_ecp_point q;
  mbedtls_mpi_init(&d);
  mbedtls_ecp_point_init(&q);
  rot_error_t err = ROT_ERROR_CRYPTO_BAD_KEY;
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  size_t olen = 0;
  if (mbedtls_mpi_read_binary(&d, priv, ROT_P384_SCALAR_LEN) == 0 &&
      mbedtls_ecp_check_privkey(&s->grp, &d) == 0 &&
      mbedtls_ecp_mul(&s->grp, &q, &d, &s->grp.G, drbg_rng, &s->drbg) == 0 &&
      mbedtls_ecp_point_write_binary(&s->grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                     &olen, sec1, sizeof(sec1)) == 0 &&
      olen == sizeof(sec1)) {
    memcpy(pub, sec1 + 1, ROT_P384_PUBKEY_LEN);
    err = ROT_OK;
  }
  mbedtls_mpi_free(&d);
  mbedtls_ecp_point_free(&q);
  return err;
}

static rot_error_t mbed_rng(const rot_crypto_t *c, uint8_t *out, size_t len) {
  if (out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  mbed_state_t *s = state_of(c);
  if (s == NULL) {
    return ROT_ERROR_CRYPTO_RNG;
  }
  while (len > 0) {
    size_t n = len > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : len;
    if (mbedtls_ctr_drbg_random(&s->drbg, out, n) != 0) {
      return ROT_ERROR_CRYPTO_RNG;
    }
    out += n;
    len -= n;
  }
  return ROT_OK;
}

static const rot_crypto_t kMbedCrypto = {
    .hash_start = mbed_hash_start,
    .hash_update = mbed_hash_update,
    .hash_finish = mbed_hash_finish,
    .hmac = mbed_hmac,
    .hkdf = mbed_hkdf,
    .ecdsa_p384_verify = mbed_verify,
    .ecdsa_p384_sign = mbed_sign,
    .ecdsa_p384_pubkey = mbed_pubkey,
    .rng = mbed_rng,
    .state = &g_state,
};

const rot_crypto_t *rot_host_crypto_mbedtls(void) {
  return state_of(&kMbedCrypto) != NULL ? &kMbedCrypto : NULL;
}

rot_error_t rot_host_p384_keygen(uint8_t priv[ROT_P384_SCALAR_LEN],
                                 uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  /* Key generation stays on mbedTLS whatever the selected backend: it is
   * rare, and one DRBG serves it. */
  const rot_crypto_t *c = rot_host_crypto_mbedtls();
  if (c == NULL || priv == NULL || pub == NULL) {
    return ROT_ERROR_CRYPTO_RNG;
  }
  mbed_state_t *s = c->state;
  mbedtls_mpi d;
  mbedtls_ecp_point q;
  mbedtls_mpi_init(&d);
  mbedtls_ecp_point_init(&q);
  rot_error_t err = ROT_ERROR_CRYPTO_RNG;
  if (mbedtls_ecp_gen_keypair(&s->grp, &d, &q, drbg_rng, &s->drbg) == 0 &&
      mbedtls_mpi_write_binary(&d, priv, ROT_P384_SCALAR_LEN) == 0) {
    err = mbed_pubkey(c, priv, pub);
  }
  mbedtls_mpi_free(&d);
  mbedtls_ecp_point_free(&q);
  return err;
}
