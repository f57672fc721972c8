/*
 * Table-driven little-endian codec for fixed layouts (mailbox payloads,
 * persisted records). A layout is a table of fields, each naming where a
 * member sits in the C struct and how wide it is on the wire, ended by
 * ROT_FIELD_END. One bounded cursor walks a table in either direction, so
 * the chip's encoders and the host's decoders share one table per layout
 * and cannot disagree about it, and no codec spells out its own byte
 * juggling.
 *
 * The cursor is bounded: a take past the end marks it bad instead of
 * touching memory (a failed read leaves the member zero), and reading
 * only succeeds when exactly the bytes given were consumed.
 */
#ifndef ROT_WIRE_H
#define ROT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

/* Field kinds. */
#define ROT_FIELD_KIND_END 0u
#define ROT_FIELD_KIND_INT 1u   /* unsigned LE integer of 1, 2, 4 or 8 bytes */
#define ROT_FIELD_KIND_BYTES 2u /* bytes copied as they are */
#define ROT_FIELD_KIND_ZERO 3u  /* reserved: written 0, must read 0; no member */

/* Two bytes a field: the tables are the bulk of a chip's constants. */
typedef struct rot_field {
  uint16_t off : 7;  /* offset of the member in its struct (< 128) */
  uint16_t kind : 2; /* ROT_FIELD_KIND_* */
  uint16_t len : 7;  /* bytes on the wire (the member's size, < 128) */
} rot_field_t;
_Static_assert(sizeof(rot_field_t) == 2u, "a field is two bytes");

/* n, or a compile error when n does not fit a field's 7 bits. */
#define ROT_FIELD_U7_(n) \
  ((uint16_t)((n) + 0u * sizeof(char[(n) < 128u ? 1 : -1])))

/* A member of struct type T, as wide on the wire as in memory. */
#define ROT_FIELD_INT(T, m)                                  \
  {ROT_FIELD_U7_(offsetof(T, m)), ROT_FIELD_KIND_INT,       \
   ROT_FIELD_U7_(sizeof(((T *)0)->m))}
#define ROT_FIELD_BYTES(T, m)                                \
  {ROT_FIELD_U7_(offsetof(T, m)), ROT_FIELD_KIND_BYTES,     \
   ROT_FIELD_U7_(sizeof(((T *)0)->m))}
#define ROT_FIELD_ZERO(n) {0u, ROT_FIELD_KIND_ZERO, ROT_FIELD_U7_(n)}
#define ROT_FIELD_END {0u, ROT_FIELD_KIND_END, 0u}

typedef struct rot_cursor {
  uint8_t *p;   /* the bytes (only ever written through by a writer) */
  size_t len;   /* bytes to read, or capacity to write */
  size_t off;
  int writing;  /* 1: a writer */
  int bad;
} rot_cursor_t;

/** A cursor reading len bytes of p (bad when p is NULL and len is not 0). */
rot_cursor_t rot_cursor_reader(const uint8_t *p, size_t len);

/** A cursor writing into cap bytes of p (capacity 0 when p is NULL). */
rot_cursor_t rot_cursor_writer(uint8_t *p, size_t cap);

/**
 * The next n bytes (to read, or to fill when writing), or NULL (and the
 * cursor bad) when fewer are left.
 */
uint8_t *rot_cursor_take(rot_cursor_t *c, size_t n);

/** Read the fields of table f into the struct at s. */
void rot_cursor_get(rot_cursor_t *c, const rot_field_t *f, void *s);

/** Write the fields of table f from the struct at s. */
void rot_cursor_put(rot_cursor_t *c, const rot_field_t *f, const void *s);

/** Reading: ROT_OK when nothing failed and every byte was consumed, else
 * ROT_ERROR_MAILBOX_BAD_ARGS. */
ROT_WARN_UNUSED rot_error_t rot_cursor_read_done(const rot_cursor_t *c);

/** Writing: the length written into *out_len (0 on error);
 * ROT_ERROR_BUFFER_TOO_SMALL when it did not fit, INVALID_ARGUMENT when
 * out_len is NULL. */
ROT_WARN_UNUSED rot_error_t rot_cursor_write_done(const rot_cursor_t *c,
                                                  size_t *out_len);

/**
 * Decode a payload of exactly want bytes with table f into out.
 * INVALID_ARGUMENT for a NULL out (or NULL p with len), MAILBOX_BAD_ARGS
 * for any other length or a reserved field not zero.
 */
ROT_WARN_UNUSED rot_error_t rot_wire_decode(const rot_field_t *f, size_t want,
                                            const uint8_t *p, size_t len,
                                            void *out);

/**
 * Encode the struct at in with table f into out (cap bytes).
 * INVALID_ARGUMENT for a NULL in or out_len, BUFFER_TOO_SMALL when short.
 */
ROT_WARN_UNUSED rot_error_t rot_wire_encode(const rot_field_t *f,
                                            const void *in, uint8_t *out,
                                            size_t cap, size_t *out_len);

#endif /* ROT_WIRE_H */
