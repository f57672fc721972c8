/*
 * rotd's transport: a Unix SOCK_SEQPACKET socket (created 0600), the
 * peer's credentials (SO_PEERCRED) taken at accept, and one poll loop
 * that hands each frame to the core through rotd_server.c. Nothing here
 * decides what a frame may do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rot/error.h"
#include "rot_client/names.h"
#include "rotd.h"

uint64_t rotd_mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

void rotd_drop_client(rotd_t *d, client_t *c) {
  if (c->fd < 0) {
    return;
  }
  rot_server_disconnect(&d->server, c->id); /* the core forgets its session claims */
  close(c->fd);
  c->fd = -1;
  c->id = 0;
}

int rotd_send_reply(rotd_t *d, client_t *c, size_t n) {
  if (n == 0) {
    rotd_drop_client(d, c);
    return 0;
  }
  /* Never block the loop on a client that does not read its replies. */
  ssize_t sent = send(c->fd, d->tx, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != (ssize_t)n) {
    rotd_drop_client(d, c);
    return 0;
  }
  return 1;
}

static void accept_client(rotd_t *d) {
  int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    return;
  }
  client_t *slot = NULL;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    if (d->clients[i].fd < 0) {
      slot = &d->clients[i];
      break;
    }
  }
  struct ucred cred;
  socklen_t cl = sizeof(cred);
  if (slot == NULL ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
      cl != sizeof(cred)) {
    close(fd); /* full, or a peer we cannot identify */
    return;
  }
  slot->fd = fd;
  if (++d->next_id == 0) {
    d->next_id = 1; /* 0 means "no owner" */
  }
  slot->id = d->next_id;
  slot->uid = cred.uid;
  slot->pid = cred.pid;
  uint32_t open_total = 0, open_same = 0;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    const client_t *o = &d->clients[i];
    if (o != slot && o->fd >= 0) {
      open_total++;
      open_same += o->uid == cred.uid;
    }
  }
  /* The core decides who may connect. A peer over its limits is closed at
   * once, so refused connections cannot hold slots either; a peer with no
   * role gets one reply saying so (within the same per-uid limit). */
  slot->refuse = rotd_admit(d, slot, open_total, open_same);
  if (slot->refuse == ROT_ERROR_MAILBOX_BUSY ||
      (slot->refuse != ROT_OK && open_same >= ROT_SERVER_MAX_PER_UID)) {
    fprintf(stderr, "rotd: refused peer uid %u pid %d: %s\n",
            (unsigned)cred.uid, (int)cred.pid, rot_error_name(slot->refuse));
    close(fd);
    slot->fd = -1;
    slot->id = 0;
    return;
  }
  slot->last_activity = rotd_mono_now();
}

static void read_client(rotd_t *d, client_t *c, short revents) {
  /* MSG_TRUNC: the true size of an oversized frame, so it is refused as
   * such rather than decoded from its first bytes. */
  ssize_t n = recv(c->fd, d->rx, sizeof(d->rx), MSG_TRUNC | MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      rotd_drop_client(d, c);
    }
    return;
  }
  if (n == 0 && (revents & (POLLHUP | POLLRDHUP)) != 0) {
    rotd_drop_client(d, c); /* orderly close */
    return;
  }
  c->last_activity = rotd_mono_now();
  rotd_serve_frame(d, c, (size_t)n); /* an empty message is a (short) frame */
}

/* Runs after the round, so a client whose frame just arrived is not idle.
 * Quiet connections are closed so they cannot hoard slots; the session
 * owner is spared until the session itself expires. */
static void expire_clients(rotd_t *d) {
  uint64_t now = rotd_mono_now();
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client_t *c = &d->clients[i];
    if (c->fd >= 0 && c->id != rot_server_session_owner(&d->server) &&
        now - c->last_activity > d->idle_timeout) {
      rotd_drop_client(d, c);
    }
  }
}

