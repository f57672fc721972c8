/* Strict number parsing for command-line arguments (host tools). */
#ifndef ROT_CLIENT_PARSE_H
#define ROT_CLIENT_PARSE_H

#include <stdint.h>

#include "rot/error.h"

/* Which spellings a caller accepts. */
typedef enum {
  ROT_PARSE_DEC = 0,        /* decimal digits only */
  ROT_PARSE_DEC_OR_HEX = 1, /* decimal, or 0x / 0X followed by hex digits */
} rot_parse_base_t;

/**
 * Parse all of s as an unsigned number no greater than max. Unlike strtoul,
 * nothing is skipped or tolerated: no sign, no white space, no suffix, no
 * empty string, no bare "0x", no value that overflows 64 bits.
 * Returns ROT_OK and sets *out, or ROT_ERROR_INVALID_ARGUMENT (s or out
 * NULL, or s not such a number) with *out untouched.
 */
ROT_WARN_UNUSED rot_error_t rot_parse_uint(const char *s, rot_parse_base_t base,
                                           uint64_t max, uint64_t *out);

#endif
