/*
 * One error type for the whole stack.
 *
 * Every code is listed once, in ROT_ERROR_LIST, and the list is only ever
 * extended. A code packs its module and a per-module number together with
 * the bitwise complement of both, so any two codes differ in at least two
 * bits and a single flipped bit can never turn one code into another.
 * Success (ROT_OK) is far from 0 and from every error code; a unit test
 * checks the list stays unique and well separated.
 */
#ifndef ROT_ERROR_H
#define ROT_ERROR_H

#include <stdint.h>

/* Modules: small numbers (1..0x7f) so every code fits in an int. */
#define ROT_MOD_GENERIC 0x01
#define ROT_MOD_IMAGE 0x02
#define ROT_MOD_MANIFEST 0x03
#define ROT_MOD_CRYPTO 0x04
#define ROT_MOD_OTP 0x05
#define ROT_MOD_POLICY 0x06
#define ROT_MOD_IO 0x07
#define ROT_MOD_FLASH 0x08
#define ROT_MOD_GATE 0x09
#define ROT_MOD_UPDATE 0x0a
#define ROT_MOD_AUDIT 0x0b
#define ROT_MOD_MAILBOX 0x0c
#define ROT_MOD_BOOT 0x0d
#define ROT_MOD_EVENTLOG 0x0e
#define ROT_MOD_TPM 0x0f
#define ROT_MOD_HANDOFF 0x10
#define ROT_MOD_HOST 0x11
#define ROT_MOD_IDENTITY 0x12
#define ROT_MOD_ATTEST 0x15

/* (module, number) -> code; the low 16 bits are the complement of the high. */
#define ROT_ERROR_VALUE(mod, num)                                       \
  ((int32_t)((((uint32_t)(mod) & 0x7fu) << 24) |                        \
             (((uint32_t)(num) & 0xffu) << 16) |                        \
             ((~((((uint32_t)(mod) & 0x7fu) << 8) |                     \
                 ((uint32_t)(num) & 0xffu))) & 0xffffu)))

/*
 * X(name, module, number, "one-line reason").
 * Append only: never renumber or reuse an entry.
 */
