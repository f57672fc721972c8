/*
 * Verify throughput of one signed image, beside the raw primitives it is
 * made of. Used by tests/bench/bench.sh; not a test.
 *
 *   bench_verify SIZE_MIB [OUT_FILE]
 *
 * Builds a fresh key hierarchy and a signed image with a SIZE_MIB payload in
 * memory, then times, interleaved (ours, raw, peer, verify, ours, ...):
 *   ours    rot_image_verify on the whole image (header and manifest
 *           checks, root key hash, manifest root signature or its cached
 *           verdict, image signature, payload digest), on the backend
 *           rot_host_crypto() selects (ROT_CRYPTO);
 *   raw     SHA-384 over the same image bytes plus one P-384 verify, called
 *           directly on the same backend, key already loaded: the least
 *           work any "hash it and check one signature" verifier must do;
 *   peer    the same raw work on OpenSSL's libcrypto, in-process (the
 *           library peer; equal to raw when the backend is libcrypto);
 *   verify  one P-384 verify alone on the backend.
 * With OUT_FILE it also writes the exact image bytes there, so an external
 * peer (a process: openssl dgst) can hash and verify the same input.
 *
 * Prints one line of key=value pairs (median, min, max in ms per
 * operation, and the number of samples).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/crypto.h"
#include "rot/image.h"
#include "rot/policy.h"
#include "rot_client/image_sign.h"
#include "rot_host/crypto_mbedtls.h"

#define BENCH_NAME "bench_verify"
#include "bench_util.h"

/*
 * The dtb window (128 MiB, not executable) is the only region of the
 * reference platform large enough for the biggest payload the format
 * allows; the verify work does not depend on the type.
 */
#define BENCH_TYPE ROT_IMAGE_TYPE_DTB
#define BENCH_LOAD_ADDR 0x88000000u

/* Cheap deterministic filler: the payload content does not affect cost. */
static void fill(uint8_t *buf, size_t len) {
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = (uint8_t)(x >> 32);
  }
}

typedef struct ours_arg {
  const rot_crypto_t *c;
  const rot_policy_t *policy;
  const uint8_t *image;
  size_t len;
} ours_arg_t;

static void run_ours(void *p) {
  ours_arg_t *a = p;
  rot_verified_image_t v;
  rot_error_t err = rot_image_verify(a->c, a->policy, a->image, a->len,
                                     BENCH_TYPE, &v);
  if (err != ROT_OK) {
    die("rot_image_verify", (long)err);
  }
  err = rot_verified_check(&v);
  if (err != ROT_OK) {
    die("rot_verified_check", (long)err);
  }
}

typedef struct raw_arg {
  bench_backend_t b;
  bench_p384_t key;
  const uint8_t *data;
  size_t len;
  uint8_t digest[ROT_SHA384_LEN]; /* the digest the signature covers */
} raw_arg_t;

static void run_raw(void *p) {
  raw_arg_t *a = p;
  uint8_t digest[ROT_SHA384_LEN];
  bench_sha384(a->b, a->data, a->len, digest);
  bench_p384_verify(&a->key, digest, "raw P-384 verify");
}

static void run_verify_only(void *p) {
  raw_arg_t *a = p;
  bench_p384_verify(&a->key, a->digest, "raw P-384 verify");
}

static void raw_setup(raw_arg_t *a, bench_backend_t b, const rot_crypto_t *c,
                      const uint8_t priv[ROT_P384_SCALAR_LEN],
                      const uint8_t pub[ROT_P384_PUBKEY_LEN],
                      const uint8_t *data, size_t len) {
  a->b = b;
  a->data = data;
  a->len = len;
  bench_sha384(b, data, len, a->digest);
  uint8_t sig[ROT_P384_SIG_LEN];
  rot_error_t err = c->ecdsa_p384_sign(c, priv, a->digest, ROT_SHA384_LEN, sig);
  if (err != ROT_OK) {
    die("ecdsa_p384_sign", (long)err);
  }
  bench_p384_load(&a->key, b, pub, sig);
}

