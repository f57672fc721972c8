/* Request-parameter and configuration parsers (see params.h). */
#include "params.h"

#include <string.h>

static int is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

static int hex_val(unsigned char c) {
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

/* strlen that stops looking past max: long inputs cost no more. */
static size_t bounded_len(const char *s, size_t max) {
  size_t n = 0;
  while (n <= max && s[n] != '\0') {
    n++;
  }
  return n;
}

rot_error_t ha_param_nonce(const char *s, char out[HA_NONCE_MAX + 1]) {
  if (s == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t n = bounded_len(s, HA_NONCE_MAX);
  if (n == 0 || n > HA_NONCE_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < n; i++) {
    if (!is_alnum((unsigned char)s[i])) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
  }
  memcpy(out, s, n);
  out[n] = '\0';
  return ROT_OK;
}

rot_error_t ha_param_hex_nonce(const char *s, uint8_t *out, size_t max_bytes,
                               size_t *out_len) {
  if (s == NULL || out == NULL || out_len == NULL || max_bytes == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t n = bounded_len(s, 2 * max_bytes);
  if (n == 0 || n > 2 * max_bytes || n % 2 != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < n; i += 2) {
    int hi = hex_val((unsigned char)s[i]);
    int lo = hex_val((unsigned char)s[i + 1]);
    if (hi < 0 || lo < 0) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  *out_len = n / 2;
  return ROT_OK;
}

rot_error_t ha_param_mask(const char *s, uint32_t *mask) {
  if (s == NULL || mask == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
  }
  size_t n = bounded_len(s, 8);
  if (n == 0 || n > 8) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint32_t v = 0;
  for (size_t i = 0; i < n; i++) {
    int d = hex_val((unsigned char)s[i]);
    if (d < 0) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    v = v << 4 | (uint32_t)d;
  }
  if (v == 0 || (v & ~HA_PCR_ALL_MASK) != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *mask = v;
  return ROT_OK;
}

rot_error_t ha_param_pcr_list(const char *s, uint32_t *mask) {
  if (s == NULL || mask == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t n = bounded_len(s, 64);
  if (n == 0 || n > 64) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint32_t m = 0;
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    uint32_t v = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      v = v * 10u + (uint32_t)(s[i] - '0');
      i++;
      if (i - start > 2) {
        return ROT_ERROR_INVALID_ARGUMENT;
      }
    }
    size_t digits = i - start;
    if (digits == 0 || (digits == 2 && s[start] == '0') || v > HA_PCR_MAX ||
        (m & (1u << v)) != 0) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    m |= 1u << v;
    if (i == n) {
      break;
    }
    if (s[i] != ',' || i + 1 == n) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    i++;
  }
  *mask = m;
  return ROT_OK;
}

rot_error_t ha_param_bool01(const char *s, int *out) {
  if (s == NULL || out == NULL || (s[0] != '0' && s[0] != '1') ||
      s[1] != '\0') {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = s[0] == '1';
  return ROT_OK;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

rot_error_t ha_config_line(char *line, char **key, char **value) {
  if (line == NULL || key == NULL || value == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *key = NULL;
  *value = NULL;
  size_t n = bounded_len(line, 4096);
  if (n > 4096) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  while (n > 0 && is_blank(line[n - 1])) {
    line[--n] = '\0';
  }
  char *p = line;
  while (is_blank(*p)) {
    p++;
  }
  if (*p == '\0' || *p == '#') {
    return ROT_OK;
  }
  for (char *q = p; *q != '\0'; q++) {
    unsigned char c = (unsigned char)*q;
    if ((c < 0x20 && c != '\t') || c >= 0x7f) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
  }
  char *eq = strchr(p, '=');
  if (eq == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  char *kend = eq;
  while (kend > p && is_blank(kend[-1])) {
    kend--;
  }
  size_t klen = (size_t)(kend - p);
  if (klen == 0 || klen > 32) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < klen; i++) {
    char c = p[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
  }
  *kend = '\0';
  char *v = eq + 1;
  while (is_blank(*v)) {
    v++;
  }
  *key = p;
  *value = v;
  return ROT_OK;
}

rot_error_t ha_param_listen(const char *s, char *host, size_t cap,
                            uint16_t *port) {
  if (s == NULL || host == NULL || port == NULL || cap == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t n = bounded_len(s, 128);
  if (n == 0 || n > 128) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const char *colon;
  const char *h = s;
  size_t hlen;
  if (s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (close == NULL || close[1] != ':') {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    h = s + 1;
    hlen = (size_t)(close - h);
    colon = close + 1;
    for (size_t i = 0; i < hlen; i++) {
      if (hex_val((unsigned char)h[i]) < 0 && h[i] != ':') {
        return ROT_ERROR_INVALID_ARGUMENT;
      }
    }
  } else {
    colon = strrchr(s, ':');
    if (colon == NULL) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    hlen = (size_t)(colon - s);
    for (size_t i = 0; i < hlen; i++) {
      if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
        return ROT_ERROR_INVALID_ARGUMENT;
      }
    }
  }
  if (hlen == 0 || hlen + 1 > cap) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const char *ps = colon + 1;
  size_t plen = strlen(ps);
  if (plen == 0 || plen > 5) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint32_t v = 0;
  for (size_t i = 0; i < plen; i++) {
    if (ps[i] < '0' || ps[i] > '9') {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    v = v * 10u + (uint32_t)(ps[i] - '0');
  }
  if (v > 65535u) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  *port = (uint16_t)v;
  return ROT_OK;
}

rot_error_t ha_param_id(const char *s, size_t len) {
  if (s == NULL || len == 0 || len > 32) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
  }
  return ROT_OK;
}
