/*
 * rotctl commands that talk to rotd: status, inventory, update, activate,
 * confirm, revert, boot, lock, audit, read-region.
 *
 * Each command is a spec (name, allowed options, operands, help) parsed
 * by one option loop, then one or a few mailbox calls. Every failure is
 * one line, "rotctl: <cmd>: <reason>", naming the chip's status code when
 * the chip refused.
 */
#include "rotctl_mbox.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rot/audit.h"
#include "rot/error.h"
#include "rot/flash.h"
#include "rot/image.h"
#include "rot/mailbox.h"
#include "rot/policy.h"
#include "rot/update.h"
#include "rot_host/file.h"
#include "rot_host/mbox_client.h"
#include "rot_host/parse.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };


/* Anything larger cannot be a valid image; refused before reading. */
#define MAX_IMAGE_FILE                                                 \
  ((size_t)ROT_IMAGE_HEADER_SIZE + ROT_MANIFEST_MAX_SIZE +              \
   ROT_IMAGE_MAX_PAYLOAD + ROT_IMAGE_SIG_SIZE)

/* ---- messages ------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int fail(const char *cmd,
                                                      const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "rotctl: %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return EXIT_FAIL;
}

static int fail_rot(const char *cmd, const char *what, rot_error_t err) {
  return fail(cmd, "%s: %s (%s)", what, rot_error_name(err),
              rot_error_str(err));
}

__attribute__((format(printf, 2, 3))) static int usage_error(const char *cmd,
                                                             const char *fmt,
                                                             ...) {
  va_list ap;
  fprintf(stderr, "rotctl: %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (try 'rotctl %s --help')\n", cmd);
  return EXIT_USAGE;
}

/* ---- a small JSON writer (stdout) --------------------------------------------- */

typedef struct json {
  int depth;
  int first[8];
} json_t;

static void json_indent(const json_t *j) {
  for (int i = 0; i < j->depth; i++) {
    fputs("  ", stdout);
  }
}

static void json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\') {
      printf("\\%c", *p);
    } else if (*p < 0x20 || *p >= 0x7f) {
      printf("\\u%04x", *p);
    } else {
      putchar(*p);
    }
  }
  putchar('"');
}

/* Separator, newline and indent before the next member; then its key. */
static void json_key(json_t *j, const char *key) {
  if (j->depth > 0) {
    if (!j->first[j->depth]) {
      putchar(',');
    }
    j->first[j->depth] = 0;
    putchar('\n');
    json_indent(j);
  }
  if (key != NULL) {
    json_string(key);
    fputs(": ", stdout);
  }
}

static void json_open(json_t *j, const char *key, char brace) {
  json_key(j, key);
  putchar(brace);
  j->depth++;
  j->first[j->depth] = 1;
}

static void json_close(json_t *j, char brace) {
  int empty = j->first[j->depth];
  j->depth--;
  if (!empty) {
    putchar('\n');
    json_indent(j);
  }
  putchar(brace);
  if (j->depth == 0) {
    putchar('\n');
  }
}

static void json_str(json_t *j, const char *key, const char *v) {
  json_key(j, key);
  if (v == NULL) {
    fputs("null", stdout);
  } else {
    json_string(v);
  }
}

static void json_u64(json_t *j, const char *key, uint64_t v) {
  json_key(j, key);
  printf("%" PRIu64, v);
}

static void json_bool(json_t *j, const char *key, int v) {
  json_key(j, key);
  fputs(v ? "true" : "false", stdout);
}

static void json_hex(json_t *j, const char *key, const uint8_t *p, size_t n) {
  json_key(j, key);
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    printf("%02x", p[i]);
  }
  putchar('"');
}

static void json_err(json_t *j, const char *key, uint32_t err) {
  json_str(j, key, rot_error_name((rot_error_t)err));
}

/* ---- names ------------------------------------------------------------------ */

static const char *type_name(uint32_t t) {
  const char *n = rot_image_type_name(t);
  return n != NULL ? n : "unknown";
}

static const char *slot_name(uint32_t s) {
  return s == ROT_SLOT_A ? "a" : s == ROT_SLOT_B ? "b" : "-";
}

static const char *region_name(uint32_t r) {
  return r < ROT_RGN_COUNT ? rot_flash_layout_default.regions[r].name : "none";
}

static const char *status_word(uint32_t err) {
  return err == (uint32_t)ROT_OK ? "ok" : rot_error_name((rot_error_t)err);
}

static const char *gate_op_name(uint32_t op) {
  switch (op) {
    case ROT_GATE_OP_READ:
      return "read";
    case ROT_GATE_OP_PROGRAM:
      return "program";
    case ROT_GATE_OP_ERASE:
      return "erase";
    case ROT_GATE_OP_LOCK:
      return "lock";
    case ROT_GATE_OP_WINDOW:
      return "window";
    default:
      return "unknown";
  }
}

/* ---- options ------------------------------------------------------------------ */

enum {
  O_JSON = 1u << 0,
  O_TYPE = 1u << 1,
  O_ACTIVATE = 1u << 2,
  O_VERIFY = 1u << 3,
  O_REGION = 1u << 4,
  O_BOOT = 1u << 5,
  O_OFFSET = 1u << 6,
  O_LENGTH = 1u << 7,
  O_OUT = 1u << 8,
};

typedef struct spec {
  const char *name;
  unsigned allowed; /* O_* besides --socket and --help */
  int operands;     /* exact number of operands */
  const char *help;
} spec_t;

typedef struct opts {
  const char *socket;
  int json;
  int has_type;
  uint32_t type;
  int activate;
  int verify;
  const char *region;
  int boot;
  int has_offset;
  uint32_t offset;
  int has_length;
  uint32_t length;
  const char *out;
  char **operands;
} opts_t;

/*
 * Parse argv against spec. Returns -1 to go on, or an exit status (the
 * help was printed, or the command line is wrong).
 */
/* An explicit --socket, made absolute as the default is (see
 * rot_mbox_socket_absolute); one per process, kept as given when the
 * absolute form does not fit a socket address. */
static const char *pin_socket(const char *path) {
  static char abs_path[ROT_MBOX_SOCKET_PATH_MAX];
  return rot_mbox_socket_absolute(path, abs_path, sizeof(abs_path)) == ROT_OK
             ? abs_path
             : path;
}

