/*
 * rotd's parts: rotd_main.c (arguments, signals, the daemon's life),
 * rotd_transport.c (the socket, peer credentials, the poll loop) and
 * rotd_server.c (the glue to the core's mailbox server: files, roles,
 * frames). Every rule of the chip is in the core (rot/server.h); these
 * files only carry frames to it.
 */
#ifndef ROTD_H
#define ROTD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rot/audit.h"
#include "rot/flash.h"
#include "rot/gate.h"
#include "rot/mailbox.h"
#include "rot/server.h"
#include "rot/update.h"
#include "rot_host/file.h"
#include "rot_host/flash_file.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define MAX_CLIENTS ROT_SERVER_MAX_CONNS
#define MAX_ALLOW 16
#define DEFAULT_IDLE_TIMEOUT ROT_SERVER_SESSION_TIMEOUT

typedef struct client {
  int fd; /* -1: free */
  uint32_t id; /* connection id, never 0, never reused */
  uid_t uid;
  pid_t pid;
  uint32_t roles;     /* ROT_ROLE_*, from the peer's uid at accept */
  rot_error_t refuse; /* ROT_OK, or why the first frame is refused */
  uint64_t last_activity; /* monotonic seconds */
} client_t;

typedef struct rotd {
  const rot_flash_layout_t *layout;
  rot_flash_file_t flash;
  rot_otp_file_t otp;
  rot_gate_t gate;
  rot_audit_t audit;
  rot_update_t update;
  rot_server_t server;
  uint8_t *scratch;
  /* Extra uids per role (root and rotd's own uid hold every role). */
  uid_t allow[3][MAX_ALLOW]; /* operators, boot path, readers */
  size_t n_allow[3];
  uint64_t idle_timeout;
  const char *socket_path;
  int listen_fd;
  client_t clients[MAX_CLIENTS];
  uint32_t next_id;
  uint8_t rx[ROT_MBOX_MAX_FRAME];
  uint8_t tx[ROT_MBOX_MAX_FRAME];
} rotd_t;

/* ---- rotd_server.c: the glue to the core --------------------------------- */

/* Open the OTP and flash files and bring the core up on them; one line on
 * stderr and EXIT_FAIL when anything is missing or wrong. */
int rotd_start_chip(rotd_t *d, const char *flash_path, const char *otp_path);

/* Abandon an open update session and close the files. */
void rotd_stop_chip(rotd_t *d);

int rotd_session_open(const rotd_t *d);

/* The core's verdict on a new connection (sets slot->roles). */
rot_error_t rotd_admit(rotd_t *d, client_t *slot, uint32_t open_total,
                       uint32_t open_same);

/* One frame of c in d->rx, answered (or the client dropped). */
void rotd_serve_frame(rotd_t *d, client_t *c, size_t len);

/* Expire an idle update session (before a round's frames). */
void rotd_expire_session(rotd_t *d);

/* ---- rotd_transport.c: the socket --------------------------------------- */

/* Monotonic seconds: idle timeouts must not jump with the wall clock. */
uint64_t rotd_mono_now(void);

/* Bind d->socket_path, replacing a stale file only when nothing listens. */
int rotd_open_socket(rotd_t *d);

/* Serve until *stop is set by a SIGTERM or SIGINT. */
int rotd_serve(rotd_t *d, volatile sig_atomic_t *stop);

/* Send d->tx[0..n); 0 when it could not be delivered (client dropped). */
int rotd_send_reply(rotd_t *d, client_t *c, size_t n);

void rotd_drop_client(rotd_t *d, client_t *c);

/* Drop every client and remove the socket. */
void rotd_close_socket(rotd_t *d);

#endif /* ROTD_H */
