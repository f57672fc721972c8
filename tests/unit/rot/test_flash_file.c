/*
 * The file-backed flash keeps erased blocks as holes: a fresh device costs
 * no disk, yet every byte of it reads as erased NOR (0xFF), a program ANDs
 * bits in without the file system zero-filling the rest of its block, an
 * erase of written blocks reads back erased, and a file filled with 0xFF
 * (the older form) reads and behaves the same.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rot_host/flash_file.h"

#define SIZE (1024u * 1024u)
#define ERASE 65536u

typedef struct tmp {
  char dir[64];
  char path[128];
} tmp_t;

static void tmp_make(tmp_t *t) {
  const char *base = getenv("TMPDIR");
  snprintf(t->dir, sizeof(t->dir), "%s/rot-ff-XXXXXX",
           base != NULL && strlen(base) < 40 ? base : "/tmp");
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->path, sizeof(t->path), "%s/flash.bin", t->dir);
}

static void tmp_remove(tmp_t *t) {
  unlink(t->path);
  assert_int_equal(rmdir(t->dir), 0);
}

static uint64_t disk_bytes(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return (uint64_t)st.st_blocks * 512u;
}

static int all_bytes(const uint8_t *b, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++) {
    if (b[i] != v) {
      return 0;
    }
  }
  return 1;
}

static uint8_t g_buf[SIZE];

static void ff_test_fresh_device_is_sparse_and_erased(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, ERASE, 1), ROT_OK);
  struct stat st;
  assert_int_equal(stat(t.path, &st), 0);
  assert_int_equal(st.st_size, SIZE);
  assert_true(disk_bytes(t.path) < SIZE / 8);
  assert_int_equal(f.port.read(&f.port, 0, g_buf, SIZE), ROT_OK);
  assert_true(all_bytes(g_buf, SIZE, 0xff));
  rot_flash_file_close(&f);
  tmp_remove(&t);
}

static void ff_test_program_in_hole_keeps_neighbours_erased(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, ERASE, 1), ROT_OK);
  /* Unaligned, inside one block, then across a block and chunk edge. */
  const uint8_t a[5] = {0x12, 0x00, 0xf0, 0x0f, 0xaa};
  assert_int_equal(f.port.program(&f.port, 4097, a, sizeof(a)), ROT_OK);
  static uint8_t big[70000];
  memset(big, 0x5a, sizeof(big));
  assert_int_equal(f.port.program(&f.port, ERASE - 1000, big, sizeof(big)),
                   ROT_OK);
  assert_int_equal(f.port.read(&f.port, 0, g_buf, SIZE), ROT_OK);
  assert_true(all_bytes(g_buf, 4097, 0xff));
  assert_memory_equal(g_buf + 4097, a, sizeof(a));
  assert_true(all_bytes(g_buf + 4102, ERASE - 1000 - 4102, 0xff));
  assert_true(all_bytes(g_buf + ERASE - 1000, sizeof(big), 0x5a));
  uint32_t tail = ERASE - 1000 + (uint32_t)sizeof(big);
  assert_true(all_bytes(g_buf + tail, SIZE - tail, 0xff));
  /* Programming only clears bits. */
  const uint8_t b[5] = {0xff, 0xff, 0x3c, 0xff, 0x0f};
  assert_int_equal(f.port.program(&f.port, 4097, b, sizeof(b)), ROT_OK);
  uint8_t back[5];
  assert_int_equal(f.port.read(&f.port, 4097, back, sizeof(back)), ROT_OK);
  const uint8_t and[5] = {0x12, 0x00, 0x30, 0x0f, 0x0a};
  assert_memory_equal(back, and, sizeof(and));
  /* A reopen reads the same bytes. */
  rot_flash_file_close(&f);
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, ERASE, 1), ROT_OK);
  static uint8_t again[SIZE];
  assert_int_equal(f.port.read(&f.port, 0, again, SIZE), ROT_OK);
  memcpy(g_buf + 4097, and, sizeof(and));
  assert_memory_equal(again, g_buf, SIZE);
  rot_flash_file_close(&f);
  tmp_remove(&t);
}

static void ff_test_erase_of_written_blocks(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, ERASE, 1), ROT_OK);
  static uint8_t zeros[SIZE];
  memset(zeros, 0, sizeof(zeros));
  assert_int_equal(f.port.program(&f.port, 0, zeros, SIZE), ROT_OK);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_true(disk_bytes(t.path) >= SIZE);
  for (uint32_t off = 0; off < SIZE; off += ERASE) {
    assert_int_equal(f.port.erase(&f.port, off), ROT_OK);
  }
  assert_int_equal(f.port.read(&f.port, 0, g_buf, SIZE), ROT_OK);
  assert_true(all_bytes(g_buf, SIZE, 0xff));
  /* Erasing what is erased is allowed and changes nothing. */
  assert_int_equal(f.port.erase(&f.port, ERASE), ROT_OK);
  assert_int_equal(f.port.read(&f.port, 0, g_buf, SIZE), ROT_OK);
  assert_true(all_bytes(g_buf, SIZE, 0xff));
  assert_int_equal(f.port.erase(&f.port, 1), ROT_ERROR_FLASH_ALIGN);
  assert_int_equal(f.port.erase(&f.port, SIZE), ROT_ERROR_FLASH_BOUNDS);
  rot_flash_file_close(&f);
  tmp_remove(&t);
}

