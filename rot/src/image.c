/*
 * Signed image v1: parser and verifier (the signer is host code:
 * rot/client/image_sign.c).
 *
 * Parsing is split from verification so that everything structural
 * (magic, sizes, lengths, regions) is settled before a single byte is
 * hashed: a header declaring a 4 GiB payload fails at once, in constant
 * time, without touching the rest of the buffer.
 */
#include "rot/image.h"

#include "rot/hardened.h"
#include "rot/util.h"

/* Bits of allowed_types that name a real image type. */
#define ROT_TYPE_MASK_KNOWN \
  ((((uint32_t)1u << (ROT_IMAGE_TYPE_MAX + 1u)) - 1u) & ~(uint32_t)1u)

static void header_decode(const uint8_t *b, rot_image_header_t *h) {
  h->magic = rot_ld32(b + 0);
  h->format_version = rot_ld16(b + 4);
  h->header_size = rot_ld16(b + 6);
  h->image_type = rot_ld32(b + 8);
  h->flags = rot_ld32(b + 12);
  h->ver_major = rot_ld16(b + 16);
  h->ver_minor = rot_ld16(b + 18);
  h->ver_patch = rot_ld16(b + 20);
  h->reserved0 = rot_ld16(b + 22);
  h->svn = rot_ld32(b + 24);
  h->key_index = rot_ld32(b + 28);
  h->load_addr = rot_ld64(b + 32);
  h->entry_point = rot_ld64(b + 40);
  h->payload_len = rot_ld32(b + 48);
  h->manifest_len = rot_ld32(b + 52);
  rot_memcpy(h->payload_digest, b + 56, ROT_SHA384_LEN);
  rot_memcpy(h->reserved1, b + 104, sizeof(h->reserved1));
}

size_t rot_image_expected_len(const rot_image_header_t *h) {
  if (h == NULL || h->payload_len > ROT_IMAGE_MAX_PAYLOAD ||
      h->manifest_len > ROT_MANIFEST_MAX_SIZE) {
    return 0;
  }
  /* Both terms are bounded above, so the sum cannot wrap. */
  return (size_t)ROT_IMAGE_HEADER_SIZE + h->manifest_len + h->payload_len +
         ROT_IMAGE_SIG_SIZE;
}

/* Alignment the load address of a type needs (see ROT_IMAGE_*_ALIGN). */
static uint64_t load_align(uint32_t image_type) {
  return image_type == ROT_IMAGE_TYPE_DTB ? ROT_IMAGE_DTB_ALIGN
                                          : ROT_IMAGE_CODE_ALIGN;
}

/*
 * Load window, entry and alignment rules; all arithmetic checked against
 * overflow. The window is judged before the alignment, so an address
 * outside it reports the window whatever its low bits.
 */
static rot_error_t region_check(const rot_image_header_t *h) {
  const rot_region_t *r = rot_image_region(h->image_type);
  if (r == NULL) {
    return ROT_ERROR_IMAGE_BAD_TYPE;
  }
  if (h->load_addr < r->base || h->load_addr >= r->end ||
      h->payload_len > r->end - h->load_addr) {
    return ROT_ERROR_IMAGE_BAD_LOAD_ADDR;
  }
  if ((h->load_addr & (load_align(h->image_type) - 1u)) != 0) {
    return ROT_ERROR_IMAGE_LOAD_MISALIGNED;
  }
  if (r->executable) {
    if (h->entry_point < h->load_addr ||
        h->entry_point - h->load_addr >= h->payload_len) {
      return ROT_ERROR_IMAGE_BAD_ENTRY;
    }
    if ((h->entry_point & (ROT_IMAGE_CODE_ALIGN - 1u)) != 0) {
      return ROT_ERROR_IMAGE_ENTRY_MISALIGNED;
    }
  } else if (h->entry_point != 0) {
    return ROT_ERROR_IMAGE_BAD_ENTRY;
  }
  return ROT_OK;
}

