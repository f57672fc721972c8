/*
 * bc_check_read_image: the image the boot chain read back must be the
 * image the chip verified. The chip's description of it is built the way
 * rotd builds it, from a real verification of a really signed image, and
 * it crosses the mailbox codec; the bytes read are then edited the ways a
 * hostile flash or daemon path could edit them. Each edit must be
 * refused, and the first cases are ones that the payload digest and the
 * header facts alone would have let through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bootchain/measure.h"
#include "rot/image.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot/policy.h"
#include "rot/update.h"
#include "test_keys.h"

#define TYPE ROT_IMAGE_TYPE_HYPERVISOR
#define PAYLOAD_LEN 4096u
#define HOFF(field_) offsetof(rot_image_header_t, field_)

typedef struct fixture {
  uint8_t *img; /* the image the chip verified */
  size_t len;
  rot_mbox_image_info_t info; /* the chip's BOOT reply, decoded */
  rot_image_view_t view;
  const char *what;
} fixture_t;

/* Verify as the chip does, describe the result as rotd does, and carry
 * the description over the wire codec the boot chain decodes. */
static rot_mbox_image_info_t chip_info(const uint8_t *img, size_t len) {
  rot_verified_image_t v;
  assert_int_equal(rot_image_verify(test_crypto(), &test_keys()->policy, img,
                                    len, TYPE, &v),
                   ROT_OK);
  assert_int_equal(rot_verified_check(&v), ROT_OK);
  rot_mbox_boot_resp_t resp;
  memset(&resp, 0, sizeof(resp));
  resp.reason = ROT_BOOT_ACTIVE;
  resp.why = (uint32_t)ROT_OK;
  resp.info.image_type = v.image_type;
  resp.info.region = ROT_RGN_HYPERVISOR_A;
  resp.info.svn = v.svn;
  resp.info.key_index = v.key_index;
  resp.info.ver_major = v.ver_major;
  resp.info.ver_minor = v.ver_minor;
  resp.info.ver_patch = v.ver_patch;
  resp.info.payload_len = v.payload_len;
  resp.info.image_len = (uint32_t)len;
  memcpy(resp.info.payload_digest, v.payload_digest, ROT_SHA384_LEN);
  memcpy(resp.info.signed_digest, v.signed_digest, ROT_SHA384_LEN);
  uint8_t wire[ROT_MBOX_BOOT_RESP_SIZE];
  size_t n = 0;
  assert_int_equal(rot_mbox_boot_resp_encode(&resp, wire, sizeof(wire), &n),
                   ROT_OK);
  assert_int_equal(n, ROT_MBOX_BOOT_RESP_SIZE);
  rot_mbox_boot_resp_t got;
  assert_int_equal(rot_mbox_boot_resp_decode(wire, n, &got), ROT_OK);
  return got.info;
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  if (f == NULL) {
    return -1;
  }
  f->img = test_image_default(TYPE, PAYLOAD_LEN, &f->len);
  f->info = chip_info(f->img, f->len);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  free(f->img);
  free(f);
  return 0;
}

/*
 * The boot chain's own path (bc_check_read_head_digest: header and
 * manifest apart, the payload's SHA-384 taken as it was read) on the same
 * bytes: it must reach the same verdict, and name the same part, as the
 * whole-image check. Run where the bytes hold a whole header and
 * manifest, as the chain only gets that far with one.
 */
static void cross_check_head(fixture_t *f, const uint8_t *img, size_t len,
                             rot_error_t whole, const char *whole_what) {
  rot_image_header_t h;
  if (len < ROT_IMAGE_HEADER_SIZE ||
      rot_image_header_parse(img, len, &h) != ROT_OK ||
      len < ROT_IMAGE_HEADER_SIZE + (size_t)h.manifest_len) {
    return;
  }
  size_t head_len = ROT_IMAGE_HEADER_SIZE + (size_t)h.manifest_len;
  uint8_t d[ROT_SHA384_LEN] = {0};
  if (len - head_len >= h.payload_len) {
    assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA384, img + head_len,
                              h.payload_len, d, sizeof(d)),
                     ROT_OK);
  }
  rot_image_header_t got;
  const char *what = NULL;
  rot_error_t err = bc_check_read_head_digest(test_crypto(), TYPE, img,
                                              head_len, len, &f->info, d, &got,
                                              &what);
  assert_int_equal(err, whole);
  assert_non_null(what);
  if (whole_what != NULL && strcmp(whole_what, "not a well-formed image") != 0) {
    assert_string_equal(what, whole_what);
  }
  if (err == ROT_OK) {
    assert_memory_equal(&got, &h, sizeof(h));
  }
}

