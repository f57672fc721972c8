/*
 * Mailbox client (host side): one connection to rotd's SOCK_SEQPACKET
 * socket, one request at a time, each answered by the reply that carries
 * its sequence number. Used by rotctl and, later, the boot chain.
 */
#ifndef ROT_HOST_MBOX_CLIENT_H
#define ROT_HOST_MBOX_CLIENT_H

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
  uint8_t *tx;   /* ROT_MBOX_MAX_FRAME bytes */
  uint8_t *rx;   /* ROT_MBOX_MAX_FRAME bytes */
} rot_mbox_client_t;

/**
 * Connect to the daemon at path. timeout_ms bounds every later call
 * (0: ROT_MBOX_CLIENT_TIMEOUT_MS).
 * Errors: INVALID_ARGUMENT (path too long for a socket address),
 * MAILBOX_CONNECT (nothing listens there; sys_errno says why).
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_client_connect(rot_mbox_client_t *c,
                                                    const char *path,
                                                    int timeout_ms);

/* Where rotd listens unless told otherwise: $ROT_SOCKET, else this. */
#define ROT_MBOX_DEFAULT_SOCKET "run/rotd.sock"

/** $ROT_SOCKET when set and not empty, else ROT_MBOX_DEFAULT_SOCKET. */
const char *rot_mbox_default_socket(void);

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

#endif /* ROT_HOST_MBOX_CLIENT_H */
