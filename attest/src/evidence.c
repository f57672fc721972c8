/*
 * Evidence JSON codec (attest/evidence.h, docs/evidence.md), on json-c.
 */
#include "attest/evidence.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"

#define TPM_ALG_RSA 0x0001u
#define TPM_ALG_ECC 0x0023u
/* Deepest nesting evidence has (inventory entries inside an array). */
#define MAX_DEPTH 8

void attest_evidence_free(attest_evidence_t *ev) {
  if (ev == NULL) {
    return;
  }
  attest_buf_free(&ev->attest);
  attest_buf_free(&ev->signature);
  attest_buf_free(&ev->pcrs);
  attest_buf_free(&ev->event_log);
  attest_buf_free(&ev->ak_public);
  attest_buf_free(&ev->ek_cert);
  attest_buf_free(&ev->dice_deviceid);
  attest_buf_free(&ev->dice_alias);
  attest_buf_free(&ev->ak_endorsement);
  free(ev->ak_pem);
  free(ev->dice_unavailable);
  free(ev->inventory);
  memset(ev, 0, sizeof(*ev));
}

typedef struct dctx {
  char *detail;
  size_t cap;
} dctx_t;

static rot_error_t bad(dctx_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static rot_error_t bad(dctx_t *d, const char *fmt, ...) {
  if (d->detail != NULL && d->cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(d->detail, d->cap, fmt, ap);
    va_end(ap);
  }
  return ROT_ERROR_ATTEST_BAD_EVIDENCE;
}

/* Only the listed keys may appear in obj. */
static rot_error_t only_keys(dctx_t *d, json_object *obj, const char *where,
                             const char *const *keys) {
  json_object_object_foreach(obj, key, val) {
    (void)val;
    int known = 0;
    for (size_t i = 0; keys[i] != NULL; i++) {
      known |= strcmp(key, keys[i]) == 0;
    }
    if (!known) {
      return bad(d, "%s: unknown field \"%s\"", where, key);
    }
  }
  return ROT_OK;
}

static json_object *get(json_object *obj, const char *key, json_type type) {
  json_object *v = NULL;
  if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
      !json_object_is_type(v, type)) {
    return NULL;
  }
  return v;
}

static rot_error_t get_b64(dctx_t *d, json_object *obj, const char *where,
                           const char *key, size_t max, attest_buf_t *out,
                           int required) {
  json_object *v = get(obj, key, json_type_string);
  if (v == NULL) {
    json_object *any = NULL;
    if (!required && !json_object_object_get_ex(obj, key, &any)) {
      return ROT_OK;
    }
    return bad(d, "%s.%s: missing or not a string", where, key);
  }
  rot_error_t err = attest_unb64(json_object_get_string(v), max, out);
  if (err == ROT_ERROR_INTERNAL) {
    return err;
  }
  if (err != ROT_OK || out->len == 0) {
    attest_buf_free(out);
    return bad(d, "%s.%s: not base64, empty, or over %zu bytes", where, key,
               max);
  }
  return ROT_OK;
}

static rot_error_t get_str(dctx_t *d, json_object *obj, const char *where,
                           const char *key, size_t max, char **out) {
  json_object *v = get(obj, key, json_type_string);
  if (v == NULL) {
    return bad(d, "%s.%s: missing or not a string", where, key);
  }
  size_t n = (size_t)json_object_get_string_len(v);
  if (n == 0 || n > max) {
    return bad(d, "%s.%s: empty or over %zu bytes", where, key, max);
  }
  *out = strndup(json_object_get_string(v), n);
  return *out != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
}