static void write_file(const char *path, const uint8_t *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    fprintf(stderr, "bench_verify: cannot create %s: %s\n", path, strerror(errno));
    exit(1);
  }
  if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "bench_verify: cannot write %s\n", path);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3 || strcmp(argv[1], "--help") == 0) {
    fprintf(stderr, "usage: bench_verify SIZE_MIB [OUT_FILE]\n");
    return argc == 2 ? 0 : 2;
  }
  char *end = NULL;
  unsigned long mib = strtoul(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || mib == 0 ||
      mib > ROT_IMAGE_MAX_PAYLOAD / (1024u * 1024u)) {
    fprintf(stderr, "bench_verify: SIZE_MIB must be 1..%u\n",
            ROT_IMAGE_MAX_PAYLOAD / (1024u * 1024u));
    return 2;
  }
  size_t payload_len = (size_t)mib * 1024u * 1024u;

  const rot_crypto_t *c = rot_host_crypto();
  if (c == NULL) {
    die("rot_host_crypto", 0);
  }
  uint8_t root_priv[ROT_P384_SCALAR_LEN], root_pub[ROT_P384_PUBKEY_LEN];
  uint8_t sign_priv[ROT_P384_SCALAR_LEN];
  rot_manifest_entry_t key = {.key_index = 0,
                              .allowed_types = 1u << BENCH_TYPE};
  rot_error_t err = rot_host_p384_keygen(root_priv, root_pub);
  if (err == ROT_OK) {
    err = rot_host_p384_keygen(sign_priv, key.pub);
  }
  if (err != ROT_OK) {
    die("rot_host_p384_keygen", (long)err);
  }
  uint8_t manifest[ROT_MANIFEST_SIZE(1)];
  size_t manifest_len = 0;
  err = rot_manifest_build(c, root_priv, &key, 1, manifest, sizeof(manifest),
                           &manifest_len);
  if (err != ROT_OK) {
    die("rot_manifest_build", (long)err);
  }

  uint8_t *payload = malloc(payload_len);
  size_t cap = ROT_IMAGE_HEADER_SIZE + manifest_len + payload_len +
               ROT_IMAGE_SIG_SIZE;
  uint8_t *image = malloc(cap);
  if (payload == NULL || image == NULL) {
    die("malloc", ENOMEM);
  }
  fill(payload, payload_len);
  rot_image_header_t hdr = {
      .image_type = BENCH_TYPE,
      .ver_major = 1,
      .svn = 1,
      .key_index = 0,
      .load_addr = BENCH_LOAD_ADDR,
  };
  size_t image_len = 0;
  err = rot_image_sign(c, &hdr, manifest, manifest_len, sign_priv, payload,
                       payload_len, image, cap, &image_len);
  free(payload);
  if (err != ROT_OK) {
    die("rot_image_sign", (long)err);
  }

  rot_policy_t policy = {.lifecycle = ROT_LIFECYCLE_DEV};
  err = rot_hash(c, ROT_HASH_SHA384, root_pub, sizeof(root_pub),
                 policy.root_key_hash, sizeof(policy.root_key_hash));
  if (err != ROT_OK) {
    die("rot_hash", (long)err);
  }

  if (argc == 3) {
    write_file(argv[2], image, image_len);
  }

  bench_backend_t backend = bench_backend();
  ours_arg_t ours = {c, &policy, image, image_len};
  raw_arg_t raw, peer;
  raw_setup(&raw, backend, c, sign_priv, key.pub, image, image_len);
  raw_setup(&peer, BENCH_OPENSSL, c, sign_priv, key.pub, image, image_len);

  bench_side_t sides[4] = {
      {.fn = run_ours, .arg = &ours},
      {.fn = run_raw, .arg = &raw},
      {.fn = run_raw, .arg = &peer},
      {.fn = run_verify_only, .arg = &raw},
  };
  bench_interleave(sides, 4, bench_runs());
  printf("backend=%s size_mib=%lu image_bytes=%zu ", bench_backend_name(backend),
         mib, image_len);
  bench_print("ours", &sides[0]);
  bench_print("raw", &sides[1]);
  bench_print("libcrypto", &sides[2]);
  bench_print("p384_verify", &sides[3]);
  printf("\n");

  bench_p384_free(&raw.key);
  bench_p384_free(&peer.key);
  free(image);
  return 0;
}
