/*
 * Shared fixture for the mailbox server suites: the real server (the
 * chip's command layer) over the update fixture's gate, engine, OTP and an
 * audit log, frames in and reply frames out, no sockets.
 *
 * A chip without RoT firmware serves recovery commands only, whatever its
 * lifecycle, so srv_setup installs and boots one first (a signed test
 * payload of type rot, svn 1); srv_setup_bare leaves the rot slots empty.
 * Every call checks the reply header (response bit, command, sequence
 * number, an empty payload on refusal) before the test reads the status.
 */
#ifndef TEST_SERVER_FIXTURE_H
#define TEST_SERVER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot/server.h"
#include "update_fixture.h"

typedef struct srv {
  fixture_t *f;
  rot_audit_t audit;
  rot_server_t server;
  uint8_t req[ROT_MBOX_MAX_FRAME];
  uint8_t rep[ROT_MBOX_MAX_FRAME];
  rot_mbox_header_t h;    /* the last reply's header */
  const uint8_t *payload; /* and its payload */
  uint32_t seq;           /* the last request's sequence number */
} srv_t;

/* Peers, one per role mix (conn id, uid, pid, roles). */
extern const rot_peer_t kOperator;  /* reader + operator, uid 1000 */
extern const rot_peer_t kOperator2; /* reader + operator, uid 1001 */
extern const rot_peer_t kBootPath;  /* reader + boot, uid 1002 */
extern const rot_peer_t kReader;    /* reader, uid 1003 */
extern const rot_peer_t kNobody;    /* no role, uid 1004 */

/** cmocka setup: a provisioned dev chip running RoT firmware svn 1. */
int srv_setup(void **state);
/** cmocka setup: the same chip with empty rot slots (recovery only). */
int srv_setup_bare(void **state);
int srv_teardown(void **state);

/** A chip reset: gate, audit log, engine and server start again. */
void srv_reset(srv_t *s);

/** Stage, activate, trial-boot and confirm RoT firmware of svn, then reset. */
void srv_install_rot(srv_t *s, uint32_t svn);

/**
 * Send one request as p; asserts the reply decodes and answers this
 * request (rot_mbox_reply_check). Returns the reply's status; its
 * payload is s->payload / s->h.payload_len.
 */
rot_error_t srv_call(srv_t *s, const rot_peer_t *p, uint16_t cmd,
                     const uint8_t *payload, size_t len);

/** A request whose payload is one image type (ACTIVATE, REVERT, BOOT). */
rot_error_t srv_call_type(srv_t *s, const rot_peer_t *p, uint16_t cmd,
                          uint32_t type);

/**
 * The newest audit record of event, read back through AUDIT_READ (as a
 * reader): 1 and *out, or 0 when the log holds none.
 */
int srv_last_record(srv_t *s, uint32_t event, rot_audit_record_t *out);

#endif
