/*
 * The mailbox server (the chip's command layer), without sockets: frames
 * in, reply frames out, over the real gate, update engine and audit log on
 * an in-memory flash. The authorisation table, the boot decision once per
 * reset, boot regions locked before any byte is handed out, the INVENTORY
 * verdict cache, session ownership and the connection limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ram_flash.h"
#include "rot/server.h"
#include "rot/util.h"
#include "rot_client/mbox_requests.h"
#include "test_keys.h"
#include "trap_hook.h"
#include "server_fixture.h"
#include "update_fixture.h"

static rot_error_t call_confirm(srv_t *s, const rot_peer_t *p, uint32_t type,
                                uint32_t flags) {
  uint8_t b[ROT_MBOX_CONFIRM_REQ_SIZE];
  size_t n = 0;
  rot_mbox_confirm_req_t r = {type, flags};
  assert_int_equal(rot_mbox_confirm_req_encode(&r, b, sizeof(b), &n), ROT_OK);
  return srv_call(s, p, ROT_MBOX_CMD_CONFIRM, b, n);
}

static rot_error_t call_lifecycle(srv_t *s, const rot_peer_t *p, uint32_t from,
                                  uint32_t to, uint32_t confirm) {
  uint8_t b[ROT_MBOX_LIFECYCLE_REQ_SIZE];
  size_t n = 0;
  rot_mbox_lifecycle_req_t r = {from, to, confirm};
  assert_int_equal(rot_mbox_lifecycle_req_encode(&r, b, sizeof(b), &n), ROT_OK);
  return srv_call(s, p, ROT_MBOX_CMD_LIFECYCLE, b, n);
}

static rot_error_t call_begin(srv_t *s, const rot_peer_t *p, uint32_t type,
                              uint32_t len) {
  uint8_t b[ROT_MBOX_BEGIN_REQ_SIZE];
  size_t n = 0;
  rot_mbox_begin_req_t r = {type, len};
  assert_int_equal(rot_mbox_begin_req_encode(&r, b, sizeof(b), &n), ROT_OK);
  return srv_call(s, p, ROT_MBOX_CMD_UPDATE_BEGIN, b, n);
}

static rot_error_t call_chunk(srv_t *s, const rot_peer_t *p, uint32_t off,
                              const uint8_t *data, uint32_t len) {
  static uint8_t b[ROT_MBOX_MAX_PAYLOAD];
  size_t n = 0;
  rot_mbox_chunk_req_t r = {off, len, data};
  assert_int_equal(rot_mbox_chunk_req_encode(&r, b, sizeof(b), &n), ROT_OK);
  return srv_call(s, p, ROT_MBOX_CMD_UPDATE_CHUNK, b, n);
}

/* Update through the mailbox, as an operator's client does. */
static rot_error_t mbox_update(srv_t *s, const rot_peer_t *p, uint32_t type,
                               const uint8_t *img, size_t len) {
  ROT_TRY(call_begin(s, p, type, (uint32_t)len));
  for (size_t off = 0; off < len; off += CHUNK) {
    size_t n = len - off < CHUNK ? len - off : CHUNK;
    ROT_TRY(call_chunk(s, p, (uint32_t)off, img + off, (uint32_t)n));
  }
  return srv_call(s, p, ROT_MBOX_CMD_UPDATE_FINISH, NULL, 0);
}

static void install_and_trial(srv_t *s, uint32_t svn_confirmed, uint32_t svn_trial) {
  install(s->f, svn_confirmed);
  size_t len;
  uint8_t *img = make_image(HV, svn_trial, &len);
  assert_int_equal(mbox_update(s, &kOperator, HV, img, len), ROT_OK);
  free(img);
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_ACTIVATE, HV), ROT_OK);
}

/* ---- the authorisation table ---------------------------------------------------- */

