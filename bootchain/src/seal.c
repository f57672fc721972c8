/*
 * Sealed image memory on memfd (see bootchain/seal.h).
 */
#define _GNU_SOURCE
#include "bootchain/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rot_host/file.h"

#define ALL_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)


/* Seals and size as the kernel reports them, not as we asked. */
static rot_error_t check_sealed(int fd, size_t len) {
  struct stat st;
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & ALL_SEALS) != ALL_SEALS) {
    return ROT_ERROR_HANDOFF_SEAL;
  }
  if (fstat(fd, &st) != 0 || st.st_size < 0 || (size_t)st.st_size != len) {
    return ROT_ERROR_HANDOFF_SEAL;
  }
  return ROT_OK;
}

/* A sealable memfd for len bytes named name (both checked). */
static rot_error_t new_memfd(const char *name, size_t len, int *fd) {
  if (name == NULL || len == 0 ||
      strnlen(name, BC_SEAL_NAME_MAX + 1u) > BC_SEAL_NAME_MAX ||
      len > (size_t)INT64_MAX) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  *fd = memfd_create(name, MFD_ALLOW_SEALING | MFD_CLOEXEC);
  return *fd < 0 ? ROT_ERROR_HANDOFF_SEAL : ROT_OK;
}

/* Seals fd (len bytes), checks the seals took, and maps it read-only into
 * out. The mapping is not populated: pages are mapped as they are read
 * (the boot path reads none of a payload's; the --out copies read them
 * all, after the host has started). On error out is untouched and fd
 * stays open for the caller to close. */
static rot_error_t seal_and_map(int fd, size_t len, bc_sealed_t *out) {
  if (fcntl(fd, F_ADD_SEALS, ALL_SEALS) != 0) {
    return ROT_ERROR_HANDOFF_SEAL;
  }
  rot_error_t err = check_sealed(fd, len);
  if (err != ROT_OK) {
    return err;
  }
  void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    return ROT_ERROR_HANDOFF_SEAL;
  }
  out->fd = fd;
  out->data = map;
  out->len = len;
  (void)snprintf(out->path, sizeof(out->path), "/proc/self/fd/%d", fd);
  return ROT_OK;
}

rot_error_t bc_seal_create(const char *name, const void *data, size_t len,
                           bc_sealed_t *out) {
  if (out == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  out->fd = -1;
  out->data = NULL;
  out->len = 0;
  out->path[0] = '\0';
  if (data == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  int fd = -1;
  rot_error_t err = new_memfd(name, len, &fd);
  if (err != ROT_OK) {
    return err;
  }
  /* F_SEAL_WRITE is refused while any writable shared mapping exists, so
   * the content goes in with write(), never through a mapping. */
  err = ROT_ERROR_HANDOFF_SEAL;
  if (rot_file_write_all(fd, data, len) == 0) {
    err = seal_and_map(fd, len, out);
  }
  if (err != ROT_OK) {
    (void)close(fd);
    return err;
  }
  if (memcmp(out->data, data, len) != 0) {
    bc_seal_close(out);
    return ROT_ERROR_HANDOFF_MISMATCH;
  }
  return ROT_OK;
}

rot_error_t bc_seal_open(const char *name, size_t len, bc_seal_writer_t *w) {
  if (w == NULL) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  w->fd = -1;
  w->len = 0;
  int fd = -1;
  rot_error_t err = new_memfd(name, len, &fd);
  if (err != ROT_OK) {
    return err;
  }
  if (ftruncate(fd, (off_t)len) != 0) {
    (void)close(fd);
    return ROT_ERROR_HANDOFF_SEAL;
  }
  w->fd = fd;
  w->len = len;
  return ROT_OK;
}

/* [off, off + n) of an open writer's file, with a buffer. */
static int writer_range_ok(const bc_seal_writer_t *w, size_t off,
                           const void *buf, size_t n) {
  return w != NULL && w->fd >= 0 && buf != NULL && off <= w->len &&
         n <= w->len - off;
}

/* n bytes at off of w's file, read into dst or written from src. */
static rot_error_t writer_io(const bc_seal_writer_t *w, size_t off,
                             const uint8_t *src, uint8_t *dst, size_t n) {
  if (!writer_range_ok(w, off, src != NULL ? (const void *)src : dst, n)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return rot_file_io_at(w->fd, dst, src, n, off) == 0 ? ROT_OK
                                                      : ROT_ERROR_HANDOFF_SEAL;
}

rot_error_t bc_seal_write(const bc_seal_writer_t *w, size_t off,
                          const void *data, size_t n) {
  return writer_io(w, off, data, NULL, n);
}

rot_error_t bc_seal_read(const bc_seal_writer_t *w, size_t off, void *buf,
                         size_t n) {
  return writer_io(w, off, NULL, buf, n);
}

void bc_seal_abort(bc_seal_writer_t *w) {
  if (w == NULL) {
    return;
  }
  /* len is only set once the file is open, so a zeroed writer (fd 0) is
   * never mistaken for an open one. */
  if (w->len != 0 && w->fd >= 0) {
    (void)close(w->fd);
  }
  w->fd = -1;
  w->len = 0;
}

rot_error_t bc_seal_commit(bc_seal_writer_t *w, bc_sealed_t *out) {
  if (out != NULL) {
    out->fd = -1;
    out->data = NULL;
    out->len = 0;
    out->path[0] = '\0';
  }
  if (w == NULL || out == NULL || w->len == 0 || w->fd < 0) {
    bc_seal_abort(w);
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  int fd = w->fd;
  size_t len = w->len;
  w->fd = -1;
  w->len = 0;
  rot_error_t err = seal_and_map(fd, len, out);
  if (err != ROT_OK) {
    (void)close(fd);
  }
  return err;
}

rot_error_t bc_seal_verify(const bc_sealed_t *s) {
  if (s == NULL || s->data == NULL || s->fd < 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  return check_sealed(s->fd, s->len);
}

const char *bc_seal_path(const bc_sealed_t *s) {
  if (s == NULL || s->data == NULL || s->fd < 0) {
    return NULL;
  }
  return s->path;
}

void bc_seal_close(bc_sealed_t *s) {
  if (s == NULL) {
    return;
  }
  /* data is only set once creation fully succeeded, so a zeroed struct
   * (fd 0) is never mistaken for an open one. */
  if (s->data != NULL) {
    (void)munmap((void *)(uintptr_t)s->data, s->len);
    if (s->fd >= 0) {
      (void)close(s->fd);
    }
  }
  s->fd = -1;
  s->data = NULL;
  s->len = 0;
  s->path[0] = '\0';
}

void bc_populate_write(void *p, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  if (p == NULL || len == 0 || page <= 0) {
    return;
  }
  /* Outward to whole pages: a page holding any byte of the range is
   * mapped, whatever else shares it, and populating leaves its bytes as
   * they are. */
  uintptr_t mask = (uintptr_t)page - 1u;
  uintptr_t start = (uintptr_t)p & ~mask;
  uintptr_t end = ((uintptr_t)p + len + mask) & ~mask;
  (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}
