/*
 * rotctl's daemon-facing commands: each talks to rotd over the mailbox
 * (docs/mailbox.md). argv[0] is the command name; every command takes
 * --socket PATH (default: $ROT_SOCKET, else run/rotd.sock) and --help.
 * Exit status: 0 success, 1 refused or failed (one line on stderr:
 * "rotctl: <cmd>: <reason>"), 2 wrong command line.
 *
 * The _ARGS and _SUMMARY strings are for rotctl's command table.
 */
#ifndef ROTCTL_MBOX_H
#define ROTCTL_MBOX_H

#define ROTCTL_STATUS_ARGS "[--socket PATH] [--json]"
#define ROTCTL_STATUS_SUMMARY \
  "Show the chip: lifecycle, fuses, locks, update session, per-type slots."
int rotctl_cmd_status(int argc, char **argv);

#define ROTCTL_INVENTORY_ARGS "[--socket PATH] [--json]"
#define ROTCTL_INVENTORY_SUMMARY \
  "List every image region: image, version, SVN, signer, verified or why not."
int rotctl_cmd_inventory(int argc, char **argv);

#define ROTCTL_UPDATE_ARGS \
  "[--socket PATH] [--type TYPE] [--activate] [--json] IMAGE"
#define ROTCTL_UPDATE_SUMMARY \
  "Stage a signed image into the inactive slot; the chip verifies it there."
int rotctl_cmd_update(int argc, char **argv);

#define ROTCTL_ACTIVATE_ARGS "[--socket PATH] [--type TYPE] [--json]"
#define ROTCTL_ACTIVATE_SUMMARY "Select the staged image for a trial boot."
int rotctl_cmd_activate(int argc, char **argv);

#define ROTCTL_CONFIRM_ARGS "[--socket PATH] [--type TYPE] [--json]"
#define ROTCTL_CONFIRM_SUMMARY \
  "Make the image on trial permanent and raise the SVN floor to it."
int rotctl_cmd_confirm(int argc, char **argv);

#define ROTCTL_REVERT_ARGS "[--socket PATH] [--type TYPE] [--json]"
#define ROTCTL_REVERT_SUMMARY \
  "Cancel a trial, or go back to the other slot (never below the floor)."
int rotctl_cmd_revert(int argc, char **argv);

#define ROTCTL_BOOT_ARGS "[--socket PATH] --type TYPE [--json]"
#define ROTCTL_BOOT_SUMMARY \
  "Run the boot decision for a type (counts a trial boot)."
int rotctl_cmd_boot(int argc, char **argv);

#define ROTCTL_LOCK_ARGS "[--socket PATH] (--region NAME | --boot) [--json]"
#define ROTCTL_LOCK_SUMMARY \
  "Lock flash regions read-only until the chip resets (rotctl reset)."
int rotctl_cmd_lock(int argc, char **argv);

#define ROTCTL_RESET_ARGS "[--socket PATH] [--json]"
#define ROTCTL_RESET_SUMMARY \
  "Reset the chip: locks cleared, the next boot decides afresh."
int rotctl_cmd_reset(int argc, char **argv);

#define ROTCTL_AUDIT_ARGS "[--socket PATH] [--verify] [--json]"
#define ROTCTL_AUDIT_SUMMARY \
  "Print the audit log; --verify also checks its hash chain."
int rotctl_cmd_audit(int argc, char **argv);

#define ROTCTL_READ_REGION_ARGS \
  "[--socket PATH] --region NAME [--offset N] [--length N] --out FILE"
#define ROTCTL_READ_REGION_SUMMARY \
  "Copy bytes of a flash region (through the gate) to FILE ('-': stdout)."
int rotctl_cmd_read_region(int argc, char **argv);

#endif /* ROTCTL_MBOX_H */
