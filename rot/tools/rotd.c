/*
 * rotd: the security chip as a daemon.
 *
 * It holds the flash and OTP files (exclusive locks, mode 0600) and is the
 * only way to reach them: every request arrives as a mailbox frame on a
 * Unix SOCK_SEQPACKET socket (docs/mailbox.md) and is handed, with the
 * peer's roles, to the core's mailbox server (rot/server.h), which holds
 * every rule: who may send what, what BOOT means, when regions lock, how
 * long a session lives. This file is transport, sockets and files only.
 * One thread, one poll loop, a few clients.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include "rot/audit.h"
#include "rot/error.h"
#include "rot/flash.h"
#include "rot/gate.h"
#include "rot/mailbox.h"
#include "rot/otp.h"
#include "rot_host/cert_mbedtls.h"
#include "rot/server.h"
#include "rot/update.h"
#include "rot/util.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"
#include "rot_host/flash_file.h"
#include "rot_host/parse.h"

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

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static uint64_t wall_now(void) { return (uint64_t)time(NULL); }

/* The idle timeout must not jump with the wall clock. */
static uint64_t mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

static int session_open(const rotd_t *d) {
  return d->update.session.open == HARDENED_TRUE;
}

/* The roles a uid holds: the transport's one decision about a peer. */
static uint32_t roles_of(const rotd_t *d, uid_t uid) {
  static const uint32_t kRoles[3] = {ROT_ROLE_READER | ROT_ROLE_OPERATOR,
                                     ROT_ROLE_READER | ROT_ROLE_BOOT,
                                     ROT_ROLE_READER};
  if (uid == 0 || uid == geteuid()) {
    return ROT_ROLE_ALL;
  }
  uint32_t roles = 0;
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < d->n_allow[k]; i++) {
      if (d->allow[k][i] == uid) {
        roles |= kRoles[k];
      }
    }
  }
  return roles;
}

/* ---- connections ---------------------------------------------------------- */

static void drop_client(rotd_t *d, client_t *c) {
  if (c->fd < 0) {
    return;
  }
  rot_server_disconnect(&d->server, c->id);
  close(c->fd);
  c->fd = -1;
  c->id = 0;
}

/* Returns 0 when the reply could not be delivered (client dropped). */
static int send_reply(rotd_t *d, client_t *c, size_t n) {
  if (n == 0) {
    drop_client(d, c);
    return 0;
  }
  /* Never block the loop on a client that does not read its replies. */
  ssize_t sent = send(c->fd, d->tx, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != (ssize_t)n) {
    drop_client(d, c);
    return 0;
  }
  return 1;
}

static void serve_frame(rotd_t *d, client_t *c, size_t len) {
  if (c->refuse != ROT_OK) {
    /* Refused at the door (no role, or over a limit): one reply that
     * says why, then the connection goes. */
    uint16_t cmd = 0;
    uint32_t seq = 0;
    rot_mbox_peek(d->rx, len, &cmd, &seq);
    fprintf(stderr, "rotd: refused peer uid %u pid %d: %s\n", (unsigned)c->uid,
            (int)c->pid, rot_error_name(c->refuse));
    size_t n = 0;
    if (rot_mbox_frame_encode(d->tx, sizeof(d->tx), cmd, ROT_MBOX_FLAG_RESPONSE,
                              seq, (uint32_t)c->refuse, NULL, 0, &n) == ROT_OK &&
        send_reply(d, c, n)) {
      drop_client(d, c);
    }
    return;
  }
  rot_peer_t peer = {c->id, (uint32_t)c->uid, (uint32_t)c->pid, c->roles};
  send_reply(d, c,
             rot_server_handle(&d->server, &peer, d->rx, len, d->tx,
                               sizeof(d->tx)));
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
  slot->roles = roles_of(d, cred.uid);
  uint32_t open_total = 0, open_same = 0;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    const client_t *o = &d->clients[i];
    if (o != slot && o->fd >= 0) {
      open_total++;
      open_same += o->uid == cred.uid;
    }
  }
  rot_peer_t peer = {slot->id, (uint32_t)cred.uid, (uint32_t)cred.pid,
                     slot->roles};
  /* The core decides who may connect. A peer over its limits is closed at
   * once, so refused connections cannot hold slots either; a peer with no
   * role gets one reply saying so (within the same per-uid limit). */
  slot->refuse = rot_server_admit(&d->server, &peer, open_total, open_same);
  if (slot->refuse == ROT_ERROR_MAILBOX_BUSY ||
      (slot->refuse != ROT_OK && open_same >= ROT_SERVER_MAX_PER_UID)) {
    fprintf(stderr, "rotd: refused peer uid %u pid %d: %s\n",
            (unsigned)cred.uid, (int)cred.pid, rot_error_name(slot->refuse));
    close(fd);
    slot->fd = -1;
    slot->id = 0;
    return;
  }
  slot->last_activity = mono_now();
}

