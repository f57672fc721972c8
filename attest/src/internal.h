/*
 * Helpers shared by the attest sources (private to attest/src).
 */
#ifndef ATTEST_INTERNAL_H
#define ATTEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "attest/evidence.h"
#include "rot/error.h"

/* Hex: lower case out; in accepts either case, even length only. */
char *attest_hex(const uint8_t *p, size_t len); /* malloc'd, NULL on OOM */
ROT_WARN_UNUSED rot_error_t attest_unhex(const char *s, uint8_t *out,
                                         size_t cap, size_t *len);

/* Base64 (RFC 4648, padded) of p into a malloc'd string. */
char *attest_b64(const uint8_t *p, size_t len);
/* Decode into a malloc'd buffer; at most max bytes. */
ROT_WARN_UNUSED rot_error_t attest_unb64(const char *s, size_t max,
                                         attest_buf_t *out);

/* Read a whole file (at most max bytes) into a malloc'd buffer. */
ROT_WARN_UNUSED rot_error_t attest_read_file(const char *path, size_t max,
                                             attest_buf_t *out);
/* Copy len bytes into a fresh buffer. */
ROT_WARN_UNUSED rot_error_t attest_buf_set(attest_buf_t *b, const void *p,
                                           size_t len);
void attest_buf_free(attest_buf_t *b);

static inline uint16_t attest_be16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
static inline void attest_put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* A document the verifier reads (evidence, reference values): json, len
 * bytes, parsed with json-c's strict mode, nesting at most depth deep, only
 * whitespace after it. 0 with *root set (the caller puts it); 1 when it is
 * not that, why saying how; -1 out of memory. */
struct json_object;
int attest_json_strict(const char *json, size_t len, int depth,
                       struct json_object **root, char *why, size_t cap);

/* Trust anchors (x509.c). */
#include <mbedtls/x509_crt.h>
#include "attest/verify.h"
hardened_bool_t attest_trust_check_ek(const attest_trust_t *t,
                                      const uint8_t *der, size_t len,
                                      char *reason, size_t cap);
const mbedtls_x509_crt *attest_trust_dice(const attest_trust_t *t);

#endif /* ATTEST_INTERNAL_H */
