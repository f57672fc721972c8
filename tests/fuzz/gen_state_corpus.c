/*
 * Seed generator for the OTP and audit fuzzers: writes
 * DIR/fuzz_otp/ and DIR/fuzz_audit/ (NAME.bin each). Valid seeds are made by the
 * real fuse and log code on the unit tests' in-memory OTP and flash;
 * hostile ones are valid seeds damaged the way an attacker with raw access
 * (or a worn part) would. Deterministic: no randomness, a fake clock, so
 * rerunning (`make fuzz-seeds`) rewrites the same bytes.
 *
 *   gen_state_corpus DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_layout.h"
#include "ram_flash.h"
#include "rot/audit.h"
#include "rot/gate.h"
#include "rot/otp.h"
#include "rot_client/otp_provision.h"
#include "rot/util.h"
#include "rot_host/crypto_mbedtls.h"

static const char *g_dir;

static void must(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "gen_state_corpus: %s failed\n", what);
    exit(1);
  }
}

#define TRY(expr_) must((expr_) == ROT_OK, #expr_)

static void save(const char *target, const char *name, const void *a,
                 size_t alen, const void *b, size_t blen) {
  char path[512];
  (void)snprintf(path, sizeof(path), "%s/%s/%s.bin", g_dir, target, name);
  FILE *f = fopen(path, "wb");
  must(f != NULL, path);
  must(fwrite(a, 1, alen, f) == alen, path);
  must(blen == 0 || fwrite(b, 1, blen, f) == blen, path);
  must(fclose(f) == 0, path);
}

/* ---- OTP ------------------------------------------------------------------ */

static void otp_save(const char *name, const uint8_t *img, const uint8_t *ops,
                     size_t ops_len) {
  save("fuzz_otp", name, img, ROT_OTP_SIZE, ops, ops_len);
}

static void pattern(uint8_t *p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) {
    p[i] = (uint8_t)(seed + 7u * i) | 1u;
  }
}

