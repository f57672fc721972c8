/*
 * Update engine and boot decision: every update path and its failure,
 * trial boots, confirm with the two-phase SVN floor, revert, recovery.
 * Real crypto (mbedTLS) and the real gate over an in-memory NOR flash.
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
#include "rot_client/otp_provision.h"
#include "test_keys.h"
#include "update_fixture.h"

static void update_test_init_null(void **state) {
  fixture_t *f = *state;
  rot_update_t u;
  assert_int_equal(rot_update_init(NULL, &f->gate, &f->otp_port, test_crypto(), NULL,
                                   NULL, f->scratch, sizeof(f->scratch)),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_update_init(&u, &f->gate, NULL, test_crypto(), NULL, NULL,
                                   f->scratch, sizeof(f->scratch)),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_update_init(&u, &f->gate, &f->otp_port, test_crypto(), NULL,
                                   NULL, NULL, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_update_begin(NULL, HV, 10), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_update_chunk(NULL, 0, NULL, 0), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_update_finish(&f->up, NULL), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_boot_decide(&f->up, HV, NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void update_test_boot_decide_blank_flash_none(void **state) {
  fixture_t *f = *state;
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_ERROR_BOOT_NO_IMAGE);
  assert_int_equal(d.reason, ROT_BOOT_NONE);
  assert_int_equal(d.region, ROT_RGN_COUNT);
  assert_int_not_equal(rot_verified_check(&d.verified), ROT_OK);
}

static void update_test_full_flow_confirm_raises_floor(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_A);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  assert_int_equal(f->up.state.types[HV].pending, ROT_SLOT_A);
  assert_int_equal(f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS);

  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_TRIAL);
  assert_int_equal(d.region, ROT_RGN_HYPERVISOR_A);
  assert_int_equal(d.image_len, len);
  assert_int_equal(rot_verified_check(&d.verified), ROT_OK);
  /* The floor does not move on activate or on a trial boot. */
  assert_int_equal(floor_of(f, HV), 0);

  rot_verified_image_t v;
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_OK);
  assert_int_equal(floor_of(f, HV), 2);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_A);
  assert_int_equal(f->up.state.types[HV].floor_pending, 0);

  /* Survives a reboot. */
  reboot(f);
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_ACTIVE);
  assert_int_equal(d.verified.svn, 2);
  free(img);
}

static void update_test_finish_bad_signature_keeps_active(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  img[len - 1] ^= 0x01; /* last byte of s */
  assert_int_equal(send_image(f, HV, img, len), ROT_ERROR_IMAGE_BAD_SIGNATURE);
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_NONE);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_ERROR_UPDATE_NOT_STAGED);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_ACTIVE);
  assert_int_equal(d.verified.svn, 1);
  free(img);
}

static void update_test_finish_tampered_payload(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  img[len - ROT_IMAGE_SIG_SIZE - 10] ^= 0x80;
  assert_int_equal(send_image(f, HV, img, len), ROT_ERROR_IMAGE_DIGEST_MISMATCH);
  free(img);
}

static void update_test_finish_revoked_key(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_otp_revoke_key(&f->otp.port, TEST_KEY_INDEX_ALL), ROT_OK);
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_ERROR_POLICY_KEY_REVOKED);
  free(img);
}

static void update_test_finish_downgrade_refused(void **state) {
  fixture_t *f = *state;
  install(f, 3);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_ERROR_POLICY_SVN_BELOW_FLOOR);
  free(img);
  /* Equal to the floor is allowed (a re-install). */
  img = make_image(HV, 3, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  free(img);
}

/* One size limit from the partition table: the smaller slot of the type;
 * BEGIN refuses one byte more before it erases or writes anything. */
