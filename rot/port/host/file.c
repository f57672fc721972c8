/* Host file helpers: bounded whole-file reads, atomic writes, locked device
 * files, PEM keys, OTP. */
#define _GNU_SOURCE /* F_OFD_SETLK, among others */
#include "rot_host/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "rot_host/crypto_mbedtls.h"

/* errno of the last file call that failed, for the message (0: none). */
static _Thread_local int g_last_errno;

int rot_file_last_errno(void) { return g_last_errno; }

/* Keep the OS's reason with the error code. */
static rot_error_t os_fail(rot_error_t err) {
  g_last_errno = errno != 0 ? errno : EIO;
  return err;
}

/* fstat, and a regular file; else -1 with errno saying why (EISDIR for a
 * directory, EINVAL for anything else that is not a regular file). */
static int fstat_regular(int fd, struct stat *st) {
  if (fstat(fd, st) != 0) {
    return -1;
  }
  if (!S_ISREG(st->st_mode)) {
    errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
    return -1;
  }
  return 0;
}

rot_error_t rot_file_open_read(const char *path, size_t max_len, int *fd_out,
                               size_t *len_out) {
  if (path == NULL || fd_out == NULL || len_out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *fd_out = -1;
  *len_out = 0;
  g_last_errno = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return os_fail(ROT_ERROR_IO_OPEN);
  }
  struct stat st;
  if (fstat_regular(fd, &st) != 0) {
    rot_error_t err = os_fail(ROT_ERROR_IO_OPEN);
    close(fd);
    return err;
  }
  if ((uint64_t)st.st_size > max_len) {
    close(fd);
    return ROT_ERROR_IO_TOO_LARGE;
  }
  *fd_out = fd;
  *len_out = (size_t)st.st_size;
  return ROT_OK;
}

int rot_file_io_at(int fd, void *rd, const void *wr, size_t len, uint64_t off) {
  uint8_t *b = rd;
  const uint8_t *w = wr;
  while (len > 0) {
    ssize_t n = w != NULL ? pwrite(fd, w, len, (off_t)off)
                          : pread(fd, b, len, (off_t)off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n == 0) {
        errno = EIO; /* the file is shorter than it was, or took nothing */
      }
      return -1;
    }
    if (w != NULL) {
      w += n;
    } else {
      b += n;
    }
    off += (uint64_t)n;
    len -= (size_t)n;
  }
  return 0;
}

rot_error_t rot_file_pread(int fd, void *buf, size_t len, uint64_t off) {
  return rot_file_io_at(fd, buf, NULL, len, off) == 0 ? ROT_OK
                                                      : os_fail(ROT_ERROR_IO_READ);
}

rot_error_t rot_file_read(const char *path, size_t max_len, uint8_t **out,
                          size_t *out_len) {
  if (path == NULL || out == NULL || out_len == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *out = NULL;
  *out_len = 0;
  int fd;
  size_t len;
  ROT_TRY(rot_file_open_read(path, max_len, &fd, &len));
  uint8_t *buf = malloc(len ? len : 1);
  if (buf == NULL) {
    close(fd);
    return ROT_ERROR_IO_READ;
  }
  rot_error_t err = rot_file_pread(fd, buf, len, 0);
  close(fd);
  if (err != ROT_OK) {
    free(buf);
    return err;
  }
  *out = buf;
  *out_len = len;
  return ROT_OK;
}

int rot_file_write_all(int fd, const void *data, size_t len) {
  const uint8_t *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Sync a directory, so a rename inside it survives a crash. */
static int sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  int bad = fsync(fd) != 0;
  bad |= close(fd) != 0;
  return bad ? -1 : 0;
}

rot_error_t rot_file_write(const char *path, const void *data, size_t len,
                           unsigned mode) {
  if (path == NULL || path[0] == '\0' || (data == NULL && len != 0) ||
      (mode & ~0777u) != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  size_t plen = strlen(path);
  if (path[plen - 1] == '/') {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  /* The temporary file lives beside path (rename stays in one file system)
   * as "DIR/.NAME.XXXXXX"; DIR is "." or "/" when path has no other. */
  const char *slash = strrchr(path, '/');
  size_t dlen = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));
  const char *base = slash == NULL ? path : slash + 1;
  size_t cap = dlen + strlen(base) + 10;
  char *dir = malloc(dlen + 1);
  char *tmp = malloc(cap);
  if (dir == NULL || tmp == NULL) {
    free(dir);
    free(tmp);
    return ROT_ERROR_IO_WRITE;
  }
  memcpy(dir, slash == NULL ? "." : path, dlen);
  dir[dlen] = '\0';
  snprintf(tmp, cap, "%s/.%s.XXXXXX", strcmp(dir, "/") == 0 ? "" : dir, base);
  /* mkstemp: a fresh random name, O_EXCL, mode 0600 from the start. */
  g_last_errno = 0;
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    rot_error_t err = os_fail(ROT_ERROR_IO_OPEN);
    free(dir);
    free(tmp);
    return err;
  }
  int bad = fchmod(fd, mode) != 0 || rot_file_write_all(fd, data, len) != 0 ||
            fsync(fd) != 0;
  if (bad) {
    (void)os_fail(ROT_ERROR_IO_WRITE);
  }
  bad |= close(fd) != 0;
  /* rename replaces the entry at path, a symlink included: never follows. */
  if (!bad && rename(tmp, path) != 0) {
    (void)os_fail(ROT_ERROR_IO_WRITE);
    bad = 1;
  }
  if (bad) {
    unlink(tmp);
  } else if (sync_dir(dir) != 0) {
    bad = 1; /* in place, but not yet durable: report it */
  }
  free(dir);
  free(tmp);
  return bad ? ROT_ERROR_IO_WRITE : ROT_OK;
}

