/*
 * rotctl's image family: keygen, sign, verify, inspect. Host work only:
 * key files, image files and the host crypto; nothing talks to rotd.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/image.h"
#include "rot/otp.h"
#include "rot/policy.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "rot_client/image_sign.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"
#include "rot_client/keydir.h"
#include "rotctl.h"



static int read_image(const char *what, const char *path, uint8_t **buf,
                      size_t *len) {
  rot_error_t err = rot_file_read(path, MAX_IMAGE_FILE, buf, len);
  if (err != ROT_OK) {
    return fail_rot(what, path, "cannot read", err);
  }
  return EXIT_OK;
}



static int cmd_keygen(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  const char *dir = c->o.out;
  int force = c->o.force;
  if (dir == NULL || dir[0] == '\0') {
    return usage_error(cmd, "--out DIR is required");
  }
  const char *existing = rot_keydir_existing(dir);
  if (!force && existing != NULL) {
    return fail(cmd->full, dir,
                "%s already exists; refusing to replace a key hierarchy "
                "(use --force)", existing);
  }
  rot_error_t err = rot_keydir_generate(dir, force);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, dir, "cannot generate keys", err);
  }
  rot_keydir_t kd;
  err = rot_keydir_load_public(dir, &kd);
  if (err != ROT_OK) {
    return fail_keydir(cmd->full, NULL, dir, &kd, err);
  }
  printf("%s: generated a dev key hierarchy\n", dir);
  printf("  %-16s root private key (0600)\n", ROT_KEYDIR_ROOT_KEY);
  printf("  %-16s root public key\n", ROT_KEYDIR_ROOT_PUB);
  printf("  %-16s signing key %u private key (0600), all image types\n",
         "sign-0.key.pem", ROT_KEYDIR_DEFAULT_KEY_INDEX);
  printf("  %-16s signing key %u public key\n", "sign-0.pub.pem",
         ROT_KEYDIR_DEFAULT_KEY_INDEX);
  printf("  %-16s key manifest signed by the root (%zu bytes)\n",
         ROT_KEYDIR_MANIFEST, kd.manifest_len);
  printf("  root key hash (SHA-384): ");
  put_hex(stdout, kd.policy.root_key_hash, ROT_SHA384_LEN);
  putchar('\n');
  rot_keydir_wipe(&kd);
  return EXIT_OK;
}

/* ---- sign ------------------------------------------------------------------------ */