static void update_test_begin_size_limit_from_partition_table(void **state) {
  fixture_t *f = *state;
  uint32_t cap = rot_flash_image_capacity(&ram_layout_small, HV);
  int a = rot_flash_slot_region(&ram_layout_small, HV, ROT_SLOT_A);
  assert_true(a >= 0);
  assert_int_equal(cap, ram_layout_small.regions[a].size);
  assert_int_equal(rot_flash_image_capacity(&ram_layout_small, ROT_IMAGE_TYPE_MAX + 1), 0);
  uint32_t ops = f->flash.ops;
  assert_int_equal(rot_update_begin(&f->up, HV, cap + 1), ROT_ERROR_UPDATE_TOO_LARGE);
  assert_int_equal(f->flash.ops, ops); /* nothing erased or written */
  assert_int_not_equal(f->up.session.open, HARDENED_TRUE);
}

/* ---- one hash pass: finish's token, taken by activate while it holds ---- */

/* The flip is behind the gate's back, so activate trusts finish's token;
 * the boot decision verifies in full and refuses the trial. */
static void update_test_activate_token_boot_still_verifies(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(f->up.known[ROT_SLOT_B].valid, HARDENED_TRUE);
  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_B)[len - 200] ^= 1;
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_ACTIVE);
  assert_int_equal(d.verified.svn, 1);
  free(img);
}

/* Any write to the slot through the gate voids the token: activate
 * verifies again and sees the change. */
static void update_test_activate_token_void_after_write(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  uint8_t *b = ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_B);
  /* NOR programming can only clear bits: clear one in a payload byte. */
  uint32_t off = (uint32_t)len - 200u;
  while (b[off] == 0) {
    off--;
  }
  uint8_t cleared = (uint8_t)(b[off] & (b[off] - 1u));
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_HYPERVISOR_B), ROT_OK);
  assert_int_equal(rot_gate_program(&f->gate, ROT_INIT_UPDATE, ROT_RGN_HYPERVISOR_B,
                                    off, &cleared, 1),
                   ROT_OK);
  rot_gate_close_window(&f->gate);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_ERROR_IMAGE_DIGEST_MISMATCH);
  assert_int_equal(f->up.state.types[HV].pending, ROT_SLOT_NONE);
  free(img);
}

/* A policy change between finish and activate (here a revocation) means a
 * full verification under the new policy. */
static void update_test_activate_token_void_after_policy_change(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_otp_revoke_key(&f->otp.port, TEST_KEY_INDEX_ALL), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_ERROR_POLICY_KEY_REVOKED);
  free(img);
}

/* A reset forgets the token: activate after it verifies in full. */
static void update_test_activate_after_reset_verifies(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  reboot(f);
  assert_int_not_equal(f->up.known[ROT_SLOT_A].valid, HARDENED_TRUE);
  assert_int_not_equal(f->up.known[ROT_SLOT_B].valid, HARDENED_TRUE);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  free(img);
}

/* With nothing confirmed, the slot an update writes is chosen by which
 * slot holds an image that verifies: a kept token answers that without a
 * second hash pass. The flip behind the gate's back shows the token was
 * taken (the rotted image is kept, the free slot written); after a reset
 * the full verification refuses it and its slot is the one written. */
static void update_test_begin_target_takes_kept_token(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_A);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  assert_int_equal(rot_update_revert(&f->up, HV), ROT_OK);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_NONE);
  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_A)[len - 200] ^= 1;
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  assert_int_equal(f->up.session.region, ROT_RGN_HYPERVISOR_B);
  rot_update_abort(&f->up, ROT_OK);
  reboot(f);
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  assert_int_equal(f->up.session.region, ROT_RGN_HYPERVISOR_A);
  free(img);
}

/* A kept token is bound to its slot's write count: once the slot is
 * written through the gate (here a whole update into it, then aborted),
 * the choice verifies in full again and sees the half-written slot. */
