/*
 * The flash gate. Every decision is computed once into a hardened value,
 * acted on, and checked a second time just before the flash port is
 * called, so a single glitched branch cannot let a write through.
 */
#include "rot/gate.h"

#include "rot/util.h"

rot_error_t rot_gate_init(rot_gate_t *g, const rot_flash_port_t *flash,
                          const rot_flash_layout_t *layout,
                          rot_gate_event_fn on_event, void *event_ctx) {
  if (g == NULL || flash == NULL || layout == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(rot_flash_layout_check(layout));
  if (layout->flash_size != flash->size ||
      layout->erase_size != flash->erase_size) {
    return ROT_ERROR_FLASH_BAD_LAYOUT;
  }
  g->flash = flash;
  g->layout = layout;
  g->on_event = on_event;
  g->event_ctx = event_ctx;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    g->locked[i] = HARDENED_FALSE;
    g->writes[i] = 0;
  }
  g->window = ROT_RGN_COUNT;
  g->window_open = HARDENED_FALSE;
  return ROT_OK;
}

static void emit(rot_gate_t *g, rot_gate_op_t op, rot_initiator_t who,
                 uint32_t region, rot_error_t verdict) {
  if (g->on_event != NULL) {
    g->on_event(g->event_ctx, op, who, region, verdict);
  }
}

/* The policy table, as one function: may `who` do `op` on `region` now? */
static rot_error_t decide(const rot_gate_t *g, rot_gate_op_t op,
                          rot_initiator_t who, uint32_t region) {
  const rot_flash_region_t *r = &g->layout->regions[region];
  if (who != ROT_INIT_HOST && who != ROT_INIT_UPDATE && who != ROT_INIT_CHIP) {
    return ROT_ERROR_GATE_DENIED;
  }
  if (op == ROT_GATE_OP_READ) {
    if (who == ROT_INIT_HOST &&
        (r->kind == ROT_REGION_NVCFG || r->kind == ROT_REGION_STATE)) {
      return ROT_ERROR_GATE_DENIED; /* chip-private */
    }
    return ROT_OK;
  }
  if (op != ROT_GATE_OP_PROGRAM && op != ROT_GATE_OP_ERASE) {
    return ROT_ERROR_GATE_DENIED;
  }
  if (g->locked[region] != HARDENED_FALSE) {
    return ROT_ERROR_GATE_LOCKED; /* anything but a clean "unlocked" */
  }
  if (rot_flash_region_is_image(r)) {
    if (who != ROT_INIT_UPDATE) {
      return ROT_ERROR_GATE_DENIED;
    }
    if (g->window_open != HARDENED_TRUE || g->window != region) {
      return ROT_ERROR_GATE_NO_WINDOW;
    }
    return ROT_OK;
  }
  /* nvcfg, state, audit: written by the chip's own code only. */
  return who == ROT_INIT_CHIP ? ROT_OK : ROT_ERROR_GATE_DENIED;
}

/* Second look, right before the hardware is touched. */
static void recheck(const rot_gate_t *g, rot_gate_op_t op, rot_initiator_t who,
                    uint32_t region) {
  if (op == ROT_GATE_OP_READ) {
    return;
  }
  const rot_flash_region_t *r = &g->layout->regions[region];
  HARDENED_CHECK_EQ(g->locked[region], HARDENED_FALSE);
  if (rot_flash_region_is_image(r)) {
    HARDENED_CHECK_EQ(who, ROT_INIT_UPDATE);
    HARDENED_CHECK_EQ(g->window_open, HARDENED_TRUE);
    HARDENED_CHECK_EQ(g->window, region);
  } else {
    HARDENED_CHECK_EQ(who, ROT_INIT_CHIP);
  }
}

