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
#include "rot/wire.h"

/* Bits of allowed_types that name a real image type. */
#define ROT_TYPE_MASK_KNOWN \
  ((((uint32_t)1u << (ROT_IMAGE_TYPE_MAX + 1u)) - 1u) & ~(uint32_t)1u)

/* The header's wire layout (little-endian, docs/image-format.md). */
static const rot_field_t kHeaderFields[] = {
    ROT_FIELD_INT(rot_image_header_t, magic),
    ROT_FIELD_INT(rot_image_header_t, format_version),
    ROT_FIELD_INT(rot_image_header_t, header_size),
    ROT_FIELD_INT(rot_image_header_t, image_type),
    ROT_FIELD_INT(rot_image_header_t, flags),
    ROT_FIELD_INT(rot_image_header_t, ver_major),
    ROT_FIELD_INT(rot_image_header_t, ver_minor),
    ROT_FIELD_INT(rot_image_header_t, ver_patch),
    ROT_FIELD_INT(rot_image_header_t, reserved0),
    ROT_FIELD_INT(rot_image_header_t, svn),
    ROT_FIELD_INT(rot_image_header_t, key_index),
    ROT_FIELD_INT(rot_image_header_t, load_addr),
    ROT_FIELD_INT(rot_image_header_t, entry_point),
    ROT_FIELD_INT(rot_image_header_t, payload_len),
    ROT_FIELD_INT(rot_image_header_t, manifest_len),
    ROT_FIELD_BYTES(rot_image_header_t, payload_digest),
    ROT_FIELD_BYTES(rot_image_header_t, reserved1),
    ROT_FIELD_END,
};

