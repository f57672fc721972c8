/*
 * Request builders of the mailbox protocol (rot_client/mbox_requests.h),
 * on the layouts the chip decodes with (rot/mbox_layout.h).
 */
#include "rot_client/mbox_requests.h"

#include "rot/mbox_layout.h"
#include "rot/util.h"

rot_error_t rot_mbox_type_req_encode(const rot_mbox_type_req_t *in,
                                     uint8_t *out, size_t cap,
                                     size_t *out_len) {
  return rot_wire_encode(rot_mbox_type_req_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_read_req_encode(const rot_mbox_read_req_t *in,
                                     uint8_t *out, size_t cap,
                                     size_t *out_len) {
  return rot_wire_encode(rot_mbox_read_req_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_begin_req_encode(const rot_mbox_begin_req_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  return rot_wire_encode(rot_mbox_begin_req_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_chunk_req_encode(const rot_mbox_chunk_req_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  if (in == NULL || (in->data == NULL && in->length != 0)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (in->length > ROT_MBOX_CHUNK_DATA_MAX) {
    return ROT_ERROR_MAILBOX_TOO_LARGE;
  }
  /* offset and length, then exactly length bytes of data. */
  rot_cursor_t w = rot_cursor_writer(out, cap);
  rot_cursor_put(&w, rot_mbox_chunk_head_fields, in);
  uint8_t *data = rot_cursor_take(&w, in->length);
  /* A caller that read the bytes straight into the frame needs no copy. */
  if (data != NULL && in->length != 0 && data != in->data) {
    rot_memcpy(data, in->data, in->length);
  }
  return rot_cursor_write_done(&w, out_len);
}

rot_error_t rot_mbox_audit_read_req_encode(const rot_mbox_audit_read_req_t *in,
                                           uint8_t *out, size_t cap,
                                           size_t *out_len) {
  return rot_wire_encode(rot_mbox_audit_read_req_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_lock_req_encode(const rot_mbox_lock_req_t *in,
                                     uint8_t *out, size_t cap,
                                     size_t *out_len) {
  return rot_wire_encode(rot_mbox_u32_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_confirm_req_encode(const rot_mbox_confirm_req_t *in,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len) {
  return rot_wire_encode(rot_mbox_confirm_req_fields, in, out, cap, out_len);
}

rot_error_t rot_mbox_lifecycle_req_encode(const rot_mbox_lifecycle_req_t *in,
                                          uint8_t *out, size_t cap,
                                          size_t *out_len) {
  return rot_wire_encode(rot_mbox_lifecycle_req_fields, in, out, cap, out_len);
}
