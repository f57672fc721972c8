/* Text and JSON rendering of an event log and its replay. */
#include "bootchain/logprint.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "rot/policy.h"
#include "rot/util.h"
#include "rot_client/names.h"

#define DESC_CAP 512u
#define HEX_PREVIEW 64u

/* Bounded appender: never writes past cap, always NUL-terminated. */
typedef struct sbuf {
  char *p;
  size_t cap;
  size_t len;
} sbuf_t;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf_t *b,
                                                            const char *fmt,
                                                            ...) {
  if (b->len + 1 >= b->cap) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0) {
    return;
  }
  b->len += (size_t)n;
  if (b->len >= b->cap) {
    b->len = b->cap - 1;
  }
}

static void sb_hex(sbuf_t *b, const uint8_t *p, size_t n, size_t max) {
  size_t shown = n < max ? n : max;
  for (size_t i = 0; i < shown; i++) {
    sb_printf(b, "%02x", p[i]);
  }
  if (shown < n) {
    sb_printf(b, "... (%zu bytes)", n);
  }
}

/* Printable ASCII as is (quoted), anything else as \xNN. */
static void sb_text(sbuf_t *b, const uint8_t *p, size_t n) {
  sb_printf(b, "\"");
  for (size_t i = 0; i < n && i < 256u; i++) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
      sb_printf(b, "%c", p[i]);
    } else {
      sb_printf(b, "\\x%02x", p[i]);
    }
  }
  sb_printf(b, "\"%s", n > 256u ? "..." : "");
}

/* All n bytes printable ASCII. */
static int printable(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 0x20u || p[i] > 0x7eu) {
      return 0;
    }
  }
  return 1;
}

/* A UCS-2LE string with a final NUL, all printable ASCII. */
static int ucs2_ascii(const uint8_t *p, size_t n) {
  if (n < 2 || n % 2 != 0 || rot_ld16(p + n - 2) != 0) {
    return 0;
  }
  for (size_t i = 0; i + 2 < n; i += 2) {
    uint16_t ch = rot_ld16(p + i);
    if (ch < 0x20 || ch > 0x7e) {
      return 0;
    }
  }
  return 1;
}

static void sb_ucs2(sbuf_t *b, const uint8_t *p, size_t chars) {
  sb_printf(b, "\"");
  for (size_t i = 0; i < chars; i++) {
    uint16_t ch = rot_ld16(p + 2 * i);
    if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
      sb_printf(b, "%c", (char)ch);
    } else {
      sb_printf(b, "\\u%04x", ch);
    }
  }
  sb_printf(b, "\"");
}

static const char *type_name_or_null(uint32_t t) {
  const char *n = rot_image_type_name(t);
  return n != NULL ? n : "unknown";
}

static void describe_variable(sbuf_t *b, const bc_log_event_t *ev) {
  bc_ev_variable_t v;
  if (bc_ev_variable_decode(ev->data, ev->data_len, &v) != ROT_OK) {
    sb_printf(b, "malformed UEFI_VARIABLE_DATA: ");
    sb_hex(b, ev->data, ev->data_len, HEX_PREVIEW);
    return;
  }
  sb_printf(b, "variable ");
  sb_ucs2(b, v.name, (size_t)v.name_chars);
  if (!rot_memeq(v.guid, bc_ev_vendor_guid, BC_EV_GUID_LEN)) {
    sb_printf(b, " (foreign vendor GUID) = ");
    sb_hex(b, v.value, (size_t)v.value_len, HEX_PREVIEW);
    return;
  }
  const uint8_t *d = v.value;
  size_t n = (size_t)v.value_len;
  if (bc_ev_variable_is(&v, BC_EV_VAR_LIFECYCLE) && n == 4) {
    sb_printf(b, " = %s (%" PRIu32 ")", rot_lifecycle_name(rot_ld32(d)),
              rot_ld32(d));
  } else if (bc_ev_variable_is(&v, BC_EV_VAR_REVOKED_KEYS) && n == 4) {
    sb_printf(b, " = 0x%08" PRIx32, rot_ld32(d));
  } else if (bc_ev_variable_is(&v, BC_EV_VAR_SVN_FLOORS) && n == 32) {
    sb_printf(b, " =");
    for (size_t i = 0; i < 8; i++) {
      sb_printf(b, " %" PRIu32, rot_ld32(d + 4 * i));
    }
  } else if (bc_ev_variable_is(&v, BC_EV_VAR_SIGNER_KEYS) && n >= 4 &&
             (n - 4) / 8 == rot_ld32(d) && (n - 4) % 8 == 0) {
    sb_printf(b, " =");
    for (uint32_t i = 0; i < rot_ld32(d); i++) {
      const uint8_t *e = d + 4 + 8 * i;
      sb_printf(b, "%s %s:key%" PRIu32, i ? "," : "",
                type_name_or_null(rot_ld32(e)), rot_ld32(e + 4));
    }
  } else {
    sb_printf(b, " = ");
    sb_hex(b, d, n, HEX_PREVIEW);
  }
}

