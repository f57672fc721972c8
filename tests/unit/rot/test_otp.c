/*
 * OTP fuse map: thermometer codes, decoding, and every way the core
 * programs fuses. An in-memory fuse array stands in for the part (program
 * only ORs bits in, like real fuses); a second flavour drops bits on
 * program, the fault a real part cannot be made to show on demand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rot/image.h"
#include "rot/otp.h"
#include "rot_client/otp_provision.h"
#include "rot/util.h"
#include "rot_host/file.h"
#include "test_keys.h"
#include "trap_hook.h"

/* ---- fake fuse array ---------------------------------------------------- */

typedef struct fake_otp {
  rot_otp_port_t port; /* first, so the port pointer is the fake */
  uint8_t fuses[ROT_OTP_SIZE];
  uint8_t drop_mask;   /* bits that never take when programmed */
  int fail_reads;      /* read() reports an I/O error */
  unsigned programs;   /* program() calls seen */
  int cut;             /* power lost: programs from cut_at on never land */
  unsigned cut_at;
} fake_otp_t;

static rot_error_t fake_read(const rot_otp_port_t *p, uint32_t off, void *buf,
                             uint32_t len) {
  const fake_otp_t *f = p->state;
  if (f->fail_reads) {
    return ROT_ERROR_IO_READ;
  }
  if (buf == NULL || off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memcpy(buf, f->fuses + off, len);
  return ROT_OK;
}

static rot_error_t fake_program(const rot_otp_port_t *p, uint32_t off,
                                const void *buf, uint32_t len) {
  fake_otp_t *f = p->state;
  if (buf == NULL || off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (f->cut && f->programs >= f->cut_at) {
    return ROT_ERROR_OTP_WRITE_FAILED;
  }
  const uint8_t *in = buf;
  for (uint32_t i = 0; i < len; i++) {
    f->fuses[off + i] |= (uint8_t)(in[i] & ~f->drop_mask);
  }
  f->programs++;
  return ROT_OK;
}

static void fake_init(fake_otp_t *f) {
  memset(f, 0, sizeof(*f));
  f->port.read = fake_read;
  f->port.program = fake_program;
  f->port.state = f;
}

static void hash_fill(uint8_t h[ROT_SHA384_LEN], uint8_t seed) {
  for (size_t i = 0; i < ROT_SHA384_LEN; i++) {
    h[i] = (uint8_t)(seed + i * 3u) | 1u; /* never zero, bit 0 always set */
  }
}

static void fake_provisioned(fake_otp_t *f) {
  uint8_t h[ROT_SHA384_LEN];
  fake_init(f);
  hash_fill(h, 0x40);
  assert_int_equal(rot_otp_provision(&f->port, h), ROT_OK);
}

/* Lowest k bits of a len-byte field set. */
static void thermo(uint8_t *p, size_t len, uint32_t k) {
  memset(p, 0, len);
  for (uint32_t b = 0; b < k; b++) {
    p[b / 8] |= (uint8_t)(1u << (b % 8));
  }
}

static void read_policy(fake_otp_t *f, rot_policy_t *p) {
  assert_int_equal(rot_otp_policy(&f->port, p), ROT_OK);
}

/* ---- rot_otp_thermo_decode --------------------------------------------- */

static void otp_test_thermo_decode_every_count(void **state) {
  (void)state;
  uint8_t field[ROT_OTP_FLOOR_BYTES];
  for (uint32_t k = 0; k <= ROT_OTP_FLOOR_BYTES * 8u; k++) {
    uint32_t n = 0xdeadu;
    thermo(field, sizeof(field), k);
    assert_int_equal(rot_otp_thermo_decode(field, sizeof(field), &n), ROT_OK);
    assert_int_equal(n, k);
  }
}

static void otp_test_thermo_decode_every_gap_corrupt(void **state) {
  (void)state;
  /* Any set bit above a clear one is not a thermometer code. */
  uint8_t field[ROT_OTP_FLOOR_BYTES];
  const uint32_t bits = ROT_OTP_FLOOR_BYTES * 8u;
  for (uint32_t k = 0; k < bits; k++) {
    for (uint32_t extra = k + 1; extra < bits; extra++) {
      uint32_t n = 0xdeadu;
      thermo(field, sizeof(field), k);
      field[extra / 8] |= (uint8_t)(1u << (extra % 8));
      assert_int_equal(rot_otp_thermo_decode(field, sizeof(field), &n),
                       ROT_ERROR_OTP_CORRUPT);
      assert_int_equal(n, 0xdeadu);
    }
  }
}

static void otp_test_thermo_decode_empty(void **state) {
  (void)state;
  uint8_t b = 0xff;
  uint32_t n = 7;
  assert_int_equal(rot_otp_thermo_decode(&b, 0, &n), ROT_OK);
  assert_int_equal(n, 0);
}

static void otp_test_thermo_decode_null(void **state) {
  (void)state;
  uint8_t b = 1;
  uint32_t n;
  assert_int_equal(rot_otp_thermo_decode(NULL, 1, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_thermo_decode(&b, 1, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_thermo_decode_oversized_field(void **state) {
  (void)state;
  /* The whole fuse array as one field: counts past one floor's range. */
  uint8_t big[ROT_OTP_SIZE];
  uint32_t n = 0;
  memset(big, 0xff, sizeof(big));
  assert_int_equal(rot_otp_thermo_decode(big, sizeof(big), &n), ROT_OK);
  assert_int_equal(n, ROT_OTP_SIZE * 8u);
}

/* ---- rot_otp_decode ----------------------------------------------------- */

static void otp_test_decode_null(void **state) {
  (void)state;
  uint8_t raw[ROT_OTP_SIZE] = {0};
  rot_policy_t p;
  assert_int_equal(rot_otp_decode(NULL, &p), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_decode(raw, NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_decode_blank_not_provisioned(void **state) {
  (void)state;
  uint8_t raw[ROT_OTP_SIZE] = {0};
  rot_policy_t p;
  assert_int_equal(rot_otp_decode(raw, &p), ROT_ERROR_OTP_NOT_PROVISIONED);
}

static void otp_test_decode_good(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  rot_st32(f.fuses + ROT_OTP_OFF_REVOKED, 0x22u);
  thermo(f.fuses + ROT_OTP_OFF_FLOORS + 3 * ROT_OTP_FLOOR_BYTES,
         ROT_OTP_FLOOR_BYTES, 9);
  rot_policy_t p;
  uint8_t h[ROT_SHA384_LEN];
  hash_fill(h, 0x40);
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_OK);
  assert_memory_equal(p.root_key_hash, h, sizeof(h));
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_DEV);
  assert_int_equal(p.revoked_keys, 0x22u);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    assert_int_equal(p.svn_floor[t], t == 3 ? 9u : 0u);
  }
}

static void otp_test_decode_bad_magic(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  f.fuses[ROT_OTP_OFF_MAGIC + 3] |= 0x80;
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_BAD_LAYOUT);
}

static void otp_test_decode_bad_version(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  f.fuses[ROT_OTP_OFF_VERSION] |= 0x02;
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_BAD_LAYOUT);
}

static void otp_test_decode_bad_lifecycle_pattern(void **state) {
  (void)state;
  static const uint32_t kBad[] = {0x2, 0x4, 0x5, 0x6, 0x8, 0xf, 0x10,
                                  0xffffffffu};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kBad); i++) {
    fake_otp_t f;
    rot_policy_t p;
    fake_provisioned(&f);
    rot_st32(f.fuses + ROT_OTP_OFF_LIFECYCLE, kBad[i]);
    assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_CORRUPT);
  }
}

static void otp_test_decode_every_lifecycle(void **state) {
  (void)state;
  static const uint32_t kRaw[] = {0x0, 0x1, 0x3, 0x7};
  for (uint32_t lc = ROT_LIFECYCLE_DEV; lc < ROT_ARRAY_SIZE(kRaw); lc++) {
    fake_otp_t f;
    rot_policy_t p;
    fake_provisioned(&f);
    rot_st32(f.fuses + ROT_OTP_OFF_LIFECYCLE, kRaw[lc]);
    assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_OK);
    assert_int_equal(p.lifecycle, lc);
  }
}

