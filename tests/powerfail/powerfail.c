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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuses.h"
#include "pf.h"
#include "rot_client/names.h"

static int g_verbose;

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

/*
 * The faults one operation can suffer: cut before it, torn half way, and
 * for an OTP program every partial landing of its new bits, lowest first,
 * highest first and scattered.
 */
static uint32_t faults_at(uint32_t n, const pf_op_t *op, fault_t *out,
                          uint32_t cap) {
  uint32_t k = 0;
  out[k++] = (fault_t){n, PF_CUT, 0, *op};
  out[k++] = (fault_t){n, PF_TEAR, 0, *op};
  if (op->kind != PF_OP_OTP) {
    return k;
  }
  for (pf_mode_t m = PF_BITS_LOW; m <= PF_BITS_SCATTER; m++) {
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
          "  --no-memo  compute every signature check (slow; same verdicts)\n");
}

int main(int argc, char **argv) {
  int quick = 0;
  int memo = 1;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--no-memo") == 0) {
      memo = 0;
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
  pf_fuses_run(g_fx.crypto, quick, only, fuse_report);
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
