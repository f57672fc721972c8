/*
 * rotctl identity: the chip's DICE identity through rotd's mailbox
 * (docs/mailbox.md, "Identity"). The _ARGS and _SUMMARY strings are for
 * rotctl's command table.
 */
#ifndef ROTCTL_IDENTITY_H
#define ROTCTL_IDENTITY_H

#define ROTCTL_IDENTITY_ARGS \
  "[csr|store|endorse] [--socket PATH] [--pem] [--out DIR|FILE] ..."
#define ROTCTL_IDENTITY_SUMMARY \
  "Export the chip's DeviceID/Alias certificate chain; provision the DeviceID."
int rotctl_cmd_identity(int argc, char **argv);

#endif /* ROTCTL_IDENTITY_H */
