/*
 * What every libFuzzer target here shares: the entry point's prototype,
 * and CHECK, which traps (a finding libFuzzer reports with its input)
 * when an invariant the target asserts does not hold.
 */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond_)    \
  do {                  \
    if (!(cond_)) {     \
      __builtin_trap(); \
    }                   \
  } while (0)

#endif /* TESTS_FUZZ_H */