static rot_error_t check(fixture_t *f, const uint8_t *img, size_t len) {
  f->what = NULL;
  rot_error_t err = bc_check_read_image(test_crypto(), TYPE, img, len, &f->info,
                                        &f->view, &f->what);
  cross_check_head(f, img, len, err, f->what);
  return err;
}

/* Refused as a mismatch, naming the part that differs. */
static void assert_mismatch(fixture_t *f, const uint8_t *img, size_t len,
                            const char *part) {
  assert_int_equal(check(f, img, len), ROT_ERROR_HANDOFF_MISMATCH);
  assert_non_null(f->what);
  assert_non_null(strstr(f->what, part));
  assert_null(f->view.payload); /* nothing to seal */
}

/* The same payload, signed by a certified key into a different image. */
static uint8_t *resigned(const rot_image_header_t *tmpl, const uint8_t *manifest,
                         size_t manifest_len, size_t *len) {
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  uint8_t *img = test_image_sign(tmpl, manifest, manifest_len,
                                 test_keys()->signer.priv, payload, PAYLOAD_LEN,
                                 len);
  free(payload);
  return img;
}

static void measure_test_check_read_image_accepts_verified(void **state) {
  fixture_t *f = *state;
  assert_int_equal(check(f, f->img, f->len), ROT_OK);
  assert_string_equal(f->what, "");
  const rot_image_header_t h = test_header(TYPE);
  assert_int_equal(f->view.header.load_addr, h.load_addr);
  assert_int_equal(f->view.header.payload_len, PAYLOAD_LEN);
  assert_ptr_equal(f->view.payload,
                   f->img + ROT_IMAGE_HEADER_SIZE + f->view.header.manifest_len);
  /* No signature check here: only equality with what the chip verified. */
  assert_ptr_equal(f->view.signature, f->view.payload + PAYLOAD_LEN);
}

/* With the payload digest handed in (the boot chain's hash of the sealed
 * copy): the chip's digest accepts, any other is a payload mismatch even
 * though the image bytes themselves are the verified ones. */
static void measure_test_check_read_image_digest(void **state) {
  fixture_t *f = *state;
  uint8_t d[ROT_SHA384_LEN];
  const char *what = NULL;
  memcpy(d, f->info.payload_digest, sizeof(d));
  assert_int_equal(bc_check_read_image_digest(test_crypto(), TYPE, f->img, f->len,
                                              &f->info, d, &f->view, &what),
                   ROT_OK);
  d[47] ^= 0x01;
  assert_int_equal(bc_check_read_image_digest(test_crypto(), TYPE, f->img, f->len,
                                              &f->info, d, &f->view, &what),
                   ROT_ERROR_HANDOFF_MISMATCH);
  assert_non_null(strstr(what, "payload differs"));
  assert_null(f->view.payload);
}

static void measure_test_check_read_image_other_load_addr_signed(void **state) {
  fixture_t *f = *state;
  /* A validly signed image with the verified payload, type, SVN, key,
   * version and length: only the load address differs. */
  rot_image_header_t h = test_header(TYPE);
  h.load_addr += 0x1000u;
  h.entry_point = h.load_addr;
  size_t len = 0;
  uint8_t *img = resigned(&h, test_keys()->manifest, test_keys()->manifest_len,
                          &len);
  assert_int_equal(len, f->len);
  assert_mismatch(f, img, len, "header or key manifest");
  free(img);
}

static void measure_test_check_read_image_other_flags_signed(void **state) {
  fixture_t *f = *state;
  rot_image_header_t h = test_header(TYPE);
  h.flags = ROT_IMAGE_FLAG_DEV_ONLY;
  size_t len = 0;
  uint8_t *img = resigned(&h, test_keys()->manifest, test_keys()->manifest_len,
                          &len);
  assert_mismatch(f, img, len, "header or key manifest");
  free(img);
}

static void measure_test_check_read_image_other_manifest_signed(void **state) {
  fixture_t *f = *state;
  /* Same keys, same length, certified by another root. */
  const test_keys_t *k = test_keys();
  assert_int_equal(k->other_manifest_len, k->manifest_len);
  rot_image_header_t h = test_header(TYPE);
  size_t len = 0;
  uint8_t *img = resigned(&h, k->other_manifest, k->other_manifest_len, &len);
  assert_int_equal(len, f->len);
  assert_mismatch(f, img, len, "header or key manifest");
  free(img);
}

