/*
 * The signer of signed images and key manifests (rot_client/image_sign.h).
 * Moved out of the core's image.c: what it writes, the core's parser and
 * verifier must accept, and both signers check that before returning.
 */
#include "rot_client/image_sign.h"

#include "rot/util.h"

static void header_encode(const rot_image_header_t *h, uint8_t *b) {
  rot_st32(b + 0, h->magic);
  rot_st16(b + 4, h->format_version);
  rot_st16(b + 6, h->header_size);
  rot_st32(b + 8, h->image_type);
  rot_st32(b + 12, h->flags);
  rot_st16(b + 16, h->ver_major);
  rot_st16(b + 18, h->ver_minor);
  rot_st16(b + 20, h->ver_patch);
  rot_st16(b + 22, h->reserved0);
  rot_st32(b + 24, h->svn);
  rot_st32(b + 28, h->key_index);
  rot_st64(b + 32, h->load_addr);
  rot_st64(b + 40, h->entry_point);
  rot_st32(b + 48, h->payload_len);
  rot_st32(b + 52, h->manifest_len);
  rot_memcpy(b + 56, h->payload_digest, ROT_SHA384_LEN);
  rot_memcpy(b + 104, h->reserved1, sizeof(h->reserved1));
}


static int manifest_has_key(const rot_manifest_t *m, uint32_t key_index) {
  for (size_t i = 0; i < m->head.key_count; i++) {
    if (m->keys[i].key_index == key_index) {
      return 1;
    }
  }
  return 0;
}

rot_error_t rot_manifest_build(const rot_crypto_t *c,
                               const uint8_t root_priv[ROT_P384_SCALAR_LEN],
                               const rot_manifest_entry_t *keys, size_t n,
                               uint8_t *out, size_t out_cap, size_t *out_len) {
  if (c == NULL || root_priv == NULL || keys == NULL || out == NULL ||
      out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (n == 0 || n > ROT_MANIFEST_MAX_KEYS) {
    return ROT_ERROR_MANIFEST_BAD_KEY_COUNT;
  }
  size_t total = ROT_MANIFEST_SIZE(n);
  if (out_cap < total) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  rot_st32(out, ROT_MANIFEST_MAGIC);
  rot_st16(out + 4, ROT_MANIFEST_VERSION);
  rot_st16(out + 6, (uint16_t)n);
  ROT_TRY(c->ecdsa_p384_pubkey(c, root_priv, out + 8));
  for (size_t i = 0; i < n; i++) {
    uint8_t *e = out + ROT_MANIFEST_HEAD_SIZE + i * ROT_MANIFEST_ENTRY_SIZE;
    rot_st32(e, keys[i].key_index);
    rot_st32(e + 4, keys[i].allowed_types);
    rot_memcpy(e + 8, keys[i].pub, ROT_P384_PUBKEY_LEN);
  }
  size_t signed_len = total - ROT_P384_SIG_LEN;
  uint8_t digest[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, out, signed_len, digest, sizeof(digest)));
  ROT_TRY(c->ecdsa_p384_sign(c, root_priv, digest, sizeof(digest),
                             out + signed_len));
  /* The verifier takes only low-S: normalise whatever the backend gave. */
  ROT_TRY(rot_p384_sig_normalize(out + signed_len));
  /* Never emit something our own parser would reject. */
  rot_manifest_t check;
  ROT_TRY(rot_manifest_parse(out, total, &check));
  *out_len = total;
  return ROT_OK;
}

rot_error_t rot_image_sign(const rot_crypto_t *c, const rot_image_header_t *hdr,
                           const uint8_t *manifest, size_t manifest_len,
                           const uint8_t signer_priv[ROT_P384_SCALAR_LEN],
                           const uint8_t *payload, size_t payload_len,
                           uint8_t *out, size_t out_cap, size_t *out_len) {
  if (c == NULL || hdr == NULL || manifest == NULL || signer_priv == NULL ||
      payload == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (payload_len == 0) {
    return ROT_ERROR_IMAGE_EMPTY_PAYLOAD;
  }
  if (payload_len > ROT_IMAGE_MAX_PAYLOAD || manifest_len > ROT_MANIFEST_MAX_SIZE) {
    return ROT_ERROR_IMAGE_BAD_LENGTH;
  }
  rot_manifest_t m;
  ROT_TRY(rot_manifest_parse(manifest, manifest_len, &m));

  rot_image_header_t h = *hdr;
  h.magic = ROT_IMAGE_MAGIC;
  h.format_version = ROT_IMAGE_FORMAT_VERSION;
  h.header_size = ROT_IMAGE_HEADER_SIZE;
  h.reserved0 = 0;
  rot_memset(h.reserved1, 0, sizeof(h.reserved1));
  h.payload_len = (uint32_t)payload_len;
  h.manifest_len = (uint32_t)manifest_len;
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, payload, payload_len, h.payload_digest,
                   sizeof(h.payload_digest)));
  size_t total = rot_image_expected_len(&h);
  if (total == 0) {
    return ROT_ERROR_IMAGE_BAD_LENGTH;
  }
  if (out_cap < total) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  header_encode(&h, out);
  rot_image_header_t check;
  ROT_TRY(rot_image_header_parse(out, total, &check));
  if (!manifest_has_key(&m, h.key_index)) {
    return ROT_ERROR_MANIFEST_KEY_NOT_FOUND;
  }
  rot_memcpy(out + ROT_IMAGE_HEADER_SIZE, manifest, manifest_len);
  rot_memcpy(out + ROT_IMAGE_HEADER_SIZE + manifest_len, payload, payload_len);
  uint8_t digest[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, out, ROT_IMAGE_HEADER_SIZE + manifest_len,
                   digest, sizeof(digest)));
  ROT_TRY(c->ecdsa_p384_sign(c, signer_priv, digest, sizeof(digest),
                             out + total - ROT_IMAGE_SIG_SIZE));
  /* The verifier takes only low-S: normalise whatever the backend gave. */
  ROT_TRY(rot_p384_sig_normalize(out + total - ROT_IMAGE_SIG_SIZE));
  *out_len = total;
  return ROT_OK;
}