static void describe_boot_config(sbuf_t *b, const bc_log_event_t *ev) {
  const uint8_t *d = ev->data;
  size_t n = ev->data_len;
  if (n < BC_EV_BOOT_CONFIG_FIXED || rot_ld32(d) != BC_EV_TAG_BOOT_CONFIG ||
      rot_ld32(d + 4) != n - 8 ||
      rot_ld32(d + 8) != BC_EV_BOOT_CONFIG_VERSION ||
      rot_ld32(d + 16) > BC_EV_BOOT_CONFIG_MAX_IMAGES ||
      n != BC_EV_BOOT_CONFIG_FIXED +
               (size_t)rot_ld32(d + 16) * BC_EV_BOOT_CONFIG_IMAGE) {
    sb_printf(b, "tagged event: ");
    sb_hex(b, d, n, HEX_PREVIEW);
    return;
  }
  uint32_t slot = rot_ld32(d + 12);
  sb_printf(b, "boot config: slot %s",
            slot == 0 ? "A" : slot == 1 ? "B" : slot == 0xff ? "recovery" : "?");
  const uint8_t *e = d + BC_EV_BOOT_CONFIG_FIXED;
  for (uint32_t i = 0; i < rot_ld32(d + 16); i++, e += BC_EV_BOOT_CONFIG_IMAGE) {
    sb_printf(b, ", %s %u.%u.%u svn %" PRIu32, type_name_or_null(rot_ld32(e)),
              rot_ld16(e + 8), rot_ld16(e + 10), rot_ld16(e + 12),
              rot_ld32(e + 4));
  }
}