/* The magic fused over a blank lifecycle: no state provisioning writes
 * (it fuses the lifecycle first), so a programmer's; refused, zeroed. */
static void otp_test_decode_magic_over_blank_lifecycle(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p, zero;
  fake_init(&f);
  uint8_t h[ROT_SHA384_LEN];
  hash_fill(h, 0x40);
  memcpy(f.fuses + ROT_OTP_OFF_ROOT_HASH, h, sizeof(h));
  rot_st32(f.fuses + ROT_OTP_OFF_MAGIC, ROT_OTP_MAGIC);
  rot_st16(f.fuses + ROT_OTP_OFF_VERSION, ROT_OTP_VERSION);
  memset(&p, 0xa5, sizeof(p));
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_LIFECYCLE_BLANK);
  assert_memory_equal(&p, &zero, sizeof(p));
  assert_int_equal(rot_otp_policy(&f.port, &p), ROT_ERROR_OTP_LIFECYCLE_BLANK);
  /* Provisioning does not "complete" it either: the magic is already set. */
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_ERROR_OTP_ALREADY_SET);
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_LIFECYCLE_BLANK);
  /* A glitch past the first check meets the second. */
  rot_error_t err = ROT_OK;
  EXPECT_TRAP(err = rot_otp_decode(f.fuses, &p));
  (void)err;
}

