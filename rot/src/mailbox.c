/*
 * Mailbox frame and payload codec.
 *
 * Every decoder reads through one bounded cursor: a read past the end
 * marks the cursor bad instead of touching memory, and a decode only
 * succeeds when the cursor consumed exactly the bytes it was given. So a
 * truncated, padded or overlong payload is always an error, whichever
 * field it breaks.
 */
#include "rot/mailbox.h"

#include "rot/flash.h"
#include "rot/util.h"

/* ---- bounded cursors ---------------------------------------------------- */

typedef struct rd {
  const uint8_t *p;
  size_t len;
  size_t off;
  int bad;
} rd_t;

static rd_t rd_init(const uint8_t *p, size_t len) {
  rd_t r = {p, p == NULL ? 0 : len, 0, p == NULL && len != 0};
  return r;
}

static const uint8_t *rd_take(rd_t *r, size_t n) {
  if (r->bad || n > r->len - r->off) {
    r->bad = 1;
    return NULL;
  }
  const uint8_t *at = r->p + r->off;
  r->off += n;
  return at;
}

static uint8_t rd_u8(rd_t *r) {
  const uint8_t *b = rd_take(r, 1);
  return b == NULL ? 0 : b[0];
}

static uint16_t rd_u16(rd_t *r) {
  const uint8_t *b = rd_take(r, 2);
  return b == NULL ? 0 : rot_ld16(b);
}

static uint32_t rd_u32(rd_t *r) {
  const uint8_t *b = rd_take(r, 4);
  return b == NULL ? 0 : rot_ld32(b);
}

static void rd_bytes(rd_t *r, void *dst, size_t n) {
  const uint8_t *b = rd_take(r, n);
  if (b == NULL) {
    rot_memset(dst, 0, n);
    return;
  }
  rot_memcpy(dst, b, n);
}

/* Exactly consumed and nothing went wrong. */
static rot_error_t rd_done(const rd_t *r) {
  return !r->bad && r->off == r->len ? ROT_OK : ROT_ERROR_MAILBOX_BAD_ARGS;
}

typedef struct wr {
  uint8_t *p;
  size_t cap;
  size_t off;
  int bad;
} wr_t;

static wr_t wr_init(uint8_t *p, size_t cap) {
  wr_t w = {p, p == NULL ? 0 : cap, 0, 0};
  return w;
}

static uint8_t *wr_take(wr_t *w, size_t n) {
  if (w->bad || n > w->cap - w->off) {
    w->bad = 1;
    return NULL;
  }
  uint8_t *at = w->p + w->off;
  w->off += n;
  return at;
}

static void wr_u8(wr_t *w, uint8_t v) {
  uint8_t *b = wr_take(w, 1);
  if (b != NULL) {
    b[0] = v;
  }
}

static void wr_u16(wr_t *w, uint16_t v) {
  uint8_t *b = wr_take(w, 2);
  if (b != NULL) {
    rot_st16(b, v);
  }
}

static void wr_u32(wr_t *w, uint32_t v) {
  uint8_t *b = wr_take(w, 4);
  if (b != NULL) {
    rot_st32(b, v);
  }
}

static void wr_bytes(wr_t *w, const void *src, size_t n) {
  uint8_t *b = wr_take(w, n);
  if (b != NULL) {
    rot_memcpy(b, src, n);
  }
}