void bc_log_describe_event(const bc_log_event_t *ev, char *dst, size_t cap) {
  if (dst == NULL || cap == 0) {
    return;
  }
  sbuf_t b = {.p = dst, .cap = cap, .len = 0};
  dst[0] = '\0';
  if (ev == NULL) {
    return;
  }
  const uint8_t *d = ev->data;
  size_t n = ev->data_len;
  switch (ev->type) {
    case BC_EV_NO_ACTION: {
      static const char kSig[] = BC_LOG_STARTUP_LOCALITY_SIGNATURE;
      if (n == BC_LOG_STARTUP_LOCALITY_LEN && rot_memeq(d, kSig, sizeof(kSig))) {
        sb_printf(&b, "StartupLocality %u (not extended; PCR 0 starts at it)",
                  d[sizeof(kSig)]);
      } else {
        sb_printf(&b, "not extended: ");
        sb_text(&b, d, n < 16u ? n : 16u);
        if (n > 16u) {
          sb_printf(&b, " + %zu bytes", n - 16u);
        }
      }
      return;
    }
    case BC_EV_S_CRTM_VERSION:
      if (ucs2_ascii(d, n)) {
        sb_printf(&b, "S-CRTM version ");
        sb_ucs2(&b, d, n / 2 - 1);
        return;
      }
      break;
    case BC_EV_SEPARATOR:
      if (n == 4) {
        sb_printf(&b, "separator 0x%08" PRIx32 "%s", rot_ld32(d),
                  rot_ld32(d) == 0 ? "" : " (error)");
        return;
      }
      break;
    case BC_EV_EFI_PLATFORM_FIRMWARE_BLOB:
    case BC_EV_S_CRTM_CONTENTS:
    case BC_EV_TABLE_OF_DEVICES:
      if (n == BC_EV_BLOB_LEN) {
        sb_printf(&b, "%s: base 0x%" PRIx64 ", length %" PRIu64,
                  ev->type == BC_EV_TABLE_OF_DEVICES ? "device tree"
                                                     : "firmware blob",
                  rot_ld64(d), rot_ld64(d + 8));
        return;
      }
      break;
    case BC_EV_EFI_BOOT_SERVICES_APPLICATION:
    case BC_EV_EFI_BOOT_SERVICES_DRIVER:
    case BC_EV_EFI_RUNTIME_SERVICES_DRIVER:
      if (n >= BC_EV_IMAGE_LOAD_LEN) {
        sb_printf(&b,
                  "image: location 0x%" PRIx64 ", length %" PRIu64
                  ", link address 0x%" PRIx64 ", device path %" PRIu64
                  " bytes",
                  rot_ld64(d), rot_ld64(d + 8), rot_ld64(d + 16),
                  rot_ld64(d + 24));
        return;
      }
      break;
    case BC_EV_PLATFORM_CONFIG_FLAGS:
      if (n == BC_EV_PLATFORM_CONFIG_LEN &&
          rot_memeq(d, BC_EV_PLATFORM_CONFIG_MAGIC, 4) &&
          rot_ld32(d + 4) == BC_EV_PLATFORM_CONFIG_VERSION) {
        sb_printf(&b,
                  "platform config: lifecycle %s (%" PRIu32
                  "), locked regions 0x%08" PRIx32,
                  rot_lifecycle_name(rot_ld32(d + 8)), rot_ld32(d + 8),
                  rot_ld32(d + 12));
        return;
      }
      break;
    case BC_EV_EVENT_TAG:
      describe_boot_config(&b, ev);
      return;
    case BC_EV_EFI_VARIABLE_DRIVER_CONFIG:
    case BC_EV_EFI_VARIABLE_AUTHORITY:
    case BC_EV_EFI_VARIABLE_BOOT:
      describe_variable(&b, ev);
      return;
    case BC_EV_POST_CODE:
      if (n == BC_EV_BLOB_LEN && !printable(d, n)) {
        sb_printf(&b, "POST code blob: base 0x%" PRIx64 ", length %" PRIu64,
                  rot_ld64(d), rot_ld64(d + 8));
        return;
      }
      sb_printf(&b, "text ");
      sb_text(&b, d, n);
      return;
    case BC_EV_EFI_ACTION:
    case BC_EV_ACTION:
    case BC_EV_IPL:
      sb_printf(&b, "text ");
      sb_text(&b, d, n);
      return;
    default:
      break;
  }
  if (n == 0) {
    sb_printf(&b, "no data");
    return;
  }
  sb_printf(&b, "data ");
  sb_hex(&b, d, n, HEX_PREVIEW);
}

/* ---- output -------------------------------------------------------------- */

typedef struct print_ctx {
  FILE *out;            /* text output; NULL when building JSON */
  json_object *events;  /* JSON: the events array */
  const rot_crypto_t *c;
  int json;
  int bad_check;
  uint32_t digests_checked;   /* data-bound digests compared, equal */
  uint32_t digests_unchecked; /* data-bound digests not compared */
} print_ctx_t;

static void put_hex(FILE *out, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fprintf(out, "%02x", p[i]);
  }
}

