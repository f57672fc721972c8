/*
 * rotd: the security chip as a daemon.
 *
 * It holds the flash and OTP files (exclusive locks, mode 0600) and is the
 * only way to reach them: every request arrives as a mailbox frame on a
 * Unix SOCK_SEQPACKET socket (docs/mailbox.md), is checked, and goes
 * through the flash gate and the update engine of the core. One thread,
 * one poll loop, a few clients; anything malformed gets an error reply
 * and the loop goes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rot/audit.h"
#include "rot/error.h"
#include "rot/flash.h"
#include "rot/gate.h"
#include "rot/mailbox.h"
#include "rot/otp.h"
#include "rot/update.h"
#include "rot/util.h"
#include "rot_host/crypto_mbedtls.h"
#include "rot_host/file.h"
#include "rot_host/flash_file.h"
#include "rot_host/parse.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define MAX_CLIENTS 8
#define MAX_ALLOW 16
#define DEFAULT_IDLE_TIMEOUT 30u

typedef struct client {
  int fd; /* -1: free */
  uint32_t id; /* connection id, never 0, never reused */
  uid_t uid;
  pid_t pid;
  hardened_bool_t authorized; /* from the peer's uid, at accept */
  int refusal_logged; /* one audit record per refused connection */
  uint64_t last_activity; /* monotonic seconds */
} client_t;

typedef struct rotd {
  const rot_flash_layout_t *layout;
  rot_flash_file_t flash;
  rot_otp_file_t otp;
  rot_gate_t gate;
  rot_audit_t audit;
  rot_update_t update;
  uint8_t *scratch;
  /* Connection that began the open update session (0: none). */
  uint32_t session_owner;
  uid_t allow[MAX_ALLOW];
  size_t n_allow;
  uint64_t idle_timeout;
  const char *socket_path;
  int listen_fd;
  client_t clients[MAX_CLIENTS];
  uint32_t next_id;
  uint8_t rx[ROT_MBOX_MAX_FRAME];
  uint8_t tx[ROT_MBOX_MAX_FRAME];
} rotd_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static uint64_t wall_now(void) { return (uint64_t)time(NULL); }

/* The idle timeout must not jump with the wall clock. */
static uint64_t mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

/* ---- helpers for handlers ---------------------------------------------- */

static int is_image_region(const rot_flash_region_t *r) {
  return r->kind == ROT_REGION_SLOT || r->kind == ROT_REGION_RECOVERY;
}

/* The host boot images: every image region but the chip's own firmware. */
static int is_boot_region(const rot_flash_region_t *r) {
  return is_image_region(r) && r->image_type != ROT_IMAGE_TYPE_ROT;
}

static uint32_t locked_mask(const rotd_t *d) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (rot_gate_is_locked(&d->gate, i) == HARDENED_TRUE) {
      m |= 1u << i;
    }
  }
  return m;
}

static int session_open(const rotd_t *d) {
  return d->update.session.open == HARDENED_TRUE;
}

/* The engine may close a session by itself (finish, a failed chunk,
 * expiry); ownership ends with it. */
static void sync_owner(rotd_t *d) {
  if (!session_open(d)) {
    d->session_owner = 0;
  }
}

/* Another connection's session: this client may not touch it. */
static rot_error_t owner_check(const rotd_t *d, const client_t *c) {
  if (session_open(d) && d->session_owner != c->id) {
    return ROT_ERROR_UPDATE_BUSY;
  }
  return ROT_OK;
}

static void type_state(const rotd_t *d, const rot_policy_t *pol, uint32_t type,
                       rot_mbox_type_state_t *out) {
  memset(out, 0, sizeof(*out));
  out->image_type = type;
  out->active = out->pending = out->staged = ROT_SLOT_NONE;
  if (type < ROT_IMAGE_TYPE_SLOTS) {
    const rot_type_state_t *ts = &d->update.state.types[type];
    out->active = ts->active;
    out->pending = ts->pending;
    out->staged = ts->staged;
    out->attempts_left = ts->attempts_left;
    out->floor_pending = ts->floor_pending;
    out->svn_floor = pol->svn_floor[type];
  }
}

static void info_from_verified(const rot_verified_image_t *v, uint32_t region,
                               uint32_t image_len, rot_mbox_image_info_t *out) {
  memset(out, 0, sizeof(*out));
  out->image_type = v->image_type;
  out->region = region;
  out->svn = v->svn;
  out->key_index = v->key_index;
  out->ver_major = v->ver_major;
  out->ver_minor = v->ver_minor;
  out->ver_patch = v->ver_patch;
  out->payload_len = v->payload_len;
  out->image_len = image_len;
  memcpy(out->payload_digest, v->payload_digest, sizeof(out->payload_digest));
  /* What the signature covered, so the host can check the header and
   * manifest it reads back, not only the payload. */
  memcpy(out->signed_digest, v->signed_digest, sizeof(out->signed_digest));
}

/* ---- command handlers ------------------------------------------------------ */

typedef rot_error_t (*handler_fn)(rotd_t *d, client_t *c, const uint8_t *req,
                                  uint32_t req_len, uint8_t *out, size_t cap,
                                  size_t *out_len);

