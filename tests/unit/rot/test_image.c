/*
 * Signed image v1: every error path of the parser, the verifier, the
 * token and the signer, with the hostile inputs the format must survive.
 *
 * Every input handed to the code under test sits in a malloc'd buffer of
 * exactly its own size, so ASan turns a read one byte too far into a
 * failure. Every failed verification also checks that its output was
 * wiped and carries no token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rot/image.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/image_sign.h"
#include "test_keys.h"

#define HOFF(field) offsetof(rot_image_header_t, field)
#define HSIZE(field) sizeof(((rot_image_header_t *)0)->field)

#define PAYLOAD_LEN 48u
#define HYP ROT_IMAGE_TYPE_HYPERVISOR

/* Manifest offsets inside the manifest bytes. */
#define M_KEY_COUNT 6u
#define M_ROOT_PUB 8u
#define M_ENTRY(i) (ROT_MANIFEST_HEAD_SIZE + (i) * ROT_MANIFEST_ENTRY_SIZE)
#define M_ENTRY_INDEX 0u
#define M_ENTRY_TYPES 4u
#define M_ENTRY_PUB 8u

/* ---- helpers ------------------------------------------------------------- */

static void put(uint8_t *p, size_t width, uint64_t v) {
  switch (width) {
    case 1:
      p[0] = (uint8_t)v;
      break;
    case 2:
      rot_st16(p, (uint16_t)v);
      break;
    case 4:
      rot_st32(p, (uint32_t)v);
      break;
    case 8:
      rot_st64(p, v);
      break;
    default:
      fail_msg("bad width %zu", width);
  }
}

static uint8_t *good_image(size_t *len) {
  return test_image_default(HYP, PAYLOAD_LEN, len);
}

static size_t manifest_len(void) { return test_keys()->manifest_len; }
static size_t payload_off(void) { return ROT_IMAGE_HEADER_SIZE + manifest_len(); }

/*
 * Verify a copy of img against pol. On failure the output must be wiped
 * and hold no token; on success the token must check.
 */
static rot_error_t verify_as(const rot_policy_t *pol, const uint8_t *img,
                             size_t len, uint32_t expected_type,
                             rot_verified_image_t *out) {
  uint8_t *copy = test_copy(img, len);
  rot_verified_image_t v, zero;
  memset(&v, 0xa5, sizeof(v));
  memset(&zero, 0, sizeof(zero));
  rot_error_t err =
      rot_image_verify(test_crypto(), pol, copy, len, expected_type, &v);
  free(copy);
  if (err == ROT_OK) {
    assert_int_equal(v.token, ROT_VERIFY_TOKEN_VALID);
    assert_int_equal(rot_verified_check(&v), ROT_OK);
  } else {
    assert_int_not_equal(v.token, ROT_VERIFY_TOKEN_VALID);
    assert_memory_equal(&v, &zero, sizeof(v));
    assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  }
  if (out != NULL) {
    *out = v;
  }
  return err;
}

static rot_error_t verify(const uint8_t *img, size_t len) {
  return verify_as(&test_keys()->policy, img, len, ROT_IMAGE_TYPE_ANY, NULL);
}

static rot_error_t verify_policy(const rot_policy_t *pol, const uint8_t *img,
                                 size_t len) {
  return verify_as(pol, img, len, ROT_IMAGE_TYPE_ANY, NULL);
}

static rot_error_t header_parse_copy(const uint8_t *buf, size_t len) {
  uint8_t *copy = test_copy(buf, len);
  rot_image_header_t h;
  rot_error_t err = rot_image_header_parse(copy, len, &h);
  free(copy);
  return err;
}

/* rot_image_parse's verdict; rot_image_parse_head, given the same image's
 * header and manifest and its length, must reach the same one. */
static rot_error_t image_parse_copy(const uint8_t *buf, size_t len) {
  uint8_t *copy = test_copy(buf, len);
  rot_image_view_t v;
  rot_error_t err = rot_image_parse(copy, len, &v);
  rot_image_header_t h;
  if (len > 0 && rot_image_header_parse(copy, len, &h) == ROT_OK &&
      h.manifest_len <= len - ROT_IMAGE_HEADER_SIZE) {
    size_t head_len = ROT_IMAGE_HEADER_SIZE + h.manifest_len;
    rot_image_view_t hv;
    rot_error_t herr = rot_image_parse_head(copy, head_len, len, &hv);
    if (herr != err) {
      fail_msg("whole image: %s, header and manifest: %s", rot_error_name(err),
               rot_error_name(herr));
    }
    if (herr == ROT_OK) {
      assert_memory_equal(&hv.header, &v.header, sizeof(h));
      assert_int_equal(hv.total_len, v.total_len);
      assert_null(hv.payload);
      assert_null(hv.signature);
    }
  }
  free(copy);
  return err;
}

static rot_error_t manifest_parse_copy(const uint8_t *buf, size_t len) {
  uint8_t *copy = test_copy(buf, len);
  rot_manifest_t m;
  rot_error_t err = rot_manifest_parse(copy, len, &m);
  free(copy);
  return err;
}

/*
 * Patch one header field of a good image and check that the header
 * parser (on the bare 128-byte header), the image parser and the verifier
 * all give want.
 */
static void expect_header_field(size_t off, size_t width, uint64_t value,
                                rot_error_t want) {
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + off, width, value);
  assert_int_equal(header_parse_copy(img, ROT_IMAGE_HEADER_SIZE), want);
  assert_int_equal(image_parse_copy(img, len), want);
  assert_int_equal(verify(img, len), want);
  free(img);
}

/* A bare header for header-only checks, built from test_header(type). */
static void raw_header(uint32_t type, uint32_t payload_len,
                       uint8_t out[ROT_IMAGE_HEADER_SIZE]) {
  rot_image_header_t h = test_header(type);
  memset(out, 0, ROT_IMAGE_HEADER_SIZE);
  put(out + HOFF(magic), 4, ROT_IMAGE_MAGIC);
  put(out + HOFF(format_version), 2, ROT_IMAGE_FORMAT_VERSION);
  put(out + HOFF(header_size), 2, ROT_IMAGE_HEADER_SIZE);
  put(out + HOFF(image_type), 4, h.image_type);
  put(out + HOFF(svn), 4, h.svn);
  put(out + HOFF(load_addr), 8, h.load_addr);
  put(out + HOFF(entry_point), 8, h.entry_point);
  put(out + HOFF(payload_len), 4, payload_len);
  put(out + HOFF(manifest_len), 4, ROT_MANIFEST_SIZE(1));
}

static rot_error_t raw_header_parse(const uint8_t hdr[ROT_IMAGE_HEADER_SIZE]) {
  return header_parse_copy(hdr, ROT_IMAGE_HEADER_SIZE);
}

/* ---- rot_image_header_parse ------------------------------------------- */