static rot_error_t wr_done(const wr_t *w, size_t *out_len) {
  if (out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out_len = 0;
  if (w->bad) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  *out_len = w->off;
  return ROT_OK;
}

/* ---- frame ---------------------------------------------------------------- */

rot_error_t rot_mbox_frame_decode(const uint8_t *frame, size_t len,
                                  rot_mbox_header_t *hdr,
                                  const uint8_t **payload) {
  if ((frame == NULL && len != 0) || hdr == NULL || payload == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(hdr, 0, sizeof(*hdr));
  *payload = NULL;
  if (len < ROT_MBOX_HEADER_SIZE) {
    return ROT_ERROR_MAILBOX_BAD_FRAME;
  }
  if (len > ROT_MBOX_MAX_FRAME) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  rd_t r = rd_init(frame, ROT_MBOX_HEADER_SIZE);
  rot_mbox_header_t h;
  h.magic = rd_u16(&r);
  h.version = rd_u8(&r);
  h.flags = rd_u8(&r);
  h.command = rd_u16(&r);
  h.reserved = rd_u16(&r);
  h.seq = rd_u32(&r);
  h.status = rd_u32(&r);
  h.payload_len = rd_u32(&r);
  if (rd_done(&r) != ROT_OK || h.magic != ROT_MBOX_MAGIC) {
    return ROT_ERROR_MAILBOX_BAD_FRAME;
  }
  if (h.version != ROT_MBOX_VERSION) {
    return ROT_ERROR_MAILBOX_BAD_VERSION;
  }
  if ((h.flags & ~ROT_MBOX_FLAGS_KNOWN) != 0 || h.reserved != 0) {
    return ROT_ERROR_MAILBOX_BAD_FRAME;
  }
  if (h.payload_len > ROT_MBOX_MAX_PAYLOAD) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  if (h.payload_len != len - ROT_MBOX_HEADER_SIZE) {
    return ROT_ERROR_MAILBOX_BAD_LENGTH;
  }
  *hdr = h;
  *payload = frame + ROT_MBOX_HEADER_SIZE;
  return ROT_OK;
}

rot_error_t rot_mbox_request_check(const rot_mbox_header_t *h) {
  if (h == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if ((h->flags & ROT_MBOX_FLAG_RESPONSE) != 0 || h->status != 0) {
    return ROT_ERROR_MAILBOX_BAD_FRAME;
  }
  if (!rot_mbox_command_known(h->command)) {
    return ROT_ERROR_MAILBOX_UNKNOWN_COMMAND;
  }
  return ROT_OK;
}

rot_error_t rot_mbox_reply_check(const rot_mbox_header_t *h, uint16_t command,
                                 uint32_t seq) {
  if (h == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if ((h->flags & ROT_MBOX_FLAG_RESPONSE) == 0 || h->command != command ||
      h->seq != seq) {
    return ROT_ERROR_MAILBOX_BAD_FRAME;
  }
  if (h->status != (uint32_t)ROT_OK && h->payload_len != 0) {
    return ROT_ERROR_MAILBOX_BAD_LENGTH;
  }
  return ROT_OK;
}

rot_error_t rot_mbox_frame_encode(uint8_t *out, size_t cap, uint16_t command,
                                  uint8_t flags, uint32_t seq, uint32_t status,
                                  const uint8_t *payload, uint32_t payload_len,
                                  size_t *frame_len) {
  if (out == NULL || frame_len == NULL || (payload == NULL && payload_len != 0) ||
      (flags & ~ROT_MBOX_FLAGS_KNOWN) != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *frame_len = 0;
  if (payload_len > ROT_MBOX_MAX_PAYLOAD) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  if (cap < ROT_MBOX_HEADER_SIZE ||
      payload_len > cap - ROT_MBOX_HEADER_SIZE) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  wr_t w = wr_init(out, ROT_MBOX_HEADER_SIZE);
  wr_u16(&w, ROT_MBOX_MAGIC);
  wr_u8(&w, ROT_MBOX_VERSION);
  wr_u8(&w, flags);
  wr_u16(&w, command);
  wr_u16(&w, 0);
  wr_u32(&w, seq);
  wr_u32(&w, status);
  wr_u32(&w, payload_len);
  if (payload_len != 0 && payload != out + ROT_MBOX_HEADER_SIZE) {
    rot_memcpy(out + ROT_MBOX_HEADER_SIZE, payload, payload_len);
  }
  *frame_len = ROT_MBOX_HEADER_SIZE + (size_t)payload_len;
  return ROT_OK;
}

void rot_mbox_peek(const uint8_t *frame, size_t len, uint16_t *command,
                   uint32_t *seq) {
  if (command != NULL) {
    *command = frame != NULL && len >= 6 ? rot_ld16(frame + 4) : 0;
  }
  if (seq != NULL) {
    *seq = frame != NULL && len >= 12 ? rot_ld32(frame + 8) : 0;
  }
}

/* The commands of this protocol version (their names: rot_client). */
static const uint16_t kCommands[] = {
    ROT_MBOX_CMD_STATUS,
    ROT_MBOX_CMD_INVENTORY,
    ROT_MBOX_CMD_READ_REGION,
    ROT_MBOX_CMD_UPDATE_BEGIN,
    ROT_MBOX_CMD_UPDATE_CHUNK,
    ROT_MBOX_CMD_UPDATE_FINISH,
    ROT_MBOX_CMD_UPDATE_ABORT,
    ROT_MBOX_CMD_ACTIVATE,
    ROT_MBOX_CMD_CONFIRM,
    ROT_MBOX_CMD_REVERT,
    ROT_MBOX_CMD_BOOT,
    ROT_MBOX_CMD_AUDIT_READ,
    ROT_MBOX_CMD_AUDIT_VERIFY,
    ROT_MBOX_CMD_LOCK,
    ROT_MBOX_CMD_RESET,
    ROT_MBOX_CMD_IDENTITY,
    ROT_MBOX_CMD_ENDORSE,
    ROT_MBOX_CMD_IDENTITY_CSR,
    ROT_MBOX_CMD_IDENTITY_STORE,
    ROT_MBOX_CMD_LIFECYCLE,
};

int rot_mbox_command_known(uint32_t cmd) {
  for (size_t i = 0; i < ROT_ARRAY_SIZE(kCommands); i++) {
    if (kCommands[i] == cmd) {
      return 1;
    }
  }
  return 0;
}

/* ---- payloads -------------------------------------------------------------- */

/* Fixed-size decoders start here: the length is the first thing checked. */
static rot_error_t rd_fixed(rd_t *r, const uint8_t *p, size_t len, size_t want,
                            const void *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len != want) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  *r = rd_init(p, len);
  return ROT_OK;
}

static int slot_valid(uint8_t s) {
  return s == ROT_SLOT_A || s == ROT_SLOT_B || s == ROT_SLOT_NONE;
}

rot_error_t rot_mbox_type_req_decode(const uint8_t *p, size_t len,
                                     rot_mbox_type_req_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_TYPE_REQ_SIZE, out));
  out->image_type = rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_read_req_decode(const uint8_t *p, size_t len,
                                     rot_mbox_read_req_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_READ_REQ_SIZE, out));
  out->region = rd_u32(&r);
  out->offset = rd_u32(&r);
  out->length = rd_u32(&r);
  ROT_TRY(rd_done(&r));
  if (out->length == 0) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  if (out->length > ROT_MBOX_READ_MAX) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  return ROT_OK;
}

rot_error_t rot_mbox_begin_req_decode(const uint8_t *p, size_t len,
                                      rot_mbox_begin_req_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_BEGIN_REQ_SIZE, out));
  out->image_type = rd_u32(&r);
  out->total_len = rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_begin_resp_decode(const uint8_t *p, size_t len,
                                       rot_mbox_begin_resp_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_BEGIN_RESP_SIZE, out));
  out->region = rd_u32(&r);
  out->slot = rd_u32(&r);
  out->chunk_max = rd_u32(&r);
  ROT_TRY(rd_done(&r));
  if (out->slot > 0xffu || !slot_valid((uint8_t)out->slot) ||
      out->chunk_max == 0 || out->chunk_max > ROT_MBOX_CHUNK_DATA_MAX) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  return ROT_OK;
}

