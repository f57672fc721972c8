/*
 * The one owner of the TPM. tpm2-tss contexts are not thread-safe and a
 * TPM without a resource manager (swtpm, a bare /dev/tpm0) must see one
 * command stream, so every TPM command of the agent runs here, under one
 * lock. A failure closes the contexts; the next call opens them again, so
 * the agent recovers by itself when the TPM comes back.
 */
#ifndef HOST_AGENT_TPMOWN_H
#define HOST_AGENT_TPMOWN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bootchain/tpm.h"
#include "rot/error.h"

typedef struct ha_tpm {
  pthread_mutex_t lock;
  bc_tpm_t *tpm;      /* NULL while closed */
  char tcti[512];     /* "" = tpm2-tss default search */
  char last_error[256];
  uint64_t errors;    /* failed TPM operations since start (metrics) */
} ha_tpm_t;

/** Remember the TCTI (NULL or "": tpm2-tss's default); opens nothing. */
ROT_WARN_UNUSED rot_error_t ha_tpm_init(ha_tpm_t *t, const char *tcti);

/** Close the contexts (the TPM keeps its state). */
void ha_tpm_close(ha_tpm_t *t);

/**
 * Ask the TPM for its active PCR banks (opening it first if needed).
 * Errors: ROT_ERROR_TPM_* (down, or it failed: the contexts are closed
 * and the reason kept for ha_tpm_last_error).
 */
ROT_WARN_UNUSED rot_error_t ha_tpm_banks(ha_tpm_t *t, uint16_t *algs,
                                         size_t *n);

/** The reason of the last failure ("" when none), copied into out. */
void ha_tpm_last_error(ha_tpm_t *t, char *out, size_t cap);

/** Failed TPM operations so far. */
uint64_t ha_tpm_error_count(ha_tpm_t *t);

#endif /* HOST_AGENT_TPMOWN_H */
