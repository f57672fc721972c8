/*
 * Device-tree handoff: the DTB the host CPU boots with.
 *
 * The base tree is the QEMU virt machine's own DTB (dumped at build time).
 * The handoff adds, with libfdt:
 *   /reserved-memory/tpm-event-log@<addr>  reg = <addr size>, no-map
 *   /platform-bus@.../tpm@0                compatible = "tcg,tpm-tis-mmio",
 *                                          linux,sml-base (u64),
 *                                          linux,sml-size (u32),
 *                                          memory-region = <&log>,
 *                                          status = "disabled"
 *   /chosen                                rot,boot-slot, rot,image-versions
 *                                          and any caller-supplied pairs
 * and removes /chosen/rng-seed and /chosen/kaslr-seed: a seed dumped at
 * build time is a public constant that differs per build (so the measured
 * tree, and every reference value derived from it, would too), and QEMU
 * puts a fresh rng-seed into its in-memory copy at every start anyway.
 * The result is packed and re-checked; it is the DTB that gets measured:
 * the same base and info always give the same bytes.
 * docs/handoff.md has the node-by-node layout and why the addresses are
 * what they are.
 */
#ifndef BOOTCHAIN_HANDOFF_H
#define BOOTCHAIN_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

/*
 * Where the event log lives in host RAM (QEMU virt, -m 256M): the last
 * MiB below U-Boot's kernel_comp_addr_r (0x88000000), clear of OpenSBI
 * (0x80000000-0x8007ffff), the payload (0x80200000), the DTB QEMU places
 * at 0x8fc00000-0x8fe00000 and U-Boot's relocated image and heap
 * (0x8e731000 and up). A log may use at most BC_HANDOFF_LOG_MAX bytes so
 * it never crosses 0x88000000.
 */
#define BC_HANDOFF_LOG_ADDR 0x87f00000ull
#define BC_HANDOFF_LOG_MAX 0x00100000u
/* The reservation is whole pages: Linux maps and frees memory by page. */
#define BC_HANDOFF_PAGE 0x1000u

/* The TPM node sits at offset 0 of the QEMU platform bus, with the MMIO
 * window QEMU's tpm-tis-device would have (TPM TIS: 5 localities). */
#define BC_HANDOFF_TPM_NODE "tpm@0"
#define BC_HANDOFF_TPM_COMPATIBLE "tcg,tpm-tis-mmio"
#define BC_HANDOFF_TPM_REG_SIZE 0x5000u
#define BC_HANDOFF_PLATFORM_BUS_COMPATIBLE "qemu,platform"

/* /chosen property names the handoff itself writes. */
#define BC_HANDOFF_PROP_BOOT_SLOT "rot,boot-slot"
#define BC_HANDOFF_PROP_IMAGE_VERSIONS "rot,image-versions"

/* Bounds on what a caller may add (they keep bc_handoff_max_size finite). */
#define BC_HANDOFF_MAX_PROPS 32u       /* per list */
#define BC_HANDOFF_MAX_NAME 31u        /* DT spec: property names <= 31 */
#define BC_HANDOFF_MAX_VALUE 1024u     /* bytes of one string, without NUL */

/** A /chosen string property. */
typedef struct bc_handoff_str {
  const char *name;
  const char *value;
} bc_handoff_str_t;

/** A /chosen 64-bit property (big-endian, two cells, like linux,sml-base). */
typedef struct bc_handoff_u64 {
  const char *name;
  uint64_t value;
} bc_handoff_u64_t;

/** What the handoff records. Unused lists: NULL with count 0. */
typedef struct bc_handoff_info {
  /* Physical address the event log is loaded at: page aligned, in RAM. */
  uint64_t log_addr;
  /* Bytes of event log (linux,sml-size); 1..BC_HANDOFF_LOG_MAX. The
   * reservation is this rounded up to whole pages. */
  uint32_t log_size;
  /* rot,boot-slot, e.g. "hypervisor-a"; NULL leaves it out. */
  const char *boot_slot;
  /* rot,image-versions: a string list, e.g. {"opensbi 1.1", ...}. */
  const char *const *image_versions;
  size_t image_version_count;
  /* Any further /chosen pairs. Names: [A-Za-z0-9,._+#?-], 1..31 chars,
   * each name at most once across the whole info. */
  const bc_handoff_str_t *chosen_strs;
  size_t chosen_str_count;
  const bc_handoff_u64_t *chosen_u64s;
  size_t chosen_u64_count;
} bc_handoff_info_t;

