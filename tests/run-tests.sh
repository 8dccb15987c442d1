#!/usr/bin/env bash
# Run every test: the unit-test programs (BUILD/test_*), then (unless WHAT
# is "unit") the system tests (tests/sys_*.sh, tests/test_slowfs.sh,
# tests/test_kernel_build.sh), then
# the unit-test programs of each further build directory (e.g. the ASan
# build).  usage: tests/run-tests.sh BUILD [all|unit] [MORE_BUILD_DIRS...]
# Each prints PASS/FAIL/SKIP lines; this script adds them up and closes
# with "N passed, N failed, N skipped".
set -u
BUILD=${1:-build}
WHAT=${2:-all}
shift 2 2>/dev/null || shift $#
MORE=("$@")
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0
log=$(mktemp /tmp/faultline-tests.XXXXXX)
trap 'rm -f "$log"' EXIT

times=() # "seconds name" per test program, for the slowest at the end
run() { # name command...
	local name=$1; shift
	local t0=$SECONDS
	echo "== $name"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	times+=("$((SECONDS - t0)) $name")
	echo "-- $name: $((SECONDS - t0)) s"
	local p f s
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $rc without naming a failed test"
		failed=$((failed + 1))
	fi
}

for t in "$BUILD"/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
if [ "$WHAT" != unit ]; then
	for t in tests/sys_*.sh tests/test_slowfs.sh tests/test_kernel_build.sh; do
		[ -f "$t" ] || continue
		run "$(basename "$t")" env BUILD="$BUILD" bash "$t"
	done
fi
for dir in "${MORE[@]}"; do
	for t in "$dir"/test_*; do
		[ -x "$t" ] || continue
		run "$(basename "$t") ($dir)" "$t"
	done
done
echo "slowest: $(printf '%s\n' "${times[@]}" | sort -rn | head -8 | awk '{ t = $1; sub(/^[0-9]+ /, ""); printf "%s%s %d s", (NR > 1 ? ", " : ""), $0, t }'); all $SECONDS s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
