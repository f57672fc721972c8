/*
 * The agent's one connection to the security chip (rotd), shared by every
 * request thread. Calls are serialised (the mailbox is one request at a
 * time); a connection that rotd closed (idle, restart) is reopened on the
 * next call, so the agent recovers by itself when rotd comes back.
 *
 * The update session of rotd belongs to the connection that began it, so
 * an update holds the link for its whole length (ha_rot_session_*) and
 * never reconnects in the middle: a lost connection fails the update.
 */
#ifndef HOST_AGENT_ROTLINK_H
#define HOST_AGENT_ROTLINK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"
#include "rot_client/mbox_client.h"

typedef struct ha_rot {
  pthread_mutex_t lock;
  rot_mbox_client_t client;
  int connected;
  char socket[ROT_MBOX_SOCKET_PATH_MAX];
  int timeout_ms;
  /* The one update allowed at a time: 0 free, 1 taken (under lock). */
  int update_busy;
  /* Last transport verdict, for /healthz (under lock). */
  rot_error_t last_transport;
} ha_rot_t;

/** Remember where rotd listens; nothing is connected yet. */
ROT_WARN_UNUSED rot_error_t ha_rot_init(ha_rot_t *r, const char *socket_path,
                                        int timeout_ms);

/** Close the connection (rotd sees an orderly close). */
void ha_rot_close(ha_rot_t *r);

/**
 * One request. A transport failure (nothing listening, connection closed)
 * closes the connection and retries once on a fresh one when retry is 1
 * (for requests that change nothing). The reply payload is copied into
 * out (cap bytes; *out_len set). Returns the transport verdict; *status
 * is rotd's. A reply longer than cap is BUFFER_TOO_SMALL.
 */
ROT_WARN_UNUSED rot_error_t ha_rot_call(ha_rot_t *r, uint16_t cmd,
                                        const uint8_t *req, uint32_t req_len,
                                        int retry, rot_error_t *status,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len);

/** 1 when err is a transport failure (rotd down or gone): answer 503. */
int ha_rot_is_transport(rot_error_t err);

/** Take the update slot: 1 when taken, 0 when another update holds it. */
int ha_rot_update_claim(ha_rot_t *r);

/** Give the update slot back. */
void ha_rot_update_release(ha_rot_t *r);

/** 1 when the last exchange with rotd worked (or a fresh probe does). */
int ha_rot_probe(ha_rot_t *r);

#endif /* HOST_AGENT_ROTLINK_H */
