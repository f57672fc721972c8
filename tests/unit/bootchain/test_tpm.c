/*
 * The TPM layer against a real TPM: a swtpm provisioned and started by
 * scripts/swtpm.sh in a private directory for this test binary, on its own
 * socket, and stopped at the end. A reaper child cleans up even when the
 * binary dies half way (a sanitizer abort skips cmocka's teardown).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include "bootchain/tpm.h"
#include "rot/crypto.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"

/* ---- the swtpm fixture -------------------------------------------------- */

static struct {
  char root[PATH_MAX];   /* source tree, holds scripts/swtpm.sh */
  char dir[64];          /* private run directory */
  char tcti[PATH_MAX + 16];
  int reaper_fd;         /* write end: the reaper cleans up when it closes */
  pid_t reaper;
} fx = {.reaper_fd = -1, .reaper = -1};

static int is_root(const char *dir) {
  char p[PATH_MAX];
  int n = snprintf(p, sizeof(p), "%s/scripts/swtpm.sh", dir);
  return n > 0 && (size_t)n < sizeof(p) && access(p, R_OK) == 0;
}

/* The tree is the working directory (tests/run.sh) or, failing that, three
 * levels above build/test/bootchain/test_tpm. */
static int find_root(void) {
  if (getcwd(fx.root, sizeof(fx.root)) != NULL && is_root(fx.root)) {
    return 0;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) {
    return -1;
  }
  exe[n] = '\0';
  for (int up = 0; up < 4; up++) {
    char *slash = strrchr(exe, '/');
    if (slash == NULL) {
      return -1;
    }
    *slash = '\0';
  }
  if (!is_root(exe)) {
    return -1;
  }
  (void)snprintf(fx.root, sizeof(fx.root), "%s", exe);
  return 0;
}

