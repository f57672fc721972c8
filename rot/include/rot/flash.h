/*
 * Flash port interface and the partition table.
 *
 * NOR semantics: erase sets a whole erase block to 0xFF; program can only
 * clear bits (the result is old & new). All flash access in the core goes
 * through the gate (rot/gate.h), which is the only caller of this port.
 */
#ifndef ROT_FLASH_H
#define ROT_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

typedef struct rot_flash_port rot_flash_port_t;

struct rot_flash_port {
  /** Read len bytes at off. */
  rot_error_t (*read)(const rot_flash_port_t *f, uint32_t off, void *buf,
                      uint32_t len);
  /** Program len bytes at off (bits only clear). */
  rot_error_t (*program)(const rot_flash_port_t *f, uint32_t off,
                         const void *buf, uint32_t len);
  /** Erase the erase block starting at off (off % erase_size == 0). */
  rot_error_t (*erase)(const rot_flash_port_t *f, uint32_t off);
  /**
   * Make every program and erase so far durable (a write barrier). NULL
   * when each operation is durable on return, as on real NOR; a port that
   * buffers (a file) must supply it.
   */
  rot_error_t (*sync)(const rot_flash_port_t *f);
  uint32_t size;       /* bytes */
  uint32_t erase_size; /* bytes, power of two */
  void *state;
};

/* What a region holds; decides its gate policy. */
typedef enum rot_region_kind {
  ROT_REGION_SLOT = 1,     /* A or B slot of an image type */
  ROT_REGION_RECOVERY = 2, /* golden recovery image (A or B) */
  ROT_REGION_NVCFG = 3,    /* chip-private configuration */
  ROT_REGION_STATE = 4,    /* chip-private update state (two copies) */
  ROT_REGION_AUDIT = 5,    /* chip-private audit log (ring) */
} rot_region_kind_t;

#define ROT_SLOT_A 0u
#define ROT_SLOT_B 1u
#define ROT_SLOT_NONE 0xffu

/* Region ids: index into rot_flash_layout_t.regions. */
typedef enum rot_region_id {
  ROT_RGN_ROT_A = 0,
  ROT_RGN_ROT_B,
  ROT_RGN_OPENSBI_A,
  ROT_RGN_OPENSBI_B,
  ROT_RGN_HYPERVISOR_A,
  ROT_RGN_HYPERVISOR_B,
  ROT_RGN_DTB_A,
  ROT_RGN_DTB_B,
  ROT_RGN_RECOVERY_A,
  ROT_RGN_NVCFG,
  ROT_RGN_STATE,
  ROT_RGN_AUDIT,
  /* Appended so the ids above keep their wire values. */
  ROT_RGN_RECOVERY_B,
  ROT_RGN_COUNT
} rot_region_id_t;

typedef struct rot_flash_region {
  const char *name;    /* "opensbi-a" */
  uint32_t off;        /* erase-block aligned */
  uint32_t size;       /* multiple of the erase size */
  uint8_t kind;        /* rot_region_kind_t */
  uint8_t image_type;  /* slot and recovery regions: rot_image_type_t */
  uint8_t slot;        /* ROT_SLOT_A / ROT_SLOT_B / ROT_SLOT_NONE */
} rot_flash_region_t;

typedef struct rot_flash_layout {
  uint32_t flash_size;
  uint32_t erase_size;
  rot_flash_region_t regions[ROT_RGN_COUNT];
} rot_flash_layout_t;

/* The reference layout: 128 MiB NOR, 64 KiB erase blocks (docs/flash-layout.md). */
extern const rot_flash_layout_t rot_flash_layout_default;

/**
 * Check a layout: every region aligned to erase blocks, inside the flash,
 * no overlaps, slot regions paired per type, state region of two blocks.
 */
ROT_WARN_UNUSED rot_error_t rot_flash_layout_check(const rot_flash_layout_t *l);

/**
 * The largest image (header, manifest, payload, signature) a type can
 * hold: the smaller of its two slots, 0 for a type without slots. The one
 * size limit an update and a signing tool apply, derived from the
 * partition table.
 */
uint32_t rot_flash_image_capacity(const rot_flash_layout_t *l,
                                  uint32_t image_type);

/** The region of a type's slot (ROT_SLOT_A/B), or -1 when there is none. */
int rot_flash_slot_region(const rot_flash_layout_t *l, uint32_t image_type,
                          uint32_t slot);

/** 1 for a region that holds a signed image (a slot or a recovery slot). */
int rot_flash_region_is_image(const rot_flash_region_t *r);


#endif /* ROT_FLASH_H */
