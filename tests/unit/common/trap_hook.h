/*
 * Prove that the second half of a double check stops an effect on its own:
 * EXPECT_TRAP(stmt) runs stmt with every first check skipped (as a glitch
 * would skip it) and fails the test unless a hardened second check trapped.
 * After it, the test asserts that nothing changed. Test builds only
 * (ROT_TEST_HOOKS, see rot/port/host/trap.c).
 */
#ifndef TEST_TRAP_HOOK_H
#define TEST_TRAP_HOOK_H

#include <setjmp.h>

extern volatile int rot_test_skip_first_check;
extern jmp_buf *volatile rot_test_trap_jmp;
extern volatile unsigned rot_test_traps;

#define EXPECT_TRAP(stmt_)                                  \
  do {                                                      \
    jmp_buf trap_jb_;                                       \
    unsigned traps_before_ = rot_test_traps;                \
    rot_test_trap_jmp = &trap_jb_;                          \
    rot_test_skip_first_check = 1;                          \
    if (setjmp(trap_jb_) == 0) {                            \
      stmt_;                                                \
    }                                                       \
    rot_test_skip_first_check = 0;                          \
    rot_test_trap_jmp = NULL;                               \
    assert_int_equal(rot_test_traps, traps_before_ + 1u);   \
  } while (0)

#endif
