/*
 * Update engine and boot decision.
 *
 * Power-fail safety comes from three rules:
 *  1. State changes are a single record written to the older of two
 *     copies; a torn write fails its digest and the other copy stands.
 *  2. A slot is only ever written while it is neither the confirmed nor
 *     the pending image, so the last confirmed image is never touched.
 *  3. The OTP floor moves only after the confirm that justifies it is
 *     durable (floor_pending), and an interrupted raise is finished at
 *     the next start.
 */
#include "rot/update.h"

#include "rot/util.h"
#include "rot/wire.h"

#define STATE_SIGNED_LEN ((uint32_t)offsetof(rot_update_state_t, mac))

_Static_assert(sizeof(rot_update_state_t) == ROT_UPDATE_STATE_SIZE, "size");

/* HKDF info for the state key: a label per use keeps keys derived from the
 * device secret independent of each other. */
static const char kStateKeyInfo[] = "rot-stack update state v1";

/* A state commit that names a slot anew (staged, pending or active) must
 * carry the token of the verification that covered that slot. */
typedef rot_slot_token_t slot_token_t;

static void note(rot_update_t *u, uint32_t event, rot_error_t status,
                 uint32_t arg0, uint32_t arg1) {
  if (u->audit == NULL) {
    return;
  }
  /* Availability over completeness: a full or failing audit region must
   * not stop a boot; a gap is visible to `audit --verify`. */
  rot_error_t err = rot_audit_append(u->audit, event, status, arg0, arg1);
  (void)err;
}

/* The boot decision's one record: what was booted, and every region the
 * decision locked on its way (collected by the audit's gate hook). */
static void note_boot(rot_update_t *u, rot_error_t status, uint32_t type,
                      uint32_t region) {
  if (u->audit == NULL) {
    return;
  }
  rot_error_t err = rot_audit_append_ext(u->audit, ROT_AUDIT_BOOT, status, type,
                                         region, rot_audit_locks_take(u->audit));
  (void)err; /* as note(): a boot is not stopped by its record */
}

static uint64_t now_of(const rot_update_t *u) {
  return u->now != NULL ? u->now() : 0;
}

/* ---- persistent state ------------------------------------------------- */

rot_error_t rot_update_state_key(const rot_otp_port_t *otp,
                                 const rot_crypto_t *c,
                                 uint8_t key[ROT_UPDATE_STATE_KEY_LEN]) {
  if (otp == NULL || c == NULL || c->hkdf == NULL || key == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t uds[ROT_OTP_UDS_LEN];
  ROT_TRY(rot_otp_read_uds(otp, uds));
  rot_error_t err = c->hkdf(c, ROT_HASH_SHA256, NULL, 0, uds, sizeof(uds),
                            (const uint8_t *)kStateKeyInfo,
                            sizeof(kStateKeyInfo) - 1u, key,
                            ROT_UPDATE_STATE_KEY_LEN);
  rot_wipe(uds, sizeof(uds));
  if (err != ROT_OK) {
    rot_wipe(key, ROT_UPDATE_STATE_KEY_LEN);
  }
  return err;
}

ROT_NOINLINE
static rot_error_t state_mac(const rot_crypto_t *c, const uint8_t *key,
                             const uint8_t *b, uint8_t mac[ROT_SHA256_LEN]) {
  if (c->hmac == NULL) {
    return ROT_ERROR_UNSUPPORTED;
  }
  return c->hmac(c, ROT_HASH_SHA256, key, ROT_UPDATE_STATE_KEY_LEN, b,
                 STATE_SIGNED_LEN, mac, ROT_SHA256_LEN);
}

/* The state's persisted layout (little-endian, rot/wire.h): the head,
 * then one entry per image type; the MAC follows the bytes it covers. */
static const rot_field_t kStateHeadFields[] = {
    ROT_FIELD_INT(rot_update_state_t, magic),
    ROT_FIELD_INT(rot_update_state_t, seq),
    ROT_FIELD_END,
};
static const rot_field_t kTypeStateFields[] = {
    ROT_FIELD_INT(rot_type_state_t, active),
    ROT_FIELD_INT(rot_type_state_t, pending),
    ROT_FIELD_INT(rot_type_state_t, staged),
    ROT_FIELD_INT(rot_type_state_t, attempts_left),
    ROT_FIELD_INT(rot_type_state_t, floor_pending),
    ROT_FIELD_END,
};

rot_error_t rot_update_state_encode(const rot_crypto_t *c,
                                    const uint8_t key[ROT_UPDATE_STATE_KEY_LEN],
                                    const rot_update_state_t *s, uint8_t *b,
                                    size_t len) {
  if (c == NULL || key == NULL || s == NULL || b == NULL ||
      len < ROT_UPDATE_STATE_SIZE) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_cursor_t w = rot_cursor_writer(b, STATE_SIGNED_LEN);
  rot_cursor_put(&w, kStateHeadFields, s);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    rot_cursor_put(&w, kTypeStateFields, &s->types[t]);
  }
  return state_mac(c, key, b, b + STATE_SIGNED_LEN);
}

static int slot_ok(uint8_t s) {
  return s == ROT_SLOT_A || s == ROT_SLOT_B || s == ROT_SLOT_NONE;
}

