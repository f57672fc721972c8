/*
 * Software TPM2_MakeCredential (TPM 2.0 Part 1, 24: credential protection;
 * Part 1, 11.4.9/11.4.10: KDFa and KDFe) with mbedTLS.
 */
#include "attest/cred.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>

#include "internal.h"

#define MAX_DIGEST 48u

static const mbedtls_md_info_t *md_of(uint16_t alg, size_t *len) {
  if (alg == TPM2_ALG_SHA256) {
    *len = 32;
    return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  }
  if (alg == TPM2_ALG_SHA384) {
    *len = 48;
    return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
  }
  return NULL;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* KDFa (SP 800-108 counter mode, HMAC): label includes its NUL. */
static int kdfa(const mbedtls_md_info_t *md, const uint8_t *key, size_t klen,
                const char *label, const uint8_t *u, size_t ulen,
                uint8_t *out, size_t out_len) {
  size_t hlen = mbedtls_md_get_size(md);
  uint8_t block[MAX_DIGEST];
  uint8_t ctr[4], bits[4];
  put_be32(bits, (uint32_t)(out_len * 8));
  mbedtls_md_context_t c;
  mbedtls_md_init(&c);
  int rc = mbedtls_md_setup(&c, md, 1);
  for (uint32_t i = 1, done = 0; rc == 0 && done < out_len; i++) {
    put_be32(ctr, i);
    rc = mbedtls_md_hmac_starts(&c, key, klen);
    rc = rc ? rc : mbedtls_md_hmac_update(&c, ctr, 4);
    rc = rc ? rc
            : mbedtls_md_hmac_update(&c, (const uint8_t *)label,
                                     strlen(label) + 1);
    rc = rc || ulen == 0 ? rc : mbedtls_md_hmac_update(&c, u, ulen);
    rc = rc ? rc : mbedtls_md_hmac_update(&c, bits, 4);
    rc = rc ? rc : mbedtls_md_hmac_finish(&c, block);
    size_t n = out_len - done < hlen ? out_len - done : hlen;
    memcpy(out + done, block, n);
    done += (uint32_t)n;
  }
  mbedtls_md_free(&c);
  return rc;
}

/* KDFe (SP 800-56A concatenation KDF) with label "IDENTITY". */
static int kdfe(const mbedtls_md_info_t *md, const uint8_t *z, size_t zlen,
                const uint8_t *pu, size_t pulen, const uint8_t *pv,
                size_t pvlen, uint8_t *out, size_t out_len) {
  static const char label[] = "IDENTITY";
  size_t hlen = mbedtls_md_get_size(md);
  uint8_t block[MAX_DIGEST];
  uint8_t ctr[4];
  mbedtls_md_context_t c;
  mbedtls_md_init(&c);
  int rc = mbedtls_md_setup(&c, md, 0);
  for (uint32_t i = 1, done = 0; rc == 0 && done < out_len; i++) {
    put_be32(ctr, i);
    rc = mbedtls_md_starts(&c);
    rc = rc ? rc : mbedtls_md_update(&c, ctr, 4);
    rc = rc ? rc : mbedtls_md_update(&c, z, zlen);
    rc = rc ? rc : mbedtls_md_update(&c, (const uint8_t *)label, sizeof(label));
    rc = rc ? rc : mbedtls_md_update(&c, pu, pulen);
    rc = rc ? rc : mbedtls_md_update(&c, pv, pvlen);
    rc = rc ? rc : mbedtls_md_finish(&c, block);
    size_t n = out_len - done < hlen ? out_len - done : hlen;
    memcpy(out + done, block, n);
    done += (uint32_t)n;
  }
  mbedtls_md_free(&c);
  return rc;
}

typedef struct rng {
  mbedtls_entropy_context e;
  mbedtls_ctr_drbg_context d;
} rng_t;

static int rng_init(rng_t *r) {
  static const char pers[] = "attest makecredential";
  mbedtls_entropy_init(&r->e);
  mbedtls_ctr_drbg_init(&r->d);
  return mbedtls_ctr_drbg_seed(&r->d, mbedtls_entropy_func, &r->e,
                               (const uint8_t *)pers, sizeof(pers));
}
static void rng_free(rng_t *r) {
  mbedtls_ctr_drbg_free(&r->d);
  mbedtls_entropy_free(&r->e);
}

/* Seed and its encryption to the RSA EK (OAEP, label "IDENTITY\0"). */
static rot_error_t seed_rsa(const TPMT_PUBLIC *ek, const mbedtls_md_info_t *md,
                            rng_t *r, uint8_t *seed, size_t slen,
                            uint8_t *enc, size_t *enc_len) {
  static const char label[] = "IDENTITY";
  const TPM2B_PUBLIC_KEY_RSA *n = &ek->unique.rsa;
  uint32_t e = ek->parameters.rsaDetail.exponent;
  if (ek->parameters.rsaDetail.keyBits != 2048 || n->size != 256) {
    return ROT_ERROR_UNSUPPORTED;
  }
  uint8_t ebuf[4];
  put_be32(ebuf, e == 0 ? 65537u : e);
  mbedtls_rsa_context rsa;
  mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V21,
                   mbedtls_md_get_type(md));
  rot_error_t err = ROT_ERROR_CRYPTO_BAD_KEY;
  if (mbedtls_rsa_import_raw(&rsa, n->buffer, n->size, NULL, 0, NULL, 0,
                             NULL, 0, ebuf, 4) == 0 &&
      mbedtls_rsa_complete(&rsa) == 0 && mbedtls_rsa_check_pubkey(&rsa) == 0) {
    err = ROT_ERROR_INTERNAL;
    if (mbedtls_ctr_drbg_random(&r->d, seed, slen) == 0 &&
        mbedtls_rsa_rsaes_oaep_encrypt(&rsa, mbedtls_ctr_drbg_random, &r->d,
                                       MBEDTLS_RSA_PUBLIC,
                                       (const uint8_t *)label, sizeof(label),
                                       slen, seed, enc) == 0) {
      *enc_len = 256;
      err = ROT_OK;
    }
  }
  mbedtls_rsa_free(&rsa);
  return err;
}

