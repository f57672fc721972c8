/* Request builders of the mailbox protocol (rot_client/mbox_requests.h). */
#include "rot_client/mbox_requests.h"

#include <string.h>

#include "rot/util.h"

/* Every request is little-endian 32-bit words, a chunk then its bytes. */
static rot_error_t put(const uint32_t *words, size_t n, const uint8_t *tail,
                       size_t tail_len, uint8_t *out, size_t cap,
                       size_t *out_len) {
  if (out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out_len = 0;
  size_t need = 4u * n;
  if (out == NULL || tail_len > cap || need > cap - tail_len) {
    return ROT_ERROR_BUFFER_TOO_SMALL;
  }
  for (size_t i = 0; i < n; i++) {
    rot_st32(out + 4u * i, words[i]);
  }
  if (tail_len != 0 && tail != out + need) { /* else already in place */
    memcpy(out + need, tail, tail_len);
  }
  *out_len = need + tail_len;
  return ROT_OK;
}

rot_error_t rot_mbox_type_req_encode(const rot_mbox_type_req_t *in,
                                     uint8_t *out, size_t cap,
                                     size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t w[] = {in->image_type};
  return put(w, 1, NULL, 0, out, cap, out_len);
}

rot_error_t rot_mbox_read_req_encode(const rot_mbox_read_req_t *in,
                                     uint8_t *out, size_t cap,
                                     size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t w[] = {in->region, in->offset, in->length};
  return put(w, 3, NULL, 0, out, cap, out_len);
}

rot_error_t rot_mbox_begin_req_encode(const rot_mbox_begin_req_t *in,
                                      uint8_t *out, size_t cap,
                                      size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t w[] = {in->image_type, in->total_len};
  return put(w, 2, NULL, 0, out, cap, out_len);
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
  const uint32_t w[] = {in->offset, in->length};
  return put(w, 2, in->data, in->length, out, cap, out_len);
}

rot_error_t rot_mbox_audit_read_req_encode(const rot_mbox_audit_read_req_t *in,
                                           uint8_t *out, size_t cap,
                                           size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t w[] = {in->start_seq, in->count};
  return put(w, 2, NULL, 0, out, cap, out_len);
}

rot_error_t rot_mbox_lock_req_encode(const rot_mbox_lock_req_t *in,
                                     uint8_t *out, size_t cap,
                                     size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t w[] = {in->region};
  return put(w, 1, NULL, 0, out, cap, out_len);
}

rot_error_t rot_mbox_confirm_req_encode(const rot_mbox_confirm_req_t *in,
                                        uint8_t *out, size_t cap,
                                        size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t w[] = {in->image_type, in->flags};
  return put(w, 2, NULL, 0, out, cap, out_len);
}

rot_error_t rot_mbox_lifecycle_req_encode(const rot_mbox_lifecycle_req_t *in,
                                          uint8_t *out, size_t cap,
                                          size_t *out_len) {
  if (in == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  const uint32_t w[] = {in->from, in->to, in->confirm};
  return put(w, 3, NULL, 0, out, cap, out_len);
}
