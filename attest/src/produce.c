/*
 * Evidence production (attest/attest.h).
 */
#include "attest/attest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mbedtls/pk.h>
#include <mbedtls/ecp.h>
#include <tss2/tss2_mu.h>

#include "attest/tpms.h"
#include "internal.h"
#include "rot_client/names.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot/policy.h"
#include "rot_client/mbox_client.h"
#include "rot_host/crypto_mbedtls.h"

static void say(char *detail, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *detail, size_t cap, const char *fmt, ...) {
  if (detail != NULL && cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(detail, cap, fmt, ap);
    va_end(ap);
  }
}

/* SubjectPublicKeyInfo PEM of an ECC P-256 public area. */
rot_error_t attest_ak_pem(const TPMT_PUBLIC *pub, char **out) {
  if (pub->type != TPM2_ALG_ECC ||
      pub->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
    return ROT_ERROR_UNSUPPORTED;
  }
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  rot_error_t err = ROT_ERROR_INTERNAL;
  unsigned char buf[1024];
  if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) ==
      0) {
    mbedtls_ecp_keypair *kp = mbedtls_pk_ec(pk);
    if (mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
        mbedtls_mpi_read_binary(&kp->Q.X, pub->unique.ecc.x.buffer,
                                pub->unique.ecc.x.size) == 0 &&
        mbedtls_mpi_read_binary(&kp->Q.Y, pub->unique.ecc.y.buffer,
                                pub->unique.ecc.y.size) == 0 &&
        mbedtls_mpi_lset(&kp->Q.Z, 1) == 0 &&
        mbedtls_pk_write_pubkey_pem(&pk, buf, sizeof(buf)) == 0) {
      *out = strdup((char *)buf);
      err = *out != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
    }
  }
  mbedtls_pk_free(&pk);
  return err;
}

static void hexstr(char *out, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    snprintf(out + 2 * i, 3, "%02x", p[i]);
  }
}

char *attest_inventory_json(const rot_mbox_inventory_t *inv) {
  json_object *root = json_object_new_object();
  json_object *arr = json_object_new_array();
  for (uint32_t i = 0; i < inv->count && i < ROT_MBOX_INVENTORY_MAX; i++) {
    const rot_mbox_inventory_entry_t *e = &inv->entries[i];
    json_object *o = json_object_new_object();
    char name[ROT_MBOX_NAME_LEN + 1];
    memcpy(name, e->name, ROT_MBOX_NAME_LEN);
    name[ROT_MBOX_NAME_LEN] = '\0';
    json_object_object_add(o, "region", json_object_new_string(name));
    json_object_object_add(o, "type", json_object_new_string(
                                          rot_image_type_name(e->region_type)));
    json_object_object_add(o, "active",
                           json_object_new_boolean(e->flags &
                                                   ROT_MBOX_INV_ACTIVE));
    json_object_object_add(o, "verified",
                           json_object_new_boolean(e->flags &
                                                   ROT_MBOX_INV_VERIFIED));
    json_object_object_add(o, "empty", json_object_new_boolean(
                                           e->flags & ROT_MBOX_INV_EMPTY));
    if (!(e->flags & ROT_MBOX_INV_EMPTY)) {
      char ver[32], dig[2 * ROT_SHA384_LEN + 1];
      snprintf(ver, sizeof(ver), "%u.%u.%u", e->info.ver_major,
               e->info.ver_minor, e->info.ver_patch);
      json_object_object_add(o, "version", json_object_new_string(ver));
      json_object_object_add(o, "svn", json_object_new_int64(e->info.svn));
      json_object_object_add(o, "key_index",
                             json_object_new_int64(e->info.key_index));
      hexstr(dig, e->info.payload_digest, ROT_SHA384_LEN);
      json_object_object_add(o, "payload_sha384", json_object_new_string(dig));
    }
    json_object_array_add(arr, o);
  }
  json_object_object_add(root, "regions", arr);
  const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
  char *out = s != NULL ? strdup(s) : NULL;
  json_object_put(root);
  return out;
}

