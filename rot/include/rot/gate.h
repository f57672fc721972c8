/*
 * The flash gate: the one choke point for every flash read, program and
 * erase. Each operation names an initiator and a region; the gate applies
 * that region's policy and records every denial (and every state change it
 * makes) through the audit hook.
 *
 * Policy:
 *   slot / recovery   read: host and chip. program/erase: only the update
 *                     engine, only while an update window is open on that
 *                     very region, and never once the region is locked.
 *   nvcfg / state     chip only, read and write.
 *   audit             read: host and chip; write: chip only.
 *   locked            a locked region stays read-only for everyone until
 *                     reset (rot_gate_init); boot regions lock at handoff.
 */
#ifndef ROT_GATE_H
#define ROT_GATE_H

#include <stdint.h>

#include "rot/error.h"
#include "rot/flash.h"
#include "rot/hardened.h"

typedef enum rot_gate_op {
  ROT_GATE_OP_READ = 1,
  ROT_GATE_OP_PROGRAM = 2,
  ROT_GATE_OP_ERASE = 3,
  ROT_GATE_OP_LOCK = 4,
  ROT_GATE_OP_WINDOW = 5,
} rot_gate_op_t;

/* Who asks. Multi-bit values so a flipped bit is not another initiator. */
typedef enum rot_initiator {
  ROT_INIT_HOST = 0x4b1d,   /* anything arriving over the mailbox */
  ROT_INIT_UPDATE = 0x52a7, /* the update engine, inside a window */
  ROT_INIT_CHIP = 0x6c93,   /* the chip's own state and audit code */
} rot_initiator_t;

typedef struct rot_gate rot_gate_t;

/* Called for every denial and every lock / window change; must not fail. */
typedef void (*rot_gate_event_fn)(void *ctx, rot_gate_op_t op,
                                  rot_initiator_t who, uint32_t region,
                                  rot_error_t verdict);

struct rot_gate {
  const rot_flash_port_t *flash;
  const rot_flash_layout_t *layout;
  rot_gate_event_fn on_event;
  void *event_ctx;
  /* Hardened per-region lock state: HARDENED_TRUE when locked. */
  hardened_bool_t locked[ROT_RGN_COUNT];
  /* Region an update window is open on, or ROT_RGN_COUNT for none. */
  uint32_t window;
  hardened_bool_t window_open;
  /* Program and erase operations let through, per region, since init:
   * a reader that verified a region's bytes knows they are unchanged
   * while the count is (the update engine's staged-image token). */
  uint32_t writes[ROT_RGN_COUNT];
};

/** Reset the gate (all unlocked, no window). Checks the layout. */
ROT_WARN_UNUSED rot_error_t rot_gate_init(rot_gate_t *g,
                                          const rot_flash_port_t *flash,
                                          const rot_flash_layout_t *layout,
                                          rot_gate_event_fn on_event,
                                          void *event_ctx);

/* Offsets are relative to the region; off/len are bounds-checked. */
ROT_WARN_UNUSED rot_error_t rot_gate_read(rot_gate_t *g, rot_initiator_t who,
                                          uint32_t region, uint32_t off,
                                          void *buf, uint32_t len);
ROT_WARN_UNUSED rot_error_t rot_gate_program(rot_gate_t *g,
                                             rot_initiator_t who,
                                             uint32_t region, uint32_t off,
                                             const void *buf, uint32_t len);
/** Erase the block at off (aligned) inside region. */
ROT_WARN_UNUSED rot_error_t rot_gate_erase(rot_gate_t *g, rot_initiator_t who,
                                           uint32_t region, uint32_t off);
/** Erase a whole region. */
ROT_WARN_UNUSED rot_error_t rot_gate_erase_region(rot_gate_t *g,
                                                  rot_initiator_t who,
                                                  uint32_t region);

/**
 * Write barrier: everything programmed or erased so far is durable when
 * this returns (no-op for ports whose operations are durable at once).
 */
ROT_WARN_UNUSED rot_error_t rot_gate_sync(rot_gate_t *g);

/** Open the update window on a slot or recovery region (one at a time). */
ROT_WARN_UNUSED rot_error_t rot_gate_open_window(rot_gate_t *g,
                                                 uint32_t region);
/** Close the window (idempotent). */
void rot_gate_close_window(rot_gate_t *g);

/** Lock a region read-only until the next rot_gate_init (reset). */
ROT_WARN_UNUSED rot_error_t rot_gate_lock(rot_gate_t *g, uint32_t region);

/** HARDENED_TRUE when region is locked. */
hardened_bool_t rot_gate_is_locked(const rot_gate_t *g, uint32_t region);

#endif /* ROT_GATE_H */
