/*
 * TCG crypto-agile event log: writer, parser and replayer.
 *
 * Format: TCG PC Client Platform Firmware Profile, crypto agile. The log
 * starts with one SHA-1-style TCG_PCClientPCREvent (PCR 0, EV_NO_ACTION,
 * 20 zero digest bytes) whose data is the TCG_EfiSpecIDEventStruct
 * "Spec ID Event03" naming the digest banks; then TCG_PCR_EVENT2 records:
 *
 *   u32 PCRIndex | u32 EventType | u32 count | {u16 alg, digest}[count]
 *   | u32 EventSize | u8 Event[EventSize]
 *
 * All integers little-endian. Every record carries exactly one digest per
 * header bank. docs/pcr-plan.md lists the events the boot chain writes.
 *
 * Portable: no allocation, no libc; hashing goes through the crypto port.
 * The parser is strict and bounded (every length checked as
 * `len > size || off > size - len`), for the attestation verifier too.
 */
#ifndef BOOTCHAIN_EVENTLOG_H
#define BOOTCHAIN_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/hardened.h"

/* ---- TPM algorithm ids (TPM_ALG_ID) -------------------------------------- */
#define BC_ALG_SHA1 0x0004u
#define BC_ALG_SHA256 0x000bu
#define BC_ALG_SHA384 0x000cu
#define BC_ALG_SHA512 0x000du

/* ---- Event types (TCG PC Client PFP) the plan uses or the parser names --- */
#define BC_EV_PREBOOT_CERT 0x00000000u
#define BC_EV_POST_CODE 0x00000001u
#define BC_EV_NO_ACTION 0x00000003u
#define BC_EV_SEPARATOR 0x00000004u
#define BC_EV_ACTION 0x00000005u
#define BC_EV_EVENT_TAG 0x00000006u
#define BC_EV_S_CRTM_CONTENTS 0x00000007u
#define BC_EV_S_CRTM_VERSION 0x00000008u
#define BC_EV_CPU_MICROCODE 0x00000009u
#define BC_EV_PLATFORM_CONFIG_FLAGS 0x0000000au
#define BC_EV_TABLE_OF_DEVICES 0x0000000bu
#define BC_EV_COMPACT_HASH 0x0000000cu
#define BC_EV_IPL 0x0000000du
#define BC_EV_IPL_PARTITION_DATA 0x0000000eu
#define BC_EV_NONHOST_CODE 0x0000000fu
#define BC_EV_NONHOST_CONFIG 0x00000010u
#define BC_EV_NONHOST_INFO 0x00000011u
#define BC_EV_OMIT_BOOT_DEVICE_EVENTS 0x00000012u
#define BC_EV_EFI_EVENT_BASE 0x80000000u
#define BC_EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define BC_EV_EFI_VARIABLE_BOOT 0x80000002u
#define BC_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define BC_EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define BC_EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define BC_EV_EFI_GPT_EVENT 0x80000006u
#define BC_EV_EFI_ACTION 0x80000007u
#define BC_EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define BC_EV_EFI_HANDOFF_TABLES 0x80000009u
#define BC_EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000au
#define BC_EV_EFI_HANDOFF_TABLES2 0x8000000bu
#define BC_EV_EFI_VARIABLE_BOOT2 0x8000000cu
#define BC_EV_EFI_HCRTM_EVENT 0x80000010u
#define BC_EV_EFI_VARIABLE_AUTHORITY 0x800000e0u

/* ---- Limits -------------------------------------------------------------- */
#define BC_LOG_PCR_COUNT 24u     /* PCR indices 0..23 */
#define BC_LOG_MAX_BANKS 4u      /* SHA-1, SHA-256, SHA-384, SHA-512 */
#define BC_LOG_MAX_DIGEST 64u    /* largest digest (SHA-512) */
/* Whole-log cap: a larger log is refused, never parsed in part. */
#define BC_LOG_MAX_SIZE (16u * 1024u * 1024u)
/* TCG_PCR_EVENT2 records after the header; more is refused. */
#define BC_LOG_MAX_EVENTS 16384u
/* Longest vendorInfo the header may carry (it is a u8 count). */
#define BC_LOG_MAX_VENDOR_INFO 255u

