/*
 * Update engine and boot decision: policy-locked, power-fail-safe A/B
 * updates with trial boot, confirm, revert and a golden recovery image.
 *
 * Persistent state lives in the state region as two copies (one erase
 * block each). A write erases and programs the older copy with the next
 * sequence number; a copy whose MAC does not match is ignored, so a power
 * cut at any flash operation leaves the previous state in force. The MAC
 * is HMAC-SHA-256 under a key derived from the device secret in OTP: only
 * the chip can write a state the chip will accept, so a record written
 * with a flash programmer is refused (docs/flash-layout.md).
 *
 * The two-phase SVN rule: confirm first persists "slot X is confirmed,
 * floor must become S" and only then programs the OTP floor; a cut between
 * the two is completed at the next boot, and the floor never moves before
 * the confirm is durable, nor above the SVN of a verified image of that
 * type present in its slots.
 *
 * Every type with a slot pair, the golden recovery image included, follows
 * the same A/B rules: an update only ever writes the slot that is neither
 * confirmed nor on trial, so a refused or aborted update never touches the
 * image in force.
 */
#ifndef ROT_UPDATE_H
#define ROT_UPDATE_H

#include <stdint.h>

#include "rot/audit.h"
#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/flash.h"
#include "rot/gate.h"
#include "rot/image.h"
#include "rot/otp.h"

#define ROT_UPDATE_STATE_MAGIC 0x53555452u /* bytes "RTUS" */
#define ROT_TRIAL_ATTEMPTS 3u
/* Largest chunk a single update_chunk call may carry. */
#define ROT_UPDATE_CHUNK_MAX 65536u

/* Per image type persisted state. */
typedef struct rot_type_state {
  uint8_t active;        /* confirmed slot, ROT_SLOT_NONE if never installed */
  uint8_t pending;       /* slot on trial after activate, or NONE */
  uint8_t staged;        /* slot holding a verified, not yet activated image */
  uint8_t attempts_left; /* trial boots left for the pending slot */
  uint32_t floor_pending; /* svn the OTP floor must reach; 0 when done */
} rot_type_state_t;

_Static_assert(sizeof(rot_type_state_t) == 8, "type state");

typedef struct rot_update_state {
  uint32_t magic;
  uint32_t seq;
  rot_type_state_t types[ROT_IMAGE_TYPE_SLOTS];
  uint8_t mac[32]; /* HMAC-SHA-256 of the bytes before it (state key) */
} rot_update_state_t;

_Static_assert(sizeof(rot_update_state_t) == 104, "update state");
_Static_assert(offsetof(rot_update_state_t, types) == 8, "types");
_Static_assert(offsetof(rot_update_state_t, mac) == 72, "mac");

/* Bytes of one encoded state copy, and of the key that authenticates it. */
#define ROT_UPDATE_STATE_SIZE 104u
#define ROT_UPDATE_STATE_KEY_LEN 32u

/* Why a boot decision picked what it picked. */
typedef enum rot_boot_reason {
  ROT_BOOT_ACTIVE = 1,         /* the confirmed slot */
  ROT_BOOT_TRIAL = 2,          /* the pending slot, on trial */
  ROT_BOOT_FALLBACK_OTHER = 3, /* active slot bad; the other slot is valid */
  ROT_BOOT_RECOVERY = 4,       /* both slots bad: golden image */
  ROT_BOOT_NONE = 5,           /* nothing verifies: host stays off */
} rot_boot_reason_t;

typedef struct rot_boot_decision {
  uint32_t image_type;
  uint32_t region;   /* flash region to boot from (ROT_RGN_COUNT: none) */
  uint32_t reason;   /* rot_boot_reason_t */
  rot_error_t why;   /* for FALLBACK/RECOVERY/NONE: why the preferred failed */
  uint32_t image_len; /* exact length of the verified image in the region */
  rot_verified_image_t verified; /* token for the image chosen */
} rot_boot_decision_t;

