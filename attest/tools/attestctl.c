/*
 * attestctl: attestation from the command line (attest/attest.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <tss2/tss2_mu.h>

#include "attest/attest.h"
#include "attest/cred.h"
#include "attest/refvals.h"
#include "attest/tpms.h"
#include "attest/verify.h"
#include "attestctl_fetch.h"
#include "rot_client/names.h"
#include "rot_host/crypto_host.h"
#include "rot/error.h"

#define EXIT_UNTRUSTED 1
#define EXIT_USAGE 2

static const char *prog = "attestctl";

static int usage(void) {
  fprintf(stderr,
          "usage: attestctl COMMAND [options]\n\n"
          "commands:\n"
          "  ak create   [--tcti T] [--handle H] [--force]\n"
          "  ak show     [--tcti T] [--handle H] [--pem FILE] [--public FILE]\n"
          "  ek show     [--tcti T] [--alg rsa|ecc] [--cert FILE] [--public FILE]\n"
          "  credential make --ek-public FILE --name HEX --secret HEX --out FILE\n"
          "  credential activate [--tcti T] [--handle H] [--alg rsa|ecc] --in FILE\n"
          "  quote       [--tcti T] --nonce HEX [--pcrs 0,1,4,5,7] [--eventlog FILE]\n"
          "              [--ek rsa|ecc] [--socket S] [--no-chip] [--out FILE]\n"
          "  quote-batch [--tcti T] --nonce HEX [--nonce HEX]... --out-dir DIR\n"
          "              (same options as quote; writes DIR/evidence-<i>.json)\n"
          "  refvals     --keys DIR IMAGE... (policy JSON on stdout)\n"
          "  verify      --policy FILE --trust DIR [--nonce HEX] [--state DIR]\n"
          "              [--json] EVIDENCE\n"
          "  verify      --policy FILE --trust DIR --url URL [--pcrs LIST]\n"
          "              [--cacert FILE] [--client-cert FILE --client-key FILE]\n"
          "              [--save FILE] [--state DIR] [--json]\n"
          "              (asks the host agent at URL for evidence on a fresh\n"
          "              random nonce, GET /v1/attestation, then verifies it)\n"
          "  parts       --out DIR EVIDENCE (attest, sig, pcrs, ak.pem, eventlog.bin,\n"
          "              ek.der: the files tpm2_checkquote and tpm2_eventlog read)\n\n"
          "The AK lives at 0x%08x. The TCTI defaults to $ATTEST_TCTI, then\n"
          "$TPM2TOOLS_TCTI, then the project's swtpm at run/tpm when it serves,\n"
          "then tpm2-tss's search. The chip (rotd) is asked for its inventory and\n"
          "identity at --socket, else $ROT_SOCKET, else run/rotd.sock.\n"
          "verify exits 0 trusted, 1 untrusted, 2 error.\n",
          ATTEST_AK_HANDLE);
  return EXIT_USAGE;
}

static int fail(rot_error_t err, const char *what) {
  fprintf(stderr, "%s: %s: %s (%s)\n", prog, what, rot_error_str(err),
          rot_error_name(err));
  return 1;
}

static int write_file(const char *path, const void *p, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(p, 1, len, f) != len) {
    if (f != NULL) {
      fclose(f);
    }
    fprintf(stderr, "%s: cannot write %s\n", prog, path);
    return -1;
  }
  if (fclose(f) != 0) {
    fprintf(stderr, "%s: cannot write %s\n", prog, path);
    return -1;
  }
  return 0;
}

static int read_all(const char *path, size_t max, attest_buf_t *b) {
  FILE *f = fopen(path, "rb");
  b->p = NULL;
  b->len = 0;
  if (f == NULL) {
    fprintf(stderr, "%s: cannot open %s\n", prog, path);
    return -1;
  }
  b->p = malloc(max + 1);
  size_t n = b->p != NULL ? fread(b->p, 1, max + 1, f) : 0;
  int bad = b->p == NULL || ferror(f) || n > max;
  fclose(f);
  if (bad) {
    fprintf(stderr, "%s: cannot read %s (or over %zu bytes)\n", prog, path,
            max);
    free(b->p);
    b->p = NULL;
    return -1;
  }
  b->len = n;
  return 0;
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len) {
  size_t n = strlen(s);
  if (n % 2 != 0 || n / 2 > cap) {
    return -1;
  }
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
        strspn(s + 2 * i, "0123456789abcdefABCDEF") < 2) {
      return -1;
    }
    out[i] = (uint8_t)v;
  }
  *len = n / 2;
  return 0;
}

static int parse_pcrs(const char *s, uint32_t *mask) {
  *mask = 0;
  char *copy = strdup(s), *save = NULL;
  int ok = copy != NULL;
  for (char *tok = strtok_r(copy, ",", &save); ok && tok != NULL;
       tok = strtok_r(NULL, ",", &save)) {
    char *end;
    unsigned long v = strtoul(tok, &end, 10);
    ok = *tok != '\0' && *end == '\0' && v < 24;
    if (ok) {
      *mask |= 1u << v;
    }
  }
  free(copy);
  return ok && *mask != 0 ? 0 : -1;
}

static int parse_handle(const char *s, uint32_t *h) {
  char *end;
  unsigned long v = strtoul(s, &end, 0);
  if (*s == '\0' || *end != '\0' || v < 0x81000000ul || v > 0x81ffffffUL) {
    fprintf(stderr, "%s: --handle: a persistent handle 0x81000000..0x81ffffff\n",
            prog);
    return -1;
  }
  *h = (uint32_t)v;
  return 0;
}

static int parse_alg(const char *s, uint16_t *alg) {
  if (strcmp(s, "rsa") == 0) {
    *alg = TPM2_ALG_RSA;
  } else if (strcmp(s, "ecc") == 0) {
    *alg = TPM2_ALG_ECC;
  } else {
    fprintf(stderr, "%s: algorithm must be rsa or ecc\n", prog);
    return -1;
  }
  return 0;
}

enum {
  O_TCTI = 1000, O_HANDLE, O_FORCE, O_PEM, O_PUBLIC, O_ALG, O_CERT,
  O_EKPUB, O_NAME, O_SECRET, O_OUT, O_IN, O_NONCE, O_PCRS, O_LOG, O_EK,
  O_SOCKET, O_NOCHIP, O_OUTDIR, O_KEYS, O_POLICY, O_TRUST, O_STATE, O_JSON,
  O_URL, O_CACERT, O_CCERT, O_CKEY, O_SAVE
};

static const struct option opts[] = {
    {"tcti", required_argument, NULL, O_TCTI},
    {"handle", required_argument, NULL, O_HANDLE},
    {"force", no_argument, NULL, O_FORCE},
    {"pem", required_argument, NULL, O_PEM},
    {"public", required_argument, NULL, O_PUBLIC},
    {"alg", required_argument, NULL, O_ALG},
    {"cert", required_argument, NULL, O_CERT},
    {"ek-public", required_argument, NULL, O_EKPUB},
    {"name", required_argument, NULL, O_NAME},
    {"secret", required_argument, NULL, O_SECRET},
    {"out", required_argument, NULL, O_OUT},
    {"in", required_argument, NULL, O_IN},
    {"nonce", required_argument, NULL, O_NONCE},
    {"pcrs", required_argument, NULL, O_PCRS},
    {"eventlog", required_argument, NULL, O_LOG},
    {"ek", required_argument, NULL, O_EK},
    {"socket", required_argument, NULL, O_SOCKET},
    {"no-chip", no_argument, NULL, O_NOCHIP},
    {"out-dir", required_argument, NULL, O_OUTDIR},
    {"keys", required_argument, NULL, O_KEYS},
    {"policy", required_argument, NULL, O_POLICY},
    {"trust", required_argument, NULL, O_TRUST},
    {"state", required_argument, NULL, O_STATE},
    {"json", no_argument, NULL, O_JSON},
    {"url", required_argument, NULL, O_URL},
    {"cacert", required_argument, NULL, O_CACERT},
    {"client-cert", required_argument, NULL, O_CCERT},
    {"client-key", required_argument, NULL, O_CKEY},
    {"save", required_argument, NULL, O_SAVE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

#define MAX_NONCES ATTEST_BATCH_MAX

typedef struct args {
  const char *tcti, *pem, *public_out, *cert, *ek_public, *name, *secret;
  const char *out, *in, *eventlog, *socket, *out_dir, *keys, *policy;
  const char *trust, *state;
  const char *url, *cacert, *client_cert, *client_key, *save;
  uint32_t handle, pcr_mask;
  uint16_t alg;
  int force, no_chip, json;
  size_t nnonces;
  const char *nonces[MAX_NONCES];
} args_t;

static int parse_args(int argc, char **argv, args_t *a) {
  memset(a, 0, sizeof(*a));
  a->handle = ATTEST_AK_HANDLE;
  a->alg = TPM2_ALG_RSA;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_TCTI: a->tcti = optarg; break;
    case O_HANDLE: if (parse_handle(optarg, &a->handle)) return -1; break;
    case O_FORCE: a->force = 1; break;
    case O_PEM: a->pem = optarg; break;
    case O_PUBLIC: a->public_out = optarg; break;
    case O_ALG: case O_EK: if (parse_alg(optarg, &a->alg)) return -1; break;
    case O_CERT: a->cert = optarg; break;
    case O_EKPUB: a->ek_public = optarg; break;
    case O_NAME: a->name = optarg; break;
    case O_SECRET: a->secret = optarg; break;
    case O_OUT: a->out = optarg; break;
    case O_IN: a->in = optarg; break;
    case O_NONCE:
      if (a->nnonces == MAX_NONCES) {
        fprintf(stderr, "%s: at most %u nonces\n", prog, MAX_NONCES);
        return -1;
      }
      a->nonces[a->nnonces++] = optarg;
      break;
    case O_PCRS:
      if (parse_pcrs(optarg, &a->pcr_mask)) {
        fprintf(stderr, "%s: --pcrs: comma-separated PCRs 0..23\n", prog);
        return -1;
      }
      break;
    case O_LOG: a->eventlog = optarg; break;
    case O_SOCKET: a->socket = optarg; break;
    case O_NOCHIP: a->no_chip = 1; break;
    case O_OUTDIR: a->out_dir = optarg; break;
    case O_KEYS: a->keys = optarg; break;
    case O_POLICY: a->policy = optarg; break;
    case O_TRUST: a->trust = optarg; break;
    case O_STATE: a->state = optarg; break;
    case O_JSON: a->json = 1; break;
    case O_URL: a->url = optarg; break;
    case O_CACERT: a->cacert = optarg; break;
    case O_CCERT: a->client_cert = optarg; break;
    case O_CKEY: a->client_key = optarg; break;
    case O_SAVE: a->save = optarg; break;
    default: return -1;
    }
  }
  return 0;
}

/*
 * The embedded default, as bootchain's: with no TCTI given anywhere, the
 * project-managed swtpm in the run directory when it serves
 * (scripts/swtpm.sh start run/tpm); otherwise tpm2-tss's own search.
 */
