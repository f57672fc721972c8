/*
 * QEMU launcher (see bootchain/qemu.h).
 *
 * Process hygiene is the point of this file: the child gets only the
 * descriptors it must load, it dies with its parent, and every API exit
 * path reaps it. Waiting uses a pidfd with poll, so no path sleeps.
 */
#define _GNU_SOURCE
#include "bootchain/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long QEMU gets to exit on SIGTERM before SIGKILL. */
#define STOP_GRACE_MS 1000
/* How long a console write may stall before QEMU counts as wedged. */
#define SEND_STALL_MS 5000
#define MAX_NEEDLE 4096u

/* ---- argv ------------------------------------------------------------------ */

static rot_error_t arg_add(bc_qemu_argv_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static rot_error_t arg_add(bc_qemu_argv_t *a, const char *fmt, ...) {
  if (a->argc >= BC_QEMU_MAX_ARGS) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  size_t room = sizeof(a->store) - a->used;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(a->store + a->used, room, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= room) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  a->argv[a->argc++] = a->store + a->used;
  a->argv[a->argc] = NULL;
  a->used += (size_t)n + 1u;
  return ROT_OK;
}

static int file_given(const bc_qemu_file_t *f) {
  return f->fd > 2 || f->path != NULL;
}

/* The name QEMU opens: its own view of an inherited fd, or the path. */
static rot_error_t file_name(const bc_qemu_file_t *f, char *buf, size_t cap,
                             int escape_commas) {
  if (f->fd <= 2 && f->path == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (f->fd > 2) {
    int n = snprintf(buf, cap, "/dev/fd/%d", f->fd);
    return n < 0 || (size_t)n >= cap ? ROT_ERROR_BUFFER_TOO_SMALL : ROT_OK;
  }
  /* Inside a QEMU option list a literal comma is written twice. */
  size_t o = 0;
  for (const char *p = f->path; *p != '\0'; p++) {
    size_t need = (escape_commas && *p == ',') ? 2u : 1u;
    if (o + need >= cap) {
      return ROT_ERROR_BUFFER_TOO_SMALL;
    }
    buf[o++] = *p;
    if (need == 2u) {
      buf[o++] = ',';
    }
  }
  if (o == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  buf[o] = '\0';
  return ROT_OK;
}

rot_error_t bc_qemu_argv(const bc_qemu_spec_t *spec, bc_qemu_argv_t *out) {
  char name[PATH_MAX + 64];
  if (spec == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  out->argc = 0;
  out->used = 0;
  out->argv[0] = NULL;
  if (!file_given(&spec->bios) || !file_given(&spec->kernel) ||
      !file_given(&spec->dtb) ||
      (file_given(&spec->event_log) && spec->event_log_addr == 0) ||
      spec->extra_count > BC_QEMU_MAX_EXTRA ||
      (spec->extra_count != 0 && spec->extra_args == NULL)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < spec->extra_count; i++) {
    if (spec->extra_args[i] == NULL) {
      return ROT_ERROR_INVALID_ARGUMENT;
    }
  }

  const char *mem = spec->memory != NULL ? spec->memory : BC_QEMU_MEMORY;
  const char *smp = spec->smp != NULL ? spec->smp : BC_QEMU_SMP;
  ROT_TRY(arg_add(out, "%s", spec->qemu != NULL ? spec->qemu : BC_QEMU_BINARY));
  ROT_TRY(arg_add(out, "-M"));
  ROT_TRY(arg_add(out, "%s", BC_QEMU_MACHINE));
  ROT_TRY(arg_add(out, "-m"));
  ROT_TRY(arg_add(out, "%s", mem));
  ROT_TRY(arg_add(out, "-smp"));
  ROT_TRY(arg_add(out, "%s", smp));
  ROT_TRY(arg_add(out, "-nographic"));
  ROT_TRY(arg_add(out, "-monitor"));
  ROT_TRY(arg_add(out, "none"));
  switch (spec->serial) {
    case BC_QEMU_SERIAL_STDIO:
      /* A terminal: a multiplexed stdio gives QEMU's escape keys (Ctrl-A x
       * quits, Ctrl-A h lists them) with no monitor behind them. */
      ROT_TRY(arg_add(out, "-chardev"));
      ROT_TRY(arg_add(out, "stdio,id=console,mux=on"));
      ROT_TRY(arg_add(out, "-serial"));
      ROT_TRY(arg_add(out, "chardev:console"));
      break;
    case BC_QEMU_SERIAL_PIPE: /* the child's stdio is the socket pair */
      /* Raw: every byte a script sends reaches the guest. */
      ROT_TRY(arg_add(out, "-serial"));
      ROT_TRY(arg_add(out, "stdio"));
      break;
    case BC_QEMU_SERIAL_FILE:
      ROT_TRY(arg_add(out, "-serial"));
      if (spec->serial_path == NULL || spec->serial_path[0] == '\0' ||
          strchr(spec->serial_path, ',') != NULL) {
        return ROT_ERROR_INVALID_ARGUMENT;
      }
      ROT_TRY(arg_add(out, "file:%s", spec->serial_path));
      break;
    default:
      return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* A guest reset ends the run instead of booting unmeasured state again. */
  ROT_TRY(arg_add(out, "-no-reboot"));

  ROT_TRY(file_name(&spec->bios, name, sizeof(name), 0));
  ROT_TRY(arg_add(out, "-bios"));
  ROT_TRY(arg_add(out, "%s", name));
  ROT_TRY(file_name(&spec->kernel, name, sizeof(name), 0));
  ROT_TRY(arg_add(out, "-kernel"));
  ROT_TRY(arg_add(out, "%s", name));
  ROT_TRY(file_name(&spec->dtb, name, sizeof(name), 0));
  ROT_TRY(arg_add(out, "-dtb"));
  ROT_TRY(arg_add(out, "%s", name));
  if (file_given(&spec->event_log)) {
    ROT_TRY(file_name(&spec->event_log, name, sizeof(name), 1));
    ROT_TRY(arg_add(out, "-device"));
    /* force-raw: an event log is data, never parsed as ELF or uImage. */
    ROT_TRY(arg_add(out, "loader,file=%s,addr=0x%llx,force-raw=on", name,
                    (unsigned long long)spec->event_log_addr));
  }
  for (size_t i = 0; i < spec->extra_count; i++) {
    ROT_TRY(arg_add(out, "%s", spec->extra_args[i]));
  }
  return ROT_OK;
}

/* ---- time ------------------------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline for poll(); -1 (forever) if none. */
static int left_ms(int64_t deadline) {
  if (deadline < 0) {
    return -1;
  }
  int64_t d = deadline - now_ms();
  if (d <= 0) {
    return 0;
  }
  return d > INT_MAX ? INT_MAX : (int)d;
}

/* ---- start -------------------------------------------------------------------- */

/* Find the binary in the parent: after fork only async-signal-safe calls
 * are allowed, and a PATH search may allocate.
 *
 * Only absolute PATH entries are searched. An empty entry (a leading or
 * trailing ':', or '::') means the current directory to a POSIX shell, and
 * a relative one is resolved against it too: either would let whoever
 * controls the working directory choose the binary that boots the host.
 * Both are skipped. An unset or empty PATH searches the system
 * directories. */
static rot_error_t resolve(const char *name, char *buf, size_t cap) {
  if (strchr(name, '/') != NULL) {
    int n = snprintf(buf, cap, "%s", name);
    return n < 0 || (size_t)n >= cap ? ROT_ERROR_HANDOFF_QEMU : ROT_OK;
  }
  const char *path = getenv("PATH");
  if (path == NULL || path[0] == '\0') {
    path = "/usr/local/bin:/usr/bin:/bin";
  }
  while (*path != '\0') {
    const char *end = strchr(path, ':');
    size_t dlen = end != NULL ? (size_t)(end - path) : strlen(path);
    if (dlen != 0 && path[0] == '/') {
      int n = snprintf(buf, cap, "%.*s/%s", (int)dlen, path, name);
      if (n > 0 && (size_t)n < cap && access(buf, X_OK) == 0) {
        return ROT_OK;
      }
    }
    path += dlen;
    if (*path == ':') {
      path++;
    }
  }
  return ROT_ERROR_HANDOFF_QEMU;
}

typedef struct child_plan {
  const char *exe;
  char *const *argv;
  int keep[4];
  size_t keep_count;
  bc_qemu_serial_t serial;
  int console; /* child end of the socket pair, PIPE only */
  int errpipe; /* write end; close-on-exec, so EOF means exec worked */
  pid_t parent;
} child_plan_t;

/*
 * Runs in the vfork child, on the parent's memory until it execs: system
 * calls only (no allocation, no stdio, nothing that writes memory the
 * parent uses). Every signal arrives blocked (bc_qemu_start), so none of
 * the parent's handlers can run here; handled signals are reset to their
 * defaults (this changes the child's table only: vfork does not share
 * signal handlers) before the mask is cleared for QEMU.
 */
static void __attribute__((noreturn)) child_exec(const child_plan_t *p) {
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
        sa.sa_handler != SIG_IGN) {
      memset(&sa, 0, sizeof(sa));
      sa.sa_handler = SIG_DFL;
      (void)sigaction(sig, &sa, NULL);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
  /* Never outlive the launcher, even if it is killed outright. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != p->parent) {
    _exit(126);
  }
  if (p->serial == BC_QEMU_SERIAL_PIPE) {
    if (dup2(p->console, 0) < 0 || dup2(p->console, 1) < 0) {
      goto fail;
    }
  } else if (p->serial == BC_QEMU_SERIAL_FILE) {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0) {
      goto fail;
    }
  }
  /* Everything above stdio closes on exec, except the images QEMU loads. */
  (void)close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
  for (size_t i = 0; i < p->keep_count; i++) {
    if (fcntl(p->keep[i], F_SETFD, 0) != 0) {
      goto fail;
    }
  }
  execv(p->exe, p->argv);
fail:;
  int e = errno;
  ssize_t w = write(p->errpipe, &e, sizeof(e));
  (void)w;
  _exit(127);
}

static void q_reset(bc_qemu_t *q) {
  q->pid = 0;
  q->pidfd = -1;
  q->console = -1;
  q->echo_fd = -1;
  q->exited = 0;
  q->exit_code = -1;
  q->console_eof = 1;
  q->len = 0;
}

static int decode_status(int st) {
  if (WIFEXITED(st)) {
    return WEXITSTATUS(st);
  }
  if (WIFSIGNALED(st)) {
    return 128 + WTERMSIG(st);
  }
  return -1;
}

static void reap(bc_qemu_t *q) {
  int st;
  pid_t r;
  do {
    r = waitpid(q->pid, &st, 0);
  } while (r < 0 && errno == EINTR);
  q->exited = 1;
  q->exit_code = r == q->pid ? decode_status(st) : -1;
}

rot_error_t bc_qemu_start(const bc_qemu_spec_t *spec, bc_qemu_t *q) {
  bc_qemu_argv_t args;
  char exe[PATH_MAX];
  if (q == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  q_reset(q);
  ROT_TRY(bc_qemu_argv(spec, &args));

  child_plan_t plan;
  memset(&plan, 0, sizeof(plan));
  const bc_qemu_file_t *files[4] = {&spec->bios, &spec->kernel, &spec->dtb,
                                    &spec->event_log};
  for (size_t i = 0; i < 4; i++) {
    if (files[i]->fd > 2) {
      if (fcntl(files[i]->fd, F_GETFD) < 0) {
        return ROT_ERROR_INVALID_ARGUMENT; /* not an open descriptor */
      }
      plan.keep[plan.keep_count++] = files[i]->fd;
    }
  }
  ROT_TRY(resolve(args.argv[0], exe, sizeof(exe)));

  int sv[2] = {-1, -1};
  int ep[2] = {-1, -1};
  if (spec->serial == BC_QEMU_SERIAL_PIPE &&
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return ROT_ERROR_HANDOFF_QEMU;
  }
  if (pipe2(ep, O_CLOEXEC) != 0) {
    goto fail_fds;
  }
  plan.exe = exe;
  plan.argv = args.argv;
  plan.serial = spec->serial;
  plan.console = sv[1];
  plan.errpipe = ep[1];
  plan.parent = getpid();

  /*
   * vfork, not fork: the child borrows this process's memory until it
   * execs, so starting QEMU copies no page tables and leaves no
   * copy-on-write faults behind in the parent (the bulk of a fork's cost
   * here, on the boot's critical path). Every signal is blocked across it
   * so no handler of ours runs on the borrowed memory (see child_exec).
   */
  sigset_t all, old;
  sigfillset(&all);
  if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0) {
    goto fail_fds;
  }
  pid_t pid = vfork();
  if (pid == 0) {
    child_exec(&plan);
  }
  (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    goto fail_fds;
  }
  (void)close(ep[1]);
  ep[1] = -1;
  if (sv[1] >= 0) {
    (void)close(sv[1]);
    sv[1] = -1;
  }
  q->pid = pid;

  /* EOF: the exec happened. An errno: it did not, and the child is gone. */
  int child_errno;
  ssize_t n;
  do {
    n = read(ep[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  (void)close(ep[0]);
  ep[0] = -1;
  q->pidfd = pidfd_open(pid, 0);
  if (n != 0 || q->pidfd < 0) {
    /* n > 0: the child wrote exec's errno and exits by itself. */
    if (sv[0] >= 0) {
      (void)close(sv[0]);
    }
    if (n <= 0) {
      (void)kill(pid, SIGKILL); /* it may have exec'd: do not leave it */
    }
    reap(q);
    if (q->pidfd >= 0) {
      (void)close(q->pidfd);
    }
    q_reset(q);
    return ROT_ERROR_HANDOFF_QEMU;
  }
  q->console = sv[0];
  q->console_eof = sv[0] < 0;
  return ROT_OK;

fail_fds:
  for (int i = 0; i < 2; i++) {
    if (sv[i] >= 0) {
      (void)close(sv[i]);
    }
    if (ep[i] >= 0) {
      (void)close(ep[i]);
    }
  }
  return ROT_ERROR_HANDOFF_QEMU;
}

/* ---- console ------------------------------------------------------------------ */

static void echo(bc_qemu_t *q, const char *p, size_t n) {
  while (q->echo_fd >= 0 && n > 0) {
    ssize_t w = write(q->echo_fd, p, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return; /* a broken transcript must not stop the boot */
    }
    p += w;
    n -= (size_t)w;
  }
}

/* One read from the console into buf (echoed). 1: got bytes, 0: EOF. */
static int console_read(bc_qemu_t *q) {
  char chunk[4096];
  ssize_t n;
  do {
    n = read(q->console, chunk, sizeof(chunk));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    q->console_eof = 1;
    return 0;
  }
  echo(q, chunk, (size_t)n);
  size_t cap = sizeof(q->buf);
  if (q->len + (size_t)n > cap) {
    /* Keep the newest output: an expect looks for what comes next. */
    size_t drop = q->len + (size_t)n - cap;
    memmove(q->buf, q->buf + drop, q->len - drop);
    q->len -= drop;
  }
  memcpy(q->buf + q->len, chunk, (size_t)n);
  q->len += (size_t)n;
  return 1;
}

rot_error_t bc_qemu_expect(bc_qemu_t *q, const char *text,
                           unsigned timeout_ms) {
  if (q == NULL || text == NULL || q->pid <= 0 || q->console < 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t tlen = strlen(text);
  if (tlen == 0 || tlen > MAX_NEEDLE) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    const char *hit = memmem(q->buf, q->len, text, tlen);
    if (hit != NULL) {
      size_t used = (size_t)(hit - q->buf) + tlen;
      memmove(q->buf, q->buf + used, q->len - used);
      q->len -= used;
      return ROT_OK;
    }
    if (q->console_eof) {
      return ROT_ERROR_HANDOFF_QEMU;
    }
    int wait = left_ms(deadline);
    if (wait == 0) {
      return ROT_ERROR_HOST_TIMEOUT;
    }
    struct pollfd pfd = {.fd = q->console, .events = POLLIN};
    int r = poll(&pfd, 1, wait);
    if (r < 0 && errno != EINTR) {
      return ROT_ERROR_HANDOFF_QEMU;
    }
    if (r > 0) {
      (void)console_read(q);
    }
  }
}

rot_error_t bc_qemu_send(bc_qemu_t *q, const void *data, size_t len) {
  if (q == NULL || (data == NULL && len != 0) || q->pid <= 0 ||
      q->console < 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const char *p = data;
  int64_t deadline = now_ms() + SEND_STALL_MS;
  while (len > 0) {
    /* MSG_NOSIGNAL: a QEMU that died is an error here, not a SIGPIPE. */
    ssize_t n = send(q->console, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pfd = {.fd = q->console, .events = POLLOUT};
      int wait = left_ms(deadline);
      if (wait == 0 || poll(&pfd, 1, wait) < 0) {
        return ROT_ERROR_HANDOFF_QEMU;
      }
      continue;
    }
    return ROT_ERROR_HANDOFF_QEMU;
  }
  return ROT_OK;
}

/* ---- wait, stop, run ------------------------------------------------------------- */

rot_error_t bc_qemu_wait(bc_qemu_t *q, unsigned timeout_ms, int *exit_code) {
  if (q == NULL || q->pid <= 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  int64_t deadline = timeout_ms == 0 ? -1 : now_ms() + timeout_ms;
  while (!q->exited) {
    struct pollfd pfd[2] = {
        {.fd = q->pidfd, .events = POLLIN},
        {.fd = q->console_eof ? -1 : q->console, .events = POLLIN},
    };
    int wait = left_ms(deadline);
    if (deadline >= 0 && wait == 0) {
      return ROT_ERROR_HOST_TIMEOUT;
    }
    int r = poll(pfd, 2, wait);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ROT_ERROR_HANDOFF_QEMU;
    }
    /* Drain first: a full console would block QEMU from exiting. */
    if (pfd[1].revents != 0) {
      (void)console_read(q);
    }
    if (pfd[0].revents != 0) {
      reap(q);
    }
  }
  if (exit_code != NULL) {
    *exit_code = q->exit_code;
  }
  return ROT_OK;
}

void bc_qemu_stop(bc_qemu_t *q) {
  if (q == NULL || q->pid <= 0) {
    return;
  }
  if (!q->exited) {
    /* Not yet reaped, so the pid cannot have been reused. */
    (void)kill(q->pid, SIGTERM);
    struct pollfd pfd = {.fd = q->pidfd, .events = POLLIN};
    int64_t deadline = now_ms() + STOP_GRACE_MS;
    int r;
    do {
      r = poll(&pfd, 1, left_ms(deadline));
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
      (void)kill(q->pid, SIGKILL);
    }
    reap(q);
  }
  if (q->pidfd >= 0) {
    (void)close(q->pidfd);
  }
  if (q->console >= 0) {
    (void)close(q->console);
  }
  int code = q->exit_code;
  q_reset(q);
  q->exited = 1;
  q->exit_code = code;
}

rot_error_t bc_qemu_run(const bc_qemu_spec_t *spec, int *exit_code) {
  bc_qemu_t *q = malloc(sizeof(*q));
  if (q == NULL) {
    return ROT_ERROR_HANDOFF_QEMU;
  }
  rot_error_t err = bc_qemu_start(spec, q);
  if (err == ROT_OK) {
    int code = -1;
    err = bc_qemu_wait(q, spec->timeout_ms, &code);
    bc_qemu_stop(q);
    if (err == ROT_OK && exit_code != NULL) {
      *exit_code = code;
    }
  }
  free(q);
  return err;
}
