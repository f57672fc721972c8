/*
 * rotctl's shared parts: the command table, the one option parser, the
 * one output writer (human lines and --json), and the connection to rotd.
 *
 * A command family is one file (rotctl_image.c, rotctl_otp.c, ...) that
 * exports a NULL-name terminated array of command_t; rotctl_main.c lists
 * the families. Adding a family is one new file and one entry there.
 *
 * Exit status: 0 success, 1 a check, I/O or the chip failed, 2 the
 * command line was wrong. A failure prints exactly one line on stderr:
 *
 *   rotctl: <what>: <reason>
 */
#ifndef ROTCTL_H
#define ROTCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "rot/error.h"
#include "rot/image.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_client.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Largest file that can be a valid image; anything bigger is refused
 * before it is read. */
#define MAX_IMAGE_FILE                                                 \
  ((size_t)ROT_IMAGE_HEADER_SIZE + ROT_MANIFEST_MAX_SIZE +              \
   ROT_IMAGE_MAX_PAYLOAD + ROT_IMAGE_SIG_SIZE)

/* ---- options ------------------------------------------------------------ */

/* The options a command accepts (command_t.opts); --help always is. */
enum {
  O_JSON = 1u << 0,
  O_SOCKET = 1u << 1,
  O_TYPE = 1u << 2,
  O_ACTIVATE = 1u << 3,
  O_VERIFY = 1u << 4,
  O_REGION = 1u << 5,
  O_BOOT = 1u << 6,
  O_OFFSET = 1u << 7,
  O_LENGTH = 1u << 8,
  O_OUT = 1u << 9,
  O_FORCE = 1u << 10,
  O_KEYS = 1u << 11,
  O_OTP = 1u << 12,
  O_SVN = 1u << 13,
  O_MIN_SVN = 1u << 14,
  O_VERSION = 1u << 15,
  O_LOAD_ADDR = 1u << 16,
  O_ENTRY = 1u << 17,
  O_KEY_INDEX = 1u << 18,
  O_DEV_ONLY = 1u << 19,
  O_WITHOUT_TRIAL = 1u << 20,
  O_TO = 1u << 21,
  O_CONFIRM = 1u << 22,
  O_PEM = 1u << 23,
  O_EK_CERT_SHA384 = 1u << 24,
  O_AK_PUBLIC = 1u << 25,
};

/* Every command talking to rotd takes these. */
#define O_DAEMON O_SOCKET

/* What the parser found; has_* say whether an option was given. */
typedef struct rotctl_opts {
  const char *socket; /* absolute; $ROT_SOCKET or the default if not given */
  int json;
  int has_type;
  uint32_t type;
  int activate;
  int verify;
  const char *region; /* names a region of the default layout */
  int boot;
  int has_offset;
  uint32_t offset;
  int has_length;
  uint32_t length;
  const char *out;
  int force;
  const char *keys;
  const char *otp;
  int has_svn;
  uint32_t svn;
  int has_min_svn;
  uint32_t min_svn;
  const char *version;
  uint16_t ver[3];
  int has_load_addr;
  uint64_t load_addr;
  int has_entry;
  uint64_t entry;
  int has_key_index;
  uint32_t key_index;
  int dev_only;
  int without_trial;
  int has_to;
  uint32_t to; /* rot_lifecycle_t */
  int confirm;
  int pem;
  int has_ek_cert_sha384;
  uint8_t ek_cert_sha384[48]; /* SHA-384 */
  const char *ak_public;
  char **operands; /* exactly command_t.operands of them */
} rotctl_opts_t;

/* ---- commands ----------------------------------------------------------- */

typedef struct command command_t;
typedef struct rotctl rotctl_t;

struct command {
  const char *name;     /* word on the command line */
  int (*run)(rotctl_t *c);
  const char *args;     /* synopsis after the name */
  const char *summary;
  const char *help;     /* printed after the summary line, or NULL */
  unsigned opts;        /* O_* accepted */
  int operands;         /* exact number of operands */
  const char *operand_names; /* "one IMAGE", "IN and OUT" (for errors) */
  const command_t *subs; /* sub-commands (a group), NULL-name terminated */
  const char *full;     /* name as shown in messages ("otp show") */
};

/* One run of one command: its row, its options, and rotd when used. */
struct rotctl {
  const command_t *cmd;
  rotctl_opts_t o;
  int connected;        /* the first rotctl_call connects */
  rot_mbox_client_t cl;
  uint32_t hint_type;   /* image type a refusal's hint talks about, or 0 */
};

/* The command families (one file each), NULL-name terminated. */
extern const command_t rotctl_image_commands[];
extern const command_t rotctl_otp_commands[];
extern const command_t rotctl_update_commands[];
extern const command_t rotctl_daemon_commands[];
extern const command_t rotctl_identity_commands[];

/**
 * Parse argv (argv[0] is the command's name) against cmd->opts and
 * cmd->operands into o. Returns -1 to go on, or an exit status: the help
 * was printed (EXIT_OK), or the command line is wrong (EXIT_USAGE, one
 * line printed).
 */