static int parse_opts(const spec_t *spec, int argc, char **argv, opts_t *o) {
  enum {
    OPT_SOCKET = 256,
    OPT_JSON,
    OPT_TYPE,
    OPT_ACTIVATE,
    OPT_VERIFY,
    OPT_REGION,
    OPT_BOOT,
    OPT_OFFSET,
    OPT_LENGTH,
    OPT_OUT,
  };
  static const struct option kOpts[] = {
      {"socket", required_argument, NULL, OPT_SOCKET},
      {"json", no_argument, NULL, OPT_JSON},
      {"type", required_argument, NULL, OPT_TYPE},
      {"activate", no_argument, NULL, OPT_ACTIVATE},
      {"verify", no_argument, NULL, OPT_VERIFY},
      {"region", required_argument, NULL, OPT_REGION},
      {"boot", no_argument, NULL, OPT_BOOT},
      {"offset", required_argument, NULL, OPT_OFFSET},
      {"length", required_argument, NULL, OPT_LENGTH},
      {"out", required_argument, NULL, OPT_OUT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  /* Which spec bit each long option needs (0: always allowed). */
  static const unsigned kNeeds[] = {
      [OPT_SOCKET - OPT_SOCKET] = 0,
      [OPT_JSON - OPT_SOCKET] = O_JSON,
      [OPT_TYPE - OPT_SOCKET] = O_TYPE,
      [OPT_ACTIVATE - OPT_SOCKET] = O_ACTIVATE,
      [OPT_VERIFY - OPT_SOCKET] = O_VERIFY,
      [OPT_REGION - OPT_SOCKET] = O_REGION,
      [OPT_BOOT - OPT_SOCKET] = O_BOOT,
      [OPT_OFFSET - OPT_SOCKET] = O_OFFSET,
      [OPT_LENGTH - OPT_SOCKET] = O_LENGTH,
      [OPT_OUT - OPT_SOCKET] = O_OUT,
  };
  memset(o, 0, sizeof(*o));
  o->socket = rot_mbox_default_socket();
  optind = 0; /* glibc: a fresh scan */
  opterr = 0;
  uint64_t v;
  int c;
  while ((c = getopt_long(argc, argv, ":h", kOpts, NULL)) != -1) {
    if (c >= OPT_SOCKET && c <= OPT_OUT &&
        (kNeeds[c - OPT_SOCKET] & ~spec->allowed) != 0) {
      return usage_error(spec->name, "unknown option '%s'", argv[optind - 1]);
    }
    switch (c) {
      case 'h':
        fputs(spec->help, stdout);
        return EXIT_OK;
      case OPT_SOCKET:
        if (optarg[0] == '\0') {
          return usage_error(spec->name, "--socket: empty path");
        }
        o->socket = pin_socket(optarg);
        break;
      case OPT_JSON:
        o->json = 1;
        break;
      case OPT_TYPE:
        o->type = rot_image_type_from_name(optarg);
        if (o->type == 0) {
          return usage_error(spec->name,
                             "--type: expected rot, opensbi, hypervisor, dtb "
                             "or recovery, got '%s'",
                             optarg);
        }
        o->has_type = 1;
        break;
      case OPT_ACTIVATE:
        o->activate = 1;
        break;
      case OPT_VERIFY:
        o->verify = 1;
        break;
      case OPT_REGION:
        if (rot_flash_region_by_name(&rot_flash_layout_default, optarg) < 0) {
          return usage_error(spec->name, "--region: no region named '%s'",
                             optarg);
        }
        o->region = optarg;
        break;
      case OPT_BOOT:
        o->boot = 1;
        break;
      case OPT_OFFSET:
        if (rot_parse_uint(optarg, ROT_PARSE_DEC_OR_HEX, UINT32_MAX, &v) !=
            ROT_OK) {
          return usage_error(spec->name, "--offset: expected a number, got '%s'",
                             optarg);
        }
        o->offset = (uint32_t)v;
        o->has_offset = 1;
        break;
      case OPT_LENGTH:
        if (rot_parse_uint(optarg, ROT_PARSE_DEC_OR_HEX, UINT32_MAX, &v) !=
                ROT_OK ||
            v == 0) {
          return usage_error(spec->name,
                             "--length: expected a number above 0, got '%s'",
                             optarg);
        }
        o->length = (uint32_t)v;
        o->has_length = 1;
        break;
      case OPT_OUT:
        o->out = optarg;
        break;
      case ':':
        return usage_error(spec->name, "option '%s' needs a value",
                           argv[optind - 1]);
      default:
        return usage_error(spec->name, "unknown option '%s'", argv[optind - 1]);
    }
  }
  int n = argc - optind;
  if (n < spec->operands) {
    return usage_error(spec->name, "missing operand");
  }
  if (n > spec->operands) {
    return usage_error(spec->name, "unexpected argument '%s'",
                       argv[optind + spec->operands]);
  }
  o->operands = argv + optind;
  return -1;
}

/* ---- talking to rotd -------------------------------------------------------------- */

typedef struct session {
  const char *cmd;
  const char *socket;
  rot_mbox_client_t cl;
} session_t;

static int open_session(session_t *s, const char *cmd, const char *socket) {
  s->cmd = cmd;
  s->socket = socket;
  rot_error_t err = rot_mbox_client_connect(&s->cl, socket, 0);
  if (err == ROT_ERROR_HOST_PEER_UID) {
    return fail(cmd,
                "refusing rotd at %s: it runs as uid %u, not as root or as "
                "you (uid %u); if uid %u is rotd's user, set %s=%u (%s)",
                socket, (unsigned)s->cl.peer_uid, (unsigned)geteuid(),
                (unsigned)s->cl.peer_uid, ROT_MBOX_DAEMON_UID_ENV,
                (unsigned)s->cl.peer_uid, rot_error_name(err));
  }
  const char *uid_env = getenv(ROT_MBOX_DAEMON_UID_ENV);
  if (err == ROT_ERROR_INVALID_ARGUMENT && uid_env != NULL &&
      uid_env[0] != '\0' &&
      rot_parse_uint(uid_env, ROT_PARSE_DEC, ROT_MBOX_UID_UNKNOWN - 1u,
                     &(uint64_t){0}) != ROT_OK) {
    return fail(cmd, "%s=%s: not a user id; set it to rotd's numeric uid "
                "or unset it (%s)",
                ROT_MBOX_DAEMON_UID_ENV, uid_env, rot_error_name(err));
  }
  if (err == ROT_ERROR_MAILBOX_CONNECT) {
    return fail(cmd, "cannot connect to rotd at %s: %s (%s)", socket,
                strerror(s->cl.sys_errno), rot_error_name(err));
  }
  if (err != ROT_OK) {
    return fail(cmd, "cannot connect to rotd at %s: %s (%s)", socket,
                rot_error_str(err), rot_error_name(err));
  }
  return EXIT_OK;
}

static void close_session(session_t *s) { rot_mbox_client_close(&s->cl); }

/*
 * One call. On a transport failure or a refusal, prints the one-line
 * error (what: refused: NAME (reason)) and returns EXIT_FAIL; *status
 * (if not NULL) still says what the chip answered.
 */
static int call(session_t *s, uint16_t command, const uint8_t *req,
                uint32_t req_len, const char *what, const uint8_t **reply,
                uint32_t *reply_len, rot_error_t *status_out) {
  rot_error_t status = ROT_ERROR_INTERNAL;
  const uint8_t *r = NULL;
  uint32_t rl = 0;
  rot_error_t err = rot_mbox_call(&s->cl, command, req, req_len, &status, &r,
                                  &rl);
  if (status_out != NULL) {
    *status_out = err == ROT_OK ? status : err;
  }
  if (err != ROT_OK) {
    return fail(s->cmd, "%s: no answer from rotd at %s: %s (%s)",
                rot_mbox_command_name(command), s->socket, rot_error_name(err),
                rot_error_str(err));
  }
  if (status != ROT_OK) {
    return fail_rot(s->cmd, what != NULL ? what : "refused", status);
  }
  if (reply != NULL) {
    *reply = r;
    *reply_len = rl;
  }
  return EXIT_OK;
}

/* The reply arrived but does not decode: a protocol fault, not a refusal. */
static int bad_reply(const session_t *s, uint16_t command, rot_error_t err) {
  return fail(s->cmd, "malformed %s reply from rotd: %s (%s)",
              rot_mbox_command_name(command), rot_error_name(err),
              rot_error_str(err));
}

static int get_status(session_t *s, rot_mbox_status_t *st) {
  const uint8_t *r;
  uint32_t rl;
  int rc = call(s, ROT_MBOX_CMD_STATUS, NULL, 0, "status", &r, &rl, NULL);
  if (rc != EXIT_OK) {
    return rc;
  }
  rot_error_t err = rot_mbox_status_decode(r, rl, st);
  return err == ROT_OK ? EXIT_OK : bad_reply(s, ROT_MBOX_CMD_STATUS, err);
}

/* ---- shared output ---------------------------------------------------------------- */

static void print_version(const rot_mbox_image_info_t *i) {
  printf("%u.%u.%u", i->ver_major, i->ver_minor, i->ver_patch);
}

static void json_info(json_t *j, const char *key, const rot_mbox_image_info_t *i) {
  char ver[32];
  snprintf(ver, sizeof(ver), "%u.%u.%u", i->ver_major, i->ver_minor,
           i->ver_patch);
  json_open(j, key, '{');
  json_str(j, "type", type_name(i->image_type));
  json_str(j, "region", i->region == ROT_MBOX_REGION_NONE
                            ? NULL
                            : region_name(i->region));
  json_str(j, "version", ver);
  json_u64(j, "svn", i->svn);
  json_u64(j, "key_index", i->key_index);
  json_u64(j, "payload_len", i->payload_len);
  json_u64(j, "image_len", i->image_len);
  json_hex(j, "payload_sha384", i->payload_digest, sizeof(i->payload_digest));
  json_close(j, '}');
}

static void json_type_state(json_t *j, const char *key,
                            const rot_mbox_type_state_t *t) {
  json_open(j, key, '{');
  json_str(j, "type", type_name(t->image_type));
  json_str(j, "active", t->active == ROT_SLOT_NONE ? NULL : slot_name(t->active));
  json_str(j, "pending",
           t->pending == ROT_SLOT_NONE ? NULL : slot_name(t->pending));
  json_str(j, "staged", t->staged == ROT_SLOT_NONE ? NULL : slot_name(t->staged));
  json_u64(j, "attempts_left", t->attempts_left);
  json_u64(j, "svn_floor", t->svn_floor);
  json_u64(j, "floor_pending", t->floor_pending);
  json_close(j, '}');
}

/* ---- status ------------------------------------------------------------------------ */

static const spec_t kStatusSpec = {
    "status", O_JSON, 0,
    "usage: rotctl status " ROTCTL_STATUS_ARGS "\n\n" ROTCTL_STATUS_SUMMARY
    "\n\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --json          machine-readable output\n"};

int rotctl_cmd_status(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kStatusSpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  session_t s;
  if ((rc = open_session(&s, "status", o.socket)) != EXIT_OK) {
    return rc;
  }
  rot_mbox_status_t st;
  rc = get_status(&s, &st);
  close_session(&s);
  if (rc != EXIT_OK) {
    return rc;
  }
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '{');
    json_str(&j, "socket", o.socket);
    json_str(&j, "lifecycle", rot_lifecycle_name(st.lifecycle));
    json_hex(&j, "root_key_hash", st.root_key_hash, sizeof(st.root_key_hash));
    json_u64(&j, "revoked_keys", st.revoked_keys);
    json_u64(&j, "flash_size", st.flash_size);
    json_u64(&j, "erase_size", st.erase_size);
    json_open(&j, "locked", '[');
    for (uint32_t i = 0; i < 32; i++) {
      if (st.locked_mask & (1u << i)) {
        json_str(&j, NULL, region_name(i));
      }
    }
    json_close(&j, ']');
    json_open(&j, "session", '{');
    json_bool(&j, "open", st.session_open != 0);
    if (st.session_open) {
      json_str(&j, "type", type_name(st.session_type));
      json_u64(&j, "declared", st.session_declared);
      json_u64(&j, "written", st.session_written);
    }
    json_close(&j, '}');
    json_u64(&j, "audit_next_seq", st.audit_next_seq);
    json_open(&j, "types", '[');
    for (uint32_t i = 0; i < st.type_count; i++) {
      json_type_state(&j, NULL, &st.types[i]);
    }
    json_close(&j, ']');
    json_close(&j, '}');
    return EXIT_OK;
  }
  printf("rotd:          %s\n", o.socket);
  printf("lifecycle:     %s\n", rot_lifecycle_name(st.lifecycle));
  printf("root key hash: ");
  for (size_t i = 0; i < sizeof(st.root_key_hash); i++) {
    printf("%02x", st.root_key_hash[i]);
  }
  printf("\nrevoked keys:  ");
  if (st.revoked_keys == 0) {
    printf("none");
  }
  for (uint32_t i = 0; i < 32; i++) {
    if (st.revoked_keys & (1u << i)) {
      printf("%u ", i);
    }
  }
  printf("\nflash:         %u MiB, %u KiB erase blocks\n",
         st.flash_size / (1024u * 1024u), st.erase_size / 1024u);
  printf("locked:        ");
  if (st.locked_mask == 0) {
    printf("none (until a lock or handoff)");
  }
  for (uint32_t i = 0; i < 32; i++) {
    if (st.locked_mask & (1u << i)) {
      printf("%s ", region_name(i));
    }
  }
  printf("\nupdate:        ");
  if (st.session_open) {
    printf("session open: %s, %u of %u bytes\n", type_name(st.session_type),
           st.session_written, st.session_declared);
  } else {
    printf("no session\n");
  }
  printf("audit:         next record %u\n\n", st.audit_next_seq);
  printf("%-11s %-7s %-8s %-7s %-7s %-6s\n", "type", "active", "pending",
         "staged", "trials", "floor");
  for (uint32_t i = 0; i < st.type_count; i++) {
    const rot_mbox_type_state_t *t = &st.types[i];
    printf("%-11s %-7s %-8s %-7s ", type_name(t->image_type),
           slot_name(t->active), slot_name(t->pending), slot_name(t->staged));
    if (t->pending != ROT_SLOT_NONE) {
      printf("%-7u ", t->attempts_left);
    } else {
      printf("%-7s ", "-");
    }
    printf("%u", t->svn_floor);
    if (t->floor_pending != 0) {
      printf(" (raising to %u)", t->floor_pending);
    }
    putchar('\n');
  }
  return EXIT_OK;
}