rot_error_t rot_mbox_begin_resp_encode(const rot_mbox_begin_resp_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->region);
  wr_u32(&w, in->slot);
  wr_u32(&w, in->chunk_max);
  return wr_done(&w, out_len);
}

rot_error_t rot_mbox_chunk_req_decode(const uint8_t *p, size_t len,
                                      rot_mbox_chunk_req_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  rd_t r = rd_init(p, len);
  uint32_t offset = rd_u32(&r);
  uint32_t length = rd_u32(&r);
  if (r.bad) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  /* The limit first: an oversized chunk is "too large" even when its
   * length field also disagrees with the frame. */
  if (length > ROT_MBOX_CHUNK_DATA_MAX ||
      len - ROT_MBOX_CHUNK_REQ_FIXED > ROT_MBOX_CHUNK_DATA_MAX) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  if (length == 0) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  const uint8_t *data = rd_take(&r, length);
  ROT_TRY(rd_done(&r));
  out->offset = offset;
  out->length = length;
  out->data = data;
  return ROT_OK;
}

rot_error_t rot_mbox_chunk_resp_decode(const uint8_t *p, size_t len,
                                       rot_mbox_chunk_resp_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_CHUNK_RESP_SIZE, out));
  out->written = rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_chunk_resp_encode(const rot_mbox_chunk_resp_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->written);
  return wr_done(&w, out_len);
}