static void image_test_header_parse_null(void **state) {
  (void)state;
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  rot_image_header_t h;
  raw_header(HYP, PAYLOAD_LEN, hdr);
  assert_int_equal(rot_image_header_parse(NULL, sizeof(hdr), &h),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_header_parse(hdr, sizeof(hdr), NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void image_test_header_parse_empty(void **state) {
  (void)state;
  uint8_t b = 0;
  rot_image_header_t h;
  assert_int_equal(rot_image_header_parse(&b, 0, &h), ROT_ERROR_IMAGE_TRUNCATED);
}

static void image_test_header_parse_truncated_every_length(void **state) {
  (void)state;
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  for (size_t cut = 0; cut < ROT_IMAGE_HEADER_SIZE; cut++) {
    assert_int_equal(header_parse_copy(hdr, cut), ROT_ERROR_IMAGE_TRUNCATED);
  }
}

static void image_test_header_parse_header_alone_ok(void **state) {
  (void)state;
  /* The header is judged on its own 128 bytes: nothing past them is read. */
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
}

static void image_test_header_parse_decodes_fields(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_image_header_t h;
  assert_int_equal(rot_image_header_parse(img, len, &h), ROT_OK);
  rot_image_header_t t = test_header(HYP);
  assert_int_equal(h.magic, ROT_IMAGE_MAGIC);
  assert_int_equal(h.image_type, HYP);
  assert_int_equal(h.ver_major, t.ver_major);
  assert_int_equal(h.ver_minor, t.ver_minor);
  assert_int_equal(h.ver_patch, t.ver_patch);
  assert_int_equal(h.svn, t.svn);
  assert_int_equal(h.key_index, t.key_index);
  assert_int_equal(h.load_addr, t.load_addr);
  assert_int_equal(h.entry_point, t.entry_point);
  assert_int_equal(h.payload_len, PAYLOAD_LEN);
  assert_int_equal(h.manifest_len, manifest_len());
  free(img);
}

static void image_test_header_parse_bad_magic(void **state) {
  (void)state;
  expect_header_field(HOFF(magic), 4, 0, ROT_ERROR_IMAGE_BAD_MAGIC);
  expect_header_field(HOFF(magic), 4, ROT_IMAGE_MAGIC ^ 0x80000000u,
                      ROT_ERROR_IMAGE_BAD_MAGIC);
  expect_header_field(HOFF(magic), 4, ROT_MANIFEST_MAGIC,
                      ROT_ERROR_IMAGE_BAD_MAGIC);
}

static void image_test_header_parse_bad_version(void **state) {
  (void)state;
  expect_header_field(HOFF(format_version), 2, 0, ROT_ERROR_IMAGE_BAD_VERSION);
  expect_header_field(HOFF(format_version), 2, 2, ROT_ERROR_IMAGE_BAD_VERSION);
  expect_header_field(HOFF(format_version), 2, 0xffff,
                      ROT_ERROR_IMAGE_BAD_VERSION);
}

static void image_test_header_parse_bad_header_size(void **state) {
  (void)state;
  expect_header_field(HOFF(header_size), 2, 0, ROT_ERROR_IMAGE_BAD_HEADER_SIZE);
  expect_header_field(HOFF(header_size), 2, ROT_IMAGE_HEADER_SIZE - 1,
                      ROT_ERROR_IMAGE_BAD_HEADER_SIZE);
  expect_header_field(HOFF(header_size), 2, ROT_IMAGE_HEADER_SIZE + 1,
                      ROT_ERROR_IMAGE_BAD_HEADER_SIZE);
  expect_header_field(HOFF(header_size), 2, 0xffff,
                      ROT_ERROR_IMAGE_BAD_HEADER_SIZE);
}

static void image_test_header_parse_bad_type(void **state) {
  (void)state;
  expect_header_field(HOFF(image_type), 4, 0, ROT_ERROR_IMAGE_BAD_TYPE);
  expect_header_field(HOFF(image_type), 4, ROT_IMAGE_TYPE_MAX + 1,
                      ROT_ERROR_IMAGE_BAD_TYPE);
  expect_header_field(HOFF(image_type), 4, 0xffffffffu,
                      ROT_ERROR_IMAGE_BAD_TYPE);
}

static void image_test_header_parse_bad_flags(void **state) {
  (void)state;
  expect_header_field(HOFF(flags), 4, 0x2, ROT_ERROR_IMAGE_BAD_FLAGS);
  expect_header_field(HOFF(flags), 4, 0x80000000u, ROT_ERROR_IMAGE_BAD_FLAGS);
  expect_header_field(HOFF(flags), 4, 0xffffffffu, ROT_ERROR_IMAGE_BAD_FLAGS);
}

static void image_test_header_parse_dev_only_flag_ok(void **state) {
  (void)state;
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  put(hdr + HOFF(flags), 4, ROT_IMAGE_FLAG_DEV_ONLY);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
}

static void image_test_header_parse_reserved0_nonzero(void **state) {
  (void)state;
  expect_header_field(HOFF(reserved0), 2, 1,
                      ROT_ERROR_IMAGE_RESERVED_NONZERO);
  expect_header_field(HOFF(reserved0), 2, 0x8000,
                      ROT_ERROR_IMAGE_RESERVED_NONZERO);
}

static void image_test_header_parse_reserved1_any_byte_nonzero(void **state) {
  (void)state;
  for (size_t i = 0; i < HSIZE(reserved1); i++) {
    uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
    raw_header(HYP, PAYLOAD_LEN, hdr);
    hdr[HOFF(reserved1) + i] = 0x01;
    assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_RESERVED_NONZERO);
  }
  expect_header_field(HOFF(reserved1) + HSIZE(reserved1) - 1, 1, 0x80,
                      ROT_ERROR_IMAGE_RESERVED_NONZERO);
}

static void image_test_header_parse_svn_above_max(void **state) {
  (void)state;
  expect_header_field(HOFF(svn), 4, ROT_SVN_MAX + 1, ROT_ERROR_IMAGE_BAD_SVN);
  expect_header_field(HOFF(svn), 4, 0xffffffffu, ROT_ERROR_IMAGE_BAD_SVN);
}

static void image_test_header_parse_svn_max_ok(void **state) {
  (void)state;
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  put(hdr + HOFF(svn), 4, ROT_SVN_MAX);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
}

static void image_test_header_parse_zero_payload(void **state) {
  (void)state;
  expect_header_field(HOFF(payload_len), 4, 0, ROT_ERROR_IMAGE_EMPTY_PAYLOAD);
}

static void image_test_header_parse_payload_len_all_ones(void **state) {
  (void)state;
  expect_header_field(HOFF(payload_len), 4, 0xffffffffu,
                      ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_payload_len_wraps_32bit_total(void **state) {
  (void)state;
  /* header + manifest + payload + signature == 2^32: 0 on a 32-bit chip. */
  uint64_t p = 0x100000000ull - ROT_IMAGE_HEADER_SIZE - manifest_len() -
               ROT_IMAGE_SIG_SIZE;
  expect_header_field(HOFF(payload_len), 4, p, ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_payload_len_above_max(void **state) {
  (void)state;
  expect_header_field(HOFF(payload_len), 4, ROT_IMAGE_MAX_PAYLOAD + 1u,
                      ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_payload_len_max_ok(void **state) {
  (void)state;
  /* The dtb window is larger than the payload limit, so only the limit binds. */
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(ROT_IMAGE_TYPE_DTB, ROT_IMAGE_MAX_PAYLOAD, hdr);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
  put(hdr + HOFF(payload_len), 4, ROT_IMAGE_MAX_PAYLOAD + 1u);
  assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_manifest_len_all_ones(void **state) {
  (void)state;
  expect_header_field(HOFF(manifest_len), 4, 0xffffffffu,
                      ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_manifest_len_zero(void **state) {
  (void)state;
  expect_header_field(HOFF(manifest_len), 4, 0, ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_manifest_len_below_one_key(void **state) {
  (void)state;
  expect_header_field(HOFF(manifest_len), 4, ROT_MANIFEST_SIZE(1) - 1,
                      ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_manifest_len_above_max(void **state) {
  (void)state;
  expect_header_field(HOFF(manifest_len), 4, ROT_MANIFEST_MAX_SIZE + 1,
                      ROT_ERROR_IMAGE_BAD_LENGTH);
}

static void image_test_header_parse_manifest_len_max_ok(void **state) {
  (void)state;
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  put(hdr + HOFF(manifest_len), 4, ROT_MANIFEST_MAX_SIZE);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
}

static void image_test_header_parse_load_below_region(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  expect_header_field(HOFF(load_addr), 8, r->base - 1,
                      ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
  expect_header_field(HOFF(load_addr), 8, 0, ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
}

static void image_test_header_parse_load_at_region_end(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  expect_header_field(HOFF(load_addr), 8, r->end,
                      ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
}

static void image_test_header_parse_load_near_2_64(void **state) {
  (void)state;
  /* load + len would wrap 64 bits and land "inside" a naive check. */
  expect_header_field(HOFF(load_addr), 8, 0xfffffffffffffff0ull,
                      ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
  expect_header_field(HOFF(load_addr), 8, 0xffffffffffffffffull,
                      ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
}

static void image_test_header_parse_payload_ends_past_region(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  put(hdr + HOFF(load_addr), 8, r->end - PAYLOAD_LEN);
  put(hdr + HOFF(entry_point), 8, r->end - PAYLOAD_LEN);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
  /* Aligned, so only the window rule can refuse it. */
  put(hdr + HOFF(load_addr), 8, r->end - PAYLOAD_LEN + ROT_IMAGE_CODE_ALIGN);
  put(hdr + HOFF(entry_point), 8, r->end - PAYLOAD_LEN + ROT_IMAGE_CODE_ALIGN);
  assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
  /* Unaligned and past the end: the window is judged first. */
  put(hdr + HOFF(load_addr), 8, r->end - PAYLOAD_LEN + 1);
  put(hdr + HOFF(entry_point), 8, r->end - PAYLOAD_LEN + 1);
  assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
}

static void image_test_header_parse_entry_last_word_ok(void **state) {
  (void)state;
  /* The last aligned instruction of the payload is a valid entry. */
  const rot_region_t *r = rot_image_region(HYP);
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  put(hdr + HOFF(entry_point), 8, r->base + PAYLOAD_LEN - ROT_IMAGE_CODE_ALIGN);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
}

static void image_test_header_parse_entry_misaligned(void **state) {
  (void)state;
  /* Inside the payload but not on a 4-byte boundary: 2-byte (RVC) entry
   * points are refused too, every stage is linked 4-byte aligned. */
  const rot_region_t *r = rot_image_region(HYP);
  const uint64_t off[] = {1, 2, 3, 6, PAYLOAD_LEN - 1, PAYLOAD_LEN - 2};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(off); i++) {
    expect_header_field(HOFF(entry_point), 8, r->base + off[i],
                        ROT_ERROR_IMAGE_ENTRY_MISALIGNED);
  }
}

static void image_test_header_parse_entry_aligned_ok(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(HYP, PAYLOAD_LEN, hdr);
  for (uint64_t off = 0; off < PAYLOAD_LEN; off += ROT_IMAGE_CODE_ALIGN) {
    put(hdr + HOFF(entry_point), 8, r->base + off);
    assert_int_equal(raw_header_parse(hdr), ROT_OK);
  }
}

static void image_test_header_parse_load_misaligned(void **state) {
  (void)state;
  /* Every executable type: a load address off a 4-byte boundary, with the
   * entry at the load address as the stages are built. */
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    const rot_region_t *r = rot_image_region(t);
    if (!r->executable) {
      continue;
    }
    for (uint64_t off = 1; off < ROT_IMAGE_CODE_ALIGN; off++) {
      uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
      raw_header(t, PAYLOAD_LEN, hdr);
      put(hdr + HOFF(load_addr), 8, r->base + off);
      put(hdr + HOFF(entry_point), 8, r->base + off);
      assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_LOAD_MISALIGNED);
    }
    uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
    raw_header(t, PAYLOAD_LEN, hdr);
    put(hdr + HOFF(load_addr), 8, r->base + ROT_IMAGE_CODE_ALIGN);
    put(hdr + HOFF(entry_point), 8, r->base + ROT_IMAGE_CODE_ALIGN);
    assert_int_equal(raw_header_parse(hdr), ROT_OK);
  }
}

static void image_test_header_parse_dtb_load_alignment(void **state) {
  (void)state;
  /* A device tree is placed, never entered: its load address must be
   * 8-byte aligned (devicetree specification) and its entry stays 0. */
  const rot_region_t *r = rot_image_region(ROT_IMAGE_TYPE_DTB);
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  for (uint64_t off = 1; off < ROT_IMAGE_DTB_ALIGN; off++) {
    raw_header(ROT_IMAGE_TYPE_DTB, PAYLOAD_LEN, hdr);
    put(hdr + HOFF(load_addr), 8, r->base + off);
    assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_LOAD_MISALIGNED);
  }
  raw_header(ROT_IMAGE_TYPE_DTB, PAYLOAD_LEN, hdr);
  put(hdr + HOFF(load_addr), 8, r->base + ROT_IMAGE_DTB_ALIGN);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
  /* A 4-aligned entry does not make a dtb enterable. */
  put(hdr + HOFF(entry_point), 8, r->base + ROT_IMAGE_DTB_ALIGN);
  assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_BAD_ENTRY);
}

static void image_test_header_parse_entry_one_past_payload(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  expect_header_field(HOFF(entry_point), 8, r->base + PAYLOAD_LEN,
                      ROT_ERROR_IMAGE_BAD_ENTRY);
}

static void image_test_header_parse_entry_below_load(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  expect_header_field(HOFF(entry_point), 8, r->base - 1,
                      ROT_ERROR_IMAGE_BAD_ENTRY);
  expect_header_field(HOFF(entry_point), 8, 0, ROT_ERROR_IMAGE_BAD_ENTRY);
}

static void image_test_header_parse_entry_all_ones(void **state) {
  (void)state;
  expect_header_field(HOFF(entry_point), 8, 0xffffffffffffffffull,
                      ROT_ERROR_IMAGE_BAD_ENTRY);
}

static void image_test_header_parse_data_entry_nonzero(void **state) {
  (void)state;
  /* A dtb is not code: any entry point is a mistake or an attack. */
  const rot_region_t *r = rot_image_region(ROT_IMAGE_TYPE_DTB);
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  raw_header(ROT_IMAGE_TYPE_DTB, PAYLOAD_LEN, hdr);
  assert_int_equal(raw_header_parse(hdr), ROT_OK);
  put(hdr + HOFF(entry_point), 8, r->base);
  assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_BAD_ENTRY);
  put(hdr + HOFF(entry_point), 8, 1);
  assert_int_equal(raw_header_parse(hdr), ROT_ERROR_IMAGE_BAD_ENTRY);
}

static void image_test_header_parse_every_type_region_ok(void **state) {
  (void)state;
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
    raw_header(t, PAYLOAD_LEN, hdr);
    assert_int_equal(raw_header_parse(hdr), ROT_OK);
  }
}

static void image_test_header_parse_other_type_region(void **state) {
  (void)state;
  /* A hypervisor header relabelled opensbi sits outside opensbi's window. */
  expect_header_field(HOFF(image_type), 4, ROT_IMAGE_TYPE_OPENSBI,
                      ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
}

/* ---- rot_image_expected_len --------------------------------------------- */

static void image_test_expected_len_null(void **state) {
  (void)state;
  assert_int_equal(rot_image_expected_len(NULL), 0);
}

static void image_test_expected_len_sum(void **state) {
  (void)state;
  rot_image_header_t h = test_header(HYP);
  h.payload_len = 10;
  h.manifest_len = ROT_MANIFEST_SIZE(1);
  assert_int_equal(rot_image_expected_len(&h),
                   ROT_IMAGE_HEADER_SIZE + ROT_MANIFEST_SIZE(1) + 10 +
                       ROT_IMAGE_SIG_SIZE);
}

static void image_test_expected_len_oversized(void **state) {
  (void)state;
  rot_image_header_t h = test_header(HYP);
  h.payload_len = 0xffffffffu;
  h.manifest_len = ROT_MANIFEST_SIZE(1);
  assert_int_equal(rot_image_expected_len(&h), 0);
  h.payload_len = 1;
  h.manifest_len = 0xffffffffu;
  assert_int_equal(rot_image_expected_len(&h), 0);
}

/* ---- rot_manifest_parse ------------------------------------------------- */

static uint8_t *manifest_copy(size_t *len) {
  const test_keys_t *k = test_keys();
  *len = k->manifest_len;
  return test_copy(k->manifest, k->manifest_len);
}

static void image_test_manifest_parse_null(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_t m;
  assert_int_equal(rot_manifest_parse(NULL, k->manifest_len, &m),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_manifest_parse(k->manifest, k->manifest_len, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void image_test_manifest_parse_empty(void **state) {
  (void)state;
  uint8_t b = 0;
  rot_manifest_t m;
  assert_int_equal(rot_manifest_parse(&b, 0, &m),
                   ROT_ERROR_MANIFEST_BAD_LENGTH);
}

static void image_test_manifest_parse_good(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  rot_manifest_t m;
  assert_int_equal(rot_manifest_parse(buf, len, &m), ROT_OK);
  assert_int_equal(m.head.magic, ROT_MANIFEST_MAGIC);
  assert_int_equal(m.head.version, ROT_MANIFEST_VERSION);
  assert_int_equal(m.head.key_count, 2);
  assert_memory_equal(m.head.root_pub, k->root.pub, ROT_P384_PUBKEY_LEN);
  assert_int_equal(m.keys[0].key_index, TEST_KEY_INDEX_ALL);
  assert_int_equal(m.keys[0].allowed_types, TEST_ALL_TYPES);
  assert_memory_equal(m.keys[0].pub, k->signer.pub, ROT_P384_PUBKEY_LEN);
  assert_int_equal(m.keys[1].key_index, TEST_KEY_INDEX_DTB);
  assert_int_equal(m.keys[1].allowed_types, 1u << ROT_IMAGE_TYPE_DTB);
  assert_memory_equal(m.keys[1].pub, k->dtb_signer.pub, ROT_P384_PUBKEY_LEN);
  assert_ptr_equal(m.signed_bytes, buf);
  assert_int_equal(m.signed_len, len - ROT_P384_SIG_LEN);
  assert_memory_equal(m.root_sig, buf + len - ROT_P384_SIG_LEN,
                      ROT_P384_SIG_LEN);
  free(buf);
}

static void image_test_manifest_parse_truncated_every_length(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  for (size_t cut = 0; cut < k->manifest_len; cut++) {
    assert_int_equal(manifest_parse_copy(k->manifest, cut),
                     ROT_ERROR_MANIFEST_BAD_LENGTH);
  }
}

static void image_test_manifest_parse_trailing_byte(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  uint8_t buf[ROT_MANIFEST_MAX_SIZE + 1];
  memcpy(buf, k->manifest, k->manifest_len);
  buf[k->manifest_len] = 0;
  assert_int_equal(manifest_parse_copy(buf, k->manifest_len + 1),
                   ROT_ERROR_MANIFEST_BAD_LENGTH);
}

static void image_test_manifest_parse_bad_magic(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  buf[0] ^= 0x01;
  assert_int_equal(manifest_parse_copy(buf, len), ROT_ERROR_MANIFEST_BAD_MAGIC);
  free(buf);
}

static void image_test_manifest_parse_bad_version(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  put(buf + 4, 2, 2);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_VERSION);
  put(buf + 4, 2, 0);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_VERSION);
  free(buf);
}

static void image_test_manifest_parse_key_count_zero(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  put(buf + M_KEY_COUNT, 2, 0);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_KEY_COUNT);
  free(buf);
}

static void image_test_manifest_parse_key_count_above_max(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  put(buf + M_KEY_COUNT, 2, ROT_MANIFEST_MAX_KEYS + 1);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_KEY_COUNT);
  put(buf + M_KEY_COUNT, 2, 0xffff);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_KEY_COUNT);
  free(buf);
}

static void image_test_manifest_parse_key_count_disagrees_with_len(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  put(buf + M_KEY_COUNT, 2, 1);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_LENGTH);
  put(buf + M_KEY_COUNT, 2, 3);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_LENGTH);
  free(buf);
}

static void image_test_manifest_parse_duplicate_key_index(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  put(buf + M_ENTRY(1) + M_ENTRY_INDEX, 4, TEST_KEY_INDEX_ALL);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_DUPLICATE_KEY);
  free(buf);
}

static void image_test_manifest_parse_key_index_32(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  put(buf + M_ENTRY(1) + M_ENTRY_INDEX, 4, ROT_MAX_KEY_INDEX);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_KEY_INDEX);
  put(buf + M_ENTRY(1) + M_ENTRY_INDEX, 4, 0xffffffffu);
  assert_int_equal(manifest_parse_copy(buf, len),
                   ROT_ERROR_MANIFEST_BAD_KEY_INDEX);
  free(buf);
}

static void image_test_manifest_parse_key_index_31_ok(void **state) {
  (void)state;
  size_t len;
  uint8_t *buf = manifest_copy(&len);
  put(buf + M_ENTRY(1) + M_ENTRY_INDEX, 4, ROT_MAX_KEY_INDEX - 1);
  assert_int_equal(manifest_parse_copy(buf, len), ROT_OK);
  free(buf);
}

static void image_test_manifest_parse_unknown_type_bits(void **state) {
  (void)state;
  static const uint32_t kBad[] = {1u << 0, 1u << (ROT_IMAGE_TYPE_MAX + 1),
                                  1u << 31};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kBad); i++) {
    size_t len;
    uint8_t *buf = manifest_copy(&len);
    put(buf + M_ENTRY(0) + M_ENTRY_TYPES, 4, TEST_ALL_TYPES | kBad[i]);
    assert_int_equal(manifest_parse_copy(buf, len),
                     ROT_ERROR_MANIFEST_RESERVED_NONZERO);
    free(buf);
  }
}

/* ---- rot_manifest_build ------------------------------------------------- */

static void entries_fill(rot_manifest_entry_t *e, size_t n) {
  const test_keys_t *k = test_keys();
  memset(e, 0, n * sizeof(*e));
  for (size_t i = 0; i < n; i++) {
    e[i].key_index = (uint32_t)(i * 4);
    e[i].allowed_types = TEST_ALL_TYPES;
    memcpy(e[i].pub, k->signer.pub, ROT_P384_PUBKEY_LEN);
  }
}

static void image_test_manifest_build_null(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[1];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  size_t len;
  entries_fill(e, 1);
  assert_int_equal(rot_manifest_build(NULL, k->root.priv, e, 1, out,
                                      sizeof(out), &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_manifest_build(c, NULL, e, 1, out, sizeof(out), &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_manifest_build(c, k->root.priv, NULL, 1, out,
                                      sizeof(out), &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_manifest_build(c, k->root.priv, e, 1, NULL, sizeof(out),
                                      &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_manifest_build(c, k->root.priv, e, 1, out, sizeof(out),
                                      NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void image_test_manifest_build_zero_keys(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[1];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  size_t len;
  entries_fill(e, 1);
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, e, 0, out,
                                      sizeof(out), &len),
                   ROT_ERROR_MANIFEST_BAD_KEY_COUNT);
}

static void image_test_manifest_build_too_many_keys(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[ROT_MANIFEST_MAX_KEYS + 1];
  uint8_t out[ROT_MANIFEST_SIZE(ROT_MANIFEST_MAX_KEYS + 1)];
  size_t len;
  entries_fill(e, ROT_MANIFEST_MAX_KEYS + 1);
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, e,
                                      ROT_MANIFEST_MAX_KEYS + 1, out,
                                      sizeof(out), &len),
                   ROT_ERROR_MANIFEST_BAD_KEY_COUNT);
}

static void image_test_manifest_build_max_keys_ok(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[ROT_MANIFEST_MAX_KEYS];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  size_t len = 0;
  rot_manifest_t m;
  entries_fill(e, ROT_MANIFEST_MAX_KEYS);
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, e,
                                      ROT_MANIFEST_MAX_KEYS, out, sizeof(out),
                                      &len),
                   ROT_OK);
  assert_int_equal(len, ROT_MANIFEST_MAX_SIZE);
  assert_int_equal(rot_manifest_parse(out, len, &m), ROT_OK);
  assert_int_equal(m.head.key_count, ROT_MANIFEST_MAX_KEYS);
  assert_int_equal(m.keys[ROT_MANIFEST_MAX_KEYS - 1].key_index, 28);
}

static void image_test_manifest_build_out_too_small(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[2];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  size_t len = 0;
  entries_fill(e, 2);
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, e, 2, out,
                                      ROT_MANIFEST_SIZE(2) - 1, &len),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 0);
}

static void image_test_manifest_build_duplicate_index(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[2];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  size_t len = 0;
  entries_fill(e, 2);
  e[1].key_index = e[0].key_index;
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, e, 2, out,
                                      sizeof(out), &len),
                   ROT_ERROR_MANIFEST_DUPLICATE_KEY);
  assert_int_equal(len, 0);
}

static void image_test_manifest_build_index_32(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[1];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  size_t len = 0;
  entries_fill(e, 1);
  e[0].key_index = ROT_MAX_KEY_INDEX;
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, e, 1, out,
                                      sizeof(out), &len),
                   ROT_ERROR_MANIFEST_BAD_KEY_INDEX);
}

static void image_test_manifest_build_unknown_type_bits(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_manifest_entry_t e[1];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  size_t len = 0;
  entries_fill(e, 1);
  e[0].allowed_types |= 1u << 30;
  assert_int_equal(rot_manifest_build(test_crypto(), k->root.priv, e, 1, out,
                                      sizeof(out), &len),
                   ROT_ERROR_MANIFEST_RESERVED_NONZERO);
}

static void image_test_manifest_build_zero_root_key(void **state) {
  (void)state;
  rot_manifest_entry_t e[1];
  uint8_t out[ROT_MANIFEST_MAX_SIZE];
  uint8_t zero[ROT_P384_SCALAR_LEN] = {0};
  size_t len = 0;
  entries_fill(e, 1);
  assert_int_equal(rot_manifest_build(test_crypto(), zero, e, 1, out,
                                      sizeof(out), &len),
                   ROT_ERROR_CRYPTO_BAD_KEY);
}

static void image_test_manifest_build_root_signature_verifies(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  uint8_t d[ROT_SHA384_LEN];
  size_t signed_len = k->manifest_len - ROT_P384_SIG_LEN;
  assert_memory_equal(k->manifest + M_ROOT_PUB, k->root.pub,
                      ROT_P384_PUBKEY_LEN);
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, k->manifest, signed_len, d,
                            sizeof(d)),
                   ROT_OK);
  assert_int_equal(rot_ecdsa_p384_verify(c, k->root.pub, d, sizeof(d),
                                         k->manifest + signed_len),
                   ROT_OK);
}

