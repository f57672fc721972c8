/*
 * The batching window of /v1/attestation?batch=1. Requests join as jobs;
 * one worker thread owns the windows: a window opens with its first job,
 * closes window_us later (counted from when the last window's answers
 * were all taken by their requests, when that is later: its clients have
 * that long to ask again and join) or as soon as max jobs asking the same
 * PCRs joined, and gets one quote over the Merkle root of its nonces
 * through the TPM owner; each job then holds its evidence document (the
 * shared quote and its own inclusion path). Jobs arriving while a quote
 * is made wait for the next window.
 *
 * Jobs are asynchronous, so a waiting request holds no server thread: the
 * HTTP layer suspends the connection, and the job's done callback resumes
 * it. The worker also encodes every request's evidence document, the
 * parts they share once.
 */
#ifndef HOST_AGENT_BATCH_H
#define HOST_AGENT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "rot/error.h"
#include "tpmown.h"

typedef struct ha_batch ha_batch_t;
typedef struct ha_batch_job ha_batch_job_t;

/** Called once per job, from the worker, when its evidence is ready. */
typedef void (*ha_batch_done_fn)(void *ctx);

/**
 * A batcher over the TPM owner t, making evidence from src (kept), with
 * its worker thread (all signals blocked in it).
 */
ROT_WARN_UNUSED rot_error_t ha_batch_new(ha_batch_t **b, ha_tpm_t *t,
                                         const attest_source_t *src,
                                         unsigned window_us, unsigned max);

/** Drain (see ha_batch_drain), stop the worker, free. */
void ha_batch_free(ha_batch_t *b);

/**
 * A job for nonce (16..64 bytes, copied) and PCR selection mask; done(ctx)
 * is called when it is answered. NULL on bad arguments or no memory.
 */
ha_batch_job_t *ha_batch_job_new(const uint8_t *nonce, size_t len,
                                 uint32_t mask, ha_batch_done_fn done,
                                 void *ctx);

/**
 * Hand job to the batcher. Never fails: a batcher that is draining
 * answers the job at once with an error. done is called exactly once,
 * possibly before this returns.
 */
void ha_batch_submit(ha_batch_t *b, ha_batch_job_t *job);

/**
 * The answer of a done job: its evidence document (JSON, moved to *json,
 * the caller frees it), its index in the batch and how many requests its
 * quote answered. detail gets the reason of a failure.
 * ROT_ERROR_INVALID_ARGUMENT when the job is not done.
 */
ROT_WARN_UNUSED rot_error_t ha_batch_job_result(ha_batch_job_t *job,
                                                char **json, uint32_t *index,
                                                unsigned *batch_size,
                                                char *detail, size_t cap);

/**
 * Release job: freed when done; a job still waiting is left to the worker,
 * which frees it without calling done.
 */
void ha_batch_job_release(ha_batch_t *b, ha_batch_job_t *job);

/** Refuse new jobs and wait until every job handed in is answered. */
void ha_batch_drain(ha_batch_t *b);

#endif /* HOST_AGENT_BATCH_H */
