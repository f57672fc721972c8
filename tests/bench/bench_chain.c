/*
 * Raw primitive costs behind the update and measured boot figures of
 * tests/bench/bench.sh; not a test.
 *
 *   bench_chain verify IMAGE
 *       rot_image_verify of a signed image file, in-process, and the raw
 *       mbedTLS SHA-384 of its payload: where the chip's time goes when it
 *       verifies a staged image.
 *   bench_chain chain TCTI OPENSBI_IMAGE PAYLOAD_IMAGE DTB
 *       every primitive the measured boot chain is built from, each on the
 *       very bytes the chain handles: SHA-256 and SHA-384 of both payloads
 *       and the handoff DTB, the P-384 image signature and the manifest's
 *       root signature of both images, and one TPM2_PCR_Extend carrying a
 *       digest for every active bank, sent with raw ESAPI.
 *   bench_chain extend TCTI PCR
 *       PCR extends per second through bootchain's bc_tpm_extend and
 *       through Esys_PCR_Extend directly, same TPM, same PCR, same digests
 *       (printed, so a peer tool can extend exactly those).
 *
 * Each prints one line of key=value pairs, times in ms per operation (mean
 * over at least kMinRuns runs and kMinSeconds of wall time, after one
 * untimed warm-up run). Signature checks run with the curve and the public
 * key already loaded, as the floor any verifier must pay.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "bootchain/tpm.h"
#include "rot/crypto.h"
#include "rot/image.h"
#include "rot/policy.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"

#define BENCH_NAME "bench_chain"
#include "bench_util.h"

/* Largest input file: a 64 MiB payload plus its header, manifest, signature. */
#define MAX_FILE (ROT_IMAGE_MAX_PAYLOAD + 64u * 1024u)

static const unsigned kMinRuns = 3;
/* Long enough for a stable mean of sub-millisecond operations, short
 * enough that the whole chain breakdown stays within a few seconds. */
static double g_min_seconds = 0.25;

/* Mean ms per call. */
static double time_it(bench_fn fn, void *arg) {
  return bench_time(fn, arg, g_min_seconds, kMinRuns).ms;
}

static uint8_t *read_input(const char *path, size_t *len) {
  uint8_t *buf = NULL;
  rot_error_t err = rot_file_read(path, MAX_FILE, &buf, len);
  if (err != ROT_OK) {
    fprintf(stderr, "bench_chain: cannot read %s: %s\n", path,
            rot_error_str(err));
    exit(1);
  }
  return buf;
}

static void parse_image(const char *path, const uint8_t *buf, size_t len,
                        rot_image_view_t *v) {
  rot_error_t err = rot_image_parse(buf, len, v);
  if (err != ROT_OK) {
    fprintf(stderr, "bench_chain: %s is not a signed image: %s\n", path,
            rot_error_str(err));
    exit(1);
  }
}

/* ---- hashing ------------------------------------------------------------ */

typedef struct hash_arg {
  const uint8_t *data;
  size_t len;
} hash_arg_t;

static void run_sha256(void *p) {
  hash_arg_t *a = p;
  uint8_t out[32];
  int rc = mbedtls_sha256_ret(a->data, a->len, out, 0);
  if (rc != 0) {
    die("mbedtls_sha256_ret", rc);
  }
}

static void run_sha384(void *p) {
  hash_arg_t *a = p;
  uint8_t out[ROT_SHA384_LEN];
  bench_sha384(a->data, a->len, out);
}

/* ---- signatures ------------------------------------------------------------ */

typedef struct sig_arg {
  bench_p384_t key;
  uint8_t digest[ROT_SHA384_LEN];
} sig_arg_t;

static void sig_setup(sig_arg_t *a, const uint8_t pub[ROT_P384_PUBKEY_LEN],
                      const uint8_t sig[ROT_P384_SIG_LEN], const uint8_t *msg,
                      size_t msg_len) {
  bench_sha384(msg, msg_len, a->digest);
  bench_p384_load(&a->key, pub, sig);
}

static void run_sig(void *p) {
  sig_arg_t *a = p;
  bench_p384_verify(&a->key, a->digest,
                    "mbedtls_ecdsa_verify (a signature of the input does not "
                    "verify)");
}

/* The signing key the header names, as certified by the manifest. */
static const uint8_t *signing_key(const rot_image_view_t *v) {
  for (uint32_t i = 0; i < v->manifest.head.key_count; i++) {
    if (v->manifest.keys[i].key_index == v->header.key_index) {
      return v->manifest.keys[i].pub;
    }
  }
  die("signing key lookup (key index not in the manifest)", v->header.key_index);
  return NULL;
}

/* ---- verify -------------------------------------------------------------- */

typedef struct verify_arg {
  const rot_crypto_t *c;
  rot_policy_t policy;
  const uint8_t *image;
  size_t len;
} verify_arg_t;

