/* Request handlers, by API family (routes.c maps paths to them). */
#ifndef HOST_AGENT_HANDLERS_H
#define HOST_AGENT_HANDLERS_H

#include "agent.h"

/* Redfish (redfish.c). */
void rf_get_odata_root(ha_agent_t *a, ha_req_t *r);
void rf_get_service_root(ha_agent_t *a, ha_req_t *r);
void rf_get_systems(ha_agent_t *a, ha_req_t *r);
void rf_get_system(ha_agent_t *a, ha_req_t *r);
void rf_post_reset(ha_agent_t *a, ha_req_t *r);
void rf_get_update_service(ha_agent_t *a, ha_req_t *r);
void rf_get_fw_inventory(ha_agent_t *a, ha_req_t *r);
void rf_get_fw_member(ha_agent_t *a, ha_req_t *r);

/* Redfish building blocks (redfish.c). */
json_object *rf_link(const char *path);
json_object *rf_resource(const char *path, const char *type, const char *id,
                         const char *name);
json_object *rf_status(const char *state, const char *health);

/* Redfish ComponentIntegrity (integrity.c). */
void rf_get_integrity_collection(ha_agent_t *a, ha_req_t *r);
void rf_get_integrity(ha_agent_t *a, ha_req_t *r);
void rf_get_integrity_certs(ha_agent_t *a, ha_req_t *r);
void rf_get_integrity_cert(ha_agent_t *a, ha_req_t *r);
void rf_post_tpm_signed_measurements(ha_agent_t *a, ha_req_t *r);

/* Native and Keylime (native.c). */
void na_get_healthz(ha_agent_t *a, ha_req_t *r);
void na_get_metrics(ha_agent_t *a, ha_req_t *r);
void na_get_eventlog(ha_agent_t *a, ha_req_t *r);
void na_get_attestation(ha_agent_t *a, ha_req_t *r);
void na_get_identity(ha_agent_t *a, ha_req_t *r); /* identity.c */
void kl_get_version(ha_agent_t *a, ha_req_t *r);
void kl_get_agent_info(ha_agent_t *a, ha_req_t *r);
void kl_get_quote_identity(ha_agent_t *a, ha_req_t *r);
void kl_get_quote_integrity(ha_agent_t *a, ha_req_t *r);
void kl_payload_keys(ha_agent_t *a, ha_req_t *r);

/**
 * One request to rotd for a handler: on success the reply payload is in
 * out and 1 is returned; otherwise the answer (503 when rotd is down, 502
 * when it refused) is queued and 0 returned.
 */
int ha_rot_query(ha_agent_t *a, ha_req_t *r, uint16_t cmd, uint8_t *out,
                 size_t cap, size_t *out_len);

/**
 * The answer when the TPM did not answer: 503 with Retry-After, the
 * message "WHAT: <the TPM's last error>" (message_id: its Redfish
 * MessageId, NULL off Redfish).
 */
void ha_reply_tpm_down(ha_agent_t *a, ha_req_t *r, const char *message_id,
                       const char *what);

/**
 * One quote by the AK over qual for a handler, timed into the quote
 * latency histogram: 1 with q (attest_quote_free) and the AK's public
 * area; otherwise a 503 with Retry-After naming the TPM's error is queued
 * (message_id: its Redfish MessageId, NULL off Redfish) and 0 returned.
 */
int ha_quote_for(ha_agent_t *a, ha_req_t *r, const char *message_id,
                 const uint8_t *qual, size_t qlen, uint32_t mask,
                 const uint16_t *banks, size_t nb, attest_quote_t *q,
                 TPM2B_PUBLIC *ak);

#endif /* HOST_AGENT_HANDLERS_H */