static int cmd_sign(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  const rotctl_opts_t *o = &c->o;
  const char *keys = o->keys;
  uint32_t type = o->has_type ? o->type : 0;
  uint32_t svn = o->svn, key_index = o->key_index;
  int have_load = o->has_load_addr, have_entry = o->has_entry;
  int dev_only = o->dev_only;
  uint64_t load_addr = o->load_addr, entry = o->entry;
  const uint16_t *ver = o->ver;
  if (keys == NULL || keys[0] == '\0') {
    return usage_error(cmd, "--keys DIR is required");
  }
  if (type == 0) {
    return usage_error(cmd, "--type TYPE is required");
  }
  if (!o->has_svn) {
    return usage_error(cmd, "--svn N is required");
  }
  if (o->version == NULL) {
    return usage_error(cmd, "--version X.Y.Z is required");
  }
  const char *in = o->operands[0];
  const char *out = o->operands[1];

  const rot_region_t *region = rot_image_region(type);
  if (!have_load) {
    load_addr = region->base;
  }
  if (!have_entry) {
    entry = region->executable ? load_addr : 0;
  }

  uint8_t *payload = NULL;
  size_t payload_len = 0;
  rot_error_t err = rot_file_read(in, ROT_IMAGE_MAX_PAYLOAD, &payload,
                                  &payload_len);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, in, "cannot read payload", err);
  }

  rot_keydir_t kd;
  err = rot_keydir_load(keys, key_index, &kd);
  if (err != ROT_OK) {
    free(payload);
    return fail_keydir(cmd->full, out, keys, &kd, err);
  }

  rot_image_header_t h;
  memset(&h, 0, sizeof(h));
  h.image_type = type;
  h.flags = dev_only ? ROT_IMAGE_FLAG_DEV_ONLY : 0u;
  h.ver_major = ver[0];
  h.ver_minor = ver[1];
  h.ver_patch = ver[2];
  h.svn = svn;
  h.key_index = key_index;
  h.load_addr = load_addr;
  h.entry_point = entry;

  size_t cap = ROT_IMAGE_HEADER_SIZE + kd.manifest_len + payload_len +
               ROT_IMAGE_SIG_SIZE;
  uint8_t *image = malloc(cap);
  size_t image_len = 0;
  if (image == NULL) {
    rot_keydir_wipe(&kd);
    free(payload);
    return fail(cmd->full, out, "out of memory");
  }
  const rot_crypto_t *crypto = rot_host_crypto();
  err = crypto == NULL ? ROT_ERROR_CRYPTO_FAILED
                       : rot_image_sign(crypto, &h, kd.manifest_bytes,
                                        kd.manifest_len, kd.signer_priv,
                                        payload, payload_len, image, cap,
                                        &image_len);
  rot_wipe(kd.signer_priv, sizeof(kd.signer_priv));
  free(payload);
  if (err != ROT_OK) {
    rot_keydir_wipe(&kd);
    free(image);
    return fail_rot(cmd->full, out, "cannot sign", err);
  }

  /* Never hand out an image the hierarchy's own policy would refuse. */
  rot_verified_image_t v;
  err = rot_image_verify(crypto, &kd.policy, image, image_len,
                         ROT_IMAGE_TYPE_ANY, &v);
  rot_keydir_wipe(&kd);
  if (err == ROT_OK) {
    err = rot_verified_check(&v);
  }
  if (err != ROT_OK) {
    free(image);
    return fail_rot(cmd->full, out, "signed image does not verify", err);
  }
  err = rot_file_write(out, image, image_len, 0644);
  free(image);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, out, "cannot write", err);
  }
  printf("%s: signed type=%s version=%u.%u.%u svn=%" PRIu32 " key=%" PRIu32
         " load=0x%" PRIx64 " entry=0x%" PRIx64 "%s payload=%zu bytes "
         "image=%zu bytes\n",
         out, rot_image_type_name(type), v.ver_major, v.ver_minor, v.ver_patch,
         v.svn, v.key_index, v.load_addr, v.entry_point,
         dev_only ? " dev-only" : "", payload_len, image_len);
  return EXIT_OK;
}

/* ---- verify ---------------------------------------------------------------------- */

typedef struct verify_out {
  const char *what;
  const char *image;
  int json;
} verify_out_t;

/* One stderr line; with --json also a machine-readable verdict on stdout. */
static int verify_reject(const verify_out_t *o, const char *stage,
                         const char *ctx, rot_error_t err) {
  if (o->json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "image", o->image);
    jw_bool(&j, "ok", 0);
    jw_str(&j, "stage", stage);
    jw_str(&j, "error", rot_error_name(err));
    jw_str(&j, "reason", rot_error_str(err));
    jw_close(&j, '}');
  }
  return fail_rot(o->what, o->image, ctx, err);
}

