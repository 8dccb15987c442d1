# libFuzzer targets of every parser of outside input (docs/fuzzing.md),
# included by the Makefile.  `make fuzz` builds tests/fuzz/fuzz_*.c with
# Debian's clang (-fsanitize=fuzzer,address,undefined) into $(FUZZ_BUILD)/,
# seeds each corpus from the bundled scenarios and tests/data (copied here,
# not kept twice in git) and runs each target for FUZZ_TIME seconds;
# `make fuzz-build` only builds; FUZZ_RUNS=N runs N inputs instead.
FUZZ_BUILD ?= build-fuzz
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_RUNS  ?=
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all $(WARN) -Wno-unknown-warning-option -DFL_VERSION=\"fuzz\" -I. $(FUSE_CFLAGS)
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)
FUZZ_CORE  := $(CORE_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
# fl-slowfs without its main (slowfs.c)
FUZZ_SLOWFS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out workloads/slowfs/slowfs.c,$(wildcard workloads/slowfs/*.c)))

$(FUZZ_BUILD)/obj/%.o: %.c $(ALL_HDR) tests/fuzz/fuzz.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_slowfs_control: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_slowfs_control.o $(FUZZ_SLOWFS) $(FUZZ_CORE)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $^ -o $@ $(FUSE_LIBS) $(LDLIBS)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_CORE)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $^ -o $@ $(LDLIBS)

# seeds, per target: SEED_name = files to copy; SEEDTEXT_name = lines,
# one seed each (printf-escaped)
SEED_fuzz_config_json := $(wildcard bench/scenarios/*.json)
SEED_fuzz_results := $(wildcard tests/data/*.json)
SEED_fuzz_mmaplock_raw := $(wildcard tests/data/mmaplock-raw-*.txt tests/data/mmaplock-raw-*.bin)
# tests/fuzz/regress/: inputs of findings, kept as seeds so every run
# tries them again (docs/fuzzing.md)
SEED_fuzz_mmaplock := $(wildcard tests/data/mmaplock-*.txt tests/fuzz/regress/mmaplock-*)
SEED_fuzz_manifest := $(wildcard build/kernels/*/manifest.json build/vm-cache/*/manifest.json)
SEEDTEXT_fuzz_config_set := 'victim.fault_threads=2000' 'cgroup.victim.memory_max_bytes=1G' \
	'duration_s=5\nwarmup_s=1\niterations=3' 'victim.access=zipf\nvictim.zipf_theta=0.9' \
	'storage.type=slowfs\nstorage.slowfs.jitter=lognormal\nstorage.slowfs.p99_ns=5000000' 'label="a b"'
SEEDTEXT_fuzz_size := 64M 1GiB 4096 16KB 0 18446744073709551615 16383P 1.5 10s
SEEDTEXT_fuzz_slowfs_control := 'latency_ns=1000000\n' 'jitter=lognormal\np99_ns=50000000\n' \
	'jitter=lognormal\n\377p99_ns=5000000\n' '\043 comment\nbandwidth_bytes_per_s=100M\nmax_inflight=8\n' \
	'reset_counters=1\n'
SEEDTEXT_fuzz_manifest := '{"name":"stock-6.12","image":"bzImage","kernel_release":"6.12.0","arch":"x86_64"}' \
	'{"kernelrelease":"6.1.0-18-amd64","package":"linux-image-6.1.0-18-amd64"}'

FUZZ_RESULTS_SMALL := {"schema": .schema, "run_id": .run_id, "scenario": .scenario, "label": .label, \
	"status": .status, "config": {}, "environment": {"arch": .environment.arch, \
	"kernel_release": .environment.kernel_release}, "iterations": [.iterations[0] | {"roles": \
	(.roles | to_entries | .[0:2] | map(.value = {"histograms": (.value.histograms | to_entries | \
	.[0:1] | from_entries), "counters": .value.counters}) | from_entries), "probes": (.probes | \
	with_entries(select(.key == "vmstat" or .key == "psi" or .key == "mmap_lock"))), \
	"measured_s": .measured_s, "status": .status}], "summary": {}}

$(FUZZ_BUILD)/seeds/%: FORCE_FUZZ_SEEDS
	@rm -rf $@ && mkdir -p $@
	@for f in $(SEED_$*); do cp "$$f" $@/; done
	@# fuzz_results: also a small result (the first iteration's first two
	@# roles, one histogram each, three probes): the recorded ones are
	@# 60-210 KB, which keeps mutation at ~50 inputs/s (docs/fuzzing.md)
	@if [ $* = fuzz_results ] && command -v jq >/dev/null; then \
		jq -c '$(FUZZ_RESULTS_SMALL)' tests/data/result-smoke-native.json >$@/small.json; fi
	@# fuzz_mmaplock_raw: byte 0 picks format text (even) or a page (odd):
	@# each recorded format file, and each recorded CPU buffer page by page
	@if [ $* = fuzz_mmaplock_raw ]; then cd $@ && for f in *.txt; do \
		{ printf '\000'; cat "$$f"; } >"$$f.fmt" && rm "$$f"; done; \
		for f in *.bin; do split -b 4096 -d -a 3 "$$f" "$$f.page-" && rm "$$f"; done; \
		for f in *.page-*; do { printf '\001'; cat "$$f"; } >"$$f.in" && rm "$$f"; done; fi
	@i=0; for t in $(SEEDTEXT_$*); do i=$$((i + 1)); printf "$$t" >$@/seed-$$i; done

fuzz-build: $(FUZZ_BINS)

# each target for FUZZ_TIME s (or FUZZ_RUNS inputs): new inputs go to
# $(FUZZ_BUILD)/corpus/NAME, crashes to $(FUZZ_BUILD)/artifacts/
fuzz: $(FUZZ_BINS) $(FUZZ_NAMES:%=$(FUZZ_BUILD)/seeds/%)
	@mkdir -p $(FUZZ_BUILD)/artifacts $(FUZZ_BUILD)/logs
	@for t in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		log=$(FUZZ_BUILD)/logs/$$t.log; \
		if $(FUZZ_BUILD)/$$t -close_fd_mask=3 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
			$(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_TIME)) \
			$(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/seeds/$$t >$$log 2>&1; then \
			echo "fuzz: $$t: $$(grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' $$log | tail -1)"; \
		else \
			tail -40 $$log; echo "fuzz: $$t FAILED (log $$log, input in $(FUZZ_BUILD)/artifacts/)"; exit 1; \
		fi; \
	done

.PHONY: fuzz fuzz-build FORCE_FUZZ_SEEDS
FORCE_FUZZ_SEEDS:
