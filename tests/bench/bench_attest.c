/*
 * Attestation figures for `make bench` (not a test): verifications per
 * second of single and batched evidence beside the backend's raw cost of
 * the crypto a verification cannot skip (the bound), and quotes per second
 * through ESAPI.
 *
 *   bench_attest verify EVIDENCE BATCH_EVIDENCE REFVALS TRUST_DIR
 *   bench_attest quote TCTI EVENTLOG
 *
 * Prints key=value lines for tests/bench/attest.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include "attest/attest.h"
#include "attest/refvals.h"
#include "attest/tpms.h"
#include "attest/verify.h"
#include "bootchain/eventlog.h"
#include "rot_host/crypto_mbedtls.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "bench_attest: %s failed\n", what);
  exit(1);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    die(path);
  }
  char *p = malloc(4u << 20);
  *len = fread(p, 1, (4u << 20) - 1, f);
  fclose(f);
  p[*len] = '\0';
  return p;
}

static void load_ev(const char *path, attest_evidence_t *ev) {
  size_t len;
  char *j = slurp(path, &len);
  if (attest_evidence_decode(j, len, ev, NULL, 0) != ROT_OK) {
    die("evidence decode");
  }
  free(j);
}

/* Verifications per second over >= 1 s. */
static double verify_rate(const attest_verify_opts_t *o,
                          const attest_evidence_t *ev) {
  static attest_result_t r;
  unsigned n = 0;
  double t0 = now_s(), t;
  do {
    if (attest_verify(o, ev, &r) != ROT_OK) {
      die("attest_verify");
    }
    /* Every check but the chip identity ones must pass: the bench's chip
     * runs RoT firmware but has no DeviceID certificate, so no chain, no
     * Alias certificate to carry DiceTcbInfo, no endorsement. */
    for (int i = 0; i < ATTEST_CHECK_COUNT; i++) {
      if (i != ATTEST_CHECK_AK_ENDORSED && i != ATTEST_CHECK_DICE_CHAIN &&
          i != ATTEST_CHECK_DICE_TCB && r.checks[i].status == ATTEST_FAIL) {
        fprintf(stderr, "check %s: %s\n", attest_check_name(i),
                r.checks[i].reason);
        die("a verify check");
      }
    }
    n++;
    t = now_s() - t0;
  } while (t < 1.0);
  return n / t;
}

/*
 * The bound: what any verifier of this evidence must compute with this
 * backend: the AK's P-256 ECDSA verify over SHA-256(attest), the EK
 * certificate's signature check (one chain step), and the log replay's
 * hashes (each event's digest extended in both banks).
 */
