/*
 * bootchain: the measured boot chain's command line.
 *
 *   bootchain measure --out DIR   verify (via rotd), measure, write outputs
 *   bootchain boot                the same, then start the host CPU (QEMU)
 *   bootchain log [--json] FILE   print an event log and its replay
 *
 * Exit status: 0 success, 1 the boot was refused or failed (the host stays
 * off, one line says why), 2 usage error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bootchain/eventlog.h"
#include "bootchain/logprint.h"
#include "bootchain/measure.h"
#include "bootchain/qemu.h"
#include "bootchain/tpm.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot/update.h"
#include "rot_client/names.h"
#include "rot_host/file.h"
#include "rot_client/mbox_client.h"
#include "rot_client/parse.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
/* bootchain log: valid, but some digest could not be checked or some bank
 * replayed here (SHA-1, SHA-512, digests missing). */
#define EXIT_INCOMPLETE 3
#define MAX_SCRIPT 32

static int usage_error(const char *cmd, const char *fmt, const char *arg) {
  fprintf(stderr, "bootchain: %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (try 'bootchain %s --help')\n", cmd);
  return EXIT_USAGE;
}

/* ---- options shared by measure and boot ---------------------------------- */

typedef struct common_opts {
  bc_config_t cfg;
  const char *out;
  int json;
  int verbose;
  unsigned deadline; /* seconds for the whole measurement, 0: default */
} common_opts_t;

#define DEFAULT_DEADLINE 60u

enum {
  OPT_SOCKET = 0x100,
  OPT_TCTI,
  OPT_BASE_DTB,
  OPT_OUT,
  OPT_JSON,
  OPT_STRICT,
  OPT_VERBOSE,
  OPT_EXPECT,
  OPT_SEND,
  OPT_TIMEOUT,
  OPT_PAUSE,
  OPT_CONSOLE_LOG,
  OPT_DEADLINE,
  OPT_HELP,
};

static int common_opt(common_opts_t *o, int c, const char *arg) {
  switch (c) {
    case OPT_SOCKET: {
      /* Absolute from the start, as the default is (main). */
      static char abs_path[ROT_MBOX_SOCKET_PATH_MAX];
      o->cfg.socket =
          rot_mbox_socket_absolute(arg, abs_path, sizeof(abs_path)) == ROT_OK
              ? abs_path
              : arg;
      return 1;
    }
    case OPT_TCTI:
      o->cfg.tcti = arg;
      return 1;
    case OPT_BASE_DTB:
      o->cfg.base_dtb = arg;
      return 1;
    case OPT_OUT:
      o->out = arg;
      return 1;
    case OPT_JSON:
      o->json = 1;
      return 1;
    case OPT_VERBOSE:
      o->verbose = 1;
      return 1;
    case OPT_DEADLINE: {
      uint64_t v;
      if (rot_parse_uint(arg, ROT_PARSE_DEC, 3600, &v) != ROT_OK || v == 0) {
        return -1;
      }
      o->deadline = (unsigned)v;
      return 1;
    }
    default:
      return 0;
  }
}

#define COMMON_LONGOPTS                                         \
  {"socket", required_argument, NULL, OPT_SOCKET},              \
      {"tcti", required_argument, NULL, OPT_TCTI},              \
      {"base-dtb", required_argument, NULL, OPT_BASE_DTB},      \
      {"out", required_argument, NULL, OPT_OUT},                \
      {"json", no_argument, NULL, OPT_JSON},                    \
      {"verbose", no_argument, NULL, OPT_VERBOSE},              \
      {"deadline", required_argument, NULL, OPT_DEADLINE},      \
      {"help", no_argument, NULL, OPT_HELP}

