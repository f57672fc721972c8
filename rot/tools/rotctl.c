/*
 * rotctl: the operator's view of the root of trust.
 *
 * Keys, signing, verification, inspection and the (file-backed) OTP fuses.
 * Every command is one row of a table; each parses its own options with
 * getopt_long. Exit status: 0 success, 1 a check or I/O failed, 2 the
 * command line was wrong. A failure prints exactly one line on stderr:
 *
 *   rotctl: <what>: <reason>
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
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
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"
#include "rot_host/keydir.h"
#include "rot_host/mbox_client.h"
#include "rot_host/parse.h"
#include "rotctl_mbox.h"

#define ROTCTL_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Largest file that can be a valid image; anything bigger is refused
 * before it is read. */
#define MAX_IMAGE_FILE                                                 \
  ((size_t)ROT_IMAGE_HEADER_SIZE + ROT_MANIFEST_MAX_SIZE +              \
   ROT_IMAGE_MAX_PAYLOAD + ROT_IMAGE_SIG_SIZE)

/* ---- the command table ---------------------------------------------------- */

typedef struct command command_t;

struct command {
  const char *name;  /* word on the command line */
  int (*run)(const command_t *cmd, int argc, char **argv);
  const char *args;  /* synopsis after the name */
  const char *summary;
  const char *help;  /* option details, or NULL */
  const command_t *subs; /* sub-commands (a group), NULL-name terminated */
  const char *full;  /* name as shown in messages ("otp show") */
  int (*daemon)(int argc, char **argv); /* commands served by rotd */
};

/* ---- messages --------------------------------------------------------------- */

static void vsay(const char *what, const char *obj, const char *fmt,
                 va_list ap) {
  fputs("rotctl: ", stderr);
  fputs(what, stderr);
  if (obj != NULL) {
    fprintf(stderr, " %s", obj);
  }
  fputs(": ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

/* A failed check or I/O: "rotctl: <what> <obj>: <reason>", exit 1. */
__attribute__((format(printf, 3, 4))) static int fail(const char *what,
                                                      const char *obj,
                                                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(what, obj, fmt, ap);
  va_end(ap);
  return EXIT_FAIL;
}

/* A failure the core reported: its symbolic name and its reason. */
static int fail_rot(const char *what, const char *obj, const char *ctx,
                    rot_error_t err) {
  return fail(what, obj, "%s%s%s (%s)", ctx != NULL ? ctx : "",
              ctx != NULL ? ": " : "", rot_error_name(err),
              rot_error_str(err));
}

/* A wrong command line: one line with a pointer to --help, exit 2. */
__attribute__((format(printf, 2, 3))) static int usage_error(
    const command_t *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "rotctl: %s: ", cmd->full);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (try 'rotctl %s --help')\n", cmd->full);
  return EXIT_USAGE;
}

static void print_help(const command_t *cmd, FILE *f) {
  fprintf(f, "usage: rotctl %s %s\n\n%s\n", cmd->full, cmd->args,
          cmd->summary);
  if (cmd->subs != NULL) {
    fputs("\ncommands:\n", f);
    for (const command_t *s = cmd->subs; s->name != NULL; s++) {
      fprintf(f, "  %-10s %s\n", s->name, s->summary);
    }
  }
  if (cmd->help != NULL) {
    fprintf(f, "\n%s", cmd->help);
  }
}

/* getopt_long reported '?' or ':'; name the option at fault. */
static int bad_option(const command_t *cmd, int c, int argc, char **argv) {
  int at = optind - 1;
  if (at < 1) {
    at = 1;
  }
  if (at >= argc) {
    at = argc - 1;
  }
  const char *text = at >= 1 ? argv[at] : "?";
  if (c == ':') {
    return usage_error(cmd, "option '%s' needs a value", text);
  }
  if (optopt > 0 && optopt < 256) {
    return usage_error(cmd, "unknown option '-%c'", optopt);
  }
  if (optopt >= 256) {
    return usage_error(cmd, "option '%s' takes no value", text);
  }
  return usage_error(cmd, "unknown option '%s'", text);
}

/* Start a fresh getopt_long scan (glibc re-initialises on optind = 0). */
static void getopt_reset(void) {
  optind = 0;
  opterr = 0;
}

/* ---- strict argument parsing --------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_u32_opt(const command_t *cmd, const char *opt, const char *s,
                         uint32_t max, uint32_t *out) {
  uint64_t v;
  if (rot_parse_uint(s, ROT_PARSE_DEC_OR_HEX, max, &v) != ROT_OK) {
    return usage_error(cmd, "%s: expected a number from 0 to %" PRIu32
                            ", got '%s'", opt, max, s);
  }
  *out = (uint32_t)v;
  return EXIT_OK;
}

static int parse_u64_opt(const command_t *cmd, const char *opt, const char *s,
                         uint64_t *out) {
  if (rot_parse_uint(s, ROT_PARSE_DEC_OR_HEX, UINT64_MAX, out) != ROT_OK) {
    return usage_error(cmd, "%s: expected a decimal or 0x-hex 64-bit number, "
                            "got '%s'", opt, s);
  }
  return EXIT_OK;
}

/* "X.Y.Z", each a decimal 0..65535. */
static int parse_version(const char *s, uint16_t v[3]) {
  const char *p = s;
  for (int i = 0; i < 3; i++) {
    uint32_t n = 0;
    int digits = 0;
    while (is_digit(*p)) {
      n = n * 10u + (uint32_t)(*p - '0');
      if (++digits > 5 || n > 0xffffu) {
        return -1;
      }
      p++;
    }
    if (digits == 0 || *p != (i < 2 ? '.' : '\0')) {
      return -1;
    }
    v[i] = (uint16_t)n;
    if (i < 2) {
      p++;
    }
  }
  return 0;
}

static int parse_type_opt(const command_t *cmd, const char *s, uint32_t *out) {
  uint32_t t = rot_image_type_from_name(s);
  if (t == 0) {
    return usage_error(cmd, "--type: unknown image type '%s' (one of: rot, "
                            "opensbi, hypervisor, dtb, recovery)", s);
  }
  *out = t;
  return EXIT_OK;
}

/* ---- output helpers -------------------------------------------------------- */

static void put_hex(FILE *f, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "%02x", p[i]);
  }
}