/* ---- rot_image_parse ---------------------------------------------------- */

static void image_test_parse_null(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_image_view_t v;
  assert_int_equal(rot_image_parse(NULL, len, &v), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_parse(img, len, NULL), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_parse_head(NULL, payload_off(), len, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_parse_head(img, payload_off(), len, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_parse_head(img, payload_off(), 0, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  /* Neither the whole image nor exactly its header and manifest. */
  assert_int_equal(rot_image_parse_head(img, payload_off() + 1, len, &v),
                   ROT_ERROR_IMAGE_BAD_LENGTH);
  assert_int_equal(image_parse_copy(img, len), ROT_OK);
  free(img);
}

static void image_test_parse_empty(void **state) {
  (void)state;
  uint8_t b = 0;
  rot_image_view_t v;
  assert_int_equal(rot_image_parse(&b, 0, &v), ROT_ERROR_IMAGE_TRUNCATED);
}

static void image_test_parse_layout(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_image_view_t v;
  assert_int_equal(rot_image_parse(img, len, &v), ROT_OK);
  assert_int_equal(v.total_len, len);
  assert_ptr_equal(v.manifest_bytes, img + ROT_IMAGE_HEADER_SIZE);
  assert_ptr_equal(v.payload, img + payload_off());
  assert_ptr_equal(v.signature, img + len - ROT_IMAGE_SIG_SIZE);
  assert_int_equal(v.manifest.head.key_count, 2);
  free(img);
}

static void image_test_parse_truncated_every_length(void **state) {
  (void)state;
  /* Every field offset and every part boundary is among these cuts. */
  size_t len;
  uint8_t *img = good_image(&len);
  for (size_t cut = 0; cut < len; cut++) {
    rot_error_t err = image_parse_copy(img, cut);
    if (err != ROT_ERROR_IMAGE_TRUNCATED) {
      fail_msg("cut at %zu of %zu: %s", cut, len, rot_error_name(err));
    }
  }
  free(img);
}

static void image_test_parse_trailing_data(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  uint8_t *longer = malloc(len + 4096);
  assert_non_null(longer);
  memcpy(longer, img, len);
  memset(longer + len, 0, 4096);
  assert_int_equal(image_parse_copy(longer, len + 1),
                   ROT_ERROR_IMAGE_TRAILING_DATA);
  assert_int_equal(image_parse_copy(longer, len + 4096),
                   ROT_ERROR_IMAGE_TRAILING_DATA);
  free(longer);
  free(img);
}

static void image_test_parse_bad_manifest_propagates(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  img[ROT_IMAGE_HEADER_SIZE] ^= 0xff;
  assert_int_equal(image_parse_copy(img, len), ROT_ERROR_MANIFEST_BAD_MAGIC);
  free(img);
}

/* A refused parse leaves nothing half-decoded behind: the view and the
 * manifest are decoded in place, and wiped when a later check fails. */
static void image_test_parse_failure_wipes_out(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  img[ROT_IMAGE_HEADER_SIZE + 4] ^= 0x01; /* manifest version */
  static rot_image_view_t v;
  static const rot_image_view_t zero_view;
  memset(&v, 0xa5, sizeof(v));
  assert_int_equal(rot_image_parse(img, len, &v), ROT_ERROR_MANIFEST_BAD_VERSION);
  assert_memory_equal(&v, &zero_view, sizeof(v));
  static rot_manifest_t m;
  static const rot_manifest_t zero_manifest;
  memset(&m, 0xa5, sizeof(m));
  assert_int_equal(rot_manifest_parse(img + ROT_IMAGE_HEADER_SIZE,
                                      len - ROT_IMAGE_HEADER_SIZE, &m),
                   ROT_ERROR_MANIFEST_BAD_VERSION);
  assert_memory_equal(&m, &zero_manifest, sizeof(m));
  free(img);
}

/* ---- rot_image_verify: arguments and the happy path -------------------- */

static void image_test_verify_null(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const rot_policy_t *p = &test_keys()->policy;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  assert_int_equal(rot_image_verify(NULL, p, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_not_equal(v.token, ROT_VERIFY_TOKEN_VALID);
  assert_int_equal(rot_image_verify(c, NULL, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_verify(c, p, NULL, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_verify(c, p, img, len, ROT_IMAGE_TYPE_ANY, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  free(img);
}

static void image_test_verify_empty(void **state) {
  (void)state;
  uint8_t b = 0;
  assert_int_equal(verify(&b, 0), ROT_ERROR_IMAGE_TRUNCATED);
}

static void image_test_verify_good(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  uint8_t d[ROT_SHA384_LEN];
  rot_image_header_t t = test_header(HYP);
  assert_int_equal(
      verify_as(&test_keys()->policy, img, len, ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  assert_int_equal(v.image_type, HYP);
  assert_int_equal(v.svn, t.svn);
  assert_int_equal(v.key_index, TEST_KEY_INDEX_ALL);
  assert_int_equal(v.ver_major, t.ver_major);
  assert_int_equal(v.ver_minor, t.ver_minor);
  assert_int_equal(v.ver_patch, t.ver_patch);
  assert_int_equal(v.load_addr, t.load_addr);
  assert_int_equal(v.entry_point, t.entry_point);
  assert_int_equal(v.payload_len, PAYLOAD_LEN);
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, img + payload_off(),
                            PAYLOAD_LEN, d, sizeof(d)),
                   ROT_OK);
  assert_memory_equal(v.payload_digest, d, sizeof(d));
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, img, payload_off(), d,
                            sizeof(d)),
                   ROT_OK);
  assert_memory_equal(v.signed_digest, d, sizeof(d));
  free(img);
}

/* ---- the manifest verdict cache ------------------------------------------ */

static unsigned g_verifies;
static rot_error_t counting_verify(const rot_crypto_t *c,
                                   const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                   const uint8_t *digest, size_t digest_len,
                                   const uint8_t sig[ROT_P384_SIG_LEN]) {
  g_verifies++;
  const rot_crypto_t *real = c->state;
  return real->ecdsa_p384_verify(real, pub, digest, digest_len, sig);
}

/* test_crypto() with its P-384 verify counted. */
static rot_crypto_t counting_crypto(void) {
  rot_crypto_t c = *test_crypto();
  c.ecdsa_p384_verify = counting_verify;
  c.state = (void *)test_crypto();
  return c;
}

/* A second image under the same manifest pays one P-384 verify (its own
 * signature): the manifest's verdict is cached. A reset clears it. */
static void image_test_verify_manifest_verdict_cached(void **state) {
  (void)state;
  rot_crypto_t c = counting_crypto();
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  rot_image_cache_clear();
  g_verifies = 0;
  assert_int_equal(rot_image_verify(&c, &test_keys()->policy, img, len,
                                    ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  assert_int_equal(g_verifies, 2);
  assert_int_equal(rot_image_verify(&c, &test_keys()->policy, img, len,
                                    ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  assert_int_equal(g_verifies, 3);
  rot_image_cache_clear();
  assert_int_equal(rot_image_verify(&c, &test_keys()->policy, img, len,
                                    ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  assert_int_equal(g_verifies, 5);
  free(img);
}

/* A cached verdict covers those manifest bytes only: a changed root
 * signature (or any other manifest byte) is verified for real and refused,
 * and a verdict given by one backend is not taken by another. */
static void image_test_verify_manifest_cache_keyed_by_bytes(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  rot_image_cache_clear();
  assert_int_equal(verify_as(&test_keys()->policy, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_OK);
  uint8_t *bad = test_copy(img, len);
  bad[payload_off() - 1] ^= 0x01; /* last byte of the manifest's root s */
  assert_int_equal(verify_as(&test_keys()->policy, bad, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_MANIFEST_BAD_SIGNATURE);
  rot_crypto_t c = counting_crypto();
  g_verifies = 0;
  assert_int_equal(rot_image_verify(&c, &test_keys()->policy, img, len,
                                    ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  assert_int_equal(g_verifies, 2); /* another backend: verified again */
  free(bad);
  free(img);
}

/* rot_image_verify_digest: same verdict as rot_image_verify from header,
 * manifest, signature and the payload's digest; a wrong digest or a head of
 * the wrong length is refused. */
static void image_test_verify_digest(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  size_t len;
  uint8_t *img = good_image(&len);
  uint8_t d[ROT_SHA384_LEN];
  assert_int_equal(rot_hash(c, ROT_HASH_SHA384, img + payload_off(), PAYLOAD_LEN,
                            d, sizeof(d)),
                   ROT_OK);
  const uint8_t *sig = img + len - ROT_IMAGE_SIG_SIZE;
  rot_verified_image_t v, w;
  assert_int_equal(rot_image_verify(c, &test_keys()->policy, img, len,
                                    ROT_IMAGE_TYPE_ANY, &w), ROT_OK);
  assert_int_equal(rot_image_verify_digest(c, &test_keys()->policy, img,
                                           payload_off(), sig, d, HYP, &v),
                   ROT_OK);
  assert_memory_equal(&v, &w, sizeof(v));
  assert_int_equal(rot_image_verify_digest(c, &test_keys()->policy, img,
                                           payload_off(), sig, d, ROT_IMAGE_TYPE_DTB, &v),
                   ROT_ERROR_POLICY_TYPE_MISMATCH);
  assert_int_equal(rot_image_verify_digest(c, &test_keys()->policy, img,
                                           payload_off() - 1, sig, d, HYP, &v),
                   ROT_ERROR_IMAGE_BAD_LENGTH);
  assert_int_equal(rot_image_verify_digest(c, &test_keys()->policy, img,
                                           ROT_IMAGE_HEADER_SIZE - 1, sig, d, HYP, &v),
                   ROT_ERROR_IMAGE_TRUNCATED);
  d[0] ^= 1;
  assert_int_equal(rot_image_verify_digest(c, &test_keys()->policy, img,
                                           payload_off(), sig, d, HYP, &v),
                   ROT_ERROR_IMAGE_DIGEST_MISMATCH);
  assert_int_equal(v.token, 0);
  assert_int_equal(rot_image_verify_digest(NULL, &test_keys()->policy, img,
                                           payload_off(), sig, d, HYP, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_verify_digest(c, &test_keys()->policy, img,
                                           payload_off(), sig, NULL, HYP, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  free(img);
}

static void image_test_verify_every_type(void **state) {
  (void)state;
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    size_t len;
    uint8_t *img = test_image_default(t, 16, &len);
    assert_int_equal(verify_as(&test_keys()->policy, img, len, t, NULL),
                     ROT_OK);
    free(img);
  }
}

static void image_test_verify_one_key_manifest(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(HYP);
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  size_t len;
  uint8_t *img = test_image_sign(&h, k->manifest1, k->manifest1_len,
                                 k->signer.priv, payload, PAYLOAD_LEN, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
  free(payload);
}

static void image_test_verify_expected_type_match(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  assert_int_equal(verify_as(&test_keys()->policy, img, len, HYP, NULL),
                   ROT_OK);
  free(img);
}

static void image_test_verify_expected_type_mismatch(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  assert_int_equal(verify_as(&test_keys()->policy, img, len,
                             ROT_IMAGE_TYPE_OPENSBI, NULL),
                   ROT_ERROR_POLICY_TYPE_MISMATCH);
  assert_int_equal(verify_as(&test_keys()->policy, img, len, 0, NULL),
                   ROT_ERROR_POLICY_TYPE_MISMATCH);
  free(img);
}

/* ---- rot_image_verify: structure --------------------------------------- */

static void image_test_verify_truncated_every_length(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  for (size_t cut = 0; cut < len; cut++) {
    rot_error_t err = verify(img, cut);
    if (err != ROT_ERROR_IMAGE_TRUNCATED) {
      fail_msg("cut at %zu of %zu: %s", cut, len, rot_error_name(err));
    }
  }
  free(img);
}

static void image_test_verify_trailing_data(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  uint8_t *longer = malloc(len + 1);
  assert_non_null(longer);
  memcpy(longer, img, len);
  longer[len] = 0;
  assert_int_equal(verify(longer, len + 1), ROT_ERROR_IMAGE_TRAILING_DATA);
  free(longer);
  free(img);
}

static void image_test_verify_signature_short_by_one(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  assert_int_equal(verify(img, len - 1), ROT_ERROR_IMAGE_TRUNCATED);
  free(img);
}

static void image_test_verify_manifest_len_minus_one(void **state) {
  (void)state;
  /* The header now claims one byte less manifest than the file carries. */
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(manifest_len), 4, manifest_len() - 1);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_TRAILING_DATA);
  free(img);
}

static void image_test_verify_manifest_len_plus_one(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(manifest_len), 4, manifest_len() + 1);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_TRUNCATED);
  free(img);
}

/* Rebuild the image with one byte removed from (or added to) the end of the
 * manifest's root signature, and the header's manifest_len to match. */
static uint8_t *manifest_sig_resized(int delta, size_t *out_len) {
  size_t len;
  uint8_t *img = good_image(&len);
  size_t mlen = manifest_len();
  size_t new_len = len + (size_t)(ptrdiff_t)delta;
  uint8_t *out = malloc(new_len);
  assert_non_null(out);
  size_t keep = ROT_IMAGE_HEADER_SIZE + mlen - (delta < 0 ? 1 : 0);
  memcpy(out, img, keep);
  if (delta > 0) {
    out[keep] = 0x42;
  }
  memcpy(out + ROT_IMAGE_HEADER_SIZE + mlen + (size_t)(ptrdiff_t)delta,
         img + ROT_IMAGE_HEADER_SIZE + mlen, len - ROT_IMAGE_HEADER_SIZE - mlen);
  put(out + HOFF(manifest_len), 4, mlen + (size_t)(ptrdiff_t)delta);
  free(img);
  *out_len = new_len;
  return out;
}

static void image_test_verify_manifest_sig_short_by_one(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = manifest_sig_resized(-1, &len);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_LENGTH);
  free(img);
}

static void image_test_verify_manifest_sig_long_by_one(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = manifest_sig_resized(+1, &len);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_LENGTH);
  free(img);
}

static void image_test_verify_payload_len_plus_one(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(payload_len), 4, PAYLOAD_LEN + 1);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_TRUNCATED);
  free(img);
}

static void image_test_verify_payload_len_minus_one(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(payload_len), 4, PAYLOAD_LEN - 1);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_TRAILING_DATA);
  free(img);
}

static void image_test_verify_payload_len_minus_one_resigned(void **state) {
  (void)state;
  /* Even signed, a header whose length disagrees with the file is refused. */
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(payload_len), 4, PAYLOAD_LEN - 1);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_TRAILING_DATA);
  free(img);
}

static void image_test_verify_zero_length_payload(void **state) {
  (void)state;
  /* header + manifest + signature, no payload, header says 0. */
  size_t len;
  uint8_t *img = good_image(&len);
  size_t new_len = len - PAYLOAD_LEN;
  uint8_t *out = malloc(new_len);
  assert_non_null(out);
  memcpy(out, img, payload_off());
  memcpy(out + payload_off(), img + len - ROT_IMAGE_SIG_SIZE,
         ROT_IMAGE_SIG_SIZE);
  put(out + HOFF(payload_len), 4, 0);
  test_image_resign(out, new_len, test_keys()->signer.priv);
  assert_int_equal(verify(out, new_len), ROT_ERROR_IMAGE_EMPTY_PAYLOAD);
  free(out);
  free(img);
}

static void image_test_verify_manifest_duplicate_key(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + ROT_IMAGE_HEADER_SIZE + M_ENTRY(1) + M_ENTRY_INDEX, 4,
      TEST_KEY_INDEX_ALL);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_DUPLICATE_KEY);
  free(img);
}

static void image_test_verify_manifest_key_index_32(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + ROT_IMAGE_HEADER_SIZE + M_ENTRY(1) + M_ENTRY_INDEX, 4,
      ROT_MAX_KEY_INDEX);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_KEY_INDEX);
  free(img);
}

static void image_test_verify_manifest_key_count_zero(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + ROT_IMAGE_HEADER_SIZE + M_KEY_COUNT, 2, 0);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_KEY_COUNT);
  free(img);
}

static void image_test_verify_manifest_key_count_above_max(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + ROT_IMAGE_HEADER_SIZE + M_KEY_COUNT, 2, ROT_MANIFEST_MAX_KEYS + 1);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_KEY_COUNT);
  free(img);
}

/* ---- rot_image_verify: the root and the manifest signature ------------- */

static void image_test_verify_unprovisioned_policy(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_policy_t p = test_keys()->policy;
  memset(p.root_key_hash, 0, sizeof(p.root_key_hash));
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_OTP_NOT_PROVISIONED);
  free(img);
}