rot_error_t rot_image_header_parse(const uint8_t *buf, size_t len,
                                   rot_image_header_t *out) {
  if (buf == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len < ROT_IMAGE_HEADER_SIZE) {
    return ROT_ERROR_IMAGE_TRUNCATED;
  }
  rot_image_header_t h;
  header_decode(buf, &h);
  if (h.magic != ROT_IMAGE_MAGIC) {
    return ROT_ERROR_IMAGE_BAD_MAGIC;
  }
  if (h.format_version != ROT_IMAGE_FORMAT_VERSION) {
    return ROT_ERROR_IMAGE_BAD_VERSION;
  }
  if (h.header_size != ROT_IMAGE_HEADER_SIZE) {
    return ROT_ERROR_IMAGE_BAD_HEADER_SIZE;
  }
  if (h.image_type < ROT_IMAGE_TYPE_MIN || h.image_type > ROT_IMAGE_TYPE_MAX) {
    return ROT_ERROR_IMAGE_BAD_TYPE;
  }
  if ((h.flags & ~ROT_IMAGE_FLAGS_KNOWN) != 0) {
    return ROT_ERROR_IMAGE_BAD_FLAGS;
  }
  if (h.reserved0 != 0 || !rot_is_zero(h.reserved1, sizeof(h.reserved1))) {
    return ROT_ERROR_IMAGE_RESERVED_NONZERO;
  }
  if (h.svn > ROT_SVN_MAX) {
    return ROT_ERROR_IMAGE_BAD_SVN;
  }
  if (h.payload_len == 0) {
    return ROT_ERROR_IMAGE_EMPTY_PAYLOAD;
  }
  if (h.payload_len > ROT_IMAGE_MAX_PAYLOAD ||
      h.manifest_len < ROT_MANIFEST_SIZE(1) ||
      h.manifest_len > ROT_MANIFEST_MAX_SIZE) {
    return ROT_ERROR_IMAGE_BAD_LENGTH;
  }
  ROT_TRY(region_check(&h));
  *out = h;
  return ROT_OK;
}

rot_error_t rot_manifest_parse(const uint8_t *buf, size_t len,
                               rot_manifest_t *out) {
  if (buf == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len < ROT_MANIFEST_SIZE(0)) {
    return ROT_ERROR_MANIFEST_BAD_LENGTH;
  }
  rot_manifest_t m;
  m.head.magic = rot_ld32(buf);
  m.head.version = rot_ld16(buf + 4);
  m.head.key_count = rot_ld16(buf + 6);
  if (m.head.magic != ROT_MANIFEST_MAGIC) {
    return ROT_ERROR_MANIFEST_BAD_MAGIC;
  }
  if (m.head.version != ROT_MANIFEST_VERSION) {
    return ROT_ERROR_MANIFEST_BAD_VERSION;
  }
  if (m.head.key_count == 0 || m.head.key_count > ROT_MANIFEST_MAX_KEYS) {
    return ROT_ERROR_MANIFEST_BAD_KEY_COUNT;
  }
  if (len != ROT_MANIFEST_SIZE((size_t)m.head.key_count)) {
    return ROT_ERROR_MANIFEST_BAD_LENGTH;
  }
  rot_memcpy(m.head.root_pub, buf + 8, ROT_P384_PUBKEY_LEN);
  uint32_t seen = 0;
  for (size_t i = 0; i < m.head.key_count; i++) {
    const uint8_t *e = buf + ROT_MANIFEST_HEAD_SIZE + i * ROT_MANIFEST_ENTRY_SIZE;
    rot_manifest_entry_t *k = &m.keys[i];
    k->key_index = rot_ld32(e);
    k->allowed_types = rot_ld32(e + 4);
    rot_memcpy(k->pub, e + 8, ROT_P384_PUBKEY_LEN);
    if (k->key_index >= ROT_MAX_KEY_INDEX) {
      return ROT_ERROR_MANIFEST_BAD_KEY_INDEX;
    }
    if ((seen & (1u << k->key_index)) != 0) {
      return ROT_ERROR_MANIFEST_DUPLICATE_KEY;
    }
    seen |= 1u << k->key_index;
    if ((k->allowed_types & ~ROT_TYPE_MASK_KNOWN) != 0) {
      return ROT_ERROR_MANIFEST_RESERVED_NONZERO;
    }
  }
  for (size_t i = m.head.key_count; i < ROT_MANIFEST_MAX_KEYS; i++) {
    rot_memset(&m.keys[i], 0, sizeof(m.keys[i]));
  }
  m.signed_len = len - ROT_P384_SIG_LEN;
  m.signed_bytes = buf;
  rot_memcpy(m.root_sig, buf + m.signed_len, ROT_P384_SIG_LEN);
  *out = m;
  return ROT_OK;
}

