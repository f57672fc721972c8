/*
 * What the power-fail simulator runs on: a small flash layout, a key
 * hierarchy derived from fixed labels (so every run signs the very same
 * bytes), and the signed images the scenarios install.
 */
#ifndef PF_FIXTURE_H
#define PF_FIXTURE_H

#include <stdint.h>

#include "rot/crypto.h"
#include "rot/flash.h"
#include "rot/image.h"

/* 4 KiB erase blocks; 64 KiB hypervisor slots and recovery; see fixture.c. */
extern const rot_flash_layout_t pf_layout;

/* Largest image region, and so the update engine's scratch size. */
#define PF_SCRATCH_LEN (64u * 1024u)

/* The images: hypervisor, recovery, and one low/high pair for each of the
 * other slot types whose SVNs make a floor raise cross a fuse byte. */
typedef enum pf_image_id {
  PF_IMG_V1 = 0,  /* svn 1: installed and confirmed in every start state */
  PF_IMG_V1B,     /* svn 1, another build: a same-SVN update */
  PF_IMG_V2_S,    /* svn 2, about 2 KiB */
  PF_IMG_V2_M,    /* svn 2, about 9 KiB */
  PF_IMG_V2_L,    /* svn 2, about 30 KiB */
  PF_IMG_V3,      /* svn 3, about 12 KiB */
  PF_IMG_REC1,    /* recovery, svn 1 */
  PF_IMG_REC2,    /* recovery, svn 1, another build */
  PF_IMG_ROT7,    /* rot (the chip's own firmware), svn 7 */
  PF_IMG_ROT9,    /* rot, svn 9: the floor's bit 8 is in the next byte */
  PF_IMG_SBI15,   /* opensbi, svn 15 */
  PF_IMG_SBI17,   /* opensbi, svn 17 */
  PF_IMG_DTB100,  /* dtb, svn 100 */
  PF_IMG_DTB130,  /* dtb, svn 130: the raise spans five fuse bytes */
  PF_IMG_COUNT
} pf_image_id_t;

typedef struct pf_image {
  const char *name;
  uint32_t type;
  uint32_t svn;
  uint8_t *bytes;
  uint32_t len;
  /* SHA-384(header || manifest), as a verification token carries it. */
  uint8_t signed_digest[ROT_SHA384_LEN];
} pf_image_t;

typedef struct pf_fixture {
  /* The crypto port the device uses: the host backend, with ECDSA
   * verification results memoised (see fixture.c). */
  const rot_crypto_t *crypto;
  rot_crypto_t memo_crypto;
  uint8_t root_key_hash[ROT_SHA384_LEN];
  pf_image_t img[PF_IMG_COUNT];
} pf_fixture_t;

/**
 * Derive the keys, sign every image and check each verifies. 0 on success.
 * memo_verify = 0 makes every signature check run the curve arithmetic.
 */
int pf_fixture_init(pf_fixture_t *fx, int memo_verify);

/** Signature checks answered from the memo / computed. */
void pf_fixture_verify_stats(uint64_t *hits, uint64_t *misses);
void pf_fixture_free(pf_fixture_t *fx);

#endif /* PF_FIXTURE_H */