static rot_error_t decode_obj(dctx_t *d, json_object *root,
                              attest_evidence_t *ev) {
  static const char *const top[] = {"format", "version", "nonce", "quote",
                                    "event_log", "ak", "ek", "dice",
                                    "ak_endorsement", "inventory", "batch",
                                    NULL};
  if (!json_object_is_type(root, json_type_object)) {
    return bad(d, "evidence is not a JSON object");
  }
  ROT_TRY(only_keys(d, root, "evidence", top));
  json_object *v = get(root, "format", json_type_string);
  if (v == NULL || strcmp(json_object_get_string(v), ATTEST_EVIDENCE_FORMAT)) {
    return bad(d, "format: not \"%s\"", ATTEST_EVIDENCE_FORMAT);
  }
  v = get(root, "version", json_type_int);
  if (v == NULL || json_object_get_int64(v) != ATTEST_EVIDENCE_VERSION) {
    return bad(d, "version: not %u", ATTEST_EVIDENCE_VERSION);
  }
  ev->version = ATTEST_EVIDENCE_VERSION;
  v = get(root, "nonce", json_type_string);
  if (v == NULL ||
      attest_unhex(json_object_get_string(v), ev->nonce, sizeof(ev->nonce),
                   &ev->nonce_len) != ROT_OK ||
      ev->nonce_len == 0) {
    return bad(d, "nonce: missing, not hex, or over %u bytes",
               ATTEST_NONCE_MAX);
  }

  json_object *q = get(root, "quote", json_type_object);
  if (q == NULL) {
    return bad(d, "quote: missing or not an object");
  }
  static const char *const qk[] = {"attest", "signature", "pcrs", NULL};
  ROT_TRY(only_keys(d, q, "quote", qk));
  ROT_TRY(get_b64(d, q, "quote", "attest", ATTEST_MAX_ATTEST, &ev->attest, 1));
  ROT_TRY(get_b64(d, q, "quote", "signature", ATTEST_MAX_SIGNATURE,
                  &ev->signature, 1));
  ROT_TRY(get_b64(d, q, "quote", "pcrs", ATTEST_MAX_PCRS, &ev->pcrs, 1));
  ROT_TRY(get_b64(d, root, "evidence", "event_log", ATTEST_MAX_EVENT_LOG,
                  &ev->event_log, 1));

  json_object *ak = get(root, "ak", json_type_object);
  if (ak == NULL) {
    return bad(d, "ak: missing or not an object");
  }
  static const char *const akk[] = {"public", "pem", NULL};
  ROT_TRY(only_keys(d, ak, "ak", akk));
  ROT_TRY(get_b64(d, ak, "ak", "public", ATTEST_MAX_PUBLIC, &ev->ak_public,
                  1));
  ROT_TRY(get_str(d, ak, "ak", "pem", 4096, &ev->ak_pem));

  json_object *ek = get(root, "ek", json_type_object);
  if (ek == NULL) {
    return bad(d, "ek: missing or not an object");
  }
  static const char *const ekk[] = {"alg", "certificate", NULL};
  ROT_TRY(only_keys(d, ek, "ek", ekk));
  v = get(ek, "alg", json_type_string);
  if (v != NULL && strcmp(json_object_get_string(v), "rsa") == 0) {
    ev->ek_alg = TPM_ALG_RSA;
  } else if (v != NULL && strcmp(json_object_get_string(v), "ecc") == 0) {
    ev->ek_alg = TPM_ALG_ECC;
  } else {
    return bad(d, "ek.alg: not \"rsa\" or \"ecc\"");
  }
  ROT_TRY(get_b64(d, ek, "ek", "certificate", ATTEST_MAX_CERT, &ev->ek_cert,
                  1));

  json_object *dice = get(root, "dice", json_type_object);
  if (dice == NULL) {
    return bad(d, "dice: missing or not an object");
  }
  static const char *const dk[] = {"deviceid", "alias", "unavailable", NULL};
  ROT_TRY(only_keys(d, dice, "dice", dk));
  if (json_object_object_get_ex(dice, "unavailable", NULL)) {
    ROT_TRY(get_str(d, dice, "dice", "unavailable", 512,
                    &ev->dice_unavailable));
    if (json_object_object_length(dice) != 1 ||
        json_object_object_get_ex(root, "ak_endorsement", NULL)) {
      return bad(d, "dice: \"unavailable\" comes alone, with no endorsement");
    }
  } else {
    ROT_TRY(get_b64(d, dice, "dice", "deviceid", ATTEST_MAX_CERT,
                    &ev->dice_deviceid, 1));
    ROT_TRY(get_b64(d, dice, "dice", "alias", ATTEST_MAX_CERT,
                    &ev->dice_alias, 1));
    ROT_TRY(get_b64(d, root, "evidence", "ak_endorsement",
                    ATTEST_MAX_ENDORSEMENT, &ev->ak_endorsement, 1));
  }

  json_object *inv = NULL;
  if (json_object_object_get_ex(root, "inventory", &inv)) {
    if (!json_object_is_type(inv, json_type_object)) {
      return bad(d, "inventory: not an object");
    }
    const char *s = json_object_to_json_string_ext(inv, JSON_C_TO_STRING_PLAIN);
    if (s == NULL || strlen(s) > ATTEST_MAX_INVENTORY) {
      return bad(d, "inventory: over %u bytes", ATTEST_MAX_INVENTORY);
    }
    ev->inventory = strdup(s);
    if (ev->inventory == NULL) {
      return ROT_ERROR_INTERNAL;
    }
  }

  json_object *b = NULL;
  if (json_object_object_get_ex(root, "batch", &b)) {
    static const char *const bk[] = {"index", "size", "path", NULL};
    if (!json_object_is_type(b, json_type_object)) {
      return bad(d, "batch: not an object");
    }
    ROT_TRY(only_keys(d, b, "batch", bk));
    json_object *idx = get(b, "index", json_type_int);
    json_object *size = get(b, "size", json_type_int);
    json_object *path = get(b, "path", json_type_array);
    if (idx == NULL || size == NULL || path == NULL) {
      return bad(d, "batch: index, size and path are required");
    }
    int64_t i = json_object_get_int64(idx);
    int64_t n = json_object_get_int64(size);
    if (n < 1 || n > (int64_t)ATTEST_BATCH_MAX || i < 0 || i >= n) {
      return bad(d, "batch: index %lld / size %lld out of range (size "
                    "1..%u)", (long long)i, (long long)n, ATTEST_BATCH_MAX);
    }
    size_t plen = json_object_array_length(path);
    if (plen > ATTEST_MERKLE_MAX_DEPTH) {
      return bad(d, "batch.path: more than %u siblings",
                 ATTEST_MERKLE_MAX_DEPTH);
    }
    for (size_t k = 0; k < plen; k++) {
      json_object *h = json_object_array_get_idx(path, k);
      size_t got = 0;
      if (!json_object_is_type(h, json_type_string) ||
          attest_unhex(json_object_get_string(h), ev->path[k],
                       ATTEST_MERKLE_HASH_LEN, &got) != ROT_OK ||
          got != ATTEST_MERKLE_HASH_LEN) {
        return bad(d, "batch.path[%zu]: not a 32-byte hex hash", k);
      }
    }
    ev->batched = 1;
    ev->batch_index = (uint32_t)i;
    ev->batch_size = (uint32_t)n;
    ev->path_len = (uint32_t)plen;
  }
  return ROT_OK;
}

