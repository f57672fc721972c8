/*
 * Crypto port interface.
 *
 * The core never calls a crypto library directly: a port supplies one
 * const struct rot_crypto, whose mutable state (RNG, contexts) lives behind
 * the state pointer so the struct itself can sit in read-only memory.
 * The host port implements it with mbedTLS 2.28 (rot/port/host).
 *
 * Encodings are fixed and persisted: a P-384 public key is the 96-byte
 * concatenation X || Y (big-endian coordinates, no SEC1 prefix); a P-384
 * signature is r || s, 48 bytes each, big-endian; private keys are the
 * 48-byte big-endian scalar.
 *
 * Signatures are canonical: s <= n/2 ("low-S"). ECDSA accepts both (r, s)
 * and (r, n - s) for the same message, so without this rule anyone could
 * turn a signed image into a second, byte-different signed image. Signers
 * emit the low-S form and the verifier refuses the other one.
 */
#ifndef ROT_CRYPTO_H
#define ROT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

#define ROT_SHA256_LEN 32u
#define ROT_SHA384_LEN 48u
#define ROT_P384_SCALAR_LEN 48u
#define ROT_P384_PUBKEY_LEN 96u
#define ROT_P384_SIG_LEN 96u

typedef enum rot_hash_alg {
  ROT_HASH_SHA256 = 0x0b,
  ROT_HASH_SHA384 = 0x0c,
} rot_hash_alg_t;

/** Digest length of alg in bytes, or 0 for an unknown algorithm. */
static inline size_t rot_hash_len(rot_hash_alg_t alg) {
  return alg == ROT_HASH_SHA256 ? ROT_SHA256_LEN
         : alg == ROT_HASH_SHA384 ? ROT_SHA384_LEN
                                  : 0u;
}

/*
 * Opaque, caller-allocated streaming hash context, large enough for any
 * backend's SHA-384 state (checked with _Static_assert in each backend).
 */
typedef struct rot_hash_ctx {
  uint64_t alg;
  uint64_t opaque[48];
} rot_hash_ctx_t;

typedef struct rot_crypto rot_crypto_t;

struct rot_crypto {
  /** Start a streaming hash of alg in ctx. */
  rot_error_t (*hash_start)(const rot_crypto_t *c, rot_hash_ctx_t *ctx,
                            rot_hash_alg_t alg);
  /** Feed len bytes (len may be 0). */
  rot_error_t (*hash_update)(const rot_crypto_t *c, rot_hash_ctx_t *ctx,
                             const void *data, size_t len);
  /** Write the digest (out_len >= rot_hash_len(alg)) and wipe ctx. */
  rot_error_t (*hash_finish)(const rot_crypto_t *c, rot_hash_ctx_t *ctx,
                             uint8_t *out, size_t out_len);
  /** HMAC over data with key; out_len >= rot_hash_len(alg). */
  rot_error_t (*hmac)(const rot_crypto_t *c, rot_hash_alg_t alg,
                      const uint8_t *key, size_t key_len, const void *data,
                      size_t len, uint8_t *out, size_t out_len);
  /** HKDF (RFC 5869) extract-and-expand into out[0..out_len). */
  rot_error_t (*hkdf)(const rot_crypto_t *c, rot_hash_alg_t alg,
                      const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                      size_t ikm_len, const uint8_t *info, size_t info_len,
                      uint8_t *out, size_t out_len);
  /**
   * Verify an ECDSA P-384 signature (r || s) over a digest of digest_len
   * bytes. Returns ROT_OK only for a valid signature; ROT_ERROR_CRYPTO_*
   * otherwise.
   */
  rot_error_t (*ecdsa_p384_verify)(const rot_crypto_t *c,
                                   const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                   const uint8_t *digest, size_t digest_len,
                                   const uint8_t sig[ROT_P384_SIG_LEN]);
  /**
   * Sign a digest with ECDSA P-384 (deterministic, RFC 6979), written in
   * the low-S form (s <= n/2). Core signers normalise the result again,
   * so a backend that forgets cannot emit a signature the verifier refuses.
   */
  rot_error_t (*ecdsa_p384_sign)(const rot_crypto_t *c,
                                 const uint8_t priv[ROT_P384_SCALAR_LEN],
                                 const uint8_t *digest, size_t digest_len,
                                 uint8_t sig[ROT_P384_SIG_LEN]);
  /** Derive the public key of a private scalar. */
  rot_error_t (*ecdsa_p384_pubkey)(const rot_crypto_t *c,
                                   const uint8_t priv[ROT_P384_SCALAR_LEN],
                                   uint8_t pub[ROT_P384_PUBKEY_LEN]);
  /** Fill out with len random bytes from a DRBG seeded by the platform. */
  rot_error_t (*rng)(const rot_crypto_t *c, uint8_t *out, size_t len);
  /** Backend-private mutable state. */
  void *state;
};

/** One-shot hash of a buffer through the interface. */
ROT_WARN_UNUSED rot_error_t rot_hash(const rot_crypto_t *c, rot_hash_alg_t alg,
                                     const void *data, size_t len,
                                     uint8_t *out, size_t out_len);

/**
 * Check that a big-endian P-384 scalar (r or s) lies in [1, n-1].
 * Done in the core, before the backend sees the signature, so a backend
 * that forgets the range check cannot be tricked.
 */
ROT_WARN_UNUSED rot_error_t rot_p384_scalar_check(
    const uint8_t scalar[ROT_P384_SCALAR_LEN]);

/**
 * Check that a big-endian P-384 scalar s lies in [1, n/2]: the low half
 * that canonical signatures use. ROT_ERROR_CRYPTO_SIG_RANGE for 0 or >= n,
 * ROT_ERROR_CRYPTO_SIG_HIGH_S for (n/2, n).
 */
ROT_WARN_UNUSED rot_error_t rot_p384_low_s_check(
    const uint8_t s[ROT_P384_SCALAR_LEN]);

/**
 * Put a signature (r || s) into its canonical low-S form in place:
 * s becomes n - s when s > n/2. Both r and s must already be in [1, n-1]
 * (ROT_ERROR_CRYPTO_SIG_RANGE otherwise, sig untouched).
 */
ROT_WARN_UNUSED rot_error_t rot_p384_sig_normalize(
    uint8_t sig[ROT_P384_SIG_LEN]);

/**
 * Verify an ECDSA P-384 signature: range-check r and s (1 <= r, s < n),
 * refuse a high s (ROT_ERROR_CRYPTO_SIG_HIGH_S), then verify through the
 * backend. ROT_ERROR_CRYPTO_BAD_KEY when pub is not a point of the curve,
 * ROT_ERROR_CRYPTO_BAD_SIGNATURE when the signature does not verify.
 * Every check is made twice, the second time right before ROT_OK.
 */
ROT_WARN_UNUSED rot_error_t rot_ecdsa_p384_verify(
    const rot_crypto_t *c, const uint8_t pub[ROT_P384_PUBKEY_LEN],
    const uint8_t *digest, size_t digest_len,
    const uint8_t sig[ROT_P384_SIG_LEN]);

/** The P-384 group order n, big-endian. */
extern const uint8_t rot_p384_order[ROT_P384_SCALAR_LEN];

/** floor(n / 2), big-endian: the largest s a canonical signature has. */
extern const uint8_t rot_p384_half_order[ROT_P384_SCALAR_LEN];

#endif /* ROT_CRYPTO_H */
