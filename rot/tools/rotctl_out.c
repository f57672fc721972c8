/*
 * rotctl's one output writer: the one-line failure messages on stderr,
 * the --json writer (json-c, so every string is escaped), and the names
 * human and JSON output share.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/flash.h"
#include "rot/image.h"
#include "rot/mailbox.h"
#include "rot/update.h"
#include "rot_client/names.h"
#include "rot_client/keydir.h"
#include "rot_host/file.h"
#include "rotctl.h"

/* ---- messages --------------------------------------------------------------- */

/* The last failure, for the --json document a failed command still owes,
 * and whether a document was printed already. */
static char g_fail_text[1024];
static rot_error_t g_fail_err = ROT_OK;
static int g_json_printed;

int fail(const char *what, const char *obj, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_fail_text, sizeof(g_fail_text), fmt, ap);
  va_end(ap);
  fputs("rotctl: ", stderr);
  fputs(what, stderr);
  if (obj != NULL) {
    fprintf(stderr, " %s", obj);
  }
  fprintf(stderr, ": %s\n", g_fail_text);
  return EXIT_FAIL;
}

int fail_rot_hint(const char *what, const char *obj, const char *ctx,
                  rot_error_t err, const char *hint) {
  /* A file the OS refused: its reason (EACCES, ENOENT, ...) too. */
  int os = rot_error_module(err) == ROT_MOD_IO ? rot_file_last_errno() : 0;
  int rc = fail(what, obj, "%s%s%s (%s%s%s)%s%s", ctx != NULL ? ctx : "",
                ctx != NULL ? ": " : "", rot_error_name(err),
                rot_error_str(err), os != 0 ? ": " : "",
                os != 0 ? strerror(os) : "", hint != NULL ? "; " : "",
                hint != NULL ? hint : "");
  g_fail_err = err;
  return rc;
}

int fail_rot(const char *what, const char *obj, const char *ctx,
             rot_error_t err) {
  return fail_rot_hint(what, obj, ctx, err, NULL);
}

void rotctl_json_failure(const command_t *cmd) {
  if (g_json_printed) {
    return;
  }
  jw_t j = JW_INIT;
  jw_open(&j, NULL, '{');
  jw_str(&j, "command", cmd->full);
  jw_bool(&j, "ok", 0);
  jw_str(&j, "error", g_fail_err != ROT_OK ? rot_error_name(g_fail_err) : NULL);
  jw_str(&j, "reason", g_fail_text);
  jw_close(&j, '}');
}

int usage_error(const command_t *cmd, const char *fmt, ...) {
  va_list ap;
  char msg[sizeof(g_fail_text) - 64];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(g_fail_text, sizeof(g_fail_text), "%s (try 'rotctl %s --help')",
           msg, cmd->full);
  g_fail_err = ROT_ERROR_INVALID_ARGUMENT;
  fprintf(stderr, "rotctl: %s: %s\n", cmd->full, g_fail_text);
  return EXIT_USAGE;
}

int fail_keydir(const char *what, const char *obj, const char *dir,
                const struct rot_keydir *kd, rot_error_t err) {
  char ctx[4200];
  snprintf(ctx, sizeof(ctx), "keys %s%s%s", dir, kd->bad_file[0] ? "/" : "",
           kd->bad_file);
  if (err == ROT_ERROR_HOST_KEY_MISMATCH) {
    /* Say which key of which manifest it is not. */
    unsigned n = 0;
    const char *f = strrchr(kd->bad_file, '/');
    f = f != NULL ? f + 1 : kd->bad_file;
    if (sscanf(f, "sign-%u.", &n) == 1) {
      g_fail_err = err;
      return fail(what, obj, "%s: %s: this key does not match signing key %u "
                  "of the manifest (%s/manifest.bin); sign with the key the "
                  "manifest certifies, or give --key-index for another",
                  ctx, rot_error_name(err), n, dir);
    }
  }
  return fail_rot(what, obj, ctx, err);
}

/* ---- JSON --------------------------------------------------------------------- */

/* Out of memory in json-c: nothing sensible remains to print. */
static json_object *must(json_object *o) {
  if (o == NULL) {
    fputs("rotctl: out of memory\n", stderr);
    exit(EXIT_FAIL);
  }
  return o;
}

/* Adds v to the open container: under key in an object, appended in an
 * array. With nothing open, v is the document and is held on the stack. */
static void jw_add(jw_t *j, const char *key, json_object *v) {
  if (j->depth == 0) {
    j->stack[0] = v;
    return;
  }
  json_object *top = j->stack[j->depth - 1];
  int rc = json_object_is_type(top, json_type_array)
               ? json_object_array_add(top, v)
               : json_object_object_add(top, key != NULL ? key : "", v);
  if (rc != 0) {
    json_object_put(v);
    must(NULL);
  }
}

