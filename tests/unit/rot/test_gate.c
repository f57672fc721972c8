/* Flash gate: every region kind x every operation x every initiator,
 * locked and unlocked, plus bounds and the event hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ram_flash.h"
#include "rot/gate.h"
#include "rot_client/names.h"
#include "trap_hook.h"

typedef struct fixture {
  ram_flash_t flash;
  rot_gate_t gate;
  uint32_t events;
  rot_gate_op_t last_op;
  rot_initiator_t last_who;
  uint32_t last_region;
  rot_error_t last_verdict;
} fixture_t;

static void on_event(void *ctx, rot_gate_op_t op, rot_initiator_t who,
                     uint32_t region, rot_error_t verdict) {
  fixture_t *f = ctx;
  f->events++;
  f->last_op = op;
  f->last_who = who;
  f->last_region = region;
  f->last_verdict = verdict;
}

static int setup(void **state) {
  static fixture_t f;
  memset(&f, 0, sizeof(f));
  ram_flash_init(&f.flash, &ram_layout_small);
  assert_int_equal(rot_gate_init(&f.gate, &f.flash.port, &ram_layout_small,
                                 on_event, &f),
                   ROT_OK);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  ram_flash_free(&f->flash);
  return 0;
}

static rot_error_t try_program(fixture_t *f, rot_initiator_t who, uint32_t r) {
  const uint8_t zero[4] = {0};
  return rot_gate_program(&f->gate, who, r, 0, zero, sizeof(zero));
}

static void gate_test_init_null(void **state) {
  fixture_t *f = *state;
  rot_gate_t g;
  assert_int_equal(rot_gate_init(NULL, &f->flash.port, &ram_layout_small, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_gate_init(&g, NULL, &ram_layout_small, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_gate_init(&g, &f->flash.port, NULL, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void gate_test_init_layout_mismatch(void **state) {
  fixture_t *f = *state;
  rot_gate_t g;
  /* The default (128 MiB) table on a 640 KiB device must be refused. */
  assert_int_equal(rot_gate_init(&g, &f->flash.port, &rot_flash_layout_default,
                                 NULL, NULL),
                   ROT_ERROR_FLASH_BAD_LAYOUT);
}

static void gate_test_init_overlapping_layout(void **state) {
  fixture_t *f = *state;
  rot_flash_layout_t bad = ram_layout_small;
  bad.regions[ROT_RGN_ROT_B].off = bad.regions[ROT_RGN_ROT_A].off + 4096;
  rot_gate_t g;
  assert_int_equal(rot_gate_init(&g, &f->flash.port, &bad, NULL, NULL),
                   ROT_ERROR_FLASH_BAD_LAYOUT);
}

static void gate_test_layout_default_valid(void **state) {
  (void)state;
  assert_int_equal(rot_flash_layout_check(&rot_flash_layout_default), ROT_OK);
  assert_int_equal(rot_flash_layout_check(&ram_layout_small), ROT_OK);
  assert_int_equal(rot_flash_region_by_name(&rot_flash_layout_default, "hypervisor-b"),
                   ROT_RGN_HYPERVISOR_B);
  assert_int_equal(rot_flash_region_by_name(&rot_flash_layout_default, "nope"), -1);
  assert_int_equal(rot_flash_slot_region(&rot_flash_layout_default,
                                         ROT_IMAGE_TYPE_DTB, ROT_SLOT_B),
                   ROT_RGN_DTB_B);
}

static void gate_test_read_host_slot_allowed(void **state) {
  fixture_t *f = *state;
  uint8_t buf[16];
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_HOST, ROT_RGN_OPENSBI_A, 0,
                                 buf, sizeof(buf)),
                   ROT_OK);
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_HOST, ROT_RGN_AUDIT, 0, buf,
                                 sizeof(buf)),
                   ROT_OK);
}

static void gate_test_read_host_private_denied(void **state) {
  fixture_t *f = *state;
  uint8_t buf[16];
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_HOST, ROT_RGN_STATE, 0, buf,
                                 sizeof(buf)),
                   ROT_ERROR_GATE_DENIED);
  assert_int_equal(f->last_verdict, ROT_ERROR_GATE_DENIED);
  assert_int_equal(f->last_region, ROT_RGN_STATE);
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_HOST, ROT_RGN_NVCFG, 0, buf,
                                 sizeof(buf)),
                   ROT_ERROR_GATE_DENIED);
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_CHIP, ROT_RGN_STATE, 0, buf,
                                 sizeof(buf)),
                   ROT_OK);
}