/* Bytes of the SHA-1-style header record before its event data. */
#define BC_LOG_PCCLIENT_HDR_LEN 32u
/* "Spec ID Event03\0" */
#define BC_LOG_SPEC_ID_SIGNATURE_LEN 16u
extern const uint8_t bc_log_spec_id_signature[BC_LOG_SPEC_ID_SIGNATURE_LEN];

/*
 * Parse modes.
 *
 * BC_LOG_STRICT: the logs the chain writes and appraises. Crypto-agile
 * only, every record carries one digest per bank, no EV_NO_ACTION after
 * the header, and the plan's data-bound types (bc_log_type_is_data_bound)
 * must hash to their data.
 *
 * BC_LOG_FIRMWARE: real firmware logs, read as tpm2_eventlog reads them.
 * Also accepted: the legacy TCG 1.2 SHA-1 log (TCG_PCClientPCREvent
 * records, no Spec ID header); EV_NO_ACTION records, never extended, a
 * StartupLocality one setting PCR 0's initial value (PC Client PFP:
 * 0...0 with the locality in the last byte); records with fewer digests
 * than the header declares (a warning; the banks they lack cannot be
 * replayed). Only the types whose digest the PFP defines as the hash of
 * the event data are checked against it (bc_log_type_is_pfp_data_bound).
 *
 * Both modes refuse typed event data shorter than its structure
 * (UEFI_VARIABLE_DATA, UEFI_PLATFORM_FIRMWARE_BLOB[2], UEFI_IMAGE_LOAD_EVENT),
 * with ROT_ERROR_EVENTLOG_BAD_EVENT; the strict mode also refuses bytes the
 * structure does not account for. EV_POST_CODE data (a
 * UEFI_PLATFORM_FIRMWARE_BLOB or a short description such as "POST CODE" or
 * "SMM CODE") must hold 1 to BC_EV_POST_CODE_MAX bytes in both modes; in
 * strict mode it is the 16-byte blob or printable ASCII.
 */
#define BC_LOG_STRICT 0u
#define BC_LOG_FIRMWARE 1u

/* Log formats (bc_log_header_t.format). */
#define BC_LOG_FORMAT_AGILE 0u /* Spec ID Event03 header, TCG_PCR_EVENT2 */
#define BC_LOG_FORMAT_SHA1 1u  /* TCG 1.2: TCG_PCClientPCREvent only */

/* Warnings (bc_log_header_t.warnings), firmware mode only. */
#define BC_LOG_WARN_MISSING_DIGESTS 0x1u /* a record lacks some banks */
#define BC_LOG_WARN_NO_ACTION 0x2u       /* EV_NO_ACTION records present */

/* "StartupLocality\0" + u8 locality: EV_NO_ACTION on PCR 0 (PFP). */
#define BC_LOG_STARTUP_LOCALITY_SIGNATURE "StartupLocality"
#define BC_LOG_STARTUP_LOCALITY_LEN 17u
#define BC_LOG_MAX_LOCALITY 4u

/* One digest bank: TPM algorithm id and digest size in bytes. */
typedef struct bc_log_bank {
  uint16_t alg;
  uint16_t size;
} bc_log_bank_t;