static void update_test_begin_target_token_void_after_write(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK); /* A, kept */
  assert_int_equal(send_image(f, HV, img, len), ROT_OK); /* staged A replaced */
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_A);
  /* Start over into A and stop half way: A no longer holds an image. */
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  assert_int_equal(f->up.session.region, ROT_RGN_HYPERVISOR_A);
  assert_int_equal(rot_update_chunk(&f->up, 0, img, CHUNK), ROT_OK);
  rot_update_abort(&f->up, ROT_OK);
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_NONE);
  /* Nothing staged or confirmed: A fails its full verification. */
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  assert_int_equal(f->up.session.region, ROT_RGN_HYPERVISOR_A);
  free(img);
}

/* Chunks of any size, the header split over several: the payload hash
 * starts where the header says, and the one verification at finish passes;
 * a tampered payload byte in a later chunk is still caught. */
static void update_test_small_chunks_hash_once(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  for (int tamper = 0; tamper < 2; tamper++) {
    if (tamper) {
      img[len - ROT_IMAGE_SIG_SIZE - 3] ^= 0x10;
    }
    assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
    uint32_t off = 0, step = 7;
    while (off < len) {
      uint32_t n = (uint32_t)len - off < step ? (uint32_t)len - off : step;
      assert_int_equal(rot_update_chunk(&f->up, off, img + off, n), ROT_OK);
      off += n;
      step = step * 3 + 1;
    }
    rot_verified_image_t v;
    assert_int_equal(rot_update_finish(&f->up, &v),
                     tamper ? ROT_ERROR_IMAGE_DIGEST_MISMATCH : ROT_OK);
  }
  free(img);
}

static void update_test_chunk_wrong_type_aborts(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(ROT_IMAGE_TYPE_OPENSBI, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_ERROR_POLICY_TYPE_MISMATCH);
  assert_int_equal(f->up.session.open, HARDENED_FALSE);
  /* The gate window closed with the session. */
  const uint8_t b[1] = {0};
  assert_int_equal(rot_gate_program(&f->gate, ROT_INIT_UPDATE, ROT_RGN_HYPERVISOR_A,
                                    0, b, 1),
                   ROT_ERROR_GATE_NO_WINDOW);
  free(img);
}

static void update_test_chunk_length_disagrees_with_header(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len + 1), ROT_OK);
  assert_int_equal(rot_update_chunk(&f->up, 0, img, CHUNK), ROT_ERROR_IMAGE_BAD_LENGTH);
  assert_int_equal(f->up.session.open, HARDENED_FALSE);
  free(img);
}

static void update_test_begin_too_large(void **state) {
  fixture_t *f = *state;
  uint32_t slot = ram_layout_small.regions[ROT_RGN_HYPERVISOR_A].size;
  assert_int_equal(rot_update_begin(&f->up, HV, slot + 1), ROT_ERROR_UPDATE_TOO_LARGE);
  assert_int_equal(rot_update_begin(&f->up, HV, 0xffffffffu), ROT_ERROR_UPDATE_TOO_LARGE);
  assert_int_equal(rot_update_begin(&f->up, HV, 10), ROT_ERROR_IMAGE_TRUNCATED);
  assert_int_equal(f->up.session.open, HARDENED_FALSE);
}

static void update_test_begin_bad_type(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_update_begin(&f->up, 0, 4096), ROT_ERROR_UPDATE_BAD_TYPE);
  assert_int_equal(rot_update_begin(&f->up, 7, 4096), ROT_ERROR_UPDATE_BAD_TYPE);
  assert_int_equal(rot_update_begin(&f->up, 0xffffffffu, 4096), ROT_ERROR_UPDATE_BAD_TYPE);
}

static void update_test_begin_second_session_busy(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_update_begin(&f->up, HV, 4096), ROT_OK);
  assert_int_equal(rot_update_begin(&f->up, ROT_IMAGE_TYPE_DTB, 4096), ROT_ERROR_UPDATE_BUSY);
  assert_int_equal(rot_update_begin(&f->up, HV, 4096), ROT_ERROR_UPDATE_BUSY);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_ERROR_UPDATE_BUSY);
}