static void server_test_handle_roles_per_command(void **state) {
  srv_t *s = *state;
  /* Everyone with a role reads. */
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_STATUS, NULL, 0), ROT_OK);
  assert_int_equal(srv_call(s, &kBootPath, ROT_MBOX_CMD_AUDIT_VERIFY, NULL, 0), ROT_OK);
  /* A reader cannot update, lock or boot. */
  assert_int_equal(call_begin(s, &kReader, HV, 4096), ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(srv_call_type(s, &kReader, ROT_MBOX_CMD_BOOT, HV),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  uint8_t lock[4];
  rot_st32(lock, ROT_MBOX_LOCK_BOOT);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_LOCK, lock, 4),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  /* The boot path boots, but does not update or confirm. */
  assert_int_equal(call_begin(s, &kBootPath, HV, 4096), ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_CONFIRM, HV),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  /* An operator updates, but a boot decision is the boot path's. */
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_BOOT, HV),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(call_begin(s, &kOperator, HV, 4096), ROT_OK);
  /* Nothing was locked or decided by the refused requests. */
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    assert_int_equal(rot_gate_is_locked(&s->f->gate, r), HARDENED_FALSE);
  }
  assert_int_equal(s->server.boot[HV].taken, HARDENED_FALSE);
}

static void server_test_handle_refusal_recorded(void **state) {
  srv_t *s = *state;
  uint32_t before = s->audit.next_seq;
  assert_int_equal(call_begin(s, &kReader, HV, 4096), ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(s->audit.next_seq, before + 1u);
  /* A peer with no role at all is refused at the door, and recorded. */
  assert_int_equal(rot_server_admit(&s->server, &kNobody, 0, 0),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(s->audit.next_seq, before + 2u);
  assert_int_equal(srv_call(s, &kNobody, ROT_MBOX_CMD_STATUS, NULL, 0),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
}

/* A glitch that skips the table's first check still cannot run the
 * command: the second look stops it before the handler. */
static void server_test_handle_second_check_stops_glitch(void **state) {
  srv_t *s = *state;
  size_t n = 0;
  uint8_t b[ROT_MBOX_BEGIN_REQ_SIZE];
  rot_mbox_begin_req_t r = {HV, 4096};
  assert_int_equal(rot_mbox_begin_req_encode(&r, b, sizeof(b), &n), ROT_OK);
  assert_int_equal(rot_mbox_frame_encode(s->req, sizeof(s->req),
                                         ROT_MBOX_CMD_UPDATE_BEGIN, 0, 7, 0, b,
                                         (uint32_t)n, &n),
                   ROT_OK);
  size_t m = 0;
  EXPECT_TRAP(m = rot_server_handle(&s->server, &kReader, s->req, n, s->rep,
                                    sizeof(s->rep)));
  (void)m;
  assert_int_equal(s->f->up.session.open, HARDENED_FALSE);
}

static void server_test_handle_junk_gets_a_reply(void **state) {
  srv_t *s = *state;
  uint8_t junk[7] = {1, 2, 3, 4, 5, 6, 7};
  size_t m = rot_server_handle(&s->server, &kOperator, junk, sizeof(junk), s->rep,
                               sizeof(s->rep));
  assert_true(m >= ROT_MBOX_HEADER_SIZE);
  assert_int_equal(rot_mbox_frame_decode(s->rep, m, &s->h, &s->payload), ROT_OK);
  assert_int_equal(s->h.status, (uint32_t)ROT_ERROR_MAILBOX_BAD_FRAME);
  assert_int_equal(rot_server_handle(&s->server, &kOperator, junk, sizeof(junk),
                                     s->rep, 16),
                   0);
  assert_int_equal(rot_server_handle(NULL, &kOperator, junk, sizeof(junk), s->rep,
                                     sizeof(s->rep)),
                   0);
}

/* ---- BOOT: once per reset ---------------------------------------------------------- */

static void server_test_boot_once_per_reset(void **state) {
  srv_t *s = *state;
  install_and_trial(s, 1, 2);
  assert_int_equal(s->f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS);
  rot_mbox_boot_resp_t first;
  for (int i = 0; i < 10; i++) {
    assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
    rot_mbox_boot_resp_t r;
    assert_int_equal(rot_mbox_boot_resp_decode(s->payload, s->h.payload_len, &r),
                     ROT_OK);
    if (i == 0) {
      first = r;
      assert_int_equal(r.reason, ROT_BOOT_TRIAL);
    }
    assert_memory_equal(&r, &first, sizeof(r));
  }
  /* Ten requests, one attempt. */
  assert_int_equal(s->f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS - 1u);
  /* A reset takes a new decision, and spends the next attempt. */
  srv_reset(s);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  assert_int_equal(s->f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS - 2u);
}

static void server_test_boot_locks_before_handing_out(void **state) {
  srv_t *s = *state;
  install(s->f, 1);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    const rot_flash_region_t *reg = &ram_layout_small.regions[r];
    int boot_region = rot_flash_region_is_image(reg) &&
                      reg->image_type != ROT_IMAGE_TYPE_ROT;
    assert_int_equal(rot_gate_is_locked(&s->f->gate, r),
                     boot_region ? HARDENED_TRUE : HARDENED_FALSE);
  }
  /* Until the next reset no update reaches a boot region. */
  assert_int_equal(call_begin(s, &kOperator, HV, 4096), ROT_ERROR_GATE_LOCKED);
}

/* One durable record per boot decision: the first names every region it
 * locked, a later one (the locks already held) names none, and no lock
 * gets a record of its own. */
static void server_test_boot_one_record_names_its_locks(void **state) {
  srv_t *s = *state;
  install(s->f, 1);
  uint32_t before = s->audit.next_seq;
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  assert_int_equal(s->audit.next_seq, before + 1u);
  uint32_t want = 0;
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    const rot_flash_region_t *reg = &ram_layout_small.regions[r];
    if (rot_flash_region_is_image(reg) && reg->image_type != ROT_IMAGE_TYPE_ROT) {
      want |= 1u << r;
    }
  }
  rot_audit_record_t rec;
  assert_true(srv_last_record(s, ROT_AUDIT_BOOT, &rec));
  assert_int_equal(rec.status, ROT_OK);
  assert_int_equal(rec.arg0, HV);
  assert_int_equal(rec.arg1, ROT_RGN_HYPERVISOR_A);
  assert_int_equal(rot_audit_record_ext(&rec), want);
  assert_false(srv_last_record(s, ROT_AUDIT_GATE_LOCK, &rec));
  /* Another type's decision: its own record, no new lock to name. */
  before = s->audit.next_seq;
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, ROT_IMAGE_TYPE_DTB),
                   ROT_OK);
  assert_int_equal(s->audit.next_seq, before + 1u);
  assert_true(srv_last_record(s, ROT_AUDIT_BOOT, &rec));
  assert_int_equal(rec.arg0, ROT_IMAGE_TYPE_DTB);
  assert_int_equal(rot_audit_record_ext(&rec), 0);
  /* An explicit LOCK outside a boot decision keeps its own record. */
  srv_reset(s);
  uint8_t lk[ROT_MBOX_LOCK_REQ_SIZE];
  rot_st32(lk, ROT_RGN_DTB_A);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_LOCK, lk, sizeof(lk)), ROT_OK);
  assert_true(srv_last_record(s, ROT_AUDIT_GATE_LOCK, &rec));
  assert_int_equal(rec.arg1, ROT_RGN_DTB_A);
  assert_int_equal(rot_audit_record_ext(&rec), ROT_AUDIT_EXT_NONE);
  assert_int_equal(rot_audit_verify(&s->audit, NULL, NULL, &(rot_audit_report_t){0}),
                   ROT_OK);
}