#define DEFAULT_SWTPM_SOCKET "run/tpm/tpm.sock"

static const char *default_tcti(const char *given) {
  static char conf[sizeof("swtpm:path=") + sizeof(DEFAULT_SWTPM_SOCKET)];
  if (given != NULL || getenv(ATTEST_ENV_TCTI) != NULL ||
      getenv("TPM2TOOLS_TCTI") != NULL ||
      access(DEFAULT_SWTPM_SOCKET, F_OK) != 0) {
    return given;
  }
  snprintf(conf, sizeof(conf), "swtpm:path=%s", DEFAULT_SWTPM_SOCKET);
  return conf;
}

static int open_tpm(const args_t *a, attest_tpm_t **t) {
  rot_error_t err = attest_tpm_open(t, default_tcti(a->tcti));
  if (err != ROT_OK) {
    fprintf(stderr, "%s: %s\n", prog, attest_tpm_strerror(NULL));
    return -1;
  }
  return 0;
}

static int cmd_ak(int argc, char **argv) {
  args_t a;
  if (argc < 2 || parse_args(argc - 1, argv + 1, &a) || optind != argc - 1) {
    return usage();
  }
  attest_tpm_t *t;
  if (open_tpm(&a, &t)) {
    return 1;
  }
  int rc = 0;
  rot_error_t err = ROT_OK;
  if (strcmp(argv[1], "create") == 0) {
    err = attest_ak_create(t, a.handle, a.force);
    if (err != ROT_OK) {
      fprintf(stderr, "%s: ak create: %s\n", prog, attest_tpm_strerror(t));
      rc = 1;
    }
  } else if (strcmp(argv[1], "show") != 0) {
    attest_tpm_close(t);
    return usage();
  }
  if (rc == 0) {
    TPM2B_PUBLIC pub;
    attest_buf_t m = {0};
    uint8_t name[66];
    size_t nlen = 0;
    err = attest_ak_read(t, a.handle, &pub, &m);
    if (err == ROT_OK) {
      err = attest_tpm_name(&pub.publicArea, name, sizeof(name), &nlen);
    }
    if (err != ROT_OK) {
      fprintf(stderr, "%s: ak show: %s\n", prog, attest_tpm_strerror(t));
      rc = 1;
    } else {
      printf("ak: handle 0x%08x, ECC NIST P-256, ECDSA-SHA256, restricted "
             "signing, endorsement hierarchy\nname: ",
             a.handle);
      for (size_t i = 0; i < nlen; i++) {
        printf("%02x", name[i]);
      }
      printf("\n");
      if (a.public_out != NULL && write_file(a.public_out, m.p, m.len)) {
        rc = 1;
      }
      char *pem = NULL;
      if (a.pem != NULL &&
          (attest_ak_pem(&pub.publicArea, &pem) != ROT_OK ||
           write_file(a.pem, pem, strlen(pem)))) {
        rc = 1;
      }
      free(pem);
    }
    free(m.p);
  }
  attest_tpm_close(t);
  return rc;
}

