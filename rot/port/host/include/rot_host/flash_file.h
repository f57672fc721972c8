/*
 * File-backed NOR flash for the host port. The file is created at the
 * device size erased bytes kept as holes, read as 0xFF (erased), mode 0600, and held under an
 * exclusive lock while open: the daemon that owns it is the only writer.
 * Operation counters let tests and benchmarks see what the core did.
 */
#ifndef ROT_HOST_FLASH_FILE_H
#define ROT_HOST_FLASH_FILE_H

#include <stdint.h>

#include "rot/flash.h"

/* Erase blocks whose erase can be kept in memory until they are written
 * (a 256 MiB device of 64 KiB blocks), and the largest such block. */
#define ROT_FLASH_FILE_MAX_BLOCKS 4096u
#define ROT_FLASH_FILE_BLOCK_MAX 65536u

typedef struct rot_flash_file {
  rot_flash_port_t port; /* first: the port the core uses */
  int fd;
  unsigned mode; /* permission bits found on open, also when refused */
  uint64_t reads, programs, erases;
  uint64_t syncs; /* barriers that reached the disk (fdatasync) */
  /* Non-zero when a write reached the file since the last barrier. */
  int dirty;
  uint32_t hole_block; /* the file system's block when holes are used, else 0 */
  /* Erased blocks not yet written to the file (bit per erase block): they
   * read as 0xFF and are written by their first program or the next
   * barrier. */
  int defer; /* 0: erases are written at once (device too large) */
  uint32_t npending;
  uint8_t pending[ROT_FLASH_FILE_MAX_BLOCKS / 8u];
  /* Blocks written whole since open (no holes in them): read directly. */
  uint8_t solid[ROT_FLASH_FILE_MAX_BLOCKS / 8u];
  uint8_t block[ROT_FLASH_FILE_BLOCK_MAX]; /* one erase block, built here */
  uint32_t wb_off, wb_len; /* written, writeback not yet started */
} rot_flash_file_t;

/**
 * Open (create = 1: create an erased device of size bytes if missing) and
 * lock a flash file. ROT_ERROR_IO_LOCKED when another process holds it;
 * an existing file of another size is refused, and so is one open to group
 * or others (ROT_ERROR_IO_PERMISSIONS, f->mode holds the mode found).
 */
ROT_WARN_UNUSED rot_error_t rot_flash_file_open(rot_flash_file_t *f,
                                                const char *path,
                                                uint32_t size,
                                                uint32_t erase_size,
                                                int create);
void rot_flash_file_close(rot_flash_file_t *f);

#endif
