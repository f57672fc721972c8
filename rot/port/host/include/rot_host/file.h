/* Host file helpers shared by the tools and daemons. */
#ifndef ROT_HOST_FILE_H
#define ROT_HOST_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"
#include "rot/otp.h"

/**
 * The OS's reason (an errno value) behind the last ROT_ERROR_IO_* this
 * thread's file calls returned (rot_file_read, rot_file_write, device and
 * key opens), for the message: "strerror(rot_file_last_errno())". EISDIR
 * or EINVAL when the path is a directory or not a regular file. 0 when
 * the failure had no OS reason.
 */
int rot_file_last_errno(void);

/**
 * Open a regular file to read it piece by piece: *fd (the caller closes
 * it) and its size. The same refusals as rot_file_read, which uses it.
 */
ROT_WARN_UNUSED rot_error_t rot_file_open_read(const char *path, size_t max_len,
                                               int *fd, size_t *len);

/** Write all len bytes to fd, retrying short writes and EINTR: 0, or -1
 * with errno set. */
int rot_file_write_all(int fd, const void *data, size_t len);

/** All len bytes at off, read into rd or written from wr (exactly one of
 * the two non-NULL), retrying short transfers and EINTR: 0, or -1 with
 * errno set (EIO when the file ends before a read, or a write takes
 * nothing). */
int rot_file_io_at(int fd, void *rd, const void *wr, size_t len, uint64_t off);

/** Read exactly len bytes at off (ROT_ERROR_IO_READ if the file ends first). */
ROT_WARN_UNUSED rot_error_t rot_file_pread(int fd, void *buf, size_t len,
                                           uint64_t off);

/**
 * Read a whole regular file into a malloc'd buffer (caller frees).
 * Files larger than max_len give ROT_ERROR_IO_TOO_LARGE without reading.
 */
ROT_WARN_UNUSED rot_error_t rot_file_read(const char *path, size_t max_len,
                                          uint8_t **out, size_t *out_len);

/**
 * Write a file atomically with exactly mode (umask aside; 0600 for keys).
 * The bytes go to a fresh temporary file that mkstemp makes in path's own
 * directory (exclusive create: a name planted in advance, symlink or not,
 * is never written through), which is synced, renamed over path and then
 * the directory is synced, so after a crash path holds the old or the new
 * contents, never a mix. Whatever sits at path, a symlink included, is
 * replaced, never followed.
 * Errors: ROT_ERROR_INVALID_ARGUMENT (NULL or empty path, a path ending in
 * '/', mode beyond 0777), ROT_ERROR_IO_OPEN (no temporary file can be made
 * in the directory), ROT_ERROR_IO_WRITE (write, sync or rename failed; the
 * temporary file is removed).
 */
ROT_WARN_UNUSED rot_error_t rot_file_write(const char *path, const void *data,
                                           size_t len, unsigned mode);

/**
 * Open a device file (flash, OTP) read-write and hold an exclusive lock on
 * it until the descriptor is closed. create = 1 creates it when missing; an
 * empty file is then filled with size bytes of fill, mode 0600, synced.
 * Any other file must be private to its owner (no group or other
 * permission bits) and exactly size bytes. A file open to others is
 * refused, not repaired: what it holds (the OTP's device secret) may
 * already have leaked, and that is for the operator to judge.
 * Errors: ROT_ERROR_IO_OPEN (cannot open, not a regular file),
 * ROT_ERROR_IO_LOCKED (another process holds it),
 * ROT_ERROR_IO_PERMISSIONS (group or other bits set; *mode_out says which),
 * ROT_ERROR_IO_WRITE (filling failed), bad_size (an existing file of
 * another size).
 * On success *fd_out is the locked descriptor (caller closes). mode_out
 * (may be NULL) gets the file's permission bits whenever it was opened,
 * refused or not.
 */
ROT_WARN_UNUSED rot_error_t rot_file_open_device(const char *path,
                                                 uint32_t size, uint8_t fill,
                                                 int create,
                                                 rot_error_t bad_size,
                                                 int *fd_out,
                                                 unsigned *mode_out);

/**
 * The operator's next step for ROT_ERROR_IO_PERMISSIONS on path, found
 * with mode: one line (no newline) in buf, naming the file, its mode and
 * the fix (chmod 600). Returns buf.
 */
const char *rot_file_private_advice(char *buf, size_t cap, const char *path,
                                    unsigned mode);

/* A PEM private key (SEC1 "EC PRIVATE KEY", P-384) <-> raw scalar. */
ROT_WARN_UNUSED rot_error_t rot_key_save(const char *path,
                                         const uint8_t priv[ROT_P384_SCALAR_LEN]);
ROT_WARN_UNUSED rot_error_t rot_key_load(const char *path,
                                         uint8_t priv[ROT_P384_SCALAR_LEN],
                                         uint8_t pub[ROT_P384_PUBKEY_LEN]);
/* A PEM public key (SubjectPublicKeyInfo), readable by openssl. */
ROT_WARN_UNUSED rot_error_t rot_pubkey_save(const char *path,
                                            const uint8_t pub[ROT_P384_PUBKEY_LEN]);
ROT_WARN_UNUSED rot_error_t rot_pubkey_load(const char *path,
                                            uint8_t pub[ROT_P384_PUBKEY_LEN]);

/*
 * How a device file is held while open (flock on the file, plus a POSIX
 * record lock for the daemon):
 *   WRITER  exclusive: a tool that programs it (rotctl otp provision,
 *           revoke, set-floor); refused while anyone else has it open
 *   DAEMON  shared, and the one daemon: rotd; a second daemon and every
 *           writer are refused, readers are let in
 *   READER  shared, read-only: rotctl otp show, verify --otp; works while
 *           rotd runs. Fuses only gain bits and each program is one write,
 *           so a read next to a program sees it before or after, or torn
 *           as a power cut would leave it, which the decoders handle.
 */
typedef enum rot_lock {
  ROT_LOCK_WRITER = 0,
  ROT_LOCK_DAEMON = 1,
  ROT_LOCK_READER = 2,
} rot_lock_t;

/*
 * File-backed OTP: a ROT_OTP_SIZE-byte file, held under a lock (rot_lock_t)
 * for as long as it is open, mode 0600. program() only ever sets bits.
 */
typedef struct rot_otp_file {
  rot_otp_port_t port; /* first: the port the core uses */
  int fd;
  unsigned mode; /* permission bits found on open, also when refused */
  rot_lock_t lock;
} rot_otp_file_t;

/**
 * Open (create = 1: create a blank one if missing) and lock an OTP file.
 * ROT_ERROR_IO_LOCKED when another process holds it,
 * ROT_ERROR_IO_PERMISSIONS when group or others have any access to it
 * (otp->mode holds the mode found; rot_file_private_advice says what to do).
 */
ROT_WARN_UNUSED rot_error_t rot_otp_file_open(rot_otp_file_t *otp,
                                              const char *path, int create);
/**
 * rot_otp_file_open with a lock mode (rot_lock_t; create only for WRITER
 * and DAEMON). A READER's program() fails (ROT_ERROR_OTP_WRITE_FAILED).
 */
ROT_WARN_UNUSED rot_error_t rot_otp_file_open_locked(rot_otp_file_t *otp,
                                                     const char *path,
                                                     int create,
                                                     rot_lock_t lock);
void rot_otp_file_close(rot_otp_file_t *otp);

#endif