static void gate_test_program_slot_without_window_denied(void **state) {
  fixture_t *f = *state;
  assert_int_equal(try_program(f, ROT_INIT_HOST, ROT_RGN_HYPERVISOR_A),
                   ROT_ERROR_GATE_DENIED);
  assert_int_equal(try_program(f, ROT_INIT_CHIP, ROT_RGN_HYPERVISOR_A),
                   ROT_ERROR_GATE_DENIED);
  assert_int_equal(try_program(f, ROT_INIT_UPDATE, ROT_RGN_HYPERVISOR_A),
                   ROT_ERROR_GATE_NO_WINDOW);
  assert_int_equal(f->events, 3);
  assert_int_equal(f->last_op, ROT_GATE_OP_PROGRAM);
  /* Nothing reached the flash. */
  assert_int_equal(f->flash.ops, 0);
}

static void gate_test_program_slot_in_window_allowed(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_HYPERVISOR_B), ROT_OK);
  assert_int_equal(try_program(f, ROT_INIT_UPDATE, ROT_RGN_HYPERVISOR_B), ROT_OK);
  assert_int_equal(rot_gate_erase(&f->gate, ROT_INIT_UPDATE, ROT_RGN_HYPERVISOR_B, 0),
                   ROT_OK);
  /* The window is for that region only, and for the update engine only. */
  assert_int_equal(try_program(f, ROT_INIT_UPDATE, ROT_RGN_HYPERVISOR_A),
                   ROT_ERROR_GATE_NO_WINDOW);
  assert_int_equal(try_program(f, ROT_INIT_HOST, ROT_RGN_HYPERVISOR_B),
                   ROT_ERROR_GATE_DENIED);
  rot_gate_close_window(&f->gate);
  assert_int_equal(try_program(f, ROT_INIT_UPDATE, ROT_RGN_HYPERVISOR_B),
                   ROT_ERROR_GATE_NO_WINDOW);
}

static void gate_test_open_window_second_busy(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_DTB_A), ROT_OK);
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_DTB_B),
                   ROT_ERROR_UPDATE_BUSY);
  rot_gate_close_window(&f->gate);
  rot_gate_close_window(&f->gate); /* idempotent */
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_DTB_B), ROT_OK);
}

static void gate_test_open_window_private_region_denied(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_STATE),
                   ROT_ERROR_GATE_DENIED);
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_AUDIT),
                   ROT_ERROR_GATE_DENIED);
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_COUNT),
                   ROT_ERROR_GATE_DENIED);
}

static void gate_test_program_private_regions(void **state) {
  fixture_t *f = *state;
  const uint32_t regions[] = {ROT_RGN_NVCFG, ROT_RGN_STATE, ROT_RGN_AUDIT};
  for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
    assert_int_equal(try_program(f, ROT_INIT_CHIP, regions[i]), ROT_OK);
    assert_int_equal(try_program(f, ROT_INIT_HOST, regions[i]),
                     ROT_ERROR_GATE_DENIED);
    assert_int_equal(try_program(f, ROT_INIT_UPDATE, regions[i]),
                     ROT_ERROR_GATE_DENIED);
    assert_int_equal(rot_gate_erase(&f->gate, ROT_INIT_HOST, regions[i], 0),
                     ROT_ERROR_GATE_DENIED);
  }
}