/* Provisioning never leaves that state: cut before each of its programs,
 * the fuses read as blank (a retry completes them) or as provisioned. */
static void otp_test_provision_never_magic_over_blank(void **state) {
  (void)state;
  uint8_t h[ROT_SHA384_LEN];
  hash_fill(h, 0x40);
  fake_otp_t f;
  fake_init(&f);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_OK);
  const unsigned programs = f.programs;
  assert_true(programs >= 3);
  for (unsigned cut = 0; cut < programs; cut++) {
    fake_init(&f);
    f.cut = 1;
    f.cut_at = cut;
    assert_int_not_equal(rot_otp_provision(&f.port, h), ROT_OK);
    int magic = rot_ld32(f.fuses + ROT_OTP_OFF_MAGIC) != 0;
    assert_false(magic && rot_ld32(f.fuses + ROT_OTP_OFF_LIFECYCLE) ==
                              ROT_OTP_LC_RAW_BLANK);
    rot_policy_t p;
    assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_NOT_PROVISIONED);
    f.cut = 0;
    assert_int_equal(rot_otp_provision(&f.port, h), ROT_OK);
    assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_OK);
    assert_int_equal(p.lifecycle, ROT_LIFECYCLE_DEV);
  }
}

static void otp_test_decode_zero_root_hash(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  memset(f.fuses + ROT_OTP_OFF_ROOT_HASH, 0, ROT_SHA384_LEN);
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_NOT_PROVISIONED);
}

static void otp_test_decode_floor_gap_corrupt(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  f.fuses[ROT_OTP_OFF_FLOORS + 7 * ROT_OTP_FLOOR_BYTES + 1] = 0x01;
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_CORRUPT);
}

static void otp_test_decode_failure_leaves_policy_zeroed(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p, zero;
  fake_provisioned(&f);
  rot_st32(f.fuses + ROT_OTP_OFF_LIFECYCLE, 0x5);
  memset(&p, 0xa5, sizeof(p));
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_CORRUPT);
  assert_memory_equal(&p, &zero, sizeof(p));
}

/* ---- rot_otp_policy ----------------------------------------------------- */

static void otp_test_policy_null(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_init(&f);
  assert_int_equal(rot_otp_policy(NULL, &p), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_policy(&f.port, NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_policy_read_error_propagates(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  f.fail_reads = 1;
  assert_int_equal(rot_otp_policy(&f.port, &p), ROT_ERROR_IO_READ);
}

static void otp_test_policy_blank(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_init(&f);
  assert_int_equal(rot_otp_policy(&f.port, &p), ROT_ERROR_OTP_NOT_PROVISIONED);
}

/* ---- rot_otp_provision -------------------------------------------------- */

static void otp_test_provision_blank(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  uint8_t h[ROT_SHA384_LEN];
  fake_init(&f);
  hash_fill(h, 0x11);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_OK);
  read_policy(&f, &p);
  assert_memory_equal(p.root_key_hash, h, sizeof(h));
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_DEV);
  assert_int_equal(p.revoked_keys, 0);
  assert_int_equal(rot_ld32(f.fuses + ROT_OTP_OFF_MAGIC), ROT_OTP_MAGIC);
  assert_int_equal(rot_ld16(f.fuses + ROT_OTP_OFF_VERSION), ROT_OTP_VERSION);
}

static void otp_test_provision_refused_when_provisioned(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t h[ROT_SHA384_LEN];
  fake_provisioned(&f);
  uint8_t before[ROT_OTP_SIZE];
  memcpy(before, f.fuses, sizeof(before));
  unsigned programs = f.programs;
  hash_fill(h, 0x77);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_ERROR_OTP_ALREADY_SET);
  assert_int_equal(f.programs, programs);
  assert_memory_equal(f.fuses, before, sizeof(before));
}

static void otp_test_provision_refused_when_partly_set(void **state) {
  (void)state;
  /* A root hash without magic, with a bit the new hash does not have:
   * another provisioning was cut half way; this one cannot complete it. */
  fake_otp_t f;
  uint8_t h[ROT_SHA384_LEN];
  fake_init(&f);
  hash_fill(h, 0x77);
  f.fuses[ROT_OTP_OFF_ROOT_HASH + 47] = (uint8_t)~h[47];
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_ERROR_OTP_ALREADY_SET);
}

/* The same provisioning, cut half way (part of the hash, part of the
 * magic blown), is completed by a retry instead of bricking the device. */
static void otp_test_provision_cut_then_retried(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t h[ROT_SHA384_LEN];
  fake_init(&f);
  hash_fill(h, 0x77);
  memcpy(f.fuses + ROT_OTP_OFF_ROOT_HASH, h, 20);
  f.fuses[ROT_OTP_OFF_MAGIC] = (uint8_t)(ROT_OTP_MAGIC & 0x0fu);
  rot_policy_t p;
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_ERROR_OTP_NOT_PROVISIONED);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_OK);
  assert_int_equal(rot_otp_decode(f.fuses, &p), ROT_OK);
  assert_memory_equal(p.root_key_hash, h, ROT_SHA384_LEN);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_ERROR_OTP_ALREADY_SET);
}