static void type_list(uint32_t mask, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    if ((mask & (1u << t)) != 0) {
      int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                       rot_image_type_name(t));
      if (n < 0 || (size_t)n >= cap - used) {
        return;
      }
      used += (size_t)n;
    }
  }
  if (used == 0) {
    snprintf(out, cap, "none");
  }
}

static const char *type_name_or(uint32_t t) {
  const char *n = rot_image_type_name(t);
  return n != NULL ? n : "unknown";
}

/*
 * A small JSON writer: enough for flat records and nested objects and
 * arrays, with proper string escaping (paths come from the user).
 */
typedef struct json {
  FILE *f;
  int depth;
  int need_comma;
} json_t;

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\') {
      fprintf(f, "\\%c", *p);
    } else if (*p < 0x20 || *p == 0x7f) {
      fprintf(f, "\\u%04x", *p);
    } else {
      fputc(*p, f);
    }
  }
  fputc('"', f);
}

static void json_key(json_t *j, const char *key) {
  if (j->need_comma) {
    fputc(',', j->f);
  }
  if (j->depth > 0) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) {
      fputs("  ", j->f);
    }
  }
  if (key != NULL) {
    json_string(j->f, key);
    fputs(": ", j->f);
  }
  j->need_comma = 1;
}

static void json_open(json_t *j, const char *key, char brace) {
  json_key(j, key);
  fputc(brace, j->f);
  j->depth++;
  j->need_comma = 0;
}

static void json_close(json_t *j, char brace) {
  int empty = !j->need_comma;
  j->depth--;
  if (!empty) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) {
      fputs("  ", j->f);
    }
  }
  fputc(brace, j->f);
  j->need_comma = 1;
  if (j->depth == 0) {
    fputc('\n', j->f);
  }
}

static void json_str(json_t *j, const char *key, const char *v) {
  json_key(j, key);
  if (v == NULL) {
    fputs("null", j->f);
  } else {
    json_string(j->f, v);
  }
}

static void json_u64(json_t *j, const char *key, uint64_t v) {
  json_key(j, key);
  fprintf(j->f, "%" PRIu64, v);
}

static void json_bool(json_t *j, const char *key, int v) {
  json_key(j, key);
  fputs(v ? "true" : "false", j->f);
}

static void json_hex(json_t *j, const char *key, const uint8_t *p, size_t n) {
  json_key(j, key);
  fputc('"', j->f);
  put_hex(j->f, p, n);
  fputc('"', j->f);
}

/* Addresses as hex strings: readable, and exact beyond 2^53. */
static void json_addr(json_t *j, const char *key, uint64_t v) {
  json_key(j, key);
  fprintf(j->f, "\"0x%" PRIx64 "\"", v);
}

/* ---- shared steps ------------------------------------------------------------ */

static int read_image(const char *what, const char *path, uint8_t **buf,
                      size_t *len) {
  rot_error_t err = rot_file_read(path, MAX_IMAGE_FILE, buf, len);
  if (err != ROT_OK) {
    return fail_rot(what, path, "cannot read", err);
  }
  return EXIT_OK;
}

/* Names the key directory file a keydir call tripped on. */
static int fail_keydir(const char *what, const char *obj, const char *dir,
                       const rot_keydir_t *kd, rot_error_t err) {
  char ctx[4200];
  snprintf(ctx, sizeof(ctx), "keys %s%s%s", dir, kd->bad_file[0] ? "/" : "",
           kd->bad_file);
  return fail_rot(what, obj, ctx, err);
}

/* An OTP file open to others holds a device secret that may have leaked:
 * refuse it with the fix, never chmod it behind the operator's back. */
static int fail_otp_private(const char *what, const char *path,
                            unsigned mode) {
  char advice[4400];
  return fail(what, path, "%s (%s)",
              rot_file_private_advice(advice, sizeof(advice), path, mode),
              rot_error_name(ROT_ERROR_IO_PERMISSIONS));
}

static int open_otp(const char *what, const char *path, int create,
                    rot_otp_file_t *otp) {
  rot_error_t err = rot_otp_file_open(otp, path, create);
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_otp_private(what, path, otp->mode);
  }
  if (err != ROT_OK) {
    return fail_rot(what, path, "cannot open OTP", err);
  }
  return EXIT_OK;
}

/*
 * The fuses as an operator sees them. Reads everything except the unique
 * device secret, which never leaves the OTP through this tool.
 */
typedef struct otp_view {
  int provisioned;
  rot_policy_t policy; /* floors and revocations valid even when blank */
  uint32_t uds_word;
} otp_view_t;