/* The decoded Spec ID Event03 header. */
typedef struct bc_log_header {
  uint32_t platform_class;
  uint8_t spec_version_minor;
  uint8_t spec_version_major;
  uint8_t spec_errata;
  uint8_t uintn_size;
  uint32_t bank_count;                   /* 1..BC_LOG_MAX_BANKS */
  bc_log_bank_t banks[BC_LOG_MAX_BANKS]; /* in header order */
  uint32_t vendor_info_size;
  const uint8_t *vendor_info;            /* points into the log buffer */
  size_t header_len;                     /* bytes of the whole header record
                                            (0 in the SHA-1 format) */
  uint32_t event_count;                  /* records parsed (final on ROT_OK) */
  uint32_t mode;                         /* BC_LOG_STRICT or BC_LOG_FIRMWARE */
  uint32_t format;                       /* BC_LOG_FORMAT_* */
  uint32_t warnings;                     /* BC_LOG_WARN_* (final on ROT_OK) */
  uint32_t short_events;                 /* records lacking some bank */
  uint32_t no_action_events;             /* EV_NO_ACTION records */
  /* 1 when a StartupLocality event set PCR 0's initial locality. */
  uint32_t has_startup_locality;
  uint8_t startup_locality;
} bc_log_header_t;

/* One TCG_PCR_EVENT2 record as the parser hands it to the visitor. */
typedef struct bc_log_event {
  uint32_t index;       /* 0 for the first record after the header */
  size_t offset;        /* of the record in the log */
  size_t record_len;    /* whole record, header to end of data */
  uint32_t pcr;         /* < BC_LOG_PCR_COUNT */
  uint32_t type;        /* BC_EV_NO_ACTION only in firmware mode */
  /* digests[i] is the digest of header bank i (whatever the order in the
   * record), header.banks[i].size bytes; points into the log buffer.
   * NULL for a bank the record lacks (firmware mode only). */
  const uint8_t *digests[BC_LOG_MAX_BANKS];
  uint32_t digest_count; /* digests the record carries */
  uint32_t data_len;
  const uint8_t *data;  /* points into the log buffer */
} bc_log_event_t;

/* Digests of one event, indexed like the writer's / header's banks. */
typedef struct bc_log_digests {
  uint8_t value[BC_LOG_MAX_BANKS][BC_LOG_MAX_DIGEST];
} bc_log_digests_t;

/* ---- Writer -------------------------------------------------------------- */

typedef struct bc_log_writer {
  uint8_t *buf;
  size_t cap;  /* min(buffer size, BC_LOG_MAX_SIZE) */
  size_t len;  /* bytes written so far; the log is buf[0..len) */
  uint32_t bank_count;
  bc_log_bank_t banks[BC_LOG_MAX_BANKS];
  uint32_t event_count;
} bc_log_writer_t;

/**
 * Bytes one crypto-agile record with data_len bytes of event data takes
 * with w's banks (header, one digest per bank, size, data): the one
 * definition of a record's size, for the writer and for callers that
 * must know a log's final length ahead (SIZE_MAX when it cannot exist).
 */
size_t bc_log_record_size(const bc_log_writer_t *w, size_t data_len);

/**
 * Start a log in buf[0..cap) and write the Spec ID Event03 header
 * (platformClass 0, spec 2.0 errata 2, uintnSize 2, no vendor info).
 * algs: 1..BC_LOG_MAX_BANKS distinct ids from BC_ALG_*, in bank order.
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL, no or duplicate banks),
 * ROT_ERROR_UNSUPPORTED (unknown algorithm), ROT_ERROR_EVENTLOG_FULL.
 */
ROT_WARN_UNUSED rot_error_t bc_log_init(bc_log_writer_t *w, uint8_t *buf,
                                        size_t cap, const uint16_t *algs,
                                        size_t nalgs);

/**
 * Append a TCG_PCR_EVENT2 with caller-computed digests (one per bank, in
 * bank order). Writes all or nothing.
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL, pcr >= 24, type EV_NO_ACTION),
 * ROT_ERROR_EVENTLOG_FULL (no room or BC_LOG_MAX_EVENTS reached).
 */
ROT_WARN_UNUSED rot_error_t bc_log_append_digests(
    bc_log_writer_t *w, uint32_t pcr, uint32_t type, const bc_log_digests_t *d,
    const void *data, size_t data_len);

