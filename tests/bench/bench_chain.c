/*
 * Raw primitive costs behind the update and measured boot figures of
 * tests/bench/bench.sh; not a test.
 *
 *   bench_chain verify IMAGE
 *       rot_image_verify of a signed image file, in-process, and the raw
 *       mbedTLS SHA-384 of its payload: where the chip's time goes when it
 *       verifies a staged image.
 *   bench_chain chain TCTI OPENSBI_IMAGE PAYLOAD_IMAGE DTB ROT_IMAGE DIR
 *       every primitive the measured boot chain is built from, each on the
 *       very bytes the chain handles: SHA-256 and SHA-384 of both payloads
 *       and the handoff DTB, the P-384 image signature and the manifest's
 *       root signature of both images, and one TPM2_PCR_Extend carrying a
 *       digest for every active bank, sent with raw ESAPI. Then the
 *       primitives of the work the design requires beyond those (see
 *       "design" below): the chip's read of each image from a flash-sized
 *       file in DIR (DIR on the file system that holds the chip's flash),
 *       one audit record made durable there (a small write + fdatasync),
 *       a sealed memfd copy of each payload, the RoT firmware image
 *       (ROT_IMAGE), which the chain also reads, hashes and seals, and
 *       the start of QEMU: vfork and exec of the QEMU stand-in named by
 *       $BENCH_QEMU_STUB, from before the vfork to the stand-in's first
 *       instruction (the moment it stamps into DIR).
 *   bench_chain extend TCTI PCR
 *       PCR extends per second through bootchain's bc_tpm_extend and
 *       through Esys_PCR_Extend directly, same TPM, same PCR, same digests
 *       (printed, so a peer tool can extend exactly those).
 *
 * Each prints one line of key=value pairs, times in ms per operation: the
 * median of BENCH_RUNS samples (default 11) after one untimed warm-up,
 * with min and max beside it; compared figures are sampled interleaved.
 * Hashes and signature checks run on the backend rot_host_crypto()
 * selects (ROT_CRYPTO), called directly, the curve and the public key
 * already loaded, as the floor any verifier must pay.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "bootchain/tpm.h"
#include "rot/audit.h"
#include "rot/crypto.h"
#include "rot/flash.h"
#include "rot/image.h"
#include "rot/policy.h"
#include "rot_client/names.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"

#define BENCH_NAME "bench_chain"
#include "bench_util.h"

/* Largest input file: a 64 MiB payload plus its header, manifest, signature. */
#define MAX_FILE (ROT_IMAGE_MAX_PAYLOAD + 64u * 1024u)

static bench_backend_t g_backend;

/* Median ms per call. */
static double time_it(bench_fn fn, void *arg) {
  return bench_one(fn, arg, bench_runs()).median_ms;
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
  uint8_t out[ROT_SHA256_LEN];
  bench_hash(g_backend, 0, a->data, a->len, out);
}

static void run_sha384(void *p) {
  hash_arg_t *a = p;
  uint8_t out[ROT_SHA384_LEN];
  bench_sha384(g_backend, a->data, a->len, out);
}

/* ---- signatures ------------------------------------------------------------ */

typedef struct sig_arg {
  bench_p384_t key;
  uint8_t digest[ROT_SHA384_LEN];
} sig_arg_t;

static void sig_setup(sig_arg_t *a, const uint8_t pub[ROT_P384_PUBKEY_LEN],
                      const uint8_t sig[ROT_P384_SIG_LEN], const uint8_t *msg,
                      size_t msg_len) {
  bench_sha384(g_backend, msg, msg_len, a->digest);
  bench_p384_load(&a->key, g_backend, pub, sig);
}

