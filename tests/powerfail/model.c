/*
 * The device the simulator drives, the model of what the history allows,
 * the steps that change both, and the prepared start states (pf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf.h"
#include "rot_client/names.h"
#include "rot_client/otp_provision.h"

pf_fixture_t g_fx;
pf_sim_t g_sim;
static uint8_t g_scratch[PF_SCRATCH_LEN];

const uint32_t kTypes[PF_NTYPES] = {
    ROT_IMAGE_TYPE_ROT, ROT_IMAGE_TYPE_OPENSBI, ROT_IMAGE_TYPE_HYPERVISOR,
    ROT_IMAGE_TYPE_DTB, ROT_IMAGE_TYPE_RECOVERY};

const ref_t kNoRef = {NO_SLOT, -1};

start_t g_start[S_COUNT];

/* ---- the device -------------------------------------------------------- */

/* Power-on of the chip: gate, audit log, update engine, as rotd does. */
rot_error_t dev_boot(pf_dev_t *d) {
  memset(&d->audit, 0, sizeof(d->audit));
  ROT_TRY(rot_gate_init(&d->gate, &d->sim->flash, &pf_layout,
                        rot_audit_gate_hook, &d->audit));
  ROT_TRY(rot_audit_init(&d->audit, &d->gate, g_fx.crypto, NULL));
  return rot_update_init(&d->upd, &d->gate, &d->sim->otp, g_fx.crypto,
                         &d->audit, NULL, g_scratch,
                         sizeof(g_scratch));
}

uint32_t type_region(uint32_t type, int slot) {
  return (uint32_t)rot_flash_slot_region(&pf_layout, type, (uint32_t)slot);
}

const char *slot_name(int slot) {
  return slot == ROT_SLOT_A ? "A" : slot == ROT_SLOT_B ? "B" : "none";
}

/* ---- what is in flash -------------------------------------------------- */

/* Which known image sits at the start of a region (exact bytes), or -1. */
int region_image(const pf_sim_t *s, uint32_t region) {
  const rot_flash_region_t *r = &pf_layout.regions[region];
  for (int k = 0; k < PF_IMG_COUNT; k++) {
    const pf_image_t *im = &g_fx.img[k];
    if (im->type == r->image_type && im->len <= r->size &&
        memcmp(s->mem + r->off, im->bytes, im->len) == 0) {
      return k;
    }
  }
  return -1;
}

const char *img_name(int k) {
  return k >= 0 ? g_fx.img[k].name : "nothing valid";
}

/*
 * The checker's own verification of a known image under the policy the
 * fuses hold now. Verification is a pure function of (bytes, policy), so
 * the verdict for a known image is memoised; unknown bytes are never
 * memoised (they only occur as damage and must fail anyway).
 */
typedef struct memo {
  int img;
  rot_policy_t policy;
  rot_error_t verdict;
} memo_t;

static memo_t g_memo[64];
static uint32_t g_nmemo;

rot_error_t verify_known(const pf_sim_t *s, int k) {
  rot_policy_t pol;
  ROT_TRY(rot_otp_decode(s->fuse, &pol));
  for (uint32_t i = 0; i < g_nmemo; i++) {
    if (g_memo[i].img == k &&
        memcmp(&g_memo[i].policy, &pol, sizeof(pol)) == 0) {
      return g_memo[i].verdict;
    }
  }
  rot_verified_image_t v;
  const pf_image_t *im = &g_fx.img[k];
  rot_error_t err =
      rot_image_verify(g_fx.crypto, &pol, im->bytes, im->len, im->type, &v);
  if (err == ROT_OK &&
      memcmp(v.signed_digest, im->signed_digest, ROT_SHA384_LEN) != 0) {
    err = ROT_ERROR_INTERNAL;
  }
  if (g_nmemo < N(g_memo)) {
    g_memo[g_nmemo].img = k;
    g_memo[g_nmemo].policy = pol;
    g_memo[g_nmemo].verdict = err;
    g_nmemo++;
  }
  return err;
}

/* ---- steps ----------------------------------------------------------- */

