/*
 * The mailbox server: the chip's command layer (see rot/server.h).
 *
 * A frame is decoded, its command found in the authorisation table, the
 * peer's roles checked against the row (twice, the second time right
 * before the handler runs), the payload bounds checked, and the handler
 * run. Anything refused gets an error reply; every refusal of an identified
 * peer is an audit record.
 */
#include "rot/server.h"

#include "rot/util.h"
#include "server_identity.h"

_Static_assert(sizeof(rot_policy_t) == 88u, "policy: no padding to hash");

typedef rot_error_t (*handler_fn)(rot_server_t *s, const rot_peer_t *peer,
                                  const uint8_t *req, uint32_t req_len,
                                  uint8_t *out, size_t cap, size_t *out_len);

void rot_server_record(rot_server_t *s, uint32_t event, rot_error_t status,
                       uint32_t arg0, uint32_t arg1) {
  if (s->audit == NULL) {
    return;
  }
  rot_error_t err = rot_audit_append(s->audit, event, status, arg0, arg1);
  (void)err; /* the refusal stands whether or not it was recorded */
}

/* The host boot images: every image region but the chip's own firmware. */
static int is_boot_region(const rot_flash_region_t *r) {
  return rot_flash_region_is_image(r) && r->image_type != ROT_IMAGE_TYPE_ROT;
}

static int session_open(const rot_server_t *s) {
  return s->update->session.open == HARDENED_TRUE;
}

/* The engine may close a session by itself (finish, a failed chunk,
 * expiry); ownership ends with it. */
static void sync_owner(rot_server_t *s) {
  if (!session_open(s)) {
    s->session_owner = 0;
  }
}

/* Another connection's session: this peer may not touch it. */
static rot_error_t owner_check(const rot_server_t *s, const rot_peer_t *p) {
  if (session_open(s) && s->session_owner != p->conn) {
    return ROT_ERROR_UPDATE_BUSY;
  }
  return ROT_OK;
}

static uint32_t locked_mask(const rot_server_t *s) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (rot_gate_is_locked(s->gate, i) == HARDENED_TRUE) {
      m |= 1u << i;
    }
  }
  return m;
}

/* All or nothing: an update session on a boot region refuses the whole
 * lock rather than leaving some regions locked and the caller unsure. */
static rot_error_t lock_boot_regions(rot_server_t *s) {
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (is_boot_region(&s->layout->regions[i]) && session_open(s) &&
        s->update->session.region == i) {
      return ROT_ERROR_UPDATE_BUSY;
    }
  }
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    if (is_boot_region(&s->layout->regions[i])) {
      ROT_TRY(rot_gate_lock(s->gate, i));
    }
  }
  return ROT_OK;
}

static void type_state(const rot_server_t *s, const rot_policy_t *pol,
                       uint32_t type, rot_mbox_type_state_t *out) {
  rot_memset(out, 0, sizeof(*out));
  out->image_type = type;
  out->active = out->pending = out->staged = ROT_SLOT_NONE;
  if (type < ROT_IMAGE_TYPE_SLOTS) {
    const rot_type_state_t *ts = &s->update->state.types[type];
    out->active = ts->active;
    out->pending = ts->pending;
    out->staged = ts->staged;
    out->attempts_left = ts->attempts_left;
    out->floor_pending = ts->floor_pending;
    out->svn_floor = pol->svn_floor[type];
  }
}

void rot_server_info_from_verified(const rot_verified_image_t *v,
                                   uint32_t region, uint32_t image_len,
                                   rot_mbox_image_info_t *out) {
  rot_memset(out, 0, sizeof(*out));
  out->image_type = v->image_type;
  out->region = region;
  out->svn = v->svn;
  out->key_index = v->key_index;
  out->ver_major = v->ver_major;
  out->ver_minor = v->ver_minor;
  out->ver_patch = v->ver_patch;
  out->payload_len = v->payload_len;
  out->image_len = image_len;
  rot_memcpy(out->payload_digest, v->payload_digest, sizeof(out->payload_digest));
  /* What the signature covered, so the host can check the header and
   * manifest it reads back, not only the payload. */
  rot_memcpy(out->signed_digest, v->signed_digest, sizeof(out->signed_digest));
}

/* ---- STATUS ------------------------------------------------------------ */

