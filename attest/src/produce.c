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

/* ---- kept parts: evidence for many requests, one quote each ---------------- */

/* Stand-ins for a request's own values in the kept single-form document:
 * the quote parts' base64 is exactly these strings (24 characters, no
 * padding), the nonce's hex is 32 times "a5"; each must occur once in
 * the document or the template is not used. */
static const char *const kMarkB64[3] = {"rotstack0quote0attest000",
                                        "rotstack0quote0signature",
                                        "rotstack0quote0pcrs00000"};
#define MARK_NONCE_BYTE 0xa5u
#define MARK_NONCE_LEN 32u

/* The bytes whose base64 is mark (24 characters: 18 bytes). */
static void unb64_mark(const char *mark, uint8_t out[18]) {
  static const char al[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < 24; i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; j++) {
      v = v << 6 | (uint32_t)(strchr(al, mark[i + j]) - al);
    }
    out[i / 4 * 3] = (uint8_t)(v >> 16);
    out[i / 4 * 3 + 1] = (uint8_t)(v >> 8);
    out[i / 4 * 3 + 2] = (uint8_t)v;
  }
}

/* The one place of "text" (quoted) in doc, or -1 when it occurs 0 or 2+
 * times. */
static long once(const char *doc, const char *text) {
  char q[80];
  snprintf(q, sizeof(q), "\"%s\"", text);
  const char *p = strstr(doc, q);
  return p != NULL && strstr(p + 1, q) == NULL ? (long)(p - doc) : -1;
}

/* The single-form document with markers for the nonce and the quote
 * parts, and where they are; left unset (k->doc NULL) when the parts
 * happen to carry a marker's text. */
static void make_template(attest_kept_t *k) {
  attest_evidence_t v = k->base;
  uint8_t raw[3][18];
  for (int i = 0; i < 3; i++) {
    unb64_mark(kMarkB64[i], raw[i]);
  }
  v.version = ATTEST_EVIDENCE_VERSION;
  memset(v.nonce, MARK_NONCE_BYTE, MARK_NONCE_LEN);
  v.nonce_len = MARK_NONCE_LEN;
  v.attest = (attest_buf_t){raw[0], 18};
  v.signature = (attest_buf_t){raw[1], 18};
  v.pcrs = (attest_buf_t){raw[2], 18};
  v.batched = 0;
  char *doc = NULL;
  if (attest_evidence_encode(&v, &doc) != ROT_OK) {
    return;
  }
  char nonce_hex[2 * MARK_NONCE_LEN + 1];
  memset(nonce_hex, 0, sizeof(nonce_hex));
  hexstr(nonce_hex, v.nonce, MARK_NONCE_LEN);
  long at[4] = {once(doc, nonce_hex), once(doc, kMarkB64[0]),
                once(doc, kMarkB64[1]), once(doc, kMarkB64[2])};
  size_t mlen[4] = {2 + 2 * MARK_NONCE_LEN, 26, 26, 26};
  /* Markers sorted into document order. */
  int ok = 1;
  for (int i = 0; i < 4; i++) {
    ok &= at[i] >= 0;
    k->mark_kind[i] = i;
  }
  for (int i = 0; ok && i < 4; i++) {
    for (int j = i + 1; j < 4; j++) {
      if (at[k->mark_kind[j]] < at[k->mark_kind[i]]) {
        int x = k->mark_kind[i];
        k->mark_kind[i] = k->mark_kind[j];
        k->mark_kind[j] = x;
      }
    }
  }
  for (int i = 0; ok && i < 4; i++) {
    k->mark_at[i] = (size_t)at[k->mark_kind[i]];
    k->mark_len[i] = mlen[k->mark_kind[i]];
    ok &= i == 0 || k->mark_at[i] >= k->mark_at[i - 1] + k->mark_len[i - 1];
  }
  if (!ok) {
    free(doc);
    return;
  }
  k->doc = doc;
  k->doc_len = strlen(doc);
}

void attest_kept_free(attest_kept_t *k) {
  if (k != NULL) {
    attest_evidence_free(&k->base);
    free(k->doc);
    memset(k, 0, sizeof(*k));
  }
}

