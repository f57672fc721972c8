/*
 * The audit log on an in-memory NOR flash: appends, reboots, the ring,
 * power cuts, and an attacker who rewrites the flash behind the gate's
 * back. The layout is the reference one shrunk to 4 KiB blocks, with a
 * two-block (64-record) audit region so the ring wraps within a few
 * hundred appends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rot/audit.h"
#include "rot/gate.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"
#include "ram_flash.h"

#define ERASE 4096u
#define FLASH_SIZE (16u * ERASE)
#define AUDIT_OFF (12u * ERASE)
#define AUDIT_SIZE (2u * ERASE)
#define SLOTS (AUDIT_SIZE / ROT_AUDIT_RECORD_SIZE)

/* ---- flash ------------------------------------------------------------ */

/* In-memory NOR with power cuts (cut_at, tear, dead), on g_layout. */
static ram_flash_t g_flash;

static rot_flash_layout_t g_layout;

/* The reference table, one block per image region, same order. */
static void make_layout(void) {
  g_layout = rot_flash_layout_default;
  g_layout.flash_size = FLASH_SIZE;
  g_layout.erase_size = ERASE;
  uint32_t off = 0;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    uint32_t size = ERASE;
    if (i == ROT_RGN_STATE || i == ROT_RGN_AUDIT) {
      size = 2u * ERASE;
    }
    if (i == ROT_RGN_AUDIT) {
      off = AUDIT_OFF;
    }
    g_layout.regions[i].off = off;
    g_layout.regions[i].size = size;
    off += size;
  }
  assert_int_equal(rot_flash_layout_check(&g_layout), ROT_OK);
}

/* ---- fixture ---------------------------------------------------------- */

typedef struct fixture {
  rot_gate_t gate;
  rot_audit_t audit;
} fixture_t;

static fixture_t g_fx;
static uint64_t g_clock;

static uint64_t fake_now(void) { return g_clock; }

static uint8_t *slot_mem(uint32_t idx) {
  return g_flash.mem + AUDIT_OFF + idx * ROT_AUDIT_RECORD_SIZE;
}

/* Power on: a fresh gate (with or without the audit hook) and log. */
static void boot(int hooked) {
  g_flash.dead = 0;
  g_flash.cut_at = 0;
  memset(&g_fx, 0, sizeof(g_fx));
  assert_int_equal(
      rot_gate_init(&g_fx.gate, &g_flash.port, &g_layout,
                    hooked ? rot_audit_gate_hook : NULL, &g_fx.audit),
      ROT_OK);
  assert_int_equal(
      rot_audit_init(&g_fx.audit, &g_fx.gate, rot_host_crypto(), fake_now),
      ROT_OK);
}

static int setup(void **state) {
  (void)state;
  make_layout();
  ram_flash_init(&g_flash, &g_layout);
  g_clock = 1000;
  boot(0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ram_flash_free(&g_flash);
  return 0;
}

static void append_n(uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    g_clock++;
    assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_BOOT, ROT_OK, i,
                                      g_fx.audit.next_seq),
                     ROT_OK);
  }
}

static rot_error_t verify(rot_audit_report_t *rep) {
  return rot_audit_verify(&g_fx.audit, NULL, NULL, rep);
}

/* Slot holding a committed record with sequence seq. */
static uint32_t slot_of(uint32_t seq) {
  for (uint32_t i = 0; i < SLOTS; i++) {
    const uint8_t *p = slot_mem(i);
    if (rot_ld32(p) == ROT_AUDIT_MAGIC && rot_ld32(p + 96) == 0 &&
        rot_ld32(p + 4) == seq) {
      return i;
    }
  }
  fail_msg("no record with seq %u", seq);
  return 0;
}

/* What a visitor saw. */
typedef struct seen {
  uint32_t n;
  uint32_t seqs[SLOTS];
  rot_error_t links[SLOTS];
  rot_audit_record_t last;
  uint32_t stop_after; /* 0: never stop */
} seen_t;

static int collect(void *ctx, const rot_audit_record_t *r, rot_error_t link) {
  seen_t *s = ctx;
  assert_true(s->n < SLOTS);
  s->seqs[s->n] = r->seq;
  s->links[s->n] = link;
  s->last = *r;
  s->n++;
  return s->stop_after != 0 && s->n >= s->stop_after;
}

/* ---- rot_audit_init --------------------------------------------------- */

