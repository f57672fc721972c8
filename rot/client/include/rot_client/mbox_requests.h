/*
 * Request builders of the mailbox protocol (docs/mailbox.md): what a
 * client sends. The chip only decodes requests (rot/mailbox.h), so the
 * builders live in the host library. Each writes the payload into out
 * (cap bytes) and its length into *out_len; BUFFER_TOO_SMALL when it does
 * not fit, INVALID_ARGUMENT for a NULL argument, MAILBOX_TOO_LARGE for a
 * chunk over ROT_MBOX_CHUNK_DATA_MAX.
 */
#ifndef ROT_CLIENT_MBOX_REQUESTS_H
#define ROT_CLIENT_MBOX_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "rot/mailbox.h"

ROT_WARN_UNUSED rot_error_t rot_mbox_type_req_encode(const rot_mbox_type_req_t *in,
                                                     uint8_t *out, size_t cap,
                                                     size_t *out_len);
ROT_WARN_UNUSED rot_error_t rot_mbox_read_req_encode(const rot_mbox_read_req_t *in,
                                                     uint8_t *out, size_t cap,
                                                     size_t *out_len);
ROT_WARN_UNUSED rot_error_t rot_mbox_begin_req_encode(
    const rot_mbox_begin_req_t *in, uint8_t *out, size_t cap, size_t *out_len);
/* The chunk's data may already sit where it goes (in->data == out +
 * ROT_MBOX_CHUNK_REQ_FIXED, read there straight from a file): it is not
 * copied then. */
ROT_WARN_UNUSED rot_error_t rot_mbox_chunk_req_encode(
    const rot_mbox_chunk_req_t *in, uint8_t *out, size_t cap, size_t *out_len);
ROT_WARN_UNUSED rot_error_t rot_mbox_audit_read_req_encode(
    const rot_mbox_audit_read_req_t *in, uint8_t *out, size_t cap,
    size_t *out_len);
ROT_WARN_UNUSED rot_error_t rot_mbox_lock_req_encode(const rot_mbox_lock_req_t *in,
                                                     uint8_t *out, size_t cap,
                                                     size_t *out_len);

/* CONFIRM with flags (8 bytes) and LIFECYCLE (12 bytes). */
ROT_WARN_UNUSED rot_error_t rot_mbox_confirm_req_encode(
    const rot_mbox_confirm_req_t *in, uint8_t *out, size_t cap,
    size_t *out_len);
ROT_WARN_UNUSED rot_error_t rot_mbox_lifecycle_req_encode(
    const rot_mbox_lifecycle_req_t *in, uint8_t *out, size_t cap,
    size_t *out_len);

#endif /* ROT_CLIENT_MBOX_REQUESTS_H */
