#!/usr/bin/env bash
# The libFuzzer targets (tests/fuzz/, docs/fuzzing.md), briefly: each runs
# FUZZ_TEST_RUNS inputs (default 2000) from its seed corpus and mutations of
# it; a crash, sanitizer report, leak or failed check is a FAIL naming the
# saved input.  SKIP without clang and libFuzzer (./run.sh fuzz installs
# them).  Prints PASS/FAIL/SKIP lines.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FB=${FUZZ_BUILD:-$BUILD-fuzz}
RUNS=${FUZZ_TEST_RUNS:-2000}
. tests/lib.sh
names=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||')
tmp=$(mktemp -d /tmp/faultline-fuzztest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
	for t in $names; do skip "$t" "clang or libFuzzer (libclang-rt-14-dev) missing; ./run.sh fuzz installs them"; done
	exit 0
fi
if ! make -s FUZZ_BUILD="$FB" fuzz-build $(for t in $names; do echo "$FB/seeds/$t"; done) >"$tmp/build.log" 2>&1; then
	for t in $names; do fail "$t" "make fuzz-build failed: $(grep -m1 -i error "$tmp/build.log")"; done
	exit 1
fi
for t in $names; do
	mkdir -p "$tmp/corpus-$t"
	nseeds=$(ls "$FB/seeds/$t" | wc -l)
	"$FB/$t" -close_fd_mask=3 -runs="$RUNS" -artifact_prefix="$tmp/$t-" "$tmp/corpus-$t" "$FB/seeds/$t" \
		>"$tmp/$t.log" 2>&1
	rc=$?
	done_line=$(grep -E '^Done [0-9]+ runs' "$tmp/$t.log")
	if [ "$rc" -eq 0 ] && [ -n "$done_line" ] && [ "$nseeds" -gt 0 ]; then
		pass "$t ($done_line, $nseeds seeds)"
	elif [ "$nseeds" -eq 0 ]; then
		fail "$t" "no seed inputs in $FB/seeds/$t"
	else
		art=$(ls "$tmp/$t-"* 2>/dev/null | head -1)
		[ -n "$art" ] && cp "$art" "$FB/" 2>/dev/null
		fail "$t" "exit $rc: $(grep -m1 -E 'ERROR|SUMMARY|check failed' "$tmp/$t.log") (input: $FB/$(basename "${art:-none}"))"
	fi
done
exit $failed