static rot_error_t h_status(rotd_t *d, client_t *c, const uint8_t *req,
                            uint32_t req_len, uint8_t *out, size_t cap,
                            size_t *out_len) {
  (void)c;
  (void)req;
  (void)req_len;
  rot_policy_t pol;
  ROT_TRY(rot_otp_policy(&d->otp.port, &pol));
  rot_mbox_status_t st;
  memset(&st, 0, sizeof(st));
  st.lifecycle = pol.lifecycle;
  st.revoked_keys = pol.revoked_keys;
  memcpy(st.root_key_hash, pol.root_key_hash, sizeof(st.root_key_hash));
  st.flash_size = d->layout->flash_size;
  st.erase_size = d->layout->erase_size;
  st.locked_mask = locked_mask(d);
  if (session_open(d)) {
    st.session_open = 1;
    st.session_type = d->update.session.image_type;
    st.session_declared = d->update.session.declared_len;
    st.session_written = d->update.session.written;
  }
  st.audit_next_seq = d->audit.next_seq;
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    type_state(d, &pol, t, &st.types[st.type_count++]);
  }
  return rot_mbox_status_encode(&st, out, cap, out_len);
}

/* One image region as the operator sees it: what the header claims, and
 * what a full verification against the fuses says. */
static void inventory_entry(rotd_t *d, uint32_t region,
                            rot_mbox_inventory_entry_t *e) {
  const rot_flash_region_t *r = &d->layout->regions[region];
  memset(e, 0, sizeof(*e));
  e->region = (uint8_t)region;
  e->slot = (uint8_t)r->slot;
  e->kind = (uint8_t)r->kind;
  e->region_type = r->image_type;
  snprintf(e->name, sizeof(e->name), "%s", r->name);
  e->info.region = region;
  if (rot_gate_is_locked(&d->gate, region) == HARDENED_TRUE) {
    e->flags |= ROT_MBOX_INV_LOCKED;
  }
  if (is_image_region(r) && r->image_type < ROT_IMAGE_TYPE_SLOTS) {
    const rot_type_state_t *ts = &d->update.state.types[r->image_type];
    if (ts->active == r->slot) {
      e->flags |= ROT_MBOX_INV_ACTIVE;
    }
    if (ts->pending == r->slot) {
      e->flags |= ROT_MBOX_INV_PENDING;
    }
    if (ts->staged == r->slot) {
      e->flags |= ROT_MBOX_INV_STAGED;
    }
  }
  if (session_open(d) && d->update.session.region == region) {
    e->status = ROT_ERROR_UPDATE_BUSY; /* half written: not an image yet */
    return;
  }
  uint8_t hb[ROT_IMAGE_HEADER_SIZE];
  rot_error_t err = rot_gate_read(&d->gate, ROT_INIT_CHIP, region, 0, hb,
                                  sizeof(hb));
  if (err != ROT_OK) {
    e->status = err;
    return;
  }
  rot_image_header_t h;
  if (rot_image_header_parse(hb, sizeof(hb), &h) == ROT_OK) {
    e->flags |= ROT_MBOX_INV_HEADER;
    e->info.image_type = h.image_type;
    e->info.svn = h.svn;
    e->info.key_index = h.key_index;
    e->info.ver_major = h.ver_major;
    e->info.ver_minor = h.ver_minor;
    e->info.ver_patch = h.ver_patch;
    e->info.payload_len = h.payload_len;
    e->info.image_len = (uint32_t)rot_image_expected_len(&h);
    memcpy(e->info.payload_digest, h.payload_digest,
           sizeof(e->info.payload_digest));
    /* signed_digest stays zero: a parsed header proves nothing about
     * the bytes; only a verification below fills it in. */
  }
  rot_verified_image_t v;
  uint32_t len = 0;
  err = rot_update_verify_region(&d->update, region, r->image_type, &v, &len);
  if (err == ROT_ERROR_BOOT_EMPTY_SLOT) {
    e->flags |= ROT_MBOX_INV_EMPTY;
  }
  if (err == ROT_OK && rot_verified_check(&v) == ROT_OK) {
    e->flags |= ROT_MBOX_INV_VERIFIED;
    info_from_verified(&v, region, len, &e->info);
    e->status = ROT_OK;
  } else {
    e->status = err != ROT_OK ? err : ROT_ERROR_BOOT_NOT_VERIFIED;
  }
}

static rot_error_t h_inventory(rotd_t *d, client_t *c, const uint8_t *req,
                               uint32_t req_len, uint8_t *out, size_t cap,
                               size_t *out_len) {
  (void)c;
  (void)req;
  (void)req_len;
  static rot_mbox_inventory_t inv; /* large; one request at a time */
  memset(&inv, 0, sizeof(inv));
  for (uint32_t i = 0; i < ROT_RGN_COUNT && inv.count < ROT_MBOX_INVENTORY_MAX;
       i++) {
    if (is_image_region(&d->layout->regions[i])) {
      inventory_entry(d, i, &inv.entries[inv.count++]);
    }
  }
  return rot_mbox_inventory_encode(&inv, out, cap, out_len);
}

static rot_error_t h_read_region(rotd_t *d, client_t *c, const uint8_t *req,
                                 uint32_t req_len, uint8_t *out, size_t cap,
                                 size_t *out_len) {
  (void)c;
  rot_mbox_read_req_t r;
  ROT_TRY(rot_mbox_read_req_decode(req, req_len, &r));
  if (r.length > cap) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  /* The host's own initiator: the gate keeps chip-private regions out of
   * reach and records the attempt. */
  ROT_TRY(rot_gate_read(&d->gate, ROT_INIT_HOST, r.region, r.offset, out,
                        r.length));
  *out_len = r.length;
  return ROT_OK;
}

