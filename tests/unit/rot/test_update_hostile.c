/*
 * The update engine against hostile input and faults: the golden recovery
 * image under refused and aborted updates, update-state records written
 * with a flash programmer, refusals that must leave no trace in flash or
 * OTP, and glitches that skip the first half of a double check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ram_flash.h"
#include "rot/update.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/otp_provision.h"
#include "test_keys.h"
#include "trap_hook.h"
#include "update_fixture.h"

#define REC ROT_IMAGE_TYPE_RECOVERY

static uint8_t *state_copy(fixture_t *f, uint32_t copy) {
  return ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_STATE) +
         copy * ram_layout_small.erase_size;
}

/* With both hypervisor slots empty, the boot falls to recovery: which
 * region, and does it verify? */
static uint32_t recovery_boot_region(fixture_t *f) {
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_RECOVERY);
  assert_int_equal(rot_verified_check(&d.verified), ROT_OK);
  return d.region;
}

/* ---- the golden recovery image ------------------------------------------ */

static void update_test_recovery_refused_update_keeps_golden(void **state) {
  fixture_t *f = *state;
  install_type(f, REC, 1);
  assert_int_equal(recovery_boot_region(f), ROT_RGN_RECOVERY_A);
  /* A new recovery image with one payload byte flipped: refused at finish. */
  size_t len;
  uint8_t *img = make_image(REC, 2, &len);
  img[len - ROT_P384_SIG_LEN - 10] ^= 0x01;
  assert_int_not_equal(send_image(f, REC, img, len), ROT_OK);
  free(img);
  /* The golden image is untouched and still boots. */
  assert_int_equal(recovery_boot_region(f), ROT_RGN_RECOVERY_A);
  reboot(f);
  assert_int_equal(recovery_boot_region(f), ROT_RGN_RECOVERY_A);
}

static void update_test_recovery_begin_abort_keeps_golden(void **state) {
  fixture_t *f = *state;
  install_type(f, REC, 1);
  uint8_t before[4096];
  memcpy(before, ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_RECOVERY_A),
         sizeof(before));
  assert_int_equal(rot_update_begin(&f->up, REC, 8192), ROT_OK);
  assert_int_equal(f->up.session.region, ROT_RGN_RECOVERY_B);
  rot_update_abort(&f->up, ROT_OK);
  assert_memory_equal(
      before, ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_RECOVERY_A),
      sizeof(before));
  assert_int_equal(recovery_boot_region(f), ROT_RGN_RECOVERY_A);
}

static void update_test_recovery_update_swaps_slots(void **state) {
  fixture_t *f = *state;
  install_type(f, REC, 1);
  install_type(f, REC, 2);
  assert_int_equal(f->up.state.types[REC].active, ROT_SLOT_B);
  assert_int_equal(recovery_boot_region(f), ROT_RGN_RECOVERY_B);
  /* The new golden image broken, and the old one (v1) is below the floor
   * the confirm of v2 raised: nothing boots, as the floor demands. */
  assert_int_equal(floor_of(f, REC), 2);
  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_RECOVERY_B)[300] ^= 1;
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_ERROR_BOOT_NO_IMAGE);
}

/* A factory-written recovery image the state never recorded is kept: the
 * first update goes to the other slot. */
static void update_test_recovery_factory_image_kept(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(REC, 1, &len);
  memcpy(ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_RECOVERY_A), img, len);
  free(img);
  assert_int_equal(recovery_boot_region(f), ROT_RGN_RECOVERY_A);
  assert_int_equal(rot_update_begin(&f->up, REC, 8192), ROT_OK);
  assert_int_equal(f->up.session.region, ROT_RGN_RECOVERY_B);
  rot_update_abort(&f->up, ROT_OK);
  assert_int_equal(recovery_boot_region(f), ROT_RGN_RECOVERY_A);
}

/* ---- forged update state --------------------------------------------------- */

/* What an attacker with a flash programmer writes: a well-formed record
 * with the next sequence number, floor_pending at the maximum, and the
 * unkeyed digest the format used to carry. */
