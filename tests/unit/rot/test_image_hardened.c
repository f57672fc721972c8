/*
 * Signed image v1: the second look. Each policy decision of the verifier
 * is checked once where it returns its error and again right before the
 * token is written, so skipping the first check cannot turn a reject into
 * an accept.
 *
 * A test cannot skip an instruction, but it can make the state the first
 * check saw differ from the state at the effect: a crypto port that, while
 * the image signature is being verified (after the policy checks and
 * before the token), moves the policy to a state that must be refused.
 * The first check has then passed, as if skipped; only the second look
 * stands between that and a token, and it must stop the process (an
 * assert or a trap, so the verifier runs in a child process here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rot/image.h"
#include "rot/util.h"
#include "test_keys.h"

#define PAYLOAD_LEN 48u
#define HYP ROT_IMAGE_TYPE_HYPERVISOR

/* ---- a port that changes the policy mid-verification --------------------- */

static const rot_crypto_t *g_real;
static rot_crypto_t g_fault_crypto;
static unsigned g_verify_calls;
static rot_policy_t *g_fault_policy;   /* the policy rot_image_verify reads */
static rot_policy_t g_fault_to;        /* what it becomes */

/* The second ECDSA verification is the image signature: by then every
 * policy check has run and the token is not yet written. */
static rot_error_t fault_verify(const rot_crypto_t *c,
                                const uint8_t pub[ROT_P384_PUBKEY_LEN],
                                const uint8_t *digest, size_t digest_len,
                                const uint8_t sig[ROT_P384_SIG_LEN]) {
  (void)c;
  if (++g_verify_calls == 2 && g_fault_policy != NULL) {
    *g_fault_policy = g_fault_to;
  }
  return g_real->ecdsa_p384_verify(g_real, pub, digest, digest_len, sig);
}

static const rot_crypto_t *fault_crypto(rot_policy_t *policy,
                                        const rot_policy_t *becomes) {
  g_real = test_crypto();
  g_fault_crypto = *g_real;
  g_fault_crypto.ecdsa_p384_verify = fault_verify;
  g_verify_calls = 0;
  g_fault_policy = policy;
  if (becomes != NULL) {
    g_fault_to = *becomes;
  } else {
    g_fault_policy = NULL;
  }
  return &g_fault_crypto;
}

/* How a verification in a child process ended. */
typedef enum outcome {
  OUTCOME_ACCEPTED, /* returned ROT_OK with a valid token */
  OUTCOME_REJECTED, /* returned an error */
  OUTCOME_STOPPED,  /* stopped by a hardened check (abort or trap) */
  OUTCOME_OTHER,    /* anything else: a crash, a sanitizer report */
} outcome_t;

/*
 * Verify img in a child against policy, which changes to *becomes during
 * the image signature check (NULL: never changes).
 */
static outcome_t verify_in_child(const uint8_t *img, size_t len,
                                 const rot_policy_t *policy,
                                 const rot_policy_t *becomes) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* The assert message of an expected stop is noise in the test log. */
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      dup2(devnull, STDERR_FILENO);
    }
    rot_policy_t p = *policy;
    const rot_crypto_t *c = fault_crypto(&p, becomes);
    uint8_t *copy = test_copy(img, len);
    rot_verified_image_t v;
    rot_error_t err = rot_image_verify(c, &p, copy, len, ROT_IMAGE_TYPE_ANY, &v);
    int accepted = err == ROT_OK && rot_verified_check(&v) == ROT_OK;
    free(copy);
    _exit(accepted ? 10 : 11);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 10) {
    return OUTCOME_ACCEPTED;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 11) {
    return OUTCOME_REJECTED;
  }
  if (WIFSIGNALED(status) &&
      (WTERMSIG(status) == SIGABRT || WTERMSIG(status) == SIGILL ||
       WTERMSIG(status) == SIGTRAP)) {
    return OUTCOME_STOPPED;
  }
  return OUTCOME_OTHER;
}

/* ---- the fixture itself --------------------------------------------------- */