/* A device-secret burn cut before its marker is completed by the same
 * secret, and refused for another. */
static void otp_test_write_uds_cut_then_retried(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t uds[ROT_OTP_UDS_LEN], other[ROT_OTP_UDS_LEN];
  fake_init(&f);
  hash_fill(uds, 0x21);
  memset(other, 0, sizeof(other));
  for (size_t i = 0; i < sizeof(other); i++) {
    other[i] = (uint8_t)~uds[i];
  }
  memcpy(f.fuses + ROT_OTP_OFF_UDS, uds, 10);
  uint8_t out[ROT_OTP_UDS_LEN];
  assert_int_equal(rot_otp_read_uds(&f.port, out), ROT_ERROR_OTP_NO_DEVICE_SECRET);
  assert_int_equal(rot_otp_write_uds(&f.port, other), ROT_ERROR_OTP_ALREADY_SET);
  assert_int_equal(rot_otp_write_uds(&f.port, uds), ROT_OK);
  assert_int_equal(rot_otp_read_uds(&f.port, out), ROT_OK);
  assert_memory_equal(out, uds, sizeof(out));
}

static void otp_test_provision_zero_hash(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t h[ROT_SHA384_LEN] = {0};
  fake_init(&f);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(f.programs, 0);
}

static void otp_test_provision_null(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t h[ROT_SHA384_LEN];
  fake_init(&f);
  hash_fill(h, 1);
  assert_int_equal(rot_otp_provision(NULL, h), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_provision(&f.port, NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_provision_dropped_bits_write_failed(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  uint8_t h[ROT_SHA384_LEN];
  fake_init(&f);
  f.drop_mask = 0x01; /* every hash byte has bit 0 set: it never takes */
  hash_fill(h, 0x20);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_ERROR_OTP_WRITE_FAILED);
  /* The magic goes last, so the half-written part still reads as blank. */
  assert_int_equal(rot_otp_policy(&f.port, &p), ROT_ERROR_OTP_NOT_PROVISIONED);
}

static void otp_test_provision_read_error(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t h[ROT_SHA384_LEN];
  fake_init(&f);
  f.fail_reads = 1;
  hash_fill(h, 1);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_ERROR_IO_READ);
  assert_int_equal(f.programs, 0);
}

/* ---- rot_otp_revoke_key ------------------------------------------------- */

static void otp_test_revoke_key_sets_bit(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_revoke_key(&f.port, 5), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.revoked_keys, 1u << 5);
  assert_int_equal(rot_otp_revoke_key(&f.port, 0), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.revoked_keys, (1u << 5) | 1u);
}

static void otp_test_revoke_key_idempotent(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_revoke_key(&f.port, 31), ROT_OK);
  assert_int_equal(rot_otp_revoke_key(&f.port, 31), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.revoked_keys, 1u << 31);
}

static void otp_test_revoke_key_index_out_of_range(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  unsigned programs = f.programs;
  assert_int_equal(rot_otp_revoke_key(&f.port, ROT_MAX_KEY_INDEX),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_revoke_key(&f.port, 0xffffffffu),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(f.programs, programs);
}

static void otp_test_revoke_key_null(void **state) {
  (void)state;
  assert_int_equal(rot_otp_revoke_key(NULL, 1), ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_revoke_key_dropped_bit_write_failed(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  f.drop_mask = 0x04;
  assert_int_equal(rot_otp_revoke_key(&f.port, 2), ROT_ERROR_OTP_WRITE_FAILED);
}

/* ---- rot_otp_raise_floor ------------------------------------------------ */

static void otp_test_raise_floor_raises(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_HYPERVISOR, 5),
                   ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.svn_floor[ROT_IMAGE_TYPE_HYPERVISOR], 5);
  assert_int_equal(p.svn_floor[ROT_IMAGE_TYPE_OPENSBI], 0);
  assert_int_equal(p.svn_floor[ROT_IMAGE_TYPE_RECOVERY], 0);
}

static void otp_test_raise_floor_never_lowers(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_DTB, 9), ROT_OK);
  unsigned programs = f.programs;
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_DTB, 3), ROT_OK);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_DTB, 0), ROT_OK);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_DTB, 9), ROT_OK);
  assert_int_equal(f.programs, programs);
  read_policy(&f, &p);
  assert_int_equal(p.svn_floor[ROT_IMAGE_TYPE_DTB], 9);
}