/* Seed from ECDH with an ephemeral key; the secret is its public point. */
static rot_error_t seed_ecc(const TPMT_PUBLIC *ek, const mbedtls_md_info_t *md,
                            rng_t *r, uint8_t *seed, size_t slen,
                            uint8_t *enc, size_t *enc_len) {
  mbedtls_ecp_group_id gid;
  size_t clen;
  switch (ek->parameters.eccDetail.curveID) {
  case TPM2_ECC_NIST_P256:
    gid = MBEDTLS_ECP_DP_SECP256R1;
    clen = 32;
    break;
  case TPM2_ECC_NIST_P384:
    gid = MBEDTLS_ECP_DP_SECP384R1;
    clen = 48;
    break;
  default:
    return ROT_ERROR_UNSUPPORTED;
  }
  const TPMS_ECC_POINT *q = &ek->unique.ecc;
  if (q->x.size != clen || q->y.size != clen) {
    return ROT_ERROR_CRYPTO_BAD_KEY;
  }
  mbedtls_ecp_group g;
  mbedtls_ecp_point qe, qeph;
  mbedtls_mpi d, z;
  mbedtls_ecp_group_init(&g);
  mbedtls_ecp_point_init(&qe);
  mbedtls_ecp_point_init(&qeph);
  mbedtls_mpi_init(&d);
  mbedtls_mpi_init(&z);
  uint8_t zb[48], ex[48], ey[48];
  rot_error_t err = ROT_ERROR_CRYPTO_BAD_KEY;
  if (mbedtls_ecp_group_load(&g, gid) != 0 ||
      mbedtls_mpi_read_binary(&qe.X, q->x.buffer, clen) != 0 ||
      mbedtls_mpi_read_binary(&qe.Y, q->y.buffer, clen) != 0 ||
      mbedtls_mpi_lset(&qe.Z, 1) != 0 || mbedtls_ecp_check_pubkey(&g, &qe)) {
    goto out;
  }
  err = ROT_ERROR_INTERNAL;
  if (mbedtls_ecp_gen_keypair(&g, &d, &qeph, mbedtls_ctr_drbg_random, &r->d) ||
      mbedtls_ecdh_compute_shared(&g, &z, &qe, &d, mbedtls_ctr_drbg_random,
                                  &r->d) ||
      mbedtls_mpi_write_binary(&z, zb, clen) ||
      mbedtls_mpi_write_binary(&qeph.X, ex, clen) ||
      mbedtls_mpi_write_binary(&qeph.Y, ey, clen)) {
    goto out;
  }
  if (kdfe(md, zb, clen, ex, clen, q->x.buffer, clen, seed, slen) != 0) {
    goto out;
  }
  /* TPMS_ECC_POINT: TPM2B x || TPM2B y. */
  attest_put_be16(enc, (uint16_t)clen);
  memcpy(enc + 2, ex, clen);
  attest_put_be16(enc + 2 + clen, (uint16_t)clen);
  memcpy(enc + 4 + clen, ey, clen);
  *enc_len = 4 + 2 * clen;
  err = ROT_OK;
out:
  mbedtls_platform_zeroize(zb, sizeof(zb));
  mbedtls_ecp_group_free(&g);
  mbedtls_ecp_point_free(&qe);
  mbedtls_ecp_point_free(&qeph);
  mbedtls_mpi_free(&d);
  mbedtls_mpi_free(&z);
  return err;
}

