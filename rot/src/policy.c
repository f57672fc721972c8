/* Image types, their names and the load region each may occupy. */
#include "rot/policy.h"

#include <stddef.h>

#include "rot/util.h"

/*
 * Regions for the reference platform (QEMU riscv64 virt, RAM at
 * 0x80000000; the chip's own SRAM at 0). Indexed by image type.
 */
static const rot_region_t kRegions[ROT_IMAGE_TYPE_MAX + 1] = {
    [ROT_IMAGE_TYPE_ROT] = {0x00000000u, 0x00100000u, 1},
    [ROT_IMAGE_TYPE_OPENSBI] = {0x80000000u, 0x80200000u, 1},
    [ROT_IMAGE_TYPE_HYPERVISOR] = {0x80200000u, 0x84000000u, 1},
    [ROT_IMAGE_TYPE_DTB] = {0x88000000u, 0x90000000u, 0},
    [ROT_IMAGE_TYPE_RECOVERY] = {0x80200000u, 0x84000000u, 1},
};

const rot_region_t *rot_image_region(uint32_t image_type) {
  if (image_type < ROT_IMAGE_TYPE_MIN || image_type > ROT_IMAGE_TYPE_MAX) {
    return NULL;
  }
  return &kRegions[image_type];
}

