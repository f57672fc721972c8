/* File-backed NOR flash: erased reads 0xFF, program ANDs bits in. */
#define _GNU_SOURCE
#include "rot_host/flash_file.h"

#include "rot_host/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_CHUNK 65536u

/*
 * Never-written flash is kept as holes. A fresh device is a sparse file
 * of its size, a read fills the holes it meets with 0xFF, and an erase of
 * a block that is all hole does nothing. A block once written keeps its
 * disk: an erase writes 0xFF over it rather than punching it out, since
 * on ext4 punching and re-allocating the blocks of a slot at every update
 * made each barrier commit the journal (an update took about twice as
 * long). Written bytes are stored as they are: a file filled with 0xFF
 * (as this port wrote them before) reads the same, and a raw dump of the
 * file shows programmed bytes at their offsets. Programs cover whole
 * file-system blocks (hole_block) so the file system never zero-fills
 * the rest of a block it allocates inside a hole.
 *
 * An erase of a written block is kept in memory (the block's bit in
 * f->pending) until the block is programmed or the next barrier, instead
 * of writing 0xFF over it at once: reads see the block erased at once, a
 * program into it stores the data with 0xFF around it in one write (the
 * AND of erased bytes with the data is the data), so an update writes its
 * bytes once rather than 0xFF first and then the data over them. The NOR
 * rules hold for every caller as before. Durability is unchanged: an
 * erase in the page cache was never durable before the next barrier
 * either, and a barrier writes the erases still kept before its
 * fdatasync. A crash of this process (not of the host) now also loses a
 * kept erase that no program or barrier followed: the block keeps the
 * bytes it had, as after a crash of the host before that erase reached
 * the disk, or a power cut on the chip right before the erase. Nothing
 * depends on it: the only erases not followed by a barrier before their
 * result is trusted are those of a slot being written, which the update
 * engine trusts only once finish has verified it (after a barrier).
 */

static rot_flash_file_t *ff(const rot_flash_port_t *p) { return p->state; }

static int is_pending(const rot_flash_file_t *f, uint32_t block) {
  return block < ROT_FLASH_FILE_MAX_BLOCKS &&
         (f->pending[block / 8u] >> (block % 8u) & 1u) != 0;
}

/* Blocks this port wrote whole since open: no hole left in them (holes
 * are never made again), so reading them needs no hole lookup. */
static int is_solid(const rot_flash_file_t *f, uint32_t block) {
  return block < ROT_FLASH_FILE_MAX_BLOCKS &&
         (f->solid[block / 8u] >> (block % 8u) & 1u) != 0;
}

static void set_solid(rot_flash_file_t *f, uint32_t first, uint32_t end) {
  for (uint32_t b = first; b < end && b < ROT_FLASH_FILE_MAX_BLOCKS; b++) {
    f->solid[b / 8u] |= (uint8_t)(1u << (b % 8u));
  }
}

/* [off, off + len) lies in solid blocks only. */
static int range_solid(const rot_flash_file_t *f, uint32_t off, uint32_t len) {
  uint32_t es = f->port.erase_size;
  for (uint32_t b = off / es; len != 0 && b <= (off + len - 1u) / es; b++) {
    if (!is_solid(f, b)) {
      return 0;
    }
  }
  return 1;
}

static void set_pending(rot_flash_file_t *f, uint32_t block, int on) {
  if (block >= ROT_FLASH_FILE_MAX_BLOCKS || is_pending(f, block) == (on != 0)) {
    return;
  }
  uint8_t bit = (uint8_t)(1u << (block % 8u));
  if (on) {
    f->pending[block / 8u] |= bit;
    f->npending++;
  } else {
    f->pending[block / 8u] &= (uint8_t)~bit;
    f->npending--;
  }
}

/* The file system's block, when holes can be used at that granularity
 * (a power of two that divides IO_CHUNK), else 0: no holes are made. */
static uint32_t hole_block(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_blksize < 512 ||
      st.st_blksize > (blksize_t)IO_CHUNK ||
      (st.st_blksize & (st.st_blksize - 1)) != 0) {
    return 0;
  }
  return (uint32_t)st.st_blksize;
}

static int bounds_ok(const rot_flash_port_t *p, uint32_t off, uint32_t len) {
  return off <= p->size && len <= p->size - off;
}

static int pread_all(int fd, uint8_t *b, uint32_t len, uint32_t off) {
  return rot_file_io_at(fd, b, NULL, len, off);
}

