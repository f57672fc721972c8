/*
 * TPM access through tpm2-tss: TCTI loader + ESAPI (see bootchain/tpm.h).
 */
#include "bootchain/tpm.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#define ERR_MAX 512
#define DEFAULT_TCTI_NAME "(tpm2-tss default)"
/* PCR_Read retries when an extend lands between two partial reads. */
#define READ_ATTEMPTS 3

struct bc_tpm {
  TSS2_TCTI_CONTEXT *tcti;
  ESYS_CONTEXT *esys;
  char *conf; /* NULL: tpm2-tss's default search */
  /*
   * The transport failure that made the TPM unusable, "" while it works.
   * After any TCTI error ESAPI 3.2 refuses every later command with
   * BAD_SEQUENCE, and a TPM that comes back may have been reset meanwhile
   * (PCRs cleared), so measuring on would give a log that no longer matches
   * the PCRs: the context stays failed and the caller must reopen.
   */
  char lost[ERR_MAX];
  char err[ERR_MAX];
  int startup_sent; /* TPM2_Startup sent by this context (started_now) */
};

/* Where bc_tpm_open reports, since it has no context to hand back. */
static _Thread_local char open_err[ERR_MAX];

static void vformat(char *buf, const char *fmt, va_list ap) {
  (void)vsnprintf(buf, ERR_MAX, fmt, ap);
}