static void audit_test_init_null(void **state) {
  (void)state;
  rot_audit_t a;
  const rot_crypto_t *c = rot_host_crypto();
  assert_int_equal(rot_audit_init(NULL, &g_fx.gate, c, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_audit_init(&a, NULL, c, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_audit_init(&a, &g_fx.gate, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void audit_test_init_uninitialised_gate(void **state) {
  (void)state;
  rot_gate_t g;
  rot_audit_t a;
  memset(&g, 0, sizeof(g));
  assert_int_equal(rot_audit_init(&a, &g, rot_host_crypto(), NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_null(a.gate); /* inert: the hook and append refuse it */
  assert_int_equal(rot_audit_append(&a, ROT_AUDIT_BOOT, ROT_OK, 0, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void audit_test_init_empty(void **state) {
  (void)state;
  assert_int_equal(g_fx.audit.next_seq, 1);
  assert_int_equal(g_fx.audit.next_index, 0);
  assert_true(rot_is_zero(g_fx.audit.last_chain, 32));
  assert_int_equal(g_fx.audit.region, ROT_RGN_AUDIT);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 0);
  assert_int_equal(rep.torn, 0);
  assert_int_equal(rep.first_seq, 0);
  assert_int_equal(rep.last_seq, 0);
  assert_int_equal(rep.bad_seq, 0);
  assert_int_equal(rep.verdict, ROT_OK);
}

static void audit_test_init_read_failure(void **state) {
  (void)state;
  rot_audit_t a;
  g_flash.dead = 1;
  assert_int_equal(rot_audit_init(&a, &g_fx.gate, rot_host_crypto(), NULL),
                   ROT_ERROR_FLASH_POWER_LOSS);
  assert_null(a.gate);
  g_flash.dead = 0;
}

static void audit_test_init_reboot_continues(void **state) {
  (void)state;
  append_n(5);
  uint8_t chain[32];
  memcpy(chain, g_fx.audit.last_chain, 32);
  boot(0);
  assert_int_equal(g_fx.audit.next_seq, 6);
  assert_int_equal(g_fx.audit.next_index, 5);
  assert_memory_equal(g_fx.audit.last_chain, chain, 32);
  append_n(5);
  boot(0);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 10);
  assert_int_equal(rep.first_seq, 1);
  assert_int_equal(rep.last_seq, 10);
}

/* ---- rot_audit_append ------------------------------------------------- */

static void audit_test_append_null(void **state) {
  (void)state;
  assert_int_equal(rot_audit_append(NULL, ROT_AUDIT_BOOT, ROT_OK, 0, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
  rot_audit_t a;
  memset(&a, 0, sizeof(a));
  assert_int_equal(rot_audit_append(&a, ROT_AUDIT_BOOT, ROT_OK, 0, 0),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void audit_test_append_record_layout(void **state) {
  (void)state;
  g_clock = 0x123456789ull;
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_UPDATE_FINISH,
                                    ROT_ERROR_IMAGE_BAD_SIGNATURE, 7, 9),
                   ROT_OK);
  const uint8_t *p = slot_mem(0);
  assert_int_equal(rot_ld32(p), ROT_AUDIT_MAGIC);
  assert_memory_equal(p, "RTAL", 4);
  assert_int_equal(rot_ld32(p + 4), 1);
  assert_int_equal(rot_ld64(p + 8), 0x123456789ull);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_UPDATE_FINISH);
  assert_int_equal(rot_ld32(p + 20), (uint32_t)ROT_ERROR_IMAGE_BAD_SIGNATURE);
  assert_int_equal(rot_ld32(p + 24), 7);
  assert_int_equal(rot_ld32(p + 28), 9);
  for (uint32_t i = 32; i < 64; i++) {
    assert_int_equal(p[i], 0xff);
  }
  for (uint32_t i = 100; i < 128; i++) {
    assert_int_equal(p[i], 0xff);
  }
  assert_int_equal(rot_ld32(p + 96), ROT_AUDIT_COMMITTED);
  /* Record 1 chains from all zeros. */
  uint8_t in[96] = {0}, want[32];
  memcpy(in + 32, p, 64);
  assert_int_equal(
      rot_hash(rot_host_crypto(), ROT_HASH_SHA256, in, 96, want, 32), ROT_OK);
  assert_memory_equal(p + 64, want, 32);
  assert_memory_equal(g_fx.audit.last_chain, want, 32);
  /* Record 2 chains from record 1. */
  append_n(1);
  const uint8_t *q = slot_mem(1);
  memcpy(in, want, 32);
  memcpy(in + 32, q, 64);
  assert_int_equal(
      rot_hash(rot_host_crypto(), ROT_HASH_SHA256, in, 96, want, 32), ROT_OK);
  assert_memory_equal(q + 64, want, 32);
  assert_true(slot_mem(2)[0] == 0xff);
}

static void audit_test_append_no_clock(void **state) {
  (void)state;
  g_fx.audit.now = NULL;
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_BOOT, ROT_OK, 0, 0),
                   ROT_OK);
  assert_int_equal(rot_ld64(slot_mem(0) + 8), 0);
}

static void audit_test_append_and_verify(void **state) {
  (void)state;
  append_n(20);
  rot_audit_report_t rep;
  seen_t s;
  memset(&s, 0, sizeof(s));
  assert_int_equal(rot_audit_verify(&g_fx.audit, collect, &s, &rep), ROT_OK);
  assert_int_equal(rep.records, 20);
  assert_int_equal(rep.first_seq, 1);
  assert_int_equal(rep.last_seq, 20);
  assert_int_equal(rep.bad_seq, 0);
  assert_int_equal(rep.torn, 0);
  assert_int_equal(s.n, 20);
  for (uint32_t i = 0; i < 20; i++) {
    assert_int_equal(s.seqs[i], i + 1);
    assert_int_equal(s.links[i], ROT_OK);
  }
  assert_int_equal(s.last.event, ROT_AUDIT_BOOT);
  assert_int_equal(s.last.arg0, 19);
  assert_int_equal(s.last.arg1, 20);
  assert_int_equal(s.last.timestamp, 1020);
  assert_int_equal(s.last.magic, ROT_AUDIT_MAGIC);
  assert_int_equal(s.last.commit, ROT_AUDIT_COMMITTED);
}

static void audit_test_append_wraps(void **state) {
  (void)state;
  for (uint32_t i = 0; i < 500; i++) {
    append_n(1);
    if (i % 37 == 0) {
      boot(0); /* reboots land anywhere in the ring */
    }
  }
  rot_audit_report_t rep;
  seen_t s;
  memset(&s, 0, sizeof(s));
  assert_int_equal(rot_audit_verify(&g_fx.audit, collect, &s, &rep), ROT_OK);
  assert_int_equal(rep.last_seq, 500);
  assert_true(rep.first_seq > 1);
  assert_int_equal(rep.records, rep.last_seq - rep.first_seq + 1);
  /* At least every block but the one being refilled survives. */
  assert_true(rep.records >= SLOTS - ERASE / ROT_AUDIT_RECORD_SIZE);
  assert_int_equal(s.n, rep.records);
  for (uint32_t i = 1; i < s.n; i++) {
    assert_int_equal(s.seqs[i], s.seqs[i - 1] + 1);
  }
  boot(0);
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.last_seq, 500);
  assert_int_equal(g_fx.audit.next_seq, 501);
}

static void audit_test_append_erases_only_at_block_start(void **state) {
  (void)state;
  append_n(SLOTS); /* fills the region exactly */
  uint32_t ops_before = g_flash.ops;
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, SLOTS);
  append_n(1); /* wraps: block 0 (records 1..32) goes */
  assert_int_equal(g_flash.ops, ops_before + 3); /* erase, body, commit */
  append_n(1);
  assert_int_equal(g_flash.ops, ops_before + 5); /* mid-block: no erase */
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.first_seq, 33);
  assert_int_equal(rep.last_seq, SLOTS + 2);
  assert_int_equal(rep.records, SLOTS - 32 + 2);
}

static void audit_test_append_skips_torn(void **state) {
  (void)state;
  append_n(3);
  /* A power cut left slot 3 with a body and no commit word. */
  uint8_t body[64];
  memset(body, 0xff, sizeof(body));
  rot_st32(body, ROT_AUDIT_MAGIC);
  rot_st32(body + 4, 4);
  for (uint32_t i = 0; i < sizeof(body); i++) {
    slot_mem(3)[i] &= body[i];
  }
  boot(0);
  assert_int_equal(g_fx.audit.next_seq, 4);
  assert_int_equal(g_fx.audit.next_index, 3);
  append_n(2);
  assert_int_equal(rot_ld32(slot_mem(4) + 4), 4); /* torn slot kept */
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.torn, 1);
  assert_int_equal(rep.records, 5);
  assert_int_equal(rep.last_seq, 5);
}

static void audit_test_append_cut_without_reboot(void **state) {
  (void)state;
  append_n(2);
  g_flash.cut_at = g_flash.ops + 2; /* the commit word */
  g_flash.tear = 1;
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_BOOT, ROT_OK, 0, 0),
                   ROT_ERROR_FLASH_POWER_LOSS);
  assert_int_equal(g_fx.audit.next_seq, 3); /* not spent */
  g_flash.dead = 0;
  g_flash.cut_at = 0;
  append_n(1);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.torn, 1);
  assert_int_equal(rep.records, 3);
  assert_int_equal(rep.last_seq, 3);
}

