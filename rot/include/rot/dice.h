/*
 * DICE: the chip's identity, derived from its unique device secret (UDS,
 * in OTP) and the measurement of the RoT firmware the boot ROM stage
 * verified at reset.
 *
 * The derivation follows the Open Profile for DICE, with SHA-384 in place
 * of SHA-512 (the chip's keys are P-384):
 *
 *   input  = code (64) || config (64) || authority (64) || mode (1) || hidden (64)
 *   CDI    = HKDF-SHA-384(ikm = UDS, salt = SHA-384(input), info = "CDI_Attest")
 *
 * where each 64-byte field holds a SHA-384 value in its first 48 bytes and
 * zeros after it:
 *   code      SHA-384(header || key manifest) of the verified RoT firmware
 *             image: covers the payload digest, version, SVN, type, load
 *             address, so any of them changing changes the CDI;
 *   config    inline: "rot-stack lifecycle" descriptor, the lifecycle as a
 *             little-endian u32 (see rot_dice_inputs);
 *   authority SHA-384 of the signing key's public key (X || Y);
 *   mode      1 normal (production lifecycle), 2 debug (dev), 0 otherwise;
 *   hidden    zeros.
 *
 * Keys (deterministic, rot_dice_derive_key): DeviceID from the UDS alone,
 * Alias from the CDI. Neither the UDS nor the CDI nor a private key ever
 * leaves this module's callers in the core.
 *
 * Encoders here take trusted inputs (the verified image, the fuses) except
 * rot_dice_endorse_req_parse, which parses the ENDORSE request.
 */
#ifndef ROT_DICE_H
#define ROT_DICE_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/image.h"

#define ROT_DICE_CDI_LEN 48u
#define ROT_DICE_FIELD_LEN 64u
#define ROT_DICE_INPUT_LEN (4u * ROT_DICE_FIELD_LEN + 1u)

/* Open DICE modes. */
#define ROT_DICE_MODE_NOT_CONFIGURED 0u
#define ROT_DICE_MODE_NORMAL 1u
#define ROT_DICE_MODE_DEBUG 2u
#define ROT_DICE_MODE_MAINTENANCE 3u

/* TCG DiceTcbInfo extension, OID 2.23.133.5.4.1 (DER body of the OID). */
#define ROT_DICE_TCBINFO_OID "\x67\x81\x05\x05\x04\x01"
#define ROT_DICE_TCBINFO_OID_LEN 6u
#define ROT_DICE_TCBINFO_MAX 256u
#define ROT_DICE_VENDOR "rot-stack"
#define ROT_DICE_MODEL "rot-chip"

/* ENDORSE (see docs/mailbox.md). */
#define ROT_DICE_ENDORSE_LABEL "rot-stack ak endorsement v1"
#define ROT_DICE_ENDORSE_LABEL_LEN 27u
#define ROT_DICE_STATEMENT_LEN (ROT_DICE_ENDORSE_LABEL_LEN + 1u + 2u * ROT_SHA384_LEN)
#define ROT_DICE_AK_PUBLIC_MAX 1024u
#define ROT_DICE_ENDORSE_REQ_MIN (ROT_SHA384_LEN + 2u + 1u)
#define ROT_DICE_ENDORSE_REQ_MAX (ROT_SHA384_LEN + ROT_DICE_AK_PUBLIC_MAX)

/* What the ROM stage measured: the inputs of the CDI. */
typedef struct rot_dice_inputs {
  uint8_t code[ROT_DICE_FIELD_LEN];
  uint8_t config[ROT_DICE_FIELD_LEN];
  uint8_t authority[ROT_DICE_FIELD_LEN];
  uint8_t mode;
  uint8_t hidden[ROT_DICE_FIELD_LEN];
} rot_dice_inputs_t;

/** The DICE mode of a lifecycle: normal in production, debug in dev. */
uint8_t rot_dice_mode(uint32_t lifecycle);

/**
 * Fill the inputs from a verified RoT firmware image (its token is
 * checked: code = its signed digest, authority = the SHA-384 of the key
 * that signed it, as the verification recorded it) and the lifecycle.
 */
