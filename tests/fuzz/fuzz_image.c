/*
 * libFuzzer target for the signed-image and key-manifest parsers and the
 * verifier behind them.
 *
 * Every input is tried three ways: as an image header, as a bare key
 * manifest, and as a whole image. An input that parses as an image is then
 * verified twice: against a policy that trusts the root key it carries
 * (so verification gets past the root check into both ECDSA verifications
 * and the payload digest), and against a fixed foreign root, which must
 * always refuse it. An image that verifies is tried once more with the
 * other ECDSA signature (r, n - s), which must be refused as non-canonical.
 * The pre-hashed verify (rot_image_verify_digest, the update engine's
 * path) must agree with rot_image_verify on every parsed image. Besides
 * the sanitizers, the target traps when the parsers disagree with each
 * other or a verdict breaks an invariant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rot/crypto.h"
#include "rot/image.h"
#include "rot/util.h"
#include "rot_host/crypto_mbedtls.h"
#include "bootchain/measure.h"
#include "fuzz.h"

static void check_header(const rot_image_header_t *h) {
  CHECK(h->magic == ROT_IMAGE_MAGIC);
  CHECK(h->image_type >= ROT_IMAGE_TYPE_MIN &&
        h->image_type <= ROT_IMAGE_TYPE_MAX);
  CHECK(h->svn <= ROT_SVN_MAX);
  CHECK(h->payload_len > 0 && h->payload_len <= ROT_IMAGE_MAX_PAYLOAD);
  CHECK(h->manifest_len >= ROT_MANIFEST_SIZE(1) &&
        h->manifest_len <= ROT_MANIFEST_MAX_SIZE);
  const rot_region_t *r = rot_image_region(h->image_type);
  CHECK(r != NULL);
  CHECK(h->load_addr >= r->base && h->load_addr < r->end);
  CHECK(h->payload_len <= r->end - h->load_addr);
  uint64_t align = h->image_type == ROT_IMAGE_TYPE_DTB ? ROT_IMAGE_DTB_ALIGN
                                                       : ROT_IMAGE_CODE_ALIGN;
  CHECK(h->load_addr % align == 0);
  if (r->executable) {
    CHECK(h->entry_point >= h->load_addr &&
          h->entry_point - h->load_addr < h->payload_len);
    CHECK(h->entry_point % ROT_IMAGE_CODE_ALIGN == 0);
  } else {
    CHECK(h->entry_point == 0);
  }
  CHECK(rot_image_expected_len(h) != 0);
}

static void check_manifest(const rot_manifest_t *m, const uint8_t *buf,
                           size_t len) {
  CHECK(m->head.key_count >= 1 && m->head.key_count <= ROT_MANIFEST_MAX_KEYS);
  CHECK(len == ROT_MANIFEST_SIZE((size_t)m->head.key_count));
  CHECK(m->signed_bytes == buf && m->signed_len + ROT_P384_SIG_LEN == len);
  uint32_t seen = 0;
  for (size_t i = 0; i < m->head.key_count; i++) {
    CHECK(m->keys[i].key_index < ROT_MAX_KEY_INDEX);
    CHECK((seen & (1u << m->keys[i].key_index)) == 0);
    seen |= 1u << m->keys[i].key_index;
  }
}

/*
 * bootchain checks a payload read straight into its sealed memfd from the
 * header and manifest alone (bc_check_read_head_digest); it must reach the
 * verdict the whole-image check reaches on the same bytes. The chip's
 * report is made to agree with the header, so the structural checks, not
 * the comparison, decide.
 */
