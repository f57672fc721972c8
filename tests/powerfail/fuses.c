/*
 * Power cuts inside provisioning, the device-secret burn, key revocation
 * and a bare floor raise (fuses.h).
 *
 * For each write a dry run counts its OTP programs; then each program is
 * cut before it lands, torn half way, and cut at bit level: for every k
 * from 1 to (new bits - 1), only k of its new bits land, lowest first,
 * highest first or scattered. The device then powers on and what it reads
 * is compared with what it read before the write and after a fault-free
 * one:
 *
 *   F1 trusted  nothing half-written is ever trusted: the policy decodes
 *               either as it did before or exactly as it does after (never
 *               with a partial root hash, a partial revocation word or an
 *               unrelated field changed); the device secret reads either
 *               as absent or as the whole secret, and so does the update
 *               engine's state key derived from it
 *   F2 floor    a torn floor burn never decodes as corrupt and reads
 *               between the old and the new floor
 *   F3 retry    the device reads exactly as before or as after, and
 *               repeating the write (same arguments) completes it
 *   F4 lifecycle a transition (dev -> production, production ->
 *               decommissioned) reads as the old or the new state, never
 *               corrupt; decommissioned, the device secret reads as locked
 *   F5 order    no cut leaves the magic fused over a blank lifecycle (the
 *               state rot_otp_decode refuses as inconsistent)
 *
 * Every write is explored with every partial landing of its bits, lowest
 * first, highest first and scattered. Provisioning and the device-secret
 * burn complete on a retry with the same arguments (a cut after their
 * first program once left a device that could never be provisioned, or
 * never get the secret the update state key needs); the floor raise burns
 * one fuse per program, lowest first, so no landing order leaves a gap in
 * the thermometer (a gap once decoded as corrupt and failed every
 * verification).
 */
#include "fuses.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rot/otp.h"
#include "rot_client/otp_provision.h"
#include "rot/update.h"
#include "rot/util.h"
#include "rot_client/names.h"
#include "sim.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PRINTED 20
#define TRACE_CAP 512u /* a floor raise burns one fuse per program */

typedef enum fuse_op {
  FOP_PROVISION = 1,
  FOP_UDS,
  FOP_REVOKE,
  FOP_FLOOR,
  FOP_LIFECYCLE,
} fuse_op_t;

/* What the device reads from its fuses, through the core's own calls. */
typedef struct obs {
  rot_error_t perr; /* rot_otp_policy */
  rot_policy_t pol;
  rot_error_t uerr; /* rot_otp_read_uds */
  uint8_t uds[ROT_OTP_UDS_LEN];
  rot_error_t kerr; /* rot_update_state_key */
  uint8_t key[ROT_UPDATE_STATE_KEY_LEN];
} obs_t;

typedef struct fuse_case {
  const char *scenario;
  char params[64];
  fuse_op_t op;
  uint32_t arg;  /* key index, image type, or lifecycle from */
  uint32_t arg2; /* svn, or lifecycle to */
  /* The start state: provisioned, with a device secret, revocations and
   * a floor already burnt (all fault-free). */
  int provisioned, with_uds;
  uint32_t revoked;
  uint32_t floor_type, floor;
} fuse_case_t;

typedef struct ctx {
  const rot_crypto_t *c;
  const fuse_case_t *fc;
  pf_mode_t mode;
  uint32_t op, bits;
  uint32_t broken;
} ctx_t;

static uint64_t g_printed;
static uint8_t g_hash[ROT_SHA384_LEN];
static uint8_t g_uds[ROT_OTP_UDS_LEN];

