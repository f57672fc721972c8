/* Core-side crypto helpers: one-shot hash and the ECDSA range check. */
#include "rot/crypto.h"

#include "rot/hardened.h"
#include "rot/util.h"

const uint8_t rot_p384_order[ROT_P384_SCALAR_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
    0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};

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

rot_error_t rot_p384_scalar_check(const uint8_t scalar[ROT_P384_SCALAR_LEN]) {
  if (scalar == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* Big-endian compare against n in one fixed pass (no early exit). */
  uint32_t lt = 0, gt = 0, nonzero = 0;
  for (size_t i = 0; i < ROT_P384_SCALAR_LEN; i++) {
    uint32_t a = scalar[i], b = rot_p384_order[i];
    uint32_t undecided = (uint32_t)((lt | gt) == 0);
    lt |= undecided & (uint32_t)(a < b);
    gt |= undecided & (uint32_t)(a > b);
    nonzero |= a;
  }
  if (nonzero == 0 || lt == 0) {
    return ROT_ERROR_CRYPTO_SIG_RANGE;
  }
  return ROT_OK;
}

rot_error_t rot_ecdsa_p384_verify(const rot_crypto_t *c,
                                  const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                  const uint8_t *digest, size_t digest_len,
                                  const uint8_t sig[ROT_P384_SIG_LEN]) {
  if (c == NULL || pub == NULL || digest == NULL || sig == NULL ||
      digest_len == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(rot_p384_scalar_check(sig));
  ROT_TRY(rot_p384_scalar_check(sig + ROT_P384_SCALAR_LEN));
  rot_error_t err = c->ecdsa_p384_verify(c, pub, digest, digest_len, sig);
  if (err != ROT_OK) {
    return err == ROT_ERROR_CRYPTO_BAD_KEY ? err : ROT_ERROR_CRYPTO_BAD_SIGNATURE;
  }
  HARDENED_CHECK_EQ(err, ROT_OK);
  return ROT_OK;
}