static void otp_test_raise_floor_every_step_to_max(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  for (uint32_t svn = 1; svn <= ROT_SVN_MAX; svn++) {
    assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_ROT, svn),
                     ROT_OK);
    read_policy(&f, &p);
    assert_int_equal(p.svn_floor[ROT_IMAGE_TYPE_ROT], svn);
  }
}

static void otp_test_raise_floor_exhausted(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_ROT,
                                       ROT_OTP_FLOOR_BYTES * 8u),
                   ROT_OK);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_ROT,
                                       ROT_OTP_FLOOR_BYTES * 8u + 1u),
                   ROT_ERROR_OTP_COUNTER_EXHAUSTED);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_ROT, 0xffffffffu),
                   ROT_ERROR_OTP_COUNTER_EXHAUSTED);
  read_policy(&f, &p);
  assert_int_equal(p.svn_floor[ROT_IMAGE_TYPE_ROT], 256);
}

static void otp_test_raise_floor_bad_type(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_SLOTS, 1),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_raise_floor(&f.port, 0xffffffffu, 1),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_raise_floor_null(void **state) {
  (void)state;
  assert_int_equal(rot_otp_raise_floor(NULL, ROT_IMAGE_TYPE_ROT, 1),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_raise_floor_corrupt_field(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  f.fuses[ROT_OTP_OFF_FLOORS + ROT_IMAGE_TYPE_ROT * ROT_OTP_FLOOR_BYTES] = 0x02;
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_ROT, 4),
                   ROT_ERROR_OTP_CORRUPT);
}

static void otp_test_raise_floor_dropped_bits_write_failed(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  f.drop_mask = 0x80; /* the 8th bit of each byte never takes */
  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_OPENSBI, 12),
                   ROT_ERROR_OTP_WRITE_FAILED);
}

/* ---- rot_otp_set_lifecycle ---------------------------------------------- */

static void otp_test_write_uds_once(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t uds[ROT_OTP_UDS_LEN];
  fake_provisioned(&f);
  hash_fill(uds, 0x11);
  assert_int_equal(rot_otp_write_uds(&f.port, uds), ROT_OK);
  assert_memory_equal(f.fuses + ROT_OTP_OFF_UDS, uds, ROT_OTP_UDS_LEN);
  assert_int_equal(rot_ld32(f.fuses + ROT_OTP_OFF_UDS_WRITTEN), ROT_OTP_UDS_WRITTEN);
  /* A second secret would OR into the first: refused. */
  hash_fill(uds, 0x22);
  assert_int_equal(rot_otp_write_uds(&f.port, uds), ROT_ERROR_OTP_ALREADY_SET);
}

static void otp_test_write_uds_zero_or_null(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t uds[ROT_OTP_UDS_LEN] = {0};
  fake_provisioned(&f);
  assert_int_equal(rot_otp_write_uds(&f.port, uds), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_write_uds(NULL, uds), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_write_uds(&f.port, NULL), ROT_ERROR_INVALID_ARGUMENT);
  assert_true(rot_is_zero(f.fuses + ROT_OTP_OFF_UDS, ROT_OTP_UDS_LEN + 4));
}

static void otp_test_write_uds_dropped_bits_no_marker(void **state) {
  (void)state;
  fake_otp_t f;
  uint8_t uds[ROT_OTP_UDS_LEN];
  fake_provisioned(&f);
  f.drop_mask = 0x01; /* every UDS byte has bit 0 set: it never takes */
  hash_fill(uds, 0x33);
  assert_int_equal(rot_otp_write_uds(&f.port, uds), ROT_ERROR_OTP_WRITE_FAILED);
  /* The marker goes last: a secret that did not take is never marked. */
  assert_int_equal(rot_ld32(f.fuses + ROT_OTP_OFF_UDS_WRITTEN), 0u);
}

static void otp_test_set_lifecycle_forward(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_PROD), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_PROD);
  assert_int_equal(
      rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_DECOMMISSIONED), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_DECOMMISSIONED);
}

static void otp_test_set_lifecycle_skip_forward(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(
      rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_DECOMMISSIONED), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_DECOMMISSIONED);
}

static void otp_test_set_lifecycle_same_state_ok(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_DEV), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_DEV);
}

static void otp_test_set_lifecycle_backward_refused(void **state) {
  (void)state;
  fake_otp_t f;
  rot_policy_t p;
  fake_provisioned(&f);
  assert_int_equal(rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_PROD), ROT_OK);
  assert_int_equal(rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_DEV),
                   ROT_ERROR_OTP_ALREADY_SET);
  assert_int_equal(rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_BLANK),
                   ROT_ERROR_OTP_ALREADY_SET);
  read_policy(&f, &p);
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_PROD);
}