static void image_test_verify_manifest_from_other_root(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(HYP);
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  size_t len;
  uint8_t *img =
      test_image_sign(&h, k->other_manifest, k->other_manifest_len,
                      k->signer.priv, payload, PAYLOAD_LEN, &len);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_WRONG_ROOT);
  /* The same image is fine on a part fused for the other root. */
  assert_int_equal(verify_policy(&k->other_policy, img, len), ROT_OK);
  free(img);
  free(payload);
}

static void image_test_verify_manifest_swapped_header_unchanged(void **state) {
  (void)state;
  /* Another root's (validly signed) manifest spliced into a signed image. */
  const test_keys_t *k = test_keys();
  size_t len;
  uint8_t *img = good_image(&len);
  assert_int_equal(k->other_manifest_len, k->manifest_len);
  memcpy(img + ROT_IMAGE_HEADER_SIZE, k->other_manifest, k->other_manifest_len);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_WRONG_ROOT);
  /* Even where that root is trusted, the image signature covers the
   * manifest, so the splice is caught. */
  assert_int_equal(verify_policy(&k->other_policy, img, len),
                   ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
}

static void image_test_verify_root_pub_replaced(void **state) {
  (void)state;
  /* Replacing the root key and re-signing the manifest with it does not
   * help: the fused hash names the real root. */
  const test_keys_t *k = test_keys();
  size_t len;
  uint8_t *img = good_image(&len);
  uint8_t *m = img + ROT_IMAGE_HEADER_SIZE;
  memcpy(m + M_ROOT_PUB, k->other_root.pub, ROT_P384_PUBKEY_LEN);
  test_manifest_resign(m, k->manifest_len, k->other_root.priv);
  test_image_resign(img, len, k->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_WRONG_ROOT);
  free(img);
}