static int pwrite_all(int fd, const uint8_t *b, uint32_t len, uint32_t off) {
  return rot_file_io_at(fd, NULL, b, len, off);
}

/* Start of the next data at or after pos, or end when only holes remain
 * before it (-1 on error). */
static int64_t next_data(int fd, uint32_t pos, uint32_t end) {
  off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
  if (d < 0) {
    return errno == ENXIO ? (int64_t)end : -1;
  }
  return d > (off_t)end ? (int64_t)end : (int64_t)d;
}

/* Read [off, off + len) with holes as erased bytes. */
static int read_erased_holes(int fd, uint8_t *b, uint32_t off, uint32_t len) {
  uint32_t end = off + len;
  uint32_t pos = off;
  while (pos < end) {
    int64_t d = next_data(fd, pos, end);
    if (d < 0) {
      return -1;
    }
    if ((uint32_t)d > pos) {
      memset(b + (pos - off), 0xff, (uint32_t)d - pos);
      pos = (uint32_t)d;
      continue;
    }
    off_t h = lseek(fd, (off_t)pos, SEEK_HOLE);
    if (h < 0) {
      return -1;
    }
    uint32_t stop = h > (off_t)end ? end : (uint32_t)h;
    if (stop <= pos || pread_all(fd, b + (pos - off), stop - pos, pos) != 0) {
      return -1;
    }
    pos = stop;
  }
  return 0;
}

/* Where the run of blocks from pos that are (pending = 1) or are not
 * (pending = 0) kept erased in memory ends, at most at end. */
static uint32_t pending_run(const rot_flash_port_t *p, uint32_t pos,
                            uint32_t end, int pending) {
  const rot_flash_file_t *f = ff(p);
  uint32_t es = p->erase_size;
  uint32_t stop = pos - pos % es + es;
  while (stop < end && is_pending(f, stop / es) == pending) {
    stop += es;
  }
  return stop < end ? stop : end;
}

static rot_error_t ff_read(const rot_flash_port_t *p, uint32_t off, void *buf,
                           uint32_t len) {
  if (buf == NULL || !bounds_ok(p, off, len)) {
    return ROT_ERROR_FLASH_BOUNDS;
  }
  rot_flash_file_t *f = ff(p);
  f->reads++;
  uint8_t *b = buf;
  uint32_t end = off + len;
  for (uint32_t pos = off; pos < end;) {
    int pending = f->npending != 0 && is_pending(f, pos / p->erase_size);
    uint32_t stop = f->npending == 0 ? end : pending_run(p, pos, end, pending);
    if (pending) {
      memset(b + (pos - off), 0xff, stop - pos); /* erased, not yet written */
    } else if (range_solid(f, pos, stop - pos)
                   ? pread_all(f->fd, b + (pos - off), stop - pos, pos) != 0
                   : read_erased_holes(f->fd, b + (pos - off), pos, stop - pos) != 0) {
      return ROT_ERROR_FLASH_READ;
    }
    pos = stop;
  }
  return ROT_OK;
}

/* AND data into bytes read from the file, a word at a time. */
static void and_into(uint8_t *dst, const uint8_t *src, uint32_t n) {
  uint32_t i = 0;
  for (; i + 8u <= n; i += 8u) {
    uint64_t a, b;
    memcpy(&a, dst + i, 8);
    memcpy(&b, src + i, 8);
    a &= b;
    memcpy(dst + i, &a, 8);
  }
  for (; i < n; i++) {
    dst[i] &= src[i];
  }
}

/* Program [off, off + len) outside the erases kept in memory: the AND of
 * what the file holds (holes read erased) with the data. */