/*
 * The chip's identity commands (docs/mailbox.md, agreed with the chip
 * identity work): IDENTITY answers u16 len || DeviceID DER || u16 len ||
 * Alias DER; ENDORSE takes SHA-384(EK certificate) || the AK's
 * TPM2B_PUBLIC and answers u16 len || DER ECDSA signature.
 */
#define CMD_IDENTITY ROT_MBOX_CMD_IDENTITY
#define CMD_ENDORSE ROT_MBOX_CMD_ENDORSE

static rot_error_t take_der(const uint8_t **p, uint32_t *left,
                            attest_buf_t *out) {
  if (*left < 2) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  uint32_t n = attest_be16(*p);
  if (n == 0 || n > ATTEST_MAX_CERT || n > *left - 2) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  ROT_TRY(attest_buf_set(out, *p + 2, n));
  *p += 2 + n;
  *left -= 2 + n;
  return ROT_OK;
}

/* IDENTITY then ENDORSE; why gets the reason when the chip gives none. */
static void ask_identity(rot_mbox_client_t *c, attest_evidence_t *ev,
                         char *why, size_t cap) {
  rot_error_t status = ROT_ERROR_INTERNAL;
  const uint8_t *reply = NULL;
  uint32_t rlen = 0;
  rot_error_t err = rot_mbox_call(c, CMD_IDENTITY, NULL, 0, &status, &reply,
                                  &rlen);
  if (err != ROT_OK || status != ROT_OK) {
    snprintf(why, cap, "the chip gave no identity (IDENTITY: %s)",
             rot_error_name(err != ROT_OK ? err : status));
    return;
  }
  if (take_der(&reply, &rlen, &ev->dice_deviceid) != ROT_OK ||
      take_der(&reply, &rlen, &ev->dice_alias) != ROT_OK || rlen != 0) {
    snprintf(why, cap, "the chip's IDENTITY reply is malformed");
    goto fail;
  }
  uint8_t *req = rot_mbox_client_payload(c);
  if (ev->ak_public.len > 1024 ||
      rot_hash(rot_host_crypto(), ROT_HASH_SHA384, ev->ek_cert.p,
               ev->ek_cert.len, req, ROT_SHA384_LEN) != ROT_OK) {
    snprintf(why, cap, "cannot build the ENDORSE request");
    goto fail;
  }
  memcpy(req + ROT_SHA384_LEN, ev->ak_public.p, ev->ak_public.len);
  err = rot_mbox_call(c, CMD_ENDORSE, req,
                      (uint32_t)(ROT_SHA384_LEN + ev->ak_public.len), &status,
                      &reply, &rlen);
  if (err != ROT_OK || status != ROT_OK) {
    snprintf(why, cap, "the chip did not endorse the AK (ENDORSE: %s)",
             rot_error_name(err != ROT_OK ? err : status));
    goto fail;
  }
  if (rlen < 2 || attest_be16(reply) == 0 ||
      attest_be16(reply) > ATTEST_MAX_ENDORSEMENT ||
      attest_be16(reply) != rlen - 2 ||
      attest_buf_set(&ev->ak_endorsement, reply + 2, rlen - 2) != ROT_OK) {
    snprintf(why, cap, "the chip's ENDORSE reply is malformed");
    goto fail;
  }
  why[0] = '\0';
  return;
fail:
  attest_buf_free(&ev->dice_deviceid);
  attest_buf_free(&ev->dice_alias);
  attest_buf_free(&ev->ak_endorsement);
}

/* What only the chip gives: its inventory, its DICE certificates and its
 * endorsement of the AK (needs the AK and EK certificate read first). */