static void run_sig(void *p) {
  sig_arg_t *a = p;
  bench_p384_verify(&a->key, a->digest,
                    "P-384 verify (a signature of the input does not verify)");
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
  bench_side_t sides[2] = {{.fn = run_verify, .arg = &va},
                           {.fn = run_sha384, .arg = &ha}};
  bench_interleave(sides, 2, bench_runs());
  printf("backend=%s image_bytes=%zu payload_bytes=%u ",
         bench_backend_name(g_backend), len, view.header.payload_len);
  bench_print("verify", &sides[0]);
  bench_print("payload_sha384", &sides[1]);
  printf("\n");
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
  bench_hash(g_backend, 0, (const uint8_t *)label, strlen(label), d256);
  bench_hash(g_backend, 1, (const uint8_t *)label, strlen(label), d384);
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

/* Extends per sample: enough for a stable per-extend figure. */
#define EXTENDS_PER_SAMPLE 64u

/* One sample: open a context, time EXTENDS_PER_SAMPLE extends, close (the
 * swtpm serves one connection at a time, so the two paths take turns). */
static double esys_sample(extend_arg_t *a, const char *tcti) {
  esys_open(&a->esys, tcti);
  run_esys_extend(a); /* the context's first command is not timed */
  double t0 = now_s();
  for (unsigned i = 0; i < EXTENDS_PER_SAMPLE; i++) {
    run_esys_extend(a);
  }
  double ms = (now_s() - t0) * 1e3 / EXTENDS_PER_SAMPLE;
  esys_close(&a->esys);
  return ms;
}

static double bc_sample(extend_arg_t *a, const char *tcti) {
  if (bc_tpm_open(&a->tpm, tcti) != ROT_OK) {
    fprintf(stderr, "bench_chain: bc_tpm_open: %s\n", bc_tpm_strerror(NULL));
    exit(1);
  }
  run_bc_extend(a);
  double t0 = now_s();
  for (unsigned i = 0; i < EXTENDS_PER_SAMPLE; i++) {
    run_bc_extend(a);
  }
  double ms = (now_s() - t0) * 1e3 / EXTENDS_PER_SAMPLE;
  bc_tpm_close(a->tpm);
  a->tpm = NULL;
  return ms;
}

static void stats(double *v, unsigned n, double *med, double *lo, double *hi) {
  qsort(v, n, sizeof(double), cmp_double);
  *med = (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  *lo = v[0];
  *hi = v[n - 1];
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
  extend_arg_t a;
  memset(&a, 0, sizeof(a));
  a.pcr = parse_pcr(pcr);
  extend_digests(&a, "bench_chain extend");
  unsigned runs = bench_runs();
  double bc[256], raw[256];
  /* Warm-up of both paths, then interleaved samples; alternate which side
   * goes first so that neither always gets the warmer TPM. */
  (void)bc_sample(&a, tcti);
  (void)esys_sample(&a, tcti);
  for (unsigned r = 0; r < runs; r++) {
    if (r % 2 == 0) {
      bc[r] = bc_sample(&a, tcti);
      raw[r] = esys_sample(&a, tcti);
    } else {
      raw[r] = esys_sample(&a, tcti);
      bc[r] = bc_sample(&a, tcti);
    }
  }
  double bm, bl, bh, rm, rl, rh;
  stats(bc, runs, &bm, &bl, &bh);
  stats(raw, runs, &rm, &rl, &rh);
  printf("pcr=%u bc_ms=%.4f bc_min=%.4f bc_max=%.4f esys_ms=%.4f "
         "esys_min=%.4f esys_max=%.4f runs=%u per_sample=%u sha256=",
         a.pcr, bm, bl, bh, rm, rl, rh, runs, EXTENDS_PER_SAMPLE);
  hex(a.values.digests[0].digest.sha256, 32);
  printf(" sha384=");
  hex(a.values.digests[1].digest.sha384, 48);
  printf("\n");
  return 0;
}

/* ---- chain ------------------------------------------------------------------ */

typedef struct read_arg {
  const char *path;
} read_arg_t;

/* Reading the image's bytes once (page cache), as the chain must. */
static void run_read(void *p) {
  read_arg_t *a = p;
  size_t len = 0;
  free(read_input(a->path, &len));
}

/* The read, hashes and signature checks of one signed image's payload. */
static void image_primitives(const char *key, const char *path) {
  read_arg_t ra = {path};
  double read_ms = time_it(run_read, &ra);
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
  printf("%s_bytes=%u %s_read_ms=%.4f %s_sha256_ms=%.4f %s_sha384_ms=%.4f "
         "%s_sig_ms=%.4f %s_manifest_ms=%.4f ",
         key, v.header.payload_len, key, read_ms, key, s256, key, s384, key,
         sig_ms, key, manifest_ms);
  free(img);
}

/* ---- design: the required work the bound does not count ---------- */

/*
 * The chain's boot is more than the bound's primitives because the design
 * asks for more, on both sides of the mailbox:
 *   - the chip (rotd, another process) decides each boot image itself:
 *     it reads the whole signed image from its flash (header first, then
 *     the length the header declares, into its scratch buffer), hashes the
 *     payload with SHA-384 (its own pass, beside bootchain's) and checks
 *     the signature (the bound's one P-384 verify per image is that one),
 *     and makes one audit record durable per decision before it answers;
 *   - bootchain copies each payload it measures into a sealed memfd (the
 *     bytes QEMU boots), and measures the RoT firmware image too (PCR 0's
 *     S-CRTM contents: read, SHA-256 + SHA-384, sealed copy).
 * Each primitive is timed here on the same bytes, in-process. A sample
 * times its own n operations so that clean-up (closing the sealed copies)
 * stays outside the clock; the primitives are sampled interleaved.
 */
typedef struct extra {
  const char *key;
  double (*sample)(void *arg, unsigned n); /* ms per operation */
  void *arg;
  unsigned cap; /* most operations in one sample (what a sample holds) */
  unsigned batch;
  double samples[256];
  double med, lo, hi;
} extra_t;

static void extras_interleave(extra_t *x, size_t n, unsigned runs) {
  const double min_ms = BENCH_MIN_SAMPLE_S * 1e3;
  for (size_t i = 0; i < n; i++) {
    double ms = x[i].sample(x[i].arg, 1); /* warm-up: sizes the batch */
    unsigned b = 1;
    if (ms < min_ms) {
      b = (unsigned)(min_ms / (ms > 1e-4 ? ms : 1e-4)) + 1u;
    }
    x[i].batch = b < x[i].cap ? b : x[i].cap;
  }
  for (unsigned r = 0; r < runs; r++) {
    for (size_t i = 0; i < n; i++) {
      x[i].samples[r] = x[i].sample(x[i].arg, x[i].batch);
    }
  }
  for (size_t i = 0; i < n; i++) {
    stats(x[i].samples, runs, &x[i].med, &x[i].lo, &x[i].hi);
  }
}

/* The chip's read of one image from its flash file (page cache, as in
 * rotd): the header, then the whole image into the scratch buffer. */
typedef struct chip_read_arg {
  int fd;
  uint32_t off, len;
  uint8_t *scratch;
} chip_read_arg_t;

static double sample_chip_read(void *p, unsigned n) {
  chip_read_arg_t *a = p;
  uint8_t hdr[ROT_IMAGE_HEADER_SIZE];
  double t0 = now_s();
  for (unsigned i = 0; i < n; i++) {
    if (rot_file_pread(a->fd, hdr, sizeof(hdr), a->off) != ROT_OK ||
        rot_file_pread(a->fd, a->scratch, a->len, a->off) != ROT_OK) {
      die("pread of the flash file", errno);
    }
  }
  return (now_s() - t0) * 1e3 / n;
}

/* One audit record made durable: a record-sized write into the audit
 * region of the flash file, then fdatasync (rotd's barrier), each record
 * in the next slot of one erase block, as the chip's ring fills. */
typedef struct audit_arg {
  int fd;
  uint32_t off;
  uint32_t slot, slots;
  uint8_t rec[ROT_AUDIT_RECORD_SIZE];
} audit_arg_t;

static double sample_audit(void *p, unsigned n) {
  audit_arg_t *a = p;
  double t0 = now_s();
  for (unsigned i = 0; i < n; i++) {
    off_t at = (off_t)a->off + (off_t)a->slot * ROT_AUDIT_RECORD_SIZE;
    if (pwrite(a->fd, a->rec, sizeof(a->rec), at) != (ssize_t)sizeof(a->rec) ||
        fdatasync(a->fd) != 0) {
      die("audit record write + fdatasync", errno);
    }
    a->slot = (a->slot + 1u) % a->slots;
  }
  return (now_s() - t0) * 1e3 / n;
}

/* A sealed copy of one payload: memfd_create, write, seals (as
 * bc_seal_create; its read-back and comparison are not counted). The
 * copies of a sample are closed after its clock stops. */
#define SEAL_MAX_BATCH 32u
#define SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

typedef struct seal_arg {
  const uint8_t *data;
  size_t len;
  int fds[SEAL_MAX_BATCH];
} seal_arg_t;

static double sample_seal(void *p, unsigned n) {
  seal_arg_t *a = p;
  if (n > SEAL_MAX_BATCH) {
    die("seal sample (batch too large)", n);
  }
  double t0 = now_s();
  for (unsigned i = 0; i < n; i++) {
    int fd = memfd_create("bench-seal", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    if (fd < 0 || rot_file_write_all(fd, a->data, a->len) != 0 ||
        fcntl(fd, F_ADD_SEALS, SEALS) != 0) {
      die("memfd_create, write, seals", errno);
    }
    a->fds[i] = fd;
  }
  double ms = (now_s() - t0) * 1e3 / n;
  for (unsigned i = 0; i < n; i++) {
    close(a->fds[i]);
  }
  return ms;
}

/* The start of QEMU as bootchain starts it: vfork, then exec of the
 * stand-in, timed from before the vfork to the stand-in's first
 * instruction (it writes that moment, CLOCK_REALTIME in microseconds, to
 * $BENCH_STAMP_FILE); its exit and reaping are outside the clock. */
typedef struct spawn_arg {
  const char *stub;
  char stamp[4096];
  char env[4200];
} spawn_arg_t;

/* vfork + exec on its own frame: nothing of the caller's lives across
 * the vfork. */
static __attribute__((noinline)) pid_t spawn_stub(const spawn_arg_t *a) {
  char *const argv[] = {(char *)a->stub, NULL};
  char *const envp[] = {(char *)a->env, NULL};
  pid_t pid = vfork();
  if (pid == 0) {
    execve(a->stub, argv, envp);
    _exit(127);
  }
  return pid;
}

static double sample_spawn(void *p, unsigned n) {
  spawn_arg_t *a = p;
  double ms = 0;
  for (unsigned i = 0; i < n; i++) {
    (void)unlink(a->stamp);
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    pid_t pid = spawn_stub(a);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      die("vfork + exec of the QEMU stand-in", errno);
    }
    size_t len = 0;
    uint8_t *txt = read_input(a->stamp, &len);
    char buf[32];
    if (len == 0 || len >= sizeof(buf)) {
      die("the QEMU stand-in's stamp", (int)len);
    }
    memcpy(buf, txt, len);
    buf[len] = '\0';
    free(txt);
    double t1_us = strtod(buf, NULL);
    ms += (t1_us - ((double)t0.tv_sec * 1e6 + (double)t0.tv_nsec / 1e3)) / 1e3;
  }
  return ms / n;
}

/* A signed image file, read and parsed (the caller frees *img). */
typedef struct loaded {
  uint8_t *img;
  size_t len;
  rot_image_view_t v;
} loaded_t;

static void load_image(const char *path, loaded_t *l) {
  l->img = read_input(path, &l->len);
  parse_image(path, l->img, l->len, &l->v);
}

/* Write len bytes at off of the flash file (set-up, untimed). */
static void flash_put(int fd, const void *data, size_t len, uint32_t off,
                      uint32_t region_size) {
  if (len > region_size ||
      pwrite(fd, data, len, (off_t)off) != (ssize_t)len) {
    die("writing the flash file", errno);
  }
}

/*
 * The design's primitives on a flash file of the reference layout's size
 * in dir: the images at their slot-A regions and the audit region's first
 * erase block written, then synced, so that (as in rotd after install)
 * every block read or written below is on the disk and in the page cache.
 */
static void design_primitives(const char *fw_path, const char *pl_path,
                              const char *rot_path, const char *dir) {
  const rot_flash_layout_t *l = &rot_flash_layout_default;
  const rot_flash_region_t *fw_r = &l->regions[ROT_RGN_OPENSBI_A];
  const rot_flash_region_t *pl_r = &l->regions[ROT_RGN_HYPERVISOR_A];
  const rot_flash_region_t *au_r = &l->regions[ROT_RGN_AUDIT];
  loaded_t fw, pl, rot;
  load_image(fw_path, &fw);
  load_image(pl_path, &pl);
  load_image(rot_path, &rot);

  char path[4096];
  int n = snprintf(path, sizeof(path), "%s/bench-flash.bin", dir);
  if (n < 0 || (size_t)n >= sizeof(path)) {
    die("flash file path (too long)", n);
  }
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, (off_t)l->flash_size) != 0) {
    fprintf(stderr, "bench_chain: cannot create %s: %s\n", path, strerror(errno));
    exit(1);
  }
  flash_put(fd, fw.img, fw.len, fw_r->off, fw_r->size);
  flash_put(fd, pl.img, pl.len, pl_r->off, pl_r->size);
  uint8_t *block = malloc(l->erase_size);
  if (block == NULL) {
    die("malloc", 0);
  }
  memset(block, 0xff, l->erase_size);
  flash_put(fd, block, l->erase_size, au_r->off, au_r->size);
  free(block);
  if (fsync(fd) != 0) {
    die("fsync of the flash file", errno);
  }

  /* rotd's scratch buffer: one, as large as the largest image, touched. */
  size_t scratch_len = fw.len > pl.len ? fw.len : pl.len;
  uint8_t *scratch = malloc(scratch_len);
  if (scratch == NULL) {
    die("malloc", 0);
  }
  memset(scratch, 0, scratch_len);

  chip_read_arg_t fw_rd = {fd, fw_r->off, (uint32_t)fw.len, scratch};
  chip_read_arg_t pl_rd = {fd, pl_r->off, (uint32_t)pl.len, scratch};
  audit_arg_t au = {.fd = fd, .off = au_r->off,
                    .slots = l->erase_size / ROT_AUDIT_RECORD_SIZE};
  memset(au.rec, 0x5a, sizeof(au.rec));
  seal_arg_t fw_seal = {.data = fw.v.payload, .len = fw.v.header.payload_len};
  seal_arg_t pl_seal = {.data = pl.v.payload, .len = pl.v.header.payload_len};
  seal_arg_t rot_seal = {.data = rot.v.payload, .len = rot.v.header.payload_len};
  spawn_arg_t spawn = {.stub = getenv("BENCH_QEMU_STUB")};
  if (spawn.stub == NULL || access(spawn.stub, X_OK) != 0) {
    die("BENCH_QEMU_STUB (the QEMU stand-in) not set or not executable", errno);
  }
  n = snprintf(spawn.stamp, sizeof(spawn.stamp), "%s/bench-spawn.stamp", dir);
  if (n < 0 || (size_t)n >= sizeof(spawn.stamp)) {
    die("stamp file path (too long)", n);
  }
  (void)snprintf(spawn.env, sizeof(spawn.env), "BENCH_STAMP_FILE=%s", spawn.stamp);
  extra_t x[] = {
      {.key = "fw_chip_read", .sample = sample_chip_read, .arg = &fw_rd, .cap = 100000u},
      {.key = "pl_chip_read", .sample = sample_chip_read, .arg = &pl_rd, .cap = 100000u},
      {.key = "audit_sync", .sample = sample_audit, .arg = &au, .cap = 100000u},
      {.key = "fw_seal", .sample = sample_seal, .arg = &fw_seal, .cap = SEAL_MAX_BATCH},
      {.key = "pl_seal", .sample = sample_seal, .arg = &pl_seal, .cap = SEAL_MAX_BATCH},
      {.key = "rot_seal", .sample = sample_seal, .arg = &rot_seal, .cap = SEAL_MAX_BATCH},
      {.key = "qemu_start", .sample = sample_spawn, .arg = &spawn, .cap = 1u},
  };
  size_t nx = sizeof(x) / sizeof(x[0]);
  extras_interleave(x, nx, bench_runs());
  for (size_t i = 0; i < nx; i++) {
    printf("%s_ms=%.4f %s_min=%.4f %s_max=%.4f ", x[i].key, x[i].med, x[i].key,
           x[i].lo, x[i].key, x[i].hi);
  }
  printf("fw_image_bytes=%zu pl_image_bytes=%zu flash_bytes=%u audit_record_bytes=%u ",
         fw.len, pl.len, l->flash_size, ROT_AUDIT_RECORD_SIZE);
  free(scratch);
  close(fd);
  (void)unlink(spawn.stamp);
  if (unlink(path) != 0) {
    die("unlink of the flash file", errno);
  }
  free(fw.img);
  free(pl.img);
  free(rot.img);
}