/* Cut (and tear) every flash op of a run of appends that wraps the ring,
 * reboot, and check the log still verifies and keeps every record that
 * was acknowledged. */
static void audit_test_append_power_cut_every_op(void **state) {
  (void)state;
  uint32_t points = 0;
  for (int tear = 0; tear <= 1; tear++) {
    for (uint32_t cut = 1;; cut++) {
      memset(g_flash.mem, 0xff, FLASH_SIZE);
      g_flash.ops = 0;
      boot(0);
      append_n(60);
      uint32_t base = g_flash.ops;
      g_flash.cut_at = base + cut;
      g_flash.tear = tear;
      uint32_t acked = 60;
      rot_error_t err = ROT_OK;
      for (uint32_t i = 0; i < 8 && err == ROT_OK; i++) {
        err = rot_audit_append(&g_fx.audit, ROT_AUDIT_BOOT, ROT_OK, i, 0);
        if (err == ROT_OK) {
          acked++;
        }
      }
      if (err == ROT_OK) {
        break; /* every op of the run has been cut once */
      }
      points++;
      boot(0);
      rot_audit_report_t rep;
      assert_int_equal(verify(&rep), ROT_OK);
      assert_true(rep.last_seq >= acked);
      assert_true(rep.last_seq <= acked + 1);
      append_n(1);
      assert_int_equal(verify(&rep), ROT_OK);
      assert_int_equal(rep.records, rep.last_seq - rep.first_seq + 1);
    }
  }
  /* 8 appends: 8 bodies, 8 commit words and one erase at the wrap. */
  assert_int_equal(points, 2 * 17);
}

