/*
 * Which crypto backend the host tools run on: ROT_CRYPTO at run time, else
 * the build's default (ROT_CRYPTO_DEFAULT_MBEDTLS set by `make
 * CRYPTO=mbedtls`; libcrypto otherwise, the faster one). Also the front
 * of the streaming hash both backends share (hash_front.h), so that the
 * selection never changes which calls are refused.
 */
#include "rot_host/crypto_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash_front.h"
#include "rot/util.h"

#ifdef ROT_CRYPTO_DEFAULT_MBEDTLS
static const char kDefault[] = "mbedtls";
#else
static const char kDefault[] = "openssl";
#endif

const char *rot_host_crypto_name(void) {
  const char *e = getenv("ROT_CRYPTO");
  if (e == NULL || *e == '\0') {
    return kDefault;
  }
  if (strcmp(e, "mbedtls") == 0) {
    return "mbedtls";
  }
  if (strcmp(e, "openssl") == 0) {
    return "openssl";
  }
  return NULL;
}

rot_error_t rot_host_crypto_get(const rot_crypto_t **out) {
  const char *name = rot_host_crypto_name();
  const rot_crypto_t *c = NULL;
  if (out != NULL) {
    *out = NULL;
  }
  if (name == NULL) {
    return ROT_ERROR_CRYPTO_UNKNOWN_BACKEND;
  }
  c = strcmp(name, "mbedtls") == 0 ? rot_host_crypto_mbedtls()
                                   : rot_host_crypto_openssl();
  if (c == NULL) {
    return ROT_ERROR_CRYPTO_RNG;
  }
  if (out != NULL) {
    *out = c;
  }
  return ROT_OK;
}

const rot_crypto_t *rot_host_crypto(void) {
  static int warned;
  const rot_crypto_t *c = NULL;
  if (rot_host_crypto_get(&c) == ROT_ERROR_CRYPTO_UNKNOWN_BACKEND &&
      !warned) {
    warned = 1;
    fprintf(stderr, "ROT_CRYPTO='%s' names no crypto backend (mbedtls or openssl)\n",
            getenv("ROT_CRYPTO"));
  }
  return c;
}

/* ---- the shared streaming-hash front ------------------------------------ */

rot_error_t rot_host_hash_start(const rot_host_hash_ops_t *ops,
                                rot_hash_ctx_t *ctx, rot_hash_alg_t alg) {
  if (ctx == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* alg 0 is no algorithm: update and finish refuse the context. */
  ctx->alg = 0;
  if (rot_hash_len(alg) == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (ops->start(ctx->opaque, alg) != 0) {
    rot_wipe(ctx, sizeof(*ctx));
    return ROT_ERROR_CRYPTO_FAILED;
  }
  ctx->alg = alg;
  return ROT_OK;
}

rot_error_t rot_host_hash_update(const rot_host_hash_ops_t *ops,
                                 rot_hash_ctx_t *ctx, const void *data,
                                 size_t len) {
  if (ctx == NULL || (data == NULL && len != 0) ||
      rot_hash_len((rot_hash_alg_t)ctx->alg) == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len == 0) {
    return ROT_OK;
  }
  return ops->update(ctx->opaque, (rot_hash_alg_t)ctx->alg, data, len) == 0
             ? ROT_OK
             : ROT_ERROR_CRYPTO_FAILED;
}

rot_error_t rot_host_hash_finish(const rot_host_hash_ops_t *ops,
                                 rot_hash_ctx_t *ctx, uint8_t *out,
                                 size_t out_len) {
  if (ctx == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_hash_alg_t alg = (rot_hash_alg_t)ctx->alg;
  rot_error_t err = ROT_ERROR_INVALID_ARGUMENT;
  if (out != NULL && rot_hash_len(alg) != 0 && out_len >= rot_hash_len(alg)) {
    err = ops->finish(ctx->opaque, alg, out) == 0 ? ROT_OK
                                                  : ROT_ERROR_CRYPTO_FAILED;
  }
  rot_wipe(ctx, sizeof(*ctx));
  return err;
}
