/*
 * Writes the seed corpus of the image fuzzer into DIR: a few valid signed
 * images, bare manifests, and hostile variants of them. Keys are generated
 * afresh and thrown away; the fuzz target trusts whatever root an input
 * carries, so seeds need no fixed key.
 *
 *   gen_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/image.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/image_sign.h"
#include "rot_host/crypto_mbedtls.h"

typedef struct key {
  uint8_t priv[ROT_P384_SCALAR_LEN];
  uint8_t pub[ROT_P384_PUBKEY_LEN];
} seed_key_t;

static const char *g_dir;
static int g_failed;

static void die(const char *what, rot_error_t err) {
  fprintf(stderr, "gen_corpus: %s: %s\n", what, rot_error_str(err));
  exit(1);
}

static void save(const char *name, const uint8_t *buf, size_t len) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", g_dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "gen_corpus: cannot write %s\n", path);
    g_failed = 1;
    return;
  }
  printf("%-28s %5zu bytes\n", name, len);
}

static void keygen(seed_key_t *k) {
  rot_error_t err = rot_host_p384_keygen(k->priv, k->pub);
  if (err != ROT_OK) {
    die("keygen", err);
  }
}

static size_t build_manifest(const seed_key_t *root, const seed_key_t *keys,
                             const uint32_t *index, const uint32_t *types,
                             size_t n, uint8_t *out) {
  rot_manifest_entry_t e[ROT_MANIFEST_MAX_KEYS];
  memset(e, 0, sizeof(e));
  for (size_t i = 0; i < n; i++) {
    e[i].key_index = index[i];
    e[i].allowed_types = types[i];
    memcpy(e[i].pub, keys[i].pub, ROT_P384_PUBKEY_LEN);
  }
  size_t len = 0;
  rot_error_t err = rot_manifest_build(rot_host_crypto(), root->priv, e, n, out,
                                       ROT_MANIFEST_MAX_SIZE, &len);
  if (err != ROT_OK) {
    die("manifest", err);
  }
  return len;
}

/* Sign SHA-384(bytes[0, len)) with k into sig, as the image signer does. */
static void resign(const uint8_t *bytes, size_t len, const seed_key_t *k,
                   uint8_t sig[ROT_P384_SIG_LEN]) {
  const rot_crypto_t *c = rot_host_crypto();
  uint8_t d[ROT_SHA384_LEN];
  rot_error_t err = rot_hash(c, ROT_HASH_SHA384, bytes, len, d, sizeof(d));
  if (err == ROT_OK) {
    err = c->ecdsa_p384_sign(c, k->priv, d, sizeof(d), sig);
  }
  if (err == ROT_OK) {
    err = rot_p384_sig_normalize(sig);
  }
  if (err != ROT_OK) {
    die("resign", err);
  }
}