static void otp_test_set_lifecycle_out_of_range(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  assert_int_equal(
      rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_DECOMMISSIONED + 1),
      ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_set_lifecycle(&f.port, 0xffffffffu),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_set_lifecycle_null(void **state) {
  (void)state;
  assert_int_equal(rot_otp_set_lifecycle(NULL, ROT_LIFECYCLE_PROD),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_set_lifecycle_corrupt_current(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  rot_st32(f.fuses + ROT_OTP_OFF_LIFECYCLE, 0x5);
  assert_int_equal(rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_PROD),
                   ROT_ERROR_OTP_CORRUPT);
}

static void otp_test_set_lifecycle_dropped_bit_write_failed(void **state) {
  (void)state;
  fake_otp_t f;
  fake_provisioned(&f);
  f.drop_mask = 0x02;
  assert_int_equal(rot_otp_set_lifecycle(&f.port, ROT_LIFECYCLE_PROD),
                   ROT_ERROR_OTP_WRITE_FAILED);
}

/* ---- the fused policy drives image verification ---------------------- */

static void otp_test_policy_drives_verify(void **state) {
  (void)state;
  const test_keys_t *k = test_keys();
  const rot_crypto_t *c = test_crypto();
  fake_otp_t f;
  rot_policy_t p;
  rot_verified_image_t v;
  uint8_t h[ROT_SHA384_LEN];
  size_t len;
  uint8_t *img = test_image_default(ROT_IMAGE_TYPE_HYPERVISOR, 64, &len);

  fake_init(&f);
  test_key_hash(k->root.pub, h);
  assert_int_equal(rot_otp_provision(&f.port, h), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(rot_image_verify(c, &p, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_OK);

  assert_int_equal(rot_otp_raise_floor(&f.port, ROT_IMAGE_TYPE_HYPERVISOR, 2),
                   ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(rot_image_verify(c, &p, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_POLICY_SVN_BELOW_FLOOR);

  assert_int_equal(rot_otp_revoke_key(&f.port, TEST_KEY_INDEX_ALL), ROT_OK);
  read_policy(&f, &p);
  assert_int_equal(rot_image_verify(c, &p, img, len, ROT_IMAGE_TYPE_ANY, &v),
                   ROT_ERROR_POLICY_KEY_REVOKED);
  free(img);
}

/* ---- file-backed OTP ---------------------------------------------------- */

typedef struct tmp_otp {
  char dir[64];
  char path[96];
} tmp_otp_t;

static void tmp_otp_make(tmp_otp_t *t) {
  const char *base = getenv("TMPDIR");
  snprintf(t->dir, sizeof(t->dir), "%s/rot-otp-XXXXXX",
           base != NULL && strlen(base) < 40 ? base : "/tmp");
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->path, sizeof(t->path), "%s/otp.bin", t->dir);
}

static void tmp_otp_remove(tmp_otp_t *t) {
  unlink(t->path);
  assert_int_equal(rmdir(t->dir), 0);
}

static void otp_test_file_open_creates_blank_0600(void **state) {
  (void)state;
  tmp_otp_t t;
  rot_otp_file_t otp;
  rot_policy_t p;
  struct stat st;
  tmp_otp_make(&t);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 1), ROT_OK);
  assert_int_equal(stat(t.path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_size, ROT_OTP_SIZE);
  assert_int_equal(rot_otp_policy(&otp.port, &p), ROT_ERROR_OTP_NOT_PROVISIONED);
  rot_otp_file_close(&otp);
  tmp_otp_remove(&t);
}

static void otp_test_file_open_second_open_locked(void **state) {
  (void)state;
  /* flock belongs to the open file description: a second open conflicts
   * even inside one process, just as a second rotd would. */
  tmp_otp_t t;
  rot_otp_file_t a, b;
  tmp_otp_make(&t);
  assert_int_equal(rot_otp_file_open(&a, t.path, 1), ROT_OK);
  assert_int_equal(rot_otp_file_open(&b, t.path, 1), ROT_ERROR_IO_LOCKED);
  assert_int_equal(rot_otp_file_open(&b, t.path, 0), ROT_ERROR_IO_LOCKED);
  rot_otp_file_close(&a);
  assert_int_equal(rot_otp_file_open(&b, t.path, 0), ROT_OK);
  rot_otp_file_close(&b);
  tmp_otp_remove(&t);
}

/* Readers share the file with the daemon (rotctl otp show while rotd
 * runs); writers still need it to themselves. */
static void otp_test_file_open_reader_beside_daemon(void **state) {
  (void)state;
  tmp_otp_t t;
  rot_otp_file_t d, r, w;
  tmp_otp_make(&t);
  assert_int_equal(rot_otp_file_open(&w, t.path, 1), ROT_OK);
  assert_int_equal(rot_otp_provision(&w.port, (uint8_t[ROT_SHA384_LEN]){1}), ROT_OK);
  /* A writer holds it: nobody else gets in. */
  assert_int_equal(rot_otp_file_open_locked(&r, t.path, 0, ROT_LOCK_READER),
                   ROT_ERROR_IO_LOCKED);
  rot_otp_file_close(&w);
  assert_int_equal(rot_otp_file_open_locked(&d, t.path, 0, ROT_LOCK_DAEMON), ROT_OK);
  assert_int_equal(rot_otp_file_open_locked(&r, t.path, 0, ROT_LOCK_READER), ROT_OK);
  rot_policy_t p;
  assert_int_equal(rot_otp_policy(&r.port, &p), ROT_OK);
  assert_int_equal(p.lifecycle, ROT_LIFECYCLE_DEV);
  /* A reader cannot program, and the daemon's burns show through. */
  assert_int_equal(rot_otp_revoke_key(&r.port, 3), ROT_ERROR_OTP_WRITE_FAILED);
  assert_int_equal(rot_otp_revoke_key(&d.port, 3), ROT_OK);
  assert_int_equal(rot_otp_policy(&r.port, &p), ROT_OK);
  assert_int_equal(p.revoked_keys, 1u << 3);
  /* A writer is refused while the daemon or a reader has it. */
  assert_int_equal(rot_otp_file_open(&w, t.path, 0), ROT_ERROR_IO_LOCKED);
  rot_otp_file_close(&r);
  assert_int_equal(rot_otp_file_open(&w, t.path, 0), ROT_ERROR_IO_LOCKED);
  /* A second daemon (another process) is refused. */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    rot_otp_file_t d2;
    _exit(rot_otp_file_open_locked(&d2, t.path, 0, ROT_LOCK_DAEMON) ==
                  ROT_ERROR_IO_LOCKED
              ? 0
              : 1);
  }
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  rot_otp_file_close(&d);
  /* A reader never creates. */
  assert_int_equal(rot_otp_file_open_locked(&r, t.path, 1, ROT_LOCK_READER),
                   ROT_ERROR_INVALID_ARGUMENT);
  tmp_otp_remove(&t);
}

static void otp_test_file_program_persists(void **state) {
  (void)state;
  tmp_otp_t t;
  rot_otp_file_t otp;
  rot_policy_t p;
  uint8_t h[ROT_SHA384_LEN];
  tmp_otp_make(&t);
  hash_fill(h, 0x33);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 1), ROT_OK);
  assert_int_equal(rot_otp_provision(&otp.port, h), ROT_OK);
  assert_int_equal(rot_otp_raise_floor(&otp.port, ROT_IMAGE_TYPE_DTB, 3),
                   ROT_OK);
  rot_otp_file_close(&otp);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 0), ROT_OK);
  assert_int_equal(rot_otp_policy(&otp.port, &p), ROT_OK);
  assert_memory_equal(p.root_key_hash, h, sizeof(h));
  assert_int_equal(p.svn_floor[ROT_IMAGE_TYPE_DTB], 3);
  rot_otp_file_close(&otp);
  tmp_otp_remove(&t);
}

