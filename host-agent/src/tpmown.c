/* The serialised TPM owner (see tpmown.h). */
#include "tpmown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rot_error_t ha_tpm_init(ha_tpm_t *t, const char *tcti) {
  if (t == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(t, 0, sizeof(*t));
  if (tcti != NULL) {
    if (strlen(tcti) >= sizeof(t->tcti)) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    strcpy(t->tcti, tcti);
  }
  if (pthread_mutex_init(&t->lock, NULL) != 0) {
    return ROT_ERROR_INTERNAL;
  }
  return ROT_OK;
}

void ha_tpm_set_chip(ha_tpm_t *t, ha_chip_t *chip) {
  if (t != NULL) {
    t->chip = chip;
  }
}

void ha_tpm_close(ha_tpm_t *t) {
  if (t == NULL) {
    return;
  }
  pthread_mutex_lock(&t->lock);
  attest_tpm_close(t->tpm);
  t->tpm = NULL;
  pthread_mutex_unlock(&t->lock);
}

/* Under the lock. */
static void fail(ha_tpm_t *t, const char *what) {
  snprintf(t->last_error, sizeof(t->last_error), "%s", what);
  t->errors++;
  attest_tpm_close(t->tpm);
  t->tpm = NULL;
}

/* The end of a TPM exchange: a failure drops the context (reopened on the
 * next use) naming why, a success clears the last error. */
static void settle(ha_tpm_t *t, rot_error_t err, const char *why) {
  if (err != ROT_OK) {
    fail(t, why);
  } else {
    t->last_error[0] = '\0';
  }
}

static rot_error_t ensure(ha_tpm_t *t) {
  if (t->tpm != NULL) {
    return ROT_OK;
  }
  rot_error_t err = attest_tpm_open(&t->tpm, t->tcti[0] != '\0' ? t->tcti : NULL);
  if (err != ROT_OK) {
    fail(t, attest_tpm_strerror(NULL));
  }
  return err;
}