/* Runs "scripts/swtpm.sh VERB DIR"; with out, keeps the first stdout line. */
static int swtpm_sh(const char *verb, char *out, size_t out_len) {
  char cmd[2 * PATH_MAX];
  (void)snprintf(cmd, sizeof(cmd), "bash '%s/scripts/swtpm.sh' %s '%s'",
                 fx.root, verb, fx.dir);
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    return -1;
  }
  char line[PATH_MAX + 64] = "";
  if (fgets(line, sizeof(line), p) == NULL) {
    line[0] = '\0';
  }
  char rest[256];
  while (fgets(rest, sizeof(rest), p) != NULL) {
  }
  int st = pclose(p);
  line[strcspn(line, "\n")] = '\0';
  if (out != NULL) {
    (void)snprintf(out, out_len, "%s", line);
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A child that waits for the pipe to close (normal teardown, or this process
 * dying any way at all) and then stops the swtpm and removes the directory.
 */
static int start_reaper(void) {
  int fds[2];
  if (pipe(fds) != 0) {
    return -1;
  }
  /* The swtpm daemon must not inherit the write end, or the pipe would
   * never close. */
  (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    close(fds[1]);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    char c;
    while (read(fds[0], &c, 1) > 0 || errno == EINTR) {
    }
    char cmd[2 * PATH_MAX];
    (void)snprintf(cmd, sizeof(cmd),
                   "bash '%s/scripts/swtpm.sh' stop '%s' >/dev/null 2>&1; "
                   "rm -rf '%s'",
                   fx.root, fx.dir, fx.dir);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(fds[0]);
  fx.reaper_fd = fds[1];
  fx.reaper = pid;
  return 0;
}

static int group_setup(void **state) {
  (void)state;
  /* The tests choose their TCTI themselves. */
  unsetenv(BC_TPM_ENV_TCTI);
  unsetenv(BC_TPM_ENV_TCTI_TOOLS);
  if (find_root() != 0) {
    print_error("cannot find scripts/swtpm.sh (run from the source tree)\n");
    return -1;
  }
  (void)snprintf(fx.dir, sizeof(fx.dir), "/tmp/bc-tpm-test-XXXXXX");
  if (mkdtemp(fx.dir) == NULL) {
    print_error("mkdtemp: %s\n", strerror(errno));
    return -1;
  }
  if (start_reaper() != 0) {
    rmdir(fx.dir);
    return -1;
  }
  if (swtpm_sh("start", fx.tcti, sizeof(fx.tcti)) != 0 ||
      strncmp(fx.tcti, "swtpm:path=", 11) != 0) {
    print_error("scripts/swtpm.sh start %s failed\n", fx.dir);
    return -1; /* the reaper still cleans up at exit */
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  if (fx.reaper_fd >= 0) {
    close(fx.reaper_fd);
    fx.reaper_fd = -1;
  }
  if (fx.reaper > 0) {
    int st;
    while (waitpid(fx.reaper, &st, 0) < 0 && errno == EINTR) {
    }
    fx.reaper = -1;
  }
  return 0;
}

static int tpm_setup(void **state) {
  bc_tpm_t *tpm = NULL;
  if (bc_tpm_open(&tpm, fx.tcti) != ROT_OK) {
    print_error("bc_tpm_open: %s\n", bc_tpm_strerror(NULL));
    return -1;
  }
  *state = tpm;
  return 0;
}

static int tpm_teardown(void **state) {
  bc_tpm_close(*state);
  *state = NULL;
  return 0;
}

/* After a test that killed the swtpm: bring it back for the others. */
static int tpm_teardown_restart(void **state) {
  tpm_teardown(state);
  return swtpm_sh("start", NULL, 0) == 0 ? 0 : -1;
}

/* ---- helpers -------------------------------------------------------------- */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void hash(uint16_t alg, const void *data, size_t len, uint8_t *out) {
  rot_hash_alg_t a = alg == BC_TPM_ALG_SHA256 ? ROT_HASH_SHA256 : ROT_HASH_SHA384;
  assert_int_equal(rot_hash(rot_host_crypto(), a, data, len, out,
                            rot_hash_len(a)),
                   ROT_OK);
}

static void digests_of(const char *text, bc_tpm_digests *d) {
  memset(d, 0, sizeof(*d));
  d->count = 2;
  d->d[0].alg = BC_TPM_ALG_SHA256;
  d->d[1].alg = BC_TPM_ALG_SHA384;
  hash(BC_TPM_ALG_SHA256, text, strlen(text), d->d[0].digest);
  hash(BC_TPM_ALG_SHA384, text, strlen(text), d->d[1].digest);
}

static void read_pcr(bc_tpm_t *tpm, uint16_t alg, uint32_t pcr, uint8_t *out) {
  size_t len = BC_TPM_MAX_DIGEST;
  assert_int_equal(bc_tpm_pcr_read(tpm, alg, pcr, out, &len), ROT_OK);
  assert_int_equal(len, bc_tpm_alg_size(alg));
}

static pid_t swtpm_pid(void) {
  char path[128];
  (void)snprintf(path, sizeof(path), "%s/swtpm.pid", fx.dir);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return -1;
  }
  long pid = -1;
  if (fscanf(f, "%ld", &pid) != 1) {
    pid = -1;
  }
  fclose(f);
  return (pid_t)pid;
}

/* Alive and not a zombie (a killed daemon waits for PID 1 to reap it). */
static int process_alive(pid_t pid) {
  char path[64];
  char line[128];
  (void)snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  int alive = 1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "State:", 6) == 0) {
      alive = strchr(line, 'Z') == NULL;
      break;
    }
  }
  fclose(f);
  return alive;
}

static void kill_swtpm(void) {
  pid_t pid = swtpm_pid();
  assert_true(pid > 1);
  assert_int_equal(kill(pid, SIGKILL), 0);
  for (int i = 0; i < 200 && process_alive(pid); i++) {
    usleep(10000);
  }
  assert_false(process_alive(pid));
}

/* ---- bc_tpm_alg_* --------------------------------------------------------- */

static void tpm_test_alg_size_table(void **state) {
  (void)state;
  assert_int_equal(bc_tpm_alg_size(BC_TPM_ALG_SHA1), 20);
  assert_int_equal(bc_tpm_alg_size(BC_TPM_ALG_SHA256), 32);
  assert_int_equal(bc_tpm_alg_size(BC_TPM_ALG_SHA384), 48);
  assert_int_equal(bc_tpm_alg_size(BC_TPM_ALG_SHA512), 64);
  assert_int_equal(bc_tpm_alg_size(0), 0);
  assert_int_equal(bc_tpm_alg_size(0x0012), 0);
  assert_string_equal(bc_tpm_alg_name(BC_TPM_ALG_SHA384), "sha384");
  assert_string_equal(bc_tpm_alg_name(0xffff), "unknown");
  /* The ids are the TPM's own. */
  assert_int_equal(BC_TPM_ALG_SHA256, TPM2_ALG_SHA256);
  assert_int_equal(BC_TPM_ALG_SHA384, TPM2_ALG_SHA384);
}

/* ---- bc_tpm_open ---------------------------------------------------------- */