/* A barrier reaches the disk only when a write came before it: the first
 * after open always (an earlier process may have left dirty pages), then
 * one per batch of programs or erases, none for an empty batch. */
static void ff_test_barrier_only_after_writes(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, ERASE, 1), ROT_OK);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_int_equal(f.syncs, 1);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_int_equal(f.syncs, 1);
  const uint8_t a[3] = {1, 2, 3};
  assert_int_equal(f.port.read(&f.port, 0, g_buf, 16), ROT_OK);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_int_equal(f.syncs, 1); /* a read orders nothing */
  assert_int_equal(f.port.program(&f.port, 100, a, sizeof(a)), ROT_OK);
  assert_int_equal(f.port.program(&f.port, 200, a, sizeof(a)), ROT_OK);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_int_equal(f.syncs, 2);
  assert_int_equal(f.port.erase(&f.port, 0), ROT_OK);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_int_equal(f.syncs, 3);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_int_equal(f.syncs, 3);
  rot_flash_file_close(&f);
  tmp_remove(&t);
}

static void ff_test_filled_file_still_works(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  /* The older form: every byte written as 0xFF, no holes. */
  int fd = open(t.path, O_RDWR | O_CREAT | O_EXCL, 0600);
  assert_true(fd >= 0);
  memset(g_buf, 0xff, SIZE);
  g_buf[ERASE + 3] = 0x41;
  assert_int_equal(write(fd, g_buf, SIZE), SIZE);
  close(fd);
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, ERASE, 1), ROT_OK);
  static uint8_t back[SIZE];
  assert_int_equal(f.port.read(&f.port, 0, back, SIZE), ROT_OK);
  assert_memory_equal(back, g_buf, SIZE);
  const uint8_t v = 0x03;
  assert_int_equal(f.port.program(&f.port, ERASE + 3, &v, 1), ROT_OK);
  assert_int_equal(f.port.read(&f.port, ERASE + 3, back, 1), ROT_OK);
  assert_int_equal(back[0], 0x01);
  /* Whole blocks over written bytes still AND, in holes or not. */
  static uint8_t blk[2 * ERASE];
  for (int round = 0; round < 2; round++) {
    memset(blk, 0x0f, sizeof(blk));
    assert_int_equal(f.port.program(&f.port, 2 * ERASE, blk, sizeof(blk)),
                     ROT_OK);
    memset(blk, 0xf3, sizeof(blk));
    assert_int_equal(f.port.program(&f.port, 2 * ERASE, blk, sizeof(blk)),
                     ROT_OK);
    assert_int_equal(f.port.read(&f.port, 2 * ERASE, back, sizeof(blk)),
                     ROT_OK);
    assert_true(all_bytes(back, sizeof(blk), 0x03));
    assert_int_equal(f.port.erase(&f.port, 2 * ERASE), ROT_OK);
    assert_int_equal(f.port.erase(&f.port, 3 * ERASE), ROT_OK);
  }
  assert_int_equal(f.port.erase(&f.port, ERASE), ROT_OK);
  assert_int_equal(f.port.read(&f.port, 0, back, SIZE), ROT_OK);
  assert_true(all_bytes(back, SIZE, 0xff));
  rot_flash_file_close(&f);
  tmp_remove(&t);
}

/* The file's own bytes, read past the port (as a dump of the device). */
static void file_bytes(const char *path, uint32_t off, uint8_t *b, uint32_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, b, n, off), (ssize_t)n);
  close(fd);
}

/*
 * An erase of written blocks is kept until the block is programmed or the
 * next barrier: the port reads it erased at once; a program into it (whole
 * blocks, a partial block, a run across both) leaves exactly the data with
 * erased bytes around it and still only clears bits afterwards; a barrier
 * writes the erases no program took, so the file holds 0xFF there once the
 * barrier returns; close does the same.
 */
