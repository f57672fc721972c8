# bootchain/: measured boot. Event log writer/parser, TPM (tpm2-tss ESAPI
# through the TCTI loader), device-tree handoff (libfdt), sealed images,
# QEMU launch, the stage table and the measure/boot flow.
bootchain-lib-srcs :=
bootchain-lib-srcs += bootchain/src/tpm.c
bootchain-lib-srcs += bootchain/src/handoff.c bootchain/src/seal.c bootchain/src/qemu.c
bootchain-lib-srcs += bootchain/src/eventlog.c bootchain/src/logprint.c
bootchain-lib-srcs += bootchain/src/measure.c bootchain/src/outputs.c

bootchain-cflags := -Ibootchain/include

bootchain-bins := bootchain
bootchain-srcs := bootchain/tools/bootchain.c
bootchain-stack := bootchain rot_client rot_port rot
bootchain-libs = $(LINK_LIBS)

# QEMU virt base device tree, dumped at build time (cheaper than a dump at
# every boot). The machine options are read from qemu.h, which the launcher
# compiles in, so the tree's /memory and /cpus match the machine it boots.
bc-qemu-opt = $(shell sed -n 's/^\#define BC_QEMU_$(1) "\(.*\)"$$/\1/p' bootchain/include/bootchain/qemu.h)
$(BUILD)/dtb/virt.dtb: bootchain/include/bootchain/qemu.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call bc-qemu-opt,BINARY) -M $(call bc-qemu-opt,MACHINE),dumpdtb=$@.raw \
	  -m $(call bc-qemu-opt,MEMORY) -smp $(call bc-qemu-opt,SMP) -nographic \
	  >$@.log 2>&1 || { cat $@.log; exit 1; }
	@# QEMU writes its whole 1 MiB buffer: keep the tree's totalsize bytes.
	@n=$$(od -An -tu4 --endian=big -j4 -N4 $@.raw | tr -d ' ') && \
	  head -c "$$n" $@.raw >$@.tmp && mv $@.tmp $@ && rm -f $@.raw $@.log
all test: $(BUILD)/dtb/virt.dtb