static void server_test_boot_refused_during_session(void **state) {
  srv_t *s = *state;
  install(s->f, 1);
  assert_int_equal(call_begin(s, &kOperator, HV, 4096), ROT_OK);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV),
                   ROT_ERROR_UPDATE_BUSY);
  /* All or nothing: no region locked, no decision taken. */
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    assert_int_equal(rot_gate_is_locked(&s->f->gate, r), HARDENED_FALSE);
  }
  assert_int_equal(s->server.boot[HV].taken, HARDENED_FALSE);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_UPDATE_ABORT, NULL, 0), ROT_OK);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
}

/* ---- INVENTORY: cached verdicts ------------------------------------------------------ */

static void server_test_inventory_verdicts_cached(void **state) {
  srv_t *s = *state;
  install(s->f, 1);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_INVENTORY, NULL, 0), ROT_OK);
  uint32_t first = s->server.verifications;
  assert_true(first > 0);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_INVENTORY, NULL, 0), ROT_OK);
  }
  assert_int_equal(s->server.verifications, first); /* nothing re-hashed */
  /* A write to one region (an update into it) re-verifies that region
   * only. */
  size_t len;
  uint8_t *img = make_image(HV, 2, &len);
  assert_int_equal(mbox_update(s, &kOperator, HV, img, len), ROT_OK);
  free(img);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_INVENTORY, NULL, 0), ROT_OK);
  assert_int_equal(s->server.verifications, first + 1u);
  rot_mbox_inventory_t inv;
  assert_int_equal(rot_mbox_inventory_decode(s->payload, s->h.payload_len, &inv),
                   ROT_OK);
  int seen = 0;
  for (uint32_t i = 0; i < inv.count; i++) {
    if (inv.entries[i].region == ROT_RGN_HYPERVISOR_B) {
      assert_int_equal(inv.entries[i].status, ROT_OK);
      assert_int_equal(inv.entries[i].info.svn, 2);
      seen = 1;
    }
  }
  assert_true(seen);
  /* A new floor changes every verdict: all recomputed. */
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_ACTIVATE, HV), ROT_OK);
  assert_int_equal(call_confirm(s, &kOperator, HV, ROT_CONFIRM_WITHOUT_TRIAL), ROT_OK);
  assert_int_equal(srv_call(s, &kReader, ROT_MBOX_CMD_INVENTORY, NULL, 0), ROT_OK);
  assert_int_equal(s->server.verifications, first + 1u + first);
}

