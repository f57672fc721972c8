/*
 * rotd: the security chip as a daemon.
 *
 * It holds the flash and OTP files (exclusive locks, mode 0600) and is the
 * only way to reach them: every request arrives as a mailbox frame on a
 * Unix SOCK_SEQPACKET socket (docs/mailbox.md) and is handed, with the
 * peer's roles, to the core's mailbox server (rot/server.h), which holds
 * every rule. This file is the command line, signals and the daemon's
 * life; rotd_transport.c serves the socket, rotd_server.c the core.
 * One thread, one poll loop, a few clients.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rot/error.h"
#include "rot_client/names.h"
#include "rot_client/parse.h"
#include "rot_host/crypto_host.h"
#include "rotd.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
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
    "                          (removed again on a clean stop)\n"
    "  --log FILE              append messages here once serving (with\n"
    "                          --daemon the default is to discard them)\n"
    "\n"
    "To stop it: SIGTERM or SIGINT (kill $(cat PIDFILE)): it finishes the\n"
    "request at hand, removes the socket and the pid file, logs 'stopped',\n"
    "exits 0.\n";

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

/* Foreground with --log: messages go to the file from here on. */
static int log_to(const char *log_path) {
  int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "rotd: --log %s: %s\n", log_path, strerror(errno));
    return -1;
  }
  fflush(stderr);
  int bad = dup2(fd, STDERR_FILENO) < 0;
  close(fd);
  return bad ? -1 : 0;
}

/* Remove the pid file, but only while it still names this process. */
static int remove_pid_file(const char *pid_path) {
  FILE *f = fopen(pid_path, "r");
  long pid = 0;
  int ours = f != NULL && fscanf(f, "%ld", &pid) == 1 && pid == (long)getpid();
  if (f != NULL) {
    fclose(f);
  }
  return ours ? unlink(pid_path) : -1;
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
  if (!daemonize && pid_path != NULL) {
    return usage_error("--pid goes with --daemon", NULL);
  }
  /* A bad ROT_CRYPTO stops rotd before it opens flash, OTP or socket. */
  rot_error_t cerr = rot_host_crypto_get(NULL);
  if (cerr != ROT_OK) {
    fprintf(stderr, "rotd: ROT_CRYPTO='%s': %s (%s)\n",
            getenv("ROT_CRYPTO") != NULL ? getenv("ROT_CRYPTO") : "",
            rot_error_name(cerr), rot_error_str(cerr));
    return cerr == ROT_ERROR_CRYPTO_UNKNOWN_BACKEND ? EXIT_USAGE : EXIT_FAIL;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = rotd_start_chip(d, flash_path, otp_path);
  if (rc == EXIT_OK) {
    rc = rotd_open_socket(d);
  }
  int serving = 0;
  if (rc == EXIT_OK) {
    fprintf(stderr, "rotd: serving %s (flash %s, otp %s)\n", d->socket_path,
            flash_path, otp_path);
    if (daemonize && become_daemon(pid_path, log_path) != 0) {
      rc = EXIT_FAIL;
    } else if (!daemonize && log_path != NULL && log_to(log_path) != 0) {
      rc = EXIT_FAIL;
    } else {
      serving = 1;
      if (log_path != NULL) {
        /* The log starts with what the terminal saw. */
        fprintf(stderr, "rotd: serving %s (flash %s, otp %s), pid %ld\n",
                d->socket_path, flash_path, otp_path, (long)getpid());
      }
      rc = rotd_serve(d, &g_stop);
    }
  }
  rotd_close_socket(d);
  rotd_stop_chip(d);
  if (serving) {
    /* A clean stop leaves nothing behind that names a dead process. */
    int removed = pid_path != NULL && remove_pid_file(pid_path) == 0;
    fprintf(stderr, "rotd: stopped; socket %s removed%s%s\n", d->socket_path,
            removed ? ", pid file " : "", removed ? pid_path : "");
  }
  return rc;
}
