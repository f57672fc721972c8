/*
 * Reference values: derivation from signed images, JSON codec
 * (attest/refvals.h).
 */
#include "attest/refvals.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bootchain/measure.h"
#include "internal.h"
#include "rot_client/names.h"
#include "rot/dice.h"
#include "rot/image.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_client/keydir.h"

static rot_error_t badp(char *d, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rot_error_t badp(char *d, size_t cap, const char *fmt, ...) {
  if (d != NULL && cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(d, cap, fmt, ap);
    va_end(ap);
  }
  return ROT_ERROR_ATTEST_BAD_POLICY;
}

static const uint16_t default_banks[2] = {0x000b, 0x000c};

/* Add an accepted S-CRTM version once (the image count bounds the list). */
static void add_rot_firmware(attest_policy_t *p, const char *version) {
  for (uint32_t i = 0; i < p->nrot_firmware; i++) {
    if (strcmp(p->rot_firmware[i], version) == 0) {
      return;
    }
  }
  if (p->nrot_firmware < ATTEST_REF_MAX_IMAGES) {
    snprintf(p->rot_firmware[p->nrot_firmware], sizeof(p->rot_firmware[0]),
             "%s", version);
    p->nrot_firmware++;
  }
}

rot_error_t attest_refvals_derive(const char *keys_dir,
                                  const char *const *images, size_t nimages,
                                  attest_policy_t *out, char *detail,
                                  size_t cap) {
  if (keys_dir == NULL || images == NULL || out == NULL || nimages == 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (nimages > ATTEST_REF_MAX_IMAGES) {
    return badp(detail, cap, "at most %u images", ATTEST_REF_MAX_IMAGES);
  }
  memset(out, 0, sizeof(*out));
  const rot_crypto_t *c = rot_host_crypto();
  rot_keydir_t *kd = calloc(1, sizeof(*kd));
  if (kd == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  rot_error_t err = rot_keydir_load_public(keys_dir, kd);
  if (err != ROT_OK) {
    (void)snprintf(detail, cap, "key hierarchy %s: %s%s%s", keys_dir,
                   rot_error_str(err), kd->bad_file[0] ? " in " : "",
                   kd->bad_file);
    free(kd);
    return err;
  }
  out->pcr_mask = 0xb3u;
  out->nbanks = 2;
  memcpy(out->banks, default_banks, sizeof(default_banks));
  memcpy(out->root_key_sha384, kd->policy.root_key_hash, ROT_SHA384_LEN);
  out->lifecycles = (1u << ROT_LIFECYCLE_DEV) | (1u << ROT_LIFECYCLE_PROD);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    out->svn_floor[t] = UINT32_MAX;
  }
  for (size_t i = 0; i < nimages && err == ROT_OK; i++) {
    attest_buf_t img = {0};
    rot_verified_image_t v;
    err = attest_read_file(images[i], ROT_IMAGE_MAX_PAYLOAD + (1u << 20),
                           &img);
    if (err == ROT_OK) {
      err = rot_image_verify(c, &kd->policy, img.p, img.len,
                             ROT_IMAGE_TYPE_ANY, &v);
    }
    if (err == ROT_OK) {
      rot_image_view_t view;
      err = rot_image_parse(img.p, img.len, &view);
      if (err == ROT_OK) {
        err = rot_hash(c, ROT_HASH_SHA256, view.payload,
                       view.header.payload_len, out->images[i].sha256,
                       ROT_SHA256_LEN);
      }
    }
    attest_buf_free(&img);
    if (err != ROT_OK) {
      (void)snprintf(detail, cap, "%s: %s (%s)", images[i], rot_error_str(err),
                     rot_error_name(err));
      break;
    }
    attest_ref_image_t *r = &out->images[i];
    r->type = v.image_type;
    r->svn = v.svn;
    r->key_index = v.key_index;
    r->ver_major = v.ver_major;
    r->ver_minor = v.ver_minor;
    r->ver_patch = v.ver_patch;
    memcpy(r->sha384, v.payload_digest, ROT_SHA384_LEN);
    out->nimages++;
    /* A chip that booted RoT firmware names it in PCR 0's S-CRTM version
     * (docs/pcr-plan.md). */
    if (v.image_type == ROT_IMAGE_TYPE_ROT) {
      /* Every RoT firmware given is accepted (a fleet mid-rollout runs
       * several), not only the last one. */
      char ver[sizeof(out->rot_firmware[0])];
      snprintf(ver, sizeof(ver), BC_RTM_ROT_VERSION_FMT, v.ver_major,
               v.ver_minor, v.ver_patch, v.svn);
      add_rot_firmware(out, ver);
      /* The chip's Alias certificate names the RoT firmware it booted in
       * its DiceTcbInfo: fwid is the payload's SHA-384 (the header's
       * payload_digest, rot/src/identity.c), version and svn the header's. */
      attest_ref_dice_t *dt = &out->dice[out->ndice++];
      snprintf(dt->vendor, sizeof(dt->vendor), "%s", ROT_DICE_VENDOR);
      snprintf(dt->model, sizeof(dt->model), "%s", ROT_DICE_MODEL);
      snprintf(dt->version, sizeof(dt->version), "%u.%u.%u", v.ver_major,
               v.ver_minor, v.ver_patch);
      dt->svn = v.svn;
      memcpy(dt->fwid, v.payload_digest, ROT_SHA384_LEN);
    }
    if (v.image_type < ROT_IMAGE_TYPE_SLOTS && v.key_index < 32) {
      out->signers[v.image_type] |= 1u << v.key_index;
      if (v.svn < out->svn_floor[v.image_type]) {
        out->svn_floor[v.image_type] = v.svn;
      }
    }
  }
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    if (out->svn_floor[t] == UINT32_MAX) {
      out->svn_floor[t] = 0;
    }
  }
  /* No RoT firmware given: a chip that booted none names the stack's own
   * version (dev bring-up; such a chip has no DICE identity either). */
  if (out->nrot_firmware == 0) {
    add_rot_firmware(out, BC_RTM_VERSION);
  }
  /* Dev chips run in DICE debug mode (rot_dice_mode); the policy admits
   * them, so it admits debug mode. Dropping "dev" from the lifecycles
   * means clearing dice_debug_ok too. */
  out->dice_debug_ok = (out->lifecycles >> ROT_LIFECYCLE_DEV) & 1u;
  rot_keydir_wipe(kd);
  free(kd);
  return err;
}

static const char *bank_name(uint16_t alg) {
  return alg == 0x000b ? "sha256" : alg == 0x000c ? "sha384" : NULL;
}

static json_object *hexobj(const uint8_t *p, size_t n) {
  char *h = attest_hex(p, n);
  json_object *o = h != NULL ? json_object_new_string(h) : NULL;
  free(h);
  return o;
}

rot_error_t attest_refvals_encode(const attest_policy_t *p, char **out) {
  if (p == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  json_object *root = json_object_new_object();
  json_object_object_add(root, "format",
                         json_object_new_string(ATTEST_REFVALS_FORMAT));
  json_object_object_add(root, "version",
                         json_object_new_int(ATTEST_REFVALS_VERSION));
  json_object *pcrs = json_object_new_array();
  for (uint32_t i = 0; i < 24; i++) {
    if (p->pcr_mask & (1u << i)) {
      json_object_array_add(pcrs, json_object_new_int((int)i));
    }
  }
  json_object_object_add(root, "pcrs", pcrs);
  json_object *banks = json_object_new_array();
  for (uint32_t i = 0; i < p->nbanks && i < 4; i++) {
    const char *n = bank_name(p->banks[i]);
    json_object_array_add(banks, json_object_new_string(n ? n : "unknown"));
  }
  json_object_object_add(root, "banks", banks);
  json_object *rfw = json_object_new_array();
  for (uint32_t i = 0; i < p->nrot_firmware && i < ATTEST_REF_MAX_IMAGES; i++) {
    json_object_array_add(rfw, json_object_new_string(p->rot_firmware[i]));
  }
  json_object_object_add(root, "rot_firmware", rfw);
  json_object_object_add(root, "root_key_sha384",
                         hexobj(p->root_key_sha384, ROT_SHA384_LEN));
  json_object *lcs = json_object_new_array();
  for (uint32_t l = 0; l < 32; l++) {
    if (p->lifecycles & (1u << l)) {
      json_object_array_add(lcs, json_object_new_string(rot_lifecycle_name(l)));
    }
  }
  json_object_object_add(root, "lifecycles", lcs);
  json_object *imgs = json_object_new_array();
  for (uint32_t i = 0; i < p->nimages && i < ATTEST_REF_MAX_IMAGES; i++) {
    const attest_ref_image_t *r = &p->images[i];
    json_object *o = json_object_new_object();
    char ver[24];
    snprintf(ver, sizeof(ver), "%u.%u.%u", r->ver_major, r->ver_minor,
             r->ver_patch);
    json_object_object_add(o, "type",
                           json_object_new_string(rot_image_type_name(r->type)));
    json_object_object_add(o, "version", json_object_new_string(ver));
    json_object_object_add(o, "svn", json_object_new_int64(r->svn));
    json_object_object_add(o, "key_index", json_object_new_int64(r->key_index));
    json_object_object_add(o, "sha256", hexobj(r->sha256, ROT_SHA256_LEN));
    json_object_object_add(o, "sha384", hexobj(r->sha384, ROT_SHA384_LEN));
    json_object_array_add(imgs, o);
  }
  json_object_object_add(root, "images", imgs);
  json_object *signers = json_object_new_object();
  json_object *floors = json_object_new_object();
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    if (p->signers[t] != 0) {
      json_object *ks = json_object_new_array();
      for (uint32_t k = 0; k < 32; k++) {
        if (p->signers[t] & (1u << k)) {
          json_object_array_add(ks, json_object_new_int((int)k));
        }
      }
      json_object_object_add(signers, rot_image_type_name(t), ks);
      json_object_object_add(floors, rot_image_type_name(t),
                             json_object_new_int64(p->svn_floor[t]));
    }
  }
  json_object_object_add(root, "signers", signers);
  json_object_object_add(root, "svn_floors", floors);
  json_object *dice = json_object_new_array();
  for (uint32_t i = 0; i < p->ndice && i < ATTEST_REF_MAX_IMAGES; i++) {
    const attest_ref_dice_t *dt = &p->dice[i];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "vendor", json_object_new_string(dt->vendor));
    json_object_object_add(o, "model", json_object_new_string(dt->model));
    json_object_object_add(o, "version", json_object_new_string(dt->version));
    json_object_object_add(o, "svn", json_object_new_int64(dt->svn));
    json_object_object_add(o, "fwid_sha384", hexobj(dt->fwid, ROT_SHA384_LEN));
    json_object_array_add(dice, o);
  }
  json_object_object_add(root, "dice_tcb", dice);
  json_object_object_add(root, "dice_debug_ok",
                         json_object_new_boolean(p->dice_debug_ok != 0));
  const char *s = json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
  *out = s != NULL ? strdup(s) : NULL;
  json_object_put(root);
  return *out != NULL ? ROT_OK : ROT_ERROR_INTERNAL;
}

