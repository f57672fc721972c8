/* Small freestanding helpers: little-endian access and memory wiping. */
#ifndef ROT_UTIL_H
#define ROT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Little-endian loads and stores. C99 inline definitions: a call the
 * compiler does not inline goes to the one external copy in util.c, not
 * to a private copy per file (as a static inline would at -Os).
 */
inline uint16_t rot_ld16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
inline uint32_t rot_ld32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
inline uint64_t rot_ld64(const uint8_t *p) {
  return (uint64_t)rot_ld32(p) | ((uint64_t)rot_ld32(p + 4) << 32);
}
inline void rot_st16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
inline void rot_st32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
inline void rot_st64(uint8_t *p, uint64_t v) {
  rot_st32(p, (uint32_t)v);
  rot_st32(p + 4, (uint32_t)(v >> 32));
}

/*
 * A helper called from several places whose copies, were the compiler to
 * inline them, would cost the chip more code than the calls (measured
 * with `make freestanding`): typically one that returns or compares
 * rot_error_t codes, each a 32-bit constant built by two instructions in
 * every copy, which the compiler's estimate of a small function misses.
 */
#define ROT_NOINLINE __attribute__((noinline))

/* The core cannot use libc: its own copy, fill and wipe. Copy and fill
 * keep memcpy's and memset's contract (they return dst), so the chip link
 * can also serve the compiler's own block copies with them. */
void *rot_memcpy(void *dst, const void *src, size_t n);
void *rot_memset(void *dst, int v, size_t n);
/* A wipe the compiler may not elide. */
void rot_wipe(void *dst, size_t n);
/* Non-constant-time equality of public data; 1 when equal. */
int rot_memeq(const void *a, const void *b, size_t n);
/* 1 when all n bytes are zero. */
int rot_is_zero(const void *p, size_t n);
/* 1 when all n bytes read as erased NOR flash (0xFF). */
int rot_is_erased(const void *p, size_t n);

#define ROT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* ROT_UTIL_H */