static void gate_test_lock_blocks_everyone_until_reset(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_gate_is_locked(&f->gate, ROT_RGN_OPENSBI_A), HARDENED_FALSE);
  assert_int_equal(rot_gate_lock(&f->gate, ROT_RGN_OPENSBI_A), ROT_OK);
  assert_int_equal(f->last_op, ROT_GATE_OP_LOCK);
  assert_int_equal(rot_gate_is_locked(&f->gate, ROT_RGN_OPENSBI_A), HARDENED_TRUE);
  /* Not even an update window can be opened on it. */
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_OPENSBI_A),
                   ROT_ERROR_GATE_LOCKED);
  assert_int_equal(try_program(f, ROT_INIT_UPDATE, ROT_RGN_OPENSBI_A),
                   ROT_ERROR_GATE_LOCKED);
  assert_int_equal(rot_gate_erase(&f->gate, ROT_INIT_CHIP, ROT_RGN_OPENSBI_A, 0),
                   ROT_ERROR_GATE_LOCKED);
  /* Reads still work. */
  uint8_t b[8];
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_HOST, ROT_RGN_OPENSBI_A, 0, b, 8),
                   ROT_OK);
  /* A locked image region refuses the chip too. */
  assert_int_equal(try_program(f, ROT_INIT_CHIP, ROT_RGN_OPENSBI_A), ROT_ERROR_GATE_LOCKED);
  /* Reset clears every lock. */
  assert_int_equal(rot_gate_init(&f->gate, &f->flash.port, &ram_layout_small,
                                 on_event, f),
                   ROT_OK);
  assert_int_equal(rot_gate_is_locked(&f->gate, ROT_RGN_OPENSBI_A), HARDENED_FALSE);
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_OPENSBI_A), ROT_OK);
  assert_int_equal(try_program(f, ROT_INIT_UPDATE, ROT_RGN_OPENSBI_A), ROT_OK);
}

static void gate_test_lock_with_open_window_refused(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_gate_open_window(&f->gate, ROT_RGN_DTB_A), ROT_OK);
  assert_int_equal(rot_gate_lock(&f->gate, ROT_RGN_DTB_A), ROT_ERROR_UPDATE_BUSY);
  assert_int_equal(rot_gate_lock(&f->gate, ROT_RGN_DTB_B), ROT_OK);
}

static void gate_test_lock_bad_region(void **state) {
  fixture_t *f = *state;
  assert_int_equal(rot_gate_lock(&f->gate, ROT_RGN_COUNT), ROT_ERROR_GATE_BAD_REGION);
  assert_int_equal(rot_gate_lock(NULL, 0), ROT_ERROR_INVALID_ARGUMENT);
  /* Unknown regions read as locked: fail closed. */
  assert_int_equal(rot_gate_is_locked(&f->gate, 0xffffffffu), HARDENED_TRUE);
  assert_int_equal(rot_gate_is_locked(NULL, 0), HARDENED_TRUE);
}

static void gate_test_read_bounds(void **state) {
  fixture_t *f = *state;
  uint8_t b[8];
  uint32_t size = ram_layout_small.regions[ROT_RGN_AUDIT].size;
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_CHIP, ROT_RGN_AUDIT, size - 8, b, 8),
                   ROT_OK);
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_CHIP, ROT_RGN_AUDIT, size - 7, b, 8),
                   ROT_ERROR_GATE_BOUNDS);
  /* off + len would wrap 32 bits. */
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_CHIP, ROT_RGN_AUDIT, 8,
                                 b, 0xfffffffcu),
                   ROT_ERROR_GATE_BOUNDS);
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_CHIP, ROT_RGN_COUNT, 0, b, 8),
                   ROT_ERROR_GATE_BAD_REGION);
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_CHIP, 0xffffffffu, 0, b, 8),
                   ROT_ERROR_GATE_BAD_REGION);
  assert_int_equal(rot_gate_read(&f->gate, ROT_INIT_CHIP, ROT_RGN_AUDIT, 0, NULL, 8),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(f->last_verdict, ROT_ERROR_GATE_BAD_REGION);
}

static void gate_test_program_bounds(void **state) {
  fixture_t *f = *state;
  uint8_t b[8] = {0};
  uint32_t size = ram_layout_small.regions[ROT_RGN_NVCFG].size;
  /* A program must not spill into the next region. */
  assert_int_equal(rot_gate_program(&f->gate, ROT_INIT_CHIP, ROT_RGN_NVCFG,
                                    size - 4, b, 8),
                   ROT_ERROR_GATE_BOUNDS);
  assert_int_equal(rot_gate_erase(&f->gate, ROT_INIT_CHIP, ROT_RGN_NVCFG, 100),
                   ROT_ERROR_FLASH_ALIGN);
  assert_int_equal(rot_gate_erase(&f->gate, ROT_INIT_CHIP, ROT_RGN_NVCFG, size),
                   ROT_ERROR_GATE_BOUNDS);
  assert_int_equal(f->flash.ops, 0);
}

