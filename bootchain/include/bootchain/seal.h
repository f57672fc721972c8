/*
 * Sealed image memory: the bytes measured are the bytes booted.
 *
 * An image is copied once into an anonymous memory file (memfd), or
 * written into one piece by piece as it is read (bc_seal_open), which is
 * then sealed against writes, growth, shrinking and further seal changes.
 * From then on nobody (this process included) can change it: the
 * measurement is taken from the file's own bytes (a read-only mapping of
 * it, or the pieces read back from it), and the same file is what the
 * host CPU (QEMU) loads, through an inherited descriptor.
 */
#ifndef BOOTCHAIN_SEAL_H
#define BOOTCHAIN_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "rot/error.h"

/* Longest memfd name the kernel keeps (it shows in /proc/PID/fd). */
#define BC_SEAL_NAME_MAX 249u

typedef struct bc_sealed {
  int fd;              /* -1 when closed; O_CLOEXEC, see bc_seal_path */
  const uint8_t *data; /* read-only mapping of the sealed bytes */
  size_t len;
  char path[32];       /* "/proc/self/fd/<fd>" */
} bc_sealed_t;

/**
 * Copy data[0..len) into a new sealed memfd named name.
 *
 * On success out->data maps the sealed bytes read-only (hash these, not
 * the caller's buffer) and they have been compared with data. len must
 * be at least 1.
 *
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_HANDOFF_SEAL (memfd, write,
 * seal or mmap failed, or the seals read back incomplete),
 * ROT_ERROR_HANDOFF_MISMATCH (the mapping differs from data).
 */
rot_error_t bc_seal_create(const char *name, const void *data, size_t len,
                           bc_sealed_t *out) ROT_WARN_UNUSED;

/*
 * A sealed memfd filled piece by piece: bc_seal_open makes the file at its
 * final size, the caller puts each piece in with bc_seal_write and reads
 * it back with bc_seal_read (what it then hashes is what the file holds),
 * and bc_seal_commit seals the file and maps it read-only. No mapping of
 * the file is writable at any time: the pages are allocated by the writes
 * themselves (none is zeroed first, none is mapped into this process), and
 * a child forked meanwhile cannot hold a writable mapping that would make
 * the kernel refuse F_SEAL_WRITE. Only this process holds the file until
 * it is sealed, so what the caller read back is what the seals freeze.
 */
typedef struct bc_seal_writer {
  int fd;     /* -1 when not open */
  size_t len; /* the file's size, 0 when not open */
} bc_seal_writer_t;

/**
 * Create a memfd named name of exactly len bytes (at least 1), unsealed.
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_HANDOFF_SEAL. On an error
 * *w is closed.
 */
rot_error_t bc_seal_open(const char *name, size_t len,
                         bc_seal_writer_t *w) ROT_WARN_UNUSED;

/**
 * Write the n bytes at data to w's file at offset off, all of them.
 * [off, off + n) must lie within the file. Errors:
 * ROT_ERROR_INVALID_ARGUMENT (closed writer, NULL data, out of range),
 * ROT_ERROR_HANDOFF_SEAL (the write failed or fell short).
 */
rot_error_t bc_seal_write(const bc_seal_writer_t *w, size_t off,
                          const void *data, size_t n) ROT_WARN_UNUSED;

/**
 * Read the n bytes of w's file at offset off into buf, all of them (the
 * bytes a commit would seal). Errors as bc_seal_write's.
 */
rot_error_t bc_seal_read(const bc_seal_writer_t *w, size_t off, void *buf,
                         size_t n) ROT_WARN_UNUSED;

/**
 * Apply all four seals to w's file, check them as the kernel reports
 * them, and map the sealed bytes read-only into *out (as bc_seal_create
 * leaves it). w is closed either way; on an error *out is closed too.
 * Errors: ROT_ERROR_INVALID_ARGUMENT, ROT_ERROR_HANDOFF_SEAL.
 */
rot_error_t bc_seal_commit(bc_seal_writer_t *w,
                           bc_sealed_t *out) ROT_WARN_UNUSED;

/** Drop an unsealed file; safe on a zeroed or closed writer. */
void bc_seal_abort(bc_seal_writer_t *w);

/**
 * Re-check a sealed file before handing it on: all four seals still set
 * and the size unchanged. Errors: ROT_ERROR_INVALID_ARGUMENT,
 * ROT_ERROR_HANDOFF_SEAL.
 */
rot_error_t bc_seal_verify(const bc_sealed_t *s) ROT_WARN_UNUSED;

/**
 * "/proc/self/fd/N": opens the sealed file from this process. The fd is
 * close-on-exec; a child that should read it (QEMU) must keep it across
 * exec and name it by its own fd number (bc_qemu does both, naming it
 * /dev/fd/N). NULL if s is NULL or closed.
 */
const char *bc_seal_path(const bc_sealed_t *s);

/** Unmap and close; safe on a zeroed, closed or half-made struct. */
void bc_seal_close(bc_sealed_t *s);

/**
 * Allocate every page that [p, p + len) touches, writable, in one call
 * (MADV_POPULATE_WRITE) rather than one page fault per 4 KiB as the bytes
 * are first written: on a virtual machine a fault is a trip to the
 * hypervisor and costs more than filling the page. For memory this
 * process is about to write (a receive buffer); the
 * bytes already there are unchanged. A kernel without MADV_POPULATE_WRITE
 * (before 5.14) just takes the faults. NULL or len 0: nothing.
 */
void bc_populate_write(void *p, size_t len);

#endif /* BOOTCHAIN_SEAL_H */
