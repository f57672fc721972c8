/* Reply decoders of the mailbox protocol (rot_client/mbox_replies.h). */
#include "rot_client/mbox_replies.h"

#include <string.h>

#include "rot/mbox_layout.h"

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

rot_error_t rot_mbox_begin_resp_decode(const uint8_t *p, size_t len,
                                       rot_mbox_begin_resp_t *out) {
  ROT_TRY(rot_wire_decode(rot_mbox_begin_resp_fields, ROT_MBOX_BEGIN_RESP_SIZE,
                          p, len, out));
  if (!rot_mbox_slot_valid(out->slot) || out->chunk_max == 0 ||
      out->chunk_max > ROT_MBOX_CHUNK_DATA_MAX) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  return ROT_OK;
}

rot_error_t rot_mbox_chunk_resp_decode(const uint8_t *p, size_t len,
                                       rot_mbox_chunk_resp_t *out) {
  return rot_wire_decode(rot_mbox_u32_fields, ROT_MBOX_CHUNK_RESP_SIZE, p, len,
                         out);
}

rot_error_t rot_mbox_image_info_decode(const uint8_t *p, size_t len,
                                       rot_mbox_image_info_t *out) {
  return rot_wire_decode(rot_mbox_image_info_fields, ROT_MBOX_IMAGE_INFO_SIZE,
                         p, len, out);
}

/* A type state's slots are each a known slot value. */
static void type_state_get(rot_cursor_t *r, rot_mbox_type_state_t *s) {
  rot_cursor_get(r, rot_mbox_type_state_fields, s);
  if (!rot_mbox_slot_valid(s->active) || !rot_mbox_slot_valid(s->pending) ||
      !rot_mbox_slot_valid(s->staged)) {
    r->bad = 1;
  }
}

rot_error_t rot_mbox_type_state_decode(const uint8_t *p, size_t len,
                                       rot_mbox_type_state_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len != ROT_MBOX_TYPE_STATE_SIZE) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  rot_cursor_t r = rot_cursor_reader(p, len);
  type_state_get(&r, out);
  return rot_cursor_read_done(&r);
}

rot_error_t rot_mbox_status_decode(const uint8_t *p, size_t len,
                                   rot_mbox_status_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  rot_cursor_t r = rot_cursor_reader(p, len);
  rot_cursor_get(&r, rot_mbox_status_fields, out);
  /* The count bounds the loop before anything else reads it (a reserved
   * field not zero marks the cursor bad). */
  if (r.bad || out->type_count > ROT_MBOX_MAX_TYPES || out->session_open > 1u ||
      len != ROT_MBOX_STATUS_FIXED +
                 (size_t)out->type_count * ROT_MBOX_TYPE_STATE_SIZE) {
    memset(out, 0, sizeof(*out));
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  for (uint32_t i = 0; i < out->type_count; i++) {
    type_state_get(&r, &out->types[i]);
  }
  return rot_cursor_read_done(&r);
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
  memset(out, 0, sizeof(*out));
  rot_cursor_t r = rot_cursor_reader(p, len);
  uint32_t head[2] = {0, 0}; /* count, reserved */
  rot_cursor_get(&r, rot_mbox_u32_fields, &head[0]);
  rot_cursor_get(&r, rot_mbox_u32_fields, &head[1]);
  uint32_t count = head[0];
  if (r.bad || head[1] != 0 || count > ROT_MBOX_INVENTORY_MAX ||
      len != ROT_MBOX_INVENTORY_FIXED +
                 (size_t)count * ROT_MBOX_INVENTORY_ENTRY_SIZE) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  out->count = count;
  for (uint32_t i = 0; i < count && !r.bad; i++) {
    rot_mbox_inventory_entry_t *e = &out->entries[i];
    rot_cursor_get(&r, rot_mbox_inventory_head_fields, e);
    rot_cursor_get(&r, rot_mbox_image_info_fields, &e->info);
    int verified = (e->flags & ROT_MBOX_INV_VERIFIED) != 0;
    if ((e->flags & ~ROT_MBOX_INV_KNOWN) != 0 || !rot_mbox_slot_valid(e->slot) ||
        !name_valid(e->name) || verified != (e->status == (uint32_t)ROT_OK)) {
      r.bad = 1;
    }
  }
  rot_error_t err = rot_cursor_read_done(&r);
  if (err != ROT_OK) {
    memset(out, 0, sizeof(*out));
  }
  return err;
}

rot_error_t rot_mbox_boot_resp_decode(const uint8_t *p, size_t len,
                                      rot_mbox_boot_resp_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (len != ROT_MBOX_BOOT_RESP_SIZE) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  rot_cursor_t r = rot_cursor_reader(p, len);
  rot_cursor_get(&r, rot_mbox_boot_head_fields, out);
  rot_cursor_get(&r, rot_mbox_image_info_fields, &out->info);
  return rot_cursor_read_done(&r);
}

rot_error_t rot_mbox_audit_read_resp_decode(const uint8_t *p, size_t len,
                                            rot_mbox_audit_read_resp_t *out) {
  if (out == NULL || (p == NULL && len != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  rot_cursor_t r = rot_cursor_reader(p, len);
  rot_mbox_audit_read_resp_t head;
  rot_cursor_get(&r, rot_mbox_audit_read_head_fields, &head);
  if (r.bad || head.count > ROT_MBOX_AUDIT_MAX_RECORDS) {
    return ROT_ERROR_MAILBOX_BAD_ARGS;
  }
  const uint8_t *records =
      rot_cursor_take(&r, (size_t)head.count * ROT_AUDIT_RECORD_SIZE);
  ROT_TRY(rot_cursor_read_done(&r));
  out->count = head.count;
  out->next_seq = head.next_seq;
  out->records = head.count != 0 ? records : NULL;
  return ROT_OK;
}

void rot_mbox_audit_record_decode(const uint8_t in[ROT_AUDIT_RECORD_SIZE],
                                  rot_audit_record_t *rec) {
  rot_audit_record_decode(in, rec);
}

rot_error_t rot_mbox_audit_report_decode(const uint8_t *p, size_t len,
                                         rot_audit_report_t *out) {
  return rot_wire_decode(rot_mbox_audit_report_fields,
                         ROT_MBOX_AUDIT_REPORT_SIZE, p, len, out);
}

rot_error_t rot_mbox_lock_resp_decode(const uint8_t *p, size_t len,
                                      rot_mbox_lock_resp_t *out) {
  return rot_wire_decode(rot_mbox_u32_fields, ROT_MBOX_LOCK_RESP_SIZE, p, len,
                         out);
}

rot_error_t rot_mbox_lifecycle_resp_decode(const uint8_t *p, size_t len,
                                           uint32_t *lifecycle) {
  return rot_wire_decode(rot_mbox_u32_fields, ROT_MBOX_LIFECYCLE_RESP_SIZE, p,
                         len, lifecycle);
}