static rot_error_t h_begin(rotd_t *d, client_t *c, const uint8_t *req,
                           uint32_t req_len, uint8_t *out, size_t cap,
                           size_t *out_len) {
  rot_mbox_begin_req_t b;
  ROT_TRY(rot_mbox_begin_req_decode(req, req_len, &b));
  ROT_TRY(owner_check(d, c));
  ROT_TRY(rot_update_begin(&d->update, b.image_type, b.total_len));
  d->session_owner = c->id;
  rot_mbox_begin_resp_t resp;
  resp.region = d->update.session.region;
  resp.slot = d->layout->regions[resp.region].slot;
  resp.chunk_max = ROT_UPDATE_CHUNK_MAX < ROT_MBOX_CHUNK_DATA_MAX
                       ? ROT_UPDATE_CHUNK_MAX
                       : ROT_MBOX_CHUNK_DATA_MAX;
  return rot_mbox_begin_resp_encode(&resp, out, cap, out_len);
}

static rot_error_t h_chunk(rotd_t *d, client_t *c, const uint8_t *req,
                           uint32_t req_len, uint8_t *out, size_t cap,
                           size_t *out_len) {
  rot_mbox_chunk_req_t ch;
  ROT_TRY(rot_mbox_chunk_req_decode(req, req_len, &ch));
  ROT_TRY(owner_check(d, c));
  ROT_TRY(rot_update_chunk(&d->update, ch.offset, ch.data, ch.length));
  rot_mbox_chunk_resp_t resp = {d->update.session.written};
  return rot_mbox_chunk_resp_encode(&resp, out, cap, out_len);
}

static rot_error_t h_finish(rotd_t *d, client_t *c, const uint8_t *req,
                            uint32_t req_len, uint8_t *out, size_t cap,
                            size_t *out_len) {
  (void)req;
  (void)req_len;
  ROT_TRY(owner_check(d, c));
  uint32_t region = d->update.session.region;
  uint32_t len = d->update.session.declared_len;
  rot_verified_image_t v;
  ROT_TRY(rot_update_finish(&d->update, &v));
  rot_mbox_image_info_t info;
  info_from_verified(&v, region, len, &info);
  return rot_mbox_image_info_encode(&info, out, cap, out_len);
}

static rot_error_t h_abort(rotd_t *d, client_t *c, const uint8_t *req,
                           uint32_t req_len, uint8_t *out, size_t cap,
                           size_t *out_len) {
  (void)req;
  (void)req_len;
  (void)out;
  (void)cap;
  if (!session_open(d)) {
    return ROT_ERROR_UPDATE_NO_SESSION;
  }
  ROT_TRY(owner_check(d, c));
  /* ROT_OK as the recorded reason: aborted on request, not by a fault. */
  rot_update_abort(&d->update, ROT_OK);
  *out_len = 0;
  return ROT_OK;
}

/* ACTIVATE, CONFIRM, REVERT: run the step, reply with the type's state. */
static rot_error_t type_step(rotd_t *d, uint16_t cmd, const uint8_t *req,
                             uint32_t req_len, uint8_t *out, size_t cap,
                             size_t *out_len) {
  rot_mbox_type_req_t t;
  ROT_TRY(rot_mbox_type_req_decode(req, req_len, &t));
  if (cmd == ROT_MBOX_CMD_ACTIVATE) {
    ROT_TRY(rot_update_activate(&d->update, t.image_type));
  } else if (cmd == ROT_MBOX_CMD_CONFIRM) {
    rot_verified_image_t v;
    ROT_TRY(rot_update_confirm(&d->update, t.image_type, &v));
  } else {
    ROT_TRY(rot_update_revert(&d->update, t.image_type));
  }
  rot_policy_t pol;
  ROT_TRY(rot_otp_policy(&d->otp.port, &pol));
  rot_mbox_type_state_t st;
  type_state(d, &pol, t.image_type, &st);
  return rot_mbox_type_state_encode(&st, out, cap, out_len);
}

static rot_error_t h_activate(rotd_t *d, client_t *c, const uint8_t *req,
                              uint32_t req_len, uint8_t *out, size_t cap,
                              size_t *out_len) {
  (void)c;
  return type_step(d, ROT_MBOX_CMD_ACTIVATE, req, req_len, out, cap, out_len);
}

static rot_error_t h_confirm(rotd_t *d, client_t *c, const uint8_t *req,
                             uint32_t req_len, uint8_t *out, size_t cap,
                             size_t *out_len) {
  (void)c;
  return type_step(d, ROT_MBOX_CMD_CONFIRM, req, req_len, out, cap, out_len);
}

static rot_error_t h_revert(rotd_t *d, client_t *c, const uint8_t *req,
                            uint32_t req_len, uint8_t *out, size_t cap,
                            size_t *out_len) {
  (void)c;
  return type_step(d, ROT_MBOX_CMD_REVERT, req, req_len, out, cap, out_len);
}

static rot_error_t h_boot(rotd_t *d, client_t *c, const uint8_t *req,
                          uint32_t req_len, uint8_t *out, size_t cap,
                          size_t *out_len) {
  (void)c;
  rot_mbox_type_req_t t;
  ROT_TRY(rot_mbox_type_req_decode(req, req_len, &t));
  rot_boot_decision_t dec;
  rot_error_t err = rot_boot_decide(&d->update, t.image_type, &dec);
  /* "Nothing boots" is a decision, not a failed request: the reply says
   * so, with the reason the preferred image was refused. */
  if (err != ROT_OK &&
      !(err == ROT_ERROR_BOOT_NO_IMAGE && dec.reason == ROT_BOOT_NONE)) {
    return err;
  }
  rot_mbox_boot_resp_t resp;
  memset(&resp, 0, sizeof(resp));
  resp.reason = dec.reason;
  resp.why = (uint32_t)dec.why;
  if (err == ROT_OK) {
    ROT_TRY(rot_verified_check(&dec.verified));
    info_from_verified(&dec.verified, dec.region, dec.image_len, &resp.info);
  } else {
    resp.info.image_type = t.image_type;
    resp.info.region = ROT_MBOX_REGION_NONE;
  }
  return rot_mbox_boot_resp_encode(&resp, out, cap, out_len);
}