static void image_test_verify_manifest_signature_tampered(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  img[payload_off() - 1] ^= 0x01; /* last byte of the root signature's s */
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_SIGNATURE);
  free(img);
}

static void image_test_verify_manifest_entry_escalated(void **state) {
  (void)state;
  /* The dtb-only key claims every type; the signer re-signs the image, but
   * only the root can re-sign the manifest. */
  const test_keys_t *k = test_keys();
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + ROT_IMAGE_HEADER_SIZE + M_ENTRY(1) + M_ENTRY_TYPES, 4,
      TEST_ALL_TYPES);
  test_image_resign(img, len, k->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_SIGNATURE);
  free(img);
}

static void image_test_verify_manifest_signed_by_signer(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  size_t len;
  uint8_t *img = good_image(&len);
  test_manifest_resign(img + ROT_IMAGE_HEADER_SIZE, k->manifest_len,
                       k->signer.priv);
  test_image_resign(img, len, k->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_BAD_SIGNATURE);
  free(img);
}

/* Replace r (which = 0) or s (which = 1) of a signature at sig. */
static void set_scalar(uint8_t *sig, int which, const uint8_t *v) {
  memcpy(sig + (size_t)which * ROT_P384_SCALAR_LEN, v, ROT_P384_SCALAR_LEN);
}

typedef struct range_case {
  const char *name;
  int which;
  int kind; /* 0: zero, 1: n, 2: n + 1, 3: all ones */
} range_case_t;

static const range_case_t kRangeCases[] = {
    {"r = 0", 0, 0}, {"r = n", 0, 1}, {"r = n + 1", 0, 2}, {"r = ff..ff", 0, 3},
    {"s = 0", 1, 0}, {"s = n", 1, 1}, {"s = n + 1", 1, 2}, {"s = ff..ff", 1, 3},
};

static void range_value(int kind, uint8_t v[ROT_P384_SCALAR_LEN]) {
  switch (kind) {
    case 0:
      memset(v, 0, ROT_P384_SCALAR_LEN);
      break;
    case 1:
      memcpy(v, rot_p384_order, ROT_P384_SCALAR_LEN);
      break;
    case 2:
      test_order_plus(1, v);
      break;
    default:
      memset(v, 0xff, ROT_P384_SCALAR_LEN);
      break;
  }
}

static void image_test_verify_manifest_sig_out_of_range(void **state) {
  (void)state;
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kRangeCases); i++) {
    size_t len;
    uint8_t *img = good_image(&len);
    uint8_t v[ROT_P384_SCALAR_LEN];
    range_value(kRangeCases[i].kind, v);
    set_scalar(img + payload_off() - ROT_P384_SIG_LEN, kRangeCases[i].which, v);
    rot_error_t err = verify(img, len);
    if (err != ROT_ERROR_CRYPTO_SIG_RANGE) {
      fail_msg("manifest %s: %s", kRangeCases[i].name, rot_error_name(err));
    }
    free(img);
  }
}

/* ---- rot_image_verify: the signing key --------------------------------- */

static void image_test_verify_key_not_in_manifest(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(key_index), 4, 7);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_KEY_NOT_FOUND);
  free(img);
}

static void image_test_verify_key_index_huge(void **state) {
  (void)state;
  /* Never used as a shift count before it is found in the manifest. */
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(key_index), 4, 0xffffffffu);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_KEY_NOT_FOUND);
  put(img + HOFF(key_index), 4, ROT_MAX_KEY_INDEX);
  assert_int_equal(verify(img, len), ROT_ERROR_MANIFEST_KEY_NOT_FOUND);
  free(img);
}

static void image_test_verify_revoked_key(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_policy_t p = test_keys()->policy;
  p.revoked_keys = 1u << TEST_KEY_INDEX_ALL;
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_POLICY_KEY_REVOKED);
  free(img);
}

static void image_test_verify_other_key_revoked_ok(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_policy_t p = test_keys()->policy;
  p.revoked_keys = ~(1u << TEST_KEY_INDEX_ALL);
  assert_int_equal(verify_policy(&p, img, len), ROT_OK);
  free(img);
}

static uint8_t *dtb_key_image(uint32_t type, size_t *len) {
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(type);
  h.key_index = TEST_KEY_INDEX_DTB;
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                 k->dtb_signer.priv, payload, PAYLOAD_LEN, len);
  free(payload);
  return img;
}

static void image_test_verify_type_not_allowed(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = dtb_key_image(HYP, &len);
  assert_int_equal(verify(img, len), ROT_ERROR_POLICY_TYPE_NOT_ALLOWED);
  free(img);
}

