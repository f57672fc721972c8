/*
 * What the parts of the power-fail simulator share: the simulated device,
 * the model of what the history of a run allows, steps, start states,
 * runs, faults and the invariant checks (powerfail.c has their list).
 *
 *   model.c      the device, the model, the steps, the start states
 *   scenarios.c  the runs each scenario explores
 *   check.c      the invariants
 *   powerfail.c  replay, exploration of the cut points, main
 *   fuses.c      the OTP writes outside an update (fuses.h)
 */
#ifndef PF_PF_H
#define PF_PF_H

#include <stdint.h>

#include "fixture.h"
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
#define PF_NTYPES 5u

extern pf_fixture_t g_fx;
extern pf_sim_t g_sim; /* the device every replay runs on */

/* ---- the device -------------------------------------------------------- */

typedef struct pf_dev {
  pf_sim_t *sim;
  rot_gate_t gate;
  rot_audit_t audit;
  rot_update_t upd;
} pf_dev_t;

/* Power-on of the chip: gate, audit log, update engine, as rotd does. */
rot_error_t dev_boot(pf_dev_t *d);
/* The region of a type's slot. */
uint32_t type_region(uint32_t type, int slot);
const char *slot_name(int slot);

/* The image types with a slot pair, in the order the checks visit them. */
extern const uint32_t kTypes[PF_NTYPES];

/* Which known image sits at the start of a region (exact bytes), or -1. */
int region_image(const pf_sim_t *s, uint32_t region);
const char *img_name(int k);
/* The checker's own verification of known image k under today's fuses. */
rot_error_t verify_known(const pf_sim_t *s, int k);

/* ---- what the history allows ---------------------------------------- */

/* An image in one of a type's slots. */
typedef struct ref {
  int slot; /* NO_SLOT: none */
  int img;  /* pf_image_id_t, -1 when unknown or damaged */
} ref_t;

extern const ref_t kNoRef;

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

static inline uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }

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
  ST_RESTART,         /* power cycle, no boot decision */
} step_kind_t;

typedef struct step {
  uint8_t kind;
  uint8_t type; /* the image type the step acts on */
  int8_t img;
  uint32_t arg;
  rot_error_t expect;
} step_t;

const char *step_name(uint32_t kind);
/* The boot decision, counted against a pending trial. */
rot_error_t decide(pf_dev_t *d, model_t *m, uint32_t type,
                   rot_boot_decision_t *dec);
/* Run one step; retry = 1 when it is retried after a reboot. */
rot_error_t exec_step(pf_dev_t *d, model_t *m, const step_t *s, int retry);

#define STEPT(k, t, i, a) \
  {(uint8_t)(k), (uint8_t)(t), (int8_t)(i), (uint32_t)(a), ROT_OK}
#define STEP(k, i, a) STEPT(k, HV, i, a)
#define WHOLE 65536u

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

extern start_t g_start[S_COUNT];

/* Set-up failed: say what and exit 2. */
void die(const char *what, rot_error_t err);
/* Build every start state (fault-free, or cut where a state needs it). */
void prepare_all(void);

/* ---- runs ------------------------------------------------------------- */

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
extern run_t g_runs[MAX_RUNS];
extern uint32_t g_nruns;

/* Define every run of every scenario (after prepare_all). */
void define_runs(void);

/* ---- faults and checks ---------------------------------------------- */

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

/* Violation lines printed so far (only the first MAX_PRINTED appear). */
extern uint64_t g_printed;

/* Record a broken invariant at a cut point, and print it. */
__attribute__((format(printf, 3, 4))) void violation(cut_t *c, const char *inv,
                                                     const char *fmt, ...);
void check_boot(cut_t *c, pf_dev_t *d, model_t *m, uint32_t type);
void check_confirmed(cut_t *c, pf_dev_t *d, const model_t *m, uint32_t type);
void check_floors(cut_t *c, pf_dev_t *d, const model_t *m,
                  const rot_policy_t *start);
void check_fuses_torn(cut_t *c, const pf_sim_t *s, const model_t *m);
void check_audit(cut_t *c, pf_dev_t *d, const model_t *m);

/* What a run ends with: compared between the dry run and every resume. */
typedef struct outcome {
  int active_img[ROT_IMAGE_TYPE_SLOTS];
  int pending[ROT_IMAGE_TYPE_SLOTS];
  uint32_t floor[ROT_IMAGE_TYPE_SLOTS];
  int rec_img[2];
} outcome_t;

outcome_t outcome_of(pf_dev_t *d);
/* Name the first difference between two outcomes; 0 when equal. */
int outcome_diff(const outcome_t *a, const outcome_t *b, char *buf, size_t n);

#endif /* PF_PF_H */
