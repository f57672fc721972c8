/*
 * Append-only, hash-chained audit log in the audit flash region.
 *
 * Fixed 128-byte records. Each record's chain value is
 * SHA-256(previous chain value || record bytes [0, 64)), so removing,
 * reordering or editing any record breaks every later link. A record is
 * written body first and committed by programming its commit word last;
 * a record cut by power loss stays uncommitted and is skipped (reported
 * as torn), never mistaken for tampering. When the region is full the
 * oldest erase block is erased and the log continues (a ring); the oldest
 * surviving record anchors the chain.
 *
 * Record format 2 gives bytes [32, 36) a meaning: the record's ext word,
 * an event-specific value (ROT_AUDIT_EXT_NONE when the event defines
 * none). Format 1 left them erased, so a format-1 record reads as ext
 * ROT_AUDIT_EXT_NONE and every record ever written still decodes; the
 * chain covers the word either way (it lies in bytes [0, 64)).
 */
#ifndef ROT_AUDIT_H
#define ROT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/gate.h"

#define ROT_AUDIT_RECORD_SIZE 128u
#define ROT_AUDIT_MAGIC 0x4c415452u /* bytes "RTAL" */
#define ROT_AUDIT_COMMITTED 0x00000000u
#define ROT_AUDIT_UNCOMMITTED 0xffffffffu
/* The ext word of a record that carries none (an erased word). */
#define ROT_AUDIT_EXT_NONE 0xffffffffu
/* The ext word of an update record: the window's region in bits 0..7, and
 * whether it was opened and/or closed since the record before. */
#define ROT_AUDIT_WINDOW_REGION_MASK 0xffu
#define ROT_AUDIT_WINDOW_OPENED 0x100u
#define ROT_AUDIT_WINDOW_CLOSED 0x200u

/* Events. Values are persisted; append only. */
typedef enum rot_audit_event {
  ROT_AUDIT_GATE_DENY = 1,      /* arg0 = op, arg1 = region; status = reason */
  ROT_AUDIT_GATE_LOCK = 2,      /* arg1 = region */
  ROT_AUDIT_GATE_WINDOW = 3,    /* arg0 = 1 open / 0 close, arg1 = region */
  ROT_AUDIT_HOST_READ = 4,      /* arg0 = length, arg1 = region */
  /* The three update records carry, in ext, the gate window the engine
   * opened or closed just before them (ROT_AUDIT_WINDOW_*; format 2):
   * the window's own GATE_WINDOW records are folded into them. */
  ROT_AUDIT_UPDATE_BEGIN = 16,  /* arg0 = image type, arg1 = declared size */
  ROT_AUDIT_UPDATE_FINISH = 17, /* arg0 = image type, arg1 = svn; status */
  ROT_AUDIT_UPDATE_ABORT = 18,  /* arg0 = image type; status = reason */
  ROT_AUDIT_ACTIVATE = 19,      /* arg0 = image type, arg1 = slot */
  ROT_AUDIT_CONFIRM = 20,       /* arg0 = image type, arg1 = svn */
  ROT_AUDIT_REVERT = 21,        /* arg0 = image type, arg1 = slot now active */
  ROT_AUDIT_FLOOR_RAISED = 22,  /* arg0 = image type, arg1 = new floor */
  ROT_AUDIT_BOOT = 23,          /* arg0 = image type, arg1 = region booted; status;
                                   ext = bit mask of the regions this decision
                                   locked (format 2; ROT_AUDIT_EXT_NONE in
                                   format 1, where each lock was a GATE_LOCK
                                   record of its own) */
  ROT_AUDIT_TRIAL_EXPIRED = 24, /* arg0 = image type, arg1 = slot reverted from */
  ROT_AUDIT_STATE_REJECTED = 25, /* arg0 = state copy, arg1 = its claimed seq; status = why */
  ROT_AUDIT_FLOOR_REFUSED = 26,  /* arg0 = image type, arg1 = svn asked; status = why */
  ROT_AUDIT_COMMAND_REFUSED = 27, /* arg0 = peer uid, arg1 = command; status = why */
  ROT_AUDIT_RESET = 28,           /* a chip reset on request; arg0 = peer uid */
  ROT_AUDIT_DAEMON_START = 32,
  ROT_AUDIT_PEER_REFUSED = 33,  /* arg0 = peer uid, arg1 = peer pid */
  ROT_AUDIT_CONFIRM_UNTRIED = 34, /* operator override: confirmed with no trial boot;
                                     arg0 = image type, arg1 = svn */
  ROT_AUDIT_LIFECYCLE_REQUEST = 35, /* a transition about to burn its fuse;
                                       arg0 = from, arg1 = to (rot_lifecycle_t) */
  ROT_AUDIT_LIFECYCLE = 36,     /* its outcome; arg0 = from, arg1 = to; status */
} rot_audit_event_t;

/* Persisted record layout. */
typedef struct rot_audit_record {
  uint32_t magic;       /* ROT_AUDIT_MAGIC */
  uint32_t seq;         /* strictly increasing from 1 */
  uint64_t timestamp;   /* seconds, from the platform clock */
  uint32_t event;       /* rot_audit_event_t */
  uint32_t status;      /* rot_error_t of the decision (ROT_OK when allowed) */
  uint32_t arg0;
  uint32_t arg1;
  uint8_t reserved[32]; /* [0, 4): ext word (format 2); the rest 0xff */
  uint8_t chain[32];    /* SHA-256(prev chain || bytes [0, 64)) */
  uint32_t commit;      /* ROT_AUDIT_COMMITTED once complete */
  uint8_t pad[28];      /* 0xff */
} rot_audit_record_t;

