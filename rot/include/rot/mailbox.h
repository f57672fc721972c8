/*
 * Mailbox protocol between the host and the security chip (rotd): the
 * frame codec and the payload of every command. Portable core code: no
 * allocation, no I/O; the daemon and the clients move the bytes.
 *
 * A frame is a fixed 20-byte little-endian header followed by exactly
 * payload_len bytes (docs/mailbox.md):
 *
 *   off  size  field
 *     0     2  magic        ROT_MBOX_MAGIC (bytes "RM")
 *     2     1  version      ROT_MBOX_VERSION
 *     3     1  flags        bit 0: response; other bits must be 0
 *     4     2  command      rot_mbox_command_t
 *     6     2  reserved     0
 *     8     4  seq          chosen by the requester, echoed in the reply
 *    12     4  status       rot_error_t of the reply; 0 in requests
 *    16     4  payload_len  frame length - 20, at most ROT_MBOX_MAX_PAYLOAD
 *
 * Every decoder is strict: exact lengths, reserved fields zero, no byte
 * left over. A reply whose status is not ROT_OK carries no payload.
 */
#ifndef ROT_MAILBOX_H
#define ROT_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#include "rot/audit.h"
#include "rot/crypto.h"
#include "rot/error.h"

#define ROT_MBOX_MAGIC 0x4d52u /* bytes "RM" */
#define ROT_MBOX_VERSION 1u
#define ROT_MBOX_HEADER_SIZE 20u
#define ROT_MBOX_FLAG_RESPONSE 0x01u
#define ROT_MBOX_FLAGS_KNOWN ROT_MBOX_FLAG_RESPONSE
/* One 64 KiB data block plus room for the fields around it. */
#define ROT_MBOX_MAX_PAYLOAD (65536u + 64u)
#define ROT_MBOX_MAX_FRAME (ROT_MBOX_HEADER_SIZE + ROT_MBOX_MAX_PAYLOAD)

/* Per-command limits. */
#define ROT_MBOX_READ_MAX 65536u        /* READ_REGION length */
#define ROT_MBOX_CHUNK_DATA_MAX 65536u  /* UPDATE_CHUNK data (= engine limit) */
#define ROT_MBOX_AUDIT_MAX_RECORDS 512u /* AUDIT_READ count */
#define ROT_MBOX_MAX_TYPES 8u           /* STATUS type entries */
#define ROT_MBOX_INVENTORY_MAX 16u      /* INVENTORY entries */
#define ROT_MBOX_NAME_LEN 16u           /* region name, NUL padded */

/* "No region" on the wire (boot decision NONE). */
#define ROT_MBOX_REGION_NONE 0xffffffffu
/* LOCK argument: every boot region at once. */
#define ROT_MBOX_LOCK_BOOT 0xffffffffu

/* Commands. Values are the protocol: append only. */
typedef enum rot_mbox_command {
  ROT_MBOX_CMD_STATUS = 0x0001,
  ROT_MBOX_CMD_INVENTORY = 0x0002,
  ROT_MBOX_CMD_READ_REGION = 0x0003,
  ROT_MBOX_CMD_UPDATE_BEGIN = 0x0010,
  ROT_MBOX_CMD_UPDATE_CHUNK = 0x0011,
  ROT_MBOX_CMD_UPDATE_FINISH = 0x0012,
  ROT_MBOX_CMD_UPDATE_ABORT = 0x0013,
  ROT_MBOX_CMD_ACTIVATE = 0x0014,
  ROT_MBOX_CMD_CONFIRM = 0x0015,
  ROT_MBOX_CMD_REVERT = 0x0016,
  ROT_MBOX_CMD_BOOT = 0x0020,
  ROT_MBOX_CMD_AUDIT_READ = 0x0030,
  ROT_MBOX_CMD_AUDIT_VERIFY = 0x0031,
  ROT_MBOX_CMD_LOCK = 0x0040,
  ROT_MBOX_CMD_RESET = 0x0050,
  /* Chip identity (rot/identity.h, docs/mailbox.md "Identity"). */
  ROT_MBOX_CMD_IDENTITY = 0x0060,
  ROT_MBOX_CMD_ENDORSE = 0x0061,
  ROT_MBOX_CMD_IDENTITY_CSR = 0x0062,
  ROT_MBOX_CMD_IDENTITY_STORE = 0x0063,
  ROT_MBOX_CMD_LIFECYCLE = 0x0070,
} rot_mbox_command_t;

