/*
 * Signed firmware image format v1 and its verifier.
 *
 * File layout (all integers little-endian; see docs/image-format.md):
 *
 *   [header: 128 bytes][key manifest: manifest_len][payload: payload_len]
 *   [image signature: 96 bytes]
 *
 * The image signature is ECDSA P-384 by the signing key named in the header
 * over SHA-384(header || key manifest). The header carries SHA-384(payload),
 * so every byte before the signature is covered by it, and nothing may
 * follow it. The key manifest is signed by the root key, whose SHA-384 is
 * fused in OTP.
 */
#ifndef ROT_IMAGE_H
#define ROT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/hardened.h"
#include "rot/policy.h"

#define ROT_IMAGE_MAGIC 0x494f5452u /* "RTOI" read as bytes 52 54 4f 49 */
#define ROT_IMAGE_FORMAT_VERSION 1u
#define ROT_IMAGE_HEADER_SIZE 128u
#define ROT_IMAGE_SIG_SIZE ROT_P384_SIG_LEN
/* Largest payload accepted: the biggest flash slot, 64 MiB. */
#define ROT_IMAGE_MAX_PAYLOAD (64u * 1024u * 1024u)

/*
 * Alignment of load_addr and entry_point. Every stage is entered at its
 * load address and linked 4-byte aligned, so code is held to 4 bytes (the
 * RISC-V base ISA's instruction alignment) for both, even though the C
 * extension would allow 2. A device tree is data: it has no entry point
 * (0) and its load address must be 8-byte aligned, as the devicetree
 * specification requires of a blob in memory.
 */
#define ROT_IMAGE_CODE_ALIGN 4u
#define ROT_IMAGE_DTB_ALIGN 8u

/* Image flags. Unknown bits are rejected. */
#define ROT_IMAGE_FLAG_DEV_ONLY 0x00000001u /* refused unless lifecycle is dev */
#define ROT_IMAGE_FLAGS_KNOWN (ROT_IMAGE_FLAG_DEV_ONLY)

/* Persisted header. Fixed-width little-endian fields; layout pinned below. */
typedef struct rot_image_header {
  uint32_t magic;          /* ROT_IMAGE_MAGIC */
  uint16_t format_version; /* ROT_IMAGE_FORMAT_VERSION */
  uint16_t header_size;    /* ROT_IMAGE_HEADER_SIZE */
  uint32_t image_type;     /* rot_image_type_t */
  uint32_t flags;          /* ROT_IMAGE_FLAG_* */
  uint16_t ver_major;      /* semantic version */
  uint16_t ver_minor;
  uint16_t ver_patch;
  uint16_t reserved0; /* must be 0 */
  uint32_t svn;       /* security version number, <= ROT_SVN_MAX */
  uint32_t key_index; /* signing key, certified by the manifest */
  uint64_t load_addr;
  uint64_t entry_point;
  uint32_t payload_len;
  uint32_t manifest_len;
  uint8_t payload_digest[ROT_SHA384_LEN]; /* SHA-384 of the payload */
  uint8_t reserved1[24];                  /* must be 0 */
} rot_image_header_t;

_Static_assert(sizeof(rot_image_header_t) == ROT_IMAGE_HEADER_SIZE, "header size");
_Static_assert(offsetof(rot_image_header_t, magic) == 0, "magic");
_Static_assert(offsetof(rot_image_header_t, format_version) == 4, "format_version");
_Static_assert(offsetof(rot_image_header_t, header_size) == 6, "header_size");
_Static_assert(offsetof(rot_image_header_t, image_type) == 8, "image_type");
_Static_assert(offsetof(rot_image_header_t, flags) == 12, "flags");
_Static_assert(offsetof(rot_image_header_t, ver_major) == 16, "ver_major");
_Static_assert(offsetof(rot_image_header_t, ver_minor) == 18, "ver_minor");
_Static_assert(offsetof(rot_image_header_t, ver_patch) == 20, "ver_patch");
_Static_assert(offsetof(rot_image_header_t, reserved0) == 22, "reserved0");
_Static_assert(offsetof(rot_image_header_t, svn) == 24, "svn");
_Static_assert(offsetof(rot_image_header_t, key_index) == 28, "key_index");
_Static_assert(offsetof(rot_image_header_t, load_addr) == 32, "load_addr");
_Static_assert(offsetof(rot_image_header_t, entry_point) == 40, "entry_point");
_Static_assert(offsetof(rot_image_header_t, payload_len) == 48, "payload_len");
_Static_assert(offsetof(rot_image_header_t, manifest_len) == 52, "manifest_len");
_Static_assert(offsetof(rot_image_header_t, payload_digest) == 56, "payload_digest");
_Static_assert(offsetof(rot_image_header_t, reserved1) == 104, "reserved1");

