/*
 * The wire layout of each fixed part of a mailbox payload, as field
 * tables (rot/wire.h) over the structs of rot/mailbox.h. The chip encodes
 * its replies and decodes requests with them; the host library decodes
 * replies (rot_client/mbox_replies.h) and builds requests with the same
 * tables, so both ends read one definition of every layout.
 */
#ifndef ROT_MBOX_LAYOUT_H
#define ROT_MBOX_LAYOUT_H

#include "rot/mailbox.h"
#include "rot/wire.h"

extern const rot_field_t rot_mbox_header_fields[];      /* 20 bytes */
extern const rot_field_t rot_mbox_type_req_fields[];    /* 4 */
extern const rot_field_t rot_mbox_read_req_fields[];    /* 12 */
extern const rot_field_t rot_mbox_begin_req_fields[];   /* 8 */
extern const rot_field_t rot_mbox_begin_resp_fields[];  /* 12 */
extern const rot_field_t rot_mbox_chunk_head_fields[];  /* 8: offset, length */
extern const rot_field_t rot_mbox_u32_fields[];         /* 4: one uint32_t */
extern const rot_field_t rot_mbox_image_info_fields[];  /* 128 */
extern const rot_field_t rot_mbox_type_state_fields[];  /* 16 */
extern const rot_field_t rot_mbox_status_fields[];      /* 116: the fixed part */
extern const rot_field_t rot_mbox_inventory_head_fields[];  /* 28: an entry before its info */
extern const rot_field_t rot_mbox_boot_head_fields[];   /* 8: reason, why */
extern const rot_field_t rot_mbox_audit_read_req_fields[];  /* 8 */
extern const rot_field_t rot_mbox_audit_read_head_fields[]; /* 8: count, next_seq */
extern const rot_field_t rot_mbox_audit_report_fields[];    /* 24 */
extern const rot_field_t rot_mbox_confirm_req_fields[];     /* 8 (the first 4: type) */
extern const rot_field_t rot_mbox_lifecycle_req_fields[];   /* 12 */

/* 1 for a slot value the protocol knows (ROT_SLOT_A, _B, _NONE). */
int rot_mbox_slot_valid(uint32_t slot);

#endif /* ROT_MBOX_LAYOUT_H */