rot_error_t rot_update_state_decode(const rot_crypto_t *c,
                                    const uint8_t key[ROT_UPDATE_STATE_KEY_LEN],
                                    const uint8_t *b, size_t len,
                                    rot_update_state_t *s) {
  if (c == NULL || key == NULL || b == NULL || s == NULL ||
      len < ROT_UPDATE_STATE_SIZE) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t mac[ROT_SHA256_LEN];
  if (rot_ld32(b) != ROT_UPDATE_STATE_MAGIC) {
    return ROT_ERROR_UPDATE_STATE_CORRUPT;
  }
  /* Authenticate before trusting a single field. */
  ROT_TRY(state_mac(c, key, b, mac));
  hardened_bool_t authentic = rot_ct_equal(mac, b + STATE_SIGNED_LEN, sizeof(mac));
  if (ROT_FIRST_CHECK(authentic != HARDENED_TRUE)) {
    return ROT_ERROR_UPDATE_STATE_FORGED;
  }
  HARDENED_CHECK_EQ(rot_ct_equal(mac, b + STATE_SIGNED_LEN, sizeof(mac)),
                    HARDENED_TRUE);
  rot_update_state_t d;
  rot_cursor_t r = rot_cursor_reader(b, STATE_SIGNED_LEN);
  rot_cursor_get(&r, kStateHeadFields, &d);
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    const rot_type_state_t *ts = &d.types[t];
    rot_cursor_get(&r, kTypeStateFields, &d.types[t]);
    if (!slot_ok(ts->active) || !slot_ok(ts->pending) || !slot_ok(ts->staged) ||
        ts->attempts_left > ROT_TRIAL_ATTEMPTS ||
        ts->floor_pending > ROT_SVN_MAX) {
      return ROT_ERROR_UPDATE_STATE_CORRUPT;
    }
  }
  rot_memcpy(d.mac, b + STATE_SIGNED_LEN, sizeof(d.mac));
  *s = d;
  return ROT_OK;
}

static void state_fresh(rot_update_state_t *s) {
  rot_memset(s, 0, sizeof(*s));
  s->magic = ROT_UPDATE_STATE_MAGIC;
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    s->types[t].active = ROT_SLOT_NONE;
    s->types[t].pending = ROT_SLOT_NONE;
    s->types[t].staged = ROT_SLOT_NONE;
  }
}

static rot_error_t state_load(rot_update_t *u) {
  uint8_t buf[ROT_UPDATE_STATE_SIZE];
  rot_update_state_t copies[2];
  int valid[2];
  uint32_t block = u->gate->flash->erase_size;
  u->state_rejected = 0;
  for (uint32_t i = 0; i < 2; i++) {
    ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, ROT_RGN_STATE, i * block, buf,
                          sizeof(buf)));
    rot_error_t err = rot_update_state_decode(u->crypto, u->state_key, buf,
                                              sizeof(buf), &copies[i]);
    valid[i] = err == ROT_OK;
    if (!valid[i] && !rot_is_erased(buf, sizeof(buf))) {
      u->state_rejected |= 1u << i;
      note(u, ROT_AUDIT_STATE_REJECTED, err, i, rot_ld32(buf + 4));
    }
  }
  if (valid[0] && (!valid[1] || copies[0].seq >= copies[1].seq)) {
    u->state = copies[0];
    u->state_copy = 0;
  } else if (valid[1]) {
    u->state = copies[1];
    u->state_copy = 1;
  } else {
    state_fresh(&u->state);
    u->state_copy = 1; /* so the first write lands in copy 0 */
  }
  return ROT_OK;
}

/*
 * The second look before a state names a slot anew: each staged, pending
 * or active slot the commit introduces must be the one a completed
 * verification covered. Stops the commit even when a skipped first check
 * let an unverified image this far.
 */
static void commit_guard(const rot_update_t *u, const rot_update_state_t *next,
                         const slot_token_t *tok) {
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    const rot_type_state_t *c = &u->state.types[t];
    const rot_type_state_t *n = &next->types[t];
    const uint8_t cur[3] = {c->active, c->pending, c->staged};
    const uint8_t nxt[3] = {n->active, n->pending, n->staged};
    for (uint32_t f = 0; f < 3; f++) {
      if (nxt[f] == cur[f] || nxt[f] == ROT_SLOT_NONE) {
        continue;
      }
      HARDENED_CHECK_EQ(tok != NULL, 1);
      HARDENED_CHECK_EQ(tok->type, t);
      HARDENED_CHECK_EQ(tok->slot, nxt[f]);
      HARDENED_CHECK_EQ(tok->v.image_type, t);
      HARDENED_CHECK_EQ(rot_verified_check(&tok->v), ROT_OK);
    }
  }
}

/* Write the state with type's entry replaced by *entry (every change of
 * state is one type's) into the older copy; u->state changes only once it
 * is durable. tok: the verification behind any slot the commit names
 * anew, or NULL. */
static rot_error_t state_commit(rot_update_t *u, uint32_t type,
                                const rot_type_state_t *entry,
                                const slot_token_t *tok) {
  uint8_t buf[ROT_UPDATE_STATE_SIZE];
  uint8_t back[ROT_UPDATE_STATE_SIZE];
  rot_update_state_t check;
  uint32_t target = u->state_copy ^ 1u;
  uint32_t off = target * u->gate->flash->erase_size;
  if (u->sealed != HARDENED_FALSE) {
    return ROT_ERROR_UPDATE_SEALED;
  }
  if (type >= ROT_IMAGE_TYPE_SLOTS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_update_state_t next = u->state;
  next.types[type] = *entry;
  commit_guard(u, &next, tok);
  next.magic = ROT_UPDATE_STATE_MAGIC;
  next.seq = u->state.seq + 1u;
  ROT_TRY(rot_update_state_encode(u->crypto, u->state_key, &next, buf,
                                  sizeof(buf)));
  rot_memcpy(next.mac, buf + STATE_SIGNED_LEN, sizeof(next.mac));
  /* Barriers: what the new state refers to (a staged image) is durable
   * before the state is written, and the state before it is acted on. */
  ROT_TRY(rot_gate_sync(u->gate));
  ROT_TRY(rot_gate_erase(u->gate, ROT_INIT_CHIP, ROT_RGN_STATE, off));
  ROT_TRY(rot_gate_program(u->gate, ROT_INIT_CHIP, ROT_RGN_STATE, off, buf,
                           sizeof(buf)));
  ROT_TRY(rot_gate_sync(u->gate));
  ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, ROT_RGN_STATE, off, back,
                        sizeof(back)));
  ROT_TRY(rot_update_state_decode(u->crypto, u->state_key, back, sizeof(back),
                                  &check));
  if (check.seq != next.seq) {
    return ROT_ERROR_UPDATE_STATE_CORRUPT;
  }
  u->state = next;
  u->state_copy = target;
  return ROT_OK;
}