static rot_error_t h_status(rot_server_t *s, const rot_peer_t *p,
                            const uint8_t *req, uint32_t req_len, uint8_t *out,
                            size_t cap, size_t *out_len) {
  (void)p;
  (void)req;
  (void)req_len;
  rot_policy_t pol;
  ROT_TRY(rot_otp_policy(s->otp, &pol));
  rot_mbox_status_t st;
  rot_memset(&st, 0, sizeof(st));
  st.lifecycle = pol.lifecycle;
  st.revoked_keys = pol.revoked_keys;
  rot_memcpy(st.root_key_hash, pol.root_key_hash, sizeof(st.root_key_hash));
  st.flash_size = s->layout->flash_size;
  st.erase_size = s->layout->erase_size;
  st.locked_mask = locked_mask(s);
  if (session_open(s)) {
    st.session_open = 1;
    st.session_type = s->update->session.image_type;
    st.session_declared = s->update->session.declared_len;
    st.session_written = s->update->session.written;
  }
  st.audit_next_seq = s->audit != NULL ? s->audit->next_seq : 0;
  rot_server_rom_status(s, &st);
  for (uint32_t t = ROT_IMAGE_TYPE_MIN; t <= ROT_IMAGE_TYPE_MAX; t++) {
    type_state(s, &pol, t, &st.types[st.type_count++]);
  }
  return rot_mbox_status_encode(&st, out, cap, out_len);
}

/* ---- INVENTORY ------------------------------------------------------------ */

/* A fingerprint of the policy a verdict was reached under: a new floor,
 * revocation or lifecycle makes every cached verdict stale. */
static rot_error_t policy_tag(const rot_server_t *s, uint8_t tag[ROT_SHA256_LEN]) {
  rot_policy_t pol;
  ROT_TRY(rot_otp_policy(s->otp, &pol));
  return rot_hash(s->crypto, ROT_HASH_SHA256, &pol, sizeof(pol), tag,
                  ROT_SHA256_LEN);
}

/* The verdict for a region (its cache entry): from the cache when nothing
 * it depends on changed, else a full verification (header, exact length,
 * signature). tag is the current policy's fingerprint, or err why it is
 * unknown. */
static const rot_server_verdict_t *region_verdict(
    rot_server_t *s, uint32_t region, const uint8_t tag[ROT_SHA256_LEN],
    rot_error_t err) {
  rot_server_verdict_t *c = &s->verdict[region];
  if (err == ROT_OK && c->valid == HARDENED_TRUE &&
      rot_memeq(c->policy_tag, tag, ROT_SHA256_LEN)) {
    return c;
  }
  rot_memset(c, 0, sizeof(*c));
  c->valid = HARDENED_FALSE;
  c->status = err;
  if (err == ROT_OK) {
    s->verifications++;
    c->status = rot_update_verify_region(
        s->update, region, s->layout->regions[region].image_type, &c->v,
        &c->image_len);
    rot_memcpy(c->policy_tag, tag, ROT_SHA256_LEN);
    /* A failed read of the flash is no verdict about its contents. */
    c->valid = c->status == ROT_ERROR_FLASH_READ ? HARDENED_FALSE : HARDENED_TRUE;
  }
  return c;
}

static void name_copy(char dst[ROT_MBOX_NAME_LEN], const char *src) {
  rot_memset(dst, 0, ROT_MBOX_NAME_LEN);
  for (uint32_t i = 0; i + 1u < ROT_MBOX_NAME_LEN && src[i] != '\0'; i++) {
    dst[i] = src[i];
  }
}

/* One image region as the operator sees it: what the header claims, and
 * what a full verification against the fuses says. */
static void inventory_entry(rot_server_t *s, uint32_t region,
                            const uint8_t tag[ROT_SHA256_LEN], rot_error_t tag_err,
                            rot_mbox_inventory_entry_t *e) {
  const rot_flash_region_t *r = &s->layout->regions[region];
  rot_memset(e, 0, sizeof(*e));
  e->region = (uint8_t)region;
  e->slot = (uint8_t)r->slot;
  e->kind = (uint8_t)r->kind;
  e->region_type = r->image_type;
  name_copy(e->name, r->name);
  e->info.region = region;
  if (rot_gate_is_locked(s->gate, region) == HARDENED_TRUE) {
    e->flags |= ROT_MBOX_INV_LOCKED;
  }
  if (r->image_type < ROT_IMAGE_TYPE_SLOTS) {
    const rot_type_state_t *ts = &s->update->state.types[r->image_type];
    e->flags |= ts->active == r->slot ? ROT_MBOX_INV_ACTIVE : 0u;
    e->flags |= ts->pending == r->slot ? ROT_MBOX_INV_PENDING : 0u;
    e->flags |= ts->staged == r->slot ? ROT_MBOX_INV_STAGED : 0u;
  }
  if (session_open(s) && s->update->session.region == region) {
    e->status = ROT_ERROR_UPDATE_BUSY; /* half written: not an image yet */
    return;
  }
  uint8_t hb[ROT_IMAGE_HEADER_SIZE];
  rot_error_t err =
      rot_gate_read(s->gate, ROT_INIT_CHIP, region, 0, hb, sizeof(hb));
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
    rot_memcpy(e->info.payload_digest, h.payload_digest,
               sizeof(e->info.payload_digest));
    /* signed_digest stays zero: a parsed header proves nothing about the
     * bytes; only a verification below fills it in. */
  }
  const rot_server_verdict_t *vd = region_verdict(s, region, tag, tag_err);
  if (vd->status == ROT_ERROR_BOOT_EMPTY_SLOT) {
    e->flags |= ROT_MBOX_INV_EMPTY;
  }
  if (vd->status == ROT_OK && rot_verified_check(&vd->v) == ROT_OK) {
    e->flags |= ROT_MBOX_INV_VERIFIED;
    rot_server_info_from_verified(&vd->v, region, vd->image_len, &e->info);
    e->status = ROT_OK;
  } else {
    e->status = vd->status != ROT_OK ? vd->status : ROT_ERROR_BOOT_NOT_VERIFIED;
  }
}