static int cmd_ek(int argc, char **argv) {
  args_t a;
  if (argc < 2 || strcmp(argv[1], "show") != 0 ||
      parse_args(argc - 1, argv + 1, &a) || optind != argc - 1) {
    return usage();
  }
  attest_tpm_t *t;
  if (open_tpm(&a, &t)) {
    return 1;
  }
  TPM2B_PUBLIC pub;
  attest_buf_t cert = {0};
  int rc = 0;
  rot_error_t err = attest_ek_read(t, a.alg, &pub, &cert);
  if (err != ROT_OK) {
    fprintf(stderr, "%s: ek show: %s\n", prog, attest_tpm_strerror(t));
    rc = 1;
  } else {
    printf("ek: %s, handle 0x%08x, certificate %zu bytes (NV 0x%08x)\n",
           a.alg == TPM2_ALG_RSA ? "rsa" : "ecc",
           a.alg == TPM2_ALG_RSA ? ATTEST_EK_RSA_HANDLE : ATTEST_EK_ECC_HANDLE,
           cert.len,
           a.alg == TPM2_ALG_RSA ? ATTEST_EK_RSA_CERT_NV
                                 : ATTEST_EK_ECC_CERT_NV);
    if (a.cert != NULL && write_file(a.cert, cert.p, cert.len)) {
      rc = 1;
    }
    if (a.public_out != NULL) {
      uint8_t buf[sizeof(TPM2B_PUBLIC)];
      size_t off = 0;
      if (Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, buf, sizeof(buf), &off) !=
              TSS2_RC_SUCCESS ||
          write_file(a.public_out, buf, off)) {
        rc = 1;
      }
    }
  }
  free(cert.p);
  attest_tpm_close(t);
  return rc;
}

