/* The scenarios: which runs, from which start state, with which steps. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf.h"

run_t g_runs[MAX_RUNS];
uint32_t g_nruns;

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

void define_runs(void) {
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
  static const start_id_t trials[] = {S_TRIAL_V2, S_TRIAL_V3, S_TRIAL_V1B};
  for (size_t i = 0; i < N(trials); i++) {
    run_t *r = add_run("confirm", trials[i], i == 0, "from=%s",
                       g_start[trials[i]].name);
    push(r, ST_CONFIRM, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }
  /* Not before a trial boot: refused, nothing moves; then boot, confirm. */
  {
    run_t *r = add_run("confirm", S_PENDING_V2, 0, "untried from=%s",
                       g_start[S_PENDING_V2].name);
    push(r, ST_CONFIRM, 0, 0, ROT_ERROR_UPDATE_NOT_TRIED);
    push(r, ST_BOOT, 0, 0, ROT_OK);
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

  /* The chip's own firmware, as an operator updates it (the chip's ROM
   * stage takes the boot decision of type rot at every reset): staged in
   * several chunk sizes, trial-booted, confirmed; a tampered image and an
   * abandoned session never disturb the confirmed one. */
  static const uint32_t rotchunks[] = {256, 4096, WHOLE};
  for (size_t c = 0; c < N(rotchunks); c++) {
    r = add_run("rot-fw", S_TYPES, rotchunks[c] == 256, "rot9 chunk=%s from=%s",
                chunk_name(rotchunks[c], cb, sizeof(cb)), g_start[S_TYPES].name);
    r->type = ROT_IMAGE_TYPE_ROT;
    push(r, ST_STAGE, PF_IMG_ROT9, rotchunks[c], ROT_OK);
    push(r, ST_ACTIVATE, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
    push(r, ST_CONFIRM, 0, 0, ROT_OK);
    push(r, ST_BOOT, 0, 0, ROT_OK);
  }
  r = add_run("rot-fw", S_TYPES, 0, "tampered rot9 from=%s", g_start[S_TYPES].name);
  r->type = ROT_IMAGE_TYPE_ROT;
  push(r, ST_STAGE_TAMPERED, PF_IMG_ROT9, 1024, ROT_ERROR_IMAGE_DIGEST_MISMATCH);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  r = add_run("rot-fw", S_TYPES, 0, "begin+abort rot9 from=%s", g_start[S_TYPES].name);
  r->type = ROT_IMAGE_TYPE_ROT;
  push(r, ST_BEGIN_ABORT, PF_IMG_ROT9, 3000, ROT_OK);
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

  /* A trial's attempt is spent durably before its boot; a power cut after
   * that leaves the count spent with nothing booted. Confirm then waits
   * for a trial boot after the restart. */
  r = add_run("trial-cut", S_PENDING_V2, 0, "boot,restart,confirm from=%s",
              g_start[S_PENDING_V2].name);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_RESTART, 0, 0, ROT_OK);
  push(r, ST_CONFIRM, 0, 0, ROT_ERROR_UPDATE_NOT_TRIED);
  push(r, ST_BOOT, 0, 0, ROT_OK);
  push(r, ST_CONFIRM, 0, 0, ROT_OK);
  push(r, ST_BOOT, 0, 0, ROT_OK);
}