static rot_error_t check(rot_gate_t *g, rot_gate_op_t op, rot_initiator_t who,
                         uint32_t region, uint32_t off, uint32_t len) {
  if (g == NULL || g->layout == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_error_t verdict = ROT_ERROR_GATE_BAD_REGION;
  if (region < ROT_RGN_COUNT) {
    const rot_flash_region_t *r = &g->layout->regions[region];
    verdict = off > r->size || len > r->size - off
                  ? ROT_ERROR_GATE_BOUNDS
                  : decide(g, op, who, region);
  }
  if (verdict != ROT_OK) { /* every denial is reported, whichever rule */
    emit(g, op, who, region, verdict);
    return verdict;
  }
  recheck(g, op, who, region);
  return ROT_OK;
}

rot_error_t rot_gate_read(rot_gate_t *g, rot_initiator_t who, uint32_t region,
                          uint32_t off, void *buf, uint32_t len) {
  if (buf == NULL && len != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(check(g, ROT_GATE_OP_READ, who, region, off, len));
  if (len == 0) {
    return ROT_OK;
  }
  return g->flash->read(g->flash, g->layout->regions[region].off + off, buf,
                        len);
}

rot_error_t rot_gate_program(rot_gate_t *g, rot_initiator_t who,
                             uint32_t region, uint32_t off, const void *buf,
                             uint32_t len) {
  if (buf == NULL && len != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(check(g, ROT_GATE_OP_PROGRAM, who, region, off, len));
  if (len == 0) {
    return ROT_OK;
  }
  g->writes[region]++; /* counted even if the part fails half way */
  return g->flash->program(g->flash, g->layout->regions[region].off + off, buf,
                           len);
}

rot_error_t rot_gate_erase(rot_gate_t *g, rot_initiator_t who, uint32_t region,
                           uint32_t off) {
  if (g == NULL || g->flash == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (off % g->flash->erase_size != 0) {
    return ROT_ERROR_FLASH_ALIGN;
  }
  ROT_TRY(check(g, ROT_GATE_OP_ERASE, who, region, off, g->flash->erase_size));
  g->writes[region]++;
  return g->flash->erase(g->flash, g->layout->regions[region].off + off);
}

rot_error_t rot_gate_erase_region(rot_gate_t *g, rot_initiator_t who,
                                  uint32_t region) {
  if (g == NULL || g->layout == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (region >= ROT_RGN_COUNT) {
    return ROT_ERROR_GATE_BAD_REGION;
  }
  uint32_t size = g->layout->regions[region].size;
  for (uint32_t off = 0; off < size; off += g->flash->erase_size) {
    ROT_TRY(rot_gate_erase(g, who, region, off));
  }
  return ROT_OK;
}

rot_error_t rot_gate_sync(rot_gate_t *g) {
  if (g == NULL || g->flash == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return g->flash->sync != NULL ? g->flash->sync(g->flash) : ROT_OK;
}

rot_error_t rot_gate_open_window(rot_gate_t *g, uint32_t region) {
  if (g == NULL || g->layout == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_error_t verdict = ROT_OK;
  if (region >= ROT_RGN_COUNT ||
      !rot_flash_region_is_image(&g->layout->regions[region])) {
    verdict = ROT_ERROR_GATE_DENIED;
  } else if (g->locked[region] != HARDENED_FALSE) {
    verdict = ROT_ERROR_GATE_LOCKED;
  }
  if (verdict != ROT_OK) {
    emit(g, ROT_GATE_OP_WINDOW, ROT_INIT_UPDATE, region, verdict);
    return verdict;
  }
  if (g->window_open != HARDENED_FALSE) {
    return ROT_ERROR_UPDATE_BUSY;
  }
  g->window = region;
  g->window_open = HARDENED_TRUE;
  emit(g, ROT_GATE_OP_WINDOW, ROT_INIT_UPDATE, region, ROT_OK);
  return ROT_OK;
}

void rot_gate_close_window(rot_gate_t *g) {
  if (g == NULL || g->window_open == HARDENED_FALSE) {
    return;
  }
  uint32_t region = g->window;
  g->window_open = HARDENED_FALSE;
  g->window = ROT_RGN_COUNT;
  emit(g, ROT_GATE_OP_WINDOW, ROT_INIT_UPDATE, region, ROT_OK);
}

rot_error_t rot_gate_lock(rot_gate_t *g, uint32_t region) {
  if (g == NULL || g->layout == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_error_t verdict = ROT_OK;
  if (region >= ROT_RGN_COUNT) {
    verdict = ROT_ERROR_GATE_BAD_REGION;
  } else if (!rot_flash_region_is_image(&g->layout->regions[region])) {
    /* The chip's own regions: a lock would silence the audit log or stop
     * every state commit until reset. */
    verdict = ROT_ERROR_GATE_NOT_LOCKABLE;
  } else if (g->window_open == HARDENED_TRUE && g->window == region) {
    /* Locking under an open session would strand it half written. */
    verdict = ROT_ERROR_UPDATE_BUSY;
  }
  if (ROT_FIRST_CHECK(verdict != ROT_OK)) {
    emit(g, ROT_GATE_OP_LOCK, ROT_INIT_HOST, region, verdict);
    return verdict;
  }
  HARDENED_CHECK_EQ(region < ROT_RGN_COUNT, 1);
  HARDENED_CHECK_NE(rot_flash_region_is_image(&g->layout->regions[region]), 0);
  if (g->locked[region] == HARDENED_TRUE) {
    return ROT_OK;
  }
  g->locked[region] = HARDENED_TRUE;
  HARDENED_CHECK_EQ(g->locked[region], HARDENED_TRUE);
  emit(g, ROT_GATE_OP_LOCK, ROT_INIT_HOST, region, ROT_OK);
  return ROT_OK;
}

hardened_bool_t rot_gate_is_locked(const rot_gate_t *g, uint32_t region) {
  if (g == NULL || region >= ROT_RGN_COUNT) {
    return HARDENED_TRUE; /* fail closed */
  }
  return g->locked[region] == HARDENED_FALSE ? HARDENED_FALSE : HARDENED_TRUE;
}