static double bound_rate(const attest_evidence_t *ev, const char *trust) {
  TPM2B_PUBLIC ak;
  TPMT_SIGNATURE sig;
  if (attest_tpm2b_public_decode(ev->ak_public.p, ev->ak_public.len, &ak) !=
          ROT_OK ||
      attest_tpmt_signature_decode(ev->signature.p, ev->signature.len,
                                   &sig) != ROT_OK) {
    die("AK or signature decode");
  }
  mbedtls_ecp_keypair kp;
  mbedtls_ecp_keypair_init(&kp);
  mbedtls_ecp_group_load(&kp.grp, MBEDTLS_ECP_DP_SECP256R1);
  mbedtls_mpi_read_binary(&kp.Q.X, ak.publicArea.unique.ecc.x.buffer, 32);
  mbedtls_mpi_read_binary(&kp.Q.Y, ak.publicArea.unique.ecc.y.buffer, 32);
  mbedtls_mpi_lset(&kp.Q.Z, 1);
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  mbedtls_mpi_read_binary(&r, sig.signature.ecdsa.signatureR.buffer,
                          sig.signature.ecdsa.signatureR.size);
  mbedtls_mpi_read_binary(&s, sig.signature.ecdsa.signatureS.buffer,
                          sig.signature.ecdsa.signatureS.size);
  char path[4096];
  snprintf(path, sizeof(path), "%s/tpm-intermediate.pem", trust);
  mbedtls_x509_crt issuer, ekc;
  mbedtls_x509_crt_init(&issuer);
  mbedtls_x509_crt_init(&ekc);
  if (mbedtls_x509_crt_parse_file(&issuer, path) != 0 ||
      mbedtls_x509_crt_parse_der(&ekc, ev->ek_cert.p, ev->ek_cert.len) != 0) {
    die("certificates");
  }
  /* Count the hashing the replay needs: per event, H(pcr || digest) in
   * each bank. */
  static bc_log_replay_t rep;
  if (bc_log_replay(ev->event_log.p, ev->event_log.len, rot_host_crypto(),
                    &rep) != ROT_OK) {
    die("replay");
  }
  uint32_t events = rep.header.event_count;
  unsigned n = 0;
  double t0 = now_s(), t;
  do {
    uint8_t h[64], buf[96] = {0}, h2[64];
    if (mbedtls_sha256_ret(ev->attest.p, ev->attest.len, h, 0) != 0 ||
        mbedtls_ecdsa_verify(&kp.grp, h, 32, &kp.Q, &r, &s) != 0) {
      die("raw ECDSA verify");
    }
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(ekc.sig_md);
    if (mbedtls_md(md, ekc.tbs.p, ekc.tbs.len, h2) != 0 ||
        mbedtls_pk_verify_ext(ekc.sig_pk, ekc.sig_opts, &issuer.pk, ekc.sig_md,
                              h2, mbedtls_md_get_size(md), ekc.sig.p,
                              ekc.sig.len) != 0) {
      die("raw EK certificate signature");
    }
    for (uint32_t e = 0; e < events; e++) {
      mbedtls_sha256_ret(buf, 64, buf, 0);
      mbedtls_sha512_ret(buf, 96, h, 1);
    }
    n++;
    t = now_s() - t0;
  } while (t < 1.0);
  mbedtls_ecp_keypair_free(&kp);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  mbedtls_x509_crt_free(&issuer);
  mbedtls_x509_crt_free(&ekc);
  return n / t;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "verify") == 0) {
    static attest_evidence_t ev, bev;
    static attest_policy_t pol;
    load_ev(argv[2], &ev);
    load_ev(argv[3], &bev);
    size_t len;
    char *j = slurp(argv[4], &len);
    if (attest_refvals_decode(j, len, &pol, NULL, 0) != ROT_OK) {
      die("refvals");
    }
    free(j);
    /* A long-running verifier loads its trust anchors once. */
    attest_trust_t *trust = NULL;
    char why[256];
    if (attest_trust_load(argv[5], &trust, why, sizeof(why)) != ROT_OK) {
      die(why);
    }
    attest_verify_opts_t o = {.policy = &pol, .trust_dir = argv[5],
                              .trust = trust};
    /* Alternate, so drift hits both. */
    double s1 = verify_rate(&o, &ev), b1 = verify_rate(&o, &bev);
    double raw = bound_rate(&ev, argv[5]);
    double s2 = verify_rate(&o, &ev), b2 = verify_rate(&o, &bev);
    printf("single_per_s=%.1f batched_per_s=%.1f bound_per_s=%.1f\n",
           (s1 + s2) / 2, (b1 + b2) / 2, raw);
    attest_trust_free(trust);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "quote") == 0) {
    attest_tpm_t *t;
    if (attest_tpm_open(&t, argv[2]) != ROT_OK) {
      die("attest_tpm_open");
    }
    uint16_t banks[4];
    size_t nb = 4;
    if (attest_tpm_banks(t, banks, &nb) != ROT_OK) {
      die("banks");
    }
    uint8_t nonce[32] = {1};
    unsigned n = 0;
    double t0 = now_s(), el;
    do {
      attest_quote_t q;
      nonce[0] = (uint8_t)n;
      if (attest_tpm_quote(t, ATTEST_AK_HANDLE, nonce, 32, 0xb3, banks, nb,
                           &q) != ROT_OK) {
        die("attest_tpm_quote");
      }
      attest_quote_free(&q);
      n++;
      el = now_s() - t0;
    } while (el < 1.0);
    attest_tpm_close(t);
    printf("quotes_per_s=%.1f\n", n / el);
    return 0;
  }
  fprintf(stderr, "usage: bench_attest verify EV BATCH_EV REFVALS TRUST | "
                  "quote TCTI EVENTLOG\n");
  return 2;
}