/* ---- sessions and connections --------------------------------------------------------- */

static void server_test_session_belongs_to_its_connection(void **state) {
  srv_t *s = *state;
  assert_int_equal(call_begin(s, &kOperator, HV, 4096), ROT_OK);
  assert_int_equal(rot_server_session_owner(&s->server), kOperator.conn);
  uint8_t data[16] = {0};
  assert_int_equal(call_chunk(s, &kOperator2, 0, data, sizeof(data)),
                   ROT_ERROR_UPDATE_BUSY);
  assert_int_equal(srv_call(s, &kOperator2, ROT_MBOX_CMD_UPDATE_ABORT, NULL, 0),
                   ROT_ERROR_UPDATE_BUSY);
  rot_server_disconnect(&s->server, kOperator2.conn); /* not the owner */
  assert_int_equal(s->f->up.session.open, HARDENED_TRUE);
  rot_server_disconnect(&s->server, kOperator.conn);
  assert_int_equal(s->f->up.session.open, HARDENED_FALSE);
  assert_int_equal(rot_server_session_owner(&s->server), 0);
}

static void server_test_tick_expires_idle_session(void **state) {
  srv_t *s = *state;
  assert_int_equal(call_begin(s, &kOperator, HV, 4096), ROT_OK);
  g_now += 30;
  assert_int_equal(rot_server_tick(&s->server), 0);
  g_now += 1;
  assert_int_equal(rot_server_tick(&s->server), 1);
  assert_int_equal(rot_server_session_owner(&s->server), 0);
}

/* An authorised user holding idle connections cannot lock everyone out:
 * a per-uid limit, and the last slot kept for the boot path. */
static void server_test_admit_limits(void **state) {
  srv_t *s = *state;
  assert_int_equal(rot_server_admit(&s->server, &kOperator, 0, 0), ROT_OK);
  assert_int_equal(rot_server_admit(&s->server, &kOperator, 2, ROT_SERVER_MAX_PER_UID - 1u),
                   ROT_OK);
  assert_int_equal(rot_server_admit(&s->server, &kOperator, 3, ROT_SERVER_MAX_PER_UID),
                   ROT_ERROR_MAILBOX_BUSY);
  /* Seven of eight taken by others: only the boot path gets the last. */
  assert_int_equal(rot_server_admit(&s->server, &kReader, ROT_SERVER_MAX_CONNS - 1u, 0),
                   ROT_ERROR_MAILBOX_BUSY);
  assert_int_equal(rot_server_admit(&s->server, &kBootPath, ROT_SERVER_MAX_CONNS - 1u, 0),
                   ROT_OK);
  assert_int_equal(rot_server_admit(&s->server, &kBootPath, ROT_SERVER_MAX_CONNS, 0),
                   ROT_ERROR_MAILBOX_BUSY);
  assert_int_equal(rot_server_admit(NULL, &kBootPath, 0, 0), ROT_ERROR_INVALID_ARGUMENT);
}