int rotctl_parse(const command_t *cmd, int argc, char **argv,
                 rotctl_opts_t *o);

void rotctl_print_help(const command_t *cmd, FILE *f);

/* ---- messages ----------------------------------------------------------- */

/* A failed check or I/O: "rotctl: <what>[ <obj>]: <reason>", EXIT_FAIL. */
__attribute__((format(printf, 3, 4))) int fail(const char *what,
                                               const char *obj,
                                               const char *fmt, ...);

/* A failure the core reported: "[ctx: ]NAME (reason)". */
int fail_rot(const char *what, const char *obj, const char *ctx,
             rot_error_t err);

/* fail_rot, then "; hint" (what to do next), when hint is not NULL. */
int fail_rot_hint(const char *what, const char *obj, const char *ctx,
                  rot_error_t err, const char *hint);

/* A key directory call failed: names the file it tripped on. */
struct rot_keydir;
int fail_keydir(const char *what, const char *obj, const char *dir,
                const struct rot_keydir *kd, rot_error_t err);

/* A --json command that failed before printing its document: print one
 * ({"command", "ok": false, "error", "reason"}) from the last failure. */
void rotctl_json_failure(const command_t *cmd);

/* A wrong command line: one line pointing at --help, EXIT_USAGE. The
 * message is kept for the --json failure document (error
 * ROT_ERROR_INVALID_ARGUMENT). */
__attribute__((format(printf, 2, 3))) int usage_error(const command_t *cmd,
                                                      const char *fmt, ...);

/* Whether the command line asks cmd for --json (or an abbreviation
 * getopt_long would take), even when parsing it failed. */
int rotctl_argv_wants_json(const command_t *cmd, int argc, char **argv);

/* ---- the output writer ---------------------------------------------------
 * Human output is plain printf to stdout; --json output is built with
 * json-c (every string escaped) and printed, indented, when the outermost
 * container closes. Containers are opened and closed in order; a key is
 * NULL inside an array.
 */
#define JW_MAX_DEPTH 8

typedef struct jw {
  json_object *stack[JW_MAX_DEPTH];
  int depth;
} jw_t;

#define JW_INIT {{NULL}, 0}

void jw_open(jw_t *j, const char *key, char brace);
void jw_close(jw_t *j, char brace);
void jw_str(jw_t *j, const char *key, const char *v);
void jw_u64(jw_t *j, const char *key, uint64_t v);
void jw_bool(jw_t *j, const char *key, int v);
void jw_hex(jw_t *j, const char *key, const uint8_t *p, size_t n);
/* Addresses as hex strings: readable, and exact beyond 2^53. */
void jw_addr(jw_t *j, const char *key, uint64_t v);
/* A chip status code by its symbolic name. */
void jw_err(jw_t *j, const char *key, uint32_t err);

void put_hex(FILE *f, const uint8_t *p, size_t n);
/* The image types in mask, comma-separated ("none" when empty). */
void type_list(uint32_t mask, char *out, size_t cap);

/* Names for human and JSON output. */
const char *type_name(uint32_t t);     /* "unknown" when not a type */
const char *slot_name(uint32_t s);     /* "a", "b" or "-" */
const char *region_name(uint32_t r);   /* "none" when out of range */
const char *status_word(uint32_t err); /* "ok" or the error's name */

/* The chip's records as status, update and boot print them. */
void print_version(const rot_mbox_image_info_t *i);
void jw_info(jw_t *j, const char *key, const rot_mbox_image_info_t *i);
void jw_type_state(jw_t *j, const char *key,
                     const rot_mbox_type_state_t *t);

/* ---- rotd ----------------------------------------------------------------- */

/**
 * One mailbox call to rotd at c->o.socket, connecting on the first. On a
 * connection or transport failure, or a refusal, prints the one-line
 * error ("what: NAME (reason)", what NULL: "refused") and returns
 * EXIT_FAIL. The reply stays valid until the next call.
 */
int rotctl_call(rotctl_t *c, uint16_t command, const uint8_t *req,
                uint32_t req_len, const char *what, const uint8_t **reply,
                uint32_t *reply_len);

/** rotctl_call in two halves (rot_mbox_send, rot_mbox_receive), for
 * requests kept in flight; same messages and exit codes. */
int rotctl_send(rotctl_t *c, uint16_t command, const uint8_t *req,
                uint32_t req_len, uint32_t *seq);
int rotctl_receive(rotctl_t *c, uint16_t command, uint32_t seq,
                   const char *what, const uint8_t **reply,
                   uint32_t *reply_len);

/* The reply arrived but does not decode: a protocol fault. */
int rotctl_bad_reply(const rotctl_t *c, uint16_t command, rot_error_t err);

/* STATUS, decoded. */
int rotctl_get_status(rotctl_t *c, rot_mbox_status_t *st);

/* Drop the connection (rotctl_main does after every command). */
void rotctl_disconnect(rotctl_t *c);

#endif /* ROTCTL_H */
