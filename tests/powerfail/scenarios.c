/* The scenarios: which runs, from which start state, with which steps. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf.h"

run_t g_runs[MAX_RUNS];
uint32_t g_nruns;

/* Rows of a run's step table. A row that names no image type (0, which no
 * image type is) acts on the run's type. */
#define DO(k) STEPT(k, 0, 0, 0)
#define DO_IMG(k, i, a) STEPT(k, 0, i, a)
#define REFUSED(k, i, a, e) {(uint8_t)(k), 0, (int8_t)(i), (uint32_t)(a), (e)}
/* The update lifecycle of one image: staged in `chunk`-byte chunks,
 * activated, trial-booted, confirmed, booted again. */
#define UPDATE(i, chunk)                                                  \
  DO_IMG(ST_STAGE, i, chunk), DO(ST_ACTIVATE), DO(ST_BOOT), DO(ST_CONFIRM), \
      DO(ST_BOOT)

static void push_rows(run_t *r, const step_t *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (r->nsteps == MAX_STEPS) {
      die("too many steps", ROT_ERROR_INTERNAL);
    }
    step_t s = rows[i];
    if (s.type == 0) {
      s.type = (uint8_t)r->type;
    }
    r->steps[r->nsteps++] = s;
  }
}

static run_t *vrun(const char *scenario, start_id_t start, uint32_t type,
                   int primary, const step_t *rows, size_t n, const char *fmt,
                   va_list ap) {
  if (g_nruns == MAX_RUNS) {
    die("too many runs", ROT_ERROR_INTERNAL);
  }
  run_t *r = &g_runs[g_nruns++];
  memset(r, 0, sizeof(*r));
  r->scenario = scenario;
  r->start = start;
  r->primary = primary;
  r->type = type;
  vsnprintf(r->params, sizeof(r->params), fmt, ap);
  push_rows(r, rows, n);
  return r;
}

/* One run of `scenario` from `start`: the steps `rows` (n of them) acting
 * on image type `type`; --quick explores its every cut point when
 * `primary`; fmt and what follows name its parameters. */
static run_t *scenario_run(const char *scenario, start_id_t start,
                           uint32_t type, int primary, const step_t *rows,
                           size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  run_t *r = vrun(scenario, start, type, primary, rows, n, fmt, ap);
  va_end(ap);
  return r;
}

static const char *chunk_name(uint32_t chunk, char *buf, size_t n) {
  if (chunk >= WHOLE) {
    snprintf(buf, n, "whole");
  } else {
    snprintf(buf, n, "%u", chunk);
  }
  return buf;
}

