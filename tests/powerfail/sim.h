/*
 * Simulated NOR flash and OTP for the power-fail simulator.
 *
 * Both live in memory and share one operation counter: every flash
 * program, flash erase and OTP program is one operation, numbered from 0
 * after pf_sim_arm. A fault hits exactly one operation:
 *
 *   PF_CUT    the operation does not happen; power is gone.
 *   PF_TEAR   a prefix (half) of the operation lands, then power is gone:
 *             a program clears the bits of its first len/2 bytes, an erase
 *             sets the first half of its block to 0xFF, an OTP program
 *             ORs in its first len/2 bytes.
 *   PF_BITS_LOW, PF_BITS_HIGH, PF_BITS_SCATTER
 *             an OTP program lands only `bits` of the bits it would newly
 *             set, then power is gone: the lowest ones first (a bit-serial
 *             programmer walking up from the lowest address), the highest
 *             first, or in a fixed scattered order (a macro that programs
 *             a word's bits in parallel and browns out). On a flash
 *             operation these modes act as PF_TEAR.
 *
 * Once power is gone every later access fails (the chip has stopped) until
 * pf_sim_power_on, which keeps the memory: that is the reboot.
 */
#ifndef PF_SIM_H
#define PF_SIM_H

#include <stdint.h>

#include "rot/flash.h"
#include "rot/otp.h"

typedef enum pf_mode {
  PF_NONE = 0,
  PF_CUT = 1,
  PF_TEAR = 2,
  PF_BITS_LOW = 3,
  PF_BITS_HIGH = 4,
  PF_BITS_SCATTER = 5,
} pf_mode_t;

typedef enum pf_op_kind {
  PF_OP_PROGRAM = 1,
  PF_OP_ERASE = 2,
  PF_OP_OTP = 3,
} pf_op_kind_t;

/* One recorded operation (the dry run keeps a trace of them). */
typedef struct pf_op {
  uint8_t kind; /* pf_op_kind_t */
  uint32_t off; /* absolute flash offset, or OTP offset */
  uint32_t len;
  uint32_t bits; /* OTP program: bits it would newly set; 0 for flash */
} pf_op_t;

typedef struct pf_sim {
  rot_flash_port_t flash;
  rot_otp_port_t otp;
  uint8_t *mem;
  uint8_t fuse[ROT_OTP_SIZE];
  /* Operations attempted since the last arm (or power on). */
  uint32_t ops;
  /* Fault: which operation, and how. */
  uint32_t fault_at;
  pf_mode_t mode;
  uint32_t fault_bits; /* PF_BITS_*: how many new bits land */
  int dead;
  int fired;
  /* Optional trace of every operation (dry run); NULL when not wanted. */
  pf_op_t *trace;
  uint32_t trace_cap;
} pf_sim_t;

/** Create an erased flash of size bytes (erase_size blocks) and blank OTP. */
int pf_sim_init(pf_sim_t *s, uint32_t size, uint32_t erase_size);
void pf_sim_free(pf_sim_t *s);

/** Restore flash and OTP contents from another simulator of the same size. */
void pf_sim_copy(pf_sim_t *dst, const pf_sim_t *src);

/** Reset the counter; the fault (mode PF_NONE for none) hits op fault_at. */
void pf_sim_arm(pf_sim_t *s, pf_mode_t mode, uint32_t fault_at);

/** As pf_sim_arm for a PF_BITS_* fault landing `bits` new bits. */
void pf_sim_arm_bits(pf_sim_t *s, pf_mode_t mode, uint32_t fault_at,
                     uint32_t bits);

/** Power back on: the memory stays, the fault is gone, counting restarts. */
void pf_sim_power_on(pf_sim_t *s);

const char *pf_op_kind_name(uint32_t kind);
const char *pf_mode_name(pf_mode_t mode);

#endif /* PF_SIM_H */
