/* In-memory NOR flash and OTP fakes (see ram_flash.h). */
#include "ram_flash.h"

#include <stdlib.h>
#include <string.h>

#define KIB(x) ((uint32_t)(x) * 1024u)

const rot_flash_layout_t ram_layout_small = {
    .flash_size = KIB(704),
    .erase_size = KIB(4),
    .regions =
        {
            [ROT_RGN_ROT_A] = {"rot-a", 0x00000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_ROT, ROT_SLOT_A},
            [ROT_RGN_ROT_B] = {"rot-b", 0x10000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_ROT, ROT_SLOT_B},
            [ROT_RGN_OPENSBI_A] = {"opensbi-a", 0x20000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_OPENSBI, ROT_SLOT_A},
            [ROT_RGN_OPENSBI_B] = {"opensbi-b", 0x30000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_OPENSBI, ROT_SLOT_B},
            [ROT_RGN_HYPERVISOR_A] = {"hypervisor-a", 0x40000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_HYPERVISOR, ROT_SLOT_A},
            [ROT_RGN_HYPERVISOR_B] = {"hypervisor-b", 0x50000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_HYPERVISOR, ROT_SLOT_B},
            [ROT_RGN_DTB_A] = {"dtb-a", 0x60000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_DTB, ROT_SLOT_A},
            [ROT_RGN_DTB_B] = {"dtb-b", 0x70000, KIB(64), ROT_REGION_SLOT, ROT_IMAGE_TYPE_DTB, ROT_SLOT_B},
            [ROT_RGN_RECOVERY_A] = {"recovery-a", 0x80000, KIB(64), ROT_REGION_RECOVERY, ROT_IMAGE_TYPE_RECOVERY, ROT_SLOT_A},
            [ROT_RGN_RECOVERY_B] = {"recovery-b", 0xa0000, KIB(64), ROT_REGION_RECOVERY, ROT_IMAGE_TYPE_RECOVERY, ROT_SLOT_B},
            [ROT_RGN_NVCFG] = {"nvcfg", 0x90000, KIB(4), ROT_REGION_NVCFG, 0, ROT_SLOT_NONE},
            [ROT_RGN_STATE] = {"state", 0x91000, KIB(8), ROT_REGION_STATE, 0, ROT_SLOT_NONE},
            [ROT_RGN_AUDIT] = {"audit", 0x93000, KIB(16), ROT_REGION_AUDIT, 0, ROT_SLOT_NONE},
        },
};

static ram_flash_t *rf(const rot_flash_port_t *p) { return p->state; }

static int in_bounds(const rot_flash_port_t *p, uint32_t off, uint32_t len) {
  return off <= p->size && len <= p->size - off;
}

/* Count a program or erase and decide its fate. */
static rot_error_t count_op(ram_flash_t *f) {
  if (f->dead) {
    return ROT_ERROR_FLASH_POWER_LOSS; /* nothing runs, nothing counted */
  }
  f->ops++;
  if (f->cut_at != 0 && f->ops == f->cut_at) {
    f->dead = 1;
    return ROT_ERROR_FLASH_POWER_LOSS;
  }
  return f->fail_at != 0 && f->ops == f->fail_at ? ROT_ERROR_FLASH_PROGRAM
                                                 : ROT_OK;
}

static rot_error_t ram_read(const rot_flash_port_t *p, uint32_t off, void *buf,
                            uint32_t len) {
  if (!in_bounds(p, off, len)) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  if (rf(p)->dead) {
    return ROT_ERROR_FLASH_POWER_LOSS;
  }
  memcpy(buf, rf(p)->mem + off, len);
  return ROT_OK;
}

static rot_error_t ram_program(const rot_flash_port_t *p, uint32_t off,
                               const void *buf, uint32_t len) {
  if (!in_bounds(p, off, len)) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  ram_flash_t *f = rf(p);
  int was_dead = f->dead;
  rot_error_t err = count_op(f);
  uint32_t n = len;
  if (err != ROT_OK) {
    /* A failed program writes nothing, but the one the power dies in may
     * land torn. */
    int cut_here = !was_dead && f->dead;
    n = cut_here && f->tear ? len / 2u : 0u;
  }
  const uint8_t *in = buf;
  for (uint32_t i = 0; i < n; i++) {
    f->mem[off + i] &= in[i];
  }
  return err;
}

static rot_error_t ram_erase(const rot_flash_port_t *p, uint32_t off) {
  if (off % p->erase_size != 0) {
    return ROT_ERROR_FLASH_ALIGN;
  }
  if (!in_bounds(p, off, p->erase_size)) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  ROT_TRY(count_op(rf(p)));
  memset(rf(p)->mem + off, 0xff, p->erase_size);
  return ROT_OK;
}

void ram_flash_init(ram_flash_t *f, const rot_flash_layout_t *l) {
  memset(f, 0, sizeof(*f));
  f->mem = malloc(l->flash_size);
  memset(f->mem, 0xff, l->flash_size);
  f->port.read = ram_read;
  f->port.program = ram_program;
  f->port.erase = ram_erase;
  f->port.size = l->flash_size;
  f->port.erase_size = l->erase_size;
  f->port.state = f;
}

void ram_flash_free(ram_flash_t *f) {
  free(f->mem);
  f->mem = NULL;
}

uint8_t *ram_flash_region(ram_flash_t *f, const rot_flash_layout_t *l,
                          uint32_t region) {
  return f->mem + l->regions[region].off;
}

static rot_error_t otp_read(const rot_otp_port_t *p, uint32_t off, void *buf,
                            uint32_t len) {
  ram_otp_t *o = p->state;
  if (off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memcpy(buf, o->mem + off, len);
  return ROT_OK;
}

static rot_error_t otp_program(const rot_otp_port_t *p, uint32_t off,
                               const void *buf, uint32_t len) {
  ram_otp_t *o = p->state;
  if (off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint8_t *in = buf;
  for (uint32_t i = 0; i < len; i++) {
    o->mem[off + i] |= in[i];
  }
  return ROT_OK;
}

void ram_otp_init(ram_otp_t *o) {
  memset(o, 0, sizeof(*o));
  o->port.read = otp_read;
  o->port.program = otp_program;
  o->port.state = o;
}