static void tpm_test_open_explicit_tcti(void **state) {
  (void)state;
  bc_tpm_t *tpm = NULL;
  assert_int_equal(bc_tpm_open(&tpm, fx.tcti), ROT_OK);
  assert_non_null(tpm);
  assert_string_equal(bc_tpm_tcti(tpm), fx.tcti);
  assert_string_equal(bc_tpm_strerror(tpm), "");
  bc_tpm_close(tpm);
}

static void tpm_test_open_twice_both_work(void **state) {
  (void)state;
  /* A second open sends TPM2_Startup again: "already started" is fine. */
  bc_tpm_t *a = NULL;
  bc_tpm_t *b = NULL;
  assert_int_equal(bc_tpm_open(&a, fx.tcti), ROT_OK);
  assert_int_equal(bc_tpm_open(&b, fx.tcti), ROT_OK);
  uint8_t va[48];
  uint8_t vb[48];
  read_pcr(a, BC_TPM_ALG_SHA384, 0, va);
  read_pcr(b, BC_TPM_ALG_SHA384, 0, vb);
  assert_memory_equal(va, vb, 48);
  bc_tpm_close(a);
  bc_tpm_close(b);
}

static void tpm_test_open_env_bootchain_tcti(void **state) {
  (void)state;
  bc_tpm_t *tpm = NULL;
  setenv(BC_TPM_ENV_TCTI, fx.tcti, 1);
  rot_error_t err = bc_tpm_open(&tpm, NULL);
  unsetenv(BC_TPM_ENV_TCTI);
  assert_int_equal(err, ROT_OK);
  assert_string_equal(bc_tpm_tcti(tpm), fx.tcti);
  bc_tpm_close(tpm);
}

static void tpm_test_open_env_tools_tcti(void **state) {
  (void)state;
  bc_tpm_t *tpm = NULL;
  setenv(BC_TPM_ENV_TCTI_TOOLS, fx.tcti, 1);
  rot_error_t err = bc_tpm_open(&tpm, NULL);
  unsetenv(BC_TPM_ENV_TCTI_TOOLS);
  assert_int_equal(err, ROT_OK);
  assert_string_equal(bc_tpm_tcti(tpm), fx.tcti);
  bc_tpm_close(tpm);
}

static void tpm_test_open_env_precedence(void **state) {
  (void)state;
  /* BOOTCHAIN_TCTI wins over TPM2TOOLS_TCTI; an explicit string over both. */
  bc_tpm_t *tpm = NULL;
  setenv(BC_TPM_ENV_TCTI, "swtpm:path=/nonexistent/bc-env.sock", 1);
  setenv(BC_TPM_ENV_TCTI_TOOLS, fx.tcti, 1);
  rot_error_t err = bc_tpm_open(&tpm, NULL);
  assert_int_equal(err, ROT_ERROR_TPM_TCTI);
  assert_null(tpm);
  assert_non_null(strstr(bc_tpm_strerror(NULL), "/nonexistent/bc-env.sock"));
  err = bc_tpm_open(&tpm, fx.tcti);
  unsetenv(BC_TPM_ENV_TCTI);
  unsetenv(BC_TPM_ENV_TCTI_TOOLS);
  assert_int_equal(err, ROT_OK);
  bc_tpm_close(tpm);
}

static void tpm_test_open_unknown_tcti(void **state) {
  (void)state;
  bc_tpm_t *tpm = (bc_tpm_t *)(uintptr_t)1;
  assert_int_equal(bc_tpm_open(&tpm, "no-such-tcti:whatever"),
                   ROT_ERROR_TPM_TCTI);
  assert_null(tpm);
  const char *msg = bc_tpm_strerror(NULL);
  assert_non_null(strstr(msg, "\"no-such-tcti:whatever\""));
  assert_non_null(strstr(msg, "tcti:"));
}

static void tpm_test_open_missing_socket(void **state) {
  (void)state;
  char conf[PATH_MAX + 32];
  (void)snprintf(conf, sizeof(conf), "swtpm:path=%s/absent.sock", fx.dir);
  bc_tpm_t *tpm = NULL;
  double t0 = now_s();
  assert_int_equal(bc_tpm_open(&tpm, conf), ROT_ERROR_TPM_TCTI);
  assert_true(now_s() - t0 < 5.0);
  assert_null(tpm);
  const char *msg = bc_tpm_strerror(NULL);
  assert_non_null(strstr(msg, conf));
  assert_non_null(strstr(msg, Tss2_RC_Decode(TSS2_TCTI_RC_IO_ERROR)));
}

