/*
 * Shared fixture for the RoT unit suites: a key hierarchy, key manifests,
 * a matching policy and helpers that sign payloads into fresh images.
 *
 * Keys are generated once per test process (P-384 key generation costs a
 * few milliseconds, and a suite would otherwise pay it per test). Nothing
 * here is a committed key: every run gets its own.
 */
#ifndef TEST_KEYS_H
#define TEST_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/image.h"
#include "rot/policy.h"

/* Key indices certified by the fixture manifest. */
#define TEST_KEY_INDEX_ALL 0u /* allowed every image type */
#define TEST_KEY_INDEX_DTB 3u /* allowed only ROT_IMAGE_TYPE_DTB */

/* allowed_types bitmask covering every defined image type. */
#define TEST_ALL_TYPES                                                       \
  ((1u << ROT_IMAGE_TYPE_ROT) | (1u << ROT_IMAGE_TYPE_OPENSBI) |             \
   (1u << ROT_IMAGE_TYPE_HYPERVISOR) | (1u << ROT_IMAGE_TYPE_DTB) |          \
   (1u << ROT_IMAGE_TYPE_RECOVERY))

typedef struct test_key {
  uint8_t priv[ROT_P384_SCALAR_LEN];
  uint8_t pub[ROT_P384_PUBKEY_LEN];
} test_key_t;

typedef struct test_keys {
  test_key_t root;       /* the root whose hash the policy holds */
  test_key_t other_root; /* a second, unrelated root */
  test_key_t signer;     /* index TEST_KEY_INDEX_ALL */
  test_key_t dtb_signer; /* index TEST_KEY_INDEX_DTB */
  test_key_t stranger;   /* certified by no manifest */

  /* Root-signed manifest: {signer, dtb_signer}. */
  uint8_t manifest[ROT_MANIFEST_MAX_SIZE];
  size_t manifest_len;
  /* Same two entries, signed by other_root (same length as manifest). */
  uint8_t other_manifest[ROT_MANIFEST_MAX_SIZE];
  size_t other_manifest_len;
  /* Root-signed manifest with only {signer}: the smallest valid one. */
  uint8_t manifest1[ROT_MANIFEST_MAX_SIZE];
  size_t manifest1_len;

  /* Provisioned for root: lifecycle dev, nothing revoked, floors 0. */
  rot_policy_t policy;
  /* The same, provisioned for other_root. */
  rot_policy_t other_policy;
} test_keys_t;

/** The process-wide crypto backend; fails the test when unavailable. */
const rot_crypto_t *test_crypto(void);

/** The cached fixture, generated on first use. */
const test_keys_t *test_keys(void);

/**
 * A valid header template for image_type: svn 1, version 1.2.3, key index
 * TEST_KEY_INDEX_ALL, load at the start of the type's region, entry at the
 * load address for code (0 for data). Lengths and digest are left for
 * rot_image_sign.
 */
rot_image_header_t test_header(uint32_t image_type);

/** A deterministic payload pattern of len bytes (caller frees). */
uint8_t *test_payload(size_t len);

/**
 * Sign payload into a fresh image of exactly the signed size (caller
 * frees) and fail the test if signing fails.
 */
uint8_t *test_image_sign(const rot_image_header_t *tmpl,
                         const uint8_t *manifest, size_t manifest_len,
                         const uint8_t priv[ROT_P384_SCALAR_LEN],
                         const uint8_t *payload, size_t payload_len,
                         size_t *out_len);

/**
 * The usual image: test_header(type), the two-key manifest, signed by
 * signer, a payload_len-byte test_payload (caller frees).
 */
uint8_t *test_image_default(uint32_t image_type, size_t payload_len,
                            size_t *out_len);

/** The usual image with header flags set (ROT_IMAGE_FLAG_*). */
uint8_t *test_image_flags(uint32_t image_type, uint32_t flags,
                          size_t payload_len, size_t *out_len);

/** An exactly-sized malloc'd copy of buf[0..len) (caller frees). */
uint8_t *test_copy(const uint8_t *buf, size_t len);

/**
 * Re-sign an image in place with priv after its header or manifest bytes
 * were edited, so a test can reach checks that run after the signature.
 * The header's manifest_len must still describe the buffer.
 */
void test_image_resign(uint8_t *image, size_t len,
                       const uint8_t priv[ROT_P384_SCALAR_LEN]);

/**
 * Re-sign a manifest of len bytes in place with priv after its head or
 * entries were edited.
 */
void test_manifest_resign(uint8_t *manifest, size_t len,
                          const uint8_t priv[ROT_P384_SCALAR_LEN]);

/** SHA-384 of a public key, as OTP stores the root key hash. */
void test_key_hash(const uint8_t pub[ROT_P384_PUBKEY_LEN],
                   uint8_t out[ROT_SHA384_LEN]);

/** Big-endian scalar n + add (add small), for out-of-range signatures. */
void test_order_plus(uint32_t add, uint8_t out[ROT_P384_SCALAR_LEN]);

#endif /* TEST_KEYS_H */
