/* A development key hierarchy in one directory: generate and load. */
#include "rot_client/keydir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rot/util.h"
#include "rot_client/image_sign.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"

/* Every image type the format knows: bits 1..ROT_IMAGE_TYPE_MAX. */
#define ALL_TYPES_MASK \
  ((((uint32_t)1u << (ROT_IMAGE_TYPE_MAX + 1u)) - 1u) & ~(uint32_t)1u)

/* Files of a generated hierarchy, in the order they are checked. */
static const char *const kGeneratedFiles[] = {
    ROT_KEYDIR_ROOT_KEY, ROT_KEYDIR_ROOT_PUB, ROT_KEYDIR_MANIFEST,
    "sign-0.key.pem",    "sign-0.pub.pem",
};

static rot_error_t join(char *out, size_t cap, const char *dir,
                        const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return ROT_OK;
}

static void sign_key_name(char *out, size_t cap, uint32_t index, int pub) {
  snprintf(out, cap, "sign-%u.%s.pem", (unsigned)index, pub ? "pub" : "key");
}

static void set_bad(rot_keydir_t *kd, const char *name) {
  snprintf(kd->bad_file, sizeof(kd->bad_file), "%s", name);
}

const char *rot_keydir_existing(const char *dir) {
  char path[PATH_MAX];
  struct stat st;
  if (dir == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kGeneratedFiles); i++) {
    if (join(path, sizeof(path), dir, kGeneratedFiles[i]) == ROT_OK &&
        lstat(path, &st) == 0) {
      return kGeneratedFiles[i];
    }
  }
  return NULL;
}

/* Write every file of a new hierarchy; the manifest last, once the keys it
 * certifies are on disk. */
static rot_error_t write_hierarchy(const char *dir, const rot_crypto_t *c,
                                   uint8_t root_priv[ROT_P384_SCALAR_LEN],
                                   uint8_t sign_priv[ROT_P384_SCALAR_LEN]) {
  char path[PATH_MAX];
  char name[32];
  uint8_t root_pub[ROT_P384_PUBKEY_LEN];
  rot_manifest_entry_t entry;
  uint8_t manifest[ROT_MANIFEST_MAX_SIZE];
  size_t manifest_len = 0;

  ROT_TRY(rot_host_p384_keygen(root_priv, root_pub));
  memset(&entry, 0, sizeof(entry));
  entry.key_index = ROT_KEYDIR_DEFAULT_KEY_INDEX;
  entry.allowed_types = ALL_TYPES_MASK;
  ROT_TRY(rot_host_p384_keygen(sign_priv, entry.pub));
  ROT_TRY(rot_manifest_build(c, root_priv, &entry, 1, manifest,
                             sizeof(manifest), &manifest_len));

  sign_key_name(name, sizeof(name), entry.key_index, 0);
  ROT_TRY(join(path, sizeof(path), dir, name));
  ROT_TRY(rot_key_save(path, sign_priv));
  sign_key_name(name, sizeof(name), entry.key_index, 1);
  ROT_TRY(join(path, sizeof(path), dir, name));
  ROT_TRY(rot_pubkey_save(path, entry.pub));
  ROT_TRY(join(path, sizeof(path), dir, ROT_KEYDIR_ROOT_KEY));
  ROT_TRY(rot_key_save(path, root_priv));
  ROT_TRY(join(path, sizeof(path), dir, ROT_KEYDIR_ROOT_PUB));
  ROT_TRY(rot_pubkey_save(path, root_pub));
  ROT_TRY(join(path, sizeof(path), dir, ROT_KEYDIR_MANIFEST));
  return rot_file_write(path, manifest, manifest_len, 0644);
}

/* mkdir -p: parents get the usual 0755, the key directory itself 0700. */
static rot_error_t make_dirs(const char *dir) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof(path), "%s", dir);
  if (n < 0 || (size_t)n >= sizeof(path)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  for (char *p = path + 1; *p != '\0'; p++) {
    if (*p != '/') {
      continue;
    }
    *p = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      return ROT_ERROR_IO_WRITE;
    }
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST) {
    return ROT_ERROR_IO_WRITE;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ROT_ERROR_IO_OPEN;
  }
  return ROT_OK;
}