static rot_error_t h_inventory(rot_server_t *s, const rot_peer_t *p,
                               const uint8_t *req, uint32_t req_len,
                               uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  (void)req;
  (void)req_len;
  rot_mbox_inventory_t *inv = &s->inv;
  rot_memset(inv, 0, sizeof(*inv));
  /* One look at the policy for the whole reply, not one per region. */
  uint8_t tag[ROT_SHA256_LEN];
  rot_error_t tag_err = policy_tag(s, tag);
  for (uint32_t i = 0; i < ROT_RGN_COUNT && inv->count < ROT_MBOX_INVENTORY_MAX;
       i++) {
    if (rot_flash_region_is_image(&s->layout->regions[i])) {
      inventory_entry(s, i, tag, tag_err, &inv->entries[inv->count++]);
    }
  }
  return rot_mbox_inventory_encode(inv, out, cap, out_len);
}

/* ---- READ_REGION --------------------------------------------------------- */

static rot_error_t h_read_region(rot_server_t *s, const rot_peer_t *p,
                                 const uint8_t *req, uint32_t req_len,
                                 uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  rot_mbox_read_req_t r;
  ROT_TRY(rot_mbox_read_req_decode(req, req_len, &r));
  if (r.length > cap) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  /* The host's own initiator: the gate keeps chip-private regions out of
   * reach and records the attempt. */
  ROT_TRY(rot_gate_read(s->gate, ROT_INIT_HOST, r.region, r.offset, out,
                        r.length));
  *out_len = r.length;
  return ROT_OK;
}

/* ---- update session ---------------------------------------------------------- */

static rot_error_t h_begin(rot_server_t *s, const rot_peer_t *p,
                           const uint8_t *req, uint32_t req_len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  rot_mbox_begin_req_t b;
  ROT_TRY(rot_mbox_begin_req_decode(req, req_len, &b));
  ROT_TRY(owner_check(s, p));
  ROT_TRY(rot_update_begin(s->update, b.image_type, b.total_len));
  s->session_owner = p->conn;
  /* The region is about to be written: its cached verdict is gone. */
  uint32_t region = s->update->session.region;
  s->verdict[region].valid = HARDENED_FALSE;
  rot_mbox_begin_resp_t resp;
  resp.region = region;
  resp.slot = s->layout->regions[region].slot;
  resp.chunk_max = ROT_UPDATE_CHUNK_MAX < ROT_MBOX_CHUNK_DATA_MAX
                       ? ROT_UPDATE_CHUNK_MAX
                       : ROT_MBOX_CHUNK_DATA_MAX;
  return rot_mbox_begin_resp_encode(&resp, out, cap, out_len);
}

static rot_error_t h_chunk(rot_server_t *s, const rot_peer_t *p,
                           const uint8_t *req, uint32_t req_len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  rot_mbox_chunk_req_t ch;
  ROT_TRY(rot_mbox_chunk_req_decode(req, req_len, &ch));
  ROT_TRY(owner_check(s, p));
  ROT_TRY(rot_update_chunk(s->update, ch.offset, ch.data, ch.length));
  rot_mbox_chunk_resp_t resp = {s->update->session.written};
  return rot_mbox_chunk_resp_encode(&resp, out, cap, out_len);
}

static rot_error_t h_finish(rot_server_t *s, const rot_peer_t *p,
                            const uint8_t *req, uint32_t req_len, uint8_t *out,
                            size_t cap, size_t *out_len) {
  (void)req;
  (void)req_len;
  ROT_TRY(owner_check(s, p));
  uint32_t region = s->update->session.region;
  uint32_t len = s->update->session.declared_len;
  rot_verified_image_t v;
  ROT_TRY(rot_update_finish(s->update, &v));
  rot_mbox_image_info_t info;
  rot_server_info_from_verified(&v, region, len, &info);
  return rot_mbox_image_info_encode(&info, out, cap, out_len);
}

static rot_error_t h_abort(rot_server_t *s, const rot_peer_t *p,
                           const uint8_t *req, uint32_t req_len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  (void)req;
  (void)req_len;
  (void)out;
  (void)cap;
  if (!session_open(s)) {
    return ROT_ERROR_UPDATE_NO_SESSION;
  }
  ROT_TRY(owner_check(s, p));
  /* ROT_OK as the recorded reason: aborted on request, not by a fault. */
  rot_update_abort(s->update, ROT_OK);
  *out_len = 0;
  return ROT_OK;
}