static void tpm_test_open_malformed_conf(void **state) {
  (void)state;
  bc_tpm_t *tpm = NULL;
  assert_int_equal(bc_tpm_open(&tpm, "swtpm:bogus-key=1"), ROT_ERROR_TPM_TCTI);
  assert_null(tpm);
  assert_non_null(strstr(bc_tpm_strerror(NULL), "swtpm:bogus-key=1"));
}

static void tpm_test_open_null(void **state) {
  (void)state;
  assert_int_equal(bc_tpm_open(NULL, fx.tcti), ROT_ERROR_INVALID_ARGUMENT);
  assert_string_not_equal(bc_tpm_strerror(NULL), "");
}

static void tpm_test_open_quiets_tss_log(void **state) {
  (void)state;
  bc_tpm_t *tpm = NULL;
  unsetenv("TSS2_LOG");
  assert_int_equal(bc_tpm_open(&tpm, fx.tcti), ROT_OK);
  bc_tpm_close(tpm);
  assert_non_null(getenv("TSS2_LOG"));
  assert_string_equal(getenv("TSS2_LOG"), "all+NONE");
  /* A user's own setting is left alone. */
  setenv("TSS2_LOG", "all+ERROR", 1);
  assert_int_equal(bc_tpm_open(&tpm, fx.tcti), ROT_OK);
  bc_tpm_close(tpm);
  assert_string_equal(getenv("TSS2_LOG"), "all+ERROR");
  setenv("TSS2_LOG", "all+NONE", 1);
}

static void tpm_test_close_null(void **state) {
  (void)state;
  bc_tpm_close(NULL);
  assert_string_equal(bc_tpm_tcti(NULL), "");
}

/* ---- bc_tpm_active_banks -------------------------------------------------- */

static void tpm_test_active_banks_sha256_sha384(void **state) {
  uint16_t algs[8] = {0};
  size_t n = 8;
  assert_int_equal(bc_tpm_active_banks(*state, algs, &n), ROT_OK);
  assert_int_equal(n, 2);
  int has256 = 0;
  int has384 = 0;
  for (size_t i = 0; i < n; i++) {
    has256 |= algs[i] == BC_TPM_ALG_SHA256;
    has384 |= algs[i] == BC_TPM_ALG_SHA384;
  }
  assert_true(has256 && has384);
}

static void tpm_test_active_banks_too_small(void **state) {
  uint16_t algs[1] = {0};
  size_t n = 1;
  assert_int_equal(bc_tpm_active_banks(*state, algs, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 2);
  n = 0;
  assert_int_equal(bc_tpm_active_banks(*state, NULL, &n),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 2);
}

static void tpm_test_active_banks_null(void **state) {
  uint16_t algs[4];
  size_t n = 4;
  assert_int_equal(bc_tpm_active_banks(NULL, algs, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_active_banks(*state, algs, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_active_banks(*state, NULL, &n),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- bc_tpm_extend -------------------------------------------------------- */

static void tpm_test_extend_matches_sha(void **state) {
  bc_tpm_t *tpm = *state;
  uint8_t before256[32];
  uint8_t before384[48];
  read_pcr(tpm, BC_TPM_ALG_SHA256, 16, before256);
  read_pcr(tpm, BC_TPM_ALG_SHA384, 16, before384);

  bc_tpm_digests d;
  digests_of("stage: opensbi fw_dynamic.bin", &d);
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_OK);

  /* PCR_new = H(PCR_old || digest), in each bank with its own hash. */
  uint8_t buf[96];
  uint8_t want256[32];
  uint8_t want384[48];
  memcpy(buf, before256, 32);
  memcpy(buf + 32, d.d[0].digest, 32);
  hash(BC_TPM_ALG_SHA256, buf, 64, want256);
  memcpy(buf, before384, 48);
  memcpy(buf + 48, d.d[1].digest, 48);
  hash(BC_TPM_ALG_SHA384, buf, 96, want384);

  uint8_t after256[32];
  uint8_t after384[48];
  read_pcr(tpm, BC_TPM_ALG_SHA256, 16, after256);
  read_pcr(tpm, BC_TPM_ALG_SHA384, 16, after384);
  assert_memory_equal(after256, want256, 32);
  assert_memory_equal(after384, want384, 48);
}

static void tpm_test_extend_one_bank_leaves_other(void **state) {
  bc_tpm_t *tpm = *state;
  uint8_t before384[48];
  uint8_t after384[48];
  read_pcr(tpm, BC_TPM_ALG_SHA384, 16, before384);
  bc_tpm_digests d;
  digests_of("sha256 only", &d);
  d.count = 1;
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_OK);
  read_pcr(tpm, BC_TPM_ALG_SHA384, 16, after384);
  assert_memory_equal(before384, after384, 48);
}

static void tpm_test_extend_pcr24_refused(void **state) {
  bc_tpm_t *tpm = *state;
  bc_tpm_digests d;
  digests_of("x", &d);
  assert_int_equal(bc_tpm_extend(tpm, 24, &d), ROT_ERROR_INVALID_ARGUMENT);
  assert_non_null(strstr(bc_tpm_strerror(tpm), "PCR 24"));
  assert_int_equal(bc_tpm_extend(tpm, 0xffffffffu, &d),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_extend(tpm, 32, &d), ROT_ERROR_INVALID_ARGUMENT);
}

static void tpm_test_extend_bad_digest_sets(void **state) {
  bc_tpm_t *tpm = *state;
  uint8_t before[48];
  uint8_t after[48];
  read_pcr(tpm, BC_TPM_ALG_SHA384, 16, before);
  bc_tpm_digests d;

  digests_of("x", &d);
  d.count = 0;
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_ERROR_INVALID_ARGUMENT);
  d.count = BC_TPM_MAX_BANKS + 1;
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_ERROR_INVALID_ARGUMENT);
  d.count = 0xffffffffu;
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_ERROR_INVALID_ARGUMENT);

  digests_of("x", &d);
  d.d[1].alg = 0x0099;
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_ERROR_INVALID_ARGUMENT);
  assert_non_null(strstr(bc_tpm_strerror(tpm), "0x0099"));

  digests_of("x", &d);
  d.d[1].alg = BC_TPM_ALG_SHA256;
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_ERROR_INVALID_ARGUMENT);
  assert_non_null(strstr(bc_tpm_strerror(tpm), "twice"));

  read_pcr(tpm, BC_TPM_ALG_SHA384, 16, after);
  assert_memory_equal(before, after, 48);
}