/**
 * Append an event whose digest in every bank is the hash of measured
 * [0..mlen) (e.g. a firmware image), with event data [0..dlen). The digests
 * are also copied to out (may be NULL) for the TPM extend.
 * Errors: as bc_log_append_digests; ROT_ERROR_UNSUPPORTED when a bank's
 * algorithm has no hash in the crypto port; crypto errors.
 */
ROT_WARN_UNUSED rot_error_t bc_log_measure(bc_log_writer_t *w,
                                           const rot_crypto_t *c, uint32_t pcr,
                                           uint32_t type, const void *measured,
                                           size_t mlen, const void *data,
                                           size_t dlen, bc_log_digests_t *out);

/**
 * Append an event whose digest is the hash of its own data (EV_SEPARATOR,
 * EV_S_CRTM_VERSION, the configuration events of the PCR plan).
 */
ROT_WARN_UNUSED rot_error_t bc_log_append_data(bc_log_writer_t *w,
                                               const rot_crypto_t *c,
                                               uint32_t pcr, uint32_t type,
                                               const void *data, size_t len,
                                               bc_log_digests_t *out);

/** EV_SEPARATOR on pcr: data 4 zero bytes, digest = hash of the data. */
ROT_WARN_UNUSED rot_error_t bc_log_separator(bc_log_writer_t *w,
                                             const rot_crypto_t *c,
                                             uint32_t pcr,
                                             bc_log_digests_t *out);

/**
 * EV_S_CRTM_VERSION on PCR 0: data is version (printable ASCII, 1..63
 * chars) as UCS-2LE with a terminating NUL; digest = hash of the data.
 */
ROT_WARN_UNUSED rot_error_t bc_log_s_crtm_version(bc_log_writer_t *w,
                                                  const rot_crypto_t *c,
                                                  const char *version,
                                                  bc_log_digests_t *out);

/* ---- Parser -------------------------------------------------------------- */

/**
 * Called once per record, in log order. Returning anything but ROT_OK
 * stops the parse, and bc_log_parse returns that code.
 */
typedef rot_error_t (*bc_log_visit_fn)(void *ctx, const bc_log_header_t *hdr,
                                       const bc_log_event_t *ev);

/**
 * Parse and validate a whole log. hdr (may be NULL) receives the header;
 * visit (may be NULL) sees each record. A log is valid only if every byte
 * belongs to the header or a whole record.
 * Errors:
 *   ROT_ERROR_EVENTLOG_TOO_LARGE   len > BC_LOG_MAX_SIZE, or more than
 *                                  BC_LOG_MAX_EVENTS records
 *   ROT_ERROR_EVENTLOG_BAD_HEADER  shorter than or not a valid Spec ID
 *                                  Event03 header (this covers 0..7 bytes)
 *   ROT_ERROR_EVENTLOG_TRUNCATED   a record runs past the end of the log
 *   ROT_ERROR_EVENTLOG_BAD_PCR     PCR index >= 24
 *   ROT_ERROR_EVENTLOG_BAD_DIGESTS digest count != bank count, or an
 *                                  algorithm not in the header, or repeated
 *   ROT_ERROR_EVENTLOG_NO_ACTION   EV_NO_ACTION after the header
 *   ROT_ERROR_INVALID_ARGUMENT     buf NULL with len > 0
 */
ROT_WARN_UNUSED rot_error_t bc_log_parse(const uint8_t *buf, size_t len,
                                         bc_log_header_t *hdr,
                                         bc_log_visit_fn visit, void *ctx);

/**
 * bc_log_parse in a given mode (BC_LOG_STRICT is bc_log_parse). In
 * BC_LOG_FIRMWARE mode a log that does not start with a Spec ID Event03
 * header is read as a TCG 1.2 SHA-1 log. Errors: those of bc_log_parse,
 * except that firmware mode accepts EV_NO_ACTION and short digest lists;
 * ROT_ERROR_EVENTLOG_BAD_EVENT for typed data shorter than its structure
 * and for a StartupLocality event that is malformed, repeated, not on
 * PCR 0, after a PCR 0 extend, or names a locality above 4;
 * ROT_ERROR_INVALID_ARGUMENT for an unknown mode.
 */