static int cmd_verify(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  const char *keys = c->o.keys;
  const char *otp_path = c->o.otp;
  uint32_t min_svn = c->o.min_svn;
  uint32_t expected = c->o.has_type ? c->o.type : ROT_IMAGE_TYPE_ANY;
  int have_min = c->o.has_min_svn, json = c->o.json;
  if ((keys == NULL) == (otp_path == NULL)) {
    return usage_error(cmd, "give exactly one of --keys DIR or --otp FILE");
  }
  if ((keys != NULL && keys[0] == '\0') ||
      (otp_path != NULL && otp_path[0] == '\0')) {
    return usage_error(cmd, "empty --keys or --otp path");
  }
  verify_out_t o = {cmd->full, c->o.operands[0], json};
  char ctx[4200];

  /* The policy first: a verdict needs a trust anchor. */
  rot_policy_t policy;
  rot_error_t err;
  if (keys != NULL) {
    rot_keydir_t kd;
    err = rot_keydir_load_public(keys, &kd);
    if (err != ROT_OK) {
      snprintf(ctx, sizeof(ctx), "keys %s%s%s", keys,
               kd.bad_file[0] ? "/" : "", kd.bad_file);
      return verify_reject(&o, "policy", ctx, err);
    }
    policy = kd.policy;
    rot_keydir_wipe(&kd);
  } else {
    rot_otp_file_t otp;
    snprintf(ctx, sizeof(ctx), "otp %s", otp_path);
    err = rot_otp_file_open(&otp, otp_path, 0);
    if (err == ROT_OK) {
      err = rot_otp_policy(&otp.port, &policy);
      rot_otp_file_close(&otp);
    }
    if (err == ROT_ERROR_IO_PERMISSIONS) {
      char advice[4400];
      snprintf(ctx, sizeof(ctx), "otp %s: %s", otp_path,
               rot_file_private_advice(advice, sizeof(advice), otp_path,
                                       otp.mode));
    }
    if (err != ROT_OK) {
      return verify_reject(&o, "policy", ctx, err);
    }
  }

  uint8_t *image = NULL;
  size_t len = 0;
  err = rot_file_read(o.image, MAX_IMAGE_FILE, &image, &len);
  if (err != ROT_OK) {
    return verify_reject(&o, "read", "cannot read", err);
  }
  if (have_min) {
    /* Only the image's own type matters; an unparsable header is
     * reported by the verifier below. */
    rot_image_header_t h;
    if (rot_image_header_parse(image, len, &h) == ROT_OK &&
        policy.svn_floor[h.image_type] < min_svn) {
      policy.svn_floor[h.image_type] = min_svn;
    }
  }
  const rot_crypto_t *crypto = rot_host_crypto();
  rot_verified_image_t v;
  err = crypto == NULL ? ROT_ERROR_CRYPTO_FAILED
                       : rot_image_verify(crypto, &policy, image, len,
                                          expected, &v);
  free(image);
  if (err == ROT_OK) {
    err = rot_verified_check(&v);
  }
  if (err != ROT_OK) {
    return verify_reject(&o, "verify", "rejected", err);
  }

  if (json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "image", o.image);
    jw_bool(&j, "ok", 1);
    jw_str(&j, "policy", keys != NULL ? "keys" : "otp");
    jw_str(&j, "type", type_name(v.image_type));
    char ver[24];
    snprintf(ver, sizeof(ver), "%u.%u.%u", v.ver_major, v.ver_minor,
             v.ver_patch);
    jw_str(&j, "version", ver);
    jw_u64(&j, "svn", v.svn);
    jw_u64(&j, "key_index", v.key_index);
    jw_addr(&j, "load_addr", v.load_addr);
    jw_addr(&j, "entry_point", v.entry_point);
    jw_u64(&j, "payload_len", v.payload_len);
    jw_hex(&j, "payload_sha384", v.payload_digest, ROT_SHA384_LEN);
    jw_hex(&j, "signed_sha384", v.signed_digest, ROT_SHA384_LEN);
    jw_close(&j, '}');
  } else {
    printf("%s: OK type=%s version=%u.%u.%u svn=%" PRIu32 " key=%" PRIu32
           " sha384=",
           o.image, type_name(v.image_type), v.ver_major, v.ver_minor,
           v.ver_patch, v.svn, v.key_index);
    put_hex(stdout, v.payload_digest, ROT_SHA384_LEN);
    putchar('\n');
  }
  return EXIT_OK;
}

/* ---- inspect ---------------------------------------------------------------------- */

