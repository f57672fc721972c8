/* Strict number parsing for command-line arguments. */
#include "rot_client/parse.h"

#include <stddef.h>

/* Value of c as a digit in base, or -1. Locale-free on purpose. */
static int digit_value(char c, unsigned base) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (base == 16 && c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (base == 16 && c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

rot_error_t rot_parse_uint(const char *s, rot_parse_base_t base, uint64_t max,
                           uint64_t *out) {
  if (s == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  unsigned radix = 10;
  if (base == ROT_PARSE_DEC_OR_HEX && s[0] == '0' &&
      (s[1] == 'x' || s[1] == 'X')) {
    radix = 16;
    s += 2;
  }
  if (*s == '\0') {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint64_t v = 0;
  for (; *s != '\0'; s++) {
    int d = digit_value(*s, radix);
    if (d < 0) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    /* Checked before the step, so the value never wraps. */
    if (v > (UINT64_MAX - (uint64_t)d) / radix) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    v = v * radix + (uint64_t)d;
  }
  if (v > max) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = v;
  return ROT_OK;
}
