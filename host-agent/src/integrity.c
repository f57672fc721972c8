/*
 * Redfish ComponentIntegrity (DMTF ComponentIntegrity.v1_2_0, Certificate
 * v1_8_0): one member for the TPM (ComponentIntegrityType "TPM") with the
 * TPMGetSignedMeasurements action, one for the security chip, which
 * speaks no SPDM: its DICE certificates (DeviceID, Alias) sit in a
 * Certificates collection under it, and its type is "OEM".
 *
 * TPMGetSignedMeasurements takes the schema's parameters: Certificate (a
 * link to the attestation key, the only key here that signs quotes),
 * PCRSelection (base64 TPML_PCR_SELECTION), Scheme (base64
 * TPMT_SIG_SCHEME: the AK's ECDSA-SHA256, or TPM_ALG_NULL, which a
 * restricted key treats alike) and Nonce (hex, optional: the service
 * draws 32 random bytes). SignedMeasurements is base64 of TPM2_Quote's
 * 'quoted' (TPM2B_ATTEST) followed by its 'signature' (TPMT_SIGNATURE).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "attest/attest.h"
#include "bootchain/tpm.h"
#include "handlers.h"
#include "identity.h"
#include "params.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"

#define CI "/redfish/v1/ComponentIntegrity"
#define CI_TYPE "#ComponentIntegrity.v1_2_0.ComponentIntegrity"
#define CERT_TYPE "#Certificate.v1_8_0.Certificate"
#define ACTION_TARGET CI "/TPM/Actions/ComponentIntegrity.TPMGetSignedMeasurements"
#define AK_CERT CI "/TPM/Certificates/AK"
#define NONCE_MAX 64u
#define NONCE_DEFAULT 32u

/* ---- the TPM's identity, read for one request -------------------------------- */

/* The chip's members need only the chip (ha_chip_certs): its certificates
 * are served while the TPM is down. */
typedef struct idset {
  attest_buf_t ak_m, ek_cert;
  TPM2B_PUBLIC ak;
  char *ak_pem;
} idset_t;

static void idset_free(idset_t *s) {
  free(s->ak_m.p);
  free(s->ek_cert.p);
  free(s->ak_pem);
}

/* The TPM's AK and EK certificate; a 503 queued and 0 returned when the
 * TPM does not answer. */
static int read_ids(ha_agent_t *a, ha_req_t *r, idset_t *s) {
  memset(s, 0, sizeof(*s));
  TPM2B_PUBLIC ek;
  rot_error_t err = ha_tpm_identity(&a->tpm, ATTEST_AK_HANDLE, TPM2_ALG_RSA, &s->ak,
                                    &s->ak_m, &ek, &s->ek_cert);
  if (err != ROT_OK || attest_ak_pem(&s->ak.publicArea, &s->ak_pem) != ROT_OK) {
    idset_free(s);
    ha_reply_tpm_down(a, r, "ServiceTemporarilyUnavailable", "the TPM gave no identity");
    return 0;
  }
  return 1;
}

/* ---- resources -------------------------------------------------------------- */

static int is_tpm(const char *id) { return strcmp(id, "TPM") == 0; }
static int is_rot(const char *id) { return strcmp(id, "RoT") == 0; }

void rf_get_integrity_collection(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  json_object *o = rf_resource(CI, "#ComponentIntegrityCollection.ComponentIntegrityCollection",
                               NULL, "Component Integrity");
  json_object *m = json_object_new_array();
  json_object_array_add(m, rf_link(CI "/TPM"));
  json_object_array_add(m, rf_link(CI "/RoT"));
  json_object_object_add(o, "Members@odata.count", json_object_new_int(2));
  json_object_object_add(o, "Members", m);
  ha_reply_json(r, 200, o);
}

static json_object *protected_links(void) {
  json_object *l = json_object_new_object();
  json_object *p = json_object_new_array();
  json_object_array_add(p, rf_link("/redfish/v1/Systems/1"));
  json_object_object_add(l, "ComponentsProtected", p);
  json_object_object_add(l, "ComponentsProtected@odata.count", json_object_new_int(1));
  return l;
}