rot_error_t attest_evidence_decode(const char *json, size_t len,
                                   attest_evidence_t *ev, char *detail,
                                   size_t detail_cap) {
  dctx_t d = {detail, detail_cap};
  if (detail != NULL && detail_cap > 0) {
    detail[0] = '\0';
  }
  if (ev == NULL || (json == NULL && len > 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(ev, 0, sizeof(*ev));
  if (len == 0 || len > ATTEST_MAX_JSON) {
    return bad(&d, "evidence is empty or over %u bytes", ATTEST_MAX_JSON);
  }
  if (memchr(json, '\0', len) != NULL) {
    return bad(&d, "evidence contains a NUL byte");
  }
  json_object *root = NULL;
  char why[128];
  int got = attest_json_strict(json, len, MAX_DEPTH, &root, why, sizeof(why));
  if (got < 0) {
    return ROT_ERROR_INTERNAL;
  }
  rot_error_t err = got == 0 ? decode_obj(&d, root, ev) : bad(&d, "%s", why);
  json_object_put(root);
  if (err != ROT_OK) {
    attest_evidence_free(ev);
  }
  return err;
}

static int add_b64(json_object *obj, const char *key, const attest_buf_t *b) {
  char *s = attest_b64(b->p, b->len);
  if (s == NULL) {
    return -1;
  }
  json_object_object_add(obj, key, json_object_new_string(s));
  free(s);
  return 0;
}

static int encodable(const attest_evidence_t *ev) {
  return !(ev == NULL || ev->attest.p == NULL ||
      ev->signature.p == NULL || ev->pcrs.p == NULL ||
      ev->event_log.p == NULL || ev->ak_public.p == NULL ||
      ev->ak_pem == NULL || ev->ek_cert.p == NULL || ev->nonce_len == 0 ||
      ev->nonce_len > ATTEST_NONCE_MAX ||
      (ev->dice_unavailable == NULL &&
       (ev->dice_deviceid.p == NULL || ev->dice_alias.p == NULL ||
        ev->ak_endorsement.p == NULL)));
}

/* The document for ev without its "batch" member; NULL when out of
 * memory or a part does not encode. */
static json_object *encode_root(const attest_evidence_t *ev) {
  json_object *root = json_object_new_object();
  json_object *q = json_object_new_object();
  json_object *ak = json_object_new_object();
  json_object *ek = json_object_new_object();
  json_object *dice = json_object_new_object();
  int rc = 0;
  char *nonce = attest_hex(ev->nonce, ev->nonce_len);
  if (root == NULL || q == NULL || ak == NULL || ek == NULL || dice == NULL ||
      nonce == NULL) {
    rc = -1;
  } else {
    json_object_object_add(root, "format",
                           json_object_new_string(ATTEST_EVIDENCE_FORMAT));
    json_object_object_add(root, "version",
                           json_object_new_int(ATTEST_EVIDENCE_VERSION));
    json_object_object_add(root, "nonce", json_object_new_string(nonce));
    rc |= add_b64(q, "attest", &ev->attest);
    rc |= add_b64(q, "signature", &ev->signature);
    rc |= add_b64(q, "pcrs", &ev->pcrs);
    json_object_object_add(root, "quote", json_object_get(q));
    rc |= add_b64(root, "event_log", &ev->event_log);
    rc |= add_b64(ak, "public", &ev->ak_public);
    json_object_object_add(ak, "pem", json_object_new_string(ev->ak_pem));
    json_object_object_add(root, "ak", json_object_get(ak));
    json_object_object_add(
        ek, "alg", json_object_new_string(ev->ek_alg == TPM_ALG_ECC ? "ecc"
                                                                    : "rsa"));
    rc |= add_b64(ek, "certificate", &ev->ek_cert);
    json_object_object_add(root, "ek", json_object_get(ek));
    if (ev->dice_unavailable != NULL) {
      json_object_object_add(dice, "unavailable",
                             json_object_new_string(ev->dice_unavailable));
    } else {
      rc |= add_b64(dice, "deviceid", &ev->dice_deviceid);
      rc |= add_b64(dice, "alias", &ev->dice_alias);
      rc |= add_b64(root, "ak_endorsement", &ev->ak_endorsement);
    }
    json_object_object_add(root, "dice", json_object_get(dice));
    if (ev->inventory != NULL) {
      json_object *inv = json_tokener_parse(ev->inventory);
      if (inv == NULL) {
        rc = -1;
      } else {
        json_object_object_add(root, "inventory", inv);
      }
    }
  }
  free(nonce);
  json_object_put(q);
  json_object_put(ak);
  json_object_put(ek);
  json_object_put(dice);
  if (rc != 0) {
    json_object_put(root);
    return NULL;
  }
  return root;
}

/* ev's "batch" member (index, size, path), added to (or replacing that
 * of) root; 0 on success. */
static int add_batch(json_object *root, const attest_evidence_t *ev) {
  int rc = 0;
  json_object *b = json_object_new_object();
  json_object *path = json_object_new_array();
  if (b == NULL || path == NULL) {
    json_object_put(b);
    json_object_put(path);
    return -1;
  }
  json_object_object_add(b, "index", json_object_new_int64(ev->batch_index));
  json_object_object_add(b, "size", json_object_new_int64(ev->batch_size));
  for (uint32_t i = 0; i < ev->path_len && i < ATTEST_MERKLE_MAX_DEPTH; i++) {
    char *h = attest_hex(ev->path[i], ATTEST_MERKLE_HASH_LEN);
    if (h == NULL) {
      rc = -1;
      break;
    }
    json_object_array_add(path, json_object_new_string(h));
    free(h);
  }
  json_object_object_add(b, "path", path);
  json_object_object_add(root, "batch", b);
  return rc;
}

static char *serialize(json_object *root) {
  const char *s = json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                JSON_C_TO_STRING_NOSLASHESCAPE);
  return s != NULL ? strdup(s) : NULL;
}

rot_error_t attest_evidence_encode(const attest_evidence_t *ev, char **out) {
  if (out == NULL || !encodable(ev)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = NULL;
  json_object *root = encode_root(ev);
  if (root != NULL && (!ev->batched || add_batch(root, ev) == 0)) {
    *out = serialize(root);
  }
  json_object_put(root);
  return *out != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
}

static int same_buf(const attest_buf_t *a, const attest_buf_t *b) {
  return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static int same_str(const char *a, const char *b) {
  return (a == NULL && b == NULL) ||
         (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Everything but the nonce and the batch member is the same. */
static int same_parts(const attest_evidence_t *a, const attest_evidence_t *b) {
  return a->batched && b->batched && a->ek_alg == b->ek_alg &&
         same_buf(&a->attest, &b->attest) &&
         same_buf(&a->signature, &b->signature) &&
         same_buf(&a->pcrs, &b->pcrs) &&
         same_buf(&a->event_log, &b->event_log) &&
         same_buf(&a->ak_public, &b->ak_public) &&
         same_buf(&a->ek_cert, &b->ek_cert) &&
         same_buf(&a->dice_deviceid, &b->dice_deviceid) &&
         same_buf(&a->dice_alias, &b->dice_alias) &&
         same_buf(&a->ak_endorsement, &b->ak_endorsement) &&
         same_str(a->ak_pem, b->ak_pem) &&
         same_str(a->dice_unavailable, b->dice_unavailable) &&
         same_str(a->inventory, b->inventory);
}

/* Markers standing for a member's nonce and batch values in the shared
 * document; '@' appears in no hex, base64 or number the parts carry. */
#define NONCE_MARK "\"@@nonce@@\""
#define BATCH_MARK "\"@@batch@@\""

/* The one place mark occurs in doc, or NULL when it occurs 0 or 2+ times
 * (the parts then carry the marker text; the caller falls back). */
static const char *only(const char *doc, const char *mark) {
  const char *p = strstr(doc, mark);
  return p != NULL && strstr(p + 1, mark) == NULL ? p : NULL;
}

/* The shared document with ev's nonce and batch member in place of the
 * markers at pn and pb (pn before pb): the same JSON value as
 * attest_evidence_encode gives (the batch member without indentation). */
static char *splice(const char *doc, size_t len, const char *pn,
                    const char *pb, const attest_evidence_t *ev) {
  char batch[96 + ATTEST_MERKLE_MAX_DEPTH * (2 * ATTEST_MERKLE_HASH_LEN + 4)];
  int k = snprintf(batch, sizeof(batch),
                   "{ \"index\": %u, \"size\": %u, \"path\": [ ",
                   (unsigned)ev->batch_index, (unsigned)ev->batch_size);
  size_t bl = (size_t)k;
  for (uint32_t i = 0; i < ev->path_len && i < ATTEST_MERKLE_MAX_DEPTH; i++) {
    static const char hx[] = "0123456789abcdef";
    batch[bl++] = '"';
    for (size_t j = 0; j < ATTEST_MERKLE_HASH_LEN; j++) {
      batch[bl++] = hx[ev->path[i][j] >> 4];
      batch[bl++] = hx[ev->path[i][j] & 15];
    }
    batch[bl++] = '"';
    if (i + 1 < ev->path_len) {
      batch[bl++] = ',';
      batch[bl++] = ' ';
    }
  }
  memcpy(batch + bl, " ] }", 4);
  bl += 4;
  size_t a = (size_t)(pn - doc), mid = (size_t)(pb - pn) - strlen(NONCE_MARK);
  size_t tail = len - a - strlen(NONCE_MARK) - mid - strlen(BATCH_MARK);
  size_t total = a + 2 + 2 * ev->nonce_len + mid + bl + tail;
  char *out = malloc(total + 1);
  if (out == NULL) {
    return NULL;
  }
  char *o = out;
  memcpy(o, doc, a);
  o += a;
  *o++ = '"';
  static const char hx[] = "0123456789abcdef";
  for (size_t j = 0; j < ev->nonce_len; j++) {
    *o++ = hx[ev->nonce[j] >> 4];
    *o++ = hx[ev->nonce[j] & 15];
  }
  *o++ = '"';
  memcpy(o, pn + strlen(NONCE_MARK), mid);
  o += mid;
  memcpy(o, batch, bl);
  o += bl;
  memcpy(o, pb + strlen(BATCH_MARK), tail);
  o += tail;
  *o = '\0';
  return out;
}

rot_error_t attest_evidence_encode_batch(const attest_evidence_t *evs,
                                         size_t n, char **out) {
  if (evs == NULL || out == NULL || n == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < n; i++) {
    out[i] = NULL;
    if (!encodable(&evs[i])) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
  }
  /* The document the batch shares, serialised once, with markers where
   * each member's nonce and batch member go. */
  char *doc = NULL;
  const char *pn = NULL, *pb = NULL;
  json_object *root = evs[0].batched ? encode_root(&evs[0]) : NULL;
  if (root != NULL &&
      json_object_object_add(root, "nonce",
                             json_object_new_string("@@nonce@@")) == 0 &&
      json_object_object_add(root, "batch",
                             json_object_new_string("@@batch@@")) == 0) {
    doc = serialize(root);
  }
  json_object_put(root);
  if (doc != NULL) {
    pn = only(doc, NONCE_MARK);
    pb = only(doc, BATCH_MARK);
  }
  size_t len = doc != NULL ? strlen(doc) : 0;
  rot_error_t err = ROT_OK;
  for (size_t i = 0; i < n && err == ROT_OK; i++) {
    if (pn != NULL && pb != NULL && pn < pb && same_parts(&evs[0], &evs[i])) {
      out[i] = splice(doc, len, pn, pb, &evs[i]);
      err = out[i] != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
    } else {
      /* Not shared with the first: a document of its own. */
      err = attest_evidence_encode(&evs[i], &out[i]);
    }
  }
  free(doc);
  if (err != ROT_OK) {
    for (size_t i = 0; i < n; i++) {
      free(out[i]);
      out[i] = NULL;
    }
  }
  return err;
}