/* ---- inventory ------------------------------------------------------------------- */

static const spec_t kInventorySpec = {
    "inventory", O_JSON, 0,
    "usage: rotctl inventory " ROTCTL_INVENTORY_ARGS "\n\n" ROTCTL_INVENTORY_SUMMARY
    "\nEach image is verified in place against the fuses, as a boot would.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --json          machine-readable output\n"};

static void inv_state(const rot_mbox_inventory_entry_t *e, char *buf,
                      size_t cap) {
  snprintf(buf, cap, "%s%s%s%s",
           (e->flags & ROT_MBOX_INV_ACTIVE) ? "active," : "",
           (e->flags & ROT_MBOX_INV_PENDING) ? "trial," : "",
           (e->flags & ROT_MBOX_INV_STAGED) ? "staged," : "",
           (e->flags & ROT_MBOX_INV_LOCKED) ? "locked," : "");
  size_t n = strlen(buf);
  if (n == 0) {
    snprintf(buf, cap, "-");
  } else {
    buf[n - 1] = '\0';
  }
}

int rotctl_cmd_inventory(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kInventorySpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  session_t s;
  if ((rc = open_session(&s, "inventory", o.socket)) != EXIT_OK) {
    return rc;
  }
  const uint8_t *r;
  uint32_t rl;
  static rot_mbox_inventory_t inv;
  rc = call(&s, ROT_MBOX_CMD_INVENTORY, NULL, 0, "inventory", &r, &rl, NULL);
  if (rc == EXIT_OK) {
    rot_error_t err = rot_mbox_inventory_decode(r, rl, &inv);
    if (err != ROT_OK) {
      rc = bad_reply(&s, ROT_MBOX_CMD_INVENTORY, err);
    }
  }
  close_session(&s);
  if (rc != EXIT_OK) {
    return rc;
  }
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '[');
    for (uint32_t i = 0; i < inv.count; i++) {
      const rot_mbox_inventory_entry_t *e = &inv.entries[i];
      json_open(&j, NULL, '{');
      json_str(&j, "region", e->name);
      json_str(&j, "region_type", type_name(e->region_type));
      json_str(&j, "slot", e->slot == ROT_SLOT_NONE ? NULL : slot_name(e->slot));
      json_bool(&j, "active", (e->flags & ROT_MBOX_INV_ACTIVE) != 0);
      json_bool(&j, "pending", (e->flags & ROT_MBOX_INV_PENDING) != 0);
      json_bool(&j, "staged", (e->flags & ROT_MBOX_INV_STAGED) != 0);
      json_bool(&j, "locked", (e->flags & ROT_MBOX_INV_LOCKED) != 0);
      json_bool(&j, "empty", (e->flags & ROT_MBOX_INV_EMPTY) != 0);
      json_bool(&j, "verified", (e->flags & ROT_MBOX_INV_VERIFIED) != 0);
      json_err(&j, "status", e->status);
      if (e->flags & ROT_MBOX_INV_HEADER) {
        json_info(&j, "image", &e->info);
      }
      json_close(&j, '}');
    }
    json_close(&j, ']');
    return EXIT_OK;
  }
  printf("%-13s %-11s %-14s %-9s %-4s %-4s %s\n", "region", "type", "state",
         "version", "svn", "key", "verdict");
  for (uint32_t i = 0; i < inv.count; i++) {
    const rot_mbox_inventory_entry_t *e = &inv.entries[i];
    char state[64];
    inv_state(e, state, sizeof(state));
    printf("%-13s %-11s %-14s ", e->name, type_name(e->region_type), state);
    if (e->flags & ROT_MBOX_INV_HEADER) {
      char ver[24];
      snprintf(ver, sizeof(ver), "%u.%u.%u", e->info.ver_major,
               e->info.ver_minor, e->info.ver_patch);
      printf("%-9s %-4u %-4u ", ver, e->info.svn, e->info.key_index);
    } else {
      printf("%-9s %-4s %-4s ", "-", "-", "-");
    }
    if (e->flags & ROT_MBOX_INV_VERIFIED) {
      printf("verified\n");
    } else if (e->flags & ROT_MBOX_INV_EMPTY) {
      printf("empty\n");
    } else {
      printf("NOT VERIFIED: %s (%s)\n", rot_error_name((rot_error_t)e->status),
             rot_error_str((rot_error_t)e->status));
    }
  }
  return EXIT_OK;
}

