/*
 * The batching of /v1/attestation?batch=1 (group commit). Requests join
 * as jobs; one worker thread owns the TPM's quotes for them: as soon as
 * the TPM is free and the answers of the last quote have all been taken
 * by their requests (so that clients asking again at once share the next
 * quote instead of splitting into groups that take turns at the TPM),
 * every job waiting that asks the same PCRs as the oldest one, up to max,
 * gets one quote over the Merkle root of their nonces through the TPM
 * owner; each job then holds its evidence document (the shared quote and
 * its own inclusion path). Jobs arriving while a quote is made wait for
 * the next one. window_us (0 by default) makes the first job of a batch
 * wait that much longer for others, counted from when it joined or from
 * when the last answers were all taken, whichever is later; max jobs
 * close it early.
 *
 * Jobs are asynchronous, so a waiting request holds no server thread: the
 * HTTP layer suspends the connection, and the job's done callback resumes
 * it. The worker also writes every request's evidence document: the
 * batch's document once, and each request's own nonce and inclusion path
 * beside it (sent as pieces, never copied whole per request).
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
 * The answer of a done job: its evidence document (JSON as pieces sharing
 * the batch's document, moved to *doc; ha_evpiece_free), its index in the batch and how many requests its
 * quote answered. detail gets the reason of a failure.
 * ROT_ERROR_INVALID_ARGUMENT when the job is not done.
 */
ROT_WARN_UNUSED rot_error_t ha_batch_job_result(ha_batch_job_t *job,
                                                ha_evpiece_t **doc,
                                                uint32_t *index,
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
