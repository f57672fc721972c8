/*
 * The measured boot flow: from the security chip's boot decision to a
 * host ready to start.
 *
 *   rotd BOOT + READ_REGION -> images read once into sealed memory and
 *   checked against what the chip verified -> boot regions locked in the
 *   gate -> the stage table (docs/pcr-plan.md) walked by one loop: each
 *   stage is hashed in every active bank, extended into the TPM and
 *   appended to the TCG event log -> handoff DTB (measured last but the
 *   separators) -> EV_SEPARATOR on PCRs 0-7 -> PCRs 0-7 read back and
 *   compared with the log's replay.
 *
 * Every input (the images, the chip's status, the base DTB and the
 * handoff request) is checked before the first extend.
 *
 * The result holds sealed memfds of exactly the measured bytes; the QEMU
 * launch (bc_measured_qemu_spec) hands those very descriptors to the host.
 */
#ifndef BOOTCHAIN_MEASURE_H
#define BOOTCHAIN_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "bootchain/qemu.h"
#include "bootchain/seal.h"
#include "bootchain/tpm.h"
#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/image.h"
#include "rot/mailbox.h"

/* The S-CRTM version measured first into PCR 0: the RoT firmware's. */
#define BC_RTM_VERSION "rot-stack 0.1.0"
/* ... and with RoT firmware booted, its version and SVN (major, minor,
 * patch, svn): what verifiers' reference values list (rot_firmware). */
#define BC_RTM_ROT_VERSION_FMT "rot-stack rot %u.%u.%u svn %u"

typedef struct bc_config {
  const char *socket;   /* rotd socket; NULL: $ROT_SOCKET, else run/rotd.sock */
  const char *tcti;     /* NULL: $BOOTCHAIN_TCTI, $TPM2TOOLS_TCTI, default */
  const char *base_dtb; /* QEMU virt DTB to start the handoff from */
  int no_lock;          /* 1: leave boot regions unlocked (tests only) */
} bc_config_t;

/* One image the host boots, as the chip decided and verified it. */
typedef struct bc_boot_image {
  uint32_t image_type;
  uint32_t reason;            /* rot_boot_reason_t of the chip's decision */
  rot_error_t why;            /* why the preferred slot was not used */
  char region[24];            /* flash region it came from ("opensbi-a") */
  rot_mbox_image_info_t info; /* what the chip verified */
  uint64_t load_addr;
  bc_sealed_t payload;        /* the exact bytes measured and booted */
  /* Of payload, hashed once as it was read, from the memfd it was read
   * into and then sealed: the SHA-384 matched the chip's verified digest,
   * and both are the measurements. */
  uint8_t sha256[ROT_SHA256_LEN];
  uint8_t sha384[ROT_SHA384_LEN];
} bc_boot_image_t;

/*
 * One phase of bc_measure, in the order they ran on the calling thread:
 * its wall time and that thread's CPU time over it. The phases follow one
 * another and cover total_ms; the TPM opens beside them on a thread of
 * its own (tpm_open_ms), from "tpm-start" until "tpm-wait" ends.
 */
typedef struct bc_phase {
  const char *name; /* a static string */
  double ms;
  double cpu_ms;
} bc_phase_t;

#define BC_PHASES_MAX 16

/* Wall-clock cost of each phase, for `make bench` and --verbose. */
typedef struct bc_timings {
  double read_ms;    /* BOOT decisions + READ_REGION + checks + sealing */
  double measure_ms; /* stage loop: hashing, log, TPM extends */
  double extend_ms;  /* of which TPM_PCR_Extend */
  double total_ms;
  /* CPU time of every bootchain thread over total_ms (the TPM opener's
   * included): set beside the chip's and the TPM's by make bench. */
  double cpu_ms;
  uint32_t extends;
  bc_phase_t phases[BC_PHASES_MAX];
  uint32_t phase_count;
  /* The TPM opener thread: load the TCTI, read the banks, check PCRs 0-7
   * are fresh. Wall and its own CPU time. */
  double tpm_open_ms;
  double tpm_open_cpu_ms;
} bc_timings_t;

typedef struct bc_measured {
  bc_boot_image_t firmware; /* OpenSBI (-bios) */
  bc_boot_image_t payload;  /* hypervisor / U-Boot (-kernel) */
  /* The chip's own firmware, as its boot ROM stage verified it at reset
   * (S-CRTM of PCR 0); info.region ROT_MBOX_REGION_NONE when none did. */
  bc_boot_image_t rot;
  bc_sealed_t dtb;          /* the handoff DTB, as measured */
  bc_sealed_t log;          /* the event log, as it goes to the host */
  uint64_t log_addr;        /* guest-physical address of the log */
  uint32_t lifecycle;
  uint32_t locked_mask;     /* gate locks in force at handoff */
  uint32_t bank_count;
  uint16_t banks[4];        /* TPM algorithm ids = the log's banks */
  uint32_t events;          /* records after the Spec ID header */
  /* The TPM context the measurement used, left open for bc_measured_free
   * to close: closing it unloads the TCTI library (munmap), work the host
   * need not wait for. Nothing is sent to the TPM through it any more. */
  bc_tpm_t *tpm;
  bc_timings_t t;
  /* On failure: the stage that failed and a decoded detail. */
  char stage[32];
  char detail[256];
} bc_measured_t;

