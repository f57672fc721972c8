/*
 * Core-side crypto helpers: one-shot hash, and the checks every ECDSA
 * signature passes in the core before a backend sees it (r and s in range,
 * s in the canonical low half).
 */
#include "rot/crypto.h"

#include "rot/hardened.h"
#include "rot/util.h"

const uint8_t rot_p384_order[ROT_P384_SCALAR_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
    0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};

/* n >> 1 (n is odd, so this is floor(n / 2)); a unit test re-derives it. */
const uint8_t rot_p384_half_order[ROT_P384_SCALAR_LEN] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xe3, 0xb1, 0xa6, 0xc0, 0xfa, 0x1b, 0x96, 0xef, 0xac, 0x0d, 0x06, 0xd9,
    0x24, 0x58, 0x53, 0xbd, 0x76, 0x76, 0x0c, 0xb5, 0x66, 0x62, 0x94, 0xb9};

rot_error_t rot_hash(const rot_crypto_t *c, rot_hash_alg_t alg,
                     const void *data, size_t len, uint8_t *out,
                     size_t out_len) {
  if (c == NULL || (data == NULL && len != 0) || out == NULL ||
      rot_hash_len(alg) == 0 || out_len < rot_hash_len(alg)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_hash_ctx_t ctx;
  ROT_TRY(c->hash_start(c, &ctx, alg));
  rot_error_t err = c->hash_update(c, &ctx, data, len);
  if (err != ROT_OK) {
    rot_wipe(&ctx, sizeof(ctx));
    return err;
  }
  return c->hash_finish(c, &ctx, out, out_len);
}

/*
 * Big-endian compare of two scalars in one fixed pass (no early exit):
 * *lt is non-zero when a < b, *gt when a > b.
 */
static void scalar_cmp(const uint8_t *a, const uint8_t *b, uint32_t *lt,
                       uint32_t *gt) {
  uint32_t l = 0, g = 0;
  for (size_t i = 0; i < ROT_P384_SCALAR_LEN; i++) {
    uint32_t x = a[i], y = b[i];
    uint32_t undecided = (uint32_t)((l | g) == 0);
    l |= undecided & (uint32_t)(x < y);
    g |= undecided & (uint32_t)(x > y);
  }
  *lt = l;
  *gt = g;
}

rot_error_t rot_p384_scalar_check(const uint8_t scalar[ROT_P384_SCALAR_LEN]) {
  if (scalar == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint32_t lt, gt, nonzero = 0;
  scalar_cmp(scalar, rot_p384_order, &lt, &gt);
  for (size_t i = 0; i < ROT_P384_SCALAR_LEN; i++) {
    nonzero |= scalar[i];
  }
  if (nonzero == 0 || lt == 0) {
    return ROT_ERROR_CRYPTO_SIG_RANGE;
  }
  return ROT_OK;
}

rot_error_t rot_p384_low_s_check(const uint8_t s[ROT_P384_SCALAR_LEN]) {
  ROT_TRY(rot_p384_scalar_check(s));
  uint32_t lt, gt;
  scalar_cmp(s, rot_p384_half_order, &lt, &gt);
  if (gt != 0) {
    return ROT_ERROR_CRYPTO_SIG_HIGH_S;
  }
  return ROT_OK;
}

rot_error_t rot_p384_sig_normalize(uint8_t sig[ROT_P384_SIG_LEN]) {
  if (sig == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(rot_p384_scalar_check(sig));
  uint8_t *s = sig + ROT_P384_SCALAR_LEN;
  rot_error_t low = rot_p384_low_s_check(s);
  if (low != ROT_ERROR_CRYPTO_SIG_HIGH_S) {
    return low; /* already canonical, or out of range */
  }
  /* s in (n/2, n), so n - s lies in [1, n/2]: no wrap, no zero. */
  uint32_t borrow = 0;
  for (size_t i = ROT_P384_SCALAR_LEN; i-- > 0;) {
    uint32_t d = (uint32_t)rot_p384_order[i] - s[i] - borrow;
    s[i] = (uint8_t)d;
    borrow = (d >> 8) & 1u;
  }
  return rot_p384_low_s_check(s);
}

rot_error_t rot_ecdsa_p384_verify(const rot_crypto_t *c,
                                  const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                  const uint8_t *digest, size_t digest_len,
                                  const uint8_t sig[ROT_P384_SIG_LEN]) {
  if (c == NULL || pub == NULL || digest == NULL || sig == NULL ||
      digest_len == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_error_t r_ok = rot_p384_scalar_check(sig);
  if (r_ok != ROT_OK) {
    return r_ok;
  }
  rot_error_t s_ok = rot_p384_low_s_check(sig + ROT_P384_SCALAR_LEN);
  if (s_ok != ROT_OK) {
    return s_ok;
  }
  rot_error_t err = c->ecdsa_p384_verify(c, pub, digest, digest_len, sig);
  if (err != ROT_OK) {
    return err == ROT_ERROR_CRYPTO_BAD_KEY ? err : ROT_ERROR_CRYPTO_BAD_SIGNATURE;
  }
  /* Second look before the verdict. The scalars are judged again from the
   * bytes, not from the saved results: what was checked is what verified. */
  HARDENED_CHECK_EQ(r_ok, ROT_OK);
  HARDENED_CHECK_EQ(s_ok, ROT_OK);
  HARDENED_CHECK_EQ(rot_p384_scalar_check(sig), ROT_OK);
  HARDENED_CHECK_EQ(rot_p384_low_s_check(sig + ROT_P384_SCALAR_LEN), ROT_OK);
  HARDENED_CHECK_EQ(err, ROT_OK);
  return ROT_OK;
}