static void read_client(rotd_t *d, client_t *c, short revents) {
  /* MSG_TRUNC: the true size of an oversized frame, so it is refused as
   * such rather than decoded from its first bytes. */
  ssize_t n = recv(c->fd, d->rx, sizeof(d->rx), MSG_TRUNC | MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      drop_client(d, c);
    }
    return;
  }
  if (n == 0 && (revents & (POLLHUP | POLLRDHUP)) != 0) {
    drop_client(d, c); /* orderly close */
    return;
  }
  c->last_activity = mono_now();
  serve_frame(d, c, (size_t)n); /* an empty message is a (short) frame */
}

/* Runs before any frame of a round is served, so a chunk that arrives
 * after the deadline finds the session gone whatever the tick. */
static void expire_session(rotd_t *d) {
  if (rot_server_tick(&d->server)) {
    fprintf(stderr, "rotd: update session idle for more than %" PRIu64
                    " s: aborted\n", d->idle_timeout);
  }
}

/* Runs after the round, so a client whose frame just arrived is not idle.
 * Quiet connections are closed so they cannot hoard slots; the session
 * owner is spared until the session itself expires. */
static void expire_clients(rotd_t *d) {
  uint64_t now = mono_now();
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client_t *c = &d->clients[i];
    if (c->fd >= 0 && c->id != rot_server_session_owner(&d->server) &&
        now - c->last_activity > d->idle_timeout) {
      drop_client(d, c);
    }
  }
}

