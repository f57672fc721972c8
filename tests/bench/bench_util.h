/*
 * Timing and raw-primitive helpers shared by the benchmark programs of
 * tests/bench/; not a test. Define BENCH_NAME (the program's name, for its
 * error messages) before including.
 *
 * Every figure is the median of interleaved samples (A, B, A, B, ...) so
 * that a slow moment of a shared machine lands on both sides; the warm-up
 * run of each side is excluded, and min and max are kept beside the
 * median. A sample of a sub-millisecond operation is a batch of calls
 * (its per-call mean), sized once from the warm-up.
 *
 * The raw primitives exist twice, one set per crypto backend: mbedTLS and
 * OpenSSL 3's libcrypto, each called directly with no rot layer between,
 * so "ours / raw" compares like with like.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "rot/crypto.h"

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_util.h"
#endif

/* A figure measured after a failed step would be a lie: say which, stop. */
static inline void die(const char *what, long code) {
  fprintf(stderr, BENCH_NAME ": %s failed (0x%lx)\n", what,
          (unsigned long)code);
  exit(1);
}

static inline double now_s(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    die("clock_gettime", errno);
  }
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef void (*bench_fn)(void *arg);

/* One side of a comparison: what to run, and what was measured. */
typedef struct bench_side {
  bench_fn fn;
  void *arg;
  unsigned batch;   /* calls per sample */
  unsigned runs;    /* samples taken (the warm-up excluded) */
  double median_ms; /* per call */
  double min_ms;
  double max_ms;
  double samples[256];
} bench_side_t;

/* Interleaved samples per side: BENCH_RUNS (3..256), 11 without it. */
static inline unsigned bench_runs(void) {
  const char *e = getenv("BENCH_RUNS");
  unsigned long n = e != NULL ? strtoul(e, NULL, 10) : 0;
  return n >= 3 && n <= 256 ? (unsigned)n : 11u;
}

/* Shortest sample worth timing: below this, batch calls together (long
 * enough that one descheduling on a shared machine does not decide it). */
#define BENCH_MIN_SAMPLE_S 0.02

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/*
 * Time n sides interleaved: one untimed warm-up each (which also sizes the
 * batch), then `runs` rounds of one sample per side, in turn.
 */
static inline void bench_interleave(bench_side_t *sides, size_t n,
                                    unsigned runs) {
  if (runs == 0 || runs > 256) {
    die("bench_interleave (runs must be 1..256)", runs);
  }
  for (size_t i = 0; i < n; i++) {
    double t0 = now_s();
    sides[i].fn(sides[i].arg);
    double dt = now_s() - t0;
    unsigned b = 1;
    if (dt < BENCH_MIN_SAMPLE_S) {
      b = (unsigned)(BENCH_MIN_SAMPLE_S / (dt > 1e-7 ? dt : 1e-7)) + 1u;
    }
    sides[i].batch = b;
    sides[i].runs = runs;
  }
  for (unsigned r = 0; r < runs; r++) {
    for (size_t i = 0; i < n; i++) {
      bench_side_t *s = &sides[i];
      double t0 = now_s();
      for (unsigned k = 0; k < s->batch; k++) {
        s->fn(s->arg);
      }
      s->samples[r] = (now_s() - t0) * 1e3 / s->batch;
    }
  }
  for (size_t i = 0; i < n; i++) {
    bench_side_t *s = &sides[i];
    qsort(s->samples, runs, sizeof(double), cmp_double);
    s->median_ms = (runs % 2) ? s->samples[runs / 2]
                              : (s->samples[runs / 2 - 1] + s->samples[runs / 2]) / 2;
    s->min_ms = s->samples[0];
    s->max_ms = s->samples[runs - 1];
  }
}

/* One side alone (a primitive with nothing to pair it with). */
static inline bench_side_t bench_one(bench_fn fn, void *arg, unsigned runs) {
  bench_side_t s;
  memset(&s, 0, sizeof(s));
  s.fn = fn;
  s.arg = arg;
  bench_interleave(&s, 1, runs);
  return s;
}

/* "KEY_ms=median KEY_min=min KEY_max=max KEY_runs=n " */
static inline void bench_print(const char *key, const bench_side_t *s) {
  printf("%s_ms=%.4f %s_min=%.4f %s_max=%.4f %s_runs=%u ", key, s->median_ms,
         key, s->min_ms, key, s->max_ms, key, s->runs);
}

/* ---- raw primitives, per backend ------------------------------------------ */

typedef enum bench_backend { BENCH_MBEDTLS = 0, BENCH_OPENSSL = 1 } bench_backend_t;

/* The backend rot_host_crypto() runs with: ROT_CRYPTO, else the build's
 * default (bench.sh exports it as BENCH_BACKEND_DEFAULT). */
static inline bench_backend_t bench_backend(void) {
  const char *e = getenv("ROT_CRYPTO");
  if (e == NULL || *e == '\0') {
    e = getenv("BENCH_BACKEND_DEFAULT");
  }
  return e != NULL && strcmp(e, "mbedtls") == 0 ? BENCH_MBEDTLS : BENCH_OPENSSL;
}