/* ---- update ------------------------------------------------------------------------- */

static const spec_t kUpdateSpec = {
    "update", O_JSON | O_TYPE | O_ACTIVATE, 1,
    "usage: rotctl update " ROTCTL_UPDATE_ARGS "\n\n" ROTCTL_UPDATE_SUMMARY
    "\nThe active image is never touched; a refused image leaves everything\n"
    "as it was and the reason is printed. A progress bar is drawn on stderr\n"
    "when it is a terminal; one summary line is printed either way.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --type TYPE     stage into this type's slot (default: the type named\n"
    "                  in the image header; the chip refuses a mismatch)\n"
    "  --activate      also select the image for a trial boot\n"
    "  --json          machine-readable result on stdout\n"};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Redrawn only when the shown percentage changes. */
static void progress(const char *target, size_t done, size_t total,
                     int *last_pct) {
  int pct = total == 0 ? 100 : (int)((done * 100u) / total);
  if (pct == *last_pct) {
    return;
  }
  *last_pct = pct;
  enum { WIDTH = 32 };
  int fill = pct * WIDTH / 100;
  fprintf(stderr, "\rupdate %s [%.*s%*s] %3d%% %zu/%zu KiB", target, fill,
          "################################", WIDTH - fill, "", pct,
          (done + 1023u) / 1024u, (total + 1023u) / 1024u);
  fflush(stderr);
}

/* Best effort: a session left open would hold the slot until it expires. */
static void abort_quietly(session_t *s) {
  rot_error_t status;
  const uint8_t *r;
  uint32_t rl;
  rot_error_t err = rot_mbox_call(&s->cl, ROT_MBOX_CMD_UPDATE_ABORT, NULL, 0,
                                  &status, &r, &rl);
  (void)err;
}

static int activate_type(session_t *s, uint32_t type,
                         rot_mbox_type_state_t *out);

