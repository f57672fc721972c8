/*
 * Certificate chains (mbedTLS X.509) for the EK and DICE checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>

#include "attest/verify.h"
#include "internal.h"

hardened_bool_t attest_x509_chain(const uint8_t *der, size_t len,
                                  const char *ca_file, const char *inter_file,
                                  char *reason, size_t cap) {
  mbedtls_x509_crt ca, chain;
  mbedtls_x509_crt_init(&ca);
  mbedtls_x509_crt_init(&chain);
  hardened_bool_t ok = HARDENED_FALSE;
  uint32_t flags = 0;
  int rc;
  if (der == NULL || len == 0) {
    snprintf(reason, cap, "no certificate in the evidence");
  } else if ((rc = mbedtls_x509_crt_parse_file(&ca, ca_file)) != 0) {
    snprintf(reason, cap, "trust anchor %s unreadable (mbedTLS -0x%04x)",
             ca_file, (unsigned)-rc);
  } else if ((rc = mbedtls_x509_crt_parse_der(&chain, der, len)) != 0) {
    snprintf(reason, cap, "certificate does not parse (mbedTLS -0x%04x)",
             (unsigned)-rc);
  } else if (inter_file != NULL && access(inter_file, R_OK) == 0 &&
             (rc = mbedtls_x509_crt_parse_file(&chain, inter_file)) != 0) {
    snprintf(reason, cap, "intermediate %s unreadable (mbedTLS -0x%04x)",
             inter_file, (unsigned)-rc);
  } else if ((rc = mbedtls_x509_crt_verify(&chain, &ca, NULL, NULL, &flags,
                                           NULL, NULL)) != 0) {
    char info[160];
    int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
    if (n > 0 && info[n - 1] == '\n') {
      info[n - 1] = '\0';
    }
    snprintf(reason, cap, "does not chain to %s: %s", ca_file,
             n > 0 ? info : "verification failed");
  } else {
    ok = HARDENED_TRUE;
    snprintf(reason, cap, "chains to %s", ca_file);
  }
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&chain);
  return ok;
}

struct attest_trust {
  mbedtls_x509_crt tpm;  /* the TPM CA and the intermediates checked to it */
  mbedtls_x509_crt dice; /* the chip manufacturer CA (may be empty) */
  int has_dice;
};

void attest_trust_free(attest_trust_t *t) {
  if (t != NULL) {
    mbedtls_x509_crt_free(&t->tpm);
    mbedtls_x509_crt_free(&t->dice);
    free(t);
  }
}