static rot_error_t type_state_reply(rot_server_t *s, uint32_t type,
                                    uint8_t *out, size_t cap, size_t *out_len);

/* ACTIVATE, REVERT: run the step, reply with the type's state. */
ROT_NOINLINE
static rot_error_t type_step(rot_server_t *s, uint16_t cmd, const uint8_t *req,
                             uint32_t req_len, uint8_t *out, size_t cap,
                             size_t *out_len) {
  rot_mbox_type_req_t t;
  ROT_TRY(rot_mbox_type_req_decode(req, req_len, &t));
  if (cmd == ROT_MBOX_CMD_ACTIVATE) {
    ROT_TRY(rot_update_activate(s->update, t.image_type));
  } else {
    ROT_TRY(rot_update_revert(s->update, t.image_type));
  }
  return type_state_reply(s, t.image_type, out, cap, out_len);
}

static rot_error_t type_state_reply(rot_server_t *s, uint32_t type,
                                    uint8_t *out, size_t cap, size_t *out_len) {
  rot_policy_t pol;
  ROT_TRY(rot_otp_policy(s->otp, &pol));
  rot_mbox_type_state_t st;
  type_state(s, &pol, type, &st);
  return rot_mbox_type_state_encode(&st, out, cap, out_len);
}

static rot_error_t h_activate(rot_server_t *s, const rot_peer_t *p,
                              const uint8_t *req, uint32_t req_len,
                              uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  return type_step(s, ROT_MBOX_CMD_ACTIVATE, req, req_len, out, cap, out_len);
}

static rot_error_t h_confirm(rot_server_t *s, const rot_peer_t *p,
                             const uint8_t *req, uint32_t req_len,
                             uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  rot_mbox_confirm_req_t q;
  ROT_TRY(rot_mbox_confirm_req_decode(req, req_len, &q));
  if ((q.flags & ~ROT_CONFIRM_FLAGS_ALL) != 0) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  rot_verified_image_t v;
  ROT_TRY(rot_update_confirm_flags(s->update, q.image_type, q.flags, &v));
  return type_state_reply(s, q.image_type, out, cap, out_len);
}

static rot_error_t h_revert(rot_server_t *s, const rot_peer_t *p,
                            const uint8_t *req, uint32_t req_len, uint8_t *out,
                            size_t cap, size_t *out_len) {
  (void)p;
  return type_step(s, ROT_MBOX_CMD_REVERT, req, req_len, out, cap, out_len);
}

/* ---- BOOT -------------------------------------------------------------------- */

/*
 * The boot decision of a type, once per reset. The first BOOT locks every
 * host boot region (before any byte of them is handed out), then decides:
 * a trial attempt is counted at most once per reset, however often BOOT
 * is asked, so no client can spend the attempts and force a revert.
 */
static rot_error_t boot_decision(rot_server_t *s, uint32_t type,
                                 const rot_server_boot_t **out) {
  if (type >= ROT_IMAGE_TYPE_SLOTS) {
    return ROT_ERROR_UPDATE_BAD_TYPE;
  }
  rot_server_boot_t *b = &s->boot[type];
  if (b->taken != HARDENED_TRUE) {
    /* One durable record per decision: the locks are named by the
     * decision's BOOT record, not written one by one. */
    rot_audit_locks_collect(s->audit);
    rot_error_t err = lock_boot_regions(s);
    if (err == ROT_OK) {
      b->err = rot_boot_decide(s->update, type, &b->dec);
      b->taken = HARDENED_TRUE;
    }
    /* Locks no record named (the decision stopped before its record):
     * recorded here, so none goes unrecorded. */
    uint32_t unnamed = rot_audit_locks_end(s->audit);
    if (unnamed != 0) {
      rot_error_t rerr = rot_audit_append_ext(
          s->audit, ROT_AUDIT_BOOT, err != ROT_OK ? err : b->err, type,
          ROT_RGN_COUNT, unnamed);
      (void)rerr;
    }
    ROT_TRY(err);
  }
  *out = b;
  return ROT_OK;
}

