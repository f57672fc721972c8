/* The mailbox server fixture (server_fixture.h). */
#include "server_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rot/util.h"
#include "rot_host/cert_mbedtls.h"
#include "test_keys.h"

const rot_peer_t kOperator = {1, 1000, 11, ROT_ROLE_READER | ROT_ROLE_OPERATOR};
const rot_peer_t kOperator2 = {2, 1001, 12, ROT_ROLE_READER | ROT_ROLE_OPERATOR};
const rot_peer_t kBootPath = {3, 1002, 13, ROT_ROLE_READER | ROT_ROLE_BOOT};
const rot_peer_t kReader = {4, 1003, 14, ROT_ROLE_READER};
const rot_peer_t kNobody = {5, 1004, 15, 0};

static uint64_t audit_now(void) { return 1; }

void srv_reset(srv_t *s) {
  reboot(s->f);
  assert_int_equal(rot_audit_init(&s->audit, &s->f->gate, test_crypto(), audit_now),
                   ROT_OK);
  s->f->up.audit = &s->audit;
  /* As rotd wires it: every gate event goes to the audit log. */
  s->f->gate.on_event = rot_audit_gate_hook;
  s->f->gate.event_ctx = &s->audit;
  assert_int_equal(rot_server_init(&s->server, &s->f->gate, &s->f->up, &s->audit,
                                   &s->f->otp_port, test_crypto(), 30),
                   ROT_OK);
  rot_server_set_cert(&s->server, rot_host_cert());
}

void srv_install_rot(srv_t *s, uint32_t svn) {
  install_type(s->f, ROT_IMAGE_TYPE_ROT, svn);
  srv_reset(s);
  assert_int_equal(rot_identity_check(&s->server.id), ROT_OK);
}

int srv_setup_bare(void **state) {
  srv_t *s = calloc(1, sizeof(*s));
  assert_non_null(s);
  void *fs = NULL;
  assert_int_equal(setup(&fs), 0);
  s->f = fs;
  srv_reset(s);
  *state = s;
  return 0;
}

int srv_setup(void **state) {
  assert_int_equal(srv_setup_bare(state), 0);
  srv_install_rot(*state, 1);
  return 0;
}

int srv_teardown(void **state) {
  srv_t *s = *state;
  void *fs = s->f;
  teardown(&fs);
  free(s);
  return 0;
}

rot_error_t srv_call(srv_t *s, const rot_peer_t *p, uint16_t cmd,
                     const uint8_t *payload, size_t len) {
  size_t n = 0;
  s->seq++;
  assert_int_equal(rot_mbox_frame_encode(s->req, sizeof(s->req), cmd, 0, s->seq,
                                         0, payload, (uint32_t)len, &n),
                   ROT_OK);
  size_t m = rot_server_handle(&s->server, p, s->req, n, s->rep, sizeof(s->rep));
  assert_true(m >= ROT_MBOX_HEADER_SIZE);
  assert_int_equal(rot_mbox_frame_decode(s->rep, m, &s->h, &s->payload), ROT_OK);
  assert_int_equal(rot_mbox_reply_check(&s->h, cmd, s->seq), ROT_OK);
  return (rot_error_t)s->h.status;
}

rot_error_t srv_call_type(srv_t *s, const rot_peer_t *p, uint16_t cmd,
                          uint32_t type) {
  uint8_t b[4];
  rot_st32(b, type);
  return srv_call(s, p, cmd, b, sizeof(b));
}

/* The last audit record of event (read back with AUDIT_READ), or 0. */
int srv_last_record(srv_t *s, uint32_t event, rot_audit_record_t *out) {
  int found = 0;
  uint8_t b[ROT_MBOX_AUDIT_READ_REQ_SIZE];
  for (uint32_t seq = 1; seq < s->audit.next_seq; seq++) {
    rot_st32(b, seq);
    rot_st32(b + 4, 1);
    if (srv_call(s, &kReader, ROT_MBOX_CMD_AUDIT_READ, b, sizeof(b)) != ROT_OK ||
        s->h.payload_len < 8u + ROT_AUDIT_RECORD_SIZE) {
      continue;
    }
    rot_audit_record_t r;
    rot_mbox_audit_record_decode(s->payload + 8, &r);
    if (r.event == event) {
      *out = r;
      found = 1;
    }
  }
  return found;
}