static void check_head_agrees(const rot_crypto_t *c, const uint8_t *data,
                              size_t size, const rot_image_header_t *h,
                              rot_error_t herr) {
  /* bootchain asks for the head check once it holds the whole head: a
   * header that parses and the manifest it declares. */
  if (herr != ROT_OK || h->manifest_len > size - ROT_IMAGE_HEADER_SIZE) {
    return;
  }
  rot_mbox_image_info_t info;
  rot_memset(&info, 0, sizeof(info));
  size_t head_len = ROT_IMAGE_HEADER_SIZE + h->manifest_len;
  info.image_type = h->image_type;
  info.svn = h->svn;
  info.key_index = h->key_index;
  info.ver_major = h->ver_major;
  info.ver_minor = h->ver_minor;
  info.ver_patch = h->ver_patch;
  info.payload_len = h->payload_len;
  rot_memcpy(info.payload_digest, h->payload_digest, ROT_SHA384_LEN);
  info.image_len = (uint32_t)size;
  CHECK(rot_hash(c, ROT_HASH_SHA384, data, head_len, info.signed_digest,
                 sizeof(info.signed_digest)) == ROT_OK);
  rot_image_view_t v;
  rot_image_header_t hh;
  rot_error_t whole = bc_check_read_image_digest(
      c, h->image_type, data, size, &info, info.payload_digest, &v, NULL);
  rot_error_t head = bc_check_read_head_digest(
      c, h->image_type, data, head_len, size, &info, info.payload_digest, &hh, NULL);
  CHECK(whole == head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const rot_crypto_t *c = rot_host_crypto();
  if (c == NULL) {
    return 0;
  }

  rot_image_header_t h;
  rot_error_t herr = rot_image_header_parse(data, size, &h);
  if (herr == ROT_OK) {
    CHECK(size >= ROT_IMAGE_HEADER_SIZE);
    check_header(&h);
  }

  /* The input as a bare manifest, root signature checked as verify would. */
  rot_manifest_t m;
  if (rot_manifest_parse(data, size, &m) == ROT_OK) {
    check_manifest(&m, data, size);
    uint8_t d[ROT_SHA384_LEN];
    CHECK(rot_hash(c, ROT_HASH_SHA384, m.signed_bytes, m.signed_len, d,
                   sizeof(d)) == ROT_OK);
    rot_error_t e = rot_ecdsa_p384_verify(c, m.head.root_pub, d, sizeof(d),
                                          m.root_sig);
    CHECK(e == ROT_OK || e == ROT_ERROR_CRYPTO_SIG_RANGE ||
          e == ROT_ERROR_CRYPTO_SIG_HIGH_S || e == ROT_ERROR_CRYPTO_BAD_KEY ||
          e == ROT_ERROR_CRYPTO_BAD_SIGNATURE);
    if (e == ROT_OK) {
      CHECK(rot_p384_low_s_check(m.root_sig + ROT_P384_SCALAR_LEN) == ROT_OK);
    }
  }

  rot_image_view_t v;
  rot_error_t perr = rot_image_parse(data, size, &v);
  if (herr != ROT_OK) {
    CHECK(perr == herr); /* the header is judged first, the same way */
  }
  check_head_agrees(c, data, size, &h, herr);

  rot_verified_image_t out;
  rot_policy_t foreign;
  rot_memset(&foreign, 0, sizeof(foreign));
  rot_memset(foreign.root_key_hash, 0x5a, sizeof(foreign.root_key_hash));
  foreign.lifecycle = ROT_LIFECYCLE_DEV;

  if (perr != ROT_OK) {
    /* Verification parses first and must stop with the parser's verdict. */
    CHECK(rot_image_verify(c, &foreign, data, size, ROT_IMAGE_TYPE_ANY,
                           &out) == perr);
    CHECK(out.token != ROT_VERIFY_TOKEN_VALID);
    /* The input as header || manifest of a pre-hashed image (the update
     * engine's path): never accepted under a foreign root. */
    static const uint8_t zero[ROT_SHA384_LEN];
    if (size >= ROT_IMAGE_SIG_SIZE) {
      CHECK(rot_image_verify_digest(c, &foreign, data, size,
                                    data + size - ROT_IMAGE_SIG_SIZE, zero,
                                    ROT_IMAGE_TYPE_ANY, &out) != ROT_OK);
      CHECK(out.token != ROT_VERIFY_TOKEN_VALID);
    }
    return 0;
  }

  check_header(&v.header);
  check_manifest(&v.manifest, v.manifest_bytes, v.header.manifest_len);
  CHECK(v.total_len == size);
  CHECK(v.manifest_bytes == data + ROT_IMAGE_HEADER_SIZE);
  CHECK(v.payload == v.manifest_bytes + v.header.manifest_len);
  CHECK(v.signature == v.payload + v.header.payload_len);
  CHECK(v.signature + ROT_IMAGE_SIG_SIZE == data + size);

  /* No input can carry the preimage of the foreign root hash. */
  CHECK(rot_image_verify(c, &foreign, data, size, ROT_IMAGE_TYPE_ANY, &out) ==
        ROT_ERROR_MANIFEST_WRONG_ROOT);
  CHECK(rot_verified_check(&out) != ROT_OK);

  /* Trust the input's own root so every later check is reached. */
  rot_policy_t own;
  rot_memset(&own, 0, sizeof(own));
  CHECK(rot_hash(c, ROT_HASH_SHA384, v.manifest.head.root_pub,
                 ROT_P384_PUBKEY_LEN, own.root_key_hash,
                 sizeof(own.root_key_hash)) == ROT_OK);
  own.lifecycle = ROT_LIFECYCLE_DEV;
  rot_error_t verr =
      rot_image_verify(c, &own, data, size, ROT_IMAGE_TYPE_ANY, &out);
  /* The pre-hashed path (header || manifest, signature, payload digest)
   * reaches the same verdict and the same token. */
  {
    uint8_t pd[ROT_SHA384_LEN];
    rot_verified_image_t dv;
    CHECK(rot_hash(c, ROT_HASH_SHA384, v.payload, v.header.payload_len, pd,
                   sizeof(pd)) == ROT_OK);
    CHECK(rot_image_verify_digest(c, &own, data,
                                  ROT_IMAGE_HEADER_SIZE + v.header.manifest_len,
                                  v.signature, pd, ROT_IMAGE_TYPE_ANY,
                                  &dv) == verr);
    CHECK(verr != ROT_OK || rot_memeq(&dv, &out, sizeof(dv)));
  }
  if (verr != ROT_OK) {
    CHECK(out.token != ROT_VERIFY_TOKEN_VALID);
    CHECK(rot_verified_check(&out) != ROT_OK);
    return 0;
  }
  CHECK(rot_verified_check(&out) == ROT_OK);
  CHECK(out.image_type == v.header.image_type);
  CHECK(out.svn == v.header.svn);
  CHECK(out.key_index == v.header.key_index);
  CHECK(out.payload_len == v.header.payload_len);
  CHECK(rot_memeq(out.payload_digest, v.header.payload_digest, ROT_SHA384_LEN));
  CHECK(rot_p384_low_s_check(v.manifest.root_sig + ROT_P384_SCALAR_LEN) ==
        ROT_OK);
  CHECK(rot_p384_low_s_check(v.signature + ROT_P384_SCALAR_LEN) == ROT_OK);

  /* The same image with s replaced by n - s: still valid ECDSA, never
   * accepted. */
  uint8_t *twin = malloc(size);
  CHECK(twin != NULL);
  memcpy(twin, data, size);
  uint8_t *s = twin + size - ROT_P384_SCALAR_LEN;
  unsigned borrow = 0;
  for (size_t i = ROT_P384_SCALAR_LEN; i-- > 0;) {
    unsigned d = (unsigned)rot_p384_order[i] - s[i] - borrow;
    s[i] = (uint8_t)d;
    borrow = (d >> 8) & 1u;
  }
  CHECK(rot_image_verify(c, &own, twin, size, ROT_IMAGE_TYPE_ANY, &out) ==
        ROT_ERROR_CRYPTO_SIG_HIGH_S);
  CHECK(rot_verified_check(&out) != ROT_OK);
  free(twin);

  /* A valid image under rollback, revocation and production rules. */
  rot_policy_t strict = own;
  strict.svn_floor[v.header.image_type] = v.header.svn + 1u;
  CHECK(rot_image_verify(c, &strict, data, size, ROT_IMAGE_TYPE_ANY, &out) ==
        ROT_ERROR_POLICY_SVN_BELOW_FLOOR);
  strict = own;
  strict.revoked_keys = 1u << v.header.key_index;
  CHECK(rot_image_verify(c, &strict, data, size, ROT_IMAGE_TYPE_ANY, &out) ==
        ROT_ERROR_POLICY_KEY_REVOKED);
  if ((v.header.flags & ROT_IMAGE_FLAG_DEV_ONLY) != 0) {
    strict = own;
    strict.lifecycle = ROT_LIFECYCLE_PROD;
    CHECK(rot_image_verify(c, &strict, data, size, ROT_IMAGE_TYPE_ANY, &out) ==
          ROT_ERROR_POLICY_LIFECYCLE);
  }
  return 0;
}
