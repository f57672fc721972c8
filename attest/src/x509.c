/*
 * Certificate chains (mbedTLS X.509) for the EK and DICE checks.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>

#include "attest/verify.h"

hardened_bool_t attest_x509_chain(const uint8_t *der, size_t len,
                                  const char *ca_file, const char *inter_file,
                                  char *reason, size_t cap) {
  mbedtls_x509_crt ca, chain;
  mbedtls_x509_crt_init(&ca);
  mbedtls_x509_crt_init(&chain);
  hardened_bool_t ok = HARDENED_FALSE;
  uint32_t flags = 0;
  int rc;
  if (der == NULL || len == 0) {
    snprintf(reason, cap, "no certificate in the evidence");
  } else if ((rc = mbedtls_x509_crt_parse_file(&ca, ca_file)) != 0) {
    snprintf(reason, cap, "trust anchor %s unreadable (mbedTLS -0x%04x)",
             ca_file, (unsigned)-rc);
  } else if ((rc = mbedtls_x509_crt_parse_der(&chain, der, len)) != 0) {
    snprintf(reason, cap, "certificate does not parse (mbedTLS -0x%04x)",
             (unsigned)-rc);
  } else if (inter_file != NULL && access(inter_file, R_OK) == 0 &&
             (rc = mbedtls_x509_crt_parse_file(&chain, inter_file)) != 0) {
    snprintf(reason, cap, "intermediate %s unreadable (mbedTLS -0x%04x)",
             inter_file, (unsigned)-rc);
  } else if ((rc = mbedtls_x509_crt_verify(&chain, &ca, NULL, NULL, &flags,
                                           NULL, NULL)) != 0) {
    char info[160];
    int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
    if (n > 0 && info[n - 1] == '\n') {
      info[n - 1] = '\0';
    }
    snprintf(reason, cap, "does not chain to %s: %s", ca_file,
             n > 0 ? info : "verification failed");
  } else {
    ok = HARDENED_TRUE;
    snprintf(reason, cap, "chains to %s", ca_file);
  }
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&chain);
  return ok;
}
