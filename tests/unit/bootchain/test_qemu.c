/*
 * QEMU launcher: the command line it builds, and the process handling
 * (descriptor inheritance, console, timeouts, kill and reap) driven with
 * a stand-in "qemu" script, since a real QEMU cannot be made to hang,
 * ignore SIGTERM or exit with a chosen code on demand. The real boot is
 * tests/cli/qemu_boot_test.sh.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bootchain/qemu.h"
#include "bootchain/seal.h"

/* ---- the stand-in ------------------------------------------------------- */

/*
 * Behaviour picked by FAKE_QEMU_MODE. It prints the -dtb file it was given
 * (proving the inherited descriptor opens as /dev/fd/N in the child).
 */
static const char fake_script[] =
    "#!/bin/sh\n"
    "dtb=\n"
    "while [ $# -gt 0 ]; do\n"
    "  case \"$1\" in\n"
    "    -dtb) dtb=$2; shift ;;\n"
    "    -serial) case \"$2\" in file:*) exec >\"${2#file:}\" ;; esac; shift ;;\n"
    "  esac\n"
    "  shift\n"
    "done\n"
    "echo BOOT\n"
    "cat \"$dtb\"\n"
    "echo\n"
    "[ -e /proc/$$/fd/$FAKE_QEMU_LEAK ] && echo LEAKED || echo NOLEAK\n"
    "case \"$FAKE_QEMU_MODE\" in\n"
    "  echo) echo READY; exec cat ;;\n"
    "  exit3) echo READY; exit 3 ;;\n"
    "  sleep) echo READY; exec sleep 30 ;;\n"
    /* The shell's own read: no child that would outlive a SIGKILL. */
    "  stubborn) trap '' TERM; echo READY; while read -r x; do :; done ;;\n"
    "esac\n";

/*
 * A stand-in that reports the signal mask it was started with, before any
 * shell could change it (dash clears its mask as it runs commands).
 */
static const char mask_script[] =
    "#!/usr/bin/perl\n"
    "open(my $f, '<', '/proc/self/status') or exit 1;\n"
    "while (<$f>) { print if /^SigBlk:/ }\n";

static char dir[64];
static char fake[128];
static char mask_fake[128];

static int write_script(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return -1;
  }
  (void)fputs(text, f);
  if (fclose(f) != 0) {
    return -1;
  }
  return chmod(path, 0755);
}

static int group_setup(void **state) {
  (void)state;
  (void)snprintf(dir, sizeof(dir), "/tmp/bc-qemu-test.XXXXXX");
  if (mkdtemp(dir) == NULL) {
    return -1;
  }
  (void)snprintf(fake, sizeof(fake), "%s/fake-qemu", dir);
  (void)snprintf(mask_fake, sizeof(mask_fake), "%s/mask-qemu", dir);
  (void)setenv("FAKE_QEMU_LEAK", "9999", 1);
  return write_script(fake, fake_script) != 0 ||
                 write_script(mask_fake, mask_script) != 0
             ? -1
             : 0;
}

static int group_teardown(void **state) {
  (void)state;
  /* Whatever the tests left (a failed one may leave more than usual). */
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *e;
    char path[320];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        (void)unlink(path);
      }
    }
    (void)closedir(d);
  }
  return rmdir(dir);
}

static const char dtb_bytes[] = "DTB-MEASURED-BYTES";

typedef struct fixture {
  bc_sealed_t dtb;
  bc_qemu_spec_t spec;
  bc_qemu_t q;
} fixture_t;

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  if (f == NULL ||
      bc_seal_create("dtb", dtb_bytes, sizeof(dtb_bytes) - 1, &f->dtb) != ROT_OK) {
    free(f);
    return -1;
  }
  f->spec.qemu = fake;
  f->spec.bios.path = "/nonexistent/fw_dynamic.bin";
  f->spec.kernel.path = "/nonexistent/u-boot.bin";
  f->spec.dtb.fd = f->dtb.fd;
  f->spec.serial = BC_QEMU_SERIAL_PIPE;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  bc_qemu_stop(&f->q);
  bc_seal_close(&f->dtb);
  free(f);
  return 0;
}

static void start(fixture_t *f, const char *mode) {
  assert_int_equal(setenv("FAKE_QEMU_MODE", mode, 1), 0);
  assert_int_equal(bc_qemu_start(&f->spec, &f->q), ROT_OK);
  assert_true(f->q.pid > 0);
}