static int cmd_credential(int argc, char **argv) {
  args_t a;
  if (argc < 2 || parse_args(argc - 1, argv + 1, &a) || optind != argc - 1) {
    return usage();
  }
  if (strcmp(argv[1], "make") == 0) {
    uint8_t name[66], secret[64];
    size_t nlen = 0, slen = 0;
    attest_buf_t pubf = {0}, blob = {0}, sec = {0}, file = {0};
    TPM2B_PUBLIC ek;
    if (a.ek_public == NULL || a.name == NULL || a.secret == NULL ||
        a.out == NULL || parse_hex(a.name, name, sizeof(name), &nlen) ||
        parse_hex(a.secret, secret, sizeof(secret), &slen)) {
      return usage();
    }
    if (read_all(a.ek_public, 4096, &pubf)) {
      return 1;
    }
    rot_error_t err = attest_tpm2b_public_decode(pubf.p, pubf.len, &ek);
    free(pubf.p);
    if (err != ROT_OK) {
      return fail(err, "EK public (a marshalled TPM2B_PUBLIC)");
    }
    err = attest_make_credential(&ek.publicArea, name, nlen, secret, slen,
                                 &blob, &sec);
    if (err == ROT_OK) {
      err = attest_cred_file_encode(&blob, &sec, &file);
    }
    free(blob.p);
    free(sec.p);
    if (err != ROT_OK) {
      return fail(err, "make credential");
    }
    int rc = write_file(a.out, file.p, file.len) ? 1 : 0;
    free(file.p);
    return rc;
  }
  if (strcmp(argv[1], "activate") != 0 || a.in == NULL) {
    return usage();
  }
  attest_buf_t file = {0}, blob = {0}, sec = {0};
  if (read_all(a.in, 8192, &file)) {
    return 1;
  }
  rot_error_t err = attest_cred_file_decode(file.p, file.len, &blob, &sec);
  free(file.p);
  if (err != ROT_OK) {
    return fail(err, a.in);
  }
  attest_tpm_t *t;
  if (open_tpm(&a, &t)) {
    free(blob.p);
    free(sec.p);
    return 1;
  }
  uint8_t cred[64];
  size_t clen = 0;
  err = attest_tpm_activate(t, a.handle, a.alg, blob.p, blob.len, sec.p,
                            sec.len, cred, sizeof(cred), &clen);
  free(blob.p);
  free(sec.p);
  if (err != ROT_OK) {
    fprintf(stderr, "%s: activate: %s: %s\n", prog, rot_error_str(err),
            attest_tpm_strerror(t));
    attest_tpm_close(t);
    return 1;
  }
  for (size_t i = 0; i < clen; i++) {
    printf("%02x", cred[i]);
  }
  printf("\n");
  attest_tpm_close(t);
  return 0;
}