/* Sign a patterned payload into buf (capacity cap); returns the length. */
static size_t sign(uint32_t type, uint32_t flags, uint32_t svn,
                   uint32_t key_index, uint64_t entry_offset,
                   const uint8_t *manifest, size_t mlen, const seed_key_t *signer,
                   size_t plen, uint8_t *buf, size_t cap) {
  const rot_region_t *r = rot_image_region(type);
  rot_image_header_t h;
  memset(&h, 0, sizeof(h));
  h.image_type = type;
  h.flags = flags;
  h.ver_major = 1;
  h.ver_minor = (uint16_t)type;
  h.ver_patch = (uint16_t)svn;
  h.svn = svn;
  h.key_index = key_index;
  h.load_addr = r->base;
  h.entry_point = r->executable ? r->base + entry_offset : 0;
  uint8_t payload[256];
  for (size_t i = 0; i < plen; i++) {
    payload[i] = (uint8_t)(i * 37u + type);
  }
  size_t len = 0;
  rot_error_t err = rot_image_sign(rot_host_crypto(), &h, manifest, mlen,
                                   signer->priv, payload, plen, buf, cap, &len);
  if (err != ROT_OK) {
    die("sign", err);
  }
  return len;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_corpus DIR\n");
    return 2;
  }
  g_dir = argv[1];
  if (rot_host_crypto() == NULL) {
    die("crypto", ROT_ERROR_CRYPTO_RNG);
  }

  seed_key_t root, keys[ROT_MANIFEST_MAX_KEYS];
  keygen(&root);
  for (size_t i = 0; i < ROT_MANIFEST_MAX_KEYS; i++) {
    keygen(&keys[i]);
  }
  const uint32_t all = 0x3eu; /* types 1..5 */
  const uint32_t dtb = 1u << ROT_IMAGE_TYPE_DTB;

  uint8_t m2[ROT_MANIFEST_MAX_SIZE], m1[ROT_MANIFEST_MAX_SIZE];
  uint8_t m8[ROT_MANIFEST_MAX_SIZE];
  const uint32_t idx2[] = {0, 3}, types2[] = {all, dtb};
  size_t m2_len = build_manifest(&root, keys, idx2, types2, 2, m2);
  size_t m1_len = build_manifest(&root, keys, idx2, types2, 1, m1);
  uint32_t idx8[ROT_MANIFEST_MAX_KEYS], types8[ROT_MANIFEST_MAX_KEYS];
  for (uint32_t i = 0; i < ROT_MANIFEST_MAX_KEYS; i++) {
    idx8[i] = 31u - i * 4u;
    types8[i] = 1u << (1u + i % 5u);
  }
  types8[0] = all; /* the key that signs the 8-key seed */
  size_t m8_len = build_manifest(&root, keys, idx8, types8, 8, m8);
  save("manifest_2key.bin", m2, m2_len);
  save("manifest_8key.bin", m8, m8_len);

  static uint8_t img[4096], tmp[4096];
  size_t n;

  n = sign(ROT_IMAGE_TYPE_HYPERVISOR, 0, 1, 0, 0, m2, m2_len, &keys[0], 48,
           img, sizeof(img));
  save("valid_hypervisor.bin", img, n);
  size_t hyp_len = n;
  memcpy(tmp, img, n);

  n = sign(ROT_IMAGE_TYPE_DTB, 0, 7, 3, 0, m2, m2_len, &keys[1], 64, img,
           sizeof(img));
  save("valid_dtb_key3.bin", img, n);

  n = sign(ROT_IMAGE_TYPE_ROT, ROT_IMAGE_FLAG_DEV_ONLY, 256, 0, 28, m1, m1_len,
           &keys[0], 32, img, sizeof(img));
  save("valid_rot_devonly_svnmax.bin", img, n);

  n = sign(ROT_IMAGE_TYPE_OPENSBI, 0, 2, 31, 96, m8, m8_len, &keys[0], 100, img,
           sizeof(img));
  save("valid_opensbi_8key.bin", img, n);

  /* Hostile variants of the hypervisor image. */
  save("header_only.bin", tmp, ROT_IMAGE_HEADER_SIZE);
  save("truncated_in_manifest.bin", tmp, ROT_IMAGE_HEADER_SIZE + 200);

  memcpy(img, tmp, hyp_len);
  img[hyp_len] = 0;
  save("trailing_byte.bin", img, hyp_len + 1);

  memcpy(img, tmp, hyp_len);
  rot_st32(img + 48, 0xffffffffu);
  save("payload_len_all_ones.bin", img, hyp_len);

  memcpy(img, tmp, hyp_len);
  rot_st32(img + 52, 0xffffffffu);
  save("manifest_len_all_ones.bin", img, hyp_len);

  memcpy(img, tmp, hyp_len);
  memcpy(img + hyp_len - ROT_IMAGE_SIG_SIZE, rot_p384_order,
         ROT_P384_SCALAR_LEN);
  save("image_sig_r_equal_n.bin", img, hyp_len);

  memcpy(img, tmp, hyp_len);
  memset(img + ROT_IMAGE_HEADER_SIZE + m2_len - ROT_P384_SCALAR_LEN, 0,
         ROT_P384_SCALAR_LEN);
  save("manifest_sig_s_zero.bin", img, hyp_len);

  memcpy(img, tmp, hyp_len);
  img[ROT_IMAGE_HEADER_SIZE + m2_len + 5] ^= 0x40;
  save("payload_tampered.bin", img, hyp_len);

  /* The other ECDSA signature (r, n - s) of the image: valid, not canonical. */
  memcpy(img, tmp, hyp_len);
  uint8_t *s = img + hyp_len - ROT_P384_SCALAR_LEN;
  unsigned borrow = 0;
  for (size_t i = ROT_P384_SCALAR_LEN; i-- > 0;) {
    unsigned d = (unsigned)rot_p384_order[i] - s[i] - borrow;
    s[i] = (uint8_t)d;
    borrow = (d >> 8) & 1u;
  }
  save("image_sig_high_s.bin", img, hyp_len);

  /* Entry point two bytes into the payload (an RVC boundary), re-signed. */
  memcpy(img, tmp, hyp_len);
  rot_st64(img + 40, rot_ld64(img + 32) + 2u);
  resign(img, ROT_IMAGE_HEADER_SIZE + m2_len, &keys[0],
         img + hyp_len - ROT_IMAGE_SIG_SIZE);
  save("entry_misaligned_resigned.bin", img, hyp_len);

  /* A root-certified signing key that is not a curve point. */
  seed_key_t bent = keys[0];
  bent.pub[ROT_P384_PUBKEY_LEN - 1] ^= 0x01;
  uint8_t mb[ROT_MANIFEST_MAX_SIZE];
  size_t mb_len = build_manifest(&root, &bent, idx2, types2, 1, mb);
  n = sign(ROT_IMAGE_TYPE_HYPERVISOR, 0, 1, 0, 0, mb, mb_len, &keys[0], 48, img,
           sizeof(img));
  save("signing_key_off_curve.bin", img, n);

  return g_failed;
}
