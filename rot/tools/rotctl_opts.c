/*
 * rotctl's one option parser: every option any command takes, each
 * checked and converted once; a command's row says which it accepts and
 * how many operands follow.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rot/flash.h"
#include "rot/image.h"
#include "rot/policy.h"
#include "rot_client/names.h"
#include "rot_client/keydir.h"
#include "rot_client/parse.h"
#include "rotctl.h"

void rotctl_print_help(const command_t *cmd, FILE *f) {
  fprintf(f, "usage: rotctl %s %s\n\n%s\n", cmd->full, cmd->args,
          cmd->summary);
  if (cmd->subs != NULL) {
    fputs("\ncommands:\n", f);
    for (const command_t *s = cmd->subs; s->name != NULL; s++) {
      fprintf(f, "  %-10s %s\n", s->name, s->summary);
    }
  }
  if (cmd->help != NULL) {
    fputs(cmd->help, f);
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

static int hex_nibble(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* Exactly 2 * n hex digits into out; 0, or -1 for anything else. */
static int parse_hex(const char *s, uint8_t *out, size_t n) {
  if (strlen(s) != 2 * n) {
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return -1;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

/* An explicit --socket, made absolute as the default is (see
 * rot_mbox_socket_absolute); one per process, kept as given when the
 * absolute form does not fit a socket address. */
static const char *pin_socket(const char *path) {
  static char abs_path[ROT_MBOX_SOCKET_PATH_MAX];
  return rot_mbox_socket_absolute(path, abs_path, sizeof(abs_path)) == ROT_OK
             ? abs_path
             : path;
}

/* getopt_long values: 256 + the bit number of the O_* flag. */
#define OPT(bit) (256 + (bit))
enum {
  B_JSON, B_SOCKET, B_TYPE, B_ACTIVATE, B_VERIFY, B_REGION, B_BOOT, B_OFFSET,
  B_LENGTH, B_OUT, B_FORCE, B_KEYS, B_OTP, B_SVN, B_MIN_SVN, B_VERSION,
  B_LOAD_ADDR, B_ENTRY, B_KEY_INDEX, B_DEV_ONLY, B_WITHOUT_TRIAL, B_TO,
  B_CONFIRM, B_PEM, B_EK_CERT_SHA384, B_AK_PUBLIC, B_COUNT
};
_Static_assert(O_DEV_ONLY == 1u << B_DEV_ONLY, "O_* and B_* agree");
_Static_assert(O_SOCKET == 1u << B_SOCKET, "O_* and B_* agree");
_Static_assert(O_CONFIRM == 1u << B_CONFIRM, "O_* and B_* agree");
_Static_assert(O_AK_PUBLIC == 1u << B_AK_PUBLIC, "O_* and B_* agree");

static const struct option kOpts[] = {
    {"json", no_argument, NULL, OPT(B_JSON)},
    {"socket", required_argument, NULL, OPT(B_SOCKET)},
    {"type", required_argument, NULL, OPT(B_TYPE)},
    {"activate", no_argument, NULL, OPT(B_ACTIVATE)},
    {"verify", no_argument, NULL, OPT(B_VERIFY)},
    {"region", required_argument, NULL, OPT(B_REGION)},
    {"boot", no_argument, NULL, OPT(B_BOOT)},
    {"offset", required_argument, NULL, OPT(B_OFFSET)},
    {"length", required_argument, NULL, OPT(B_LENGTH)},
    {"out", required_argument, NULL, OPT(B_OUT)},
    {"force", no_argument, NULL, OPT(B_FORCE)},
    {"keys", required_argument, NULL, OPT(B_KEYS)},
    {"otp", required_argument, NULL, OPT(B_OTP)},
    {"svn", required_argument, NULL, OPT(B_SVN)},
    {"min-svn", required_argument, NULL, OPT(B_MIN_SVN)},
    {"version", required_argument, NULL, OPT(B_VERSION)},
    {"load-addr", required_argument, NULL, OPT(B_LOAD_ADDR)},
    {"entry", required_argument, NULL, OPT(B_ENTRY)},
    {"key-index", required_argument, NULL, OPT(B_KEY_INDEX)},
    {"dev-only", no_argument, NULL, OPT(B_DEV_ONLY)},
    {"without-trial", no_argument, NULL, OPT(B_WITHOUT_TRIAL)},
    {"to", required_argument, NULL, OPT(B_TO)},
    {"confirm", no_argument, NULL, OPT(B_CONFIRM)},
    {"pem", no_argument, NULL, OPT(B_PEM)},
    {"ek-cert-sha384", required_argument, NULL, OPT(B_EK_CERT_SHA384)},
    {"ak-public", required_argument, NULL, OPT(B_AK_PUBLIC)},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One option's value into o; EXIT_OK or a usage error. */
static int take(const command_t *cmd, int bit, const char *arg,
                rotctl_opts_t *o) {
  uint64_t v;
  switch (bit) {
    case B_JSON:
      o->json = 1;
      return EXIT_OK;
    case B_SOCKET:
      if (arg[0] == '\0') {
        return usage_error(cmd, "--socket: empty path");
      }
      o->socket = pin_socket(arg);
      return EXIT_OK;
    case B_TYPE:
      o->type = rot_image_type_from_name(arg);
      if (o->type == 0) {
        return usage_error(cmd, "--type: unknown image type '%s' (one of: "
                                "rot, opensbi, hypervisor, dtb, recovery)",
                           arg);
      }
      o->has_type = 1;
      return EXIT_OK;
    case B_ACTIVATE:
      o->activate = 1;
      return EXIT_OK;
    case B_VERIFY:
      o->verify = 1;
      return EXIT_OK;
    case B_REGION:
      if (rot_flash_region_by_name(&rot_flash_layout_default, arg) < 0) {
        return usage_error(cmd, "--region: no region named '%s'", arg);
      }
      o->region = arg;
      return EXIT_OK;
    case B_BOOT:
      o->boot = 1;
      return EXIT_OK;
    case B_OFFSET:
      if (rot_parse_uint(arg, ROT_PARSE_DEC_OR_HEX, UINT32_MAX, &v) !=
          ROT_OK) {
        return usage_error(cmd, "--offset: expected a number, got '%s'", arg);
      }
      o->offset = (uint32_t)v;
      o->has_offset = 1;
      return EXIT_OK;
    case B_LENGTH:
      if (rot_parse_uint(arg, ROT_PARSE_DEC_OR_HEX, UINT32_MAX, &v) !=
              ROT_OK ||
          v == 0) {
        return usage_error(cmd,
                           "--length: expected a number above 0, got '%s'",
                           arg);
      }
      o->length = (uint32_t)v;
      o->has_length = 1;
      return EXIT_OK;
    case B_OUT:
      o->out = arg;
      return EXIT_OK;
    case B_FORCE:
      o->force = 1;
      return EXIT_OK;
    case B_KEYS:
      o->keys = arg;
      return EXIT_OK;
    case B_OTP:
      o->otp = arg;
      return EXIT_OK;
    case B_SVN:
      o->has_svn = 1;
      return parse_u32_opt(cmd, "--svn", arg, ROT_SVN_MAX, &o->svn);
    case B_MIN_SVN:
      o->has_min_svn = 1;
      return parse_u32_opt(cmd, "--min-svn", arg, ROT_SVN_MAX, &o->min_svn);
    case B_VERSION:
      o->version = arg;
      if (parse_version(arg, o->ver) != 0) {
        return usage_error(cmd, "--version: expected X.Y.Z (each 0..65535), "
                                "got '%s'", arg);
      }
      return EXIT_OK;
    case B_LOAD_ADDR:
      o->has_load_addr = 1;
      return parse_u64_opt(cmd, "--load-addr", arg, &o->load_addr);
    case B_ENTRY:
      o->has_entry = 1;
      return parse_u64_opt(cmd, "--entry", arg, &o->entry);
    case B_KEY_INDEX:
      o->has_key_index = 1;
      return parse_u32_opt(cmd, "--key-index", arg, ROT_MAX_KEY_INDEX - 1u,
                           &o->key_index);
    case B_DEV_ONLY:
      o->dev_only = 1;
      return EXIT_OK;
    case B_WITHOUT_TRIAL:
      o->without_trial = 1;
      return EXIT_OK;
    case B_TO:
      /* Only the states a transition can reach. */
      if (strcmp(arg, "production") == 0) {
        o->to = ROT_LIFECYCLE_PROD;
      } else if (strcmp(arg, "decommissioned") == 0 || strcmp(arg, "rma") == 0) {
        o->to = ROT_LIFECYCLE_DECOMMISSIONED;
      } else {
        return usage_error(cmd, "--to: expected production or decommissioned "
                                "(rma), got '%s'; nothing leads back to dev",
                           arg);
      }
      o->has_to = 1;
      return EXIT_OK;
    case B_CONFIRM:
      o->confirm = 1;
      return EXIT_OK;
    case B_PEM:
      o->pem = 1;
      return EXIT_OK;
    case B_EK_CERT_SHA384:
      if (parse_hex(arg, o->ek_cert_sha384, sizeof(o->ek_cert_sha384)) != 0) {
        return usage_error(cmd, "--ek-cert-sha384: expected %zu hex digits, "
                                "got '%s'",
                           2 * sizeof(o->ek_cert_sha384), arg);
      }
      o->has_ek_cert_sha384 = 1;
      return EXIT_OK;
    case B_AK_PUBLIC:
      if (arg[0] == '\0') {
        return usage_error(cmd, "--ak-public: empty path");
      }
      o->ak_public = arg;
      return EXIT_OK;
    default:
      return usage_error(cmd, "unknown option");
  }
}

int rotctl_argv_wants_json(const command_t *cmd, int argc, char **argv) {
  if ((cmd->opts & O_JSON) == 0) {
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      return 0;
    }
    /* getopt_long takes any unambiguous prefix: --j, --js, --jso. */
    size_t n = strlen(argv[i]);
    if (n >= 3 && strncmp(argv[i], "--json", n) == 0) {
      return 1;
    }
  }
  return 0;
}

int rotctl_parse(const command_t *cmd, int argc, char **argv,
                 rotctl_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->socket = rot_mbox_default_socket();
  o->key_index = ROT_KEYDIR_DEFAULT_KEY_INDEX;
  optind = 0; /* glibc: a fresh scan */
  opterr = 0;
  int c;
  int at = 0;
  while ((c = getopt_long(argc, argv, ":h", kOpts, &at)) != -1) {
    if (c == 'h') {
      rotctl_print_help(cmd, stdout);
      return EXIT_OK;
    }
    if (c < OPT(0) || c >= OPT(B_COUNT)) {
      return bad_option(cmd, c, argc, argv);
    }
    int bit = c - OPT(0);
    if ((cmd->opts & (1u << bit)) == 0) {
      return usage_error(cmd, "unknown option '--%s'", kOpts[at].name);
    }
    int rc = take(cmd, bit, optarg, o);
    if (rc != EXIT_OK) {
      return rc;
    }
  }
  int n = argc - optind;
  if (n != cmd->operands) {
    if (cmd->operands == 0) {
      return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    return usage_error(cmd, "expected %s, got %d argument%s",
                       cmd->operand_names, n, n == 1 ? "" : "s");
  }
  o->operands = argv + optind;
  return -1;
}