static int write_evidence(const attest_evidence_t *ev, const char *path) {
  char *json = NULL;
  rot_error_t err = attest_evidence_encode(ev, &json);
  if (err != ROT_OK) {
    return fail(err, "encode evidence");
  }
  int rc = 0;
  if (path == NULL) {
    printf("%s\n", json);
  } else {
    size_t n = strlen(json);
    json[n] = '\n';
    rc = write_file(path, json, n + 1) ? 1 : 0;
    json[n] = '\0';
  }
  free(json);
  return rc;
}

static int cmd_quote(int argc, char **argv, int batch) {
  args_t a;
  if (parse_args(argc, argv, &a) || optind != argc || a.nnonces == 0 ||
      (!batch && a.nnonces != 1) || (batch && a.out_dir == NULL)) {
    return usage();
  }
  static uint8_t nb[MAX_NONCES][ATTEST_NONCE_MAX];
  static attest_nonce_t nonces[MAX_NONCES];
  for (size_t i = 0; i < a.nnonces; i++) {
    size_t len = 0;
    if (parse_hex(a.nonces[i], nb[i], ATTEST_NONCE_MAX, &len) ||
        len < ATTEST_NONCE_MIN) {
      fprintf(stderr, "%s: --nonce: %u..%u bytes of hex\n", prog,
              ATTEST_NONCE_MIN, ATTEST_NONCE_MAX);
      return EXIT_USAGE;
    }
    nonces[i].p = nb[i];
    nonces[i].len = len;
  }
  attest_source_t src = {.ak_handle = a.handle,
                         .pcr_mask = a.pcr_mask,
                         .ek_alg = a.alg,
                         .event_log = a.eventlog,
                         .rotd_socket = a.socket,
                         .no_chip = a.no_chip};
  attest_tpm_t *t;
  if (open_tpm(&a, &t)) {
    return 1;
  }
  char detail[512] = "";
  int rc = 0;
  if (!batch) {
    attest_evidence_t ev;
    rot_error_t err = attest_produce(t, &src, nonces[0].p, nonces[0].len, &ev,
                                     detail, sizeof(detail));
    if (err != ROT_OK) {
      fprintf(stderr, "%s: quote: %s\n", prog, detail);
      rc = 1;
    } else {
      rc = write_evidence(&ev, a.out);
      attest_evidence_free(&ev);
    }
  } else {
    attest_evidence_t *evs = calloc(a.nnonces, sizeof(*evs));
    rot_error_t err = evs == NULL ? ROT_ERROR_INTERNAL
                                  : attest_produce_batch(t, &src, nonces,
                                                         a.nnonces, evs, detail,
                                                         sizeof(detail));
    if (err != ROT_OK) {
      fprintf(stderr, "%s: quote-batch: %s\n", prog, detail);
      rc = 1;
    } else {
      (void)mkdir(a.out_dir, 0755);
      for (size_t i = 0; i < a.nnonces && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/evidence-%zu.json", a.out_dir, i);
        rc = write_evidence(&evs[i], path);
      }
      for (size_t i = 0; i < a.nnonces; i++) {
        attest_evidence_free(&evs[i]);
      }
    }
    free(evs);
  }
  attest_tpm_close(t);
  return rc;
}