static int cmd_chain(const char *tcti, const char *fw, const char *payload,
                     const char *dtb_path, const char *rot, const char *dir) {
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
  double samples[256];
  unsigned runs = bench_runs();
  (void)esys_sample(&a, tcti);
  for (unsigned r = 0; r < runs; r++) {
    samples[r] = esys_sample(&a, tcti);
  }
  double ext, lo, hi;
  stats(samples, runs, &ext, &lo, &hi);
  printf("backend=%s dtb_bytes=%zu dtb_sha256_ms=%.4f dtb_sha384_ms=%.4f "
         "esys_extend_ms=%.4f esys_extend_min=%.4f esys_extend_max=%.4f ",
         bench_backend_name(g_backend), dtb_len, s256, s384, ext, lo, hi);
  /* The RoT firmware image is read and hashed in both banks like the
   * others (its sealed copy is with the design's primitives); the chip
   * decided it at reset, so it takes no decision of its own at boot. */
  image_primitives("rot", rot);
  design_primitives(fw, payload, rot, dir);
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  g_backend = bench_backend();
  if (argc == 3 && strcmp(argv[1], "verify") == 0) {
    return cmd_verify(argv[2]);
  }
  if (argc == 8 && strcmp(argv[1], "chain") == 0) {
    return cmd_chain(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
  }
  if (argc == 4 && strcmp(argv[1], "extend") == 0) {
    return cmd_extend(argv[2], argv[3]);
  }
  fprintf(stderr,
          "usage: bench_chain verify IMAGE\n"
          "       bench_chain chain TCTI OPENSBI_IMAGE PAYLOAD_IMAGE DTB ROT_IMAGE DIR\n"
          "       bench_chain extend TCTI PCR\n");
  return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