static rot_error_t h_boot(rot_server_t *s, const rot_peer_t *p,
                          const uint8_t *req, uint32_t req_len, uint8_t *out,
                          size_t cap, size_t *out_len) {
  (void)p;
  rot_mbox_type_req_t t;
  ROT_TRY(rot_mbox_type_req_decode(req, req_len, &t));
  if (t.image_type == ROT_IMAGE_TYPE_ROT) {
    /* The chip's own firmware was decided by the ROM stage at reset:
     * report that verdict; never decide (or count a trial) twice. */
    return rot_server_rom_verdict(s, out, cap, out_len);
  }
  const rot_server_boot_t *b = NULL;
  ROT_TRY(boot_decision(s, t.image_type, &b));
  /* "Nothing boots" is a decision, not a failed request: the reply says
   * so, with the reason the preferred image was refused. */
  if (b->err != ROT_OK &&
      !(b->err == ROT_ERROR_BOOT_NO_IMAGE && b->dec.reason == ROT_BOOT_NONE)) {
    return b->err;
  }
  rot_mbox_boot_resp_t resp;
  rot_memset(&resp, 0, sizeof(resp));
  resp.reason = b->dec.reason;
  resp.why = (uint32_t)b->dec.why;
  if (b->err == ROT_OK) {
    /* Never hand out a region without a completed verification, and
     * never one that could still change. */
    ROT_TRY(rot_verified_check(&b->dec.verified));
    HARDENED_CHECK_EQ(rot_gate_is_locked(s->gate, b->dec.region), HARDENED_TRUE);
    rot_server_info_from_verified(&b->dec.verified, b->dec.region, b->dec.image_len,
                       &resp.info);
  } else {
    resp.info.image_type = t.image_type;
    resp.info.region = ROT_MBOX_REGION_NONE;
  }
  return rot_mbox_boot_resp_encode(&resp, out, cap, out_len);
}

/* ---- AUDIT ---------------------------------------------------------------------- */

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