static int type_of(const char *name, uint32_t *t) {
  for (uint32_t i = ROT_IMAGE_TYPE_MIN; i <= ROT_IMAGE_TYPE_MAX; i++) {
    if (strcmp(name, rot_image_type_name(i)) == 0) {
      *t = i;
      return 1;
    }
  }
  return 0;
}

static int hex_exact(json_object *o, uint8_t *out, size_t n) {
  size_t got = 0;
  return o != NULL && json_object_is_type(o, json_type_string) &&
         attest_unhex(json_object_get_string(o), out, n, &got) == ROT_OK &&
         got == n;
}

static int u32_of(json_object *o, uint32_t max, uint32_t *out) {
  if (o == NULL || !json_object_is_type(o, json_type_int)) {
    return 0;
  }
  int64_t v = json_object_get_int64(o);
  if (v < 0 || v > (int64_t)max) {
    return 0;
  }
  *out = (uint32_t)v;
  return 1;
}

static json_object *field(json_object *o, const char *k) {
  json_object *v = NULL;
  return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static rot_error_t decode_obj(json_object *root, attest_policy_t *p, char *d,
                              size_t cap) {
  static const char *const keys[] = {"format", "version", "pcrs", "banks",
                                     "rot_firmware", "root_key_sha384",
                                     "lifecycles", "images", "signers",
                                     "svn_floors", "dice_tcb",
                                     "dice_debug_ok", NULL};
  if (!json_object_is_type(root, json_type_object)) {
    return badp(d, cap, "not a JSON object");
  }
  json_object_object_foreach(root, key, val) {
    (void)val;
    int known = 0;
    for (size_t i = 0; keys[i] != NULL; i++) {
      known |= strcmp(key, keys[i]) == 0;
    }
    if (!known) {
      return badp(d, cap, "unknown field \"%s\"", key);
    }
  }
  json_object *v = field(root, "format");
  if (v == NULL || !json_object_is_type(v, json_type_string) ||
      strcmp(json_object_get_string(v), ATTEST_REFVALS_FORMAT) != 0) {
    return badp(d, cap, "format: not \"%s\"", ATTEST_REFVALS_FORMAT);
  }
  uint32_t ver = 0;
  if (!u32_of(field(root, "version"), 1000, &ver) ||
      ver != ATTEST_REFVALS_VERSION) {
    return badp(d, cap, "version: not %u", ATTEST_REFVALS_VERSION);
  }
  json_object *a = field(root, "pcrs");
  if (a == NULL || !json_object_is_type(a, json_type_array) ||
      json_object_array_length(a) == 0 || json_object_array_length(a) > 24) {
    return badp(d, cap, "pcrs: not an array of 1..24 PCR indices");
  }
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    uint32_t pcr;
    if (!u32_of(json_object_array_get_idx(a, i), 23, &pcr) ||
        (p->pcr_mask & (1u << pcr))) {
      return badp(d, cap, "pcrs[%zu]: not a PCR 0..23, or repeated", i);
    }
    p->pcr_mask |= 1u << pcr;
  }
  a = field(root, "banks");
  if (a == NULL || !json_object_is_type(a, json_type_array) ||
      json_object_array_length(a) == 0 || json_object_array_length(a) > 2) {
    return badp(d, cap, "banks: not an array of 1..2 of sha256, sha384");
  }
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    json_object *b = json_object_array_get_idx(a, i);
    const char *n = json_object_is_type(b, json_type_string)
                        ? json_object_get_string(b)
                        : "";
    uint16_t alg = strcmp(n, "sha256") == 0   ? 0x000b
                   : strcmp(n, "sha384") == 0 ? 0x000c
                                              : 0;
    if (alg == 0 || (i == 1 && p->banks[0] == alg)) {
      return badp(d, cap, "banks[%zu]: not sha256 or sha384, or repeated", i);
    }
    p->banks[p->nbanks++] = alg;
  }
  /* An array of accepted S-CRTM versions, or (files written before the
   * list) a single string. */
  v = field(root, "rot_firmware");
  size_t nfw = v != NULL && json_object_is_type(v, json_type_array)
                   ? json_object_array_length(v)
                   : 1;
  if (v == NULL || nfw == 0 || nfw > ATTEST_REF_MAX_IMAGES) {
    return badp(d, cap, "rot_firmware: not 1..%u S-CRTM version strings",
                ATTEST_REF_MAX_IMAGES);
  }
  for (size_t i = 0; i < nfw; i++) {
    json_object *e =
        json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i)
                                                : v;
    if (e == NULL || !json_object_is_type(e, json_type_string) ||
        json_object_get_string_len(e) == 0 ||
        (size_t)json_object_get_string_len(e) >= sizeof(p->rot_firmware[0]) ||
        strlen(json_object_get_string(e)) !=
            (size_t)json_object_get_string_len(e)) {
      return badp(d, cap, "rot_firmware[%zu]: not a string of 1..63 chars", i);
    }
    for (uint32_t k = 0; k < p->nrot_firmware; k++) {
      if (strcmp(p->rot_firmware[k], json_object_get_string(e)) == 0) {
        return badp(d, cap, "rot_firmware[%zu]: repeated", i);
      }
    }
    snprintf(p->rot_firmware[p->nrot_firmware], sizeof(p->rot_firmware[0]),
             "%s", json_object_get_string(e));
    p->nrot_firmware++;
  }
  if (!hex_exact(field(root, "root_key_sha384"), p->root_key_sha384,
                 ROT_SHA384_LEN)) {
    return badp(d, cap, "root_key_sha384: not 48 bytes of hex");
  }
  a = field(root, "lifecycles");
  if (a == NULL || !json_object_is_type(a, json_type_array) ||
      json_object_array_length(a) > 8) {
    return badp(d, cap, "lifecycles: not an array of lifecycle names");
  }
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    json_object *l = json_object_array_get_idx(a, i);
    int found = 0;
    for (uint32_t lc = 0; lc < 8 && json_object_is_type(l, json_type_string);
         lc++) {
      if (strcmp(json_object_get_string(l), rot_lifecycle_name(lc)) == 0 &&
          strcmp(rot_lifecycle_name(lc), "unknown") != 0) {
        p->lifecycles |= 1u << lc;
        found = 1;
      }
    }
    if (!found) {
      return badp(d, cap, "lifecycles[%zu]: unknown lifecycle", i);
    }
  }
  a = field(root, "images");
  if (a == NULL || !json_object_is_type(a, json_type_array) ||
      json_object_array_length(a) == 0 ||
      json_object_array_length(a) > ATTEST_REF_MAX_IMAGES) {
    return badp(d, cap, "images: not an array of 1..%u images",
                ATTEST_REF_MAX_IMAGES);
  }
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    json_object *o = json_object_array_get_idx(a, i);
    attest_ref_image_t *r = &p->images[i];
    json_object *t = json_object_is_type(o, json_type_object)
                         ? field(o, "type")
                         : NULL;
    json_object *vs = json_object_is_type(o, json_type_object)
                          ? field(o, "version")
                          : NULL;
    unsigned ma, mi, pa;
    char tail;
    if (t == NULL || !json_object_is_type(t, json_type_string) ||
        !type_of(json_object_get_string(t), &r->type) || vs == NULL ||
        !json_object_is_type(vs, json_type_string) ||
        sscanf(json_object_get_string(vs), "%5u.%5u.%5u%c", &ma, &mi, &pa,
               &tail) != 3 ||
        ma > 0xffff || mi > 0xffff || pa > 0xffff ||
        !u32_of(field(o, "svn"), UINT32_MAX, &r->svn) ||
        !u32_of(field(o, "key_index"), 31, &r->key_index) ||
        !hex_exact(field(o, "sha256"), r->sha256, ROT_SHA256_LEN) ||
        !hex_exact(field(o, "sha384"), r->sha384, ROT_SHA384_LEN) ||
        json_object_object_length(o) != 6) {
      return badp(d, cap,
                  "images[%zu]: needs exactly type, version X.Y.Z, svn, "
                  "key_index 0..31, sha256, sha384",
                  i);
    }
    r->ver_major = (uint16_t)ma;
    r->ver_minor = (uint16_t)mi;
    r->ver_patch = (uint16_t)pa;
    p->nimages++;
  }
  json_object *s = field(root, "signers");
  json_object *f = field(root, "svn_floors");
  if (s == NULL || f == NULL || !json_object_is_type(s, json_type_object) ||
      !json_object_is_type(f, json_type_object)) {
    return badp(d, cap, "signers and svn_floors: objects keyed by image type");
  }
  json_object_object_foreach(s, tname, ks) {
    uint32_t t;
    if (!type_of(tname, &t) || !json_object_is_type(ks, json_type_array) ||
        json_object_array_length(ks) > 32) {
      return badp(d, cap, "signers.%s: unknown type or not an array", tname);
    }
    for (size_t i = 0; i < json_object_array_length(ks); i++) {
      uint32_t k;
      if (!u32_of(json_object_array_get_idx(ks, i), 31, &k)) {
        return badp(d, cap, "signers.%s[%zu]: not a key index 0..31", tname,
                    i);
      }
      p->signers[t] |= 1u << k;
    }
  }
  json_object_object_foreach(f, fname, fv) {
    uint32_t t;
    if (!type_of(fname, &t) || !u32_of(fv, UINT32_MAX, &p->svn_floor[t])) {
      return badp(d, cap, "svn_floors.%s: unknown type or not a number",
                  fname);
    }
  }
  /* Optional (absent: no DiceTcbInfo comparison, debug mode refused). */
  v = field(root, "dice_debug_ok");
  if (v != NULL) {
    if (!json_object_is_type(v, json_type_boolean)) {
      return badp(d, cap, "dice_debug_ok: not a boolean");
    }
    p->dice_debug_ok = json_object_get_boolean(v) ? 1u : 0u;
  }
  a = field(root, "dice_tcb");
  if (a != NULL && (!json_object_is_type(a, json_type_array) ||
                    json_object_array_length(a) > ATTEST_REF_MAX_IMAGES)) {
    return badp(d, cap, "dice_tcb: not an array of 0..%u entries",
                ATTEST_REF_MAX_IMAGES);
  }
  for (size_t i = 0; a != NULL && i < json_object_array_length(a); i++) {
    json_object *o = json_object_array_get_idx(a, i);
    attest_ref_dice_t *dt = &p->dice[i];
    int isobj = json_object_is_type(o, json_type_object);
    json_object *sv[3] = {isobj ? field(o, "vendor") : NULL,
                          isobj ? field(o, "model") : NULL,
                          isobj ? field(o, "version") : NULL};
    char *dst[3] = {dt->vendor, dt->model, dt->version};
    size_t cap3[3] = {sizeof(dt->vendor), sizeof(dt->model),
                      sizeof(dt->version)};
    int ok = isobj && json_object_object_length(o) == 5;
    for (int k = 0; k < 3 && ok; k++) {
      ok = sv[k] != NULL && json_object_is_type(sv[k], json_type_string) &&
           json_object_get_string_len(sv[k]) > 0 &&
           (size_t)json_object_get_string_len(sv[k]) < cap3[k] &&
           strlen(json_object_get_string(sv[k])) ==
               (size_t)json_object_get_string_len(sv[k]);
      if (ok) {
        snprintf(dst[k], cap3[k], "%s", json_object_get_string(sv[k]));
      }
    }
    if (!ok || !u32_of(field(o, "svn"), UINT32_MAX, &dt->svn) ||
        !hex_exact(field(o, "fwid_sha384"), dt->fwid, ROT_SHA384_LEN)) {
      return badp(d, cap,
                  "dice_tcb[%zu]: needs exactly vendor, model, version "
                  "(strings of 1..%zu, %zu, %zu chars), svn, fwid_sha384",
                  i, sizeof(dt->vendor) - 1, sizeof(dt->model) - 1,
                  sizeof(dt->version) - 1);
    }
    p->ndice++;
  }
  return ROT_OK;
}

rot_error_t attest_refvals_decode(const char *json, size_t len,
                                  attest_policy_t *out, char *detail,
                                  size_t cap) {
  if (detail != NULL && cap > 0) {
    detail[0] = '\0';
  }
  if (out == NULL || (json == NULL && len > 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  if (len == 0 || len > ATTEST_REF_MAX_JSON || memchr(json, '\0', len)) {
    return badp(detail, cap, "empty, over %u bytes, or a NUL byte",
                ATTEST_REF_MAX_JSON);
  }
  json_object *root = NULL;
  char why[128];
  int got = attest_json_strict(json, len, 6, &root, why, sizeof(why));
  if (got < 0) {
    return ROT_ERROR_INTERNAL;
  }
  rot_error_t err = got == 0 ? decode_obj(root, out, detail, cap)
                             : badp(detail, cap, "%s", why);
  json_object_put(root);
  if (err != ROT_OK) {
    memset(out, 0, sizeof(*out));
  }
  return err;
}