static json_object *oem(json_object *rotstack) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "RotStack", rotstack);
  return o;
}

static void get_tpm(ha_agent_t *a, ha_req_t *r) {
  uint16_t algs[8];
  size_t n = 8;
  int up = ha_tpm_banks(&a->tpm, algs, &n) == ROT_OK;
  json_object *o = rf_resource(CI "/TPM", CI_TYPE, "TPM", "TPM 2.0 integrity");
  json_object_object_add(o, "ComponentIntegrityType", json_object_new_string("TPM"));
  json_object_object_add(o, "ComponentIntegrityTypeVersion", json_object_new_string("2.0"));
  json_object_object_add(o, "ComponentIntegrityEnabled", json_object_new_boolean(1));
  json_object_object_add(o, "TargetComponentURI",
                         json_object_new_string("/redfish/v1/Systems/1#/TrustedModules/0"));
  json_object_object_add(o, "Status", rf_status(up ? "Enabled" : "UnavailableOffline",
                                                up ? "OK" : "Critical"));
  json_object *tpm = json_object_new_object();
  json_object *auth = json_object_new_object();
  json_object_object_add(auth, "ComponentCertificate", rf_link(CI "/TPM/Certificates/EK"));
  json_object_object_add(tpm, "IdentityAuthentication", auth);
  json_object_object_add(tpm, "NonceSizeBytesMaximum", json_object_new_int(NONCE_MAX));
  json_object_object_add(o, "TPM", tpm);
  json_object_object_add(o, "Links", protected_links());
  json_object *act = json_object_new_object();
  json_object_object_add(act, "target", json_object_new_string(ACTION_TARGET));
  json_object_object_add(act, "title", json_object_new_string("TPM2_Quote by the AK"));
  json_object *actions = json_object_new_object();
  json_object_object_add(actions, "#ComponentIntegrity.TPMGetSignedMeasurements", act);
  json_object_object_add(o, "Actions", actions);
  json_object *rs = json_object_new_object();
  json_object_object_add(rs, "Certificates", rf_link(CI "/TPM/Certificates"));
  json_object_object_add(rs, "AttestationKey", rf_link(AK_CERT));
  json_object *banks = json_object_new_array();
  for (size_t i = 0; up && i < n; i++) {
    json_object_array_add(banks, json_object_new_string(bc_tpm_alg_name(algs[i])));
  }
  json_object_object_add(rs, "PCRBanks", banks);
  json_object_object_add(o, "Oem", oem(rs));
  ha_reply_json(r, 200, o);
}

/* The member of the active RoT firmware in FirmwareInventory, or NULL. */
static json_object *active_rot_uri(ha_agent_t *a) {
  uint8_t *buf = malloc(ROT_MBOX_INVENTORY_FIXED +
                        ROT_MBOX_INVENTORY_MAX * ROT_MBOX_INVENTORY_ENTRY_SIZE);
  rot_mbox_inventory_t *inv = malloc(sizeof(*inv));
  json_object *out = NULL;
  size_t n = 0;
  rot_error_t status = ROT_ERROR_INTERNAL;
  if (buf != NULL && inv != NULL &&
      ha_rot_call(&a->rot, ROT_MBOX_CMD_INVENTORY, NULL, 0, 1, &status, buf,
                  ROT_MBOX_INVENTORY_FIXED +
                      ROT_MBOX_INVENTORY_MAX * ROT_MBOX_INVENTORY_ENTRY_SIZE,
                  &n) == ROT_OK &&
      status == ROT_OK && rot_mbox_inventory_decode(buf, n, inv) == ROT_OK) {
    for (uint32_t i = 0; i < inv->count && out == NULL; i++) {
      const rot_mbox_inventory_entry_t *e = &inv->entries[i];
      if (e->region_type == 1 && (e->flags & ROT_MBOX_INV_ACTIVE) != 0) {
        char path[128];
        snprintf(path, sizeof(path), "/redfish/v1/UpdateService/FirmwareInventory/%s",
                 e->name);
        out = json_object_new_string(path);
      }
    }
  }
  free(buf);
  free(inv);
  return out;
}