static rot_error_t h_audit_read(rot_server_t *s, const rot_peer_t *p,
                                const uint8_t *req, uint32_t req_len,
                                uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  rot_mbox_audit_read_req_t r;
  ROT_TRY(rot_mbox_audit_read_req_decode(req, req_len, &r));
  if (s->audit == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  if (cap < ROT_MBOX_AUDIT_READ_RESP_FIXED +
                (size_t)r.count * ROT_AUDIT_RECORD_SIZE) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  audit_collect_t a = {r.start_seq, r.count, 0, 0,
                       out + ROT_MBOX_AUDIT_READ_RESP_FIXED};
  rot_audit_report_t report;
  rot_error_t err = rot_audit_verify(s->audit, audit_collect, &a, &report);
  if (!audit_walk_ok(err)) {
    return err;
  }
  rot_mbox_audit_read_resp_t resp = {a.got, a.next_seq, NULL};
  size_t head = 0;
  ROT_TRY(rot_mbox_audit_read_resp_encode(&resp, out, cap, &head));
  *out_len = head + (size_t)a.got * ROT_AUDIT_RECORD_SIZE;
  return ROT_OK;
}

static rot_error_t h_audit_verify(rot_server_t *s, const rot_peer_t *p,
                                  const uint8_t *req, uint32_t req_len,
                                  uint8_t *out, size_t cap, size_t *out_len) {
  (void)p;
  (void)req;
  (void)req_len;
  if (s->audit == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  rot_audit_report_t report;
  rot_memset(&report, 0, sizeof(report));
  rot_error_t err = rot_audit_verify(s->audit, NULL, NULL, &report);
  if (!audit_walk_ok(err)) {
    return err;
  }
  if (err != ROT_OK && report.verdict == ROT_OK) {
    report.verdict = err; /* never report a clean chain the walk denied */
  }
  return rot_mbox_audit_report_encode(&report, out, cap, out_len);
}

/* ---- LOCK ------------------------------------------------------------------------- */

static rot_error_t h_lock(rot_server_t *s, const rot_peer_t *p,
                          const uint8_t *req, uint32_t req_len, uint8_t *out,
                          size_t cap, size_t *out_len) {
  (void)p;
  rot_mbox_lock_req_t l;
  ROT_TRY(rot_mbox_lock_req_decode(req, req_len, &l));
  if (l.region == ROT_MBOX_LOCK_BOOT) {
    ROT_TRY(lock_boot_regions(s));
  } else {
    /* The gate accepts image regions only, and records a refusal. */
    ROT_TRY(rot_gate_lock(s->gate, l.region));
  }
  rot_mbox_lock_resp_t resp = {locked_mask(s)};
  return rot_mbox_lock_resp_encode(&resp, out, cap, out_len);
}

/* ---- RESET ------------------------------------------------------------------------- */

/* What a power cycle of the chip does: the session is abandoned, the
 * locks cleared, state and audit log read back, boot decisions retaken. */
static rot_error_t chip_reset(rot_server_t *s, const rot_peer_t *p) {
  rot_gate_t *g = s->gate;
  rot_update_t *u = s->update;
  rot_audit_t *a = s->audit;
  rot_update_abort(u, ROT_ERROR_MAILBOX_CLOSED);
  ROT_TRY(rot_gate_init(g, g->flash, g->layout, g->on_event, g->event_ctx));
  if (a != NULL) {
    ROT_TRY(rot_audit_init(a, g, a->crypto, a->now));
  }
  ROT_TRY(rot_update_init(u, g, u->otp, u->crypto, a, u->now, u->scratch,
                          u->scratch_len));
  const rot_cert_port_t *cert = s->cert;
  ROT_TRY(rot_server_init(s, g, u, a, s->otp, s->crypto, s->session_timeout));
  rot_server_set_cert(s, cert);
  rot_server_record(s, ROT_AUDIT_RESET, ROT_OK, p->uid, 0);
  return ROT_OK;
}

/*
 * A chip reset on request: what a power cycle of the chip does, without
 * the power cycle. The session is abandoned, the gate starts again (every
 * lock gone), the audit log and the update state are read back from flash
 * (a pending floor raise finishes), and the next BOOT decides afresh.
 */
static rot_error_t h_reset(rot_server_t *s, const rot_peer_t *p,
                           const uint8_t *req, uint32_t req_len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  (void)req;
  (void)req_len;
  (void)out;
  (void)cap;
  ROT_TRY(chip_reset(s, p));
  *out_len = 0;
  return ROT_OK;
}

/* ---- LIFECYCLE --------------------------------------------------------------------- */

/*
 * A one-way lifecycle transition (rot_otp_lifecycle_transition), only
 * with the confirmation word, never under an open update session. The
 * request is recorded before the fuse burns and the outcome after it, so
 * a cut in between still leaves the intent in the log; then the chip
 * resets, so nothing decided under the old lifecycle (boot verdicts, a
 * state key a decommissioned device no longer has) outlives it.
 */
static rot_error_t h_lifecycle(rot_server_t *s, const rot_peer_t *p,
                               const uint8_t *req, uint32_t req_len,
                               uint8_t *out, size_t cap, size_t *out_len) {
  rot_mbox_lifecycle_req_t q;
  ROT_TRY(rot_mbox_lifecycle_req_decode(req, req_len, &q));
  rot_error_t err = ROT_OK;
  if (q.confirm != ROT_MBOX_LIFECYCLE_CONFIRM) {
    err = ROT_ERROR_POLICY_NOT_CONFIRMED;
  } else if (session_open(s)) {
    err = ROT_ERROR_UPDATE_BUSY;
  }
  if (err == ROT_OK) {
    rot_server_record(s, ROT_AUDIT_LIFECYCLE_REQUEST, ROT_OK, q.from,
                      q.to);
    HARDENED_CHECK_EQ(q.confirm, ROT_MBOX_LIFECYCLE_CONFIRM);
    err = rot_otp_lifecycle_transition(s->otp, q.from, q.to);
  }
  rot_server_record(s, ROT_AUDIT_LIFECYCLE, err, q.from, q.to);
  ROT_TRY(err);
  ROT_TRY(chip_reset(s, p));
  rot_policy_t pol;
  ROT_TRY(rot_otp_policy(s->otp, &pol));
  return rot_mbox_lifecycle_resp_encode(pol.lifecycle, out, cap, out_len);
}

/* ---- the authorisation table ----------------------------------------------------- */

#define R ROT_ROLE_READER
#define O ROT_ROLE_OPERATOR
#define B ROT_ROLE_BOOT

/* One row per command: who may send it, the payload bounds, the handler.
 * Everything a peer may do is here. Eight bytes a row: the command, the
 * roles and the smallest payload share 16 bits, and the largest payload
 * is kept as what it adds to the smallest (the ROW macro refuses bounds
 * that do not fit). */
typedef struct command_row {
  handler_fn run;
  uint16_t max_extra;   /* largest payload - min_len */
  uint16_t command : 7; /* every command code is below 0x80 */
  uint16_t roles : 3;   /* ROT_ROLE_* */
  uint16_t min_len : 6; /* every fixed request part is under 64 bytes */
} command_row_t;
_Static_assert(sizeof(command_row_t) <= 2u * sizeof(handler_fn),
               "a row is a handler and four bytes: eight bytes on the chip");

/* n when n < limit, else a compile error. */
#define FITS_(n, limit) ((n) + 0u * sizeof(char[(n) < (limit) ? 1 : -1]))
#define ROW(cmd, roles, min, max, fn)                                   \
  {fn, (uint16_t)FITS_((max) - (min), 0x10000u), FITS_(cmd, 0x80u), roles, \
   FITS_(min, 0x40u)}

static const command_row_t kCommands[] = {
    ROW(ROT_MBOX_CMD_STATUS, R | O | B, 0, 0, h_status),
    ROW(ROT_MBOX_CMD_INVENTORY, R | O | B, 0, 0, h_inventory),
    ROW(ROT_MBOX_CMD_AUDIT_READ, R | O | B, ROT_MBOX_AUDIT_READ_REQ_SIZE,
        ROT_MBOX_AUDIT_READ_REQ_SIZE, h_audit_read),
    ROW(ROT_MBOX_CMD_AUDIT_VERIFY, R | O | B, 0, 0, h_audit_verify),
    ROW(ROT_MBOX_CMD_READ_REGION, O | B, ROT_MBOX_READ_REQ_SIZE,
        ROT_MBOX_READ_REQ_SIZE, h_read_region),
    ROW(ROT_MBOX_CMD_UPDATE_BEGIN, O, ROT_MBOX_BEGIN_REQ_SIZE,
        ROT_MBOX_BEGIN_REQ_SIZE, h_begin),
    ROW(ROT_MBOX_CMD_UPDATE_CHUNK, O, ROT_MBOX_CHUNK_REQ_FIXED + 1u,
        ROT_MBOX_CHUNK_REQ_FIXED + ROT_MBOX_CHUNK_DATA_MAX, h_chunk),
    ROW(ROT_MBOX_CMD_UPDATE_FINISH, O, 0, 0, h_finish),
    ROW(ROT_MBOX_CMD_UPDATE_ABORT, O, 0, 0, h_abort),
    ROW(ROT_MBOX_CMD_ACTIVATE, O, ROT_MBOX_TYPE_REQ_SIZE, ROT_MBOX_TYPE_REQ_SIZE,
        h_activate),
    ROW(ROT_MBOX_CMD_CONFIRM, O, ROT_MBOX_CONFIRM_REQ_MIN,
        ROT_MBOX_CONFIRM_REQ_SIZE, h_confirm),
    ROW(ROT_MBOX_CMD_REVERT, O, ROT_MBOX_TYPE_REQ_SIZE, ROT_MBOX_TYPE_REQ_SIZE,
        h_revert),
    ROW(ROT_MBOX_CMD_BOOT, B, ROT_MBOX_TYPE_REQ_SIZE, ROT_MBOX_TYPE_REQ_SIZE,
        h_boot),
    ROW(ROT_MBOX_CMD_LOCK, O | B, ROT_MBOX_LOCK_REQ_SIZE, ROT_MBOX_LOCK_REQ_SIZE,
        h_lock),
    ROW(ROT_MBOX_CMD_RESET, O, 0, 0, h_reset),
    ROW(ROT_MBOX_CMD_IDENTITY, R | O | B, 0, 0, rot_server_h_identity),
    ROW(ROT_MBOX_CMD_ENDORSE, O | B, ROT_DICE_ENDORSE_REQ_MIN,
        ROT_DICE_ENDORSE_REQ_MAX, rot_server_h_endorse),
    ROW(ROT_MBOX_CMD_IDENTITY_CSR, O, 0, 0, rot_server_h_identity_csr),
    ROW(ROT_MBOX_CMD_IDENTITY_STORE, O, 1, ROT_CERT_MAX,
        rot_server_h_identity_store),
    ROW(ROT_MBOX_CMD_LIFECYCLE, O, ROT_MBOX_LIFECYCLE_REQ_SIZE,
        ROT_MBOX_LIFECYCLE_REQ_SIZE, h_lifecycle),
};

#undef ROW
#undef FITS_
#undef R
#undef O
#undef B

static const command_row_t *find_command(uint16_t cmd) {
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kCommands); i++) {
    if (kCommands[i].command == cmd) {
      return &kCommands[i];
    }
  }
  return NULL;
}