static void tpm_test_extend_null(void **state) {
  bc_tpm_digests d;
  digests_of("x", &d);
  assert_int_equal(bc_tpm_extend(NULL, 16, &d), ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_extend(*state, 16, NULL), ROT_ERROR_INVALID_ARGUMENT);
}

/* PCR 17 belongs to the dynamic root of trust: locality 0 may not extend
 * it, so the TPM itself refuses, and the text is tpm2-tss's decoding. */
static void tpm_test_extend_tpm_refusal_decoded(void **state) {
  bc_tpm_t *tpm = *state;
  bc_tpm_digests d;
  digests_of("x", &d);
  assert_int_equal(bc_tpm_extend(tpm, 17, &d), ROT_ERROR_TPM_COMMAND);
  const char *msg = bc_tpm_strerror(tpm);
  char want[256];
  (void)snprintf(want, sizeof(want), "PCR_Extend: %s",
                 Tss2_RC_Decode(TPM2_RC_LOCALITY));
  assert_string_equal(msg, want);
  assert_non_null(strstr(msg, "tpm:"));
  /* A refused command leaves the context usable. */
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_OK);
  assert_string_equal(bc_tpm_strerror(tpm), want); /* last failure kept */
}

static void tpm_test_extend_restores_sigmask(void **state) {
  sigset_t before;
  sigset_t after;
  assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
  bc_tpm_digests d;
  digests_of("x", &d);
  assert_int_equal(bc_tpm_extend(*state, 16, &d), ROT_OK);
  assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
  assert_int_equal(sigismember(&before, SIGPIPE), sigismember(&after, SIGPIPE));
}

/* The swtpm dies under an open session: errors, quickly, with the TCTI
 * named; later calls do not touch the dead connection; reopening fails
 * cleanly. Teardown brings the swtpm back. */