/* The child is gone and reaped: no such process, and not our zombie. */
static void assert_reaped(pid_t pid) {
  errno = 0;
  assert_int_equal(kill(pid, 0), -1);
  assert_int_equal(errno, ESRCH);
}

/* ---- bc_qemu_argv ----------------------------------------------------------- */

static void assert_argv(const bc_qemu_argv_t *a, const char *const *want) {
  size_t n = 0;
  while (want[n] != NULL) {
    n++;
  }
  for (size_t i = 0; i < n && i < a->argc; i++) {
    assert_string_equal(a->argv[i], want[i]);
  }
  assert_int_equal(a->argc, n);
  assert_null(a->argv[a->argc]);
}

static void qemu_test_argv_paths(void **state) {
  (void)state;
  bc_qemu_spec_t spec;
  memset(&spec, 0, sizeof(spec));
  spec.bios.path = "fw.bin";
  spec.kernel.path = "k.bin";
  spec.dtb.path = "h.dtb";
  bc_qemu_argv_t a;
  assert_int_equal(bc_qemu_argv(&spec, &a), ROT_OK);
  static const char *const want[] = {
      "qemu-system-riscv64", "-M", "virt", "-m", "256M", "-smp", "1",
      "-nographic", "-monitor", "none", "-chardev",
      "stdio,id=console,mux=on", "-serial", "chardev:console", "-no-reboot",
      "-bios", "fw.bin", "-kernel", "k.bin", "-dtb", "h.dtb", NULL};
  assert_argv(&a, want);
}

static void qemu_test_argv_fds_and_log(void **state) {
  (void)state;
  static const char *const extra[] = {"-name", "probe"};
  bc_qemu_spec_t spec;
  memset(&spec, 0, sizeof(spec));
  spec.qemu = "/opt/q";
  spec.bios.fd = 5;
  spec.kernel.fd = 6;
  spec.dtb.fd = 7;
  spec.event_log.fd = 8;
  spec.event_log_addr = 0x87f00000u;
  spec.serial = BC_QEMU_SERIAL_FILE;
  spec.serial_path = "/tmp/console.txt";
  spec.extra_args = extra;
  spec.extra_count = 2;
  bc_qemu_argv_t a;
  assert_int_equal(bc_qemu_argv(&spec, &a), ROT_OK);
  static const char *const want[] = {
      "/opt/q", "-M", "virt", "-m", "256M", "-smp", "1", "-nographic",
      "-monitor", "none", "-serial", "file:/tmp/console.txt", "-no-reboot",
      "-bios", "/dev/fd/5", "-kernel", "/dev/fd/6", "-dtb", "/dev/fd/7",
      "-device", "loader,file=/dev/fd/8,addr=0x87f00000,force-raw=on",
      "-name", "probe", NULL};
  assert_argv(&a, want);
}

static void qemu_test_argv_fd_wins_over_path(void **state) {
  (void)state;
  bc_qemu_spec_t spec;
  memset(&spec, 0, sizeof(spec));
  spec.bios.fd = 9;
  spec.bios.path = "ignored";
  spec.kernel.path = "k";
  spec.dtb.path = "d";
  bc_qemu_argv_t a;
  assert_int_equal(bc_qemu_argv(&spec, &a), ROT_OK);
  assert_string_equal(a.argv[15], "-bios");
  assert_string_equal(a.argv[16], "/dev/fd/9");
}

static void qemu_test_argv_log_path_commas_doubled(void **state) {
  (void)state;
  bc_qemu_spec_t spec;
  memset(&spec, 0, sizeof(spec));
  spec.bios.path = "f";
  spec.kernel.path = "k";
  spec.dtb.path = "d";
  spec.event_log.path = "/tmp/a,b/log,addr=0";
  spec.event_log_addr = 0x1000;
  bc_qemu_argv_t a;
  assert_int_equal(bc_qemu_argv(&spec, &a), ROT_OK);
  assert_string_equal(a.argv[a.argc - 1],
                      "loader,file=/tmp/a,,b/log,,addr=0,addr=0x1000,force-raw=on");
}