static hardened_bool_t may_send(const command_row_t *row, const rot_peer_t *p) {
  return (row->roles & p->roles & ROT_ROLE_ALL) != 0 ? HARDENED_TRUE
                                                     : HARDENED_FALSE;
}

/* ---- the server ---------------------------------------------------------------------- */

rot_error_t rot_server_init(rot_server_t *s, rot_gate_t *g, rot_update_t *u,
                            rot_audit_t *a, const rot_otp_port_t *otp,
                            const rot_crypto_t *c, uint64_t session_timeout) {
  if (s == NULL || g == NULL || g->layout == NULL || u == NULL || otp == NULL ||
      c == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(s, 0, sizeof(*s));
  s->layout = g->layout;
  s->gate = g;
  s->update = u;
  s->audit = a;
  s->otp = otp;
  s->crypto = c;
  s->session_timeout =
      session_timeout != 0 ? session_timeout : ROT_SERVER_SESSION_TIMEOUT;
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    s->boot[t].taken = HARDENED_FALSE;
  }
  for (uint32_t r = 0; r < ROT_RGN_COUNT; r++) {
    s->verdict[r].valid = HARDENED_FALSE;
  }
  /* The boot ROM stage: which RoT firmware runs, and the identity it
   * measures to. Its verdict is state, not a failure of the reset: a chip
   * without firmware still serves recovery commands. */
  rot_error_t rom = rot_identity_boot(&s->id, u, otp, c);
  (void)rom;
  return ROT_OK;
}

void rot_server_set_cert(rot_server_t *s, const rot_cert_port_t *cert) {
  if (s != NULL) {
    s->cert = cert;
  }
}