static void tpm_test_extend_tpm_killed(void **state) {
  bc_tpm_t *tpm = *state;
  bc_tpm_digests d;
  digests_of("before the crash", &d);
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_OK);

  kill_swtpm();

  double t0 = now_s();
  rot_error_t err = bc_tpm_extend(tpm, 16, &d);
  double took = now_s() - t0;
  print_message("extend after the swtpm was killed: %s after %.3f ms\n",
                rot_error_name(err), took * 1e3);
  assert_int_equal(err, ROT_ERROR_TPM_UNAVAILABLE);
  assert_true(took < 5.0);
  const char *msg = bc_tpm_strerror(tpm);
  assert_non_null(strstr(msg, "PCR_Extend: "));
  assert_non_null(strstr(msg, Tss2_RC_Decode(TSS2_TCTI_RC_IO_ERROR)));
  assert_non_null(strstr(msg, fx.tcti));

  uint8_t v[48];
  size_t len = sizeof(v);
  t0 = now_s();
  assert_int_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA384, 0, v, &len),
                   ROT_ERROR_TPM_UNAVAILABLE);
  assert_non_null(strstr(bc_tpm_strerror(tpm), "reopen"));
  uint16_t algs[4];
  size_t n = 4;
  assert_int_equal(bc_tpm_active_banks(tpm, algs, &n),
                   ROT_ERROR_TPM_UNAVAILABLE);
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_ERROR_TPM_UNAVAILABLE);
  assert_true(now_s() - t0 < 5.0);

  bc_tpm_t *again = NULL;
  t0 = now_s();
  assert_int_equal(bc_tpm_open(&again, fx.tcti), ROT_ERROR_TPM_TCTI);
  assert_true(now_s() - t0 < 5.0);
  assert_null(again);
  assert_non_null(strstr(bc_tpm_strerror(NULL), fx.tcti));
}

/* ---- a TPM that hangs up ----------------------------------------------------
 * A stand-in for swtpm speaking its two sockets: the control channel
 * acknowledges everything; the data channel answers the first command
 * with TPM_RC_INITIALIZE (not started), then reads each later command (the
 * TPM2_Startup that answer asks for, first) and closes the connection
 * without a word, as a TPM that dies mid-command.
 */

static pid_t fake_pid = -1;
static char fake_tcti[PATH_MAX + 16];

static int listen_unix(const char *path) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof(a));
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(a.sun_path)) {
    return -1;
  }
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(fd, 8) != 0) {
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  return fd;
}

static int read_full(int fd, uint8_t *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n <= 0) {
      return -1;
    }
    got += (size_t)n;
  }
  return 0;
}

static void fake_serve(int data, int ctrl) {
  unsigned commands = 0;
  for (;;) {
    struct pollfd p[2] = {{.fd = data, .events = POLLIN},
                          {.fd = ctrl, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      continue;
    }
    if (p[1].revents & POLLIN) {
      int c = accept(ctrl, NULL, NULL);
      uint8_t req[64];
      if (c >= 0 && read(c, req, sizeof(req)) > 0) {
        const uint8_t okay[4] = {0, 0, 0, 0};
        (void)!write(c, okay, sizeof(okay));
      }
      if (c >= 0) {
        close(c);
      }
    }
    if (p[0].revents & POLLIN) {
      int c = accept(data, NULL, NULL);
      if (c < 0) {
        continue;
      }
      uint8_t hdr[10];
      if (read_full(c, hdr, sizeof(hdr)) == 0) {
        uint32_t size = (uint32_t)hdr[2] << 24 | (uint32_t)hdr[3] << 16 |
                        (uint32_t)hdr[4] << 8 | hdr[5];
        uint8_t body[4096];
        if (size >= 10 && size - 10 <= sizeof(body) &&
            read_full(c, body, size - 10) == 0 && commands++ == 0) {
          /* tag NO_SESSIONS, size 10, TPM_RC_INITIALIZE */
          const uint8_t rsp[10] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x00};
          (void)!write(c, rsp, sizeof(rsp));
        }
      }
      close(c);
    }
  }
}