static void ff_test_erase_kept_until_program_or_barrier(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, ERASE, 1), ROT_OK);
  static uint8_t zeros[SIZE], back[SIZE];
  memset(zeros, 0, sizeof(zeros));
  assert_int_equal(f.port.program(&f.port, 0, zeros, SIZE), ROT_OK);
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  for (uint32_t off = 0; off < 8 * ERASE; off += ERASE) {
    assert_int_equal(f.port.erase(&f.port, off), ROT_OK);
  }
  assert_int_equal(f.npending, 8);
  assert_int_equal(f.port.read(&f.port, ERASE - 10, back, 20), ROT_OK);
  assert_true(all_bytes(back, 20, 0xff));
  /* Two whole blocks and half of the third from one program. */
  static uint8_t data[3 * ERASE];
  for (uint32_t i = 0; i < sizeof(data); i++) {
    data[i] = (uint8_t)(i * 7u + 1u);
  }
  uint32_t n = 2 * ERASE + ERASE / 2;
  assert_int_equal(f.port.program(&f.port, 0, data, n), ROT_OK);
  assert_int_equal(f.npending, 5);
  /* A few bytes in the middle of the fifth block. */
  assert_int_equal(f.port.program(&f.port, 4 * ERASE + 100, data, 50), ROT_OK);
  assert_int_equal(f.npending, 4);
  assert_int_equal(f.port.read(&f.port, 0, back, SIZE), ROT_OK);
  assert_memory_equal(back, data, n);
  assert_true(all_bytes(back + n, 4 * ERASE + 100 - n, 0xff));
  assert_memory_equal(back + 4 * ERASE + 100, data, 50);
  assert_true(all_bytes(back + 4 * ERASE + 150, 4 * ERASE - 150, 0xff));
  assert_true(all_bytes(back + 8 * ERASE, SIZE - 8 * ERASE, 0x00));
  /* Programming over what was written still only clears bits. */
  const uint8_t ones = 0xf0;
  uint8_t want = (uint8_t)(data[5] & 0xf0);
  assert_int_equal(f.port.program(&f.port, 5, &ones, 1), ROT_OK);
  assert_int_equal(f.port.read(&f.port, 5, back, 1), ROT_OK);
  assert_int_equal(back[0], want);
  data[5] = want;
  /* The barrier writes the erases nobody programmed. */
  uint64_t syncs = f.syncs;
  assert_int_equal(f.port.sync(&f.port), ROT_OK);
  assert_int_equal(f.npending, 0);
  assert_int_equal(f.syncs, syncs + 1);
  file_bytes(t.path, 0, back, SIZE);
  assert_memory_equal(back, data, n);
  assert_true(all_bytes(back + 5 * ERASE, 3 * ERASE, 0xff));
  assert_true(all_bytes(back + 8 * ERASE, SIZE - 8 * ERASE, 0x00));
  /* Close writes the erases still kept. */
  assert_int_equal(f.port.erase(&f.port, 6 * ERASE), ROT_OK);
  assert_int_equal(f.port.erase(&f.port, 9 * ERASE), ROT_OK);
  assert_int_equal(f.npending, 2);
  rot_flash_file_close(&f);
  file_bytes(t.path, 6 * ERASE, back, 4 * ERASE);
  assert_true(all_bytes(back, 2 * ERASE, 0xff));
  assert_true(all_bytes(back + 2 * ERASE, ERASE, 0x00));
  assert_true(all_bytes(back + 3 * ERASE, ERASE, 0xff));
  tmp_remove(&t);
}

/* Erase blocks larger than the port keeps in memory (here 128 KiB) are
 * erased by writing 0xFF at once, and still read back erased. */
static void ff_test_large_erase_blocks_written_at_once(void **state) {
  (void)state;
  tmp_t t;
  rot_flash_file_t f;
  tmp_make(&t);
  const uint32_t big = 2u * ERASE;
  assert_int_equal(rot_flash_file_open(&f, t.path, SIZE, big, 1), ROT_OK);
  assert_int_equal(f.defer, 0);
  static uint8_t zeros[SIZE], back[SIZE];
  memset(zeros, 0, sizeof(zeros));
  assert_int_equal(f.port.program(&f.port, 0, zeros, SIZE), ROT_OK);
  assert_int_equal(f.port.erase(&f.port, big), ROT_OK);
  assert_int_equal(f.npending, 0);
  file_bytes(t.path, 0, back, SIZE);
  assert_true(all_bytes(back, big, 0x00));
  assert_true(all_bytes(back + big, big, 0xff));
  assert_true(all_bytes(back + 2u * big, SIZE - 2u * big, 0x00));
  assert_int_equal(f.port.read(&f.port, 0, back, SIZE), ROT_OK);
  assert_true(all_bytes(back + big, big, 0xff));
  rot_flash_file_close(&f);
  tmp_remove(&t);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ff_test_fresh_device_is_sparse_and_erased),
      cmocka_unit_test(ff_test_program_in_hole_keeps_neighbours_erased),
      cmocka_unit_test(ff_test_erase_of_written_blocks),
      cmocka_unit_test(ff_test_filled_file_still_works),
      cmocka_unit_test(ff_test_barrier_only_after_writes),
      cmocka_unit_test(ff_test_erase_kept_until_program_or_barrier),
      cmocka_unit_test(ff_test_large_erase_blocks_written_at_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
