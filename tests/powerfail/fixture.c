/* Layout, keys and images for the power-fail simulator. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/policy.h"
#include "rot_client/names.h"
#include "rot_client/image_sign.h"
#include "rot_host/crypto_mbedtls.h"

#define KIB(x) ((uint32_t)(x) * 1024u)

/*
 * The reference table shrunk: same regions in the same order, small
 * enough that a snapshot costs nothing and images span a few blocks.
 * The rot, opensbi and dtb slots are one block each: their images are
 * small, and an update of one is an erase and a few programs.
 */
const rot_flash_layout_t pf_layout = {
    .flash_size = KIB(308),
    .erase_size = KIB(4),
    .regions =
        {
            [ROT_RGN_ROT_A] = {"rot-a", KIB(0), KIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_ROT, ROT_SLOT_A},
            [ROT_RGN_ROT_B] = {"rot-b", KIB(4), KIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_ROT, ROT_SLOT_B},
            [ROT_RGN_OPENSBI_A] = {"opensbi-a", KIB(8), KIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_OPENSBI, ROT_SLOT_A},
            [ROT_RGN_OPENSBI_B] = {"opensbi-b", KIB(12), KIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_OPENSBI, ROT_SLOT_B},
            [ROT_RGN_HYPERVISOR_A] = {"hypervisor-a", KIB(16), KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_HYPERVISOR, ROT_SLOT_A},
            [ROT_RGN_HYPERVISOR_B] = {"hypervisor-b", KIB(80), KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_HYPERVISOR, ROT_SLOT_B},
            [ROT_RGN_DTB_A] = {"dtb-a", KIB(144), KIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_DTB, ROT_SLOT_A},
            [ROT_RGN_DTB_B] = {"dtb-b", KIB(148), KIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_DTB, ROT_SLOT_B},
            [ROT_RGN_RECOVERY_A] = {"recovery-a", KIB(152), KIB(64), ROT_REGION_RECOVERY, ROT_IMAGE_TYPE_RECOVERY, ROT_SLOT_A},
            [ROT_RGN_RECOVERY_B] = {"recovery-b", KIB(244), KIB(64), ROT_REGION_RECOVERY, ROT_IMAGE_TYPE_RECOVERY, ROT_SLOT_B},
            [ROT_RGN_NVCFG] = {"nvcfg", KIB(216), KIB(4), ROT_REGION_NVCFG, 0, ROT_SLOT_NONE},
            [ROT_RGN_STATE] = {"state", KIB(220), KIB(8), ROT_REGION_STATE, 0, ROT_SLOT_NONE},
            [ROT_RGN_AUDIT] = {"audit", KIB(228), KIB(16), ROT_REGION_AUDIT, 0, ROT_SLOT_NONE},
        },
};

/* A key from a fixed label: the same scalar, hence the same images, every run. */
static int derive_key(const rot_crypto_t *c, const char *label,
                      uint8_t priv[ROT_P384_SCALAR_LEN],
                      uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  if (rot_hash(c, ROT_HASH_SHA384, label, strlen(label), priv,
               ROT_P384_SCALAR_LEN) != ROT_OK ||
      rot_p384_scalar_check(priv) != ROT_OK ||
      c->ecdsa_p384_pubkey(c, priv, pub) != ROT_OK) {
    fprintf(stderr, "powerfail: cannot derive key %s\n", label);
    return -1;
  }
  return 0;
}

/*
 * ECDSA verification is a pure function of (key, digest, signature), and
 * the simulator asks the same few questions tens of thousands of times:
 * the same manifest and image signatures after every reboot. Answering
 * repeats from a memo turns a run of minutes into seconds without changing
 * a single verdict the engine sees; a torn or damaged image hashes to a
 * digest the memo has never seen and is computed for real.
 */
typedef struct verify_memo {
  uint8_t key[ROT_P384_PUBKEY_LEN + ROT_SHA384_LEN + ROT_P384_SIG_LEN];
  rot_error_t verdict;
} verify_memo_t;

static verify_memo_t g_vmemo[256];
static uint32_t g_nvmemo;
static uint64_t g_vhits, g_vmisses;