static void qemu_test_argv_overrides(void **state) {
  (void)state;
  bc_qemu_spec_t spec;
  memset(&spec, 0, sizeof(spec));
  spec.bios.path = "f";
  spec.kernel.path = "k";
  spec.dtb.path = "d";
  spec.memory = "512M";
  spec.smp = "2";
  bc_qemu_argv_t a;
  assert_int_equal(bc_qemu_argv(&spec, &a), ROT_OK);
  assert_string_equal(a.argv[4], "512M");
  assert_string_equal(a.argv[6], "2");
}

static void qemu_test_argv_bad_specs(void **state) {
  (void)state;
  bc_qemu_spec_t good;
  memset(&good, 0, sizeof(good));
  good.bios.path = "f";
  good.kernel.path = "k";
  good.dtb.path = "d";
  bc_qemu_argv_t a;
  bc_qemu_spec_t s;

  assert_int_equal(bc_qemu_argv(NULL, &a), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_qemu_argv(&good, NULL), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.bios.path = NULL;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.kernel.path = NULL;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.dtb.path = NULL;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.dtb.path = ""; /* empty path */
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.event_log.path = "log"; /* no address */
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.kernel.fd = 1; /* the console, never an image */
  s.kernel.path = NULL;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.serial = BC_QEMU_SERIAL_FILE; /* no path */
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s.serial_path = "/tmp/a,b";
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.serial = (bc_qemu_serial_t)7;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  s = good;
  s.extra_count = 1; /* NULL list */
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  static const char *const with_null[] = {"-s", NULL};
  s.extra_args = with_null;
  s.extra_count = 2;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
  static const char *const many[BC_QEMU_MAX_EXTRA + 1u] = {"-s"};
  s.extra_args = many;
  s.extra_count = BC_QEMU_MAX_EXTRA + 1u;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_INVALID_ARGUMENT);
}

static void qemu_test_argv_store_overflow(void **state) {
  (void)state;
  static char big[BC_QEMU_ARG_STORE];
  memset(big, 'x', sizeof(big) - 1);
  const char *extra[1] = {big};
  bc_qemu_spec_t s;
  memset(&s, 0, sizeof(s));
  s.bios.path = "f";
  s.kernel.path = "k";
  s.dtb.path = "d";
  s.extra_args = extra;
  s.extra_count = 1;
  bc_qemu_argv_t a;
  assert_int_equal(bc_qemu_argv(&s, &a), ROT_ERROR_BUFFER_TOO_SMALL);
}

/* ---- bc_qemu_start / expect / send ------------------------------------------ */

static void qemu_test_start_inherits_sealed_fd(void **state) {
  fixture_t *f = *state;
  start(f, "echo");
  assert_int_equal(bc_qemu_expect(&f->q, "BOOT", 5000), ROT_OK);
  /* The child read the sealed DTB through /dev/fd/N. */
  assert_int_equal(bc_qemu_expect(&f->q, dtb_bytes, 5000), ROT_OK);
  assert_int_equal(bc_qemu_expect(&f->q, "READY", 5000), ROT_OK);
}

/* Runs the stand-in with FAKE_QEMU_LEAK=fd; 1 if the child had fd open. */
static int child_has_fd(fixture_t *f, int fd) {
  char num[16];
  (void)snprintf(num, sizeof(num), "%d", fd);
  assert_int_equal(setenv("FAKE_QEMU_LEAK", num, 1), 0);
  start(f, "exit3");
  int code;
  assert_int_equal(bc_qemu_wait(&f->q, 5000, &code), ROT_OK);
  assert_int_equal(setenv("FAKE_QEMU_LEAK", "9999", 1), 0);
  int leaked = memmem(f->q.buf, f->q.len, "LEAKED", 6) != NULL;
  assert_true(leaked || memmem(f->q.buf, f->q.len, "NOLEAK", 6) != NULL);
  bc_qemu_stop(&f->q);
  return leaked;
}

static void qemu_test_start_passes_only_image_fds(void **state) {
  fixture_t *f = *state;
  /* Opened without close-on-exec: the launcher must still not pass it. */
  int stray = open("/dev/null", O_RDONLY);
  assert_true(stray > 2);
  assert_int_equal(child_has_fd(f, stray), 0);
  assert_int_equal(close(stray), 0);
  /* The check itself works: the image descriptor is there. */
  assert_int_equal(child_has_fd(f, f->dtb.fd), 1);
}