int rotctl_cmd_update(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kUpdateSpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  const char *path = o.operands[0];
  uint8_t *img = NULL;
  size_t len = 0;
  rot_error_t err = rot_file_read(path, MAX_IMAGE_FILE, &img, &len);
  if (err != ROT_OK) {
    return fail("update", "%s: cannot read: %s (%s)", path,
                rot_error_name(err), rot_error_str(err));
  }
  uint32_t type = o.type;
  if (!o.has_type) {
    rot_image_header_t h;
    err = rot_image_header_parse(img, len, &h);
    if (err != ROT_OK) {
      free(img);
      return fail("update", "%s: not a signed image: %s (%s)", path,
                  rot_error_name(err), rot_error_str(err));
    }
    type = h.image_type;
  }
  session_t s;
  if ((rc = open_session(&s, "update", o.socket)) != EXIT_OK) {
    free(img);
    return rc;
  }
  double t0 = now_s();
  int tty = isatty(STDERR_FILENO);
  int last_pct = -1;
  rot_mbox_begin_resp_t begin;
  rot_mbox_image_info_t info;
  rot_mbox_type_state_t tstate;
  uint8_t req[ROT_MBOX_BEGIN_REQ_SIZE];
  size_t req_len = 0;
  const uint8_t *r;
  uint32_t rl;
  rot_mbox_begin_req_t b = {type, (uint32_t)len};
  char what[512];
  const char *target = "?";
  snprintf(what, sizeof(what), "%s: refused by the chip", path);
  rc = EXIT_FAIL;
  if (len > UINT32_MAX) {
    fail_rot("update", path, ROT_ERROR_UPDATE_TOO_LARGE);
    goto out;
  }
  if (rot_mbox_begin_req_encode(&b, req, sizeof(req), &req_len) != ROT_OK) {
    goto out;
  }
  if (call(&s, ROT_MBOX_CMD_UPDATE_BEGIN, req, (uint32_t)req_len, what, &r, &rl,
           NULL) != EXIT_OK) {
    goto out;
  }
  err = rot_mbox_begin_resp_decode(r, rl, &begin);
  if (err != ROT_OK) {
    bad_reply(&s, ROT_MBOX_CMD_UPDATE_BEGIN, err);
    abort_quietly(&s);
    goto out;
  }
  target = region_name(begin.region);
  for (size_t off = 0; off < len;) {
    size_t n = len - off < begin.chunk_max ? len - off : begin.chunk_max;
    rot_mbox_chunk_req_t ch = {(uint32_t)off, (uint32_t)n, img + off};
    uint8_t *p = rot_mbox_client_payload(&s.cl);
    size_t pl = 0;
    if (rot_mbox_chunk_req_encode(&ch, p, ROT_MBOX_MAX_PAYLOAD, &pl) != ROT_OK) {
      abort_quietly(&s);
      goto out;
    }
    if (call(&s, ROT_MBOX_CMD_UPDATE_CHUNK, p, (uint32_t)pl, what, NULL, NULL,
             NULL) != EXIT_OK) {
      if (tty) {
        fputc('\n', stderr);
      }
      abort_quietly(&s);
      goto out;
    }
    off += n;
    if (tty) {
      progress(target, off, len, &last_pct);
    }
  }
  if (tty) {
    fputc('\n', stderr);
  }
  if (call(&s, ROT_MBOX_CMD_UPDATE_FINISH, NULL, 0, what, &r, &rl, NULL) !=
      EXIT_OK) {
    goto out;
  }
  err = rot_mbox_image_info_decode(r, rl, &info);
  if (err != ROT_OK) {
    bad_reply(&s, ROT_MBOX_CMD_UPDATE_FINISH, err);
    goto out;
  }
  double secs = now_s() - t0;
  if (o.activate && activate_type(&s, type, &tstate) != EXIT_OK) {
    goto out;
  }
  rc = EXIT_OK;
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '{');
    json_str(&j, "file", path);
    json_str(&j, "result", "verified");
    json_u64(&j, "bytes", len);
    json_u64(&j, "milliseconds", (uint64_t)(secs * 1000.0));
    json_info(&j, "image", &info);
    if (o.activate) {
      json_type_state(&j, "activated", &tstate);
    }
    json_close(&j, '}');
  } else {
    printf("%s: staged %zu bytes into %s in %.2f s, verified: %s ", path, len,
           target, secs, type_name(info.image_type));
    print_version(&info);
    printf(" svn %u key %u%s\n", info.svn, info.key_index,
           o.activate ? ", activated for a trial boot" : "");
  }
out:
  close_session(&s);
  free(img);
  return rc;
}

/* ---- activate / confirm / revert -------------------------------------------------- */

static int type_call(session_t *s, uint16_t command, uint32_t type,
                     rot_mbox_type_state_t *out) {
  rot_mbox_type_req_t t = {type};
  uint8_t req[ROT_MBOX_TYPE_REQ_SIZE];
  size_t n = 0;
  if (rot_mbox_type_req_encode(&t, req, sizeof(req), &n) != ROT_OK) {
    return EXIT_FAIL;
  }
  char what[64];
  snprintf(what, sizeof(what), "%s refused", type_name(type));
  const uint8_t *r;
  uint32_t rl;
  int rc = call(s, command, req, (uint32_t)n, what, &r, &rl, NULL);
  if (rc != EXIT_OK) {
    return rc;
  }
  rot_error_t err = rot_mbox_type_state_decode(r, rl, out);
  return err == ROT_OK ? EXIT_OK : bad_reply(s, command, err);
}

static int activate_type(session_t *s, uint32_t type,
                         rot_mbox_type_state_t *out) {
  return type_call(s, ROT_MBOX_CMD_ACTIVATE, type, out);
}

/*
 * No --type: the one type in the state the step needs (staged for
 * activate, on trial for confirm and revert), or a clear error.
 */
static int pick_type(session_t *s, uint16_t command, uint32_t *type) {
  rot_mbox_status_t st;
  int rc = get_status(s, &st);
  if (rc != EXIT_OK) {
    return rc;
  }
  int staged = command == ROT_MBOX_CMD_ACTIVATE;
  const char *state = staged ? "a staged image" : "an image on trial";
  uint32_t found = 0;
  char names[128] = "";
  for (uint32_t i = 0; i < st.type_count; i++) {
    const rot_mbox_type_state_t *t = &st.types[i];
    if ((staged ? t->staged : t->pending) == ROT_SLOT_NONE) {
      continue;
    }
    if (found++ == 0) {
      *type = t->image_type;
    }
    size_t used = strlen(names);
    snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
             type_name(t->image_type));
  }
  if (found == 0) {
    return fail(s->cmd, "no image type has %s; give --type TYPE", state);
  }
  if (found > 1) {
    return fail(s->cmd, "several types have %s (%s); give --type TYPE", state,
                names);
  }
  return EXIT_OK;
}

static int type_command(const spec_t *spec, uint16_t command, int argc,
                        char **argv) {
  opts_t o;
  int rc = parse_opts(spec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  session_t s;
  if ((rc = open_session(&s, spec->name, o.socket)) != EXIT_OK) {
    return rc;
  }
  uint32_t type = o.type;
  rot_mbox_type_state_t t;
  rc = EXIT_OK;
  if (!o.has_type) {
    /* Revert without a trial means "back to the other slot": too big a
     * step to guess the type for, so only a trial is ever picked. */
    rc = pick_type(&s, command, &type);
  }
  if (rc == EXIT_OK) {
    rc = type_call(&s, command, type, &t);
  }
  close_session(&s);
  if (rc != EXIT_OK) {
    return rc;
  }
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '{');
    json_str(&j, "command", spec->name);
    json_type_state(&j, "state", &t);
    json_close(&j, '}');
    return EXIT_OK;
  }
  const char *tn = type_name(type);
  if (command == ROT_MBOX_CMD_ACTIVATE) {
    printf("%s: slot %s activated for a trial boot (%u attempts)\n", tn,
           slot_name(t.pending), t.attempts_left);
  } else if (command == ROT_MBOX_CMD_CONFIRM) {
    printf("%s: slot %s confirmed; SVN floor %u\n", tn, slot_name(t.active),
           t.svn_floor);
  } else {
    printf("%s: active slot %s, no trial pending\n", tn, slot_name(t.active));
  }
  return EXIT_OK;
}