typedef struct rot_update_session {
  hardened_bool_t open;
  uint32_t image_type;
  uint32_t region;
  uint32_t declared_len;
  uint32_t written;
  uint64_t last_activity; /* seconds, for the idle timeout */
  uint32_t payload_off; /* header + manifest; 0 until the header is in */
  uint32_t payload_end; /* payload_off + payload_len */
  uint32_t svn;         /* what the staged header claims, once it is in */
  /* One hash pass per update: SHA-384 of the payload, fed with each
   * chunk's bytes as read back from flash (and compared with what
   * arrived), so finish verifies without reading the payload again. */
  rot_hash_ctx_t payload_hash;
} rot_update_session_t;

/* What a completed verification proves about one slot: the token, and
 * which type and slot it was taken from. */
typedef struct rot_slot_token {
  rot_verified_image_t v;
  uint32_t type;
  uint32_t slot;
} rot_slot_token_t;

/*
 * The last full verification of the image in one slot (finish's of the
 * staged image, or the one that chose the slot an update writes).
 * Activate, and the choice of the slot an update writes, take it in place
 * of a second full verification while it still holds: same type and slot,
 * the slot not written through the gate since (gate write count), and the
 * same OTP policy. A reset forgets it; boot, confirm and revert always
 * verify in full.
 */
typedef struct rot_staged_token {
  hardened_bool_t valid;
  uint32_t region;
  uint32_t writes; /* gate->writes[region] when verified */
  rot_policy_t policy;
  rot_slot_token_t tok;
} rot_staged_token_t;

/* The engine: everything it touches is passed in; no globals. */
typedef struct rot_update {
  rot_gate_t *gate;
  const rot_otp_port_t *otp;
  const rot_crypto_t *crypto;
  rot_audit_t *audit; /* may be NULL */
  uint64_t (*now)(void);
  uint8_t *scratch;   /* >= largest slot region; images are verified here */
  uint32_t scratch_len;
  uint32_t state_copy; /* which state block holds state (0/1) */
  /* Bit i: state copy i was written but failed authentication at init
   * (a torn write, or a record the chip never wrote); it was ignored. */
  uint32_t state_rejected;
  /* HARDENED_TRUE on a decommissioned device: no state key (the device
   * secret is locked away), a fresh state, and every commit refused. */
  hardened_bool_t sealed;
  /* The scalars above and the session's first fields stay within reach
   * of the short (compressed) loads and stores of a chip's instruction
   * set; the large members follow. */
  rot_update_session_t session;
  rot_update_state_t state;
  uint8_t state_key[ROT_UPDATE_STATE_KEY_LEN]; /* from the device secret */
  rot_staged_token_t known[2]; /* by slot: ROT_SLOT_A, ROT_SLOT_B */
  /* Per type: HARDENED_TRUE once a boot decision since this (re)start
   * handed out the image on trial, in slot trial_slot. Never persisted:
   * the attempt count is durable before the boot, so after a reset it
   * cannot tell a trial that ran from one cut off before it was handed
   * out; only this can, and a reset (which ends the host's boot too)
   * forgets it. Confirm requires it. */
  hardened_bool_t trial_run[ROT_IMAGE_TYPE_SLOTS];
  uint8_t trial_slot[ROT_IMAGE_TYPE_SLOTS];
} rot_update_t;

/** Derive the state key from the device secret (ROT_ERROR_OTP_NO_DEVICE_SECRET
 * when none is fused), load the state (newest authentic copy; fresh state
 * when none), finish any pending floor raise that a verified image justifies. */
ROT_WARN_UNUSED rot_error_t rot_update_init(rot_update_t *u, rot_gate_t *g,
                                            const rot_otp_port_t *otp,
                                            const rot_crypto_t *c,
                                            rot_audit_t *audit,
                                            uint64_t (*now)(void),
                                            uint8_t *scratch,
                                            uint32_t scratch_len);

/** Start a session for an image of len bytes into the inactive slot. */
ROT_WARN_UNUSED rot_error_t rot_update_begin(rot_update_t *u,
                                             uint32_t image_type, uint32_t len);
/** Append bytes at off (must equal the bytes written so far). */
ROT_WARN_UNUSED rot_error_t rot_update_chunk(rot_update_t *u, uint32_t off,
                                             const uint8_t *data, uint32_t len);