rot_error_t rot_image_parse(const uint8_t *buf, size_t len,
                            rot_image_view_t *out) {
  if (buf == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_image_view_t v;
  ROT_TRY(rot_image_header_parse(buf, len, &v.header));
  size_t expected = rot_image_expected_len(&v.header);
  if (expected == 0) {
    return ROT_ERROR_IMAGE_BAD_LENGTH;
  }
  if (len < expected) {
    return ROT_ERROR_IMAGE_TRUNCATED;
  }
  if (len > expected) {
    return ROT_ERROR_IMAGE_TRAILING_DATA;
  }
  v.manifest_bytes = buf + ROT_IMAGE_HEADER_SIZE;
  ROT_TRY(rot_manifest_parse(v.manifest_bytes, v.header.manifest_len,
                             &v.manifest));
  v.payload = v.manifest_bytes + v.header.manifest_len;
  v.signature = v.payload + v.header.payload_len;
  v.total_len = expected;
  *out = v;
  return ROT_OK;
}

static const rot_manifest_entry_t *find_key(const rot_manifest_t *m,
                                            uint32_t key_index) {
  for (size_t i = 0; i < m->head.key_count; i++) {
    if (m->keys[i].key_index == key_index) {
      return &m->keys[i];
    }
  }
  return NULL;
}

static uint32_t token_check_value(const uint8_t digest[ROT_SHA384_LEN]) {
  return ROT_VERIFY_TOKEN_VALID ^ rot_ld32(digest) ^ rot_ld32(digest + 44);
}

static hardened_bool_t hardened_from(int cond) {
  return cond ? HARDENED_TRUE : HARDENED_FALSE;
}

/* Only dev and production devices boot anything. */
static int lifecycle_boots(uint32_t lifecycle) {
  return lifecycle == ROT_LIFECYCLE_DEV || lifecycle == ROT_LIFECYCLE_PROD;
}

/* A DEV_ONLY image boots on a dev device and nowhere else. */
static int dev_only_allowed(uint32_t flags, uint32_t lifecycle) {
  return (flags & ROT_IMAGE_FLAG_DEV_ONLY) == 0 ||
         lifecycle == ROT_LIFECYCLE_DEV;
}

/*
 * The code a failed ECDSA verification reports. Range, low-S and key
 * verdicts keep their crypto codes: they say what is wrong with the bytes
 * (a malformed signature or a manifest key that is not a curve point),
 * which "does not verify" would hide. Everything else is the caller's
 * "signature does not verify".
 */
static rot_error_t signature_error(rot_error_t err, rot_error_t bad_signature) {
  if (err == ROT_ERROR_CRYPTO_SIG_RANGE || err == ROT_ERROR_CRYPTO_SIG_HIGH_S ||
      err == ROT_ERROR_CRYPTO_BAD_KEY) {
    return err;
  }
  return bad_signature;
}

rot_error_t rot_image_verify(const rot_crypto_t *c, const rot_policy_t *policy,
                             const uint8_t *image, size_t len,
                             uint32_t expected_type,
                             rot_verified_image_t *out) {
  if (out != NULL) {
    rot_memset(out, 0, sizeof(*out));
  }
  if (c == NULL || policy == NULL || image == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }

  /* 1. Structure: nothing is hashed before this passes. */
  rot_image_view_t v;
  ROT_TRY(rot_image_parse(image, len, &v));
  const rot_image_header_t *h = &v.header;
  hardened_bool_t type_ok = hardened_from(expected_type == ROT_IMAGE_TYPE_ANY ||
                                          expected_type == h->image_type);
  if (type_ok != HARDENED_TRUE) {
    return ROT_ERROR_POLICY_TYPE_MISMATCH;
  }

  /* 2. The manifest's root key is the one fused in OTP. */
  hardened_bool_t provisioned =
      hardened_from(!rot_is_zero(policy->root_key_hash, ROT_SHA384_LEN));
  if (provisioned != HARDENED_TRUE) {
    return ROT_ERROR_OTP_NOT_PROVISIONED;
  }
  uint8_t digest[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, v.manifest.head.root_pub,
                   ROT_P384_PUBKEY_LEN, digest, sizeof(digest)));
  hardened_bool_t root_ok =
      rot_ct_equal(digest, policy->root_key_hash, ROT_SHA384_LEN);
  if (root_ok != HARDENED_TRUE) {
    return ROT_ERROR_MANIFEST_WRONG_ROOT;
  }

  /* 3. The root signed the manifest. */
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, v.manifest.signed_bytes,
                   v.manifest.signed_len, digest, sizeof(digest)));
  rot_error_t manifest_sig = rot_ecdsa_p384_verify(
      c, v.manifest.head.root_pub, digest, ROT_SHA384_LEN, v.manifest.root_sig);
  if (manifest_sig != ROT_OK) {
    return signature_error(manifest_sig, ROT_ERROR_MANIFEST_BAD_SIGNATURE);
  }

  /* 4. The signing key: certified, not revoked, allowed for this type. */
  const rot_manifest_entry_t *key = find_key(&v.manifest, h->key_index);
  if (key == NULL) {
    return ROT_ERROR_MANIFEST_KEY_NOT_FOUND;
  }
  if ((policy->revoked_keys & (1u << key->key_index)) != 0) {
    return ROT_ERROR_POLICY_KEY_REVOKED;
  }
  if ((key->allowed_types & (1u << h->image_type)) == 0) {
    return ROT_ERROR_POLICY_TYPE_NOT_ALLOWED;
  }

  /* 5. Anti-rollback and lifecycle. */
  if (h->svn < policy->svn_floor[h->image_type]) {
    return ROT_ERROR_POLICY_SVN_BELOW_FLOOR;
  }
  hardened_bool_t lifecycle_ok = hardened_from(lifecycle_boots(policy->lifecycle));
  if (lifecycle_ok != HARDENED_TRUE) {
    return ROT_ERROR_POLICY_LIFECYCLE;
  }
  hardened_bool_t dev_only_ok =
      hardened_from(dev_only_allowed(h->flags, policy->lifecycle));
  if (dev_only_ok != HARDENED_TRUE) {
    return ROT_ERROR_POLICY_LIFECYCLE;
  }

  /* 6. The signing key signed header || manifest. */
  uint8_t signed_digest[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, image,
                   ROT_IMAGE_HEADER_SIZE + (size_t)h->manifest_len,
                   signed_digest, sizeof(signed_digest)));
  rot_error_t image_sig = rot_ecdsa_p384_verify(c, key->pub, signed_digest,
                                                ROT_SHA384_LEN, v.signature);
  if (image_sig != ROT_OK) {
    return signature_error(image_sig, ROT_ERROR_IMAGE_BAD_SIGNATURE);
  }

  /* 7. The payload is the one the signed header names. */
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, v.payload, h->payload_len, digest,
                   sizeof(digest)));
  hardened_bool_t payload_ok =
      rot_ct_equal(digest, h->payload_digest, ROT_SHA384_LEN);
  if (payload_ok != HARDENED_TRUE) {
    return ROT_ERROR_IMAGE_DIGEST_MISMATCH;
  }

  /*
   * Second look at every decision before the token is written: the saved
   * verdict, and where the inputs are the caller's (the policy), the rule
   * again on what they hold now.
   */
  HARDENED_CHECK_EQ(region_check(h), ROT_OK);
  HARDENED_CHECK_EQ(type_ok, HARDENED_TRUE);
  HARDENED_CHECK_NE(expected_type == ROT_IMAGE_TYPE_ANY ||
                        expected_type == h->image_type,
                    0);
  HARDENED_CHECK_EQ(provisioned, HARDENED_TRUE);
  HARDENED_CHECK_EQ(root_ok, HARDENED_TRUE);
  HARDENED_CHECK_EQ(manifest_sig, ROT_OK);
  HARDENED_CHECK_NE(key != NULL, 0);
  HARDENED_CHECK_EQ(key->key_index, h->key_index);
  HARDENED_CHECK_EQ(policy->revoked_keys & (1u << key->key_index), 0u);
  HARDENED_CHECK_NE(key->allowed_types & (1u << h->image_type), 0u);
  HARDENED_CHECK_EQ(h->svn < policy->svn_floor[h->image_type], 0);
  HARDENED_CHECK_EQ(lifecycle_ok, HARDENED_TRUE);
  HARDENED_CHECK_NE(lifecycle_boots(policy->lifecycle), 0);
  HARDENED_CHECK_EQ(dev_only_ok, HARDENED_TRUE);
  HARDENED_CHECK_NE(dev_only_allowed(h->flags, policy->lifecycle), 0);
  HARDENED_CHECK_EQ(image_sig, ROT_OK);
  HARDENED_CHECK_EQ(payload_ok, HARDENED_TRUE);

  out->image_type = h->image_type;
  out->svn = h->svn;
  out->key_index = h->key_index;
  out->ver_major = h->ver_major;
  out->ver_minor = h->ver_minor;
  out->ver_patch = h->ver_patch;
  out->load_addr = h->load_addr;
  out->entry_point = h->entry_point;
  out->payload_len = h->payload_len;
  rot_memcpy(out->payload_digest, h->payload_digest, ROT_SHA384_LEN);
  rot_memcpy(out->signed_digest, signed_digest, ROT_SHA384_LEN);
  out->token_check = token_check_value(signed_digest);
  out->token = ROT_VERIFY_TOKEN_VALID;
  return ROT_OK;
}

rot_error_t rot_verified_check(const rot_verified_image_t *v) {
  if (v == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (v->token != ROT_VERIFY_TOKEN_VALID ||
      v->token_check != token_check_value(v->signed_digest)) {
    return ROT_ERROR_BOOT_NOT_VERIFIED;
  }
  HARDENED_CHECK_EQ(v->token, ROT_VERIFY_TOKEN_VALID);
  HARDENED_CHECK_EQ(v->token_check, token_check_value(v->signed_digest));
  return ROT_OK;
}
