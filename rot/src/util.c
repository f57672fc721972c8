/* Freestanding replacements for the few libc routines the core needs. */
#include "rot/util.h"

#include "rot/hardened.h"

/* The external copies of the inline little-endian helpers (rot/util.h). */
extern inline uint16_t rot_ld16(const uint8_t *p);
extern inline uint32_t rot_ld32(const uint8_t *p);
extern inline uint64_t rot_ld64(const uint8_t *p);
extern inline void rot_st16(uint8_t *p, uint16_t v);
extern inline void rot_st32(uint8_t *p, uint32_t v);
extern inline void rot_st64(uint8_t *p, uint64_t v);

void *rot_memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  while (n-- > 0) {
    *d++ = *s++;
  }
  return dst;
}

void *rot_memset(void *dst, int v, size_t n) {
  uint8_t *d = dst;
  while (n-- > 0) {
    *d++ = (uint8_t)v;
  }
  return dst;
}

void rot_wipe(void *dst, size_t n) {
  volatile uint8_t *d = dst;
  while (n-- > 0) {
    *d++ = 0;
  }
  __asm__ volatile("" ::: "memory");
}

/* Words that may alias any buffer: the erased check and the compare read
 * flash images a word at a time (over whole regions and chunks). */
typedef uint32_t __attribute__((may_alias)) erased_word_t;

int rot_memeq(const void *a, const void *b, size_t n) {
  const uint8_t *x = a;
  const uint8_t *y = b;
  /* Word-wise while both are aligned alike (the update engine compares
   * each programmed chunk with its read-back); not constant time: secrets
   * go through rot_ct_equal. */
  if ((((uintptr_t)x ^ (uintptr_t)y) & (sizeof(erased_word_t) - 1u)) == 0) {
    while (n > 0 && ((uintptr_t)x & (sizeof(erased_word_t) - 1u)) != 0) {
      if (*x++ != *y++) {
        return 0;
      }
      n--;
    }
    const erased_word_t *wx = (const erased_word_t *)(const void *)x;
    const erased_word_t *wy = (const erased_word_t *)(const void *)y;
    for (; n >= sizeof(*wx); n -= sizeof(*wx)) {
      if (*wx++ != *wy++) {
        return 0;
      }
    }
    x = (const uint8_t *)wx;
    y = (const uint8_t *)wy;
  }
  for (size_t i = 0; i < n; i++) {
    if (x[i] != y[i]) {
      return 0;
    }
  }
  return 1;
}

int rot_is_zero(const void *p, size_t n) {
  const uint8_t *x = p;
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc |= x[i];
  }
  return acc == 0;
}

int rot_is_erased(const void *p, size_t n) {
  const uint8_t *x = p;
  /* Bytes up to the first word boundary, then words, then the tail; the
   * first programmed bit ends the scan. */
  while (n > 0 && ((uintptr_t)x & (sizeof(erased_word_t) - 1u)) != 0) {
    if (*x != 0xffu) {
      return 0;
    }
    x++;
    n--;
  }
  const erased_word_t *w = (const erased_word_t *)(const void *)x;
  for (; n >= 4u * sizeof(*w); n -= 4u * sizeof(*w), w += 4) {
    if ((w[0] & w[1] & w[2] & w[3]) != 0xffffffffu) {
      return 0;
    }
  }
  for (; n >= sizeof(*w); n -= sizeof(*w), w++) {
    if (*w != 0xffffffffu) {
      return 0;
    }
  }
  x = (const uint8_t *)w;
  while (n-- > 0) {
    if (*x++ != 0xffu) {
      return 0;
    }
  }
  return 1;
}

hardened_bool_t rot_ct_equal(const void *a, const void *b, size_t len) {
  const volatile uint8_t *x = a;
  const volatile uint8_t *y = b;
  uint32_t diff = 0;
  for (size_t i = 0; i < len; i++) {
    diff |= (uint32_t)(x[i] ^ y[i]);
  }
  /* diff == 0 -> all ones mask; otherwise 0, without a branch on data. */
  uint32_t eq = (uint32_t)(((diff | (0u - diff)) >> 31) ^ 1u);
  uint32_t mask = 0u - eq;
  return (hardened_bool_t)((HARDENED_TRUE & mask) | (HARDENED_FALSE & ~mask));
}
