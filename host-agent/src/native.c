/*
 * Native endpoints (/healthz, /metrics, /v1/eventlog) and Keylime's
 * pull-agent API (docs/rest_apis of the Keylime sources: the
 * {"code", "status", "results"} envelope, /version, /v2.x/agent/info).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest/attest.h"
#include "bootchain/logprint.h"
#include "bootchain/tpm.h"
#include "handlers.h"
#include "params.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"

/* Keylime API versions whose agent endpoints this agent answers. */
static const char *const kKeylimeVersions[] = {"2.1", "2.2", "2.3", "2.4", "2.5"};
#define KEYLIME_VERSIONS (sizeof(kKeylimeVersions) / sizeof(kKeylimeVersions[0]))

#define EVENTLOG_MAX (4u * 1024u * 1024u)

/* ---- health and metrics ------------------------------------------------------ */

static int tpm_up(ha_agent_t *a, json_object *banks) {
  uint16_t algs[8];
  size_t n = 8;
  if (ha_tpm_banks(&a->tpm, algs, &n) != ROT_OK) {
    return 0;
  }
  for (size_t i = 0; banks != NULL && i < n; i++) {
    json_object_array_add(banks, json_object_new_string(bc_tpm_alg_name(algs[i])));
  }
  return 1;
}

void na_get_healthz(ha_agent_t *a, ha_req_t *r) {
  int rot_ok = ha_rot_probe(&a->rot);
  json_object *banks = json_object_new_array();
  int tpm_ok = tpm_up(a, banks);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "status", json_object_new_string(
      rot_ok && tpm_ok ? "ok" : "unavailable"));
  json_object *rot = json_object_new_object();
  json_object_object_add(rot, "up", json_object_new_boolean(rot_ok));
  json_object_object_add(rot, "socket", json_object_new_string(a->rot.socket));
  json_object_object_add(o, "rotd", rot);
  json_object *tpm = json_object_new_object();
  json_object_object_add(tpm, "up", json_object_new_boolean(tpm_ok));
  json_object_object_add(tpm, "tcti", json_object_new_string(
      a->tpm.tcti[0] != '\0' ? a->tpm.tcti : "(tpm2-tss default)"));
  if (tpm_ok) {
    json_object_object_add(tpm, "banks", banks);
  } else {
    json_object_put(banks);
    char why[256];
    ha_tpm_last_error(&a->tpm, why, sizeof(why));
    json_object_object_add(tpm, "error", json_object_new_string(why));
  }
  json_object_object_add(o, "tpm", tpm);
  json_object *ev = json_object_new_object();
  json_object_object_add(ev, "configured", json_object_new_boolean(a->cfg.eventlog != NULL));
  json_object_object_add(ev, "present", json_object_new_boolean(
      a->cfg.eventlog != NULL && access(a->cfg.eventlog, R_OK) == 0));
  json_object_object_add(o, "eventlog", ev);
  json_object_object_add(o, "uptime_seconds",
                         json_object_new_int64((int64_t)(time(NULL) - a->started)));
  if (!(rot_ok && tpm_ok)) {
    ha_reply_header(r, "Retry-After", "5");
  }
  ha_reply_json(r, rot_ok && tpm_ok ? 200 : 503, o);
}

void na_get_metrics(ha_agent_t *a, ha_req_t *r) {
  char *text = NULL;
  size_t len = 0;
  pthread_mutex_lock(&a->rot.lock);
  int rot_ok = a->rot.last_transport == ROT_OK;
  pthread_mutex_unlock(&a->rot.lock);
  pthread_mutex_lock(&a->tpm.lock);
  int tpm_ok = a->tpm.tpm != NULL;
  pthread_mutex_unlock(&a->tpm.lock);
  char *all = NULL;
  if (ha_metrics_render(&a->metrics, ha_tpm_error_count(&a->tpm), rot_ok, tpm_ok,
                        &text, &len) != 0 ||
      asprintf(&all,
               "%s# HELP hostagent_chip_endorse_requests_total ENDORSE requests "
               "sent to the chip (the endorsement is cached per AK and chip "
               "identity).\n# TYPE hostagent_chip_endorse_requests_total "
               "counter\nhostagent_chip_endorse_requests_total %llu\n",
               text, (unsigned long long)ha_chip_endorse_calls(&a->chip)) < 0) {
    free(text);
    ha_reply_error(r, 500, NULL, NULL, "out of memory");
    return;
  }
  free(text);
  ha_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", all,
                 strlen(all));
  free(all);
}

