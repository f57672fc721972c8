/* File-backed NOR flash: erase to 0xFF, program ANDs bits in. */
#define _GNU_SOURCE
#include "rot_host/flash_file.h"

#include "rot_host/file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define IO_CHUNK 65536u

static rot_flash_file_t *ff(const rot_flash_port_t *p) { return p->state; }

static int bounds_ok(const rot_flash_port_t *p, uint32_t off, uint32_t len) {
  return off <= p->size && len <= p->size - off;
}

static rot_error_t ff_read(const rot_flash_port_t *p, uint32_t off, void *buf,
                           uint32_t len) {
  if (buf == NULL || !bounds_ok(p, off, len)) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  rot_flash_file_t *f = ff(p);
  f->reads++;
  uint8_t *b = buf;
  while (len > 0) {
    ssize_t n = pread(f->fd, b, len, off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return ROT_ERROR_FLASH_READ;
    }
    b += n;
    off += (uint32_t)n;
    len -= (uint32_t)n;
  }
  return ROT_OK;
}

static rot_error_t ff_program(const rot_flash_port_t *p, uint32_t off,
                              const void *buf, uint32_t len) {
  if (buf == NULL || !bounds_ok(p, off, len)) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  rot_flash_file_t *f = ff(p);
  f->programs++;
  uint8_t tmp[IO_CHUNK];
  const uint8_t *in = buf;
  while (len > 0) {
    uint32_t n = len > IO_CHUNK ? IO_CHUNK : len;
    if (pread(f->fd, tmp, n, off) != (ssize_t)n) {
      return ROT_ERROR_FLASH_PROGRAM;
    }
    for (uint32_t i = 0; i < n; i++) {
      tmp[i] &= in[i]; /* NOR: programming only clears bits */
    }
    if (pwrite(f->fd, tmp, n, off) != (ssize_t)n) {
      return ROT_ERROR_FLASH_PROGRAM;
    }
    in += n;
    off += n;
    len -= n;
  }
  return ROT_OK;
}

static rot_error_t ff_erase(const rot_flash_port_t *p, uint32_t off) {
  if (off % p->erase_size != 0) {
    return ROT_ERROR_FLASH_ALIGN;
  }
  if (!bounds_ok(p, off, p->erase_size)) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  rot_flash_file_t *f = ff(p);
  f->erases++;
  uint8_t ones[IO_CHUNK];
  memset(ones, 0xff, sizeof(ones));
  for (uint32_t done = 0; done < p->erase_size;) {
    uint32_t n = p->erase_size - done > IO_CHUNK ? IO_CHUNK : p->erase_size - done;
    if (pwrite(f->fd, ones, n, off + done) != (ssize_t)n) {
      return ROT_ERROR_FLASH_ERASE;
    }
    done += n;
  }
  return ROT_OK;
}

static rot_error_t ff_sync(const rot_flash_port_t *p) {
  /* The page cache is not flash: a state commit must not overtake the
   * image bytes it names, on a crash of the host as on a power cut. */
  return fdatasync(ff(p)->fd) == 0 ? ROT_OK : ROT_ERROR_FLASH_PROGRAM;
}

rot_error_t rot_flash_file_open(rot_flash_file_t *f, const char *path,
                                uint32_t size, uint32_t erase_size,
                                int create) {
  if (f == NULL || path == NULL || size == 0 || erase_size == 0 ||
      size % erase_size != 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  memset(f, 0, sizeof(*f));
  f->fd = -1;
  int fd;
  rot_error_t err = rot_file_open_device(path, size, 0xff, create,
                                         ROT_ERROR_FLASH_BAD_LAYOUT, &fd,
                                         &f->mode);
  if (err != ROT_OK) {
    return err;
  }
  f->fd = fd;
  f->port.read = ff_read;
  f->port.program = ff_program;
  f->port.erase = ff_erase;
  f->port.sync = ff_sync;
  f->port.size = size;
  f->port.erase_size = erase_size;
  f->port.state = f;
  return ROT_OK;
}

void rot_flash_file_close(rot_flash_file_t *f) {
  if (f != NULL && f->fd >= 0) {
    fsync(f->fd);
    close(f->fd);
    f->fd = -1;
  }
}
