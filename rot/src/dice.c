/*
 * DICE derivations and the small DER encoders the chip's identity needs
 * (see rot/dice.h). Certificates themselves are written by the port
 * (rot/cert.h): X.509 needs a full ASN.1 writer the core does not carry.
 */
#include "rot/dice.h"

#include "rot/hardened.h"
#include "rot/policy.h"
#include "rot/util.h"

/* Fixed salts: labels, so the derivations cannot collide with any other
 * use of the same secret. */
static const char kKeySalt[] = "rot-stack dice key pair salt v1";
static const char kIdSalt[] = "rot-stack dice key id salt v1";
static const char kConfigLabel[] = "rot-stack lifecycle";

uint8_t rot_dice_mode(uint32_t lifecycle) {
  switch (lifecycle) {
    case ROT_LIFECYCLE_PROD:
      return ROT_DICE_MODE_NORMAL;
    case ROT_LIFECYCLE_DEV:
      return ROT_DICE_MODE_DEBUG;
    default:
      return ROT_DICE_MODE_NOT_CONFIGURED;
  }
}

rot_error_t rot_dice_inputs(const rot_verified_image_t *v, uint32_t lifecycle,
                            rot_dice_inputs_t *out) {
  if (v == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  ROT_TRY(rot_verified_check(v));
  rot_memcpy(out->code, v->signed_digest, ROT_SHA384_LEN);
  /* Inline configuration: the label, then the lifecycle (LE u32). */
  rot_memcpy(out->config, kConfigLabel, sizeof(kConfigLabel) - 1u);
  rot_st32(out->config + 32, lifecycle);
  rot_memcpy(out->authority, v->signer_digest, ROT_SHA384_LEN);
  out->mode = rot_dice_mode(lifecycle);
  return ROT_OK;
}

_Static_assert(sizeof(rot_dice_inputs_t) == ROT_DICE_INPUT_LEN &&
                   offsetof(rot_dice_inputs_t, config) == 64u &&
                   offsetof(rot_dice_inputs_t, authority) == 128u &&
                   offsetof(rot_dice_inputs_t, mode) == 192u &&
                   offsetof(rot_dice_inputs_t, hidden) == 193u,
               "the CDI's inputs are hashed as the struct holds them");

rot_error_t rot_dice_cdi(const rot_crypto_t *c, const uint8_t *uds,
                         size_t uds_len, const rot_dice_inputs_t *in,
                         uint8_t cdi[ROT_DICE_CDI_LEN]) {
  if (c == NULL || uds == NULL || uds_len == 0 || in == NULL || cdi == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* The inputs are hashed as they sit: code || config || authority ||
   * mode || hidden, the struct's own bytes (asserted above). */
  uint8_t salt[ROT_SHA384_LEN];
  rot_error_t err = rot_hash(c, ROT_HASH_SHA384, in, ROT_DICE_INPUT_LEN, salt,
                             sizeof(salt));
  if (err == ROT_OK) {
    err = c->hkdf(c, ROT_HASH_SHA384, salt, sizeof(salt), uds, uds_len,
                  (const uint8_t *)"CDI_Attest", 10, cdi, ROT_DICE_CDI_LEN);
  }
  rot_wipe(salt, sizeof(salt));
  if (err != ROT_OK) {
    rot_wipe(cdi, ROT_DICE_CDI_LEN);
  }
  return err;
}

/* Big-endian a < b. */
static int be_less(const uint8_t *a, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i]) {
      return a[i] < b[i];
    }
  }
  return 0;
}