typedef struct audit_collect {
  uint32_t start;
  uint32_t want;
  uint32_t got;
  uint32_t next_seq;
  uint8_t *out;
} audit_collect_t;

static int audit_collect(void *ctx, const rot_audit_record_t *r,
                         rot_error_t link) {
  audit_collect_t *a = ctx;
  (void)link; /* AUDIT_VERIFY reports the chain; reading shows raw records */
  if (r->seq < a->start) {
    return 0;
  }
  if (a->got == a->want) {
    a->next_seq = r->seq;
    return 1;
  }
  rot_mbox_audit_record_encode(r, a->out + (size_t)a->got * ROT_AUDIT_RECORD_SIZE);
  a->got++;
  return 0;
}

/* A damaged chain is the walk's finding, not a failure to walk. */
static int audit_walk_ok(rot_error_t err) {
  return err == ROT_OK || err == ROT_ERROR_AUDIT_TAMPERED ||
         err == ROT_ERROR_AUDIT_BROKEN;
}

static rot_error_t h_audit_read(rotd_t *d, client_t *c, const uint8_t *req,
                                uint32_t req_len, uint8_t *out, size_t cap,
                                size_t *out_len) {
  (void)c;
  rot_mbox_audit_read_req_t r;
  ROT_TRY(rot_mbox_audit_read_req_decode(req, req_len, &r));
  if (cap < ROT_MBOX_AUDIT_READ_RESP_FIXED +
                (size_t)r.count * ROT_AUDIT_RECORD_SIZE) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  audit_collect_t a = {r.start_seq, r.count, 0, 0,
                       out + ROT_MBOX_AUDIT_READ_RESP_FIXED};
  rot_audit_report_t report;
  rot_error_t err = rot_audit_verify(&d->audit, audit_collect, &a, &report);
  if (!audit_walk_ok(err)) {
    return err;
  }
  rot_mbox_audit_read_resp_t resp = {a.got, a.next_seq, NULL};
  size_t head = 0;
  ROT_TRY(rot_mbox_audit_read_resp_encode(&resp, out, cap, &head));
  *out_len = head + (size_t)a.got * ROT_AUDIT_RECORD_SIZE;
  return ROT_OK;
}

static rot_error_t h_audit_verify(rotd_t *d, client_t *c, const uint8_t *req,
                                  uint32_t req_len, uint8_t *out, size_t cap,
                                  size_t *out_len) {
  (void)c;
  (void)req;
  (void)req_len;
  rot_audit_report_t report;
  memset(&report, 0, sizeof(report));
  rot_error_t err = rot_audit_verify(&d->audit, NULL, NULL, &report);
  if (!audit_walk_ok(err)) {
    return err;
  }
  if (err != ROT_OK && report.verdict == ROT_OK) {
    report.verdict = err; /* never report a clean chain the walk denied */
  }
  return rot_mbox_audit_report_encode(&report, out, cap, out_len);
}

static rot_error_t h_lock(rotd_t *d, client_t *c, const uint8_t *req,
                          uint32_t req_len, uint8_t *out, size_t cap,
                          size_t *out_len) {
  (void)c;
  rot_mbox_lock_req_t l;
  ROT_TRY(rot_mbox_lock_req_decode(req, req_len, &l));
  if (l.region == ROT_MBOX_LOCK_BOOT) {
    /* All or nothing: a session on a boot region refuses the whole lock
     * rather than leaving some regions locked and the caller unsure. */
    for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
      if (is_boot_region(&d->layout->regions[i]) && session_open(d) &&
          d->update.session.region == i) {
        return ROT_ERROR_UPDATE_BUSY;
      }
    }
    for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
      if (is_boot_region(&d->layout->regions[i])) {
        ROT_TRY(rot_gate_lock(&d->gate, i));
      }
    }
  } else {
    ROT_TRY(rot_gate_lock(&d->gate, l.region));
  }
  rot_mbox_lock_resp_t resp = {locked_mask(d)};
  return rot_mbox_lock_resp_encode(&resp, out, cap, out_len);
}

/* The dispatch table: payload bounds are checked before a handler runs. */
typedef struct command_row {
  uint16_t command;
  uint32_t min_len;
  uint32_t max_len;
  handler_fn run;
} command_row_t;

static const command_row_t kCommands[] = {
    {ROT_MBOX_CMD_STATUS, 0, 0, h_status},
    {ROT_MBOX_CMD_INVENTORY, 0, 0, h_inventory},
    {ROT_MBOX_CMD_READ_REGION, ROT_MBOX_READ_REQ_SIZE, ROT_MBOX_READ_REQ_SIZE,
     h_read_region},
    {ROT_MBOX_CMD_UPDATE_BEGIN, ROT_MBOX_BEGIN_REQ_SIZE,
     ROT_MBOX_BEGIN_REQ_SIZE, h_begin},
    {ROT_MBOX_CMD_UPDATE_CHUNK, ROT_MBOX_CHUNK_REQ_FIXED + 1u,
     ROT_MBOX_CHUNK_REQ_FIXED + ROT_MBOX_CHUNK_DATA_MAX, h_chunk},
    {ROT_MBOX_CMD_UPDATE_FINISH, 0, 0, h_finish},
    {ROT_MBOX_CMD_UPDATE_ABORT, 0, 0, h_abort},
    {ROT_MBOX_CMD_ACTIVATE, ROT_MBOX_TYPE_REQ_SIZE, ROT_MBOX_TYPE_REQ_SIZE,
     h_activate},
    {ROT_MBOX_CMD_CONFIRM, ROT_MBOX_TYPE_REQ_SIZE, ROT_MBOX_TYPE_REQ_SIZE,
     h_confirm},
    {ROT_MBOX_CMD_REVERT, ROT_MBOX_TYPE_REQ_SIZE, ROT_MBOX_TYPE_REQ_SIZE,
     h_revert},
    {ROT_MBOX_CMD_BOOT, ROT_MBOX_TYPE_REQ_SIZE, ROT_MBOX_TYPE_REQ_SIZE, h_boot},
    {ROT_MBOX_CMD_AUDIT_READ, ROT_MBOX_AUDIT_READ_REQ_SIZE,
     ROT_MBOX_AUDIT_READ_REQ_SIZE, h_audit_read},
    {ROT_MBOX_CMD_AUDIT_VERIFY, 0, 0, h_audit_verify},
    {ROT_MBOX_CMD_LOCK, ROT_MBOX_LOCK_REQ_SIZE, ROT_MBOX_LOCK_REQ_SIZE, h_lock},
};