static void otp_test_file_open_missing_without_create(void **state) {
  (void)state;
  tmp_otp_t t;
  rot_otp_file_t otp;
  tmp_otp_make(&t);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 0), ROT_ERROR_IO_OPEN);
  tmp_otp_remove(&t);
}

static void otp_test_file_open_wrong_size(void **state) {
  (void)state;
  tmp_otp_t t;
  rot_otp_file_t otp;
  tmp_otp_make(&t);
  FILE *fp = fopen(t.path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite("short", 1, 5, fp), 5);
  assert_int_equal(fclose(fp), 0);
  assert_int_equal(chmod(t.path, 0600), 0); /* private: the size is refused */
  assert_int_equal(rot_otp_file_open(&otp, t.path, 1), ROT_ERROR_OTP_BAD_LAYOUT);
  tmp_otp_remove(&t);
}

static void otp_test_file_open_null(void **state) {
  (void)state;
  rot_otp_file_t otp;
  assert_int_equal(rot_otp_file_open(NULL, "/nonexistent", 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_otp_file_open(&otp, NULL, 0), ROT_ERROR_INVALID_ARGUMENT);
}

static void otp_test_file_port_rejects_out_of_range(void **state) {
  (void)state;
  tmp_otp_t t;
  rot_otp_file_t otp;
  uint8_t buf[8] = {0xff};
  tmp_otp_make(&t);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 1), ROT_OK);
  assert_int_equal(otp.port.read(&otp.port, ROT_OTP_SIZE - 4, buf, 8),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(otp.port.program(&otp.port, 0xfffffffcu, buf, 8),
                   ROT_ERROR_INVALID_ARGUMENT);
  rot_otp_file_close(&otp);
  tmp_otp_remove(&t);
}

