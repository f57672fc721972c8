/*
 * The security chip's part of the evidence, kept apart from the TPM's so
 * that the TPM lock covers TPM work only: rotd's inventory, the chip's
 * DICE certificates (DeviceID, Alias) and its endorsement of the AK.
 *
 * The endorsement (a P-384 signature the chip computes on ENDORSE) is
 * cached per (DeviceID, Alias, AK public area, EK certificate): a new AK,
 * a new EK certificate or a new chip identity (a RoT firmware update, a
 * lifecycle step, a new DeviceID certificate) asks the chip again. The
 * certificates themselves are re-read on every use (IDENTITY is a copy of
 * what the chip holds since its last reset; the agent's kept evidence
 * parts use it at least every second), because a chip reset ordered
 * by another client (rotctl reset) does not reach the agent's connection:
 * comparing them is how the cache learns that the identity changed, be
 * it after a reset, a rotd restart or a reconnect. The same certificates
 * mean the same Alias key (its derivation is deterministic), so an
 * endorsement made before a reconnect is still that key's.
 */
#ifndef HOST_AGENT_CHIPID_H
#define HOST_AGENT_CHIPID_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/evidence.h"
#include "rot/error.h"
#include "rotlink.h"

typedef struct ha_chip {
  pthread_mutex_t lock;
  ha_rot_t *rot;
  int valid;
  attest_buf_t deviceid, alias;  /* DER */
  attest_buf_t ak_public;        /* TPM2B_PUBLIC the endorsement covers */
  uint8_t ek_sha384[48];
  attest_buf_t endorsement;      /* DER ECDSA signature */
  uint64_t endorse_calls;        /* ENDORSE requests sent (metrics, tests) */
} ha_chip_t;

/** The chip's identity for one AK (every buffer malloc'd; NULL p: absent). */
typedef struct ha_chip_ident {
  attest_buf_t deviceid, alias, endorsement;
} ha_chip_ident_t;

/** A cache over the rotd link rot (kept). */
ROT_WARN_UNUSED rot_error_t ha_chip_init(ha_chip_t *c, ha_rot_t *rot);

/** Drop the cache. */
void ha_chip_free(ha_chip_t *c);

/**
 * The chip's certificates and its endorsement of the AK whose marshalled
 * TPM2B_PUBLIC is ak_public, next to the EK certificate ek_cert (DER).
 * why (cap bytes) gets a reason on failure.
 * Errors: ROT_ERROR_MAILBOX_* / IO (rotd not answering), the chip's
 * refusal (IDENTITY_*, BOOT_RECOVERY_ONLY...), ROT_ERROR_ATTEST_BAD_EVIDENCE
 * (a malformed reply), ROT_ERROR_INTERNAL.
 */
ROT_WARN_UNUSED rot_error_t ha_chip_get(ha_chip_t *c, const attest_buf_t *ak_public,
                                        const attest_buf_t *ek_cert,
                                        ha_chip_ident_t *out, char *why,
                                        size_t cap);

/**
 * The chip's DeviceID and Alias certificates alone (out's endorsement stays
 * empty): what the chip holds needs the chip only, so these are served
 * while the TPM is down. why (cap bytes) gets a reason on failure.
 * Errors: as ha_chip_get's, but for the endorsement's.
 */
ROT_WARN_UNUSED rot_error_t ha_chip_certs(ha_chip_t *c, ha_chip_ident_t *out,
                                          char *why, size_t cap);

/** rotd's INVENTORY as the evidence's JSON text (malloc'd), or NULL. */
char *ha_chip_inventory(ha_chip_t *c);

/**
 * Fill the chip's parts of n evidences that share one AK and EK
 * certificate (what attest_produce left out with no_chip): inventory,
 * DICE certificates and endorsement, or dice_unavailable with the reason.
 * Errors: ROT_ERROR_INTERNAL (memory) only; a silent chip is recorded in
 * the evidence, for the verifier to judge.
 */
ROT_WARN_UNUSED rot_error_t ha_chip_fill(ha_chip_t *c, attest_evidence_t *evs,
                                         size_t n);

void ha_chip_ident_free(ha_chip_ident_t *id);

/** ENDORSE requests sent so far. */
uint64_t ha_chip_endorse_calls(ha_chip_t *c);

#endif /* HOST_AGENT_CHIPID_H */