static const char kCommonHelp[] =
    "  --socket PATH    rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --tcti CONF      TPM (tpm2-tss TCTI string, e.g. swtpm:path=SOCK,\n"
    "                   device:/dev/tpmrm0; default: $BOOTCHAIN_TCTI,\n"
    "                   $TPM2TOOLS_TCTI, the project's swtpm at run/tpm when\n"
    "                   it serves (scripts/swtpm.sh start run/tpm), then\n"
    "                   tpm2-tss's default search)\n"
    "  --base-dtb FILE  QEMU virt device tree to start the handoff from\n"
    "                   (default: the one dumped at build time)\n"
    "  --out DIR        write eventlog.bin, handoff.dtb, opensbi.bin,\n"
    "                   payload.bin, measurements.json into DIR (boot: once\n"
    "                   the host runs; one that cannot be written stops it)\n"
    "  --json           print the summary as JSON\n"
    "  --verbose        print the time each phase took (wall and CPU)\n"
    "  --deadline SECS  give up (host off) if verifying and measuring take\n"
    "                   longer, e.g. a TPM that stopped answering\n"
    "                   (default 60)\n";

static json_object *stage_json(const char *region, const rot_mbox_image_info_t *i) {
  char ver[24];
  snprintf(ver, sizeof(ver), "%u.%u.%u", i->ver_major, i->ver_minor, i->ver_patch);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "region", json_object_new_string(region));
  json_object_object_add(o, "version", json_object_new_string(ver));
  json_object_object_add(o, "svn", json_object_new_int64(i->svn));
  return o;
}

/* Three decimals, as a JSON number. */
static json_object *ms_json(double ms) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.3f", ms);
  return json_object_new_double_s(ms, buf);
}