static void otp_test_file_close_null_and_twice(void **state) {
  (void)state;
  tmp_otp_t t;
  rot_otp_file_t otp;
  rot_otp_file_close(NULL);
  tmp_otp_make(&t);
  assert_int_equal(rot_otp_file_open(&otp, t.path, 1), ROT_OK);
  rot_otp_file_close(&otp);
  rot_otp_file_close(&otp);
  assert_int_equal(otp.fd, -1);
  tmp_otp_remove(&t);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(otp_test_thermo_decode_every_count),
      cmocka_unit_test(otp_test_thermo_decode_every_gap_corrupt),
      cmocka_unit_test(otp_test_thermo_decode_empty),
      cmocka_unit_test(otp_test_thermo_decode_null),
      cmocka_unit_test(otp_test_thermo_decode_oversized_field),
      cmocka_unit_test(otp_test_decode_null),
      cmocka_unit_test(otp_test_decode_blank_not_provisioned),
      cmocka_unit_test(otp_test_decode_good),
      cmocka_unit_test(otp_test_decode_bad_magic),
      cmocka_unit_test(otp_test_decode_bad_version),
      cmocka_unit_test(otp_test_decode_bad_lifecycle_pattern),
      cmocka_unit_test(otp_test_decode_every_lifecycle),
      cmocka_unit_test(otp_test_decode_magic_over_blank_lifecycle),
      cmocka_unit_test(otp_test_provision_never_magic_over_blank),
      cmocka_unit_test(otp_test_decode_zero_root_hash),
      cmocka_unit_test(otp_test_decode_floor_gap_corrupt),
      cmocka_unit_test(otp_test_decode_failure_leaves_policy_zeroed),
      cmocka_unit_test(otp_test_policy_null),
      cmocka_unit_test(otp_test_policy_read_error_propagates),
      cmocka_unit_test(otp_test_policy_blank),
      cmocka_unit_test(otp_test_provision_blank),
      cmocka_unit_test(otp_test_provision_refused_when_provisioned),
      cmocka_unit_test(otp_test_provision_refused_when_partly_set),
      cmocka_unit_test(otp_test_provision_zero_hash),
      cmocka_unit_test(otp_test_provision_null),
      cmocka_unit_test(otp_test_provision_dropped_bits_write_failed),
      cmocka_unit_test(otp_test_provision_read_error),
      cmocka_unit_test(otp_test_revoke_key_sets_bit),
      cmocka_unit_test(otp_test_revoke_key_idempotent),
      cmocka_unit_test(otp_test_revoke_key_index_out_of_range),
      cmocka_unit_test(otp_test_revoke_key_null),
      cmocka_unit_test(otp_test_revoke_key_dropped_bit_write_failed),
      cmocka_unit_test(otp_test_raise_floor_raises),
      cmocka_unit_test(otp_test_raise_floor_never_lowers),
      cmocka_unit_test(otp_test_raise_floor_every_step_to_max),
      cmocka_unit_test(otp_test_raise_floor_exhausted),
      cmocka_unit_test(otp_test_raise_floor_bad_type),
      cmocka_unit_test(otp_test_raise_floor_null),
      cmocka_unit_test(otp_test_raise_floor_corrupt_field),
      cmocka_unit_test(otp_test_raise_floor_dropped_bits_write_failed),
      cmocka_unit_test(otp_test_write_uds_once),
      cmocka_unit_test(otp_test_write_uds_cut_then_retried),
      cmocka_unit_test(otp_test_provision_cut_then_retried),
      cmocka_unit_test(otp_test_write_uds_zero_or_null),
      cmocka_unit_test(otp_test_write_uds_dropped_bits_no_marker),
      cmocka_unit_test(otp_test_set_lifecycle_forward),
      cmocka_unit_test(otp_test_set_lifecycle_skip_forward),
      cmocka_unit_test(otp_test_set_lifecycle_same_state_ok),
      cmocka_unit_test(otp_test_set_lifecycle_backward_refused),
      cmocka_unit_test(otp_test_set_lifecycle_out_of_range),
      cmocka_unit_test(otp_test_set_lifecycle_null),
      cmocka_unit_test(otp_test_set_lifecycle_corrupt_current),
      cmocka_unit_test(otp_test_set_lifecycle_dropped_bit_write_failed),
      cmocka_unit_test(otp_test_policy_drives_verify),
      cmocka_unit_test(otp_test_file_open_creates_blank_0600),
      cmocka_unit_test(otp_test_file_open_second_open_locked),
      cmocka_unit_test(otp_test_file_open_reader_beside_daemon),
      cmocka_unit_test(otp_test_file_program_persists),
      cmocka_unit_test(otp_test_file_open_missing_without_create),
      cmocka_unit_test(otp_test_file_open_wrong_size),
      cmocka_unit_test(otp_test_file_open_null),
      cmocka_unit_test(otp_test_file_port_rejects_out_of_range),
      cmocka_unit_test(otp_test_file_close_null_and_twice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