/**
 * Upper bound on the handoff DTB size for a base of base_len bytes: with
 * a buffer this large, bc_handoff_build never returns
 * ROT_ERROR_BUFFER_TOO_SMALL. Returns 0 when info is NULL or invalid.
 */
size_t bc_handoff_max_size(size_t base_len, const bc_handoff_info_t *info);

/**
 * Build the handoff DTB from base[0..base_len) into out[0..cap).
 *
 * base must be exactly one flattened tree (version 17, no trailing bytes,
 * blocks in dtc's order without overlap) and must not overlap out. On success *out_len is the packed size and
 * out holds a tree that passes fdt_check_full.
 *
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL pointers, bad info),
 * ROT_ERROR_HANDOFF_BAD_DTB (base fails fdt_check_full or has cells the
 * handoff cannot encode), ROT_ERROR_HANDOFF_NO_PLATFORM_BUS,
 * ROT_ERROR_HANDOFF_BAD_LOG_REGION (log not inside a /memory range, or
 * overlapping a reservation already in the tree), ROT_ERROR_BUFFER_TOO_SMALL,
 * ROT_ERROR_HANDOFF_FDT (the base already describes a TPM or a log: any
 * node with a linux,sml-* property, a compatible or device_type naming a
 * TPM such as "tcg,tpm_tis-spi", "tcg,tpm-tis-i2c", "microsoft,ftpm",
 * "google,cr50", or a node named tpm / tpm@...; or it has one of the nodes
 * the handoff adds; or any other libfdt failure).
 */
rot_error_t bc_handoff_build(const void *base, size_t base_len,
                             const bc_handoff_info_t *info, void *out,
                             size_t cap, size_t *out_len) ROT_WARN_UNUSED;

/**
 * Read the event log location back from a handoff DTB: linux,sml-base and
 * linux,sml-size of the one "tcg,tpm-tis-mmio" node, cross-checked against
 * the reg of the reserved-memory node its memory-region points at. The
 * tree may sit at the start of a larger buffer (len >= its totalsize).
 *
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_HANDOFF_BAD_DTB (not a
 * valid tree, no TPM node or more than one, any other node describing a
 * TPM or carrying linux,sml-*, malformed or inconsistent properties).
 */
rot_error_t bc_handoff_log_location(const void *dtb, size_t len,
                                    uint64_t *addr,
                                    uint32_t *size) ROT_WARN_UNUSED;

/**
 * Shrink the event log a handoff DTB describes to log_size bytes, in
 * place: linux,sml-size of the TPM node and the size of the reservation
 * its memory-region points at (log_size rounded up to a page), both
 * fixed-width values, so the tree keeps its layout and length. The result
 * is byte for byte the tree bc_handoff_build makes from the same base and
 * info with this log_size: a tree built once with the largest log (the
 * check before the first extend) becomes the measured one without a
 * second build. The tree is first read back as bc_handoff_log_location
 * reads it; log_size may not exceed the size it names (the reservation
 * was checked against the memory map for that size, and a smaller one
 * lies inside it).
 *
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL dtb, log_size 0 or above the
 * size the tree names), ROT_ERROR_HANDOFF_BAD_DTB (as
 * bc_handoff_log_location), ROT_ERROR_HANDOFF_FDT (libfdt refused the
 * in-place write).
 */
rot_error_t bc_handoff_set_log_size(void *dtb, size_t len,
                                    uint32_t log_size) ROT_WARN_UNUSED;

#endif /* BOOTCHAIN_HANDOFF_H */