static json_object *hex_string(const uint8_t *p, size_t n) {
  char *buf = malloc(2 * n + 1);
  if (buf == NULL) {
    return NULL;
  }
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    buf[2 * i] = kHex[p[i] >> 4];
    buf[2 * i + 1] = kHex[p[i] & 0xf];
  }
  buf[2 * n] = '\0';
  json_object *o = json_object_new_string_len(buf, (int)(2 * n));
  free(buf);
  return o;
}

static const char *type_label(uint32_t type) {
  const char *n = bc_log_event_type_name(type);
  return n != NULL ? n : "unknown";
}

static const char *alg_label(uint16_t alg) {
  const char *n = bc_log_alg_name(alg);
  return n != NULL ? n : "unknown";
}

static int popcount(uint32_t v) {
  int n = 0;
  for (; v != 0; v &= v - 1u) {
    n++;
  }
  return n;
}

/* "sha1, sha512" for the banks in mask. */
static void bank_list(sbuf_t *b, const bc_log_header_t *h, uint32_t mask) {
  int first = 1;
  for (uint32_t i = 0; i < h->bank_count; i++) {
    if ((mask & (1u << i)) != 0) {
      sb_printf(b, "%s%s", first ? "" : ", ", alg_label(h->banks[i].alg));
      first = 0;
    }
  }
}

static rot_error_t print_visit(void *vctx, const bc_log_header_t *h,
                               const bc_log_event_t *ev) {
  print_ctx_t *pc = vctx;
  FILE *out = pc->out;
  char desc[DESC_CAP];
  bc_log_describe_event(ev, desc, sizeof(desc));
  /* check: the verdict; detail: which banks were not compared. */
  const char *check = "n/a";
  char detail[128];
  sbuf_t db = {.p = detail, .cap = sizeof(detail), .len = 0};
  detail[0] = '\0';
  if (bc_log_event_is_data_bound(h, ev)) {
    uint32_t ok_mask = 0;
    uint32_t skipped = 0;
    rot_error_t err = bc_log_check_event_banks(pc->c, h, ev, &ok_mask, &skipped);
    if (err == ROT_OK) {
      check = "ok";
      pc->digests_checked += (uint32_t)popcount(ok_mask);
    } else if (err == ROT_ERROR_EVENTLOG_UNCHECKED) {
      pc->digests_checked += (uint32_t)popcount(ok_mask);
      pc->digests_unchecked += (uint32_t)popcount(skipped);
      check = ok_mask != 0 ? "partly checked" : "not checked";
      bank_list(&db, h, skipped);
    } else {
      check = "MISMATCH";
      pc->bad_check = 1;
    }
  }
  if (pc->json) {
    json_object *e = json_object_new_object();
    json_object_object_add(e, "index", json_object_new_int64(ev->index));
    json_object_object_add(e, "offset", json_object_new_int64((int64_t)ev->offset));
    json_object_object_add(e, "pcr", json_object_new_int64(ev->pcr));
    json_object_object_add(e, "type", json_object_new_int64(ev->type));
    json_object_object_add(e, "type_name", json_object_new_string(type_label(ev->type)));
    json_object *dg = json_object_new_object();
    for (uint32_t i = 0; i < h->bank_count; i++) {
      json_object_object_add(dg, alg_label(h->banks[i].alg),
                             ev->digests[i] == NULL
                                 ? NULL
                                 : hex_string(ev->digests[i], h->banks[i].size));
    }
    json_object_object_add(e, "digests", dg);
    json_object_object_add(e, "data_len", json_object_new_int64(ev->data_len));
    json_object_object_add(e, "data", hex_string(ev->data, ev->data_len));
    json_object_object_add(e, "decoded", json_object_new_string(desc));
    json_object_object_add(e, "extended",
                           json_object_new_boolean(ev->type != BC_EV_NO_ACTION));
    json_object_object_add(e, "data_check", json_object_new_string(check));
    if (detail[0] != '\0') {
      json_object_object_add(e, "not_checked", json_object_new_string(detail));
    }
    json_object_array_add(pc->events, e);
    return ROT_OK;
  }
  fprintf(out, "event %" PRIu32 ": PCR %" PRIu32 " %s (0x%08" PRIx32 ")",
          ev->index, ev->pcr, type_label(ev->type), ev->type);
  fprintf(out, ", %" PRIu32 " data bytes\n", ev->data_len);
  for (uint32_t i = 0; i < h->bank_count; i++) {
    fprintf(out, "  %-7s ", alg_label(h->banks[i].alg));
    if (ev->digests[i] == NULL) {
      fputs("(absent: the record carries no digest of this bank)", out);
    } else {
      put_hex(out, ev->digests[i], h->banks[i].size);
    }
    fputc('\n', out);
  }
  fprintf(out, "  %s\n", desc);
  if (strcmp(check, "n/a") == 0) {
    return ROT_OK;
  }
  if (detail[0] == '\0') {
    fprintf(out, "  digest = hash of data: %s\n", check);
  } else if (strcmp(check, "not checked") == 0) {
    fprintf(out, "  digest = hash of data: not checked (%s: no such hash here, "
                 "or no digest)\n", detail);
  } else {
    fprintf(out, "  digest = hash of data: ok in the other banks; not checked "
                 "in %s\n", detail);
  }
  return ROT_OK;
}

