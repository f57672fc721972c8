/*
 * attest: the public API the host agent uses (and attestctl is built on).
 *
 *   produce   attest_produce / attest_produce_batch: evidence from the TPM
 *             (quote with the AK), the event log file, the EK certificate,
 *             the chip's identity and rotd's inventory.
 *   verify    attest_verify (attest/verify.h) against reference values
 *             (attest/refvals.h) and trust anchors.
 *
 * Lower layers, usable on their own: attest/tpm.h (ESAPI), attest/cred.h
 * (MakeCredential), attest/evidence.h (codec), attest/merkle.h (batch
 * tree), attest/tpms.h (TPM structure decoders).
 */
#ifndef ATTEST_ATTEST_H
#define ATTEST_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "attest/evidence.h"
#include "attest/merkle.h"
#include "attest/tpm.h"
#include "rot/error.h"

/* PCRs quoted by default: the plan's 0, 1, 4, 5, 7 (docs/pcr-plan.md). */
#define ATTEST_DEFAULT_PCRS 0xb3u
/* Where bootchain leaves its log by default (bootchain boot --out run/boot). */
#define ATTEST_DEFAULT_EVENT_LOG "run/boot/eventlog.bin"

typedef struct attest_source {
  uint32_t ak_handle;         /* 0: ATTEST_AK_HANDLE */
  uint32_t pcr_mask;          /* 0: ATTEST_DEFAULT_PCRS */
  uint16_t ek_alg;            /* 0: TPM2_ALG_RSA; or TPM2_ALG_ECC */
  const char *event_log;      /* path; NULL: ATTEST_DEFAULT_EVENT_LOG */
  const char *rotd_socket;    /* NULL: rot_mbox_default_socket() */
  int no_chip;                /* 1: do not ask rotd (inventory, identity) */
} attest_source_t;

/**
 * Single evidence: quote over src's PCRs in every active bank with the
 * nonce (ATTEST_NONCE_MIN..MAX bytes) as qualifying data, plus everything
 * else the evidence carries. rotd unreachable is not an error: the
 * inventory is left out and the identity marked unavailable (with why),
 * and the verifier fails the checks that need them.
 * detail (may be NULL) receives a line naming the failing part.
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_ATTEST_NO_AK,
 * ROT_ERROR_TPM_*, ROT_ERROR_IO_* (event log), ROT_ERROR_INTERNAL.
 */
ROT_WARN_UNUSED rot_error_t attest_produce(attest_tpm_t *t,
                                           const attest_source_t *src,
                                           const uint8_t *nonce,
                                           size_t nonce_len,
                                           attest_evidence_t *ev,
                                           char *detail, size_t detail_cap);

/**
 * Batched evidence: one quote over the Merkle root of nonces[0..n)
 * (attest/merkle.h); evs[i] (n of them, caller-allocated) is nonce i's
 * evidence, with its inclusion path. Errors: those of attest_produce and
 * ROT_ERROR_ATTEST_BATCH.
 */
ROT_WARN_UNUSED rot_error_t attest_produce_batch(attest_tpm_t *t,
                                                 const attest_source_t *src,
                                                 const attest_nonce_t *nonces,
                                                 size_t n,
                                                 attest_evidence_t *evs,
                                                 char *detail,
                                                 size_t detail_cap);

struct rot_mbox_inventory;

/**
 * rotd's INVENTORY as the evidence's "inventory" JSON text
 * ({"regions": [...]}), malloc'd; NULL when out of memory. For producers
 * that ask the chip themselves (the host agent, with attest_source_t's
 * no_chip set).
 */
char *attest_inventory_json(const struct rot_mbox_inventory *inv);
/**
 * The parts of evidence that do not depend on the nonce or the quote: AK
 * public area and PEM, EK certificate, event log, and what the chip gives
 * (inventory, DICE certificates, its endorsement of the AK), into *base
 * (the caller frees it with attest_evidence_free). Lets a producer of many
 * batches ask the TPM's NV and the chip once for several quotes.
 * Errors: those of attest_produce.
 */
ROT_WARN_UNUSED rot_error_t attest_produce_common(attest_tpm_t *t,
                                                  const attest_source_t *src,
                                                  attest_evidence_t *base,
                                                  char *detail,
                                                  size_t detail_cap);

/**
 * attest_produce_batch with the nonce-independent parts taken from base
 * (made by attest_produce_common, left untouched): only the quote is
 * asked of the TPM.
 */
ROT_WARN_UNUSED rot_error_t attest_produce_batch_with(
    attest_tpm_t *t, const attest_source_t *src, const attest_evidence_t *base,
    const attest_nonce_t *nonces, size_t n, attest_evidence_t *evs,
    char *detail, size_t detail_cap);

/**
 * The same batch as attest_produce_batch_with, straight to its evidence
 * documents: docs[i] (malloc'd, n of them) is what
 * attest_evidence_encode_batch gives for member i; no member's parts are
 * copied. On error no docs[i] is left allocated.
 */
ROT_WARN_UNUSED rot_error_t attest_produce_batch_docs(
    attest_tpm_t *t, const attest_source_t *src, const attest_evidence_t *base,
    const attest_nonce_t *nonces, size_t n, char **docs, char *detail,
    size_t detail_cap);

