# Top-level build. One small objects.mk per folder lists its sources;
# this file only knows how to turn them into objects, libraries and tools.
#
#   make            build everything into build/ (tools in build/bin/)
#   make test       every test (unit suites under ASan+UBSan, CLI, fuzz
#                   corpus replay, freestanding core build)
#   make demo       the main job on embedded defaults (run dir: build/run)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make bench      side-by-side performance figures (not a test)

BUILD ?= build
CC ?= cc
CLANG ?= clang
CROSS ?= riscv64-unknown-elf-
FUZZ_SECONDS ?= 60

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -g -D_DEFAULT_SOURCE -DROT_HOSTED $(WARN)
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -DROT_TEST_HOOKS \
	-fno-omit-frame-pointer

# Libraries. mbedTLS and libfdt ship no pkg-config file on Debian 12.
# Recursive (=) so pkg-config only runs once deps.sh has installed them.
MBEDTLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)
TSS2_LIBS = $(shell pkg-config --libs tss2-esys tss2-tctildr tss2-mu tss2-rc)
FDT_LIBS := -lfdt
LINK_LIBS = -Wl,--as-needed $(TSS2_LIBS) $(FDT_LIBS) $(MBEDTLS_LIBS)

DEPS_STAMP := $(BUILD)/.deps-ok

include rot/objects.mk
include bootchain/objects.mk
include attest/objects.mk
include tests/objects.mk
include tests/powerfail/objects.mk

bins := $(rot-bins) $(bootchain-bins)
ALL_CFLAGS := $(BASE_CFLAGS) $(rot-cflags) $(bootchain-cflags)

.PHONY: all deps test freestanding demo fuzz bench clean
# Keep the objects of test binaries: they are intermediate files to make,
# which would otherwise delete them and rebuild every test on each run.
.SECONDARY:
.DEFAULT_GOAL := all

all: $(addprefix $(BUILD)/bin/,$(bins))

# Install missing Debian packages once; re-run when the list changes.
$(DEPS_STAMP): scripts/deps.sh
	@bash scripts/deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

# ---- optimised build (tools, demo, bench) --------------------------------
$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(OPT_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lib/librot.a: $(patsubst %.c,$(BUILD)/obj/%.o,$(rot-core-srcs) $(rot-host-srcs))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/lib/libbootchain.a: $(patsubst %.c,$(BUILD)/obj/%.o,$(bootchain-lib-srcs))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# One rule per tool: build/bin/<t> from <t>-srcs (listed in objects.mk).
STACK_LIBS := $(BUILD)/lib/libbootchain.a $(BUILD)/lib/librot.a
define tool_rule
$$(BUILD)/bin/$(1): $$(patsubst %.c,$$(BUILD)/obj/%.o,$$($(1)-srcs)) $$(STACK_LIBS)
	@mkdir -p $$(@D)
	$$(CC) $$(OPT_CFLAGS) -o $$@ $$^ $$(LINK_LIBS)
endef
$(foreach t,$(bins),$(eval $(call tool_rule,$(t))))

# ---- sanitizer build (tests) ---------------------------------------------
$(BUILD)/san/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) $(CMOCKA_CFLAGS) -Itests/unit/common -MMD -MP -c $< -o $@

$(BUILD)/san/librot.a: $(patsubst %.c,$(BUILD)/san/%.o,$(rot-core-srcs) $(rot-host-srcs))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

unit-common-objs = $(patsubst %.c,$(BUILD)/san/%.o,$(wildcard tests/unit/common/*.c))

$(BUILD)/san/libbootchain.a: $(patsubst %.c,$(BUILD)/san/%.o,$(bootchain-lib-srcs))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/test/%: $(BUILD)/san/tests/unit/%.o $(unit-common-objs) $(BUILD)/san/libbootchain.a $(BUILD)/san/librot.a
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LINK_LIBS)

# ---- freestanding core (the chip build) -----------------------------------
# Proves the core needs nothing from a hosted environment: compiled for
# RISC-V with -ffreestanding -nostdlib, partially linked, sizes printed.
FS_CFLAGS := -std=c11 -Os -ffreestanding -nostdlib -fno-builtin \
	-fno-tree-loop-distribute-patterns -march=rv32imc -mabi=ilp32 $(WARN) -Irot/include
# Symbols a freestanding C compiler may call on its own (struct copies).
FS_ALLOWED_UNDEF := memcpy memset memmove memcmp

$(BUILD)/riscv/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CROSS)gcc $(FS_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/riscv/rot_core.o: $(patsubst %.c,$(BUILD)/riscv/%.o,$(rot-core-srcs))
	$(CROSS)gcc $(FS_CFLAGS) -r -o $@ $^

# The whole chip (verifier, gate, update engine, audit log, mailbox server)
# must fit this much code; the build fails over it.
FS_TEXT_BUDGET ?= 49152

freestanding: $(BUILD)/riscv/rot_core.o
	@echo "rot core (riscv32, -ffreestanding -nostdlib, -Os):"
	@$(CROSS)size $<
	@text=$$($(CROSS)size $< | awk 'NR==2 {print $$1}'); \
	echo "freestanding: text $$text of $(FS_TEXT_BUDGET) bytes budgeted"; \
	if [ "$$text" -gt $(FS_TEXT_BUDGET) ]; then \
	  echo "freestanding: the chip's code is over its budget by $$((text - $(FS_TEXT_BUDGET))) bytes"; exit 1; fi
	@undef=$$($(CROSS)nm -u $< | awk '{print $$2}' | grep -vxE '$(subst $(space),|,$(FS_ALLOWED_UNDEF))' || true); \
	if [ -n "$$undef" ]; then echo "freestanding: core needs symbols a chip does not have: $$undef"; exit 1; fi; \
	echo "freestanding: no undefined symbols outside {$(FS_ALLOWED_UNDEF)}"

space := $(subst ,, )

# ---- fuzzing --------------------------------------------------------------
# Targets that need flash or OTP use the unit tests' in-memory fakes.
FUZZ_CFLAGS := -std=c11 -g -O1 -D_DEFAULT_SOURCE -DROT_HOSTED \
	-fsanitize=fuzzer,address,undefined $(rot-cflags) $(bootchain-cflags) \
	-Itests/unit/common

FUZZ_SRCS = $(rot-core-srcs) $(rot-host-srcs) $(bootchain-lib-srcs) \
	tests/unit/common/ram_flash.c
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_SRCS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS) $(LINK_LIBS)

# Every target gets its run even when an earlier one finds a crash (its
# input is left as crash-* in the working directory); the failures are
# listed at the end.
fuzz: $(addprefix $(BUILD)/fuzz/,$(fuzz-targets))
	@bad=; for t in $(fuzz-targets); do \
	  mkdir -p $(BUILD)/fuzz-corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(BUILD)/fuzz-corpus/$$t tests/fuzz/corpus/$$t || bad="$$bad $$t"; \
	done; \
	if [ -n "$$bad" ]; then echo "fuzz: failed:$$bad"; exit 1; fi

# ---- the two commands ------------------------------------------------------
test: all $(unit-tests) $(addprefix $(BUILD)/fuzz/,$(fuzz-targets))
	@bash tests/run.sh $(BUILD)

demo: all
	@bash scripts/demo.sh $(BUILD)

bench: all $(bench-bins)
	@bash tests/bench/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