/* ---- helpers ------------------------------------------------------------ */

static int type_has_slots(const rot_update_t *u, uint32_t type) {
  return type < ROT_IMAGE_TYPE_SLOTS &&
         rot_flash_slot_region(u->gate->layout, type, ROT_SLOT_A) >= 0 &&
         rot_flash_slot_region(u->gate->layout, type, ROT_SLOT_B) >= 0;
}

static uint32_t slot_region(const rot_update_t *u, uint32_t type, uint32_t slot) {
  int r = rot_flash_slot_region(u->gate->layout, type, slot);
  return r < 0 ? ROT_RGN_COUNT : (uint32_t)r;
}

rot_error_t rot_update_verify_region(rot_update_t *u, uint32_t region,
                                     uint32_t expected_type,
                                     rot_verified_image_t *out,
                                     uint32_t *image_len) {
  if (u == NULL || out == NULL || region >= ROT_RGN_COUNT) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  uint8_t hdr_bytes[ROT_IMAGE_HEADER_SIZE];
  ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, region, 0, hdr_bytes,
                        sizeof(hdr_bytes)));
  if (rot_is_erased(hdr_bytes, sizeof(hdr_bytes))) {
    return ROT_ERROR_BOOT_EMPTY_SLOT;
  }
  /* Header first: the length it declares decides how much is read. */
  rot_image_header_t h;
  ROT_TRY(rot_image_header_parse(hdr_bytes, sizeof(hdr_bytes), &h));
  size_t total = rot_image_expected_len(&h);
  if (total == 0 || total > u->gate->layout->regions[region].size) {
    return ROT_ERROR_IMAGE_TRUNCATED;
  }
  if (total > u->scratch_len) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, region, 0, u->scratch,
                        (uint32_t)total));
  rot_policy_t policy;
  ROT_TRY(rot_otp_policy(u->otp, &policy));
  ROT_TRY(rot_image_verify(u->crypto, &policy, u->scratch, total,
                           expected_type, out));
  if (image_len != NULL) {
    *image_len = (uint32_t)total;
  }
  return ROT_OK;
}

/* Verify the image in a type's slot into a token bound to that slot. */
static rot_error_t verify_slot(rot_update_t *u, uint32_t type, uint32_t slot,
                               slot_token_t *tok, uint32_t *image_len) {
  rot_memset(tok, 0, sizeof(*tok));
  tok->type = type;
  tok->slot = slot;
  uint32_t region = slot_region(u, type, slot);
  if (region >= ROT_RGN_COUNT) {
    return ROT_ERROR_UPDATE_BAD_TYPE;
  }
  return rot_update_verify_region(u, region, type, &tok->v, image_len);
}

/*
 * The kept token of a slot's last full verification (finish's, or the one
 * that chose the slot an update writes) still holds while the slot has not
 * been written through the gate since and the policy is the same (a
 * revocation or a floor raise in between means a full verification again).
 */
static int known_holds(const rot_update_t *u, uint32_t type, uint32_t slot,
                       const rot_policy_t *now) {
  const rot_staged_token_t *t = &u->known[slot & 1u];
  return t->valid == HARDENED_TRUE && t->tok.type == type &&
         t->tok.slot == slot && t->region < ROT_RGN_COUNT &&
         u->gate->writes[t->region] == t->writes &&
         rot_memeq(&t->policy, now, sizeof(*now)) &&
         rot_verified_check(&t->tok.v) == ROT_OK && t->tok.v.image_type == type;
}

ROT_NOINLINE
static void keep_token(rot_update_t *u, const slot_token_t *tok,
                       uint32_t region, const rot_policy_t *policy) {
  rot_staged_token_t *t = &u->known[tok->slot & 1u];
  t->tok = *tok;
  t->region = region;
  t->writes = u->gate->writes[region];
  t->policy = *policy;
  t->valid = HARDENED_TRUE;
}

/*
 * Does the image in a type's slot verify? The kept token while it holds,
 * else a full verification whose token is kept. Only for activate and for
 * the choice of the slot an update writes: boot, confirm and revert always
 * verify in full.
 */
static rot_error_t slot_verdict(rot_update_t *u, uint32_t type, uint32_t slot,
                                const slot_token_t **tok) {
  rot_policy_t now; /* no padding: compared as bytes */
  ROT_TRY(rot_otp_policy(u->otp, &now));
  if (!known_holds(u, type, slot, &now)) {
    slot_token_t fresh;
    ROT_TRY(verify_slot(u, type, slot, &fresh, NULL));
    keep_token(u, &fresh, slot_region(u, type, slot), &now);
  }
  /* Second look: whichever way, a token that holds now. */
  HARDENED_CHECK_NE(known_holds(u, type, slot, &now), 0);
  *tok = &u->known[slot & 1u].tok;
  return ROT_OK;
}

/*
 * Is a floor raise to svn for type justified? Only by a verified image of
 * that type in one of its slots carrying at least that SVN; known is a
 * token the caller already holds (the confirm's), so the common path does
 * not hash the image twice. On success *proof is the token that justifies
 * it, for the caller's second look.
 */