#define TYPE_HELP(name, ARGS, SUMMARY, extra)                                \
  "usage: rotctl " name " " ARGS "\n\n" SUMMARY "\n" extra                   \
  "\noptions:\n"                                                             \
  "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n" \
  "  --type TYPE     rot, opensbi, hypervisor or dtb\n"                      \
  "  --json          machine-readable output\n"

static const spec_t kActivateSpec = {
    "activate", O_JSON | O_TYPE, 0,
    TYPE_HELP("activate", ROTCTL_ACTIVATE_ARGS, ROTCTL_ACTIVATE_SUMMARY,
              "Without --type: the only type with a staged image.\n")};
static const spec_t kConfirmSpec = {
    "confirm", O_JSON | O_TYPE, 0,
    TYPE_HELP("confirm", ROTCTL_CONFIRM_ARGS, ROTCTL_CONFIRM_SUMMARY,
              "Without --type: the only type with an image on trial.\n")};
static const spec_t kRevertSpec = {
    "revert", O_JSON | O_TYPE, 0,
    TYPE_HELP("revert", ROTCTL_REVERT_ARGS, ROTCTL_REVERT_SUMMARY,
              "Without --type: the only type with an image on trial (going\n"
              "back to the other slot with no trial pending needs --type).\n")};

int rotctl_cmd_activate(int argc, char **argv) {
  return type_command(&kActivateSpec, ROT_MBOX_CMD_ACTIVATE, argc, argv);
}

int rotctl_cmd_confirm(int argc, char **argv) {
  return type_command(&kConfirmSpec, ROT_MBOX_CMD_CONFIRM, argc, argv);
}

int rotctl_cmd_revert(int argc, char **argv) {
  return type_command(&kRevertSpec, ROT_MBOX_CMD_REVERT, argc, argv);
}

/* ---- boot ---------------------------------------------------------------------------- */

static const spec_t kBootSpec = {
    "boot", O_JSON | O_TYPE, 0,
    "usage: rotctl boot " ROTCTL_BOOT_ARGS "\n\n" ROTCTL_BOOT_SUMMARY
    "\nPrints the region that boots and why; exit 1 when nothing verifies.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --type TYPE     rot, opensbi, hypervisor or dtb (required)\n"
    "  --json          machine-readable output\n"};

int rotctl_cmd_boot(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kBootSpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  if (!o.has_type) {
    return usage_error("boot", "--type TYPE is required");
  }
  session_t s;
  if ((rc = open_session(&s, "boot", o.socket)) != EXIT_OK) {
    return rc;
  }
  rot_mbox_type_req_t t = {o.type};
  uint8_t req[ROT_MBOX_TYPE_REQ_SIZE];
  size_t n = 0;
  rot_mbox_boot_resp_t b;
  const uint8_t *r;
  uint32_t rl;
  rc = rot_mbox_type_req_encode(&t, req, sizeof(req), &n) == ROT_OK
           ? call(&s, ROT_MBOX_CMD_BOOT, req, (uint32_t)n, "boot decision", &r,
                  &rl, NULL)
           : EXIT_FAIL;
  if (rc == EXIT_OK) {
    rot_error_t err = rot_mbox_boot_resp_decode(r, rl, &b);
    if (err != ROT_OK) {
      rc = bad_reply(&s, ROT_MBOX_CMD_BOOT, err);
    }
  }
  close_session(&s);
  if (rc != EXIT_OK) {
    return rc;
  }
  int none = b.reason == ROT_BOOT_NONE;
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '{');
    json_str(&j, "type", type_name(o.type));
    json_str(&j, "reason", rot_boot_reason_name(b.reason));
    json_err(&j, "why", b.why);
    if (!none) {
      json_info(&j, "image", &b.info);
    }
    json_close(&j, '}');
  } else if (none) {
    return fail("boot", "%s: nothing boots: %s (%s)", type_name(o.type),
                rot_error_name((rot_error_t)b.why),
                rot_error_str((rot_error_t)b.why));
  } else {
    printf("%s: boot %s (%s): %s ", type_name(o.type), region_name(b.info.region),
           rot_boot_reason_name(b.reason), type_name(b.info.image_type));
    print_version(&b.info);
    printf(" svn %u key %u", b.info.svn, b.info.key_index);
    if (b.why != (uint32_t)ROT_OK) {
      printf("; preferred image refused: %s", rot_error_name((rot_error_t)b.why));
    }
    putchar('\n');
  }
  return none ? EXIT_FAIL : EXIT_OK;
}

/* ---- reset ------------------------------------------------------------------------------ */

static const spec_t kResetSpec = {
    "reset", O_JSON, 0,
    "usage: rotctl reset " ROTCTL_RESET_ARGS "\n\n" ROTCTL_RESET_SUMMARY
    "\n\nWhat a power cycle of the chip does: an open update session is\n"
    "abandoned, every region lock is cleared, the update state and the audit\n"
    "log are read back from flash, and the next boot takes a new decision\n"
    "(a trial boot then counts its next attempt). Operators only.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --json          machine-readable output\n"};

int rotctl_cmd_reset(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kResetSpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  session_t s;
  if ((rc = open_session(&s, "reset", o.socket)) != EXIT_OK) {
    return rc;
  }
  const uint8_t *r;
  uint32_t rl;
  rc = call(&s, ROT_MBOX_CMD_RESET, NULL, 0, "chip", &r, &rl, NULL);
  close_session(&s);
  if (rc != EXIT_OK) {
    return rc;
  }
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '{');
    json_bool(&j, "reset", 1);
    json_close(&j, '}');
    return EXIT_OK;
  }
  printf("chip reset: locks cleared; the next boot decides afresh\n");
  return EXIT_OK;
}

/* ---- lock ------------------------------------------------------------------------------- */

static const spec_t kLockSpec = {
    "lock", O_JSON | O_REGION | O_BOOT, 0,
    "usage: rotctl lock " ROTCTL_LOCK_ARGS "\n\n" ROTCTL_LOCK_SUMMARY
    "\n\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --region NAME   one image region (see 'rotctl inventory'); the chip's\n"
    "                  own regions (nvcfg, state, audit) cannot be locked\n"
    "  --boot          every host boot region: opensbi, hypervisor and dtb\n"
    "                  slots and both recovery slots\n"
    "  --json          machine-readable output\n"};

