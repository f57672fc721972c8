/* The chip's identity and endorsement cache (see chipid.h). */
#include "chipid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "rot/crypto.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"

#define IDENTITY_REPLY_MAX (2u * (2u + ATTEST_MAX_CERT))
#define ENDORSE_REPLY_MAX (2u + ATTEST_MAX_ENDORSEMENT)
#define INVENTORY_REPLY_MAX \
  (ROT_MBOX_INVENTORY_FIXED + ROT_MBOX_INVENTORY_MAX * ROT_MBOX_INVENTORY_ENTRY_SIZE)
/* ENDORSE takes the EK certificate's SHA-384 and the AK's TPM2B_PUBLIC
 * (docs/mailbox.md: at most 1022 bytes after its size). */
#define AK_PUBLIC_MAX 1024u

static void buf_free(attest_buf_t *b) {
  free(b->p);
  b->p = NULL;
  b->len = 0;
}

static rot_error_t buf_set(attest_buf_t *b, const uint8_t *p, size_t len) {
  uint8_t *n = malloc(len != 0 ? len : 1);
  if (n == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  memcpy(n, p, len);
  free(b->p);
  b->p = n;
  b->len = len;
  return ROT_OK;
}

static int buf_eq(const attest_buf_t *b, const uint8_t *p, size_t len) {
  return b->p != NULL && b->len == len && memcmp(b->p, p, len) == 0;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

rot_error_t ha_chip_init(ha_chip_t *c, ha_rot_t *rot) {
  if (c == NULL || rot == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(c, 0, sizeof(*c));
  c->rot = rot;
  return pthread_mutex_init(&c->lock, NULL) == 0 ? ROT_OK : ROT_ERROR_INTERNAL;
}

/* Under the lock. */
static void drop(ha_chip_t *c) {
  c->valid = 0;
  buf_free(&c->deviceid);
  buf_free(&c->alias);
  buf_free(&c->ak_public);
  buf_free(&c->endorsement);
}

void ha_chip_free(ha_chip_t *c) {
  if (c == NULL) {
    return;
  }
  pthread_mutex_lock(&c->lock);
  drop(c);
  pthread_mutex_unlock(&c->lock);
}

void ha_chip_ident_free(ha_chip_ident_t *id) {
  if (id != NULL) {
    buf_free(&id->deviceid);
    buf_free(&id->alias);
    buf_free(&id->endorsement);
  }
}

/* One request that changes nothing on the chip (retried once on a fresh
 * connection); the chip's refusal comes back as the error. */
static rot_error_t ask(ha_chip_t *c, uint16_t cmd, const uint8_t *req,
                       uint32_t len, uint8_t *out, size_t cap, size_t *n) {
  rot_error_t status = ROT_ERROR_INTERNAL;
  rot_error_t err = ha_rot_call(c->rot, cmd, req, len, 1, &status, out, cap, n);
  return err != ROT_OK ? err : status;
}

/* u16 len || DER, len 1..ATTEST_MAX_CERT, inside [*p, *p + *left). */
static int take_der(const uint8_t **p, size_t *left, const uint8_t **der,
                    size_t *len) {
  if (*left < 2) {
    return -1;
  }
  size_t n = be16(*p);
  if (n == 0 || n > ATTEST_MAX_CERT || n > *left - 2) {
    return -1;
  }
  *der = *p + 2;
  *len = n;
  *p += 2 + n;
  *left -= 2 + n;
  return 0;
}

/* IDENTITY into reply (IDENTITY_REPLY_MAX bytes): the DeviceID and Alias
 * certificates, pointing into it. Needs the chip only, not the TPM. */
static rot_error_t read_identity_into(ha_chip_t *c, uint8_t *reply,
                                      const uint8_t **devid, size_t *devid_len,
                                      const uint8_t **alias, size_t *alias_len,
                                      char *why, size_t cap) {
  size_t n = 0;
  rot_error_t err = ask(c, ROT_MBOX_CMD_IDENTITY, NULL, 0, reply,
                        IDENTITY_REPLY_MAX, &n);
  if (err != ROT_OK) {
    snprintf(why, cap, "the chip gave no identity (IDENTITY: %s)",
             rot_error_name(err));
    return err;
  }
  const uint8_t *p = reply;
  size_t left = n;
  if (take_der(&p, &left, devid, devid_len) != 0 ||
      take_der(&p, &left, alias, alias_len) != 0 || left != 0) {
    snprintf(why, cap, "the chip's IDENTITY reply is malformed");
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  return ROT_OK;
}

/* read_identity_into a reply it allocates: *reply, which the caller frees
 * on success; NULL after an error. */
static rot_error_t read_identity(ha_chip_t *c, uint8_t **reply,
                                 const uint8_t **devid, size_t *devid_len,
                                 const uint8_t **alias, size_t *alias_len,
                                 char *why, size_t cap) {
  *reply = malloc(IDENTITY_REPLY_MAX);
  if (*reply == NULL) {
    snprintf(why, cap, "out of memory");
    return ROT_ERROR_INTERNAL;
  }
  rot_error_t err = read_identity_into(c, *reply, devid, devid_len, alias,
                                       alias_len, why, cap);
  if (err != ROT_OK) {
    free(*reply);
    *reply = NULL;
  }
  return err;
}

rot_error_t ha_chip_certs(ha_chip_t *c, ha_chip_ident_t *out, char *why,
                          size_t cap) {
  if (c == NULL || out == NULL) {
    snprintf(why, cap, "no chip to ask");
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  uint8_t *reply = NULL;
  const uint8_t *devid = NULL, *alias = NULL;
  size_t devid_len = 0, alias_len = 0;
  rot_error_t err = read_identity(c, &reply, &devid, &devid_len, &alias,
                                  &alias_len, why, cap);
  if (err == ROT_OK && (buf_set(&out->deviceid, devid, devid_len) != ROT_OK ||
                        buf_set(&out->alias, alias, alias_len) != ROT_OK)) {
    ha_chip_ident_free(out);
    snprintf(why, cap, "out of memory");
    err = ROT_ERROR_INTERNAL;
  }
  free(reply);
  return err;
}

rot_error_t ha_chip_get(ha_chip_t *c, const attest_buf_t *ak_public,
                        const attest_buf_t *ek_cert, ha_chip_ident_t *out,
                        char *why, size_t cap) {
  if (c == NULL || ak_public == NULL || ak_public->p == NULL ||
      ak_public->len == 0 || ak_public->len > AK_PUBLIC_MAX || ek_cert == NULL ||
      ek_cert->p == NULL || out == NULL) {
    snprintf(why, cap, "no AK public area or EK certificate to endorse");
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  uint8_t ek_hash[ROT_SHA384_LEN];
  if (rot_hash(rot_host_crypto(), ROT_HASH_SHA384, ek_cert->p, ek_cert->len,
               ek_hash, sizeof(ek_hash)) != ROT_OK) {
    snprintf(why, cap, "cannot hash the EK certificate");
    return ROT_ERROR_INTERNAL;
  }
  uint8_t *reply = NULL;
  const uint8_t *devid = NULL, *alias = NULL;
  size_t devid_len = 0, alias_len = 0;
  rot_error_t err = read_identity(c, &reply, &devid, &devid_len, &alias,
                                  &alias_len, why, cap);
  if (err != ROT_OK) {
    return err;
  }
  pthread_mutex_lock(&c->lock);
  int hit = c->valid &&
            buf_eq(&c->deviceid, devid, devid_len) &&
            buf_eq(&c->alias, alias, alias_len) &&
            buf_eq(&c->ak_public, ak_public->p, ak_public->len) &&
            memcmp(c->ek_sha384, ek_hash, sizeof(ek_hash)) == 0;
  if (hit) {
    err = buf_set(&out->endorsement, c->endorsement.p, c->endorsement.len);
  }
  pthread_mutex_unlock(&c->lock);
  if (!hit) {
    /* Asked outside the cache's lock: the chip's signature takes
     * milliseconds, and a reader of a still-valid entry need not wait. */
    uint8_t req[ROT_SHA384_LEN + AK_PUBLIC_MAX];
    uint8_t sig[ENDORSE_REPLY_MAX];
    size_t slen = 0;
    memcpy(req, ek_hash, sizeof(ek_hash));
    memcpy(req + sizeof(ek_hash), ak_public->p, ak_public->len);
    err = ask(c, ROT_MBOX_CMD_ENDORSE, req,
              (uint32_t)(sizeof(ek_hash) + ak_public->len), sig, sizeof(sig),
              &slen);
    pthread_mutex_lock(&c->lock);
    c->endorse_calls++;
    pthread_mutex_unlock(&c->lock);
    if (err != ROT_OK) {
      snprintf(why, cap, "the chip did not endorse the AK (ENDORSE: %s)",
               rot_error_name(err));
      free(reply);
      return err;
    }
    if (slen < 2 || be16(sig) == 0 || be16(sig) > ATTEST_MAX_ENDORSEMENT ||
        be16(sig) != slen - 2) {
      snprintf(why, cap, "the chip's ENDORSE reply is malformed");
      free(reply);
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
    err = buf_set(&out->endorsement, sig + 2, slen - 2);
    pthread_mutex_lock(&c->lock);
    drop(c);
    if (err == ROT_OK && buf_set(&c->deviceid, devid, devid_len) == ROT_OK &&
        buf_set(&c->alias, alias, alias_len) == ROT_OK &&
        buf_set(&c->ak_public, ak_public->p, ak_public->len) == ROT_OK &&
        buf_set(&c->endorsement, sig + 2, slen - 2) == ROT_OK) {
      memcpy(c->ek_sha384, ek_hash, sizeof(ek_hash));
      c->valid = 1;
    } else {
      drop(c);
    }
    pthread_mutex_unlock(&c->lock);
  }
  if (err == ROT_OK) {
    err = buf_set(&out->deviceid, devid, devid_len);
  }
  if (err == ROT_OK) {
    err = buf_set(&out->alias, alias, alias_len);
  }
  free(reply);
  if (err != ROT_OK) {
    ha_chip_ident_free(out);
    snprintf(why, cap, "out of memory");
  }
  return err;
}

char *ha_chip_inventory(ha_chip_t *c) {
  uint8_t *reply = malloc(INVENTORY_REPLY_MAX);
  rot_mbox_inventory_t *inv = malloc(sizeof(*inv));
  char *out = NULL;
  size_t n = 0;
  if (reply != NULL && inv != NULL &&
      ask(c, ROT_MBOX_CMD_INVENTORY, NULL, 0, reply, INVENTORY_REPLY_MAX, &n) ==
          ROT_OK &&
      rot_mbox_inventory_decode(reply, n, inv) == ROT_OK) {
    out = attest_inventory_json(inv);
  }
  free(reply);
  free(inv);
  return out;
}

rot_error_t ha_chip_fill(ha_chip_t *c, attest_evidence_t *evs, size_t n) {
  if (c == NULL || evs == NULL || n == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  char why[256] = "";
  char *inv = ha_chip_inventory(c);
  ha_chip_ident_t id;
  rot_error_t got = ha_chip_get(c, &evs[0].ak_public, &evs[0].ek_cert, &id,
                                why, sizeof(why));
  rot_error_t err = ROT_OK;
  for (size_t i = 0; i < n && err == ROT_OK; i++) {
    attest_evidence_t *ev = &evs[i];
    free(ev->inventory);
    ev->inventory = NULL;
    free(ev->dice_unavailable);
    ev->dice_unavailable = NULL;
    buf_free(&ev->dice_deviceid);
    buf_free(&ev->dice_alias);
    buf_free(&ev->ak_endorsement);
    if (inv != NULL) {
      ev->inventory = strdup(inv);
      err = ev->inventory != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
    }
    if (err != ROT_OK) {
      break;
    }
    if (got == ROT_OK) {
      err = buf_set(&ev->dice_deviceid, id.deviceid.p, id.deviceid.len);
      err = err == ROT_OK ? buf_set(&ev->dice_alias, id.alias.p, id.alias.len) : err;
      err = err == ROT_OK ? buf_set(&ev->ak_endorsement, id.endorsement.p,
                                    id.endorsement.len)
                          : err;
    } else {
      ev->dice_unavailable = strdup(why[0] != '\0' ? why : "the chip was not reachable");
      err = ev->dice_unavailable != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
    }
  }
  free(inv);
  if (got == ROT_OK) {
    ha_chip_ident_free(&id);
  }
  return err;
}

uint64_t ha_chip_endorse_calls(ha_chip_t *c) {
  pthread_mutex_lock(&c->lock);
  uint64_t v = c->endorse_calls;
  pthread_mutex_unlock(&c->lock);
  return v;
}
