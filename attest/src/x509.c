/*
 * Certificate chains (mbedTLS X.509) for the EK and DICE checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>

#include "attest/verify.h"
#include "internal.h"

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

struct attest_trust {
  mbedtls_x509_crt tpm;  /* the TPM CA and the intermediates checked to it */
  mbedtls_x509_crt dice; /* the chip manufacturer CA (may be empty) */
  int has_dice;
};

void attest_trust_free(attest_trust_t *t) {
  if (t != NULL) {
    mbedtls_x509_crt_free(&t->tpm);
    mbedtls_x509_crt_free(&t->dice);
    free(t);
  }
}

rot_error_t attest_trust_load(const char *dir, attest_trust_t **out,
                              char *why, size_t cap) {
  char path[4096];
  if (dir == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = NULL;
  attest_trust_t *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  mbedtls_x509_crt_init(&t->tpm);
  mbedtls_x509_crt_init(&t->dice);
  snprintf(path, sizeof(path), "%s/tpm-ca.pem", dir);
  if (mbedtls_x509_crt_parse_file(&t->tpm, path) != 0) {
    snprintf(why, cap, "%s: missing or not PEM certificates", path);
    attest_trust_free(t);
    return ROT_ERROR_ATTEST_BAD_TRUST;
  }
  snprintf(path, sizeof(path), "%s/tpm-intermediate.pem", dir);
  if (access(path, F_OK) == 0) {
    mbedtls_x509_crt inter;
    mbedtls_x509_crt_init(&inter);
    uint32_t flags = 0;
    int ok = mbedtls_x509_crt_parse_file(&inter, path) == 0;
    for (mbedtls_x509_crt *c = &inter; ok && c != NULL && c->raw.p != NULL;
         c = c->next) {
      mbedtls_x509_crt one;
      mbedtls_x509_crt_init(&one);
      /* Each intermediate must chain to the CA before it is an anchor. */
      ok = mbedtls_x509_crt_parse_der(&one, c->raw.p, c->raw.len) == 0 &&
           mbedtls_x509_crt_verify(&one, &t->tpm, NULL, NULL, &flags, NULL,
                                   NULL) == 0 &&
           mbedtls_x509_crt_parse_der(&t->tpm, c->raw.p, c->raw.len) == 0;
      mbedtls_x509_crt_free(&one);
    }
    mbedtls_x509_crt_free(&inter);
    if (!ok) {
      snprintf(why, cap, "%s: unreadable, or does not chain to tpm-ca.pem",
               path);
      attest_trust_free(t);
      return ROT_ERROR_ATTEST_BAD_TRUST;
    }
  }
  snprintf(path, sizeof(path), "%s/dice-ca.pem", dir);
  if (access(path, F_OK) == 0) {
    if (mbedtls_x509_crt_parse_file(&t->dice, path) != 0) {
      snprintf(why, cap, "%s: not PEM certificates", path);
      attest_trust_free(t);
      return ROT_ERROR_ATTEST_BAD_TRUST;
    }
    t->has_dice = 1;
  }
  *out = t;
  return ROT_OK;
}

hardened_bool_t attest_trust_check_ek(const attest_trust_t *t,
                                      const uint8_t *der, size_t len,
                                      char *reason, size_t cap) {
  mbedtls_x509_crt ek;
  mbedtls_x509_crt_init(&ek);
  uint32_t flags = 0;
  hardened_bool_t ok = HARDENED_FALSE;
  if (der == NULL || len == 0) {
    snprintf(reason, cap, "no certificate in the evidence");
  } else if (mbedtls_x509_crt_parse_der(&ek, der, len) != 0) {
    snprintf(reason, cap, "does not parse");
  } else if (mbedtls_x509_crt_verify(&ek, (mbedtls_x509_crt *)&t->tpm, NULL,
                                     NULL, &flags, NULL, NULL) != 0) {
    snprintf(reason, cap, "does not chain to the trusted TPM CA (flags 0x%x)",
             flags);
  } else {
    ok = HARDENED_TRUE;
    snprintf(reason, cap, "chains to the trusted TPM CA");
  }
  mbedtls_x509_crt_free(&ek);
  return ok;
}

const mbedtls_x509_crt *attest_trust_dice(const attest_trust_t *t) {
  return t->has_dice ? &t->dice : NULL;
}