static void inspect_json(const char *path, const rot_image_view_t *v,
                         const uint8_t root_hash[ROT_SHA384_LEN],
                         const uint8_t key_hash[][ROT_SHA384_LEN],
                         const uint8_t payload_sha[ROT_SHA384_LEN]) {
  const rot_image_header_t *h = &v->header;
  const rot_manifest_t *m = &v->manifest;
  char buf[128];
  jw_t j = JW_INIT;
  jw_open(&j, NULL, '{');
  jw_str(&j, "image", path);
  jw_str(&j, "status", "structure OK, signature not checked");
  jw_u64(&j, "total_len", v->total_len);
  jw_open(&j, "header", '{');
  snprintf(buf, sizeof(buf), "0x%08" PRIx32, h->magic);
  jw_str(&j, "magic", buf);
  jw_u64(&j, "format_version", h->format_version);
  jw_u64(&j, "header_size", h->header_size);
  jw_u64(&j, "image_type", h->image_type);
  jw_str(&j, "image_type_name", type_name(h->image_type));
  snprintf(buf, sizeof(buf), "0x%08" PRIx32, h->flags);
  jw_str(&j, "flags", buf);
  jw_bool(&j, "dev_only", (h->flags & ROT_IMAGE_FLAG_DEV_ONLY) != 0);
  snprintf(buf, sizeof(buf), "%u.%u.%u", h->ver_major, h->ver_minor,
           h->ver_patch);
  jw_str(&j, "version", buf);
  jw_u64(&j, "svn", h->svn);
  jw_u64(&j, "key_index", h->key_index);
  jw_addr(&j, "load_addr", h->load_addr);
  jw_addr(&j, "entry_point", h->entry_point);
  jw_u64(&j, "payload_len", h->payload_len);
  jw_u64(&j, "manifest_len", h->manifest_len);
  jw_hex(&j, "payload_digest", h->payload_digest, ROT_SHA384_LEN);
  jw_close(&j, '}');
  jw_open(&j, "manifest", '{');
  snprintf(buf, sizeof(buf), "0x%08" PRIx32, m->head.magic);
  jw_str(&j, "magic", buf);
  jw_u64(&j, "version", m->head.version);
  jw_u64(&j, "key_count", m->head.key_count);
  jw_hex(&j, "root_pubkey", m->head.root_pub, ROT_P384_PUBKEY_LEN);
  jw_hex(&j, "root_key_hash", root_hash, ROT_SHA384_LEN);
  jw_open(&j, "keys", '[');
  for (size_t i = 0; i < m->head.key_count; i++) {
    const rot_manifest_entry_t *k = &m->keys[i];
    jw_open(&j, NULL, '{');
    jw_u64(&j, "key_index", k->key_index);
    snprintf(buf, sizeof(buf), "0x%08" PRIx32, k->allowed_types);
    jw_str(&j, "allowed_types_mask", buf);
    jw_open(&j, "allowed_types", '[');
    for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
      if ((k->allowed_types & (1u << t)) != 0) {
        jw_str(&j, NULL, rot_image_type_name(t));
      }
    }
    jw_close(&j, ']');
    jw_hex(&j, "pubkey", k->pub, ROT_P384_PUBKEY_LEN);
    jw_hex(&j, "pubkey_sha384", key_hash[i], ROT_SHA384_LEN);
    jw_close(&j, '}');
  }
  jw_close(&j, ']');
  jw_hex(&j, "root_signature", m->root_sig, ROT_P384_SIG_LEN);
  jw_close(&j, '}');
  jw_open(&j, "payload", '{');
  jw_u64(&j, "offset", (uint64_t)ROT_IMAGE_HEADER_SIZE + h->manifest_len);
  jw_u64(&j, "len", h->payload_len);
  jw_hex(&j, "sha384", payload_sha, ROT_SHA384_LEN);
  jw_bool(&j, "digest_matches_header",
            rot_memeq(payload_sha, h->payload_digest, ROT_SHA384_LEN));
  jw_close(&j, '}');
  jw_hex(&j, "signature", v->signature, ROT_IMAGE_SIG_SIZE);
  jw_close(&j, '}');
}