static rot_error_t program_file(rot_flash_file_t *f, uint32_t off,
                                const uint8_t *in, uint32_t len) {
  uint32_t blk = f->hole_block != 0 ? f->hole_block : 1u;
  uint8_t tmp[IO_CHUNK];
  uint32_t end = off + len;
  /* Whole blocks, at most IO_CHUNK bytes each time (blk divides it). */
  uint32_t pos = off - off % blk;
  while (pos < end) {
    uint32_t stop = pos + IO_CHUNK - pos % IO_CHUNK;
    if (stop > f->port.size) {
      stop = f->port.size;
    }
    uint32_t a = pos < off ? off : pos;
    uint32_t b = stop < end ? stop : end;
    /* Only the blocks the program touches are read and written back. */
    uint32_t wa = a - a % blk;
    uint32_t wb = b % blk == 0 ? b : b + blk - b % blk;
    if (wb > stop) {
      wb = stop;
    }
    int solid = range_solid(f, wa, wb - wa);
    int64_t d = solid ? (int64_t)wa : next_data(f->fd, wa, wb);
    const uint8_t *out = tmp + (wa - pos);
    if (d == (int64_t)wb && wa == a && wb == b) {
      out = in + (a - off); /* erased whole blocks take the data as is */
    } else if (d == (int64_t)wb) {
      /* Erased: the AND of 0xFF with the data is the data. */
      memset(tmp + (wa - pos), 0xff, wb - wa);
      memcpy(tmp + (a - pos), in + (a - off), b - a);
    } else {
      if (d < 0 || (solid ? pread_all(f->fd, tmp + (wa - pos), wb - wa, wa)
                          : read_erased_holes(f->fd, tmp + (wa - pos), wa, wb - wa)) != 0) {
        return ROT_ERROR_FLASH_PROGRAM;
      }
      and_into(tmp + (a - pos), in + (a - off), b - a); /* NOR: only clears bits */
    }
    f->dirty = 1; /* set first: a short write may still have landed */
    if (pwrite_all(f->fd, out, wb - wa, wa) != 0) {
      return ROT_ERROR_FLASH_PROGRAM;
    }
    uint32_t es = f->port.erase_size;
    set_solid(f, (wa + es - 1u) / es, wb / es); /* the blocks written whole */
    pos = stop;
  }
  return ROT_OK;
}

/*
 * A slot being written is mostly large runs of whole blocks: once a run of
 * WRITEBACK_STEP bytes has been written, ask the kernel to start writing
 * it to the disk (SYNC_FILE_RANGE_WRITE: no wait, no ordering), so the
 * next barrier finds most of it already there instead of writing it all
 * while the caller waits. The barrier is still what makes it durable.
 */
#define WRITEBACK_STEP (1024u * 1024u)

static void start_writeback(rot_flash_file_t *f, uint32_t off, uint32_t n) {
  if (f->wb_len != 0 && off == f->wb_off + f->wb_len) {
    f->wb_len += n;
  } else {
    f->wb_off = off;
    f->wb_len = n;
  }
  if (f->wb_len >= WRITEBACK_STEP) {
    /* Advice only: a failure changes nothing the barrier does not cover. */
    (void)sync_file_range(f->fd, f->wb_off, f->wb_len, SYNC_FILE_RANGE_WRITE);
    f->wb_off += f->wb_len;
    f->wb_len = 0;
  }
}

/*
 * Program [pos, stop) (inside the program [off, off + len)) where every
 * block is kept erased in memory: each block is written once, whole, as
 * the data with the erased bytes around it. Blocks the data covers
 * completely are written straight from it, a run of them in one call.
 */
