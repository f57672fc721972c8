/* The host port's crypto backends: see crypto_host.h (this name is kept
 * for the code that includes it). */
#ifndef ROT_HOST_CRYPTO_MBEDTLS_H
#define ROT_HOST_CRYPTO_MBEDTLS_H

#include "rot_host/crypto_host.h"

#endif