static int cmd_refvals(int argc, char **argv) {
  args_t a;
  if (parse_args(argc, argv, &a) || a.keys == NULL || optind >= argc) {
    return usage();
  }
  attest_policy_t *p = malloc(sizeof(*p));
  char detail[512] = "";
  if (p == NULL) {
    return 1;
  }
  rot_error_t err = attest_refvals_derive(
      a.keys, (const char *const *)argv + optind, (size_t)(argc - optind), p,
      detail, sizeof(detail));
  char *json = NULL;
  if (err == ROT_OK) {
    err = attest_refvals_encode(p, &json);
  }
  free(p);
  if (err != ROT_OK) {
    fprintf(stderr, "%s: refvals: %s\n", prog,
            detail[0] ? detail : rot_error_str(err));
    return 1;
  }
  printf("%s\n", json);
  free(json);
  return 0;
}

static int load_evidence(const char *path, attest_evidence_t *ev) {
  attest_buf_t b;
  if (read_all(path, ATTEST_MAX_JSON, &b)) {
    return -1;
  }
  char detail[256];
  rot_error_t err = attest_evidence_decode((const char *)b.p, b.len, ev,
                                           detail, sizeof(detail));
  free(b.p);
  if (err != ROT_OK) {
    fprintf(stderr, "%s: %s: %s: %s\n", prog, path, rot_error_str(err),
            detail);
    return -1;
  }
  return 0;
}

/* Evidence from the agent at a.url for a nonce drawn here (nonce, *nlen
 * set), decoded into ev. */
