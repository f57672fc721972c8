/*
 * libFuzzer target for the identity commands' inputs from outside the
 * chip: the ENDORSE request parser (and the statement built from what it
 * accepts), and the certificate reader IDENTITY_STORE runs on a DeviceID
 * certificate handed in by the host; and the DiceTcbInfo and signature
 * DER encoders on arbitrary field values.
 *
 * Invariants: an accepted ENDORSE request is exactly 48 bytes and a
 * TPM2B_PUBLIC whose size covers every byte after it, the statement holds
 * the label, the EK hash and SHA-384 of those bytes; the certificate
 * reader either refuses with ROT_ERROR_IDENTITY_BAD_CERT or returns a
 * P-384 point, never anything else.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "rot/dice.h"
#include "rot_host/cert_mbedtls.h"
#include "rot_host/crypto_mbedtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const rot_crypto_t *c = rot_host_crypto();
  CHECK(c != NULL);
  rot_dice_endorse_req_t r;
  if (rot_dice_endorse_req_parse(data, size, &r) == ROT_OK) {
    CHECK(size >= ROT_DICE_ENDORSE_REQ_MIN && size <= ROT_DICE_ENDORSE_REQ_MAX);
    CHECK(r.ek_cert_sha384 == data);
    CHECK(r.ak_public == data + ROT_SHA384_LEN);
    CHECK(r.ak_public_len == size - ROT_SHA384_LEN);
    CHECK(((size_t)r.ak_public[0] << 8 | r.ak_public[1]) == r.ak_public_len - 2u);
    uint8_t st[ROT_DICE_STATEMENT_LEN];
    CHECK(rot_dice_endorse_statement(c, &r, st) == ROT_OK);
    CHECK(memcmp(st, ROT_DICE_ENDORSE_LABEL, ROT_DICE_ENDORSE_LABEL_LEN) == 0);
    CHECK(st[ROT_DICE_ENDORSE_LABEL_LEN] == 0);
    CHECK(memcmp(st + ROT_DICE_ENDORSE_LABEL_LEN + 1, data, ROT_SHA384_LEN) == 0);
  }

  /* The encoders, on arbitrary field values: well-formed DER whose outer
   * length accounts for every byte, or a clean refusal. */
  if (size >= sizeof(rot_dice_tcb_t)) {
    rot_dice_tcb_t t;
    memcpy(&t, data, sizeof(t));
    uint8_t out[ROT_DICE_TCBINFO_MAX];
    size_t n = 0;
    size_t cap = data[0] % (sizeof(out) + 1u);
    rot_error_t e = rot_dice_tcbinfo_encode(&t, out, cap, &n);
    CHECK(e == ROT_OK || e == ROT_ERROR_BUFFER_TOO_SMALL);
    if (e == ROT_OK) {
      CHECK(n <= cap && n >= 2 && out[0] == 0x30);
      CHECK((out[1] < 0x80 && (size_t)out[1] + 2u == n) ||
            (out[1] == 0x81 && (size_t)out[2] + 3u == n));
    }
  }
  if (size >= ROT_P384_SIG_LEN) {
    uint8_t der[ROT_DICE_SIG_DER_MAX];
    size_t n = 0;
    CHECK(rot_dice_sig_der(data, der, sizeof(der), &n) == ROT_OK);
    CHECK(n >= 8 && n <= sizeof(der) && der[0] == 0x30 && (size_t)der[1] + 2u == n);
  }

  const rot_cert_port_t *cp = rot_host_cert();
  uint8_t pub[ROT_P384_PUBKEY_LEN];
  rot_error_t err = cp->cert_pubkey(cp, data, size, pub);
  CHECK(err == ROT_OK || err == ROT_ERROR_IDENTITY_BAD_CERT ||
        (err == ROT_ERROR_INVALID_ARGUMENT && data == NULL));
  if (err == ROT_OK) {
    /* A key the verifier accepts as a curve point. */
    uint8_t sig[ROT_P384_SIG_LEN] = {0};
    sig[47] = 1;
    sig[95] = 1;
    uint8_t digest[ROT_SHA384_LEN] = {0};
    rot_error_t v = rot_ecdsa_p384_verify(c, pub, digest, sizeof(digest), sig);
    CHECK(v == ROT_ERROR_CRYPTO_BAD_SIGNATURE);
  }
  return 0;
}