ROT_WARN_UNUSED rot_error_t bc_log_parse_mode(const uint8_t *buf, size_t len,
                                              uint32_t mode,
                                              bc_log_header_t *hdr,
                                              bc_log_visit_fn visit, void *ctx);

/** Digest size of a TPM algorithm id, 0 when unknown. */
uint16_t bc_log_alg_size(uint16_t alg);

/** Short name of an algorithm ("sha256"), or NULL. */
const char *bc_log_alg_name(uint16_t alg);

/** Name of an event type ("EV_SEPARATOR"), or NULL when not listed. */
const char *bc_log_event_type_name(uint32_t type);

/* ---- Replay -------------------------------------------------------------- */

typedef struct bc_log_pcr_bank {
  uint16_t alg;
  uint16_t size;
  /* HARDENED_TRUE when the crypto port hashes this algorithm, every
   * extending record carries its digest, and pcr[] holds the replayed
   * values; HARDENED_FALSE leaves pcr[] all zero. */
  hardened_bool_t replayed;
  uint32_t incomplete; /* 1: some record lacks this bank's digest */
  uint8_t pcr[BC_LOG_PCR_COUNT][BC_LOG_MAX_DIGEST];
} bc_log_pcr_bank_t;

typedef struct bc_log_replay {
  bc_log_header_t header;
  bc_log_pcr_bank_t banks[BC_LOG_MAX_BANKS]; /* header.bank_count used */
  uint32_t extended_mask;                    /* bit p: PCR p was extended */
} bc_log_replay_t;

/**
 * Parse the log and compute the PCRs it implies: every PCR starts at zero
 * and each record extends its PCR in every bank, PCR = H(PCR || digest).
 * Banks whose algorithm the crypto port lacks are left unreplayed.
 * Errors: those of bc_log_parse; crypto errors.
 */
ROT_WARN_UNUSED rot_error_t bc_log_replay(const uint8_t *buf, size_t len,
                                          const rot_crypto_t *c,
                                          bc_log_replay_t *out);

/**
 * bc_log_replay in a given mode. In firmware mode EV_NO_ACTION records
 * are not extended, PCR 0 starts at the StartupLocality value when the log
 * has one, and a bank some extending record lacks is left unreplayed
 * (incomplete = 1).
 */
ROT_WARN_UNUSED rot_error_t bc_log_replay_mode(const uint8_t *buf, size_t len,
                                               uint32_t mode,
                                               const rot_crypto_t *c,
                                               bc_log_replay_t *out);

/**
 * 1 when the record's digest must be the hash of its data under the rules
 * of hdr->mode: bc_log_type_is_data_bound in strict mode,
 * bc_log_type_is_pfp_data_bound in firmware mode (never for EV_NO_ACTION).
 */
int bc_log_event_is_data_bound(const bc_log_header_t *hdr,
                               const bc_log_event_t *ev);

/**
 * Check one record whose digest is tied to its data (see
 * bc_log_event_is_data_bound): the digest of every bank must equal the hash
 * of the event data, and an EV_SEPARATOR's data must be 4 bytes. Records
 * of other types pass. checked / unchecked (may be NULL) receive a bit per
 * header bank: compared and equal / not compared (the crypto port has no
 * such hash, or the record lacks the digest). A bank that was not compared
 * never counts as checked.
 * Errors: ROT_ERROR_EVENTLOG_BAD_EVENT (a digest differs, or a separator is
 * not 4 bytes); ROT_ERROR_EVENTLOG_UNCHECKED (nothing differs, but some
 * bank could not be compared); ROT_ERROR_INVALID_ARGUMENT; crypto errors.
 */
ROT_WARN_UNUSED rot_error_t bc_log_check_event_banks(
    const rot_crypto_t *c, const bc_log_header_t *hdr, const bc_log_event_t *ev,
    uint32_t *checked, uint32_t *unchecked);