/* ---- rot_audit_verify ------------------------------------------------- */

static void audit_test_verify_null(void **state) {
  (void)state;
  rot_audit_report_t rep;
  assert_int_equal(rot_audit_verify(NULL, NULL, NULL, &rep),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(rot_audit_verify(&g_fx.audit, NULL, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  rot_audit_t a;
  memset(&a, 0, sizeof(a));
  assert_int_equal(rot_audit_verify(&a, NULL, NULL, &rep),
                   ROT_ERROR_INVALID_ARGUMENT);
}

static void audit_test_verify_tampered_field(void **state) {
  (void)state;
  append_n(10);
  slot_mem(slot_of(5))[24] ^= 0x01; /* arg0: still committed */
  rot_audit_report_t rep;
  seen_t s;
  memset(&s, 0, sizeof(s));
  assert_int_equal(rot_audit_verify(&g_fx.audit, collect, &s, &rep),
                   ROT_ERROR_AUDIT_TAMPERED);
  assert_int_equal(rep.verdict, ROT_ERROR_AUDIT_TAMPERED);
  assert_int_equal(rep.bad_seq, 5);
  assert_int_equal(rep.records, 9);
  assert_int_equal(s.n, 10);
  for (uint32_t i = 0; i < 10; i++) {
    assert_int_equal(s.links[i],
                     i == 4 ? ROT_ERROR_AUDIT_TAMPERED : ROT_OK);
  }
  boot(0); /* a reboot does not launder it */
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_TAMPERED);
  assert_int_equal(rep.bad_seq, 5);
}

static void audit_test_verify_tampered_first_record(void **state) {
  (void)state;
  append_n(3);
  slot_mem(0)[16] ^= 0x80;
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_TAMPERED);
  assert_int_equal(rep.bad_seq, 1);
}

static void audit_test_verify_tampered_chain(void **state) {
  (void)state;
  append_n(10);
  slot_mem(slot_of(7))[64] ^= 0x10;
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_TAMPERED);
  assert_int_equal(rep.bad_seq, 7);
}

static void audit_test_verify_tampered_pad(void **state) {
  (void)state;
  append_n(4);
  slot_mem(slot_of(2))[120] = 0x00;
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_TAMPERED);
  assert_int_equal(rep.bad_seq, 2);
}

static void audit_test_verify_deleted_record(void **state) {
  (void)state;
  append_n(10);
  memset(slot_mem(slot_of(5)), 0xff, ROT_AUDIT_RECORD_SIZE);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_BROKEN);
  assert_int_equal(rep.bad_seq, 6);
  assert_int_equal(rep.records, 8);
}

static void audit_test_verify_zeroed_record(void **state) {
  (void)state;
  append_n(10);
  memset(slot_mem(slot_of(4)), 0x00, ROT_AUDIT_RECORD_SIZE);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_BROKEN);
  assert_int_equal(rep.bad_seq, 5);
  assert_int_equal(rep.torn, 1);
}

static void audit_test_verify_swapped_records(void **state) {
  (void)state;
  append_n(10);
  uint8_t tmp[ROT_AUDIT_RECORD_SIZE];
  memcpy(tmp, slot_mem(3), sizeof(tmp));
  memcpy(slot_mem(3), slot_mem(6), sizeof(tmp));
  memcpy(slot_mem(6), tmp, sizeof(tmp));
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_BROKEN);
  assert_int_equal(rep.bad_seq, 7);
}

static void audit_test_verify_truncated_tail(void **state) {
  (void)state;
  append_n(10);
  memset(slot_mem(slot_of(10)), 0xff, ROT_AUDIT_RECORD_SIZE);
  memset(slot_mem(slot_of(9)), 0xff, ROT_AUDIT_RECORD_SIZE);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_BROKEN);
  assert_int_equal(rep.bad_seq, 9);
  assert_int_equal(rep.records, 8);
}

