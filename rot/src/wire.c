/* The table-driven codec (see rot/wire.h). */
#include "rot/wire.h"

#include "rot/util.h"

rot_cursor_t rot_cursor_reader(const uint8_t *p, size_t len) {
  /* The reader never writes through p: the cast only lets one cursor
   * type serve both directions. */
  rot_cursor_t c = {(uint8_t *)(uintptr_t)p, p == NULL ? 0 : len, 0, 0,
                    p == NULL && len != 0};
  return c;
}

ROT_NOINLINE
rot_cursor_t rot_cursor_writer(uint8_t *p, size_t cap) {
  rot_cursor_t c = {p, p == NULL ? 0 : cap, 0, 1, 0};
  return c;
}

uint8_t *rot_cursor_take(rot_cursor_t *c, size_t n) {
  if (c->bad || n > c->len - c->off) {
    c->bad = 1;
    return NULL;
  }
  uint8_t *at = c->p + c->off;
  c->off += n;
  return at;
}

/*
 * An integer member of n (1, 2, 4 or 8) bytes to and from its n
 * little-endian wire bytes. A little-endian machine holds the member as
 * exactly those bytes, so there it is a copy, as for a BYTES field;
 * elsewhere it is spelled out.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WIRE_LE_HOST 1
#else
#define WIRE_LE_HOST 0
#endif

static void int_put(uint8_t *b, const uint8_t *m, size_t n) {
  if (WIRE_LE_HOST) {
    rot_memcpy(b, m, n);
    return;
  }
  uint64_t v;
  switch (n) {
    case 1:
      v = *m;
      break;
    case 2:
      v = *(const uint16_t *)(const void *)m;
      break;
    case 4:
      v = *(const uint32_t *)(const void *)m;
      break;
    default:
      v = *(const uint64_t *)(const void *)m;
      break;
  }
  for (size_t i = 0; i < n; i++, v >>= 8) {
    b[i] = (uint8_t)v;
  }
}

static void int_get(uint8_t *m, const uint8_t *b, size_t n) {
  if (WIRE_LE_HOST) {
    rot_memcpy(m, b, n);
    return;
  }
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) {
    v = (v << 8) | b[i];
  }
  switch (n) {
    case 1:
      *m = (uint8_t)v;
      break;
    case 2:
      *(uint16_t *)(void *)m = (uint16_t)v;
      break;
    case 4:
      *(uint32_t *)(void *)m = (uint32_t)v;
      break;
    default:
      *(uint64_t *)(void *)m = v;
      break;
  }
}

static void walk(rot_cursor_t *c, const rot_field_t *f, uint8_t *s) {
  for (; f->kind != ROT_FIELD_KIND_END; f++) {
    uint8_t *m = s + f->off;
    size_t n = f->len;
    uint8_t *b = rot_cursor_take(c, n);
    if (c->writing) {
      if (b == NULL) {
        return;
      }
      if (f->kind == ROT_FIELD_KIND_BYTES) {
        rot_memcpy(b, m, n);
      } else if (f->kind == ROT_FIELD_KIND_ZERO) {
        rot_memset(b, 0, n);
      } else {
        int_put(b, m, n);
      }
    } else if (f->kind == ROT_FIELD_KIND_ZERO) {
      if (b != NULL && !rot_is_zero(b, n)) {
        c->bad = 1;
      }
    } else if (b == NULL) {
      rot_memset(m, 0, n); /* a failed read leaves the member zero */
    } else if (f->kind == ROT_FIELD_KIND_BYTES) {
      rot_memcpy(m, b, n);
    } else {
      int_get(m, b, n);
    }
  }
}

void rot_cursor_get(rot_cursor_t *c, const rot_field_t *f, void *s) {
  if (!c->writing) {
    walk(c, f, s);
  }
}

void rot_cursor_put(rot_cursor_t *c, const rot_field_t *f, const void *s) {
  if (c->writing) {
    walk(c, f, (uint8_t *)(uintptr_t)s); /* a writer only reads s */
  }
}

rot_error_t rot_cursor_read_done(const rot_cursor_t *c) {
  return !c->bad && c->off == c->len ? ROT_OK : ROT_ERROR_MAILBOX_BAD_ARGS;
}

ROT_NOINLINE
rot_error_t rot_cursor_write_done(const rot_cursor_t *c, size_t *out_len) {
  if (out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out_len = 0;
  if (c->bad) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  *out_len = c->off;
  return ROT_OK;
}

rot_error_t rot_wire_decode(const rot_field_t *f, size_t want, const uint8_t *p,
                            size_t len, void *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len != want) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  rot_cursor_t c = rot_cursor_reader(p, len);
  rot_cursor_get(&c, f, out);
  return rot_cursor_read_done(&c);
}

rot_error_t rot_wire_encode(const rot_field_t *f, const void *in, uint8_t *out,
                            size_t cap, size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_cursor_t c = rot_cursor_writer(out, cap);
  rot_cursor_put(&c, f, in);
  return rot_cursor_write_done(&c, out_len);
}
