/*
 * The small flash the audit fuzzer (fuzz_audit.c) and its seed generator
 * (gen_state_corpus.c) share. Byte 0 of an input picks the geometry, so
 * the fuzzer walks the batched reads and the ring over several shapes:
 * erase blocks of 128 to 1024 bytes (1 to 8 records), an audit region of
 * 2 to 5 blocks. The other regions are one block each (state: two), in
 * the order and with the kinds of the unit tests' small layout.
 */
#ifndef FUZZ_AUDIT_LAYOUT_H
#define FUZZ_AUDIT_LAYOUT_H

#include <stdint.h>

#include "ram_flash.h"
#include "rot/flash.h"

static inline void fuzz_audit_layout(uint8_t shape, rot_flash_layout_t *l) {
  uint32_t erase = 128u << (shape & 3u);
  uint32_t audit_blocks = 2u + ((shape >> 2) & 3u);
  *l = ram_layout_small;
  l->erase_size = erase;
  uint32_t off = 0;
  for (uint32_t i = 0; i < ROT_RGN_COUNT; i++) {
    uint32_t blocks = i == ROT_RGN_STATE   ? 2u
                      : i == ROT_RGN_AUDIT ? audit_blocks
                                           : 1u;
    l->regions[i].off = off;
    l->regions[i].size = blocks * erase;
    off += blocks * erase;
  }
  l->flash_size = off;
}

#endif