rot_error_t rot_dice_derive_key(const rot_crypto_t *c, const uint8_t *secret,
                                size_t secret_len,
                                uint8_t priv[ROT_P384_SCALAR_LEN],
                                uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  if (c == NULL || secret == NULL || secret_len == 0 || priv == NULL ||
      pub == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t info[9] = {'K', 'e', 'y', ' ', 'P', 'a', 'i', 'r', 0};
  /* n is within 2^-190 of 2^384: a retry is all but never needed, and
   * 16 in a row has probability 2^-3000. */
  for (uint8_t ctr = 0; ctr < 16u; ctr++) {
    info[8] = ctr;
    ROT_TRY(c->hkdf(c, ROT_HASH_SHA384, (const uint8_t *)kKeySalt,
                    sizeof(kKeySalt) - 1u, secret, secret_len, info,
                    sizeof(info), priv, ROT_P384_SCALAR_LEN));
    if (!rot_is_zero(priv, ROT_P384_SCALAR_LEN) &&
        be_less(priv, rot_p384_order, ROT_P384_SCALAR_LEN)) {
      rot_error_t err = c->ecdsa_p384_pubkey(c, priv, pub);
      if (err != ROT_OK) {
        rot_wipe(priv, ROT_P384_SCALAR_LEN);
      }
      return err;
    }
  }
  rot_wipe(priv, ROT_P384_SCALAR_LEN);
  return ROT_ERROR_CRYPTO_FAILED;
}

rot_error_t rot_dice_key_id(const rot_crypto_t *c,
                            const uint8_t pub[ROT_P384_PUBKEY_LEN],
                            uint8_t id[20]) {
  if (c == NULL || pub == NULL || id == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(c->hkdf(c, ROT_HASH_SHA384, (const uint8_t *)kIdSalt,
                  sizeof(kIdSalt) - 1u, pub, ROT_P384_PUBKEY_LEN,
                  (const uint8_t *)"ID", 2, id, 20));
  id[0] &= 0x7fu;
  if (id[0] == 0) {
    id[0] = 0x01; /* keep the DER INTEGER at its full 20 bytes */
  }
  return ROT_OK;
}

/* ---- a bounded DER writer ----------------------------------------------
 * It writes backwards from the end of the buffer, so a constructed value's
 * length is known (everything written since its mark) when its tag and
 * length go in front, and nothing is computed twice. The finished
 * encoding is then moved to the front of the buffer. */

typedef struct der {
  uint8_t *p;
  size_t pos; /* bytes [pos, cap) are written */
  int overflow;
} der_t;

static void put(der_t *d, const void *src, size_t n) {
  if (d->overflow || n > d->pos) {
    d->overflow = 1;
    return;
  }
  d->pos -= n;
  rot_memcpy(d->p + d->pos, src, n);
}

ROT_NOINLINE
static void put_byte(der_t *d, uint8_t b) { put(d, &b, 1); }

/* Tag and length in front of everything written since mark (< 65536). */
static void put_head(der_t *d, uint8_t tag, size_t mark) {
  size_t n = mark - d->pos;
  if (n >= 0x80u) {
    put_byte(d, (uint8_t)n);
    if (n >= 0x100u) {
      put_byte(d, (uint8_t)(n >> 8));
    }
    put_byte(d, n >= 0x100u ? 0x82 : 0x81);
  } else {
    put_byte(d, (uint8_t)n);
  }
  put_byte(d, tag);
}

/* A primitive value: its n bytes, then its tag and length in front. */
static void put_tlv(der_t *d, uint8_t tag, const void *src, size_t n) {
  size_t mark = d->pos;
  put(d, src, n);
  put_head(d, tag, mark);
}

/* Move the encoding (at the end of the cap-byte buffer) to its front. */
ROT_NOINLINE
static rot_error_t der_finish(const der_t *d, size_t cap, size_t *out_len) {
  if (d->overflow) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  size_t n = cap - d->pos;
  for (size_t i = 0; i < n; i++) {
    d->p[i] = d->p[d->pos + i]; /* downwards: never overwrites a byte to read */
  }
  *out_len = n;
  return ROT_OK;
}

/* An unsigned integer as a DER INTEGER body: minimal, a leading 0x00 when
 * the top bit is set. Writes at most 5 bytes; returns the length. */
static size_t uint_body(uint32_t v, uint8_t out[5]) {
  uint8_t be[5] = {0, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                   (uint8_t)v};
  size_t i = 1;
  while (i < 4 && be[i] == 0) {
    i++;
  }
  if (be[i] & 0x80u) {
    i--;
  }
  rot_memcpy(out, be + i, 5 - i);
  return 5 - i;
}

/* Decimal digits of v; returns the count (at most 5 for a u16). */
static size_t dec16(uint16_t v, char out[5]) {
  char tmp[5];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10u);
    v = (uint16_t)(v / 10u);
  } while (v != 0 && n < sizeof(tmp));
  for (size_t i = 0; i < n; i++) {
    out[i] = tmp[n - 1 - i];
  }
  return n;
}

static const uint8_t kSha384Oid[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x02};