int rotd_serve(rotd_t *d, volatile sig_atomic_t *stop) {
  sigset_t block, open_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  /* Signals are only taken inside ppoll, so a stop request is never lost
   * between the flag check and the wait. */
  sigprocmask(SIG_BLOCK, &block, &open_mask);
  sigdelset(&open_mask, SIGTERM);
  sigdelset(&open_mask, SIGINT);
  struct pollfd fds[1 + MAX_CLIENTS];
  client_t *owners[1 + MAX_CLIENTS];
  while (!*stop) {
    size_t n = 0;
    fds[n].fd = d->listen_fd;
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    owners[n++] = NULL;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
      if (d->clients[i].fd >= 0) {
        fds[n].fd = d->clients[i].fd;
        fds[n].events = POLLIN | POLLRDHUP;
        fds[n].revents = 0;
        owners[n++] = &d->clients[i];
      }
    }
    /* Wake once a second while anything can expire. */
    struct timespec tick = {1, 0};
    int r = ppoll(fds, n, n > 1 || rotd_session_open(d) ? &tick : NULL, &open_mask);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      fprintf(stderr, "rotd: poll: %s\n", strerror(errno));
      return EXIT_FAIL;
    }
    rotd_expire_session(d);
    for (size_t i = 1; i < n; i++) {
      client_t *c = owners[i];
      if (c->fd != fds[i].fd) {
        continue; /* dropped earlier in this round */
      }
      if ((fds[i].revents & (POLLERR | POLLNVAL)) != 0) {
        rotd_drop_client(d, c);
      } else if ((fds[i].revents & (POLLIN | POLLHUP | POLLRDHUP)) != 0) {
        read_client(d, c, fds[i].revents);
      }
    }
    if ((fds[0].revents & POLLIN) != 0) {
      accept_client(d);
    }
    expire_clients(d);
  }
  return EXIT_OK;
}

int rotd_open_socket(rotd_t *d) {
  const char *path = d->socket_path;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(addr.sun_path)) {
    fprintf(stderr, "rotd: socket %s: path longer than %zu bytes\n", path,
            sizeof(addr.sun_path) - 1);
    return EXIT_FAIL;
  }
  memcpy(addr.sun_path, path, strlen(path));
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      fprintf(stderr, "rotd: socket %s: exists and is not a socket\n", path);
      return EXIT_FAIL;
    }
    int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int live = probe >= 0 &&
               connect(probe, (const struct sockaddr *)&addr, sizeof(addr)) == 0;
    int e = errno;
    if (probe >= 0) {
      close(probe);
    }
    if (live) {
      fprintf(stderr, "rotd: socket %s: another daemon is serving it\n", path);
      return EXIT_FAIL;
    }
    if (e != ECONNREFUSED || unlink(path) != 0) {
      fprintf(stderr, "rotd: socket %s: cannot replace stale socket: %s\n",
              path, strerror(e != ECONNREFUSED ? e : errno));
      return EXIT_FAIL;
    }
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    fprintf(stderr, "rotd: socket: %s\n", strerror(errno));
    return EXIT_FAIL;
  }
  /* Created 0600 from the start: no window where others may connect. */
  mode_t old = umask(0177);
  int rc = bind(fd, (const struct sockaddr *)&addr, sizeof(addr));
  int e = errno;
  umask(old);
  if (rc != 0 || listen(fd, MAX_CLIENTS) != 0) {
    fprintf(stderr, "rotd: socket %s: %s\n", path, strerror(rc != 0 ? e : errno));
    close(fd);
    return EXIT_FAIL;
  }
  d->listen_fd = fd;
  return EXIT_OK;
}

void rotd_close_socket(rotd_t *d) {
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    rotd_drop_client(d, &d->clients[i]);
  }
  if (d->listen_fd >= 0) {
    close(d->listen_fd);
    unlink(d->socket_path);
    d->listen_fd = -1;
  }
}