static void get_rot(ha_agent_t *a, ha_req_t *r) {
  ha_chip_ident_t id;
  char why[256] = "";
  int chip_ok = ha_chip_certs(&a->chip, &id, why, sizeof(why)) == ROT_OK;
  if (chip_ok) {
    ha_chip_ident_free(&id);
  }
  json_object *o = rf_resource(CI "/RoT", CI_TYPE, "RoT", "Security chip DICE identity");
  json_object_object_add(o, "Description", json_object_new_string(
      "The security chip's DICE identity (no SPDM): DeviceID certificate from "
      "the manufacturer CA, Alias certificate with the TCG DiceTcbInfo of the "
      "RoT firmware running now."));
  json_object_object_add(o, "ComponentIntegrityType", json_object_new_string("OEM"));
  json_object_object_add(o, "ComponentIntegrityTypeVersion",
                         json_object_new_string("DICE (Open Profile, SHA-384)"));
  json_object_object_add(o, "ComponentIntegrityEnabled", json_object_new_boolean(1));
  json_object *target = active_rot_uri(a);
  json_object_object_add(o, "TargetComponentURI",
                         target != NULL ? target
                                        : json_object_new_string("/redfish/v1/Systems/1"));
  json_object_object_add(o, "Status", rf_status(chip_ok ? "Enabled" : "UnavailableOffline",
                                                chip_ok ? "OK" : "Critical"));
  json_object_object_add(o, "Links", protected_links());
  json_object *rs = json_object_new_object();
  json_object_object_add(rs, "Certificates", rf_link(CI "/RoT/Certificates"));
  json_object_object_add(rs, "ComponentCertificate", rf_link(CI "/RoT/Certificates/Alias"));
  if (!chip_ok) {
    json_object_object_add(rs, "Unavailable", json_object_new_string(why));
  }
  json_object_object_add(o, "Oem", oem(rs));
  ha_reply_json(r, 200, o);
}

void rf_get_integrity(ha_agent_t *a, ha_req_t *r) {
  if (is_tpm(r->id)) {
    get_tpm(a, r);
  } else if (is_rot(r->id)) {
    get_rot(a, r);
  } else {
    ha_reply_error(r, 404, "ResourceNotFound", NULL,
                   "no ComponentIntegrity member '%s' (TPM, RoT)", r->id);
  }
}

void rf_get_integrity_certs(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  const char *names[2];
  if (is_tpm(r->id)) {
    names[0] = "EK";
    names[1] = "AK";
  } else if (is_rot(r->id)) {
    names[0] = "DeviceID";
    names[1] = "Alias";
  } else {
    ha_reply_error(r, 404, "ResourceNotFound", NULL,
                   "no ComponentIntegrity member '%s' (TPM, RoT)", r->id);
    return;
  }
  char path[128];
  snprintf(path, sizeof(path), CI "/%s/Certificates", r->id);
  json_object *o = rf_resource(path, "#CertificateCollection.CertificateCollection",
                               NULL, "Certificates");
  json_object *m = json_object_new_array();
  for (size_t i = 0; i < 2; i++) {
    char p[160];
    snprintf(p, sizeof(p), "%s/%s", path, names[i]);
    json_object_array_add(m, rf_link(p));
  }
  json_object_object_add(o, "Members@odata.count", json_object_new_int(2));
  json_object_object_add(o, "Members", m);
  ha_reply_json(r, 200, o);
}

/* A Certificate resource over DER (PEM text, SHA-256 fingerprint). */
static json_object *cert_json(const char *path, const char *id, const char *name,
                              const uint8_t *der, size_t len) {
  json_object *o = rf_resource(path, CERT_TYPE, id, name);
  char *pem = ha_der_to_pem(der, len, "CERTIFICATE");
  json_object_object_add(o, "CertificateString",
                         pem != NULL ? json_object_new_string(pem) : NULL);
  free(pem);
  json_object_object_add(o, "CertificateType", json_object_new_string("PEM"));
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32) {
    char hex[3 * 32];
    for (size_t i = 0; i < 32; i++) {
      snprintf(hex + 3 * i, 4, i + 1 < 32 ? "%02X:" : "%02X", md[i]);
    }
    json_object_object_add(o, "Fingerprint", json_object_new_string(hex));
    json_object_object_add(o, "FingerprintHashAlgorithm",
                           json_object_new_string("TPM_ALG_SHA256"));
  }
  return o;
}