static void server_test_lock_chip_region_refused(void **state) {
  srv_t *s = *state;
  uint8_t b[4];
  rot_st32(b, ROT_RGN_AUDIT);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_LOCK, b, 4),
                   ROT_ERROR_GATE_NOT_LOCKABLE);
  assert_int_equal(rot_gate_is_locked(&s->f->gate, ROT_RGN_AUDIT), HARDENED_FALSE);
}

/* RESET: what a chip reset means, on an operator's request. */
static void server_test_reset_clears_locks_and_decisions(void **state) {
  srv_t *s = *state;
  install_and_trial(s, 1, 2);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  assert_int_equal(rot_gate_is_locked(&s->f->gate, ROT_RGN_HYPERVISOR_A), HARDENED_TRUE);
  assert_int_equal(srv_call(s, &kBootPath, ROT_MBOX_CMD_RESET, NULL, 0),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_RESET, NULL, 0), ROT_OK);
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    assert_int_equal(rot_gate_is_locked(&s->f->gate, r), HARDENED_FALSE);
  }
  assert_int_equal(s->server.boot[HV].taken, HARDENED_FALSE);
  /* The trial continues where the state says: one attempt spent. */
  assert_int_equal(s->f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS - 1u);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  assert_int_equal(s->f->up.state.types[HV].attempts_left, ROT_TRIAL_ATTEMPTS - 2u);
  /* An open session does not survive a reset. */
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_RESET, NULL, 0), ROT_OK);
  /* Nor does a trial boot: confirm waits for the trial to boot again. */
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_CONFIRM, HV),
                   ROT_ERROR_UPDATE_NOT_TRIED);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_CONFIRM, HV), ROT_OK);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_RESET, NULL, 0), ROT_OK);
  assert_int_equal(call_begin(s, &kOperator, HV, 4096), ROT_OK);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_RESET, NULL, 0), ROT_OK);
  assert_int_equal(s->f->up.session.open, HARDENED_FALSE);
  assert_int_equal(rot_audit_verify(&s->audit, NULL, NULL, &(rot_audit_report_t){0}),
                   ROT_OK);
}

/* ---- CONFIRM: only after a trial boot, unless overridden (audited) ----------------- */

static void server_test_confirm_needs_trial_boot(void **state) {
  srv_t *s = *state;
  install_and_trial(s, 1, 2);
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_CONFIRM, HV),
                   ROT_ERROR_UPDATE_NOT_TRIED);
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_CONFIRM, &r));
  assert_int_equal(r.status, ROT_ERROR_UPDATE_NOT_TRIED);
  /* Unknown flags and odd lengths are malformed, not ignored. */
  assert_int_equal(call_confirm(s, &kOperator, HV, 0x80u), ROT_ERROR_MAILBOX_BAD_ARGS);
  uint8_t six[6] = {3, 0, 0, 0, 0, 0};
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_CONFIRM, six, sizeof(six)),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  assert_int_equal(call_confirm(s, &kOperator, HV, 0), ROT_OK);
  assert_false(srv_last_record(s, ROT_AUDIT_CONFIRM_UNTRIED, &r));
}

static void server_test_confirm_without_trial_is_audited(void **state) {
  srv_t *s = *state;
  install_and_trial(s, 1, 3);
  assert_int_equal(call_confirm(s, &kOperator, HV, ROT_CONFIRM_WITHOUT_TRIAL), ROT_OK);
  rot_mbox_type_state_t st;
  assert_int_equal(rot_mbox_type_state_decode(s->payload, s->h.payload_len, &st),
                   ROT_OK);
  assert_int_equal(st.svn_floor, 3);
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_CONFIRM_UNTRIED, &r));
  assert_int_equal(r.status, ROT_OK);
  assert_int_equal(r.arg0, HV);
  assert_int_equal(r.arg1, 3);
}