static const command_row_t *find_command(uint16_t cmd) {
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kCommands); i++) {
    if (kCommands[i].command == cmd) {
      return &kCommands[i];
    }
  }
  return NULL;
}

/* ---- connections ---------------------------------------------------------- */

static void drop_client(rotd_t *d, client_t *c) {
  if (c->fd < 0) {
    return;
  }
  if (session_open(d) && d->session_owner == c->id) {
    /* The owner is gone: nobody can finish this session. */
    rot_update_abort(&d->update, ROT_ERROR_MAILBOX_CLOSED);
    sync_owner(d);
  }
  close(c->fd);
  c->fd = -1;
  c->id = 0;
}

/* Returns 0 when the reply could not be delivered (client dropped). */
static int send_reply(rotd_t *d, client_t *c, uint16_t cmd, uint32_t seq,
                      rot_error_t status, size_t payload_len) {
  size_t n = 0;
  rot_error_t err = rot_mbox_frame_encode(
      d->tx, sizeof(d->tx), cmd, ROT_MBOX_FLAG_RESPONSE, seq, (uint32_t)status,
      d->tx + ROT_MBOX_HEADER_SIZE, (uint32_t)payload_len, &n);
  if (err != ROT_OK) {
    /* A handler overflowed its reply: say so instead of sending junk. */
    err = rot_mbox_frame_encode(d->tx, sizeof(d->tx), cmd,
                                ROT_MBOX_FLAG_RESPONSE, seq,
                                (uint32_t)ROT_ERROR_INTERNAL, NULL, 0, &n);
    if (err != ROT_OK) {
      drop_client(d, c);
      return 0;
    }
  }
  /* Never block the loop on a client that does not read its replies. */
  ssize_t sent = send(c->fd, d->tx, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != (ssize_t)n) {
    drop_client(d, c);
    return 0;
  }
  return 1;
}

static hardened_bool_t peer_allowed(const rotd_t *d, uid_t uid) {
  if (uid == 0 || uid == geteuid()) {
    return HARDENED_TRUE;
  }
  for (size_t i = 0; i < d->n_allow; i++) {
    if (d->allow[i] == uid) {
      return HARDENED_TRUE;
    }
  }
  return HARDENED_FALSE;
}

static void serve_frame(rotd_t *d, client_t *c, size_t len) {
  uint16_t cmd = 0;
  uint32_t seq = 0;
  rot_mbox_peek(d->rx, len, &cmd, &seq);
  if (ROT_FIRST_CHECK(c->authorized != HARDENED_TRUE)) {
    fprintf(stderr, "rotd: refused peer uid %u pid %d\n", (unsigned)c->uid,
            (int)c->pid);
    if (!c->refusal_logged) {
      c->refusal_logged = 1;
      rot_error_t aerr =
          rot_audit_append(&d->audit, ROT_AUDIT_PEER_REFUSED,
                           ROT_ERROR_MAILBOX_UNAUTHORIZED, (uint32_t)c->uid,
                           (uint32_t)c->pid);
      (void)aerr; /* the refusal stands whether or not it was recorded */
    }
    if (send_reply(d, c, cmd, seq, ROT_ERROR_MAILBOX_UNAUTHORIZED, 0)) {
      drop_client(d, c);
    }
    return;
  }
  /* Second look: the flag, and the rule it came from. */
  HARDENED_CHECK_EQ(c->authorized, HARDENED_TRUE);
  HARDENED_CHECK_EQ(peer_allowed(d, c->uid), HARDENED_TRUE);
  rot_mbox_header_t h;
  const uint8_t *payload = NULL;
  rot_error_t err = rot_mbox_frame_decode(d->rx, len, &h, &payload);
  if (err == ROT_OK) {
    err = rot_mbox_request_check(&h);
  }
  if (err != ROT_OK) {
    send_reply(d, c, cmd, seq, err, 0);
    return;
  }
  const command_row_t *row = find_command(h.command);
  size_t out_len = 0;
  if (row == NULL) {
    err = ROT_ERROR_MAILBOX_UNKNOWN_COMMAND;
  } else if (h.payload_len > row->max_len) {
    err = ROT_ERROR_MAILBOX_TOO_LARGE;
  } else if (h.payload_len < row->min_len) {
    err = ROT_ERROR_MAILBOX_BAD_ARGS;
  } else {
    err = row->run(d, c, payload, h.payload_len, d->tx + ROT_MBOX_HEADER_SIZE,
                   ROT_MBOX_MAX_PAYLOAD, &out_len);
  }
  sync_owner(d);
  send_reply(d, c, h.command, h.seq, err, err == ROT_OK ? out_len : 0);
}