rot_error_t ha_tpm_banks(ha_tpm_t *t, uint16_t *algs, size_t *n) {
  if (t == NULL || algs == NULL || n == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err == ROT_OK) {
    err = attest_tpm_banks(t->tpm, algs, n);
    if (err != ROT_ERROR_BUFFER_TOO_SMALL) { /* the caller's buffer, not the TPM */
      settle(t, err, attest_tpm_strerror(t->tpm));
    }
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

/* The source the TPM's side of evidence is made from: with the agent's
 * chip link, the chip is asked later (chip_fill), once the TPM is free. */
static attest_source_t tpm_side(const ha_tpm_t *t, const attest_source_t *src) {
  attest_source_t s = *src;
  if (t->chip != NULL) {
    s.no_chip = 1;
  }
  return s;
}

/* The chip's parts of n evidences made from tpm_side(src), outside the TPM
 * lock (through the chip cache); on failure the evidences are freed. */
static rot_error_t chip_fill(ha_tpm_t *t, const attest_source_t *src,
                             attest_evidence_t *evs, size_t n, char *detail,
                             size_t cap) {
  if (t->chip == NULL || src->no_chip) {
    return ROT_OK;
  }
  rot_error_t err = ha_chip_fill(t->chip, evs, n);
  if (err != ROT_OK) {
    snprintf(detail, cap, "out of memory");
    for (size_t i = 0; i < n; i++) {
      attest_evidence_free(&evs[i]);
    }
  }
  return err;
}

rot_error_t ha_tpm_produce(ha_tpm_t *t, const attest_source_t *src,
                           const attest_nonce_t *nonces, size_t n, int batched,
                           attest_evidence_t *evs, char *detail, size_t cap) {
  if (t == NULL || src == NULL || nonces == NULL || evs == NULL || n == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  attest_source_t s = tpm_side(t, src);
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err != ROT_OK) {
    snprintf(detail, cap, "TPM: %s", t->last_error);
  } else if (n == 1 && !batched) {
    err = attest_produce(t->tpm, &s, nonces[0].p, nonces[0].len, &evs[0],
                         detail, cap);
  } else {
    err = attest_produce_batch(t->tpm, &s, nonces, n, evs, detail, cap);
  }
  if (err != ROT_OK && t->tpm != NULL) {
    fail(t, detail);
  } else if (err == ROT_OK) {
    t->last_error[0] = '\0';
  }
  pthread_mutex_unlock(&t->lock);
  return err == ROT_OK ? chip_fill(t, src, evs, n, detail, cap) : err;
}

rot_error_t ha_tpm_common(ha_tpm_t *t, const attest_source_t *src,
                          attest_evidence_t *base, char *detail, size_t cap) {
  if (t == NULL || src == NULL || base == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  attest_source_t s = tpm_side(t, src);
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err != ROT_OK) {
    snprintf(detail, cap, "TPM: %s", t->last_error);
  } else {
    err = attest_produce_common(t->tpm, &s, base, detail, cap);
    if (err != ROT_OK) {
      fail(t, detail);
    }
  }
  pthread_mutex_unlock(&t->lock);
  return err == ROT_OK ? chip_fill(t, src, base, 1, detail, cap) : err;
}

rot_error_t ha_tpm_produce_docs(ha_tpm_t *t, const attest_source_t *src,
                                const attest_evidence_t *base,
                                const attest_nonce_t *nonces, size_t n,
                                char **docs, char *detail, size_t cap) {
  if (t == NULL || src == NULL || base == NULL || nonces == NULL ||
      docs == NULL || n == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err != ROT_OK) {
    snprintf(detail, cap, "TPM: %s", t->last_error);
  } else {
    err = attest_produce_batch_docs(t->tpm, src, base, nonces, n, docs, detail,
                                    cap);
    settle(t, err, detail);
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

rot_error_t ha_tpm_quote(ha_tpm_t *t, uint32_t ak, const uint8_t *qual,
                         size_t qlen, uint32_t mask, uint16_t bank,
                         attest_quote_t *q, TPM2B_PUBLIC *ak_pub) {
  return ha_tpm_quote_banks(t, ak, qual, qlen, mask, &bank, 1, q, ak_pub);
}

rot_error_t ha_tpm_quote_banks(ha_tpm_t *t, uint32_t ak, const uint8_t *qual,
                               size_t qlen, uint32_t mask, const uint16_t *banks,
                               size_t nb, attest_quote_t *q,
                               TPM2B_PUBLIC *ak_pub) {
  if (t == NULL || q == NULL || ak_pub == NULL || banks == NULL || nb == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err == ROT_OK) {
    attest_buf_t m = {NULL, 0};
    err = attest_ak_read(t->tpm, ak, ak_pub, &m);
    free(m.p);
    if (err == ROT_OK) {
      err = attest_tpm_quote(t->tpm, ak, qual, qlen, mask, banks, nb, q);
    }
    settle(t, err, attest_tpm_strerror(t->tpm));
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

rot_error_t ha_tpm_identity(ha_tpm_t *t, uint32_t ak, uint16_t ek_alg,
                            TPM2B_PUBLIC *ak_pub, attest_buf_t *ak_marshalled,
                            TPM2B_PUBLIC *ek_pub, attest_buf_t *ek_cert) {
  if (t == NULL || ak_pub == NULL || ak_marshalled == NULL || ek_pub == NULL ||
      ek_cert == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  pthread_mutex_lock(&t->lock);
  rot_error_t err = ensure(t);
  if (err == ROT_OK) {
    err = attest_ak_read(t->tpm, ak, ak_pub, ak_marshalled);
    if (err == ROT_OK) {
      err = attest_ek_read(t->tpm, ek_alg, ek_pub, ek_cert);
    }
    settle(t, err, attest_tpm_strerror(t->tpm));
  }
  pthread_mutex_unlock(&t->lock);
  return err;
}

void ha_tpm_last_error(ha_tpm_t *t, char *out, size_t cap) {
  pthread_mutex_lock(&t->lock);
  snprintf(out, cap, "%s", t->last_error);
  pthread_mutex_unlock(&t->lock);
}

uint64_t ha_tpm_error_count(ha_tpm_t *t) {
  pthread_mutex_lock(&t->lock);
  uint64_t n = t->errors;
  pthread_mutex_unlock(&t->lock);
  return n;
}