/* The chip's DeviceID or Alias certificate (name), from the chip alone:
 * 503 while the chip does not answer, whatever the TPM does. */
static void get_rot_cert(ha_agent_t *a, ha_req_t *r, const char *path,
                         const char *name) {
  ha_chip_ident_t id;
  char why[256] = "";
  if (ha_chip_certs(&a->chip, &id, why, sizeof(why)) != ROT_OK) {
    ha_reply_header(r, "Retry-After", "5");
    ha_reply_error(r, 503, "ServiceTemporarilyUnavailable", NULL, "%s", why);
    return;
  }
  json_object *o;
  if (strcmp(name, "DeviceID") == 0) {
    o = cert_json(path, name, "RoT DICE DeviceID certificate", id.deviceid.p,
                  id.deviceid.len);
  } else {
    o = cert_json(path, name, "RoT DICE Alias certificate", id.alias.p, id.alias.len);
  }
  ha_chip_ident_free(&id);
  ha_reply_json(r, 200, o);
}

void rf_get_integrity_cert(ha_agent_t *a, ha_req_t *r) {
  int tpm = is_tpm(r->id), rot = is_rot(r->id);
  const char *c = r->id2;
  if (!(tpm && (strcmp(c, "EK") == 0 || strcmp(c, "AK") == 0)) &&
      !(rot && (strcmp(c, "DeviceID") == 0 || strcmp(c, "Alias") == 0))) {
    ha_reply_error(r, 404, "ResourceNotFound", NULL, "no certificate '%s' under '%s'",
                   c, r->id);
    return;
  }
  char path[160];
  snprintf(path, sizeof(path), CI "/%s/Certificates/%s", r->id, c);
  if (rot) {
    get_rot_cert(a, r, path, c);
    return;
  }
  idset_t s;
  if (!read_ids(a, r, &s)) {
    return;
  }
  json_object *o = NULL;
  if (strcmp(c, "EK") == 0) {
    o = cert_json(path, c, "TPM endorsement key certificate", s.ek_cert.p, s.ek_cert.len);
  } else {
    /* The AK has no X.509 certificate: the chip vouches for it (its
     * endorsement, signed by the Alias key), so this resource names the
     * key and that endorsement instead of a certificate string. */
    o = rf_resource(path, CERT_TYPE, c, "TPM attestation key");
    json_object_object_add(o, "Description", json_object_new_string(
        "The key TPMGetSignedMeasurements signs with (ECC P-256, ECDSA-SHA256, "
        "restricted, persistent at 0x81000002). It has no X.509 certificate; "
        "the security chip endorses it (Oem.RotStack.Endorsement, by the RoT "
        "Alias key)."));
    json_object *rs = json_object_new_object();
    json_object_object_add(rs, "PublicKeyPEM", json_object_new_string(s.ak_pem));
    char *aik = ha_b64(s.ak_m.p, s.ak_m.len);
    json_object_object_add(rs, "TPM2BPublic", aik != NULL ? json_object_new_string(aik) : NULL);
    free(aik);
    int ok = 0;
    json_object *dice = ha_dice_json(a, &s.ak_m, &s.ek_cert, &ok);
    json_object *e = NULL;
    if (json_object_object_get_ex(dice, "ak_endorsement", &e)) {
      json_object_object_add(rs, "Endorsement", json_object_get(e));
      json_object_object_add(rs, "EndorsedBy", rf_link(CI "/RoT/Certificates/Alias"));
    } else {
      json_object *why = NULL;
      json_object_object_get_ex(dice, "unavailable", &why);
      json_object_object_add(rs, "EndorsementUnavailable", json_object_get(why));
    }
    json_object_put(dice);
    json_object_object_add(o, "Oem", oem(rs));
  }
  idset_free(&s);
  ha_reply_json(r, 200, o);
}

/* ---- TPMGetSignedMeasurements ----------------------------------------------------- */