static json_object *header_json(const bc_log_header_t *h) {
  json_object *o = json_object_new_object();
  json_object *banks = json_object_new_array();
  if (h->format == BC_LOG_FORMAT_SHA1) {
    json_object_object_add(o, "format", json_object_new_string("sha1"));
    json_object *b = json_object_new_object();
    json_object_object_add(b, "alg", json_object_new_string("sha1"));
    json_object_object_add(b, "id", json_object_new_int(BC_ALG_SHA1));
    json_object_object_add(b, "size", json_object_new_int(20));
    json_object_array_add(banks, b);
    json_object_object_add(o, "banks", banks);
    return o;
  }
  json_object_object_add(o, "format", json_object_new_string("crypto-agile"));
  json_object_object_add(o, "signature", json_object_new_string("Spec ID Event03"));
  json_object_object_add(o, "platform_class", json_object_new_int64(h->platform_class));
  char ver[16];
  snprintf(ver, sizeof(ver), "%u.%u", h->spec_version_major, h->spec_version_minor);
  json_object_object_add(o, "spec_version", json_object_new_string(ver));
  json_object_object_add(o, "spec_errata", json_object_new_int(h->spec_errata));
  json_object_object_add(o, "uintn_size", json_object_new_int(h->uintn_size));
  for (uint32_t i = 0; i < h->bank_count; i++) {
    json_object *b = json_object_new_object();
    json_object_object_add(b, "alg", json_object_new_string(alg_label(h->banks[i].alg)));
    json_object_object_add(b, "id", json_object_new_int(h->banks[i].alg));
    json_object_object_add(b, "size", json_object_new_int(h->banks[i].size));
    json_object_array_add(banks, b);
  }
  json_object_object_add(o, "banks", banks);
  json_object_object_add(o, "vendor_info", hex_string(h->vendor_info, h->vendor_info_size));
  return o;
}

static void print_header(FILE *out, const bc_log_header_t *h) {
  if (h->format == BC_LOG_FORMAT_SHA1) {
    fprintf(out, "header: none, a TCG 1.2 log (SHA-1 records only)\n"
                 "  banks: sha1\n");
    return;
  }
  fprintf(out,
          "header: Spec ID Event03, platform class %" PRIu32
          ", spec %u.%u errata %u, uintn size %u, %zu bytes\n  banks:",
          h->platform_class, h->spec_version_major, h->spec_version_minor,
          h->spec_errata, h->uintn_size, h->header_len);
  for (uint32_t i = 0; i < h->bank_count; i++) {
    fprintf(out, " %s", alg_label(h->banks[i].alg));
  }
  fputc('\n', out);
}

/* Why a bank has no replayed values. */
static const char *not_replayed_reason(const bc_log_pcr_bank_t *b) {
  return b->incomplete ? "some events carry no digest of this bank"
                       : "no such hash here";
}

