# attest/: attestation. AK/EK handling and quotes (tpm2-tss ESAPI through
# the TCTI loader), credential activation, the evidence codec (json-c),
# the nonce Merkle tree, reference values derived from signed images, and
# the verifier. Uses rot (error model, crypto port, image parser, mailbox
# client) and bootchain's event log parser; nothing uses attest but
# host-agent.
attest-lib-srcs := \
	attest/src/util.c \
	attest/src/tpms.c \
	attest/src/tpm.c \
	attest/src/cred.c \
	attest/src/merkle.c \
	attest/src/evidence.c \
	attest/src/produce.c \
	attest/src/refvals.c \
	attest/src/x509.c \
	attest/src/verify.c \
	attest/src/appraise.c

attest-cflags = -Iattest/include $(JSONC_CFLAGS)
ATTEST_LIBS = $(LINK_LIBS) $(JSONC_LIBS)

attestctl-srcs := attest/tools/attestctl.c attest/tools/attestctl_fetch.c

# attestctl verify --url fetches evidence with libcurl.
CURL_LIBS := $(shell pkg-config --libs libcurl)

$(BUILD)/obj/attest/%.o $(BUILD)/san/attest/%.o: ALL_CFLAGS += $(attest-cflags)
$(BUILD)/san/tests/unit/attest/%.o $(BUILD)/obj/tests/tools/attest_%.o: ALL_CFLAGS += $(attest-cflags)

$(BUILD)/lib/libattest.a: $(patsubst %.c,$(BUILD)/obj/%.o,$(attest-lib-srcs))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/san/libattest.a: $(patsubst %.c,$(BUILD)/san/%.o,$(attest-lib-srcs))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# attest sits on bootchain (its event log parser) and rot (core, port,
# client library); the host agent links the same stack.
ATTEST_STACK = $(BUILD)/lib/libattest.a $(BUILD)/lib/libbootchain.a $(ROT_LIBS)
ATTEST_SAN_STACK = $(BUILD)/san/libattest.a $(BUILD)/san/libbootchain.a $(ROT_SAN_LIBS)

$(BUILD)/bin/attestctl: $(patsubst %.c,$(BUILD)/obj/%.o,$(attestctl-srcs)) $(ATTEST_STACK)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(ATTEST_LIBS) $(CURL_LIBS)

all: $(BUILD)/bin/attestctl

# Unit suites of attest link its library too (the shorter stem wins over
# the generic $(BUILD)/test/% rule).
$(BUILD)/test/attest/%: $(BUILD)/san/tests/unit/attest/%.o \
		$(patsubst %.c,$(BUILD)/san/%.o,$(wildcard tests/unit/common/*.c)) $(ATTEST_SAN_STACK)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(CMOCKA_LIBS) $(ATTEST_LIBS)

# Fuzz targets over the evidence decoder and the reference-value parser.
ATTEST_FUZZ_SRCS = $(rot-core-srcs) $(rot-port-srcs) $(rot-client-srcs) $(bootchain-lib-srcs) \
	tests/unit/common/ram_flash.c $(attest-lib-srcs)
$(BUILD)/fuzz/fuzz_evidence $(BUILD)/fuzz/fuzz_refvals: $(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(ATTEST_FUZZ_SRCS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(attest-cflags) -o $@ $< $(ATTEST_FUZZ_SRCS) $(ATTEST_LIBS)

# make bench: the attestation section (tests/bench/attest.sh).
$(BUILD)/obj/tests/bench/bench_attest.o: ALL_CFLAGS += $(attest-cflags)
$(BUILD)/bin/bench_attest: $(BUILD)/obj/tests/bench/bench_attest.o $(ATTEST_STACK)
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $(filter %.o,$^) $(call group,$(filter %.a,$^)) $(ATTEST_LIBS)
bench: $(BUILD)/bin/bench_attest
