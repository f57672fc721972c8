/*
 * rotctl's chip family, each command a few mailbox calls to rotd: status,
 * inventory, boot, reset, lock, audit, read-region.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rot/audit.h"
#include "rot/error.h"
#include "rot/flash.h"
#include "rot/image.h"
#include "rot/mailbox.h"
#include "rot_client/mbox_replies.h"
#include "rot/policy.h"
#include "rot/update.h"
#include "rot_client/names.h"
#include "rot_client/mbox_requests.h"
#include "rot_host/file.h"
#include "rot_client/mbox_client.h"
#include "rotctl.h"

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

/* ---- status ------------------------------------------------------------------------ */

static int cmd_status(rotctl_t *c) {
  int rc = EXIT_OK;
  rot_mbox_status_t st;
  rc = rotctl_get_status(c, &st);
  if (rc != EXIT_OK) {
    return rc;
  }
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "socket", c->o.socket);
    jw_str(&j, "lifecycle", rot_lifecycle_name(st.lifecycle));
    jw_hex(&j, "root_key_hash", st.root_key_hash, sizeof(st.root_key_hash));
    jw_u64(&j, "revoked_keys", st.revoked_keys);
    jw_u64(&j, "flash_size", st.flash_size);
    jw_u64(&j, "erase_size", st.erase_size);
    jw_open(&j, "locked", '[');
    for (uint32_t i = 0; i < 32; i++) {
      if (st.locked_mask & (1u << i)) {
        jw_str(&j, NULL, region_name(i));
      }
    }
    jw_close(&j, ']');
    jw_open(&j, "session", '{');
    jw_bool(&j, "open", st.session_open != 0);
    if (st.session_open) {
      jw_str(&j, "type", type_name(st.session_type));
      jw_u64(&j, "declared", st.session_declared);
      jw_u64(&j, "written", st.session_written);
    }
    jw_close(&j, '}');
    jw_u64(&j, "audit_next_seq", st.audit_next_seq);
    jw_open(&j, "rot_firmware", '{');
    jw_bool(&j, "booted", st.rom_reason != ROT_BOOT_NONE);
    jw_str(&j, "reason", rot_boot_reason_name(st.rom_reason));
    if (st.rom_reason != ROT_BOOT_NONE) {
      jw_str(&j, "region", region_name(st.rom_region));
      char ver[24];
      snprintf(ver, sizeof(ver), "%u.%u.%u", st.rom_ver_major,
               st.rom_ver_minor, st.rom_ver_patch);
      jw_str(&j, "version", ver);
      jw_u64(&j, "svn", st.rom_svn);
    } else {
      jw_str(&j, "why", rot_error_name((rot_error_t)st.rom_why));
    }
    jw_bool(&j, "recovery_only", st.rom_reason == ROT_BOOT_NONE &&
                                     st.lifecycle != ROT_LIFECYCLE_DECOMMISSIONED);
    jw_close(&j, '}');
    jw_open(&j, "types", '[');
    for (uint32_t i = 0; i < st.type_count; i++) {
      jw_type_state(&j, NULL, &st.types[i]);
    }
    jw_close(&j, ']');
    jw_close(&j, '}');
    return EXIT_OK;
  }
  printf("rotd:          %s\n", c->o.socket);
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
  printf("audit:         next record %u\n", st.audit_next_seq);
  printf("rot firmware:  ");
  if (st.rom_reason != ROT_BOOT_NONE) {
    printf("%s %u.%u.%u svn %u (booted at this reset: %s)\n\n",
           region_name(st.rom_region), st.rom_ver_major, st.rom_ver_minor,
           st.rom_ver_patch, st.rom_svn, rot_boot_reason_name(st.rom_reason));
  } else if (st.lifecycle == ROT_LIFECYCLE_DECOMMISSIONED) {
    printf("none (decommissioned: no identity, recovery boots only)\n\n");
  } else {
    printf("none (%s): recovery commands only\n\n",
           rot_error_name((rot_error_t)st.rom_why));
  }
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