static rot_error_t program_erased(rot_flash_file_t *f, uint32_t off,
                                  const uint8_t *in, uint32_t pos,
                                  uint32_t stop) {
  uint32_t es = f->port.erase_size;
  while (pos < stop) {
    uint32_t first = pos - pos % es;
    uint32_t n = es;
    uint32_t next;
    const uint8_t *out = f->block;
    if (pos == first && stop - pos >= es) {
      n = (stop - pos) - (stop - pos) % es;
      out = in + (pos - off);
      next = pos + n;
    } else {
      next = first + es < stop ? first + es : stop;
      memset(f->block, 0xff, es);
      memcpy(f->block + (pos - first), in + (pos - off), next - pos);
    }
    f->dirty = 1;
    if (pwrite_all(f->fd, out, n, first) != 0) {
      return ROT_ERROR_FLASH_PROGRAM; /* the blocks stay erased in memory */
    }
    start_writeback(f, first, n);
    for (uint32_t b = first / es; b < (first + n) / es; b++) {
      set_pending(f, b, 0);
    }
    set_solid(f, first / es, (first + n) / es);
    pos = next;
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
  const uint8_t *in = buf;
  uint32_t end = off + len;
  for (uint32_t pos = off; pos < end;) {
    int pending = f->npending != 0 && is_pending(f, pos / p->erase_size);
    uint32_t stop = f->npending == 0 ? end : pending_run(p, pos, end, pending);
    rot_error_t err = pending ? program_erased(f, off, in, pos, stop)
                              : program_file(f, pos, in + (pos - off), stop - pos);
    if (err != ROT_OK) {
      return err;
    }
    pos = stop;
  }
  return ROT_OK;
}

/* Write the erases still kept in memory (0xFF over each block). */
static rot_error_t flush_erases(rot_flash_file_t *f) {
  uint32_t es = f->port.erase_size;
  for (uint32_t blkno = 0; f->npending != 0 && blkno < ROT_FLASH_FILE_MAX_BLOCKS;
       blkno++) {
    if (!is_pending(f, blkno)) {
      continue;
    }
    memset(f->block, 0xff, es);
    f->dirty = 1;
    if (pwrite_all(f->fd, f->block, es, blkno * es) != 0) {
      return ROT_ERROR_FLASH_ERASE;
    }
    set_pending(f, blkno, 0);
    set_solid(f, blkno, blkno + 1u);
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
  uint32_t blkno = off / p->erase_size;
  if (is_pending(f, blkno)) {
    return ROT_OK; /* already erased, in memory */
  }
  uint32_t end = off + p->erase_size;
  int64_t d = is_solid(f, blkno) ? (int64_t)off : next_data(f->fd, off, end);
  if (d == (int64_t)end) {
    return ROT_OK; /* all hole: already erased */
  }
  /* Data, or holes we cannot see (d < 0): erase it as written bytes. */
  if (f->defer) {
    set_pending(f, blkno, 1); /* written by the next program or barrier */
    return ROT_OK;
  }
  /* No room to keep it (blocks larger than f->block): write the erased
   * bytes now, a buffer at a time. */
  memset(f->block, 0xff, sizeof(f->block));
  f->dirty = 1;
  for (uint32_t done = 0; done < p->erase_size;) {
    uint32_t n = p->erase_size - done < sizeof(f->block) ? p->erase_size - done
                                                         : (uint32_t)sizeof(f->block);
    if (pwrite_all(f->fd, f->block, n, off + done) != 0) {
      return ROT_ERROR_FLASH_ERASE;
    }
    done += n;
  }
  set_solid(f, blkno, blkno + 1u);
  return ROT_OK;
}

/*
 * The page cache is not flash: a state commit must not overtake the image
 * bytes it names, on a crash of the host as on a power cut. A barrier
 * orders the writes before it against those after it; with no write since
 * the last barrier that reached the disk there is nothing to order, so
 * none is issued (a state commit right after an audit append, which ends
 * in a barrier, used to pay a second fdatasync for nothing). Erases kept
 * in memory are written first, so the barrier covers them like any other
 * write. A failed fdatasync leaves the file dirty, so the next barrier
 * retries.
 */
static rot_error_t ff_sync(const rot_flash_port_t *p) {
  rot_flash_file_t *f = ff(p);
  ROT_TRY(flush_erases(f));
  if (!f->dirty) {
    return ROT_OK;
  }
  if (fdatasync(f->fd) != 0) {
    return ROT_ERROR_FLASH_PROGRAM;
  }
  f->dirty = 0;
  f->syncs++;
  return ROT_OK;
}

/*
 * A new device is made here as one hole of its size. Anything short of
 * that (the file exists, holes are not visible) leaves the file as it was
 * or empty, and the shared open below fills an empty file with 0xFF.
 */
static void create_sparse(const char *path, uint32_t size) {
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return;
  }
  if (fchmod(fd, 0600) != 0 || hole_block(fd) == 0 ||
      ftruncate(fd, (off_t)size) != 0 ||
      next_data(fd, 0, size) != (int64_t)size || fsync(fd) != 0) {
    if (ftruncate(fd, 0) != 0) {
      /* The shared open refuses a file of the wrong size. */
    }
  }
  close(fd);
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
  if (create) {
    create_sparse(path, size);
  }
  int fd;
  rot_error_t err = rot_file_open_device(path, size, 0xff, create,
                                         ROT_ERROR_FLASH_BAD_LAYOUT, &fd,
                                         &f->mode);
  if (err != ROT_OK) {
    return err;
  }
  f->fd = fd;
  f->hole_block = hole_block(fd);
  /* Erases are kept in memory only where the bitmap and the block buffer
   * cover the device (ROT_FLASH_FILE_MAX_BLOCKS blocks of up to IO_CHUNK). */
  f->defer = erase_size <= ROT_FLASH_FILE_BLOCK_MAX &&
             size / erase_size <= ROT_FLASH_FILE_MAX_BLOCKS;
  /* Writes of an earlier process may still sit in the page cache: the
   * first barrier always reaches the disk. */
  f->dirty = 1;
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
    if (flush_erases(f) != ROT_OK) {
      /* Best effort on the way out: the blocks keep their old bytes, as
       * after a cut right before the erase. */
    }
    fsync(f->fd);
    close(f->fd);
    f->fd = -1;
  }
}
