/*
 * Power cuts inside the OTP writes the chip performs outside an update:
 * provisioning, the device-secret burn, key revocation, and a bare floor
 * raise. Each write is cut before every OTP program, torn half way, and
 * cut at bit level (only some of the bits a program would set land, in
 * three orders; see sim.h).
 */
#ifndef PF_FUSES_H
#define PF_FUSES_H

#include <stdint.h>

#include "rot/crypto.h"

/* Called once per fuse scenario with what it explored. */
typedef void (*pf_fuse_report_fn)(const char *scenario, const char *params,
                                  uint64_t cut, uint64_t torn,
                                  uint64_t violations, double seconds);

/**
 * Run the fuse scenarios (only: one scenario name, or NULL for all).
 * quick samples the bit-level cuts. Violations are printed as
 * "VIOLATION <scenario> [...]" lines; returns how many cut points broke.
 */
uint64_t pf_fuses_run(const rot_crypto_t *c, int quick, const char *only,
                      pf_fuse_report_fn report);

#endif /* PF_FUSES_H */