static void rd_info(rd_t *r, rot_mbox_image_info_t *i) {
  i->image_type = rd_u32(r);
  i->region = rd_u32(r);
  i->svn = rd_u32(r);
  i->key_index = rd_u32(r);
  i->ver_major = rd_u16(r);
  i->ver_minor = rd_u16(r);
  i->ver_patch = rd_u16(r);
  if (rd_u16(r) != 0) {
    r->bad = 1; /* reserved */
  }
  i->payload_len = rd_u32(r);
  i->image_len = rd_u32(r);
  rd_bytes(r, i->payload_digest, sizeof(i->payload_digest));
  rd_bytes(r, i->signed_digest, sizeof(i->signed_digest));
}

static void wr_info(wr_t *w, const rot_mbox_image_info_t *i) {
  wr_u32(w, i->image_type);
  wr_u32(w, i->region);
  wr_u32(w, i->svn);
  wr_u32(w, i->key_index);
  wr_u16(w, i->ver_major);
  wr_u16(w, i->ver_minor);
  wr_u16(w, i->ver_patch);
  wr_u16(w, 0);
  wr_u32(w, i->payload_len);
  wr_u32(w, i->image_len);
  wr_bytes(w, i->payload_digest, sizeof(i->payload_digest));
  wr_bytes(w, i->signed_digest, sizeof(i->signed_digest));
}

rot_error_t rot_mbox_image_info_decode(const uint8_t *p, size_t len,
                                       rot_mbox_image_info_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_IMAGE_INFO_SIZE, out));
  rd_info(&r, out);
  return rd_done(&r);
}

rot_error_t rot_mbox_image_info_encode(const rot_mbox_image_info_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_info(&w, in);
  return wr_done(&w, out_len);
}

static void rd_type_state(rd_t *r, rot_mbox_type_state_t *s) {
  s->image_type = rd_u32(r);
  s->active = rd_u8(r);
  s->pending = rd_u8(r);
  s->staged = rd_u8(r);
  s->attempts_left = rd_u8(r);
  s->svn_floor = rd_u32(r);
  s->floor_pending = rd_u32(r);
  if (!slot_valid(s->active) || !slot_valid(s->pending) ||
      !slot_valid(s->staged)) {
    r->bad = 1;
  }
}

static void wr_type_state(wr_t *w, const rot_mbox_type_state_t *s) {
  wr_u32(w, s->image_type);
  wr_u8(w, s->active);
  wr_u8(w, s->pending);
  wr_u8(w, s->staged);
  wr_u8(w, s->attempts_left);
  wr_u32(w, s->svn_floor);
  wr_u32(w, s->floor_pending);
}