static void gen_otp(void) {
  ram_otp_t o;
  uint8_t hash[ROT_SHA384_LEN], uds[ROT_OTP_UDS_LEN], img[ROT_OTP_SIZE];
  pattern(hash, sizeof(hash), 0x40);
  pattern(uds, sizeof(uds), 0x90);

  ram_otp_init(&o);
  otp_save("valid_blank", o.mem, NULL, 0);
  /* Floors and revocations can be burnt before the root is provisioned. */
  TRY(rot_otp_raise_floor(&o.port, ROT_IMAGE_TYPE_OPENSBI, 9));
  TRY(rot_otp_revoke_key(&o.port, 4));
  otp_save("valid_blank_floors_burnt", o.mem, NULL, 0);

  ram_otp_init(&o);
  TRY(rot_otp_provision(&o.port, hash));
  otp_save("valid_dev", o.mem, NULL, 0);
  memcpy(img, o.mem, sizeof(img));
  TRY(rot_otp_write_uds(&o.port, uds));
  otp_save("valid_dev_uds", o.mem, NULL, 0);
  TRY(rot_otp_revoke_key(&o.port, 0));
  TRY(rot_otp_revoke_key(&o.port, 5));
  TRY(rot_otp_revoke_key(&o.port, 31));
  TRY(rot_otp_raise_floor(&o.port, ROT_IMAGE_TYPE_ROT, 3));
  TRY(rot_otp_raise_floor(&o.port, ROT_IMAGE_TYPE_OPENSBI, 17));
  TRY(rot_otp_raise_floor(&o.port, ROT_IMAGE_TYPE_HYPERVISOR, 256));
  TRY(rot_otp_raise_floor(&o.port, ROT_IMAGE_TYPE_RECOVERY, 1));
  TRY(rot_otp_set_lifecycle(&o.port, ROT_LIFECYCLE_PROD));
  otp_save("valid_prod_revoked_floors", o.mem, NULL, 0);
  uint8_t prod[ROT_OTP_SIZE];
  memcpy(prod, o.mem, sizeof(prod));
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    TRY(rot_otp_raise_floor(&o.port, t, 8u * t + t));
  }
  TRY(rot_otp_set_lifecycle(&o.port, ROT_LIFECYCLE_DECOMMISSIONED));
  otp_save("valid_decommissioned", o.mem, NULL, 0);

  /* Operations after the image: (op % 5, a, b); see fuzz_otp.c. */
  static const uint8_t from_blank[] = {
      4, 0x11, 0x22, /* provision */
      3, 0x33, 0x44, /* write the UDS */
      3, 0x55, 0x66, /* again: already set */
      0, 7, 0,       /* revoke key 7 */
      0, 35, 0,      /* key 35: out of range */
      1, 2, 40,      /* opensbi floor 40 */
      1, 2, 12,      /* lower: no-op */
      1, 9, 1,       /* type 9: out of range */
      0x81, 3, 1,    /* svn 257: exhausted */
      2, 2, 0,       /* prod */
      2, 1, 0,       /* back to dev: refused */
      4, 0, 0,       /* provision a zero root: refused */
  };
  ram_otp_init(&o);
  otp_save("ops_from_blank", o.mem, from_blank, sizeof(from_blank));
  static const uint8_t on_prod[] = {
      2, 3, 0, 1, 2, 255, 0x81, 2, 0, 4, 9, 9, 3, 0, 0, 2, 4, 0,
  };
  otp_save("ops_on_prod", prod, on_prod, sizeof(on_prod));

  /* Hostile images. */
  memcpy(img, prod, sizeof(img));
  img[0] ^= 0x01;
  otp_save("hostile_bad_magic", img, NULL, 0);
  memcpy(img, prod, sizeof(img));
  rot_st16(img + ROT_OTP_OFF_VERSION, 2);
  otp_save("hostile_version_2", img, NULL, 0);
  memcpy(img, prod, sizeof(img));
  rot_st32(img + ROT_OTP_OFF_LIFECYCLE, 0x5);
  otp_save("hostile_lifecycle_gap", img, NULL, 0);
  memcpy(img, prod, sizeof(img));
  rot_st32(img + ROT_OTP_OFF_LIFECYCLE, 0xffffffffu);
  otp_save("hostile_lifecycle_all_ones", img, NULL, 0);
  memcpy(img, prod, sizeof(img));
  img[ROT_OTP_OFF_FLOORS + ROT_IMAGE_TYPE_OPENSBI * ROT_OTP_FLOOR_BYTES + 3] |=
      0x10;
  otp_save("hostile_floor_gap", img, NULL, 0);
  memcpy(img, prod, sizeof(img));
  img[ROT_OTP_OFF_FLOORS + ROT_IMAGE_TYPE_DTB * ROT_OTP_FLOOR_BYTES] = 0x80;
  otp_save("hostile_floor_high_bit", img, NULL, 0);
  memcpy(img, prod, sizeof(img));
  memset(img + ROT_OTP_OFF_ROOT_HASH, 0, ROT_SHA384_LEN);
  otp_save("hostile_root_hash_zero", img, NULL, 0);
  memcpy(img, prod, sizeof(img));
  rot_st32(img + ROT_OTP_OFF_UDS_WRITTEN, 0xa5c3965bu);
  otp_save("hostile_uds_marker_wrong", img, NULL, 0);
  memset(img, 0xff, sizeof(img));
  otp_save("hostile_all_ones", img, NULL, 0);
  save("fuzz_otp", "hostile_short", prod, 100, NULL, 0);
  static const uint8_t one = 2;
  otp_save("hostile_trailing_byte", prod, &one, 1);
}

/* ---- audit ------------------------------------------------------------------ */

typedef struct log {
  uint8_t shape;
  rot_flash_layout_t layout;
  ram_flash_t flash;
  rot_gate_t gate;
  rot_audit_t audit;
} log_t;

static uint64_t g_clock;
static uint64_t fake_now(void) { return g_clock += 60; }

static void log_boot(log_t *l) {
  l->flash.dead = 0;
  l->flash.cut_at = 0;
  TRY(rot_gate_init(&l->gate, &l->flash.port, &l->layout, rot_audit_gate_hook,
                    &l->audit));
  TRY(rot_audit_init(&l->audit, &l->gate, rot_host_crypto(), fake_now));
}

static void log_new(log_t *l, uint8_t shape) {
  memset(l, 0, sizeof(*l));
  l->shape = shape;
  fuzz_audit_layout(shape, &l->layout);
  ram_flash_init(&l->flash, &l->layout);
  g_clock = 1700000000;
  log_boot(l);
}

static void log_append(log_t *l, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    TRY(rot_audit_append(&l->audit, ROT_AUDIT_UPDATE_BEGIN + i % 9u,
                         i % 3u ? ROT_OK : ROT_ERROR_GATE_LOCKED, i, 2u * i));
  }
}

static uint8_t *log_region(log_t *l) {
  return ram_flash_region(&l->flash, &l->layout, ROT_RGN_AUDIT);
}

static uint32_t log_len(const log_t *l) {
  return l->layout.regions[ROT_RGN_AUDIT].size;
}

static void log_save(log_t *l, const char *name) {
  save("fuzz_audit", name, &l->shape, 1, log_region(l), log_len(l));
}

