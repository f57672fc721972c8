/*
 * The host's identity for enrolment (GET /v1/identity) and the helpers
 * the Redfish ComponentIntegrity resources share with it.
 */
#ifndef HOST_AGENT_IDENTITY_H
#define HOST_AGENT_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

/* "rot-stack ak endorsement v1" || 0x00 || SHA-384(EK cert) ||
 * SHA-384(AK TPM2B_PUBLIC): what the chip's Alias key signs. */
#define HA_ENDORSE_STATEMENT_LEN 124u

/** base64 (RFC 4648, padded) of p, malloc'd; NULL when out of memory. */
char *ha_b64(const uint8_t *p, size_t len);

/** DER as PEM with label ("CERTIFICATE"), malloc'd; NULL when out of memory. */
char *ha_der_to_pem(const uint8_t *der, size_t len, const char *label);

/** The endorsement statement for an EK certificate and AK public area. */
ROT_WARN_UNUSED rot_error_t ha_endorsement_statement(
    const attest_buf_t *ek_cert, const attest_buf_t *ak_public,
    uint8_t out[HA_ENDORSE_STATEMENT_LEN]);

/**
 * The chip's DICE chain and AK endorsement as JSON: {"deviceid": PEM,
 * "alias": PEM, "ak_endorsement": {"algorithm", "signature", "statement",
 * "signer"}}, or {"unavailable": why}. *ok is 1 when it is complete.
 */
json_object *ha_dice_json(ha_agent_t *a, const attest_buf_t *ak_public,
                          const attest_buf_t *ek_cert, int *ok);

#endif /* HOST_AGENT_IDENTITY_H */