/* ---- event log ---------------------------------------------------------------- */

void na_get_eventlog(ha_agent_t *a, ha_req_t *r) {
  const char *fmt = ha_query(r, "format");
  int json = 0;
  if (fmt != NULL) {
    if (strcmp(fmt, "json") == 0) {
      json = 1;
    } else if (strcmp(fmt, "binary") != 0) {
      ha_reply_error(r, 400, NULL, "format", "format: 'binary' or 'json'");
      return;
    }
  }
  if (a->cfg.eventlog == NULL) {
    ha_reply_error(r, 404, NULL, NULL,
                   "no event log configured (start the agent with --eventlog)");
    return;
  }
  int fd = open(a->cfg.eventlog, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) {
      close(fd);
    }
    ha_reply_header(r, "Retry-After", "5");
    ha_reply_error(r, 503, NULL, NULL,
                   "the event log is not there yet: the host has not been "
                   "measured by bootchain");
    return;
  }
  if (st.st_size <= 0 || (uint64_t)st.st_size > EVENTLOG_MAX) {
    close(fd);
    ha_reply_error(r, 500, NULL, NULL, "event log of %lld bytes (limit %u)",
                   (long long)st.st_size, EVENTLOG_MAX);
    return;
  }
  size_t len = (size_t)st.st_size;
  uint8_t *buf = malloc(len);
  size_t got = 0;
  while (buf != NULL && got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      break;
    }
    got += (size_t)n;
  }
  close(fd);
  if (buf == NULL || got != len) {
    free(buf);
    ha_reply_error(r, 500, NULL, NULL, "cannot read the event log");
    return;
  }
  if (!json) {
    ha_reply_bytes(r, 200, "application/octet-stream", buf, len);
    free(buf);
    return;
  }
  json_object *doc = NULL;
  rot_error_t err = bc_log_to_json(buf, len, rot_host_crypto(), 0, &doc);
  free(buf);
  (void)err; /* the document says how the log read ("result", "error") */
  if (doc == NULL) {
    ha_reply_error(r, 500, NULL, NULL, "out of memory");
    return;
  }
  ha_reply_json(r, 200, doc);
}

/* The whole of a regular file of 1..max bytes into *out (malloc'd);
 * -1 when absent, unreadable or out of bounds. */
static int read_small_file(const char *path, size_t max, uint8_t **out,
                           size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size <= 0 || (uint64_t)st.st_size > max) {
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  size_t n = (size_t)st.st_size, got = 0;
  uint8_t *buf = malloc(n);
  while (buf != NULL && got < n) {
    ssize_t k = read(fd, buf + got, n - got);
    if (k <= 0) {
      if (k < 0 && errno == EINTR) {
        continue;
      }
      break;
    }
    got += (size_t)k;
  }
  close(fd);
  if (buf == NULL || got != n) {
    free(buf);
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}

/* ---- Keylime -------------------------------------------------------------------- */

static json_object *kl_envelope(json_object *results) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "code", json_object_new_int(200));
  json_object_object_add(o, "status", json_object_new_string("Success"));
  json_object_object_add(o, "results", results);
  return o;
}

/* The "v2.N" segment names a version this agent answers. */
static int kl_version_ok(ha_req_t *r) {
  const char *v = r->id + 1; /* after the 'v' */
  for (size_t i = 0; i < KEYLIME_VERSIONS; i++) {
    if (strcmp(v, kKeylimeVersions[i]) == 0) {
      return 1;
    }
  }
  ha_reply_error(r, 400, NULL, NULL, "API version %s is not supported (latest: %s)",
                 r->id, kKeylimeVersions[KEYLIME_VERSIONS - 1]);
  return 0;
}

void kl_get_version(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  json_object *res = json_object_new_object();
  json_object_object_add(res, "supported_version",
                         json_object_new_string(kKeylimeVersions[KEYLIME_VERSIONS - 1]));
  json_object *all = json_object_new_array();
  for (size_t i = 0; i < KEYLIME_VERSIONS; i++) {
    json_object_array_add(all, json_object_new_string(kKeylimeVersions[i]));
  }
  json_object_object_add(res, "supported_versions", all);
  ha_reply_json(r, 200, kl_envelope(res));
}