static void measure_test_check_read_image_header_byte_flipped(void **state) {
  fixture_t *f = *state;
  /* Fields that still parse: entry point inside the payload, version, and
   * the header's copy of the payload digest. */
  const size_t offs[] = {HOFF(entry_point), HOFF(ver_minor),
                         HOFF(payload_digest) + 5u};
  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
    uint8_t *img = test_copy(f->img, f->len);
    img[offs[i]] ^= 0x10u;
    assert_mismatch(f, img, f->len, "header or key manifest");
    free(img);
  }
}

static void measure_test_check_read_image_manifest_byte_flipped(void **state) {
  fixture_t *f = *state;
  size_t mlen = test_keys()->manifest_len;
  /* A certified public key, an allowed-types bit, the root signature. */
  const size_t offs[] = {ROT_MANIFEST_HEAD_SIZE + 8u + 17u,
                         ROT_MANIFEST_HEAD_SIZE + 4u, mlen - 1u};
  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
    uint8_t *img = test_copy(f->img, f->len);
    img[ROT_IMAGE_HEADER_SIZE + offs[i]] ^= 0x08u;
    assert_mismatch(f, img, f->len, "header or key manifest");
    free(img);
  }
}

static void measure_test_check_read_image_payload_byte_flipped(void **state) {
  fixture_t *f = *state;
  size_t start = ROT_IMAGE_HEADER_SIZE + test_keys()->manifest_len;
  const size_t offs[] = {start, start + PAYLOAD_LEN / 2u,
                         start + PAYLOAD_LEN - 1u};
  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
    uint8_t *img = test_copy(f->img, f->len);
    img[offs[i]] ^= 0x01u;
    assert_mismatch(f, img, f->len, "payload differs");
    free(img);
  }
}

static void measure_test_check_read_image_signature_not_compared(void **state) {
  fixture_t *f = *state;
  /* The signature is not the image: the chip checked it, and the two
   * digests already pin every byte it covers. */
  uint8_t *img = test_copy(f->img, f->len);
  img[f->len - 1u] ^= 0xffu;
  assert_int_equal(check(f, img, f->len), ROT_OK);
  free(img);
}

static void measure_test_check_read_image_info_fields_differ(void **state) {
  fixture_t *f = *state;
  const rot_mbox_image_info_t good = f->info;
  for (int field = 0; field < 7; field++) {
    f->info = good;
    switch (field) {
      case 0: f->info.svn++; break;
      case 1: f->info.key_index = TEST_KEY_INDEX_DTB; break;
      case 2: f->info.ver_major++; break;
      case 3: f->info.ver_patch++; break;
      case 4: f->info.payload_len--; break;
      case 5: f->info.image_type = ROT_IMAGE_TYPE_RECOVERY; break;
      default: f->info.payload_digest[0] ^= 0x01u; break;
    }
    rot_error_t err = check(f, f->img, f->len);
    assert_int_equal(err, ROT_ERROR_HANDOFF_MISMATCH);
    assert_non_null(f->what);
    assert_string_not_equal(f->what, "");
  }
  f->info = good;
  /* The chip verified it as one type, the chain asked for another. */
  assert_int_equal(bc_check_read_image(test_crypto(), ROT_IMAGE_TYPE_RECOVERY,
                                       f->img, f->len, &f->info, &f->view,
                                       &f->what),
                   ROT_ERROR_HANDOFF_MISMATCH);
  assert_non_null(strstr(f->what, "header fields"));
}

static void measure_test_check_read_image_signed_digest_zero(void **state) {
  fixture_t *f = *state;
  /* What an INVENTORY entry carries for a header nothing verified. */
  memset(f->info.signed_digest, 0, sizeof(f->info.signed_digest));
  assert_mismatch(f, f->img, f->len, "header or key manifest");
  /* One differing bit anywhere in the digest is enough. */
  f->info = chip_info(f->img, f->len);
  f->info.signed_digest[ROT_SHA384_LEN - 1u] ^= 0x80u;
  assert_mismatch(f, f->img, f->len, "header or key manifest");
}

static void measure_test_check_read_image_wrong_lengths(void **state) {
  fixture_t *f = *state;
  uint8_t *img = malloc(f->len + 1u);
  assert_non_null(img);
  memcpy(img, f->img, f->len);
  img[f->len] = 0;
  /* Fewer or more bytes than the chip said the image has. */
  assert_mismatch(f, img, f->len - 1u, "length");
  assert_mismatch(f, img, f->len + 1u, "length");
  /* The chip's own length disagreeing with the image's structure. */
  f->info.image_len = (uint32_t)f->len - 1u;
  assert_int_equal(check(f, img, f->len - 1u), ROT_ERROR_IMAGE_TRUNCATED);
  assert_null(f->view.payload);
  f->info.image_len = (uint32_t)f->len + 1u;
  assert_int_equal(check(f, img, f->len + 1u), ROT_ERROR_IMAGE_TRAILING_DATA);
  f->info.image_len = 0;
  assert_int_equal(check(f, img, 0), ROT_ERROR_IMAGE_TRUNCATED);
  free(img);
}