rot_error_t attest_kept_make(attest_tpm_t *t, const attest_source_t *src,
                             attest_kept_t *k, char *detail, size_t cap) {
  if (t == NULL || src == NULL || k == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(k, 0, sizeof(*k));
  rot_error_t err = common_parts(t, src, &k->base, detail, cap);
  TPM2B_PUBLIC ak;
  uint32_t akh = src->ak_handle != 0 ? src->ak_handle : ATTEST_AK_HANDLE;
  if (err == ROT_OK) {
    err = attest_ak_read_named(t, akh, &ak, NULL, &k->ak_qname);
    if (err != ROT_OK) {
      say(detail, cap, "AK at 0x%08x: %s", akh, attest_tpm_strerror(t));
    }
  }
  if (err == ROT_OK) {
    k->nbanks = sizeof(k->banks) / sizeof(k->banks[0]);
    err = attest_tpm_banks(t, k->banks, &k->nbanks);
    if (err == ROT_OK && k->nbanks == 0) {
      err = ROT_ERROR_TPM_BANKS;
    }
    if (err != ROT_OK) {
      say(detail, cap, "PCR banks: %s", attest_tpm_strerror(t));
    }
  }
  if (err != ROT_OK) {
    attest_kept_free(k);
  }
  return err;
}

void attest_kept_ready(attest_kept_t *k) {
  if (k != NULL && k->doc == NULL) {
    make_template(k);
  }
}

/* 1 when q was signed by the key k was made with (its qualifiedSigner is
 * the AK's qualified name read then). */
static int signed_by_kept(const attest_kept_t *k, const attest_quote_t *q) {
  TPMS_ATTEST at;
  return attest_tpms_attest_decode(q->attest.p, q->attest.len, &at) == ROT_OK &&
         at.qualifiedSigner.size == k->ak_qname.size &&
         memcmp(at.qualifiedSigner.name, k->ak_qname.name,
                k->ak_qname.size) == 0;
}

rot_error_t attest_kept_quote(attest_tpm_t *t, const attest_source_t *src,
                              const attest_kept_t *k, const uint8_t *qual,
                              size_t qlen, attest_quote_t *q, int *stale,
                              char *detail, size_t cap) {
  if (t == NULL || src == NULL || k == NULL || q == NULL || stale == NULL ||
      k->nbanks == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *stale = 0;
  rot_error_t err = attest_tpm_quote(
      t, src->ak_handle != 0 ? src->ak_handle : ATTEST_AK_HANDLE, qual, qlen,
      src->pcr_mask != 0 ? src->pcr_mask : ATTEST_DEFAULT_PCRS, k->banks,
      k->nbanks, q);
  if (err != ROT_OK) {
    say(detail, cap, "quote: %s", attest_tpm_strerror(t));
    return err;
  }
  if (!signed_by_kept(k, q)) {
    /* Another key lives at the AK's handle now: the kept AK would not
     * verify this quote. */
    attest_quote_free(q);
    *stale = 1;
  }
  return ROT_OK;
}

/* The view of single evidence for nonce made of k's parts and q. */
static attest_evidence_t single_view(const attest_kept_t *k,
                                     const uint8_t *nonce, size_t len,
                                     const attest_quote_t *q) {
  attest_evidence_t v = k->base;
  v.version = ATTEST_EVIDENCE_VERSION;
  memcpy(v.nonce, nonce, len);
  v.nonce_len = len;
  v.attest = q->attest;
  v.signature = q->signature;
  v.pcrs = q->pcrs;
  v.batched = 0;
  return v;
}

rot_error_t attest_kept_single_doc(const attest_kept_t *k, const uint8_t *nonce,
                                   size_t len, const attest_quote_t *q,
                                   char **doc) {
  if (k == NULL || nonce == NULL || q == NULL || doc == NULL ||
      len < ATTEST_NONCE_MIN || len > ATTEST_NONCE_MAX || q->attest.p == NULL ||
      q->signature.p == NULL || q->pcrs.p == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *doc = NULL;
  if (k->doc == NULL) {
    attest_evidence_t v = single_view(k, nonce, len, q);
    return attest_evidence_encode(&v, doc);
  }
  /* The kept document with this request's values in place of the
   * markers: the same bytes attest_evidence_encode gives. */
  char *val[4] = {NULL, attest_b64(q->attest.p, q->attest.len),
                  attest_b64(q->signature.p, q->signature.len),
                  attest_b64(q->pcrs.p, q->pcrs.len)};
  char hex[2 * ATTEST_NONCE_MAX + 1];
  hexstr(hex, nonce, len);
  val[0] = hex;
  size_t total = k->doc_len;
  int ok = val[1] != NULL && val[2] != NULL && val[3] != NULL;
  for (int i = 0; ok && i < 4; i++) {
    total += 2 + strlen(val[k->mark_kind[i]]) - k->mark_len[i];
  }
  char *out = ok ? malloc(total + 1) : NULL;
  if (out != NULL) {
    char *o = out;
    size_t from = 0;
    for (int i = 0; i < 4; i++) {
      const char *s = val[k->mark_kind[i]];
      size_t n = strlen(s);
      memcpy(o, k->doc + from, k->mark_at[i] - from);
      o += k->mark_at[i] - from;
      *o++ = '"';
      memcpy(o, s, n);
      o += n;
      *o++ = '"';
      from = k->mark_at[i] + k->mark_len[i];
    }
    memcpy(o, k->doc + from, k->doc_len - from);
    o += k->doc_len - from;
    *o = '\0';
  }
  for (int i = 1; i < 4; i++) {
    free(val[i]);
  }
  *doc = out;
  return out != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
}

rot_error_t attest_kept_batch_docs(
    const attest_kept_t *k, const attest_nonce_t *nonces, size_t n,
    const attest_quote_t *q,
    const uint8_t (*paths)[ATTEST_MERKLE_MAX_DEPTH][ATTEST_MERKLE_HASH_LEN],
    const uint32_t *lens, char **docs) {
  if (k == NULL || nonces == NULL || q == NULL || paths == NULL ||
      lens == NULL || docs == NULL || n == 0 || n > ATTEST_BATCH_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* Views, not copies: each member borrows k's and the quote's buffers. */
  attest_evidence_t *views = malloc(n * sizeof(*views));
  if (views == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  for (size_t i = 0; i < n; i++) {
    views[i] = k->base;
    views[i].attest = q->attest;
    views[i].signature = q->signature;
    views[i].pcrs = q->pcrs;
    member(&views[i], &nonces[i], i, n, paths[i], lens[i]);
  }
  rot_error_t err = attest_evidence_encode_batch(views, n, docs);
  free(views);
  return err;
}

rot_error_t attest_kept_batch_shared(const attest_kept_t *k,
                                     const attest_quote_t *q,
                                     attest_batch_shared_t *out) {
  if (k == NULL || q == NULL || out == NULL || q->attest.p == NULL ||
      q->signature.p == NULL || q->pcrs.p == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  uint8_t nonce[MARK_NONCE_LEN];
  memset(nonce, MARK_NONCE_BYTE, sizeof(nonce));
  attest_evidence_t v = single_view(k, nonce, sizeof(nonce), q);
  char *doc = NULL;
  ROT_TRY(attest_evidence_encode(&v, &doc));
  char hex[2 * MARK_NONCE_LEN + 1];
  hexstr(hex, nonce, sizeof(nonce));
  long at = once(doc, hex);
  size_t len = strlen(doc);
  /* The batch member goes after the last member's value, before the
   * closing brace (and the whitespace in front of it). */
  size_t end = len;
  while (end > 0 && doc[end - 1] != '}') {
    end--;
  }
  size_t close = end > 0 ? end - 1 : 0;
  while (close > 0 && (doc[close - 1] == ' ' || doc[close - 1] == '\n')) {
    close--;
  }
  if (at < 0 || end == 0 || close <= (size_t)at + 2 + 2 * MARK_NONCE_LEN) {
    free(doc);
    return ROT_ERROR_INTERNAL; /* the parts carry the marker: not shared */
  }
  out->doc = doc;
  out->len = len;
  out->nonce_at = (size_t)at;
  out->nonce_end = (size_t)at + 2 + 2 * MARK_NONCE_LEN;
  out->batch_at = close;
  return ROT_OK;
}

void attest_batch_shared_free(attest_batch_shared_t *s) {
  if (s != NULL) {
    free(s->doc);
    memset(s, 0, sizeof(*s));
  }
}

rot_error_t attest_batch_member_text(
    const attest_nonce_t *nonce, uint32_t index, uint32_t size,
    const uint8_t path[][ATTEST_MERKLE_HASH_LEN], uint32_t path_len,
    char *buf, size_t cap, size_t *nonce_len, size_t *total) {
  if (nonce == NULL || nonce->p == NULL || nonce->len < ATTEST_NONCE_MIN ||
      nonce->len > ATTEST_NONCE_MAX || path_len > ATTEST_MERKLE_MAX_DEPTH ||
      (path == NULL && path_len > 0) || buf == NULL || nonce_len == NULL ||
      total == NULL || cap < ATTEST_BATCH_MEMBER_TEXT_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  static const char hx[] = "0123456789abcdef";
  char *o = buf;
  *o++ = '"';
  for (size_t j = 0; j < nonce->len; j++) {
    *o++ = hx[nonce->p[j] >> 4];
    *o++ = hx[nonce->p[j] & 15];
  }
  *o++ = '"';
  *nonce_len = (size_t)(o - buf);
  o += snprintf(o, 96, ",\n  \"batch\": { \"index\": %u, \"size\": %u, \"path\": [ ",
                (unsigned)index, (unsigned)size);
  for (uint32_t i = 0; i < path_len; i++) {
    *o++ = '"';
    for (size_t j = 0; j < ATTEST_MERKLE_HASH_LEN; j++) {
      *o++ = hx[path[i][j] >> 4];
      *o++ = hx[path[i][j] & 15];
    }
    *o++ = '"';
    if (i + 1 < path_len) {
      *o++ = ',';
      *o++ = ' ';
    }
  }
  memcpy(o, " ] }", 4);
  o += 4;
  *total = (size_t)(o - buf);
  return ROT_OK;
}