/* ---- frame ------------------------------------------------------------ */

typedef struct rot_mbox_header {
  uint16_t magic;
  uint8_t version;
  uint8_t flags;
  uint16_t command;
  uint16_t reserved;
  uint32_t seq;
  uint32_t status;
  uint32_t payload_len;
} rot_mbox_header_t;

/* The in-memory struct mirrors the wire layout (the codec still goes
 * field by field, so host byte order never matters). */
_Static_assert(sizeof(rot_mbox_header_t) == ROT_MBOX_HEADER_SIZE, "mbox header");
_Static_assert(offsetof(rot_mbox_header_t, version) == 2, "version");
_Static_assert(offsetof(rot_mbox_header_t, flags) == 3, "flags");
_Static_assert(offsetof(rot_mbox_header_t, command) == 4, "command");
_Static_assert(offsetof(rot_mbox_header_t, reserved) == 6, "reserved");
_Static_assert(offsetof(rot_mbox_header_t, seq) == 8, "seq");
_Static_assert(offsetof(rot_mbox_header_t, status) == 12, "status");
_Static_assert(offsetof(rot_mbox_header_t, payload_len) == 16, "payload_len");

/**
 * Decode one whole frame of len bytes. Checks, in order: at least a
 * header (BAD_FRAME), at most ROT_MBOX_MAX_FRAME (TOO_LARGE), magic
 * (BAD_FRAME), version (BAD_VERSION), flags and reserved (BAD_FRAME),
 * payload_len <= ROT_MBOX_MAX_PAYLOAD (TOO_LARGE), payload_len ==
 * len - 20 (BAD_LENGTH). On success *payload points into frame.
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_frame_decode(const uint8_t *frame,
                                                  size_t len,
                                                  rot_mbox_header_t *hdr,
                                                  const uint8_t **payload);

/**
 * What a request must also satisfy: response flag clear, status 0
 * (BAD_FRAME), a known command (UNKNOWN_COMMAND).
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_request_check(const rot_mbox_header_t *h);

/**
 * Write a frame: header, then payload_len bytes of payload. payload may
 * already sit at out + ROT_MBOX_HEADER_SIZE (it is then left in place).
 * Errors: INVALID_ARGUMENT, MAILBOX_TOO_LARGE (payload over the limit),
 * BUFFER_TOO_SMALL.
 */
ROT_WARN_UNUSED rot_error_t rot_mbox_frame_encode(
    uint8_t *out, size_t cap, uint16_t command, uint8_t flags, uint32_t seq,
    uint32_t status, const uint8_t *payload, uint32_t payload_len,
    size_t *frame_len);

/**
 * Best-effort command and seq of a frame that failed to decode, so the
 * error reply can still name them (0 for fields the bytes do not reach).
 */
void rot_mbox_peek(const uint8_t *frame, size_t len, uint16_t *command,
                   uint32_t *seq);

/** 1 when cmd is a command of this protocol version. */
int rot_mbox_command_known(uint32_t cmd);

/* ---- payloads ------------------------------------------------------------
 * Each payload has a decoder (exact length, MAILBOX_BAD_ARGS for anything
 * malformed, MAILBOX_TOO_LARGE past a limit) and an encoder (writes
 * *out_len bytes; BUFFER_TOO_SMALL when cap is short). Empty payloads
 * (STATUS, INVENTORY, UPDATE_FINISH, UPDATE_ABORT and AUDIT_VERIFY
 * requests; the UPDATE_ABORT reply) have no codec: their length is 0.
 * Only what the chip runs is declared here (request decoders, reply
 * encoders); the host's reply decoders are rot_client/mbox_replies.h and
 * its request builders rot_client/mbox_requests.h, on the same layouts
 * (rot/mbox_layout.h).
 */

/* ACTIVATE, CONFIRM, REVERT, BOOT request. */
typedef struct rot_mbox_type_req {
  uint32_t image_type;
} rot_mbox_type_req_t;
#define ROT_MBOX_TYPE_REQ_SIZE 4u

/* READ_REGION request: length 1..ROT_MBOX_READ_MAX. Reply: the bytes. */
typedef struct rot_mbox_read_req {
  uint32_t region;
  uint32_t offset;
  uint32_t length;
} rot_mbox_read_req_t;
#define ROT_MBOX_READ_REQ_SIZE 12u

/* UPDATE_BEGIN request. */
typedef struct rot_mbox_begin_req {
  uint32_t image_type;
  uint32_t total_len;
} rot_mbox_begin_req_t;
#define ROT_MBOX_BEGIN_REQ_SIZE 8u