const char *step_name(uint32_t kind) {
  switch (kind) {
    case ST_STAGE:
      return "stage";
    case ST_ACTIVATE:
      return "activate";
    case ST_BOOT:
      return "boot";
    case ST_CONFIRM:
      return "confirm";
    case ST_REVERT:
      return "revert";
    case ST_REVERT_OTHER:
      return "revert-other";
    case ST_AUDIT:
      return "audit";
    case ST_STAGE_TAMPERED:
      return "stage-tampered";
    case ST_BEGIN_ABORT:
      return "begin-abort";
    case ST_RESTART:
      return "restart";
    default:
      return "?";
  }
}

/* Does a slot hold a known image that verifies under today's fuses? */
static int slot_verifies(const pf_dev_t *d, uint32_t type, int slot) {
  int k = region_image(d->sim, type_region(type, slot));
  return k >= 0 && verify_known(d->sim, k) == ROT_OK;
}

/*
 * The slot an update of a type writes, by the documented rule: never the
 * confirmed one; with none confirmed, the staged one (recovery excepted),
 * else a slot without a verified image, else the one not staged.
 */
static int update_target(const pf_dev_t *d, uint32_t type) {
  const rot_type_state_t *ts = &d->upd.state.types[type];
  if (ts->active != ROT_SLOT_NONE) {
    return ts->active ^ 1;
  }
  if (ts->staged != ROT_SLOT_NONE && type != ROT_IMAGE_TYPE_RECOVERY) {
    return ts->staged;
  }
  if (!slot_verifies(d, type, ROT_SLOT_A)) {
    return ROT_SLOT_A;
  }
  if (!slot_verifies(d, type, ROT_SLOT_B)) {
    return ROT_SLOT_B;
  }
  return ts->staged != ROT_SLOT_NONE ? ts->staged ^ 1 : ROT_SLOT_B;
}

/* The bytes an update sends: the image, or a copy with one payload byte
 * flipped (just before the signature), which finish must refuse. */
static const uint8_t *update_bytes(int img, int tampered) {
  static uint8_t copy[PF_SCRATCH_LEN];
  const pf_image_t *im = &g_fx.img[img];
  if (!tampered) {
    return im->bytes;
  }
  memcpy(copy, im->bytes, im->len);
  copy[im->len - ROT_IMAGE_SIG_SIZE - 1u] ^= 0x01u;
  return copy;
}

/* Forget what the model knew of the slot an update is about to write. */
static int claim_target(pf_dev_t *d, tmodel_t *tm, uint32_t type) {
  int slot = update_target(d, type);
  if (tm->staged.slot == slot) {
    tm->staged = kNoRef;
  }
  tm->slot_img[slot] = -1;
  return slot;
}

/* The engine must write the slot the rule names, and no other. */
static rot_error_t check_target(const pf_dev_t *d, uint32_t type, int slot) {
  return d->upd.session.open == HARDENED_TRUE &&
                 d->upd.session.region == type_region(type, slot)
             ? ROT_OK
             : ROT_ERROR_INTERNAL;
}

static rot_error_t do_stage(pf_dev_t *d, tmodel_t *tm, int img, uint32_t chunk,
                            int tampered) {
  const pf_image_t *im = &g_fx.img[img];
  const uint8_t *bytes = update_bytes(img, tampered);
  int slot = claim_target(d, tm, im->type);
  ROT_TRY(rot_update_begin(&d->upd, im->type, im->len));
  ROT_TRY(check_target(d, im->type, slot));
  for (uint32_t off = 0; off < im->len;) {
    uint32_t n = im->len - off < chunk ? im->len - off : chunk;
    ROT_TRY(rot_update_chunk(&d->upd, off, bytes + off, n));
    off += n;
  }
  rot_verified_image_t v;
  ROT_TRY(rot_update_finish(&d->upd, &v));
  ROT_TRY(rot_verified_check(&v));
  if (memcmp(v.signed_digest, im->signed_digest, ROT_SHA384_LEN) != 0) {
    return ROT_ERROR_INTERNAL;
  }
  tm->slot_img[slot] = img;
  tm->staged = (ref_t){slot, img};
  return ROT_OK;
}

