# tests/: cmocka suites (one binary per tests/unit/<dir>/test_*.c, built
# with ASan+UBSan), CLI and integration scripts (tests/cli/*.sh), libFuzzer
# targets (tests/fuzz/fuzz_*.c, corpus in tests/fuzz/corpus/<target>/),
# benchmarks (tests/bench/).
unit-test-srcs := $(filter-out tests/unit/common/%,$(wildcard tests/unit/*/test_*.c))
unit-tests := $(patsubst tests/unit/%.c,$(BUILD)/test/%,$(unit-test-srcs))

fuzz-targets := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# bench.sh also runs the power-fail simulator (tests/powerfail/objects.mk).
bench-bins := $(BUILD)/bin/bench_verify $(BUILD)/bin/bench_chain \
	$(BUILD)/bench/bin/qemu-system-riscv64 $(BUILD)/bench/bin/bench_empty \
	$(BUILD)/bin/bench_machine $(BUILD)/powerfail/powerfail

# The bench programs call both crypto backends directly (raw primitives).
BENCH_LIBS = $(MBEDTLS_LIBS) $(OPENSSL_LIBS)

$(BUILD)/bin/bench_verify: $(BUILD)/obj/tests/bench/bench_verify.o $(ROT_LIBS)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(BENCH_LIBS)

$(BUILD)/bin/bench_chain: $(BUILD)/obj/tests/bench/bench_chain.o $(BUILD)/lib/libbootchain.a $(ROT_LIBS)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(LINK_LIBS) $(BENCH_LIBS)

# What the machine charges for a system call and a page fault, printed
# under the boot figure (tests/bench/bench_machine.c).
$(BUILD)/bin/bench_machine: $(BUILD)/obj/tests/bench/bench_machine.o
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $^

# The boot figure's end mark: stands in for QEMU (first in PATH, under its
# name) and writes the moment it was exec'd. Static, to start quickly; on
# x86-64 and AArch64 without a C library, so the clock is read before any
# start-up code runs (tests/bench/bench_stamp.c).
STAMP_CFLAGS := $(if $(filter x86_64-% aarch64-%,$(shell $(CC) -dumpmachine)),\
  -nostdlib -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables)
$(BUILD)/bench/bin/qemu-system-riscv64: tests/bench/bench_stamp.c tests/bench/bench_stamp.h
	@mkdir -p $(@D)
	$(CC) -O2 -static $(WARN) $(STAMP_CFLAGS) -o $@ $<

# The process start share of the boot figure's bound: an empty program
# that needs exactly the shared libraries bootchain needs (its DT_NEEDED
# entries, read from the built binary), all loaded (no --as-needed).
$(BUILD)/bench/bin/bench_empty: tests/bench/bench_empty.c tests/bench/bench_stamp.h $(BUILD)/bin/bootchain
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) $(WARN) -o $@ $< -Wl,--no-as-needed \
	  $$(readelf -d $(BUILD)/bin/bootchain | \
	     sed -n 's/.*(NEEDED).*\[\(lib.*\)\]$$/-l:\1/p' | grep -v '^-l:libc\.so')

# Seed generator for the image fuzzer: `make fuzz-seeds` rewrites the
# checked-in seeds of tests/fuzz/corpus/fuzz_image (fresh keys each run).
.PHONY: fuzz-seeds
$(BUILD)/bin/gen_corpus: $(BUILD)/obj/tests/fuzz/gen_corpus.o $(ROT_LIBS)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(MBEDTLS_LIBS) $(OPENSSL_LIBS)

# It also rewrites those of fuzz_otp and fuzz_audit, made by the real fuse
# and log code on the unit tests' fakes (deterministic: same bytes each run).
$(BUILD)/bin/gen_state_corpus: $(BUILD)/obj/tests/fuzz/gen_state_corpus.o $(BUILD)/obj/tests/unit/common/ram_flash.o $(ROT_LIBS)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(MBEDTLS_LIBS) $(OPENSSL_LIBS)
$(BUILD)/obj/tests/fuzz/gen_state_corpus.o: ALL_CFLAGS += -Itests/unit/common

fuzz-seeds: $(BUILD)/bin/gen_corpus $(BUILD)/bin/gen_state_corpus
	@mkdir -p tests/fuzz/corpus/fuzz_image tests/fuzz/corpus/fuzz_otp \
	  tests/fuzz/corpus/fuzz_audit
	$(BUILD)/bin/gen_corpus tests/fuzz/corpus/fuzz_image
	$(BUILD)/bin/gen_state_corpus tests/fuzz/corpus

# Event log interop helper (tests/cli/eventlog_interop_test.sh): writes a
# log with the bootchain writer and prints the digests to extend.
$(BUILD)/bin/eventlog_gen: $(BUILD)/obj/tests/tools/eventlog_gen.o $(BUILD)/lib/libbootchain.a $(ROT_LIBS)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(LINK_LIBS)
test: $(BUILD)/bin/eventlog_gen

# Test tools: drivers the CLI tests run, built like the unit suites
# (ASan+UBSan). bc_boot_probe boots the real chain in QEMU.
test-tools := $(BUILD)/bin/bc_boot_probe
$(BUILD)/bin/bc_boot_probe: $(BUILD)/san/tests/tools/bc_boot_probe.o $(BUILD)/san/libbootchain.a $(ROT_SAN_LIBS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(LINK_LIBS)
test: $(test-tools)

# The agent section of make bench (tests/bench/agent.sh): a load client
# that verifies sampled evidence (the attest stack), a slowed-TPM proxy,
# and the chip firmware the dev stack installs, so evidence carries the
# chip's DICE identity.
$(BUILD)/obj/tests/bench/bench_load.o: ALL_CFLAGS += $(attest-cflags)
$(BUILD)/bin/bench_load: $(BUILD)/obj/tests/bench/bench_load.o $(ATTEST_STACK)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(ATTEST_LIBS)
$(BUILD)/bin/bench_tpmslow: $(BUILD)/obj/tests/bench/bench_tpmslow.o
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $^ -lpthread
bench: $(BUILD)/bin/bench_load $(BUILD)/bin/bench_tpmslow $(BUILD)/riscv/rot_core.o

# The host agent built like the unit suites (ASan+UBSan) for
# tests/cli/host_agent_san_test.sh, which starts and stops it with the TPM
# and rotd up, away and frozen: its start-up path (options, connections,
# listeners, the batcher and kept parts) runs under the sanitizers.
host-agent-san-objs := $(patsubst %.c,$(BUILD)/san/%.o,$(host-agent-srcs))
$(host-agent-san-objs): ALL_CFLAGS += $(host-agent-cflags)
$(BUILD)/san/bin/host-agent: $(host-agent-san-objs) \
	$(foreach l,$(host-agent-stack),$(BUILD)/san/lib$(l).a)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(host-agent-libs)
test: $(BUILD)/san/bin/host-agent
