/*
 * libFuzzer target for the host agent's request-parameter and
 * configuration parsers (host-agent/src/params.c). The first byte picks
 * the parser; the rest is the text (NUL-terminated copy, as libmicrohttpd
 * hands query values over).
 *
 * Besides the sanitizers, the target traps when an accepted value breaks
 * the rule it was accepted under: a nonce longer than 64 or not
 * alphanumeric, a mask or PCR list naming a PCR above 23 or none, a hex
 * nonce whose length disagrees with its text, a config key outside
 * [a-z0-9-], a listen port that does not read back, base64 that does not
 * re-encode to its text, a PCR selection or signature scheme that does
 * not marshal back to the bytes it was read from.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "params.h"

static int alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) {
    return 0;
  }
  uint8_t which = data[0];
  char *s = malloc(size);
  CHECK(s != NULL);
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  size_t slen = strlen(s);

  switch (which % 11) {
    case 0: {
      char out[HA_NONCE_MAX + 1];
      if (ha_param_nonce(s, out) == ROT_OK) {
        size_t n = strlen(out);
        CHECK(n >= 1 && n <= HA_NONCE_MAX && n == slen);
        for (size_t i = 0; i < n; i++) {
          CHECK(alnum(out[i]));
        }
      }
      break;
    }
    case 1: {
      uint8_t out[64];
      size_t n = 0;
      if (ha_param_hex_nonce(s, out, sizeof(out), &n) == ROT_OK) {
        CHECK(n >= 1 && n <= sizeof(out) && 2 * n == slen);
      }
      break;
    }
    case 2: {
      uint32_t m = 0;
      if (ha_param_mask(s, &m) == ROT_OK) {
        CHECK(m != 0 && (m & ~HA_PCR_ALL_MASK) == 0);
      }
      break;
    }
    case 3: {
      uint32_t m = 0;
      if (ha_param_pcr_list(s, &m) == ROT_OK) {
        CHECK(m != 0 && (m & ~HA_PCR_ALL_MASK) == 0);
        /* One index per comma-separated item, no repeats. */
        size_t items = 1;
        for (size_t i = 0; i < slen; i++) {
          items += s[i] == ',';
        }
        CHECK((size_t)__builtin_popcount(m) == items);
      }
      break;
    }
    case 4: {
      int v = -1;
      if (ha_param_bool01(s, &v) == ROT_OK) {
        CHECK((v == 0 || v == 1) && slen == 1);
      }
      break;
    }
    case 5: {
      char *key = NULL;
      char *value = NULL;
      if (ha_config_line(s, &key, &value) == ROT_OK && key != NULL) {
        CHECK(value != NULL);
        size_t kl = strlen(key);
        CHECK(kl >= 1 && kl <= 32);
        for (size_t i = 0; i < kl; i++) {
          CHECK((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
                key[i] == '-');
        }
      }
      break;
    }
    case 6: {
      char host[64];
      uint16_t port = 0;
      if (ha_param_listen(s, host, sizeof(host), &port) == ROT_OK) {
        CHECK(strlen(host) >= 1 && strlen(host) < sizeof(host));
        char back[16];
        snprintf(back, sizeof(back), ":%u", port);
        /* The text ends with the port it parsed (leading zeros aside). */
        CHECK(strrchr(s, ':') != NULL);
        CHECK((uint32_t)atoi(strrchr(s, ':') + 1) == port);
      }
      break;
    }
    case 8: {
      uint8_t out[96];
      size_t n = 0;
      if (ha_param_b64(s, out, sizeof(out), &n) == ROT_OK) {
        /* Canonical: encoding the bytes gives the text back. */
        static const char k[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char back[4 * (sizeof(out) / 3 + 1) + 1];
        size_t o = 0;
        for (size_t i = 0; i < n; i += 3) {
          uint32_t w = (uint32_t)out[i] << 16;
          w |= i + 1 < n ? (uint32_t)out[i + 1] << 8 : 0;
          w |= i + 2 < n ? out[i + 2] : 0;
          back[o++] = k[(w >> 18) & 63];
          back[o++] = k[(w >> 12) & 63];
          back[o++] = i + 1 < n ? k[(w >> 6) & 63] : '=';
          back[o++] = i + 2 < n ? k[w & 63] : '=';
        }
        back[o] = '\0';
        CHECK(n >= 1 && n <= sizeof(out) && strcmp(back, s) == 0);
      }
      break;
    }
    case 9: {
      uint16_t banks[HA_PCR_SELECTION_MAX_BANKS];
      size_t nb = 0;
      uint32_t m = 0;
      const uint8_t *b = data + 1;
      size_t blen = size - 1;
      if (ha_param_pcr_selection(b, blen, banks, HA_PCR_SELECTION_MAX_BANKS, &nb,
                                 &m) == ROT_OK) {
        CHECK(nb >= 1 && nb <= HA_PCR_SELECTION_MAX_BANKS);
        CHECK(m != 0 && (m & ~HA_PCR_ALL_MASK) == 0);
        /* Every byte was read: count, then (hash, size, select) each. */
        size_t want = 4;
        size_t off = 4;
        for (size_t i = 0; i < nb; i++) {
          CHECK(((uint16_t)((b[off] << 8) | b[off + 1])) == banks[i]);
          want += 3u + b[off + 2];
          off += 3u + b[off + 2];
        }
        CHECK(want == blen);
      }
      break;
    }
    case 10: {
      uint16_t scheme = 0, hash = 0;
      if (ha_param_sig_scheme(data + 1, size - 1, &scheme, &hash) == ROT_OK) {
        CHECK((scheme == HA_TPM_ALG_NULL && size - 1 == 2) ||
              (scheme != HA_TPM_ALG_NULL && size - 1 == 4 &&
               hash == (uint16_t)((data[3] << 8) | data[4])));
      }
      break;
    }
    default:
      if (ha_param_id(s, slen) == ROT_OK) {
        CHECK(slen >= 1 && slen <= 32);
      }
      break;
  }
  free(s);
  return 0;
}
