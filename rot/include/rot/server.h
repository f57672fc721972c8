/*
 * The chip's command layer: the mailbox server. Every rule of the chip's
 * interface lives here, in the core, behind a transport that only moves
 * frames (rotd on a host, a mailbox peripheral on a chip):
 *
 *  - who may send what: one authorisation table, a row per command, each
 *    naming the roles (reader, operator, boot path) allowed to send it;
 *  - what BOOT means: the boot decision is taken once per reset and type,
 *    the boot regions are locked inside it before any byte is handed out,
 *    and repeated BOOT requests get the same verdict (no trial attempt is
 *    spent twice);
 *  - when a region locks: at the first BOOT, or on LOCK, image regions
 *    only, until reset;
 *  - how long a session lives: it belongs to the connection that began
 *    it, ends with that connection, and expires when idle;
 *  - how many connections a peer may hold, with a slot kept for the boot
 *    path;
 *  - INVENTORY verdicts are cached per region and recomputed only after a
 *    write to that region (an update session on it) or a change of the
 *    OTP policy.
 *
 * No allocation, no I/O: the transport hands in a frame and the peer's
 * identity, and sends back the reply frame the server writes.
 */
#ifndef ROT_SERVER_H
#define ROT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "rot/audit.h"
#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/gate.h"
#include "rot/hardened.h"
#include "rot/identity.h"
#include "rot/mailbox.h"
#include "rot/otp.h"
#include "rot/update.h"

/* Roles a peer holds (bits); the transport maps its identity to them. */
#define ROT_ROLE_READER 0x1u   /* status, inventory, audit */
#define ROT_ROLE_OPERATOR 0x2u /* updates, activate, confirm, revert, lock */
#define ROT_ROLE_BOOT 0x4u     /* the boot path: boot decisions, image reads */
#define ROT_ROLE_ALL (ROT_ROLE_READER | ROT_ROLE_OPERATOR | ROT_ROLE_BOOT)

/* Connections the transport may hold, and how many one uid may take. The
 * last slot is kept for a peer with the boot role. */
#define ROT_SERVER_MAX_CONNS 8u
#define ROT_SERVER_MAX_PER_UID 3u

/* Default idle time after which an open update session is aborted. */
#define ROT_SERVER_SESSION_TIMEOUT 30u

typedef struct rot_peer {
  uint32_t conn;  /* connection id: never 0, never reused while open */
  uint32_t uid;   /* for the audit log and the per-uid limit */
  uint32_t pid;
  uint32_t roles; /* ROT_ROLE_* */
} rot_peer_t;

/* The boot decision of one type, as taken at the first BOOT of a reset. */
typedef struct rot_server_boot {
  hardened_bool_t taken;
  rot_error_t err;
  rot_boot_decision_t dec;
} rot_server_boot_t;

/* What a verification of one region found, and under which policy. */
typedef struct rot_server_verdict {
  hardened_bool_t valid;
  uint8_t policy_tag[ROT_SHA256_LEN];
  rot_error_t status;
  uint32_t image_len;
  rot_verified_image_t v;
} rot_server_verdict_t;

typedef struct rot_server {
  const rot_flash_layout_t *layout;
  rot_gate_t *gate;
  rot_update_t *update;
  rot_audit_t *audit; /* may be NULL */
  const rot_otp_port_t *otp;
  const rot_crypto_t *crypto;
  const rot_cert_port_t *cert; /* NULL: identity commands unsupported */
  uint64_t session_timeout; /* seconds of the update engine's clock */
  uint32_t session_owner;   /* connection that began the session; 0 none */
  uint32_t verifications; /* full verifications INVENTORY ran (for tests) */
  /* The boot ROM stage's verdict on the RoT firmware and the DICE
   * identity it derived at this reset (rot/identity.h). */
  rot_identity_t id;
  /* The large members last: every scalar above stays within reach of the
   * short (compressed) loads and stores of a chip's instruction set. */
  rot_server_boot_t boot[ROT_IMAGE_TYPE_SLOTS];
  rot_server_verdict_t verdict[ROT_RGN_COUNT];
  rot_mbox_inventory_t inv; /* reply scratch: too large for a stack */
} rot_server_t;

/**
 * Start serving over an initialised gate, update engine and audit log (a
 * reset: no boot decision taken, nothing cached), after the boot ROM stage
 * (rot_identity_boot: the RoT firmware chosen, verified and measured into
 * s->id). session_timeout 0 takes ROT_SERVER_SESSION_TIMEOUT.
 */
ROT_WARN_UNUSED rot_error_t rot_server_init(rot_server_t *s, rot_gate_t *g,
                                            rot_update_t *u, rot_audit_t *a,
                                            const rot_otp_port_t *otp,
                                            const rot_crypto_t *c,
                                            uint64_t session_timeout);

/**
 * Give the server a certificate writer for the identity commands (kept
 * across resets). Without one they answer ROT_ERROR_UNSUPPORTED.
 */
void rot_server_set_cert(rot_server_t *s, const rot_cert_port_t *cert);

/**
 * May this peer hold one more connection? open_total and open_same_uid
 * count the connections already open. ROT_ERROR_MAILBOX_UNAUTHORIZED for
 * a peer with no role (refused and recorded), ROT_ERROR_MAILBOX_BUSY when
 * a limit is reached.
 */
ROT_WARN_UNUSED rot_error_t rot_server_admit(rot_server_t *s,
                                             const rot_peer_t *peer,
                                             uint32_t open_total,
                                             uint32_t open_same_uid);

/**
 * Serve one request frame of len bytes from peer; the reply frame (always
 * one, whatever came in) is written to out (cap >= ROT_MBOX_MAX_FRAME)
 * and its length returned. Returns 0 only when out is too small.
 */
size_t rot_server_handle(rot_server_t *s, const rot_peer_t *peer,
                         const uint8_t *frame, size_t len, uint8_t *out,
                         size_t cap);

/** The connection is gone: abort the update session it owns, if any. */
void rot_server_disconnect(rot_server_t *s, uint32_t conn);

/** Time passes: abort an idle session. 1 when one was aborted. */
int rot_server_tick(rot_server_t *s);

/** The connection owning the open update session, 0 when none. */
uint32_t rot_server_session_owner(const rot_server_t *s);

#endif /* ROT_SERVER_H */