/* UPDATE_BEGIN reply: where the image goes, and the chunk size to use. */
typedef struct rot_mbox_begin_resp {
  uint32_t region;
  uint32_t slot; /* ROT_SLOT_A / _B / _NONE (recovery) */
  uint32_t chunk_max;
} rot_mbox_begin_resp_t;
#define ROT_MBOX_BEGIN_RESP_SIZE 12u

/* UPDATE_CHUNK request: offset, length, then exactly length data bytes
 * (1..ROT_MBOX_CHUNK_DATA_MAX). data points into the decoded payload. */
typedef struct rot_mbox_chunk_req {
  uint32_t offset;
  uint32_t length;
  const uint8_t *data;
} rot_mbox_chunk_req_t;
#define ROT_MBOX_CHUNK_REQ_FIXED 8u

/* UPDATE_CHUNK reply: bytes written so far. */
typedef struct rot_mbox_chunk_resp {
  uint32_t written;
} rot_mbox_chunk_resp_t;
#define ROT_MBOX_CHUNK_RESP_SIZE 4u

/*
 * A verified (or at least header-parsed) image; part of several replies.
 * signed_digest is SHA-384(header || key manifest), the bytes the image
 * signature covers, exactly as the verification hashed them: with the
 * payload digest it pins every byte of the image before the signature,
 * so a reader can prove the bytes it got are the bytes the chip verified.
 * It is all zero when nothing was verified (an INVENTORY entry with only
 * a parsed header).
 */
typedef struct rot_mbox_image_info {
  uint32_t image_type;
  uint32_t region; /* or ROT_MBOX_REGION_NONE */
  uint32_t svn;
  uint32_t key_index;
  uint16_t ver_major, ver_minor, ver_patch; /* then a reserved u16 = 0 */
  uint32_t payload_len;
  uint32_t image_len;
  uint8_t payload_digest[ROT_SHA384_LEN];
  uint8_t signed_digest[ROT_SHA384_LEN];
} rot_mbox_image_info_t;
#define ROT_MBOX_IMAGE_INFO_SIZE 128u
_Static_assert(ROT_MBOX_IMAGE_INFO_SIZE == 32u + 2u * ROT_SHA384_LEN,
               "image info: 32 fixed bytes, then the two digests");

/* ACTIVATE, CONFIRM, REVERT reply; also one STATUS entry. */
typedef struct rot_mbox_type_state {
  uint32_t image_type;
  uint8_t active;  /* ROT_SLOT_A / _B / _NONE */
  uint8_t pending;
  uint8_t staged;
  uint8_t attempts_left;
  uint32_t svn_floor;     /* OTP floor now */
  uint32_t floor_pending; /* floor a durable confirm still owes, or 0 */
} rot_mbox_type_state_t;
#define ROT_MBOX_TYPE_STATE_SIZE 16u

/* STATUS reply: 116 fixed bytes, then type_count type states. */
typedef struct rot_mbox_status {
  uint32_t lifecycle;
  uint32_t revoked_keys;
  uint8_t root_key_hash[ROT_SHA384_LEN];
  uint32_t flash_size;
  uint32_t erase_size;
  uint32_t locked_mask; /* bit i: region i locked until reset */
  uint32_t session_open; /* 0 or 1 */
  uint32_t session_type;
  uint32_t session_declared;
  uint32_t session_written;
  uint32_t audit_next_seq;
  /* The boot ROM stage's verdict at this reset: which RoT firmware runs. */
  uint32_t rom_reason; /* rot_boot_reason_t; ROT_BOOT_NONE: recovery only */
  uint32_t rom_region; /* rot-a / rot-b, or ROT_MBOX_REGION_NONE */
  uint32_t rom_why;    /* ROT_OK when booted, else why nothing booted */
  uint32_t rom_svn;
  uint16_t rom_ver_major, rom_ver_minor, rom_ver_patch; /* then u16 0 */
  uint32_t type_count; /* <= ROT_MBOX_MAX_TYPES */
  rot_mbox_type_state_t types[ROT_MBOX_MAX_TYPES];
} rot_mbox_status_t;
#define ROT_MBOX_STATUS_FIXED 116u