/* BEGIN, part of the image, ABORT: the slot is left half written. */
static rot_error_t do_begin_abort(pf_dev_t *d, tmodel_t *tm, int img,
                                  uint32_t written) {
  const pf_image_t *im = &g_fx.img[img];
  int slot = claim_target(d, tm, im->type);
  ROT_TRY(rot_update_begin(&d->upd, im->type, im->len));
  ROT_TRY(check_target(d, im->type, slot));
  ROT_TRY(rot_update_chunk(&d->upd, 0, im->bytes,
                           written < im->len ? written : im->len - 1u));
  rot_update_abort(&d->upd, ROT_OK); /* as rotd's ABORT does */
  return d->upd.session.open == HARDENED_FALSE ? ROT_OK : ROT_ERROR_INTERNAL;
}

/* The boot decision, counted against a pending trial. */
rot_error_t decide(pf_dev_t *d, model_t *m, uint32_t type,
                          rot_boot_decision_t *dec) {
  if (d->upd.state.types[type].pending != ROT_SLOT_NONE) {
    m->t[type].trial_decides++;
  }
  return rot_boot_decide(&d->upd, type, dec);
}

static rot_error_t do_boot(pf_dev_t *d, model_t *m, uint32_t type,
                           rot_boot_decision_t *dec) {
  ROT_TRY(dev_boot(d));
  ROT_TRY(decide(d, m, type, dec));
  return rot_verified_check(&dec->verified);
}

/*
 * Run one step on a live device. retry = 1 after a reboot: a step whose
 * effect already became durable counts as done (activating twice or
 * confirming twice is refused by design, and must be).
 */
