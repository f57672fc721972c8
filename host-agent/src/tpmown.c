/* The serialised TPM owner (see tpmown.h). */
#include "tpmown.h"

#include <stdio.h>
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

void ha_tpm_close(ha_tpm_t *t) {
  if (t == NULL) {
    return;
  }
  pthread_mutex_lock(&t->lock);
  bc_tpm_close(t->tpm);
  t->tpm = NULL;
  pthread_mutex_unlock(&t->lock);
}

/* Under the lock. */
static void fail(ha_tpm_t *t, const char *what) {
  snprintf(t->last_error, sizeof(t->last_error), "%s", what);
  t->errors++;
  bc_tpm_close(t->tpm);
  t->tpm = NULL;
}

static rot_error_t ensure(ha_tpm_t *t) {
  if (t->tpm != NULL) {
    return ROT_OK;
  }
  rot_error_t err = bc_tpm_open(&t->tpm, t->tcti[0] != '\0' ? t->tcti : NULL);
  if (err != ROT_OK) {
    fail(t, bc_tpm_strerror(NULL));
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
    err = bc_tpm_active_banks(t->tpm, algs, n);
    if (err != ROT_OK && err != ROT_ERROR_BUFFER_TOO_SMALL) {
      fail(t, bc_tpm_strerror(t->tpm));
    } else if (err == ROT_OK) {
      t->last_error[0] = '\0';
    }
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