static rot_error_t otp_read_view(const rot_otp_port_t *p, otp_view_t *v) {
  uint8_t raw[ROT_OTP_SIZE];
  memset(raw, 0, sizeof(raw));
  memset(v, 0, sizeof(*v));
  ROT_TRY(p->read(p, 0, raw, ROT_OTP_OFF_UDS));
  ROT_TRY(p->read(p, ROT_OTP_OFF_UDS_WRITTEN, raw + ROT_OTP_OFF_UDS_WRITTEN,
                  4));
  v->uds_word = rot_ld32(raw + ROT_OTP_OFF_UDS_WRITTEN);
  rot_error_t err = rot_otp_decode(raw, &v->policy);
  if (err == ROT_OK) {
    v->provisioned = 1;
    return ROT_OK;
  }
  if (err != ROT_ERROR_OTP_NOT_PROVISIONED) {
    return err;
  }
  /* Blank: no root, but revocations and floors can already be burnt. */
  memset(&v->policy, 0, sizeof(v->policy));
  v->policy.lifecycle = ROT_LIFECYCLE_BLANK;
  v->policy.revoked_keys = rot_ld32(raw + ROT_OTP_OFF_REVOKED);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    ROT_TRY(rot_otp_thermo_decode(
        raw + ROT_OTP_OFF_FLOORS + t * ROT_OTP_FLOOR_BYTES, ROT_OTP_FLOOR_BYTES,
        &v->policy.svn_floor[t]));
  }
  return ROT_OK;
}

static const char *uds_state(uint32_t word) {
  return word == ROT_OTP_UDS_WRITTEN ? "written"
         : word == 0                 ? "not written"
                                     : "invalid";
}

/* ---- keygen ------------------------------------------------------------------- */

enum {
  OPT_OUT = 256,
  OPT_FORCE,
  OPT_KEYS,
  OPT_TYPE,
  OPT_SVN,
  OPT_VERSION,
  OPT_LOAD_ADDR,
  OPT_ENTRY,
  OPT_KEY_INDEX,
  OPT_DEV_ONLY,
  OPT_OTP,
  OPT_MIN_SVN,
  OPT_JSON,
};

/*
 * The command line of a command that takes --json, --help and one operand
 * (what names it in the error). Returns -1 to go on, with *json and
 * *operand set, or an exit status: the help was printed, or the command
 * line is wrong.
 */
static int parse_json_operand(const command_t *cmd, int argc, char **argv,
                              const char *what, int *json,
                              const char **operand) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, OPT_JSON},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  getopt_reset();
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'h':
        print_help(cmd, stdout);
        return EXIT_OK;
      case OPT_JSON:
        *json = 1;
        break;
      default:
        return bad_option(cmd, c, argc, argv);
    }
  }
  if (argc - optind != 1) {
    return usage_error(cmd, "expected one %s, got %d arguments", what,
                       argc - optind);
  }
  *operand = argv[optind];
  return -1;
}

static int cmd_keygen(const command_t *cmd, int argc, char **argv) {
  static const struct option opts[] = {
      {"out", required_argument, NULL, OPT_OUT},
      {"force", no_argument, NULL, OPT_FORCE},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *dir = NULL;
  int force = 0;
  int c;
  getopt_reset();
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'h':
        print_help(cmd, stdout);
        return EXIT_OK;
      case OPT_OUT:
        dir = optarg;
        break;
      case OPT_FORCE:
        force = 1;
        break;
      default:
        return bad_option(cmd, c, argc, argv);
    }
  }
  if (dir == NULL || dir[0] == '\0') {
    return usage_error(cmd, "--out DIR is required");
  }
  if (optind != argc) {
    return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
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

static int cmd_sign(const command_t *cmd, int argc, char **argv) {
  static const struct option opts[] = {
      {"keys", required_argument, NULL, OPT_KEYS},
      {"type", required_argument, NULL, OPT_TYPE},
      {"svn", required_argument, NULL, OPT_SVN},
      {"version", required_argument, NULL, OPT_VERSION},
      {"load-addr", required_argument, NULL, OPT_LOAD_ADDR},
      {"entry", required_argument, NULL, OPT_ENTRY},
      {"key-index", required_argument, NULL, OPT_KEY_INDEX},
      {"dev-only", no_argument, NULL, OPT_DEV_ONLY},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *keys = NULL;
  const char *version = NULL;
  uint32_t type = 0, svn = 0, key_index = ROT_KEYDIR_DEFAULT_KEY_INDEX;
  int have_svn = 0, have_load = 0, have_entry = 0, dev_only = 0;
  uint64_t load_addr = 0, entry = 0;
  uint16_t ver[3] = {0, 0, 0};
  int c, rc;
  getopt_reset();
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    rc = EXIT_OK;
    switch (c) {
      case 'h':
        print_help(cmd, stdout);
        return EXIT_OK;
      case OPT_KEYS:
        keys = optarg;
        break;
      case OPT_TYPE:
        rc = parse_type_opt(cmd, optarg, &type);
        break;
      case OPT_SVN:
        rc = parse_u32_opt(cmd, "--svn", optarg, ROT_SVN_MAX, &svn);
        have_svn = 1;
        break;
      case OPT_VERSION:
        version = optarg;
        if (parse_version(optarg, ver) != 0) {
          rc = usage_error(cmd, "--version: expected X.Y.Z (each 0..65535), "
                                "got '%s'", optarg);
        }
        break;
      case OPT_LOAD_ADDR:
        rc = parse_u64_opt(cmd, "--load-addr", optarg, &load_addr);
        have_load = 1;
        break;
      case OPT_ENTRY:
        rc = parse_u64_opt(cmd, "--entry", optarg, &entry);
        have_entry = 1;
        break;
      case OPT_KEY_INDEX:
        rc = parse_u32_opt(cmd, "--key-index", optarg, ROT_MAX_KEY_INDEX - 1u,
                           &key_index);
        break;
      case OPT_DEV_ONLY:
        dev_only = 1;
        break;
      default:
        return bad_option(cmd, c, argc, argv);
    }
    if (rc != EXIT_OK) {
      return rc;
    }
  }
  if (keys == NULL || keys[0] == '\0') {
    return usage_error(cmd, "--keys DIR is required");
  }
  if (type == 0) {
    return usage_error(cmd, "--type TYPE is required");
  }
  if (!have_svn) {
    return usage_error(cmd, "--svn N is required");
  }
  if (version == NULL) {
    return usage_error(cmd, "--version X.Y.Z is required");
  }
  if (argc - optind != 2) {
    return usage_error(cmd, "expected IN and OUT, got %d argument%s",
                       argc - optind, argc - optind == 1 ? "" : "s");
  }
  const char *in = argv[optind];
  const char *out = argv[optind + 1];

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
  /* The chip refuses at BEGIN an image larger than its type's slot: say
   * so now rather than hand out an image no update can install. */
  uint32_t slot_cap = rot_flash_image_capacity(&rot_flash_layout_default, type);
  if (slot_cap != 0 && cap > slot_cap) {
    rot_keydir_wipe(&kd);
    free(payload);
    return fail(cmd->full, out,
                "image of %zu bytes does not fit a %s slot (%u bytes in the "
                "partition table)",
                cap, rot_image_type_name(type), slot_cap);
  }
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
    json_t j = {stdout, 0, 0};
    json_open(&j, NULL, '{');
    json_str(&j, "image", o->image);
    json_bool(&j, "ok", 0);
    json_str(&j, "stage", stage);
    json_str(&j, "error", rot_error_name(err));
    json_str(&j, "reason", rot_error_str(err));
    json_close(&j, '}');
  }
  return fail_rot(o->what, o->image, ctx, err);
}