static void forge_state(fixture_t *f, uint32_t copy, uint32_t seq) {
  rot_update_state_t s = f->up.state;
  s.seq = seq;
  s.types[HV].floor_pending = ROT_SVN_MAX;
  uint8_t *b = state_copy(f, copy);
  memset(b, 0xff, ram_layout_small.erase_size);
  rot_st32(b, ROT_UPDATE_STATE_MAGIC);
  rot_st32(b + 4, s.seq);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    uint8_t *e = b + 8 + t * 8;
    e[0] = s.types[t].active;
    e[1] = s.types[t].pending;
    e[2] = s.types[t].staged;
    e[3] = s.types[t].attempts_left;
    rot_st32(e + 4, s.types[t].floor_pending);
  }
  assert_int_equal(rot_hash(test_crypto(), ROT_HASH_SHA256, b, 72, b + 72, 32),
                   ROT_OK);
}

static void update_test_forged_state_burns_no_fuse(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  uint32_t seq = f->up.state.seq;
  uint32_t newer = f->up.state_copy ^ 1u;
  forge_state(f, newer, seq + 1u);
  reboot(f);
  /* The forged copy is refused and reported; the real one stands. */
  assert_int_equal(f->up.state_rejected, 1u << newer);
  assert_int_equal(f->up.state.seq, seq);
  assert_int_equal(f->up.state.types[HV].floor_pending, 0);
  assert_int_equal(floor_of(f, HV), 1);
  /* Decoding it directly names the reason. */
  rot_update_state_t s;
  assert_int_equal(rot_update_state_decode(test_crypto(), f->up.state_key,
                                           state_copy(f, newer),
                                           ROT_UPDATE_STATE_SIZE, &s),
                   ROT_ERROR_UPDATE_STATE_FORGED);
}

/* What a chip bug or a leaked state key would write: an authentic record,
 * next in sequence, asking for the hypervisor floor `floor`, in the copy
 * the next boot reads first. */
static void write_authentic_floor(fixture_t *f, uint32_t floor) {
  rot_update_state_t s = f->up.state;
  s.seq++;
  s.types[HV].floor_pending = floor;
  uint8_t buf[ROT_UPDATE_STATE_SIZE];
  assert_int_equal(rot_update_state_encode(test_crypto(), f->up.state_key, &s,
                                           buf, sizeof(buf)),
                   ROT_OK);
  uint8_t *b = state_copy(f, f->up.state_copy ^ 1u);
  memset(b, 0xff, ram_layout_small.erase_size);
  memcpy(b, buf, sizeof(buf));
}

/* Even an authentic record (a chip bug, a leaked key) cannot raise a floor
 * above what a verified image in that type's slots carries. */
static void update_test_floor_never_above_verified_image(void **state) {
  fixture_t *f = *state;
  install(f, 3);
  write_authentic_floor(f, 200);
  reboot(f);
  assert_int_equal(floor_of(f, HV), 3);
  assert_int_equal(f->up.state.types[HV].floor_pending, 0); /* dropped */
  /* A floor an image does justify is still finished. */
  write_authentic_floor(f, 3);
  reboot(f);
  assert_int_equal(floor_of(f, HV), 3);
}

static void update_test_state_key_needs_device_secret(void **state) {
  fixture_t *f = *state;
  ram_otp_t blank;
  ram_otp_init(&blank);
  assert_int_equal(rot_otp_provision(&blank.port, test_keys()->policy.root_key_hash),
                   ROT_OK);
  rot_update_t u;
  assert_int_equal(rot_update_init(&u, &f->gate, &blank.port, test_crypto(), NULL,
                                   NULL, f->scratch, sizeof(f->scratch)),
                   ROT_ERROR_OTP_NO_DEVICE_SECRET);
  /* Another device's secret: this device's state is not authentic there. */
  uint8_t uds[ROT_OTP_UDS_LEN];
  memset(uds, 0x77, sizeof(uds));
  assert_int_equal(rot_otp_write_uds(&blank.port, uds), ROT_OK);
  install(f, 1);
  assert_int_equal(rot_update_init(&u, &f->gate, &blank.port, test_crypto(), NULL,
                                   NULL, f->scratch, sizeof(f->scratch)),
                   ROT_OK);
  assert_int_equal(u.state_rejected, 3u);
  assert_int_equal(u.state.types[HV].active, ROT_SLOT_NONE);
}

/* ---- refusals leave no trace ----------------------------------------------- */

/* Everything a refusal must leave as it was: the flash (but the audit
 * region, which records the refusal), the OTP, and the engine's state. */
typedef struct snapshot {
  uint8_t *flash;
  uint8_t otp[ROT_OTP_SIZE];
  rot_update_state_t state;
} snapshot_t;