rot_error_t rot_mbox_type_state_decode(const uint8_t *p, size_t len,
                                       rot_mbox_type_state_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_TYPE_STATE_SIZE, out));
  rd_type_state(&r, out);
  return rd_done(&r);
}

rot_error_t rot_mbox_type_state_encode(const rot_mbox_type_state_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_type_state(&w, in);
  return wr_done(&w, out_len);
}

rot_error_t rot_mbox_status_decode(const uint8_t *p, size_t len,
                                   rot_mbox_status_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  rd_t r = rd_init(p, len);
  out->lifecycle = rd_u32(&r);
  out->revoked_keys = rd_u32(&r);
  rd_bytes(&r, out->root_key_hash, sizeof(out->root_key_hash));
  out->flash_size = rd_u32(&r);
  out->erase_size = rd_u32(&r);
  out->locked_mask = rd_u32(&r);
  out->session_open = rd_u32(&r);
  out->session_type = rd_u32(&r);
  out->session_declared = rd_u32(&r);
  out->session_written = rd_u32(&r);
  out->audit_next_seq = rd_u32(&r);
  out->rom_reason = rd_u32(&r);
  out->rom_region = rd_u32(&r);
  out->rom_why = rd_u32(&r);
  out->rom_svn = rd_u32(&r);
  out->rom_ver_major = rd_u16(&r);
  out->rom_ver_minor = rd_u16(&r);
  out->rom_ver_patch = rd_u16(&r);
  uint16_t rom_reserved = rd_u16(&r);
  out->type_count = rd_u32(&r);
  /* The count bounds the loop before anything else reads it. */
  if (r.bad || out->type_count > ROT_MBOX_MAX_TYPES ||
      out->session_open > 1u || rom_reserved != 0u ||
      len != ROT_MBOX_STATUS_FIXED +
                 (size_t)out->type_count * ROT_MBOX_TYPE_STATE_SIZE) {
    rot_memset(out, 0, sizeof(*out));
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  for (uint32_t i = 0; i < out->type_count; i++) {
    rd_type_state(&r, &out->types[i]);
  }
  return rd_done(&r);
}

rot_error_t rot_mbox_status_encode(const rot_mbox_status_t *in, uint8_t *out,
                                   size_t cap, size_t *out_len) {
  if (in == NULL || in->type_count > ROT_MBOX_MAX_TYPES) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->lifecycle);
  wr_u32(&w, in->revoked_keys);
  wr_bytes(&w, in->root_key_hash, sizeof(in->root_key_hash));
  wr_u32(&w, in->flash_size);
  wr_u32(&w, in->erase_size);
  wr_u32(&w, in->locked_mask);
  wr_u32(&w, in->session_open);
  wr_u32(&w, in->session_type);
  wr_u32(&w, in->session_declared);
  wr_u32(&w, in->session_written);
  wr_u32(&w, in->audit_next_seq);
  wr_u32(&w, in->rom_reason);
  wr_u32(&w, in->rom_region);
  wr_u32(&w, in->rom_why);
  wr_u32(&w, in->rom_svn);
  wr_u16(&w, in->rom_ver_major);
  wr_u16(&w, in->rom_ver_minor);
  wr_u16(&w, in->rom_ver_patch);
  wr_u16(&w, 0);
  wr_u32(&w, in->type_count);
  for (uint32_t i = 0; i < in->type_count; i++) {
    wr_type_state(&w, &in->types[i]);
  }
  return wr_done(&w, out_len);
}

/* A region name: printable ASCII, NUL terminated, zero padding after. */
static int name_valid(const char *n) {
  size_t i = 0;
  while (i < ROT_MBOX_NAME_LEN && n[i] != '\0') {
    if (n[i] < 0x21 || n[i] > 0x7e) {
      return 0;
    }
    i++;
  }
  if (i == 0 || i == ROT_MBOX_NAME_LEN) {
    return 0;
  }
  for (; i < ROT_MBOX_NAME_LEN; i++) {
    if (n[i] != '\0') {
      return 0;
    }
  }
  return 1;
}