static int cmd_verify(const command_t *cmd, int argc, char **argv) {
  static const struct option opts[] = {
      {"keys", required_argument, NULL, OPT_KEYS},
      {"otp", required_argument, NULL, OPT_OTP},
      {"min-svn", required_argument, NULL, OPT_MIN_SVN},
      {"type", required_argument, NULL, OPT_TYPE},
      {"json", no_argument, NULL, OPT_JSON},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *keys = NULL;
  const char *otp_path = NULL;
  uint32_t min_svn = 0, expected = ROT_IMAGE_TYPE_ANY;
  int have_min = 0, json = 0;
  int c, rc;
  getopt_reset();
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    rc = EXIT_OK;
    switch (c) {
      case 'h':
        print_help(cmd, stdout);
        return EXIT_OK;
      case OPT_KEYS:
        keys = optarg;
        break;
      case OPT_OTP:
        otp_path = optarg;
        break;
      case OPT_MIN_SVN:
        rc = parse_u32_opt(cmd, "--min-svn", optarg, ROT_SVN_MAX, &min_svn);
        have_min = 1;
        break;
      case OPT_TYPE:
        rc = parse_type_opt(cmd, optarg, &expected);
        break;
      case OPT_JSON:
        json = 1;
        break;
      default:
        return bad_option(cmd, c, argc, argv);
    }
    if (rc != EXIT_OK) {
      return rc;
    }
  }
  if ((keys == NULL) == (otp_path == NULL)) {
    return usage_error(cmd, "give exactly one of --keys DIR or --otp FILE");
  }
  if ((keys != NULL && keys[0] == '\0') ||
      (otp_path != NULL && otp_path[0] == '\0')) {
    return usage_error(cmd, "empty --keys or --otp path");
  }
  if (argc - optind != 1) {
    return usage_error(cmd, "expected one IMAGE, got %d arguments",
                       argc - optind);
  }
  verify_out_t o = {cmd->full, argv[optind], json};
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
    json_t j = {stdout, 0, 0};
    json_open(&j, NULL, '{');
    json_str(&j, "image", o.image);
    json_bool(&j, "ok", 1);
    json_str(&j, "policy", keys != NULL ? "keys" : "otp");
    json_str(&j, "type", type_name_or(v.image_type));
    char ver[24];
    snprintf(ver, sizeof(ver), "%u.%u.%u", v.ver_major, v.ver_minor,
             v.ver_patch);
    json_str(&j, "version", ver);
    json_u64(&j, "svn", v.svn);
    json_u64(&j, "key_index", v.key_index);
    json_addr(&j, "load_addr", v.load_addr);
    json_addr(&j, "entry_point", v.entry_point);
    json_u64(&j, "payload_len", v.payload_len);
    json_hex(&j, "payload_sha384", v.payload_digest, ROT_SHA384_LEN);
    json_hex(&j, "signed_sha384", v.signed_digest, ROT_SHA384_LEN);
    json_close(&j, '}');
  } else {
    printf("%s: OK type=%s version=%u.%u.%u svn=%" PRIu32 " key=%" PRIu32
           " sha384=",
           o.image, type_name_or(v.image_type), v.ver_major, v.ver_minor,
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
  json_t j = {stdout, 0, 0};
  json_open(&j, NULL, '{');
  json_str(&j, "image", path);
  json_str(&j, "status", "structure OK, signature not checked");
  json_u64(&j, "total_len", v->total_len);
  json_open(&j, "header", '{');
  snprintf(buf, sizeof(buf), "0x%08" PRIx32, h->magic);
  json_str(&j, "magic", buf);
  json_u64(&j, "format_version", h->format_version);
  json_u64(&j, "header_size", h->header_size);
  json_u64(&j, "image_type", h->image_type);
  json_str(&j, "image_type_name", type_name_or(h->image_type));
  snprintf(buf, sizeof(buf), "0x%08" PRIx32, h->flags);
  json_str(&j, "flags", buf);
  json_bool(&j, "dev_only", (h->flags & ROT_IMAGE_FLAG_DEV_ONLY) != 0);
  snprintf(buf, sizeof(buf), "%u.%u.%u", h->ver_major, h->ver_minor,
           h->ver_patch);
  json_str(&j, "version", buf);
  json_u64(&j, "svn", h->svn);
  json_u64(&j, "key_index", h->key_index);
  json_addr(&j, "load_addr", h->load_addr);
  json_addr(&j, "entry_point", h->entry_point);
  json_u64(&j, "payload_len", h->payload_len);
  json_u64(&j, "manifest_len", h->manifest_len);
  json_hex(&j, "payload_digest", h->payload_digest, ROT_SHA384_LEN);
  json_close(&j, '}');
  json_open(&j, "manifest", '{');
  snprintf(buf, sizeof(buf), "0x%08" PRIx32, m->head.magic);
  json_str(&j, "magic", buf);
  json_u64(&j, "version", m->head.version);
  json_u64(&j, "key_count", m->head.key_count);
  json_hex(&j, "root_pubkey", m->head.root_pub, ROT_P384_PUBKEY_LEN);
  json_hex(&j, "root_key_hash", root_hash, ROT_SHA384_LEN);
  json_open(&j, "keys", '[');
  for (size_t i = 0; i < m->head.key_count; i++) {
    const rot_manifest_entry_t *k = &m->keys[i];
    json_open(&j, NULL, '{');
    json_u64(&j, "key_index", k->key_index);
    snprintf(buf, sizeof(buf), "0x%08" PRIx32, k->allowed_types);
    json_str(&j, "allowed_types_mask", buf);
    json_open(&j, "allowed_types", '[');
    for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
      if ((k->allowed_types & (1u << t)) != 0) {
        json_str(&j, NULL, rot_image_type_name(t));
      }
    }
    json_close(&j, ']');
    json_hex(&j, "pubkey", k->pub, ROT_P384_PUBKEY_LEN);
    json_hex(&j, "pubkey_sha384", key_hash[i], ROT_SHA384_LEN);
    json_close(&j, '}');
  }
  json_close(&j, ']');
  json_hex(&j, "root_signature", m->root_sig, ROT_P384_SIG_LEN);
  json_close(&j, '}');
  json_open(&j, "payload", '{');
  json_u64(&j, "offset", (uint64_t)ROT_IMAGE_HEADER_SIZE + h->manifest_len);
  json_u64(&j, "len", h->payload_len);
  json_hex(&j, "sha384", payload_sha, ROT_SHA384_LEN);
  json_bool(&j, "digest_matches_header",
            rot_memeq(payload_sha, h->payload_digest, ROT_SHA384_LEN));
  json_close(&j, '}');
  json_hex(&j, "signature", v->signature, ROT_IMAGE_SIG_SIZE);
  json_close(&j, '}');
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
         type_name_or(h->image_type));
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