static void measure_test_check_read_image_null(void **state) {
  fixture_t *f = *state;
  const rot_crypto_t *c = test_crypto();
  assert_int_equal(bc_check_read_image(NULL, TYPE, f->img, f->len, &f->info,
                                       &f->view, &f->what),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_check_read_image(c, TYPE, NULL, f->len, &f->info,
                                       &f->view, &f->what),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_check_read_image(c, TYPE, f->img, f->len, NULL,
                                       &f->view, &f->what),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_check_read_image(c, TYPE, f->img, f->len, &f->info, NULL,
                                       &f->what),
                   ROT_ERROR_INVALID_ARGUMENT);
  /* The reason is optional. */
  assert_int_equal(bc_check_read_image(c, TYPE, f->img, f->len, &f->info,
                                       &f->view, NULL),
                   ROT_OK);
}

/* The head alone: a head of another length than its header declares, a
 * wrong whole length, and the arguments it needs. */
static void measure_test_check_read_head_refusals(void **state) {
  fixture_t *f = *state;
  const rot_crypto_t *c = test_crypto();
  size_t head_len = ROT_IMAGE_HEADER_SIZE + test_keys()->manifest_len;
  const uint8_t *d = f->info.payload_digest;
  rot_image_header_t h;
  const char *what = NULL;
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len, f->len,
                                             &f->info, d, &h, &what),
                   ROT_OK);
  assert_string_equal(what, "");
  assert_int_equal(h.payload_len, PAYLOAD_LEN);
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len - 1u,
                                             f->len, &f->info, d, &h, &what),
                   ROT_ERROR_IMAGE_BAD_LENGTH);
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len + 1u,
                                             f->len, &f->info, d, &h, &what),
                   ROT_ERROR_IMAGE_BAD_LENGTH);
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len,
                                             f->len - 1u, &f->info, d, &h, &what),
                   ROT_ERROR_HANDOFF_MISMATCH);
  assert_non_null(strstr(what, "length differs"));
  rot_mbox_image_info_t shorter = f->info;
  shorter.image_len--;
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len,
                                             f->len - 1u, &shorter, d, &h, &what),
                   ROT_ERROR_IMAGE_TRUNCATED);
  rot_mbox_image_info_t longer = f->info;
  longer.image_len++;
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len,
                                             f->len + 1u, &longer, d, &h, &what),
                   ROT_ERROR_IMAGE_TRAILING_DATA);
  /* Shorter than a header: refused by the header parser. */
  assert_int_not_equal(bc_check_read_head_digest(c, TYPE, f->img, 10u, f->len,
                                                 &f->info, d, &h, &what),
                       ROT_OK);
  assert_int_equal(bc_check_read_head_digest(NULL, TYPE, f->img, head_len,
                                             f->len, &f->info, d, &h, &what),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_check_read_head_digest(c, TYPE, NULL, head_len, f->len,
                                             &f->info, d, &h, &what),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len, f->len,
                                             NULL, d, &h, &what),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len, f->len,
                                             &f->info, NULL, &h, &what),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_check_read_head_digest(c, TYPE, f->img, head_len, f->len,
                                             &f->info, d, NULL, &what),
                   ROT_ERROR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name_) cmocka_unit_test_setup_teardown(name_, setup, teardown)
      T(measure_test_check_read_image_accepts_verified),
      T(measure_test_check_read_image_digest),
      T(measure_test_check_read_image_other_load_addr_signed),
      T(measure_test_check_read_image_other_flags_signed),
      T(measure_test_check_read_image_other_manifest_signed),
      T(measure_test_check_read_image_header_byte_flipped),
      T(measure_test_check_read_image_manifest_byte_flipped),
      T(measure_test_check_read_image_payload_byte_flipped),
      T(measure_test_check_read_image_signature_not_compared),
      T(measure_test_check_read_image_info_fields_differ),
      T(measure_test_check_read_image_signed_digest_zero),
      T(measure_test_check_read_image_wrong_lengths),
      T(measure_test_check_read_image_null),
      T(measure_test_check_read_head_refusals),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
