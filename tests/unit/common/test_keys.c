/* Shared key hierarchy and image helpers for the RoT unit suites. */
#include "test_keys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/image_sign.h"
#include "rot_host/crypto_mbedtls.h"

static test_keys_t g_keys;
static int g_ready;

const rot_crypto_t *test_crypto(void) {
  const rot_crypto_t *c = rot_host_crypto();
  assert_non_null(c);
  return c;
}

void test_key_hash(const uint8_t pub[ROT_P384_PUBKEY_LEN],
                   uint8_t out[ROT_SHA384_LEN]) {
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, pub,
                            ROT_P384_PUBKEY_LEN, out, ROT_SHA384_LEN),
                   ROT_OK);
}

static void keygen(test_key_t *k) {
  assert_int_equal(rot_host_p384_keygen(k->priv, k->pub), ROT_OK);
}

static void policy_for(const uint8_t root_pub[ROT_P384_PUBKEY_LEN],
                       rot_policy_t *p) {
  memset(p, 0, sizeof(*p));
  test_key_hash(root_pub, p->root_key_hash);
  p->lifecycle = ROT_LIFECYCLE_DEV;
}

const test_keys_t *test_keys(void) {
  if (g_ready) {
    return &g_keys;
  }
  const rot_crypto_t *c = test_crypto();
  test_keys_t *k = &g_keys;
  keygen(&k->root);
  keygen(&k->other_root);
  keygen(&k->signer);
  keygen(&k->dtb_signer);
  keygen(&k->stranger);

  rot_manifest_entry_t entries[2];
  memset(entries, 0, sizeof(entries));
  entries[0].key_index = TEST_KEY_INDEX_ALL;
  entries[0].allowed_types = TEST_ALL_TYPES;
  memcpy(entries[0].pub, k->signer.pub, ROT_P384_PUBKEY_LEN);
  entries[1].key_index = TEST_KEY_INDEX_DTB;
  entries[1].allowed_types = 1u << ROT_IMAGE_TYPE_DTB;
  memcpy(entries[1].pub, k->dtb_signer.pub, ROT_P384_PUBKEY_LEN);

  assert_int_equal(rot_manifest_build(c, k->root.priv, entries, 2, k->manifest,
                                      sizeof(k->manifest), &k->manifest_len),
                   ROT_OK);
  assert_int_equal(
      rot_manifest_build(c, k->other_root.priv, entries, 2, k->other_manifest,
                         sizeof(k->other_manifest), &k->other_manifest_len),
      ROT_OK);
  assert_int_equal(rot_manifest_build(c, k->root.priv, entries, 1, k->manifest1,
                                      sizeof(k->manifest1), &k->manifest1_len),
                   ROT_OK);

  policy_for(k->root.pub, &k->policy);
  policy_for(k->other_root.pub, &k->other_policy);
  g_ready = 1;
  return k;
}

rot_image_header_t test_header(uint32_t image_type) {
  rot_image_header_t h;
  memset(&h, 0, sizeof(h));
  const rot_region_t *r = rot_image_region(image_type);
  assert_non_null(r);
  h.image_type = image_type;
  h.ver_major = 1;
  h.ver_minor = 2;
  h.ver_patch = 3;
  h.svn = 1;
  h.key_index = TEST_KEY_INDEX_ALL;
  h.load_addr = r->base;
  h.entry_point = r->executable ? r->base : 0;
  return h;
}

uint8_t *test_payload(size_t len) {
  uint8_t *p = malloc(len ? len : 1);
  assert_non_null(p);
  for (size_t i = 0; i < len; i++) {
    p[i] = (uint8_t)(i * 131u + 7u);
  }
  return p;
}

uint8_t *test_image_sign(const rot_image_header_t *tmpl,
                         const uint8_t *manifest, size_t manifest_len,
                         const uint8_t priv[ROT_P384_SCALAR_LEN],
                         const uint8_t *payload, size_t payload_len,
                         size_t *out_len) {
  size_t cap = ROT_IMAGE_HEADER_SIZE + manifest_len + payload_len +
               ROT_IMAGE_SIG_SIZE;
  uint8_t *img = malloc(cap);
  assert_non_null(img);
  size_t len = 0;
  rot_error_t err = rot_image_sign(test_crypto(), tmpl, manifest, manifest_len,
                                   priv, payload, payload_len, img, cap, &len);
  if (err != ROT_OK) {
    free(img);
    fail_msg("rot_image_sign: %s", rot_error_name(err));
  }
  assert_int_equal(len, cap);
  *out_len = len;
  return img;
}

uint8_t *test_image_default(uint32_t image_type, size_t payload_len,
                            size_t *out_len) {
  return test_image_flags(image_type, 0, payload_len, out_len);
}

uint8_t *test_image_flags(uint32_t image_type, uint32_t flags,
                          size_t payload_len, size_t *out_len) {
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(image_type);
  h.flags = flags;
  uint8_t *payload = test_payload(payload_len);
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                 k->signer.priv, payload, payload_len, out_len);
  free(payload);
  return img;
}

uint8_t *test_copy(const uint8_t *buf, size_t len) {
  /* Exact size, so ASan catches a read one byte past the end. */
  uint8_t *p = malloc(len ? len : 1);
  assert_non_null(p);
  if (len > 0) {
    memcpy(p, buf, len);
  }
  return p;
}

static void sign_digest_of(const uint8_t *bytes, size_t len,
                           const uint8_t priv[ROT_P384_SCALAR_LEN],
                           uint8_t sig[ROT_P384_SIG_LEN]) {
  const rot_crypto_t *c = test_crypto();
  uint8_t digest[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, bytes, len, digest,
                            sizeof(digest)),
                   ROT_OK);
  assert_int_equal(c->ecdsa_p384_sign(c, priv, digest, sizeof(digest), sig),
                   ROT_OK);
}

void test_image_resign(uint8_t *image, size_t len,
                       const uint8_t priv[ROT_P384_SCALAR_LEN]) {
  assert_true(len >= ROT_IMAGE_HEADER_SIZE + ROT_IMAGE_SIG_SIZE);
  size_t signed_len = ROT_IMAGE_HEADER_SIZE + rot_ld32(image + 52);
  assert_true(signed_len <= len - ROT_IMAGE_SIG_SIZE);
  sign_digest_of(image, signed_len, priv, image + len - ROT_IMAGE_SIG_SIZE);
}

void test_manifest_resign(uint8_t *manifest, size_t len,
                          const uint8_t priv[ROT_P384_SCALAR_LEN]) {
  assert_true(len > ROT_P384_SIG_LEN);
  size_t signed_len = len - ROT_P384_SIG_LEN;
  sign_digest_of(manifest, signed_len, priv, manifest + signed_len);
}

void test_order_plus(uint32_t add, uint8_t out[ROT_P384_SCALAR_LEN]) {
  uint32_t carry = add;
  for (size_t i = ROT_P384_SCALAR_LEN; i-- > 0;) {
    uint32_t v = (uint32_t)rot_p384_order[i] + (carry & 0xffu);
    carry = (carry >> 8) + (v >> 8);
    out[i] = (uint8_t)v;
  }
}