/**
 * Run the whole measured boot up to (not including) starting the host.
 * On failure nothing is left open, m->stage names the step and m->detail
 * says why (TPM errors decoded by tpm2-tss). Errors: any rot_error_t; the
 * host must stay off.
 */
ROT_WARN_UNUSED rot_error_t bc_measure(const bc_config_t *cfg,
                                       bc_measured_t *m);

/**
 * Check that an image read back from flash (img, len bytes) is the image
 * the chip verified, as its BOOT reply describes it (info): exactly
 * info->image_len bytes; a well-formed image; SHA-384(header || key
 * manifest) equal to info->signed_digest and SHA-384(payload) equal to
 * info->payload_digest (constant-time, each checked twice); header and
 * info agreeing on type (= expected_type), SVN, key index, version and
 * payload length. The two digests cover every byte before the signature,
 * so no header field (load address, flags) or manifest entry can differ
 * from what the chip verified.
 *
 * On success *view describes img (its pointers point into img). On
 * failure *what names the part that differs. Errors: INVALID_ARGUMENT;
 * the parser's ROT_ERROR_IMAGE_* / ROT_ERROR_MANIFEST_* for bytes that
 * are not an image; ROT_ERROR_HANDOFF_MISMATCH for any difference; the
 * crypto port's error if hashing fails.
 */
ROT_WARN_UNUSED rot_error_t bc_check_read_image(
    const rot_crypto_t *c, uint32_t expected_type, const uint8_t *img,
    size_t len, const rot_mbox_image_info_t *info, rot_image_view_t *view,
    const char **what);

/**
 * bc_check_read_image with the payload's SHA-384 already taken by the
 * caller (payload_sha384, or NULL to hash view->payload here): the boot
 * chain hashes the sealed copy of the payload once and hands that digest
 * in, so the bytes compared are the bytes measured and booted.
 */
ROT_WARN_UNUSED rot_error_t bc_check_read_image_digest(
    const rot_crypto_t *c, uint32_t expected_type, const uint8_t *img,
    size_t len, const rot_mbox_image_info_t *info,
    const uint8_t *payload_sha384, rot_image_view_t *view, const char **what);

/**
 * bc_check_read_image_digest for an image whose payload was not kept
 * beside its header: head is header || manifest (head_len bytes), len the
 * whole image's length, payload_sha384 the payload's SHA-384 taken by the
 * caller. The same structural checks as rot_image_parse on those parts,
 * then the same comparisons with the chip's report. On success *header
 * is the decoded header. Errors as bc_check_read_image_digest.
 */
ROT_WARN_UNUSED rot_error_t bc_check_read_head_digest(
    const rot_crypto_t *c, uint32_t expected_type, const uint8_t *head,
    size_t head_len, size_t len, const rot_mbox_image_info_t *info,
    const uint8_t *payload_sha384, rot_image_header_t *header,
    const char **what);

/**
 * Compare the TPM's PCRs with the replay of an event log: every PCR in
 * pcr_mask (bits 0..23), in every bank the log declares, must equal the
 * log's replayed value (zero for a PCR the log never extends). Run after
 * the last extend, so an extend by anyone else since the PCRs were found
 * fresh shows up as a difference. Each value is compared in constant time
 * and the verdict checked twice.
 *
 * detail (may be NULL) receives the first differing PCR and bank.
 * Errors: ROT_ERROR_INVALID_ARGUMENT; the log's parse errors;
 * ROT_ERROR_TPM_BANKS (a bank the crypto port cannot replay);
 * ROT_ERROR_TPM_* from reading; ROT_ERROR_TPM_PCR_MISMATCH.
 */
ROT_WARN_UNUSED rot_error_t bc_check_pcrs(bc_tpm_t *tpm, const rot_crypto_t *c,
                                          const uint8_t *log, size_t len,
                                          uint32_t pcr_mask, char *detail,
                                          size_t detail_cap);

/**
 * Write the measured outputs into dir (created): eventlog.bin,
 * handoff.dtb, opensbi.bin, payload.bin, measurements.json, mode 0644.
 * Each file appears whole or not at all (a temporary file beside it,
 * renamed over it), but none is synced to disk: they describe one boot of
 * one TPM power cycle, which a power loss ends too (see outputs.c).
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_IO_OPEN, ROT_ERROR_IO_WRITE.
 */
ROT_WARN_UNUSED rot_error_t bc_measured_write(const bc_measured_t *m,
                                              const char *dir);

/**
 * Create dir (mode 0755) unless it exists, and check it is a directory:
 * what bc_measured_write does first, for a caller that writes the outputs
 * later (after the host started) but wants a bad directory refused before
 * anything is measured. Errors: ROT_ERROR_INVALID_ARGUMENT,
 * ROT_ERROR_IO_WRITE.
 */
ROT_WARN_UNUSED rot_error_t bc_measured_dir(const char *dir);

/** Fill a QEMU spec that boots exactly the sealed, measured bytes. */
void bc_measured_qemu_spec(const bc_measured_t *m, bc_qemu_spec_t *spec);

/** Close every sealed image and the TPM context (idempotent). */
void bc_measured_free(bc_measured_t *m);

/** Default location of the base DTB next to the tools: <bindir>/../dtb/virt.dtb
 * (the build tree) when it exists, else <bindir>/../share/rot-stack/virt.dtb
 * (where `make install` puts it). */
const char *bc_default_base_dtb(void);

#endif /* BOOTCHAIN_MEASURE_H */