static void print_summary_json(const bc_measured_t *m) {
  json_object *o = json_object_new_object();
  char mask[16];
  snprintf(mask, sizeof(mask), "0x%08x", m->locked_mask);
  json_object_object_add(o, "result", json_object_new_string("measured"));
  json_object_object_add(o, "opensbi", stage_json(m->firmware.region, &m->firmware.info));
  json_object_object_add(o, "payload", stage_json(m->payload.region, &m->payload.info));
  json_object_object_add(o, "events", json_object_new_int64(m->events));
  json_object_object_add(o, "log_length", json_object_new_int64((int64_t)m->log.len));
  json_object_object_add(o, "dtb_length", json_object_new_int64((int64_t)m->dtb.len));
  json_object_object_add(o, "locked_mask", json_object_new_string(mask));
  json_object_object_add(o, "read_ms", ms_json(m->t.read_ms));
  json_object_object_add(o, "measure_ms", ms_json(m->t.measure_ms));
  json_object_object_add(o, "extend_ms", ms_json(m->t.extend_ms));
  json_object_object_add(o, "extends", json_object_new_int64(m->t.extends));
  json_object_object_add(o, "total_ms", ms_json(m->t.total_ms));
  json_object_object_add(o, "cpu_ms", ms_json(m->t.cpu_ms));
  /* Key names of their own: a flat "cpu_ms"/"total_ms" lookup still finds
   * the totals above. */
  json_object *phases = json_object_new_array();
  for (uint32_t i = 0; i < m->t.phase_count; i++) {
    json_object *p = json_object_new_object();
    json_object_object_add(p, "phase", json_object_new_string(m->t.phases[i].name));
    json_object_object_add(p, "wall_ms", ms_json(m->t.phases[i].ms));
    json_object_object_add(p, "thread_cpu_ms", ms_json(m->t.phases[i].cpu_ms));
    json_object_array_add(phases, p);
  }
  json_object_object_add(o, "phases", phases);
  json_object_object_add(o, "tpm_open_ms", ms_json(m->t.tpm_open_ms));
  json_object_object_add(o, "tpm_open_cpu_ms", ms_json(m->t.tpm_open_cpu_ms));
  puts(json_object_to_json_string_ext(
      o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
}

static void print_summary(const common_opts_t *o, const bc_measured_t *m) {
  if (o->json) {
    print_summary_json(m);
    return;
  }
  printf("bootchain: opensbi %u.%u.%u (svn %u) from %s [%s], payload %u.%u.%u "
         "(svn %u) from %s [%s]\n",
         m->firmware.info.ver_major, m->firmware.info.ver_minor,
         m->firmware.info.ver_patch, m->firmware.info.svn, m->firmware.region,
         rot_boot_reason_name(m->firmware.reason), m->payload.info.ver_major,
         m->payload.info.ver_minor, m->payload.info.ver_patch,
         m->payload.info.svn, m->payload.region,
         rot_boot_reason_name(m->payload.reason));
  printf("bootchain: measured %u events into PCRs 0-7 (", m->events);
  for (uint32_t i = 0; i < m->bank_count; i++) {
    printf("%s%s", i ? " + " : "", bc_log_alg_name(m->banks[i]));
  }
  printf("), event log %zu bytes at 0x%llx, handoff DTB %zu bytes, boot "
         "regions locked (mask 0x%08x)\n",
         m->log.len, (unsigned long long)m->log_addr, m->dtb.len,
         m->locked_mask);
  if (o->verbose) {
    printf("bootchain: read+check+seal %.1f ms, measure %.1f ms (%u extends, "
           "%.1f ms), total %.1f ms (CPU %.1f ms, all threads)\n",
           m->t.read_ms, m->t.measure_ms, m->t.extends, m->t.extend_ms,
           m->t.total_ms, m->t.cpu_ms);
    printf("bootchain: where the time went, phase by phase (this thread's CPU "
           "beside it):\n");
    for (uint32_t i = 0; i < m->t.phase_count; i++) {
      printf("bootchain:   %-16s %7.2f ms  CPU %6.2f ms\n", m->t.phases[i].name,
             m->t.phases[i].ms, m->t.phases[i].cpu_ms);
    }
    printf("bootchain:   %-16s %7.2f ms  CPU %6.2f ms  (its own thread, from "
           "tpm-start to tpm-wait)\n",
           "tpm-open", m->t.tpm_open_ms, m->t.tpm_open_cpu_ms);
  }
}

/*
 * tpm2-tss's socket TCTIs wait for an answer without a time limit, so a
 * TPM that stops answering (not one that goes away: that is an error at
 * once) would hang the boot. Nothing has started yet when this fires, so
 * leaving at once keeps the host off, which is the safe outcome.
 */
static void on_deadline(int sig) {
  (void)sig;
  static const char msg[] =
      "bootchain: deadline: the TPM or rotd stopped answering; the host stays off\n";
  ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
  (void)n;
  _exit(EXIT_FAIL);
}

/*
 * The embedded default, like rotctl's run/rotd.sock: with no TCTI given
 * anywhere, use the project-managed swtpm in the run directory when it is
 * serving (scripts/swtpm.sh start run/tpm); otherwise tpm2-tss searches
 * its own defaults (a resource manager, /dev/tpmrm0, ...).
 */
#define DEFAULT_SWTPM_SOCKET "run/tpm/tpm.sock"

static const char *default_tcti(const char *given) {
  static char conf[sizeof("swtpm:path=") + sizeof(DEFAULT_SWTPM_SOCKET)];
  if (given != NULL || getenv(BC_TPM_ENV_TCTI) != NULL ||
      getenv(BC_TPM_ENV_TCTI_TOOLS) != NULL ||
      access(DEFAULT_SWTPM_SOCKET, F_OK) != 0) {
    return given;
  }
  snprintf(conf, sizeof(conf), "swtpm:path=%s", DEFAULT_SWTPM_SOCKET);
  return conf;
}

/* The --out copies (bc_measured_write); one line on failure. */
static int write_outputs(const common_opts_t *o, const bc_measured_t *m,
                         const char *then) {
  rot_error_t err = bc_measured_write(m, o->out);
  if (err != ROT_OK) {
    fprintf(stderr, "bootchain: writing %s: %s%s\n", o->out,
            rot_error_str(err), then);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}

/*
 * Measure, and with write_now also write the --out copies. Without it
 * (boot) the copies are written once the host runs, off the boot's
 * critical path; the directory is still created here first, so a --out
 * that cannot be a directory fails before anything is measured.
 */
static int measure_or_fail(const common_opts_t *o, bc_measured_t *m,
                           int write_now) {
  if (o->out != NULL && !write_now) {
    rot_error_t derr = bc_measured_dir(o->out);
    if (derr != ROT_OK) {
      fprintf(stderr, "bootchain: --out %s: %s; the host stays off\n", o->out,
              rot_error_str(derr));
      return EXIT_FAIL;
    }
  }
  bc_config_t cfg = o->cfg;
  cfg.tcti = default_tcti(cfg.tcti);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_deadline;
  sigaction(SIGALRM, &sa, NULL);
  alarm(o->deadline != 0 ? o->deadline : DEFAULT_DEADLINE);
  rot_error_t err = bc_measure(&cfg, m);
  alarm(0);
  if (err != ROT_OK) {
    fprintf(stderr, "bootchain: %s: %s: %s; the host stays off\n", m->stage,
            rot_error_name(err), m->detail);
    if (err == ROT_ERROR_HOST_PEER_UID) {
      fprintf(stderr, "bootchain: %s; if rotd runs as that user on purpose, "
              "set %s to its uid\n", rot_error_str(err),
              ROT_MBOX_DAEMON_UID_ENV);
    }
    return EXIT_FAIL;
  }
  if (o->out != NULL && write_now && write_outputs(o, m, "") != EXIT_OK) {
    bc_measured_free(m);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}

/* ---- measure ------------------------------------------------------------- */

static const char kMeasureHelp[] =
    "usage: bootchain measure --out DIR [options]\n\n"
    "Ask the security chip (rotd) which OpenSBI and payload images boot,\n"
    "read them once into sealed memory, check they are the bytes the chip\n"
    "verified, lock the boot regions, and measure every stage of the PCR\n"
    "plan (docs/pcr-plan.md) into the TPM and a TCG event log. The host is\n"
    "not started.\n\noptions:\n";

static int cmd_measure(int argc, char **argv) {
  static const struct option opts[] = {COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
  common_opts_t o;
  memset(&o, 0, sizeof(o));
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == OPT_HELP) {
      fputs(kMeasureHelp, stdout);
      fputs(kCommonHelp, stdout);
      return EXIT_OK;
    }
    int r = common_opt(&o, c, optarg);
    if (r < 0) {
      return usage_error("measure", "bad --deadline '%s' (1..3600 seconds)", optarg);
    }
    if (r == 0) {
      return usage_error("measure", "bad option '%s'", argv[optind - 1]);
    }
  }
  if (optind != argc) {
    return usage_error("measure", "unexpected argument '%s'", argv[optind]);
  }
  if (o.out == NULL) {
    return usage_error("measure", "%s", "--out DIR is required");
  }
  bc_measured_t m;
  int rc = measure_or_fail(&o, &m, 1);
  if (rc != EXIT_OK) {
    return rc;
  }
  print_summary(&o, &m);
  if (!o.json) {
    printf("bootchain: outputs in %s\n", o.out);
  }
  bc_measured_free(&m);
  return EXIT_OK;
}

/* ---- boot ---------------------------------------------------------------- */

static const char kBootHelp[] =
    "usage: bootchain boot [options]\n\n"
    "Measure as 'bootchain measure' does, then start the host CPU:\n"
    "  qemu-system-riscv64 -M virt -bios <OpenSBI> -kernel <payload>\n"
    "      -dtb <handoff> -device loader,file=<event log>,addr=<reserved>\n"
    "from the sealed memory that was measured. Any failure leaves the host\n"
    "off and names the reason.\n\n"
    "Without --expect/--send the console is this terminal: Ctrl-A x quits\n"
    "QEMU (Ctrl-A h lists the escapes; Ctrl-C quits too). With them, the\n"
    "console is driven as a script, in order, echoed to stdout, and the\n"
    "host is stopped when the script ends.\n\n"
    "options:\n";

static const char kBootOpts[] =
    "  --expect TEXT    wait until the console prints TEXT\n"
    "  --send TEXT      type TEXT (\\n and \\r are escapes)\n"
    "  --timeout SECS   per --expect (default 30)\n"
    "  --console-log F  also append the console to file F\n"
    "  --pause          after measuring, wait for a line on stdin before\n"
    "                   starting the host\n";

typedef struct step {
  int send; /* 0: expect */
  char *text;
} step_t;

static char *unescape(const char *in) {
  char *out = malloc(strlen(in) + 1);
  char *o = out;
  if (out == NULL) {
    return NULL;
  }
  for (const char *p = in; *p != '\0'; p++) {
    if (*p == '\\' && (p[1] == 'n' || p[1] == 'r' || p[1] == '\\')) {
      p++;
      *o++ = *p == 'n' ? '\n' : *p == 'r' ? '\r' : '\\';
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

static int run_script(bc_qemu_t *q, const step_t *steps, size_t n,
                      unsigned timeout_ms) {
  for (size_t i = 0; i < n; i++) {
    rot_error_t err = steps[i].send
                          ? bc_qemu_send(q, steps[i].text, strlen(steps[i].text))
                          : bc_qemu_expect(q, steps[i].text, timeout_ms);
    if (err != ROT_OK) {
      fflush(stdout);
      fprintf(stderr, "\nbootchain: console: %s '%s': %s\n",
              steps[i].send ? "send" : "expect", steps[i].text,
              rot_error_str(err));
      return EXIT_FAIL;
    }
  }
  return EXIT_OK;
}

static int cmd_boot(int argc, char **argv) {
  static const struct option opts[] = {
      COMMON_LONGOPTS,
      {"expect", required_argument, NULL, OPT_EXPECT},
      {"send", required_argument, NULL, OPT_SEND},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"console-log", required_argument, NULL, OPT_CONSOLE_LOG},
      {"pause", no_argument, NULL, OPT_PAUSE},
      {NULL, 0, NULL, 0},
  };
  common_opts_t o;
  memset(&o, 0, sizeof(o));
  step_t steps[MAX_SCRIPT];
  size_t nsteps = 0;
  unsigned timeout_ms = 30000;
  const char *console_log = NULL;
  int pause = 0, rc = EXIT_USAGE;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == OPT_HELP) {
      fputs(kBootHelp, stdout);
      fputs(kCommonHelp, stdout);
      fputs(kBootOpts, stdout);
      rc = EXIT_OK;
      goto out;
    }
    int r = common_opt(&o, c, optarg);
    if (r < 0) {
      rc = usage_error("boot", "bad --deadline '%s' (1..3600 seconds)", optarg);
      goto out;
    }
    if (r > 0) {
      continue;
    }
    if (c == OPT_EXPECT || c == OPT_SEND) {
      if (nsteps == MAX_SCRIPT) {
        rc = usage_error("boot", "%s", "too many --expect/--send steps");
        goto out;
      }
      steps[nsteps].send = c == OPT_SEND;
      steps[nsteps].text = unescape(optarg);
      if (steps[nsteps].text == NULL || steps[nsteps].text[0] == '\0') {
        free(steps[nsteps].text);
        rc = usage_error("boot", "%s", "empty --expect/--send text");
        goto out;
      }
      nsteps++;
    } else if (c == OPT_TIMEOUT) {
      uint64_t v;
      if (rot_parse_uint(optarg, ROT_PARSE_DEC, 3600, &v) != ROT_OK || v == 0) {
        rc = usage_error("boot", "bad --timeout '%s' (1..3600 seconds)", optarg);
        goto out;
      }
      timeout_ms = (unsigned)v * 1000u;
    } else if (c == OPT_CONSOLE_LOG) {
      console_log = optarg;
    } else if (c == OPT_PAUSE) {
      pause = 1;
    } else {
      rc = usage_error("boot", "bad option '%s'", argv[optind - 1]);
      goto out;
    }
  }
  if (optind != argc) {
    rc = usage_error("boot", "unexpected argument '%s'", argv[optind]);
    goto out;
  }

  bc_measured_t m;
  /* With --pause the copies are there to look at before the go-ahead. */
  rc = measure_or_fail(&o, &m, pause);
  if (rc != EXIT_OK) {
    goto out;
  }
  print_summary(&o, &m);
  fflush(stdout);
  if (pause) {
    fprintf(stderr, "bootchain: measured; press Enter to start the host\n");
    char line[16];
    if (fgets(line, sizeof(line), stdin) == NULL) {
      fprintf(stderr, "bootchain: no go-ahead on stdin; the host stays off\n");
      bc_measured_free(&m);
      rc = EXIT_FAIL;
      goto out;
    }
  }

  bc_qemu_spec_t spec;
  bc_measured_qemu_spec(&m, &spec);
  int interactive = nsteps == 0 && console_log == NULL;
  spec.serial = interactive ? BC_QEMU_SERIAL_STDIO : BC_QEMU_SERIAL_PIPE;
  /* Not zeroed: bc_qemu_start sets every field, and the 64 KiB console
   * buffer is read only up to what was written into it, so its pages are
   * not faulted in for a boot whose console is not piped. */
  bc_qemu_t *q = malloc(sizeof(*q));
  rot_error_t err = q == NULL ? ROT_ERROR_HANDOFF_QEMU : bc_qemu_start(&spec, q);
  if (err != ROT_OK) {
    fprintf(stderr, "bootchain: host CPU: %s\n", rot_error_str(err));
    bc_measured_free(&m);
    free(q);
    rc = EXIT_FAIL;
    goto out;
  }
  /* The --out copies, now that the host runs: QEMU boots the sealed
   * memory, never these files, so they need not hold it up. A copy that
   * cannot be written still fails the boot: the host is stopped. */
  if (o.out != NULL && !pause &&
      write_outputs(&o, &m, "; the host is stopped") != EXIT_OK) {
    bc_measured_free(&m);
    bc_qemu_stop(q);
    free(q);
    rc = EXIT_FAIL;
    goto out;
  }
  /* QEMU has the descriptors now; ours can go. */
  bc_measured_free(&m);
  if (interactive) {
    int code = 0;
    err = bc_qemu_wait(q, spec.timeout_ms, &code);
    bc_qemu_stop(q);
    free(q);
    if (err != ROT_OK) {
      fprintf(stderr, "bootchain: host CPU: %s\n", rot_error_str(err));
      rc = EXIT_FAIL;
    } else {
      rc = code == 0 ? EXIT_OK : EXIT_FAIL;
    }
    goto out;
  }
  FILE *log = console_log != NULL ? fopen(console_log, "a") : NULL;
  if (console_log != NULL && log == NULL) {
    fprintf(stderr, "bootchain: cannot open %s\n", console_log);
    bc_qemu_stop(q);
    free(q);
    rc = EXIT_FAIL;
    goto out;
  }
  q->echo_fd = log != NULL ? fileno(log) : STDOUT_FILENO;
  rc = run_script(q, steps, nsteps, timeout_ms);
  if (nsteps == 0) {
    int code = 0;
    rc = bc_qemu_wait(q, 0, &code) == ROT_OK && code == 0 ? EXIT_OK : EXIT_FAIL;
  }
  bc_qemu_stop(q);
  free(q);
  if (log != NULL) {
    fclose(log);
  }
  printf("\n");
out:
  for (size_t i = 0; i < nsteps; i++) {
    free(steps[i].text);
  }
  return rc;
}

/* ---- log ----------------------------------------------------------------- */

static int cmd_log(int argc, char **argv) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, OPT_JSON},
      {"strict", no_argument, NULL, OPT_STRICT},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  unsigned flags = 0;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == OPT_HELP) {
      fputs("usage: bootchain log [--json] [--strict] FILE\n\n"
            "Print a TCG event log (header, every event, decoded event data)\n"
            "and the PCR values it replays to, per bank. Reads logs as\n"
            "firmware writes them: crypto-agile or TCG 1.2 SHA-1, EV_NO_ACTION\n"
            "and StartupLocality events, events with fewer digests than the\n"
            "header's banks (a warning); a digest is checked against its data\n"
            "only for the types the PC Client PFP defines that way.\n\n"
            "Exit 0: every data-bound digest checked and every bank replayed.\n"
            "Exit 1: malformed, or a digest disagrees with its data.\n"
            "Exit 3: valid, but some digest was not checked or some bank not\n"
            "replayed (no such hash here, e.g. SHA-1 or SHA-512; digests\n"
            "missing).\n\noptions:\n  --json    one JSON object\n"
            "  --strict  the boot chain's own rules (docs/pcr-plan.md), for\n"
            "            logs it wrote\n",
            stdout);
      return EXIT_OK;
    }
    if (c == OPT_JSON) {
      flags |= BC_LOG_PRINT_JSON;
    } else if (c == OPT_STRICT) {
      flags |= BC_LOG_PRINT_STRICT;
    } else {
      return usage_error("log", "bad option '%s'", argv[optind - 1]);
    }
  }
  if (optind + 1 != argc) {
    return usage_error("log", "%s", "expected exactly one FILE");
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  rot_error_t err = rot_file_read(argv[optind], BC_LOG_MAX_SIZE, &buf, &len);
  if (err != ROT_OK) {
    fprintf(stderr, "bootchain: log %s: %s\n", argv[optind], rot_error_str(err));
    return EXIT_FAIL;
  }
  const rot_crypto_t *crypto = rot_host_crypto();
  err = crypto == NULL ? ROT_ERROR_CRYPTO_FAILED
                       : bc_log_print(stdout, buf, len, crypto, flags);
  free(buf);
  if (err != ROT_OK) {
    fprintf(stderr, "bootchain: log %s: %s (%s)\n", argv[optind],
            rot_error_name(err), rot_error_str(err));
    return err == ROT_ERROR_EVENTLOG_UNCHECKED ? EXIT_INCOMPLETE : EXIT_FAIL;
  }
  return EXIT_OK;
}