static void update_test_interrupted_session_then_retry(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  assert_int_equal(rot_update_chunk(&f->up, 0, img, CHUNK), ROT_OK);
  rot_update_abort(&f->up, ROT_ERROR_UPDATE_TIMEOUT);
  rot_update_abort(&f->up, ROT_ERROR_UPDATE_TIMEOUT); /* idempotent */
  rot_verified_image_t v;
  assert_int_equal(rot_update_finish(&f->up, &v), ROT_ERROR_UPDATE_NO_SESSION);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  free(img);
}

static void update_test_finish_incomplete(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  assert_int_equal(rot_update_chunk(&f->up, 0, img, CHUNK), ROT_OK);
  rot_verified_image_t v;
  assert_int_equal(rot_update_finish(&f->up, &v), ROT_ERROR_UPDATE_INCOMPLETE);
  assert_int_not_equal(v.token, ROT_VERIFY_TOKEN_VALID);
  assert_int_equal(f->up.session.open, HARDENED_FALSE);
  free(img);
}

static void update_test_chunk_out_of_order_and_oversized(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(rot_update_chunk(&f->up, 0, img, CHUNK), ROT_ERROR_UPDATE_NO_SESSION);
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_OK);
  assert_int_equal(rot_update_chunk(&f->up, CHUNK, img + CHUNK, CHUNK),
                   ROT_ERROR_UPDATE_OUT_OF_ORDER);
  assert_int_equal(rot_update_chunk(&f->up, 0, img, (uint32_t)len + 1),
                   ROT_ERROR_UPDATE_TOO_LARGE);
  assert_int_equal(rot_update_chunk(&f->up, 0, img, ROT_UPDATE_CHUNK_MAX + 1),
                   ROT_ERROR_UPDATE_TOO_LARGE);
  /* The session survives rejected chunks and still completes. */
  for (size_t off = 0; off < len; off += CHUNK) {
    size_t n = len - off < CHUNK ? len - off : CHUNK;
    assert_int_equal(rot_update_chunk(&f->up, (uint32_t)off, img + off, (uint32_t)n), ROT_OK);
  }
  rot_verified_image_t v;
  assert_int_equal(rot_update_finish(&f->up, &v), ROT_OK);
  assert_int_equal(rot_verified_check(&v), ROT_OK);
  free(img);
}

static void update_test_flash_failure_aborts(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  f->flash.fail_at = f->flash.ops + 2; /* the first chunk's program */
  assert_int_equal(send_image(f, HV, img, len), ROT_ERROR_FLASH_PROGRAM);
  assert_int_equal(f->up.session.open, HARDENED_FALSE);
  f->flash.fail_at = 0;
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  free(img);
}

static void update_test_expire_idle_session(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_update_begin(&f->up, HV, 4096), ROT_OK);
  g_now += 30;
  assert_int_equal(rot_update_expire(&f->up, 30), 0);
  g_now += 1;
  assert_int_equal(rot_update_expire(&f->up, 30), 1);
  assert_int_equal(f->up.session.open, HARDENED_FALSE);
  assert_int_equal(rot_update_expire(&f->up, 30), 0);
}

static void update_test_activate_confirm_preconditions(void **state) {
  fixture_t *f = *state;
  rot_verified_image_t v;
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_ERROR_UPDATE_NOT_STAGED);
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_ERROR_UPDATE_NOT_PENDING);
  assert_int_equal(rot_update_revert(&f->up, HV), ROT_ERROR_UPDATE_REVERT_INVALID);
  assert_int_equal(rot_update_activate(&f->up, ROT_IMAGE_TYPE_RECOVERY),
                   ROT_ERROR_UPDATE_NOT_STAGED); /* recovery has A/B too */
  assert_int_equal(rot_update_activate(&f->up, 6), ROT_ERROR_UPDATE_BAD_TYPE);
}

