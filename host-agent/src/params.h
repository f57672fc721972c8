/*
 * Request-parameter and configuration parsers of the host agent. Pure
 * functions over untrusted text: every input is bounded, every result is
 * either fully valid or an error naming what is wrong. A libFuzzer target
 * (tests/fuzz/fuzz_agent_params.c) drives each of them.
 */
#ifndef HOST_AGENT_PARAMS_H
#define HOST_AGENT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

/* Keylime's rule: a nonce is alphanumeric, at most 64 characters. */
#define HA_NONCE_MAX 64u
/* PCR indexes a TPM 2.0 PC Client profile has: 0..23. */
#define HA_PCR_MAX 23u
#define HA_PCR_ALL_MASK 0x00ffffffu

/**
 * A Keylime nonce: 1..HA_NONCE_MAX characters of [A-Za-z0-9]. Copies it,
 * NUL terminated, into out (HA_NONCE_MAX + 1 bytes).
 * Errors: INVALID_ARGUMENT (NULL, empty, too long, another character).
 */
ROT_WARN_UNUSED rot_error_t ha_param_nonce(const char *s,
                                           char out[HA_NONCE_MAX + 1]);

/**
 * A hexadecimal nonce of the native API: an even number of hex digits,
 * 2..2*max_bytes, decoded into out. Errors: INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t ha_param_hex_nonce(const char *s, uint8_t *out,
                                               size_t max_bytes,
                                               size_t *out_len);

/**
 * A Keylime PCR mask: "0x" (or "0X") optional, then 1..8 hex digits, no
 * bit above PCR 23 set, not zero. Errors: INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t ha_param_mask(const char *s, uint32_t *mask);

/**
 * A PCR list: decimal indexes 0..23 separated by commas ("0,1,4,5,7"),
 * no empty item, no leading zeros beyond "0", no repeats, at most 64
 * characters. Errors: INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t ha_param_pcr_list(const char *s, uint32_t *mask);

/** "0" or "1". Errors: INVALID_ARGUMENT. */
ROT_WARN_UNUSED rot_error_t ha_param_bool01(const char *s, int *out);

/**
 * One line of the configuration file, edited in place: leading and
 * trailing blanks dropped, "#" starts a comment (whole line only), else
 * "key = value" with key [a-z0-9-]{1,32} and a value of printable ASCII
 * (may be empty). *key / *value point into line, or are NULL for a blank
 * or comment line. Errors: INVALID_ARGUMENT (no "=", bad key, a control
 * character, a line over 4096 bytes).
 */
ROT_WARN_UNUSED rot_error_t ha_config_line(char *line, char **key,
                                           char **value);

/**
 * A listen address "HOST:PORT" (IPv4 dotted quad, or "[::1]"-style IPv6
 * in brackets; PORT 0..65535, 0: chosen by the kernel) copied into host
 * (cap bytes, NUL terminated) and *port. Errors: INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t ha_param_listen(const char *s, char *host,
                                            size_t cap, uint16_t *port);

/**
 * A Redfish resource id taken from a URL segment: 1..32 characters of
 * [A-Za-z0-9_.-]. Errors: INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t ha_param_id(const char *s, size_t len);

/* TPM algorithm ids the Redfish TPM action speaks of. */
#define HA_TPM_ALG_NULL 0x0010u
#define HA_TPM_ALG_ECDSA 0x0018u
/* TPMS_PCR_SELECTION entries accepted in one TPML_PCR_SELECTION. */
#define HA_PCR_SELECTION_MAX_BANKS 4u

/**
 * Base64 (RFC 4648, with padding, canonical: the bits padding drops are
 * zero, no whitespace) of at most cap decoded bytes into out.
 * Errors: INVALID_ARGUMENT (empty, another character, misplaced '=',
 * a length not a multiple of 4, more than cap bytes).
 */
ROT_WARN_UNUSED rot_error_t ha_param_b64(const char *s, uint8_t *out, size_t cap,
                                         size_t *out_len);

/**
 * A marshalled TPML_PCR_SELECTION (big-endian, TPM 2.0 Part 2): count
 * 1..min(cap, HA_PCR_SELECTION_MAX_BANKS) TPMS_PCR_SELECTIONs, each with
 * sizeofSelect 1..4, the same non-empty selection of PCRs 0..23 in each,
 * no bank twice, no trailing byte. banks[0..*nbanks) get the hash
 * algorithms, *mask the PCRs (bit i: PCR i). Errors: INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t ha_param_pcr_selection(const uint8_t *p, size_t len,
                                                   uint16_t *banks, size_t cap,
                                                   size_t *nbanks,
                                                   uint32_t *mask);

/**
 * A marshalled TPMT_SIG_SCHEME: TPM_ALG_NULL alone (*hash NULL too), or a
 * scheme whose details are one hash (RSASSA, RSAPSS, ECDSA, SM2,
 * ECSCHNORR) and that hash, nothing after. Errors: INVALID_ARGUMENT.
 */
ROT_WARN_UNUSED rot_error_t ha_param_sig_scheme(const uint8_t *p, size_t len,
                                                uint16_t *scheme, uint16_t *hash);

#endif /* HOST_AGENT_PARAMS_H */
