/*
 * The measured boot's outputs on disk (see bc_measured_write in measure.h).
 *
 * These files are copies for the operator and the attestation side: QEMU
 * boots the sealed memory (measure.c), never these files, which is why
 * `bootchain boot` writes them only once QEMU runs (a failure still stops
 * the host and fails the boot). They are not
 * synced to disk, because none of them has to survive a power loss: each
 * describes one boot of one TPM power cycle, and a power loss ends both
 * (the PCRs reset, the boot is redone and writes them anew). A log kept
 * across the crash would describe PCR values the TPM no longer holds.
 * What the files still promise is that each appears whole or not at all:
 * the bytes go to a fresh temporary file beside the target, which is then
 * renamed over it, so a reader (the host agent serving the log) never sees
 * a torn file.
 */
#define _GNU_SOURCE
#include "bootchain/measure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootchain/tpm.h"
#include "rot_client/names.h"
#include "rot_host/file.h"

#define OUTPUT_MODE 0644


/*
 * dir/name, whole or not at all (see the top of the file). mkostemp
 * creates the temporary exclusively, so a name planted in advance (a
 * symlink included) is never written through; rename replaces whatever
 * sits at the target without following it. Mode exactly 0644, umask aside.
 */
static rot_error_t write_output(const char *dir, const char *name,
                                const void *data, size_t len) {
  char path[PATH_MAX];
  char tmp[PATH_MAX];
  int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
  int t = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
  if (n < 0 || (size_t)n >= sizeof(path) || t < 0 || (size_t)t >= sizeof(tmp)) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    return ROT_ERROR_IO_OPEN;
  }
  int bad = fchmod(fd, OUTPUT_MODE) != 0 || rot_file_write_all(fd, data, len) != 0;
  bad |= close(fd) != 0;
  if (!bad && rename(tmp, path) != 0) {
    bad = 1;
  }
  if (bad) {
    (void)unlink(tmp);
    return ROT_ERROR_IO_WRITE;
  }
  return ROT_OK;
}

static rot_error_t write_sealed(const char *dir, const char *name,
                                const bc_sealed_t *s) {
  return write_output(dir, name, s->data, s->len);
}

static void hex(char *dst, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    sprintf(dst + 2 * i, "%02x", p[i]);
  }
}

static void json_image(FILE *f, const char *key, const bc_boot_image_t *img) {
  char h256[2 * ROT_SHA256_LEN + 1], h384[2 * ROT_SHA384_LEN + 1];
  /* The digests measured (taken once from the sealed bytes). */
  hex(h256, img->sha256, sizeof(img->sha256));
  hex(h384, img->sha384, sizeof(img->sha384));
  fprintf(f,
          "  \"%s\": {\"type\": \"%s\", \"region\": \"%s\", \"decision\": \"%s\", "
          "\"version\": \"%u.%u.%u\", \"svn\": %u, \"key_index\": %u, "
          "\"load_addr\": \"0x%llx\", \"length\": %zu, \"sha256\": \"%s\", "
          "\"sha384\": \"%s\"},\n",
          key, rot_image_type_name(img->image_type), img->region,
          rot_boot_reason_name(img->reason), img->info.ver_major,
          img->info.ver_minor, img->info.ver_patch, img->info.svn,
          img->info.key_index, (unsigned long long)img->load_addr,
          img->payload.len, h256, h384);
}

rot_error_t bc_measured_dir(const char *dir) {
  struct stat st;
  if (dir == NULL || dir[0] == '\0') {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    return ROT_ERROR_IO_WRITE;
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ROT_ERROR_IO_WRITE;
  }
  return ROT_OK;
}

rot_error_t bc_measured_write(const bc_measured_t *m, const char *dir) {
  if (m == NULL || dir == NULL || dir[0] == '\0' || m->log.fd < 0) {
    return ROT_ERROR_INVALID_ARGUMENT;
  }
  ROT_TRY(bc_measured_dir(dir));
  ROT_TRY(write_sealed(dir, "eventlog.bin", &m->log));
  ROT_TRY(write_sealed(dir, "handoff.dtb", &m->dtb));
  ROT_TRY(write_sealed(dir, "opensbi.bin", &m->firmware.payload));
  ROT_TRY(write_sealed(dir, "payload.bin", &m->payload.payload));
  char *text = NULL;
  size_t text_len = 0;
  FILE *f = open_memstream(&text, &text_len);
  if (f == NULL) {
    return ROT_ERROR_IO_WRITE;
  }
  fprintf(f, "{\n");
  json_image(f, "firmware", &m->firmware);
  json_image(f, "payload", &m->payload);
  fprintf(f, "  \"banks\": [");
  for (uint32_t i = 0; i < m->bank_count; i++) {
    fprintf(f, "%s\"%s\"", i ? ", " : "", bc_tpm_alg_name(m->banks[i]));
  }
  fprintf(f,
          "],\n  \"events\": %u,\n  \"event_log\": {\"addr\": \"0x%llx\", "
          "\"length\": %zu},\n  \"dtb_length\": %zu,\n  \"lifecycle\": \"%s\",\n"
          "  \"locked_mask\": \"0x%08x\",\n  \"rtm_version\": \"%s\"\n}\n",
          m->events, (unsigned long long)m->log_addr, m->log.len, m->dtb.len,
          rot_lifecycle_name(m->lifecycle), m->locked_mask, BC_RTM_VERSION);
  if (fclose(f) != 0) {
    free(text);
    return ROT_ERROR_IO_WRITE;
  }
  rot_error_t err = write_output(dir, "measurements.json", text, text_len);
  free(text);
  return err;
}