static void audit_test_verify_rewritten_tail(void **state) {
  (void)state;
  append_n(5);
  /* Edit the newest record and recompute its chain: the chain alone
   * cannot tell, the instance that wrote it can. */
  uint8_t *p = slot_mem(slot_of(5));
  p[24] ^= 0xff;
  uint8_t in[96], out[32];
  memcpy(in, slot_mem(slot_of(4)) + 64, 32);
  memcpy(in + 32, p, 64);
  assert_int_equal(
      rot_hash(rot_host_crypto(), ROT_HASH_SHA256, in, 96, out, 32), ROT_OK);
  memcpy(p + 64, out, 32);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_TAMPERED);
  assert_int_equal(rep.bad_seq, 5);
}

static void audit_test_verify_wiped_log(void **state) {
  (void)state;
  append_n(10);
  memset(slot_mem(0), 0xff, AUDIT_SIZE);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_AUDIT_BROKEN);
  assert_int_equal(rep.records, 0);
  assert_int_equal(rep.bad_seq, 10);
}

static void audit_test_verify_visit_stops(void **state) {
  (void)state;
  append_n(10);
  rot_audit_report_t rep;
  seen_t s;
  memset(&s, 0, sizeof(s));
  s.stop_after = 3;
  assert_int_equal(rot_audit_verify(&g_fx.audit, collect, &s, &rep), ROT_OK);
  assert_int_equal(s.n, 3);
  assert_int_equal(rep.records, 3);
  assert_int_equal(rep.last_seq, 3);
}

static void audit_test_verify_read_failure(void **state) {
  (void)state;
  append_n(2);
  g_flash.dead = 1;
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_ERROR_FLASH_POWER_LOSS);
  g_flash.dead = 0;
}

/* ---- hostile flash ---------------------------------------------------- */

static uint32_t g_rng = 0x2545f491u;

static uint32_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 17;
  g_rng ^= g_rng << 5;
  return g_rng;
}

static void audit_test_init_garbage(void **state) {
  (void)state;
  for (uint32_t i = 0; i < AUDIT_SIZE; i++) {
    slot_mem(0)[i] = (uint8_t)rnd();
  }
  boot(0);
  rot_audit_report_t rep;
  rot_error_t v = verify(&rep);
  assert_true(v == ROT_OK || v == ROT_ERROR_AUDIT_BROKEN ||
              v == ROT_ERROR_AUDIT_TAMPERED);
  assert_true(v != ROT_OK || rep.records == 0);
  assert_int_equal(rep.torn, SLOTS);
  append_n(3);
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 3);
  append_n(200); /* the ring erases the rest of the garbage */
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.torn, 0);
  assert_int_equal(rep.last_seq, 203);
}

/* Records that pass the commit test but carry forged sequence numbers. */
static void audit_test_init_forged_records(void **state) {
  (void)state;
  for (uint32_t round = 0; round < 50; round++) {
    memset(slot_mem(0), 0xff, AUDIT_SIZE);
    uint32_t n = rnd() % (SLOTS + 1);
    for (uint32_t i = 0; i < n; i++) {
      uint8_t *p = slot_mem(rnd() % SLOTS);
      for (uint32_t j = 0; j < ROT_AUDIT_RECORD_SIZE; j++) {
        p[j] = (uint8_t)rnd();
      }
      rot_st32(p, ROT_AUDIT_MAGIC);
      rot_st32(p + 96, ROT_AUDIT_COMMITTED);
      uint32_t pick = rnd() % 4;
      rot_st32(p + 4, pick == 0   ? UINT32_MAX
                      : pick == 1 ? 0
                      : pick == 2 ? rnd() % 8
                                  : rnd());
    }
    boot(0);
    rot_audit_report_t rep;
    rot_error_t v = verify(&rep);
    assert_true(v == ROT_OK || v == ROT_ERROR_AUDIT_BROKEN ||
                v == ROT_ERROR_AUDIT_TAMPERED);
    assert_true(rep.records + rep.torn <= SLOTS);
    /* Recording goes on whatever was there. */
    for (uint32_t i = 0; i < 70; i++) {
      assert_int_equal(
          rot_audit_append(&g_fx.audit, ROT_AUDIT_BOOT, ROT_OK, i, 0), ROT_OK);
    }
    v = verify(&rep);
    assert_true(v == ROT_OK || v == ROT_ERROR_AUDIT_BROKEN ||
                v == ROT_ERROR_AUDIT_TAMPERED);
  }
}

static void audit_test_init_seq_exhausted(void **state) {
  (void)state;
  append_n(2);
  /* Forge the newest record with the last sequence number. */
  uint8_t *p = slot_mem(1);
  memcpy(p, slot_mem(0), ROT_AUDIT_RECORD_SIZE);
  rot_st32(p + 4, UINT32_MAX);
  boot(0);
  assert_int_equal(g_fx.audit.next_seq, 0);
  append_n(1);
  assert_int_equal(rot_ld32(slot_mem(2) + 4), 1); /* a fresh chain */
  rot_audit_report_t rep;
  assert_int_not_equal(verify(&rep), ROT_OK);
}