int rotctl_cmd_lock(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kLockSpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  if ((o.region != NULL) == (o.boot != 0)) {
    return usage_error("lock", "give exactly one of --region NAME and --boot");
  }
  rot_mbox_lock_req_t l = {
      o.boot ? ROT_MBOX_LOCK_BOOT
             : (uint32_t)rot_flash_region_by_name(&rot_flash_layout_default,
                                                  o.region)};
  session_t s;
  if ((rc = open_session(&s, "lock", o.socket)) != EXIT_OK) {
    return rc;
  }
  uint8_t req[ROT_MBOX_LOCK_REQ_SIZE];
  size_t n = 0;
  rot_mbox_lock_resp_t resp;
  const uint8_t *r;
  uint32_t rl;
  rc = rot_mbox_lock_req_encode(&l, req, sizeof(req), &n) == ROT_OK
           ? call(&s, ROT_MBOX_CMD_LOCK, req, (uint32_t)n,
                  o.boot ? "boot regions" : o.region, &r, &rl, NULL)
           : EXIT_FAIL;
  if (rc == EXIT_OK) {
    rot_error_t err = rot_mbox_lock_resp_decode(r, rl, &resp);
    if (err != ROT_OK) {
      rc = bad_reply(&s, ROT_MBOX_CMD_LOCK, err);
    }
  }
  close_session(&s);
  if (rc != EXIT_OK) {
    return rc;
  }
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '{');
    json_open(&j, "locked", '[');
    for (uint32_t i = 0; i < 32; i++) {
      if (resp.locked_mask & (1u << i)) {
        json_str(&j, NULL, region_name(i));
      }
    }
    json_close(&j, ']');
    json_close(&j, '}');
    return EXIT_OK;
  }
  printf("locked until reset:");
  for (uint32_t i = 0; i < 32; i++) {
    if (resp.locked_mask & (1u << i)) {
      printf(" %s", region_name(i));
    }
  }
  putchar('\n');
  return EXIT_OK;
}

/* ---- audit ---------------------------------------------------------------------------- */

static const spec_t kAuditSpec = {
    "audit", O_JSON | O_VERIFY, 0,
    "usage: rotctl audit " ROTCTL_AUDIT_ARGS "\n\n" ROTCTL_AUDIT_SUMMARY
    "\nWith --verify, exit 1 when the chain is tampered with or truncated.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --verify        check every link and report the verdict\n"
    "  --json          machine-readable output\n"};

/* The arguments of a record, in words (the layout of each is in audit.h). */
static void describe(const rot_audit_record_t *r, char *buf, size_t cap) {
  switch (r->event) {
    case ROT_AUDIT_GATE_DENY:
      snprintf(buf, cap, "op=%s region=%s", gate_op_name(r->arg0),
               region_name(r->arg1));
      break;
    case ROT_AUDIT_GATE_LOCK:
      snprintf(buf, cap, "region=%s", region_name(r->arg1));
      break;
    case ROT_AUDIT_GATE_WINDOW:
      snprintf(buf, cap, "%s region=%s", r->arg0 ? "open" : "close",
               region_name(r->arg1));
      break;
    case ROT_AUDIT_HOST_READ:
      snprintf(buf, cap, "region=%s len=%u", region_name(r->arg1), r->arg0);
      break;
    case ROT_AUDIT_UPDATE_BEGIN:
      snprintf(buf, cap, "type=%s len=%u", type_name(r->arg0), r->arg1);
      break;
    case ROT_AUDIT_UPDATE_FINISH:
      snprintf(buf, cap, "type=%s svn=%u", type_name(r->arg0), r->arg1);
      break;
    case ROT_AUDIT_UPDATE_ABORT:
      snprintf(buf, cap, "type=%s written=%u", type_name(r->arg0), r->arg1);
      break;
    case ROT_AUDIT_ACTIVATE:
    case ROT_AUDIT_REVERT:
    case ROT_AUDIT_TRIAL_EXPIRED:
      snprintf(buf, cap, "type=%s slot=%s", type_name(r->arg0),
               slot_name(r->arg1));
      break;
    case ROT_AUDIT_CONFIRM:
      snprintf(buf, cap, "type=%s svn=%u", type_name(r->arg0), r->arg1);
      break;
    case ROT_AUDIT_FLOOR_RAISED:
      snprintf(buf, cap, "type=%s floor=%u", type_name(r->arg0), r->arg1);
      break;
    case ROT_AUDIT_FLOOR_REFUSED:
      snprintf(buf, cap, "type=%s svn=%u", type_name(r->arg0), r->arg1);
      break;
    case ROT_AUDIT_STATE_REJECTED:
      snprintf(buf, cap, "copy=%u seq=%u", r->arg0, r->arg1);
      break;
    case ROT_AUDIT_BOOT:
      snprintf(buf, cap, "type=%s region=%s", type_name(r->arg0),
               region_name(r->arg1));
      break;
    case ROT_AUDIT_DAEMON_START:
      buf[0] = '\0';
      break;
    case ROT_AUDIT_PEER_REFUSED:
      snprintf(buf, cap, "uid=%u pid=%u", r->arg0, r->arg1);
      break;
    default:
      snprintf(buf, cap, "arg0=%u arg1=%u", r->arg0, r->arg1);
      break;
  }
}

static void format_time(uint64_t t, char *buf, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL ||
      strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    snprintf(buf, cap, "%" PRIu64, t);
  }
}