/* ---- Key manifest ---------------------------------------------------- */

#define ROT_MANIFEST_MAGIC 0x4b4d5452u /* bytes "RTMK" */
#define ROT_MANIFEST_VERSION 1u
#define ROT_MANIFEST_MAX_KEYS 8u
#define ROT_MANIFEST_HEAD_SIZE 104u
#define ROT_MANIFEST_ENTRY_SIZE 104u

typedef struct rot_manifest_head {
  uint32_t magic;     /* ROT_MANIFEST_MAGIC */
  uint16_t version;   /* ROT_MANIFEST_VERSION */
  uint16_t key_count; /* 1..ROT_MANIFEST_MAX_KEYS */
  uint8_t root_pub[ROT_P384_PUBKEY_LEN];
} rot_manifest_head_t;

typedef struct rot_manifest_entry {
  uint32_t key_index;     /* < ROT_MAX_KEY_INDEX, unique in the manifest */
  uint32_t allowed_types; /* bit (1 << image type) set when allowed */
  uint8_t pub[ROT_P384_PUBKEY_LEN];
} rot_manifest_entry_t;

_Static_assert(sizeof(rot_manifest_head_t) == ROT_MANIFEST_HEAD_SIZE, "manifest head");
_Static_assert(offsetof(rot_manifest_head_t, key_count) == 6, "key_count");
_Static_assert(offsetof(rot_manifest_head_t, root_pub) == 8, "root_pub");
_Static_assert(sizeof(rot_manifest_entry_t) == ROT_MANIFEST_ENTRY_SIZE, "manifest entry");
_Static_assert(offsetof(rot_manifest_entry_t, allowed_types) == 4, "allowed_types");
_Static_assert(offsetof(rot_manifest_entry_t, pub) == 8, "pub");

/* Exact manifest size for n keys: head, n entries, root signature. */
#define ROT_MANIFEST_SIZE(n) \
  (ROT_MANIFEST_HEAD_SIZE + (n) * ROT_MANIFEST_ENTRY_SIZE + ROT_P384_SIG_LEN)
#define ROT_MANIFEST_MAX_SIZE ROT_MANIFEST_SIZE(ROT_MANIFEST_MAX_KEYS)

/* ---- Parsed views ----------------------------------------------------- */

/* A structurally valid manifest (nothing verified yet). */
typedef struct rot_manifest {
  rot_manifest_head_t head;
  rot_manifest_entry_t keys[ROT_MANIFEST_MAX_KEYS];
  uint8_t root_sig[ROT_P384_SIG_LEN];
  /* Byte range covered by the root signature: the whole manifest minus it. */
  const uint8_t *signed_bytes;
  size_t signed_len;
} rot_manifest_t;

/* A structurally valid image (nothing verified yet). */
typedef struct rot_image_view {
  rot_image_header_t header;
  rot_manifest_t manifest;
  const uint8_t *manifest_bytes;
  const uint8_t *payload;
  const uint8_t *signature;
  size_t total_len;
} rot_image_view_t;

/* Total length an image with this header must have, or 0 on overflow. */
size_t rot_image_expected_len(const rot_image_header_t *h);

/**
 * Decode and check a header from the first bytes of an image.
 * Validates magic, version, size, type, flags, reserved fields, SVN range,
 * every declared length (without overflow), the load region and the
 * alignment of the load address and entry point, before anything is
 * hashed. Errors: ROT_ERROR_IMAGE_*.
 */
ROT_WARN_UNUSED rot_error_t rot_image_header_parse(const uint8_t *buf,
                                                   size_t len,
                                                   rot_image_header_t *out);

/**
 * Decode and structurally check a key manifest of exactly len bytes.
 * Does not check any signature. Errors: ROT_ERROR_MANIFEST_* (*out is
 * then zeroed).
 */
ROT_WARN_UNUSED rot_error_t rot_manifest_parse(const uint8_t *buf, size_t len,
                                               rot_manifest_t *out);

/**
 * Split a whole image buffer into its parts after structural checks:
 * header, manifest, the exact total length (truncation and trailing bytes
 * rejected), and the load/entry region rule. No cryptography. On an
 * error *out is zeroed.
 */