void jw_open(jw_t *j, const char *key, char brace) {
  if (j->depth >= JW_MAX_DEPTH) {
    fputs("rotctl: JSON nested too deep\n", stderr);
    exit(EXIT_FAIL);
  }
  json_object *o =
      must(brace == '[' ? json_object_new_array() : json_object_new_object());
  jw_add(j, key, o);
  j->stack[j->depth++] = o;
}

void jw_close(jw_t *j, char brace) {
  (void)brace;
  if (j->depth == 0) {
    return;
  }
  j->depth--;
  if (j->depth == 0) {
    g_json_printed = 1;
    const char *s = json_object_to_json_string_ext(
        j->stack[0], JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                         JSON_C_TO_STRING_NOSLASHESCAPE);
    if (s == NULL) {
      must(NULL);
    }
    fputs(s, stdout);
    fputc('\n', stdout);
    json_object_put(j->stack[0]);
    j->stack[0] = NULL;
  }
}

void jw_str(jw_t *j, const char *key, const char *v) {
  jw_add(j, key, v == NULL ? NULL : must(json_object_new_string(v)));
}

void jw_u64(jw_t *j, const char *key, uint64_t v) {
  jw_add(j, key, must(json_object_new_uint64(v)));
}

void jw_bool(jw_t *j, const char *key, int v) {
  jw_add(j, key, must(json_object_new_boolean(v != 0)));
}

void jw_hex(jw_t *j, const char *key, const uint8_t *p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  char *s = malloc(2 * n + 1);
  if (s == NULL) {
    must(NULL);
  }
  for (size_t i = 0; i < n; i++) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15u];
  }
  s[2 * n] = '\0';
  jw_str(j, key, s);
  free(s);
}

void jw_addr(jw_t *j, const char *key, uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
  jw_str(j, key, buf);
}

void jw_err(jw_t *j, const char *key, uint32_t err) {
  jw_str(j, key, rot_error_name((rot_error_t)err));
}

/* ---- human output and names ------------------------------------------------------ */

void put_hex(FILE *f, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "%02x", p[i]);
  }
}

void type_list(uint32_t mask, char *out, size_t cap) {
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

const char *type_name(uint32_t t) {
  const char *n = rot_image_type_name(t);
  return n != NULL ? n : "unknown";
}

const char *slot_name(uint32_t s) {
  return s == ROT_SLOT_A ? "a" : s == ROT_SLOT_B ? "b" : "-";
}

const char *region_name(uint32_t r) {
  return r < ROT_RGN_COUNT ? rot_flash_layout_default.regions[r].name : "none";
}

const char *status_word(uint32_t err) {
  return err == (uint32_t)ROT_OK ? "ok" : rot_error_name((rot_error_t)err);
}

/* ---- the chip's records, as several commands print them -------------------------- */

void print_version(const rot_mbox_image_info_t *i) {
  printf("%u.%u.%u", i->ver_major, i->ver_minor, i->ver_patch);
}

void jw_info(jw_t *j, const char *key, const rot_mbox_image_info_t *i) {
  char ver[32];
  snprintf(ver, sizeof(ver), "%u.%u.%u", i->ver_major, i->ver_minor,
           i->ver_patch);
  jw_open(j, key, '{');
  jw_str(j, "type", type_name(i->image_type));
  jw_str(j, "region", i->region == ROT_MBOX_REGION_NONE
                            ? NULL
                            : region_name(i->region));
  jw_str(j, "version", ver);
  jw_u64(j, "svn", i->svn);
  jw_u64(j, "key_index", i->key_index);
  jw_u64(j, "payload_len", i->payload_len);
  jw_u64(j, "image_len", i->image_len);
  jw_hex(j, "payload_sha384", i->payload_digest, sizeof(i->payload_digest));
  jw_close(j, '}');
}

void jw_type_state(jw_t *j, const char *key,
                     const rot_mbox_type_state_t *t) {
  jw_open(j, key, '{');
  jw_str(j, "type", type_name(t->image_type));
  jw_str(j, "active", t->active == ROT_SLOT_NONE ? NULL : slot_name(t->active));
  jw_str(j, "pending",
           t->pending == ROT_SLOT_NONE ? NULL : slot_name(t->pending));
  jw_str(j, "staged", t->staged == ROT_SLOT_NONE ? NULL : slot_name(t->staged));
  jw_u64(j, "attempts_left", t->attempts_left);
  jw_u64(j, "svn_floor", t->svn_floor);
  jw_u64(j, "floor_pending", t->floor_pending);
  jw_close(j, '}');
}
