/*
 * The batching window of /v1/attestation?batch=1. The first request of a
 * window leads: it waits up to window_us (or until max requests joined),
 * closes the window, makes one quote over the Merkle root of the nonces
 * through the TPM owner, and hands each request its evidence (the shared
 * quote and its own inclusion path). Requests arriving meanwhile open
 * the next window.
 */
#ifndef HOST_AGENT_BATCH_H
#define HOST_AGENT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "rot/error.h"
#include "tpmown.h"

typedef struct ha_batch ha_batch_t;

/** A batcher over the TPM owner t, making evidence from src (kept). */
ROT_WARN_UNUSED rot_error_t ha_batch_new(ha_batch_t **b, ha_tpm_t *t,
                                         const attest_source_t *src,
                                         unsigned window_us, unsigned max);
void ha_batch_free(ha_batch_t *b);

/**
 * Join the current window with nonce (16..64 bytes) and PCR selection
 * mask; blocks until that window's quote is made. Requests asking other
 * PCRs go into separate windows. *batch_size gets how many requests the
 * quote answered. detail gets the reason of a failure.
 */
ROT_WARN_UNUSED rot_error_t ha_batch_join(ha_batch_t *b, const uint8_t *nonce,
                                          size_t len, uint32_t mask,
                                          attest_evidence_t *ev,
                                          unsigned *batch_size, char *detail,
                                          size_t cap);

#endif /* HOST_AGENT_BATCH_H */