static int cmd_inspect(const command_t *cmd, int argc, char **argv) {
  int json = 0;
  const char *path = NULL;
  int rc = parse_json_operand(cmd, argc, argv, "IMAGE", &json, &path);
  if (rc >= 0) {
    return rc;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  rc = read_image(cmd->full, path, &buf, &len);
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

/* ---- otp ------------------------------------------------------------------------ */

static int cmd_otp_provision(const command_t *cmd, int argc, char **argv) {
  static const struct option opts[] = {
      {"keys", required_argument, NULL, OPT_KEYS},
      {"otp", required_argument, NULL, OPT_OTP},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *keys = NULL;
  const char *path = NULL;
  int c;
  getopt_reset();
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'h':
        print_help(cmd, stdout);
        return EXIT_OK;
      case OPT_KEYS:
        keys = optarg;
        break;
      case OPT_OTP:
        path = optarg;
        break;
      default:
        return bad_option(cmd, c, argc, argv);
    }
  }
  if (keys == NULL || keys[0] == '\0') {
    return usage_error(cmd, "--keys DIR is required");
  }
  if (path == NULL || path[0] == '\0') {
    return usage_error(cmd, "--otp FILE is required");
  }
  if (optind != argc) {
    return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  }
  rot_keydir_t kd;
  rot_error_t err = rot_keydir_load_public(keys, &kd);
  if (err != ROT_OK) {
    return fail_keydir(cmd->full, path, keys, &kd, err);
  }
  uint8_t root_hash[ROT_SHA384_LEN];
  memcpy(root_hash, kd.policy.root_key_hash, sizeof(root_hash));
  rot_keydir_wipe(&kd);

  rot_otp_file_t otp;
  int rc = open_otp(cmd->full, path, 1, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  err = rot_otp_provision(&otp.port, root_hash);
  if (err == ROT_OK) {
    /* The device's own secret, for the DICE identity: random, fused
     * once, never printed. */
    uint8_t uds[ROT_OTP_UDS_LEN];
    const rot_crypto_t *crypto = rot_host_crypto();
    err = crypto == NULL ? ROT_ERROR_CRYPTO_RNG
                         : crypto->rng(crypto, uds, sizeof(uds));
    if (err == ROT_OK) {
      err = rot_otp_write_uds(&otp.port, uds);
    }
    rot_wipe(uds, sizeof(uds));
  }
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot provision", err);
  }
  printf("%s: provisioned lifecycle=dev uds=written root_key_hash=", path);
  put_hex(stdout, root_hash, sizeof(root_hash));
  putchar('\n');
  return EXIT_OK;
}

static int cmd_otp_show(const command_t *cmd, int argc, char **argv) {
  int json = 0;
  const char *path = NULL;
  int rc = parse_json_operand(cmd, argc, argv, "OTP FILE", &json, &path);
  if (rc >= 0) {
    return rc;
  }
  rot_otp_file_t otp;
  rc = open_otp(cmd->full, path, 0, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  otp_view_t v;
  rot_error_t err = otp_read_view(&otp.port, &v);
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot decode", err);
  }
  const rot_policy_t *p = &v.policy;
  if (json) {
    json_t j = {stdout, 0, 0};
    json_open(&j, NULL, '{');
    json_str(&j, "otp", path);
    json_bool(&j, "provisioned", v.provisioned);
    json_str(&j, "lifecycle", rot_lifecycle_name(p->lifecycle));
    if (v.provisioned) {
      json_hex(&j, "root_key_hash", p->root_key_hash, ROT_SHA384_LEN);
    } else {
      json_str(&j, "root_key_hash", NULL);
    }
    json_open(&j, "revoked_keys", '[');
    for (uint32_t i = 0; i < ROT_MAX_KEY_INDEX; i++) {
      if ((p->revoked_keys & (1u << i)) != 0) {
        json_u64(&j, NULL, i);
      }
    }
    json_close(&j, ']');
    json_open(&j, "svn_floors", '{');
    for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
      json_u64(&j, rot_image_type_name(t), p->svn_floor[t]);
    }
    json_close(&j, '}');
    json_str(&j, "uds", uds_state(v.uds_word));
    json_close(&j, '}');
    return EXIT_OK;
  }
  printf("%s:\n", path);
  printf("  lifecycle        %s%s\n", rot_lifecycle_name(p->lifecycle),
         v.provisioned ? "" : " (not provisioned)");
  printf("  root_key_hash    ");
  if (v.provisioned) {
    put_hex(stdout, p->root_key_hash, ROT_SHA384_LEN);
  } else {
    fputs("none", stdout);
  }
  printf("\n  revoked_keys     ");
  int any = 0;
  for (uint32_t i = 0; i < ROT_MAX_KEY_INDEX; i++) {
    if ((p->revoked_keys & (1u << i)) != 0) {
      printf("%s%" PRIu32, any ? ", " : "", i);
      any = 1;
    }
  }
  printf("%s\n  svn_floor       ", any ? "" : "none");
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    printf(" %s=%" PRIu32, rot_image_type_name(t), p->svn_floor[t]);
  }
  printf("\n  uds              %s\n", uds_state(v.uds_word));
  return EXIT_OK;
}

