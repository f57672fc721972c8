/* Mailbox client over a Unix SOCK_SEQPACKET socket. */
#define _GNU_SOURCE
#include "rot_client/mbox_client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rot/hardened.h"
#include "rot_client/parse.h"
#include "rot_client/mbox_replies.h"

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) ==
                   ROT_MBOX_SOCKET_PATH_MAX,
               "ROT_MBOX_SOCKET_PATH_MAX is the size of sun_path");

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* $ROT_DAEMON_UID: unset or empty is none; anything but a uid is refused. */
static rot_error_t daemon_uid_from_env(uint32_t *uid) {
  const char *env = getenv(ROT_MBOX_DAEMON_UID_ENV);
  uint64_t v = 0;
  *uid = ROT_MBOX_UID_UNKNOWN;
  if (env == NULL || env[0] == '\0') {
    return ROT_OK;
  }
  /* (uid_t)-1 means "no user" to the kernel: never a daemon's uid. */
  ROT_TRY(rot_parse_uint(env, ROT_PARSE_DEC, ROT_MBOX_UID_UNKNOWN - 1u, &v));
  *uid = (uint32_t)v;
  return ROT_OK;
}

/* A security decision: the socket is served by someone we trust. */
static hardened_bool_t daemon_trusted(uint32_t peer, uint32_t expected) {
  uint32_t self = (uint32_t)geteuid();
  if (peer == 0u || peer == self ||
      (expected != ROT_MBOX_UID_UNKNOWN && peer == expected)) {
    return HARDENED_TRUE;
  }
  return HARDENED_FALSE;
}

/* Read the listener's credentials and keep only a trusted one. */
static rot_error_t check_daemon(rot_mbox_client_t *c, int fd) {
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      len != sizeof(cred)) {
    c->sys_errno = errno;
    return ROT_ERROR_MAILBOX_CONNECT;
  }
  c->peer_uid = (uint32_t)cred.uid;
  hardened_bool_t ok = daemon_trusted(c->peer_uid, c->expected_uid);
  if (ok != HARDENED_TRUE) {
    c->sys_errno = EACCES;
    return ROT_ERROR_HOST_PEER_UID;
  }
  HARDENED_CHECK_EQ(daemon_trusted(c->peer_uid, c->expected_uid),
                    HARDENED_TRUE);
  return ROT_OK;
}

rot_error_t rot_mbox_client_connect(rot_mbox_client_t *c, const char *path,
                                    int timeout_ms) {
  if (c == NULL || path == NULL || timeout_ms < 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(c, 0, sizeof(*c));
  c->fd = -1;
  c->peer_uid = ROT_MBOX_UID_UNKNOWN;
  ROT_TRY(daemon_uid_from_env(&c->expected_uid));
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof(addr.sun_path)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memcpy(addr.sun_path, path, n);
  c->tx = malloc(ROT_MBOX_MAX_FRAME);
  c->rx = malloc(ROT_MBOX_MAX_FRAME);
  if (c->tx == NULL || c->rx == NULL) {
    rot_mbox_client_close(c);
    return ROT_ERROR_INTERNAL;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    c->sys_errno = errno;
    rot_mbox_client_close(c);
    return ROT_ERROR_MAILBOX_CONNECT;
  }
  if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
    int e = errno;
    close(fd);
    rot_mbox_client_close(c);
    c->sys_errno = e;
    return ROT_ERROR_MAILBOX_CONNECT;
  }
  rot_error_t err = check_daemon(c, fd);
  if (err != ROT_OK) {
    int e = c->sys_errno;
    close(fd);
    rot_mbox_client_close(c);
    c->sys_errno = e;
    return err;
  }
  c->fd = fd;
  c->timeout_ms = timeout_ms == 0 ? ROT_MBOX_CLIENT_TIMEOUT_MS : timeout_ms;
  /* Any start works; a fresh one per connection keeps stale replies of
   * an earlier connection from ever matching. */
  c->next_seq = (uint32_t)now_ms() | 1u;
  return ROT_OK;
}

void rot_mbox_client_close(rot_mbox_client_t *c) {
  if (c == NULL) {
    return;
  }
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  free(c->tx);
  free(c->rx);
  c->tx = NULL;
  c->rx = NULL;
}

uint8_t *rot_mbox_client_payload(rot_mbox_client_t *c) {
  return c == NULL || c->tx == NULL ? NULL : c->tx + ROT_MBOX_HEADER_SIZE;
}

/* Receive one frame before the deadline; *len is its true size. */
static rot_error_t recv_frame(rot_mbox_client_t *c, int64_t deadline,
                              size_t *len) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      return ROT_ERROR_MAILBOX_TIMEOUT;
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      c->sys_errno = errno;
      return ROT_ERROR_IO_READ;
    }
    if (r == 0) {
      continue; /* the deadline check decides */
    }
    /* MSG_TRUNC: the true length of an oversized frame, not the cut one. */
    ssize_t n = recv(c->fd, c->rx, ROT_MBOX_MAX_FRAME, MSG_TRUNC);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      c->sys_errno = errno;
      return errno == ECONNRESET ? ROT_ERROR_MAILBOX_CLOSED : ROT_ERROR_IO_READ;
    }
    if (n == 0) {
      return ROT_ERROR_MAILBOX_CLOSED;
    }
    if ((size_t)n > ROT_MBOX_MAX_FRAME) {
      return ROT_ERROR_MAILBOX_TOO_LARGE;
    }
    *len = (size_t)n;
    return ROT_OK;
  }
}