static void inspect_text(const char *path, const rot_image_view_t *v,
                         const uint8_t root_hash[ROT_SHA384_LEN],
                         const uint8_t key_hash[][ROT_SHA384_LEN],
                         const uint8_t payload_sha[ROT_SHA384_LEN]) {
  const rot_image_header_t *h = &v->header;
  const rot_manifest_t *m = &v->manifest;
  char types[96];
  printf("%s: structure OK, signature not checked (%zu bytes)\n", path,
         v->total_len);
  printf("header:\n");
  printf("  magic            0x%08" PRIx32 "\n", h->magic);
  printf("  format_version   %u\n", h->format_version);
  printf("  header_size      %u\n", h->header_size);
  printf("  image_type       %" PRIu32 " (%s)\n", h->image_type,
         type_name(h->image_type));
  printf("  flags            0x%08" PRIx32 "%s\n", h->flags,
         (h->flags & ROT_IMAGE_FLAG_DEV_ONLY) ? " (dev-only)" : "");
  printf("  version          %u.%u.%u\n", h->ver_major, h->ver_minor,
         h->ver_patch);
  printf("  svn              %" PRIu32 "\n", h->svn);
  printf("  key_index        %" PRIu32 "\n", h->key_index);
  printf("  load_addr        0x%" PRIx64 "\n", h->load_addr);
  printf("  entry_point      0x%" PRIx64 "\n", h->entry_point);
  printf("  payload_len      %" PRIu32 "\n", h->payload_len);
  printf("  manifest_len     %" PRIu32 "\n", h->manifest_len);
  printf("  payload_digest   ");
  put_hex(stdout, h->payload_digest, ROT_SHA384_LEN);
  printf("\nmanifest:\n");
  printf("  magic            0x%08" PRIx32 "\n", m->head.magic);
  printf("  version          %u\n", m->head.version);
  printf("  key_count        %u\n", m->head.key_count);
  printf("  root_pubkey      ");
  put_hex(stdout, m->head.root_pub, ROT_P384_PUBKEY_LEN);
  printf("\n  root_key_hash    ");
  put_hex(stdout, root_hash, ROT_SHA384_LEN);
  putchar('\n');
  for (size_t i = 0; i < m->head.key_count; i++) {
    const rot_manifest_entry_t *k = &m->keys[i];
    type_list(k->allowed_types, types, sizeof(types));
    printf("  key %" PRIu32 "            allowed=%s (0x%08" PRIx32 ")\n",
           k->key_index, types, k->allowed_types);
    printf("    pubkey         ");
    put_hex(stdout, k->pub, ROT_P384_PUBKEY_LEN);
    printf("\n    pubkey_sha384  ");
    put_hex(stdout, key_hash[i], ROT_SHA384_LEN);
    putchar('\n');
  }
  printf("  root_signature   ");
  put_hex(stdout, m->root_sig, ROT_P384_SIG_LEN);
  printf("\npayload:\n  sha384           ");
  put_hex(stdout, payload_sha, ROT_SHA384_LEN);
  printf(" (%s the header)\n",
         rot_memeq(payload_sha, h->payload_digest, ROT_SHA384_LEN)
             ? "matches"
             : "does NOT match");
  printf("signature          ");
  put_hex(stdout, v->signature, ROT_IMAGE_SIG_SIZE);
  putchar('\n');
}