static void image_hardened_test_fixture_accepts_unchanged_policy(void **state) {
  (void)state;
  /* Without a change the port is transparent: the image is accepted. */
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  assert_int_equal(verify_in_child(img, len, &test_keys()->policy, NULL),
                   OUTCOME_ACCEPTED);
  free(img);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void image_hardened_test_lifecycle_first_check_rejects(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  rot_policy_t p = test_keys()->policy;
  p.lifecycle = ROT_LIFECYCLE_DECOMMISSIONED;
  assert_int_equal(verify_in_child(img, len, &p, NULL), OUTCOME_REJECTED);
  free(img);
}

static void image_hardened_test_lifecycle_second_look(void **state) {
  (void)state;
  /* Dev when checked, decommissioned (then blank) when the token is due. */
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  const uint32_t to[] = {ROT_LIFECYCLE_DECOMMISSIONED, ROT_LIFECYCLE_BLANK,
                         0x7fffffffu};
  for (size_t i = 0; i < ROT_ARRAY_SIZE(to); i++) {
    rot_policy_t later = test_keys()->policy;
    later.lifecycle = to[i];
    outcome_t o = verify_in_child(img, len, &test_keys()->policy, &later);
    if (o != OUTCOME_STOPPED) {
      fail_msg("lifecycle -> %u: outcome %d, want a stop", to[i], (int)o);
    }
  }
  free(img);
}

/* ---- DEV_ONLY ------------------------------------------------------------- */

static void image_hardened_test_dev_only_first_check_rejects(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_flags(HYP, ROT_IMAGE_FLAG_DEV_ONLY, PAYLOAD_LEN, &len);
  rot_policy_t p = test_keys()->policy;
  p.lifecycle = ROT_LIFECYCLE_PROD;
  assert_int_equal(verify_in_child(img, len, &p, NULL), OUTCOME_REJECTED);
  free(img);
}

static void image_hardened_test_dev_only_second_look(void **state) {
  (void)state;
  /* A dev-only image, dev when checked, production at the token: the
   * lifecycle alone is still one that boots, so only the dev-only rule's
   * own second look can refuse it. */
  size_t len;
  uint8_t *img = test_image_flags(HYP, ROT_IMAGE_FLAG_DEV_ONLY, PAYLOAD_LEN, &len);
  rot_policy_t later = test_keys()->policy;
  later.lifecycle = ROT_LIFECYCLE_PROD;
  assert_int_equal(verify_in_child(img, len, &test_keys()->policy, &later),
                   OUTCOME_STOPPED);
  free(img);
}

static void image_hardened_test_prod_image_on_prod_unchanged(void **state) {
  (void)state;
  /* The contrast: a normal image, dev then production, is still fine. */
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  rot_policy_t later = test_keys()->policy;
  later.lifecycle = ROT_LIFECYCLE_PROD;
  assert_int_equal(verify_in_child(img, len, &test_keys()->policy, &later),
                   OUTCOME_ACCEPTED);
  free(img);
}

/* ---- the other policy decisions ------------------------------------------ */

static void image_hardened_test_revocation_second_look(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  rot_policy_t later = test_keys()->policy;
  later.revoked_keys = 1u << TEST_KEY_INDEX_ALL;
  assert_int_equal(verify_in_child(img, len, &test_keys()->policy, &later),
                   OUTCOME_STOPPED);
  free(img);
}

static void image_hardened_test_svn_floor_second_look(void **state) {
  (void)state;
  size_t len;
  uint8_t *img = test_image_default(HYP, PAYLOAD_LEN, &len);
  rot_policy_t later = test_keys()->policy;
  later.svn_floor[HYP] = test_header(HYP).svn + 1u;
  assert_int_equal(verify_in_child(img, len, &test_keys()->policy, &later),
                   OUTCOME_STOPPED);
  free(img);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(image_hardened_test_fixture_accepts_unchanged_policy),
      cmocka_unit_test(image_hardened_test_lifecycle_first_check_rejects),
      cmocka_unit_test(image_hardened_test_lifecycle_second_look),
      cmocka_unit_test(image_hardened_test_dev_only_first_check_rejects),
      cmocka_unit_test(image_hardened_test_dev_only_second_look),
      cmocka_unit_test(image_hardened_test_prod_image_on_prod_unchanged),
      cmocka_unit_test(image_hardened_test_revocation_second_look),
      cmocka_unit_test(image_hardened_test_svn_floor_second_look),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