ROT_WARN_UNUSED rot_error_t rot_dice_inputs(const rot_verified_image_t *v,
                                            uint32_t lifecycle,
                                            rot_dice_inputs_t *out);

/** CDI = HKDF-SHA-384(UDS, SHA-384(inputs), "CDI_Attest"). */
ROT_WARN_UNUSED rot_error_t rot_dice_cdi(const rot_crypto_t *c,
                                         const uint8_t *uds, size_t uds_len,
                                         const rot_dice_inputs_t *in,
                                         uint8_t cdi[ROT_DICE_CDI_LEN]);

/**
 * A deterministic P-384 key pair from a secret (the UDS for DeviceID, the
 * CDI for Alias): HKDF-SHA-384(secret, salt, "Key Pair" || counter),
 * the first output in [1, n-1] taken (rejection sampling).
 */
ROT_WARN_UNUSED rot_error_t rot_dice_derive_key(
    const rot_crypto_t *c, const uint8_t *secret, size_t secret_len,
    uint8_t priv[ROT_P384_SCALAR_LEN], uint8_t pub[ROT_P384_PUBKEY_LEN]);

/**
 * A certificate serial number and name suffix from a public key:
 * HKDF-SHA-384(pub, "ID"), 20 bytes, top bit cleared (a positive INTEGER).
 */
ROT_WARN_UNUSED rot_error_t rot_dice_key_id(const rot_crypto_t *c,
                                            const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                            uint8_t id[20]);

/** What the Alias certificate's DiceTcbInfo says about the RoT firmware. */
typedef struct rot_dice_tcb {
  uint16_t ver_major, ver_minor, ver_patch;
  uint32_t svn;
  uint8_t fwid[ROT_SHA384_LEN]; /* SHA-384 of the firmware payload */
  uint8_t mode;                 /* ROT_DICE_MODE_* */
} rot_dice_tcb_t;

/**
 * DER of the DiceTcbInfo extension value: vendor, model, version "M.m.p",
 * svn, layer 0, fwids {SHA-384}, flags (debug bit in debug mode,
 * notConfigured when not configured). ROT_ERROR_BUFFER_TOO_SMALL when
 * out_cap is too small.
 */
ROT_WARN_UNUSED rot_error_t rot_dice_tcbinfo_encode(const rot_dice_tcb_t *t,
                                                    uint8_t *out, size_t cap,
                                                    size_t *out_len);

/** A parsed ENDORSE request (pointers into the request). */
typedef struct rot_dice_endorse_req {
  const uint8_t *ek_cert_sha384; /* 48 bytes */
  const uint8_t *ak_public;      /* TPM2B_PUBLIC, size prefix included */
  size_t ak_public_len;
} rot_dice_endorse_req_t;

/**
 * Parse an ENDORSE request: 48 bytes, then a TPM2B_PUBLIC whose u16 BE
 * size equals the bytes after it (nonzero), at most
 * ROT_DICE_AK_PUBLIC_MAX bytes in all. ROT_ERROR_MAILBOX_BAD_ARGS otherwise.
 */
ROT_WARN_UNUSED rot_error_t rot_dice_endorse_req_parse(
    const uint8_t *p, size_t len, rot_dice_endorse_req_t *out);

/** The 124-byte statement the Alias key signs for ENDORSE. */
ROT_WARN_UNUSED rot_error_t rot_dice_endorse_statement(
    const rot_crypto_t *c, const rot_dice_endorse_req_t *r,
    uint8_t out[ROT_DICE_STATEMENT_LEN]);

/**
 * A raw signature (r || s) as DER ECDSA-Sig-Value. out needs at most
 * 2 * 51 + 3 = 105 bytes (ROT_DICE_SIG_DER_MAX).
 */
#define ROT_DICE_SIG_DER_MAX 105u
ROT_WARN_UNUSED rot_error_t rot_dice_sig_der(const uint8_t sig[ROT_P384_SIG_LEN],
                                             uint8_t *out, size_t cap,
                                             size_t *out_len);

#endif /* ROT_DICE_H */
