/* mbedTLS 2.28 backend of the crypto port interface (host only). */
#ifndef ROT_HOST_CRYPTO_MBEDTLS_H
#define ROT_HOST_CRYPTO_MBEDTLS_H

#include "rot/crypto.h"

/**
 * The process-wide mbedTLS crypto instance. Its DRBG is seeded from the
 * OS entropy source on first use; returns NULL if seeding fails.
 * Not thread-safe: one thread of a process uses it.
 */
const rot_crypto_t *rot_host_crypto(void);

/**
 * Generate a P-384 key pair: private scalar and public X || Y.
 */
ROT_WARN_UNUSED rot_error_t rot_host_p384_keygen(
    uint8_t priv[ROT_P384_SCALAR_LEN], uint8_t pub[ROT_P384_PUBKEY_LEN]);

#endif