_Static_assert(sizeof(rot_audit_record_t) == ROT_AUDIT_RECORD_SIZE, "audit record");
_Static_assert(offsetof(rot_audit_record_t, event) == 16, "event");
_Static_assert(offsetof(rot_audit_record_t, chain) == 64, "chain");
_Static_assert(offsetof(rot_audit_record_t, commit) == 96, "commit");

/**
 * A record's persisted bytes (the layout above, little-endian), and back.
 * The one definition of the layout: the log in flash and the mailbox's
 * AUDIT_READ replies both use it.
 */
void rot_audit_record_encode(const rot_audit_record_t *r,
                             uint8_t out[ROT_AUDIT_RECORD_SIZE]);
void rot_audit_record_decode(const uint8_t in[ROT_AUDIT_RECORD_SIZE],
                             rot_audit_record_t *r);

typedef struct rot_audit {
  rot_gate_t *gate;
  const rot_crypto_t *crypto;
  uint32_t region;      /* ROT_RGN_AUDIT */
  uint32_t next_index;  /* record slot the next append uses */
  uint32_t next_seq;
  uint8_t last_chain[32];
  uint64_t (*now)(void); /* platform clock, may be NULL (timestamp 0) */
  /* Non-zero while the log itself touches flash: a gate event raised by
   * the log's own access must not re-enter rot_audit_append. */
  uint32_t busy;
  /* Non-zero while a boot decision takes its locks: the gate hook adds
   * each lock to `locks` instead of writing a record of its own, and the
   * decision's one BOOT record names them all (rot_audit_locks_take). */
  uint32_t collecting;
  uint32_t locks;
  /* A window opened or closed and not yet recorded (ROT_AUDIT_EXT_NONE:
   * none): the next update record carries it in its ext word; any other
   * record is preceded by its own GATE_WINDOW record(s). One durable
   * append fewer per window change. */
  uint32_t window;
} rot_audit_t;

/**
 * Scan the region and find where the log ends (the committed record with
 * the highest sequence number); torn records are skipped. The region's
 * erase size must be a multiple of the record size. On failure a->gate is
 * left NULL, so the gate hook stays inert.
 */
ROT_WARN_UNUSED rot_error_t rot_audit_init(rot_audit_t *a, rot_gate_t *g,
                                           const rot_crypto_t *c,
                                           uint64_t (*now)(void));

/**
 * Append one record (body, then commit word, then a read-back check).
 * Erases the oldest block when the ring reaches it; never programs a slot
 * that is not erased. A failed append consumes no sequence number unless
 * its commit word reached the flash.
 */
ROT_WARN_UNUSED rot_error_t rot_audit_append(rot_audit_t *a, uint32_t event,
                                             rot_error_t status, uint32_t arg0,
                                             uint32_t arg1);

/** As rot_audit_append, with the record's ext word (format 2). */
ROT_WARN_UNUSED rot_error_t rot_audit_append_ext(rot_audit_t *a,
                                                 uint32_t event,
                                                 rot_error_t status,
                                                 uint32_t arg0, uint32_t arg1,
                                                 uint32_t ext);

/** A record's ext word (ROT_AUDIT_EXT_NONE for a format-1 record). */
uint32_t rot_audit_record_ext(const rot_audit_record_t *r);

/**
 * Start collecting the region locks the gate reports (a may be NULL):
 * until rot_audit_locks_end, a lock is noted, not written, for the boot
 * decision's record to name (one durable record per decision instead of
 * one per region).
 */
void rot_audit_locks_collect(rot_audit_t *a);

/** The locks collected and not yet named by a record, and forget them
 * (0 when none, or a is NULL). */
uint32_t rot_audit_locks_take(rot_audit_t *a);

/** Stop collecting; returns what no record named yet (the caller must
 * record it). */
uint32_t rot_audit_locks_end(rot_audit_t *a);

/* Result of walking the log. */
typedef struct rot_audit_report {
  uint32_t records;   /* committed records that chain correctly */
  uint32_t torn;      /* uncommitted (power-cut) record slots skipped */
  uint32_t first_seq; /* oldest surviving record */
  uint32_t last_seq;
  uint32_t bad_seq;   /* first record whose chain or order breaks, 0 if none */
  rot_error_t verdict; /* ROT_OK, or ROT_ERROR_AUDIT_TAMPERED / _BROKEN */
} rot_audit_report_t;

/* Visitor for each committed record in sequence order; return non-zero to stop. */
typedef int (*rot_audit_visit_fn)(void *ctx, const rot_audit_record_t *r,
                                  rot_error_t link);

/**
 * Walk the log in order, check every link, call visit (may be NULL) for
 * each committed record, and summarise in report. Besides the chain, the
 * newest record is checked against what this instance knows it wrote
 * (a->next_seq, a->last_chain), so a tail cut or rewritten since init is
 * reported too. Returns report->verdict, or the flash error that stopped
 * the walk.
 */
ROT_WARN_UNUSED rot_error_t rot_audit_verify(rot_audit_t *a,
                                             rot_audit_visit_fn visit,
                                             void *ctx,
                                             rot_audit_report_t *report);

/** Gate event hook that records into an audit log (ctx = rot_audit_t *). */
void rot_audit_gate_hook(void *ctx, rot_gate_op_t op, rot_initiator_t who,
                         uint32_t region, rot_error_t verdict);

#endif /* ROT_AUDIT_H */