/* ---- PEM keys ------------------------------------------------------------ */

static rot_error_t pk_from_priv(mbedtls_pk_context *pk,
                                const uint8_t priv[ROT_P384_SCALAR_LEN]) {
  const rot_crypto_t *c = rot_host_crypto();
  uint8_t pub[ROT_P384_PUBKEY_LEN];
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  if (c == NULL) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  ROT_TRY(c->ecdsa_p384_pubkey(c, priv, pub));
  sec1[0] = 0x04;
  memcpy(sec1 + 1, pub, sizeof(pub));
  if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
  if (mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP384R1) != 0 ||
      mbedtls_mpi_read_binary(&kp->d, priv, ROT_P384_SCALAR_LEN) != 0 ||
      mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, sec1, sizeof(sec1)) != 0) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  return ROT_OK;
}

static rot_error_t pem_save(const char *path, mbedtls_pk_context *pk,
                            int private, unsigned mode) {
  unsigned char buf[1024];
  int rc = private ? mbedtls_pk_write_key_pem(pk, buf, sizeof(buf))
                   : mbedtls_pk_write_pubkey_pem(pk, buf, sizeof(buf));
  if (rc != 0) {
    return ROT_ERROR_CRYPTO_FAILED;
  }
  rot_error_t err = rot_file_write(path, buf, strlen((char *)buf), mode);
  mbedtls_platform_zeroize(buf, sizeof(buf));
  return err;
}

rot_error_t rot_key_save(const char *path,
                         const uint8_t priv[ROT_P384_SCALAR_LEN]) {
  if (path == NULL || priv == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  rot_error_t err = pk_from_priv(&pk, priv);
  if (err == ROT_OK) {
    err = pem_save(path, &pk, 1, 0600);
  }
  mbedtls_pk_free(&pk);
  return err;
}

rot_error_t rot_pubkey_save(const char *path,
                            const uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  if (path == NULL || pub == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  sec1[0] = 0x04;
  memcpy(sec1 + 1, pub, ROT_P384_PUBKEY_LEN);
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  rot_error_t err = ROT_ERROR_CRYPTO_BAD_KEY;
  if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0) {
    mbedtls_ecp_keypair *kp = mbedtls_pk_ec(pk);
    if (mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP384R1) == 0 &&
        mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, sec1, sizeof(sec1)) == 0 &&
        mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) == 0) {
      err = pem_save(path, &pk, 0, 0644);
    }
  }
  mbedtls_pk_free(&pk);
  return err;
}

