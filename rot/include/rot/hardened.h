/*
 * Hardened booleans and double checks for security decisions.
 *
 * A security decision is never a bare bool: it is a multi-bit value with
 * a large Hamming distance between "true" and "false", and the code that
 * acts on it checks it twice, so a single skipped instruction or flipped
 * bit cannot turn a reject into an accept. On the host the second check
 * traps too (a message, then abort), so tests exercise it and no build
 * setting (-DNDEBUG included) can compile it out; on the chip it stops
 * the core.
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
/**
 * The host port's trap: prints where the check failed, then aborts. Never
 * returns. Supplied by rot/port/host (a chip traps in hardware instead).
 */
__attribute__((noreturn)) void rot_hardened_trap(const char *file, int line);
#define ROT_HARDENED_TRAP_(cond_)              \
  do {                                         \
    if (!(cond_)) {                            \
      rot_hardened_trap(__FILE__, __LINE__);   \
    }                                          \
  } while (0)
#else
#define ROT_HARDENED_TRAP_(cond_) \
  do {                            \
    if (!(cond_)) {               \
      __builtin_trap();           \
    }                             \
  } while (0)
#endif

/*
 * Launder a value through an empty asm the compiler cannot see into, so it
 * can neither prove the second check redundant with the first nor fold
 * the two comparisons into one branch.
 */
static inline uint32_t rot_launder32(uint32_t v) {
  __asm__ volatile("" : "+r"(v));
  return v;
}

/*
 * The first half of a double check: `if (ROT_FIRST_CHECK(err != ROT_OK))
 * return err;`. Test builds (ROT_TEST_HOOKS) can make every first check
 * look passed, to prove that the second check alone stops the effect, as
 * it must when a glitch skips the first.
 */
#if defined(ROT_TEST_HOOKS)
extern volatile int rot_test_skip_first_check;
#define ROT_FIRST_CHECK(cond_) ((cond_) && !rot_test_skip_first_check)
#else
#define ROT_FIRST_CHECK(cond_) (cond_)
#endif

/*
 * The second half of a double check, on integer values. The memory
 * barrier makes it re-read the values, and laundering keeps the compiler
 * from folding the comparison into the first check's.
 */
#define HARDENED_CHECK_EQ(a_, b_)                                     \
  do {                                                                \
    __asm__ volatile("" ::: "memory");                                \
    ROT_HARDENED_TRAP_(rot_launder32((uint32_t)(a_)) ==               \
                       rot_launder32((uint32_t)(b_)));                \
  } while (0)

#define HARDENED_CHECK_NE(a_, b_)                                     \
  do {                                                                \
    __asm__ volatile("" ::: "memory");                                \
    ROT_HARDENED_TRAP_(rot_launder32((uint32_t)(a_)) !=               \
                       rot_launder32((uint32_t)(b_)));                \
  } while (0)

/**
 * Constant-time comparison of two buffers of equal length.
 * Returns HARDENED_TRUE when equal, HARDENED_FALSE otherwise; the time
 * taken depends only on len.
 */
hardened_bool_t rot_ct_equal(const void *a, const void *b, size_t len);

#endif /* ROT_HARDENED_H */