static int cmd_inspect(rotctl_t *c) {
  const command_t *cmd = c->cmd;
  int json = c->o.json;
  const char *path = c->o.operands[0];
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = read_image(cmd->full, path, &buf, &len);
  if (rc != EXIT_OK) {
    return rc;
  }
  rot_image_view_t v;
  rot_error_t err = rot_image_parse(buf, len, &v);
  if (err != ROT_OK) {
    free(buf);
    return fail_rot(cmd->full, path, "malformed", err);
  }
  /* Fingerprints an operator compares with OTP and key files. */
  const rot_crypto_t *crypto = rot_host_crypto();
  uint8_t root_hash[ROT_SHA384_LEN];
  uint8_t key_hash[ROT_MANIFEST_MAX_KEYS][ROT_SHA384_LEN];
  uint8_t payload_sha[ROT_SHA384_LEN];
  err = crypto == NULL ? ROT_ERROR_CRYPTO_FAILED
                       : rot_hash(crypto, ROT_HASH_SHA384, v.manifest.head.root_pub,
                                  ROT_P384_PUBKEY_LEN, root_hash,
                                  sizeof(root_hash));
  for (size_t i = 0; err == ROT_OK && i < v.manifest.head.key_count; i++) {
    err = rot_hash(crypto, ROT_HASH_SHA384, v.manifest.keys[i].pub,
                   ROT_P384_PUBKEY_LEN, key_hash[i], ROT_SHA384_LEN);
  }
  if (err == ROT_OK) {
    err = rot_hash(crypto, ROT_HASH_SHA384, v.payload, v.header.payload_len,
                   payload_sha, sizeof(payload_sha));
  }
  if (err != ROT_OK) {
    free(buf);
    return fail_rot(cmd->full, path, "hash", err);
  }
  if (json) {
    inspect_json(path, &v, root_hash, (const uint8_t(*)[ROT_SHA384_LEN])key_hash,
                 payload_sha);
  } else {
    inspect_text(path, &v, root_hash, (const uint8_t(*)[ROT_SHA384_LEN])key_hash,
                 payload_sha);
  }
  free(buf);
  return EXIT_OK;
}

/* ---- the family ------------------------------------------------------------------ */

const command_t rotctl_image_commands[] = {
    {"keygen", cmd_keygen, "--out DIR [--force]",
     "Generate a dev key hierarchy: root key, signing key 0 (all image "
     "types) and the root-signed key manifest.",
     "\noptions:\n"
     "  --out DIR    directory (created 0700); private keys are written 0600\n"
     "  --force      replace an existing hierarchy\n",
     O_OUT | O_FORCE, 0, NULL, NULL, "keygen"},
    {"sign", cmd_sign,
     "--keys DIR --type TYPE --svn N --version X.Y.Z [--load-addr A] "
     "[--entry E] [--key-index I] [--dev-only] IN OUT",
     "Sign payload IN into image OUT.",
     "\noptions:\n"
     "  --keys DIR       key hierarchy\n"
     "  --type TYPE      rot, opensbi, hypervisor, dtb or recovery\n"
     "  --svn N          security version, 0..256\n"
     "  --version X.Y.Z  semantic version\n"
     "  --load-addr A    default: start of the type's region\n"
     "  --entry E        default: the load address (0 for data types)\n"
     "  --key-index I    signing key (sign-I.key.pem), default 0\n"
     "  --dev-only       refuse to boot outside the dev lifecycle\n"
     "Numbers are decimal or 0x-prefixed hex.\n",
     O_KEYS | O_TYPE | O_SVN | O_VERSION | O_LOAD_ADDR | O_ENTRY |
         O_KEY_INDEX | O_DEV_ONLY,
     2, "IN and OUT", NULL, "sign"},
    {"verify", cmd_verify,
     "(--keys DIR | --otp FILE) [--min-svn N] [--type TYPE] [--json] IMAGE",
     "Verify IMAGE as the chip would: exit 0 and a summary when valid, "
     "otherwise exit 1 and one line naming the check that failed.",
     "\noptions:\n"
     "  --keys DIR     trust the root of this key hierarchy (dev policy)\n"
     "  --otp FILE     use the policy fused in this OTP file\n"
     "  --min-svn N    raise the image type's floor to N for this check\n"
     "  --type TYPE    require this image type\n"
     "  --json         machine-readable verdict on stdout\n",
     O_KEYS | O_OTP | O_MIN_SVN | O_TYPE | O_JSON, 1, "one IMAGE", NULL,
     "verify"},
    {"inspect", cmd_inspect, "[--json] IMAGE",
     "Print every header and key manifest field of IMAGE (structure only; "
     "no signature is checked).",
     "\noptions:\n"
     "  --json    machine-readable output\n",
     O_JSON, 1, "one IMAGE", NULL, "inspect"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};