static int cmd_otp_revoke(const command_t *cmd, int argc, char **argv) {
  static const struct option opts[] = {
      {"otp", required_argument, NULL, OPT_OTP},
      {"key-index", required_argument, NULL, OPT_KEY_INDEX},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *path = NULL;
  uint32_t index = 0;
  int have_index = 0;
  int c, rc;
  getopt_reset();
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    rc = EXIT_OK;
    switch (c) {
      case 'h':
        print_help(cmd, stdout);
        return EXIT_OK;
      case OPT_OTP:
        path = optarg;
        break;
      case OPT_KEY_INDEX:
        rc = parse_u32_opt(cmd, "--key-index", optarg, ROT_MAX_KEY_INDEX - 1u,
                           &index);
        have_index = 1;
        break;
      default:
        return bad_option(cmd, c, argc, argv);
    }
    if (rc != EXIT_OK) {
      return rc;
    }
  }
  if (path == NULL || path[0] == '\0') {
    return usage_error(cmd, "--otp FILE is required");
  }
  if (!have_index) {
    return usage_error(cmd, "--key-index N is required");
  }
  if (optind != argc) {
    return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  }
  rot_otp_file_t otp;
  rc = open_otp(cmd->full, path, 0, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  otp_view_t v;
  rot_error_t err = otp_read_view(&otp.port, &v);
  int already = err == ROT_OK && (v.policy.revoked_keys & (1u << index)) != 0;
  if (err == ROT_OK && !already) {
    err = rot_otp_revoke_key(&otp.port, index);
  }
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot revoke", err);
  }
  printf("%s: key %" PRIu32 " %s (revocation is permanent)\n", path, index,
         already ? "was already revoked" : "revoked");
  return EXIT_OK;
}