rot_error_t rot_mbox_inventory_decode(const uint8_t *p, size_t len,
                                      rot_mbox_inventory_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  rd_t r = rd_init(p, len);
  uint32_t count = rd_u32(&r);
  uint32_t reserved = rd_u32(&r);
  if (r.bad || reserved != 0 || count > ROT_MBOX_INVENTORY_MAX ||
      len != ROT_MBOX_INVENTORY_FIXED +
                 (size_t)count * ROT_MBOX_INVENTORY_ENTRY_SIZE) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  out->count = count;
  for (uint32_t i = 0; i < count && !r.bad; i++) {
    rot_mbox_inventory_entry_t *e = &out->entries[i];
    e->region = rd_u8(&r);
    e->slot = rd_u8(&r);
    e->kind = rd_u8(&r);
    e->flags = rd_u8(&r);
    e->region_type = rd_u32(&r);
    rd_bytes(&r, e->name, sizeof(e->name));
    e->status = rd_u32(&r);
    rd_info(&r, &e->info);
    int verified = (e->flags & ROT_MBOX_INV_VERIFIED) != 0;
    if ((e->flags & ~ROT_MBOX_INV_KNOWN) != 0 || !slot_valid(e->slot) ||
        !name_valid(e->name) || verified != (e->status == (uint32_t)ROT_OK)) {
      r.bad = 1;
    }
  }
  rot_error_t err = rd_done(&r);
  if (err != ROT_OK) {
    rot_memset(out, 0, sizeof(*out));
  }
  return err;
}

rot_error_t rot_mbox_inventory_encode(const rot_mbox_inventory_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  if (in == NULL || in->count > ROT_MBOX_INVENTORY_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->count);
  wr_u32(&w, 0);
  for (uint32_t i = 0; i < in->count; i++) {
    const rot_mbox_inventory_entry_t *e = &in->entries[i];
    wr_u8(&w, e->region);
    wr_u8(&w, e->slot);
    wr_u8(&w, e->kind);
    wr_u8(&w, e->flags);
    wr_u32(&w, e->region_type);
    wr_bytes(&w, e->name, sizeof(e->name));
    wr_u32(&w, e->status);
    wr_info(&w, &e->info);
  }
  return wr_done(&w, out_len);
}

rot_error_t rot_mbox_boot_resp_decode(const uint8_t *p, size_t len,
                                      rot_mbox_boot_resp_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_BOOT_RESP_SIZE, out));
  out->reason = rd_u32(&r);
  out->why = rd_u32(&r);
  rd_info(&r, &out->info);
  return rd_done(&r);
}

rot_error_t rot_mbox_boot_resp_encode(const rot_mbox_boot_resp_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->reason);
  wr_u32(&w, in->why);
  wr_info(&w, &in->info);
  return wr_done(&w, out_len);
}

rot_error_t rot_mbox_audit_read_req_decode(const uint8_t *p, size_t len,
                                           rot_mbox_audit_read_req_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_AUDIT_READ_REQ_SIZE, out));
  out->start_seq = rd_u32(&r);
  out->count = rd_u32(&r);
  ROT_TRY(rd_done(&r));
  if (out->count == 0) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  if (out->count > ROT_MBOX_AUDIT_MAX_RECORDS) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  return ROT_OK;
}

rot_error_t rot_mbox_audit_read_resp_decode(const uint8_t *p, size_t len,
                                            rot_mbox_audit_read_resp_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  rd_t r = rd_init(p, len);
  uint32_t count = rd_u32(&r);
  uint32_t next_seq = rd_u32(&r);
  if (r.bad || count > ROT_MBOX_AUDIT_MAX_RECORDS) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  const uint8_t *records = rd_take(&r, (size_t)count * ROT_AUDIT_RECORD_SIZE);
  ROT_TRY(rd_done(&r));
  out->count = count;
  out->next_seq = next_seq;
  out->records = count != 0 ? records : NULL;
  return ROT_OK;
}