ROT_WARN_UNUSED rot_error_t rot_image_parse(const uint8_t *buf, size_t len,
                                            rot_image_view_t *out);

/**
 * rot_image_parse for an image of which only header || manifest is in
 * memory (head_len exactly ROT_IMAGE_HEADER_SIZE + manifest_len) and whose
 * whole length image_len is known: the same checks in the same order, so
 * the same verdict as rot_image_parse of the whole image. out->payload and
 * out->signature are NULL. On an error *out is zeroed.
 */
ROT_WARN_UNUSED rot_error_t rot_image_parse_head(const uint8_t *head,
                                                 size_t head_len,
                                                 size_t image_len,
                                                 rot_image_view_t *out);

/* ---- Verification ------------------------------------------------------ */

/* Value of a token written only by a completed, successful verification. */
#define ROT_VERIFY_TOKEN_VALID 0x5ac3e91du

/*
 * The result of a successful verification. Code that boots, stages or
 * commits an image consumes this (rot_verified_check), never a bool.
 */
typedef struct rot_verified_image {
  uint32_t token; /* ROT_VERIFY_TOKEN_VALID only after every check passed */
  uint32_t image_type;
  uint32_t svn;
  uint32_t key_index;
  uint16_t ver_major, ver_minor, ver_patch;
  uint64_t load_addr;
  uint64_t entry_point;
  uint32_t payload_len;
  uint8_t payload_digest[ROT_SHA384_LEN];
  uint8_t signed_digest[ROT_SHA384_LEN]; /* SHA-384(header || manifest) */
  /* SHA-384 of the public key that signed the image (its manifest entry):
   * the DICE authority of a RoT firmware image, so the ROM stage needs
   * no second read of the manifest. */
  uint8_t signer_digest[ROT_SHA384_LEN];
  /* Re-derived from the token and the digest; see rot_verified_check. */
  uint32_t token_check;
} rot_verified_image_t;

/**
 * Verify a whole in-memory image against a policy.
 *
 * Order: header checks (load region and alignment included), manifest
 * checks, root key hash vs policy, manifest root signature, key index
 * certified / not revoked / type allowed, SVN floor, lifecycle, image
 * signature, payload digest. Every rejection has its own code; a
 * signature whose s is not in the low half is ROT_ERROR_CRYPTO_SIG_HIGH_S,
 * a manifest key that is not a curve point ROT_ERROR_CRYPTO_BAD_KEY. Every
 * decision is checked a second time before the token is written. On
 * success out->token is ROT_VERIFY_TOKEN_VALID; on failure *out is wiped.
 *
 * expected_type: ROT_IMAGE_TYPE_ANY, or the type the caller will use the
 * image as (ROT_ERROR_POLICY_TYPE_MISMATCH otherwise).
 */
ROT_WARN_UNUSED rot_error_t rot_image_verify(const rot_crypto_t *c,
                                             const rot_policy_t *policy,
                                             const uint8_t *image, size_t len,
                                             uint32_t expected_type,
                                             rot_verified_image_t *out);

/**
 * rot_image_verify for an image whose payload is not in memory but was
 * hashed as it arrived: head is header || manifest (head_len exactly
 * ROT_IMAGE_HEADER_SIZE + manifest_len), sig the image signature, and
 * payload_digest the SHA-384 of the payload bytes. Same checks, same
 * order, same codes; the caller vouches that payload_digest is the digest
 * of the bytes it will use (the update engine hashes what it read back
 * from flash).
 */
ROT_WARN_UNUSED rot_error_t rot_image_verify_digest(
    const rot_crypto_t *c, const rot_policy_t *policy, const uint8_t *head,
    size_t head_len, const uint8_t sig[ROT_IMAGE_SIG_SIZE],
    const uint8_t payload_digest[ROT_SHA384_LEN], uint32_t expected_type,
    rot_verified_image_t *out);

/**
 * Forget the cached manifest verdict (rot_image_verify keeps the last
 * manifest whose root signature verified, keyed by its SHA-384). Called at
 * every chip reset, as RAM does not survive one.
 */
void rot_image_cache_clear(void);

/**
 * Check a verification token before acting on an image: returns ROT_OK
 * (hardened, double-checked) only for a token that rot_image_verify wrote.
 */
ROT_WARN_UNUSED rot_error_t rot_verified_check(const rot_verified_image_t *v);

#endif /* ROT_IMAGE_H */