static void gate_test_unknown_initiator_denied(void **state) {
  fixture_t *f = *state;
  assert_int_equal(try_program(f, (rot_initiator_t)(ROT_INIT_CHIP ^ 1), ROT_RGN_NVCFG),
                   ROT_ERROR_GATE_DENIED);
  uint8_t b[4];
  assert_int_equal(rot_gate_read(&f->gate, (rot_initiator_t)0, ROT_RGN_OPENSBI_A, 0, b, 4),
                   ROT_ERROR_GATE_DENIED);
}

static void gate_test_erase_region_whole(void **state) {
  fixture_t *f = *state;
  uint8_t *p = ram_flash_region(&f->flash, &ram_layout_small, ROT_RGN_AUDIT);
  memset(p, 0, ram_layout_small.regions[ROT_RGN_AUDIT].size);
  assert_int_equal(rot_gate_erase_region(&f->gate, ROT_INIT_CHIP, ROT_RGN_AUDIT), ROT_OK);
  for (uint32_t i = 0; i < ram_layout_small.regions[ROT_RGN_AUDIT].size; i++) {
    assert_int_equal(p[i], 0xff);
  }
  /* Neighbours untouched. */
  assert_int_equal(p[-1], 0xff);
  assert_int_equal(rot_gate_erase_region(&f->gate, ROT_INIT_HOST, ROT_RGN_AUDIT),
                   ROT_ERROR_GATE_DENIED);
}

/* The chip's own regions cannot be locked: a lock on audit would drop
 * every later record unseen, one on state would stop every commit. */
static void gate_test_lock_chip_regions_refused(void **state) {
  fixture_t *f = *state;
  const uint32_t chip[] = {ROT_RGN_NVCFG, ROT_RGN_STATE, ROT_RGN_AUDIT};
  for (size_t i = 0; i < sizeof(chip) / sizeof(chip[0]); i++) {
    f->events = 0;
    assert_int_equal(rot_gate_lock(&f->gate, chip[i]), ROT_ERROR_GATE_NOT_LOCKABLE);
    /* The refusal is reported, so the audit hook records it. */
    assert_int_equal(f->events, 1);
    assert_int_equal(f->last_op, ROT_GATE_OP_LOCK);
    assert_int_equal(f->last_region, chip[i]);
    assert_int_equal(f->last_verdict, ROT_ERROR_GATE_NOT_LOCKABLE);
    assert_int_equal(rot_gate_is_locked(&f->gate, chip[i]), HARDENED_FALSE);
    assert_int_equal(try_program(f, ROT_INIT_CHIP, chip[i]), ROT_OK);
  }
  /* Both recovery slots are image regions: lockable. */
  assert_int_equal(rot_gate_lock(&f->gate, ROT_RGN_RECOVERY_B), ROT_OK);
}

/* A glitch that skips the first check still cannot lock the audit log. */
static void gate_test_lock_second_check_stops_glitch(void **state) {
  fixture_t *f = *state;
  rot_error_t err = ROT_OK;
  EXPECT_TRAP(err = rot_gate_lock(&f->gate, ROT_RGN_AUDIT));
  (void)err;
  assert_int_equal(rot_gate_is_locked(&f->gate, ROT_RGN_AUDIT), HARDENED_FALSE);
  assert_int_equal(try_program(f, ROT_INIT_CHIP, ROT_RGN_AUDIT), ROT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(gate_test_init_null, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_init_layout_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_init_overlapping_layout, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_layout_default_valid, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_read_host_slot_allowed, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_read_host_private_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_program_slot_without_window_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_program_slot_in_window_allowed, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_open_window_second_busy, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_open_window_private_region_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_program_private_regions, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_lock_blocks_everyone_until_reset, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_lock_with_open_window_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_lock_bad_region, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_read_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_program_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_unknown_initiator_denied, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_erase_region_whole, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_lock_chip_regions_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(gate_test_lock_second_check_stops_glitch, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