static rot_error_t memo_verify(const rot_crypto_t *c,
                               const uint8_t pub[ROT_P384_PUBKEY_LEN],
                               const uint8_t *digest, size_t digest_len,
                               const uint8_t sig[ROT_P384_SIG_LEN]) {
  const rot_crypto_t *real = rot_host_crypto();
  (void)c;
  if (pub == NULL || digest == NULL || sig == NULL ||
      digest_len != ROT_SHA384_LEN) {
    g_vmisses++;
    return real->ecdsa_p384_verify(real, pub, digest, digest_len, sig);
  }
  uint8_t key[sizeof(g_vmemo[0].key)];
  memcpy(key, pub, ROT_P384_PUBKEY_LEN);
  memcpy(key + ROT_P384_PUBKEY_LEN, digest, ROT_SHA384_LEN);
  memcpy(key + ROT_P384_PUBKEY_LEN + ROT_SHA384_LEN, sig, ROT_P384_SIG_LEN);
  for (uint32_t i = 0; i < g_nvmemo; i++) {
    if (memcmp(g_vmemo[i].key, key, sizeof(key)) == 0) {
      g_vhits++;
      return g_vmemo[i].verdict;
    }
  }
  g_vmisses++;
  rot_error_t verdict =
      real->ecdsa_p384_verify(real, pub, digest, digest_len, sig);
  if (g_nvmemo < sizeof(g_vmemo) / sizeof(g_vmemo[0])) {
    memcpy(g_vmemo[g_nvmemo].key, key, sizeof(key));
    g_vmemo[g_nvmemo].verdict = verdict;
    g_nvmemo++;
  }
  return verdict;
}

void pf_fixture_verify_stats(uint64_t *hits, uint64_t *misses) {
  *hits = g_vhits;
  *misses = g_vmisses;
}

typedef struct image_spec {
  const char *name;
  uint32_t type;
  uint32_t svn;
  uint16_t minor;
  uint32_t payload_len;
  uint8_t seed;
} image_spec_t;

static const image_spec_t kSpecs[PF_IMG_COUNT] = {
    [PF_IMG_V1] = {"v1", ROT_IMAGE_TYPE_HYPERVISOR, 1, 0, 6000, 0x11},
    [PF_IMG_V1B] = {"v1b", ROT_IMAGE_TYPE_HYPERVISOR, 1, 1, 8000, 0x22},
    [PF_IMG_V2_S] = {"v2-2k", ROT_IMAGE_TYPE_HYPERVISOR, 2, 0, 1500, 0x33},
    [PF_IMG_V2_M] = {"v2-9k", ROT_IMAGE_TYPE_HYPERVISOR, 2, 0, 8700, 0x44},
    [PF_IMG_V2_L] = {"v2-30k", ROT_IMAGE_TYPE_HYPERVISOR, 2, 0, 30000, 0x55},
    [PF_IMG_V3] = {"v3", ROT_IMAGE_TYPE_HYPERVISOR, 3, 0, 11800, 0x66},
    [PF_IMG_REC1] = {"rec1", ROT_IMAGE_TYPE_RECOVERY, 1, 0, 7000, 0x77},
    [PF_IMG_REC2] = {"rec2", ROT_IMAGE_TYPE_RECOVERY, 1, 1, 9500, 0x88},
    /* The small slots hold one 4 KiB block. */
    [PF_IMG_ROT7] = {"rot7", ROT_IMAGE_TYPE_ROT, 7, 0, 2100, 0x99},
    [PF_IMG_ROT9] = {"rot9", ROT_IMAGE_TYPE_ROT, 9, 0, 2600, 0xaa},
    [PF_IMG_SBI15] = {"sbi15", ROT_IMAGE_TYPE_OPENSBI, 15, 0, 2300, 0xbb},
    [PF_IMG_SBI17] = {"sbi17", ROT_IMAGE_TYPE_OPENSBI, 17, 0, 1900, 0xcc},
    [PF_IMG_DTB100] = {"dtb100", ROT_IMAGE_TYPE_DTB, 100, 0, 1200, 0xdd},
    [PF_IMG_DTB130] = {"dtb130", ROT_IMAGE_TYPE_DTB, 130, 0, 2800, 0xee},
};