rot_error_t attest_trust_load(const char *dir, attest_trust_t **out,
                              char *why, size_t cap) {
  char path[4096];
  if (dir == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = NULL;
  attest_trust_t *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  mbedtls_x509_crt_init(&t->tpm);
  mbedtls_x509_crt_init(&t->dice);
  snprintf(path, sizeof(path), "%s/tpm-ca.pem", dir);
  if (mbedtls_x509_crt_parse_file(&t->tpm, path) != 0) {
    snprintf(why, cap, "%s: missing or not PEM certificates", path);
    attest_trust_free(t);
    return ROT_ERROR_ATTEST_BAD_TRUST;
  }
  snprintf(path, sizeof(path), "%s/tpm-intermediate.pem", dir);
  if (access(path, F_OK) == 0) {
    mbedtls_x509_crt inter;
    mbedtls_x509_crt_init(&inter);
    uint32_t flags = 0;
    int ok = mbedtls_x509_crt_parse_file(&inter, path) == 0;
    for (mbedtls_x509_crt *c = &inter; ok && c != NULL && c->raw.p != NULL;
         c = c->next) {
      mbedtls_x509_crt one;
      mbedtls_x509_crt_init(&one);
      /* Each intermediate must chain to the CA before it is an anchor. */
      ok = mbedtls_x509_crt_parse_der(&one, c->raw.p, c->raw.len) == 0 &&
           mbedtls_x509_crt_verify(&one, &t->tpm, NULL, NULL, &flags, NULL,
                                   NULL) == 0 &&
           mbedtls_x509_crt_parse_der(&t->tpm, c->raw.p, c->raw.len) == 0;
      mbedtls_x509_crt_free(&one);
    }
    mbedtls_x509_crt_free(&inter);
    if (!ok) {
      snprintf(why, cap, "%s: unreadable, or does not chain to tpm-ca.pem",
               path);
      attest_trust_free(t);
      return ROT_ERROR_ATTEST_BAD_TRUST;
    }
  }
  snprintf(path, sizeof(path), "%s/dice-ca.pem", dir);
  if (access(path, F_OK) == 0) {
    if (mbedtls_x509_crt_parse_file(&t->dice, path) != 0) {
      snprintf(why, cap, "%s: not PEM certificates", path);
      attest_trust_free(t);
      return ROT_ERROR_ATTEST_BAD_TRUST;
    }
    t->has_dice = 1;
  }
  *out = t;
  return ROT_OK;
}

hardened_bool_t attest_trust_check_ek(const attest_trust_t *t,
                                      const uint8_t *der, size_t len,
                                      char *reason, size_t cap) {
  mbedtls_x509_crt ek;
  mbedtls_x509_crt_init(&ek);
  uint32_t flags = 0;
  hardened_bool_t ok = HARDENED_FALSE;
  if (der == NULL || len == 0) {
    snprintf(reason, cap, "no certificate in the evidence");
  } else if (mbedtls_x509_crt_parse_der(&ek, der, len) != 0) {
    snprintf(reason, cap, "does not parse");
  } else if (mbedtls_x509_crt_verify(&ek, (mbedtls_x509_crt *)&t->tpm, NULL,
                                     NULL, &flags, NULL, NULL) != 0) {
    snprintf(reason, cap, "does not chain to the trusted TPM CA (flags 0x%x)",
             flags);
  } else {
    ok = HARDENED_TRUE;
    snprintf(reason, cap, "chains to the trusted TPM CA");
  }
  mbedtls_x509_crt_free(&ek);
  return ok;
}

const mbedtls_x509_crt *attest_trust_dice(const attest_trust_t *t) {
  return t->has_dice ? &t->dice : NULL;
}

/* ---- DiceTcbInfo ----------------------------------------------------------- */

/* One DER TLV at *p (before end): single-byte tag, definite length of at
 * most 0xffff in minimal form. */
static int der_tlv(const uint8_t **p, const uint8_t *end, uint8_t *tag,
                   const uint8_t **val, size_t *vlen) {
  const uint8_t *q = *p;
  if (q >= end || end - q < 2 || (q[0] & 0x1fu) == 0x1fu) {
    return 0;
  }
  *tag = q[0];
  size_t n = q[1];
  q += 2;
  if (n == 0x81u) {
    if (end - q < 1 || q[0] < 0x80u) {
      return 0;
    }
    n = q[0];
    q += 1;
  } else if (n == 0x82u) {
    if (end - q < 2 || q[0] == 0) {
      return 0;
    }
    n = ((size_t)q[0] << 8) | q[1];
    q += 2;
  } else if (n > 0x80u || n == 0x80u) {
    return 0; /* indefinite, or longer than 0xffff */
  }
  if ((size_t)(end - q) < n) {
    return 0;
  }
  *val = q;
  *vlen = n;
  *p = q + n;
  return 1;
}

static int der_str(const uint8_t *v, size_t n, char *out, size_t cap) {
  if (n >= cap || memchr(v, '\0', n) != NULL) {
    return 0;
  }
  memcpy(out, v, n);
  out[n] = '\0';
  return 1;
}

/* A non-negative INTEGER body of at most 32 bits, minimal. */
static int der_u32(const uint8_t *v, size_t n, uint32_t *out) {
  if (n == 0 || n > 5 || (v[0] & 0x80u) ||
      (n > 1 && v[0] == 0 && !(v[1] & 0x80u)) || (n == 5 && v[0] != 0)) {
    return 0;
  }
  uint32_t x = 0;
  for (size_t i = 0; i < n; i++) {
    x = (x << 8) | v[i];
  }
  *out = x;
  return 1;
}

static const uint8_t kSha384OidBody[] = {0x60, 0x86, 0x48, 0x01, 0x65,
                                         0x03, 0x04, 0x02, 0x02};
static const uint8_t kTcbInfoOid[] = {0x67, 0x81, 0x05, 0x05, 0x04, 0x01};

static int parse_fwids(const uint8_t *p, size_t len, attest_dice_tcb_t *out) {
  const uint8_t *end = p + len;
  size_t count = 0;
  while (p < end) {
    uint8_t tag, t1, t2;
    const uint8_t *v, *oid, *dig;
    size_t vl, ol, dl;
    if (!der_tlv(&p, end, &tag, &v, &vl) || tag != 0x30) {
      return 0;
    }
    const uint8_t *q = v, *qe = v + vl;
    if (!der_tlv(&q, qe, &t1, &oid, &ol) || t1 != 0x06 ||
        !der_tlv(&q, qe, &t2, &dig, &dl) || t2 != 0x04 || q != qe) {
      return 0;
    }
    count++;
    if (ol == sizeof(kSha384OidBody) &&
        memcmp(oid, kSha384OidBody, ol) == 0) {
      if (dl != sizeof(out->fwid) || out->has_fwid) {
        return 0; /* a short digest, or two SHA-384 FWIDs: ambiguous */
      }
      memcpy(out->fwid, dig, dl);
      out->has_fwid = 1;
    }
  }
  return count >= 1; /* SIZE (1..MAX) */
}

static int parse_flags(const uint8_t *v, size_t n, uint32_t *out) {
  /* BIT STRING: unused-bit count, then the bits, first bit the MSB. */
  if (n == 0 || v[0] > 7 || (n == 1 && v[0] != 0)) {
    return 0;
  }
  uint32_t f = 0;
  for (size_t i = 1; i < n; i++) {
    for (unsigned b = 0; b < 8; b++) {
      size_t bit = (i - 1) * 8u + b;
      if ((v[i] & (0x80u >> b)) && bit < 32) {
        f |= 1u << bit;
      }
    }
  }
  *out = f;
  return 1;
}

rot_error_t attest_dice_tcbinfo_parse(const uint8_t *p, size_t len,
                                      attest_dice_tcb_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  const uint8_t *end = p + len, *body;
  size_t blen;
  uint8_t tag;
  if (p == NULL || !der_tlv(&p, end, &tag, &body, &blen) || tag != 0x30 ||
      p != end) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  const uint8_t *q = body, *qe = body + blen;
  int last = -1;
  int ok = 1;
  while (ok && q < qe) {
    const uint8_t *v;
    size_t vl;
    if (!der_tlv(&q, qe, &tag, &v, &vl) || (tag & 0xc0u) != 0x80u) {
      ok = 0;
      break;
    }
    int num = tag & 0x1f;
    int constructed = (tag & 0x20u) != 0;
    if (num <= last) {
      ok = 0; /* out of order, or repeated */
      break;
    }
    last = num;
    switch (num) {
      case 0: ok = !constructed && der_str(v, vl, out->vendor, sizeof(out->vendor)); break;
      case 1: ok = !constructed && der_str(v, vl, out->model, sizeof(out->model)); break;
      case 2: ok = !constructed && der_str(v, vl, out->version, sizeof(out->version)); break;
      case 3:
        ok = !constructed && der_u32(v, vl, &out->svn);
        out->has_svn = ok;
        break;
      case 4:
      case 5: {
        uint32_t ignored;
        ok = !constructed && der_u32(v, vl, &ignored);
        break;
      }
      case 6: ok = constructed && parse_fwids(v, vl, out); break;
      case 7:
        ok = !constructed && parse_flags(v, vl, &out->flags);
        out->has_flags = ok;
        break;
      default: break; /* vendorInfo, type, flagsMask, ...: not used */
    }
  }
  if (!ok) {
    memset(out, 0, sizeof(*out));
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  return ROT_OK;
}

rot_error_t attest_dice_tcb_from_exts(const uint8_t *p, size_t len, int *found,
                                      attest_dice_tcb_t *out) {
  if (found == NULL || out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *found = 0;
  memset(out, 0, sizeof(*out));
  if (len == 0) {
    return ROT_OK;
  }
  const uint8_t *end = p + len, *v;
  size_t vl;
  uint8_t tag;
  if (!der_tlv(&p, end, &tag, &v, &vl) || p != end) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  if (tag == 0xa3) { /* [3] EXPLICIT Extensions */
    p = v;
    end = v + vl;
    if (!der_tlv(&p, end, &tag, &v, &vl) || p != end) {
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
  }
  if (tag != 0x30) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  const uint8_t *q = v, *qe = v + vl, *val = NULL;
  size_t val_len = 0;
  while (q < qe) {
    const uint8_t *e, *oid, *x;
    size_t el, ol, xl;
    uint8_t t;
    if (!der_tlv(&q, qe, &t, &e, &el) || t != 0x30) {
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
    const uint8_t *r = e, *re = e + el;
    if (!der_tlv(&r, re, &t, &oid, &ol) || t != 0x06 ||
        !der_tlv(&r, re, &t, &x, &xl)) {
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
    if (t == 0x01 && !der_tlv(&r, re, &t, &x, &xl)) { /* critical */
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
    if (t != 0x04 || r != re) {
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
    if (ol == sizeof(kTcbInfoOid) && memcmp(oid, kTcbInfoOid, ol) == 0) {
      if (val != NULL) {
        return ROT_ERROR_ATTEST_BAD_EVIDENCE; /* twice: which one? */
      }
      val = x;
      val_len = xl;
    }
  }
  if (val == NULL) {
    return ROT_OK;
  }
  rot_error_t err = attest_dice_tcbinfo_parse(val, val_len, out);
  *found = err == ROT_OK;
  return err;
}

rot_error_t attest_dice_tcb_from_cert(const uint8_t *der, size_t len,
                                      int *found, attest_dice_tcb_t *out) {
  if (found == NULL || out == NULL || (der == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *found = 0;
  memset(out, 0, sizeof(*out));
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  rot_error_t err = ROT_ERROR_ATTEST_BAD_EVIDENCE;
  if (len != 0 && mbedtls_x509_crt_parse_der(&crt, der, len) == 0) {
    err = attest_dice_tcb_from_exts(crt.v3_ext.p, crt.v3_ext.len, found, out);
  }
  mbedtls_x509_crt_free(&crt);
  return err;
}