/* The audit record of a refused image names the SVN it was signed with. */
static void server_test_finish_refusal_records_svn(void **state) {
  srv_t *s = *state;
  install(s->f, 5);
  size_t len;
  uint8_t *img = make_image(HV, 4, &len);
  assert_int_equal(mbox_update(s, &kOperator, HV, img, len),
                   ROT_ERROR_POLICY_SVN_BELOW_FLOOR);
  free(img);
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_UPDATE_FINISH, &r));
  assert_int_equal(r.status, ROT_ERROR_POLICY_SVN_BELOW_FLOOR);
  assert_int_equal(r.arg0, HV);
  assert_int_equal(r.arg1, 4);
}

/* ---- LIFECYCLE: one-way, confirmed, audited --------------------------------------- */

static uint32_t lifecycle_of(srv_t *s) {
  rot_policy_t p;
  assert_int_equal(rot_otp_policy(&s->f->otp_port, &p), ROT_OK);
  return p.lifecycle;
}

static void server_test_lifecycle_needs_confirmation(void **state) {
  srv_t *s = *state;
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_DEV, ROT_LIFECYCLE_PROD, 0),
                   ROT_ERROR_POLICY_NOT_CONFIRMED);
  assert_int_equal(lifecycle_of(s), ROT_LIFECYCLE_DEV);
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_LIFECYCLE, &r));
  assert_int_equal(r.status, ROT_ERROR_POLICY_NOT_CONFIRMED);
  assert_false(srv_last_record(s, ROT_AUDIT_LIFECYCLE_REQUEST, &r));
  /* Operators only. */
  assert_int_equal(call_lifecycle(s, &kBootPath, ROT_LIFECYCLE_DEV, ROT_LIFECYCLE_PROD,
                                  ROT_MBOX_LIFECYCLE_CONFIRM),
                   ROT_ERROR_MAILBOX_UNAUTHORIZED);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_LIFECYCLE, NULL, 0),
                   ROT_ERROR_MAILBOX_BAD_ARGS);
  assert_int_equal(lifecycle_of(s), ROT_LIFECYCLE_DEV);
}

static void server_test_lifecycle_one_way(void **state) {
  srv_t *s = *state;
  const uint32_t C = ROT_MBOX_LIFECYCLE_CONFIRM;
  /* From production on a chip without RoT firmware serves recovery
   * commands only: boot one first, as a production chip does. */
  install_type(s->f, ROT_IMAGE_TYPE_ROT, 1);
  srv_reset(s);
  /* No skipping, no going back, no starting from a state it is not in. */
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_DEV,
                                  ROT_LIFECYCLE_DECOMMISSIONED, C),
                   ROT_ERROR_POLICY_LIFECYCLE_STEP);
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_PROD,
                                  ROT_LIFECYCLE_DECOMMISSIONED, C),
                   ROT_ERROR_POLICY_LIFECYCLE_FROM);
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_DEV, ROT_LIFECYCLE_PROD, C),
                   ROT_OK);
  uint32_t lc = 0;
  assert_int_equal(rot_mbox_lifecycle_resp_decode(s->payload, s->h.payload_len, &lc),
                   ROT_OK);
  assert_int_equal(lc, ROT_LIFECYCLE_PROD);
  assert_int_equal(lifecycle_of(s), ROT_LIFECYCLE_PROD);
  rot_audit_record_t r;
  assert_true(srv_last_record(s, ROT_AUDIT_LIFECYCLE_REQUEST, &r));
  assert_int_equal(r.arg0, ROT_LIFECYCLE_DEV);
  assert_int_equal(r.arg1, ROT_LIFECYCLE_PROD);
  assert_true(srv_last_record(s, ROT_AUDIT_LIFECYCLE, &r));
  assert_int_equal(r.status, ROT_OK);
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_PROD, ROT_LIFECYCLE_DEV, C),
                   ROT_ERROR_POLICY_LIFECYCLE_STEP);
  /* Repeating a transition that landed is not an error: a retry after a cut. */
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_DEV, ROT_LIFECYCLE_PROD, C),
                   ROT_OK);
  assert_int_equal(lifecycle_of(s), ROT_LIFECYCLE_PROD);
  assert_int_equal(rot_audit_verify(&s->audit, NULL, NULL, &(rot_audit_report_t){0}),
                   ROT_OK);
}