static int cmd_inventory(rotctl_t *c) {
  int rc = EXIT_OK;
  const uint8_t *r;
  uint32_t rl;
  static rot_mbox_inventory_t inv;
  rc = rotctl_call(c, ROT_MBOX_CMD_INVENTORY, NULL, 0, "inventory", &r, &rl);
  if (rc == EXIT_OK) {
    rot_error_t err = rot_mbox_inventory_decode(r, rl, &inv);
    if (err != ROT_OK) {
      rc = rotctl_bad_reply(c, ROT_MBOX_CMD_INVENTORY, err);
    }
  }
  if (rc != EXIT_OK) {
    return rc;
  }
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '[');
    for (uint32_t i = 0; i < inv.count; i++) {
      const rot_mbox_inventory_entry_t *e = &inv.entries[i];
      jw_open(&j, NULL, '{');
      jw_str(&j, "region", e->name);
      jw_str(&j, "region_type", type_name(e->region_type));
      jw_str(&j, "slot", e->slot == ROT_SLOT_NONE ? NULL : slot_name(e->slot));
      jw_bool(&j, "active", (e->flags & ROT_MBOX_INV_ACTIVE) != 0);
      jw_bool(&j, "pending", (e->flags & ROT_MBOX_INV_PENDING) != 0);
      jw_bool(&j, "staged", (e->flags & ROT_MBOX_INV_STAGED) != 0);
      jw_bool(&j, "locked", (e->flags & ROT_MBOX_INV_LOCKED) != 0);
      jw_bool(&j, "empty", (e->flags & ROT_MBOX_INV_EMPTY) != 0);
      jw_bool(&j, "verified", (e->flags & ROT_MBOX_INV_VERIFIED) != 0);
      jw_err(&j, "status", e->status);
      if (e->flags & ROT_MBOX_INV_HEADER) {
        jw_info(&j, "image", &e->info);
      }
      jw_close(&j, '}');
    }
    jw_close(&j, ']');
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

/* ---- boot ---------------------------------------------------------------------------- */