static void snap(fixture_t *f, snapshot_t *s) {
  s->flash = malloc(ram_layout_small.flash_size);
  assert_non_null(s->flash);
  memcpy(s->flash, f->flash.mem, ram_layout_small.flash_size);
  const rot_flash_region_t *a = &ram_layout_small.regions[ROT_RGN_AUDIT];
  memset(s->flash + a->off, 0, a->size);
  memcpy(s->otp, f->otp.mem, sizeof(s->otp));
  s->state = f->up.state;
}

static void assert_unchanged(fixture_t *f, const snapshot_t *before,
                             const char *what) {
  snapshot_t now;
  snap(f, &now);
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    const rot_flash_region_t *reg = &ram_layout_small.regions[r];
    if (memcmp(before->flash + reg->off, now.flash + reg->off, reg->size) != 0) {
      fail_msg("%s: region %s changed", what, reg->name);
    }
  }
  if (memcmp(before->otp, now.otp, sizeof(now.otp)) != 0) {
    fail_msg("%s: OTP changed", what);
  }
  if (memcmp(&before->state, &now.state, sizeof(now.state)) != 0) {
    fail_msg("%s: update state changed", what);
  }
  free(now.flash);
}

typedef enum prep {
  P_NONE,      /* blank device */
  P_STAGED,    /* v1 confirmed in A, v2 staged in B */
  P_TRIAL,     /* v1 confirmed in A, v2 on trial in B */
  P_SESSION,   /* an update session open on B (another client's) */
  P_BROKEN,    /* v1 confirmed in A, staged v2 in B then corrupted, reset */
  P_FLOOR2,    /* v1 in A, v2 confirmed in B (floor 2) */
} prep_t;

typedef enum cmd {
  C_BEGIN,
  C_CHUNK,
  C_FINISH,
  C_ABORT_NONE,
  C_ACTIVATE,
  C_CONFIRM,
  C_REVERT,
  C_LOCK,
} cmd_t;

typedef struct refusal {
  const char *name;
  prep_t prep;
  cmd_t cmd;
  uint32_t a; /* type, or region for LOCK */
  uint32_t b; /* length, or offset */
  rot_error_t want;
} refusal_t;

static const refusal_t kRefusals[] = {
    {"begin zero length keeps staged", P_STAGED, C_BEGIN, HV, 0, ROT_ERROR_IMAGE_TRUNCATED},
    {"begin short length keeps staged", P_STAGED, C_BEGIN, HV, 10, ROT_ERROR_IMAGE_TRUNCATED},
    {"begin too large keeps staged", P_STAGED, C_BEGIN, HV, 0x7fffffffu, ROT_ERROR_UPDATE_TOO_LARGE},
    {"begin bad type", P_STAGED, C_BEGIN, 6, 4096, ROT_ERROR_UPDATE_BAD_TYPE},
    {"begin type 0", P_NONE, C_BEGIN, 0, 4096, ROT_ERROR_UPDATE_BAD_TYPE},
    {"begin type any", P_NONE, C_BEGIN, 0xffffffffu, 4096, ROT_ERROR_UPDATE_BAD_TYPE},
    {"begin during trial", P_TRIAL, C_BEGIN, HV, 4096, ROT_ERROR_UPDATE_TRIAL_PENDING},
    {"begin while busy", P_SESSION, C_BEGIN, ROT_IMAGE_TYPE_OPENSBI, 4096, ROT_ERROR_UPDATE_BUSY},
    {"chunk without session", P_STAGED, C_CHUNK, 0, 0, ROT_ERROR_UPDATE_NO_SESSION},
    {"chunk out of order", P_SESSION, C_CHUNK, 0, 100, ROT_ERROR_UPDATE_OUT_OF_ORDER},
    {"finish without session", P_STAGED, C_FINISH, 0, 0, ROT_ERROR_UPDATE_NO_SESSION},
    {"abort without session", P_STAGED, C_ABORT_NONE, 0, 0, ROT_OK},
    {"activate not staged", P_NONE, C_ACTIVATE, HV, 0, ROT_ERROR_UPDATE_NOT_STAGED},
    {"activate during trial", P_TRIAL, C_ACTIVATE, HV, 0, ROT_ERROR_UPDATE_TRIAL_PENDING},
    {"activate bad type", P_STAGED, C_ACTIVATE, 6, 0, ROT_ERROR_UPDATE_BAD_TYPE},
    {"activate corrupted staged", P_BROKEN, C_ACTIVATE, HV, 0, ROT_ERROR_IMAGE_DIGEST_MISMATCH},
    {"activate type in session", P_SESSION, C_ACTIVATE, HV, 0, ROT_ERROR_UPDATE_BUSY},
    {"confirm nothing pending", P_STAGED, C_CONFIRM, HV, 0, ROT_ERROR_UPDATE_NOT_PENDING},
    {"confirm bad type", P_TRIAL, C_CONFIRM, 6, 0, ROT_ERROR_UPDATE_BAD_TYPE},
    {"revert nothing installed", P_NONE, C_REVERT, HV, 0, ROT_ERROR_UPDATE_REVERT_INVALID},
    {"revert to staged-broken", P_BROKEN, C_REVERT, HV, 0, ROT_ERROR_UPDATE_REVERT_INVALID},
    {"revert below floor", P_FLOOR2, C_REVERT, HV, 0, ROT_ERROR_UPDATE_REVERT_BELOW_FLOOR},
    {"revert bad type", P_STAGED, C_REVERT, 6, 0, ROT_ERROR_UPDATE_BAD_TYPE},
    {"lock audit", P_STAGED, C_LOCK, ROT_RGN_AUDIT, 0, ROT_ERROR_GATE_NOT_LOCKABLE},
    {"lock state", P_STAGED, C_LOCK, ROT_RGN_STATE, 0, ROT_ERROR_GATE_NOT_LOCKABLE},
    {"lock nvcfg", P_STAGED, C_LOCK, ROT_RGN_NVCFG, 0, ROT_ERROR_GATE_NOT_LOCKABLE},
    {"lock no such region", P_STAGED, C_LOCK, ROT_RGN_COUNT, 0, ROT_ERROR_GATE_BAD_REGION},
    {"lock region in session", P_SESSION, C_LOCK, ROT_RGN_HYPERVISOR_B, 0, ROT_ERROR_UPDATE_BUSY},
};