/* Decommissioned: only the recovery image boots, the engine is sealed,
 * nothing goes back. */
static void server_test_lifecycle_decommissioned_boots_recovery(void **state) {
  srv_t *s = *state;
  const uint32_t C = ROT_MBOX_LIFECYCLE_CONFIRM;
  /* From production on a chip without RoT firmware serves recovery
   * commands only: boot one first, as a production chip does. */
  install_type(s->f, ROT_IMAGE_TYPE_ROT, 1);
  srv_reset(s);
  install_type(s->f, ROT_IMAGE_TYPE_RECOVERY, 1);
  install_and_trial(s, 1, 2);
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_DEV, ROT_LIFECYCLE_PROD, C),
                   ROT_OK);
  /* Not under an open update session. */
  assert_int_equal(call_begin(s, &kOperator, ROT_IMAGE_TYPE_RECOVERY, 4096), ROT_OK);
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_PROD,
                                  ROT_LIFECYCLE_DECOMMISSIONED, C),
                   ROT_ERROR_UPDATE_BUSY);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_UPDATE_ABORT, NULL, 0), ROT_OK);
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_PROD,
                                  ROT_LIFECYCLE_DECOMMISSIONED, C),
                   ROT_OK);
  assert_int_equal(lifecycle_of(s), ROT_LIFECYCLE_DECOMMISSIONED);
  assert_int_equal(s->f->up.sealed, HARDENED_TRUE);
  assert_int_equal(srv_call_type(s, &kBootPath, ROT_MBOX_CMD_BOOT, HV), ROT_OK);
  rot_mbox_boot_resp_t b;
  assert_int_equal(rot_mbox_boot_resp_decode(s->payload, s->h.payload_len, &b), ROT_OK);
  assert_int_equal(b.reason, ROT_BOOT_RECOVERY);
  assert_int_equal(b.info.image_type, ROT_IMAGE_TYPE_RECOVERY);
  assert_int_equal(srv_call(s, &kOperator, ROT_MBOX_CMD_RESET, NULL, 0), ROT_OK);
  assert_int_equal(call_begin(s, &kOperator, HV, 4096), ROT_ERROR_UPDATE_SEALED);
  assert_int_equal(srv_call_type(s, &kOperator, ROT_MBOX_CMD_ACTIVATE, HV),
                   ROT_ERROR_UPDATE_NOT_STAGED);
  assert_int_equal(call_lifecycle(s, &kOperator, ROT_LIFECYCLE_DECOMMISSIONED,
                                  ROT_LIFECYCLE_PROD, C),
                   ROT_ERROR_POLICY_LIFECYCLE_STEP);
  uint8_t uds[ROT_OTP_UDS_LEN];
  assert_int_equal(rot_otp_read_uds(&s->f->otp_port, uds), ROT_ERROR_OTP_SECRET_LOCKED);
  assert_int_equal(rot_audit_verify(&s->audit, NULL, NULL, &(rot_audit_report_t){0}),
                   ROT_OK);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, srv_setup, srv_teardown)
  const struct CMUnitTest tests[] = {
      T(server_test_handle_roles_per_command),
      T(server_test_handle_refusal_recorded),
      T(server_test_handle_second_check_stops_glitch),
      T(server_test_handle_junk_gets_a_reply),
      T(server_test_boot_once_per_reset),
      T(server_test_boot_locks_before_handing_out),
      T(server_test_boot_one_record_names_its_locks),
      T(server_test_boot_refused_during_session),
      T(server_test_inventory_verdicts_cached),
      T(server_test_session_belongs_to_its_connection),
      T(server_test_tick_expires_idle_session),
      T(server_test_admit_limits),
      T(server_test_lock_chip_region_refused),
      T(server_test_reset_clears_locks_and_decisions),
      T(server_test_confirm_needs_trial_boot),
      T(server_test_confirm_without_trial_is_audited),
      T(server_test_finish_refusal_records_svn),
      T(server_test_lifecycle_needs_confirmation),
      T(server_test_lifecycle_one_way),
      T(server_test_lifecycle_decommissioned_boots_recovery),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