static void update_test_begin_during_trial_refused(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len),
                   ROT_ERROR_UPDATE_TRIAL_PENDING);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_ERROR_UPDATE_TRIAL_PENDING);
  free(img);
}

static void update_test_trial_expires_reverts_automatically(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  rot_boot_decision_t d;
  for (uint32_t i = 0; i < ROT_TRIAL_ATTEMPTS; i++) {
    reboot(f); /* the trial image never confirms */
    assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
    assert_int_equal(d.reason, ROT_BOOT_TRIAL);
    assert_int_equal(d.verified.svn, 2);
  }
  reboot(f);
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_ACTIVE);
  assert_int_equal(d.verified.svn, 1);
  assert_int_equal(f->up.state.types[HV].pending, ROT_SLOT_NONE);
  assert_int_equal(floor_of(f, HV), 1);
  rot_verified_image_t v;
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_ERROR_UPDATE_NOT_PENDING);
  free(img);
}

static void update_test_revert_cancels_trial(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  assert_int_equal(rot_update_revert(&f->up, HV), ROT_OK);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_ACTIVE);
  assert_int_equal(d.verified.svn, 1);
  assert_int_equal(floor_of(f, HV), 1);
  free(img);
}

static void update_test_revert_to_other_slot_and_floor(void **state) {
  fixture_t *f = *state;
  install(f, 1); /* slot A, floor 1 */
  install(f, 1); /* slot B, same svn: floor stays 1 */
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_B);
  assert_int_equal(rot_update_revert(&f->up, HV), ROT_OK);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_A);
  /* Now confirm svn 2 into B: A (svn 1) is below the floor. */
  install(f, 2);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_B);
  assert_int_equal(rot_update_revert(&f->up, HV), ROT_ERROR_UPDATE_REVERT_BELOW_FLOOR);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_B);
}

static void update_test_boot_fallback_then_recovery(void **state) {
  fixture_t *f = *state;
  install(f, 1); /* A */
  install(f, 1); /* B active, A still valid */
  size_t len;
  uint8_t *rec = make_image(ROT_IMAGE_TYPE_RECOVERY, 1, &len);
  assert_int_equal(send_image(f, ROT_IMAGE_TYPE_RECOVERY, rec, len), ROT_OK);
  free(rec);

  /* Corrupt the active slot as an attacker with a flash programmer would. */
  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_B)[200] ^= 1;
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_FALLBACK_OTHER);
  assert_int_equal(d.region, ROT_RGN_HYPERVISOR_A);
  assert_int_not_equal(d.why, ROT_OK);

  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_A)[200] ^= 1;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_RECOVERY);
  assert_int_equal(d.region, ROT_RGN_RECOVERY_A);
  assert_int_equal(d.verified.image_type, ROT_IMAGE_TYPE_RECOVERY);

  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_RECOVERY_A)[0] ^= 1;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_ERROR_BOOT_NO_IMAGE);
  assert_int_equal(d.reason, ROT_BOOT_NONE);
  assert_int_not_equal(rot_verified_check(&d.verified), ROT_OK);
}

static void update_test_boot_never_below_floor(void **state) {
  fixture_t *f = *state;
  install(f, 1); /* A */
  install(f, 2); /* B, floor 2 */
  ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_HYPERVISOR_B)[300] ^= 1;
  rot_boot_decision_t d;
  /* A is intact but below the floor, and there is no recovery image. */
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_ERROR_BOOT_NO_IMAGE);
}

static void update_test_staged_image_not_a_fallback(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK); /* staged in A only */
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_ERROR_BOOT_NO_IMAGE);
  free(img);
}

