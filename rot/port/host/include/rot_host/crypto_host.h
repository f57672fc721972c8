/*
 * The host port's crypto backends (host only). Two implementations of the
 * crypto port: mbedTLS 2.28 (the chip's backend, always tested) and
 * OpenSSL 3's libcrypto (faster on x86-64). rot_host_crypto() is the one
 * the host tools use: the ROT_CRYPTO environment variable picks it at run
 * time ("mbedtls" or "openssl"), else the build's default (`make
 * CRYPTO=mbedtls|openssl`, openssl unless told).
 */
#ifndef ROT_HOST_CRYPTO_HOST_H
#define ROT_HOST_CRYPTO_HOST_H

#include "rot/crypto.h"

/**
 * The selected backend. NULL if it cannot start (mbedTLS: DRBG seeding
 * failed) or ROT_CRYPTO names no backend (a message says so on stderr, once
 * a process; rot_host_crypto_get() tells the two apart).
 * Not thread-safe: one thread of a process uses it.
 */
const rot_crypto_t *rot_host_crypto(void);

/**
 * The selected backend in *out, or why there is none:
 * ROT_ERROR_CRYPTO_UNKNOWN_BACKEND when ROT_CRYPTO names no backend,
 * ROT_ERROR_CRYPTO_RNG when the backend cannot start (mbedTLS: DRBG
 * seeding failed). Prints nothing. out may be NULL: tools check this first,
 * so a bad ROT_CRYPTO stops them before they do anything.
 */
ROT_WARN_UNUSED rot_error_t rot_host_crypto_get(const rot_crypto_t **out);

/** The name of the backend rot_host_crypto() returns: "mbedtls" or
 * "openssl" (NULL when ROT_CRYPTO names no backend). */
const char *rot_host_crypto_name(void);

/** The mbedTLS backend; its DRBG is seeded from the OS on first use. */
const rot_crypto_t *rot_host_crypto_mbedtls(void);

/** The libcrypto backend (signing and key derivation run on mbedTLS: the
 * port promises deterministic ECDSA, which OpenSSL 3.0 lacks). */
const rot_crypto_t *rot_host_crypto_openssl(void);

/**
 * Generate a P-384 key pair: private scalar and public X || Y (mbedTLS's
 * DRBG, whatever the selected backend).
 */
ROT_WARN_UNUSED rot_error_t rot_host_p384_keygen(
    uint8_t priv[ROT_P384_SCALAR_LEN], uint8_t pub[ROT_P384_PUBKEY_LEN]);

#endif