/* Inventory entry flags. */
#define ROT_MBOX_INV_ACTIVE 0x01u
#define ROT_MBOX_INV_PENDING 0x02u
#define ROT_MBOX_INV_STAGED 0x04u
#define ROT_MBOX_INV_LOCKED 0x08u
#define ROT_MBOX_INV_VERIFIED 0x10u /* set exactly when status == ROT_OK */
#define ROT_MBOX_INV_EMPTY 0x20u    /* region erased */
#define ROT_MBOX_INV_HEADER 0x40u   /* info fields come from a parsed header */
#define ROT_MBOX_INV_KNOWN 0x7fu

/* One image region in the INVENTORY reply (156 bytes). */
typedef struct rot_mbox_inventory_entry {
  uint8_t region;
  uint8_t slot;
  uint8_t kind; /* rot_region_kind_t */
  uint8_t flags;
  uint32_t region_type; /* image type the region is for */
  char name[ROT_MBOX_NAME_LEN]; /* printable, NUL terminated, zero padded */
  uint32_t status;              /* verification result (rot_error_t) */
  rot_mbox_image_info_t info;
} rot_mbox_inventory_entry_t;
#define ROT_MBOX_INVENTORY_ENTRY_SIZE 156u
_Static_assert(ROT_MBOX_INVENTORY_ENTRY_SIZE ==
                   28u + ROT_MBOX_IMAGE_INFO_SIZE,
               "inventory entry: 28 fixed bytes, then the image info");

/* INVENTORY reply: count, a reserved u32 = 0, count entries. */
typedef struct rot_mbox_inventory {
  uint32_t count; /* <= ROT_MBOX_INVENTORY_MAX */
  rot_mbox_inventory_entry_t entries[ROT_MBOX_INVENTORY_MAX];
} rot_mbox_inventory_t;
#define ROT_MBOX_INVENTORY_FIXED 8u
_Static_assert(ROT_MBOX_INVENTORY_FIXED +
                       ROT_MBOX_INVENTORY_MAX * ROT_MBOX_INVENTORY_ENTRY_SIZE <=
                   ROT_MBOX_MAX_PAYLOAD,
               "a full inventory fits one frame");

/* BOOT reply: the boot decision. reason ROT_BOOT_NONE: nothing boots. */
typedef struct rot_mbox_boot_resp {
  uint32_t reason; /* rot_boot_reason_t */
  uint32_t why;    /* rot_error_t: why the preferred slot was not used */
  rot_mbox_image_info_t info;
} rot_mbox_boot_resp_t;
#define ROT_MBOX_BOOT_RESP_SIZE (8u + ROT_MBOX_IMAGE_INFO_SIZE)

/* AUDIT_READ request: records with seq >= start_seq, at most count
 * (1..ROT_MBOX_AUDIT_MAX_RECORDS). */
typedef struct rot_mbox_audit_read_req {
  uint32_t start_seq;
  uint32_t count;
} rot_mbox_audit_read_req_t;
#define ROT_MBOX_AUDIT_READ_REQ_SIZE 8u

/* AUDIT_READ reply: count, next_seq (0: nothing after these), then count
 * raw 128-byte records. records points into the decoded payload. */
typedef struct rot_mbox_audit_read_resp {
  uint32_t count;
  uint32_t next_seq;
  const uint8_t *records;
} rot_mbox_audit_read_resp_t;
#define ROT_MBOX_AUDIT_READ_RESP_FIXED 8u

/* AUDIT_VERIFY reply: rot_audit_report_t on the wire. */
#define ROT_MBOX_AUDIT_REPORT_SIZE 24u

/* LOCK request: a region id, or ROT_MBOX_LOCK_BOOT. */
typedef struct rot_mbox_lock_req {
  uint32_t region;
} rot_mbox_lock_req_t;
#define ROT_MBOX_LOCK_REQ_SIZE 4u

/* LOCK reply: every region locked now (bit i: region i). */
typedef struct rot_mbox_lock_resp {
  uint32_t locked_mask;
} rot_mbox_lock_resp_t;
#define ROT_MBOX_LOCK_RESP_SIZE 4u