rot_error_t rot_dice_tcbinfo_encode(const rot_dice_tcb_t *t, uint8_t *out,
                                    size_t cap, size_t *out_len) {
  if (t == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  char ver[17];
  size_t vl = dec16(t->ver_major, ver);
  ver[vl++] = '.';
  vl += dec16(t->ver_minor, ver + vl);
  ver[vl++] = '.';
  vl += dec16(t->ver_patch, ver + vl);
  uint8_t svn[5];
  size_t svn_len = uint_body(t->svn, svn);
  /* OperationalFlags: notConfigured(0), notSecure(1), recovery(2),
   * debug(3); named-bit DER drops trailing zero bits. */
  uint8_t flags[2] = {0, 0};
  size_t flags_len = 1;
  if (t->mode == ROT_DICE_MODE_DEBUG) {
    flags[0] = 4;
    flags[1] = 0x10;
    flags_len = 2;
  } else if (t->mode != ROT_DICE_MODE_NORMAL) {
    flags[0] = 7;
    flags[1] = 0x80;
    flags_len = 2;
  }
  static const uint8_t kLayer0 = 0; /* layer [4]: the first mutable stage */
  der_t d = {out, cap, 0};
  /* Last field first. */
  put_tlv(&d, 0x87, flags, flags_len); /* flags [7] OperationalFlags */
  size_t fwids = d.pos;                /* fwids [6] SEQUENCE OF FWID */
  put_tlv(&d, 0x04, t->fwid, ROT_SHA384_LEN);
  put(&d, kSha384Oid, sizeof(kSha384Oid));
  put_head(&d, 0x30, fwids);
  put_head(&d, 0xa6, fwids);
  put_tlv(&d, 0x84, &kLayer0, 1);
  put_tlv(&d, 0x83, svn, svn_len); /* svn [3] INTEGER */
  put_tlv(&d, 0x82, ver, vl);      /* version [2] */
  put_tlv(&d, 0x81, ROT_DICE_MODEL, sizeof(ROT_DICE_MODEL) - 1u);   /* model [1] */
  put_tlv(&d, 0x80, ROT_DICE_VENDOR, sizeof(ROT_DICE_VENDOR) - 1u); /* vendor [0] */
  put_head(&d, 0x30, cap);
  return der_finish(&d, cap, out_len);
}

/* ---- ENDORSE --------------------------------------------------------------- */

rot_error_t rot_dice_endorse_req_parse(const uint8_t *p, size_t len,
                                       rot_dice_endorse_req_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  if (len < ROT_DICE_ENDORSE_REQ_MIN || len > ROT_DICE_ENDORSE_REQ_MAX) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  size_t ak_len = len - ROT_SHA384_LEN;
  const uint8_t *ak = p + ROT_SHA384_LEN;
  uint32_t size = ((uint32_t)ak[0] << 8) | ak[1];
  /* The TPM2B's own size must account for every byte after it: no
   * trailing data rides along under the signature. */
  if (size == 0 || size != ak_len - 2u) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  out->ek_cert_sha384 = p;
  out->ak_public = ak;
  out->ak_public_len = ak_len;
  return ROT_OK;
}

rot_error_t rot_dice_endorse_statement(const rot_crypto_t *c,
                                       const rot_dice_endorse_req_t *r,
                                       uint8_t out[ROT_DICE_STATEMENT_LEN]) {
  if (c == NULL || r == NULL || out == NULL || r->ek_cert_sha384 == NULL ||
      r->ak_public == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memcpy(out, ROT_DICE_ENDORSE_LABEL, ROT_DICE_ENDORSE_LABEL_LEN);
  out[ROT_DICE_ENDORSE_LABEL_LEN] = 0;
  rot_memcpy(out + ROT_DICE_ENDORSE_LABEL_LEN + 1u, r->ek_cert_sha384,
             ROT_SHA384_LEN);
  return rot_hash(c, ROT_HASH_SHA384, r->ak_public, r->ak_public_len,
                  out + ROT_DICE_ENDORSE_LABEL_LEN + 1u + ROT_SHA384_LEN,
                  ROT_SHA384_LEN);
}

/* One 48-byte big-endian scalar as a DER INTEGER: minimal, with a 0x00
 * in front when its top bit is set. */
static void put_scalar(der_t *d, const uint8_t *s) {
  size_t i = 0;
  while (i + 1u < ROT_P384_SCALAR_LEN && s[i] == 0) {
    i++;
  }
  size_t mark = d->pos;
  put(d, s + i, ROT_P384_SCALAR_LEN - i);
  if ((s[i] & 0x80u) != 0) {
    put_byte(d, 0);
  }
  put_head(d, 0x02, mark);
}

rot_error_t rot_dice_sig_der(const uint8_t sig[ROT_P384_SIG_LEN], uint8_t *out,
                             size_t cap, size_t *out_len) {
  if (sig == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  der_t d = {out, cap, 0};
  put_scalar(&d, sig + ROT_P384_SCALAR_LEN); /* s, then r in front */
  put_scalar(&d, sig);
  put_head(&d, 0x30, cap);
  return der_finish(&d, cap, out_len);
}