static rot_error_t floor_justified(rot_update_t *u, uint32_t type, uint32_t svn,
                                   const slot_token_t *known,
                                   slot_token_t *proof) {
  if (known != NULL && known->type == type &&
      rot_verified_check(&known->v) == ROT_OK && known->v.svn >= svn) {
    *proof = *known;
    return ROT_OK;
  }
  if (!type_has_slots(u, type)) {
    return ROT_ERROR_UPDATE_FLOOR_UNJUSTIFIED;
  }
  const rot_type_state_t *ts = &u->state.types[type];
  uint32_t order[2] = {ts->active == ROT_SLOT_B ? ROT_SLOT_B : ROT_SLOT_A, 0};
  order[1] = order[0] ^ 1u;
  for (uint32_t i = 0; i < 2; i++) {
    if (u->session.open == HARDENED_TRUE &&
        u->session.region == slot_region(u, type, order[i])) {
      continue; /* half written */
    }
    if (verify_slot(u, type, order[i], proof, NULL) == ROT_OK &&
        proof->v.svn >= svn) {
      return ROT_OK;
    }
  }
  rot_memset(proof, 0, sizeof(*proof));
  return ROT_ERROR_UPDATE_FLOOR_UNJUSTIFIED;
}

/* Finish a floor raise that a durable confirm asked for, once a verified
 * image justifies it; an unjustified request is dropped and recorded, and
 * no fuse moves. */
static rot_error_t finish_floors(rot_update_t *u, const slot_token_t *known) {
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    uint32_t svn = u->state.types[t].floor_pending;
    if (svn == 0) {
      continue;
    }
    rot_type_state_t next = u->state.types[t];
    next.floor_pending = 0;
    slot_token_t proof;
    rot_error_t why = floor_justified(u, t, svn, known, &proof);
    if (ROT_FIRST_CHECK(why != ROT_OK)) {
      note(u, ROT_AUDIT_FLOOR_REFUSED, why, t, svn);
      ROT_TRY(state_commit(u, t, &next, NULL));
      continue;
    }
    /* Second look at the proof itself, not a second verification: the
     * token a completed verification of that type wrote, carrying the SVN. */
    HARDENED_CHECK_EQ(rot_verified_check(&proof.v), ROT_OK);
    HARDENED_CHECK_EQ(proof.v.image_type, t);
    HARDENED_CHECK_EQ(proof.v.svn >= svn, 1);
    ROT_TRY(rot_otp_raise_floor(u->otp, t, svn));
    note(u, ROT_AUDIT_FLOOR_RAISED, ROT_OK, t, svn);
    ROT_TRY(state_commit(u, t, &next, NULL));
  }
  return ROT_OK;
}

rot_error_t rot_update_init(rot_update_t *u, rot_gate_t *g,
                            const rot_otp_port_t *otp, const rot_crypto_t *c,
                            rot_audit_t *audit, uint64_t (*now)(void),
                            uint8_t *scratch, uint32_t scratch_len) {
  if (u == NULL || g == NULL || g->flash == NULL || otp == NULL || c == NULL ||
      scratch == NULL || scratch_len < ROT_IMAGE_HEADER_SIZE) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(u, 0, sizeof(*u));
  u->gate = g;
  u->otp = otp;
  u->crypto = c;
  u->audit = audit;
  u->now = now;
  u->scratch = scratch;
  u->scratch_len = scratch_len;
  u->session.open = HARDENED_FALSE;
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    u->trial_run[t] = HARDENED_FALSE;
    u->trial_slot[t] = ROT_SLOT_NONE;
  }
  /* A (re)start of the chip: nothing verified before it is trusted. */
  rot_image_cache_clear();
  if (sizeof(rot_update_state_t) > g->flash->erase_size) {
    return ROT_ERROR_FLASH_BAD_LAYOUT;
  }
  rot_error_t kerr = rot_update_state_key(otp, c, u->state_key);
  if (kerr == ROT_ERROR_OTP_SECRET_LOCKED) {
    /* Decommissioned: no key, so no state can be read or written; the
     * boot decision falls back to whatever verifies (the recovery image). */
    u->sealed = HARDENED_TRUE;
    state_fresh(&u->state);
    u->state_copy = 1;
    return ROT_OK;
  }
  ROT_TRY(kerr);
  u->sealed = HARDENED_FALSE;
  ROT_TRY(state_load(u));
  return finish_floors(u, NULL);
}

/* ---- update session ------------------------------------------------------ */

/*
 * The slot an update writes: never the confirmed one, never one on trial
 * (begin refuses then). With nothing confirmed, a slot that holds a
 * verified image (a factory-installed one) is kept when the other is free;
 * a staged, never activated image is replaced, except the recovery image,
 * which as the last resort keeps any image that verifies while it can.
 */
static uint32_t target_slot(rot_update_t *u, uint32_t type) {
  const rot_type_state_t *ts = &u->state.types[type];
  if (ts->active != ROT_SLOT_NONE) {
    return ts->active ^ 1u;
  }
  if (ts->staged != ROT_SLOT_NONE && type != ROT_IMAGE_TYPE_RECOVERY) {
    return ts->staged; /* replacing what was staged is the normal path */
  }
  const slot_token_t *tok;
  if (slot_verdict(u, type, ROT_SLOT_A, &tok) != ROT_OK) {
    return ROT_SLOT_A;
  }
  if (slot_verdict(u, type, ROT_SLOT_B, &tok) != ROT_OK) {
    return ROT_SLOT_B;
  }
  /* Both hold images: replace the one nobody staged (an interrupted
   * update's), keep the staged one. */
  return ts->staged != ROT_SLOT_NONE ? ts->staged ^ 1u : ROT_SLOT_B;
}