static void accept_client(rotd_t *d) {
  int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    return;
  }
  client_t *slot = NULL;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    if (d->clients[i].fd < 0) {
      slot = &d->clients[i];
      break;
    }
  }
  struct ucred cred;
  socklen_t cl = sizeof(cred);
  if (slot == NULL ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
      cl != sizeof(cred)) {
    close(fd); /* full, or a peer we cannot identify */
    return;
  }
  slot->fd = fd;
  if (++d->next_id == 0) {
    d->next_id = 1; /* 0 means "no owner" */
  }
  slot->id = d->next_id;
  slot->uid = cred.uid;
  slot->pid = cred.pid;
  slot->authorized = peer_allowed(d, cred.uid);
  slot->last_activity = mono_now();
}

static void read_client(rotd_t *d, client_t *c, short revents) {
  /* MSG_TRUNC: the true size of an oversized frame, so it is refused as
   * such rather than decoded from its first bytes. */
  ssize_t n = recv(c->fd, d->rx, sizeof(d->rx), MSG_TRUNC | MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      drop_client(d, c);
    }
    return;
  }
  if (n == 0 && (revents & (POLLHUP | POLLRDHUP)) != 0) {
    drop_client(d, c); /* orderly close */
    return;
  }
  c->last_activity = mono_now();
  serve_frame(d, c, (size_t)n); /* an empty message is a (short) frame */
}

/* Runs before any frame of a round is served, so a chunk that arrives
 * after the deadline finds the session gone whatever the tick. */
static void expire_session(rotd_t *d) {
  if (rot_update_expire(&d->update, d->idle_timeout)) {
    fprintf(stderr, "rotd: update session idle for more than %" PRIu64
                    " s: aborted\n", d->idle_timeout);
  }
  sync_owner(d);
}

/* Runs after the round, so a client whose frame just arrived is not idle.
 * Quiet connections are closed so they cannot hoard slots; the session
 * owner is spared until the session itself expires. */
static void expire_clients(rotd_t *d) {
  uint64_t now = mono_now();
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    client_t *c = &d->clients[i];
    if (c->fd >= 0 && c->id != d->session_owner &&
        now - c->last_activity > d->idle_timeout) {
      drop_client(d, c);
    }
  }
}

static int serve(rotd_t *d) {
  sigset_t block, open_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  /* Signals are only taken inside ppoll, so a stop request is never lost
   * between the flag check and the wait. */
  sigprocmask(SIG_BLOCK, &block, &open_mask);
  sigdelset(&open_mask, SIGTERM);
  sigdelset(&open_mask, SIGINT);
  struct pollfd fds[1 + MAX_CLIENTS];
  client_t *owners[1 + MAX_CLIENTS];
  while (!g_stop) {
    size_t n = 0;
    fds[n].fd = d->listen_fd;
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    owners[n++] = NULL;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
      if (d->clients[i].fd >= 0) {
        fds[n].fd = d->clients[i].fd;
        fds[n].events = POLLIN | POLLRDHUP;
        fds[n].revents = 0;
        owners[n++] = &d->clients[i];
      }
    }
    /* Wake once a second while anything can expire. */
    struct timespec tick = {1, 0};
    int r = ppoll(fds, n, n > 1 || session_open(d) ? &tick : NULL, &open_mask);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      fprintf(stderr, "rotd: poll: %s\n", strerror(errno));
      return EXIT_FAIL;
    }
    expire_session(d);
    for (size_t i = 1; i < n; i++) {
      client_t *c = owners[i];
      if (c->fd != fds[i].fd) {
        continue; /* dropped earlier in this round */
      }
      if ((fds[i].revents & (POLLERR | POLLNVAL)) != 0) {
        drop_client(d, c);
      } else if ((fds[i].revents & (POLLIN | POLLHUP | POLLRDHUP)) != 0) {
        read_client(d, c, fds[i].revents);
      }
    }
    if ((fds[0].revents & POLLIN) != 0) {
      accept_client(d);
    }
    expire_clients(d);
  }
  return EXIT_OK;
}

/* ---- start-up ----------------------------------------------------------------- */

static int fail_start(const char *what, const char *obj, rot_error_t err,
                      const char *hint) {
  fprintf(stderr, "rotd: %s %s: %s (%s)%s%s\n", what, obj, rot_error_str(err),
          rot_error_name(err), hint != NULL ? "; " : "",
          hint != NULL ? hint : "");
  return EXIT_FAIL;
}

/* A device file open to others: say so and how to fix it; never fix it. */
static int fail_private(const char *what, const char *path, unsigned mode) {
  char advice[4400];
  fprintf(stderr, "rotd: %s %s: %s (%s)\n", what, path,
          rot_file_private_advice(advice, sizeof(advice), path, mode),
          rot_error_name(ROT_ERROR_IO_PERMISSIONS));
  return EXIT_FAIL;
}

/* Bind the socket, replacing a stale file only when nothing listens. */
static int open_socket(rotd_t *d) {
  const char *path = d->socket_path;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(addr.sun_path)) {
    fprintf(stderr, "rotd: socket %s: path longer than %zu bytes\n", path,
            sizeof(addr.sun_path) - 1);
    return EXIT_FAIL;
  }
  memcpy(addr.sun_path, path, strlen(path));
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      fprintf(stderr, "rotd: socket %s: exists and is not a socket\n", path);
      return EXIT_FAIL;
    }
    int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int live = probe >= 0 &&
               connect(probe, (const struct sockaddr *)&addr, sizeof(addr)) == 0;
    int e = errno;
    if (probe >= 0) {
      close(probe);
    }
    if (live) {
      fprintf(stderr, "rotd: socket %s: another daemon is serving it\n", path);
      return EXIT_FAIL;
    }
    if (e != ECONNREFUSED || unlink(path) != 0) {
      fprintf(stderr, "rotd: socket %s: cannot replace stale socket: %s\n",
              path, strerror(e != ECONNREFUSED ? e : errno));
      return EXIT_FAIL;
    }
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    fprintf(stderr, "rotd: socket: %s\n", strerror(errno));
    return EXIT_FAIL;
  }
  /* Created 0600 from the start: no window where others may connect. */
  mode_t old = umask(0177);
  int rc = bind(fd, (const struct sockaddr *)&addr, sizeof(addr));
  int e = errno;
  umask(old);
  if (rc != 0 || listen(fd, MAX_CLIENTS) != 0) {
    fprintf(stderr, "rotd: socket %s: %s\n", path, strerror(rc != 0 ? e : errno));
    close(fd);
    return EXIT_FAIL;
  }
  d->listen_fd = fd;
  return EXIT_OK;
}

