/*
 * The verifier: appraises evidence against reference values and trust
 * anchors, check by check, failing closed (docs/evidence.md, Verifier).
 */
#ifndef ATTEST_VERIFY_H
#define ATTEST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "attest/evidence.h"
#include "attest/refvals.h"
#include "rot/error.h"
#include "rot/hardened.h"

/* Every check, in the order they run and are reported. */
#define ATTEST_CHECK_LIST(X)                                                 \
  X(ATTEST_CHECK_NONCE, "nonce")                                             \
  X(ATTEST_CHECK_MAGIC, "magic")                                             \
  X(ATTEST_CHECK_TYPE, "attest-type")                                        \
  X(ATTEST_CHECK_SELECTION, "pcr-selection")                                 \
  X(ATTEST_CHECK_AK_KEY, "ak-key")                                           \
  X(ATTEST_CHECK_SIGNATURE, "signature")                                     \
  X(ATTEST_CHECK_AK_ENDORSED, "ak-endorsed-by-alias")                        \
  X(ATTEST_CHECK_DICE_CHAIN, "dice-chain")                                   \
  X(ATTEST_CHECK_DICE_TCB, "dice-tcb-info")                                  \
  X(ATTEST_CHECK_EK_CERT, "ek-certificate")                                  \
  X(ATTEST_CHECK_PCR_DIGEST, "pcr-digest")                                   \
  X(ATTEST_CHECK_REPLAY, "log-replay")                                       \
  X(ATTEST_CHECK_EVENTS, "log-events")                                       \
  X(ATTEST_CHECK_SVN, "svn-floors")                                          \
  X(ATTEST_CHECK_CLOCK, "clock")

typedef enum attest_check_id {
#define ATTEST_CHECK_ENUM_(id, name) id,
  ATTEST_CHECK_LIST(ATTEST_CHECK_ENUM_)
#undef ATTEST_CHECK_ENUM_
  ATTEST_CHECK_COUNT
} attest_check_id_t;

typedef enum attest_status {
  ATTEST_FAIL = 0x2b1, /* also the initial value: unset means failed */
  ATTEST_PASS = 0x54e,
  ATTEST_SKIP = 0x1c3, /* not requested (only "clock" without --state) */
} attest_status_t;

typedef struct attest_check {
  attest_status_t status;
  char reason[256];
} attest_check_t;

typedef struct attest_result {
  attest_check_t checks[ATTEST_CHECK_COUNT];
  /* HARDENED_TRUE only when every check passed (clock may be skipped). */
  hardened_bool_t trusted;
  char host[80]; /* the AK name in hex: which host the state is about */
} attest_result_t;

/*
 * Trust anchors loaded once (a verifier that appraises many evidences
 * should load them once): the TPM CA, its intermediates (each checked
 * against the CA when loaded, then used as anchors), the DICE CA.
 */
typedef struct attest_trust attest_trust_t;

/**
 * Load DIR/tpm-ca.pem, DIR/tpm-intermediate.pem (optional; each must chain
 * to tpm-ca.pem) and DIR/dice-ca.pem (optional). why names the file at
 * fault. Errors: ROT_ERROR_ATTEST_BAD_TRUST, ROT_ERROR_INTERNAL.
 */
ROT_WARN_UNUSED rot_error_t attest_trust_load(const char *dir,
                                              attest_trust_t **out, char *why,
                                              size_t cap);
void attest_trust_free(attest_trust_t *t);

typedef struct attest_verify_opts {
  const attest_policy_t *policy;
  const char *trust_dir;   /* tpm-ca.pem [, tpm-intermediate.pem], dice-ca.pem */
  const attest_trust_t *trust; /* loaded anchors; NULL: load trust_dir */
  const uint8_t *nonce;    /* expected nonce, or NULL */
  size_t nonce_len;
  const char *state_dir;   /* NULL: no clock/reset tracking */
} attest_verify_opts_t;

/** Name of a check ("nonce"). */
const char *attest_check_name(attest_check_id_t id);

/**
 * Run every check on ev. Returns ROT_OK when the checks ran (the verdict is
 * out->trusted, each check's status and reason in out->checks); an error
 * only when they could not run at all (NULL arguments, trust anchors
 * missing: ROT_ERROR_ATTEST_BAD_TRUST, state unusable:
 * ROT_ERROR_ATTEST_STATE). With a state dir the host's state is updated
 * only after a trusted verdict.
 */
ROT_WARN_UNUSED rot_error_t attest_verify(const attest_verify_opts_t *opts,
                                          const attest_evidence_t *ev,
                                          attest_result_t *out);

/* ---- pieces, used by attest_verify (and its tests) ---- */

/**
 * Appraise the event log's records against the policy and the PCR plan
 * (docs/pcr-plan.md): every record must be the plan's, in order, and
 * match the reference values. events/svn get the verdicts and reasons.
 */
void attest_appraise_log(const attest_policy_t *p, const uint8_t *log,
                         size_t len, attest_check_t *events,
                         attest_check_t *svn);

/**
 * Verify a DER certificate against the PEM anchors in ca_file (and the
 * optional untrusted intermediates in inter_file). HARDENED_TRUE when it
 * chains; reason says why not.
 */
hardened_bool_t attest_x509_chain(const uint8_t *der, size_t len,
                                  const char *ca_file, const char *inter_file,
                                  char *reason, size_t cap);

/* DiceTcbInfo (TCG DICE Attestation Architecture, OID 2.23.133.5.4.1). */
#define ATTEST_DICE_FLAG_NOT_CONFIGURED (1u << 0)
#define ATTEST_DICE_FLAG_NOT_SECURE (1u << 1)
#define ATTEST_DICE_FLAG_RECOVERY (1u << 2)
#define ATTEST_DICE_FLAG_DEBUG (1u << 3)

typedef struct attest_dice_tcb {
  char vendor[32], model[32], version[24]; /* "" when absent */
  int has_svn, has_fwid, has_flags;
  uint32_t svn;
  uint8_t fwid[48];  /* the (single) SHA-384 FWID */
  uint32_t flags;    /* ATTEST_DICE_FLAG_* of OperationalFlags bits 0..31 */
} attest_dice_tcb_t;

/**
 * Parse a DiceTcbInfo extension value (DER, bounds-checked: definite
 * lengths, fields in tag order, strings that fit out, an svn of at most
 * 32 bits, at most one SHA-384 FWID). Unknown higher fields are skipped.
 * ROT_ERROR_ATTEST_BAD_EVIDENCE when malformed.
 */
ROT_WARN_UNUSED rot_error_t attest_dice_tcbinfo_parse(const uint8_t *p,
                                                      size_t len,
                                                      attest_dice_tcb_t *out);

/**
 * Find the DiceTcbInfo extension in an X.509 Extensions field (the DER
 * SEQUENCE, or the [3] wrapping it) and parse it. *found is 0 (and ROT_OK
 * returned) when no extension has the OID; an extension present twice or
 * malformed DER is ROT_ERROR_ATTEST_BAD_EVIDENCE.
 */
ROT_WARN_UNUSED rot_error_t attest_dice_tcb_from_exts(const uint8_t *p,
                                                      size_t len, int *found,
                                                      attest_dice_tcb_t *out);

/** The same from a DER certificate (parsed with mbedTLS first). */
ROT_WARN_UNUSED rot_error_t attest_dice_tcb_from_cert(const uint8_t *der,
                                                      size_t len, int *found,
                                                      attest_dice_tcb_t *out);

#endif /* ATTEST_VERIFY_H */
