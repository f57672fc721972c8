/*
 * Attestation evidence (docs/evidence.md): what a host hands a verifier.
 *
 * JSON, versioned ("format": "rot-stack-evidence", "version": 1), every
 * binary field base64 (RFC 4648, padded), the nonce in hex. The quote
 * parts are exactly what tpm2_checkquote reads: "attest" is the marshalled
 * TPMS_ATTEST (-m), "signature" the marshalled TPMT_SIGNATURE (-s),
 * "pcrs" tpm2-tools' serialized PCR file (-f), "ak.pem" the AK (-u).
 *
 * Two forms: single (the quote's extraData is the nonce) and batched (the
 * quote's extraData is the root of a Merkle tree over a window of nonces,
 * attest/merkle.h; the evidence carries this nonce's leaf index, the
 * tree size and the inclusion path).
 */
#ifndef ATTEST_EVIDENCE_H
#define ATTEST_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

#define ATTEST_EVIDENCE_FORMAT "rot-stack-evidence"
#define ATTEST_EVIDENCE_VERSION 1u

/* Nonce: at least 16 bytes (128 bits of entropy), at most 64. */
#define ATTEST_NONCE_MIN 16u
#define ATTEST_NONCE_MAX 64u
/* Merkle tree: at most 1024 leaves, so a path has at most 10 siblings. */
#define ATTEST_BATCH_MAX 1024u
#define ATTEST_MERKLE_MAX_DEPTH 10u
#define ATTEST_MERKLE_HASH_LEN 32u

/* Bounds on each decoded field; a larger one is refused. */
#define ATTEST_MAX_ATTEST 1024u
#define ATTEST_MAX_SIGNATURE 1024u
#define ATTEST_MAX_PCRS 8192u
#define ATTEST_MAX_PUBLIC 1024u
#define ATTEST_MAX_CERT 8192u
#define ATTEST_MAX_EVENT_LOG (1024u * 1024u)
#define ATTEST_MAX_ENDORSEMENT 512u
#define ATTEST_MAX_INVENTORY 65536u
#define ATTEST_MAX_JSON (2u * 1024u * 1024u)

typedef struct attest_buf {
  uint8_t *p; /* malloc'd, NULL when absent */
  size_t len;
} attest_buf_t;

typedef struct attest_evidence {
  uint32_t version;
  uint8_t nonce[ATTEST_NONCE_MAX];
  size_t nonce_len;
  attest_buf_t attest;    /* TPMS_ATTEST, marshalled */
  attest_buf_t signature; /* TPMT_SIGNATURE, marshalled */
  attest_buf_t pcrs;      /* tpm2-tools serialized PCR selection + values */
  attest_buf_t event_log; /* TCG crypto-agile log */
  attest_buf_t ak_public; /* TPM2B_PUBLIC, marshalled (size prefix too) */
  char *ak_pem;           /* SubjectPublicKeyInfo PEM of the AK */
  attest_buf_t ek_cert;   /* EK certificate, DER */
  uint32_t ek_alg;        /* TPM_ALG_RSA (0x0001) or TPM_ALG_ECC (0x0023) */
  /* The chip's identity: NULL p when the chip did not give it. */
  attest_buf_t dice_deviceid; /* DeviceID certificate, DER */
  attest_buf_t dice_alias;    /* Alias certificate, DER */
  attest_buf_t ak_endorsement; /* DER ECDSA signature by the Alias key */
  char *dice_unavailable;      /* why they are absent (NULL when present) */
  char *inventory;             /* rotd's INVENTORY as JSON text, or NULL */
  /* Batched form. */
  int batched;
  uint32_t batch_index;
  uint32_t batch_size;
  uint32_t path_len;
  uint8_t path[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN];
} attest_evidence_t;

/**
 * Decode evidence JSON (json[0..len), no NUL needed). Checks the format,
 * the version, every field's presence, type, encoding and bound; no
 * cryptography (that is the verifier's). On failure *ev is freed and
 * zeroed and detail (may be NULL) names the field.
 * Errors: ROT_ERROR_ATTEST_BAD_EVIDENCE, ROT_ERROR_INTERNAL (memory).
 */
ROT_WARN_UNUSED rot_error_t attest_evidence_decode(const char *json,
                                                   size_t len,
                                                   attest_evidence_t *ev,
                                                   char *detail,
                                                   size_t detail_cap);

/**
 * Encode evidence as JSON into a malloc'd NUL-terminated string (*out).
 * Errors: ROT_ERROR_INVALID_ARGUMENT (a required field missing),
 * ROT_ERROR_INTERNAL.
 */
ROT_WARN_UNUSED rot_error_t attest_evidence_encode(const attest_evidence_t *ev,
                                                   char **out);

/**
 * Encode the n evidences of one batch: out[i] (malloc'd) is the same JSON
 * value attest_evidence_encode gives for evs[i] (the batch member laid
 * out on one line). The document the batch shares (quote, event log,
 * certificates) is built and serialised once, each member's nonce and
 * batch member written into a copy of it; an evidence that does not share
 * the parts with evs[0] is encoded on its own.
 * On error no out[i] is left allocated.
 * Errors: those of attest_evidence_encode.
 */
ROT_WARN_UNUSED rot_error_t attest_evidence_encode_batch(
    const attest_evidence_t *evs, size_t n, char **out);

/** Free every field and zero *ev. NULL is a no-op. */
void attest_evidence_free(attest_evidence_t *ev);

#endif /* ATTEST_EVIDENCE_H */