static void update_test_state_torn_copy_ignored(void **state) {
  fixture_t *f = *state;
  install(f, 1);
  uint32_t seq = f->up.state.seq;
  size_t len;
  uint8_t *img = make_image(HV, 1, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK); /* staged in B */
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_B);
  uint32_t copy = f->up.state_copy;
  /* Tear the newest copy: the older one must stand. */
  uint8_t *st = ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_STATE);
  st[copy * ram_layout_small.erase_size + 20] ^= 0xff;
  reboot(f);
  assert_int_equal(f->up.state.seq, seq);
  assert_int_equal(f->up.state_copy, copy ^ 1u);
  assert_int_equal(f->up.state.types[HV].staged, ROT_SLOT_NONE);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_A);
  /* Both copies torn: a fresh state, and the boot still finds a verified
   * image in a slot that was never staged (A), never an unverified one. */
  st[(copy ^ 1u) * ram_layout_small.erase_size + 20] ^= 0xff;
  reboot(f);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_NONE);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(rot_verified_check(&d.verified), ROT_OK);
  free(img);
}

static void update_test_floor_raise_finished_at_next_start(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 4, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  f->otp_drop = 1; /* the floor fuse does not take */
  rot_verified_image_t v;
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_ERROR_OTP_WRITE_FAILED);
  /* The confirm is durable and owes the floor. */
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_A);
  assert_int_equal(f->up.state.types[HV].floor_pending, 4);
  assert_int_equal(floor_of(f, HV), 0);
  f->otp_drop = 0;
  reboot(f);
  assert_int_equal(floor_of(f, HV), 4);
  assert_int_equal(f->up.state.types[HV].floor_pending, 0);
  free(img);
}

/* Confirm raises the floor for good: never before the image has booted. */
static void update_test_confirm_untried_refused(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 3, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  rot_verified_image_t v;
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_ERROR_UPDATE_NOT_TRIED);
  /* Nothing moved: still on trial, every attempt left, floor untouched. */
  assert_int_equal(f->up.state.types[HV].pending, ROT_SLOT_A);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_NONE);
  assert_int_equal(f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS);
  assert_int_equal(floor_of(f, HV), 0);
  /* Still refused after a restart: the attempt count is the durable proof. */
  reboot(f);
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_ERROR_UPDATE_NOT_TRIED);
  /* A trial boot, then the confirm goes through. */
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_TRIAL);
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_OK);
  assert_int_equal(floor_of(f, HV), 3);
  free(img);
}

/* A power cut after the boot decision counted the attempt (durably, before
 * the boot) and before the image was handed out leaves the count spent
 * with nothing booted: the chip cannot tell that from a trial that ran, so
 * after a restart confirm waits for a trial boot of its own. */
static void update_test_confirm_refused_after_cut_between_count_and_boot(
    void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 3, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS - 1u);
  reboot(f); /* the cut: the attempt is durable, the boot never happened */
  assert_int_equal(f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS - 1u);
  rot_verified_image_t v;
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_ERROR_UPDATE_NOT_TRIED);
  assert_int_equal(f->up.state.types[HV].pending, ROT_SLOT_A);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_NONE);
  assert_int_equal(floor_of(f, HV), 0);
  /* The boot after the restart spends another attempt and runs it. */
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_TRIAL);
  assert_int_equal(f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS - 2u);
  assert_int_equal(rot_update_confirm(&f->up, HV, &v), ROT_OK);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_A);
  assert_int_equal(floor_of(f, HV), 3);
  /* A confirmed image leaves nothing on trial behind it. */
  assert_int_equal(f->up.trial_run[HV], HARDENED_FALSE);
  free(img);
}

static void update_test_confirm_without_trial_override(void **state) {
  fixture_t *f = *state;
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(send_image(f, HV, img, len), ROT_OK);
  assert_int_equal(rot_update_activate(&f->up, HV), ROT_OK);
  rot_verified_image_t v;
  /* Unknown flag bits are refused, not ignored. */
  assert_int_equal(rot_update_confirm_flags(&f->up, HV, 0x2u, &v),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_update_confirm_flags(&f->up, HV, ROT_CONFIRM_WITHOUT_TRIAL, &v),
                   ROT_OK);
  assert_int_equal(v.svn, 2);
  assert_int_equal(f->up.state.types[HV].active, ROT_SLOT_A);
  assert_int_equal(floor_of(f, HV), 2);
  free(img);
}