static int fake_setup(void **state) {
  char data_path[PATH_MAX];
  char ctrl_path[PATH_MAX + 8];
  (void)snprintf(data_path, sizeof(data_path), "%s/fake.sock", fx.dir);
  (void)snprintf(ctrl_path, sizeof(ctrl_path), "%s.ctrl", data_path);
  unlink(data_path);
  unlink(ctrl_path);
  int data = listen_unix(data_path);
  int ctrl = listen_unix(ctrl_path);
  if (data < 0 || ctrl < 0) {
    return -1;
  }
  fake_pid = fork();
  if (fake_pid == 0) {
    /* Dies with the test binary, and never holds the reaper's pipe open. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (fx.reaper_fd >= 0) {
      close(fx.reaper_fd);
    }
    fake_serve(data, ctrl);
    _exit(0);
  }
  close(data);
  close(ctrl);
  if (fake_pid < 0) {
    return -1;
  }
  (void)snprintf(fake_tcti, sizeof(fake_tcti), "swtpm:path=%s", data_path);
  *state = NULL;
  return 0;
}

static int fake_teardown(void **state) {
  bc_tpm_close(*state);
  *state = NULL;
  if (fake_pid > 0) {
    kill(fake_pid, SIGKILL);
    while (waitpid(fake_pid, NULL, 0) < 0 && errno == EINTR) {
    }
    fake_pid = -1;
  }
  return 0;
}

static void tpm_test_extend_tpm_hangs_up(void **state) {
  bc_tpm_t *tpm = NULL;
  assert_int_equal(bc_tpm_open(&tpm, fake_tcti), ROT_OK);
  *state = tpm;
  bc_tpm_digests d;
  digests_of("x", &d);
  double t0 = now_s();
  assert_int_equal(bc_tpm_extend(tpm, 16, &d), ROT_ERROR_TPM_UNAVAILABLE);
  assert_true(now_s() - t0 < 5.0);
  const char *msg = bc_tpm_strerror(tpm);
  assert_non_null(strstr(msg, "PCR_Extend: "));
  assert_non_null(strstr(msg, Tss2_RC_Decode(TSS2_TCTI_RC_IO_ERROR)));
  assert_non_null(strstr(msg, fake_tcti));
  uint8_t v[32];
  size_t len = sizeof(v);
  assert_int_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA256, 0, v, &len),
                   ROT_ERROR_TPM_UNAVAILABLE);
}

/* ---- bc_tpm_pcr_read / bc_tpm_pcr_read_bank ------------------------------- */

static void tpm_test_pcr_read_fresh_pcr_is_zero(void **state) {
  /* PCR 23 is never extended by these tests; swtpm starts it at zero. */
  uint8_t v[48];
  uint8_t zero[48] = {0};
  read_pcr(*state, BC_TPM_ALG_SHA384, 23, v);
  assert_memory_equal(v, zero, 48);
}

static void tpm_test_pcr_read_bank_all(void **state) {
  bc_tpm_t *tpm = *state;
  /* 24 SHA-384 values take the TPM several PCR_Read answers. */
  uint8_t all[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST];
  size_t len = 0;
  memset(all, 0xa5, sizeof(all));
  assert_int_equal(bc_tpm_pcr_read_bank(tpm, BC_TPM_ALG_SHA384, 0xffffff, all,
                                        &len),
                   ROT_OK);
  assert_int_equal(len, 48);
  for (uint32_t pcr = 0; pcr < BC_TPM_PCR_COUNT; pcr++) {
    uint8_t one[48];
    read_pcr(tpm, BC_TPM_ALG_SHA384, pcr, one);
    assert_memory_equal(all[pcr], one, 48);
  }
  /* A sparse mask fills only its own rows. */
  memset(all, 0xa5, sizeof(all));
  assert_int_equal(bc_tpm_pcr_read_bank(tpm, BC_TPM_ALG_SHA256,
                                        (1u << 0) | (1u << 23), all, NULL),
                   ROT_OK);
  uint8_t untouched[BC_TPM_MAX_DIGEST];
  memset(untouched, 0xa5, sizeof(untouched));
  assert_memory_equal(all[1], untouched, sizeof(untouched));
  assert_memory_not_equal(all[23], untouched, 32);
}

static void tpm_test_pcr_read_inactive_bank(void **state) {
  bc_tpm_t *tpm = *state;
  uint8_t v[20];
  size_t len = sizeof(v);
  assert_int_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA1, 0, v, &len),
                   ROT_ERROR_TPM_COMMAND);
  assert_non_null(strstr(bc_tpm_strerror(tpm), "sha1"));
}

static void tpm_test_pcr_read_small_buffer(void **state) {
  uint8_t v[32];
  size_t len = sizeof(v);
  assert_int_equal(bc_tpm_pcr_read(*state, BC_TPM_ALG_SHA384, 0, v, &len),
                   ROT_ERROR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 48);
}