static int serve(rotd_t *d) {
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
  while (!g_stop) {
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
    int r = ppoll(fds, n, n > 1 || session_open(d) ? &tick : NULL, &open_mask);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      fprintf(stderr, "rotd: poll: %s\n", strerror(errno));
      return EXIT_FAIL;
    }
    expire_session(d);
    for (size_t i = 1; i < n; i++) {
      client_t *c = owners[i];
      if (c->fd != fds[i].fd) {
        continue; /* dropped earlier in this round */
      }
      if ((fds[i].revents & (POLLERR | POLLNVAL)) != 0) {
        drop_client(d, c);
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

/* ---- start-up ----------------------------------------------------------------- */

static int fail_start(const char *what, const char *obj, rot_error_t err,
                      const char *hint) {
  fprintf(stderr, "rotd: %s %s: %s (%s)%s%s\n", what, obj, rot_error_str(err),
          rot_error_name(err), hint != NULL ? "; " : "",
          hint != NULL ? hint : "");
  return EXIT_FAIL;
}

/* A device file open to others: say so and how to fix it; never fix it. */
static int fail_private(const char *what, const char *path, unsigned mode) {
  char advice[4400];
  fprintf(stderr, "rotd: %s %s: %s (%s)\n", what, path,
          rot_file_private_advice(advice, sizeof(advice), path, mode),
          rot_error_name(ROT_ERROR_IO_PERMISSIONS));
  return EXIT_FAIL;
}

/* Bind the socket, replacing a stale file only when nothing listens. */
static int open_socket(rotd_t *d) {
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

static uint32_t largest_image_region(const rot_flash_layout_t *l) {
  uint32_t max = 0;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (rot_flash_region_is_image(&l->regions[i]) && l->regions[i].size > max) {
      max = l->regions[i].size;
    }
  }
  return max;
}

static int start(rotd_t *d, const char *flash_path, const char *otp_path) {
  /* The OTP first: it is never created, so a wrong path leaves no
   * 128 MiB flash file behind. */
  rot_error_t err = rot_otp_file_open(&d->otp, otp_path, 0);
  if (err == ROT_ERROR_IO_OPEN) {
    return fail_start("otp", otp_path, err,
                      "provision it first with 'rotctl otp provision'");
  }
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_private("otp", otp_path, d->otp.mode);
  }
  if (err != ROT_OK) {
    return fail_start("otp", otp_path, err, NULL);
  }
  rot_policy_t pol;
  err = rot_otp_policy(&d->otp.port, &pol);
  if (err != ROT_OK) {
    return fail_start("otp", otp_path, err,
                      err == ROT_ERROR_OTP_NOT_PROVISIONED
                          ? "provision it first with 'rotctl otp provision'"
                          : NULL);
  }
  err = rot_flash_file_open(&d->flash, flash_path, d->layout->flash_size,
                            d->layout->erase_size, 1);
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_private("flash", flash_path, d->flash.mode);
  }
  if (err != ROT_OK) {
    return fail_start("flash", flash_path, err, NULL);
  }
  const rot_crypto_t *crypto = rot_host_crypto();
  if (crypto == NULL) {
    return fail_start("crypto", "backend", ROT_ERROR_CRYPTO_RNG, NULL);
  }
  err = rot_gate_init(&d->gate, &d->flash.port, d->layout, rot_audit_gate_hook,
                      &d->audit);
  if (err != ROT_OK) {
    return fail_start("flash", flash_path, err, NULL);
  }
  err = rot_audit_init(&d->audit, &d->gate, crypto, wall_now);
  if (err != ROT_OK) {
    return fail_start("audit log in", flash_path, err, NULL);
  }
  uint32_t scratch_len = largest_image_region(d->layout);
  d->scratch = malloc(scratch_len);
  if (d->scratch == NULL) {
    return fail_start("scratch", "buffer", ROT_ERROR_BUFFER_TOO_SMALL, NULL);
  }
  err = rot_update_init(&d->update, &d->gate, &d->otp.port, crypto, &d->audit,
                        mono_now, d->scratch, scratch_len);
  if (err == ROT_ERROR_OTP_NO_DEVICE_SECRET) {
    return fail_start("OTP", otp_path, err,
                      "the update state is authenticated with a key derived "
                      "from it; provision a fresh OTP file with "
                      "'rotctl otp provision'");
  }
  if (err != ROT_OK) {
    return fail_start("update state in", flash_path, err, NULL);
  }
  for (uint32_t i = 0; i < 2; i++) {
    if (d->update.state_rejected & (1u << i)) {
      fprintf(stderr,
              "rotd: warning: %s: update state copy %u refused (%s): a torn "
              "write or a record this chip never wrote; the other copy "
              "stands and no fuse moved on its word\n",
              flash_path, i, rot_error_name(ROT_ERROR_UPDATE_STATE_FORGED));
    }
  }
  err = rot_server_init(&d->server, &d->gate, &d->update, &d->audit,
                        &d->otp.port, crypto, d->idle_timeout);
  if (err != ROT_OK) {
    return fail_start("mailbox server for", flash_path, err, NULL);
  }
  rot_server_set_cert(&d->server, rot_host_cert());
  err = rot_audit_append(&d->audit, ROT_AUDIT_DAEMON_START, ROT_OK, 0, 0);
  if (err != ROT_OK) {
    return fail_start("audit log in", flash_path, err, NULL);
  }
  return open_socket(d);
}

static void shutdown_daemon(rotd_t *d) {
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    drop_client(d, &d->clients[i]);
  }
  if (session_open(d)) {
    rot_update_abort(&d->update, ROT_ERROR_MAILBOX_CLOSED);
  }
  if (d->listen_fd >= 0) {
    close(d->listen_fd);
    unlink(d->socket_path);
    d->listen_fd = -1;
  }
  rot_otp_file_close(&d->otp);
  rot_flash_file_close(&d->flash);
  free(d->scratch);
  d->scratch = NULL;
}