void define_runs(void) {
  static const uint32_t chunks[] = {128, 512, 2048, 4096, WHOLE};
  static const int v2[] = {PF_IMG_V2_S, PF_IMG_V2_M, PF_IMG_V2_L};
  static const step_t activate_boot[] = {DO(ST_ACTIVATE), DO(ST_BOOT)};
  static const step_t confirm_boot[] = {DO(ST_CONFIRM), DO(ST_BOOT)};
  static const step_t revert_boot[] = {DO(ST_REVERT), DO(ST_BOOT)};
  static const step_t two_boots[] = {DO(ST_BOOT), DO(ST_BOOT)};
  /* Every trial boot, then the expiry and the boot after it. */
  step_t boots[ROT_TRIAL_ATTEMPTS + 2u];
  for (size_t b = 0; b < N(boots); b++) {
    boots[b] = (step_t)DO(ST_BOOT);
  }
  const uint32_t rot = ROT_IMAGE_TYPE_ROT;
  const uint32_t rec = ROT_IMAGE_TYPE_RECOVERY;
  char cb[16];
  run_t *r;

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
        const step_t stage[] = {DO_IMG(ST_STAGE, v2[i], chunks[c])};
        scenario_run("stage", start, HV,
                     start == S_BASE && v2[i] == PF_IMG_V2_M && chunks[c] == 512,
                     stage, N(stage), "%s chunk=%s from=%s", im->name,
                     chunk_name(chunks[c], cb, sizeof(cb)), g_start[start].name);
      }
    }
  }

  /* activate, then the first trial boot. */
  static const start_id_t staged[] = {S_STAGED_V2, S_STAGED_V3, S_STAGED_V1B};
  for (size_t i = 0; i < N(staged); i++) {
    scenario_run("activate", staged[i], HV, i == 0, activate_boot,
                 N(activate_boot), "from=%s", g_start[staged[i]].name);
  }

  /* trial boot: every attempt, expiry and the automatic revert. */
  static const start_id_t pending[] = {S_PENDING_V2, S_PENDING_V3, S_BADTRIAL};
  for (size_t i = 0; i < N(pending); i++) {
    scenario_run("trial-boot", pending[i], HV, i == 0, boots, N(boots),
                 "from=%s boots=%u", g_start[pending[i]].name,
                 ROT_TRIAL_ATTEMPTS + 2u);
  }

  /* confirm: the two-phase floor raise (1 -> 2, 1 -> 3, none for v1b). */
  static const start_id_t trials[] = {S_TRIAL_V2, S_TRIAL_V3, S_TRIAL_V1B};
  for (size_t i = 0; i < N(trials); i++) {
    scenario_run("confirm", trials[i], HV, i == 0, confirm_boot,
                 N(confirm_boot), "from=%s", g_start[trials[i]].name);
  }
  /* Not before a trial boot: refused, nothing moves; then boot, confirm. */
  static const step_t untried[] = {
      REFUSED(ST_CONFIRM, 0, 0, ROT_ERROR_UPDATE_NOT_TRIED), DO(ST_BOOT),
      DO(ST_CONFIRM), DO(ST_BOOT)};
  scenario_run("confirm", S_PENDING_V2, HV, 0, untried, N(untried),
               "untried from=%s", g_start[S_PENDING_V2].name);

  /* revert: cancel a trial; go back to the other slot; refused below floor. */
  static const start_id_t cancel[] = {S_PENDING_V2, S_TRIAL_V3};
  for (size_t i = 0; i < N(cancel); i++) {
    scenario_run("revert", cancel[i], HV, i == 0, revert_boot, N(revert_boot),
                 "cancel from=%s", g_start[cancel[i]].name);
  }
  static const step_t to_other[] = {DO(ST_REVERT_OTHER), DO(ST_BOOT)};
  scenario_run("revert", S_OTHER, HV, 0, to_other, N(to_other),
               "to-other from=%s", g_start[S_OTHER].name);
  static const step_t below_floor[] = {
      REFUSED(ST_REVERT_OTHER, 0, 0, ROT_ERROR_UPDATE_REVERT_BELOW_FLOOR),
      DO(ST_BOOT)};
  scenario_run("revert", S_CONFIRMED_V2, HV, 0, below_floor, N(below_floor),
               "below-floor from=%s", g_start[S_CONFIRMED_V2].name);

  /* recovery: both slots bad; the way out of it; updating the golden image. */
  static const start_id_t dead[] = {S_DEAD, S_DEAD_TRIAL};
  for (size_t i = 0; i < N(dead); i++) {
    scenario_run("recovery", dead[i], HV, 0, two_boots, N(two_boots),
                 "boot from=%s", g_start[dead[i]].name);
  }
  static const uint32_t rchunks[] = {256, 1024, 4096, WHOLE};
  for (size_t c = 0; c < N(rchunks); c++) {
    const step_t restore[] = {DO(ST_BOOT), UPDATE(PF_IMG_V2_M, rchunks[c])};
    scenario_run("recovery", S_DEAD, HV, rchunks[c] == 1024, restore,
                 N(restore), "restore v2-9k chunk=%s from=%s",
                 chunk_name(rchunks[c], cb, sizeof(cb)), g_start[S_DEAD].name);
  }
  for (size_t c = 0; c < N(rchunks); c++) {
    const step_t golden[] = {DO_IMG(ST_STAGE, PF_IMG_REC2, rchunks[c]),
                             DO(ST_BOOT)};
    scenario_run("recovery", S_BASE, HV, 0, golden, N(golden),
                 "update rec2 chunk=%s from=%s",
                 chunk_name(rchunks[c], cb, sizeof(cb)), g_start[S_BASE].name);
  }

  /* audit append: across a block boundary, the ring wrap, a second wrap. */
  static const start_id_t logs[] = {S_AUDIT_LOW, S_AUDIT_WRAP, S_AUDIT_WRAP2};
  static const step_t append[] = {DO_IMG(ST_AUDIT, 0, 40), DO(ST_BOOT)};
  for (size_t i = 0; i < N(logs); i++) {
    scenario_run("audit", logs[i], HV, i == 1, append, N(append),
                 "append=40 from=%s", g_start[logs[i]].name);
  }

  /* the first install on a factory-fresh device (recovery only). */
  static const uint32_t ichunks[] = {512, 4096};
  for (size_t c = 0; c < N(ichunks); c++) {
    const step_t install[] = {UPDATE(PF_IMG_V1, ichunks[c])};
    scenario_run("install", S_FRESH, HV, c == 0, install, N(install),
                 "v1 chunk=%u from=%s", ichunks[c], g_start[S_FRESH].name);
  }

  /* confirm, second phase: the floor raise a durable confirm still owes. */
  scenario_run("confirm", S_FLOOR_OWED, HV, 0, two_boots, N(two_boots),
               "finish-floor from=%s", g_start[S_FLOOR_OWED].name);

  /* A second fault while the device recovers from the first one. */
  static const step_t confirm[] = {DO(ST_CONFIRM)};
  static const step_t boot[] = {DO(ST_BOOT)};
  static const step_t revert_other[] = {DO(ST_REVERT_OTHER)};
  static const step_t stage_small[] = {DO_IMG(ST_STAGE, PF_IMG_V2_S, 512)};
  scenario_run("double-fault", S_TRIAL_V2, HV, 0, confirm, N(confirm),
               "confirm from=%s", g_start[S_TRIAL_V2].name);
  scenario_run("double-fault", S_TRIAL_V3, HV, 1, confirm_boot,
               N(confirm_boot), "confirm+boot from=%s",
               g_start[S_TRIAL_V3].name);
  scenario_run("double-fault", S_FLOOR_OWED, HV, 0, boot, N(boot),
               "finish-floor from=%s", g_start[S_FLOOR_OWED].name);
  scenario_run("double-fault", S_STAGED_V2, HV, 0, activate_boot,
               N(activate_boot), "activate+boot from=%s",
               g_start[S_STAGED_V2].name);
  scenario_run("double-fault", S_PENDING_V2, HV, 0, revert_boot,
               N(revert_boot), "revert+boot from=%s",
               g_start[S_PENDING_V2].name);
  scenario_run("double-fault", S_OTHER, HV, 0, revert_other, N(revert_other),
               "revert-other from=%s", g_start[S_OTHER].name);
  scenario_run("double-fault", S_PENDING_V3, HV, 0, boots, ROT_TRIAL_ATTEMPTS + 1u,
               "trial-boot boots=%u from=%s", ROT_TRIAL_ATTEMPTS + 1u,
               g_start[S_PENDING_V3].name);
  scenario_run("double-fault", S_STALE, HV, 0, stage_small, N(stage_small),
               "stage v2-2k chunk=512 from=%s", g_start[S_STALE].name);
  scenario_run("double-fault", S_DEAD_TRIAL, HV, 0, two_boots, N(two_boots),
               "recovery boot from=%s", g_start[S_DEAD_TRIAL].name);
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
      const step_t update[] = {UPDATE(img, 512)};
      scenario_run("types", from, g_fx.img[img].type,
                   up && hi[i] == PF_IMG_DTB130, update, N(update),
                   "%s chunk=512 from=%s", g_fx.img[img].name,
                   g_start[from].name);
    }
  }
  static const step_t rot_cancel[] = {DO_IMG(ST_STAGE, PF_IMG_ROT9, 4096),
                                      DO(ST_ACTIVATE), DO(ST_BOOT),
                                      DO(ST_REVERT), DO(ST_BOOT)};
  scenario_run("types", S_TYPES, rot, 0, rot_cancel, N(rot_cancel),
               "rot9 then revert-cancel from=%s", g_start[S_TYPES].name);

  /* The chip's own firmware, as an operator updates it (the chip's ROM
   * stage takes the boot decision of type rot at every reset): staged in
   * several chunk sizes, trial-booted, confirmed; a tampered image and an
   * abandoned session never disturb the confirmed one. */
  static const uint32_t rotchunks[] = {256, 4096, WHOLE};
  for (size_t c = 0; c < N(rotchunks); c++) {
    const step_t update[] = {UPDATE(PF_IMG_ROT9, rotchunks[c])};
    scenario_run("rot-fw", S_TYPES, rot, rotchunks[c] == 256, update,
                 N(update), "rot9 chunk=%s from=%s",
                 chunk_name(rotchunks[c], cb, sizeof(cb)),
                 g_start[S_TYPES].name);
  }
  static const step_t rot_tampered[] = {
      REFUSED(ST_STAGE_TAMPERED, PF_IMG_ROT9, 1024,
              ROT_ERROR_IMAGE_DIGEST_MISMATCH),
      DO(ST_BOOT)};
  scenario_run("rot-fw", S_TYPES, rot, 0, rot_tampered, N(rot_tampered),
               "tampered rot9 from=%s", g_start[S_TYPES].name);
  static const step_t rot_abort[] = {DO_IMG(ST_BEGIN_ABORT, PF_IMG_ROT9, 3000),
                                     DO(ST_BOOT)};
  scenario_run("rot-fw", S_TYPES, rot, 0, rot_abort, N(rot_abort),
               "begin+abort rot9 from=%s", g_start[S_TYPES].name);

  /* The golden image's own A/B update: a refused (tampered) update and a
   * BEGIN + ABORT never touch the confirmed golden image; a full update,
   * cut anywhere, always leaves one that boots. From rec-dead every
   * hypervisor boot rests on it. */
  static const start_id_t rstarts[] = {S_REC_CONFIRMED, S_REC_DEAD, S_DEAD};
  static const step_t rec_tampered[] = {
      REFUSED(ST_STAGE_TAMPERED, PF_IMG_REC2, 1024,
              ROT_ERROR_IMAGE_DIGEST_MISMATCH),
      STEPT(ST_BOOT, HV, 0, 0)};
  static const step_t rec_abort[] = {DO_IMG(ST_BEGIN_ABORT, PF_IMG_REC2, 5000),
                                     STEPT(ST_BOOT, HV, 0, 0)};
  for (size_t i = 0; i < N(rstarts); i++) {
    const char *from = g_start[rstarts[i]].name;
    scenario_run("recovery-ab", rstarts[i], rec, 0, rec_tampered,
                 N(rec_tampered), "tampered rec2 from=%s", from);
    scenario_run("recovery-ab", rstarts[i], rec, 0, rec_abort, N(rec_abort),
                 "begin+abort rec2 from=%s", from);
    for (int c = 0; c < 2; c++) {
      uint32_t chunk = c == 0 ? 1024u : 4096u;
      const step_t update[] = {UPDATE(PF_IMG_REC2, chunk)};
      scenario_run("recovery-ab", rstarts[i], rec,
                   rstarts[i] == S_REC_DEAD && c == 0, update, N(update),
                   "update rec2 chunk=%u from=%s", chunk, from);
    }
  }

  /* A second fault after each first one, where the floor raise spans
   * fuse bytes (its first faults include every partial bit landing). */
  r = scenario_run("double-fault", S_TRIAL_DTB130, ROT_IMAGE_TYPE_DTB, 0,
                   confirm_boot, N(confirm_boot), "confirm+boot from=%s",
                   g_start[S_TRIAL_DTB130].name);
  r->dbl = 1;

  /* Up to five faults in a row: one in the run, then one in each
   * power-on that tries to recover from the previous. */
  scenario_run("multi-fault", S_TRIAL_V3, HV, 0, confirm_boot,
               N(confirm_boot), "confirm+boot from=%s",
               g_start[S_TRIAL_V3].name);
  scenario_run("multi-fault", S_TRIAL_DTB130, ROT_IMAGE_TYPE_DTB, 0,
               confirm_boot, N(confirm_boot), "confirm+boot from=%s",
               g_start[S_TRIAL_DTB130].name);
  scenario_run("multi-fault", S_STALE, HV, 0, stage_small, N(stage_small),
               "stage v2-2k chunk=512 from=%s", g_start[S_STALE].name);
  scenario_run("multi-fault", S_PENDING_V3, HV, 0, boots, ROT_TRIAL_ATTEMPTS + 1u,
               "trial-boot boots=%u from=%s", ROT_TRIAL_ATTEMPTS + 1u,
               g_start[S_PENDING_V3].name);
  static const step_t rot_update[] = {UPDATE(PF_IMG_ROT9, 1024)};
  scenario_run("multi-fault", S_TYPES, rot, 0, rot_update, N(rot_update),
               "rot9 end-to-end chunk=1024 from=%s", g_start[S_TYPES].name);
  static const step_t rec_update[] = {UPDATE(PF_IMG_REC2, 4096)};
  scenario_run("multi-fault", S_REC_DEAD, rec, 0, rec_update, N(rec_update),
               "update rec2 chunk=4096 from=%s", g_start[S_REC_DEAD].name);
  static const step_t rec_begin_abort[] = {
      DO_IMG(ST_BEGIN_ABORT, PF_IMG_REC2, 5000)};
  scenario_run("multi-fault", S_REC_CONFIRMED, rec, 0, rec_begin_abort,
               N(rec_begin_abort), "begin+abort rec2 from=%s",
               g_start[S_REC_CONFIRMED].name);
  for (uint32_t i = 0; i < g_nruns; i++) {
    g_runs[i].chain = strcmp(g_runs[i].scenario, "multi-fault") == 0;
  }

  /* end to end: v1 -> v2 -> v3, each staged, activated, trial-booted,
   * confirmed (two floor raises) and booted. */
  static const uint32_t echunks[] = {256, 1024, 4096};
  static const int ev2[] = {PF_IMG_V2_S, PF_IMG_V2_M};
  for (size_t i = 0; i < N(ev2); i++) {
    for (size_t c = 0; c < N(echunks); c++) {
      const step_t both[] = {UPDATE(ev2[i], echunks[c]),
                             UPDATE(PF_IMG_V3, echunks[c])};
      scenario_run("end-to-end", S_BASE, HV, i == 1 && echunks[c] == 1024,
                   both, N(both), "%s,v3 chunk=%u from=%s",
                   g_fx.img[ev2[i]].name, echunks[c], g_start[S_BASE].name);
    }
  }
  /* ... and once more with the audit ring wrapping in the middle of it. */
  static const step_t wrap[] = {UPDATE(PF_IMG_V2_M, 1024),
                                UPDATE(PF_IMG_V3, 1024)};
  scenario_run("end-to-end", S_AUDIT_WRAP, HV, 0, wrap, N(wrap),
               "v2-9k,v3 chunk=1024 from=%s", g_start[S_AUDIT_WRAP].name);

  /* A trial's attempt is spent durably before its boot; a power cut after
   * that leaves the count spent with nothing booted. Confirm then waits
   * for a trial boot after the restart. */
  static const step_t trial_cut[] = {
      DO(ST_BOOT), DO(ST_RESTART),
      REFUSED(ST_CONFIRM, 0, 0, ROT_ERROR_UPDATE_NOT_TRIED), DO(ST_BOOT),
      DO(ST_CONFIRM), DO(ST_BOOT)};
  scenario_run("trial-cut", S_PENDING_V2, HV, 0, trial_cut, N(trial_cut),
               "boot,restart,confirm from=%s", g_start[S_PENDING_V2].name);
}
