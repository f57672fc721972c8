# bootchain/: measured boot. Event log writer/parser, TPM (tpm2-tss ESAPI
# through the TCTI loader), device-tree handoff (libfdt), sealed images,
# QEMU launch, the stage table and the measure/boot flow.
bootchain-srcs :=
bootchain-srcs += bootchain/src/tpm.c

bootchain-cflags := -Ibootchain/include

bootchain-bins :=