static int cmd_otp_set_floor(const command_t *cmd, int argc, char **argv) {
  static const struct option opts[] = {
      {"otp", required_argument, NULL, OPT_OTP},
      {"type", required_argument, NULL, OPT_TYPE},
      {"svn", required_argument, NULL, OPT_SVN},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *path = NULL;
  uint32_t type = 0, svn = 0;
  int have_svn = 0;
  int c, rc;
  getopt_reset();
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    rc = EXIT_OK;
    switch (c) {
      case 'h':
        print_help(cmd, stdout);
        return EXIT_OK;
      case OPT_OTP:
        path = optarg;
        break;
      case OPT_TYPE:
        rc = parse_type_opt(cmd, optarg, &type);
        break;
      case OPT_SVN:
        rc = parse_u32_opt(cmd, "--svn", optarg, ROT_SVN_MAX, &svn);
        have_svn = 1;
        break;
      default:
        return bad_option(cmd, c, argc, argv);
    }
    if (rc != EXIT_OK) {
      return rc;
    }
  }
  if (path == NULL || path[0] == '\0') {
    return usage_error(cmd, "--otp FILE is required");
  }
  if (type == 0) {
    return usage_error(cmd, "--type TYPE is required");
  }
  if (!have_svn) {
    return usage_error(cmd, "--svn N is required");
  }
  if (optind != argc) {
    return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  }
  rot_otp_file_t otp;
  rc = open_otp(cmd->full, path, 0, &otp);
  if (rc != EXIT_OK) {
    return rc;
  }
  otp_view_t v;
  rot_error_t err = otp_read_view(&otp.port, &v);
  uint32_t before = err == ROT_OK ? v.policy.svn_floor[type] : 0;
  if (err == ROT_OK && svn > before) {
    err = rot_otp_raise_floor(&otp.port, type, svn);
  }
  rot_otp_file_close(&otp);
  if (err != ROT_OK) {
    return fail_rot(cmd->full, path, "cannot raise floor", err);
  }
  if (svn > before) {
    printf("%s: %s floor raised %" PRIu32 " -> %" PRIu32 "\n", path,
           rot_image_type_name(type), before, svn);
  } else {
    printf("%s: %s floor stays at %" PRIu32 " (floors only rise)\n", path,
           rot_image_type_name(type), before);
  }
  return EXIT_OK;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static int dispatch(const command_t *table, const command_t *group, int argc,
                    char **argv);

static int cmd_group(const command_t *cmd, int argc, char **argv) {
  if (argc < 2) {
    return usage_error(cmd, "missing sub-command");
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    print_help(cmd, stdout);
    return EXIT_OK;
  }
  return dispatch(cmd->subs, cmd, argc - 1, argv + 1);
}

static const command_t kOtpCommands[] = {
    {"provision", cmd_otp_provision, "--keys DIR --otp FILE",
     "Program a blank OTP file (created if missing) with the root key hash "
     "of a key hierarchy; lifecycle becomes dev.",
     "options:\n"
     "  --keys DIR    key hierarchy (made by 'rotctl keygen')\n"
     "  --otp FILE    OTP file; must be blank or missing\n",
     NULL, "otp provision", NULL},
    {"show", cmd_otp_show, "[--json] FILE",
     "Show lifecycle, root key hash, revoked keys, SVN floors and whether "
     "the device secret is written (never the secret itself).",
     "options:\n"
     "  --json        machine-readable output\n",
     NULL, "otp show", NULL},
    {"revoke", cmd_otp_revoke, "--otp FILE --key-index N",
     "Revoke a signing key index for good.",
     "options:\n"
     "  --otp FILE       OTP file\n"
     "  --key-index N    key index, 0..31\n",
     NULL, "otp revoke", NULL},
    {"set-floor", cmd_otp_set_floor, "--otp FILE --type TYPE --svn N",
     "Raise the anti-rollback floor of an image type (never lowers it).",
     "options:\n"
     "  --otp FILE     OTP file\n"
     "  --type TYPE    rot, opensbi, hypervisor, dtb or recovery\n"
     "  --svn N        new floor, 0..256\n",
     NULL, "otp set-floor", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

/* Commands that talk to rotd parse their own options (rotctl_mbox.c). */
static int cmd_daemon(const command_t *cmd, int argc, char **argv) {
  return cmd->daemon(argc, argv);
}

#define DAEMON_CMD(word, NAME, fn)                                           \
  {word, cmd_daemon, ROTCTL_##NAME##_ARGS, ROTCTL_##NAME##_SUMMARY, NULL,   \
   NULL, word, fn}

static const command_t kCommands[] = {
    {"keygen", cmd_keygen, "--out DIR [--force]",
     "Generate a dev key hierarchy: root key, signing key 0 (all image "
     "types) and the root-signed key manifest.",
     "options:\n"
     "  --out DIR    directory (created 0700); private keys are written 0600\n"
     "  --force      replace an existing hierarchy\n",
     NULL, "keygen", NULL},
    {"sign", cmd_sign,
     "--keys DIR --type TYPE --svn N --version X.Y.Z [--load-addr A] "
     "[--entry E] [--key-index I] [--dev-only] IN OUT",
     "Sign payload IN into image OUT.",
     "options:\n"
     "  --keys DIR       key hierarchy\n"
     "  --type TYPE      rot, opensbi, hypervisor, dtb or recovery\n"
     "  --svn N          security version, 0..256\n"
     "  --version X.Y.Z  semantic version\n"
     "  --load-addr A    default: start of the type's region\n"
     "  --entry E        default: the load address (0 for data types)\n"
     "  --key-index I    signing key (sign-I.key.pem), default 0\n"
     "  --dev-only       refuse to boot outside the dev lifecycle\n"
     "Numbers are decimal or 0x-prefixed hex.\n",
     NULL, "sign", NULL},
    {"verify", cmd_verify,
     "(--keys DIR | --otp FILE) [--min-svn N] [--type TYPE] [--json] IMAGE",
     "Verify IMAGE as the chip would: exit 0 and a summary when valid, "
     "otherwise exit 1 and one line naming the check that failed.",
     "options:\n"
     "  --keys DIR     trust the root of this key hierarchy (dev policy)\n"
     "  --otp FILE     use the policy fused in this OTP file\n"
     "  --min-svn N    raise the image type's floor to N for this check\n"
     "  --type TYPE    require this image type\n"
     "  --json         machine-readable verdict on stdout\n",
     NULL, "verify", NULL},
    {"inspect", cmd_inspect, "[--json] IMAGE",
     "Print every header and key manifest field of IMAGE (structure only; "
     "no signature is checked).",
     "options:\n"
     "  --json    machine-readable output\n",
     NULL, "inspect", NULL},
    {"otp", cmd_group, "COMMAND [options]",
     "Read and program the (file-backed) OTP fuses.", NULL, kOtpCommands,
     "otp", NULL},
    DAEMON_CMD("status", STATUS, rotctl_cmd_status),
    DAEMON_CMD("inventory", INVENTORY, rotctl_cmd_inventory),
    DAEMON_CMD("update", UPDATE, rotctl_cmd_update),
    DAEMON_CMD("activate", ACTIVATE, rotctl_cmd_activate),
    DAEMON_CMD("confirm", CONFIRM, rotctl_cmd_confirm),
    DAEMON_CMD("revert", REVERT, rotctl_cmd_revert),
    DAEMON_CMD("boot", BOOT, rotctl_cmd_boot),
    DAEMON_CMD("lock", LOCK, rotctl_cmd_lock),
    DAEMON_CMD("reset", RESET, rotctl_cmd_reset),
    DAEMON_CMD("audit", AUDIT, rotctl_cmd_audit),
    DAEMON_CMD("read-region", READ_REGION, rotctl_cmd_read_region),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static int dispatch(const command_t *table, const command_t *group, int argc,
                    char **argv) {
  const char *prefix = group != NULL ? group->full : NULL;
  for (const command_t *cmd = table; cmd->name != NULL; cmd++) {
    if (strcmp(argv[0], cmd->name) == 0) {
      return cmd->run(cmd, argc, argv);
    }
  }
  fprintf(stderr, "rotctl: %s%sunknown command '%s' (try 'rotctl %s%s--help')\n",
          prefix != NULL ? prefix : "", prefix != NULL ? ": " : "", argv[0],
          prefix != NULL ? prefix : "", prefix != NULL ? " " : "");
  return EXIT_USAGE;
}

static void main_help(FILE *f) {
  fputs("usage: rotctl [--socket PATH] COMMAND [options]\n"
        "       rotctl COMMAND --help\n\n"
        "Operator tool for the root of trust: keys, signed images, OTP, and\n"
        "the chip daemon (rotd): inventory, updates, boot decision, audit.\n\n"
        "commands:\n",
        f);
  for (const command_t *cmd = kCommands; cmd->name != NULL; cmd++) {
    fprintf(f, "  %-10s %s\n", cmd->name, cmd->args);
    if (cmd->subs != NULL) {
      for (const command_t *s = cmd->subs; s->name != NULL; s++) {
        fprintf(f, "    %-12s %s\n", s->name, s->args);
      }
    }
  }
  fputs("\nenvironment:\n"
        "  ROT_SOCKET      rotd's socket when --socket is not given (default\n"
        "                  run/rotd.sock; a relative path is made absolute\n"
        "                  at start-up)\n"
        "  ROT_DAEMON_UID  rotd's uid when rotd runs as neither root nor you;\n"
        "                  a socket served by anyone else is refused\n"
        "\nexit status: 0 success, 1 verification or I/O failure, "
        "2 usage error\n",
        f);
}

int main(int argc, char **argv) {
  int rc;
  /* `rotctl --socket PATH COMMAND ...` names rotd's socket for every
   * daemon command, as ROT_SOCKET does; a command's own --socket wins. */
  while (argc >= 3 && (strcmp(argv[1], "--socket") == 0 ||
                       strncmp(argv[1], "--socket=", 9) == 0)) {
    int eq = argv[1][8] == '=';
    const char *path = eq ? argv[1] + 9 : argv[2];
    if (path[0] == '\0' || setenv("ROT_SOCKET", path, 1) != 0) {
      fputs("rotctl: --socket needs a path (try 'rotctl --help')\n", stderr);
      return EXIT_USAGE;
    }
    argc -= eq ? 1 : 2;
    argv += eq ? 1 : 2;
  }
  /* Pin rotd's socket to an absolute path now, before anything runs. */
  (void)rot_mbox_default_socket();
  if (argc < 2) {
    fputs("rotctl: no command given (try 'rotctl --help')\n", stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    main_help(stdout);
    rc = EXIT_OK;
  } else if (strcmp(argv[1], "--version") == 0) {
    printf("rotctl %s (image format v%u)\n", ROTCTL_VERSION,
           ROT_IMAGE_FORMAT_VERSION);
    rc = EXIT_OK;
  } else if (argv[1][0] == '-') {
    fprintf(stderr, "rotctl: unknown option '%s' (try 'rotctl --help')\n",
            argv[1]);
    return EXIT_USAGE;
  } else {
    rc = dispatch(kCommands, NULL, argc - 1, argv + 1);
  }
  /* A full disk or closed pipe must not pass for success. */
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fputs("rotctl: cannot write to stdout\n", stderr);
    return EXIT_FAIL;
  }
  return rc;
}
