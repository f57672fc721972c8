/*
 * The route table: every resource the agent serves, its methods, whether
 * a POST is an operator operation, and what body it takes. One table, so
 * the gate's decision for a path is read in one place.
 */
#include <string.h>

#include "agent.h"
#include "handlers.h"
#include "params.h"
#include "update.h"

#define RF HA_FAM_REDFISH
#define KL HA_FAM_KEYLIME
#define NA HA_FAM_NATIVE

static const ha_route_t kRoutes[] = {
    /* pattern, family, GET, POST, POST needs the operator, POST body */
    {"/redfish", RF, rf_get_odata_root, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1", RF, rf_get_service_root, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1/Systems", RF, rf_get_systems, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1/Systems/1", RF, rf_get_system, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", RF, NULL, rf_post_reset,
     1, HA_BODY_JSON},
    {"/redfish/v1/UpdateService", RF, rf_get_update_service, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1/UpdateService/FirmwareInventory", RF, rf_get_fw_inventory, NULL,
     0, HA_BODY_NONE},
    {"/redfish/v1/UpdateService/FirmwareInventory/{id}", RF, rf_get_fw_member, NULL,
     0, HA_BODY_NONE},
    {"/redfish/v1/UpdateService/upload", RF, NULL, ha_upload_end,
     1, HA_BODY_STREAM},
    {"/redfish/v1/TaskService", RF, ha_get_task_service, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1/TaskService/Tasks", RF, ha_get_tasks, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1/TaskService/Tasks/{id}", RF, ha_get_task, NULL, 0, HA_BODY_NONE},
    {"/redfish/v1/TaskService/Tasks/{id}/Monitor", RF, ha_get_task_monitor, NULL, 0,
     HA_BODY_NONE},
    {"/redfish/v1/ComponentIntegrity", RF, rf_get_integrity_collection, NULL, 0,
     HA_BODY_NONE},
    {"/redfish/v1/ComponentIntegrity/{id}", RF, rf_get_integrity, NULL, 0, HA_BODY_NONE},
    /* A read-like attestation action: no operator certificate, either
     * listener (it changes nothing; the nonce makes the answer fresh). */
    {"/redfish/v1/ComponentIntegrity/TPM/Actions/ComponentIntegrity.TPMGetSignedMeasurements",
     RF, NULL, rf_post_tpm_signed_measurements, 0, HA_BODY_JSON},
    {"/redfish/v1/ComponentIntegrity/{id}/Certificates", RF, rf_get_integrity_certs, NULL,
     0, HA_BODY_NONE},
    {"/redfish/v1/ComponentIntegrity/{id}/Certificates/{id}", RF, rf_get_integrity_cert,
     NULL, 0, HA_BODY_NONE},
    {"/healthz", NA, na_get_healthz, NULL, 0, HA_BODY_NONE},
    {"/metrics", NA, na_get_metrics, NULL, 0, HA_BODY_NONE},
    {"/v1/eventlog", NA, na_get_eventlog, NULL, 0, HA_BODY_NONE},
    {"/v1/attestation", NA, na_get_attestation, NULL, 0, HA_BODY_NONE},
    {"/v1/identity", NA, na_get_identity, NULL, 0, HA_BODY_NONE},
    {"/version", KL, kl_get_version, NULL, 0, HA_BODY_NONE},
    {"/{kl}/agent/info", KL, kl_get_agent_info, NULL, 0, HA_BODY_NONE},
    {"/{kl}/quotes/identity", KL, kl_get_quote_identity, NULL, 0, HA_BODY_NONE},
    {"/{kl}/quotes/integrity", KL, kl_get_quote_integrity, NULL, 0, HA_BODY_NONE},
    {"/{kl}/keys/ukey", KL, kl_payload_keys, kl_payload_keys, 0, HA_BODY_JSON},
    {"/{kl}/keys/vkey", KL, kl_payload_keys, kl_payload_keys, 0, HA_BODY_JSON},
};
#define ROUTES (sizeof(kRoutes) / sizeof(kRoutes[0]))

/* "v2.5": a Keylime API version segment. */
static int keylime_segment(const char *s, size_t n) {
  if (n < 4 || n > 8 || s[0] != 'v') {
    return 0;
  }
  size_t i = 1;
  size_t digits = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    i++;
    digits++;
  }
  if (digits == 0 || i == n || s[i] != '.') {
    return 0;
  }
  i++;
  digits = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    i++;
    digits++;
  }
  return digits != 0 && i == n;
}

ha_family_t ha_family_of(const char *url) {
  if (strncmp(url, "/redfish", 8) == 0) {
    return HA_FAM_REDFISH;
  }
  if (strcmp(url, "/version") == 0) {
    return HA_FAM_KEYLIME;
  }
  const char *end = url[0] == '/' ? strchr(url + 1, '/') : NULL;
  size_t n = end != NULL ? (size_t)(end - url - 1) : strlen(url) - (url[0] == '/');
  if (url[0] == '/' && keylime_segment(url + 1, n)) {
    return HA_FAM_KEYLIME;
  }
  return HA_FAM_NATIVE;
}

/* Does path (len bytes, no trailing '/') match pattern? Captures go to r. */
static int match(const char *pattern, const char *path, size_t len, ha_req_t *r) {
  const char *p = pattern;
  const char *u = path;
  const char *uend = path + len;
  char *captures[2] = {r->id, r->id2};
  int ncap = 0;
  while (*p != '\0' && u < uend) {
    if (*p != '/' || *u != '/') {
      return 0;
    }
    p++;
    u++;
    const char *pseg_end = strchr(p, '/');
    size_t plen = pseg_end != NULL ? (size_t)(pseg_end - p) : strlen(p);
    const char *useg_end = memchr(u, '/', (size_t)(uend - u));
    size_t ulen = useg_end != NULL ? (size_t)(useg_end - u) : (size_t)(uend - u);
    if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
      if (ncap == 2 || ha_param_id(u, ulen) != ROT_OK) {
        return 0;
      }
      memcpy(captures[ncap], u, ulen);
      captures[ncap][ulen] = '\0';
      ncap++;
    } else if (plen == 4 && memcmp(p, "{kl}", 4) == 0) {
      if (ncap == 2 || !keylime_segment(u, ulen)) {
        return 0;
      }
      memcpy(captures[ncap], u, ulen);
      captures[ncap][ulen] = '\0';
      ncap++;
    } else if (plen != ulen || memcmp(p, u, plen) != 0) {
      return 0;
    }
    p += plen;
    u += ulen;
  }
  return *p == '\0' && u == uend;
}

const ha_route_t *ha_route_find(const char *url, ha_req_t *r) {
  size_t len = strlen(url);
  if (len == 0 || url[0] != '/') {
    return NULL;
  }
  /* "/redfish/v1/" and "/redfish/v1" are the same resource. */
  if (len > 1 && url[len - 1] == '/') {
    len--;
  }
  for (size_t i = 0; i < ROUTES; i++) {
    r->id[0] = '\0';
    r->id2[0] = '\0';
    if (match(kRoutes[i].pattern, url, len, r)) {
      return &kRoutes[i];
    }
  }
  return NULL;
}