static int fetch_evidence(const args_t *a, uint32_t pcr_mask, uint8_t *nonce,
                          size_t *nlen, attest_evidence_t *ev) {
  *nlen = 32;
  if (getrandom(nonce, *nlen, 0) != (ssize_t)*nlen) {
    fprintf(stderr, "%s: no random nonce\n", prog);
    return -1;
  }
  actl_fetch_t f = {.url = a->url, .cacert = a->cacert, .cert = a->client_cert,
                    .key = a->client_key};
  char *body = NULL;
  size_t len = 0;
  char why[1024];
  if (actl_fetch_evidence(&f, nonce, *nlen, pcr_mask, ATTEST_MAX_JSON, &body, &len,
                          why, sizeof(why)) != 0) {
    fprintf(stderr, "%s: %s\n", prog, why);
    return -1;
  }
  fprintf(stderr, "%s: evidence from %s for nonce ", prog, a->url);
  for (size_t i = 0; i < *nlen; i++) {
    fprintf(stderr, "%02x", nonce[i]);
  }
  fprintf(stderr, "\n");
  if (a->save != NULL && write_file(a->save, body, len) != 0) {
    free(body);
    return -1;
  }
  char detail[256];
  rot_error_t err = attest_evidence_decode(body, len, ev, detail, sizeof(detail));
  free(body);
  if (err != ROT_OK) {
    fprintf(stderr, "%s: %s answered something that is not evidence: %s: %s\n", prog,
            a->url, rot_error_str(err), detail);
    return -1;
  }
  return 0;
}