/* Slot holding sequence seq (the log must have it). */
static uint8_t *log_slot(log_t *l, uint32_t seq) {
  for (uint32_t i = 0; i < log_len(l) / ROT_AUDIT_RECORD_SIZE; i++) {
    uint8_t *r = log_region(l) + i * ROT_AUDIT_RECORD_SIZE;
    if (rot_ld32(r) == ROT_AUDIT_MAGIC && rot_ld32(r + 4) == seq &&
        rot_ld32(r + 96) == 0) {
      return r;
    }
  }
  must(0, "log_slot");
  return NULL;
}

static void gen_audit(void) {
  log_t l;
  /* Shapes: 0x0e 512-byte blocks x5 (20 slots), 0x03 1 KiB x2 (16),
   * 0x0d 256 x5 (10), 0x00 128 x2 (2). */
  log_new(&l, 0x0e);
  log_save(&l, "valid_empty");
  log_append(&l, 5);
  log_save(&l, "valid_five");
  log_append(&l, 45);
  log_save(&l, "valid_wrapped");
  ram_flash_free(&l.flash);

  static const uint8_t shapes[] = {0x03, 0x0d, 0x00};
  static const char *names[] = {"valid_wrapped_1k_blocks",
                                "valid_wrapped_256_blocks",
                                "valid_two_slots"};
  for (size_t i = 0; i < sizeof(shapes); i++) {
    log_new(&l, shapes[i]);
    log_append(&l, 23);
    log_save(&l, names[i]);
    ram_flash_free(&l.flash);
  }

  /* Power cut half way through a record's body, then a reboot and more. */
  log_new(&l, 0x0e);
  log_append(&l, 7);
  l.flash.cut_at = l.flash.ops + 1;
  l.flash.tear = 1;
  must(rot_audit_append(&l.audit, ROT_AUDIT_BOOT, ROT_OK, 1, 2) != ROT_OK,
       "cut append");
  l.flash.tear = 0;
  log_boot(&l);
  log_append(&l, 3);
  log_save(&l, "valid_torn_record");
  ram_flash_free(&l.flash);

  /* Hostile: a wrapped log of shape 0x0e, damaged. */
  log_t base;
  log_new(&base, 0x0e);
  log_append(&base, 30);
  uint32_t len = log_len(&base);
  uint8_t *keep = malloc(len);
  must(keep != NULL, "malloc");
  memcpy(keep, log_region(&base), len);
#define RESET() memcpy(log_region(&base), keep, len)

  log_slot(&base, 20)[24] ^= 0x01; /* arg0 */
  log_save(&base, "hostile_edited_arg");
  RESET();
  uint8_t tmp[ROT_AUDIT_RECORD_SIZE];
  uint8_t *r21 = log_slot(&base, 21), *r22 = log_slot(&base, 22);
  memcpy(tmp, r21, sizeof(tmp));
  memcpy(r21, r22, sizeof(tmp));
  memcpy(r22, tmp, sizeof(tmp));
  log_save(&base, "hostile_swapped");
  RESET();
  memset(log_slot(&base, 30), 0xff, ROT_AUDIT_RECORD_SIZE);
  log_save(&base, "hostile_tail_erased");
  RESET();
  log_slot(&base, 25)[120] = 0x00; /* pad, outside the hash */
  log_save(&base, "hostile_pad_written");
  RESET();
  rot_st32(log_slot(&base, 30) + 4, UINT32_MAX);
  log_save(&base, "hostile_seq_max");
  RESET();
  rot_st32(log_slot(&base, 17) + 4, 16); /* a duplicate sequence */
  log_save(&base, "hostile_duplicate_seq");
  RESET();
  rot_st32(log_slot(&base, 26) + 96, 0xffffffffu); /* uncommitted mid-log */
  log_save(&base, "hostile_uncommitted_middle");
  RESET();
  memset(log_region(&base), 0x00, len); /* every slot torn */
  log_save(&base, "hostile_all_zero");
  RESET();
  /* Every slot claims to be a committed first record. */
  for (uint32_t i = 0; i < len / ROT_AUDIT_RECORD_SIZE; i++) {
    uint8_t *r = log_region(&base) + i * ROT_AUDIT_RECORD_SIZE;
    memset(r, 0xff, ROT_AUDIT_RECORD_SIZE);
    rot_st32(r, ROT_AUDIT_MAGIC);
    rot_st32(r + 4, 1);
    rot_st32(r + 96, 0);
  }
  log_save(&base, "hostile_all_seq_one");
  RESET();
  uint8_t shape = 0x0e;
  save("fuzz_audit", "hostile_truncated", &shape, 1, keep, 300);
#undef RESET
  free(keep);
  ram_flash_free(&base.flash);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_state_corpus DIR\n");
    return 2;
  }
  g_dir = argv[1];
  must(rot_host_crypto() != NULL, "crypto");
  gen_otp();
  gen_audit();
  return 0;
}