/* Decommissioned: the engine has no state key, commits nothing, refuses
 * every update, and boots only the recovery image. */
static void update_test_decommissioned_sealed(void **state) {
  fixture_t *f = *state;
  install_type(f, ROT_IMAGE_TYPE_RECOVERY, 1);
  install(f, 1);
  assert_int_equal(rot_otp_lifecycle_transition(&f->otp.port, ROT_LIFECYCLE_DEV,
                                                ROT_LIFECYCLE_PROD), ROT_OK);
  assert_int_equal(rot_otp_lifecycle_transition(&f->otp.port, ROT_LIFECYCLE_PROD,
                                                ROT_LIFECYCLE_DECOMMISSIONED),
                   ROT_OK);
  reboot(f);
  assert_int_equal(f->up.sealed, HARDENED_TRUE);
  uint8_t uds[ROT_OTP_UDS_LEN];
  assert_int_equal(rot_otp_read_uds(&f->otp.port, uds), ROT_ERROR_OTP_SECRET_LOCKED);
  rot_boot_decision_t d;
  assert_int_equal(rot_boot_decide(&f->up, HV, &d), ROT_OK);
  assert_int_equal(d.reason, ROT_BOOT_RECOVERY);
  assert_int_equal(d.verified.image_type, ROT_IMAGE_TYPE_RECOVERY);
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(rot_update_begin(&f->up, HV, (uint32_t)len), ROT_ERROR_UPDATE_SEALED);
  assert_int_equal(rot_update_revert(&f->up, HV), ROT_ERROR_UPDATE_REVERT_INVALID);
  free(img);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(update_test_init_null),
      T(update_test_boot_decide_blank_flash_none),
      T(update_test_full_flow_confirm_raises_floor),
      T(update_test_finish_bad_signature_keeps_active),
      T(update_test_finish_tampered_payload),
      T(update_test_finish_revoked_key),
      T(update_test_finish_downgrade_refused),
      T(update_test_begin_size_limit_from_partition_table),
      T(update_test_activate_token_boot_still_verifies),
      T(update_test_activate_token_void_after_write),
      T(update_test_activate_token_void_after_policy_change),
      T(update_test_activate_after_reset_verifies),
      T(update_test_begin_target_takes_kept_token),
      T(update_test_begin_target_token_void_after_write),
      T(update_test_small_chunks_hash_once),
      T(update_test_chunk_wrong_type_aborts),
      T(update_test_chunk_length_disagrees_with_header),
      T(update_test_begin_too_large),
      T(update_test_begin_bad_type),
      T(update_test_begin_second_session_busy),
      T(update_test_interrupted_session_then_retry),
      T(update_test_finish_incomplete),
      T(update_test_chunk_out_of_order_and_oversized),
      T(update_test_flash_failure_aborts),
      T(update_test_expire_idle_session),
      T(update_test_activate_confirm_preconditions),
      T(update_test_begin_during_trial_refused),
      T(update_test_trial_expires_reverts_automatically),
      T(update_test_revert_cancels_trial),
      T(update_test_revert_to_other_slot_and_floor),
      T(update_test_boot_fallback_then_recovery),
      T(update_test_boot_never_below_floor),
      T(update_test_staged_image_not_a_fallback),
      T(update_test_state_torn_copy_ignored),
      T(update_test_floor_raise_finished_at_next_start),
      T(update_test_confirm_untried_refused),
      T(update_test_confirm_refused_after_cut_between_count_and_boot),
      T(update_test_confirm_without_trial_override),
      T(update_test_decommissioned_sealed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
