/*
 * The streaming-hash front both host crypto backends share (private to the
 * host port). Every argument and context check lives here, once, so that
 * mbedTLS and libcrypto refuse exactly the same calls; a backend supplies
 * only the three primitive steps, each called on a context the front has
 * already checked.
 */
#ifndef ROT_HOST_HASH_FRONT_H
#define ROT_HOST_HASH_FRONT_H

#include "rot/crypto.h"

typedef struct rot_host_hash_ops {
  /* Each returns 0 on success; h is the context's opaque state, alg a
   * known algorithm (rot_hash_len(alg) != 0). */
  int (*start)(void *h, rot_hash_alg_t alg);
  /* len >= 1 and data non-NULL. */
  int (*update)(void *h, rot_hash_alg_t alg, const void *data, size_t len);
  /* Writes exactly rot_hash_len(alg) bytes to out. */
  int (*finish)(void *h, rot_hash_alg_t alg, uint8_t *out);
} rot_host_hash_ops_t;

/* The port's hash_start: INVALID_ARGUMENT for a NULL context or an unknown
 * algorithm (the context is then left unusable), CRYPTO_FAILED if the
 * backend fails. */
ROT_WARN_UNUSED rot_error_t rot_host_hash_start(const rot_host_hash_ops_t *ops,
                                                rot_hash_ctx_t *ctx,
                                                rot_hash_alg_t alg);

/* The port's hash_update: INVALID_ARGUMENT for a NULL context, NULL data
 * with a length, or a context no start set up; len 0 is a no-op. */
ROT_WARN_UNUSED rot_error_t rot_host_hash_update(const rot_host_hash_ops_t *ops,
                                                 rot_hash_ctx_t *ctx,
                                                 const void *data, size_t len);

/* The port's hash_finish: INVALID_ARGUMENT for a NULL context or output, a
 * context no start set up, or out_len below the digest length. The context
 * is wiped whatever the outcome. */
ROT_WARN_UNUSED rot_error_t rot_host_hash_finish(const rot_host_hash_ops_t *ops,
                                                 rot_hash_ctx_t *ctx,
                                                 uint8_t *out, size_t out_len);

/* The three rot_crypto_t hash entries of a backend, PREFIX_hash_start,
 * _update and _finish, each a call of the front with the backend's ops. */
#define ROT_HOST_HASH_ENTRIES(prefix_, ops_)                                \
  static rot_error_t prefix_##_hash_start(                                  \
      const rot_crypto_t *c, rot_hash_ctx_t *ctx, rot_hash_alg_t alg) {     \
    (void)c;                                                                \
    return rot_host_hash_start(&(ops_), ctx, alg);                          \
  }                                                                         \
  static rot_error_t prefix_##_hash_update(const rot_crypto_t *c,           \
                                           rot_hash_ctx_t *ctx,             \
                                           const void *data, size_t len) {  \
    (void)c;                                                                \
    return rot_host_hash_update(&(ops_), ctx, data, len);                   \
  }                                                                         \
  static rot_error_t prefix_##_hash_finish(const rot_crypto_t *c,           \
                                           rot_hash_ctx_t *ctx, uint8_t *out, \
                                           size_t out_len) {                \
    (void)c;                                                                \
    return rot_host_hash_finish(&(ops_), ctx, out, out_len);                \
  }

#endif