/* PCR 0 has a value even when nothing extends it, once a StartupLocality
 * event names a locality. */
static uint32_t shown_pcrs(const bc_log_replay_t *r) {
  uint32_t shown = r->extended_mask;
  if (r->header.has_startup_locality && r->header.startup_locality != 0) {
    shown |= 1u;
  }
  return shown;
}

static void pcrs_json(json_object *top, const bc_log_replay_t *r) {
  const bc_log_header_t *h = &r->header;
  uint32_t shown = shown_pcrs(r);
  json_object_object_add(top, "event_count", json_object_new_int64(h->event_count));
  if (h->has_startup_locality) {
    json_object_object_add(top, "startup_locality",
                           json_object_new_int(h->startup_locality));
  }
  json_object *pcrs = json_object_new_object();
  json_object *skipped = json_object_new_object();
  for (uint32_t i = 0; i < h->bank_count; i++) {
    const bc_log_pcr_bank_t *b = &r->banks[i];
    if (b->replayed != HARDENED_TRUE) {
      json_object_object_add(skipped, alg_label(b->alg),
                             json_object_new_string(not_replayed_reason(b)));
      continue;
    }
    json_object *bank = json_object_new_object();
    for (uint32_t p = 0; p < BC_LOG_PCR_COUNT; p++) {
      if ((shown & (1u << p)) != 0) {
        char idx[4];
        snprintf(idx, sizeof(idx), "%" PRIu32, p);
        json_object_object_add(bank, idx, hex_string(b->pcr[p], b->size));
      }
    }
    json_object_object_add(pcrs, alg_label(b->alg), bank);
  }
  json_object_object_add(top, "pcrs", pcrs);
  json_object_object_add(top, "not_replayed", skipped);
}

static void print_pcrs(FILE *out, const bc_log_replay_t *r) {
  const bc_log_header_t *h = &r->header;
  uint32_t shown = shown_pcrs(r);
  fprintf(out, "%" PRIu32 " events\n", h->event_count);
  if (h->has_startup_locality) {
    fprintf(out, "startup locality %u: PCR 0 starts at 0...0%02x\n",
            h->startup_locality, h->startup_locality);
  }
  fprintf(out, "replayed PCRs:\n");
  for (uint32_t i = 0; i < h->bank_count; i++) {
    const bc_log_pcr_bank_t *b = &r->banks[i];
    if (b->replayed != HARDENED_TRUE) {
      fprintf(out, "  %s: not replayed (%s)\n", alg_label(b->alg),
              not_replayed_reason(b));
      continue;
    }
    fprintf(out, "  %s:\n", alg_label(b->alg));
    for (uint32_t p = 0; p < BC_LOG_PCR_COUNT; p++) {
      if ((shown & (1u << p)) == 0) {
        continue;
      }
      fprintf(out, "    %2" PRIu32 ": ", p);
      put_hex(out, b->pcr[p], b->size);
      fputc('\n', out);
    }
  }
}

/* Banks the replay could not follow. */
static int any_not_replayed(const bc_log_replay_t *r) {
  for (uint32_t i = 0; i < r->header.bank_count; i++) {
    if (r->banks[i].replayed != HARDENED_TRUE) {
      return 1;
    }
  }
  return 0;
}

static void print_summary(FILE *out, const print_ctx_t *pc,
                          const bc_log_header_t *h) {
  if (h->warnings & BC_LOG_WARN_MISSING_DIGESTS) {
    fprintf(out,
            "warning: %" PRIu32 " events carry fewer digests than the header's %" PRIu32
            " banks; a bank they lack is not replayed\n",
            h->short_events, h->bank_count);
  }
  fprintf(out, "data-bound digests: %" PRIu32 " checked, %" PRIu32 " not checked\n",
          pc->digests_checked, pc->digests_unchecked);
}

/*
 * One walk for both renderings: the header on its own first, so a bad
 * record still shows what came before it; then every record; then the
 * replay. top is the JSON object being built, or NULL for text on out.
 */