/* The launcher's blocked signals are QEMU's business no more: the child
 * starts with an empty mask, and the launcher gets its own mask back. */
static void qemu_test_start_signal_mask(void **state) {
  fixture_t *f = *state;
  sigset_t usr1, old, now;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
  f->spec.qemu = mask_fake;
  assert_int_equal(bc_qemu_start(&f->spec, &f->q), ROT_OK);
  int code;
  assert_int_equal(bc_qemu_wait(&f->q, 5000, &code), ROT_OK);
  assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &now), 0);
  assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
  assert_int_equal(code, 0);
  assert_non_null(memmem(f->q.buf, f->q.len, "SigBlk:\t0000000000000000", 24));
  assert_true(sigismember(&now, SIGUSR1));
  assert_false(sigismember(&now, SIGTERM));
}

static void qemu_test_send_and_expect_echo(void **state) {
  fixture_t *f = *state;
  start(f, "echo");
  assert_int_equal(bc_qemu_expect(&f->q, "READY", 5000), ROT_OK);
  assert_int_equal(bc_qemu_send(&f->q, "fdt print /chosen\n", 18), ROT_OK);
  assert_int_equal(bc_qemu_expect(&f->q, "fdt print /chosen", 5000), ROT_OK);
  /* Consumed: the same text is not found twice. */
  assert_int_equal(bc_qemu_expect(&f->q, "fdt print", 100), ROT_ERROR_HOST_TIMEOUT);
}