static void image_test_verify_type_allowed_for_restricted_key(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = dtb_key_image(ROT_IMAGE_TYPE_DTB, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
}

static void image_test_verify_restricted_key_revoked(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = dtb_key_image(ROT_IMAGE_TYPE_DTB, &len);
  rot_policy_t p = test_keys()->policy;
  p.revoked_keys = 1u << TEST_KEY_INDEX_DTB;
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_POLICY_KEY_REVOKED);
  free(img);
}

static void image_test_verify_signed_by_uncertified_key(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(HYP);
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  size_t len;
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                 k->stranger.priv, payload, PAYLOAD_LEN, &len);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
  free(payload);
}

static void image_test_verify_signed_by_other_certified_key(void **state) {
  (void)state;
  /* Header names key 0 (all types), but key 3 (dtb only) signed. */
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(HYP);
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  size_t len;
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                 k->dtb_signer.priv, payload, PAYLOAD_LEN, &len);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
  free(payload);
}

/* ---- rot_image_verify: rollback and lifecycle --------------------------- */

static uint8_t *svn_image(uint32_t svn, size_t *len) {
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(HYP);
  h.svn = svn;
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                 k->signer.priv, payload, PAYLOAD_LEN, len);
  free(payload);
  return img;
}

static void image_test_verify_svn_below_floor(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = svn_image(5, &len);
  rot_policy_t p = test_keys()->policy;
  p.svn_floor[HYP] = 6;
  assert_int_equal(verify_policy(&p, img, len),
                   ROT_ERROR_POLICY_SVN_BELOW_FLOOR);
  free(img);
}

static void image_test_verify_svn_equal_floor_ok(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = svn_image(5, &len);
  rot_policy_t p = test_keys()->policy;
  p.svn_floor[HYP] = 5;
  assert_int_equal(verify_policy(&p, img, len), ROT_OK);
  free(img);
}

static void image_test_verify_svn_max_at_max_floor_ok(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = svn_image(ROT_SVN_MAX, &len);
  rot_policy_t p = test_keys()->policy;
  p.svn_floor[HYP] = ROT_SVN_MAX;
  assert_int_equal(verify_policy(&p, img, len), ROT_OK);
  free(img);
}

static void image_test_verify_svn_floor_of_other_type_ignored(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = svn_image(5, &len);
  rot_policy_t p = test_keys()->policy;
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    p.svn_floor[t] = t == HYP ? 0 : 200;
  }
  assert_int_equal(verify_policy(&p, img, len), ROT_OK);
  free(img);
}

static void image_test_verify_svn_raised_without_resign(void **state) {
  (void)state;
  /* Bumping the SVN to pass a floor breaks the image signature. */
  size_t len;
  uint8_t *img = svn_image(5, &len);
  rot_policy_t p = test_keys()->policy;
  p.svn_floor[HYP] = 6;
  put(img + HOFF(svn), 4, 6);
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
}

static void image_test_verify_svn_above_max(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(svn), 4, ROT_SVN_MAX + 1);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_SVN);
  free(img);
}

static void image_test_verify_dev_only_on_dev_ok(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_flags(HYP, ROT_IMAGE_FLAG_DEV_ONLY, PAYLOAD_LEN, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
}

static void image_test_verify_dev_only_on_prod(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_flags(HYP, ROT_IMAGE_FLAG_DEV_ONLY, PAYLOAD_LEN, &len);
  rot_policy_t p = test_keys()->policy;
  p.lifecycle = ROT_LIFECYCLE_PROD;
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_POLICY_LIFECYCLE);
  free(img);
}

static void image_test_verify_dev_only_flag_cleared_without_resign(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_flags(HYP, ROT_IMAGE_FLAG_DEV_ONLY, PAYLOAD_LEN, &len);
  rot_policy_t p = test_keys()->policy;
  p.lifecycle = ROT_LIFECYCLE_PROD;
  put(img + HOFF(flags), 4, 0);
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
}

static void image_test_verify_prod_ok(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_policy_t p = test_keys()->policy;
  p.lifecycle = ROT_LIFECYCLE_PROD;
  assert_int_equal(verify_policy(&p, img, len), ROT_OK);
  free(img);
}

static void image_test_verify_decommissioned(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_policy_t p = test_keys()->policy;
  p.lifecycle = ROT_LIFECYCLE_DECOMMISSIONED;
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_POLICY_LIFECYCLE);
  free(img);
}

static void image_test_verify_blank_lifecycle(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_policy_t p = test_keys()->policy;
  p.lifecycle = ROT_LIFECYCLE_BLANK;
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_POLICY_LIFECYCLE);
  p.lifecycle = 0x7fffffffu;
  assert_int_equal(verify_policy(&p, img, len), ROT_ERROR_POLICY_LIFECYCLE);
  free(img);
}

/* ---- rot_image_verify: regions ------------------------------------------ */

static uint8_t *placed_image(uint32_t type, uint64_t load, uint64_t entry,
                             size_t *len) {
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(type);
  h.load_addr = load;
  h.entry_point = entry;
  uint8_t *payload = test_payload(PAYLOAD_LEN);
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                 k->signer.priv, payload, PAYLOAD_LEN, len);
  free(payload);
  return img;
}

static void image_test_verify_entry_last_word_ok(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  size_t len;
  uint8_t *img = placed_image(
      HYP, r->base, r->base + PAYLOAD_LEN - ROT_IMAGE_CODE_ALIGN, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
}

static void image_test_verify_entry_misaligned_resigned(void **state) {
  (void)state;
  /* Signed by a certified key, yet refused: alignment is a format rule,
   * not something a signature vouches for. */
  const rot_region_t *r = rot_image_region(HYP);
  size_t len;
  uint8_t *img = placed_image(HYP, r->base, r->base + 8, &len);
  put(img + HOFF(entry_point), 8, r->base + 10);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_ENTRY_MISALIGNED);
  free(img);
}

static void image_test_verify_load_misaligned_resigned(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(ROT_IMAGE_TYPE_OPENSBI);
  size_t len;
  uint8_t *img = placed_image(ROT_IMAGE_TYPE_OPENSBI, r->base, r->base, &len);
  put(img + HOFF(load_addr), 8, r->base + 2);
  put(img + HOFF(entry_point), 8, r->base + 4);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_LOAD_MISALIGNED);
  free(img);
}

static void image_test_verify_dtb_load_misaligned_resigned(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(ROT_IMAGE_TYPE_DTB);
  size_t len;
  uint8_t *img = placed_image(ROT_IMAGE_TYPE_DTB, r->base + 8, 0, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  put(img + HOFF(load_addr), 8, r->base + 4);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_LOAD_MISALIGNED);
  free(img);
}

static void image_test_verify_entry_one_past(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  size_t len;
  uint8_t *img = placed_image(
      HYP, r->base, r->base + PAYLOAD_LEN - ROT_IMAGE_CODE_ALIGN, &len);
  put(img + HOFF(entry_point), 8, r->base + PAYLOAD_LEN);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_ENTRY);
  free(img);
}

static void image_test_verify_payload_at_region_end_ok(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  size_t len;
  uint64_t load = r->end - PAYLOAD_LEN;
  uint8_t *img = placed_image(HYP, load, load, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  free(img);
}

static void image_test_verify_payload_past_region_end(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(HYP);
  size_t len;
  uint64_t load = r->end - PAYLOAD_LEN;
  uint8_t *img = placed_image(HYP, load, load, &len);
  put(img + HOFF(load_addr), 8, load + ROT_IMAGE_CODE_ALIGN);
  put(img + HOFF(entry_point), 8, load + ROT_IMAGE_CODE_ALIGN);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
  free(img);
}

static void image_test_verify_load_outside_region(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(load_addr), 8, 0x1000);
  put(img + HOFF(entry_point), 8, 0x1000);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
  free(img);
}

static void image_test_verify_dtb_entry_nonzero(void **state) {
  (void)state;
  const rot_region_t *r = rot_image_region(ROT_IMAGE_TYPE_DTB);
  size_t len;
  uint8_t *img = placed_image(ROT_IMAGE_TYPE_DTB, r->base, 0, &len);
  assert_int_equal(verify(img, len), ROT_OK);
  put(img + HOFF(entry_point), 8, r->base);
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_ENTRY);
  free(img);
}

/* ---- rot_image_verify: image signature and payload ---------------------- */

static void image_test_verify_image_sig_out_of_range(void **state) {
  (void)state;
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kRangeCases); i++) {
    size_t len;
    uint8_t *img = good_image(&len);
    uint8_t v[ROT_P384_SCALAR_LEN];
    range_value(kRangeCases[i].kind, v);
    set_scalar(img + len - ROT_IMAGE_SIG_SIZE, kRangeCases[i].which, v);
    rot_error_t err = verify(img, len);
    if (err != ROT_ERROR_CRYPTO_SIG_RANGE) {
      fail_msg("image %s: %s", kRangeCases[i].name, rot_error_name(err));
    }
    free(img);
  }
}

static void image_test_verify_image_sig_tampered(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  img[len - 1] ^= 0x01;
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
}

static void image_test_verify_image_sig_zeroed(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  memset(img + len - ROT_IMAGE_SIG_SIZE, 0, ROT_IMAGE_SIG_SIZE);
  assert_int_equal(verify(img, len), ROT_ERROR_CRYPTO_SIG_RANGE);
  free(img);
}

static void image_test_verify_header_version_tampered(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  put(img + HOFF(ver_patch), 2, 99);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  free(img);
}

static void image_test_verify_payload_tampered(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  img[payload_off() + PAYLOAD_LEN / 2] ^= 0x10;
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_DIGEST_MISMATCH);
  free(img);
}

static void image_test_verify_payload_digest_resigned(void **state) {
  (void)state;
  /* A signed header naming another payload: the digest check catches it. */
  size_t len;
  uint8_t *img = good_image(&len);
  img[HOFF(payload_digest)] ^= 0x01;
  test_image_resign(img, len, test_keys()->signer.priv);
  assert_int_equal(verify(img, len), ROT_ERROR_IMAGE_DIGEST_MISMATCH);
  free(img);
}

/* ---- rot_verified_check -------------------------------------------------- */