static void prepare(fixture_t *f, prep_t p) {
  size_t len;
  uint8_t *img;
  switch (p) {
    case P_NONE:
      return;
    case P_STAGED:
    case P_TRIAL:
    case P_BROKEN:
      install(f, 1);
      img = make_image(HV, 2, &len);
      assert_int_equal(send_image(f, HV, img, len), ROT_OK);
      free(img);
      if (p == P_TRIAL) {
        assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
      } else if (p == P_BROKEN) {
        /* A flip behind the gate's back (bit rot): the chip only sees it
         * by verifying again, which it does after a reset, when the token
         * finish wrote is gone. */
        ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_B)[len - 200] ^= 1;
        reboot(f);
      }
      return;
    case P_SESSION:
      install(f, 1);
      assert_int_equal(rot_update_begin(&f->up, HV, 8192), ROT_OK);
      return;
    case P_FLOOR2:
      install(f, 1);
      install(f, 2);
      return;
  }
}

static rot_error_t run_cmd(fixture_t *f, const refusal_t *r) {
  rot_verified_image_t v;
  uint8_t data[64];
  memset(data, 0, sizeof(data));
  switch (r->cmd) {
    case C_BEGIN:
      return rot_update_begin(&f->up, r->a, r->b);
    case C_CHUNK:
      return rot_update_chunk(&f->up, r->b, data, sizeof(data));
    case C_FINISH:
      return rot_update_finish(&f->up, &v);
    case C_ABORT_NONE:
      rot_update_abort(&f->up, ROT_OK);
      return ROT_OK;
    case C_ACTIVATE:
      return rot_update_activate(&f->up, r->a);
    case C_CONFIRM:
      return rot_update_confirm(&f->up, r->a, &v);
    case C_REVERT:
      return rot_update_revert(&f->up, r->a);
    case C_LOCK:
      return rot_gate_lock(&f->gate, r->a);
  }
  return ROT_ERROR_INTERNAL;
}

static void update_test_refusals_leave_no_trace(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(kRefusals) / sizeof(kRefusals[0]); i++) {
    const refusal_t *r = &kRefusals[i];
    void *fs = NULL;
    assert_int_equal(setup(&fs), 0);
    fixture_t *f = fs;
    prepare(f, r->prep);
    snapshot_t before;
    snap(f, &before);
    rot_error_t got = run_cmd(f, r);
    if (got != r->want) {
      fail_msg("%s: got %s, want %s", r->name, rot_error_name(got),
               rot_error_name(r->want));
    }
    assert_unchanged(f, &before, r->name);
    /* And after a reset too: nothing half-written waits for the next boot. */
    if (f->up.session.open != HARDENED_TRUE) {
      reboot(f);
      before.state = f->up.state; /* same bytes, re-read */
      assert_unchanged(f, &before, r->name);
    }
    free(before.flash);
    assert_int_equal(teardown(&fs), 0);
  }
}