rot_error_t exec_step(pf_dev_t *d, model_t *m, const step_t *s, int retry) {
  const int writes = s->kind == ST_STAGE || s->kind == ST_STAGE_TAMPERED ||
                     s->kind == ST_BEGIN_ABORT;
  const uint32_t type = writes ? g_fx.img[s->img].type : s->type;
  tmodel_t *tm = &m->t[type];
  const rot_type_state_t *ts = &d->upd.state.types[type];
  rot_verified_image_t v;
  rot_boot_decision_t dec;
  rot_error_t err;
  if (d->audit.next_seq > 0) {
    m->audit_seq = umax(m->audit_seq, d->audit.next_seq - 1u);
  }
  switch (s->kind) {
    case ST_STAGE:
      return do_stage(d, tm, s->img, s->arg, 0);
    case ST_STAGE_TAMPERED:
      err = do_stage(d, tm, s->img, s->arg, 1);
      return err == s->expect ? ROT_OK : err == ROT_OK ? ROT_ERROR_INTERNAL : err;
    case ST_BEGIN_ABORT:
      return do_begin_abort(d, tm, s->img, s->arg);
    case ST_ACTIVATE:
      if (retry && tm->activating.slot != NO_SLOT &&
          ts->pending == tm->activating.slot) {
        tm->trial = tm->activating;
        tm->staged = tm->activating = kNoRef;
        tm->trial_decides = 0;
        return ROT_OK;
      }
      if (ts->staged != ROT_SLOT_NONE) {
        tm->activating = (ref_t){ts->staged, tm->slot_img[ts->staged]};
      }
      ROT_TRY(rot_update_activate(&d->upd, type));
      tm->trial = tm->activating;
      tm->staged = tm->activating = kNoRef;
      tm->trial_decides = 0;
      return ROT_OK;
    case ST_BOOT:
      return do_boot(d, m, type, &dec);
    case ST_CONFIRM:
      if (s->expect != ROT_OK) {
        /* A refusal (no trial boot yet) must change nothing. */
        err = rot_update_confirm(&d->upd, type, &v);
        return err == s->expect ? ROT_OK : err == ROT_OK ? ROT_ERROR_INTERNAL : err;
      }
      if (ts->pending != ROT_SLOT_NONE &&
          d->upd.trial_run[type] != HARDENED_TRUE) {
        /* Confirm takes a trial the host is running: after a power-on
         * (the run's start, or a reboot after a cut) it boots first, a
         * decision that spends an attempt (and may end the trial). */
        ROT_TRY(decide(d, m, type, &dec));
      }
      if (retry && tm->confirming.slot != NO_SLOT &&
          ts->active == tm->confirming.slot && ts->pending == ROT_SLOT_NONE) {
        err = ROT_OK;
      } else if (ts->pending == ROT_SLOT_NONE && tm->trial.slot != NO_SLOT &&
                 tm->trial_decides > ROT_TRIAL_ATTEMPTS) {
        /* The power-ons since the activate used up the trial: the
         * engine went back to the confirmed image, as it must. */
        tm->trial = tm->confirming = kNoRef;
        tm->expired = 1;
        return ROT_OK;
      } else {
        /* Only an image that went through a trial boot is confirmed. */
        if (ts->pending != ROT_SLOT_NONE &&
            ts->attempts_left < ROT_TRIAL_ATTEMPTS) {
          tm->confirming = (ref_t){ts->pending, tm->slot_img[ts->pending]};
          tm->confirming_raises = 1;
        }
        err = rot_update_confirm(&d->upd, type, &v);
      }
      if (err == ROT_OK) {
        tm->confirmed = tm->confirming;
        if (tm->confirmed.img >= 0) {
          tm->floor = umax(tm->floor, g_fx.img[tm->confirmed.img].svn);
          tm->slots_destroyed = 0;
        }
        tm->trial = tm->confirming = kNoRef;
      }
      return err;
    case ST_REVERT:
      if (retry && ts->pending == ROT_SLOT_NONE) {
        tm->trial = kNoRef;
        return ROT_OK;
      }
      ROT_TRY(rot_update_revert(&d->upd, type));
      tm->trial = kNoRef;
      return ROT_OK;
    case ST_REVERT_OTHER:
      if (s->expect != ROT_OK) {
        /* A refusal must change nothing: confirming stays empty. */
        err = rot_update_revert(&d->upd, type);
        return err == s->expect ? ROT_OK : err == ROT_OK ? ROT_ERROR_INTERNAL : err;
      }
      if (retry && tm->confirming.slot != NO_SLOT &&
          ts->active == tm->confirming.slot) {
        err = ROT_OK;
      } else {
        if (ts->active != ROT_SLOT_NONE) {
          int other = ts->active ^ 1;
          tm->confirming = (ref_t){other, tm->slot_img[other]};
          tm->confirming_raises = 0;
        }
        err = rot_update_revert(&d->upd, type);
      }
      if (err == ROT_OK) {
        tm->confirmed = tm->confirming;
        tm->confirming = kNoRef;
      }
      return err;
    case ST_AUDIT:
      for (uint32_t i = 0; i < s->arg; i++) {
        ROT_TRY(rot_audit_append(&d->audit, ROT_AUDIT_DAEMON_START, ROT_OK, i,
                                 s->arg));
        m->audit_seq = umax(m->audit_seq, d->audit.next_seq - 1u);
      }
      return ROT_OK;
    case ST_RESTART:
      return dev_boot(d);
    default:
      return ROT_ERROR_INVALID_ARGUMENT;
  }
}

/* ---- start states ----------------------------------------------------- */

void die(const char *what, rot_error_t err) {
  fprintf(stderr, "powerfail: setup: %s: %s\n", what, rot_error_name(err));
  exit(2);
}

