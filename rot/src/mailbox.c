/*
 * Mailbox frame codec, the chip's request decoders and reply encoders.
 * The host's reply decoders and request builders live in rot/client.
 *
 * Every layout is a field table (rot/mbox_layout.h) walked by one bounded
 * cursor (rot/wire.h): a read past the end marks the cursor bad instead
 * of touching memory, and a decode only succeeds when the cursor consumed
 * exactly the bytes it was given. So a truncated, padded or overlong
 * payload is always an error, whichever field it breaks.
 */
#include "rot/mailbox.h"

#include "rot/flash.h"
#include "rot/mbox_layout.h"
#include "rot/util.h"

#define F_INT(T, m) ROT_FIELD_INT(T, m)
#define F_BYTES(T, m) ROT_FIELD_BYTES(T, m)

/* ---- layouts -------------------------------------------------------------- */

const rot_field_t rot_mbox_header_fields[] = {
    F_INT(rot_mbox_header_t, magic),   F_INT(rot_mbox_header_t, version),
    F_INT(rot_mbox_header_t, flags),   F_INT(rot_mbox_header_t, command),
    F_INT(rot_mbox_header_t, reserved), F_INT(rot_mbox_header_t, seq),
    F_INT(rot_mbox_header_t, status),  F_INT(rot_mbox_header_t, payload_len),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_type_req_fields[] = {
    F_INT(rot_mbox_type_req_t, image_type),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_read_req_fields[] = {
    F_INT(rot_mbox_read_req_t, region),
    F_INT(rot_mbox_read_req_t, offset),
    F_INT(rot_mbox_read_req_t, length),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_begin_req_fields[] = {
    F_INT(rot_mbox_begin_req_t, image_type),
    F_INT(rot_mbox_begin_req_t, total_len),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_begin_resp_fields[] = {
    F_INT(rot_mbox_begin_resp_t, region),
    F_INT(rot_mbox_begin_resp_t, slot),
    F_INT(rot_mbox_begin_resp_t, chunk_max),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_chunk_head_fields[] = {
    F_INT(rot_mbox_chunk_req_t, offset),
    F_INT(rot_mbox_chunk_req_t, length),
    ROT_FIELD_END,
};

/* One uint32_t (the CHUNK, LOCK and LIFECYCLE replies). */
const rot_field_t rot_mbox_u32_fields[] = {
    {0u, ROT_FIELD_KIND_INT, 4u},
    ROT_FIELD_END,
};
_Static_assert(sizeof(rot_mbox_chunk_resp_t) == 4u &&
                   sizeof(rot_mbox_lock_resp_t) == 4u &&
                   sizeof(rot_mbox_lock_req_t) == 4u,
               "one-word payloads are one uint32_t");

const rot_field_t rot_mbox_image_info_fields[] = {
    F_INT(rot_mbox_image_info_t, image_type),
    F_INT(rot_mbox_image_info_t, region),
    F_INT(rot_mbox_image_info_t, svn),
    F_INT(rot_mbox_image_info_t, key_index),
    F_INT(rot_mbox_image_info_t, ver_major),
    F_INT(rot_mbox_image_info_t, ver_minor),
    F_INT(rot_mbox_image_info_t, ver_patch),
    ROT_FIELD_ZERO(2),
    F_INT(rot_mbox_image_info_t, payload_len),
    F_INT(rot_mbox_image_info_t, image_len),
    F_BYTES(rot_mbox_image_info_t, payload_digest),
    F_BYTES(rot_mbox_image_info_t, signed_digest),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_type_state_fields[] = {
    F_INT(rot_mbox_type_state_t, image_type),
    F_INT(rot_mbox_type_state_t, active),
    F_INT(rot_mbox_type_state_t, pending),
    F_INT(rot_mbox_type_state_t, staged),
    F_INT(rot_mbox_type_state_t, attempts_left),
    F_INT(rot_mbox_type_state_t, svn_floor),
    F_INT(rot_mbox_type_state_t, floor_pending),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_status_fields[] = {
    F_INT(rot_mbox_status_t, lifecycle),
    F_INT(rot_mbox_status_t, revoked_keys),
    F_BYTES(rot_mbox_status_t, root_key_hash),
    F_INT(rot_mbox_status_t, flash_size),
    F_INT(rot_mbox_status_t, erase_size),
    F_INT(rot_mbox_status_t, locked_mask),
    F_INT(rot_mbox_status_t, session_open),
    F_INT(rot_mbox_status_t, session_type),
    F_INT(rot_mbox_status_t, session_declared),
    F_INT(rot_mbox_status_t, session_written),
    F_INT(rot_mbox_status_t, audit_next_seq),
    F_INT(rot_mbox_status_t, rom_reason),
    F_INT(rot_mbox_status_t, rom_region),
    F_INT(rot_mbox_status_t, rom_why),
    F_INT(rot_mbox_status_t, rom_svn),
    F_INT(rot_mbox_status_t, rom_ver_major),
    F_INT(rot_mbox_status_t, rom_ver_minor),
    F_INT(rot_mbox_status_t, rom_ver_patch),
    ROT_FIELD_ZERO(2),
    F_INT(rot_mbox_status_t, type_count),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_inventory_head_fields[] = {
    F_INT(rot_mbox_inventory_entry_t, region),
    F_INT(rot_mbox_inventory_entry_t, slot),
    F_INT(rot_mbox_inventory_entry_t, kind),
    F_INT(rot_mbox_inventory_entry_t, flags),
    F_INT(rot_mbox_inventory_entry_t, region_type),
    F_BYTES(rot_mbox_inventory_entry_t, name),
    F_INT(rot_mbox_inventory_entry_t, status),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_boot_head_fields[] = {
    F_INT(rot_mbox_boot_resp_t, reason),
    F_INT(rot_mbox_boot_resp_t, why),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_audit_read_req_fields[] = {
    F_INT(rot_mbox_audit_read_req_t, start_seq),
    F_INT(rot_mbox_audit_read_req_t, count),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_audit_read_head_fields[] = {
    F_INT(rot_mbox_audit_read_resp_t, count),
    F_INT(rot_mbox_audit_read_resp_t, next_seq),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_audit_report_fields[] = {
    F_INT(rot_audit_report_t, records),
    F_INT(rot_audit_report_t, torn),
    F_INT(rot_audit_report_t, first_seq),
    F_INT(rot_audit_report_t, last_seq),
    F_INT(rot_audit_report_t, bad_seq),
    F_INT(rot_audit_report_t, verdict),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_confirm_req_fields[] = {
    F_INT(rot_mbox_confirm_req_t, image_type),
    F_INT(rot_mbox_confirm_req_t, flags),
    ROT_FIELD_END,
};

const rot_field_t rot_mbox_lifecycle_req_fields[] = {
    F_INT(rot_mbox_lifecycle_req_t, from),
    F_INT(rot_mbox_lifecycle_req_t, to),
    F_INT(rot_mbox_lifecycle_req_t, confirm),
    ROT_FIELD_END,
};

int rot_mbox_slot_valid(uint32_t s) {
  return s == ROT_SLOT_A || s == ROT_SLOT_B || s == ROT_SLOT_NONE;
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
  rot_mbox_header_t h;
  rot_cursor_t r = rot_cursor_reader(frame, ROT_MBOX_HEADER_SIZE);
  rot_cursor_get(&r, rot_mbox_header_fields, &h);
  if (rot_cursor_read_done(&r) != ROT_OK || h.magic != ROT_MBOX_MAGIC) {
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
  rot_mbox_header_t h = {ROT_MBOX_MAGIC, ROT_MBOX_VERSION, flags, command, 0,
                         seq, status, payload_len};
  rot_cursor_t w = rot_cursor_writer(out, ROT_MBOX_HEADER_SIZE);
  rot_cursor_put(&w, rot_mbox_header_fields, &h);
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

/* The commands of this protocol version (their names: rot_client). Every
 * code is below 0x100: a wider one would not compile here (-Woverflow). */
static const uint8_t kCommands[] = {
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

/* ---- requests the chip decodes -------------------------------------------- */

rot_error_t rot_mbox_type_req_decode(const uint8_t *p, size_t len,
                                     rot_mbox_type_req_t *out) {
  return rot_wire_decode(rot_mbox_type_req_fields, ROT_MBOX_TYPE_REQ_SIZE, p,
                         len, out);
}

/* A count or length of 1..max: 0 is malformed, above max too large. */
static rot_error_t in_range(rot_error_t err, uint32_t n, uint32_t max) {
  if (err != ROT_OK) {
    return err;
  }
  if (n == 0) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  return n > max ? ROT_ERROR_MAILBOX_TOO_LARGE : ROT_OK;
}

rot_error_t rot_mbox_read_req_decode(const uint8_t *p, size_t len,
                                     rot_mbox_read_req_t *out) {
  rot_error_t err = rot_wire_decode(rot_mbox_read_req_fields,
                                    ROT_MBOX_READ_REQ_SIZE, p, len, out);
  return in_range(err, err == ROT_OK ? out->length : 0u, ROT_MBOX_READ_MAX);
}

rot_error_t rot_mbox_begin_req_decode(const uint8_t *p, size_t len,
                                      rot_mbox_begin_req_t *out) {
  return rot_wire_decode(rot_mbox_begin_req_fields, ROT_MBOX_BEGIN_REQ_SIZE, p,
                         len, out);
}

rot_error_t rot_mbox_chunk_req_decode(const uint8_t *p, size_t len,
                                      rot_mbox_chunk_req_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_memset(out, 0, sizeof(*out));
  rot_mbox_chunk_req_t head;
  rot_cursor_t r = rot_cursor_reader(p, len);
  rot_cursor_get(&r, rot_mbox_chunk_head_fields, &head);
  if (r.bad) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  /* The limit first: an oversized chunk is "too large" even when its
   * length field also disagrees with the frame. */
  if (head.length > ROT_MBOX_CHUNK_DATA_MAX ||
      len - ROT_MBOX_CHUNK_REQ_FIXED > ROT_MBOX_CHUNK_DATA_MAX) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  if (head.length == 0) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  const uint8_t *data = rot_cursor_take(&r, head.length);
  ROT_TRY(rot_cursor_read_done(&r));
  out->offset = head.offset;
  out->length = head.length;
  out->data = data;
  return ROT_OK;
}

rot_error_t rot_mbox_audit_read_req_decode(const uint8_t *p, size_t len,
                                           rot_mbox_audit_read_req_t *out) {
  rot_error_t err = rot_wire_decode(rot_mbox_audit_read_req_fields,
                                    ROT_MBOX_AUDIT_READ_REQ_SIZE, p, len, out);
  return in_range(err, err == ROT_OK ? out->count : 0u,
                  ROT_MBOX_AUDIT_MAX_RECORDS);
}

rot_error_t rot_mbox_lock_req_decode(const uint8_t *p, size_t len,
                                     rot_mbox_lock_req_t *out) {
  return rot_wire_decode(rot_mbox_u32_fields, ROT_MBOX_LOCK_REQ_SIZE, p, len,
                         out);
}

rot_error_t rot_mbox_confirm_req_decode(const uint8_t *p, size_t len,
                                        rot_mbox_confirm_req_t *out) {
  if (len == ROT_MBOX_CONFIRM_REQ_MIN && out != NULL) {
    out->flags = 0; /* the 4-byte form: the type alone, as a type request */
    return rot_wire_decode(rot_mbox_type_req_fields, ROT_MBOX_CONFIRM_REQ_MIN,
                           p, len, out);
  }
  return rot_wire_decode(rot_mbox_confirm_req_fields, ROT_MBOX_CONFIRM_REQ_SIZE,
                         p, len, out);
}
_Static_assert(offsetof(rot_mbox_confirm_req_t, image_type) ==
                   offsetof(rot_mbox_type_req_t, image_type),
               "a CONFIRM request starts as a type request");

rot_error_t rot_mbox_lifecycle_req_decode(const uint8_t *p, size_t len,
                                          rot_mbox_lifecycle_req_t *out) {
  return rot_wire_decode(rot_mbox_lifecycle_req_fields,
                         ROT_MBOX_LIFECYCLE_REQ_SIZE, p, len, out);
}

/* ---- replies the chip encodes ---------------------------------------------- */

rot_error_t rot_mbox_begin_resp_encode(const rot_mbox_begin_resp_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  return rot_wire_encode(rot_mbox_begin_resp_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_chunk_resp_encode(const rot_mbox_chunk_resp_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  return rot_wire_encode(rot_mbox_u32_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_image_info_encode(const rot_mbox_image_info_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  return rot_wire_encode(rot_mbox_image_info_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_type_state_encode(const rot_mbox_type_state_t *in,
                                       uint8_t *out, size_t cap,
                                       size_t *out_len) {
  return rot_wire_encode(rot_mbox_type_state_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_status_encode(const rot_mbox_status_t *in, uint8_t *out,
                                   size_t cap, size_t *out_len) {
  if (in == NULL || in->type_count > ROT_MBOX_MAX_TYPES) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_cursor_t w = rot_cursor_writer(out, cap);
  rot_cursor_put(&w, rot_mbox_status_fields, in);
  for (uint32_t i = 0; i < in->type_count; i++) {
    rot_cursor_put(&w, rot_mbox_type_state_fields, &in->types[i]);
  }
  return rot_cursor_write_done(&w, out_len);
}

rot_error_t rot_mbox_inventory_encode(const rot_mbox_inventory_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  if (in == NULL || in->count > ROT_MBOX_INVENTORY_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_cursor_t w = rot_cursor_writer(out, cap);
  /* count, then a reserved u32 = 0 */
  rot_cursor_put(&w, rot_mbox_u32_fields, &in->count);
  static const rot_field_t kReserved[] = {ROT_FIELD_ZERO(4), ROT_FIELD_END};
  rot_cursor_put(&w, kReserved, in);
  for (uint32_t i = 0; i < in->count; i++) {
    rot_cursor_put(&w, rot_mbox_inventory_head_fields, &in->entries[i]);
    rot_cursor_put(&w, rot_mbox_image_info_fields, &in->entries[i].info);
  }
  return rot_cursor_write_done(&w, out_len);
}

rot_error_t rot_mbox_boot_resp_encode(const rot_mbox_boot_resp_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  rot_cursor_t w = rot_cursor_writer(out, cap);
  rot_cursor_put(&w, rot_mbox_boot_head_fields, in);
  rot_cursor_put(&w, rot_mbox_image_info_fields, &in->info);
  return rot_cursor_write_done(&w, out_len);
}

rot_error_t rot_mbox_audit_read_resp_encode(const rot_mbox_audit_read_resp_t *in,
                                            uint8_t *out, size_t cap,
                                            size_t *out_len) {
  if (in == NULL || in->count > ROT_MBOX_AUDIT_MAX_RECORDS) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return rot_wire_encode(rot_mbox_audit_read_head_fields, in, out, cap,
                         out_len);
}

void rot_mbox_audit_record_encode(const rot_audit_record_t *rec,
                                  uint8_t out[ROT_AUDIT_RECORD_SIZE]) {
  rot_audit_record_encode(rec, out); /* the flash layout, as is */
}

rot_error_t rot_mbox_audit_report_encode(const rot_audit_report_t *in,
                                         uint8_t *out, size_t cap,
                                         size_t *out_len) {
  return rot_wire_encode(rot_mbox_audit_report_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_lock_resp_encode(const rot_mbox_lock_resp_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  return rot_wire_encode(rot_mbox_u32_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_lifecycle_resp_encode(uint32_t lifecycle, uint8_t *out,
                                           size_t cap, size_t *out_len) {
  return rot_wire_encode(rot_mbox_u32_fields, &lifecycle, out, cap, out_len);
}