/** bc_log_check_event_banks without the bank masks. */
ROT_WARN_UNUSED rot_error_t bc_log_check_event(const rot_crypto_t *c,
                                               const bc_log_header_t *hdr,
                                               const bc_log_event_t *ev);

/**
 * Parse the log (strict) and run bc_log_check_event on every record.
 * Stops at the first mismatch; ROT_ERROR_EVENTLOG_UNCHECKED when nothing
 * differs but some data-bound digest could not be compared.
 */
ROT_WARN_UNUSED rot_error_t bc_log_check(const uint8_t *buf, size_t len,
                                         const rot_crypto_t *c);

/**
 * 1 when the plan defines the digest of type as the hash of its own event
 * data: EV_SEPARATOR, EV_S_CRTM_VERSION, EV_PLATFORM_CONFIG_FLAGS,
 * EV_EVENT_TAG, EV_EFI_ACTION, EV_EFI_VARIABLE_DRIVER_CONFIG.
 */
int bc_log_type_is_data_bound(uint32_t type);

/**
 * 1 when the PC Client PFP defines the digest of type as the hash of its
 * event data, so any log of it can be checked: EV_SEPARATOR,
 * EV_S_CRTM_VERSION, EV_EFI_ACTION, EV_EFI_VARIABLE_DRIVER_CONFIG and
 * EV_EFI_GPT_EVENT. Not EV_EFI_VARIABLE_BOOT (firmware measures the
 * variable's data alone), EV_EVENT_TAG, EV_IPL or
 * EV_PLATFORM_CONFIG_FLAGS (their digests cover other bytes).
 */
int bc_log_type_is_pfp_data_bound(uint32_t type);

/* ---- Event data of the PCR plan (docs/pcr-plan.md) ----------------------- */

/*
 * UEFI_PLATFORM_FIRMWARE_BLOB {u64 base, u64 length}: event data of
 * EV_EFI_PLATFORM_FIRMWARE_BLOB (OpenSBI) and EV_TABLE_OF_DEVICES (DTB).
 */
#define BC_EV_BLOB_LEN 16u

/* The longest EV_POST_CODE data accepted: the PFP's descriptions ("POST
 * CODE", "Embedded UEFI Driver", ...) are far shorter, the blob 16 bytes. */
#define BC_EV_POST_CODE_MAX 64u
void bc_ev_blob_encode(uint8_t out[BC_EV_BLOB_LEN], uint64_t base,
                       uint64_t length);

/*
 * UEFI_IMAGE_LOAD_EVENT with an empty device path: {u64 location, u64
 * length, u64 link-time address, u64 device path length = 0}; event data of
 * EV_EFI_BOOT_SERVICES_APPLICATION (the boot payload).
 */
#define BC_EV_IMAGE_LOAD_LEN 32u
void bc_ev_image_load_encode(uint8_t out[BC_EV_IMAGE_LOAD_LEN],
                             uint64_t location, uint64_t length,
                             uint64_t link_address);

/*
 * Platform configuration (EV_PLATFORM_CONFIG_FLAGS, PCR 1):
 * "BCPC" | u32 version 1 | u32 lifecycle | u32 locked region mask.
 */
#define BC_EV_PLATFORM_CONFIG_LEN 16u
#define BC_EV_PLATFORM_CONFIG_MAGIC "BCPC"
#define BC_EV_PLATFORM_CONFIG_VERSION 1u
void bc_ev_platform_config_encode(uint8_t out[BC_EV_PLATFORM_CONFIG_LEN],
                                  uint32_t lifecycle, uint32_t locked_mask);

/*
 * Boot configuration (EV_EVENT_TAG, PCR 5): TCG_PCClientTaggedEvent
 * {u32 taggedEventID = BC_EV_TAG_BOOT_CONFIG, u32 size, data}, data =
 * u32 version 1 | u32 boot slot | u32 image count | images[count], each
 * image u32 type | u32 svn | u16 major | u16 minor | u16 patch | u16 0.
 */