static rot_error_t pk_to_raw(mbedtls_pk_context *pk,
                             uint8_t priv[ROT_P384_SCALAR_LEN],
                             uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY) {
    return ROT_ERROR_CRYPTO_BAD_KEY;
  }
  mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
  if (kp->grp.id != MBEDTLS_ECP_DP_SECP384R1) {
    return ROT_ERROR_CRYPTO_BAD_KEY;
  }
  uint8_t sec1[1 + ROT_P384_PUBKEY_LEN];
  size_t olen = 0;
  if (mbedtls_ecp_point_write_binary(&kp->grp, &kp->Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                     &olen, sec1, sizeof(sec1)) != 0 ||
      olen != sizeof(sec1)) {
    return ROT_ERROR_CRYPTO_BAD_KEY;
  }
  memcpy(pub, sec1 + 1, ROT_P384_PUBKEY_LEN);
  if (priv != NULL &&
      mbedtls_mpi_write_binary(&kp->d, priv, ROT_P384_SCALAR_LEN) != 0) {
    return ROT_ERROR_CRYPTO_BAD_KEY;
  }
  return ROT_OK;
}

rot_error_t rot_key_load(const char *path, uint8_t priv[ROT_P384_SCALAR_LEN],
                         uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  if (path == NULL || priv == NULL || pub == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (access(path, R_OK) != 0) {
    return os_fail(ROT_ERROR_IO_OPEN);
  }
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  rot_error_t err = ROT_ERROR_CRYPTO_BAD_KEY;
  if (mbedtls_pk_parse_keyfile(&pk, path, NULL) == 0) {
    err = pk_to_raw(&pk, priv, pub);
  }
  mbedtls_pk_free(&pk);
  return err;
}

rot_error_t rot_pubkey_load(const char *path, uint8_t pub[ROT_P384_PUBKEY_LEN]) {
  if (path == NULL || pub == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (access(path, R_OK) != 0) {
    return os_fail(ROT_ERROR_IO_OPEN);
  }
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  rot_error_t err = ROT_ERROR_CRYPTO_BAD_KEY;
  if (mbedtls_pk_parse_public_keyfile(&pk, path) == 0) {
    err = pk_to_raw(&pk, NULL, pub);
  }
  mbedtls_pk_free(&pk);
  return err;
}

/* ---- Device files (flash, OTP) ------------------------------------------ */

#define FILL_CHUNK 65536u

/* The daemon's claim on a device file: a write lock on one byte past the
 * end, apart from the flock readers and writers use, so a second daemon is
 * refused while readers (LOCK_SH) still get in. An open-file-description
 * lock, unlike a classic POSIX one, is not dropped when the process closes
 * some other descriptor of the file, and conflicts inside one process too. */
static int claim_daemon(int fd, uint32_t size) {
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)size;
  fl.l_len = 1;
  return fcntl(fd, F_OFD_SETLK, &fl);
}

static rot_error_t open_device(const char *path, uint32_t size, uint8_t fill,
                               int create, rot_error_t bad_size,
                               rot_lock_t lock, int *fd_out,
                               unsigned *mode_out) {
  if (path == NULL || fd_out == NULL ||
      (lock == ROT_LOCK_READER && create)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *fd_out = -1;
  if (mode_out != NULL) {
    *mode_out = 0;
  }
  int flags = lock == ROT_LOCK_READER ? O_RDONLY : O_RDWR;
  g_last_errno = 0;
  int fd = open(path, flags | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) {
    return os_fail(ROT_ERROR_IO_OPEN);
  }
  /* Non-blocking: a second daemon on the same device must fail, not wait. */
  int how = lock == ROT_LOCK_WRITER ? LOCK_EX : LOCK_SH;
  if (flock(fd, how | LOCK_NB) != 0 ||
      (lock == ROT_LOCK_DAEMON && claim_daemon(fd, size) != 0)) {
    rot_error_t err = os_fail(ROT_ERROR_IO_LOCKED);
    close(fd);
    return err;
  }
  struct stat st;
  if (fstat_regular(fd, &st) != 0) {
    rot_error_t err = os_fail(ROT_ERROR_IO_OPEN);
    close(fd);
    return err;
  }
  unsigned mode = (unsigned)st.st_mode & 07777u;
  if (mode_out != NULL) {
    *mode_out = mode;
  }
  if (st.st_size == 0 && create && lock == ROT_LOCK_DAEMON) {
    /* Filling a new file needs it to oneself. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      return ROT_ERROR_IO_LOCKED;
    }
  }
  if (st.st_size == 0 && create) {
    /* An empty file someone else made keeps its own mode: force 0600. */
    uint8_t *buf = malloc(FILL_CHUNK);
    int bad = buf == NULL || fchmod(fd, 0600) != 0;
    if (!bad) {
      memset(buf, fill, FILL_CHUNK);
      for (uint32_t off = 0; off < size && !bad; off += FILL_CHUNK) {
        uint32_t n = size - off > FILL_CHUNK ? FILL_CHUNK : size - off;
        bad = pwrite(fd, buf, n, off) != (ssize_t)n;
      }
      bad = bad || fsync(fd) != 0;
    }
    free(buf);
    if (bad) {
      close(fd);
      return ROT_ERROR_IO_WRITE;
    }
    if (mode_out != NULL) {
      *mode_out = 0600;
    }
  } else if ((mode & 077u) != 0) {
    /* Refused, not repaired: others may already have read the secret or
     * changed the device behind the gate; chmod would hide that. */
    close(fd);
    return ROT_ERROR_IO_PERMISSIONS;
  } else if ((uint64_t)st.st_size != size) {
    close(fd);
    return bad_size;
  }
  if (st.st_size == 0 && create && lock == ROT_LOCK_DAEMON &&
      flock(fd, LOCK_SH | LOCK_NB) != 0) {
    close(fd);
    return ROT_ERROR_IO_LOCKED;
  }
  *fd_out = fd;
  return ROT_OK;
}

rot_error_t rot_file_open_device(const char *path, uint32_t size, uint8_t fill,
                                 int create, rot_error_t bad_size, int *fd_out,
                                 unsigned *mode_out) {
  return open_device(path, size, fill, create, bad_size, ROT_LOCK_WRITER,
                     fd_out, mode_out);
}

const char *rot_file_private_advice(char *buf, size_t cap, const char *path,
                                    unsigned mode) {
  if (buf == NULL || cap == 0) {
    return buf;
  }
  snprintf(buf, cap,
           "mode %04o lets group or others at it, so what it holds may "
           "already have leaked or been changed: check who had access, then "
           "run 'chmod 600 %s'",
           mode & 07777u, path != NULL ? path : "FILE");
  return buf;
}

/* ---- File-backed OTP ---------------------------------------------------- */

static rot_error_t otp_read(const rot_otp_port_t *p, uint32_t off, void *buf,
                            uint32_t len) {
  const rot_otp_file_t *f = p->state;
  if (buf == NULL || off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ssize_t n = pread(f->fd, buf, len, off);
  return n == (ssize_t)len ? ROT_OK : ROT_ERROR_IO_READ;
}

static rot_error_t otp_program(const rot_otp_port_t *p, uint32_t off,
                               const void *buf, uint32_t len) {
  const rot_otp_file_t *f = p->state;
  if (buf == NULL || off > ROT_OTP_SIZE || len > ROT_OTP_SIZE - off) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (f->lock == ROT_LOCK_READER) {
    return ROT_ERROR_OTP_WRITE_FAILED; /* opened to read */
  }
  uint8_t cur[ROT_OTP_SIZE];
  if (pread(f->fd, cur, len, off) != (ssize_t)len) {
    return ROT_ERROR_IO_READ;
  }
  const uint8_t *in = buf;
  for (uint32_t i = 0; i < len; i++) {
    cur[i] |= in[i]; /* fuses only blow: 0 -> 1 */
  }
  if (pwrite(f->fd, cur, len, off) != (ssize_t)len || fdatasync(f->fd) != 0) {
    return ROT_ERROR_OTP_WRITE_FAILED;
  }
  return ROT_OK;
}

rot_error_t rot_otp_file_open_locked(rot_otp_file_t *otp, const char *path,
                                     int create, rot_lock_t lock) {
  if (otp == NULL || path == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(otp, 0, sizeof(*otp));
  otp->fd = -1;
  otp->lock = lock;
  int fd;
  /* Blank fuses read as 0: nothing has been blown yet. */
  rot_error_t err = open_device(path, ROT_OTP_SIZE, 0x00, create,
                                ROT_ERROR_OTP_BAD_LAYOUT, lock, &fd,
                                &otp->mode);
  if (err != ROT_OK) {
    return err;
  }
  otp->fd = fd;
  otp->port.read = otp_read;
  otp->port.program = otp_program;
  otp->port.state = otp;
  return ROT_OK;
}

rot_error_t rot_otp_file_open(rot_otp_file_t *otp, const char *path,
                              int create) {
  return rot_otp_file_open_locked(otp, path, create, ROT_LOCK_WRITER);
}

void rot_otp_file_close(rot_otp_file_t *otp) {
  if (otp != NULL && otp->fd >= 0) {
    close(otp->fd); /* releases the lock */
    otp->fd = -1;
  }
}