rot_error_t attest_make_credential(const TPMT_PUBLIC *ek, const uint8_t *name,
                                   size_t name_len, const uint8_t *cred,
                                   size_t cred_len, attest_buf_t *blob,
                                   attest_buf_t *secret) {
  size_t hlen = 0;
  if (ek == NULL || name == NULL || cred == NULL || blob == NULL ||
      secret == NULL || name_len < 2 || name_len > 2 + 64) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  blob->p = secret->p = NULL;
  blob->len = secret->len = 0;
  const mbedtls_md_info_t *md = md_of(ek->nameAlg, &hlen);
  if (md == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  if (cred_len == 0 || cred_len > hlen) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const TPMT_SYM_DEF_OBJECT *sym =
      ek->type == TPM2_ALG_RSA ? &ek->parameters.rsaDetail.symmetric
                               : &ek->parameters.eccDetail.symmetric;
  if ((ek->type != TPM2_ALG_RSA && ek->type != TPM2_ALG_ECC) ||
      sym->algorithm != TPM2_ALG_AES || sym->mode.aes != TPM2_ALG_CFB ||
      (sym->keyBits.aes != 128 && sym->keyBits.aes != 256)) {
    return ROT_ERROR_UNSUPPORTED;
  }
  size_t sym_bytes = sym->keyBits.aes / 8u;

  rng_t r;
  uint8_t seed[MAX_DIGEST], enc[260], symkey[32], hmackey[MAX_DIGEST];
  uint8_t ident[2 + MAX_DIGEST], outer[MAX_DIGEST], iv[16] = {0};
  size_t enc_len = 0;
  rot_error_t err = ROT_ERROR_INTERNAL;
  if (rng_init(&r) != 0) {
    rng_free(&r);
    return ROT_ERROR_INTERNAL;
  }
  err = ek->type == TPM2_ALG_RSA
            ? seed_rsa(ek, md, &r, seed, hlen, enc, &enc_len)
            : seed_ecc(ek, md, &r, seed, hlen, enc, &enc_len);
  rng_free(&r);
  if (err != ROT_OK) {
    goto out;
  }
  err = ROT_ERROR_INTERNAL;
  if (kdfa(md, seed, hlen, "STORAGE", name, name_len, symkey, sym_bytes) ||
      kdfa(md, seed, hlen, "INTEGRITY", NULL, 0, hmackey, hlen)) {
    goto out;
  }
  /* encIdentity = AES-CFB(symKey, IV 0, TPM2B_DIGEST credential). */
  attest_put_be16(ident, (uint16_t)cred_len);
  memcpy(ident + 2, cred, cred_len);
  size_t ilen = 2 + cred_len;
  mbedtls_aes_context aes;
  mbedtls_aes_init(&aes);
  size_t iv_off = 0;
  int rc = mbedtls_aes_setkey_enc(&aes, symkey, (unsigned)(sym_bytes * 8));
  rc = rc ? rc
          : mbedtls_aes_crypt_cfb128(&aes, MBEDTLS_AES_ENCRYPT, ilen, &iv_off,
                                     iv, ident, ident);
  mbedtls_aes_free(&aes);
  if (rc != 0) {
    goto out;
  }
  /* outerHMAC = HMAC(hmacKey, encIdentity || name). */
  mbedtls_md_context_t c;
  mbedtls_md_init(&c);
  rc = mbedtls_md_setup(&c, md, 1);
  rc = rc ? rc : mbedtls_md_hmac_starts(&c, hmackey, hlen);
  rc = rc ? rc : mbedtls_md_hmac_update(&c, ident, ilen);
  rc = rc ? rc : mbedtls_md_hmac_update(&c, name, name_len);
  rc = rc ? rc : mbedtls_md_hmac_finish(&c, outer);
  mbedtls_md_free(&c);
  if (rc != 0) {
    goto out;
  }
  /* TPM2B_ID_OBJECT { TPM2B_DIGEST integrityHMAC || encIdentity }. */
  size_t inner = 2 + hlen + ilen;
  blob->p = malloc(2 + inner);
  secret->p = malloc(2 + enc_len);
  if (blob->p == NULL || secret->p == NULL) {
    goto out;
  }
  attest_put_be16(blob->p, (uint16_t)inner);
  attest_put_be16(blob->p + 2, (uint16_t)hlen);
  memcpy(blob->p + 4, outer, hlen);
  memcpy(blob->p + 4 + hlen, ident, ilen);
  blob->len = 2 + inner;
  attest_put_be16(secret->p, (uint16_t)enc_len);
  memcpy(secret->p + 2, enc, enc_len);
  secret->len = 2 + enc_len;
  err = ROT_OK;
out:
  mbedtls_platform_zeroize(seed, sizeof(seed));
  mbedtls_platform_zeroize(symkey, sizeof(symkey));
  mbedtls_platform_zeroize(hmackey, sizeof(hmackey));
  if (err != ROT_OK) {
    attest_buf_free(blob);
    attest_buf_free(secret);
  }
  return err;
}

rot_error_t attest_cred_file_encode(const attest_buf_t *blob,
                                    const attest_buf_t *secret,
                                    attest_buf_t *out) {
  if (blob == NULL || secret == NULL || out == NULL || blob->p == NULL ||
      secret->p == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  out->len = 8 + blob->len + secret->len;
  out->p = malloc(out->len);
  if (out->p == NULL) {
    out->len = 0;
    return ROT_ERROR_INTERNAL;
  }
  put_be32(out->p, ATTEST_CRED_FILE_MAGIC);
  put_be32(out->p + 4, ATTEST_CRED_FILE_VERSION);
  memcpy(out->p + 8, blob->p, blob->len);
  memcpy(out->p + 8 + blob->len, secret->p, secret->len);
  return ROT_OK;
}

rot_error_t attest_cred_file_decode(const uint8_t *p, size_t len,
                                    attest_buf_t *blob, attest_buf_t *secret) {
  if (p == NULL || blob == NULL || secret == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  blob->p = secret->p = NULL;
  if (len < 12 || p[0] != 0xba || p[1] != 0xdc || p[2] != 0xc0 ||
      p[3] != 0xde || p[4] != 0 || p[5] != 0 || p[6] != 0 || p[7] != 1) {
    return ROT_ERROR_ATTEST_CREDENTIAL;
  }
  size_t b = 2u + attest_be16(p + 8);
  if (b > len - 8 || len - 8 - b < 2) {
    return ROT_ERROR_ATTEST_CREDENTIAL;
  }
  size_t s = 2u + attest_be16(p + 8 + b);
  if (s != len - 8 - b) {
    return ROT_ERROR_ATTEST_CREDENTIAL;
  }
  ROT_TRY(attest_buf_set(blob, p + 8, b));
  rot_error_t err = attest_buf_set(secret, p + 8 + b, s);
  if (err != ROT_OK) {
    attest_buf_free(blob);
  }
  return err;
}