static void run_verify(void *p) {
  verify_arg_t *a = p;
  rot_verified_image_t v;
  rot_error_t err = rot_image_verify(a->c, &a->policy, a->image, a->len,
                                     ROT_IMAGE_TYPE_ANY, &v);
  if (err == ROT_OK) {
    err = rot_verified_check(&v);
  }
  if (err != ROT_OK) {
    fprintf(stderr, "bench_chain: rot_image_verify: %s\n", rot_error_str(err));
    exit(1);
  }
}

static int cmd_verify(const char *path) {
  g_min_seconds = 1.0;
  size_t len = 0;
  uint8_t *img = read_input(path, &len);
  rot_image_view_t view;
  parse_image(path, img, len, &view);
  /* The chip's fuses hold the hash of this very root key, no key is
   * revoked and every floor is below the image's SVN: the same checks
   * run as in rotd, in the same order. */
  verify_arg_t va = {.c = rot_host_crypto(), .image = img, .len = len};
  va.policy.lifecycle = ROT_LIFECYCLE_DEV;
  if (va.c == NULL ||
      rot_hash(va.c, ROT_HASH_SHA384, view.manifest.head.root_pub,
               ROT_P384_PUBKEY_LEN, va.policy.root_key_hash,
               sizeof(va.policy.root_key_hash)) != ROT_OK) {
    die("root key hash", 0);
  }
  hash_arg_t ha = {view.payload, view.header.payload_len};
  double verify_ms = time_it(run_verify, &va);
  double sha384_ms = time_it(run_sha384, &ha);
  printf("image_bytes=%zu payload_bytes=%u verify_ms=%.3f "
         "payload_sha384_ms=%.3f\n",
         len, view.header.payload_len, verify_ms, sha384_ms);
  free(img);
  return 0;
}

/* ---- raw ESAPI ------------------------------------------------------------ */

typedef struct esys {
  TSS2_TCTI_CONTEXT *tcti;
  ESYS_CONTEXT *ctx;
} esys_t;

static void esys_open(esys_t *e, const char *tcti) {
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti, &e->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    fprintf(stderr, "bench_chain: TCTI %s: %s\n", tcti, Tss2_RC_Decode(rc));
    exit(1);
  }
  rc = Esys_Initialize(&e->ctx, e->tcti, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    fprintf(stderr, "bench_chain: Esys_Initialize: %s\n", Tss2_RC_Decode(rc));
    exit(1);
  }
}

static void esys_close(esys_t *e) {
  Esys_Finalize(&e->ctx);
  Tss2_TctiLdr_Finalize(&e->tcti);
}

/* One digest per bank, as the chain extends them: SHA-256 and SHA-384. */
typedef struct extend_arg {
  esys_t esys;
  bc_tpm_t *tpm;
  uint32_t pcr;
  TPML_DIGEST_VALUES values;
  bc_tpm_digests digests;
} extend_arg_t;

static void extend_digests(extend_arg_t *a, const char *label) {
  uint8_t d256[32], d384[64];
  if (mbedtls_sha256_ret((const uint8_t *)label, strlen(label), d256, 0) != 0 ||
      mbedtls_sha512_ret((const uint8_t *)label, strlen(label), d384, 1) != 0) {
    die("digest of the extend label", 0);
  }
  memset(&a->values, 0, sizeof(a->values));
  a->values.count = 2;
  a->values.digests[0].hashAlg = TPM2_ALG_SHA256;
  memcpy(a->values.digests[0].digest.sha256, d256, 32);
  a->values.digests[1].hashAlg = TPM2_ALG_SHA384;
  memcpy(a->values.digests[1].digest.sha384, d384, 48);
  memset(&a->digests, 0, sizeof(a->digests));
  a->digests.count = 2;
  a->digests.d[0].alg = BC_TPM_ALG_SHA256;
  memcpy(a->digests.d[0].digest, d256, 32);
  a->digests.d[1].alg = BC_TPM_ALG_SHA384;
  memcpy(a->digests.d[1].digest, d384, 48);
}

static void run_esys_extend(void *p) {
  extend_arg_t *a = p;
  TSS2_RC rc = Esys_PCR_Extend(a->esys.ctx, ESYS_TR_PCR0 + a->pcr,
                               ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                               &a->values);
  if (rc != TSS2_RC_SUCCESS) {
    fprintf(stderr, "bench_chain: Esys_PCR_Extend: %s\n", Tss2_RC_Decode(rc));
    exit(1);
  }
}

static void run_bc_extend(void *p) {
  extend_arg_t *a = p;
  if (bc_tpm_extend(a->tpm, a->pcr, &a->digests) != ROT_OK) {
    fprintf(stderr, "bench_chain: bc_tpm_extend: %s\n", bc_tpm_strerror(a->tpm));
    exit(1);
  }
}

static double esys_extend_ms(extend_arg_t *a, const char *tcti) {
  esys_open(&a->esys, tcti);
  double ms = time_it(run_esys_extend, a);
  esys_close(&a->esys);
  return ms;
}

