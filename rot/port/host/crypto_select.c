/*
 * Which crypto backend the host tools run on: ROT_CRYPTO at run time, else
 * the build's default (ROT_CRYPTO_DEFAULT_MBEDTLS set by `make
 * CRYPTO=mbedtls`; libcrypto otherwise, the faster one).
 */
#include "rot_host/crypto_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const rot_crypto_t *rot_host_crypto(void) {
  const char *name = rot_host_crypto_name();
  if (name == NULL) {
    fprintf(stderr, "ROT_CRYPTO='%s' names no crypto backend (mbedtls or openssl)\n",
            getenv("ROT_CRYPTO"));
    return NULL;
  }
  return strcmp(name, "mbedtls") == 0 ? rot_host_crypto_mbedtls()
                                      : rot_host_crypto_openssl();
}