static uint32_t largest_image_region(const rot_flash_layout_t *l) {
  uint32_t max = 0;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (is_image_region(&l->regions[i]) && l->regions[i].size > max) {
      max = l->regions[i].size;
    }
  }
  return max;
}

static int start(rotd_t *d, const char *flash_path, const char *otp_path) {
  /* The OTP first: it is never created, so a wrong path leaves no
   * 128 MiB flash file behind. */
  rot_error_t err = rot_otp_file_open(&d->otp, otp_path, 0);
  if (err == ROT_ERROR_IO_OPEN) {
    return fail_start("otp", otp_path, err,
                      "provision it first with 'rotctl otp provision'");
  }
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_private("otp", otp_path, d->otp.mode);
  }
  if (err != ROT_OK) {
    return fail_start("otp", otp_path, err, NULL);
  }
  rot_policy_t pol;
  err = rot_otp_policy(&d->otp.port, &pol);
  if (err != ROT_OK) {
    return fail_start("otp", otp_path, err,
                      err == ROT_ERROR_OTP_NOT_PROVISIONED
                          ? "provision it first with 'rotctl otp provision'"
                          : NULL);
  }
  err = rot_flash_file_open(&d->flash, flash_path, d->layout->flash_size,
                            d->layout->erase_size, 1);
  if (err == ROT_ERROR_IO_PERMISSIONS) {
    return fail_private("flash", flash_path, d->flash.mode);
  }
  if (err != ROT_OK) {
    return fail_start("flash", flash_path, err, NULL);
  }
  const rot_crypto_t *crypto = rot_host_crypto();
  if (crypto == NULL) {
    return fail_start("crypto", "backend", ROT_ERROR_CRYPTO_RNG, NULL);
  }
  err = rot_gate_init(&d->gate, &d->flash.port, d->layout, rot_audit_gate_hook,
                      &d->audit);
  if (err != ROT_OK) {
    return fail_start("flash", flash_path, err, NULL);
  }
  err = rot_audit_init(&d->audit, &d->gate, crypto, wall_now);
  if (err != ROT_OK) {
    return fail_start("audit log in", flash_path, err, NULL);
  }
  uint32_t scratch_len = largest_image_region(d->layout);
  d->scratch = malloc(scratch_len);
  if (d->scratch == NULL) {
    return fail_start("scratch", "buffer", ROT_ERROR_BUFFER_TOO_SMALL, NULL);
  }
  err = rot_update_init(&d->update, &d->gate, &d->otp.port, crypto, &d->audit,
                        mono_now, d->scratch, scratch_len);
  if (err == ROT_ERROR_OTP_NO_DEVICE_SECRET) {
    return fail_start("OTP", otp_path, err,
                      "the update state is authenticated with a key derived "
                      "from it; provision a fresh OTP file with "
                      "'rotctl otp provision'");
  }
  if (err != ROT_OK) {
    return fail_start("update state in", flash_path, err, NULL);
  }
  for (uint32_t i = 0; i < 2; i++) {
    if (d->update.state_rejected & (1u << i)) {
      fprintf(stderr,
              "rotd: warning: %s: update state copy %u refused (%s): a torn "
              "write or a record this chip never wrote; the other copy "
              "stands and no fuse moved on its word\n",
              flash_path, i, rot_error_name(ROT_ERROR_UPDATE_STATE_FORGED));
    }
  }
  err = rot_audit_append(&d->audit, ROT_AUDIT_DAEMON_START, ROT_OK, 0, 0);
  if (err != ROT_OK) {
    return fail_start("audit log in", flash_path, err, NULL);
  }
  return open_socket(d);
}

static void shutdown_daemon(rotd_t *d) {
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    drop_client(d, &d->clients[i]);
  }
  if (session_open(d)) {
    rot_update_abort(&d->update, ROT_ERROR_MAILBOX_CLOSED);
  }
  if (d->listen_fd >= 0) {
    close(d->listen_fd);
    unlink(d->socket_path);
    d->listen_fd = -1;
  }
  rot_otp_file_close(&d->otp);
  rot_flash_file_close(&d->flash);
  free(d->scratch);
  d->scratch = NULL;
}

