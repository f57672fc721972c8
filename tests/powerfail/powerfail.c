/*
 * Deterministic power-fail simulator for the update engine, the boot
 * decision and the audit log, for every image type with a slot pair (rot,
 * opensbi, hypervisor, dtb, and the golden recovery image).
 *
 * Every scenario is a list of steps (stage, a tampered stage, begin +
 * abort, activate, boot, confirm, revert, audit appends) run from a
 * prepared start state. A dry run counts the flash and OTP operations the
 * steps perform; then, for every operation n, the scenario is replayed
 * from the start state with power cut before op n, with op n torn half
 * way, and, for an OTP program, with only k of its new bits landed (every
 * k, lowest bits first). The double-fault scenarios also cut and tear
 * every operation of the power-on that follows each first fault; the
 * multi-fault scenario follows each first fault with up to four more, one
 * in each power-on that tries to recover (its first, its last, or an
 * operation drawn from a fixed-seed generator). After the fault(s) the
 * device powers on for good on the same memory and these invariants are
 * checked:
 *
 *   I1 boot     the boot decision succeeds, its token checks, the bytes it
 *               picked re-verify, and it picked what the history allows
 *               (the confirmed image or the image on trial; the other slot
 *               or recovery only when both slots are damaged or empty; the
 *               confirmed golden image while it is intact)
 *   I2 confirm  for every type, the last confirmed image is still the
 *               active one and still verifies in its slot (or the confirm
 *               under way became durable and its image is active instead),
 *               and every image no update has claimed since is intact
 *   I3 floor    the OTP SVN floors equal what the durable confirms demand:
 *               never lower, never higher, and a raise owed by a durable
 *               confirm is finished at boot; no other fuse changes; right
 *               after each fault the fuses already decode and no floor
 *               exceeds what the confirm under way owes
 *   I4 audit    the audit chain verifies and no committed record is lost
 *   I5 resume   the interrupted step can be retried and the rest of the
 *               scenario completes, ending where the fault-free run ended
 *               (or, when the power-ons used up a trial, on the image
 *               confirmed before it)
 *
 * The OTP writes outside an update (provision, device secret, revocation,
 * bare floor raises) are cut by fuses.c, with its own invariants.
 *
 * Output: one line per scenario, then
 *   powerfail: N cut points explored, M violations
 * and exit status 1 when M > 0.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "fuses.h"
#include "rot/audit.h"
#include "rot/gate.h"
#include "rot/otp.h"
#include "rot/update.h"
#include "sim.h"

#define HV ROT_IMAGE_TYPE_HYPERVISOR
#define MAX_STEPS 12
#define MAX_PRINTED 40
#define TRACE_CAP (1u << 16) /* operations one run may perform */
#define NO_SLOT (-1)
#define N(a) (sizeof(a) / sizeof((a)[0]))

static pf_fixture_t g_fx;
static uint8_t g_scratch[PF_SCRATCH_LEN];
static pf_sim_t g_sim;
static int g_verbose;

/* ---- the device -------------------------------------------------------- */

typedef struct pf_dev {
  pf_sim_t *sim;
  rot_gate_t gate;
  rot_audit_t audit;
  rot_update_t upd;
} pf_dev_t;

/* Power-on of the chip: gate, audit log, update engine, as rotd does. */
static rot_error_t dev_boot(pf_dev_t *d) {
  memset(&d->audit, 0, sizeof(d->audit));
  ROT_TRY(rot_gate_init(&d->gate, &d->sim->flash, &pf_layout,
                        rot_audit_gate_hook, &d->audit));
  ROT_TRY(rot_audit_init(&d->audit, &d->gate, g_fx.crypto, NULL));
  return rot_update_init(&d->upd, &d->gate, &d->sim->otp, g_fx.crypto,
                         &d->audit, NULL, g_scratch,
                         sizeof(g_scratch));
}

static uint32_t type_region(uint32_t type, int slot) {
  return (uint32_t)rot_flash_slot_region(&pf_layout, type, (uint32_t)slot);
}

static const char *slot_name(int slot) {
  return slot == ROT_SLOT_A ? "A" : slot == ROT_SLOT_B ? "B" : "none";
}

/* The image types with a slot pair, in the order the checks visit them. */
static const uint32_t kTypes[] = {ROT_IMAGE_TYPE_ROT, ROT_IMAGE_TYPE_OPENSBI,
                                  ROT_IMAGE_TYPE_HYPERVISOR, ROT_IMAGE_TYPE_DTB,
                                  ROT_IMAGE_TYPE_RECOVERY};

/* ---- what the history allows ---------------------------------------- */

/* An image in one of a type's slots. */
typedef struct ref {
  int slot; /* NO_SLOT: none */
  int img;  /* pf_image_id_t, -1 when unknown or damaged */
} ref_t;

static const ref_t kNoRef = {NO_SLOT, -1};

/*
 * The test's own record, per image type, of which image it wrote where
 * and which step is under way: it decides which outcomes are legal after
 * a fault. The confirming/activating fields name a step whose effect may
 * or may not have become durable when power went.
 */
typedef struct tmodel {
  int slot_img[2];       /* image in slot A / B, -1 none or damaged */
  ref_t confirmed;       /* last confirmed image */
  ref_t confirming;      /* a confirm (or revert to it) under way */
  int confirming_raises; /* 1 for a confirm, 0 for a revert */
  ref_t trial;           /* last image activated for trial */
  ref_t activating;      /* an activate under way */
  ref_t staged;
  uint32_t floor;        /* floor owed by the confirms that returned */
  int slots_destroyed;   /* both slots damaged or never installed */
  /* Boot decisions taken while a trial was pending: after more than
   * ROT_TRIAL_ATTEMPTS of them (power-ons count, cut or not) the engine
   * may end the trial on its own, and then a confirm has nothing left to
   * confirm. expired: that happened; the run ends on the old image. */
  uint32_t trial_decides;
  int expired;
} tmodel_t;

typedef struct model {
  tmodel_t t[ROT_IMAGE_TYPE_SLOTS];
  uint32_t audit_seq; /* last audit record known committed */
} model_t;

static uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* ---- steps ----------------------------------------------------------- */

typedef enum step_kind {
  ST_STAGE = 1,       /* img, arg = chunk size */
  ST_ACTIVATE,
  ST_BOOT,            /* power cycle, then the boot decision */
  ST_CONFIRM,
  ST_REVERT,          /* cancel the trial */
  ST_REVERT_OTHER,    /* back to the other slot; expect may be a refusal */
  ST_AUDIT,           /* arg = records to append */
  ST_STAGE_TAMPERED,  /* img with a flipped payload byte: finish refuses */
  ST_BEGIN_ABORT,     /* begin img, write arg bytes, abort */
} step_kind_t;

typedef struct step {
  uint8_t kind;
  uint8_t type; /* the image type the step acts on */
  int8_t img;
  uint32_t arg;
  rot_error_t expect;
} step_t;

static const char *step_name(uint32_t kind) {
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
    default:
      return "?";
  }
}