static const char *const kParams[] = {"Certificate", "Nonce", "PCRSelection", "Scheme"};

/* A string parameter; 0 and a 400 queued when absent or not a string. */
static int str_param(ha_req_t *r, json_object *body, const char *name, int required,
                     const char **out) {
  json_object *v = NULL;
  *out = NULL;
  if (!json_object_object_get_ex(body, name, &v)) {
    if (required) {
      ha_reply_error(r, 400, "ActionParameterMissing", name, "%s is required", name);
      return 0;
    }
    return 1;
  }
  if (!json_object_is_type(v, json_type_string)) {
    ha_reply_error(r, 400, "ActionParameterValueTypeError", name, "%s must be a string",
                   name);
    return 0;
  }
  *out = json_object_get_string(v);
  return 1;
}

void rf_post_tpm_signed_measurements(ha_agent_t *a, ha_req_t *r) {
  json_object *body = ha_json_object_body(r->body, r->body_len);
  if (body == NULL) {
    ha_reply_error(r, 400, "MalformedJSON", NULL,
                   "the body must be a JSON object with Certificate, PCRSelection "
                   "and Scheme (Nonce optional)");
    return;
  }
  json_object_object_foreach(body, key, val) {
    (void)val;
    size_t i = 0;
    while (i < sizeof(kParams) / sizeof(kParams[0]) && strcmp(key, kParams[i]) != 0) {
      i++;
    }
    if (i == sizeof(kParams) / sizeof(kParams[0])) {
      char name[65];
      snprintf(name, sizeof(name), "%s", key);
      json_object_put(body);
      ha_reply_error(r, 400, "ActionParameterUnknown", name,
                     "TPMGetSignedMeasurements has no parameter '%s'", name);
      return;
    }
  }
  /* Certificate: the AK's resource, the one key that signs quotes. */
  json_object *cert = NULL, *cid = NULL;
  if (!json_object_object_get_ex(body, "Certificate", &cert)) {
    json_object_put(body);
    ha_reply_error(r, 400, "ActionParameterMissing", "Certificate",
                   "Certificate is required: {\"@odata.id\": \"%s\"}", AK_CERT);
    return;
  }
  if (!json_object_is_type(cert, json_type_object) ||
      !json_object_object_get_ex(cert, "@odata.id", &cid) ||
      !json_object_is_type(cid, json_type_string) ||
      strcmp(json_object_get_string(cid), AK_CERT) != 0) {
    json_object_put(body);
    ha_reply_error(r, 400, "ActionParameterValueNotInList", "Certificate",
                   "Certificate must be {\"@odata.id\": \"%s\"}: the attestation key "
                   "is the only key that signs quotes",
                   AK_CERT);
    return;
  }
  const char *sel_s = NULL, *scheme_s = NULL, *nonce_s = NULL;
  if (!str_param(r, body, "PCRSelection", 1, &sel_s) ||
      !str_param(r, body, "Scheme", 1, &scheme_s) ||
      !str_param(r, body, "Nonce", 0, &nonce_s)) {
    json_object_put(body);
    return;
  }
  uint8_t raw[64];
  size_t rlen = 0;
  uint16_t banks[HA_PCR_SELECTION_MAX_BANKS];
  size_t nb = 0;
  uint32_t mask = 0;
  if (ha_param_b64(sel_s, raw, sizeof(raw), &rlen) != ROT_OK ||
      ha_param_pcr_selection(raw, rlen, banks, HA_PCR_SELECTION_MAX_BANKS, &nb,
                             &mask) != ROT_OK) {
    json_object_put(body);
    ha_reply_error(r, 400, "ActionParameterValueFormatError", "PCRSelection",
                   "PCRSelection must be a base64 TPML_PCR_SELECTION: 1 to %u banks, "
                   "each selecting the same PCRs among 0 to %u",
                   HA_PCR_SELECTION_MAX_BANKS, HA_PCR_MAX);
    return;
  }
  uint16_t scheme = 0, shash = 0;
  if (ha_param_b64(scheme_s, raw, sizeof(raw), &rlen) != ROT_OK ||
      ha_param_sig_scheme(raw, rlen, &scheme, &shash) != ROT_OK) {
    json_object_put(body);
    ha_reply_error(r, 400, "ActionParameterValueFormatError", "Scheme",
                   "Scheme must be a base64 TPMT_SIG_SCHEME");
    return;
  }
  if (scheme != HA_TPM_ALG_NULL &&
      !(scheme == HA_TPM_ALG_ECDSA && shash == BC_TPM_ALG_SHA256)) {
    json_object_put(body);
    ha_reply_error(r, 400, "ActionParameterValueNotInList", "Scheme",
                   "Scheme must be ECDSA with SHA-256 (the AK's scheme) or TPM_ALG_NULL");
    return;
  }
  uint8_t nonce[NONCE_MAX];
  size_t nlen = 0;
  if (nonce_s != NULL) {
    if (ha_param_hex_nonce(nonce_s, nonce, sizeof(nonce), &nlen) != ROT_OK) {
      json_object_put(body);
      ha_reply_error(r, 400, "ActionParameterValueFormatError", "Nonce",
                     "Nonce must be 1 to %u bytes in hexadecimal", NONCE_MAX);
      return;
    }
  } else {
    nlen = NONCE_DEFAULT;
    if (getrandom(nonce, nlen, 0) != (ssize_t)nlen) {
      json_object_put(body);
      ha_reply_error(r, 500, "InternalError", NULL, "no random nonce");
      return;
    }
  }
  json_object_put(body);
  /* Every bank asked for must be active: the TPM would refuse the rest. */
  uint16_t algs[8];
  size_t na = 8;
  if (ha_tpm_banks(&a->tpm, algs, &na) != ROT_OK) {
    ha_reply_tpm_down(a, r, "ServiceTemporarilyUnavailable", "the TPM is not answering");
    return;
  }
  for (size_t i = 0; i < nb; i++) {
    size_t j = 0;
    while (j < na && algs[j] != banks[i]) {
      j++;
    }
    if (j == na) {
      ha_reply_error(r, 400, "ActionParameterValueNotInList", "PCRSelection",
                     "PCR bank 0x%04x is not active in this TPM", banks[i]);
      return;
    }
  }
  attest_quote_t q;
  TPM2B_PUBLIC ak;
  if (!ha_quote_for(a, r, "ServiceTemporarilyUnavailable", nonce, nlen, mask,
                    banks, nb, &q, &ak)) {
    return;
  }
  /* 'quoted' is a TPM2B_ATTEST: the TPMS_ATTEST behind its u16 size. */
  size_t slen = 2 + q.attest.len + q.signature.len;
  uint8_t *signed_m = q.attest.len <= 0xffffu ? malloc(slen) : NULL;
  char *sm = NULL, *pcrs = NULL;
  if (signed_m != NULL) {
    signed_m[0] = (uint8_t)(q.attest.len >> 8);
    signed_m[1] = (uint8_t)q.attest.len;
    memcpy(signed_m + 2, q.attest.p, q.attest.len);
    memcpy(signed_m + 2 + q.attest.len, q.signature.p, q.signature.len);
    sm = ha_b64(signed_m, slen);
    pcrs = ha_b64(q.pcrs.p, q.pcrs.len);
  }
  free(signed_m);
  attest_quote_free(&q);
  if (sm == NULL || pcrs == NULL) {
    free(sm);
    free(pcrs);
    ha_reply_error(r, 500, "InternalError", NULL, "out of memory");
    return;
  }
  json_object *o = json_object_new_object();
  json_object_object_add(o, "SignedMeasurements", json_object_new_string(sm));
  json_object *rs = json_object_new_object();
  char hex[2 * NONCE_MAX + 1];
  for (size_t i = 0; i < nlen; i++) {
    snprintf(hex + 2 * i, 3, "%02x", nonce[i]);
  }
  json_object_object_add(rs, "Nonce", json_object_new_string(hex));
  /* The PCR values quoted, in tpm2-tools' layout (tpm2_checkquote -f). */
  json_object_object_add(rs, "PCRValues", json_object_new_string(pcrs));
  json_object_object_add(o, "Oem", oem(rs));
  free(sm);
  free(pcrs);
  ha_reply_json(r, 200, o);
}