/* Run steps without faults on a copy of `from`, save the result as `id`. */
static void prepare(start_id_t id, const char *name, int from,
                    const step_t *steps, size_t n) {
  start_t *st = &g_start[id];
  st->name = name;
  if (pf_sim_init(&st->sim, pf_layout.flash_size, pf_layout.erase_size) != 0) {
    die("out of memory", ROT_ERROR_INTERNAL);
  }
  model_t m;
  if (from >= 0) {
    pf_sim_copy(&st->sim, &g_start[from].sim);
    m = g_start[from].model;
  } else {
    memset(&m, 0, sizeof(m));
    for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
      tmodel_t *tm = &m.t[t];
      tm->slot_img[0] = tm->slot_img[1] = -1;
      tm->confirmed = tm->confirming = tm->trial = tm->activating =
          tm->staged = kNoRef;
      tm->slots_destroyed = 1; /* nothing installed yet */
    }
    rot_error_t err = rot_otp_provision(&st->sim.otp, g_fx.root_key_hash);
    if (err == ROT_OK) {
      uint8_t uds[ROT_OTP_UDS_LEN];
      memset(uds, 0x5a, sizeof(uds)); /* fixed: runs stay reproducible */
      err = rot_otp_write_uds(&st->sim.otp, uds);
    }
    if (err != ROT_OK) {
      die("provision", err);
    }
  }
  pf_dev_t d = {.sim = &st->sim};
  pf_sim_arm(&st->sim, PF_NONE, 0);
  rot_error_t err = dev_boot(&d);
  if (err != ROT_OK) {
    die(name, err);
  }
  for (size_t i = 0; i < n; i++) {
    err = exec_step(&d, &m, &steps[i], 0);
    if (err != ROT_OK) {
      fprintf(stderr, "powerfail: setup %s step %zu (%s)\n", name, i,
              step_name(steps[i].kind));
      die(name, err);
    }
  }
  if (d.audit.next_seq > 0) {
    m.audit_seq = umax(m.audit_seq, d.audit.next_seq - 1u);
  }
  st->model = m;
}

/* Damage an image in place (a flipped payload bit), as bit rot would. */
static void damage_slot(start_id_t id, uint32_t type, int slot) {
  start_t *st = &g_start[id];
  tmodel_t *tm = &st->model.t[type];
  const rot_flash_region_t *r = &pf_layout.regions[type_region(type, slot)];
  st->sim.mem[r->off + 1024u] ^= 0x10u;
  tm->slot_img[slot] = -1;
  if (tm->confirmed.slot == slot) {
    tm->confirmed = kNoRef;
  }
  if (tm->trial.slot == slot) {
    tm->trial = kNoRef;
  }
  if (tm->staged.slot == slot) {
    tm->staged = kNoRef;
  }
  tm->slots_destroyed = tm->slot_img[0] < 0 && tm->slot_img[1] < 0;
}

/*
 * As prepare, but power is cut at the first operation of `kind` inside
 * the steps: a start state that only a fault can produce.
 */
static void prepare_cut(start_id_t id, const char *name, int from,
                        const step_t *steps, size_t n, pf_op_kind_t kind) {
  static pf_op_t trace[4096];
  prepare(id, name, from, NULL, 0);
  start_t *st = &g_start[id];
  pf_sim_t saved;
  if (pf_sim_init(&saved, pf_layout.flash_size, pf_layout.erase_size) != 0) {
    die("out of memory", ROT_ERROR_INTERNAL);
  }
  pf_sim_copy(&saved, &st->sim);
  uint32_t cut = UINT32_MAX;
  for (int pass = 0; pass < 2; pass++) {
    model_t m = st->model;
    pf_dev_t d = {.sim = &st->sim};
    pf_sim_copy(&st->sim, &saved);
    pf_sim_arm(&st->sim, pass == 0 ? PF_NONE : PF_CUT, cut);
    st->sim.trace = pass == 0 ? trace : NULL;
    st->sim.trace_cap = N(trace);
    rot_error_t err = dev_boot(&d);
    for (size_t i = 0; err == ROT_OK && i < n; i++) {
      err = exec_step(&d, &m, &steps[i], 0);
    }
    st->sim.trace = NULL;
    if (pass == 0) {
      for (uint32_t k = 0; k < st->sim.ops && k < N(trace); k++) {
        if (trace[k].kind == kind) {
          cut = k;
          break;
        }
      }
      if (cut == UINT32_MAX) {
        die(name, ROT_ERROR_INTERNAL);
      }
    } else {
      if (!st->sim.fired) {
        die(name, ROT_ERROR_INTERNAL);
      }
      st->model = m;
    }
  }
  pf_sim_power_on(&st->sim);
  pf_sim_free(&saved);
}

