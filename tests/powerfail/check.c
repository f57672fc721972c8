/* The invariants checked after every fault (the list is in powerfail.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf.h"
#include "rot_client/names.h"

uint64_t g_printed;

/* Where an operation lands: region+offset, or the OTP offset. */
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

void violation(cut_t *c,
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

static int ref_is(ref_t r, int slot, int img) {
  return r.slot != NO_SLOT && r.slot == slot && r.img == img && img >= 0;
}

/* Is the model's image still in place, byte for byte? */
static int ref_intact(const pf_sim_t *s, uint32_t type, ref_t r) {
  return r.slot != NO_SLOT && r.img >= 0 &&
         region_image(s, type_region(type, r.slot)) == r.img;
}

void check_boot(cut_t *c, pf_dev_t *d, model_t *m, uint32_t type) {
  const tmodel_t *tm = &m->t[type];
  const tmodel_t *rm = &m->t[ROT_IMAGE_TYPE_RECOVERY];
  const char *tn = rot_image_type_name(type);
  rot_boot_decision_t dec;
  rot_error_t err = decide(d, m, type, &dec);
  if (err == ROT_ERROR_BOOT_NO_IMAGE && type == ROT_IMAGE_TYPE_ROT &&
      tm->confirmed.slot == NO_SLOT && tm->confirming.slot == NO_SLOT &&
      (tm->expired || !ref_intact(d->sim, type, tm->trial))) {
    /* The chip's first RoT firmware, cut before it was confirmed or
     * booted on trial: no host recovery image stands in for the chip's
     * own firmware, so it serves recovery commands only until one is
     * installed. */
    return;
  }
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
void check_confirmed(cut_t *c, pf_dev_t *d, const model_t *m,
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

void check_floors(cut_t *c, pf_dev_t *d, const model_t *m,
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
void check_fuses_torn(cut_t *c, const pf_sim_t *s, const model_t *m) {
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

void check_audit(cut_t *c, pf_dev_t *d, const model_t *m) {
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

outcome_t outcome_of(pf_dev_t *d) {
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
int outcome_diff(const outcome_t *a, const outcome_t *b, char *buf,
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