/* ---- rot_audit_gate_hook ---------------------------------------------- */

static void audit_test_gate_hook_deny(void **state) {
  (void)state;
  boot(1);
  uint8_t b[4] = {0};
  assert_int_equal(rot_gate_program(&g_fx.gate, ROT_INIT_HOST, ROT_RGN_NVCFG,
                                    0, b, sizeof(b)),
                   ROT_ERROR_GATE_DENIED);
  rot_audit_report_t rep;
  seen_t s;
  memset(&s, 0, sizeof(s));
  assert_int_equal(rot_audit_verify(&g_fx.audit, collect, &s, &rep), ROT_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.last.event, ROT_AUDIT_GATE_DENY);
  assert_int_equal(s.last.status, (uint32_t)ROT_ERROR_GATE_DENIED);
  assert_int_equal(s.last.arg0, ROT_GATE_OP_PROGRAM);
  assert_int_equal(s.last.arg1, ROT_RGN_NVCFG);
  /* A host read of chip-private state is denied and recorded too. */
  assert_int_equal(rot_gate_read(&g_fx.gate, ROT_INIT_HOST, ROT_RGN_STATE, 0,
                                 b, sizeof(b)),
                   ROT_ERROR_GATE_DENIED);
  memset(&s, 0, sizeof(s));
  assert_int_equal(rot_audit_verify(&g_fx.audit, collect, &s, &rep), ROT_OK);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.last.arg0, ROT_GATE_OP_READ);
  assert_int_equal(s.last.arg1, ROT_RGN_STATE);
}

static void audit_test_gate_hook_lock_and_window(void **state) {
  (void)state;
  boot(1);
  assert_int_equal(rot_gate_open_window(&g_fx.gate, ROT_RGN_DTB_B), ROT_OK);
  rot_gate_close_window(&g_fx.gate);
  assert_int_equal(rot_gate_lock(&g_fx.gate, ROT_RGN_DTB_A), ROT_OK);
  assert_int_equal(rot_gate_open_window(&g_fx.gate, ROT_RGN_DTB_A),
                   ROT_ERROR_GATE_LOCKED);
  rot_audit_report_t rep;
  seen_t s;
  memset(&s, 0, sizeof(s));
  assert_int_equal(rot_audit_verify(&g_fx.audit, collect, &s, &rep), ROT_OK);
  assert_int_equal(s.n, 4);
  assert_int_equal(rep.records, 4);
  const uint8_t *p0 = slot_mem(0), *p1 = slot_mem(1), *p2 = slot_mem(2),
                *p3 = slot_mem(3);
  assert_int_equal(rot_ld32(p0 + 16), ROT_AUDIT_GATE_WINDOW);
  assert_int_equal(rot_ld32(p0 + 24), 1);
  assert_int_equal(rot_ld32(p0 + 28), ROT_RGN_DTB_B);
  assert_int_equal(rot_ld32(p1 + 16), ROT_AUDIT_GATE_WINDOW);
  assert_int_equal(rot_ld32(p1 + 24), 0);
  assert_int_equal(rot_ld32(p1 + 28), ROT_RGN_DTB_B);
  assert_int_equal(rot_ld32(p2 + 16), ROT_AUDIT_GATE_LOCK);
  assert_int_equal(rot_ld32(p2 + 28), ROT_RGN_DTB_A);
  assert_int_equal(rot_ld32(p3 + 16), ROT_AUDIT_GATE_DENY);
  assert_int_equal(rot_ld32(p3 + 20), (uint32_t)ROT_ERROR_GATE_LOCKED);
  assert_int_equal(rot_ld32(p3 + 24), ROT_GATE_OP_WINDOW);
  assert_int_equal(rot_ld32(p3 + 28), ROT_RGN_DTB_A);
}

/* A window the update engine moves is named by the update record that
 * follows (its ext word) instead of a record of its own: one durable
 * append fewer per change. An opening and then the closing of the same
 * window fold together; a change that cannot fold (another window, or an
 * opening after a closing) is recorded first, in order. */