static const char kUsage[] =
    "usage: rotd --flash FILE --otp FILE --socket PATH [--allow-uid UID]...\n"
    "            [--boot-uid UID]... [--reader-uid UID]...\n"
    "            [--idle-timeout SECONDS] [--daemon [--pid FILE] [--log FILE]]\n"
    "\n"
    "The security chip: owns the flash and OTP files and serves the mailbox\n"
    "protocol (docs/mailbox.md) on a Unix SOCK_SEQPACKET socket.\n"
    "\n"
    "options:\n"
    "  --flash FILE            flash image (created erased, 128 MiB, mode 0600,\n"
    "                          if missing)\n"
    "  --otp FILE              OTP fuses; provision with 'rotctl otp provision'\n"
    "                          (both must be mode 0600: a file open to group or\n"
    "                          others is refused, never silently fixed)\n"
    "  --socket PATH           socket to serve (created mode 0600)\n"
    "  --allow-uid UID         an operator: updates, activate, confirm, revert,\n"
    "                          lock, reset, and reads (repeatable)\n"
    "  --boot-uid UID          the boot path: boot decisions and image reads\n"
    "                          (repeatable)\n"
    "  --reader-uid UID        status, inventory and the audit log only\n"
    "                          (repeatable)\n"
    "                          root and rotd's own user hold every role; which\n"
    "                          role may send which command: docs/mailbox.md\n"
    "  --idle-timeout SECONDS  abort an idle update session and close idle\n"
    "                          connections after this long (default 30)\n"
    "  --daemon                return once the socket is serving, keep running\n"
    "                          in the background\n"
    "  --pid FILE              with --daemon: write the daemon's pid here\n"
    "  --log FILE              with --daemon: append messages here (default:\n"
    "                          discarded)\n"
    "\n"
    "SIGTERM or SIGINT: stop, remove the socket, exit 0.\n";

static int usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "rotd: %s%s%s (try 'rotd --help')\n", msg,
          arg != NULL ? ": " : "", arg != NULL ? arg : "");
  return EXIT_USAGE;
}

static rotd_t g_rotd; /* two frame buffers: too big for the stack */

/*
 * Detach only once the socket serves, so `rotd --daemon && rotctl ...`
 * never races the start-up (creating a fresh 128 MiB flash takes a
 * moment). The parent writes the pid file and exits; the child keeps the
 * flash and OTP locks, which belong to the inherited descriptors.
 */
static int become_daemon(const char *pid_path, const char *log_path) {
  int log_fd = open(log_path != NULL ? log_path : "/dev/null",
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    fprintf(stderr, "rotd: --log %s: %s\n", log_path, strerror(errno));
    return -1;
  }
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "rotd: fork: %s\n", strerror(errno));
    return -1;
  }
  if (pid > 0) {
    if (pid_path != NULL) {
      FILE *f = fopen(pid_path, "w");
      if (f == NULL || fprintf(f, "%ld\n", (long)pid) < 0 || fclose(f) != 0) {
        fprintf(stderr, "rotd: --pid %s: cannot write\n", pid_path);
      }
    }
    _exit(EXIT_OK);
  }
  setsid();
  dup2(null_fd, STDIN_FILENO);
  dup2(null_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  close(null_fd);
  close(log_fd);
  return 0;
}

