# tests/: cmocka suites (one binary per tests/unit/<dir>/test_*.c, built
# with ASan+UBSan), CLI and integration scripts (tests/cli/*.sh), libFuzzer
# targets (tests/fuzz/fuzz_*.c, corpus in tests/fuzz/corpus/<target>/),
# benchmarks (tests/bench/).
unit-test-srcs := $(filter-out tests/unit/common/%,$(wildcard tests/unit/*/test_*.c))
unit-tests := $(patsubst tests/unit/%.c,$(BUILD)/test/%,$(unit-test-srcs))

fuzz-targets := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

bench-bins := $(BUILD)/bin/bench_verify

$(BUILD)/bin/bench_verify: $(BUILD)/obj/tests/bench/bench_verify.o $(BUILD)/lib/librot.a
	@mkdir -p $(@D)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(MBEDTLS_LIBS)