/** Verify the staged image in place; on success it becomes "staged". */
ROT_WARN_UNUSED rot_error_t rot_update_finish(rot_update_t *u,
                                              rot_verified_image_t *out);
/** Abandon the session (idempotent); status is recorded as the reason. */
void rot_update_abort(rot_update_t *u, rot_error_t reason);
/** Abort the session if idle for more than timeout seconds. 1 if aborted. */
int rot_update_expire(rot_update_t *u, uint64_t timeout);

/** Select the staged slot of a type for trial boot. */
ROT_WARN_UNUSED rot_error_t rot_update_activate(rot_update_t *u,
                                                uint32_t image_type);
/**
 * Make the pending slot permanent, then raise the OTP floor. Refused with
 * ROT_ERROR_UPDATE_NOT_TRIED while the image has not been chosen by a boot
 * decision in its trial (no attempt spent yet): confirming raises the
 * floor for good, so it comes after a trial boot.
 */
ROT_WARN_UNUSED rot_error_t rot_update_confirm(rot_update_t *u,
                                               uint32_t image_type,
                                               rot_verified_image_t *out);

/* rot_update_confirm_flags: confirm even though the trial never booted
 * (an explicit operator override, recorded as `confirm-untried`). */
#define ROT_CONFIRM_WITHOUT_TRIAL 0x1u
#define ROT_CONFIRM_FLAGS_ALL ROT_CONFIRM_WITHOUT_TRIAL

/** rot_update_confirm with flags (ROT_CONFIRM_*); unknown bits are
 * ROT_ERROR_INVALID_ARGUMENT. */
ROT_WARN_UNUSED rot_error_t rot_update_confirm_flags(rot_update_t *u,
                                                     uint32_t image_type,
                                                     uint32_t flags,
                                                     rot_verified_image_t *out);
/** Cancel a trial, or return to the other slot when no trial is pending
 * (refused if that image is below the floor or invalid). */
ROT_WARN_UNUSED rot_error_t rot_update_revert(rot_update_t *u,
                                              uint32_t image_type);

/**
 * The boot decision for one image type: which region boots, or none, and
 * why. Counts a trial boot (persisted) and reverts an expired trial. The
 * image chosen is fully verified; its token is in out->verified.
 */
ROT_WARN_UNUSED rot_error_t rot_boot_decide(rot_update_t *u,
                                            uint32_t image_type,
                                            rot_boot_decision_t *out);

/**
 * Verify the image stored in a region (header first, then exact length,
 * then everything rot_image_verify checks) into the scratch buffer.
 */
ROT_WARN_UNUSED rot_error_t rot_update_verify_region(rot_update_t *u,
                                                     uint32_t region,
                                                     uint32_t expected_type,
                                                     rot_verified_image_t *out,
                                                     uint32_t *image_len);

/**
 * Decode one stored state copy (ROT_UPDATE_STATE_SIZE bytes) and check its
 * MAC under key. ROT_ERROR_UPDATE_STATE_FORGED when the MAC does not match,
 * ROT_ERROR_UPDATE_STATE_CORRUPT for a bad magic or out-of-range field.
 */
ROT_WARN_UNUSED rot_error_t rot_update_state_decode(
    const rot_crypto_t *c, const uint8_t key[ROT_UPDATE_STATE_KEY_LEN],
    const uint8_t *buf, size_t len, rot_update_state_t *out);

/** Encode and MAC a state copy into buf (ROT_UPDATE_STATE_SIZE bytes). */
ROT_WARN_UNUSED rot_error_t rot_update_state_encode(
    const rot_crypto_t *c, const uint8_t key[ROT_UPDATE_STATE_KEY_LEN],
    const rot_update_state_t *s, uint8_t *buf, size_t len);

/** Derive the state key from the device secret in OTP. */
ROT_WARN_UNUSED rot_error_t rot_update_state_key(
    const rot_otp_port_t *otp, const rot_crypto_t *c,
    uint8_t key[ROT_UPDATE_STATE_KEY_LEN]);

#endif /* ROT_UPDATE_H */
