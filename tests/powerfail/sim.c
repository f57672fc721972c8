/* In-memory NOR flash and OTP with deterministic power faults. */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

static pf_sim_t *sim_of_flash(const rot_flash_port_t *f) {
  return (pf_sim_t *)f->state;
}

static pf_sim_t *sim_of_otp(const rot_otp_port_t *p) {
  return (pf_sim_t *)p->state;
}

/*
 * Count one operation and decide its fate: 0 = do it whole, 1 = tear it,
 * -1 = it never happens (power already gone, or cut here).
 */
static int next_op(pf_sim_t *s, pf_op_kind_t kind, uint32_t off, uint32_t len,
                   uint32_t bits) {
  if (s->dead) {
    return -1;
  }
  uint32_t n = s->ops++;
  if (s->trace != NULL && n < s->trace_cap) {
    s->trace[n].kind = (uint8_t)kind;
    s->trace[n].off = off;
    s->trace[n].len = len;
    s->trace[n].bits = bits;
  }
  if (s->mode == PF_NONE || n != s->fault_at) {
    return 0;
  }
  s->fired = 1;
  s->dead = 1;
  return s->mode == PF_CUT ? -1 : 1;
}

static rot_error_t flash_read(const rot_flash_port_t *f, uint32_t off,
                              void *buf, uint32_t len) {
  pf_sim_t *s = sim_of_flash(f);
  if (s->dead) {
    return ROT_ERROR_FLASH_POWER_LOSS;
  }
  if (off > f->size || len > f->size - off) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  memcpy(buf, s->mem + off, len);
  return ROT_OK;
}

static rot_error_t flash_program(const rot_flash_port_t *f, uint32_t off,
                                 const void *buf, uint32_t len) {
  pf_sim_t *s = sim_of_flash(f);
  if (off > f->size || len > f->size - off) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  int fate = next_op(s, PF_OP_PROGRAM, off, len, 0);
  if (fate < 0) {
    return ROT_ERROR_FLASH_POWER_LOSS;
  }
  uint32_t n = fate == 1 ? len / 2u : len;
  const uint8_t *b = buf;
  for (uint32_t i = 0; i < n; i++) {
    s->mem[off + i] &= b[i]; /* NOR: programming only clears bits */
  }
  return fate == 1 ? ROT_ERROR_FLASH_POWER_LOSS : ROT_OK;
}

static rot_error_t flash_erase(const rot_flash_port_t *f, uint32_t off) {
  pf_sim_t *s = sim_of_flash(f);
  if (off % f->erase_size != 0) {
    return ROT_ERROR_FLASH_ALIGN;
  }
  if (off > f->size || f->erase_size > f->size - off) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  int fate = next_op(s, PF_OP_ERASE, off, f->erase_size, 0);
  if (fate < 0) {
    return ROT_ERROR_FLASH_POWER_LOSS;
  }
  memset(s->mem + off, 0xff, fate == 1 ? f->erase_size / 2u : f->erase_size);
  return fate == 1 ? ROT_ERROR_FLASH_POWER_LOSS : ROT_OK;
}

static rot_error_t otp_read(const rot_otp_port_t *p, uint32_t off, void *buf,
                            uint32_t len) {
  pf_sim_t *s = sim_of_otp(p);
  if (s->dead) {
    return ROT_ERROR_FLASH_POWER_LOSS;
  }
  if (off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memcpy(buf, s->fuse + off, len);
  return ROT_OK;
}

/* Bits of b not yet set in cur. */
static uint32_t new_bits(const uint8_t *cur, const uint8_t *b, uint32_t len) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < len; i++) {
    n += (uint32_t)__builtin_popcount((unsigned)(b[i] & (uint8_t)~cur[i]));
  }
  return n;
}

/* A fixed mix of a bit's index: the scattered order sorts by it. */
static uint32_t scatter_key(uint32_t idx) {
  uint32_t x = idx * 0x9e3779b9u + 0x7f4a7c15u;
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  return x;
}

/* The position (0 .. total-1) at which new bit idx lands when the bits
 * land in the scattered order: the same order every run. */
static uint32_t scatter_rank(uint32_t idx, uint32_t total) {
  uint32_t k = scatter_key(idx), rank = 0;
  for (uint32_t j = 0; j < total; j++) {
    uint32_t kj = scatter_key(j);
    rank += kj < k || (kj == k && j < idx);
  }
  return rank;
}