rot_error_t rot_mbox_audit_read_resp_encode(const rot_mbox_audit_read_resp_t *in,
                                            uint8_t *out, size_t cap,
                                            size_t *out_len) {
  if (in == NULL || in->count > ROT_MBOX_AUDIT_MAX_RECORDS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->count);
  wr_u32(&w, in->next_seq);
  return wr_done(&w, out_len);
}

void rot_mbox_audit_record_encode(const rot_audit_record_t *rec,
                                  uint8_t out[ROT_AUDIT_RECORD_SIZE]) {
  rot_audit_record_encode(rec, out); /* the flash layout, as is */
}

void rot_mbox_audit_record_decode(const uint8_t in[ROT_AUDIT_RECORD_SIZE],
                                  rot_audit_record_t *rec) {
  rot_audit_record_decode(in, rec);
}

rot_error_t rot_mbox_audit_report_decode(const uint8_t *p, size_t len,
                                         rot_audit_report_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_AUDIT_REPORT_SIZE, out));
  out->records = rd_u32(&r);
  out->torn = rd_u32(&r);
  out->first_seq = rd_u32(&r);
  out->last_seq = rd_u32(&r);
  out->bad_seq = rd_u32(&r);
  out->verdict = (rot_error_t)rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_audit_report_encode(const rot_audit_report_t *in,
                                         uint8_t *out, size_t cap,
                                         size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->records);
  wr_u32(&w, in->torn);
  wr_u32(&w, in->first_seq);
  wr_u32(&w, in->last_seq);
  wr_u32(&w, in->bad_seq);
  wr_u32(&w, (uint32_t)in->verdict);
  return wr_done(&w, out_len);
}

rot_error_t rot_mbox_lock_req_decode(const uint8_t *p, size_t len,
                                     rot_mbox_lock_req_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_LOCK_REQ_SIZE, out));
  out->region = rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_lock_resp_decode(const uint8_t *p, size_t len,
                                      rot_mbox_lock_resp_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_LOCK_RESP_SIZE, out));
  out->locked_mask = rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_lock_resp_encode(const rot_mbox_lock_resp_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  wr_t w = wr_init(out, cap);
  wr_u32(&w, in->locked_mask);
  return wr_done(&w, out_len);
}

/* ---- CONFIRM and LIFECYCLE ------------------------------------------------- */

rot_error_t rot_mbox_confirm_req_decode(const uint8_t *p, size_t len,
                                        rot_mbox_confirm_req_t *out) {
  rd_t r;
  size_t want = len == ROT_MBOX_CONFIRM_REQ_MIN ? ROT_MBOX_CONFIRM_REQ_MIN
                                                : ROT_MBOX_CONFIRM_REQ_SIZE;
  ROT_TRY(rd_fixed(&r, p, len, want, out));
  out->image_type = rd_u32(&r);
  out->flags = len == ROT_MBOX_CONFIRM_REQ_SIZE ? rd_u32(&r) : 0u;
  return rd_done(&r);
}

rot_error_t rot_mbox_lifecycle_req_decode(const uint8_t *p, size_t len,
                                          rot_mbox_lifecycle_req_t *out) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_LIFECYCLE_REQ_SIZE, out));
  out->from = rd_u32(&r);
  out->to = rd_u32(&r);
  out->confirm = rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_lifecycle_resp_decode(const uint8_t *p, size_t len,
                                           uint32_t *lifecycle) {
  rd_t r;
  ROT_TRY(rd_fixed(&r, p, len, ROT_MBOX_LIFECYCLE_RESP_SIZE, lifecycle));
  *lifecycle = rd_u32(&r);
  return rd_done(&r);
}

rot_error_t rot_mbox_lifecycle_resp_encode(uint32_t lifecycle, uint8_t *out,
                                           size_t cap, size_t *out_len) {
  wr_t w = wr_init(out, cap);
  wr_u32(&w, lifecycle);
  return wr_done(&w, out_len);
}