rot_error_t rot_keydir_generate(const char *dir, int force) {
  char probe[PATH_MAX];
  if (dir == NULL || dir[0] == '\0') {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* The longest name must fit, or a later write would fail half way. */
  ROT_TRY(join(probe, sizeof(probe), dir, "sign-4294967295.key.pem"));
  if (!force && rot_keydir_existing(dir) != NULL) {
    return ROT_ERROR_IO_WRITE;
  }
  const rot_crypto_t *c = NULL;
  ROT_TRY(rot_host_crypto_get(&c));
  ROT_TRY(make_dirs(dir));
  uint8_t root_priv[ROT_P384_SCALAR_LEN];
  uint8_t sign_priv[ROT_P384_SCALAR_LEN];
  rot_error_t err = write_hierarchy(dir, c, root_priv, sign_priv);
  rot_wipe(root_priv, sizeof(root_priv));
  rot_wipe(sign_priv, sizeof(sign_priv));
  return err;
}

void rot_keydir_wipe(rot_keydir_t *kd) {
  if (kd != NULL) {
    rot_wipe(kd, sizeof(*kd));
  }
}

/* Wipe everything but the name of the file at fault. */
static rot_error_t fail(rot_keydir_t *kd, rot_error_t err) {
  char bad[sizeof(kd->bad_file)];
  memcpy(bad, kd->bad_file, sizeof(bad));
  rot_keydir_wipe(kd);
  memcpy(kd->bad_file, bad, sizeof(bad));
  return err;
}

static rot_error_t load_public(const char *dir, const rot_crypto_t *c,
                               rot_keydir_t *kd) {
  char path[PATH_MAX];
  uint8_t *buf = NULL;
  size_t len = 0;

  set_bad(kd, ROT_KEYDIR_MANIFEST);
  ROT_TRY(join(path, sizeof(path), dir, ROT_KEYDIR_MANIFEST));
  ROT_TRY(rot_file_read(path, ROT_MANIFEST_MAX_SIZE, &buf, &len));
  memcpy(kd->manifest_bytes, buf, len);
  free(buf);
  kd->manifest_len = len;
  ROT_TRY(rot_manifest_parse(kd->manifest_bytes, len, &kd->manifest));

  set_bad(kd, ROT_KEYDIR_ROOT_PUB);
  ROT_TRY(join(path, sizeof(path), dir, ROT_KEYDIR_ROOT_PUB));
  ROT_TRY(rot_pubkey_load(path, kd->root_pub));

  /* A manifest from another hierarchy would sign images no device with
   * this root would accept: catch it here, not at boot. */
  set_bad(kd, ROT_KEYDIR_MANIFEST);
  if (!rot_memeq(kd->root_pub, kd->manifest.head.root_pub,
                 ROT_P384_PUBKEY_LEN)) {
    return ROT_ERROR_MANIFEST_WRONG_ROOT;
  }
  uint8_t digest[ROT_SHA384_LEN];
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, kd->manifest.signed_bytes,
                   kd->manifest.signed_len, digest, sizeof(digest)));
  rot_error_t sig = rot_ecdsa_p384_verify(c, kd->root_pub, digest,
                                          sizeof(digest), kd->manifest.root_sig);
  if (sig != ROT_OK) {
    /* A manifest signed before signatures had to be low-S says so: it
     * needs its root to sign it again, it was not tampered with. */
    return sig == ROT_ERROR_CRYPTO_SIG_HIGH_S ? sig
                                              : ROT_ERROR_MANIFEST_BAD_SIGNATURE;
  }

  set_bad(kd, ROT_KEYDIR_ROOT_PUB);
  memset(&kd->policy, 0, sizeof(kd->policy));
  ROT_TRY(rot_hash(c, ROT_HASH_SHA384, kd->root_pub, ROT_P384_PUBKEY_LEN,
                   kd->policy.root_key_hash, ROT_SHA384_LEN));
  kd->policy.lifecycle = ROT_LIFECYCLE_DEV;
  kd->bad_file[0] = '\0';
  return ROT_OK;
}

rot_error_t rot_keydir_load_public(const char *dir, rot_keydir_t *out) {
  if (out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  if (dir == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const rot_crypto_t *c = NULL;
  rot_error_t err = rot_host_crypto_get(&c);
  if (err != ROT_OK) {
    return err;
  }
  err = load_public(dir, c, out);
  return err == ROT_OK ? ROT_OK : fail(out, err);
}

static rot_error_t load_signer(const char *dir, uint32_t key_index,
                               rot_keydir_t *kd) {
  char path[PATH_MAX];
  char name[32];
  const rot_manifest_entry_t *entry = NULL;

  set_bad(kd, ROT_KEYDIR_MANIFEST);
  for (size_t i = 0; i < kd->manifest.head.key_count; i++) {
    if (kd->manifest.keys[i].key_index == key_index) {
      entry = &kd->manifest.keys[i];
    }
  }
  if (entry == NULL) {
    return ROT_ERROR_MANIFEST_KEY_NOT_FOUND;
  }
  sign_key_name(name, sizeof(name), key_index, 0);
  set_bad(kd, name);
  ROT_TRY(join(path, sizeof(path), dir, name));
  ROT_TRY(rot_key_load(path, kd->signer_priv, kd->signer_pub));
  /* Signing with a key the manifest does not certify would produce an
   * image every verifier rejects. */
  if (!rot_memeq(kd->signer_pub, entry->pub, ROT_P384_PUBKEY_LEN)) {
    return ROT_ERROR_HOST_KEY_MISMATCH;
  }
  kd->signer_index = key_index;
  kd->has_signer = 1;
  kd->bad_file[0] = '\0';
  return ROT_OK;
}

rot_error_t rot_keydir_load(const char *dir, uint32_t key_index,
                            rot_keydir_t *out) {
  if (out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (key_index >= ROT_MAX_KEY_INDEX) {
    memset(out, 0, sizeof(*out));
    return ROT_ERROR_MANIFEST_BAD_KEY_INDEX;
  }
  ROT_TRY(rot_keydir_load_public(dir, out));
  rot_error_t err = load_signer(dir, key_index, out);
  return err == ROT_OK ? ROT_OK : fail(out, err);
}