static rot_error_t begin_impl(rot_update_t *u, uint32_t image_type,
                              uint32_t len) {
  if (u == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* Every refusal comes before the first write: a refused BEGIN leaves
   * the state, the flash and the staged image exactly as they were. */
  if (u->sealed != HARDENED_FALSE) {
    return ROT_ERROR_UPDATE_SEALED;
  }
  if (u->session.open != HARDENED_FALSE) {
    return ROT_ERROR_UPDATE_BUSY;
  }
  if (!type_has_slots(u, image_type)) {
    return ROT_ERROR_UPDATE_BAD_TYPE;
  }
  const rot_type_state_t *ts = &u->state.types[image_type];
  if (ts->pending != ROT_SLOT_NONE) {
    return ROT_ERROR_UPDATE_TRIAL_PENDING;
  }
  if (len < ROT_IMAGE_HEADER_SIZE) {
    return ROT_ERROR_IMAGE_TRUNCATED;
  }
  /* The size limit first: nothing is read or verified for an image that
   * cannot fit the type's slots. */
  if (len > rot_flash_image_capacity(u->gate->layout, image_type) ||
      len > u->scratch_len) {
    return ROT_ERROR_UPDATE_TOO_LARGE;
  }
  /* The capacity is the smaller slot's size: len fits either slot. */
  uint32_t slot = target_slot(u, image_type);
  uint32_t region = slot_region(u, image_type, slot);
  ROT_TRY(u->crypto->hash_start(u->crypto, &u->session.payload_hash,
                                 ROT_HASH_SHA384));
  /* The gate's refusals (locked region, another window open) come before
   * the first write too. */
  rot_error_t werr = rot_gate_open_window(u->gate, region);
  if (werr != ROT_OK) {
    rot_wipe(&u->session.payload_hash, sizeof(u->session.payload_hash));
    return werr;
  }
  if (ts->staged == slot) {
    /* The staged image is about to be overwritten: forget it first. */
    rot_type_state_t next = *ts;
    next.staged = ROT_SLOT_NONE;
    rot_error_t err = state_commit(u, image_type, &next, NULL);
    if (err != ROT_OK) {
      rot_gate_close_window(u->gate);
      return err;
    }
  }
  u->session.open = HARDENED_TRUE;
  u->session.image_type = image_type;
  u->session.region = region;
  u->session.declared_len = len;
  u->session.written = 0;
  u->session.payload_off = 0;
  u->session.payload_end = 0;
  u->session.svn = 0;
  u->session.last_activity = now_of(u);
  note(u, ROT_AUDIT_UPDATE_BEGIN, ROT_OK, image_type, len);
  /* Erase only the blocks the image will occupy. */
  uint32_t block = u->gate->flash->erase_size;
  for (uint32_t off = 0; off < len; off += block) {
    rot_error_t err = rot_gate_erase(u->gate, ROT_INIT_UPDATE, region, off);
    if (err != ROT_OK) {
      rot_update_abort(u, err);
      return err;
    }
  }
  return ROT_OK;
}

/*
 * What was just programmed at [off, off + len): read it back and compare it
 * with what arrived (a program that did not take is caught here, not at
 * boot), learn the payload's place once the header is in flash, and feed
 * the payload's share of the read-back bytes to the session's hash.
 */
static rot_error_t staged_bytes(rot_update_t *u, uint32_t off,
                                const uint8_t *data, uint32_t len) {
  rot_update_session_t *s = &u->session;
  if (len == 0) {
    return ROT_OK;
  }
  if (len > u->scratch_len) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  uint8_t *back = u->scratch;
  ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, s->region, off, back, len));
  if (!rot_memeq(back, data, len)) {
    return ROT_ERROR_FLASH_PROGRAM;
  }
  if (s->payload_end == 0 && off + len >= ROT_IMAGE_HEADER_SIZE) {
    uint8_t hdr_bytes[ROT_IMAGE_HEADER_SIZE];
    ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, s->region, 0, hdr_bytes,
                          sizeof(hdr_bytes)));
    rot_image_header_t h;
    ROT_TRY(rot_image_header_parse(hdr_bytes, sizeof(hdr_bytes), &h));
    if (h.image_type != s->image_type) {
      return ROT_ERROR_POLICY_TYPE_MISMATCH;
    }
    if (rot_image_expected_len(&h) != s->declared_len) {
      return ROT_ERROR_IMAGE_BAD_LENGTH;
    }
    s->payload_off = ROT_IMAGE_HEADER_SIZE + h.manifest_len;
    s->payload_end = s->payload_off + h.payload_len;
    s->svn = h.svn;
  }
  if (s->payload_end == 0) {
    return ROT_OK; /* still inside the header: no payload byte yet */
  }
  /* Chunks arrive in order, so the payload is fed in order exactly once. */
  uint32_t lo = off > s->payload_off ? off : s->payload_off;
  uint32_t hi = off + len < s->payload_end ? off + len : s->payload_end;
  if (lo < hi) {
    ROT_TRY(u->crypto->hash_update(u->crypto, &s->payload_hash,
                                   back + (lo - off), hi - lo));
  }
  return ROT_OK;
}