static void qemu_test_expect_echoes_to_fd(void **state) {
  fixture_t *f = *state;
  char path[160];
  (void)snprintf(path, sizeof(path), "%s/console.txt", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  start(f, "echo");
  f->q.echo_fd = fd;
  assert_int_equal(bc_qemu_expect(&f->q, "READY", 5000), ROT_OK);
  char back[256];
  ssize_t n = pread(fd, back, sizeof(back) - 1, 0);
  assert_true(n > 0);
  back[n] = '\0';
  assert_non_null(strstr(back, "BOOT"));
  assert_non_null(strstr(back, "READY"));
  assert_int_equal(close(fd), 0);
}

static void qemu_test_expect_timeout_then_stop_reaps(void **state) {
  fixture_t *f = *state;
  start(f, "sleep");
  pid_t pid = f->q.pid;
  assert_int_equal(bc_qemu_expect(&f->q, "NEVER PRINTED", 150),
                   ROT_ERROR_HOST_TIMEOUT);
  bc_qemu_stop(&f->q);
  assert_int_equal(f->q.pid, 0);
  assert_int_equal(f->q.exit_code, 128 + SIGTERM);
  assert_reaped(pid);
}

static void qemu_test_expect_child_exit(void **state) {
  fixture_t *f = *state;
  start(f, "exit3");
  assert_int_equal(bc_qemu_expect(&f->q, "NEVER PRINTED", 5000),
                   ROT_ERROR_HANDOFF_QEMU);
  int code = -1;
  assert_int_equal(bc_qemu_wait(&f->q, 5000, &code), ROT_OK);
  assert_int_equal(code, 3);
}

static void qemu_test_send_after_exit(void **state) {
  fixture_t *f = *state;
  start(f, "exit3");
  int code;
  assert_int_equal(bc_qemu_wait(&f->q, 5000, &code), ROT_OK);
  /* No SIGPIPE: an error. */
  rot_error_t err = ROT_OK;
  for (int i = 0; i < 4 && err == ROT_OK; i++) {
    err = bc_qemu_send(&f->q, "x\n", 2);
  }
  assert_int_equal(err, ROT_ERROR_HANDOFF_QEMU);
}

static void qemu_test_stop_escalates_to_kill(void **state) {
  fixture_t *f = *state;
  start(f, "stubborn");
  pid_t pid = f->q.pid;
  assert_int_equal(bc_qemu_expect(&f->q, "READY", 5000), ROT_OK);
  bc_qemu_stop(&f->q);
  assert_int_equal(f->q.exit_code, 128 + SIGKILL);
  assert_reaped(pid);
}

static void qemu_test_stop_idempotent(void **state) {
  fixture_t *f = *state;
  start(f, "exit3");
  bc_qemu_stop(&f->q);
  bc_qemu_stop(&f->q);
  bc_qemu_stop(NULL);
  bc_qemu_t zero;
  memset(&zero, 0, sizeof(zero));
  bc_qemu_stop(&zero);
  assert_true(fcntl(0, F_GETFD) >= 0); /* a zeroed struct closed nothing */
}

static void qemu_test_start_missing_binary(void **state) {
  fixture_t *f = *state;
  f->spec.qemu = "bc-no-such-qemu-binary";
  assert_int_equal(bc_qemu_start(&f->spec, &f->q), ROT_ERROR_HANDOFF_QEMU);
  assert_int_equal(f->q.pid, 0);
  f->spec.qemu = "/nonexistent/qemu";
  assert_int_equal(bc_qemu_start(&f->spec, &f->q), ROT_ERROR_HANDOFF_QEMU);
  assert_int_equal(f->q.pid, 0);
  /* No child left behind, not even a zombie. */
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

/* Starts spec->qemu = "fake-qemu" (a bare name) with PATH set to path,
 * from inside the directory that holds the stand-in. */
static rot_error_t start_from_dir_with_path(fixture_t *f, const char *path) {
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  const char *old = getenv("PATH");
  char saved[4096];
  (void)snprintf(saved, sizeof(saved), "%s", old != NULL ? old : "");
  assert_int_equal(chdir(dir), 0);
  assert_int_equal(setenv("PATH", path, 1), 0);
  assert_int_equal(setenv("FAKE_QEMU_MODE", "sleep", 1), 0);
  f->spec.qemu = "fake-qemu";
  rot_error_t err = bc_qemu_start(&f->spec, &f->q);
  assert_int_equal(setenv("PATH", saved, 1), 0);
  assert_int_equal(chdir(cwd), 0);
  if (err == ROT_OK) {
    bc_qemu_stop(&f->q);
  }
  return err;
}

static void qemu_test_start_path_empty_entry_not_cwd(void **state) {
  fixture_t *f = *state;
  /* The stand-in sits in the current directory; none of these PATHs
   * names that directory absolutely, so nothing may be started. */
  static const char *const paths[] = {
      ":/nonexistent", "/nonexistent:", "/nonexistent::/nonexistent2",
      ":", ".", "./", "/nonexistent:.", "..//" };
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    assert_int_equal(start_from_dir_with_path(f, paths[i]),
                     ROT_ERROR_HANDOFF_QEMU);
    assert_int_equal(f->q.pid, 0);
  }
  /* The same binary through an absolute entry is found. */
  char abs_path[128];
  (void)snprintf(abs_path, sizeof(abs_path), ":/nonexistent:%s:", dir);
  assert_int_equal(start_from_dir_with_path(f, abs_path), ROT_OK);
}

static void qemu_test_start_not_executable(void **state) {
  fixture_t *f = *state;
  char path[160];
  (void)snprintf(path, sizeof(path), "%s/noexec", dir);
  FILE *x = fopen(path, "w");
  assert_non_null(x);
  (void)fputs("#!/bin/sh\n", x);
  assert_int_equal(fclose(x), 0);
  f->spec.qemu = path;
  assert_int_equal(bc_qemu_start(&f->spec, &f->q), ROT_ERROR_HANDOFF_QEMU);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static void qemu_test_start_closed_fd(void **state) {
  fixture_t *f = *state;
  f->spec.kernel.fd = 1000; /* not open */
  assert_int_equal(bc_qemu_start(&f->spec, &f->q), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_qemu_start(NULL, &f->q), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_qemu_start(&f->spec, NULL), ROT_ERROR_INVALID_ARGUMENT);
}

static void qemu_test_console_calls_need_pipe(void **state) {
  fixture_t *f = *state;
  bc_qemu_t zero;
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(bc_qemu_expect(&zero, "x", 10), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_qemu_send(&zero, "x", 1), ROT_ERROR_INVALID_ARGUMENT);
  int code;
  assert_int_equal(bc_qemu_wait(&zero, 10, &code), ROT_ERROR_INVALID_ARGUMENT);
  start(f, "echo");
  assert_int_equal(bc_qemu_expect(&f->q, "", 10), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_qemu_expect(&f->q, NULL, 10), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_qemu_send(&f->q, NULL, 1), ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- bc_qemu_wait / bc_qemu_run ----------------------------------------------- */

static void qemu_test_wait_timeout_keeps_running(void **state) {
  fixture_t *f = *state;
  start(f, "sleep");
  int code = 42;
  assert_int_equal(bc_qemu_wait(&f->q, 100, &code), ROT_ERROR_HOST_TIMEOUT);
  assert_int_equal(code, 42);
  assert_int_equal(kill(f->q.pid, 0), 0); /* still there until stopped */
}

static void qemu_test_run_exit_code_and_file_console(void **state) {
  fixture_t *f = *state;
  char path[160];
  (void)snprintf(path, sizeof(path), "%s/console.txt", dir);
  f->spec.serial = BC_QEMU_SERIAL_FILE;
  f->spec.serial_path = path;
  f->spec.timeout_ms = 5000;
  assert_int_equal(setenv("FAKE_QEMU_MODE", "exit3", 1), 0);
  int code = -1;
  assert_int_equal(bc_qemu_run(&f->spec, &code), ROT_OK);
  assert_int_equal(code, 3);
  FILE *c = fopen(path, "r");
  assert_non_null(c);
  char line[64];
  assert_non_null(fgets(line, sizeof(line), c));
  assert_string_equal(line, "BOOT\n");
  assert_int_equal(fclose(c), 0);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static void qemu_test_run_timeout_kills(void **state) {
  fixture_t *f = *state;
  f->spec.timeout_ms = 150;
  assert_int_equal(setenv("FAKE_QEMU_MODE", "sleep", 1), 0);
  int code = 42;
  assert_int_equal(bc_qemu_run(&f->spec, &code), ROT_ERROR_HOST_TIMEOUT);
  assert_int_equal(code, 42);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

/* ---- the launcher dies --------------------------------------------------------- */

static void qemu_test_child_dies_with_launcher(void **state) {
  fixture_t *f = *state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t mid = fork();
  assert_true(mid >= 0);
  if (mid == 0) {
    /* A launcher that starts QEMU and then vanishes without stopping it. */
    (void)setenv("FAKE_QEMU_MODE", "sleep", 1);
    pid_t qpid = -1;
    if (bc_qemu_start(&f->spec, &f->q) == ROT_OK) {
      qpid = f->q.pid;
    }
    ssize_t w = write(p[1], &qpid, sizeof(qpid));
    (void)w;
    _exit(0);
  }
  (void)close(p[1]);
  pid_t qpid = -1;
  assert_int_equal(read(p[0], &qpid, sizeof(qpid)), (ssize_t)sizeof(qpid));
  (void)close(p[0]);
  assert_true(qpid > 0);
  int pfd = pidfd_open(qpid, 0);
  assert_int_equal(waitpid(mid, NULL, 0), mid);
  if (pfd >= 0) {
    /* Readable once it has exited (its reaper is init, not us). */
    struct pollfd w = {.fd = pfd, .events = POLLIN};
    assert_int_equal(poll(&w, 1, 5000), 1);
    (void)close(pfd);
  } else {
    assert_int_equal(errno, ESRCH); /* already gone */
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(qemu_test_argv_paths),
      cmocka_unit_test(qemu_test_argv_fds_and_log),
      cmocka_unit_test(qemu_test_argv_fd_wins_over_path),
      cmocka_unit_test(qemu_test_argv_log_path_commas_doubled),
      cmocka_unit_test(qemu_test_argv_overrides),
      cmocka_unit_test(qemu_test_argv_bad_specs),
      cmocka_unit_test(qemu_test_argv_store_overflow),
      cmocka_unit_test_setup_teardown(qemu_test_start_inherits_sealed_fd, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_start_passes_only_image_fds, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_start_signal_mask, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_send_and_expect_echo, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_expect_echoes_to_fd, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_expect_timeout_then_stop_reaps, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_expect_child_exit, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_send_after_exit, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_stop_escalates_to_kill, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_stop_idempotent, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_start_missing_binary, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_start_path_empty_entry_not_cwd, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_start_not_executable, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_start_closed_fd, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_console_calls_need_pipe, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_wait_timeout_keeps_running, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_run_exit_code_and_file_console, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_run_timeout_kills, setup, teardown),
      cmocka_unit_test_setup_teardown(qemu_test_child_dies_with_launcher, setup, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