/* b holds at least ROT_IMAGE_HEADER_SIZE bytes (checked by the caller). */
static void header_decode(const uint8_t *b, rot_image_header_t *h) {
  rot_cursor_t c = rot_cursor_reader(b, ROT_IMAGE_HEADER_SIZE);
  rot_cursor_get(&c, kHeaderFields, h);
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

/* The manifest's head and key entries (little-endian). */
static const rot_field_t kManifestHeadFields[] = {
    ROT_FIELD_INT(rot_manifest_head_t, magic),
    ROT_FIELD_INT(rot_manifest_head_t, version),
    ROT_FIELD_INT(rot_manifest_head_t, key_count),
    ROT_FIELD_BYTES(rot_manifest_head_t, root_pub),
    ROT_FIELD_END,
};
static const rot_field_t kManifestEntryFields[] = {
    ROT_FIELD_INT(rot_manifest_entry_t, key_index),
    ROT_FIELD_INT(rot_manifest_entry_t, allowed_types),
    ROT_FIELD_BYTES(rot_manifest_entry_t, pub),
    ROT_FIELD_END,
};

/* Decoded in place (no second copy of a 1 KB struct on the stack); the
 * caller wipes *m on an error, so nothing half-decoded is left. */
static rot_error_t manifest_decode(const uint8_t *buf, size_t len,
                                   rot_manifest_t *m) {
  if (len < ROT_MANIFEST_SIZE(0)) {
    return ROT_ERROR_MANIFEST_BAD_LENGTH;
  }
  rot_cursor_t c = rot_cursor_reader(buf, len);
  rot_cursor_get(&c, kManifestHeadFields, &m->head);
  if (m->head.magic != ROT_MANIFEST_MAGIC) {
    return ROT_ERROR_MANIFEST_BAD_MAGIC;
  }
  if (m->head.version != ROT_MANIFEST_VERSION) {
    return ROT_ERROR_MANIFEST_BAD_VERSION;
  }
  if (m->head.key_count == 0 || m->head.key_count > ROT_MANIFEST_MAX_KEYS) {
    return ROT_ERROR_MANIFEST_BAD_KEY_COUNT;
  }
  if (len != ROT_MANIFEST_SIZE((size_t)m->head.key_count)) {
    return ROT_ERROR_MANIFEST_BAD_LENGTH;
  }
  uint32_t seen = 0;
  for (size_t i = 0; i < m->head.key_count; i++) {
    rot_manifest_entry_t *k = &m->keys[i];
    rot_cursor_get(&c, kManifestEntryFields, k);
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
  for (size_t i = m->head.key_count; i < ROT_MANIFEST_MAX_KEYS; i++) {
    rot_memset(&m->keys[i], 0, sizeof(m->keys[i]));
  }
  m->signed_len = len - ROT_P384_SIG_LEN;
  m->signed_bytes = buf;
  rot_memcpy(m->root_sig, buf + m->signed_len, ROT_P384_SIG_LEN);
  return ROT_OK;
}

rot_error_t rot_manifest_parse(const uint8_t *buf, size_t len,
                               rot_manifest_t *out) {
  if (buf == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_error_t err = manifest_decode(buf, len, out);
  if (err != ROT_OK) {
    rot_memset(out, 0, sizeof(*out));
  }
  return err;
}

/*
 * The view of header || manifest at buf, the first step of every parse:
 * buf holds len bytes of an image image_len bytes long, either all of it
 * (len == image_len) or exactly its header and manifest. The header, then
 * the lengths (image_len 0: the image's length is not known, not checked),
 * then the manifest. The caller places the payload and the signature.
 */
static rot_error_t parse_view(const uint8_t *buf, size_t len,
                              size_t image_len, rot_image_view_t *v) {
  ROT_TRY(rot_image_header_parse(buf, len, &v->header));
  size_t expected = rot_image_expected_len(&v->header);
  if (expected == 0) {
    return ROT_ERROR_IMAGE_BAD_LENGTH;
  }
  if (len != image_len &&
      len != ROT_IMAGE_HEADER_SIZE + (size_t)v->header.manifest_len) {
    return ROT_ERROR_IMAGE_BAD_LENGTH;
  }
  if (image_len != 0 && image_len < expected) {
    return ROT_ERROR_IMAGE_TRUNCATED;
  }
  if (image_len > expected) {
    return ROT_ERROR_IMAGE_TRAILING_DATA;
  }
  v->manifest_bytes = buf + ROT_IMAGE_HEADER_SIZE;
  v->total_len = expected;
  /* A half-decoded manifest goes with the view: the public parsers wipe
   * it, rot_image_verify_digest drops its local view. */
  return manifest_decode(v->manifest_bytes, v->header.manifest_len,
                         &v->manifest);
}

rot_error_t rot_image_parse(const uint8_t *buf, size_t len,
                            rot_image_view_t *out) {
  if (buf == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* In place, as rot_manifest_parse, and wiped on an error. */
  rot_error_t err = parse_view(buf, len, len, out);
  if (err != ROT_OK) {
    rot_memset(out, 0, sizeof(*out));
    return err;
  }
  out->payload = out->manifest_bytes + out->header.manifest_len;
  out->signature = out->payload + out->header.payload_len;
  return ROT_OK;
}

rot_error_t rot_image_parse_head(const uint8_t *head, size_t head_len,
                                 size_t image_len, rot_image_view_t *out) {
  if (head == NULL || out == NULL || image_len == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_error_t err = parse_view(head, head_len, image_len, out);
  if (err != ROT_OK) {
    rot_memset(out, 0, sizeof(*out));
    return err;
  }
  out->payload = NULL;
  out->signature = NULL;
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

/* Dev and production devices boot every type; a decommissioned one only
 * the recovery image; a blank one nothing. */
ROT_NOINLINE
static int lifecycle_boots(uint32_t lifecycle, uint32_t image_type) {
  return lifecycle == ROT_LIFECYCLE_DEV || lifecycle == ROT_LIFECYCLE_PROD ||
         (lifecycle == ROT_LIFECYCLE_DECOMMISSIONED &&
          image_type == ROT_IMAGE_TYPE_RECOVERY);
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
ROT_NOINLINE
static rot_error_t signature_error(rot_error_t err, rot_error_t bad_signature) {
  if (err == ROT_ERROR_CRYPTO_SIG_RANGE || err == ROT_ERROR_CRYPTO_SIG_HIGH_S ||
      err == ROT_ERROR_CRYPTO_BAD_KEY) {
    return err;
  }
  return bad_signature;
}

/*
 * The manifest verdict cache. The root key is fused and never changes, so
 * a manifest whose root signature verified once verifies again: the
 * verdict is kept, keyed by the SHA-384 of the whole manifest (signed bytes
 * and signature) and by the backend that gave it, and a later image signed
 * under the same manifest costs one hash of it instead of a P-384 verify.
 * One entry (a chip carries one manifest at a time); RAM only, cleared by
 * rot_image_cache_clear at every chip reset.
 */
typedef struct manifest_cache {
  const rot_crypto_t *c;
  uint8_t digest[ROT_SHA384_LEN];
  hardened_bool_t ok;
} manifest_cache_t;

static manifest_cache_t g_manifest_cache;

void rot_image_cache_clear(void) {
  rot_wipe(&g_manifest_cache, sizeof(g_manifest_cache));
  g_manifest_cache.ok = HARDENED_FALSE;
}

/* The root signed the manifest: a cached verdict for these very bytes, or
 * a real verify (whose success is cached). */
static rot_error_t manifest_verdict(const rot_crypto_t *c,
                                    const rot_manifest_t *m,
                                    const uint8_t *bytes, size_t len) {
  uint8_t key[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, bytes, len, key, sizeof(key)));
  manifest_cache_t *e = &g_manifest_cache;
  if (e->ok == HARDENED_TRUE && e->c == c &&
      rot_ct_equal(key, e->digest, sizeof(key)) == HARDENED_TRUE) {
    HARDENED_CHECK_EQ(e->ok, HARDENED_TRUE);
    HARDENED_CHECK_EQ(rot_ct_equal(key, e->digest, sizeof(key)), HARDENED_TRUE);
    return ROT_OK;
  }
  uint8_t digest[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, m->signed_bytes, m->signed_len, digest,
                   sizeof(digest)));
  rot_error_t err = rot_ecdsa_p384_verify(c, m->head.root_pub, digest,
                                          ROT_SHA384_LEN, m->root_sig);
  if (err == ROT_OK) {
    e->c = c;
    rot_memcpy(e->digest, key, sizeof(key));
    e->ok = HARDENED_TRUE;
  }
  return err;
}

/*
 * Steps 1 (type) to 7 on a parsed image. head: header || manifest, as the
 * image signature covers them. payload_digest: the payload's SHA-384 when
 * the caller hashed it already (as the bytes arrived), or NULL to hash
 * v->payload here.
 */
static rot_error_t verify_parsed(const rot_crypto_t *c,
                                 const rot_policy_t *policy,
                                 const uint8_t *head,
                                 const rot_image_view_t *vp,
                                 const uint8_t *payload_digest,
                                 uint32_t expected_type,
                                 rot_verified_image_t *out) {
  const rot_image_view_t *v = vp;
  const rot_image_header_t *h = &v->header;
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
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, v->manifest.head.root_pub,
                   ROT_P384_PUBKEY_LEN, digest, sizeof(digest)));
  hardened_bool_t root_ok =
      rot_ct_equal(digest, policy->root_key_hash, ROT_SHA384_LEN);
  if (root_ok != HARDENED_TRUE) {
    return ROT_ERROR_MANIFEST_WRONG_ROOT;
  }

  /* 3. The root signed the manifest (or a verdict on these bytes is kept). */
  rot_error_t manifest_sig =
      manifest_verdict(c, &v->manifest, v->manifest_bytes, h->manifest_len);
  if (manifest_sig != ROT_OK) {
    return signature_error(manifest_sig, ROT_ERROR_MANIFEST_BAD_SIGNATURE);
  }

  /* 4. The signing key: certified, not revoked, allowed for this type. */
  const rot_manifest_entry_t *key = find_key(&v->manifest, h->key_index);
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
  hardened_bool_t lifecycle_ok =
      hardened_from(lifecycle_boots(policy->lifecycle, h->image_type));
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
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, head,
                   ROT_IMAGE_HEADER_SIZE + (size_t)h->manifest_len,
                   signed_digest, sizeof(signed_digest)));
  rot_error_t image_sig = rot_ecdsa_p384_verify(c, key->pub, signed_digest,
                                                ROT_SHA384_LEN, v->signature);
  if (image_sig != ROT_OK) {
    return signature_error(image_sig, ROT_ERROR_IMAGE_BAD_SIGNATURE);
  }
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, key->pub, ROT_P384_PUBKEY_LEN,
                   out->signer_digest, ROT_SHA384_LEN));

  /* 7. The payload is the one the signed header names. */
  if (payload_digest != NULL) {
    rot_memcpy(digest, payload_digest, sizeof(digest));
  } else {
    ROT_TRY(rot_hash(c, ROT_HASH_SHA384, v->payload, h->payload_len, digest,
                     sizeof(digest)));
  }
  hardened_bool_t payload_ok =
      rot_ct_equal(digest, h->payload_digest, ROT_SHA384_LEN);
  if (payload_ok != HARDENED_TRUE) {
    return ROT_ERROR_IMAGE_DIGEST_MISMATCH;
  }

  /*
   * Second look at every decision before the token is written, one per
   * decision: the saved verdict where it came from a hash or a signature,
   * and where the inputs are the caller's (the type asked for, the
   * policy) the rule again on what they hold now, which also catches a
   * skipped first check.
   */
  HARDENED_CHECK_EQ(region_check(h), ROT_OK);
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
  HARDENED_CHECK_NE(lifecycle_boots(policy->lifecycle, h->image_type), 0);
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
  rot_error_t err = verify_parsed(c, policy, image, &v, NULL, expected_type, out);
  if (err != ROT_OK) {
    rot_memset(out, 0, sizeof(*out));
  }
  return err;
}

rot_error_t rot_image_verify_digest(const rot_crypto_t *c,
                                    const rot_policy_t *policy,
                                    const uint8_t *head, size_t head_len,
                                    const uint8_t sig[ROT_IMAGE_SIG_SIZE],
                                    const uint8_t payload_digest[ROT_SHA384_LEN],
                                    uint32_t expected_type,
                                    rot_verified_image_t *out) {
  if (out != NULL) {
    rot_memset(out, 0, sizeof(*out));
  }
  if (c == NULL || policy == NULL || head == NULL || sig == NULL ||
      payload_digest == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* 1. Structure, as rot_image_parse checks it, minus the payload bytes. */
  rot_image_view_t v;
  ROT_TRY(parse_view(head, head_len, 0, &v));
  v.payload = NULL;
  v.signature = sig;
  rot_error_t err = verify_parsed(c, policy, head, &v, payload_digest,
                                  expected_type, out);
  if (err != ROT_OK) {
    rot_memset(out, 0, sizeof(*out));
  }
  return err;
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