__attribute__((format(printf, 3, 4))) static void violation(ctx_t *x,
                                                            const char *inv,
                                                            const char *fmt,
                                                            ...) {
  x->broken++;
  if (g_printed++ >= MAX_PRINTED) {
    return;
  }
  printf("VIOLATION %s [%s] op %u (%s", x->fc->scenario, x->fc->params, x->op,
         pf_mode_name(x->mode));
  if (x->mode >= PF_BITS_LOW) {
    printf(" %u", x->bits);
  }
  printf(" otp-program): %s: ", inv);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

static void observe(const rot_crypto_t *c, pf_sim_t *s, obs_t *o) {
  memset(o, 0, sizeof(*o));
  o->perr = rot_otp_policy(&s->otp, &o->pol);
  o->uerr = rot_otp_read_uds(&s->otp, o->uds);
  o->kerr = rot_update_state_key(&s->otp, c, o->key);
}

static int pol_eq(const obs_t *a, const obs_t *b) {
  return a->perr == b->perr &&
         (a->perr != ROT_OK || memcmp(&a->pol, &b->pol, sizeof(a->pol)) == 0);
}

static int uds_eq(const obs_t *a, const obs_t *b) {
  return a->uerr == b->uerr && a->kerr == b->kerr &&
         (a->uerr != ROT_OK || memcmp(a->uds, b->uds, sizeof(a->uds)) == 0) &&
         (a->kerr != ROT_OK || memcmp(a->key, b->key, sizeof(a->key)) == 0);
}

static int obs_eq(const obs_t *a, const obs_t *b) {
  return pol_eq(a, b) && uds_eq(a, b);
}

static void setup(const fuse_case_t *fc, pf_sim_t *s) {
  memset(s->fuse, 0, sizeof(s->fuse));
  pf_sim_arm(s, PF_NONE, 0);
  rot_error_t err = ROT_OK;
  if (fc->provisioned) {
    err = rot_otp_provision(&s->otp, g_hash);
  }
  if (err == ROT_OK && fc->with_uds) {
    err = rot_otp_write_uds(&s->otp, g_uds);
  }
  for (uint32_t i = 0; err == ROT_OK && i < 32; i++) {
    if ((fc->revoked >> i) & 1u) {
      err = rot_otp_revoke_key(&s->otp, i);
    }
  }
  if (err == ROT_OK && fc->floor != 0) {
    err = rot_otp_raise_floor(&s->otp, fc->floor_type, fc->floor);
  }
  if (err == ROT_OK && fc->op == FOP_LIFECYCLE && fc->arg == ROT_LIFECYCLE_PROD) {
    err = rot_otp_lifecycle_transition(&s->otp, ROT_LIFECYCLE_DEV,
                                       ROT_LIFECYCLE_PROD);
  }
  if (err != ROT_OK) {
    fprintf(stderr, "powerfail: fuse setup %s: %s\n", fc->params,
            rot_error_name(err));
    exit(2);
  }
}

static rot_error_t run_op(const fuse_case_t *fc, pf_sim_t *s) {
  switch (fc->op) {
    case FOP_PROVISION:
      return rot_otp_provision(&s->otp, g_hash);
    case FOP_UDS:
      return rot_otp_write_uds(&s->otp, g_uds);
    case FOP_REVOKE:
      return rot_otp_revoke_key(&s->otp, fc->arg);
    case FOP_FLOOR:
      return rot_otp_raise_floor(&s->otp, fc->arg, fc->arg2);
    case FOP_LIFECYCLE:
      return rot_otp_lifecycle_transition(&s->otp, fc->arg, fc->arg2);
    default:
      return ROT_ERROR_INVALID_ARGUMENT;
  }
}

/* The invariants after one fault (the sim has powered on again). */
static void check(ctx_t *x, pf_sim_t *s, const obs_t *before,
                  const obs_t *after) {
  const fuse_case_t *fc = x->fc;
  obs_t o;
  observe(x->c, s, &o);

  /* F1: nothing half-written is trusted. */
  if (o.perr == ROT_OK && !pol_eq(&o, after) && !pol_eq(&o, before) &&
      fc->op != FOP_FLOOR) {
    violation(x, "F1 trusted", "policy decodes, but neither as before nor as "
              "after (root hash %s, lifecycle %u, revoked 0x%x)",
              memcmp(o.pol.root_key_hash, g_hash, sizeof(g_hash)) == 0
                  ? "intact" : "differs",
              o.pol.lifecycle, o.pol.revoked_keys);
  }
  if ((o.uerr == ROT_OK || o.kerr == ROT_OK) && !uds_eq(&o, after) &&
      !uds_eq(&o, before)) {
    violation(x, "F1 trusted", "device secret reads (%s, state key %s) but is "
              "neither the old nor the new one", rot_error_name(o.uerr),
              rot_error_name(o.kerr));
  }
  /* Decommissioning locks the secret away (it reads as locked after). */
  if (fc->op != FOP_UDS && !uds_eq(&o, before) &&
      !(fc->op == FOP_LIFECYCLE && uds_eq(&o, after))) {
    violation(x, "F1 trusted", "device secret changed by a write that does "
              "not own it");
  }
  if (o.uerr != ROT_OK && o.uerr != ROT_ERROR_OTP_NO_DEVICE_SECRET &&
      !(fc->op == FOP_LIFECYCLE && o.uerr == ROT_ERROR_OTP_SECRET_LOCKED)) {
    violation(x, "F1 trusted", "device secret read fails: %s",
              rot_error_name(o.uerr));
  }

  /* F2: a floor raise moves one floor, monotonically, never corrupt. */
  if (fc->op == FOP_FLOOR) {
    if (o.perr != ROT_OK) {
      violation(x, "F2 floor", "OTP decodes as %s", rot_error_name(o.perr));
      return;
    }
    uint32_t f = o.pol.svn_floor[fc->arg];
    if (f < before->pol.svn_floor[fc->arg] || f > after->pol.svn_floor[fc->arg]) {
      violation(x, "F2 floor", "floor reads %u, outside [%u, %u]", f,
                before->pol.svn_floor[fc->arg], after->pol.svn_floor[fc->arg]);
    }
    rot_policy_t p = o.pol;
    p.svn_floor[fc->arg] = after->pol.svn_floor[fc->arg];
    if (memcmp(&p, &after->pol, sizeof(p)) != 0) {
      violation(x, "F2 floor", "a fuse other than the floor changed");
    }
  }

  /* F4: a lifecycle transition lands whole or not at all, never corrupt. */
  if (fc->op == FOP_LIFECYCLE &&
      (o.perr != ROT_OK ||
       (o.pol.lifecycle != fc->arg && o.pol.lifecycle != fc->arg2))) {
    violation(x, "F4 lifecycle", "reads %s (lifecycle %u), not %u or %u",
              rot_error_name(o.perr), o.pol.lifecycle, fc->arg, fc->arg2);
  }

  /* F5: the lifecycle is fused before the magic, whatever the cut. */
  if (rot_ld32(s->fuse + ROT_OTP_OFF_MAGIC) == ROT_OTP_MAGIC &&
      rot_ld32(s->fuse + ROT_OTP_OFF_LIFECYCLE) == ROT_OTP_LC_RAW_BLANK) {
    violation(x, "F5 order", "magic fused over a blank lifecycle (reads %s)",
              rot_error_name(o.perr));
  }

  /* F3: exactly before or after, and the write can be completed. */
  if (fc->op != FOP_FLOOR && !obs_eq(&o, before) && !obs_eq(&o, after)) {
    violation(x, "F3 retry", "reads neither as before nor as after (policy "
              "%s, device secret %s)", rot_error_name(o.perr),
              rot_error_name(o.uerr));
  }
  rot_error_t err = obs_eq(&o, after) ? ROT_OK : run_op(fc, s);
  observe(x->c, s, &o);
  if (err != ROT_OK || !obs_eq(&o, after)) {
    violation(x, "F3 retry", "repeating the write: %s; the device then %s",
              rot_error_name(err),
              obs_eq(&o, after) ? "reads as after" : "does not read as after");
  }
}

/* Bit counts explored for one program of `bits` new bits. */
static int keep_bits(uint32_t k, uint32_t bits, int quick) {
  return !quick || bits <= 12 || k <= 2 || k + 2 >= bits || k == bits / 2 ||
         k % 11 == 0;
}

static void explore_case(const rot_crypto_t *c, const fuse_case_t *fc, int quick,
                         pf_sim_t *s, uint64_t *cut,
                         uint64_t *torn, uint64_t *broken) {
  static pf_op_t trace[TRACE_CAP];
  obs_t before, after;
  setup(fc, s);
  observe(c, s, &before);
  pf_sim_arm(s, PF_NONE, 0);
  s->trace = trace;
  s->trace_cap = TRACE_CAP;
  rot_error_t err = run_op(fc, s);
  s->trace = NULL;
  uint32_t ops = s->ops;
  observe(c, s, &after);
  if (err != ROT_OK || ops > TRACE_CAP || obs_eq(&before, &after)) {
    printf("VIOLATION %s [%s] no fault: setup: the write fails or changes "
           "nothing: %s\n", fc->scenario, fc->params, rot_error_name(err));
    (*broken)++;
    return;
  }
  pf_mode_t last = PF_BITS_SCATTER;
  for (uint32_t n = 0; n < ops; n++) {
    for (pf_mode_t m = PF_CUT; m <= last; m++) {
      uint32_t bits = trace[n].bits;
      uint32_t kmin = m >= PF_BITS_LOW ? 1u : 0u;
      uint32_t kmax = m >= PF_BITS_LOW ? bits : 1u; /* exclusive */
      for (uint32_t k = kmin; k < kmax; k++) {
        if (m >= PF_BITS_LOW && !keep_bits(k, bits, quick)) {
          continue;
        }
        ctx_t x = {c, fc, m, n, k, 0};
        setup(fc, s);
        pf_sim_arm_bits(s, m, n, k);
        err = run_op(fc, s);
        if (!s->fired || err == ROT_OK) {
          violation(&x, "setup", "fault never reached (%s)",
                    rot_error_name(err));
        }
        pf_sim_power_on(s);
        check(&x, s, &before, &after);
        if (m == PF_CUT) {
          (*cut)++;
        } else {
          (*torn)++;
        }
        *broken += x.broken != 0;
      }
    }
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t pf_fuses_run(const rot_crypto_t *c, int quick,
                      const char *only, pf_fuse_report_fn report) {
  /* Fixed values: every run burns the very same bits. */
  for (uint32_t i = 0; i < sizeof(g_hash); i++) {
    g_hash[i] = (uint8_t)(0x3c + i * 29u);
  }
  for (uint32_t i = 0; i < sizeof(g_uds); i++) {
    g_uds[i] = (uint8_t)(0xa1 ^ (i * 53u));
  }
  static fuse_case_t cases[16];
  uint32_t n = 0;
  cases[n++] = (fuse_case_t){"provision", "blank device", FOP_PROVISION, 0, 0,
                             0, 0, 0, 0, 0};
  cases[n++] = (fuse_case_t){"uds", "provisioned, no secret", FOP_UDS, 0, 0,
                             1, 0, 0, 0, 0};
  cases[n++] = (fuse_case_t){"uds", "revoked key 3, floor 9", FOP_UDS, 0, 0,
                             1, 0, 1u << 3, ROT_IMAGE_TYPE_DTB, 9};
  static const uint32_t kRevoke[][2] = {{1, 0}, {9, 1u << 1}, {31, 0x00ff00f0u}};
  for (size_t i = 0; i < N(kRevoke); i++) {
    fuse_case_t fc = {"revoke", "", FOP_REVOKE, kRevoke[i][0], 0, 1, 1,
                      kRevoke[i][1], 0, 0};
    snprintf(fc.params, sizeof(fc.params), "key %u, revoked 0x%x",
             kRevoke[i][0], kRevoke[i][1]);
    cases[n++] = fc;
  }
  /* Raises that cross fuse bytes (the floor is a thermometer code). */
  static const uint32_t kFloor[][3] = {
      {ROT_IMAGE_TYPE_ROT, 7, 9},        {ROT_IMAGE_TYPE_OPENSBI, 15, 17},
      {ROT_IMAGE_TYPE_HYPERVISOR, 100, 130}, {ROT_IMAGE_TYPE_DTB, 0, 33},
      {ROT_IMAGE_TYPE_RECOVERY, 1, 256},
  };
  for (size_t i = 0; i < N(kFloor); i++) {
    fuse_case_t fc = {"floor-burn", "", FOP_FLOOR, kFloor[i][0], kFloor[i][2],
                      1, 1, 0, kFloor[i][0], kFloor[i][1]};
    snprintf(fc.params, sizeof(fc.params), "%s %u->%u",
             rot_image_type_name(kFloor[i][0]), kFloor[i][1], kFloor[i][2]);
    cases[n++] = fc;
  }

  /* The two one-way transitions, each one more lifecycle fuse. */
  cases[n++] = (fuse_case_t){"lifecycle", "dev -> production", FOP_LIFECYCLE,
                             ROT_LIFECYCLE_DEV, ROT_LIFECYCLE_PROD, 1, 1, 0,
                             0, 0};
  cases[n++] = (fuse_case_t){"lifecycle", "production -> decommissioned",
                             FOP_LIFECYCLE, ROT_LIFECYCLE_PROD,
                             ROT_LIFECYCLE_DECOMMISSIONED, 1, 1, 1u << 2,
                             ROT_IMAGE_TYPE_HYPERVISOR, 3};

  pf_sim_t s;
  if (pf_sim_init(&s, 4096u, 4096u) != 0) {
    exit(2);
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (only != NULL && strcmp(only, cases[i].scenario) != 0) {
      continue;
    }
    uint64_t cut = 0, torn = 0, broken = 0;
    double t0 = now_s();
    explore_case(c, &cases[i], quick, &s, &cut, &torn, &broken);
    report(cases[i].scenario, cases[i].params, cut, torn, broken, now_s() - t0);
    total += broken;
  }
  pf_sim_free(&s);
  return total;
}
