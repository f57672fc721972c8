/*
 * In-memory NOR flash and OTP for unit tests, with a small partition
 * table (4 KiB erase blocks, 64 KiB slots) so whole-region operations are
 * cheap. NOR rules hold: erase -> 0xFF, program ANDs bits in; OTP program
 * ORs. Two faults on demand, counting programs and erases together:
 * fail_at makes operation N alone fail (the part stays usable); cut_at
 * cuts the power at operation N, which never happens (or, with tear, a
 * program lands only the first half of its bytes), and every operation
 * after it, reads included, fails until the test clears dead (a reboot).
 */
#ifndef TEST_RAM_FLASH_H
#define TEST_RAM_FLASH_H

#include <stdint.h>

#include "rot/flash.h"
#include "rot/otp.h"

extern const rot_flash_layout_t ram_layout_small;

typedef struct ram_flash {
  rot_flash_port_t port;
  uint8_t *mem;
  uint32_t ops;     /* programs + erases so far */
  uint32_t fail_at; /* 0: never; N: the Nth program/erase fails */
  uint32_t cut_at;  /* 0: never; N: power is lost at the Nth program/erase */
  int tear;         /* the cut program lands the first half of its bytes */
  int dead;         /* power is gone: every operation fails */
} ram_flash_t;

void ram_flash_init(ram_flash_t *f, const rot_flash_layout_t *l);
void ram_flash_free(ram_flash_t *f);
/* Direct pointer into a region, for tests that play an attacker. */
uint8_t *ram_flash_region(ram_flash_t *f, const rot_flash_layout_t *l,
                          uint32_t region);

typedef struct ram_otp {
  rot_otp_port_t port;
  uint8_t mem[ROT_OTP_SIZE];
} ram_otp_t;

void ram_otp_init(ram_otp_t *o);

#endif