static void tpm_test_pcr_read_bad_args(void **state) {
  bc_tpm_t *tpm = *state;
  uint8_t v[64];
  size_t len = sizeof(v);
  uint8_t all[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST];
  assert_int_equal(bc_tpm_pcr_read(NULL, BC_TPM_ALG_SHA256, 0, v, &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA256, 0, NULL, &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA256, 0, v, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA256, 24, v, &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA256, 0xffffffffu, v, &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read(tpm, 0x0099, 0, v, &len),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read_bank(tpm, BC_TPM_ALG_SHA256, 0, all, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read_bank(tpm, BC_TPM_ALG_SHA256, 1u << 24, all,
                                        NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read_bank(tpm, BC_TPM_ALG_SHA256, 1, NULL, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
  assert_int_equal(bc_tpm_pcr_read_bank(NULL, BC_TPM_ALG_SHA256, 1, all, NULL),
                   ROT_ERROR_INVALID_ARGUMENT);
}

/* ---- bc_tpm_strerror ------------------------------------------------------ */

static void tpm_test_strerror_empty_until_failure(void **state) {
  bc_tpm_t *tpm = *state;
  assert_string_equal(bc_tpm_strerror(tpm), "");
  uint8_t v[20];
  size_t len = sizeof(v);
  assert_int_not_equal(bc_tpm_pcr_read(tpm, BC_TPM_ALG_SHA1, 0, v, &len),
                       ROT_OK);
  assert_string_not_equal(bc_tpm_strerror(tpm), "");
}

/*
 * A TPM nobody has started: swtpm re-initialised through its control
 * channel (swtpm_ioctl -i, the power-on signal), which then answers every
 * command but TPM2_Startup with TPM_RC_INITIALIZE. bc_tpm_open sends no
 * Startup of its own; the first command gets that answer, sends
 * Startup(CLEAR) and is sent again. A second context finds the TPM
 * started and needs no Startup.
 */
static void tpm_test_open_unstarted_tpm_started_by_first_command(void **state) {
  (void)state;
  char cmd[PATH_MAX + 96];
  (void)snprintf(cmd, sizeof(cmd),
                 "swtpm_ioctl --unix '%s/tpm.sock.ctrl' -i >/dev/null 2>&1",
                 fx.dir);
  assert_int_equal(system(cmd), 0);
  bc_tpm_t *tpm = NULL;
  assert_int_equal(bc_tpm_open(&tpm, fx.tcti), ROT_OK);
  uint16_t algs[4];
  size_t n = 4;
  assert_int_equal(bc_tpm_active_banks(tpm, algs, &n), ROT_OK);
  assert_int_equal(n, 2);
  assert_string_equal(bc_tpm_strerror(tpm), "");
  bc_tpm_t *again = NULL;
  assert_int_equal(bc_tpm_open(&again, fx.tcti), ROT_OK);
  uint8_t v[48];
  read_pcr(again, BC_TPM_ALG_SHA384, 0, v);
  bc_tpm_close(again);
  bc_tpm_close(tpm);
}

#define TPM_TEST(fn) cmocka_unit_test_setup_teardown(fn, tpm_setup, tpm_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tpm_test_alg_size_table),
      cmocka_unit_test(tpm_test_open_explicit_tcti),
      cmocka_unit_test(tpm_test_open_twice_both_work),
      cmocka_unit_test(tpm_test_open_env_bootchain_tcti),
      cmocka_unit_test(tpm_test_open_env_tools_tcti),
      cmocka_unit_test(tpm_test_open_env_precedence),
      cmocka_unit_test(tpm_test_open_unknown_tcti),
      cmocka_unit_test(tpm_test_open_missing_socket),
      cmocka_unit_test(tpm_test_open_malformed_conf),
      cmocka_unit_test(tpm_test_open_null),
      cmocka_unit_test(tpm_test_open_quiets_tss_log),
      cmocka_unit_test(tpm_test_close_null),
      TPM_TEST(tpm_test_active_banks_sha256_sha384),
      TPM_TEST(tpm_test_active_banks_too_small),
      TPM_TEST(tpm_test_active_banks_null),
      TPM_TEST(tpm_test_extend_matches_sha),
      TPM_TEST(tpm_test_extend_one_bank_leaves_other),
      TPM_TEST(tpm_test_extend_pcr24_refused),
      TPM_TEST(tpm_test_extend_bad_digest_sets),
      TPM_TEST(tpm_test_extend_null),
      TPM_TEST(tpm_test_extend_tpm_refusal_decoded),
      TPM_TEST(tpm_test_extend_restores_sigmask),
      TPM_TEST(tpm_test_pcr_read_fresh_pcr_is_zero),
      TPM_TEST(tpm_test_pcr_read_bank_all),
      TPM_TEST(tpm_test_pcr_read_inactive_bank),
      TPM_TEST(tpm_test_pcr_read_small_buffer),
      TPM_TEST(tpm_test_pcr_read_bad_args),
      TPM_TEST(tpm_test_strerror_empty_until_failure),
      cmocka_unit_test(tpm_test_open_unstarted_tpm_started_by_first_command),
      cmocka_unit_test_setup_teardown(tpm_test_extend_tpm_hangs_up, fake_setup,
                                      fake_teardown),
      cmocka_unit_test_setup_teardown(tpm_test_extend_tpm_killed, tpm_setup,
                                      tpm_teardown_restart),
  };
  return cmocka_run_group_tests_name("bootchain/tpm", tests, group_setup,
                                     group_teardown);
}
