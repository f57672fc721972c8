/*
 * The host port's trap for a failed second check (rot/hardened.h): a
 * glitch or a bug got past the first check of a security decision. Nothing
 * safe remains, so say where and stop the process before the effect.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "rot/hardened.h"

#if defined(ROT_TEST_HOOKS)
/*
 * Test builds only. rot_test_skip_first_check makes every ROT_FIRST_CHECK
 * read as passed (a glitch that skips it); rot_test_trap_jmp, when set,
 * turns the trap into a longjmp so the test can then show that nothing
 * changed. Neither exists outside the test build.
 */
volatile int rot_test_skip_first_check;
jmp_buf *volatile rot_test_trap_jmp;
volatile unsigned rot_test_traps;
#endif

void rot_hardened_trap(const char *file, int line) {
#if defined(ROT_TEST_HOOKS)
  if (rot_test_trap_jmp != NULL) {
    jmp_buf *jb = rot_test_trap_jmp;
    rot_test_trap_jmp = NULL;
    rot_test_traps++;
    longjmp(*jb, 1);
  }
#endif
  fprintf(stderr, "hardened check failed at %s:%d: stopping\n", file, line);
  fflush(stderr);
  abort();
}