int rotctl_cmd_audit(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kAuditSpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  session_t s;
  if ((rc = open_session(&s, "audit", o.socket)) != EXIT_OK) {
    return rc;
  }
  rot_audit_record_t *recs = NULL;
  size_t n = 0;
  size_t cap = 0;
  rot_audit_report_t rep;
  memset(&rep, 0, sizeof(rep));
  /* Pages of records, oldest first; next_seq says where the next begins. */
  uint32_t start = 0;
  for (;;) {
    rot_mbox_audit_read_req_t q = {start, ROT_MBOX_AUDIT_MAX_RECORDS};
    uint8_t req[ROT_MBOX_AUDIT_READ_REQ_SIZE];
    size_t ql = 0;
    const uint8_t *r;
    uint32_t rl;
    rot_mbox_audit_read_resp_t resp;
    if (rot_mbox_audit_read_req_encode(&q, req, sizeof(req), &ql) != ROT_OK ||
        call(&s, ROT_MBOX_CMD_AUDIT_READ, req, (uint32_t)ql, "audit read", &r,
             &rl, NULL) != EXIT_OK) {
      rc = EXIT_FAIL;
      goto out;
    }
    rot_error_t err = rot_mbox_audit_read_resp_decode(r, rl, &resp);
    if (err != ROT_OK) {
      rc = bad_reply(&s, ROT_MBOX_CMD_AUDIT_READ, err);
      goto out;
    }
    if (n + resp.count > cap) {
      size_t ncap = (n + resp.count) * 2u;
      rot_audit_record_t *g = realloc(recs, ncap * sizeof(*recs));
      if (g == NULL) {
        rc = fail("audit", "out of memory");
        goto out;
      }
      recs = g;
      cap = ncap;
    }
    for (uint32_t i = 0; i < resp.count; i++) {
      rot_mbox_audit_record_decode(resp.records + (size_t)i * ROT_AUDIT_RECORD_SIZE,
                                   &recs[n++]);
    }
    /* A next_seq that does not move forward would loop forever. */
    if (resp.next_seq == 0 || resp.next_seq <= start || resp.count == 0) {
      break;
    }
    start = resp.next_seq;
  }
  if (o.verify) {
    const uint8_t *r;
    uint32_t rl;
    if (call(&s, ROT_MBOX_CMD_AUDIT_VERIFY, NULL, 0, "audit verify", &r, &rl,
             NULL) != EXIT_OK) {
      rc = EXIT_FAIL;
      goto out;
    }
    rot_error_t err = rot_mbox_audit_report_decode(r, rl, &rep);
    if (err != ROT_OK) {
      rc = bad_reply(&s, ROT_MBOX_CMD_AUDIT_VERIFY, err);
      goto out;
    }
  }
  int bad = o.verify && rep.verdict != ROT_OK;
  if (o.json) {
    json_t j = {0, {0}};
    json_open(&j, NULL, '{');
    json_open(&j, "records", '[');
    for (size_t i = 0; i < n; i++) {
      char d[96];
      describe(&recs[i], d, sizeof(d));
      json_open(&j, NULL, '{');
      json_u64(&j, "seq", recs[i].seq);
      json_u64(&j, "timestamp", recs[i].timestamp);
      json_str(&j, "event", rot_audit_event_name(recs[i].event));
      json_err(&j, "status", recs[i].status);
      json_u64(&j, "arg0", recs[i].arg0);
      json_u64(&j, "arg1", recs[i].arg1);
      json_str(&j, "detail", d);
      json_close(&j, '}');
    }
    json_close(&j, ']');
    if (o.verify) {
      json_open(&j, "verify", '{');
      json_bool(&j, "ok", !bad);
      json_err(&j, "verdict", (uint32_t)rep.verdict);
      json_u64(&j, "records", rep.records);
      json_u64(&j, "torn", rep.torn);
      json_u64(&j, "first_seq", rep.first_seq);
      json_u64(&j, "last_seq", rep.last_seq);
      json_u64(&j, "bad_seq", rep.bad_seq);
      json_close(&j, '}');
    }
    json_close(&j, '}');
  } else {
    printf("%6s %-20s %-14s %-32s %s\n", "seq", "time (UTC)", "event", "status",
           "detail");
    for (size_t i = 0; i < n; i++) {
      char t[40];
      char d[96];
      format_time(recs[i].timestamp, t, sizeof(t));
      describe(&recs[i], d, sizeof(d));
      printf("%6u %-20s %-14s %-32s %s%s\n", recs[i].seq, t,
             rot_audit_event_name(recs[i].event), status_word(recs[i].status),
             d, bad && recs[i].seq == rep.bad_seq ? "   <-- chain breaks here"
                                                   : "");
    }
    if (o.verify) {
      if (!bad) {
        printf("audit: chain OK: %u records (seq %u..%u), %u torn slots "
               "skipped\n",
               rep.records, rep.first_seq, rep.last_seq, rep.torn);
      } else {
        printf("audit: chain NOT OK at seq %u: %s (%s)\n", rep.bad_seq,
               rot_error_name(rep.verdict), rot_error_str(rep.verdict));
      }
    }
  }
  if (bad) {
    rc = fail("audit", "chain does not verify at seq %u: %s (%s)", rep.bad_seq,
              rot_error_name(rep.verdict), rot_error_str(rep.verdict));
  } else {
    rc = EXIT_OK;
  }
out:
  close_session(&s);
  free(recs);
  return rc;
}

/* ---- read-region ------------------------------------------------------------------------ */

static const spec_t kReadRegionSpec = {
    "read-region", O_REGION | O_OFFSET | O_LENGTH | O_OUT, 0,
    "usage: rotctl read-region " ROTCTL_READ_REGION_ARGS "\n\n"
    ROTCTL_READ_REGION_SUMMARY
    "\nThe chip-private regions (nvcfg, state) are refused by the gate.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --region NAME   region to read (see 'rotctl inventory')\n"
    "  --offset N      first byte, relative to the region (default 0)\n"
    "  --length N      bytes to read (default: to the end of the region)\n"
    "  --out FILE      where to write them; '-' for stdout\n"};

int rotctl_cmd_read_region(int argc, char **argv) {
  opts_t o;
  int rc = parse_opts(&kReadRegionSpec, argc, argv, &o);
  if (rc >= 0) {
    return rc;
  }
  if (o.region == NULL) {
    return usage_error("read-region", "--region NAME is required");
  }
  if (o.out == NULL) {
    return usage_error("read-region", "--out FILE is required ('-': stdout)");
  }
  int region = rot_flash_region_by_name(&rot_flash_layout_default, o.region);
  uint32_t size = rot_flash_layout_default.regions[region].size;
  if (o.offset > size) {
    return usage_error("read-region", "--offset %u is past the end of %s (%u bytes)",
                       o.offset, o.region, size);
  }
  uint32_t length = o.has_length ? o.length : size - o.offset;
  uint8_t *buf = malloc(length == 0 ? 1 : length);
  if (buf == NULL) {
    return fail("read-region", "out of memory for %u bytes", length);
  }
  session_t s;
  if ((rc = open_session(&s, "read-region", o.socket)) != EXIT_OK) {
    free(buf);
    return rc;
  }
  for (uint32_t done = 0; done < length && rc == EXIT_OK;) {
    uint32_t n = length - done < ROT_MBOX_READ_MAX ? length - done
                                                   : ROT_MBOX_READ_MAX;
    rot_mbox_read_req_t q = {(uint32_t)region, o.offset + done, n};
    uint8_t req[ROT_MBOX_READ_REQ_SIZE];
    size_t ql = 0;
    const uint8_t *r;
    uint32_t rl;
    if (rot_mbox_read_req_encode(&q, req, sizeof(req), &ql) != ROT_OK) {
      rc = EXIT_FAIL;
      break;
    }
    rc = call(&s, ROT_MBOX_CMD_READ_REGION, req, (uint32_t)ql, o.region, &r,
              &rl, NULL);
    if (rc == EXIT_OK && rl != n) {
      rc = bad_reply(&s, ROT_MBOX_CMD_READ_REGION, ROT_ERROR_MAILBOX_BAD_LENGTH);
    }
    if (rc == EXIT_OK) {
      memcpy(buf + done, r, n);
      done += n;
    }
  }
  close_session(&s);
  if (rc == EXIT_OK) {
    if (strcmp(o.out, "-") == 0) {
      if (fwrite(buf, 1, length, stdout) != length) {
        rc = fail("read-region", "cannot write to stdout");
      }
    } else {
      rot_error_t err = rot_file_write(o.out, buf, length, 0644);
      if (err != ROT_OK) {
        rc = fail_rot("read-region", o.out, err);
      }
    }
  }
  free(buf);
  return rc;
}