#define ROT_ERROR_LIST(X)                                                      \
  X(ROT_ERROR_INVALID_ARGUMENT, ROT_MOD_GENERIC, 1, "invalid argument")        \
  X(ROT_ERROR_BUFFER_TOO_SMALL, ROT_MOD_GENERIC, 2, "buffer too small")        \
  X(ROT_ERROR_UNSUPPORTED, ROT_MOD_GENERIC, 3, "operation not supported")      \
  X(ROT_ERROR_INTERNAL, ROT_MOD_GENERIC, 4, "internal consistency check failed") \
  X(ROT_ERROR_IMAGE_TRUNCATED, ROT_MOD_IMAGE, 1, "image truncated: shorter than its header declares") \
  X(ROT_ERROR_IMAGE_BAD_MAGIC, ROT_MOD_IMAGE, 2, "image header: bad magic")    \
  X(ROT_ERROR_IMAGE_BAD_VERSION, ROT_MOD_IMAGE, 3, "image header: unsupported format version") \
  X(ROT_ERROR_IMAGE_BAD_HEADER_SIZE, ROT_MOD_IMAGE, 4, "image header: bad header size") \
  X(ROT_ERROR_IMAGE_BAD_TYPE, ROT_MOD_IMAGE, 5, "image header: unknown image type") \
  X(ROT_ERROR_IMAGE_BAD_FLAGS, ROT_MOD_IMAGE, 6, "image header: unknown flag bits set") \
  X(ROT_ERROR_IMAGE_RESERVED_NONZERO, ROT_MOD_IMAGE, 7, "image header: reserved field not zero") \
  X(ROT_ERROR_IMAGE_BAD_LENGTH, ROT_MOD_IMAGE, 8, "image header: declared lengths overflow or exceed the limit") \
  X(ROT_ERROR_IMAGE_EMPTY_PAYLOAD, ROT_MOD_IMAGE, 9, "image header: zero-length payload") \
  X(ROT_ERROR_IMAGE_TRAILING_DATA, ROT_MOD_IMAGE, 10, "image has trailing bytes after the signature") \
  X(ROT_ERROR_IMAGE_BAD_LOAD_ADDR, ROT_MOD_IMAGE, 11, "load address or payload outside the region allowed for this image type") \
  X(ROT_ERROR_IMAGE_BAD_ENTRY, ROT_MOD_IMAGE, 12, "entry point outside the loaded payload") \
  X(ROT_ERROR_IMAGE_BAD_SIGNATURE, ROT_MOD_IMAGE, 13, "image signature does not verify") \
  X(ROT_ERROR_IMAGE_DIGEST_MISMATCH, ROT_MOD_IMAGE, 14, "payload digest does not match the header") \
  X(ROT_ERROR_IMAGE_BAD_SVN, ROT_MOD_IMAGE, 15, "image header: security version above the maximum") \
  X(ROT_ERROR_IMAGE_LOAD_MISALIGNED, ROT_MOD_IMAGE, 16, "image header: load address not aligned (4 bytes for code, 8 for a device tree)") \
  X(ROT_ERROR_IMAGE_ENTRY_MISALIGNED, ROT_MOD_IMAGE, 17, "image header: entry point not 4-byte aligned") \
  X(ROT_ERROR_MANIFEST_BAD_MAGIC, ROT_MOD_MANIFEST, 1, "key manifest: bad magic") \
  X(ROT_ERROR_MANIFEST_BAD_VERSION, ROT_MOD_MANIFEST, 2, "key manifest: unsupported version") \
  X(ROT_ERROR_MANIFEST_BAD_LENGTH, ROT_MOD_MANIFEST, 3, "key manifest: length disagrees with its key count") \
  X(ROT_ERROR_MANIFEST_BAD_KEY_COUNT, ROT_MOD_MANIFEST, 4, "key manifest: key count out of range") \
  X(ROT_ERROR_MANIFEST_WRONG_ROOT, ROT_MOD_MANIFEST, 5, "key manifest: root key does not match the OTP root key hash") \
  X(ROT_ERROR_MANIFEST_BAD_SIGNATURE, ROT_MOD_MANIFEST, 6, "key manifest: root signature does not verify") \
  X(ROT_ERROR_MANIFEST_KEY_NOT_FOUND, ROT_MOD_MANIFEST, 7, "signing key index not certified by the key manifest") \
  X(ROT_ERROR_MANIFEST_DUPLICATE_KEY, ROT_MOD_MANIFEST, 8, "key manifest: duplicate key index") \
  X(ROT_ERROR_MANIFEST_BAD_KEY_INDEX, ROT_MOD_MANIFEST, 9, "key manifest: key index out of range") \
  X(ROT_ERROR_MANIFEST_RESERVED_NONZERO, ROT_MOD_MANIFEST, 10, "key manifest: reserved field not zero") \
  X(ROT_ERROR_CRYPTO_FAILED, ROT_MOD_CRYPTO, 1, "crypto backend failure") \
  X(ROT_ERROR_CRYPTO_BAD_KEY, ROT_MOD_CRYPTO, 2, "public key is not a valid P-384 point") \
  X(ROT_ERROR_CRYPTO_SIG_RANGE, ROT_MOD_CRYPTO, 3, "signature r or s is 0 or not below the curve order") \
  X(ROT_ERROR_CRYPTO_BAD_SIGNATURE, ROT_MOD_CRYPTO, 4, "signature does not verify") \
  X(ROT_ERROR_CRYPTO_RNG, ROT_MOD_CRYPTO, 5, "random number generator failure") \
  X(ROT_ERROR_CRYPTO_SIG_HIGH_S, ROT_MOD_CRYPTO, 6, "signature s is above n/2: only the canonical low-S form is accepted") \
  X(ROT_ERROR_OTP_NOT_PROVISIONED, ROT_MOD_OTP, 1, "OTP: root key hash not provisioned") \
  X(ROT_ERROR_OTP_BAD_LAYOUT, ROT_MOD_OTP, 2, "OTP: bad magic, version or size") \
  X(ROT_ERROR_OTP_CORRUPT, ROT_MOD_OTP, 3, "OTP: field not in a valid fuse pattern") \
  X(ROT_ERROR_OTP_ALREADY_SET, ROT_MOD_OTP, 4, "OTP: field already programmed") \
  X(ROT_ERROR_OTP_WRITE_FAILED, ROT_MOD_OTP, 5, "OTP: program failed or did not read back") \
  X(ROT_ERROR_OTP_COUNTER_EXHAUSTED, ROT_MOD_OTP, 6, "OTP: monotonic counter exhausted") \
  X(ROT_ERROR_OTP_NO_DEVICE_SECRET, ROT_MOD_OTP, 7, "OTP: no unique device secret fused (provision it: rotctl otp provision)") \
  X(ROT_ERROR_POLICY_KEY_REVOKED, ROT_MOD_POLICY, 1, "signing key is revoked in OTP") \
  X(ROT_ERROR_POLICY_TYPE_NOT_ALLOWED, ROT_MOD_POLICY, 2, "image type not allowed for the signing key") \
  X(ROT_ERROR_POLICY_SVN_BELOW_FLOOR, ROT_MOD_POLICY, 3, "security version below the floor (rollback)") \
  X(ROT_ERROR_POLICY_LIFECYCLE, ROT_MOD_POLICY, 4, "image not allowed in this lifecycle state") \
  X(ROT_ERROR_POLICY_TYPE_MISMATCH, ROT_MOD_POLICY, 5, "image type differs from the one expected") \
  X(ROT_ERROR_IO_READ, ROT_MOD_IO, 1, "read failed") \
  X(ROT_ERROR_IO_WRITE, ROT_MOD_IO, 2, "write failed") \
  X(ROT_ERROR_IO_OPEN, ROT_MOD_IO, 3, "cannot open file") \
  X(ROT_ERROR_IO_LOCKED, ROT_MOD_IO, 4, "file is locked by another process") \
  X(ROT_ERROR_IO_TOO_LARGE, ROT_MOD_IO, 5, "file too large") \
  X(ROT_ERROR_IO_PERMISSIONS, ROT_MOD_IO, 6, "file is open to group or others: it must be mode 0600") \
  X(ROT_ERROR_BOOT_NOT_VERIFIED, ROT_MOD_BOOT, 1, "image has no valid verification token") \
  X(ROT_ERROR_BOOT_NO_IMAGE, ROT_MOD_BOOT, 2, "no slot and no recovery image verifies: host stays off") \
  X(ROT_ERROR_BOOT_EMPTY_SLOT, ROT_MOD_BOOT, 3, "slot holds no image") \
  X(ROT_ERROR_FLASH_READ, ROT_MOD_FLASH, 1, "flash read failed") \
  X(ROT_ERROR_FLASH_PROGRAM, ROT_MOD_FLASH, 2, "flash program failed") \
  X(ROT_ERROR_FLASH_ERASE, ROT_MOD_FLASH, 3, "flash erase failed") \
  X(ROT_ERROR_FLASH_ALIGN, ROT_MOD_FLASH, 4, "flash erase address not block aligned") \
  X(ROT_ERROR_FLASH_BOUNDS, ROT_MOD_FLASH, 5, "flash access outside the device") \
  X(ROT_ERROR_FLASH_POWER_LOSS, ROT_MOD_FLASH, 6, "power lost during a flash operation") \
  X(ROT_ERROR_FLASH_BAD_LAYOUT, ROT_MOD_FLASH, 7, "flash partition table is inconsistent") \
  X(ROT_ERROR_GATE_DENIED, ROT_MOD_GATE, 1, "flash gate: operation not allowed on this region") \
  X(ROT_ERROR_GATE_LOCKED, ROT_MOD_GATE, 2, "flash gate: region locked until the chip resets (rotctl reset, or a rotd restart)") \
  X(ROT_ERROR_GATE_BOUNDS, ROT_MOD_GATE, 3, "flash gate: access outside the region") \
  X(ROT_ERROR_GATE_BAD_REGION, ROT_MOD_GATE, 4, "flash gate: no such region") \
  X(ROT_ERROR_GATE_NO_WINDOW, ROT_MOD_GATE, 5, "flash gate: no update session open on this region") \
  X(ROT_ERROR_GATE_NOT_LOCKABLE, ROT_MOD_GATE, 6, "flash gate: only image regions can be locked (nvcfg, state and audit belong to the chip)") \
  X(ROT_ERROR_UPDATE_BUSY, ROT_MOD_UPDATE, 1, "another update session is already open") \
  X(ROT_ERROR_UPDATE_NO_SESSION, ROT_MOD_UPDATE, 2, "no update session open") \
  X(ROT_ERROR_UPDATE_OUT_OF_ORDER, ROT_MOD_UPDATE, 3, "update chunk out of order") \
  X(ROT_ERROR_UPDATE_TOO_LARGE, ROT_MOD_UPDATE, 4, "update larger than the slot or its declared size") \
  X(ROT_ERROR_UPDATE_INCOMPLETE, ROT_MOD_UPDATE, 5, "update finished before all declared bytes arrived") \
  X(ROT_ERROR_UPDATE_NOT_STAGED, ROT_MOD_UPDATE, 6, "no verified staged image to activate") \
  X(ROT_ERROR_UPDATE_NOT_PENDING, ROT_MOD_UPDATE, 7, "no activated image on trial to confirm") \
  X(ROT_ERROR_UPDATE_TRIAL_PENDING, ROT_MOD_UPDATE, 8, "an activated image is on trial: confirm or revert it first") \
  X(ROT_ERROR_UPDATE_REVERT_BELOW_FLOOR, ROT_MOD_UPDATE, 9, "revert refused: the other image is below the SVN floor") \
  X(ROT_ERROR_UPDATE_REVERT_INVALID, ROT_MOD_UPDATE, 10, "revert refused: the other slot holds no valid image") \
  X(ROT_ERROR_UPDATE_STATE_CORRUPT, ROT_MOD_UPDATE, 11, "update state unreadable") \
  X(ROT_ERROR_UPDATE_TIMEOUT, ROT_MOD_UPDATE, 12, "update session idle too long") \
  X(ROT_ERROR_UPDATE_BAD_TYPE, ROT_MOD_UPDATE, 13, "image type has no update slots") \
  X(ROT_ERROR_UPDATE_STATE_FORGED, ROT_MOD_UPDATE, 14, "update state record fails authentication: not written by this chip") \
  X(ROT_ERROR_UPDATE_FLOOR_UNJUSTIFIED, ROT_MOD_UPDATE, 15, "floor raise refused: no verified image of that type carries the SVN") \
  X(ROT_ERROR_AUDIT_TAMPERED, ROT_MOD_AUDIT, 1, "audit log: a record's hash chain does not verify") \
  X(ROT_ERROR_AUDIT_BROKEN, ROT_MOD_AUDIT, 2, "audit log: records missing or out of order") \
  X(ROT_ERROR_MAILBOX_BAD_FRAME, ROT_MOD_MAILBOX, 1, "mailbox: malformed frame") \
  X(ROT_ERROR_MAILBOX_BAD_VERSION, ROT_MOD_MAILBOX, 2, "mailbox: unsupported protocol version") \
  X(ROT_ERROR_MAILBOX_BAD_LENGTH, ROT_MOD_MAILBOX, 3, "mailbox: length field disagrees with the frame") \
  X(ROT_ERROR_MAILBOX_UNKNOWN_COMMAND, ROT_MOD_MAILBOX, 4, "mailbox: unknown command") \
  X(ROT_ERROR_MAILBOX_UNAUTHORIZED, ROT_MOD_MAILBOX, 5, "mailbox: peer not authorised for this command") \
  X(ROT_ERROR_MAILBOX_TOO_LARGE, ROT_MOD_MAILBOX, 6, "mailbox: frame larger than the limit") \
  X(ROT_ERROR_MAILBOX_BAD_ARGS, ROT_MOD_MAILBOX, 7, "mailbox: command arguments malformed") \
  X(ROT_ERROR_MAILBOX_TIMEOUT, ROT_MOD_MAILBOX, 8, "mailbox: no reply before the timeout") \
  X(ROT_ERROR_MAILBOX_CLOSED, ROT_MOD_MAILBOX, 9, "mailbox: connection closed by the peer") \
  X(ROT_ERROR_MAILBOX_CONNECT, ROT_MOD_MAILBOX, 10, "mailbox: cannot connect to the daemon socket") \
  X(ROT_ERROR_MAILBOX_BUSY, ROT_MOD_MAILBOX, 11, "mailbox: connection limit reached for this peer (close idle connections)") \
  X(ROT_ERROR_EVENTLOG_TRUNCATED, ROT_MOD_EVENTLOG, 1, "event log: record runs past the end of the log") \
  X(ROT_ERROR_EVENTLOG_BAD_HEADER, ROT_MOD_EVENTLOG, 2, "event log: missing or malformed Spec ID Event03 header") \
  X(ROT_ERROR_EVENTLOG_BAD_PCR, ROT_MOD_EVENTLOG, 3, "event log: PCR index out of range") \
  X(ROT_ERROR_EVENTLOG_BAD_DIGESTS, ROT_MOD_EVENTLOG, 4, "event log: digest count, algorithm or size disagrees with the header") \
  X(ROT_ERROR_EVENTLOG_TOO_LARGE, ROT_MOD_EVENTLOG, 5, "event log: larger than the limit") \
  X(ROT_ERROR_EVENTLOG_FULL, ROT_MOD_EVENTLOG, 6, "event log: no room for another event") \
  X(ROT_ERROR_EVENTLOG_BAD_EVENT, ROT_MOD_EVENTLOG, 7, "event log: event data disagrees with its type or digest") \
  X(ROT_ERROR_TPM_TCTI, ROT_MOD_TPM, 1, "TPM: cannot load or connect the TCTI") \
  X(ROT_ERROR_TPM_COMMAND, ROT_MOD_TPM, 2, "TPM: command failed") \
  X(ROT_ERROR_TPM_BANKS, ROT_MOD_TPM, 3, "TPM: active PCR banks disagree with the event log banks") \
  X(ROT_ERROR_TPM_UNAVAILABLE, ROT_MOD_TPM, 4, "TPM: not reachable") \
  X(ROT_ERROR_HANDOFF_BAD_DTB, ROT_MOD_HANDOFF, 1, "handoff: input device tree is malformed") \
  X(ROT_ERROR_HANDOFF_FDT, ROT_MOD_HANDOFF, 2, "handoff: device tree edit failed") \
  X(ROT_ERROR_HANDOFF_SEAL, ROT_MOD_HANDOFF, 3, "handoff: cannot create or seal image memory") \
  X(ROT_ERROR_HANDOFF_QEMU, ROT_MOD_HANDOFF, 4, "handoff: cannot start the host CPU (qemu)") \
  X(ROT_ERROR_HANDOFF_MISMATCH, ROT_MOD_HANDOFF, 5, "handoff: bytes read back differ from the bytes the chip verified") \
  X(ROT_ERROR_HOST_TIMEOUT, ROT_MOD_HOST, 1, "timed out") \
  X(ROT_ERROR_HOST_PROTOCOL, ROT_MOD_HOST, 2, "peer spoke an unexpected protocol") \
  X(ROT_ERROR_HOST_PEER_UID, ROT_MOD_HOST, 3, "daemon socket served by a user that is neither root nor this user (see ROT_DAEMON_UID)") \
  X(ROT_ERROR_EVENTLOG_NO_ACTION, ROT_MOD_EVENTLOG, 8, "event log: EV_NO_ACTION event after the Spec ID header") \
  X(ROT_ERROR_EVENTLOG_UNCHECKED, ROT_MOD_EVENTLOG, 9, "event log: some digests could not be checked or replayed here (no such hash, or digests missing)") \
  X(ROT_ERROR_HANDOFF_NO_PLATFORM_BUS, ROT_MOD_HANDOFF, 6, "handoff: base device tree has no QEMU platform bus for the TPM node") \
  X(ROT_ERROR_HANDOFF_BAD_LOG_REGION, ROT_MOD_HANDOFF, 7, "handoff: event log region is outside RAM or overlaps a reservation") \
  X(ROT_ERROR_TPM_NOT_FRESH, ROT_MOD_TPM, 5, "TPM: boot PCRs already extended since the last TPM reset (restart the TPM)") \
  X(ROT_ERROR_TPM_PCR_MISMATCH, ROT_MOD_TPM, 6, "TPM: PCR values differ from the event log's replay (extended by someone else)") \
  X(ROT_ERROR_IDENTITY_NOT_PROVISIONED, ROT_MOD_IDENTITY, 1, "identity: no DeviceID certificate stored yet (rotctl identity csr, then store)") \
  X(ROT_ERROR_IDENTITY_NO_FIRMWARE, ROT_MOD_IDENTITY, 2, "identity: no RoT firmware verified and measured at this reset") \
  X(ROT_ERROR_IDENTITY_CERT_MISMATCH, ROT_MOD_IDENTITY, 3, "identity: certificate does not certify this chip's DeviceID key") \
  X(ROT_ERROR_IDENTITY_BAD_CERT, ROT_MOD_IDENTITY, 4, "identity: malformed certificate or not a P-384 key") \
  X(ROT_ERROR_IDENTITY_ALREADY_PROVISIONED, ROT_MOD_IDENTITY, 5, "identity: a DeviceID certificate is already stored and the device is past dev: it cannot be replaced") \
  X(ROT_ERROR_BOOT_RECOVERY_ONLY, ROT_MOD_BOOT, 4, "no valid RoT firmware: the chip serves recovery commands only (install one with rotctl update --type rot)") \
  X(ROT_ERROR_UPDATE_NOT_TRIED, ROT_MOD_UPDATE, 16, "confirm refused: the image on trial has not booted yet (boot it, then confirm)") \
  X(ROT_ERROR_UPDATE_SEALED, ROT_MOD_UPDATE, 17, "device decommissioned: no updates, only recovery boots") \
  X(ROT_ERROR_OTP_SECRET_LOCKED, ROT_MOD_OTP, 8, "OTP: device secret locked (decommissioned)") \
  X(ROT_ERROR_POLICY_LIFECYCLE_STEP, ROT_MOD_POLICY, 6, "lifecycle: only dev -> production -> decommissioned, one step") \
  X(ROT_ERROR_POLICY_LIFECYCLE_FROM, ROT_MOD_POLICY, 7, "lifecycle: device not in the state the step starts from") \
  X(ROT_ERROR_POLICY_NOT_CONFIRMED, ROT_MOD_POLICY, 8, "irreversible operation not confirmed") \
  X(ROT_ERROR_HOST_KEY_MISMATCH, ROT_MOD_HOST, 4, "private key is not the signing key the key manifest certifies for that index") \
  X(ROT_ERROR_ATTEST_BAD_EVIDENCE, ROT_MOD_ATTEST, 1, "attestation: evidence malformed") \
  X(ROT_ERROR_ATTEST_BAD_POLICY, ROT_MOD_ATTEST, 2, "attestation: reference values (policy) malformed") \
  X(ROT_ERROR_ATTEST_BAD_TRUST, ROT_MOD_ATTEST, 3, "attestation: trust anchors missing or malformed") \
  X(ROT_ERROR_ATTEST_CREDENTIAL, ROT_MOD_ATTEST, 4, "attestation: credential blob malformed or not for this key") \
  X(ROT_ERROR_ATTEST_BATCH, ROT_MOD_ATTEST, 5, "attestation: nonce batch empty, too large or malformed") \
  X(ROT_ERROR_ATTEST_NO_AK, ROT_MOD_ATTEST, 6, "attestation: no attestation key at its handle (attestctl ak create)") \
  X(ROT_ERROR_ATTEST_STATE, ROT_MOD_ATTEST, 7, "attestation: verifier state unreadable or malformed") \
  X(ROT_ERROR_ATTEST_PCR_PADDING, ROT_MOD_ATTEST, 8, "attestation: PCR values file has a non-zero padding byte or unused entry") \
  X(ROT_ERROR_CRYPTO_UNKNOWN_BACKEND, ROT_MOD_CRYPTO, 7, "ROT_CRYPTO names no crypto backend (mbedtls or openssl)") \
  X(ROT_ERROR_OTP_LIFECYCLE_BLANK, ROT_MOD_OTP, 9, "OTP: provisioned (magic fused) but lifecycle blank: inconsistent fuses, refused")

typedef enum rot_error {
  /* Success: far (in Hamming distance) from 0 and from every error code. */
  ROT_OK = 0x00000739,
#define ROT_ERROR_ENUM_(name, mod, num, text) name = ROT_ERROR_VALUE(mod, num),
  ROT_ERROR_LIST(ROT_ERROR_ENUM_)
#undef ROT_ERROR_ENUM_
} rot_error_t;

/* Marks a function whose result must be checked. */
#define ROT_WARN_UNUSED __attribute__((warn_unused_result))

/** Module number packed into a code (0 for ROT_OK). */
static inline uint32_t rot_error_module(rot_error_t err) {
  return err == ROT_OK ? 0u : (((uint32_t)err) >> 24) & 0x7fu;
}

/* Propagate a failure: evaluate once, return it when not ROT_OK. */
#define ROT_TRY(expr_)                  \
  do {                                  \
    rot_error_t rot_try_err_ = (expr_); \
    if (rot_try_err_ != ROT_OK) {       \
      return rot_try_err_;              \
    }                                   \
  } while (0)

#endif /* ROT_ERROR_H */