static void audit_test_gate_hook_window_folds_into_update_record(void **state) {
  (void)state;
  boot(1);
  assert_int_equal(rot_gate_open_window(&g_fx.gate, ROT_RGN_DTB_B), ROT_OK);
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_UPDATE_BEGIN, ROT_OK, 6, 100),
                   ROT_OK);
  rot_gate_close_window(&g_fx.gate);
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_UPDATE_FINISH, ROT_OK, 6, 1),
                   ROT_OK);
  assert_int_equal(rot_gate_open_window(&g_fx.gate, ROT_RGN_DTB_A), ROT_OK);
  rot_gate_close_window(&g_fx.gate);
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_UPDATE_ABORT,
                                    ROT_ERROR_UPDATE_TIMEOUT, 6, 0),
                   ROT_OK);
  /* Closed, then another window opened, with no record between. */
  assert_int_equal(rot_gate_open_window(&g_fx.gate, ROT_RGN_DTB_B), ROT_OK);
  rot_gate_close_window(&g_fx.gate);
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_DAEMON_START, ROT_OK, 0, 0),
                   ROT_OK);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 6);
  const uint8_t *p = slot_mem(0);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_UPDATE_BEGIN);
  assert_int_equal(rot_ld32(p + 32), ROT_RGN_DTB_B | ROT_AUDIT_WINDOW_OPENED);
  p = slot_mem(1);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_UPDATE_FINISH);
  assert_int_equal(rot_ld32(p + 32), ROT_RGN_DTB_B | ROT_AUDIT_WINDOW_CLOSED);
  p = slot_mem(2);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_UPDATE_ABORT);
  assert_int_equal(rot_ld32(p + 32),
                   ROT_RGN_DTB_A | ROT_AUDIT_WINDOW_OPENED | ROT_AUDIT_WINDOW_CLOSED);
  /* Not an update record: the window's own records come first. */
  p = slot_mem(3);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_GATE_WINDOW);
  assert_int_equal(rot_ld32(p + 24), 1);
  assert_int_equal(rot_ld32(p + 28), ROT_RGN_DTB_B);
  p = slot_mem(4);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_GATE_WINDOW);
  assert_int_equal(rot_ld32(p + 24), 0);
  p = slot_mem(5);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_DAEMON_START);
  assert_int_equal(rot_ld32(p + 32), ROT_AUDIT_EXT_NONE);
  /* An opening and closing held, then another opening: all three are
   * recorded in order as records of their own. */
  rot_gate_close_window(&g_fx.gate); /* nothing open: no event */
  assert_int_equal(rot_gate_open_window(&g_fx.gate, ROT_RGN_DTB_A), ROT_OK);
  rot_gate_close_window(&g_fx.gate);
  assert_int_equal(rot_gate_open_window(&g_fx.gate, ROT_RGN_DTB_A), ROT_OK);
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_UPDATE_BEGIN, ROT_OK, 6, 1),
                   ROT_OK);
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 10);
  const uint32_t opened[3] = {1, 0, 1};
  for (uint32_t i = 0; i < 3; i++) {
    assert_int_equal(rot_ld32(slot_mem(6 + i) + 16), ROT_AUDIT_GATE_WINDOW);
    assert_int_equal(rot_ld32(slot_mem(6 + i) + 24), opened[i]);
    assert_int_equal(rot_ld32(slot_mem(6 + i) + 28), ROT_RGN_DTB_A);
  }
  assert_int_equal(rot_ld32(slot_mem(9) + 16), ROT_AUDIT_UPDATE_BEGIN);
  assert_int_equal(rot_ld32(slot_mem(9) + 32), ROT_AUDIT_EXT_NONE);
  rot_gate_close_window(&g_fx.gate);
}

/* Nobody can lock the audit region (a lock would drop every later record
 * unseen): the refused lock is itself the next record, and the log keeps
 * recording after it. */
static void audit_test_gate_hook_lock_refused_and_recorded(void **state) {
  (void)state;
  boot(1);
  append_n(2);
  assert_int_equal(rot_gate_lock(&g_fx.gate, ROT_RGN_AUDIT),
                   ROT_ERROR_GATE_NOT_LOCKABLE);
  assert_int_equal(g_fx.audit.busy, 0);
  rot_audit_report_t rep;
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 3);
  const uint8_t *p = slot_mem(2);
  assert_int_equal(rot_ld32(p + 16), ROT_AUDIT_GATE_DENY);
  assert_int_equal(rot_ld32(p + 20), (uint32_t)ROT_ERROR_GATE_NOT_LOCKABLE);
  assert_int_equal(rot_ld32(p + 24), ROT_GATE_OP_LOCK);
  assert_int_equal(rot_ld32(p + 28), ROT_RGN_AUDIT);
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_BOOT, ROT_OK, 0, 0),
                   ROT_OK);
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 4);
  /* After a restart the chain still shows every record, the refusal too. */
  boot(1);
  assert_int_equal(verify(&rep), ROT_OK);
  assert_int_equal(rep.records, 4);
}

