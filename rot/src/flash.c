/* The reference partition table and layout checks. */
#include "rot/flash.h"

#include "rot/policy.h"
#include "rot/util.h"

#define KIB(x) ((uint32_t)(x) * 1024u)
#define MIB(x) ((uint32_t)(x) * 1024u * 1024u)

const rot_flash_layout_t rot_flash_layout_default = {
    .flash_size = MIB(128),
    .erase_size = KIB(64),
    .regions =
        {
            [ROT_RGN_ROT_A] = {"rot-a", 0x0000000u, MIB(1), ROT_REGION_SLOT, ROT_IMAGE_TYPE_ROT, ROT_SLOT_A},
            [ROT_RGN_ROT_B] = {"rot-b", 0x0100000u, MIB(1), ROT_REGION_SLOT, ROT_IMAGE_TYPE_ROT, ROT_SLOT_B},
            [ROT_RGN_OPENSBI_A] = {"opensbi-a", 0x0200000u, MIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_OPENSBI, ROT_SLOT_A},
            [ROT_RGN_OPENSBI_B] = {"opensbi-b", 0x0600000u, MIB(4), ROT_REGION_SLOT, ROT_IMAGE_TYPE_OPENSBI, ROT_SLOT_B},
            [ROT_RGN_HYPERVISOR_A] = {"hypervisor-a", 0x0a00000u, MIB(32), ROT_REGION_SLOT, ROT_IMAGE_TYPE_HYPERVISOR, ROT_SLOT_A},
            [ROT_RGN_HYPERVISOR_B] = {"hypervisor-b", 0x2a00000u, MIB(32), ROT_REGION_SLOT, ROT_IMAGE_TYPE_HYPERVISOR, ROT_SLOT_B},
            [ROT_RGN_DTB_A] = {"dtb-a", 0x4a00000u, MIB(1), ROT_REGION_SLOT, ROT_IMAGE_TYPE_DTB, ROT_SLOT_A},
            [ROT_RGN_DTB_B] = {"dtb-b", 0x4b00000u, MIB(1), ROT_REGION_SLOT, ROT_IMAGE_TYPE_DTB, ROT_SLOT_B},
            [ROT_RGN_RECOVERY_A] = {"recovery-a", 0x4c00000u, MIB(16), ROT_REGION_RECOVERY, ROT_IMAGE_TYPE_RECOVERY, ROT_SLOT_A},
            [ROT_RGN_RECOVERY_B] = {"recovery-b", 0x5c00000u, MIB(16), ROT_REGION_RECOVERY, ROT_IMAGE_TYPE_RECOVERY, ROT_SLOT_B},
            [ROT_RGN_NVCFG] = {"nvcfg", 0x6c00000u, KIB(64), ROT_REGION_NVCFG, 0, ROT_SLOT_NONE},
            [ROT_RGN_STATE] = {"state", 0x6c10000u, KIB(128), ROT_REGION_STATE, 0, ROT_SLOT_NONE},
            [ROT_RGN_AUDIT] = {"audit", 0x6c30000u, MIB(1), ROT_REGION_AUDIT, 0, ROT_SLOT_NONE},
        },
};

rot_error_t rot_flash_layout_check(const rot_flash_layout_t *l) {
  if (l == NULL || l->erase_size == 0 ||
      (l->erase_size & (l->erase_size - 1u)) != 0 ||
      l->flash_size % l->erase_size != 0) {
    return ROT_ERROR_FLASH_BAD_LAYOUT;
  }
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    const rot_flash_region_t *r = &l->regions[i];
    if (r->size == 0 || r->off % l->erase_size != 0 ||
        r->size % l->erase_size != 0 || r->off > l->flash_size ||
        r->size > l->flash_size - r->off) {
      return ROT_ERROR_FLASH_BAD_LAYOUT;
    }
    for (uint32_t j = 0; j < i; j++) {
      const rot_flash_region_t *q = &l->regions[j];
      if (r->off < q->off + q->size && q->off < r->off + r->size) {
        return ROT_ERROR_FLASH_BAD_LAYOUT;
      }
    }
    if (rot_flash_region_is_image(r)) {
      if (rot_image_region(r->image_type) == NULL) {
        return ROT_ERROR_FLASH_BAD_LAYOUT;
      }
    }
  }
  /* The state region holds exactly two copies, one erase block each. */
  if (l->regions[ROT_RGN_STATE].kind != ROT_REGION_STATE ||
      l->regions[ROT_RGN_STATE].size != 2u * l->erase_size ||
      l->regions[ROT_RGN_AUDIT].kind != ROT_REGION_AUDIT ||
      l->regions[ROT_RGN_AUDIT].size < 2u * l->erase_size) {
    return ROT_ERROR_FLASH_BAD_LAYOUT;
  }
  return ROT_OK;
}

int rot_flash_slot_region(const rot_flash_layout_t *l, uint32_t image_type,
                          uint32_t slot) {
  if (l == NULL) {
    return -1;
  }
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    const rot_flash_region_t *r = &l->regions[i];
    if (r->image_type == image_type && r->slot == slot &&
        rot_flash_region_is_image(r)) {
      return (int)i;
    }
  }
  return -1;
}

int rot_flash_region_is_image(const rot_flash_region_t *r) {
  return r->kind == ROT_REGION_SLOT || r->kind == ROT_REGION_RECOVERY;
}

