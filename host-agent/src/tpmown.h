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

#include "attest/attest.h"
#include "attest/tpm.h"
#include "chipid.h"
#include "rot/error.h"

typedef struct ha_kept ha_kept_t;

typedef struct ha_tpm {
  pthread_mutex_t lock;
  attest_tpm_t *tpm;  /* NULL while closed */
  char tcti[512];     /* "" = tpm2-tss default search */
  char last_error[256];
  uint64_t errors;    /* failed TPM operations since start (metrics) */
  ha_chip_t *chip;    /* where the chip's parts of evidence come from */
  /* The nonce-independent parts of evidence both forms share (see
   * ha_tpm_attest_single); lock order: lock, then kept_lock. */
  pthread_mutex_t kept_lock;
  ha_kept_t *kept;    /* NULL: made at the next request */
} ha_tpm_t;

/** Remember the TCTI (NULL or "": tpm2-tss's default); opens nothing. */
ROT_WARN_UNUSED rot_error_t ha_tpm_init(ha_tpm_t *t, const char *tcti);

/**
 * Take the chip's parts of evidence (inventory, DICE certificates, AK
 * endorsement) from chip, after the TPM lock is released, instead of
 * asking rotd from inside attest_produce under it. NULL: as attest does.
 */
void ha_tpm_set_chip(ha_tpm_t *t, ha_chip_t *chip);

/** Close the contexts (the TPM keeps its state). */
void ha_tpm_close(ha_tpm_t *t);

/**
 * Ask the TPM for its active PCR banks (opening it first if needed).
 * Errors: ROT_ERROR_TPM_* (down, or it failed: the contexts are closed
 * and the reason kept for ha_tpm_last_error).
 */
ROT_WARN_UNUSED rot_error_t ha_tpm_banks(ha_tpm_t *t, uint16_t *algs,
                                         size_t *n);

/**
 * The single-form evidence document (docs/evidence.md) for nonce (the
 * quote's qualifying data) over src's PCRs, JSON in *doc (malloc'd).
 * The parts that do not depend on the nonce are kept between requests
 * and shared with the batched form: made again at least every second,
 * when the event log file changes, after a failed TPM exchange, and when
 * a quote turns out signed by another key than the kept AK. In between a
 * request costs one TPM2_Quote (the PCR values beside it are those whose
 * digest the quote carries: attest_tpm_quote) under the TPM lock, and
 * its document is written outside it. detail gets the reason of a
 * failure. Errors: those of attest_produce.
 */
ROT_WARN_UNUSED rot_error_t ha_tpm_attest_single(ha_tpm_t *t,
                                                 const attest_source_t *src,
                                                 const uint8_t *nonce,
                                                 size_t len, char **doc,
                                                 char *detail, size_t cap);

/**
 * One batched evidence document as pieces: the batch's document, shared
 * by all its members and counted, and the member's own nonce and batch
 * member (so a batch of n costs one document, not n copies of it).
 */
typedef struct ha_evpiece ha_evpiece_t;

/** The pieces of e in order (5, some maybe empty); returns the length. */
size_t ha_evpiece_parts(const ha_evpiece_t *e, const char *p[5],
                        size_t len[5]);

/** Drop e (the shared document with its last member); any thread. */
void ha_evpiece_free(ha_evpiece_t *e);

/**
 * The batched form for nonces[0..n): one quote over their Merkle root
 * with the kept parts (as ha_tpm_attest_single), docs[i] (n of them) the
 * document of nonce i with its inclusion path, as pieces. On error no
 * docs[i] is left allocated. Errors: those of attest_produce_batch.
 */
ROT_WARN_UNUSED rot_error_t ha_tpm_attest_batch(ha_tpm_t *t,
                                                const attest_source_t *src,
                                                const attest_nonce_t *nonces,
                                                size_t n, ha_evpiece_t **docs,
                                                char *detail, size_t cap);

/**
 * The identity the TPM holds: the AK's public area (marshalled too) and
 * the EK's public area and certificate (DER; empty when absent).
 */
ROT_WARN_UNUSED rot_error_t ha_tpm_identity(ha_tpm_t *t, uint32_t ak,
                                            uint16_t ek_alg,
                                            TPM2B_PUBLIC *ak_pub,
                                            attest_buf_t *ak_marshalled,
                                            TPM2B_PUBLIC *ek_pub,
                                            attest_buf_t *ek_cert);

/**
 * One raw quote by the AK at ak over the same PCR mask in each of
 * banks[0..nb) (qual is the qualifying data, at most 64 bytes), with the
 * AK's public area (Keylime's quotes, one bank; the Redfish
 * TPMGetSignedMeasurements action).
 */
ROT_WARN_UNUSED rot_error_t ha_tpm_quote_banks(ha_tpm_t *t, uint32_t ak,
                                               const uint8_t *qual, size_t qlen,
                                               uint32_t mask,
                                               const uint16_t *banks, size_t nb,
                                               attest_quote_t *q,
                                               TPM2B_PUBLIC *ak_pub);

/** The reason of the last failure ("" when none), copied into out. */
void ha_tpm_last_error(ha_tpm_t *t, char *out, size_t cap);

/** Failed TPM operations so far. */
uint64_t ha_tpm_error_count(ha_tpm_t *t);

#endif /* HOST_AGENT_TPMOWN_H */