static rot_error_t ask_chip(const attest_source_t *src, attest_evidence_t *ev) {
  rot_mbox_client_t c;
  memset(&c, 0, sizeof(c));
  const char *sock = src->rotd_socket != NULL ? src->rotd_socket
                                              : rot_mbox_default_socket();
  char why[256];
  why[0] = '\0';
  if (!src->no_chip && rot_mbox_client_connect(&c, sock, 5000) == ROT_OK) {
    rot_error_t status = ROT_ERROR_INTERNAL;
    const uint8_t *reply = NULL;
    uint32_t rlen = 0;
    rot_error_t err = rot_mbox_call(&c, ROT_MBOX_CMD_INVENTORY, NULL, 0,
                                    &status, &reply, &rlen);
    if (err == ROT_OK && status == ROT_OK) {
      rot_mbox_inventory_t *inv = malloc(sizeof(*inv));
      if (inv != NULL && rot_mbox_inventory_decode(reply, rlen, inv) == ROT_OK) {
        ev->inventory = attest_inventory_json(inv);
      }
      free(inv);
    }
    ask_identity(&c, ev, why, sizeof(why));
    rot_mbox_client_close(&c);
  } else {
    snprintf(why, sizeof(why), "the chip (rotd at %s) was not reachable",
             src->no_chip ? "(not asked)" : sock);
  }
  if (why[0] == '\0') {
    return ROT_OK;
  }
  ev->dice_unavailable = strdup(why);
  return ev->dice_unavailable != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
}

/* Everything but the quote, shared by both forms. */
static rot_error_t common_parts(attest_tpm_t *t, const attest_source_t *src,
                                attest_evidence_t *ev, char *detail,
                                size_t cap) {
  TPM2B_PUBLIC ak, ek;
  uint32_t akh = src->ak_handle != 0 ? src->ak_handle : ATTEST_AK_HANDLE;
  rot_error_t err = attest_ak_read(t, akh, &ak, &ev->ak_public);
  if (err != ROT_OK) {
    say(detail, cap, "AK at 0x%08x: %s", akh, attest_tpm_strerror(t));
    return err;
  }
  err = attest_ak_pem(&ak.publicArea, &ev->ak_pem);
  if (err != ROT_OK) {
    say(detail, cap, "AK at 0x%08x is not an ECC P-256 key", akh);
    return err;
  }
  ev->ek_alg = src->ek_alg != 0 ? src->ek_alg : TPM2_ALG_RSA;
  err = attest_ek_read(t, (uint16_t)ev->ek_alg, &ek, &ev->ek_cert);
  if (err != ROT_OK) {
    say(detail, cap, "EK certificate: %s", attest_tpm_strerror(t));
    return err;
  }
  const char *log = src->event_log != NULL ? src->event_log
                                           : ATTEST_DEFAULT_EVENT_LOG;
  err = attest_read_file(log, ATTEST_MAX_EVENT_LOG, &ev->event_log);
  if (err != ROT_OK) {
    say(detail, cap, "event log %s: %s", log, rot_error_str(err));
    return err;
  }
  return ask_chip(src, ev);
}

static rot_error_t quote_into(attest_tpm_t *t, const attest_source_t *src,
                              const uint8_t *qual, size_t qlen,
                              attest_quote_t *q, char *detail, size_t cap) {
  uint16_t banks[4];
  size_t nb = 4;
  rot_error_t err = attest_tpm_banks(t, banks, &nb);
  if (err == ROT_OK && nb == 0) {
    err = ROT_ERROR_TPM_BANKS;
  }
  if (err == ROT_OK) {
    err = attest_tpm_quote(
        t, src->ak_handle != 0 ? src->ak_handle : ATTEST_AK_HANDLE, qual,
        qlen, src->pcr_mask != 0 ? src->pcr_mask : ATTEST_DEFAULT_PCRS, banks,
        nb, q);
  }
  if (err != ROT_OK) {
    say(detail, cap, "quote: %s", attest_tpm_strerror(t));
  }
  return err;
}