rot_error_t rot_update_chunk(rot_update_t *u, uint32_t off, const uint8_t *data,
                             uint32_t len) {
  if (u == NULL || (data == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_update_session_t *s = &u->session;
  if (s->open != HARDENED_TRUE) {
    return ROT_ERROR_UPDATE_NO_SESSION;
  }
  if (off != s->written) {
    return ROT_ERROR_UPDATE_OUT_OF_ORDER;
  }
  if (len > ROT_UPDATE_CHUNK_MAX || len > s->declared_len - s->written) {
    return ROT_ERROR_UPDATE_TOO_LARGE;
  }
  /* A header that can never pass is refused in the chunk that completes
   * it, as it is read back (staged_bytes): before the rest arrives. */
  rot_error_t err =
      rot_gate_program(u->gate, ROT_INIT_UPDATE, s->region, off, data, len);
  if (err == ROT_OK) {
    err = staged_bytes(u, off, data, len);
  }
  if (err != ROT_OK) {
    rot_update_abort(u, err);
    return err;
  }
  s->written += len;
  s->last_activity = now_of(u);
  return ROT_OK;
}

/*
 * The one verification of a staged image: header, manifest and signature
 * read back from flash (a few hundred bytes), the payload's digest the one
 * the session computed from the bytes read back as they were programmed.
 */
static rot_error_t verify_staged(rot_update_t *u, uint32_t type, uint32_t slot,
                                 uint32_t region, rot_policy_t *policy,
                                 slot_token_t *tok) {
  rot_update_session_t *s = &u->session;
  rot_memset(tok, 0, sizeof(*tok));
  tok->type = type;
  tok->slot = slot;
  uint8_t digest[ROT_SHA384_LEN];
  ROT_TRY(u->crypto->hash_finish(u->crypto, &s->payload_hash, digest,
                                 sizeof(digest)));
  if (s->payload_end == 0 || s->payload_end + ROT_IMAGE_SIG_SIZE != s->declared_len ||
      s->payload_off > u->scratch_len) {
    return ROT_ERROR_IMAGE_BAD_LENGTH;
  }
  uint8_t sig[ROT_IMAGE_SIG_SIZE];
  ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, region, 0, u->scratch,
                        s->payload_off));
  ROT_TRY(rot_gate_read(u->gate, ROT_INIT_CHIP, region, s->payload_end, sig,
                        sizeof(sig)));
  ROT_TRY(rot_otp_policy(u->otp, policy));
  return rot_image_verify_digest(u->crypto, policy, u->scratch, s->payload_off,
                                 sig, digest, type, &tok->v);
}