int main(int argc, char **argv) {
  enum {
    OPT_FLASH = 256,
    OPT_OTP,
    OPT_SOCKET,
    OPT_ALLOW,
    OPT_BOOT_UID,
    OPT_READER_UID,
    OPT_IDLE,
    OPT_DAEMON,
    OPT_PID,
    OPT_LOG
  };
  static const struct option opts[] = {
      {"flash", required_argument, NULL, OPT_FLASH},
      {"otp", required_argument, NULL, OPT_OTP},
      {"socket", required_argument, NULL, OPT_SOCKET},
      {"allow-uid", required_argument, NULL, OPT_ALLOW},
      {"boot-uid", required_argument, NULL, OPT_BOOT_UID},
      {"reader-uid", required_argument, NULL, OPT_READER_UID},
      {"idle-timeout", required_argument, NULL, OPT_IDLE},
      {"daemon", no_argument, NULL, OPT_DAEMON},
      {"pid", required_argument, NULL, OPT_PID},
      {"log", required_argument, NULL, OPT_LOG},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  rotd_t *d = &g_rotd;
  d->layout = &rot_flash_layout_default;
  d->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  d->listen_fd = -1;
  d->flash.fd = -1;
  d->otp.fd = -1;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    d->clients[i].fd = -1;
  }
  const char *flash_path = NULL;
  const char *otp_path = NULL;
  const char *pid_path = NULL;
  const char *log_path = NULL;
  int daemonize = 0;
  uint64_t v;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'h':
        fputs(kUsage, stdout);
        return EXIT_OK;
      case OPT_FLASH:
        flash_path = optarg;
        break;
      case OPT_OTP:
        otp_path = optarg;
        break;
      case OPT_SOCKET:
        d->socket_path = optarg;
        break;
      case OPT_ALLOW:
      case OPT_BOOT_UID:
      case OPT_READER_UID: {
        size_t k = c == OPT_ALLOW ? 0 : c == OPT_BOOT_UID ? 1 : 2;
        if (rot_parse_uint(optarg, ROT_PARSE_DEC, UINT32_MAX - 1u, &v) !=
            ROT_OK) {
          return usage_error("expected a numeric user id", optarg);
        }
        if (d->n_allow[k] == MAX_ALLOW) {
          return usage_error("too many user ids for one role (at most 16)",
                             NULL);
        }
        d->allow[k][d->n_allow[k]++] = (uid_t)v;
        break;
      }
      case OPT_IDLE:
        if (rot_parse_uint(optarg, ROT_PARSE_DEC, 86400, &v) != ROT_OK ||
            v == 0) {
          return usage_error("--idle-timeout: expected 1..86400 seconds",
                             optarg);
        }
        d->idle_timeout = v;
        break;
      case OPT_DAEMON:
        daemonize = 1;
        break;
      case OPT_PID:
        pid_path = optarg;
        break;
      case OPT_LOG:
        log_path = optarg;
        break;
      case ':':
        return usage_error("option needs a value", argv[optind - 1]);
      default:
        return usage_error("unknown option", argv[optind - 1]);
    }
  }
  if (optind != argc) {
    return usage_error("unexpected argument", argv[optind]);
  }
  if (flash_path == NULL || otp_path == NULL || d->socket_path == NULL) {
    return usage_error("--flash, --otp and --socket are required", NULL);
  }
  if (!daemonize && (pid_path != NULL || log_path != NULL)) {
    return usage_error("--pid and --log go with --daemon", NULL);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = start(d, flash_path, otp_path);
  if (rc == EXIT_OK) {
    fprintf(stderr, "rotd: serving %s (flash %s, otp %s)\n", d->socket_path,
            flash_path, otp_path);
    if (daemonize && become_daemon(pid_path, log_path) != 0) {
      rc = EXIT_FAIL;
    } else {
      rc = serve(d);
    }
  }
  shutdown_daemon(d);
  return rc;
}
