/*
 * Hardened booleans and double checks for security decisions.
 *
 * A security decision is never a bare bool: it is a multi-bit value with
 * a large Hamming distance between "true" and "false", and the code that
 * acts on it checks it twice, so a single skipped instruction or flipped
 * bit cannot turn a reject into an accept. On the host the second check
 * is an assert() so tests exercise it; on the chip it stops the core.
 */
#ifndef ROT_HARDENED_H
#define ROT_HARDENED_H

#include <stdint.h>
#include <stddef.h>

typedef enum hardened_bool {
  HARDENED_TRUE = 0x739,
  HARDENED_FALSE = 0x1d4,
} hardened_bool_t;

#if defined(ROT_HOSTED)
#include <assert.h>
#define ROT_HARDENED_TRAP_(cond_) assert(cond_)
#else
#define ROT_HARDENED_TRAP_(cond_) \
  do {                            \
    if (!(cond_)) {               \
      __builtin_trap();           \
    }                             \
  } while (0)
#endif

/*
 * The second half of a double check. The compiler barrier makes it re-read
 * the values instead of folding the check into the first one.
 */
#define HARDENED_CHECK_EQ(a_, b_)              \
  do {                                         \
    __asm__ volatile("" ::: "memory");         \
    ROT_HARDENED_TRAP_((a_) == (b_));          \
  } while (0)

#define HARDENED_CHECK_NE(a_, b_)              \
  do {                                         \
    __asm__ volatile("" ::: "memory");         \
    ROT_HARDENED_TRAP_((a_) != (b_));          \
  } while (0)

/**
 * Constant-time comparison of two buffers of equal length.
 * Returns HARDENED_TRUE when equal, HARDENED_FALSE otherwise; the time
 * taken depends only on len.
 */
hardened_bool_t rot_ct_equal(const void *a, const void *b, size_t len);

#endif /* ROT_HARDENED_H */