rot_error_t rot_update_finish(rot_update_t *u, rot_verified_image_t *out) {
  if (u == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  rot_update_session_t *s = &u->session;
  if (s->open != HARDENED_TRUE) {
    return ROT_ERROR_UPDATE_NO_SESSION;
  }
  if (s->written != s->declared_len) {
    rot_update_abort(u, ROT_ERROR_UPDATE_INCOMPLETE);
    return ROT_ERROR_UPDATE_INCOMPLETE;
  }
  uint32_t type = s->image_type;
  uint32_t region = s->region;
  uint32_t slot = u->gate->layout->regions[region].slot;
  /* Nothing more may be written once verification starts. */
  rot_gate_close_window(u->gate);
  s->open = HARDENED_FALSE;
  slot_token_t tok;
  rot_policy_t policy;
  rot_error_t err = verify_staged(u, type, slot, region, &policy, &tok);
  if (!ROT_FIRST_CHECK(err != ROT_OK)) {
    rot_type_state_t next = u->state.types[type];
    next.staged = (uint8_t)slot;
    err = state_commit(u, type, &next, &tok);
  }
  if (err == ROT_OK) {
    *out = tok.v;
    /* Kept for activate: bound to the slot's write count and the policy. */
    keep_token(u, &tok, region, &policy);
  }
  /* A refused image's record names the SVN its header claims (read back
   * from flash as it was staged): which version was turned away matters. */
  note(u, ROT_AUDIT_UPDATE_FINISH, err, type, err == ROT_OK ? out->svn : s->svn);
  return err;
}

void rot_update_abort(rot_update_t *u, rot_error_t reason) {
  if (u == NULL || u->session.open == HARDENED_FALSE) {
    return;
  }
  rot_gate_close_window(u->gate);
  u->session.open = HARDENED_FALSE;
  rot_wipe(&u->session.payload_hash, sizeof(u->session.payload_hash));
  note(u, ROT_AUDIT_UPDATE_ABORT, reason, u->session.image_type,
       u->session.written);
}

int rot_update_expire(rot_update_t *u, uint64_t timeout) {
  if (u == NULL || u->session.open != HARDENED_TRUE) {
    return 0;
  }
  uint64_t t = now_of(u);
  if (t >= u->session.last_activity && t - u->session.last_activity > timeout) {
    rot_update_abort(u, ROT_ERROR_UPDATE_TIMEOUT);
    return 1;
  }
  return 0;
}

static rot_error_t slot_type_check(const rot_update_t *u, uint32_t type) {
  if (u == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (!type_has_slots(u, type)) {
    return ROT_ERROR_UPDATE_BAD_TYPE;
  }
  if (u->session.open == HARDENED_TRUE && u->session.image_type == type) {
    return ROT_ERROR_UPDATE_BUSY;
  }
  return ROT_OK;
}

static rot_error_t activate_impl(rot_update_t *u, uint32_t image_type) {
  ROT_TRY(slot_type_check(u, image_type));
  rot_type_state_t *ts = &u->state.types[image_type];
  if (ts->pending != ROT_SLOT_NONE) {
    return ROT_ERROR_UPDATE_TRIAL_PENDING;
  }
  if (ts->staged == ROT_SLOT_NONE) {
    return ROT_ERROR_UPDATE_NOT_STAGED;
  }
  const slot_token_t *tok = NULL; /* a glitched check commits with none: traps */
  rot_error_t err = slot_verdict(u, image_type, ts->staged, &tok);
  if (ROT_FIRST_CHECK(err != ROT_OK)) {
    return err;
  }
  rot_type_state_t next = *ts;
  next.pending = ts->staged;
  next.staged = ROT_SLOT_NONE;
  next.attempts_left = ROT_TRIAL_ATTEMPTS;
  ROT_TRY(state_commit(u, image_type, &next, tok));
  note(u, ROT_AUDIT_ACTIVATE, ROT_OK, image_type,
       u->state.types[image_type].pending);
  return ROT_OK;
}

/*
 * Has the image on trial really been handed out for a boot? The spent
 * attempt alone does not say so: it is made durable before the boot, so a
 * power cut between the two leaves it spent with nothing booted. What
 * does is a boot decision since this (re)start that chose the trial; a
 * reset forgets it, so after one the trial must boot again (spending
 * another attempt) before it can be confirmed.
 */
static int trial_booted(const rot_update_t *u, uint32_t type) {
  const rot_type_state_t *ts = &u->state.types[type];
  return ts->pending != ROT_SLOT_NONE &&
         ts->attempts_left < ROT_TRIAL_ATTEMPTS &&
         u->trial_run[type] == HARDENED_TRUE &&
         u->trial_slot[type] == ts->pending;
}

/* A trial ends (confirmed, reverted, expired): what ran of it is moot. */
ROT_NOINLINE
static void trial_forget(rot_update_t *u, uint32_t type) {
  u->trial_run[type] = HARDENED_FALSE;
  u->trial_slot[type] = ROT_SLOT_NONE;
}

static rot_error_t confirm_impl(rot_update_t *u, uint32_t image_type,
                                uint32_t flags, rot_verified_image_t *out) {
  if (out == NULL || (flags & ~ROT_CONFIRM_FLAGS_ALL) != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  ROT_TRY(slot_type_check(u, image_type));
  rot_type_state_t *ts = &u->state.types[image_type];
  if (ts->pending == ROT_SLOT_NONE) {
    return ROT_ERROR_UPDATE_NOT_PENDING;
  }
  /* The floor rises for good at confirm: never for an image that has not
   * been through a trial boot, unless the operator says so explicitly. */
  int override = (flags & ROT_CONFIRM_WITHOUT_TRIAL) != 0;
  if (ROT_FIRST_CHECK(!trial_booted(u, image_type) && !override)) {
    return ROT_ERROR_UPDATE_NOT_TRIED;
  }
  slot_token_t tok;
  rot_error_t err = verify_slot(u, image_type, ts->pending, &tok, NULL);
  if (ROT_FIRST_CHECK(err != ROT_OK)) {
    return err;
  }
  HARDENED_CHECK_EQ(trial_booted(u, image_type) || override, 1);
  int untried = !trial_booted(u, image_type);
  rot_policy_t policy;
  ROT_TRY(rot_otp_policy(u->otp, &policy));
  /* Phase 1: the confirm is durable, and says which floor it owes. */
  rot_type_state_t next = *ts;
  next.active = ts->pending;
  next.pending = ROT_SLOT_NONE;
  next.attempts_left = 0;
  next.floor_pending =
      tok.v.svn > policy.svn_floor[image_type] ? tok.v.svn : 0;
  ROT_TRY(state_commit(u, image_type, &next, &tok));
  trial_forget(u, image_type);
  *out = tok.v;
  note(u, ROT_AUDIT_CONFIRM, ROT_OK, image_type, out->svn);
  if (untried) {
    note(u, ROT_AUDIT_CONFIRM_UNTRIED, ROT_OK, image_type, out->svn);
  }
  /* Phase 2: only now may the floor rise. */
  return finish_floors(u, &tok);
}

static rot_error_t revert_impl(rot_update_t *u, uint32_t image_type) {
  ROT_TRY(slot_type_check(u, image_type));
  rot_type_state_t *ts = &u->state.types[image_type];
  rot_type_state_t next = *ts;
  slot_token_t tok;
  const slot_token_t *proof = NULL;
  if (ts->pending != ROT_SLOT_NONE) {
    next.pending = ROT_SLOT_NONE;
    next.attempts_left = 0;
  } else {
    if (ts->active == ROT_SLOT_NONE) {
      return ROT_ERROR_UPDATE_REVERT_INVALID;
    }
    uint32_t other = ts->active ^ 1u;
    rot_error_t err = verify_slot(u, image_type, other, &tok, NULL);
    if (err == ROT_ERROR_POLICY_SVN_BELOW_FLOOR) {
      return ROT_ERROR_UPDATE_REVERT_BELOW_FLOOR;
    }
    if (ROT_FIRST_CHECK(err != ROT_OK)) {
      return ROT_ERROR_UPDATE_REVERT_INVALID;
    }
    next.active = (uint8_t)other;
    if (next.staged == other) {
      next.staged = ROT_SLOT_NONE;
    }
    proof = &tok;
  }
  ROT_TRY(state_commit(u, image_type, &next, proof));
  trial_forget(u, image_type);
  note(u, ROT_AUDIT_REVERT, ROT_OK, image_type,
       u->state.types[image_type].active);
  return ROT_OK;
}

/* ---- boot decision --------------------------------------------------------- */

static int try_region(rot_update_t *u, uint32_t region, uint32_t type,
                      rot_boot_decision_t *out, rot_error_t *why) {
  if (region >= ROT_RGN_COUNT) {
    return 0;
  }
  if (u->session.open == HARDENED_TRUE && u->session.region == region) {
    *why = ROT_ERROR_UPDATE_BUSY; /* half written: never a candidate */
    return 0;
  }
  uint32_t len = 0;
  rot_error_t err = rot_update_verify_region(u, region, type, &out->verified, &len);
  if (err != ROT_OK) {
    *why = err;
    return 0;
  }
  out->region = region;
  out->image_len = len;
  return 1;
}

/*
 * The confirmed slot, else a fallback: the other slot unless it only holds
 * an image nobody activated (staged), which only the last resort (the
 * recovery image) may use. Sets *why to why the confirmed slot was refused.
 */
static int pick_confirmed_or_other(rot_update_t *u, uint32_t type,
                                   const rot_type_state_t *ts, int last_resort,
                                   rot_boot_decision_t *out, rot_error_t *why) {
  if (ts->active != ROT_SLOT_NONE &&
      try_region(u, slot_region(u, type, ts->active), type, out, why)) {
    out->reason = ROT_BOOT_ACTIVE;
    return 1;
  }
  for (uint32_t slot = ROT_SLOT_A; slot <= ROT_SLOT_B; slot++) {
    /* A staged image was never chosen by the operator: not a fallback. */
    if (slot == ts->active || (slot == ts->staged && !last_resort)) {
      continue;
    }
    rot_error_t ignored = ROT_OK;
    if (try_region(u, slot_region(u, type, slot), type, out, &ignored)) {
      out->reason = ROT_BOOT_FALLBACK_OTHER;
      return 1;
    }
  }
  return 0;
}

rot_error_t rot_boot_decide(rot_update_t *u, uint32_t image_type,
                            rot_boot_decision_t *out) {
  if (u == NULL || out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  out->image_type = image_type;
  out->region = ROT_RGN_COUNT;
  out->reason = ROT_BOOT_NONE;
  out->why = ROT_ERROR_BOOT_NO_IMAGE;
  if (!type_has_slots(u, image_type)) {
    return ROT_ERROR_UPDATE_BAD_TYPE;
  }
  rot_error_t why = ROT_ERROR_BOOT_EMPTY_SLOT;

  /* A trial: count the attempt durably before booting it, so an image
   * that never comes up cannot trial forever. */
  rot_type_state_t ts = u->state.types[image_type];
  if (ts.pending != ROT_SLOT_NONE) {
    rot_type_state_t next = ts;
    if (ts.attempts_left > 0) {
      next.attempts_left = (uint8_t)(ts.attempts_left - 1u);
      ROT_TRY(state_commit(u, image_type, &next, NULL));
      if (try_region(u, slot_region(u, image_type, ts.pending), image_type, out,
                     &why)) {
        out->reason = ROT_BOOT_TRIAL;
        out->why = ROT_OK;
        u->trial_run[image_type] = HARDENED_TRUE;
        u->trial_slot[image_type] = ts.pending;
        note_boot(u, ROT_OK, image_type, out->region);
        return ROT_OK;
      }
    }
    /* Expired or bad trial: back to the confirmed image. */
    next = u->state.types[image_type];
    next.pending = ROT_SLOT_NONE;
    next.attempts_left = 0;
    ROT_TRY(state_commit(u, image_type, &next, NULL));
    trial_forget(u, image_type);
    note(u, ROT_AUDIT_TRIAL_EXPIRED, why, image_type, ts.pending);
    ts = u->state.types[image_type];
  }

  if (pick_confirmed_or_other(u, image_type, &ts, 0, out, &why)) {
    if (out->reason == ROT_BOOT_ACTIVE) {
      why = ROT_OK;
    }
  } else if (image_type != ROT_IMAGE_TYPE_RECOVERY &&
             image_type != ROT_IMAGE_TYPE_ROT) {
    /* Both slots bad: the golden image, by the same A/B rules. The chip's
     * own firmware has none: the host's recovery payload is no RoT
     * firmware, and without one the chip serves recovery commands only. */
    rot_type_state_t rs = u->state.types[ROT_IMAGE_TYPE_RECOVERY];
    rot_error_t ignored = ROT_OK;
    if (type_has_slots(u, ROT_IMAGE_TYPE_RECOVERY) &&
        pick_confirmed_or_other(u, ROT_IMAGE_TYPE_RECOVERY, &rs, 1, out,
                                &ignored)) {
      out->reason = ROT_BOOT_RECOVERY;
    }
  }
  out->why = why;

  if (out->region == ROT_RGN_COUNT) {
    rot_memset(&out->verified, 0, sizeof(out->verified));
    out->reason = ROT_BOOT_NONE;
    note_boot(u, ROT_ERROR_BOOT_NO_IMAGE, image_type, ROT_RGN_COUNT);
    return ROT_ERROR_BOOT_NO_IMAGE;
  }
  /* Never hand out a region without a token from a completed verification. */
  ROT_TRY(rot_verified_check(&out->verified));
  note_boot(u, ROT_OK, image_type, out->region);
  return ROT_OK;
}

rot_error_t rot_update_activate(rot_update_t *u, uint32_t image_type) {
  rot_error_t err = activate_impl(u, image_type);
  if (err != ROT_OK && u != NULL && err != ROT_ERROR_INVALID_ARGUMENT) {
    note(u, ROT_AUDIT_ACTIVATE, err, image_type, ROT_SLOT_NONE); /* refusals are recorded too */
  }
  return err;
}

rot_error_t rot_update_revert(rot_update_t *u, uint32_t image_type) {
  rot_error_t err = revert_impl(u, image_type);
  if (err != ROT_OK && u != NULL && err != ROT_ERROR_INVALID_ARGUMENT) {
    note(u, ROT_AUDIT_REVERT, err, image_type, ROT_SLOT_NONE); /* refusals are recorded too */
  }
  return err;
}

rot_error_t rot_update_confirm_flags(rot_update_t *u, uint32_t image_type,
                                     uint32_t flags, rot_verified_image_t *out) {
  rot_error_t err = confirm_impl(u, image_type, flags, out);
  if (err != ROT_OK && u != NULL && out != NULL) {
    note(u, ROT_AUDIT_CONFIRM, err, image_type, 0);
  }
  return err;
}

rot_error_t rot_update_confirm(rot_update_t *u, uint32_t image_type,
                               rot_verified_image_t *out) {
  return rot_update_confirm_flags(u, image_type, 0, out);
}

rot_error_t rot_update_begin(rot_update_t *u, uint32_t image_type,
                             uint32_t len) {
  rot_error_t err = begin_impl(u, image_type, len);
  if (err != ROT_OK && u != NULL) {
    note(u, ROT_AUDIT_UPDATE_BEGIN, err, image_type, len); /* refusals too */
  }
  return err;
}