ROT_WARN_UNUSED rot_error_t rot_mbox_type_req_decode(const uint8_t *p, size_t len,
                                                     rot_mbox_type_req_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_read_req_decode(const uint8_t *p, size_t len,
                                                     rot_mbox_read_req_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_begin_req_decode(const uint8_t *p, size_t len,
                                                      rot_mbox_begin_req_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_begin_resp_encode(
    const rot_mbox_begin_resp_t *in, uint8_t *out, size_t cap, size_t *out_len);

ROT_WARN_UNUSED rot_error_t rot_mbox_chunk_req_decode(const uint8_t *p, size_t len,
                                                      rot_mbox_chunk_req_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_chunk_resp_encode(
    const rot_mbox_chunk_resp_t *in, uint8_t *out, size_t cap, size_t *out_len);

/* UPDATE_FINISH reply. */
ROT_WARN_UNUSED rot_error_t rot_mbox_image_info_encode(
    const rot_mbox_image_info_t *in, uint8_t *out, size_t cap, size_t *out_len);

ROT_WARN_UNUSED rot_error_t rot_mbox_type_state_encode(
    const rot_mbox_type_state_t *in, uint8_t *out, size_t cap, size_t *out_len);

ROT_WARN_UNUSED rot_error_t rot_mbox_status_encode(const rot_mbox_status_t *in,
                                                   uint8_t *out, size_t cap,
                                                   size_t *out_len);

ROT_WARN_UNUSED rot_error_t rot_mbox_inventory_encode(
    const rot_mbox_inventory_t *in, uint8_t *out, size_t cap, size_t *out_len);

ROT_WARN_UNUSED rot_error_t rot_mbox_boot_resp_encode(
    const rot_mbox_boot_resp_t *in, uint8_t *out, size_t cap, size_t *out_len);

ROT_WARN_UNUSED rot_error_t rot_mbox_audit_read_req_decode(
    const uint8_t *p, size_t len, rot_mbox_audit_read_req_t *out);

/* Writes the 8-byte head; the caller appends count records after it. */
ROT_WARN_UNUSED rot_error_t rot_mbox_audit_read_resp_encode(
    const rot_mbox_audit_read_resp_t *in, uint8_t *out, size_t cap,
    size_t *out_len);

/** A persisted audit record <-> its 128 raw bytes (layout in audit.h). */
void rot_mbox_audit_record_encode(const rot_audit_record_t *r,
                                  uint8_t out[ROT_AUDIT_RECORD_SIZE]);

/* AUDIT_VERIFY reply. The verdict is any rot_error_t value. */
ROT_WARN_UNUSED rot_error_t rot_mbox_audit_report_encode(
    const rot_audit_report_t *in, uint8_t *out, size_t cap, size_t *out_len);

ROT_WARN_UNUSED rot_error_t rot_mbox_lock_req_decode(const uint8_t *p, size_t len,
                                                     rot_mbox_lock_req_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_lock_resp_encode(
    const rot_mbox_lock_resp_t *in, uint8_t *out, size_t cap, size_t *out_len);

/* ---- CONFIRM and LIFECYCLE (one-way operations) ------------------------- */

/* CONFIRM request: the image type alone (4 bytes), or the type and flags
 * (8 bytes; ROT_CONFIRM_* of rot/update.h, other bits refused). */
typedef struct rot_mbox_confirm_req {
  uint32_t image_type;
  uint32_t flags;
} rot_mbox_confirm_req_t;
#define ROT_MBOX_CONFIRM_REQ_MIN 4u
#define ROT_MBOX_CONFIRM_REQ_SIZE 8u

/* LIFECYCLE request: from and to (rot_lifecycle_t) and the confirmation
 * word, which must be ROT_MBOX_LIFECYCLE_CONFIRM: a transition is burnt
 * into fuses for good, so a request must say so in as many words.
 * Reply: the lifecycle now (u32). */
#define ROT_MBOX_LIFECYCLE_CONFIRM 0x56525249u /* bytes "IRRV": irreversible */
typedef struct rot_mbox_lifecycle_req {
  uint32_t from;
  uint32_t to;
  uint32_t confirm;
} rot_mbox_lifecycle_req_t;
#define ROT_MBOX_LIFECYCLE_REQ_SIZE 12u
#define ROT_MBOX_LIFECYCLE_RESP_SIZE 4u

/* Decoding a 4-byte request gives flags 0 (the client's builder,
 * rot_client/mbox_requests.h, always writes 8 bytes). */
ROT_WARN_UNUSED rot_error_t rot_mbox_confirm_req_decode(
    const uint8_t *p, size_t len, rot_mbox_confirm_req_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_lifecycle_req_decode(
    const uint8_t *p, size_t len, rot_mbox_lifecycle_req_t *out);

ROT_WARN_UNUSED rot_error_t rot_mbox_lifecycle_resp_encode(uint32_t lifecycle,
                                                           uint8_t *out,
                                                           size_t cap,
                                                           size_t *out_len);

#endif /* ROT_MAILBOX_H */