rot_error_t rot_mbox_send(rot_mbox_client_t *c, uint16_t command,
                          const uint8_t *req, uint32_t req_len, uint32_t *seq) {
  if (c == NULL || c->fd < 0 || seq == NULL || (req == NULL && req_len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *seq = c->next_seq++;
  size_t frame_len = 0;
  ROT_TRY(rot_mbox_frame_encode(c->tx, ROT_MBOX_MAX_FRAME, command, 0, *seq, 0,
                                req, req_len, &frame_len));
  for (;;) {
    ssize_t n = send(c->fd, c->tx, frame_len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      c->sys_errno = errno;
      return errno == EPIPE || errno == ECONNRESET ? ROT_ERROR_MAILBOX_CLOSED
                                                   : ROT_ERROR_IO_WRITE;
    }
    if ((size_t)n != frame_len) {
      return ROT_ERROR_IO_WRITE;
    }
    return ROT_OK;
  }
}

rot_error_t rot_mbox_receive(rot_mbox_client_t *c, uint16_t command,
                             uint32_t seq, rot_error_t *status,
                             const uint8_t **reply, uint32_t *reply_len) {
  if (c == NULL || c->fd < 0 || status == NULL || reply == NULL ||
      reply_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *status = ROT_ERROR_INTERNAL;
  *reply = NULL;
  *reply_len = 0;
  int64_t deadline = now_ms() + c->timeout_ms;
  for (;;) {
    size_t len = 0;
    ROT_TRY(recv_frame(c, deadline, &len));
    rot_mbox_header_t h;
    const uint8_t *payload = NULL;
    ROT_TRY(rot_mbox_frame_decode(c->rx, len, &h, &payload));
    if ((h.flags & ROT_MBOX_FLAG_RESPONSE) != 0 && h.seq != seq) {
      continue; /* the late reply to a request given up on (timed out, or
                   in flight when an earlier one failed) */
    }
    ROT_TRY(rot_mbox_reply_check(&h, command, seq));
    *status = (rot_error_t)h.status;
    if (h.status == (uint32_t)ROT_OK) {
      *reply = payload;
      *reply_len = h.payload_len;
    }
    return ROT_OK;
  }
}

rot_error_t rot_mbox_socket_absolute(const char *path, char *out, size_t cap) {
  if (path == NULL || path[0] == '\0' || out == NULL || cap == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t limit = cap < ROT_MBOX_SOCKET_PATH_MAX ? cap : ROT_MBOX_SOCKET_PATH_MAX;
  int n;
  if (path[0] == '/') {
    n = snprintf(out, limit, "%s", path);
  } else {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL || cwd[0] != '/') {
      return ROT_ERROR_IO_OPEN;
    }
    n = snprintf(out, limit, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/",
                 path);
  }
  if (n < 0 || (size_t)n >= limit) {
    out[0] = '\0';
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return ROT_OK;
}

const char *rot_mbox_connect_advice(char *buf, size_t cap, const char *path,
                                    int sys_errno) {
  if (buf == NULL || cap == 0) {
    return buf;
  }
  char abs[PATH_MAX];
  if (path == NULL || rot_mbox_socket_absolute(path, abs, sizeof(abs)) != ROT_OK) {
    snprintf(abs, sizeof(abs), "%s", path != NULL ? path : "(none)");
  }
  snprintf(buf, cap,
           "no rotd answers at %s (%s): start rotd there (rotd --flash FILE "
           "--otp FILE --socket %s --daemon), or name its socket with "
           "--socket PATH or ROT_SOCKET",
           abs, sys_errno != 0 ? strerror(sys_errno) : "cannot connect", abs);
  return buf;
}

const char *rot_mbox_default_socket(void) {
  /* Resolved once: a chdir or setenv later cannot move the daemon. */
  static char resolved[PATH_MAX];
  if (resolved[0] == '\0') {
    const char *env = getenv("ROT_SOCKET");
    const char *path =
        env != NULL && env[0] != '\0' ? env : ROT_MBOX_DEFAULT_SOCKET;
    if (rot_mbox_socket_absolute(path, resolved, sizeof(resolved)) != ROT_OK) {
      snprintf(resolved, sizeof(resolved), "%s", path);
    }
  }
  return resolved;
}

rot_error_t rot_mbox_call(rot_mbox_client_t *c, uint16_t command,
                          const uint8_t *req, uint32_t req_len,
                          rot_error_t *status, const uint8_t **reply,
                          uint32_t *reply_len) {
  if (status == NULL || reply == NULL || reply_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *status = ROT_ERROR_INTERNAL;
  *reply = NULL;
  *reply_len = 0;
  uint32_t seq = 0;
  ROT_TRY(rot_mbox_send(c, command, req, req_len, &seq));
  return rot_mbox_receive(c, command, seq, status, reply, reply_len);
}
