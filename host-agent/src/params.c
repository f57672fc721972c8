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

static int b64_val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

rot_error_t ha_param_b64(const char *s, uint8_t *out, size_t cap, size_t *out_len) {
  if (s == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t max_text = 4 * ((cap + 2) / 3);
  size_t n = bounded_len(s, max_text);
  if (n == 0 || n > max_text || n % 4 != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      unsigned char c = (unsigned char)s[i + (size_t)k];
      if (c == '=' && i + 4 == n && k >= 2) {
        v[k] = 0;
        pad++;
        continue;
      }
      if (pad != 0) {
        return ROT_ERROR_INVALID_ARGUMENT; /* data after '=' */
      }
      v[k] = b64_val(c);
      if (v[k] < 0) {
        return ROT_ERROR_INVALID_ARGUMENT;
      }
    }
    uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
                 ((uint32_t)v[2] << 6) | (uint32_t)v[3];
    size_t take = 3u - (size_t)pad;
    /* Canonical form only: the bits a padded group drops are zero. */
    if ((pad == 1 && (w & 0xffu) != 0) || (pad == 2 && (w & 0xffffu) != 0)) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    if (take > cap - o) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    uint8_t b[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
    memcpy(out + o, b, take);
    o += take;
  }
  *out_len = o;
  return ROT_OK;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

rot_error_t ha_param_pcr_selection(const uint8_t *p, size_t len, uint16_t *banks,
                                   size_t cap, size_t *nbanks, uint32_t *mask) {
  if (p == NULL || banks == NULL || nbanks == NULL || mask == NULL || cap == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len < 4) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint32_t count = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                   ((uint32_t)p[2] << 8) | p[3];
  if (count == 0 || count > cap || count > HA_PCR_SELECTION_MAX_BANKS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t off = 4;
  uint32_t first = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (len - off < 3) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    uint16_t hash = get16(p + off);
    uint8_t size = p[off + 2];
    off += 3;
    /* TPM2's PCR_SELECT_MAX is 4 bytes (32 PCRs); a PC Client TPM has 24. */
    if (size == 0 || size > 4 || len - off < size) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    uint32_t m = 0;
    for (uint8_t k = 0; k < size; k++) {
      m |= (uint32_t)p[off + k] << (8u * k);
    }
    off += size;
    if (m == 0 || (m & ~HA_PCR_ALL_MASK) != 0) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    if (i == 0) {
      first = m;
    } else if (m != first) {
      return ROT_ERROR_INVALID_ARGUMENT; /* one selection for every bank */
    }
    for (uint32_t j = 0; j < i; j++) {
      if (banks[j] == hash) {
        return ROT_ERROR_INVALID_ARGUMENT; /* a bank twice */
      }
    }
    banks[i] = hash;
  }
  if (off != len) {
    return ROT_ERROR_INVALID_ARGUMENT; /* trailing bytes */
  }
  *nbanks = count;
  *mask = first;
  return ROT_OK;
}

rot_error_t ha_param_sig_scheme(const uint8_t *p, size_t len, uint16_t *scheme,
                                uint16_t *hash) {
  if (p == NULL || scheme == NULL || hash == NULL || len < 2) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint16_t s = get16(p);
  if (s == HA_TPM_ALG_NULL) {
    if (len != 2) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    *scheme = s;
    *hash = HA_TPM_ALG_NULL;
    return ROT_OK;
  }
  /* The signature schemes whose details are one hash algorithm
   * (TPMS_SCHEME_HASH): RSASSA, RSAPSS, ECDSA, SM2, ECSCHNORR. ECDAA
   * carries a count too and is not a quote scheme here. */
  if (s != 0x0014 && s != 0x0016 && s != 0x0018 && s != 0x001b && s != 0x001c) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len != 4) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *scheme = s;
  *hash = get16(p + 2);
  return ROT_OK;
}
