/*
 * Reply decoders of the mailbox protocol (docs/mailbox.md): what a client
 * reads back. The chip only encodes replies (rot/mailbox.h), so their
 * decoders live in the host library, on the layouts the chip's encoders
 * use (rot/mbox_layout.h). Every decoder is strict: exact lengths,
 * reserved fields zero, no byte left over (MAILBOX_BAD_ARGS otherwise),
 * INVALID_ARGUMENT for a NULL out or a NULL p with a length.
 */
#ifndef ROT_CLIENT_MBOX_REPLIES_H
#define ROT_CLIENT_MBOX_REPLIES_H

#include <stddef.h>
#include <stdint.h>

#include "rot/mailbox.h"

/**
 * What a reply to (command, seq) must satisfy: response flag set, same
 * command and seq (BAD_FRAME), and an empty payload unless the status is
 * ROT_OK (BAD_LENGTH).
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_reply_check(const rot_mbox_header_t *h,
                                                 uint16_t command,
                                                 uint32_t seq);

/* UPDATE_BEGIN reply: a known slot, chunk_max 1..ROT_MBOX_CHUNK_DATA_MAX. */
ROT_WARN_UNUSED rot_error_t rot_mbox_begin_resp_decode(
    const uint8_t *p, size_t len, rot_mbox_begin_resp_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_chunk_resp_decode(
    const uint8_t *p, size_t len, rot_mbox_chunk_resp_t *out);

/* UPDATE_FINISH reply. */
ROT_WARN_UNUSED rot_error_t rot_mbox_image_info_decode(
    const uint8_t *p, size_t len, rot_mbox_image_info_t *out);

/* ACTIVATE, CONFIRM, REVERT reply: known slots. */
ROT_WARN_UNUSED rot_error_t rot_mbox_type_state_decode(
    const uint8_t *p, size_t len, rot_mbox_type_state_t *out);

/* STATUS reply: type_count <= ROT_MBOX_MAX_TYPES, session_open 0 or 1;
 * out is all zero on error. */
ROT_WARN_UNUSED rot_error_t rot_mbox_status_decode(const uint8_t *p, size_t len,
                                                   rot_mbox_status_t *out);

/* INVENTORY reply: count <= ROT_MBOX_INVENTORY_MAX, printable NUL-padded
 * names, known flags and slots, VERIFIED set exactly when the status is
 * ROT_OK; out is all zero on error. */
ROT_WARN_UNUSED rot_error_t rot_mbox_inventory_decode(const uint8_t *p,
                                                      size_t len,
                                                      rot_mbox_inventory_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_boot_resp_decode(const uint8_t *p,
                                                      size_t len,
                                                      rot_mbox_boot_resp_t *out);

/* AUDIT_READ reply: records points into p (NULL when count is 0). */
ROT_WARN_UNUSED rot_error_t rot_mbox_audit_read_resp_decode(
    const uint8_t *p, size_t len, rot_mbox_audit_read_resp_t *out);

/** One record of an AUDIT_READ reply (layout in rot/audit.h). */
void rot_mbox_audit_record_decode(const uint8_t in[ROT_AUDIT_RECORD_SIZE],
                                  rot_audit_record_t *r);

/* AUDIT_VERIFY reply. The verdict is any rot_error_t value. */
ROT_WARN_UNUSED rot_error_t rot_mbox_audit_report_decode(
    const uint8_t *p, size_t len, rot_audit_report_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_lock_resp_decode(const uint8_t *p,
                                                      size_t len,
                                                      rot_mbox_lock_resp_t *out);

/* LIFECYCLE reply: the lifecycle now. */
ROT_WARN_UNUSED rot_error_t rot_mbox_lifecycle_resp_decode(const uint8_t *p,
                                                           size_t len,
                                                           uint32_t *lifecycle);

#endif /* ROT_CLIENT_MBOX_REPLIES_H */