static double bc_extend_ms(extend_arg_t *a, const char *tcti) {
  if (bc_tpm_open(&a->tpm, tcti) != ROT_OK) {
    fprintf(stderr, "bench_chain: bc_tpm_open: %s\n", bc_tpm_strerror(NULL));
    exit(1);
  }
  double ms = time_it(run_bc_extend, a);
  bc_tpm_close(a->tpm);
  a->tpm = NULL;
  return ms;
}

static void hex(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    printf("%02x", p[i]);
  }
}

static uint32_t parse_pcr(const char *s) {
  char *end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || v >= BC_TPM_PCR_COUNT) {
    fprintf(stderr, "bench_chain: PCR must be 0..%u\n", BC_TPM_PCR_COUNT - 1);
    exit(2);
  }
  return (uint32_t)v;
}

static int cmd_extend(const char *tcti, const char *pcr) {
  g_min_seconds = 1.0;
  extend_arg_t a;
  memset(&a, 0, sizeof(a));
  a.pcr = parse_pcr(pcr);
  extend_digests(&a, "bench_chain extend");
  /* The swtpm serves one connection at a time: one context after the
   * other, and each figure twice in alternating order so that neither
   * side gets the warmer TPM. */
  double bc1 = bc_extend_ms(&a, tcti);
  double raw1 = esys_extend_ms(&a, tcti);
  double raw2 = esys_extend_ms(&a, tcti);
  double bc2 = bc_extend_ms(&a, tcti);
  printf("pcr=%u bc_ms=%.4f esys_ms=%.4f sha256=", a.pcr, (bc1 + bc2) / 2,
         (raw1 + raw2) / 2);
  hex(a.values.digests[0].digest.sha256, 32);
  printf(" sha384=");
  hex(a.values.digests[1].digest.sha384, 48);
  printf("\n");
  return 0;
}

/* ---- chain ------------------------------------------------------------------ */

/* The hashes and signature checks of one signed image's payload. */
static void image_primitives(const char *key, const char *path) {
  size_t len = 0;
  uint8_t *img = read_input(path, &len);
  rot_image_view_t v;
  parse_image(path, img, len, &v);
  hash_arg_t ha = {v.payload, v.header.payload_len};
  double s256 = time_it(run_sha256, &ha);
  double s384 = time_it(run_sha384, &ha);

  sig_arg_t image_sig, manifest_sig;
  sig_setup(&image_sig, signing_key(&v), v.signature, img,
            ROT_IMAGE_HEADER_SIZE + v.header.manifest_len);
  sig_setup(&manifest_sig, v.manifest.head.root_pub, v.manifest.root_sig,
            v.manifest.signed_bytes, v.manifest.signed_len);
  double sig_ms = time_it(run_sig, &image_sig);
  double manifest_ms = time_it(run_sig, &manifest_sig);
  bench_p384_free(&image_sig.key);
  bench_p384_free(&manifest_sig.key);
  printf("%s_bytes=%u %s_sha256_ms=%.4f %s_sha384_ms=%.4f %s_sig_ms=%.4f "
         "%s_manifest_ms=%.4f ",
         key, v.header.payload_len, key, s256, key, s384, key, sig_ms, key,
         manifest_ms);
  free(img);
}

static int cmd_chain(const char *tcti, const char *fw, const char *payload,
                     const char *dtb_path) {
  image_primitives("fw", fw);
  image_primitives("pl", payload);
  size_t dtb_len = 0;
  uint8_t *dtb = read_input(dtb_path, &dtb_len);
  hash_arg_t ha = {dtb, dtb_len};
  double s256 = time_it(run_sha256, &ha);
  double s384 = time_it(run_sha384, &ha);
  free(dtb);
  /* The chain extends PCRs 0-7; the cost of an extend does not depend on
   * the index, and PCR 16 leaves those untouched. */
  extend_arg_t a;
  memset(&a, 0, sizeof(a));
  a.pcr = 16;
  extend_digests(&a, "bench_chain chain");
  double ext = esys_extend_ms(&a, tcti);
  printf("dtb_bytes=%zu dtb_sha256_ms=%.4f dtb_sha384_ms=%.4f "
         "esys_extend_ms=%.4f\n",
         dtb_len, s256, s384, ext);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "verify") == 0) {
    return cmd_verify(argv[2]);
  }
  if (argc == 6 && strcmp(argv[1], "chain") == 0) {
    return cmd_chain(argv[2], argv[3], argv[4], argv[5]);
  }
  if (argc == 4 && strcmp(argv[1], "extend") == 0) {
    return cmd_extend(argv[2], argv[3]);
  }
  fprintf(stderr,
          "usage: bench_chain verify IMAGE\n"
          "       bench_chain chain TCTI OPENSBI_IMAGE PAYLOAD_IMAGE DTB\n"
          "       bench_chain extend TCTI PCR\n");
  return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
