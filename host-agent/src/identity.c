/*
 * GET /v1/identity: what a fleet needs to enrol this host. Keylime's
 * registrar receives ekcert (base64 DER), ek_tpm and aik_tpm (base64
 * marshalled TPM2B_PUBLIC, as tpm2-tss and tpm2_readpublic write them)
 * when an agent registers (docs/rest_apis, registrar POST /agents/{id});
 * they carry those names here. Beside them: the AK as PEM, the chip's
 * DICE chain (DeviceID and Alias certificates, PEM) and the chip's
 * endorsement of the AK with the statement it signs (docs/mailbox.md).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "handlers.h"
#include "identity.h"
#include "rot/crypto.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"

#define ENDORSE_LABEL "rot-stack ak endorsement v1"

char *ha_b64(const uint8_t *p, size_t len) {
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  if (out != NULL) {
    EVP_EncodeBlock((unsigned char *)out, p, (int)len);
  }
  return out;
}

char *ha_der_to_pem(const uint8_t *der, size_t len, const char *label) {
  size_t lines = (len + 47) / 48;
  size_t cap = 2 * (strlen(label) + 32) + lines * 66 + 1;
  char *out = malloc(cap);
  if (out == NULL) {
    return NULL;
  }
  size_t o = (size_t)snprintf(out, cap, "-----BEGIN %s-----\n", label);
  for (size_t i = 0; i < len; i += 48) {
    size_t n = len - i < 48 ? len - i : 48;
    o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, der + i, (int)n);
    out[o++] = '\n';
  }
  snprintf(out + o, cap - o, "-----END %s-----\n", label);
  return out;
}

/* A string member from a malloc'd value (consumed); NULL adds JSON null. */
static int add_owned(json_object *o, const char *key, char *v) {
  int present = v != NULL;
  json_object_object_add(o, key, present ? json_object_new_string(v) : NULL);
  free(v);
  return present;
}

rot_error_t ha_endorsement_statement(const attest_buf_t *ek_cert,
                                     const attest_buf_t *ak_public,
                                     uint8_t out[HA_ENDORSE_STATEMENT_LEN]) {
  const rot_crypto_t *c = rot_host_crypto();
  memset(out, 0, HA_ENDORSE_STATEMENT_LEN);
  memcpy(out, ENDORSE_LABEL, sizeof(ENDORSE_LABEL) - 1); /* then one 0x00 */
  size_t off = sizeof(ENDORSE_LABEL);
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, ek_cert->p, ek_cert->len, out + off,
                   ROT_SHA384_LEN));
  return rot_hash(c, ROT_HASH_SHA384, ak_public->p, ak_public->len,
                  out + off + ROT_SHA384_LEN, ROT_SHA384_LEN);
}

_Static_assert(sizeof(ENDORSE_LABEL) + 2 * ROT_SHA384_LEN == HA_ENDORSE_STATEMENT_LEN,
               "the endorsement statement is 124 bytes (docs/mailbox.md)");

json_object *ha_dice_json(ha_agent_t *a, const attest_buf_t *ak_public,
                          const attest_buf_t *ek_cert, int *ok) {
  ha_chip_ident_t id;
  char why[256] = "";
  json_object *o = json_object_new_object();
  *ok = 0;
  if (ha_chip_get(&a->chip, ak_public, ek_cert, &id, why, sizeof(why)) != ROT_OK) {
    json_object_object_add(o, "unavailable", json_object_new_string(why));
    return o;
  }
  uint8_t st[HA_ENDORSE_STATEMENT_LEN];
  int good = add_owned(o, "deviceid", ha_der_to_pem(id.deviceid.p, id.deviceid.len,
                                                    "CERTIFICATE"));
  good &= add_owned(o, "alias", ha_der_to_pem(id.alias.p, id.alias.len, "CERTIFICATE"));
  json_object *e = json_object_new_object();
  json_object_object_add(e, "algorithm", json_object_new_string("ecdsa-p384-sha384"));
  good &= add_owned(e, "signature", ha_b64(id.endorsement.p, id.endorsement.len));
  good &= ha_endorsement_statement(ek_cert, ak_public, st) == ROT_OK &&
          add_owned(e, "statement", ha_b64(st, sizeof(st)));
  json_object_object_add(e, "signer", json_object_new_string("alias"));
  json_object_object_add(o, "ak_endorsement", e);
  ha_chip_ident_free(&id);
  *ok = good;
  return o;
}

void na_get_identity(ha_agent_t *a, ha_req_t *r) {
  TPM2B_PUBLIC ak, ek;
  attest_buf_t ak_m = {NULL, 0}, ek_cert = {NULL, 0};
  rot_error_t err = ha_tpm_identity(&a->tpm, ATTEST_AK_HANDLE, TPM2_ALG_RSA, &ak,
                                    &ak_m, &ek, &ek_cert);
  if (err != ROT_OK) {
    free(ak_m.p);
    free(ek_cert.p);
    char why[256];
    ha_tpm_last_error(&a->tpm, why, sizeof(why));
    ha_reply_header(r, "Retry-After", "5");
    ha_reply_error(r, 503, NULL, NULL, "the TPM gave no identity: %s (%s)", why,
                   rot_error_name(err));
    return;
  }
  uint8_t ekm[sizeof(TPM2B_PUBLIC)];
  size_t ekm_len = 0;
  char *ak_pem = NULL;
  if (ek_cert.p == NULL || ek_cert.len == 0) {
    free(ak_m.p);
    free(ek_cert.p);
    ha_reply_error(r, 503, NULL, NULL,
                   "the TPM has no EK certificate in NV 0x%08x", ATTEST_EK_RSA_CERT_NV);
    return;
  }
  if (Tss2_MU_TPM2B_PUBLIC_Marshal(&ek, ekm, sizeof(ekm), &ekm_len) != TSS2_RC_SUCCESS ||
      attest_ak_pem(&ak.publicArea, &ak_pem) != ROT_OK) {
    free(ak_m.p);
    free(ek_cert.p);
    ha_reply_error(r, 500, NULL, NULL, "cannot encode the AK or the EK");
    return;
  }
  json_object *o = json_object_new_object();
  json_object_object_add(o, "agent_uuid", json_object_new_string(a->uuid));
  int good = add_owned(o, "ekcert", ha_b64(ek_cert.p, ek_cert.len));
  good &= add_owned(o, "ek_tpm", ha_b64(ekm, ekm_len));
  good &= add_owned(o, "aik_tpm", ha_b64(ak_m.p, ak_m.len));
  char handle[16];
  snprintf(handle, sizeof(handle), "%u", (unsigned)ATTEST_AK_HANDLE);
  json_object_object_add(o, "ak_handle", json_object_new_string(handle));
  json_object_object_add(o, "ak_pem", json_object_new_string(ak_pem));
  free(ak_pem);
  /* Keylime's mtls_cert: the agent's HTTPS server certificate. */
  json_object_object_add(o, "mtls_cert", a->tls_cert != NULL
                                              ? json_object_new_string(a->tls_cert)
                                              : NULL);
  int dice_ok = 0;
  json_object_object_add(o, "dice", ha_dice_json(a, &ak_m, &ek_cert, &dice_ok));
  free(ak_m.p);
  free(ek_cert.p);
  if (!good) {
    json_object_put(o);
    ha_reply_error(r, 500, NULL, NULL, "out of memory");
    return;
  }
  ha_reply_json(r, 200, o);
}
