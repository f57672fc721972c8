/*
 * Encodings and buffers for the attest library.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mbedtls/base64.h>

char *attest_hex(const uint8_t *p, size_t len) {
  static const char digits[] = "0123456789abcdef";
  if (len > (SIZE_MAX - 1) / 2) {
    return NULL;
  }
  char *s = malloc(2 * len + 1);
  if (s == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < len; i++) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 15];
  }
  s[2 * len] = '\0';
  return s;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

rot_error_t attest_unhex(const char *s, uint8_t *out, size_t cap,
                         size_t *len) {
  if (s == NULL || len == NULL || (out == NULL && cap != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t n = strlen(s);
  if (n % 2 != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (n / 2 > cap) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(s[2 * i]);
    int lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  *len = n / 2;
  return ROT_OK;
}

/* Table-driven: everything encoded here (evidence, quotes) is public, so
 * it needs no constant-time encoder, and this one is several times faster
 * than mbedTLS's, which the agent's batched answers spend their time in. */
char *attest_b64(const uint8_t *p, size_t len) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (len > SIZE_MAX / 2 || (p == NULL && len != 0)) {
    return NULL;
  }
  size_t cap = 4 * ((len + 2) / 3) + 1;
  char *s = malloc(cap);
  if (s == NULL) {
    return NULL;
  }
  char *o = s;
  size_t i = 0;
  for (; len - i >= 3; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *o++ = tab[v >> 18];
    *o++ = tab[(v >> 12) & 63];
    *o++ = tab[(v >> 6) & 63];
    *o++ = tab[v & 63];
  }
  if (len - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    *o++ = tab[v >> 18];
    *o++ = tab[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (len - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    *o++ = tab[v >> 18];
    *o++ = tab[(v >> 12) & 63];
    *o++ = tab[(v >> 6) & 63];
    *o++ = '=';
  }
  *o = '\0';
  return s;
}

rot_error_t attest_unb64(const char *s, size_t max, attest_buf_t *out) {
  size_t olen = 0;
  size_t n = strlen(s);
  out->p = NULL;
  out->len = 0;
  /* mbedTLS skips whitespace and line breaks; evidence has none. */
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
      return ROT_ERROR_ATTEST_BAD_EVIDENCE;
    }
  }
  int rc = mbedtls_base64_decode(NULL, 0, &olen, (const unsigned char *)s, n);
  if (rc != 0 && rc != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  if (olen > max) {
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  uint8_t *p = malloc(olen > 0 ? olen : 1);
  if (p == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  if (mbedtls_base64_decode(p, olen, &olen, (const unsigned char *)s, n) !=
      0) {
    free(p);
    return ROT_ERROR_ATTEST_BAD_EVIDENCE;
  }
  out->p = p;
  out->len = olen;
  return ROT_OK;
}

rot_error_t attest_read_file(const char *path, size_t max, attest_buf_t *out) {
  out->p = NULL;
  out->len = 0;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return errno == ENOENT ? ROT_ERROR_IO_OPEN : ROT_ERROR_IO_READ;
  }
  size_t cap = 4096;
  size_t len = 0;
  uint8_t *p = malloc(cap);
  rot_error_t err = ROT_OK;
  while (p != NULL) {
    if (len == cap) {
      if (cap > max) {
        err = ROT_ERROR_IO_TOO_LARGE;
        break;
      }
      uint8_t *q = realloc(p, cap * 2);
      if (q == NULL) {
        err = ROT_ERROR_INTERNAL;
        break;
      }
      p = q;
      cap *= 2;
    }
    size_t got = fread(p + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) {
        err = ROT_ERROR_IO_READ;
      }
      break;
    }
  }
  fclose(f);
  if (p == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  if (err == ROT_OK && len > max) {
    err = ROT_ERROR_IO_TOO_LARGE;
  }
  if (err != ROT_OK) {
    free(p);
    return err;
  }
  out->p = p;
  out->len = len;
  return ROT_OK;
}

rot_error_t attest_buf_set(attest_buf_t *b, const void *p, size_t len) {
  b->p = malloc(len > 0 ? len : 1);
  b->len = 0;
  if (b->p == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  if (len > 0) {
    memcpy(b->p, p, len);
  }
  b->len = len;
  return ROT_OK;
}

void attest_buf_free(attest_buf_t *b) {
  if (b != NULL) {
    free(b->p);
    b->p = NULL;
    b->len = 0;
  }
}

int attest_json_strict(const char *json, size_t len, int depth,
                       json_object **root, char *why, size_t cap) {
  *root = NULL;
  json_tokener *tok = json_tokener_new_ex(depth);
  if (tok == NULL) {
    return -1;
  }
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *o = json_tokener_parse_ex(tok, json, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t used = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (o == NULL || jerr != json_tokener_success) {
    json_object_put(o);
    snprintf(why, cap, "not JSON: %s", json_tokener_error_desc(jerr));
    return 1;
  }
  for (size_t i = used; i < len; i++) {
    if (json[i] != ' ' && json[i] != '\n' && json[i] != '\r' && json[i] != '\t') {
      json_object_put(o);
      snprintf(why, cap, "bytes after the JSON object");
      return 1;
    }
  }
  *root = o;
  return 0;
}