/* Append records until the log's next slot is `slot` (no faults). */
static void fill_audit(start_id_t id, const char *name, int from, uint32_t slot,
                       uint32_t passes) {
  prepare(id, name, from, NULL, 0);
  start_t *st = &g_start[id];
  pf_dev_t d = {.sim = &st->sim};
  pf_sim_arm(&st->sim, PF_NONE, 0);
  rot_error_t err = dev_boot(&d);
  uint32_t slots = pf_layout.regions[ROT_RGN_AUDIT].size / ROT_AUDIT_RECORD_SIZE;
  uint32_t total = passes * slots + (slot + slots - d.audit.next_index) % slots;
  for (uint32_t i = 0; err == ROT_OK && i < total; i++) {
    err = rot_audit_append(&d.audit, ROT_AUDIT_HOST_READ, ROT_OK, i, 0);
  }
  if (err != ROT_OK) {
    die(name, err);
  }
  st->model.audit_seq = d.audit.next_seq - 1u;
}

void prepare_all(void) {
  const step_t base[] = {
      STEP(ST_STAGE, PF_IMG_REC1, WHOLE), STEP(ST_STAGE, PF_IMG_V1, WHOLE),
      STEP(ST_ACTIVATE, 0, 0),            STEP(ST_BOOT, 0, 0),
      STEP(ST_CONFIRM, 0, 0),             STEP(ST_BOOT, 0, 0),
  };
  prepare(S_BASE, "base", -1, base, N(base));
  const step_t stale[] = {STEP(ST_STAGE, PF_IMG_V1B, WHOLE)};
  prepare(S_STALE, "stale", S_BASE, stale, N(stale));
  const step_t st_v2[] = {STEP(ST_STAGE, PF_IMG_V2_M, WHOLE)};
  const step_t st_v3[] = {STEP(ST_STAGE, PF_IMG_V3, WHOLE)};
  prepare(S_STAGED_V2, "staged-v2", S_BASE, st_v2, N(st_v2));
  prepare(S_STAGED_V3, "staged-v3", S_BASE, st_v3, N(st_v3));
  prepare(S_STAGED_V1B, "staged-v1b", S_BASE, stale, N(stale));
  const step_t act[] = {STEP(ST_ACTIVATE, 0, 0)};
  const step_t boot[] = {STEP(ST_BOOT, 0, 0)};
  prepare(S_PENDING_V2, "pending-v2", S_STAGED_V2, act, N(act));
  prepare(S_PENDING_V3, "pending-v3", S_STAGED_V3, act, N(act));
  prepare(S_TRIAL_V2, "trial-v2", S_PENDING_V2, boot, N(boot));
  prepare(S_TRIAL_V3, "trial-v3", S_PENDING_V3, boot, N(boot));
  const step_t act_boot[] = {STEP(ST_ACTIVATE, 0, 0), STEP(ST_BOOT, 0, 0)};
  prepare(S_TRIAL_V1B, "trial-v1b", S_STAGED_V1B, act_boot, N(act_boot));
  prepare(S_BADTRIAL, "bad-trial", S_PENDING_V2, NULL, 0);
  damage_slot(S_BADTRIAL, HV, ROT_SLOT_B);
  const step_t confirm[] = {STEP(ST_CONFIRM, 0, 0), STEP(ST_BOOT, 0, 0)};
  prepare(S_OTHER, "other", S_TRIAL_V1B, confirm, N(confirm));
  prepare(S_CONFIRMED_V2, "confirmed-v2", S_TRIAL_V2, confirm, N(confirm));
  prepare(S_DEAD, "dead", S_STALE, NULL, 0);
  damage_slot(S_DEAD, HV, ROT_SLOT_A);
  damage_slot(S_DEAD, HV, ROT_SLOT_B);
  prepare(S_DEAD_TRIAL, "dead-trial", S_PENDING_V2, NULL, 0);
  damage_slot(S_DEAD_TRIAL, HV, ROT_SLOT_A);
  damage_slot(S_DEAD_TRIAL, HV, ROT_SLOT_B);
  uint32_t per_block = pf_layout.erase_size / ROT_AUDIT_RECORD_SIZE;
  uint32_t slots = pf_layout.regions[ROT_RGN_AUDIT].size / ROT_AUDIT_RECORD_SIZE;
  fill_audit(S_AUDIT_LOW, "audit-low", S_BASE, per_block - 3u, 0);
  fill_audit(S_AUDIT_WRAP, "audit-wrap", S_BASE, slots - 3u, 0);
  fill_audit(S_AUDIT_WRAP2, "audit-wrap2", S_BASE, per_block - 2u, 1);

  const step_t fresh[] = {STEP(ST_STAGE, PF_IMG_REC1, WHOLE)};
  prepare(S_FRESH, "fresh", -1, fresh, N(fresh));

  /* The confirm's first phase is durable; the floor is owed, and the
   * confirm counts as done: the next power-on must finish the raise. */
  const step_t confirm_only[] = {STEP(ST_CONFIRM, 0, 0)};
  prepare_cut(S_FLOOR_OWED, "floor-owed", S_TRIAL_V2, confirm_only,
              N(confirm_only), PF_OP_OTP);
  model_t *fm = &g_start[S_FLOOR_OWED].model;
  fm->t[HV].confirmed = fm->t[HV].confirming;
  fm->t[HV].confirming = fm->t[HV].trial = kNoRef;
  fm->t[HV].floor = g_fx.img[PF_IMG_V2_M].svn;

  /* The other slot types, each installed with an SVN that already fills
   * part of a fuse byte, so the next raise crosses into the next one. */
  static const int low[] = {PF_IMG_ROT7, PF_IMG_SBI15, PF_IMG_DTB100};
  step_t install[N(low) * 5];
  for (size_t i = 0; i < N(low); i++) {
    uint32_t t = g_fx.img[low[i]].type;
    install[i * 5 + 0] = (step_t)STEPT(ST_STAGE, t, low[i], 1024);
    install[i * 5 + 1] = (step_t)STEPT(ST_ACTIVATE, t, 0, 0);
    install[i * 5 + 2] = (step_t)STEPT(ST_BOOT, t, 0, 0);
    install[i * 5 + 3] = (step_t)STEPT(ST_CONFIRM, t, 0, 0);
    install[i * 5 + 4] = (step_t)STEPT(ST_BOOT, t, 0, 0);
  }
  prepare(S_TYPES, "types", S_BASE, install, N(install));
  const step_t dtb_trial[] = {
      STEPT(ST_STAGE, ROT_IMAGE_TYPE_DTB, PF_IMG_DTB130, 1024),
      STEPT(ST_ACTIVATE, ROT_IMAGE_TYPE_DTB, 0, 0),
      STEPT(ST_BOOT, ROT_IMAGE_TYPE_DTB, 0, 0),
  };
  prepare(S_TRIAL_DTB130, "trial-dtb130", S_TYPES, dtb_trial, N(dtb_trial));

  /* The golden image confirmed like any other type; then the hypervisor
   * gone, so every boot of it rests on the golden image. */
  const uint32_t rec = ROT_IMAGE_TYPE_RECOVERY;
  const step_t rec_confirm[] = {
      STEPT(ST_ACTIVATE, rec, 0, 0), STEPT(ST_BOOT, rec, 0, 0),
      STEPT(ST_CONFIRM, rec, 0, 0), STEPT(ST_BOOT, rec, 0, 0),
  };
  prepare(S_REC_CONFIRMED, "rec-confirmed", S_BASE, rec_confirm,
          N(rec_confirm));
  prepare(S_REC_DEAD, "rec-dead", S_REC_CONFIRMED, NULL, 0);
  damage_slot(S_REC_DEAD, HV, ROT_SLOT_A);
  damage_slot(S_REC_DEAD, HV, ROT_SLOT_B);
}