static void set_err(bc_tpm_t *tpm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(bc_tpm_t *tpm, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vformat(tpm != NULL ? tpm->err : open_err, fmt, ap);
  va_end(ap);
}

static const char *tcti_label(const char *conf) {
  return conf != NULL ? conf : DEFAULT_TCTI_NAME;
}

static int is_tcti_rc(TSS2_RC rc) {
  return (rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER;
}

/*
 * tpm2-tss 3.2 writes to its sockets with write(), so a TPM that closes the
 * connection at the wrong moment raises SIGPIPE, whose default action kills
 * the whole process. A library must not change the process's signal
 * dispositions, so SIGPIPE is blocked in this thread around each command and
 * a SIGPIPE raised meanwhile is consumed; the failed write then surfaces as a
 * TCTI I/O error like any other lost connection.
 */
typedef struct pipe_guard {
  sigset_t old;
  int restore;
  int was_pending;
} pipe_guard_t;

static void pipe_guard_begin(pipe_guard_t *g) {
  sigset_t set;
  sigset_t pend;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  g->restore = 0;
  g->was_pending = 0;
  if (pthread_sigmask(SIG_BLOCK, &set, &g->old) != 0) {
    return;
  }
  g->restore = 1;
  g->was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
}

static void pipe_guard_end(pipe_guard_t *g) {
  sigset_t set;
  sigset_t pend;
  if (!g->restore) {
    return;
  }
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  /* Only swallow a SIGPIPE that this command caused, and only if the caller
   * had not blocked SIGPIPE on purpose. */
  if (!sigismember(&g->old, SIGPIPE) && !g->was_pending &&
      sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE)) {
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  (void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/*
 * Record a failed tpm2-tss call as "<op>: <decoded rc>" and classify it:
 * transport failures mean the TPM is gone, everything else is a refusal.
 */
static rot_error_t fail_rc(bc_tpm_t *tpm, const char *op, TSS2_RC rc) {
  const char *text = Tss2_RC_Decode(rc);
  if (is_tcti_rc(rc)) {
    set_err(tpm, "%s: %s (TCTI %s: the TPM is not answering)", op, text,
            tcti_label(tpm->conf));
    (void)snprintf(tpm->lost, sizeof(tpm->lost), "%s", tpm->err);
    return ROT_ERROR_TPM_UNAVAILABLE;
  }
  set_err(tpm, "%s: %s", op, text);
  return ROT_ERROR_TPM_COMMAND;
}

/*
 * TPM2_Startup is sent only to a TPM that asks for it. Firmware (or
 * swtpm's startup-clear flag) has normally started the TPM already, and
 * then Startup is one more round trip on every boot that only earns
 * TPM_RC_INITIALIZE; a TPM that has not been started answers any other
 * command with that same code instead. So a command that gets
 * TPM_RC_INITIALIZE sends Startup(CLEAR) once and is sent again: 1 means
 * send it again; 0 means report *rc, which is Startup's own failure when
 * that is what went wrong (*startup_failed set).
 */
static int started_now(bc_tpm_t *tpm, TSS2_RC *rc, int *startup_failed) {
  if (*rc != TPM2_RC_INITIALIZE || tpm->startup_sent) {
    return 0;
  }
  tpm->startup_sent = 1;
  TSS2_RC s = Esys_Startup(tpm->esys, TPM2_SU_CLEAR);
  /* TPM_RC_INITIALIZE again: someone else started it meanwhile. */
  if (s != TSS2_RC_SUCCESS && s != TPM2_RC_INITIALIZE) {
    *rc = s;
    *startup_failed = 1;
    return 0;
  }
  return 1;
}

/* Refuse to send anything once the TPM has gone away (see struct bc_tpm). */
static rot_error_t check_usable(bc_tpm_t *tpm, const char *op) {
  if (tpm->lost[0] == '\0') {
    return ROT_OK;
  }
  set_err(tpm, "%s: not sent: the TPM stopped answering earlier; reopen it "
          "(%s)", op, tpm->lost);
  return ROT_ERROR_TPM_UNAVAILABLE;
}

size_t bc_tpm_alg_size(uint16_t alg) {
  switch (alg) {
  case BC_TPM_ALG_SHA1:
    return 20;
  case BC_TPM_ALG_SHA256:
    return 32;
  case BC_TPM_ALG_SHA384:
    return 48;
  case BC_TPM_ALG_SHA512:
    return 64;
  default:
    return 0;
  }
}

const char *bc_tpm_alg_name(uint16_t alg) {
  switch (alg) {
  case BC_TPM_ALG_SHA1:
    return "sha1";
  case BC_TPM_ALG_SHA256:
    return "sha256";
  case BC_TPM_ALG_SHA384:
    return "sha384";
  case BC_TPM_ALG_SHA512:
    return "sha512";
  default:
    return "unknown";
  }
}

static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

static void free_tpm(bc_tpm_t *tpm) {
  if (tpm->esys != NULL) {
    Esys_Finalize(&tpm->esys);
  }
  if (tpm->tcti != NULL) {
    Tss2_TctiLdr_Finalize(&tpm->tcti);
  }
  free(tpm->conf);
  free(tpm);
}

/*
 * "NAME:CONF" with a short TCTI name (swtpm, device, mssim, tabrmd) as
 * "libtss2-tcti-NAME.so.0:CONF". The TCTI loader tries a short name first
 * as a library file called NAME, which the dynamic linker looks for in
 * every directory of its search path (a dozen failed opens) before the
 * loader tries the library's real name; naming the library directly skips
 * that search, about half a millisecond of every boot. 0 when conf is not
 * of that form; the caller then uses conf as given, as it does when
 * loading by the library name fails.
 */
#define TCTI_LIB_CONF_MAX 512

static int tcti_lib_conf(const char *conf, char *out, size_t cap) {
  if (conf == NULL) {
    return 0;
  }
  size_t name_len = strcspn(conf, ":");
  if (name_len == 0 || name_len > 32) {
    return 0;
  }
  for (size_t i = 0; i < name_len; i++) {
    char c = conf[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return 0; /* a path or a library file name: the loader's business */
    }
  }
  int n = snprintf(out, cap, "libtss2-tcti-%.*s.so.0%s", (int)name_len, conf,
                   conf + name_len);
  return n > 0 && (size_t)n < cap;
}

/* tpm2-tss logs every failed connect attempt of its default search and
 * every refused command to stderr; the caller reports failures itself. */
void bc_tpm_quiet_logs(void) {
  (void)setenv("TSS2_LOG", "all+NONE", 0);
}

rot_error_t bc_tpm_open(bc_tpm_t **out, const char *tcti_conf) {
  open_err[0] = '\0';
  if (out == NULL) {
    set_err(NULL, "bc_tpm_open: no place for the context");
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = NULL;

  const char *conf = tcti_conf;
  if (conf == NULL) {
    conf = env_nonempty(BC_TPM_ENV_TCTI);
  }
  if (conf == NULL) {
    conf = env_nonempty(BC_TPM_ENV_TCTI_TOOLS);
  }
  if (conf != NULL && conf[0] == '\0') {
    conf = NULL;
  }

  bc_tpm_quiet_logs();

  bc_tpm_t *tpm = calloc(1, sizeof(*tpm));
  if (tpm == NULL || (conf != NULL && (tpm->conf = strdup(conf)) == NULL)) {
    free(tpm);
    set_err(NULL, "out of memory opening the TPM");
    return ROT_ERROR_INTERNAL;
  }

  pipe_guard_t g;
  pipe_guard_begin(&g);
  char lib_conf[TCTI_LIB_CONF_MAX];
  TSS2_RC rc = TSS2_TCTI_RC_NOT_SUPPORTED;
  if (tcti_lib_conf(tpm->conf, lib_conf, sizeof(lib_conf))) {
    rc = Tss2_TctiLdr_Initialize(lib_conf, &tpm->tcti);
  }
  if (rc != TSS2_RC_SUCCESS) {
    /* As given: the loader's own search, its own result and message. */
    tpm->tcti = NULL;
    rc = Tss2_TctiLdr_Initialize(tpm->conf, &tpm->tcti);
  }
  pipe_guard_end(&g);
  if (rc != TSS2_RC_SUCCESS) {
    tpm->tcti = NULL;
    if (tpm->conf != NULL) {
      set_err(NULL, "cannot load or connect TCTI \"%s\": %s", tpm->conf,
              Tss2_RC_Decode(rc));
    } else {
      set_err(NULL,
              "no TCTI given (--tcti, $%s, $%s) and tpm2-tss found no TPM "
              "by its default search: %s",
              BC_TPM_ENV_TCTI, BC_TPM_ENV_TCTI_TOOLS, Tss2_RC_Decode(rc));
    }
    free_tpm(tpm);
    return ROT_ERROR_TPM_TCTI;
  }

  rc = Esys_Initialize(&tpm->esys, tpm->tcti, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    tpm->esys = NULL;
    set_err(NULL, "Esys_Initialize (TCTI %s): %s", tcti_label(tpm->conf),
            Tss2_RC_Decode(rc));
    free_tpm(tpm);
    return ROT_ERROR_TPM_COMMAND;
  }
  /* No TPM2_Startup here: the first command sends it if the TPM asks
   * (started_now). */
  *out = tpm;
  return ROT_OK;
}

void bc_tpm_close(bc_tpm_t *tpm) {
  if (tpm != NULL) {
    free_tpm(tpm);
  }
}

const char *bc_tpm_tcti(const bc_tpm_t *tpm) {
  return tpm != NULL ? tcti_label(tpm->conf) : "";
}

const char *bc_tpm_strerror(const bc_tpm_t *tpm) {
  return tpm != NULL ? tpm->err : open_err;
}

rot_error_t bc_tpm_active_banks(bc_tpm_t *tpm, uint16_t *algs, size_t *n) {
  if (tpm == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (n == NULL || (algs == NULL && *n != 0)) {
    set_err(tpm, "active_banks: NULL argument");
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(check_usable(tpm, "GetCapability(PCRS)"));
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA *cap = NULL;
  pipe_guard_t g;
  pipe_guard_begin(&g);
  int startup_failed = 0;
  TSS2_RC rc;
  do {
    rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE,
                            ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more, &cap);
  } while (started_now(tpm, &rc, &startup_failed));
  pipe_guard_end(&g);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(tpm,
                   startup_failed ? "GetCapability(PCRS): Startup"
                                  : "GetCapability(PCRS)",
                   rc);
  }
  if (cap == NULL || cap->capability != TPM2_CAP_PCRS) {
    Esys_Free(cap);
    set_err(tpm, "GetCapability(PCRS): TPM answered with another capability");
    return ROT_ERROR_TPM_COMMAND;
  }

  const TPML_PCR_SELECTION *sel = &cap->data.assignedPCR;
  uint32_t banks = sel->count < TPM2_NUM_PCR_BANKS ? sel->count
                                                   : TPM2_NUM_PCR_BANKS;
  size_t found = 0;
  size_t cap_n = *n;
  for (uint32_t i = 0; i < banks; i++) {
    const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
    size_t bytes = s->sizeofSelect < TPM2_PCR_SELECT_MAX ? s->sizeofSelect
                                                         : TPM2_PCR_SELECT_MAX;
    int active = 0;
    for (size_t b = 0; b < bytes; b++) {
      active |= s->pcrSelect[b] != 0;
    }
    if (active) {
      if (found < cap_n) {
        algs[found] = s->hash;
      }
      found++;
    }
  }
  Esys_Free(cap);
  *n = found;
  if (found > cap_n) {
    set_err(tpm, "active_banks: %zu active banks, room for %zu", found, cap_n);
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  return ROT_OK;
}

rot_error_t bc_tpm_extend(bc_tpm_t *tpm, uint32_t pcr,
                          const bc_tpm_digests *d) {
  if (tpm == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (d == NULL) {
    set_err(tpm, "PCR_Extend: no digests");
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (pcr >= BC_TPM_PCR_COUNT) {
    set_err(tpm, "PCR_Extend: PCR %u out of range (0..%u)", (unsigned)pcr,
            BC_TPM_PCR_COUNT - 1);
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (d->count == 0 || d->count > BC_TPM_MAX_BANKS) {
    set_err(tpm, "PCR_Extend: %u digests (1..%u allowed)", (unsigned)d->count,
            BC_TPM_MAX_BANKS);
    return ROT_ERROR_INVALID_ARGUMENT;
  }

  ROT_TRY(check_usable(tpm, "PCR_Extend"));
  TPML_DIGEST_VALUES v;
  memset(&v, 0, sizeof(v));
  v.count = d->count;
  for (uint32_t i = 0; i < d->count; i++) {
    uint16_t alg = d->d[i].alg;
    size_t size = bc_tpm_alg_size(alg);
    if (size == 0) {
      set_err(tpm, "PCR_Extend: unknown hash algorithm 0x%04x", alg);
      return ROT_ERROR_INVALID_ARGUMENT;
    }
    for (uint32_t j = 0; j < i; j++) {
      if (d->d[j].alg == alg) {
        set_err(tpm, "PCR_Extend: %s digest given twice", bc_tpm_alg_name(alg));
        return ROT_ERROR_INVALID_ARGUMENT;
      }
    }
    v.digests[i].hashAlg = alg;
    memcpy(&v.digests[i].digest, d->d[i].digest, size);
  }

  pipe_guard_t g;
  pipe_guard_begin(&g);
  int startup_failed = 0;
  TSS2_RC rc;
  do {
    rc = Esys_PCR_Extend(tpm->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
                         ESYS_TR_NONE, ESYS_TR_NONE, &v);
  } while (started_now(tpm, &rc, &startup_failed));
  pipe_guard_end(&g);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(tpm, startup_failed ? "PCR_Extend: Startup" : "PCR_Extend", rc);
  }
  return ROT_OK;
}

/*
 * One TPM2_PCR_Read of the PCRs in want (one bank). Copies what the TPM
 * returned into values and reports which PCRs those were in *got, and the
 * PCR update counter in *counter.
 */
static rot_error_t read_once(bc_tpm_t *tpm, uint16_t alg, size_t size,
                             uint32_t want,
                             uint8_t values[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST],
                             uint32_t *got, uint32_t *counter) {
  TPML_PCR_SELECTION in;
  memset(&in, 0, sizeof(in));
  in.count = 1;
  in.pcrSelections[0].hash = alg;
  in.pcrSelections[0].sizeofSelect = 3;
  for (unsigned b = 0; b < 3; b++) {
    in.pcrSelections[0].pcrSelect[b] = (uint8_t)(want >> (8 * b));
  }

  TPML_PCR_SELECTION *sel = NULL;
  TPML_DIGEST *dig = NULL;
  pipe_guard_t g;
  pipe_guard_begin(&g);
  int startup_failed = 0;
  TSS2_RC rc;
  do {
    rc = Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                       &in, counter, &sel, &dig);
  } while (started_now(tpm, &rc, &startup_failed));
  pipe_guard_end(&g);
  if (rc != TSS2_RC_SUCCESS) {
    return fail_rc(tpm, startup_failed ? "PCR_Read: Startup" : "PCR_Read", rc);
  }

  /* The selection out says which PCRs the digests belong to, in order. */
  rot_error_t err = ROT_OK;
  uint32_t returned = 0;
  uint32_t k = 0;
  for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
    const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
    if (s->hash != alg) {
      continue;
    }
    for (uint32_t pcr = 0; pcr < BC_TPM_PCR_COUNT; pcr++) {
      if (pcr / 8 >= s->sizeofSelect ||
          !(s->pcrSelect[pcr / 8] & (1u << (pcr % 8)))) {
        continue;
      }
      if (!(want & (1u << pcr)) || (returned & (1u << pcr)) ||
          k >= dig->count || dig->digests[k].size != size) {
        set_err(tpm, "PCR_Read: TPM's answer disagrees with the %s PCRs asked for",
                bc_tpm_alg_name(alg));
        err = ROT_ERROR_TPM_COMMAND;
        goto out;
      }
      memcpy(values[pcr], dig->digests[k].buffer, size);
      returned |= 1u << pcr;
      k++;
    }
  }
  if (k != dig->count) {
    set_err(tpm, "PCR_Read: TPM returned %u digests for %u %s PCRs",
            (unsigned)dig->count, (unsigned)k, bc_tpm_alg_name(alg));
    err = ROT_ERROR_TPM_COMMAND;
  }
out:
  Esys_Free(sel);
  Esys_Free(dig);
  *got = returned;
  return err;
}

rot_error_t bc_tpm_pcr_read_bank(
    bc_tpm_t *tpm, uint16_t alg, uint32_t pcr_mask,
    uint8_t values[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST], size_t *digest_len) {
  if (tpm == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (values == NULL) {
    set_err(tpm, "PCR_Read: NULL argument");
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t size = bc_tpm_alg_size(alg);
  if (size == 0) {
    set_err(tpm, "PCR_Read: unknown hash algorithm 0x%04x", alg);
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (pcr_mask == 0 || (pcr_mask >> BC_TPM_PCR_COUNT) != 0) {
    set_err(tpm, "PCR_Read: PCR mask 0x%08x empty or beyond PCR %u",
            (unsigned)pcr_mask, BC_TPM_PCR_COUNT - 1);
    return ROT_ERROR_INVALID_ARGUMENT;
  }

  ROT_TRY(check_usable(tpm, "PCR_Read"));
  for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    uint32_t remaining = pcr_mask;
    uint32_t first_counter = 0;
    int first = 1;
    int changed = 0;
    while (remaining != 0) {
      uint32_t got = 0;
      uint32_t counter = 0;
      ROT_TRY(read_once(tpm, alg, size, remaining, values, &got, &counter));
      if (got == 0) {
        set_err(tpm,
                "PCR_Read: TPM returned no %s value for PCRs 0x%06x (is the "
                "%s bank active?)",
                bc_tpm_alg_name(alg), (unsigned)remaining, bc_tpm_alg_name(alg));
        return ROT_ERROR_TPM_COMMAND;
      }
      if (first) {
        first_counter = counter;
        first = 0;
      } else if (counter != first_counter) {
        changed = 1;
        break;
      }
      remaining &= ~got;
    }
    if (!changed) {
      if (digest_len != NULL) {
        *digest_len = size;
      }
      return ROT_OK;
    }
  }
  set_err(tpm, "PCR_Read: %s PCRs kept changing while being read",
          bc_tpm_alg_name(alg));
  return ROT_ERROR_TPM_COMMAND;
}

rot_error_t bc_tpm_pcr_read(bc_tpm_t *tpm, uint16_t alg, uint32_t pcr,
                            uint8_t *out, size_t *len) {
  if (tpm == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (out == NULL || len == NULL) {
    set_err(tpm, "PCR_Read: NULL argument");
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (pcr >= BC_TPM_PCR_COUNT) {
    set_err(tpm, "PCR_Read: PCR %u out of range (0..%u)", (unsigned)pcr,
            BC_TPM_PCR_COUNT - 1);
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t size = bc_tpm_alg_size(alg);
  if (size == 0) {
    set_err(tpm, "PCR_Read: unknown hash algorithm 0x%04x", alg);
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (*len < size) {
    set_err(tpm, "PCR_Read: %zu-byte buffer for a %zu-byte %s digest", *len,
            size, bc_tpm_alg_name(alg));
    *len = size;
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  uint8_t values[BC_TPM_PCR_COUNT][BC_TPM_MAX_DIGEST];
  ROT_TRY(bc_tpm_pcr_read_bank(tpm, alg, 1u << pcr, values, NULL));
  memcpy(out, values[pcr], size);
  *len = size;
  return ROT_OK;
}