rot_error_t attest_produce(attest_tpm_t *t, const attest_source_t *src,
                           const uint8_t *nonce, size_t nonce_len,
                           attest_evidence_t *ev, char *detail, size_t cap) {
  if (t == NULL || src == NULL || nonce == NULL || ev == NULL ||
      nonce_len < ATTEST_NONCE_MIN || nonce_len > ATTEST_NONCE_MAX) {
    say(detail, cap, "nonce must be %u..%u bytes", ATTEST_NONCE_MIN,
        ATTEST_NONCE_MAX);
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(ev, 0, sizeof(*ev));
  ev->version = ATTEST_EVIDENCE_VERSION;
  memcpy(ev->nonce, nonce, nonce_len);
  ev->nonce_len = nonce_len;
  attest_quote_t q;
  rot_error_t err = common_parts(t, src, ev, detail, cap);
  if (err == ROT_OK) {
    err = quote_into(t, src, nonce, nonce_len, &q, detail, cap);
  }
  if (err == ROT_OK) {
    ev->attest = q.attest;
    ev->signature = q.signature;
    ev->pcrs = q.pcrs;
  } else {
    attest_evidence_free(ev);
  }
  return err;
}

static rot_error_t copy_buf(attest_buf_t *dst, const attest_buf_t *src) {
  if (src->p == NULL) {
    dst->p = NULL;
    dst->len = 0;
    return ROT_OK;
  }
  return attest_buf_set(dst, src->p, src->len);
}

static rot_error_t copy_str(char **dst, const char *src) {
  *dst = NULL;
  if (src == NULL) {
    return ROT_OK;
  }
  *dst = strdup(src);
  return *dst != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
}

rot_error_t attest_produce_common(attest_tpm_t *t, const attest_source_t *src,
                                  attest_evidence_t *base, char *detail,
                                  size_t cap) {
  if (t == NULL || src == NULL || base == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(base, 0, sizeof(*base));
  rot_error_t err = common_parts(t, src, base, detail, cap);
  if (err != ROT_OK) {
    attest_evidence_free(base);
  }
  return err;
}

rot_error_t attest_produce_batch(attest_tpm_t *t, const attest_source_t *src,
                                 const attest_nonce_t *nonces, size_t n,
                                 attest_evidence_t *evs, char *detail,
                                 size_t cap) {
  attest_evidence_t base;
  rot_error_t err = attest_produce_common(t, src, &base, detail, cap);
  if (err == ROT_OK) {
    err = attest_produce_batch_with(t, src, &base, nonces, n, evs, detail, cap);
    attest_evidence_free(&base);
  }
  return err;
}

/* The Merkle root of nonces quoted, and every nonce's path: *paths and
 * *lens malloc'd (freed by the caller, also on error). */
static rot_error_t batch_quote(
    attest_tpm_t *t, const attest_source_t *src, const attest_nonce_t *nonces,
    size_t n, attest_quote_t *q,
    uint8_t (**paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN],
    uint32_t **lens, char *detail, size_t cap) {
  uint8_t root[ATTEST_MERKLE_HASH_LEN];
  memset(q, 0, sizeof(*q));
  *paths = NULL;
  *lens = NULL;
  /* Every path in one pass over the tree (a path per call would hash the
   * whole tree once per nonce). */
  rot_error_t err = ROT_ERROR_ATTEST_BATCH;
  if (n > 0 && n <= ATTEST_BATCH_MAX) {
    *paths = malloc(n * sizeof(**paths));
    *lens = malloc(n * sizeof(**lens));
    err = *paths != NULL && *lens != NULL
              ? attest_merkle_paths(nonces, n, *paths, *lens, root)
              : ROT_ERROR_INTERNAL;
  }
  if (err != ROT_OK) {
    say(detail, cap, "batch: 1..%u nonces of %u..%u bytes", ATTEST_BATCH_MAX,
        ATTEST_NONCE_MIN, ATTEST_NONCE_MAX);
    return err;
  }
  return quote_into(t, src, root, sizeof(root), q, detail, cap);
}

/* Member i's own fields (nonce, batch position, path). */
static void member(attest_evidence_t *ev, const attest_nonce_t *nonce,
                   size_t i, size_t n, const uint8_t path[][ATTEST_MERKLE_HASH_LEN],
                   uint32_t path_len) {
  ev->version = ATTEST_EVIDENCE_VERSION;
  memcpy(ev->nonce, nonce->p, nonce->len);
  ev->nonce_len = nonce->len;
  ev->batched = 1;
  ev->batch_index = (uint32_t)i;
  ev->batch_size = (uint32_t)n;
  memcpy(ev->path, path, sizeof(ev->path));
  ev->path_len = path_len;
}

rot_error_t attest_produce_batch_with(attest_tpm_t *t,
                                      const attest_source_t *src,
                                      const attest_evidence_t *base,
                                      const attest_nonce_t *nonces, size_t n,
                                      attest_evidence_t *evs, char *detail,
                                      size_t cap) {
  if (t == NULL || src == NULL || base == NULL || evs == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (n > 0 && n <= ATTEST_BATCH_MAX) {
    memset(evs, 0, n * sizeof(*evs));
  }
  attest_quote_t q;
  uint8_t(*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN];
  uint32_t *lens;
  rot_error_t err = batch_quote(t, src, nonces, n, &q, &paths, &lens, detail,
                                cap);
  for (size_t i = 0; err == ROT_OK && i < n; i++) {
    attest_evidence_t *ev = &evs[i];
    member(ev, &nonces[i], i, n, (const uint8_t(*)[ATTEST_MERKLE_HASH_LEN])paths[i],
           lens[i]);
    ev->ek_alg = base->ek_alg;
    err = copy_buf(&ev->attest, &q.attest);
    err = err == ROT_OK ? copy_buf(&ev->signature, &q.signature) : err;
    err = err == ROT_OK ? copy_buf(&ev->pcrs, &q.pcrs) : err;
    err = err == ROT_OK ? copy_buf(&ev->event_log, &base->event_log) : err;
    err = err == ROT_OK ? copy_buf(&ev->ak_public, &base->ak_public) : err;
    err = err == ROT_OK ? copy_buf(&ev->ek_cert, &base->ek_cert) : err;
    err = err == ROT_OK ? copy_buf(&ev->dice_deviceid, &base->dice_deviceid) : err;
    err = err == ROT_OK ? copy_buf(&ev->dice_alias, &base->dice_alias) : err;
    err = err == ROT_OK ? copy_buf(&ev->ak_endorsement, &base->ak_endorsement) : err;
    err = err == ROT_OK ? copy_str(&ev->ak_pem, base->ak_pem) : err;
    err = err == ROT_OK ? copy_str(&ev->dice_unavailable, base->dice_unavailable) : err;
    err = err == ROT_OK ? copy_str(&ev->inventory, base->inventory) : err;
    if (err != ROT_OK) {
      for (size_t k = 0; k <= i; k++) {
        attest_evidence_free(&evs[k]);
      }
    }
  }
  attest_quote_free(&q);
  free(paths);
  free(lens);
  return err;
}

rot_error_t attest_produce_batch_docs(attest_tpm_t *t,
                                      const attest_source_t *src,
                                      const attest_evidence_t *base,
                                      const attest_nonce_t *nonces, size_t n,
                                      char **docs, char *detail, size_t cap) {
  if (t == NULL || src == NULL || base == NULL || docs == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  attest_quote_t q;
  uint8_t(*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN];
  uint32_t *lens;
  rot_error_t err = batch_quote(t, src, nonces, n, &q, &paths, &lens, detail,
                                cap);
  /* Views, not copies: each member borrows base's and the quote's buffers
   * (and is never freed as evidence). */
  attest_evidence_t *views = err == ROT_OK ? malloc(n * sizeof(*views)) : NULL;
  if (err == ROT_OK && views == NULL) {
    err = ROT_ERROR_INTERNAL;
  }
  for (size_t i = 0; err == ROT_OK && i < n; i++) {
    views[i] = *base;
    views[i].attest = q.attest;
    views[i].signature = q.signature;
    views[i].pcrs = q.pcrs;
    member(&views[i], &nonces[i], i, n,
           (const uint8_t(*)[ATTEST_MERKLE_HASH_LEN])paths[i], lens[i]);
  }
  if (err == ROT_OK) {
    err = attest_evidence_encode_batch(views, n, docs);
    if (err != ROT_OK) {
      say(detail, cap, "cannot encode the evidence: %s", rot_error_name(err));
    }
  }
  free(views);
  attest_quote_free(&q);
  free(paths);
  free(lens);
  return err;
}