static int cmd_boot(rotctl_t *c) {
  int rc = EXIT_OK;
  if (!c->o.has_type) {
    return usage_error(c->cmd, "--type TYPE is required");
  }
  rot_mbox_type_req_t t = {c->o.type};
  uint8_t req[ROT_MBOX_TYPE_REQ_SIZE];
  size_t n = 0;
  rot_mbox_boot_resp_t b;
  const uint8_t *r;
  uint32_t rl;
  rc = rot_mbox_type_req_encode(&t, req, sizeof(req), &n) == ROT_OK
           ? rotctl_call(c, ROT_MBOX_CMD_BOOT, req, (uint32_t)n, "boot decision", &r,
                  &rl)
           : EXIT_FAIL;
  if (rc == EXIT_OK) {
    rot_error_t err = rot_mbox_boot_resp_decode(r, rl, &b);
    if (err != ROT_OK) {
      rc = rotctl_bad_reply(c, ROT_MBOX_CMD_BOOT, err);
    }
  }
  if (rc != EXIT_OK) {
    return rc;
  }
  int none = b.reason == ROT_BOOT_NONE;
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "type", type_name(c->o.type));
    jw_str(&j, "reason", rot_boot_reason_name(b.reason));
    jw_err(&j, "why", b.why);
    if (!none) {
      jw_info(&j, "image", &b.info);
    }
    jw_close(&j, '}');
  } else if (none) {
    return fail("boot", NULL, "%s: nothing boots: %s (%s)", type_name(c->o.type),
                rot_error_name((rot_error_t)b.why),
                rot_error_str((rot_error_t)b.why));
  } else {
    printf("%s: boot %s (%s): %s ", type_name(c->o.type), region_name(b.info.region),
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

static int cmd_reset(rotctl_t *c) {
  int rc = EXIT_OK;
  const uint8_t *r;
  uint32_t rl;
  rc = rotctl_call(c, ROT_MBOX_CMD_RESET, NULL, 0, "chip", &r, &rl);
  if (rc != EXIT_OK) {
    return rc;
  }
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_bool(&j, "reset", 1);
    jw_close(&j, '}');
    return EXIT_OK;
  }
  printf("chip reset: locks cleared; the next boot decides afresh\n");
  return EXIT_OK;
}

/* ---- lock ------------------------------------------------------------------------------- */

static int cmd_lock(rotctl_t *c) {
  int rc = EXIT_OK;
  if ((c->o.region != NULL) == (c->o.boot != 0)) {
    return usage_error(c->cmd, "give exactly one of --region NAME and --boot");
  }
  rot_mbox_lock_req_t l = {
      c->o.boot ? ROT_MBOX_LOCK_BOOT
             : (uint32_t)rot_flash_region_by_name(&rot_flash_layout_default,
                                                  c->o.region)};
  uint8_t req[ROT_MBOX_LOCK_REQ_SIZE];
  size_t n = 0;
  rot_mbox_lock_resp_t resp;
  const uint8_t *r;
  uint32_t rl;
  rc = rot_mbox_lock_req_encode(&l, req, sizeof(req), &n) == ROT_OK
           ? rotctl_call(c, ROT_MBOX_CMD_LOCK, req, (uint32_t)n,
                  c->o.boot ? "boot regions" : c->o.region, &r, &rl)
           : EXIT_FAIL;
  if (rc == EXIT_OK) {
    rot_error_t err = rot_mbox_lock_resp_decode(r, rl, &resp);
    if (err != ROT_OK) {
      rc = rotctl_bad_reply(c, ROT_MBOX_CMD_LOCK, err);
    }
  }
  if (rc != EXIT_OK) {
    return rc;
  }
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_open(&j, "locked", '[');
    for (uint32_t i = 0; i < 32; i++) {
      if (resp.locked_mask & (1u << i)) {
        jw_str(&j, NULL, region_name(i));
      }
    }
    jw_close(&j, ']');
    jw_close(&j, '}');
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
    case ROT_AUDIT_UPDATE_FINISH:
    case ROT_AUDIT_UPDATE_ABORT: {
      const char *what = r->event == ROT_AUDIT_UPDATE_BEGIN    ? "len"
                         : r->event == ROT_AUDIT_UPDATE_FINISH ? "svn"
                                                               : "written";
      int n = snprintf(buf, cap, "type=%s %s=%u", type_name(r->arg0), what,
                       r->arg1);
      /* The window the record's step opened or closed (format 2). */
      uint32_t w = rot_audit_record_ext(r);
      const char *region = region_name(w & ROT_AUDIT_WINDOW_REGION_MASK);
      if (w != ROT_AUDIT_EXT_NONE && n >= 0 && (size_t)n < cap) {
        snprintf(buf + n, cap - (size_t)n, "%s%s%s%s",
                 (w & ROT_AUDIT_WINDOW_OPENED) ? " opened=" : "",
                 (w & ROT_AUDIT_WINDOW_OPENED) ? region : "",
                 (w & ROT_AUDIT_WINDOW_CLOSED) ? " closed=" : "",
                 (w & ROT_AUDIT_WINDOW_CLOSED) ? region : "");
      }
      break;
    }
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
    case ROT_AUDIT_BOOT: {
      int n = snprintf(buf, cap, "type=%s region=%s", type_name(r->arg0),
                       region_name(r->arg1));
      /* Format 2 names the regions the decision locked; a format-1
       * record has no such word (its locks are gate-lock records). */
      uint32_t locked = rot_audit_record_ext(r);
      if (locked == ROT_AUDIT_EXT_NONE || n < 0 || (size_t)n >= cap) {
        break;
      }
      n += snprintf(buf + n, cap - (size_t)n, " locked=");
      const char *sep = "";
      for (uint32_t i = 0; i < 32 && n >= 0 && (size_t)n < cap; i++) {
        if (locked & (1u << i)) {
          n += snprintf(buf + n, cap - (size_t)n, "%s%s", sep, region_name(i));
          sep = ",";
        }
      }
      if (n >= 0 && (size_t)n < cap && *sep == '\0') {
        snprintf(buf + n, cap - (size_t)n, "none");
      }
      break;
    }
    case ROT_AUDIT_DAEMON_START:
      buf[0] = '\0';
      break;
    case ROT_AUDIT_PEER_REFUSED:
      snprintf(buf, cap, "uid=%u pid=%u", r->arg0, r->arg1);
      break;
    case ROT_AUDIT_CONFIRM_UNTRIED:
      snprintf(buf, cap, "type=%s svn=%u", type_name(r->arg0), r->arg1);
      break;
    case ROT_AUDIT_LIFECYCLE_REQUEST:
    case ROT_AUDIT_LIFECYCLE:
      snprintf(buf, cap, "%s -> %s", rot_lifecycle_name(r->arg0),
               rot_lifecycle_name(r->arg1));
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

static int cmd_audit(rotctl_t *c) {
  int rc = EXIT_OK;
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
        rotctl_call(c, ROT_MBOX_CMD_AUDIT_READ, req, (uint32_t)ql, "audit read", &r,
             &rl) != EXIT_OK) {
      rc = EXIT_FAIL;
      goto out;
    }
    rot_error_t err = rot_mbox_audit_read_resp_decode(r, rl, &resp);
    if (err != ROT_OK) {
      rc = rotctl_bad_reply(c, ROT_MBOX_CMD_AUDIT_READ, err);
      goto out;
    }
    if (n + resp.count > cap) {
      size_t ncap = (n + resp.count) * 2u;
      rot_audit_record_t *g = realloc(recs, ncap * sizeof(*recs));
      if (g == NULL) {
        rc = fail("audit", NULL, "out of memory");
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
  if (c->o.verify) {
    const uint8_t *r;
    uint32_t rl;
    if (rotctl_call(c, ROT_MBOX_CMD_AUDIT_VERIFY, NULL, 0, "audit verify", &r, &rl) != EXIT_OK) {
      rc = EXIT_FAIL;
      goto out;
    }
    rot_error_t err = rot_mbox_audit_report_decode(r, rl, &rep);
    if (err != ROT_OK) {
      rc = rotctl_bad_reply(c, ROT_MBOX_CMD_AUDIT_VERIFY, err);
      goto out;
    }
  }
  int bad = c->o.verify && rep.verdict != ROT_OK;
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_open(&j, "records", '[');
    for (size_t i = 0; i < n; i++) {
      char d[256];
      describe(&recs[i], d, sizeof(d));
      jw_open(&j, NULL, '{');
      jw_u64(&j, "seq", recs[i].seq);
      jw_u64(&j, "timestamp", recs[i].timestamp);
      jw_str(&j, "event", rot_audit_event_name(recs[i].event));
      jw_err(&j, "status", recs[i].status);
      jw_u64(&j, "arg0", recs[i].arg0);
      jw_u64(&j, "arg1", recs[i].arg1);
      if (rot_audit_record_ext(&recs[i]) != ROT_AUDIT_EXT_NONE) {
        jw_u64(&j, "ext", rot_audit_record_ext(&recs[i]));
      }
      jw_str(&j, "detail", d);
      jw_close(&j, '}');
    }
    jw_close(&j, ']');
    if (c->o.verify) {
      jw_open(&j, "verify", '{');
      jw_bool(&j, "ok", !bad);
      jw_err(&j, "verdict", (uint32_t)rep.verdict);
      jw_u64(&j, "records", rep.records);
      jw_u64(&j, "torn", rep.torn);
      jw_u64(&j, "first_seq", rep.first_seq);
      jw_u64(&j, "last_seq", rep.last_seq);
      jw_u64(&j, "bad_seq", rep.bad_seq);
      jw_close(&j, '}');
    }
    jw_close(&j, '}');
  } else {
    printf("%6s %-20s %-14s %-32s %s\n", "seq", "time (UTC)", "event", "status",
           "detail");
    for (size_t i = 0; i < n; i++) {
      char t[40];
      char d[256];
      format_time(recs[i].timestamp, t, sizeof(t));
      describe(&recs[i], d, sizeof(d));
      printf("%6u %-20s %-14s %-32s %s%s\n", recs[i].seq, t,
             rot_audit_event_name(recs[i].event), status_word(recs[i].status),
             d, bad && recs[i].seq == rep.bad_seq ? "   <-- chain breaks here"
                                                   : "");
    }
    if (c->o.verify) {
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
    rc = fail("audit", NULL, "chain does not verify at seq %u: %s (%s)", rep.bad_seq,
              rot_error_name(rep.verdict), rot_error_str(rep.verdict));
  } else {
    rc = EXIT_OK;
  }
out:
  free(recs);
  return rc;
}

/* ---- read-region ------------------------------------------------------------------------ */

static int cmd_read_region(rotctl_t *c) {
  int rc = EXIT_OK;
  if (c->o.region == NULL) {
    return usage_error(c->cmd, "--region NAME is required");
  }
  if (c->o.out == NULL) {
    return usage_error(c->cmd, "--out FILE is required ('-': stdout)");
  }
  int region = rot_flash_region_by_name(&rot_flash_layout_default, c->o.region);
  uint32_t size = rot_flash_layout_default.regions[region].size;
  if (c->o.offset > size) {
    return usage_error(c->cmd, "--offset %u is past the end of %s (%u bytes)",
                       c->o.offset, c->o.region, size);
  }
  uint32_t length = c->o.has_length ? c->o.length : size - c->o.offset;
  uint8_t *buf = malloc(length == 0 ? 1 : length);
  if (buf == NULL) {
    return fail("read-region", NULL, "out of memory for %u bytes", length);
  }
  for (uint32_t done = 0; done < length && rc == EXIT_OK;) {
    uint32_t n = length - done < ROT_MBOX_READ_MAX ? length - done
                                                   : ROT_MBOX_READ_MAX;
    rot_mbox_read_req_t q = {(uint32_t)region, c->o.offset + done, n};
    uint8_t req[ROT_MBOX_READ_REQ_SIZE];
    size_t ql = 0;
    const uint8_t *r;
    uint32_t rl;
    if (rot_mbox_read_req_encode(&q, req, sizeof(req), &ql) != ROT_OK) {
      rc = EXIT_FAIL;
      break;
    }
    rc = rotctl_call(c, ROT_MBOX_CMD_READ_REGION, req, (uint32_t)ql, c->o.region, &r,
              &rl);
    if (rc == EXIT_OK && rl != n) {
      rc = rotctl_bad_reply(c, ROT_MBOX_CMD_READ_REGION, ROT_ERROR_MAILBOX_BAD_LENGTH);
    }
    if (rc == EXIT_OK) {
      memcpy(buf + done, r, n);
      done += n;
    }
  }
  if (rc == EXIT_OK) {
    if (strcmp(c->o.out, "-") == 0) {
      if (fwrite(buf, 1, length, stdout) != length) {
        rc = fail("read-region", NULL, "cannot write to stdout");
      }
    } else {
      rot_error_t err = rot_file_write(c->o.out, buf, length, 0644);
      if (err != ROT_OK) {
        rc = fail_rot("read-region", NULL, c->o.out, err);
      }
    }
  }
  free(buf);
  return rc;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

/*
 * One one-way step, sent from the state the chip reports now. Without
 * --confirm the request goes without its confirmation word, so the chip
 * itself refuses it, and records the refusal.
 */
static int cmd_lifecycle(rotctl_t *c) {
  if (!c->o.has_to) {
    return usage_error(c->cmd, "--to production|decommissioned is required");
  }
  rot_mbox_status_t st;
  int rc = rotctl_get_status(c, &st);
  if (rc != EXIT_OK) {
    return rc;
  }
  rot_mbox_lifecycle_req_t q = {st.lifecycle, c->o.to,
                                c->o.confirm ? ROT_MBOX_LIFECYCLE_CONFIRM : 0u};
  uint8_t req[ROT_MBOX_LIFECYCLE_REQ_SIZE];
  size_t n = 0;
  const uint8_t *r;
  uint32_t rl;
  uint32_t now = 0;
  char what[96];
  snprintf(what, sizeof(what), "%s -> %s", rot_lifecycle_name(st.lifecycle),
           rot_lifecycle_name(c->o.to));
  rc = rot_mbox_lifecycle_req_encode(&q, req, sizeof(req), &n) == ROT_OK
           ? rotctl_call(c, ROT_MBOX_CMD_LIFECYCLE, req, (uint32_t)n, what, &r,
                         &rl)
           : EXIT_FAIL;
  if (rc == EXIT_OK) {
    rot_error_t err = rot_mbox_lifecycle_resp_decode(r, rl, &now);
    if (err != ROT_OK) {
      rc = rotctl_bad_reply(c, ROT_MBOX_CMD_LIFECYCLE, err);
    }
  }
  if (rc != EXIT_OK) {
    return rc;
  }
  if (c->o.json) {
    jw_t j = JW_INIT;
    jw_open(&j, NULL, '{');
    jw_str(&j, "from", rot_lifecycle_name(st.lifecycle));
    jw_str(&j, "lifecycle", rot_lifecycle_name(now));
    jw_close(&j, '}');
    return EXIT_OK;
  }
  printf("lifecycle: %s -> %s (fuse burnt; the chip has reset)\n",
         rot_lifecycle_name(st.lifecycle), rot_lifecycle_name(now));
  return EXIT_OK;
}

/* ---- the family ------------------------------------------------------------------ */

const command_t rotctl_daemon_commands[] = {
    {"status", cmd_status, "[--socket PATH] [--json]",
     "Show the chip: lifecycle, fuses, locks, update session, per-type slots.",
     "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --json          machine-readable output\n",
     O_DAEMON | O_JSON, 0, NULL, NULL, "status"},
    {"inventory", cmd_inventory, "[--socket PATH] [--json]",
     "List every image region: image, version, SVN, signer, verified or why not.",
     "Each image is verified in place against the fuses, as a boot would.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --json          machine-readable output\n",
     O_DAEMON | O_JSON, 0, NULL, NULL, "inventory"},
    {"boot", cmd_boot, "[--socket PATH] --type TYPE [--json]",
     "Run the boot decision for a type (counts a trial boot).",
     "Prints the region that boots and why; exit 1 when nothing verifies.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --type TYPE     rot, opensbi, hypervisor or dtb (required)\n"
    "  --json          machine-readable output\n",
     O_DAEMON | O_JSON | O_TYPE, 0, NULL, NULL, "boot"},
    {"lock", cmd_lock, "[--socket PATH] (--region NAME | --boot) [--json]",
     "Lock flash regions read-only until the chip resets (rotctl reset).",
     "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --region NAME   one image region (see 'rotctl inventory'); the chip's\n"
    "                  own regions (nvcfg, state, audit) cannot be locked\n"
    "  --boot          every host boot region: opensbi, hypervisor and dtb\n"
    "                  slots and both recovery slots\n"
    "  --json          machine-readable output\n",
     O_DAEMON | O_JSON | O_REGION | O_BOOT, 0, NULL, NULL, "lock"},
    {"reset", cmd_reset, "[--socket PATH] [--json]",
     "Reset the chip: locks cleared, the next boot decides afresh.",
     "\nWhat a power cycle of the chip does: an open update session is\n"
    "abandoned, every region lock is cleared, the update state and the audit\n"
    "log are read back from flash, and the next boot takes a new decision\n"
    "(a trial boot then counts its next attempt). Operators only.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --json          machine-readable output\n",
     O_DAEMON | O_JSON, 0, NULL, NULL, "reset"},
    {"audit", cmd_audit, "[--socket PATH] [--verify] [--json]",
     "Print the audit log; --verify also checks its hash chain.",
     "With --verify, exit 1 when the chain is tampered with or truncated.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --verify        check every link and report the verdict\n"
    "  --json          machine-readable output\n",
     O_DAEMON | O_JSON | O_VERIFY, 0, NULL, NULL, "audit"},
    {"read-region", cmd_read_region, "[--socket PATH] --region NAME [--offset N] [--length N] --out FILE",
     "Copy bytes of a flash region (through the gate) to FILE ('-': stdout).",
     "The chip-private regions (nvcfg, state) are refused by the gate.\n"
    "\noptions:\n"
    "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
    "  --region NAME   region to read (see 'rotctl inventory')\n"
    "  --offset N      first byte, relative to the region (default 0)\n"
    "  --length N      bytes to read (default: to the end of the region)\n"
    "  --out FILE      where to write them; '-' for stdout\n",
     O_DAEMON | O_REGION | O_OFFSET | O_LENGTH | O_OUT, 0, NULL, NULL, "read-region"},
    {"lifecycle", cmd_lifecycle,
     "[--socket PATH] --to production|decommissioned --confirm [--json]",
     "Move the device one lifecycle step forward, for good (an OTP fuse).",
     "dev -> production: dev-only images stop booting. production ->\n"
     "decommissioned (rma): only the recovery image boots, the device secret\n"
     "is never read again, and updates are refused. One step at a time, and\n"
     "never back; each is recorded in the audit log before and after the\n"
     "fuse burns, and the chip resets after it. Without --confirm the chip\n"
     "refuses (and records the refusal). States and fuse values:\n"
     "docs/image-format.md.\n"
     "\noptions:\n"
     "  --socket PATH   rotd's socket (default: $ROT_SOCKET, else run/rotd.sock)\n"
     "  --to STATE      production, or decommissioned (also: rma)\n"
     "  --confirm       yes, burn the fuse: this cannot be undone\n"
     "  --json          machine-readable output\n",
     O_DAEMON | O_JSON | O_TO | O_CONFIRM, 0, NULL, NULL, "lifecycle"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};