/* The strongest active PCR bank a Keylime verifier accepts (sha384 over
 * sha256); 0 and a 503 queued when the TPM does not answer. */
static uint16_t kl_bank(ha_agent_t *a, ha_req_t *r, const char **name) {
  uint16_t algs[8];
  size_t n = 8;
  if (ha_tpm_banks(&a->tpm, algs, &n) != ROT_OK) {
    ha_reply_tpm_down(a, r, NULL, "the TPM is not answering");
    return 0;
  }
  uint16_t bank = 0;
  for (size_t i = 0; i < n; i++) {
    if (algs[i] == BC_TPM_ALG_SHA256 && bank == 0) {
      bank = BC_TPM_ALG_SHA256;
      *name = "sha256";
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (algs[i] == BC_TPM_ALG_SHA384) {
      bank = BC_TPM_ALG_SHA384;
      *name = "sha384";
    }
  }
  if (bank == 0) {
    ha_reply_error(r, 503, NULL, NULL,
                   "the TPM has neither a SHA-256 nor a SHA-384 PCR bank");
  }
  return bank;
}

/* The Keylime names of the keys: the EK encrypts (credential activation),
 * the AK (ECC P-256, ECDSA) signs quotes. */
#define KL_ENC_ALG "rsa2048"
#define KL_SIGN_ALG "ecdsa"

void kl_get_agent_info(ha_agent_t *a, ha_req_t *r) {
  if (!kl_version_ok(r)) {
    return;
  }
  const char *hash = NULL;
  if (kl_bank(a, r, &hash) == 0) {
    return;
  }
  char handle[16];
  snprintf(handle, sizeof(handle), "%u", (unsigned)ATTEST_AK_HANDLE);
  json_object *res = json_object_new_object();
  json_object_object_add(res, "agent_uuid", json_object_new_string(a->uuid));
  json_object_object_add(res, "tpm_hash_alg", json_object_new_string(hash));
  json_object_object_add(res, "tpm_enc_alg", json_object_new_string(KL_ENC_ALG));
  json_object_object_add(res, "tpm_sign_alg", json_object_new_string(KL_SIGN_ALG));
  json_object_object_add(res, "ak_handle", json_object_new_string(handle));
  ha_reply_json(r, 200, kl_envelope(res));
}

/*
 * The quote endpoints, by Keylime's rules: nonce alphanumeric, at most 64
 * characters, placed as it is (its ASCII bytes) in the quote's extraData,
 * which is what Keylime's verifier compares; one PCR bank (agent/info's
 * tpm_hash_alg); the quote as "r" base64(TPMS_ATTEST) ":"
 * base64(TPMT_SIGNATURE) ":" base64(PCRs in tpm2-tools' format).
 */
static int kl_nonce(ha_req_t *r, char nonce[HA_NONCE_MAX + 1]) {
  const char *s = ha_query(r, "nonce");
  if (s == NULL) {
    ha_reply_error(r, 400, NULL, "nonce", "nonce is required");
    return 0;
  }
  if (ha_param_nonce(s, nonce) != ROT_OK) {
    ha_reply_error(r, 400, NULL, "nonce",
                   "nonce must be 1 to %u letters or digits", HA_NONCE_MAX);
    return 0;
  }
  return 1;
}

/* base64 (RFC 4648, padded) of p; NULL when out of memory. */
static char *b64(const uint8_t *p, size_t len) {
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  if (out != NULL) {
    EVP_EncodeBlock((unsigned char *)out, p, (int)len);
  }
  return out;
}

static long boot_seconds(void) {
  struct timespec ts;
  return clock_gettime(CLOCK_BOOTTIME, &ts) == 0 ? (long)ts.tv_sec : 0;
}

void ha_reply_tpm_down(ha_agent_t *a, ha_req_t *r, const char *message_id,
                       const char *what) {
  char why[256];
  ha_tpm_last_error(&a->tpm, why, sizeof(why));
  ha_reply_header(r, "Retry-After", "5");
  ha_reply_error(r, 503, message_id, NULL, "%s: %s", what, why);
}

int ha_quote_for(ha_agent_t *a, ha_req_t *r, const char *message_id,
                 const uint8_t *qual, size_t qlen, uint32_t mask,
                 const uint16_t *banks, size_t nb, attest_quote_t *q,
                 TPM2B_PUBLIC *ak) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  memset(q, 0, sizeof(*q));
  if (ha_tpm_quote_banks(&a->tpm, ATTEST_AK_HANDLE, qual, qlen, mask, banks, nb,
                         q, ak) != ROT_OK) {
    ha_reply_tpm_down(a, r, message_id, "no quote");
    return 0;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ha_metrics_quote(&a->metrics,
                   (double)(t1.tv_sec - t0.tv_sec) +
                       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                   1);
  return 1;
}

static void kl_quote(ha_agent_t *a, ha_req_t *r, const char *nonce,
                     uint32_t mask, int integrity, int partial) {
  const char *hash = NULL;
  uint16_t bank = kl_bank(a, r, &hash);
  if (bank == 0) {
    return;
  }
  attest_quote_t q;
  TPM2B_PUBLIC ak;
  if (!ha_quote_for(a, r, NULL, (const uint8_t *)nonce, strlen(nonce), mask,
                    &bank, 1, &q, &ak)) {
    return;
  }
  char *qa = b64(q.attest.p, q.attest.len);
  char *qs = b64(q.signature.p, q.signature.len);
  char *qp = b64(q.pcrs.p, q.pcrs.len);
  char *pem = NULL;
  char *quote = NULL;
  if (qa != NULL && qs != NULL && qp != NULL &&
      attest_ak_pem(&ak.publicArea, &pem) == ROT_OK &&
      asprintf(&quote, "r%s:%s:%s", qa, qs, qp) < 0) {
    quote = NULL;
  }
  attest_quote_free(&q);
  free(qa);
  free(qs);
  free(qp);
  if (quote == NULL || pem == NULL) {
    free(quote);
    free(pem);
    ha_reply_error(r, 500, NULL, NULL, "out of memory");
    return;
  }
  json_object *res = json_object_new_object();
  json_object_object_add(res, "quote", json_object_new_string(quote));
  json_object_object_add(res, "hash_alg", json_object_new_string(hash));
  json_object_object_add(res, "enc_alg", json_object_new_string(KL_ENC_ALG));
  json_object_object_add(res, "sign_alg", json_object_new_string(KL_SIGN_ALG));
  /* Keylime's pubkey is its payload transport key (NK), which this agent
   * does not have (keys/ukey and keys/vkey are out of scope): the AK's
   * PEM stands beside it under its own name; partial=1 leaves both out. */
  if (!partial) {
    json_object_object_add(res, "ak_pubkey", json_object_new_string(pem));
  }
  json_object_object_add(res, "boottime", json_object_new_int64(boot_seconds()));
  free(quote);
  free(pem);
  /* The measured-boot log, when PCR 0 is quoted (Keylime's rule). */
  if (integrity && (mask & 1u) != 0 && a->cfg.eventlog != NULL) {
    uint8_t *log = NULL;
    size_t len = 0;
    if (read_small_file(a->cfg.eventlog, EVENTLOG_MAX, &log, &len) == 0) {
      char *l = b64(log, len);
      if (l != NULL) {
        json_object_object_add(res, "mb_measurement_list",
                               json_object_new_string(l));
      }
      free(l);
      free(log);
    }
  }
  ha_reply_json(r, 200, kl_envelope(res));
}

void kl_get_quote_identity(ha_agent_t *a, ha_req_t *r) {
  char nonce[HA_NONCE_MAX + 1];
  if (!kl_version_ok(r) || !kl_nonce(r, nonce)) {
    return;
  }
  /* An identity quote proves the AK is this TPM's: PCR 0 suffices. */
  kl_quote(a, r, nonce, 0x1u, 0, 0);
}

void kl_get_quote_integrity(ha_agent_t *a, ha_req_t *r) {
  char nonce[HA_NONCE_MAX + 1];
  if (!kl_version_ok(r) || !kl_nonce(r, nonce)) {
    return;
  }
  const char *m = ha_query(r, "mask");
  uint32_t mask = 0;
  if (m == NULL) {
    ha_reply_error(r, 400, NULL, "mask", "mask is required");
    return;
  }
  if (ha_param_mask(m, &mask) != ROT_OK) {
    ha_reply_error(r, 400, NULL, "mask",
                   "mask must be hexadecimal (0x...), non-zero, PCRs 0 to %u only",
                   HA_PCR_MAX);
    return;
  }
  const char *p = ha_query(r, "partial");
  int partial = 0;
  if (p != NULL && ha_param_bool01(p, &partial) != ROT_OK) {
    ha_reply_error(r, 400, NULL, "partial", "partial must be 0 or 1");
    return;
  }
  kl_quote(a, r, nonce, mask, 1, partial);
}

void kl_payload_keys(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  ha_reply_error(r, 404, NULL, NULL,
                 "Keylime payload keys (keys/ukey, keys/vkey) are not supported "
                 "by this agent");
}

/* Count a quote's answer; t0 is when the request began. */
static void attestation_metrics(ha_agent_t *a, int batch, unsigned size,
                                uint32_t index, const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  /* The batch size is counted once per quote: by its first request. */
  ha_metrics_quote(&a->metrics,
                   (double)(t1.tv_sec - t0->tv_sec) +
                       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9,
                   !batch || index == 0 ? size : 0);
}

/* The second call of a batched request: its window has been answered. */
static void attestation_batched(ha_agent_t *a, ha_req_t *r) {
  ha_evpiece_t *doc = NULL;
  char detail[256] = "";
  unsigned size = 0;
  uint32_t index = 0;
  rot_error_t err = ha_batch_job_result(r->batch_job, &doc, &index, &size,
                                        detail, sizeof(detail));
  if (err != ROT_OK) {
    ha_reply_error(r, 503, NULL, NULL, "no evidence: %s",
                   detail[0] != '\0' ? detail : rot_error_str(err));
    return;
  }
  attestation_metrics(a, 1, size, index, &r->t0);
  ha_reply_pieces(r, 200, "application/json", doc);
}

void na_get_attestation(ha_agent_t *a, ha_req_t *r) {
  if (r->batch_job != NULL) {
    attestation_batched(a, r);
    return;
  }
  const char *s = ha_query(r, "nonce");
  uint8_t nonce[64];
  size_t nlen = 0;
  if (s == NULL) {
    ha_reply_error(r, 400, NULL, "nonce", "nonce is required");
    return;
  }
  if (ha_param_hex_nonce(s, nonce, sizeof(nonce), &nlen) != ROT_OK) {
    ha_reply_error(r, 400, NULL, "nonce",
                   "nonce must be 1 to 64 bytes in hexadecimal");
    return;
  }
  const char *p = ha_query(r, "pcrs");
  uint32_t mask = 0;
  if (p != NULL && ha_param_pcr_list(p, &mask) != ROT_OK) {
    ha_reply_error(r, 400, NULL, "pcrs",
                   "pcrs must be a comma-separated list of distinct PCR "
                   "indexes 0 to %u", HA_PCR_MAX);
    return;
  }
  const char *b = ha_query(r, "batch");
  int batch = 0;
  if (b != NULL && ha_param_bool01(b, &batch) != ROT_OK) {
    ha_reply_error(r, 400, NULL, "batch", "batch must be 0 or 1");
    return;
  }
  if (nlen < ATTEST_NONCE_MIN) {
    ha_reply_error(r, 400, NULL, "nonce",
                   "nonce must be at least %u bytes (%u hex digits)",
                   ATTEST_NONCE_MIN, 2 * ATTEST_NONCE_MIN);
    return;
  }
  if (mask == 0) {
    mask = ATTEST_DEFAULT_PCRS;
  }
  if (batch) {
    /* Parked until the window's quote is made; answered on the next call. */
    if (!ha_req_wait_batch(a, r, nonce, nlen, mask)) {
      ha_reply_error(r, 503, NULL, NULL, "no evidence: out of memory");
    }
    return;
  }
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  char detail[256] = "";
  attest_source_t src = a->src;
  src.pcr_mask = mask;
  char *json = NULL;
  rot_error_t err = ha_tpm_attest_single(&a->tpm, &src, nonce, nlen, &json,
                                         detail, sizeof(detail));
  if (err != ROT_OK) {
    ha_reply_error(r, 503, NULL, NULL, "no evidence: %s",
                   detail[0] != '\0' ? detail : rot_error_str(err));
    return;
  }
  attestation_metrics(a, 0, 1, 0, &t0);
  ha_reply_take(r, 200, "application/json", json, strlen(json));
}