rot_error_t rot_server_admit(rot_server_t *s, const rot_peer_t *peer,
                             uint32_t open_total, uint32_t open_same_uid) {
  if (s == NULL || peer == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if ((peer->roles & ROT_ROLE_ALL) == 0) {
    rot_server_record(s, ROT_AUDIT_PEER_REFUSED, ROT_ERROR_MAILBOX_UNAUTHORIZED,
                      peer->uid, peer->pid);
    return ROT_ERROR_MAILBOX_UNAUTHORIZED;
  }
  /* The last slot is the boot path's: a host must be able to boot however
   * many connections its operators hold open. */
  uint32_t total_cap = (peer->roles & ROT_ROLE_BOOT) != 0
                           ? ROT_SERVER_MAX_CONNS
                           : ROT_SERVER_MAX_CONNS - 1u;
  if (open_total >= total_cap || open_same_uid >= ROT_SERVER_MAX_PER_UID) {
    return ROT_ERROR_MAILBOX_BUSY;
  }
  return ROT_OK;
}

/* Run a decoded request; the reply payload goes to out. */
static rot_error_t dispatch(rot_server_t *s, const rot_peer_t *p,
                            const rot_mbox_header_t *h, const uint8_t *payload,
                            uint8_t *out, size_t cap, size_t *out_len) {
  const command_row_t *row = find_command(h->command);
  if (row == NULL) {
    return ROT_ERROR_MAILBOX_UNKNOWN_COMMAND;
  }
  rot_error_t refused = ROT_OK;
  if (ROT_FIRST_CHECK(may_send(row, p) != HARDENED_TRUE)) {
    refused = ROT_ERROR_MAILBOX_UNAUTHORIZED;
  } else {
    if (h->payload_len > (uint32_t)row->min_len + row->max_extra) {
      return ROT_ERROR_MAILBOX_TOO_LARGE;
    }
    if (h->payload_len < row->min_len) {
      return ROT_ERROR_MAILBOX_BAD_ARGS;
    }
    /* The boot ROM stage found no RoT firmware: recovery commands only. */
    rot_error_t rec = rot_server_recovery_check(s, h->command, payload,
                                                h->payload_len);
    if (ROT_FIRST_CHECK(rec != ROT_OK)) {
      refused = rec;
    }
  }
  if (refused != ROT_OK) { /* either refusal is recorded, the same way */
    rot_server_record(s, ROT_AUDIT_COMMAND_REFUSED, refused, p->uid,
                      h->command);
    return refused;
  }
  /* Second look, right before the command runs. */
  HARDENED_CHECK_EQ(may_send(row, p), HARDENED_TRUE);
  HARDENED_CHECK_EQ(rot_server_recovery_check(s, h->command, payload,
                                              h->payload_len),
                    ROT_OK);
  return row->run(s, p, payload, h->payload_len, out, cap, out_len);
}

size_t rot_server_handle(rot_server_t *s, const rot_peer_t *peer,
                         const uint8_t *frame, size_t len, uint8_t *out,
                         size_t cap) {
  if (s == NULL || peer == NULL || out == NULL || cap < ROT_MBOX_MAX_FRAME ||
      (frame == NULL && len != 0)) {
    return 0;
  }
  uint16_t cmd = 0;
  uint32_t seq = 0;
  rot_mbox_peek(frame, len, &cmd, &seq);
  rot_mbox_header_t h;
  const uint8_t *payload = NULL;
  size_t out_len = 0;
  rot_error_t err = rot_mbox_frame_decode(frame, len, &h, &payload);
  if (err == ROT_OK) {
    err = rot_mbox_request_check(&h);
  }
  if (err == ROT_OK) {
    cmd = h.command;
    seq = h.seq;
    err = dispatch(s, peer, &h, payload, out + ROT_MBOX_HEADER_SIZE,
                   ROT_MBOX_MAX_PAYLOAD, &out_len);
  }
  sync_owner(s);
  size_t n = 0;
  if (rot_mbox_frame_encode(out, cap, cmd, ROT_MBOX_FLAG_RESPONSE, seq,
                            (uint32_t)err, out + ROT_MBOX_HEADER_SIZE,
                            err == ROT_OK ? (uint32_t)out_len : 0u,
                            &n) != ROT_OK) {
    /* A handler overflowed its reply: say so instead of sending junk. */
    if (rot_mbox_frame_encode(out, cap, cmd, ROT_MBOX_FLAG_RESPONSE, seq,
                              (uint32_t)ROT_ERROR_INTERNAL, NULL, 0,
                              &n) != ROT_OK) {
      return 0;
    }
  }
  return n;
}

void rot_server_disconnect(rot_server_t *s, uint32_t conn) {
  if (s == NULL || conn == 0) {
    return;
  }
  if (session_open(s) && s->session_owner == conn) {
    /* The owner is gone: nobody can finish this session. */
    rot_update_abort(s->update, ROT_ERROR_MAILBOX_CLOSED);
  }
  sync_owner(s);
}

int rot_server_tick(rot_server_t *s) {
  if (s == NULL) {
    return 0;
  }
  int expired = rot_update_expire(s->update, s->session_timeout);
  sync_owner(s);
  return expired;
}

uint32_t rot_server_session_owner(const rot_server_t *s) {
  return s != NULL && session_open(s) ? s->session_owner : 0u;
}