/* ---- the second check stops what a skipped first check let through --------- */

/* Run one hypervisor command with every first check skipped: the second
 * check must trap, and the refusal must leave flash, OTP and state as they
 * were. */
static void expect_glitch_trap(fixture_t *f, cmd_t cmd, const char *what) {
  const refusal_t r = {what, P_NONE, cmd, HV, 0, ROT_OK};
  snapshot_t before;
  snap(f, &before);
  rot_error_t err = ROT_OK;
  EXPECT_TRAP(err = run_cmd(f, &r));
  (void)err;
  assert_unchanged(f, &before, what);
  free(before.flash);
}

static void update_test_glitch_activate_corrupted_traps(void **state) {
  fixture_t *f = *state;
  prepare(f, P_BROKEN);
  expect_glitch_trap(f, C_ACTIVATE, "glitched activate");
}

static void update_test_glitch_confirm_corrupted_traps(void **state) {
  fixture_t *f = *state;
  prepare(f, P_TRIAL);
  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_B)[400] ^= 1;
  expect_glitch_trap(f, C_CONFIRM, "glitched confirm");
}

static void update_test_glitch_revert_invalid_traps(void **state) {
  fixture_t *f = *state;
  prepare(f, P_BROKEN);
  expect_glitch_trap(f, C_REVERT, "glitched revert");
}

static void update_test_glitch_finish_bad_image_traps(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  img[len - 100] ^= 1; /* the signature no longer verifies */
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  for (size_t off = 0; off < len; off += CHUNK) {
    size_t n = len - off < CHUNK ? len - off : CHUNK;
    assert_int_equal(rot_update_chunk(&f->up, (uint32_t)off, img + off, (uint32_t)n),
                     ROT_OK);
  }
  free(img);
  rot_update_state_t before = f->up.state;
  rot_verified_image_t v;
  rot_error_t err = ROT_OK;
  EXPECT_TRAP(err = rot_update_finish(&f->up, &v));
  (void)err;
  assert_memory_equal(&before, &f->up.state, sizeof(before));
  reboot(f);
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_NONE);
}

static void update_test_glitch_forged_state_traps(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  forge_state(f, f->up.state_copy ^ 1u, f->up.state.seq + 1u);
  rot_update_state_t s;
  rot_error_t err = ROT_OK;
  EXPECT_TRAP(err = rot_update_state_decode(test_crypto(), f->up.state_key,
                                            state_copy(f, f->up.state_copy ^ 1u),
                                            ROT_UPDATE_STATE_SIZE, &s));
  (void)err;
  assert_int_equal(floor_of(f, HV), 1);
}

/* A glitch that skips the floor's first check still burns no fuse: the
 * second look wants the token of a verified image carrying the SVN. */
static void update_test_glitch_unjustified_floor_traps(void **state) {
  fixture_t *f = *state;
  install(f, 3);
  write_authentic_floor(f, 200);
  assert_int_equal(rot_gate_init(&f->gate, &f->flash.port, &ram_layout_small,
                                 NULL, NULL),
                   ROT_OK);
  rot_error_t err = ROT_OK;
  EXPECT_TRAP(err = rot_update_init(&f->up, &f->gate, &f->otp_port, test_crypto(),
                                    NULL, NULL, f->scratch, sizeof(f->scratch)));
  (void)err;
  assert_int_equal(floor_of(f, HV), 3);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(update_test_recovery_refused_update_keeps_golden),
      T(update_test_recovery_begin_abort_keeps_golden),
      T(update_test_recovery_update_swaps_slots),
      T(update_test_recovery_factory_image_kept),
      T(update_test_forged_state_burns_no_fuse),
      T(update_test_floor_never_above_verified_image),
      T(update_test_state_key_needs_device_secret),
      cmocka_unit_test(update_test_refusals_leave_no_trace),
      T(update_test_glitch_activate_corrupted_traps),
      T(update_test_glitch_confirm_corrupted_traps),
      T(update_test_glitch_revert_invalid_traps),
      T(update_test_glitch_finish_bad_image_traps),
      T(update_test_glitch_forged_state_traps),
      T(update_test_glitch_unjustified_floor_traps),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
