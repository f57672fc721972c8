/*
 * Mailbox client (host side): one connection to rotd's SOCK_SEQPACKET
 * socket, one request at a time, each answered by the reply that carries
 * its sequence number. Used by rotctl and, later, the boot chain.
 */
#ifndef ROT_CLIENT_MBOX_CLIENT_H
#define ROT_CLIENT_MBOX_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"
#include "rot/mailbox.h"

/* Default wait for a reply; update-finish verifies a whole image. */
#define ROT_MBOX_CLIENT_TIMEOUT_MS 30000

typedef struct rot_mbox_client {
  int fd;
  uint32_t next_seq;
  int timeout_ms;
  int sys_errno; /* errno of the last failed system call, for messages */
  /* The daemon's credentials (SO_PEERCRED) as connect found them, also when
   * it refused them; ROT_MBOX_UID_UNKNOWN before. */
  uint32_t peer_uid;
  uint32_t expected_uid; /* $ROT_DAEMON_UID, or ROT_MBOX_UID_UNKNOWN */
  uint8_t *tx;   /* ROT_MBOX_MAX_FRAME bytes */
  uint8_t *rx;   /* ROT_MBOX_MAX_FRAME bytes */
} rot_mbox_client_t;

#define ROT_MBOX_UID_UNKNOWN 0xffffffffu

/* Names the uid rotd runs as when that is neither root nor the client's. */
#define ROT_MBOX_DAEMON_UID_ENV "ROT_DAEMON_UID"

/**
 * Connect to the daemon at path, then check who serves it: the listening
 * process's uid (SO_PEERCRED) must be 0, the client's effective uid, or
 * the uid $ROT_DAEMON_UID names. Anyone else could be an impostor that
 * bound the name first, so the connection is dropped before a byte is
 * sent. timeout_ms bounds every later call (0: ROT_MBOX_CLIENT_TIMEOUT_MS).
 * Errors: INVALID_ARGUMENT (path too long for a socket address, or
 * $ROT_DAEMON_UID set but not a decimal uid), MAILBOX_CONNECT (nothing
 * listens there; sys_errno says why), HOST_PEER_UID (served by another
 * user; c->peer_uid names it).
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_client_connect(rot_mbox_client_t *c,
                                                    const char *path,
                                                    int timeout_ms);

/* Where rotd listens unless told otherwise: $ROT_SOCKET, else this. */
#define ROT_MBOX_DEFAULT_SOCKET "run/rotd.sock"

/* Room for a socket path and its NUL (the size of sun_path on Linux). */
#define ROT_MBOX_SOCKET_PATH_MAX 108u

/**
 * path made absolute against the current directory, lexically ("." and
 * symbolic links stay as they are), into out (cap bytes), so that a later
 * chdir cannot change which socket it names. An absolute path is copied.
 * Errors: INVALID_ARGUMENT (NULL or empty path; the result does not fit
 * cap or a socket address), IO_OPEN (the current directory is unknown).
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_socket_absolute(const char *path,
                                                     char *out, size_t cap);

/**
 * $ROT_SOCKET when set and not empty, else ROT_MBOX_DEFAULT_SOCKET, made
 * absolute (rot_mbox_socket_absolute) on the first call and kept: later
 * calls return the same path whatever the current directory or
 * environment has become, so call it at start-up. When the absolute form
 * does not fit a socket address (a very deep current directory) or the
 * current directory is unknown, the path is kept as given.
 */
const char *rot_mbox_default_socket(void);

/**
 * What to tell an operator when no rotd answers at path (MAILBOX_CONNECT,
 * sys_errno from the client): one line, no newline, in buf: the absolute
 * path, the OS reason, and the two ways on (start rotd on that socket, or
 * name the right one with --socket or ROT_SOCKET). Returns buf.
 */
const char *rot_mbox_connect_advice(char *buf, size_t cap, const char *path,
                                    int sys_errno);

/** Close the connection (idempotent). */
void rot_mbox_client_close(rot_mbox_client_t *c);

/**
 * Where a caller may build a request payload of up to ROT_MBOX_MAX_PAYLOAD
 * bytes, so rot_mbox_call sends it without a copy.
 */
uint8_t *rot_mbox_client_payload(rot_mbox_client_t *c);

/**
 * Send one request and wait for its reply. The return value is the
 * transport's verdict (MAILBOX_TIMEOUT, MAILBOX_CLOSED, IO_*, or a decode
 * error of a malformed reply); *status is the daemon's answer. When both
 * are ROT_OK, *reply / *reply_len hold the reply payload, valid until the
 * next call. req may be NULL (empty payload) or rot_mbox_client_payload.
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_call(rot_mbox_client_t *c,
                                          uint16_t command, const uint8_t *req,
                                          uint32_t req_len, rot_error_t *status,
                                          const uint8_t **reply,
                                          uint32_t *reply_len);

/**
 * rot_mbox_call in two halves, so a caller can keep several requests in
 * flight on one connection (the chip answers them in order): send returns
 * the request's sequence number in *seq; receive waits for the reply to
 * that sequence number, skipping replies to earlier ones. Same errors as
 * rot_mbox_call. A caller that gives up on requests in flight may send
 * the next request at once: their late replies are skipped.
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_send(rot_mbox_client_t *c,
                                          uint16_t command, const uint8_t *req,
                                          uint32_t req_len, uint32_t *seq);
ROT_WARN_UNUSED rot_error_t rot_mbox_receive(rot_mbox_client_t *c,
                                             uint16_t command, uint32_t seq,
                                             rot_error_t *status,
                                             const uint8_t **reply,
                                             uint32_t *reply_len);

#endif /* ROT_CLIENT_MBOX_CLIENT_H */