/* ---- dispatch ------------------------------------------------------------- */

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *synopsis;
} command_t;

static const command_t kCommands[] = {
    {"measure", cmd_measure, "--out DIR [--socket S] [--tcti T] [--json]"},
    {"boot", cmd_boot, "[--out DIR] [--expect TEXT] [--send TEXT] [--pause]"},
    {"log", cmd_log, "[--json] [--strict] FILE"},
    {NULL, NULL, NULL},
};

static void main_help(void) {
  puts("usage: bootchain COMMAND [options]\n"
       "       bootchain COMMAND --help\n\n"
       "Measured boot: the security chip's verified images, measured into the\n"
       "TPM and a TCG event log, handed to the host CPU (QEMU riscv64 virt)\n"
       "with a device-tree handoff.\n\ncommands:");
  for (const command_t *c = kCommands; c->name != NULL; c++) {
    printf("  %-8s %s\n", c->name, c->synopsis);
  }
  puts("\nexit status: 0 success, 1 refused or failed (host off), 2 usage");
}

int main(int argc, char **argv) {
  /* Pin rotd's default socket to an absolute path before anything runs. */
  (void)rot_mbox_default_socket();
  if (argc < 2) {
    fputs("bootchain: no command given (try 'bootchain --help')\n", stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    main_help();
    return EXIT_OK;
  }
  for (const command_t *c = kCommands; c->name != NULL; c++) {
    if (strcmp(argv[1], c->name) == 0) {
      /* A bad ROT_CRYPTO stops the command before it does anything. The
       * backend itself starts where it is first needed (bc_measure starts
       * it while the chip decides), and a backend that cannot start fails
       * the command there. */
      if (rot_host_crypto_name() == NULL) {
        rot_error_t cerr = ROT_ERROR_CRYPTO_UNKNOWN_BACKEND;
        fprintf(stderr, "bootchain: %s: ROT_CRYPTO='%s': %s (%s)\n", c->name,
                getenv("ROT_CRYPTO") != NULL ? getenv("ROT_CRYPTO") : "",
                rot_error_name(cerr), rot_error_str(cerr));
        return EXIT_USAGE;
      }
      int rc = c->run(argc - 1, argv + 1);
      if (fflush(stdout) != 0) {
        return EXIT_FAIL;
      }
      return rc;
    }
  }
  fprintf(stderr, "bootchain: unknown command '%s' (try 'bootchain --help')\n",
          argv[1]);
  return EXIT_USAGE;
}