/**
 * What a producer answering many requests keeps between them, so that
 * each request costs one quote: the nonce-independent parts of evidence
 * (as attest_produce_common makes them), the AK's qualified name (every
 * quote is checked to be signed by that key), the active PCR banks, and
 * the single-form document with stand-ins for a request's own values.
 * The producer decides how long it is kept (it holds the event log, the
 * EK certificate and the chip's parts as they were when made).
 */
typedef struct attest_kept {
  attest_evidence_t base;
  TPM2B_NAME ak_qname;
  uint16_t banks[TPM2_NUM_PCR_BANKS];
  size_t nbanks;
  char *doc;          /* the template; NULL: encode each document whole */
  size_t doc_len;
  size_t mark_at[4];  /* where each stand-in is, in document order */
  size_t mark_len[4];
  int mark_kind[4];   /* 0 nonce, 1 attest, 2 signature, 3 pcrs */
} attest_kept_t;

/**
 * Make *k: attest_produce_common's parts (the chip's too unless
 * src->no_chip: then the caller fills base's chip parts), the AK's
 * qualified name and the active banks. Call attest_kept_ready once the
 * parts are complete. Errors: those of attest_produce_common,
 * ROT_ERROR_TPM_BANKS (no active bank).
 */
ROT_WARN_UNUSED rot_error_t attest_kept_make(attest_tpm_t *t,
                                             const attest_source_t *src,
                                             attest_kept_t *k, char *detail,
                                             size_t detail_cap);

/** Build k's single-form template from its (now complete) parts. */
void attest_kept_ready(attest_kept_t *k);

/** Free what k holds and zero it. NULL is a no-op. */
void attest_kept_free(attest_kept_t *k);

/**
 * One quote over src's PCRs (src->pcr_mask) in k's banks with qual as
 * qualifying data (the nonce, or a batch's Merkle root): the only TPM
 * command while the PCRs are as last read. *stale is set (and *q left
 * empty) when the quote was not signed by k's AK (another key lives at
 * the handle now): make k again. Errors: those of attest_tpm_quote.
 */
ROT_WARN_UNUSED rot_error_t attest_kept_quote(
    attest_tpm_t *t, const attest_source_t *src, const attest_kept_t *k,
    const uint8_t *qual, size_t qlen, attest_quote_t *q, int *stale,
    char *detail, size_t detail_cap);

/**
 * The single-form evidence document for nonce from k and q (a quote
 * with the nonce as qualifying data): the same JSON text
 * attest_evidence_encode gives for that evidence, written into a copy of
 * k's template (no TPM, no JSON building). *doc malloc'd.
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_INTERNAL.
 */
ROT_WARN_UNUSED rot_error_t attest_kept_single_doc(const attest_kept_t *k,
                                                   const uint8_t *nonce,
                                                   size_t len,
                                                   const attest_quote_t *q,
                                                   char **doc);

/**
 * The batched documents for nonces[0..n) from k and q (a quote over their
 * Merkle root), with the paths attest_merkle_paths gave: docs[i] as
 * attest_evidence_encode_batch gives them. No TPM.
 * Errors: those of attest_evidence_encode_batch.
 */
ROT_WARN_UNUSED rot_error_t attest_kept_batch_docs(
    const attest_kept_t *k, const attest_nonce_t *nonces, size_t n,
    const attest_quote_t *q,
    const uint8_t (*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN],
    const uint32_t *lens, char **docs);

/**
 * A batch's document shared by all its members, for writers that send
 * each member's evidence as pieces instead of a copy of it: member i's
 * document is doc[0, nonce_at) + its quoted nonce + doc[nonce_end,
 * batch_at) + its batch member + doc[batch_at, len), the pieces
 * attest_batch_member_text writes. The same JSON value as
 * attest_evidence_encode gives for the member.
 */
typedef struct attest_batch_shared {
  char *doc;
  size_t len;
  size_t nonce_at, nonce_end; /* the stand-in nonce string, quotes included */
  size_t batch_at;            /* after the last member's value */
} attest_batch_shared_t;

/* Room attest_batch_member_text needs. */
#define ATTEST_BATCH_MEMBER_TEXT_MAX \
  (2u + 2u * ATTEST_NONCE_MAX + 96u + \
   ATTEST_MERKLE_MAX_DEPTH * (2u * ATTEST_MERKLE_HASH_LEN + 4u) + 4u)

/**
 * The shared document of a batch quoted by q with k's parts into *out
 * (doc malloc'd; attest_batch_shared_free). Errors:
 * ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_INTERNAL (memory, or k's parts
 * carry the stand-in nonce's text: use attest_kept_batch_docs then).
 */
ROT_WARN_UNUSED rot_error_t attest_kept_batch_shared(
    const attest_kept_t *k, const attest_quote_t *q,
    attest_batch_shared_t *out);
void attest_batch_shared_free(attest_batch_shared_t *s);

/**
 * A member's own pieces into buf (cap >= ATTEST_BATCH_MEMBER_TEXT_MAX):
 * its nonce as a JSON string (the first *nonce_len bytes), then its batch
 * member (index, batch size, inclusion path), *total bytes in all, no NUL.
 * Errors: ROT_ERROR_INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t attest_batch_member_text(
    const attest_nonce_t *nonce, uint32_t index, uint32_t size,
    const uint8_t path[][ATTEST_MERKLE_HASH_LEN], uint32_t path_len,
    char *buf, size_t cap, size_t *nonce_len, size_t *total);

#endif /* ATTEST_ATTEST_H */