static rot_error_t render(FILE *out, json_object *top, const uint8_t *buf,
                          size_t len, const rot_crypto_t *c, unsigned flags) {
  uint32_t mode = (flags & BC_LOG_PRINT_STRICT) != 0 ? BC_LOG_STRICT
                                                     : BC_LOG_FIRMWARE;
  print_ctx_t pc;
  memset(&pc, 0, sizeof(pc));
  pc.out = out;
  pc.c = c;
  pc.json = top != NULL;
  bc_log_header_t h;
  memset(&h, 0, sizeof(h));

  rot_error_t err = bc_log_parse_mode(buf, len, mode, &h, NULL, NULL);
  int have_header = err == ROT_OK || h.bank_count != 0;
  if (top != NULL) {
    if (have_header) {
      json_object_object_add(top, "header", header_json(&h));
    }
    pc.events = json_object_new_array();
    json_object_object_add(top, "events", pc.events);
  }
  if (have_header) {
    if (top == NULL) {
      print_header(out, &h);
    }
    err = bc_log_parse_mode(buf, len, mode, &h, print_visit, &pc);
  }

  bc_log_replay_t replay;
  memset(&replay, 0, sizeof(replay));
  if (err == ROT_OK) {
    err = bc_log_replay_mode(buf, len, mode, c, &replay);
  }
  if (err == ROT_OK) {
    if (top != NULL) {
      pcrs_json(top, &replay);
      json_object_object_add(top, "digests_checked",
                             json_object_new_int64(pc.digests_checked));
      json_object_object_add(top, "digests_not_checked",
                             json_object_new_int64(pc.digests_unchecked));
      json_object_object_add(top, "events_missing_digests",
                             json_object_new_int64(replay.header.short_events));
    } else {
      print_pcrs(out, &replay);
      print_summary(out, &pc, &replay.header);
    }
  }
  if (err == ROT_OK && pc.bad_check) {
    err = ROT_ERROR_EVENTLOG_BAD_EVENT;
  }
  /* Not compared is never reported as checked. */
  if (err == ROT_OK && (pc.digests_unchecked != 0 || any_not_replayed(&replay))) {
    err = ROT_ERROR_EVENTLOG_UNCHECKED;
  }
  if (top != NULL) {
    json_object_object_add(top, "result", json_object_new_string(
        err == ROT_OK ? "ok" : rot_error_name(err)));
    if (err != ROT_OK) {
      json_object_object_add(top, "error", json_object_new_string(rot_error_str(err)));
    }
  } else if (err != ROT_OK) {
    fprintf(out, "%s: %s (%s)\n",
            err == ROT_ERROR_EVENTLOG_UNCHECKED ? "incomplete" : "error",
            rot_error_str(err), rot_error_name(err));
  }
  return err;
}

rot_error_t bc_log_to_json(const uint8_t *buf, size_t len,
                           const rot_crypto_t *c, unsigned flags,
                           struct json_object **out) {
  if (out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = NULL;
  if (c == NULL || (buf == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  json_object *top = json_object_new_object();
  if (top == NULL) {
    return ROT_ERROR_INTERNAL;
  }
  rot_error_t err = render(NULL, top, buf, len, c, flags);
  *out = top;
  return err;
}

rot_error_t bc_log_print(FILE *out, const uint8_t *buf, size_t len,
                         const rot_crypto_t *c, unsigned flags) {
  if (out == NULL || c == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if ((flags & BC_LOG_PRINT_JSON) == 0) {
    return render(out, NULL, buf, len, c, flags);
  }
  json_object *top = NULL;
  rot_error_t err = bc_log_to_json(buf, len, c, flags, &top);
  if (top == NULL) {
    return err;
  }
  fputs(json_object_to_json_string_ext(
            top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                     JSON_C_TO_STRING_NOSLASHESCAPE),
        out);
  fputc('\n', out);
  json_object_put(top);
  return err;
}