static int cmd_verify(int argc, char **argv) {
  args_t a;
  if (parse_args(argc, argv, &a) || a.policy == NULL || a.trust == NULL ||
      a.nnonces > 1 || (a.url == NULL && optind != argc - 1) ||
      (a.url != NULL && (optind != argc || a.nnonces != 0)) ||
      (a.client_key != NULL && a.client_cert == NULL)) {
    return usage();
  }
  uint8_t nonce[ATTEST_NONCE_MAX];
  size_t nlen = 0;
  if (a.nnonces == 1 && parse_hex(a.nonces[0], nonce, sizeof(nonce), &nlen)) {
    fprintf(stderr, "%s: --nonce: hex, at most %u bytes\n", prog,
            ATTEST_NONCE_MAX);
    return EXIT_USAGE;
  }
  attest_buf_t pb;
  if (read_all(a.policy, ATTEST_REF_MAX_JSON, &pb)) {
    return EXIT_USAGE;
  }
  attest_policy_t *pol = malloc(sizeof(*pol));
  char detail[256] = "";
  rot_error_t err = pol == NULL ? ROT_ERROR_INTERNAL
                                : attest_refvals_decode((const char *)pb.p,
                                                        pb.len, pol, detail,
                                                        sizeof(detail));
  free(pb.p);
  if (err != ROT_OK) {
    fprintf(stderr, "%s: %s: %s: %s\n", prog, a.policy, rot_error_str(err),
            detail);
    free(pol);
    return EXIT_USAGE;
  }
  attest_evidence_t ev;
  if (a.url != NULL
          ? fetch_evidence(&a, a.pcr_mask != 0 ? a.pcr_mask : pol->pcr_mask, nonce,
                           &nlen, &ev)
          : load_evidence(argv[optind], &ev)) {
    free(pol);
    return EXIT_USAGE;
  }
  attest_verify_opts_t o = {.policy = pol,
                            .trust_dir = a.trust,
                            .nonce = a.nnonces || a.url != NULL ? nonce : NULL,
                            .nonce_len = nlen,
                            .state_dir = a.state};
  attest_result_t *r = malloc(sizeof(*r));
  err = r == NULL ? ROT_ERROR_INTERNAL : attest_verify(&o, &ev, r);
  attest_evidence_free(&ev);
  free(pol);
  if (err != ROT_OK) {
    fprintf(stderr, "%s: verify: %s (%s)\n", prog, rot_error_str(err),
            rot_error_name(err));
    free(r);
    return EXIT_USAGE;
  }
  int trusted = r->trusted == HARDENED_TRUE;
  if (a.json) {
    json_object *root = json_object_new_object();
    json_object_object_add(root, "verdict", json_object_new_string(
                                                trusted ? "TRUSTED"
                                                        : "UNTRUSTED"));
    json_object_object_add(root, "host", json_object_new_string(r->host));
    json_object *checks = json_object_new_array();
    for (int i = 0; i < ATTEST_CHECK_COUNT; i++) {
      json_object *c = json_object_new_object();
      const attest_check_t *ck = &r->checks[i];
      json_object_object_add(
          c, "name", json_object_new_string(attest_check_name((attest_check_id_t)i)));
      json_object_object_add(
          c, "result",
          json_object_new_string(ck->status == ATTEST_PASS   ? "pass"
                                 : ck->status == ATTEST_SKIP ? "skip"
                                                             : "fail"));
      json_object_object_add(c, "reason", json_object_new_string(ck->reason));
      json_object_array_add(checks, c);
    }
    json_object_object_add(root, "checks", checks);
    printf("%s\n", json_object_to_json_string_ext(
                       root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                 JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
  } else {
    for (int i = 0; i < ATTEST_CHECK_COUNT; i++) {
      const attest_check_t *ck = &r->checks[i];
      printf("  %-4s %-21s %s\n",
             ck->status == ATTEST_PASS   ? "ok"
             : ck->status == ATTEST_SKIP ? "skip"
                                         : "FAIL",
             attest_check_name((attest_check_id_t)i), ck->reason);
    }
    printf("%s\n", trusted ? "TRUSTED" : "UNTRUSTED");
  }
  free(r);
  return trusted ? 0 : EXIT_UNTRUSTED;
}

static int cmd_parts(int argc, char **argv) {
  args_t a;
  if (parse_args(argc, argv, &a) || optind != argc - 1 || a.out == NULL) {
    return usage();
  }
  attest_evidence_t ev;
  if (load_evidence(argv[optind], &ev)) {
    return 1;
  }
  (void)mkdir(a.out, 0755);
  static const char *const names[] = {"attest", "sig", "pcrs", "ak.pem",
                                      "eventlog.bin", "ek.der", "ak.pub"};
  const void *data[] = {ev.attest.p, ev.signature.p, ev.pcrs.p, ev.ak_pem,
                        ev.event_log.p, ev.ek_cert.p, ev.ak_public.p};
  size_t lens[] = {ev.attest.len, ev.signature.len, ev.pcrs.len,
                   strlen(ev.ak_pem), ev.event_log.len, ev.ek_cert.len,
                   ev.ak_public.len};
  int rc = 0;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && rc == 0; i++) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", a.out, names[i]);
    rc = write_file(path, data[i], lens[i]) ? 1 : 0;
  }
  if (rc == 0) {
    for (size_t i = 0; i < ev.nonce_len; i++) {
      printf("%02x", ev.nonce[i]);
    }
    printf("\n");
  }
  attest_evidence_free(&ev);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage();
    return argc < 2 ? EXIT_USAGE : 0;
  }
  /* A ROT_CRYPTO naming no backend stops attestctl before it asks a TPM
   * or writes a file. */
  rot_error_t cerr = rot_host_crypto_get(NULL);
  if (cerr != ROT_OK) {
    const char *want = getenv("ROT_CRYPTO");
    fprintf(stderr, "%s: ROT_CRYPTO='%s': %s (%s)\n", prog,
            want != NULL ? want : "", rot_error_name(cerr), rot_error_str(cerr));
    return EXIT_USAGE; /* an error, never a verdict */
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "ak") == 0) {
    return cmd_ak(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "ek") == 0) {
    return cmd_ek(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "credential") == 0) {
    return cmd_credential(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "quote") == 0) {
    return cmd_quote(argc - 1, argv + 1, 0);
  }
  if (strcmp(cmd, "quote-batch") == 0) {
    return cmd_quote(argc - 1, argv + 1, 1);
  }
  if (strcmp(cmd, "refvals") == 0) {
    return cmd_refvals(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "verify") == 0) {
    return cmd_verify(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "parts") == 0) {
    return cmd_parts(argc - 1, argv + 1);
  }
  fprintf(stderr, "%s: unknown command %s\n", prog, cmd);
  return usage();
}