static inline const char *bench_backend_name(bench_backend_t b) {
  return b == BENCH_MBEDTLS ? "mbedtls" : "openssl";
}

static inline void bench_hash(bench_backend_t b, int sha384,
                              const uint8_t *data, size_t len, uint8_t *out) {
  if (b == BENCH_MBEDTLS) {
    uint8_t full[64];
    int rc = sha384 ? mbedtls_sha512_ret(data, len, full, 1)
                    : mbedtls_sha256_ret(data, len, full, 0);
    if (rc != 0) {
      die("mbedtls hash", rc);
    }
    memcpy(out, full, sha384 ? ROT_SHA384_LEN : ROT_SHA256_LEN);
    return;
  }
  unsigned int n = 0;
  if (EVP_Digest(data, len, out, &n, sha384 ? EVP_sha384() : EVP_sha256(),
                 NULL) != 1) {
    die("EVP_Digest", 0);
  }
}

static inline void bench_sha384(bench_backend_t b, const uint8_t *data,
                                size_t len, uint8_t out[ROT_SHA384_LEN]) {
  bench_hash(b, 1, data, len, out);
}

/*
 * A P-384 public key and one r || s signature, loaded once so that a timed
 * verify pays for the verify alone: the floor any verifier must pay.
 */
typedef struct bench_p384 {
  bench_backend_t b;
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  mbedtls_mpi r, s;
  EVP_PKEY *pkey;
  EVP_PKEY_CTX *pctx;
  uint8_t der[8 + 2 * (2 + 1 + ROT_P384_SCALAR_LEN)];
  size_t der_len;
} bench_p384_t;

static inline void bench_p384_load(bench_p384_t *k, bench_backend_t b,
                                   const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                   const uint8_t sig[ROT_P384_SIG_LEN]) {
  memset(k, 0, sizeof(*k));
  k->b = b;
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  sec1[0] = 0x04; /* uncompressed point */
  memcpy(sec1 + 1, pub, ROT_P384_PUBKEY_LEN);
  if (b == BENCH_MBEDTLS) {
    mbedtls_ecp_group_init(&k->grp);
    mbedtls_ecp_point_init(&k->q);
    mbedtls_mpi_init(&k->r);
    mbedtls_mpi_init(&k->s);
    int rc;
    if ((rc = mbedtls_ecp_group_load(&k->grp, MBEDTLS_ECP_DP_SECP384R1)) != 0 ||
        (rc = mbedtls_ecp_point_read_binary(&k->grp, &k->q, sec1, sizeof(sec1))) != 0 ||
        (rc = mbedtls_mpi_read_binary(&k->r, sig, ROT_P384_SCALAR_LEN)) != 0 ||
        (rc = mbedtls_mpi_read_binary(&k->s, sig + ROT_P384_SCALAR_LEN,
                                      ROT_P384_SCALAR_LEN)) != 0) {
      die("mbedtls key setup", rc);
    }
    return;
  }
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (bld == NULL || fctx == NULL ||
      !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                       "secp384r1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, sec1,
                                        sizeof(sec1)) ||
      (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
      EVP_PKEY_fromdata_init(fctx) != 1 ||
      EVP_PKEY_fromdata(fctx, &k->pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
      (k->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL ||
      EVP_PKEY_verify_init(k->pctx) != 1) {
    die("libcrypto key setup", 0);
  }
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY_CTX_free(fctx);
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, ROT_P384_SCALAR_LEN, NULL);
  BIGNUM *s = BN_bin2bn(sig + ROT_P384_SCALAR_LEN, ROT_P384_SCALAR_LEN, NULL);
  if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
    die("ECDSA_SIG setup", 0);
  }
  unsigned char *p = k->der;
  int n = i2d_ECDSA_SIG(es, NULL);
  if (n <= 0 || (size_t)n > sizeof(k->der) || i2d_ECDSA_SIG(es, &p) != n) {
    die("i2d_ECDSA_SIG", n);
  }
  k->der_len = (size_t)n;
  ECDSA_SIG_free(es);
}

/* Verify the loaded signature over digest; a mismatch dies naming what. */
static inline void bench_p384_verify(bench_p384_t *k,
                                     const uint8_t digest[ROT_SHA384_LEN],
                                     const char *what) {
  if (k->b == BENCH_MBEDTLS) {
    int rc = mbedtls_ecdsa_verify(&k->grp, digest, ROT_SHA384_LEN, &k->q,
                                  &k->r, &k->s);
    if (rc != 0) {
      die(what, rc);
    }
    return;
  }
  if (EVP_PKEY_verify(k->pctx, k->der, k->der_len, digest, ROT_SHA384_LEN) != 1) {
    die(what, 0);
  }
}

static inline void bench_p384_free(bench_p384_t *k) {
  if (k->b == BENCH_MBEDTLS) {
    mbedtls_ecp_group_free(&k->grp);
    mbedtls_ecp_point_free(&k->q);
    mbedtls_mpi_free(&k->r);
    mbedtls_mpi_free(&k->s);
    return;
  }
  EVP_PKEY_CTX_free(k->pctx);
  EVP_PKEY_free(k->pkey);
}

#endif