/* OR in only `land` of the new bits of b, in the order mode says. */
static void program_some_bits(uint8_t *fuse, const uint8_t *b, uint32_t len,
                              pf_mode_t mode, uint32_t land) {
  uint32_t total = new_bits(fuse, b, len);
  uint32_t idx = 0;
  uint8_t set[ROT_OTP_SIZE];
  memset(set, 0, sizeof(set));
  for (uint32_t i = 0; i < len; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      uint8_t m = (uint8_t)(1u << bit);
      if ((b[i] & m) == 0 || (fuse[i] & m) != 0) {
        continue;
      }
      uint32_t rank = mode == PF_BITS_LOW    ? idx
                      : mode == PF_BITS_HIGH ? total - 1u - idx
                                             : scatter_rank(idx, total);
      if (rank < land) {
        set[i] |= m;
      }
      idx++;
    }
  }
  for (uint32_t i = 0; i < len; i++) {
    fuse[i] |= set[i];
  }
}

static rot_error_t otp_program(const rot_otp_port_t *p, uint32_t off,
                               const void *buf, uint32_t len) {
  pf_sim_t *s = sim_of_otp(p);
  if (off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint8_t *b = buf;
  int fate = next_op(s, PF_OP_OTP, off, len,
                     s->dead ? 0 : new_bits(s->fuse + off, b, len));
  if (fate < 0) {
    return ROT_ERROR_OTP_WRITE_FAILED;
  }
  if (fate == 1 && s->mode >= PF_BITS_LOW) {
    program_some_bits(s->fuse + off, b, len, s->mode, s->fault_bits);
    return ROT_ERROR_OTP_WRITE_FAILED;
  }
  uint32_t n = fate == 1 ? len / 2u : len;
  for (uint32_t i = 0; i < n; i++) {
    s->fuse[off + i] |= b[i]; /* fuses only ever set bits */
  }
  return fate == 1 ? ROT_ERROR_OTP_WRITE_FAILED : ROT_OK;
}

int pf_sim_init(pf_sim_t *s, uint32_t size, uint32_t erase_size) {
  memset(s, 0, sizeof(*s));
  s->mem = malloc(size);
  if (s->mem == NULL) {
    return -1;
  }
  memset(s->mem, 0xff, size);
  s->flash.read = flash_read;
  s->flash.program = flash_program;
  s->flash.erase = flash_erase;
  s->flash.size = size;
  s->flash.erase_size = erase_size;
  s->flash.state = s;
  s->otp.read = otp_read;
  s->otp.program = otp_program;
  s->otp.state = s;
  return 0;
}

void pf_sim_free(pf_sim_t *s) {
  free(s->mem);
  s->mem = NULL;
}

void pf_sim_copy(pf_sim_t *dst, const pf_sim_t *src) {
  memcpy(dst->mem, src->mem, src->flash.size);
  memcpy(dst->fuse, src->fuse, sizeof(dst->fuse));
}

void pf_sim_arm(pf_sim_t *s, pf_mode_t mode, uint32_t fault_at) {
  s->ops = 0;
  s->mode = mode;
  s->fault_at = fault_at;
  s->fault_bits = 0;
  s->dead = 0;
  s->fired = 0;
}

void pf_sim_arm_bits(pf_sim_t *s, pf_mode_t mode, uint32_t fault_at,
                     uint32_t bits) {
  pf_sim_arm(s, mode, fault_at);
  s->fault_bits = bits;
}

void pf_sim_power_on(pf_sim_t *s) {
  s->dead = 0;
  s->mode = PF_NONE;
  s->ops = 0;
}

const char *pf_op_kind_name(uint32_t kind) {
  switch (kind) {
    case PF_OP_PROGRAM:
      return "program";
    case PF_OP_ERASE:
      return "erase";
    case PF_OP_OTP:
      return "otp-program";
    default:
      return "?";
  }
}

const char *pf_mode_name(pf_mode_t mode) {
  switch (mode) {
    case PF_CUT:
      return "cut";
    case PF_TEAR:
      return "tear";
    case PF_BITS_LOW:
      return "bits-low";
    case PF_BITS_HIGH:
      return "bits-high";
    case PF_BITS_SCATTER:
      return "bits-scatter";
    default:
      return "none";
  }
}