static const char kUsage[] =
    "usage: rotd --flash FILE --otp FILE --socket PATH [--allow-uid UID]...\n"
    "            [--idle-timeout SECONDS] [--daemon [--pid FILE] [--log FILE]]\n"
    "\n"
    "The security chip: owns the flash and OTP files and serves the mailbox\n"
    "protocol (docs/mailbox.md) on a Unix SOCK_SEQPACKET socket.\n"
    "\n"
    "options:\n"
    "  --flash FILE            flash image (created erased, 128 MiB, mode 0600,\n"
    "                          if missing)\n"
    "  --otp FILE              OTP fuses; provision with 'rotctl otp provision'\n"
    "                          (both must be mode 0600: a file open to group or\n"
    "                          others is refused, never silently fixed)\n"
    "  --socket PATH           socket to serve (created mode 0600)\n"
    "  --allow-uid UID         also accept this user id (repeatable); root and\n"
    "                          rotd's own user are always accepted\n"
    "  --idle-timeout SECONDS  abort an idle update session and close idle\n"
    "                          connections after this long (default 30)\n"
    "  --daemon                return once the socket is serving, keep running\n"
    "                          in the background\n"
    "  --pid FILE              with --daemon: write the daemon's pid here\n"
    "  --log FILE              with --daemon: append messages here (default:\n"
    "                          discarded)\n"
    "\n"
    "SIGTERM or SIGINT: stop, remove the socket, exit 0.\n";

static int usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "rotd: %s%s%s (try 'rotd --help')\n", msg,
          arg != NULL ? ": " : "", arg != NULL ? arg : "");
  return EXIT_USAGE;
}

static rotd_t g_rotd; /* two frame buffers: too big for the stack */

/*
 * Detach only once the socket serves, so `rotd --daemon && rotctl ...`
 * never races the start-up (creating a fresh 128 MiB flash takes a
 * moment). The parent writes the pid file and exits; the child keeps the
 * flash and OTP locks, which belong to the inherited descriptors.
 */
static int become_daemon(const char *pid_path, const char *log_path) {
  int log_fd = open(log_path != NULL ? log_path : "/dev/null",
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    fprintf(stderr, "rotd: --log %s: %s\n", log_path, strerror(errno));
    return -1;
  }
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "rotd: fork: %s\n", strerror(errno));
    return -1;
  }
  if (pid > 0) {
    if (pid_path != NULL) {
      FILE *f = fopen(pid_path, "w");
      if (f == NULL || fprintf(f, "%ld\n", (long)pid) < 0 || fclose(f) != 0) {
        fprintf(stderr, "rotd: --pid %s: cannot write\n", pid_path);
      }
    }
    _exit(EXIT_OK);
  }
  setsid();
  dup2(null_fd, STDIN_FILENO);
  dup2(null_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  close(null_fd);
  close(log_fd);
  return 0;
}

int main(int argc, char **argv) {
  enum {
    OPT_FLASH = 256,
    OPT_OTP,
    OPT_SOCKET,
    OPT_ALLOW,
    OPT_IDLE,
    OPT_DAEMON,
    OPT_PID,
    OPT_LOG
  };
  static const struct option opts[] = {
      {"flash", required_argument, NULL, OPT_FLASH},
      {"otp", required_argument, NULL, OPT_OTP},
      {"socket", required_argument, NULL, OPT_SOCKET},
      {"allow-uid", required_argument, NULL, OPT_ALLOW},
      {"idle-timeout", required_argument, NULL, OPT_IDLE},
      {"daemon", no_argument, NULL, OPT_DAEMON},
      {"pid", required_argument, NULL, OPT_PID},
      {"log", required_argument, NULL, OPT_LOG},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  rotd_t *d = &g_rotd;
  d->layout = &rot_flash_layout_default;
  d->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  d->listen_fd = -1;
  d->flash.fd = -1;
  d->otp.fd = -1;
  for (size_t i = 0; i < MAX_CLIENTS; i++) {
    d->clients[i].fd = -1;
  }
  const char *flash_path = NULL;
  const char *otp_path = NULL;
  const char *pid_path = NULL;
  const char *log_path = NULL;
  int daemonize = 0;
  uint64_t v;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
      case 'h':
        fputs(kUsage, stdout);
        return EXIT_OK;
      case OPT_FLASH:
        flash_path = optarg;
        break;
      case OPT_OTP:
        otp_path = optarg;
        break;
      case OPT_SOCKET:
        d->socket_path = optarg;
        break;
      case OPT_ALLOW:
        if (rot_parse_uint(optarg, ROT_PARSE_DEC, UINT32_MAX - 1u, &v) !=
            ROT_OK) {
          return usage_error("--allow-uid: expected a numeric user id", optarg);
        }
        if (d->n_allow == MAX_ALLOW) {
          return usage_error("--allow-uid: too many (at most 16)", NULL);
        }
        d->allow[d->n_allow++] = (uid_t)v;
        break;
      case OPT_IDLE:
        if (rot_parse_uint(optarg, ROT_PARSE_DEC, 86400, &v) != ROT_OK ||
            v == 0) {
          return usage_error("--idle-timeout: expected 1..86400 seconds",
                             optarg);
        }
        d->idle_timeout = v;
        break;
      case OPT_DAEMON:
        daemonize = 1;
        break;
      case OPT_PID:
        pid_path = optarg;
        break;
      case OPT_LOG:
        log_path = optarg;
        break;
      case ':':
        return usage_error("option needs a value", argv[optind - 1]);
      default:
        return usage_error("unknown option", argv[optind - 1]);
    }
  }
  if (optind != argc) {
    return usage_error("unexpected argument", argv[optind]);
  }
  if (flash_path == NULL || otp_path == NULL || d->socket_path == NULL) {
    return usage_error("--flash, --otp and --socket are required", NULL);
  }
  if (!daemonize && (pid_path != NULL || log_path != NULL)) {
    return usage_error("--pid and --log go with --daemon", NULL);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = start(d, flash_path, otp_path);
  if (rc == EXIT_OK) {
    fprintf(stderr, "rotd: serving %s (flash %s, otp %s)\n", d->socket_path,
            flash_path, otp_path);
    if (daemonize && become_daemon(pid_path, log_path) != 0) {
      rc = EXIT_FAIL;
    } else {
      rc = serve(d);
    }
  }
  shutdown_daemon(d);
  return rc;
}