static void audit_test_gate_hook_inert(void **state) {
  (void)state;
  rot_audit_gate_hook(NULL, ROT_GATE_OP_PROGRAM, ROT_INIT_HOST, 0,
                      ROT_ERROR_GATE_DENIED);
  rot_audit_t a;
  memset(&a, 0, sizeof(a));
  rot_audit_gate_hook(&a, ROT_GATE_OP_PROGRAM, ROT_INIT_HOST, 0,
                      ROT_ERROR_GATE_DENIED);
  /* Allowed reads, programs and erases are not events. */
  rot_audit_gate_hook(&g_fx.audit, ROT_GATE_OP_READ, ROT_INIT_HOST, 0, ROT_OK);
  rot_audit_gate_hook(&g_fx.audit, ROT_GATE_OP_PROGRAM, ROT_INIT_CHIP, 0,
                      ROT_OK);
  assert_int_equal(g_fx.audit.next_seq, 1);
  g_fx.audit.busy = 1;
  rot_audit_gate_hook(&g_fx.audit, ROT_GATE_OP_PROGRAM, ROT_INIT_HOST, 0,
                      ROT_ERROR_GATE_DENIED);
  assert_int_equal(g_fx.audit.next_seq, 1);
  assert_int_equal(rot_audit_append(&g_fx.audit, ROT_AUDIT_BOOT, ROT_OK, 0, 0),
                   ROT_ERROR_INTERNAL);
  g_fx.audit.busy = 0;
}

/* ---- rot_audit_event_name --------------------------------------------- */

static void audit_test_event_name(void **state) {
  (void)state;
  assert_string_equal(rot_audit_event_name(ROT_AUDIT_GATE_DENY), "gate-deny");
  assert_string_equal(rot_audit_event_name(ROT_AUDIT_UPDATE_BEGIN),
                      "update-begin");
  assert_string_equal(rot_audit_event_name(ROT_AUDIT_DAEMON_START),
                      "daemon-start");
  assert_string_equal(rot_audit_event_name(0), "unknown");
  assert_string_equal(rot_audit_event_name(UINT32_MAX), "unknown");
  static const uint32_t all[] = {1, 2, 3, 4, 16, 17, 18, 19, 20, 21, 22, 23,
                                 24, 32};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    const char *n = rot_audit_event_name(all[i]);
    assert_non_null(n);
    assert_string_not_equal(n, "unknown");
    for (size_t j = 0; j < i; j++) {
      assert_string_not_equal(n, rot_audit_event_name(all[j]));
    }
  }
}

/* One barrier per record, after its commit word is programmed. */
static unsigned g_syncs;
static unsigned g_syncs_uncommitted;
static uint32_t g_watch_slot;

static rot_error_t counting_sync(const rot_flash_port_t *p) {
  (void)p;
  g_syncs++;
  if (rot_ld32(slot_mem(g_watch_slot) + 96) != ROT_AUDIT_COMMITTED) {
    g_syncs_uncommitted++;
  }
  return ROT_OK;
}

static void audit_test_append_one_barrier_per_record(void **state) {
  (void)state;
  append_n(1); /* past the block erase of slot 0 */
  g_flash.port.sync = counting_sync;
  for (uint32_t i = 0; i < 3; i++) {
    g_watch_slot = g_fx.audit.next_index;
    g_syncs = 0;
    g_syncs_uncommitted = 0;
    append_n(1);
    assert_int_equal(g_syncs, 1);
    assert_int_equal(g_syncs_uncommitted, 0);
  }
  g_flash.port.sync = NULL;
  rot_audit_report_t rep;
  assert_int_equal(rot_audit_verify(&g_fx.audit, NULL, NULL, &rep), ROT_OK);
  assert_int_equal(rep.records, 4);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(audit_test_init_null),
      T(audit_test_init_uninitialised_gate),
      T(audit_test_init_empty),
      T(audit_test_init_read_failure),
      T(audit_test_init_reboot_continues),
      T(audit_test_init_garbage),
      T(audit_test_init_forged_records),
      T(audit_test_init_seq_exhausted),
      T(audit_test_append_null),
      T(audit_test_append_record_layout),
      T(audit_test_append_no_clock),
      T(audit_test_append_and_verify),
      T(audit_test_append_wraps),
      T(audit_test_append_erases_only_at_block_start),
      T(audit_test_append_skips_torn),
      T(audit_test_append_cut_without_reboot),
      T(audit_test_append_one_barrier_per_record),
      T(audit_test_append_power_cut_every_op),
      T(audit_test_verify_null),
      T(audit_test_verify_tampered_field),
      T(audit_test_verify_tampered_first_record),
      T(audit_test_verify_tampered_chain),
      T(audit_test_verify_tampered_pad),
      T(audit_test_verify_deleted_record),
      T(audit_test_verify_zeroed_record),
      T(audit_test_verify_swapped_records),
      T(audit_test_verify_truncated_tail),
      T(audit_test_verify_rewritten_tail),
      T(audit_test_verify_wiped_log),
      T(audit_test_verify_visit_stops),
      T(audit_test_verify_read_failure),
      T(audit_test_gate_hook_deny),
      T(audit_test_gate_hook_lock_and_window),
      T(audit_test_gate_hook_window_folds_into_update_record),
      T(audit_test_gate_hook_lock_refused_and_recorded),
      T(audit_test_gate_hook_inert),
      T(audit_test_event_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