static int region_image(const pf_sim_t *s, uint32_t region);
static rot_error_t verify_known(const pf_sim_t *s, int k);

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
static rot_error_t decide(pf_dev_t *d, model_t *m, uint32_t type,
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
static rot_error_t exec_step(pf_dev_t *d, model_t *m, const step_t *s, int retry) {
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
        if (ts->pending != ROT_SLOT_NONE) {
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
    default:
      return ROT_ERROR_INVALID_ARGUMENT;
  }
}

/* ---- start states ----------------------------------------------------- */

typedef enum start_id {
  S_BASE = 0,     /* v1 confirmed in A (floor 1), rec1 in recovery */
  S_STALE,        /* + v1b staged in B, never activated */
  S_STAGED_V2,    /* + v2-9k staged in B */
  S_STAGED_V3,
  S_STAGED_V1B,
  S_PENDING_V2,   /* + v2-9k activated, no trial boot yet */
  S_PENDING_V3,
  S_TRIAL_V2,     /* + one trial boot */
  S_TRIAL_V3,
  S_TRIAL_V1B,
  S_BADTRIAL,     /* v2-9k on trial but its slot damaged */
  S_OTHER,        /* v1b confirmed in B, v1 still valid in A */
  S_CONFIRMED_V2, /* v2-9k confirmed in B (floor 2), v1 in A below it */
  S_DEAD,         /* both slots damaged; recovery only */
  S_DEAD_TRIAL,   /* both slots damaged while v2-9k is on trial */
  S_AUDIT_LOW,    /* audit log part-full, appends cross a block boundary */
  S_AUDIT_WRAP,   /* audit log about to wrap around the ring */
  S_AUDIT_WRAP2,  /* ring already wrapped; next wrap erases the next block */
  S_FRESH,        /* factory state: provisioned, recovery image, no slot */
  S_FLOOR_OWED,   /* v2-9k confirm durable, power lost before the OTP raise */
  S_TYPES,        /* base + rot7, sbi15, dtb100 confirmed (floors 7, 15, 100) */
  S_TRIAL_DTB130, /* types + dtb130 on trial (one trial boot) */
  S_REC_CONFIRMED, /* base + rec1 confirmed in recovery-a */
  S_REC_DEAD,     /* rec1 confirmed, both hypervisor slots damaged */
  S_COUNT
} start_id_t;

typedef struct start {
  const char *name;
  pf_sim_t sim;
  model_t model;
} start_t;

static start_t g_start[S_COUNT];

static void die(const char *what, rot_error_t err) {
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

#define STEPT(k, t, i, a) \
  {(uint8_t)(k), (uint8_t)(t), (int8_t)(i), (uint32_t)(a), ROT_OK}
#define STEP(k, i, a) STEPT(k, HV, i, a)
#define WHOLE 65536u

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

static void prepare_all(void) {
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

/* ---- scenarios -------------------------------------------------------- */

typedef struct run {
  const char *scenario;
  char params[64];
  start_id_t start;
  step_t steps[MAX_STEPS];
  uint32_t nsteps;
  int primary; /* --quick explores every cut point of this one */
  int dbl;     /* a second fault while recovering from each first one */
  int chain;   /* up to MAX_FAULTS faults in a row (explore_chain) */
  uint32_t type; /* the image type the run's steps act on */
} run_t;

#define MAX_RUNS 128
static run_t g_runs[MAX_RUNS];
static uint32_t g_nruns;

static run_t *add_run(const char *scenario, start_id_t start, int primary,
                      const char *fmt, ...) {
  if (g_nruns == MAX_RUNS) {
    die("too many runs", ROT_ERROR_INTERNAL);
  }
  run_t *r = &g_runs[g_nruns++];
  memset(r, 0, sizeof(*r));
  r->scenario = scenario;
  r->start = start;
  r->primary = primary;
  r->type = HV;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->params, sizeof(r->params), fmt, ap);
  va_end(ap);
  return r;
}

static void push(run_t *r, uint8_t kind, int img, uint32_t arg,
                 rot_error_t expect) {
  if (r->nsteps == MAX_STEPS) {
    die("too many steps", ROT_ERROR_INTERNAL);
  }
  r->steps[r->nsteps++] =
      (step_t){kind, (uint8_t)r->type, (int8_t)img, arg, expect};
}

static const char *chunk_name(uint32_t chunk, char *buf, size_t n) {
  if (chunk >= WHOLE) {
    snprintf(buf, n, "whole");
  } else {
    snprintf(buf, n, "%u", chunk);
  }
  return buf;
}

static void define_runs(void) {
  static const uint32_t chunks[] = {128, 512, 2048, 4096, WHOLE};
  static const int v2[] = {PF_IMG_V2_S, PF_IMG_V2_M, PF_IMG_V2_L};
  char cb[16];

  /* stage: begin / chunks / finish of v2 while v1 is confirmed. Chunk
   * sizes at or above the image size would repeat "whole". */
  for (int s = 0; s < 2; s++) {
    start_id_t start = s == 0 ? S_BASE : S_STALE;
    for (size_t i = 0; i < N(v2); i++) {
      const pf_image_t *im = &g_fx.img[v2[i]];
      for (size_t c = 0; c < N(chunks); c++) {
        if (chunks[c] != WHOLE && chunks[c] >= im->len) {
          continue;
        }
        run_t *r = add_run("stage", start,
                           start == S_BASE && v2[i] == PF_IMG_V2_M &&
                               chunks[c] == 512,
                           "%s chunk=%s from=%s", im->name,
                           chunk_name(chunks[c], cb, sizeof(cb)),
                           g_start[start].name);
        push(r, ST_STAGE, v2[i], chunks[c], ROT_OK);
      }
    }
  }

  /* activate, then the first trial boot. */
  static const start_id_t staged[] = {S_STAGED_V2, S_STAGED_V3, S_STAGED_V1B};
  for (size_t i = 0; i < N(staged); i++) {
    run_t *r = add_run("activate", staged[i], i == 0, "from=%s",
                       g_start[staged[i]].name);
    push(r, ST_ACTIVATE, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }

  /* trial boot: every attempt, expiry and the automatic revert. */
  static const start_id_t pending[] = {S_PENDING_V2, S_PENDING_V3, S_BADTRIAL};
  for (size_t i = 0; i < N(pending); i++) {
    run_t *r = add_run("trial-boot", pending[i], i == 0, "from=%s boots=%u",
                       g_start[pending[i]].name,
                       ROT_TRIAL_ATTEMPTS + 2u);
    for (uint32_t b = 0; b < ROT_TRIAL_ATTEMPTS + 2u; b++) {
      push(r, ST_BOOT, 0, 0, ROT_OK);
    }
  }

  /* confirm: the two-phase floor raise (1 -> 2, 1 -> 3, none for v1b). */
  static const start_id_t trials[] = {S_TRIAL_V2, S_TRIAL_V3, S_TRIAL_V1B,
                                      S_PENDING_V2};
  for (size_t i = 0; i < N(trials); i++) {
    run_t *r = add_run("confirm", trials[i], i == 0, "from=%s",
                       g_start[trials[i]].name);
    push(r, ST_CONFIRM, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }

  /* revert: cancel a trial; go back to the other slot; refused below floor. */
  static const start_id_t cancel[] = {S_PENDING_V2, S_TRIAL_V3};
  for (size_t i = 0; i < N(cancel); i++) {
    run_t *r = add_run("revert", cancel[i], i == 0, "cancel from=%s",
                       g_start[cancel[i]].name);
    push(r, ST_REVERT, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }
  run_t *r = add_run("revert", S_OTHER, 0, "to-other from=%s",
                     g_start[S_OTHER].name);
  push(r, ST_REVERT_OTHER, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("revert", S_CONFIRMED_V2, 0, "below-floor from=%s",
              g_start[S_CONFIRMED_V2].name);
  push(r, ST_REVERT_OTHER, 0, 0, ROT_ERROR_UPDATE_REVERT_BELOW_FLOOR);
  push(r, ST_BOOT, 0, 0, ROT_OK);

  /* recovery: both slots bad; the way out of it; updating the golden image. */
  r = add_run("recovery", S_DEAD, 0, "boot from=%s", g_start[S_DEAD].name);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("recovery", S_DEAD_TRIAL, 0, "boot from=%s",
              g_start[S_DEAD_TRIAL].name);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  static const uint32_t rchunks[] = {256, 1024, 4096, WHOLE};
  for (size_t c = 0; c < N(rchunks); c++) {
    r = add_run("recovery", S_DEAD, rchunks[c] == 1024,
                "restore v2-9k chunk=%s from=%s",
                chunk_name(rchunks[c], cb, sizeof(cb)), g_start[S_DEAD].name);
    push(r, ST_BOOT, 0, 0, ROT_OK);
    push(r, ST_STAGE, PF_IMG_V2_M, rchunks[c], ROT_OK);
    push(r, ST_ACTIVATE, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
    push(r, ST_CONFIRM, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }
  for (size_t c = 0; c < N(rchunks); c++) {
    r = add_run("recovery", S_BASE, 0, "update rec2 chunk=%s from=%s",
                chunk_name(rchunks[c], cb, sizeof(cb)), g_start[S_BASE].name);
    push(r, ST_STAGE, PF_IMG_REC2, rchunks[c], ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }

  /* audit append: across a block boundary, the ring wrap, a second wrap. */
  static const start_id_t logs[] = {S_AUDIT_LOW, S_AUDIT_WRAP, S_AUDIT_WRAP2};
  for (size_t i = 0; i < N(logs); i++) {
    r = add_run("audit", logs[i], i == 1, "append=40 from=%s",
                g_start[logs[i]].name);
    push(r, ST_AUDIT, 0, 40, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }

  /* the first install on a factory-fresh device (recovery only). */
  static const uint32_t ichunks[] = {512, 4096};
  for (size_t c = 0; c < N(ichunks); c++) {
    r = add_run("install", S_FRESH, c == 0, "v1 chunk=%u from=%s", ichunks[c],
                g_start[S_FRESH].name);
    push(r, ST_STAGE, PF_IMG_V1, ichunks[c], ROT_OK);
    push(r, ST_ACTIVATE, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
    push(r, ST_CONFIRM, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }

  /* confirm, second phase: the floor raise a durable confirm still owes. */
  r = add_run("confirm", S_FLOOR_OWED, 0, "finish-floor from=%s",
              g_start[S_FLOOR_OWED].name);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);

  /* A second fault while the device recovers from the first one. */
  r = add_run("double-fault", S_TRIAL_V2, 0, "confirm from=%s",
              g_start[S_TRIAL_V2].name);
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  r = add_run("double-fault", S_TRIAL_V3, 1, "confirm+boot from=%s",
              g_start[S_TRIAL_V3].name);
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("double-fault", S_FLOOR_OWED, 0, "finish-floor from=%s",
              g_start[S_FLOOR_OWED].name);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("double-fault", S_STAGED_V2, 0, "activate+boot from=%s",
              g_start[S_STAGED_V2].name);
  push(r, ST_ACTIVATE, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("double-fault", S_PENDING_V2, 0, "revert+boot from=%s",
              g_start[S_PENDING_V2].name);
  push(r, ST_REVERT, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("double-fault", S_OTHER, 0, "revert-other from=%s",
              g_start[S_OTHER].name);
  push(r, ST_REVERT_OTHER, 0, 0, ROT_OK);
  r = add_run("double-fault", S_PENDING_V3, 0, "trial-boot boots=%u from=%s",
              ROT_TRIAL_ATTEMPTS + 1u, g_start[S_PENDING_V3].name);
  for (uint32_t b = 0; b < ROT_TRIAL_ATTEMPTS + 1u; b++) {
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }
  r = add_run("double-fault", S_STALE, 0, "stage v2-2k chunk=512 from=%s",
              g_start[S_STALE].name);
  push(r, ST_STAGE, PF_IMG_V2_S, 512, ROT_OK);
  r = add_run("double-fault", S_DEAD_TRIAL, 0, "recovery boot from=%s",
              g_start[S_DEAD_TRIAL].name);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  for (uint32_t i = 0; i < g_nruns; i++) {
    g_runs[i].dbl = strcmp(g_runs[i].scenario, "double-fault") == 0;
  }

  /* every slot type: rot, opensbi and dtb, first install (floor 0 -> 7,
   * 15, 100) and the update after it (7 -> 9, 15 -> 17, 100 -> 130). */
  static const int hi[] = {PF_IMG_ROT9, PF_IMG_SBI17, PF_IMG_DTB130};
  static const int lo[] = {PF_IMG_ROT7, PF_IMG_SBI15, PF_IMG_DTB100};
  for (size_t i = 0; i < N(hi); i++) {
    for (int up = 0; up < 2; up++) {
      int img = up ? hi[i] : lo[i];
      start_id_t from = up ? S_TYPES : S_BASE;
      r = add_run("types", from, up && hi[i] == PF_IMG_DTB130, "%s chunk=512 from=%s",
                  g_fx.img[img].name, g_start[from].name);
      r->type = g_fx.img[img].type;
      push(r, ST_STAGE, img, 512, ROT_OK);
      push(r, ST_ACTIVATE, 0, 0, ROT_OK);
      push(r, ST_BOOT, 0, 0, ROT_OK);
      push(r, ST_CONFIRM, 0, 0, ROT_OK);
      push(r, ST_BOOT, 0, 0, ROT_OK);
    }
  }
  r = add_run("types", S_TYPES, 0, "rot9 then revert-cancel from=%s",
              g_start[S_TYPES].name);
  r->type = ROT_IMAGE_TYPE_ROT;
  push(r, ST_STAGE, PF_IMG_ROT9, 4096, ROT_OK);
  push(r, ST_ACTIVATE, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_REVERT, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);

  /* The golden image's own A/B update: a refused (tampered) update and a
   * BEGIN + ABORT never touch the confirmed golden image; a full update,
   * cut anywhere, always leaves one that boots. From rec-dead every
   * hypervisor boot rests on it. */
  static const start_id_t rstarts[] = {S_REC_CONFIRMED, S_REC_DEAD, S_DEAD};
  for (size_t i = 0; i < N(rstarts); i++) {
    const char *from = g_start[rstarts[i]].name;
    r = add_run("recovery-ab", rstarts[i], 0, "tampered rec2 from=%s", from);
    r->type = ROT_IMAGE_TYPE_RECOVERY;
    push(r, ST_STAGE_TAMPERED, PF_IMG_REC2, 1024,
         ROT_ERROR_IMAGE_DIGEST_MISMATCH);
    r->type = HV;
    push(r, ST_BOOT, 0, 0, ROT_OK);
    r->type = ROT_IMAGE_TYPE_RECOVERY;
    r = add_run("recovery-ab", rstarts[i], 0, "begin+abort rec2 from=%s", from);
    r->type = ROT_IMAGE_TYPE_RECOVERY;
    push(r, ST_BEGIN_ABORT, PF_IMG_REC2, 5000, ROT_OK);
    r->type = HV;
    push(r, ST_BOOT, 0, 0, ROT_OK);
    r->type = ROT_IMAGE_TYPE_RECOVERY;
    for (int c = 0; c < 2; c++) {
      uint32_t chunk = c == 0 ? 1024u : 4096u;
      r = add_run("recovery-ab", rstarts[i], rstarts[i] == S_REC_DEAD && c == 0,
                  "update rec2 chunk=%u from=%s", chunk, from);
      r->type = ROT_IMAGE_TYPE_RECOVERY;
      push(r, ST_STAGE, PF_IMG_REC2, chunk, ROT_OK);
      push(r, ST_ACTIVATE, 0, 0, ROT_OK);
      push(r, ST_BOOT, 0, 0, ROT_OK);
      push(r, ST_CONFIRM, 0, 0, ROT_OK);
      push(r, ST_BOOT, 0, 0, ROT_OK);
    }
  }

  /* A second fault after each first one, where the floor raise spans
   * fuse bytes (its first faults include every partial bit landing). */
  r = add_run("double-fault", S_TRIAL_DTB130, 0, "confirm+boot from=%s",
              g_start[S_TRIAL_DTB130].name);
  r->type = ROT_IMAGE_TYPE_DTB;
  r->dbl = 1;
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);

  /* Up to five faults in a row: one in the run, then one in each
   * power-on that tries to recover from the previous. */
  r = add_run("multi-fault", S_TRIAL_V3, 0, "confirm+boot from=%s",
              g_start[S_TRIAL_V3].name);
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("multi-fault", S_TRIAL_DTB130, 0, "confirm+boot from=%s",
              g_start[S_TRIAL_DTB130].name);
  r->type = ROT_IMAGE_TYPE_DTB;
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("multi-fault", S_STALE, 0, "stage v2-2k chunk=512 from=%s",
              g_start[S_STALE].name);
  push(r, ST_STAGE, PF_IMG_V2_S, 512, ROT_OK);
  r = add_run("multi-fault", S_PENDING_V3, 0, "trial-boot boots=%u from=%s",
              ROT_TRIAL_ATTEMPTS + 1u, g_start[S_PENDING_V3].name);
  for (uint32_t b = 0; b < ROT_TRIAL_ATTEMPTS + 1u; b++) {
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }
  r = add_run("multi-fault", S_TYPES, 0, "rot9 end-to-end chunk=1024 from=%s",
              g_start[S_TYPES].name);
  r->type = ROT_IMAGE_TYPE_ROT;
  push(r, ST_STAGE, PF_IMG_ROT9, 1024, ROT_OK);
  push(r, ST_ACTIVATE, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("multi-fault", S_REC_DEAD, 0, "update rec2 chunk=4096 from=%s",
              g_start[S_REC_DEAD].name);
  r->type = ROT_IMAGE_TYPE_RECOVERY;
  push(r, ST_STAGE, PF_IMG_REC2, 4096, ROT_OK);
  push(r, ST_ACTIVATE, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("multi-fault", S_REC_CONFIRMED, 0, "begin+abort rec2 from=%s",
              g_start[S_REC_CONFIRMED].name);
  r->type = ROT_IMAGE_TYPE_RECOVERY;
  push(r, ST_BEGIN_ABORT, PF_IMG_REC2, 5000, ROT_OK);
  for (uint32_t i = 0; i < g_nruns; i++) {
    g_runs[i].chain = strcmp(g_runs[i].scenario, "multi-fault") == 0;
  }

  /* end to end: v1 -> v2 -> v3, each staged, activated, trial-booted,
   * confirmed (two floor raises) and booted. */
  static const uint32_t echunks[] = {256, 1024, 4096};
  static const int ev2[] = {PF_IMG_V2_S, PF_IMG_V2_M};
  for (size_t i = 0; i < N(ev2); i++) {
    for (size_t c = 0; c < N(echunks); c++) {
      r = add_run("end-to-end", S_BASE, i == 1 && echunks[c] == 1024,
                  "%s,v3 chunk=%u from=%s", g_fx.img[ev2[i]].name, echunks[c],
                  g_start[S_BASE].name);
      const int imgs[2] = {ev2[i], PF_IMG_V3};
      for (int k = 0; k < 2; k++) {
        push(r, ST_STAGE, imgs[k], echunks[c], ROT_OK);
        push(r, ST_ACTIVATE, 0, 0, ROT_OK);
        push(r, ST_BOOT, 0, 0, ROT_OK);
        push(r, ST_CONFIRM, 0, 0, ROT_OK);
        push(r, ST_BOOT, 0, 0, ROT_OK);
      }
    }
  }
  /* ... and once more with the audit ring wrapping in the middle of it. */
  r = add_run("end-to-end", S_AUDIT_WRAP, 0, "v2-9k,v3 chunk=1024 from=%s",
              g_start[S_AUDIT_WRAP].name);
  static const int e2[2] = {PF_IMG_V2_M, PF_IMG_V3};
  for (int k = 0; k < 2; k++) {
    push(r, ST_STAGE, e2[k], 1024, ROT_OK);
    push(r, ST_ACTIVATE, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
    push(r, ST_CONFIRM, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }
}

/* ---- invariant checks -------------------------------------------------- */

/* A fault: which operation (counted from power-on or the run's start). */
typedef struct fault {
  uint32_t op;
  pf_mode_t mode;
  uint32_t bits; /* PF_BITS_*: how many new bits land */
  pf_op_t info;
} fault_t;

/* Faults in a row: one in the run, then one in each recovery from it. */
#define MAX_FAULTS 5

typedef struct cut {
  const run_t *run;
  const fault_t *f; /* f[0] in the run, f[i] in the i-th recovery */
  uint32_t nf;
  uint32_t broken;  /* invariants broken at this cut point */
} cut_t;

static uint64_t g_printed;

static const char *where(const pf_op_t *op, char *buf, size_t n) {
  if (op->kind == PF_OP_OTP) {
    snprintf(buf, n, "otp+0x%x", op->off);
    return buf;
  }
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    const rot_flash_region_t *r = &pf_layout.regions[i];
    if (op->off >= r->off && op->off - r->off < r->size) {
      snprintf(buf, n, "%s+0x%x", r->name, op->off - r->off);
      return buf;
    }
  }
  snprintf(buf, n, "0x%x", op->off);
  return buf;
}

static void print_fault(const char *prefix, const fault_t *f) {
  char loc[48];
  if (f == NULL || f->mode == PF_NONE) {
    printf("%sno fault", prefix);
    return;
  }
  printf("%sop %u (%s", prefix, f->op, pf_mode_name(f->mode));
  if (f->mode >= PF_BITS_LOW) {
    printf(" %u of %u", f->bits, f->info.bits);
  }
  printf(" %s %s)", pf_op_kind_name(f->info.kind),
         where(&f->info, loc, sizeof(loc)));
}

__attribute__((format(printf, 3, 4))) static void violation(cut_t *c,
                                                            const char *inv,
                                                            const char *fmt,
                                                            ...) {
  c->broken++;
  if (g_printed++ >= MAX_PRINTED) {
    return;
  }
  printf("VIOLATION %s [%s] ", c->run->scenario, c->run->params);
  if (c->nf == 0) {
    print_fault("", NULL);
  }
  for (uint32_t i = 0; i < c->nf; i++) {
    print_fault(i == 0 ? "" : ", after reboot ", &c->f[i]);
  }
  printf(": %s: ", inv);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

/* Which known image sits at the start of a region (exact bytes), or -1. */
static int region_image(const pf_sim_t *s, uint32_t region) {
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

static const char *img_name(int k) {
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

static rot_error_t verify_known(const pf_sim_t *s, int k) {
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

static int ref_is(ref_t r, int slot, int img) {
  return r.slot != NO_SLOT && r.slot == slot && r.img == img && img >= 0;
}

/* Is the model's image still in place, byte for byte? */
static int ref_intact(const pf_sim_t *s, uint32_t type, ref_t r) {
  return r.slot != NO_SLOT && r.img >= 0 &&
         region_image(s, type_region(type, r.slot)) == r.img;
}

static void check_boot(cut_t *c, pf_dev_t *d, model_t *m, uint32_t type) {
  const tmodel_t *tm = &m->t[type];
  const tmodel_t *rm = &m->t[ROT_IMAGE_TYPE_RECOVERY];
  const char *tn = rot_image_type_name(type);
  rot_boot_decision_t dec;
  rot_error_t err = decide(d, m, type, &dec);
  if (err != ROT_OK) {
    violation(c, "I1 boot", "%s: boot decision failed: %s (why: %s)", tn,
              rot_error_name(err), rot_error_name(dec.why));
    return;
  }
  if (rot_verified_check(&dec.verified) != ROT_OK) {
    violation(c, "I1 boot", "%s: boot token does not check", tn);
    return;
  }
  if (dec.region >= ROT_RGN_COUNT) {
    violation(c, "I1 boot", "%s: no region chosen", tn);
    return;
  }
  int k = region_image(d->sim, dec.region);
  const char *rname = pf_layout.regions[dec.region].name;
  if (k < 0) {
    violation(c, "I1 boot", "%s: %s booted from %s, which holds no intact "
              "image", tn, rot_boot_reason_name(dec.reason), rname);
    return;
  }
  err = verify_known(d->sim, k);
  if (err != ROT_OK || dec.image_len != g_fx.img[k].len ||
      memcmp(dec.verified.signed_digest, g_fx.img[k].signed_digest,
             ROT_SHA384_LEN) != 0) {
    violation(c, "I1 boot", "%s: booted bytes in %s (%s) do not re-verify: %s",
              tn, rname, img_name(k), rot_error_name(err));
    return;
  }
  int slot = (int)pf_layout.regions[dec.region].slot;
  int allowed = 0;
  switch (dec.reason) {
    case ROT_BOOT_ACTIVE:
      allowed = ref_is(tm->confirmed, slot, k) || ref_is(tm->confirming, slot, k);
      break;
    case ROT_BOOT_TRIAL:
      allowed = ref_is(tm->trial, slot, k) || ref_is(tm->activating, slot, k);
      break;
    case ROT_BOOT_FALLBACK_OTHER:
      allowed = tm->slots_destroyed;
      break;
    case ROT_BOOT_RECOVERY:
      /* The last resort: the confirmed golden image while it is intact
       * (or the one a confirm under way names), else any golden image. */
      allowed = tm->slots_destroyed && slot >= 0 && slot <= 1 &&
                k == rm->slot_img[slot] &&
                (ref_is(rm->confirmed, slot, k) || ref_is(rm->confirming, slot, k) ||
                 !ref_intact(d->sim, ROT_IMAGE_TYPE_RECOVERY, rm->confirmed));
      break;
    default:
      break;
  }
  if (!allowed) {
    violation(c, "I1 boot", "%s: booted %s from %s as %s, which the history "
              "does not allow (confirmed %s in %s, trial %s)", tn,
              img_name(k), rname, rot_boot_reason_name(dec.reason),
              img_name(tm->confirmed.img), slot_name(tm->confirmed.slot),
              img_name(tm->trial.img));
  }
}

/* I2 for one type: the confirmed image, and every image the model knows
 * of that no update since has claimed, is still in place. */
static void check_confirmed(cut_t *c, pf_dev_t *d, const model_t *m,
                            uint32_t type) {
  const tmodel_t *tm = &m->t[type];
  const rot_type_state_t *ts = &d->upd.state.types[type];
  const char *tn = rot_image_type_name(type);
  int a = ts->active == ROT_SLOT_NONE ? NO_SLOT : ts->active;
  int k = a == NO_SLOT ? -1 : region_image(d->sim, type_region(type, a));
  int is_confirmed = ref_is(tm->confirmed, a, k);
  int is_confirming = ref_is(tm->confirming, a, k);
  if (tm->confirmed.slot != NO_SLOT || is_confirming) {
    if (!is_confirmed && !is_confirming) {
      violation(c, "I2 confirm",
                "%s: last confirmed image %s (slot %s) lost: active slot %s "
                "holds %s", tn,
                img_name(tm->confirmed.img), slot_name(tm->confirmed.slot),
                slot_name(a), img_name(k));
    } else {
      rot_error_t err = verify_known(d->sim, k);
      if (err != ROT_OK) {
        violation(c, "I2 confirm", "%s: confirmed %s in slot %s no longer "
                  "verifies: %s", tn, img_name(k), slot_name(a),
                  rot_error_name(err));
      }
    }
  }
  for (int s = 0; s < 2; s++) {
    if (tm->slot_img[s] >= 0 &&
        region_image(d->sim, type_region(type, s)) != tm->slot_img[s]) {
      violation(c, "I2 confirm", "%s: image %s lost from %s", tn,
                img_name(tm->slot_img[s]),
                pf_layout.regions[type_region(type, s)].name);
    }
  }
}

/* The floor a type's fuses may hold now: what returned confirms owe, and
 * the SVN of a confirm under way once it became durable. */
static uint32_t floor_owed(const pf_dev_t *d, const model_t *m, uint32_t type) {
  const tmodel_t *tm = &m->t[type];
  const rot_type_state_t *ts = &d->upd.state.types[type];
  int a = ts->active == ROT_SLOT_NONE ? NO_SLOT : ts->active;
  int k = a == NO_SLOT ? -1 : region_image(d->sim, type_region(type, a));
  uint32_t want = tm->floor;
  if (ref_is(tm->confirming, a, k) && !ref_is(tm->confirmed, a, k) &&
      tm->confirming_raises) {
    want = umax(want, g_fx.img[k].svn);
  }
  return want;
}

static void check_floors(cut_t *c, pf_dev_t *d, const model_t *m,
                         const rot_policy_t *start) {
  rot_policy_t pol;
  rot_error_t err = rot_otp_decode(d->sim->fuse, &pol);
  if (err != ROT_OK) {
    violation(c, "I3 floor", "OTP unreadable: %s", rot_error_name(err));
    return;
  }
  if (pol.revoked_keys != start->revoked_keys ||
      pol.lifecycle != start->lifecycle ||
      memcmp(pol.root_key_hash, start->root_key_hash, ROT_SHA384_LEN) != 0) {
    violation(c, "I3 floor", "OTP fields other than the floors changed");
  }
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    uint32_t want = floor_owed(d, m, t);
    uint32_t floor = pol.svn_floor[t];
    if (floor > want) {
      violation(c, "I3 floor", "%s floor rose to %u without a durable confirm "
                "(expected %u)", rot_image_type_name(t), floor, want);
    } else if (floor < want) {
      violation(c, "I3 floor", "%s floor %u below %u owed by a durable "
                "confirm", rot_image_type_name(t), floor, want);
    }
    if (d->upd.state.types[t].floor_pending != 0) {
      violation(c, "I3 floor", "%s: floor raise to %u still pending after "
                "boot", rot_image_type_name(t),
                d->upd.state.types[t].floor_pending);
    }
  }
}

/*
 * Right after a fault, before any reboot: a torn burn may leave a floor
 * between its old and new value, but never corrupt and never above what
 * the confirm under way owes.
 */
static void check_fuses_torn(cut_t *c, const pf_sim_t *s, const model_t *m) {
  rot_policy_t pol;
  rot_error_t err = rot_otp_decode(s->fuse, &pol);
  if (err != ROT_OK) {
    violation(c, "I3 floor", "OTP decodes as %s right after the fault",
              rot_error_name(err));
    return;
  }
  for (uint32_t t = 0; t < ROT_IMAGE_TYPE_SLOTS; t++) {
    const tmodel_t *tm = &m->t[t];
    uint32_t most = tm->floor;
    if (tm->confirming.img >= 0 && tm->confirming_raises) {
      most = umax(most, g_fx.img[tm->confirming.img].svn);
    }
    if (pol.svn_floor[t] > most) {
      violation(c, "I3 floor", "%s floor %u right after the fault, above the "
                "%u any confirm owes", rot_image_type_name(t),
                pol.svn_floor[t], most);
    }
  }
}

static void check_audit(cut_t *c, pf_dev_t *d, const model_t *m) {
  rot_audit_report_t rep;
  rot_error_t err = rot_audit_verify(&d->audit, NULL, NULL, &rep);
  if (err != ROT_OK || rep.verdict != ROT_OK) {
    violation(c, "I4 audit", "chain does not verify: %s (verdict %s, bad seq "
              "%u, %u records, %u torn)", rot_error_name(err),
              rot_error_name(rep.verdict), rep.bad_seq, rep.records, rep.torn);
  } else if (rep.last_seq < m->audit_seq) {
    violation(c, "I4 audit", "committed record %u lost (log ends at %u)",
              m->audit_seq, rep.last_seq);
  }
}

/* What a run ends with: compared between the dry run and every resume. */
typedef struct outcome {
  int active_img[ROT_IMAGE_TYPE_SLOTS];
  int pending[ROT_IMAGE_TYPE_SLOTS];
  uint32_t floor[ROT_IMAGE_TYPE_SLOTS];
  int rec_img[2];
} outcome_t;

static outcome_t outcome_of(pf_dev_t *d) {
  outcome_t o;
  memset(&o, 0, sizeof(o));
  rot_policy_t pol;
  int fuses_ok = rot_otp_decode(d->sim->fuse, &pol) == ROT_OK;
  for (size_t i = 0; i < N(kTypes); i++) {
    uint32_t t = kTypes[i];
    const rot_type_state_t *ts = &d->upd.state.types[t];
    o.active_img[t] = ts->active == ROT_SLOT_NONE
                          ? -1
                          : region_image(d->sim, type_region(t, ts->active));
    o.pending[t] = ts->pending;
    o.floor[t] = fuses_ok ? pol.svn_floor[t] : 0xffffffffu;
  }
  o.rec_img[0] = region_image(d->sim, ROT_RGN_RECOVERY_A);
  o.rec_img[1] = region_image(d->sim, ROT_RGN_RECOVERY_B);
  return o;
}

/* Name the first difference between two outcomes; 0 when equal. */
static int outcome_diff(const outcome_t *a, const outcome_t *b, char *buf,
                        size_t n) {
  for (size_t i = 0; i < N(kTypes); i++) {
    uint32_t t = kTypes[i];
    if (a->active_img[t] != b->active_img[t] || a->pending[t] != b->pending[t] ||
        a->floor[t] != b->floor[t]) {
      snprintf(buf, n, "%s: active %s, pending slot %s, floor %u; the "
               "fault-free run ends with %s, %s, %u", rot_image_type_name(t),
               img_name(a->active_img[t]), slot_name(a->pending[t]),
               a->floor[t], img_name(b->active_img[t]),
               slot_name(b->pending[t]), b->floor[t]);
      return 1;
    }
  }
  if (a->rec_img[0] != b->rec_img[0] || a->rec_img[1] != b->rec_img[1]) {
    snprintf(buf, n, "recovery %s/%s; the fault-free run ends with %s/%s",
             img_name(a->rec_img[0]), img_name(a->rec_img[1]),
             img_name(b->rec_img[0]), img_name(b->rec_img[1]));
    return 1;
  }
  return 0;
}

/* ---- driver ---------------------------------------------------------------- */

typedef struct tally {
  uint64_t cut, tear, violations;
} tally_t;

/* Run steps from `from` until one fails; returns the step to resume at. */
static uint32_t run_steps(pf_dev_t *d, model_t *m, const run_t *r,
                          uint32_t from, int retry_first, rot_error_t *err) {
  uint32_t at = from;
  for (uint32_t i = from; *err == ROT_OK && i < r->nsteps; i++) {
    at = i;
    *err = exec_step(d, m, &r->steps[i], retry_first && i == from);
    if (*err == ROT_OK) {
      at = i + 1u;
    }
  }
  return at;
}

/* The types whose boot decision every power-on takes (and checks): the
 * run's, and the hypervisor's too when the run updates the golden image
 * (its recovery path is what that image is for). */
static uint32_t boot_types(const run_t *r, uint32_t out[2]) {
  if (r->type != ROT_IMAGE_TYPE_RECOVERY) {
    out[0] = r->type;
    return 1;
  }
  /* A golden image never confirmed has no boot of its own: only as the
   * hypervisor's last resort. */
  uint32_t n = 0;
  if (g_start[r->start].model.t[ROT_IMAGE_TYPE_RECOVERY].confirmed.slot !=
      NO_SLOT) {
    out[n++] = ROT_IMAGE_TYPE_RECOVERY;
  }
  out[n++] = HV;
  return n;
}

/*
 * Replay a run from its start state with faults f[0..nf-1]: f[0] hits the
 * run, f[i] the i-th power-on after it (chip start, boot decisions, the
 * retried step and the rest of the run). Then the last power-on, fault
 * free: the invariants, the retry, the end state against the fault-free
 * run's. That last power-on is traced (trace, *ops_out): its operations
 * are where a further fault could hit. nf = 0 is the dry run; it traces
 * the run itself.
 */
static uint32_t replay(const run_t *r, const fault_t *f, uint32_t nf,
                       const outcome_t *expect, outcome_t *got, pf_op_t *trace,
                       uint32_t *ops_out) {
  const start_t *st = &g_start[r->start];
  cut_t c = {r, f, nf, 0};
  model_t m = st->model;
  pf_dev_t d = {.sim = &g_sim};
  uint32_t types[2];
  uint32_t ntypes = boot_types(r, types);
  pf_sim_copy(&g_sim, &st->sim);
  if (nf > 0) {
    pf_sim_arm_bits(&g_sim, f[0].mode, f[0].op, f[0].bits);
  } else {
    pf_sim_arm(&g_sim, PF_NONE, 0);
  }
  g_sim.trace = nf == 0 ? trace : NULL;
  g_sim.trace_cap = TRACE_CAP;

  /* The run: it stops where power went. */
  rot_error_t err = dev_boot(&d);
  uint32_t at = err == ROT_OK ? run_steps(&d, &m, r, 0, 0, &err) : 0;
  int retry = 1;
  if (nf == 0) {
    if (err != ROT_OK) {
      violation(&c, "setup", "fault-free run failed at step %u (%s): %s", at,
                at < r->nsteps ? step_name(r->steps[at].kind) : "boot",
                rot_error_name(err));
    }
    if (ops_out != NULL) {
      *ops_out = g_sim.ops;
    }
    g_sim.trace = NULL;
  }

  /* Each recovery, cut in turn. */
  for (uint32_t i = 0; i < nf; i++) {
    if (!g_sim.fired) {
      violation(&c, "setup", "fault %u never reached (%u ops)", i + 1u,
                g_sim.ops);
      return c.broken;
    }
    check_fuses_torn(&c, &g_sim, &m);
    if (i + 1u == nf) {
      break;
    }
    pf_sim_power_on(&g_sim);
    pf_sim_arm_bits(&g_sim, f[i + 1u].mode, f[i + 1u].op, f[i + 1u].bits);
    err = dev_boot(&d);
    for (uint32_t t = 0; err == ROT_OK && t < ntypes; t++) {
      rot_boot_decision_t dec;
      err = decide(&d, &m, types[t], &dec);
      if (err != ROT_OK && !g_sim.dead) {
        violation(&c, "I1 boot", "%s: boot decision failed: %s",
                  rot_image_type_name(types[t]), rot_error_name(err));
      }
    }
    if (err == ROT_OK) {
      at = run_steps(&d, &m, r, at, retry, &err);
    }
    retry = 1;
  }

  /* Power on for good, then the invariants. */
  pf_sim_power_on(&g_sim);
  g_sim.trace = nf > 0 ? trace : NULL;
  err = dev_boot(&d);
  if (err != ROT_OK) {
    violation(&c, "I1 boot", "chip does not come up after the fault: %s",
              rot_error_name(err));
    g_sim.trace = NULL;
    return c.broken;
  }
  rot_policy_t start_policy;
  if (rot_otp_decode(st->sim.fuse, &start_policy) != ROT_OK) {
    die("start state OTP", ROT_ERROR_INTERNAL);
  }
  for (uint32_t t = 0; t < ntypes; t++) {
    check_boot(&c, &d, &m, types[t]);
  }
  for (size_t t = 0; t < N(kTypes); t++) {
    check_confirmed(&c, &d, &m, kTypes[t]);
  }
  check_floors(&c, &d, &m, &start_policy);
  check_audit(&c, &d, &m);

  /* Nothing wedged: retry the interrupted step, finish the run. */
  err = ROT_OK;
  at = run_steps(&d, &m, r, at, nf > 0 ? retry : 0, &err);
  if (nf > 0 && ops_out != NULL) {
    *ops_out = g_sim.ops;
  }
  g_sim.trace = NULL;
  if (err != ROT_OK) {
    violation(&c, "I5 resume", "step %u (%s) after the reboot failed: %s", at,
              step_name(r->steps[at].kind), rot_error_name(err));
    return c.broken;
  }
  outcome_t o = outcome_of(&d);
  if (got != NULL) {
    *got = o;
  }
  char diff[256];
  outcome_t want;
  if (expect != NULL) {
    want = *expect;
    for (size_t i = 0; i < N(kTypes); i++) {
      const tmodel_t *tm = &m.t[kTypes[i]];
      if (tm->expired) {
        /* The trial ran out: the type ends where it started. */
        want.active_img[kTypes[i]] = tm->confirmed.img;
        want.pending[kTypes[i]] = ROT_SLOT_NONE;
        want.floor[kTypes[i]] = tm->floor;
      }
    }
  }
  if (expect != NULL && outcome_diff(&o, &want, diff, sizeof(diff))) {
    violation(&c, "I5 resume", "ends with %s", diff);
  }
  check_audit(&c, &d, &m);
  return c.broken;
}

static int g_known_defects;

/*
 * The faults one operation can suffer: cut before it, torn half way, and
 * for an OTP program every partial landing of its new bits in ascending
 * order (and, with --known-defects, highest first and scattered, which
 * the floor's thermometer code does not survive; see fuses.c).
 */
static uint32_t faults_at(uint32_t n, const pf_op_t *op, fault_t *out,
                          uint32_t cap) {
  uint32_t k = 0;
  out[k++] = (fault_t){n, PF_CUT, 0, *op};
  out[k++] = (fault_t){n, PF_TEAR, 0, *op};
  if (op->kind != PF_OP_OTP) {
    return k;
  }
  pf_mode_t last = g_known_defects ? PF_BITS_SCATTER : PF_BITS_LOW;
  for (pf_mode_t m = PF_BITS_LOW; m <= last; m++) {
    for (uint32_t b = 1; b < op->bits && k < cap; b++) {
      out[k++] = (fault_t){n, m, b, *op};
    }
  }
  return k;
}

#define MAX_FAULTS_AT 1024u

/* --quick: every 7th cut point, and every one of a primary run. */
static int keep(uint32_t n, uint32_t total, int quick, int primary) {
  return !quick || primary || n % 7u == 0 || n + 1u == total;
}

static void count(tally_t *t, const fault_t *f, uint32_t nf, uint32_t broken) {
  int torn = 0;
  for (uint32_t i = 0; i < nf; i++) {
    torn |= f[i].mode != PF_CUT;
  }
  if (torn) {
    t->tear++;
  } else {
    t->cut++;
  }
  t->violations += broken != 0;
}

/* A fixed-seed generator: the chains pick the same faults every run. */
static uint32_t prng(uint64_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return (uint32_t)(*state >> 11);
}

/*
 * Extend a chain of faults [f0] to MAX_FAULTS: at each power-on after a
 * fault, one more fault, on an operation the policy picks among those
 * that power-on performs (0: its first, 1: its last, otherwise one drawn
 * from the fixed-seed generator, cut or torn at random).
 */
static void explore_chain(const run_t *r, const fault_t *f0,
                          const pf_op_t *trace1, uint32_t ops1, int policy,
                          uint64_t seed, const outcome_t *expect,
                          pf_op_t *trace, tally_t *t) {
  fault_t f[MAX_FAULTS];
  f[0] = *f0;
  (void)trace;
  uint64_t st = seed;
  const pf_op_t *prev = trace1;
  uint32_t ops = ops1;
  static pf_op_t traces[2][TRACE_CAP];
  for (uint32_t nf = 1; nf < MAX_FAULTS && ops > 0; nf++) {
    uint32_t n = policy == 0 ? 0u : policy == 1 ? ops - 1u : prng(&st) % ops;
    pf_mode_t mode = policy < 2 ? (nf % 2 ? PF_CUT : PF_TEAR)
                                : (prng(&st) & 1u ? PF_TEAR : PF_CUT);
    f[nf] = (fault_t){n, mode, 0, prev[n]};
    pf_op_t *next = traces[nf % 2];
    uint32_t nops = 0;
    count(t, f, nf + 1u, replay(r, f, nf + 1u, expect, NULL, next, &nops));
    if (nops > TRACE_CAP) {
      die("reboot longer than the trace", ROT_ERROR_INTERNAL);
    }
    prev = next;
    ops = nops;
  }
}

/*
 * Every cut point of one run: a dry run records the operations, then each
 * suffers every fault faults_at lists. A double-fault run also cuts and
 * tears each operation of the power-on that follows every first fault; a
 * chain run follows every first fault with up to four more, one in each
 * power-on after it.
 */
static void explore(const run_t *r, int quick, pf_op_t *trace,
                    pf_op_t *trace2, tally_t *t) {
  static fault_t fl[MAX_FAULTS_AT];
  outcome_t expect;
  uint32_t ops = 0;
  uint32_t bad = replay(r, NULL, 0, NULL, &expect, trace, &ops);
  if (ops > TRACE_CAP) {
    die("run longer than the trace", ROT_ERROR_INTERNAL);
  }
  if (bad != 0) {
    t->violations += bad;
    return;
  }
  for (uint32_t n = 0; n < ops; n++) {
    uint32_t nfl = faults_at(n, &trace[n], fl, MAX_FAULTS_AT);
    for (uint32_t i = 0; i < nfl; i++) {
      fault_t f[2] = {fl[i], fl[i]};
      if (!r->dbl && !r->chain) {
        if (keep(n * 3u + i, ops * 3u, quick, r->primary)) {
          count(t, f, 1, replay(r, f, 1, &expect, NULL, NULL, NULL));
        }
        continue;
      }
      /* The fault on its own; its last power-on lists the second faults. */
      uint32_t ops2 = 0;
      if (r->chain && !keep(n * 3u + i, 0, quick, r->primary)) {
        continue;
      }
      count(t, f, 1, replay(r, f, 1, &expect, NULL, trace2, &ops2));
      if (ops2 > TRACE_CAP) {
        die("reboot longer than the trace", ROT_ERROR_INTERNAL);
      }
      if (r->chain) {
        int policies = quick ? 2 : 8;
        for (int p = 0; p < policies; p++) {
          explore_chain(r, &fl[i], trace2, ops2, quick ? 2 + p : p,
                        0x9e3779b97f4a7c15ull ^ ((uint64_t)n << 32) ^
                            ((uint64_t)i << 8) ^ (uint64_t)p,
                        &expect, trace, t);
        }
        continue;
      }
      for (uint32_t n2 = 0; n2 < ops2; n2++) {
        static const pf_mode_t kModes[2] = {PF_CUT, PF_TEAR};
        for (int j = 0; j < 2; j++) {
          /* --quick samples about one pair in 7, spread over both ops. */
          if (!keep(n * 31u + n2 + (uint32_t)(i * 3 + j), 0, quick,
                    r->primary)) {
            continue;
          }
          f[1] = (fault_t){n2, kModes[j], 0, trace2[n2]};
          count(t, f, 2, replay(r, f, 2, &expect, NULL, NULL, NULL));
        }
      }
    }
  }
}

typedef struct scen_tally {
  const char *name;
  tally_t t;
  double seconds;
} scen_tally_t;

static scen_tally_t g_scen[32];
static uint32_t g_nscen;
static tally_t g_total;

/* Add what one parameter set explored to its scenario's line. */
static void scen_add(const char *name, const char *params, const tally_t *rt,
                     double dt) {
  scen_tally_t *sc = NULL;
  for (uint32_t i = 0; i < g_nscen; i++) {
    if (strcmp(g_scen[i].name, name) == 0) {
      sc = &g_scen[i];
    }
  }
  if (sc == NULL) {
    if (g_nscen == N(g_scen)) {
      die("too many scenarios", ROT_ERROR_INTERNAL);
    }
    sc = &g_scen[g_nscen++];
    sc->name = name;
  }
  if (g_verbose) {
    printf("  %-12s %-44s %6llu cut points %llu violations %.2fs\n", name,
           params, (unsigned long long)(rt->cut + rt->tear),
           (unsigned long long)rt->violations, dt);
  }
  sc->t.cut += rt->cut;
  sc->t.tear += rt->tear;
  sc->t.violations += rt->violations;
  sc->seconds += dt;
  g_total.cut += rt->cut;
  g_total.tear += rt->tear;
  g_total.violations += rt->violations;
}

static void fuse_report(const char *name, const char *params, uint64_t cut,
                        uint64_t torn, uint64_t violations, double seconds) {
  tally_t rt = {cut, torn, violations};
  scen_add(name, params, &rt, seconds);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void) {
  fprintf(stderr,
          "usage: powerfail [--quick] [--only SCENARIO] [--verbose] [--no-memo]\n"
          "                 [--known-defects]\n"
          "  Cuts power before every flash program/erase and OTP program of\n"
          "  each scenario, tears each one half way, lands only some bits of\n"
          "  each OTP program, and puts up to four more faults in the\n"
          "  power-ons after one; reboots and checks the invariants.\n"
          "  Deterministic: fixed seeds, same result every run.\n"
          "  --quick    every 7th cut point, plus every cut point of one\n"
          "             parameter set per scenario, and fewer fault chains\n"
          "             (what make test runs)\n"
          "  --only S   run scenario S only (stage, confirm, ...)\n"
          "  --verbose  one line per parameter set\n"
          "  --no-memo  compute every signature check (slow; same verdicts)\n"
          "  --known-defects  add the checks the core is known to fail\n"
          "             today (reported as violations; see fuses.c)\n");
}

int main(int argc, char **argv) {
  int quick = 0;
  int memo = 1;
  int known_defects = 0;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--no-memo") == 0) {
      memo = 0;
    } else if (strcmp(argv[i], "--known-defects") == 0) {
      known_defects = 1;
      g_known_defects = 1;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      g_verbose = 1;
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      usage();
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  double t0 = now_s();
  if (pf_fixture_init(&g_fx, memo) != 0 ||
      pf_sim_init(&g_sim, pf_layout.flash_size, pf_layout.erase_size) != 0) {
    return 2;
  }
  prepare_all();
  define_runs();

  pf_op_t *trace = calloc(TRACE_CAP, sizeof(pf_op_t));
  pf_op_t *trace2 = calloc(TRACE_CAP, sizeof(pf_op_t));
  if (trace == NULL || trace2 == NULL) {
    return 2;
  }
  for (uint32_t ri = 0; ri < g_nruns; ri++) {
    const run_t *r = &g_runs[ri];
    if (only != NULL && strcmp(only, r->scenario) != 0) {
      continue;
    }
    double ts = now_s();
    tally_t rt = {0, 0, 0};
    explore(r, quick, trace, trace2, &rt);
    scen_add(r->scenario, r->params, &rt, now_s() - ts);
  }
  free(trace2);
  free(trace);
  pf_fuses_run(g_fx.crypto, quick, known_defects, only, fuse_report);
  for (uint32_t i = 0; i < g_nscen; i++) {
    printf("%-11s %6llu cut points (%llu cut, %llu torn), %llu violations, "
           "%.1fs\n",
           g_scen[i].name,
           (unsigned long long)(g_scen[i].t.cut + g_scen[i].t.tear),
           (unsigned long long)g_scen[i].t.cut,
           (unsigned long long)g_scen[i].t.tear,
           (unsigned long long)g_scen[i].t.violations, g_scen[i].seconds);
  }
  if (g_printed > MAX_PRINTED) {
    printf("(%llu more violation lines not printed)\n",
           (unsigned long long)(g_printed - MAX_PRINTED));
  }
  double dt = now_s() - t0;
  uint64_t points = g_total.cut + g_total.tear;
  printf("powerfail: %.1fs, %.0f cut points/s%s\n", dt,
         dt > 0 ? (double)points / dt : 0.0, quick ? " (quick)" : "");
  printf("powerfail: %llu cut points explored, %llu violations\n",
         (unsigned long long)points, (unsigned long long)g_total.violations);
  pf_sim_free(&g_sim);
  for (uint32_t i = 0; i < S_COUNT; i++) {
    pf_sim_free(&g_start[i].sim);
  }
  pf_fixture_free(&g_fx);
  return g_total.violations != 0 ? 1 : 0;
}
