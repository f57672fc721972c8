/*
 * Signing signed images and key manifests (format: rot/image.h). Host
 * tools only: the chip verifies, it never signs, so this code stays out
 * of the freestanding core.
 */
#ifndef ROT_CLIENT_IMAGE_SIGN_H
#define ROT_CLIENT_IMAGE_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/image.h"

/**
 * Build a root-signed key manifest. keys[i] must have index < ROT_MAX_KEY_INDEX.
 * Writes ROT_MANIFEST_SIZE(n) bytes to out; the root signature is in the
 * canonical low-S form whatever the backend returned.
 */
ROT_WARN_UNUSED rot_error_t rot_manifest_build(
    const rot_crypto_t *c, const uint8_t root_priv[ROT_P384_SCALAR_LEN],
    const rot_manifest_entry_t *keys, size_t n, uint8_t *out, size_t out_cap,
    size_t *out_len);

/**
 * Sign a payload into an image. hdr supplies type, flags, version, svn,
 * key_index, load_addr and entry_point; every other header field is filled
 * in, and the header must pass rot_image_header_parse (alignment included).
 * The signature is in the canonical low-S form whatever the backend
 * returned. out_cap must hold rot_image_expected_len of the result.
 */
ROT_WARN_UNUSED rot_error_t rot_image_sign(
    const rot_crypto_t *c, const rot_image_header_t *hdr,
    const uint8_t *manifest, size_t manifest_len,
    const uint8_t signer_priv[ROT_P384_SCALAR_LEN], const uint8_t *payload,
    size_t payload_len, uint8_t *out, size_t out_cap, size_t *out_len);

#endif /* ROT_CLIENT_IMAGE_SIGN_H */
