/*
 * Human and machine rendering of an event log and its replay
 * (`bootchain log [--json] FILE`). Host only: writes to a stdio stream.
 */
#ifndef BOOTCHAIN_LOGPRINT_H
#define BOOTCHAIN_LOGPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bootchain/eventlog.h"
#include "rot/crypto.h"
#include "rot/error.h"

/* Flags for bc_log_print. */
#define BC_LOG_PRINT_JSON 0x1u   /* one JSON object instead of text */
#define BC_LOG_PRINT_STRICT 0x2u /* the chain's own rules (BC_LOG_STRICT);
                                    default: read it as firmware wrote it */

/**
 * Print the header, every record (digests, decoded event data, and for
 * data-bound types whether the digests match the data, bank by bank) and
 * the replayed PCRs of every bank for the PCRs the log extends.
 *
 * By default the log is read in BC_LOG_FIRMWARE mode (eventlog.h): legacy
 * SHA-1 logs, EV_NO_ACTION and StartupLocality events, records with fewer
 * digests than banks (a warning), and only the PFP's data-bound types
 * checked against their data. BC_LOG_PRINT_STRICT applies the plan's rules.
 *
 * A digest in a bank the crypto port cannot hash (SHA-1, SHA-512), or one
 * the record lacks, is shown as "not checked" and never counted as
 * checked; a bank that cannot be replayed says why.
 *
 * A log that does not parse is printed up to the bad record, followed by
 * the reason (in JSON: "result" and "error" members). Returns the parse
 * or replay error; else ROT_ERROR_EVENTLOG_BAD_EVENT when a data-bound
 * digest disagrees with its data; else ROT_ERROR_EVENTLOG_UNCHECKED when a
 * data-bound digest could not be compared or a bank could not be
 * replayed; else ROT_OK.
 * Errors also: ROT_ERROR_INVALID_ARGUMENT (NULL out or c).
 */
ROT_WARN_UNUSED rot_error_t bc_log_print(FILE *out, const uint8_t *buf,
                                         size_t len, const rot_crypto_t *c,
                                         unsigned flags);

struct json_object;

/**
 * The JSON rendering of bc_log_print (the same members: "header",
 * "events", "pcrs", "not_replayed", the digest counts, "result" and, on
 * failure, "error") as a json-c object. *out is set whenever a document
 * was built, also when the log fails to parse (it then says so in
 * "result" and "error"); the caller releases it with json_object_put.
 * Returns what bc_log_print would. Errors also: INVALID_ARGUMENT,
 * INTERNAL (out of memory: *out stays NULL).
 */
ROT_WARN_UNUSED rot_error_t bc_log_to_json(const uint8_t *buf, size_t len,
                                           const rot_crypto_t *c,
                                           unsigned flags,
                                           struct json_object **out);

/**
 * Describe one record's event data in one line of printable ASCII
 * (e.g. `firmware blob: base 0x80000000, length 262144`), following the
 * layouts of docs/pcr-plan.md; unknown data is shown as hex, cut at
 * about 64 bytes. Always NUL-terminates dst (cap > 0).
 */
void bc_log_describe_event(const bc_log_event_t *ev, char *dst, size_t cap);

#endif /* BOOTCHAIN_LOGPRINT_H */