#define BC_EV_TAG_BOOT_CONFIG 0x43424342u /* bytes "BCBC" */
#define BC_EV_BOOT_CONFIG_VERSION 1u
#define BC_EV_BOOT_CONFIG_MAX_IMAGES 8u
#define BC_EV_BOOT_CONFIG_FIXED 20u /* tag header + fixed part */
#define BC_EV_BOOT_CONFIG_IMAGE 16u
#define BC_EV_BOOT_CONFIG_MAX_LEN \
  (BC_EV_BOOT_CONFIG_FIXED +      \
   BC_EV_BOOT_CONFIG_MAX_IMAGES * BC_EV_BOOT_CONFIG_IMAGE)

typedef struct bc_ev_boot_image {
  uint32_t image_type; /* rot_image_type_t */
  uint32_t svn;
  uint16_t ver_major, ver_minor, ver_patch;
} bc_ev_boot_image_t;

/**
 * Encode the boot configuration into out[0..cap); *out_len gets its size.
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL, count 0 or above the maximum),
 * ROT_ERROR_BUFFER_TOO_SMALL.
 */
ROT_WARN_UNUSED rot_error_t bc_ev_boot_config_encode(
    uint8_t *out, size_t cap, uint32_t boot_slot,
    const bc_ev_boot_image_t *images, uint32_t count, size_t *out_len);

/*
 * Secure-boot policy (EV_EFI_VARIABLE_DRIVER_CONFIG, PCR 7): a
 * UEFI_VARIABLE_DATA {EFI_GUID vendor, u64 name chars, u64 data length,
 * CHAR16 name[] (no NUL), data[]} under the project's vendor GUID
 * 89d9ef9a-9269-41e9-8b60-aca381743b41; digest = hash of the whole struct.
 */
#define BC_EV_GUID_LEN 16u
#define BC_EV_VARIABLE_FIXED 32u
#define BC_EV_VAR_MAX_NAME 32u
extern const uint8_t bc_ev_vendor_guid[BC_EV_GUID_LEN];
#define BC_EV_VAR_LIFECYCLE "RotLifecycle"       /* u32 rot_lifecycle_t */
#define BC_EV_VAR_ROOT_KEY_HASH "RotRootKeyHash" /* 48-byte SHA-384 */
/* u32 count | {u32 image type, u32 key index}[count] */
#define BC_EV_VAR_SIGNER_KEYS "RotSignerKeys"
#define BC_EV_VAR_REVOKED_KEYS "RotRevokedKeys" /* u32 bitmap */
#define BC_EV_VAR_SVN_FLOORS "RotSvnFloors"     /* u32 floor[8] by type */

/**
 * Encode a policy variable: name is 1..BC_EV_VAR_MAX_NAME printable ASCII
 * chars, written as UCS-2LE. *out_len gets the size.
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_BUFFER_TOO_SMALL.
 */
ROT_WARN_UNUSED rot_error_t bc_ev_variable_encode(uint8_t *out, size_t cap,
                                                  const char *name,
                                                  const void *value,
                                                  size_t value_len,
                                                  size_t *out_len);

typedef struct bc_ev_variable {
  const uint8_t *guid;   /* BC_EV_GUID_LEN bytes */
  const uint8_t *name;   /* UCS-2LE, name_chars code units */
  uint64_t name_chars;
  const uint8_t *value;
  uint64_t value_len;
} bc_ev_variable_t;

/**
 * Decode a UEFI_VARIABLE_DATA; its lengths must account for every byte.
 * Errors: ROT_ERROR_EVENTLOG_BAD_EVENT.
 */
ROT_WARN_UNUSED rot_error_t bc_ev_variable_decode(const uint8_t *data,
                                                  size_t len,
                                                  bc_ev_variable_t *out);

/**
 * 1 when the variable's GUID is the project's and its UCS-2 name equals
 * the ASCII name.
 */
int bc_ev_variable_is(const bc_ev_variable_t *v, const char *name);

#endif /* BOOTCHAIN_EVENTLOG_H */