static int sign_image(const rot_crypto_t *c, const image_spec_t *spec,
                      const uint8_t *manifest, size_t manifest_len,
                      const uint8_t signer[ROT_P384_SCALAR_LEN],
                      const rot_policy_t *policy, pf_image_t *out) {
  const rot_region_t *r = rot_image_region(spec->type);
  if (r == NULL) {
    return -1;
  }
  rot_image_header_t h;
  memset(&h, 0, sizeof(h));
  h.image_type = spec->type;
  h.ver_major = (uint16_t)spec->svn;
  h.ver_minor = spec->minor;
  h.svn = spec->svn;
  h.key_index = 0;
  h.load_addr = r->base;
  h.entry_point = r->executable ? r->base : 0;

  uint8_t *payload = malloc(spec->payload_len);
  size_t cap = ROT_IMAGE_HEADER_SIZE + manifest_len + spec->payload_len +
               ROT_IMAGE_SIG_SIZE;
  uint8_t *img = malloc(cap);
  if (payload == NULL || img == NULL) {
    free(payload);
    free(img);
    return -1;
  }
  for (uint32_t i = 0; i < spec->payload_len; i++) {
    payload[i] = (uint8_t)(i * 167u + spec->seed + (i >> 8));
  }
  size_t len = 0;
  rot_error_t err = rot_image_sign(c, &h, manifest, manifest_len, signer,
                                   payload, spec->payload_len, img, cap, &len);
  free(payload);
  rot_verified_image_t v;
  if (err == ROT_OK) {
    err = rot_image_verify(c, policy, img, len, spec->type, &v);
  }
  if (err != ROT_OK || len != cap) {
    fprintf(stderr, "powerfail: image %s: %s\n", spec->name,
            rot_error_name(err));
    free(img);
    return -1;
  }
  out->name = spec->name;
  out->type = spec->type;
  out->svn = spec->svn;
  out->bytes = img;
  out->len = (uint32_t)len;
  memcpy(out->signed_digest, v.signed_digest, ROT_SHA384_LEN);
  return 0;
}

int pf_fixture_init(pf_fixture_t *fx, int memo) {
  memset(fx, 0, sizeof(*fx));
  const rot_crypto_t *c = rot_host_crypto();
  if (c == NULL) {
    fprintf(stderr, "powerfail: no crypto backend\n");
    return -1;
  }
  fx->memo_crypto = *c;
  if (memo) {
    fx->memo_crypto.ecdsa_p384_verify = memo_verify;
  }
  fx->crypto = &fx->memo_crypto;
  uint8_t root_priv[ROT_P384_SCALAR_LEN], root_pub[ROT_P384_PUBKEY_LEN];
  uint8_t sign_priv[ROT_P384_SCALAR_LEN];
  rot_manifest_entry_t entry;
  memset(&entry, 0, sizeof(entry));
  if (derive_key(c, "powerfail root key", root_priv, root_pub) != 0 ||
      derive_key(c, "powerfail signing key 0", sign_priv, entry.pub) != 0) {
    return -1;
  }
  entry.key_index = 0;
  entry.allowed_types = (1u << ROT_IMAGE_TYPE_ROT) |
                        (1u << ROT_IMAGE_TYPE_OPENSBI) |
                        (1u << ROT_IMAGE_TYPE_HYPERVISOR) |
                        (1u << ROT_IMAGE_TYPE_DTB) |
                        (1u << ROT_IMAGE_TYPE_RECOVERY);
  uint8_t manifest[ROT_MANIFEST_MAX_SIZE];
  size_t manifest_len = 0;
  if (rot_manifest_build(c, root_priv, &entry, 1, manifest, sizeof(manifest),
                         &manifest_len) != ROT_OK ||
      rot_hash(c, ROT_HASH_SHA384, root_pub, sizeof(root_pub),
               fx->root_key_hash, sizeof(fx->root_key_hash)) != ROT_OK) {
    fprintf(stderr, "powerfail: cannot build the key manifest\n");
    return -1;
  }
  rot_policy_t policy;
  memset(&policy, 0, sizeof(policy));
  memcpy(policy.root_key_hash, fx->root_key_hash, ROT_SHA384_LEN);
  policy.lifecycle = ROT_LIFECYCLE_DEV;
  for (uint32_t i = 0; i < PF_IMG_COUNT; i++) {
    if (sign_image(c, &kSpecs[i], manifest, manifest_len, sign_priv, &policy,
                   &fx->img[i]) != 0) {
      pf_fixture_free(fx);
      return -1;
    }
  }
  return 0;
}

void pf_fixture_free(pf_fixture_t *fx) {
  for (uint32_t i = 0; i < PF_IMG_COUNT; i++) {
    free(fx->img[i].bytes);
    fx->img[i].bytes = NULL;
  }
}