static void image_test_verified_check_null(void **state) {
  (void)state;
  assert_int_equal(rot_verified_check(NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void image_test_verified_check_zeroed(void **state) {
  (void)state;
  rot_verified_image_t v;
  memset(&v, 0, sizeof(v));
  assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
}

static void image_test_verified_check_good(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  assert_int_equal(
      verify_as(&test_keys()->policy, img, len, ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  assert_int_equal(rot_verified_check(&v), ROT_OK);
  free(img);
}

static void image_test_verified_check_tampered_digest(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  assert_int_equal(
      verify_as(&test_keys()->policy, img, len, ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  v.signed_digest[0] ^= 0x01;
  assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  v.signed_digest[0] ^= 0x01;
  v.signed_digest[ROT_SHA384_LEN - 1] ^= 0x80;
  assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  free(img);
}

static void image_test_verified_check_token_only(void **state) {
  (void)state;
  /* The token value alone, without the matching check word, is refused. */
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  assert_int_equal(
      verify_as(&test_keys()->policy, img, len, ROT_IMAGE_TYPE_ANY, &v), ROT_OK);
  v.token_check ^= 0x00010000u;
  assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  v.token_check ^= 0x00010000u;
  v.token ^= 0x1u;
  assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  free(img);
}

static void image_test_verify_failure_wipes_previous_token(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const rot_policy_t *p = &test_keys()->policy;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v, zero;
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(rot_image_verify(c, p, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_OK);
  assert_int_equal(rot_verified_check(&v), ROT_OK);
  img[len - 1] ^= 0x01;
  assert_int_equal(rot_image_verify(c, p, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_IMAGE_BAD_SIGNATURE);
  assert_int_not_equal(v.token, ROT_VERIFY_TOKEN_VALID);
  assert_memory_equal(&v, &zero, sizeof(v));
  assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  free(img);
}

static void image_test_verify_bad_argument_wipes_previous_token(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const rot_policy_t *p = &test_keys()->policy;
  size_t len;
  uint8_t *img = good_image(&len);
  rot_verified_image_t v;
  assert_int_equal(rot_image_verify(c, p, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_OK);
  assert_int_equal(rot_image_verify(c, NULL, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_verified_check(&v), ROT_ERROR_BOOT_NOT_VERIFIED);
  free(img);
}

/* ---- rot_image_sign ----------------------------------------------------- */

typedef struct sign_args {
  rot_image_header_t h;
  uint8_t *payload;
  uint8_t *out;
  size_t cap;
  size_t out_len;
} sign_args_t;

static void sign_args_init(sign_args_t *a) {
  a->h = test_header(HYP);
  a->payload = test_payload(PAYLOAD_LEN);
  a->cap = ROT_IMAGE_HEADER_SIZE + ROT_MANIFEST_MAX_SIZE + PAYLOAD_LEN +
           ROT_IMAGE_SIG_SIZE;
  a->out = malloc(a->cap);
  assert_non_null(a->out);
  a->out_len = 0;
}

static void sign_args_free(sign_args_t *a) {
  free(a->payload);
  free(a->out);
}

static rot_error_t sign_with(sign_args_t *a, size_t payload_len) {
  const test_keys_t *k = test_keys();
  return rot_image_sign(test_crypto(), &a->h, k->manifest, k->manifest_len,
                        k->signer.priv, a->payload, payload_len, a->out, a->cap,
                        &a->out_len);
}

static void image_test_sign_null(void **state) {
  (void)state;
  const rot_crypto_t *c = test_crypto();
  const test_keys_t *k = test_keys();
  sign_args_t a;
  sign_args_init(&a);
  const uint8_t *m = k->manifest;
  size_t ml = k->manifest_len;
  const uint8_t *sk = k->signer.priv;
  assert_int_equal(rot_image_sign(NULL, &a.h, m, ml, sk, a.payload, PAYLOAD_LEN,
                                  a.out, a.cap, &a.out_len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_sign(c, NULL, m, ml, sk, a.payload, PAYLOAD_LEN,
                                  a.out, a.cap, &a.out_len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_sign(c, &a.h, NULL, ml, sk, a.payload, PAYLOAD_LEN,
                                  a.out, a.cap, &a.out_len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_sign(c, &a.h, m, ml, NULL, a.payload, PAYLOAD_LEN,
                                  a.out, a.cap, &a.out_len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_sign(c, &a.h, m, ml, sk, NULL, PAYLOAD_LEN, a.out,
                                  a.cap, &a.out_len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_sign(c, &a.h, m, ml, sk, a.payload, PAYLOAD_LEN,
                                  NULL, a.cap, &a.out_len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_image_sign(c, &a.h, m, ml, sk, a.payload, PAYLOAD_LEN,
                                  a.out, a.cap, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  sign_args_free(&a);
}

static void image_test_sign_empty_payload(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  assert_int_equal(sign_with(&a, 0), ROT_ERROR_IMAGE_EMPTY_PAYLOAD);
  sign_args_free(&a);
}

static void image_test_sign_payload_above_max(void **state) {
  (void)state;
  /* Refused on the length alone: the payload buffer is never read. */
  sign_args_t a;
  sign_args_init(&a);
  assert_int_equal(sign_with(&a, (size_t)ROT_IMAGE_MAX_PAYLOAD + 1),
                   ROT_ERROR_IMAGE_BAD_LENGTH);
  assert_int_equal(sign_with(&a, SIZE_MAX), ROT_ERROR_IMAGE_BAD_LENGTH);
  sign_args_free(&a);
}

static void image_test_sign_manifest_above_max(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  sign_args_t a;
  sign_args_init(&a);
  assert_int_equal(rot_image_sign(test_crypto(), &a.h, k->manifest,
                                  ROT_MANIFEST_MAX_SIZE + 1, k->signer.priv,
                                  a.payload, PAYLOAD_LEN, a.out, a.cap,
                                  &a.out_len),
                   ROT_ERROR_IMAGE_BAD_LENGTH);
  sign_args_free(&a);
}

static void image_test_sign_bad_manifest(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  sign_args_t a;
  sign_args_init(&a);
  uint8_t *m = test_copy(k->manifest, k->manifest_len);
  m[0] ^= 0x01;
  assert_int_equal(rot_image_sign(test_crypto(), &a.h, m, k->manifest_len,
                                  k->signer.priv, a.payload, PAYLOAD_LEN, a.out,
                                  a.cap, &a.out_len),
                   ROT_ERROR_MANIFEST_BAD_MAGIC);
  assert_int_equal(rot_image_sign(test_crypto(), &a.h, m, 0, k->signer.priv,
                                  a.payload, PAYLOAD_LEN, a.out, a.cap,
                                  &a.out_len),
                   ROT_ERROR_MANIFEST_BAD_LENGTH);
  free(m);
  sign_args_free(&a);
}

static void image_test_sign_out_too_small(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.cap = ROT_IMAGE_HEADER_SIZE + manifest_len() + PAYLOAD_LEN +
          ROT_IMAGE_SIG_SIZE - 1;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(a.out_len, 0);
  sign_args_free(&a);
}

static void image_test_sign_exact_cap_ok(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.cap = ROT_IMAGE_HEADER_SIZE + manifest_len() + PAYLOAD_LEN +
          ROT_IMAGE_SIG_SIZE;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_OK);
  assert_int_equal(a.out_len, a.cap);
  assert_int_equal(verify(a.out, a.out_len), ROT_OK);
  sign_args_free(&a);
}

static void image_test_sign_bad_type(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.h.image_type = ROT_IMAGE_TYPE_MAX + 1;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_ERROR_IMAGE_BAD_TYPE);
  sign_args_free(&a);
}

static void image_test_sign_bad_flags(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.h.flags = 0x100;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_ERROR_IMAGE_BAD_FLAGS);
  sign_args_free(&a);
}

static void image_test_sign_svn_above_max(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.h.svn = ROT_SVN_MAX + 1;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_ERROR_IMAGE_BAD_SVN);
  sign_args_free(&a);
}

static void image_test_sign_load_outside_region(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.h.load_addr = 0;
  a.h.entry_point = 0;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_ERROR_IMAGE_BAD_LOAD_ADDR);
  sign_args_free(&a);
}

static void image_test_sign_entry_outside_payload(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.h.entry_point = a.h.load_addr + PAYLOAD_LEN;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_ERROR_IMAGE_BAD_ENTRY);
  sign_args_free(&a);
}

static void image_test_sign_entry_misaligned(void **state) {
  (void)state;
  /* The signer refuses what the verifier would: no misaligned image is
   * ever signed. */
  sign_args_t a;
  sign_args_init(&a);
  a.h.entry_point = a.h.load_addr + 2;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN),
                   ROT_ERROR_IMAGE_ENTRY_MISALIGNED);
  a.h.load_addr += 2;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN),
                   ROT_ERROR_IMAGE_LOAD_MISALIGNED);
  sign_args_free(&a);
}

static void image_test_sign_key_not_in_manifest(void **state) {
  (void)state;
  sign_args_t a;
  sign_args_init(&a);
  a.h.key_index = 5;
  assert_int_equal(sign_with(&a, PAYLOAD_LEN),
                   ROT_ERROR_MANIFEST_KEY_NOT_FOUND);
  sign_args_free(&a);
}

static void image_test_sign_zero_signer_key(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  sign_args_t a;
  uint8_t zero[ROT_P384_SCALAR_LEN] = {0};
  sign_args_init(&a);
  assert_int_equal(rot_image_sign(test_crypto(), &a.h, k->manifest,
                                  k->manifest_len, zero, a.payload, PAYLOAD_LEN,
                                  a.out, a.cap, &a.out_len),
                   ROT_ERROR_CRYPTO_BAD_KEY);
  sign_args_free(&a);
}

static void image_test_sign_fills_fixed_fields(void **state) {
  (void)state;
  /* Whatever the template holds in fields the signer owns is replaced. */
  sign_args_t a;
  sign_args_init(&a);
  a.h.magic = 0xdeadbeef;
  a.h.format_version = 77;
  a.h.header_size = 3;
  a.h.reserved0 = 0xffff;
  memset(a.h.reserved1, 0xee, sizeof(a.h.reserved1));
  a.h.payload_len = 9999;
  a.h.manifest_len = 1;
  memset(a.h.payload_digest, 0x11, sizeof(a.h.payload_digest));
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_OK);
  assert_int_equal(verify(a.out, a.out_len), ROT_OK);
  sign_args_free(&a);
}

static void image_test_sign_layout(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  sign_args_t a;
  sign_args_init(&a);
  assert_int_equal(sign_with(&a, PAYLOAD_LEN), ROT_OK);
  assert_int_equal(rot_ld32(a.out + HOFF(magic)), ROT_IMAGE_MAGIC);
  assert_int_equal(rot_ld32(a.out + HOFF(payload_len)), PAYLOAD_LEN);
  assert_int_equal(rot_ld32(a.out + HOFF(manifest_len)), k->manifest_len);
  assert_memory_equal(a.out + ROT_IMAGE_HEADER_SIZE, k->manifest,
                      k->manifest_len);
  assert_memory_equal(a.out + payload_off(), a.payload, PAYLOAD_LEN);
  sign_args_free(&a);
}

static void image_test_sign_max_payload_round_trip(void **state) {
  (void)state;
  /* The largest payload the format allows signs and verifies (dtb: its
   * window is bigger than the limit). */
  const test_keys_t *k = test_keys();
  rot_image_header_t h = test_header(ROT_IMAGE_TYPE_DTB);
  size_t plen = ROT_IMAGE_MAX_PAYLOAD;
  uint8_t *payload = calloc(1, plen);
  assert_non_null(payload);
  payload[plen - 1] = 0x5a;
  size_t len;
  uint8_t *img = test_image_sign(&h, k->manifest, k->manifest_len,
                                 k->signer.priv, payload, plen, &len);
  free(payload);
  rot_verified_image_t v;
  assert_int_equal(rot_image_verify(test_crypto(), &k->policy, img, len,
                                    ROT_IMAGE_TYPE_DTB, &v),
                   ROT_OK);
  assert_int_equal(v.payload_len, plen);
  img[len - ROT_IMAGE_SIG_SIZE - 1] ^= 0x01;
  assert_int_equal(rot_image_verify(test_crypto(), &k->policy, img, len,
                                    ROT_IMAGE_TYPE_DTB, &v),
                   ROT_ERROR_IMAGE_DIGEST_MISMATCH);
  free(img);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(image_test_header_parse_null),
      cmocka_unit_test(image_test_header_parse_empty),
      cmocka_unit_test(image_test_header_parse_truncated_every_length),
      cmocka_unit_test(image_test_header_parse_header_alone_ok),
      cmocka_unit_test(image_test_header_parse_decodes_fields),
      cmocka_unit_test(image_test_header_parse_bad_magic),
      cmocka_unit_test(image_test_header_parse_bad_version),
      cmocka_unit_test(image_test_header_parse_bad_header_size),
      cmocka_unit_test(image_test_header_parse_bad_type),
      cmocka_unit_test(image_test_header_parse_bad_flags),
      cmocka_unit_test(image_test_header_parse_dev_only_flag_ok),
      cmocka_unit_test(image_test_header_parse_reserved0_nonzero),
      cmocka_unit_test(image_test_header_parse_reserved1_any_byte_nonzero),
      cmocka_unit_test(image_test_header_parse_svn_above_max),
      cmocka_unit_test(image_test_header_parse_svn_max_ok),
      cmocka_unit_test(image_test_header_parse_zero_payload),
      cmocka_unit_test(image_test_header_parse_payload_len_all_ones),
      cmocka_unit_test(image_test_header_parse_payload_len_wraps_32bit_total),
      cmocka_unit_test(image_test_header_parse_payload_len_above_max),
      cmocka_unit_test(image_test_header_parse_payload_len_max_ok),
      cmocka_unit_test(image_test_header_parse_manifest_len_all_ones),
      cmocka_unit_test(image_test_header_parse_manifest_len_zero),
      cmocka_unit_test(image_test_header_parse_manifest_len_below_one_key),
      cmocka_unit_test(image_test_header_parse_manifest_len_above_max),
      cmocka_unit_test(image_test_header_parse_manifest_len_max_ok),
      cmocka_unit_test(image_test_header_parse_load_below_region),
      cmocka_unit_test(image_test_header_parse_load_at_region_end),
      cmocka_unit_test(image_test_header_parse_load_near_2_64),
      cmocka_unit_test(image_test_header_parse_payload_ends_past_region),
      cmocka_unit_test(image_test_header_parse_entry_last_word_ok),
      cmocka_unit_test(image_test_header_parse_entry_misaligned),
      cmocka_unit_test(image_test_header_parse_entry_aligned_ok),
      cmocka_unit_test(image_test_header_parse_load_misaligned),
      cmocka_unit_test(image_test_header_parse_dtb_load_alignment),
      cmocka_unit_test(image_test_header_parse_entry_one_past_payload),
      cmocka_unit_test(image_test_header_parse_entry_below_load),
      cmocka_unit_test(image_test_header_parse_entry_all_ones),
      cmocka_unit_test(image_test_header_parse_data_entry_nonzero),
      cmocka_unit_test(image_test_header_parse_every_type_region_ok),
      cmocka_unit_test(image_test_header_parse_other_type_region),
      cmocka_unit_test(image_test_expected_len_null),
      cmocka_unit_test(image_test_expected_len_sum),
      cmocka_unit_test(image_test_expected_len_oversized),
      cmocka_unit_test(image_test_manifest_parse_null),
      cmocka_unit_test(image_test_manifest_parse_empty),
      cmocka_unit_test(image_test_manifest_parse_good),
      cmocka_unit_test(image_test_manifest_parse_truncated_every_length),
      cmocka_unit_test(image_test_manifest_parse_trailing_byte),
      cmocka_unit_test(image_test_manifest_parse_bad_magic),
      cmocka_unit_test(image_test_manifest_parse_bad_version),
      cmocka_unit_test(image_test_manifest_parse_key_count_zero),
      cmocka_unit_test(image_test_manifest_parse_key_count_above_max),
      cmocka_unit_test(image_test_manifest_parse_key_count_disagrees_with_len),
      cmocka_unit_test(image_test_manifest_parse_duplicate_key_index),
      cmocka_unit_test(image_test_manifest_parse_key_index_32),
      cmocka_unit_test(image_test_manifest_parse_key_index_31_ok),
      cmocka_unit_test(image_test_manifest_parse_unknown_type_bits),
      cmocka_unit_test(image_test_manifest_build_null),
      cmocka_unit_test(image_test_manifest_build_zero_keys),
      cmocka_unit_test(image_test_manifest_build_too_many_keys),
      cmocka_unit_test(image_test_manifest_build_max_keys_ok),
      cmocka_unit_test(image_test_manifest_build_out_too_small),
      cmocka_unit_test(image_test_manifest_build_duplicate_index),
      cmocka_unit_test(image_test_manifest_build_index_32),
      cmocka_unit_test(image_test_manifest_build_unknown_type_bits),
      cmocka_unit_test(image_test_manifest_build_zero_root_key),
      cmocka_unit_test(image_test_manifest_build_root_signature_verifies),
      cmocka_unit_test(image_test_parse_null),
      cmocka_unit_test(image_test_parse_empty),
      cmocka_unit_test(image_test_parse_layout),
      cmocka_unit_test(image_test_parse_truncated_every_length),
      cmocka_unit_test(image_test_parse_trailing_data),
      cmocka_unit_test(image_test_parse_bad_manifest_propagates),
      cmocka_unit_test(image_test_parse_failure_wipes_out),
      cmocka_unit_test(image_test_verify_null),
      cmocka_unit_test(image_test_verify_empty),
      cmocka_unit_test(image_test_verify_good),
      cmocka_unit_test(image_test_verify_manifest_verdict_cached),
      cmocka_unit_test(image_test_verify_manifest_cache_keyed_by_bytes),
      cmocka_unit_test(image_test_verify_digest),
      cmocka_unit_test(image_test_verify_every_type),
      cmocka_unit_test(image_test_verify_one_key_manifest),
      cmocka_unit_test(image_test_verify_expected_type_match),
      cmocka_unit_test(image_test_verify_expected_type_mismatch),
      cmocka_unit_test(image_test_verify_truncated_every_length),
      cmocka_unit_test(image_test_verify_trailing_data),
      cmocka_unit_test(image_test_verify_signature_short_by_one),
      cmocka_unit_test(image_test_verify_manifest_len_minus_one),
      cmocka_unit_test(image_test_verify_manifest_len_plus_one),
      cmocka_unit_test(image_test_verify_manifest_sig_short_by_one),
      cmocka_unit_test(image_test_verify_manifest_sig_long_by_one),
      cmocka_unit_test(image_test_verify_payload_len_plus_one),
      cmocka_unit_test(image_test_verify_payload_len_minus_one),
      cmocka_unit_test(image_test_verify_payload_len_minus_one_resigned),
      cmocka_unit_test(image_test_verify_zero_length_payload),
      cmocka_unit_test(image_test_verify_manifest_duplicate_key),
      cmocka_unit_test(image_test_verify_manifest_key_index_32),
      cmocka_unit_test(image_test_verify_manifest_key_count_zero),
      cmocka_unit_test(image_test_verify_manifest_key_count_above_max),
      cmocka_unit_test(image_test_verify_unprovisioned_policy),
      cmocka_unit_test(image_test_verify_manifest_from_other_root),
      cmocka_unit_test(image_test_verify_manifest_swapped_header_unchanged),
      cmocka_unit_test(image_test_verify_root_pub_replaced),
      cmocka_unit_test(image_test_verify_manifest_signature_tampered),
      cmocka_unit_test(image_test_verify_manifest_entry_escalated),
      cmocka_unit_test(image_test_verify_manifest_signed_by_signer),
      cmocka_unit_test(image_test_verify_manifest_sig_out_of_range),
      cmocka_unit_test(image_test_verify_key_not_in_manifest),
      cmocka_unit_test(image_test_verify_key_index_huge),
      cmocka_unit_test(image_test_verify_revoked_key),
      cmocka_unit_test(image_test_verify_other_key_revoked_ok),
      cmocka_unit_test(image_test_verify_type_not_allowed),
      cmocka_unit_test(image_test_verify_type_allowed_for_restricted_key),
      cmocka_unit_test(image_test_verify_restricted_key_revoked),
      cmocka_unit_test(image_test_verify_signed_by_uncertified_key),
      cmocka_unit_test(image_test_verify_signed_by_other_certified_key),
      cmocka_unit_test(image_test_verify_svn_below_floor),
      cmocka_unit_test(image_test_verify_svn_equal_floor_ok),
      cmocka_unit_test(image_test_verify_svn_max_at_max_floor_ok),
      cmocka_unit_test(image_test_verify_svn_floor_of_other_type_ignored),
      cmocka_unit_test(image_test_verify_svn_raised_without_resign),
      cmocka_unit_test(image_test_verify_svn_above_max),
      cmocka_unit_test(image_test_verify_dev_only_on_dev_ok),
      cmocka_unit_test(image_test_verify_dev_only_on_prod),
      cmocka_unit_test(image_test_verify_dev_only_flag_cleared_without_resign),
      cmocka_unit_test(image_test_verify_prod_ok),
      cmocka_unit_test(image_test_verify_decommissioned),
      cmocka_unit_test(image_test_verify_blank_lifecycle),
      cmocka_unit_test(image_test_verify_entry_last_word_ok),
      cmocka_unit_test(image_test_verify_entry_misaligned_resigned),
      cmocka_unit_test(image_test_verify_load_misaligned_resigned),
      cmocka_unit_test(image_test_verify_dtb_load_misaligned_resigned),
      cmocka_unit_test(image_test_verify_entry_one_past),
      cmocka_unit_test(image_test_verify_payload_at_region_end_ok),
      cmocka_unit_test(image_test_verify_payload_past_region_end),
      cmocka_unit_test(image_test_verify_load_outside_region),
      cmocka_unit_test(image_test_verify_dtb_entry_nonzero),
      cmocka_unit_test(image_test_verify_image_sig_out_of_range),
      cmocka_unit_test(image_test_verify_image_sig_tampered),
      cmocka_unit_test(image_test_verify_image_sig_zeroed),
      cmocka_unit_test(image_test_verify_header_version_tampered),
      cmocka_unit_test(image_test_verify_payload_tampered),
      cmocka_unit_test(image_test_verify_payload_digest_resigned),
      cmocka_unit_test(image_test_verified_check_null),
      cmocka_unit_test(image_test_verified_check_zeroed),
      cmocka_unit_test(image_test_verified_check_good),
      cmocka_unit_test(image_test_verified_check_tampered_digest),
      cmocka_unit_test(image_test_verified_check_token_only),
      cmocka_unit_test(image_test_verify_failure_wipes_previous_token),
      cmocka_unit_test(image_test_verify_bad_argument_wipes_previous_token),
      cmocka_unit_test(image_test_sign_null),
      cmocka_unit_test(image_test_sign_empty_payload),
      cmocka_unit_test(image_test_sign_payload_above_max),
      cmocka_unit_test(image_test_sign_manifest_above_max),
      cmocka_unit_test(image_test_sign_bad_manifest),
      cmocka_unit_test(image_test_sign_out_too_small),
      cmocka_unit_test(image_test_sign_exact_cap_ok),
      cmocka_unit_test(image_test_sign_bad_type),
      cmocka_unit_test(image_test_sign_bad_flags),
      cmocka_unit_test(image_test_sign_svn_above_max),
      cmocka_unit_test(image_test_sign_load_outside_region),
      cmocka_unit_test(image_test_sign_entry_outside_payload),
      cmocka_unit_test(image_test_sign_entry_misaligned),
      cmocka_unit_test(image_test_sign_key_not_in_manifest),
      cmocka_unit_test(image_test_sign_zero_signer_key),
      cmocka_unit_test(image_test_sign_fills_fixed_fields),
      cmocka_unit_test(image_test_sign_layout),
      cmocka_unit_test(image_test_sign_max_payload_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
