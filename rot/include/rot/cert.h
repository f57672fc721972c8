/*
 * Certificate port interface: X.509 writing and reading for the chip's
 * DICE identity.
 *
 * Writing a certificate needs a full ASN.1/X.509 encoder, which the
 * freestanding core does not carry; a port supplies one const struct
 * rot_cert_port (the host port implements it with mbedTLS 2.28,
 * rot/port/host/cert_mbedtls.c). The core decides every field: names,
 * serial, keys, the DiceTcbInfo extension bytes; the port only encodes
 * and signs. Signatures are deterministic ECDSA P-384 (RFC 6979), so a
 * certificate is the same bytes at every reset.
 *
 * Names are given as "CN=...,O=..." strings (no escapes: the core only
 * writes hex digits, letters, spaces and dashes).
 */
#ifndef ROT_CERT_H
#define ROT_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "rot/crypto.h"
#include "rot/error.h"

/* Largest certificate or CSR the chip writes or stores (DER bytes). */
#define ROT_CERT_MAX 2048u

typedef struct rot_cert_spec {
  const uint8_t *subject_pub; /* 96 bytes X || Y */
  const char *subject_name;
  const uint8_t *issuer_priv; /* 48 bytes */
  const uint8_t *issuer_pub;  /* 96 bytes: for the authority key id */
  const char *issuer_name;
  const uint8_t *serial; /* positive, big-endian */
  size_t serial_len;     /* 1..20 */
  int is_ca;             /* basicConstraints cA, keyCertSign */
  const uint8_t *tcbinfo; /* DiceTcbInfo extension value, or NULL */
  size_t tcbinfo_len;
} rot_cert_spec_t;

typedef struct rot_cert_port rot_cert_port_t;

struct rot_cert_port {
  /** Write an X.509 v3 certificate (DER) signed by spec->issuer_priv. */
  rot_error_t (*cert_write)(const rot_cert_port_t *p, const rot_cert_spec_t *spec,
                            uint8_t *out, size_t cap, size_t *out_len);
  /** Write a PKCS#10 request (DER) for pub, signed by priv. */
  rot_error_t (*csr_write)(const rot_cert_port_t *p,
                           const uint8_t priv[ROT_P384_SCALAR_LEN],
                           const uint8_t pub[ROT_P384_PUBKEY_LEN],
                           const char *subject_name, uint8_t *out, size_t cap,
                           size_t *out_len);
  /**
   * Parse a DER certificate from outside (untrusted) and return its
   * subject public key, which must be P-384. ROT_ERROR_IDENTITY_BAD_CERT
   * for anything else.
   */
  rot_error_t (*cert_pubkey)(const rot_cert_port_t *p, const uint8_t *der,
                             size_t len, uint8_t pub[ROT_P384_PUBKEY_LEN]);
  void *state;
};

#endif /* ROT_CERT_H */
