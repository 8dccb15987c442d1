#!/usr/bin/env bash
# Cross-built binaries under qemu-user (docs/cross.md): for each of aarch64 and
# riscv64, the unit tests of build-ARCH/ and a short smoke run, each through
# qemu-ARCH-static called explicitly (no binfmt_misc).  `./run.sh test` (or
# `./run.sh cross ARCH`) builds build-ARCH/ first; an arch without its build,
# or without qemu, skips.  Prints PASS/FAIL/SKIP lines; exit 1 if any test
# failed.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/faultline-cross.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# one pass per arch; an arch whose emulator or build is missing skips
cross_test() {
	local arch=$1 dir=build-$1 Q=/usr/bin/qemu-$1-static n t name rc f a st
	if [ ! -x "$Q" ]; then
		skip "cross_$arch" "$Q missing (./run.sh cross $arch installs qemu-user-static)"; return
	fi
	if [ ! -x "$dir/faultline" ]; then
		skip "cross_$arch" "$dir/faultline not built (./run.sh cross $arch)"; return
	fi
	rm -rf "$tmp/out" "$tmp/data"

	# 1. every unit test of the cross build, one line each (their own PASS lines
	#    are not repeated, so the totals count each program once)
	n=0
	for t in "$dir"/test_*; do
		[ -x "$t" ] || continue
		n=$((n + 1)); name="cross_${arch}_$(basename "$t")"
		if "$Q" "$t" >"$tmp/u.out" 2>&1; then
			pass "$name ($(tail -1 "$tmp/u.out"))"
		else
			fail "$name" "exit status $? ($(grep '^FAIL' "$tmp/u.out" | head -3 | tr '\n' ' '))"
		fi
	done
	[ "$n" -gt 0 ] || fail "cross_${arch}_unit" "no test_* programs in $dir"

	# 2. a short victim/observer run.  The runner starts its roles by
	#    re-executing itself (bench/runner/runner.c); under qemu-user that execve goes
	#    to the host kernel, which cannot run a foreign binary without a
	#    binfmt_misc handler, so it goes through the emulator named in
	#    FAULTLINE_EMULATOR (lib/util.c util_execv)
	mkdir -p "$tmp/out"
	FAULTLINE_EMULATOR="$Q" "$Q" "$dir/faultline" run bench/scenarios/smoke.json --duration 3 --quiet --out "$tmp/out" \
		--set storage.path="$tmp/data" --set victim.files.size_bytes=16M --set victim.fault_threads=4 \
		>"$tmp/run.out" 2>&1
	rc=$?
	f=$(ls "$tmp"/out/*.json 2>/dev/null | head -1)
	if [ "$rc" -ne 0 ]; then
		fail "cross_${arch}_smoke" "exit status $rc ($(tail -3 "$tmp/run.out" | tr '\n' ' '))"
	elif [ -z "$f" ]; then
		fail "cross_${arch}_smoke" "no result file"
	else
		a=$(jq -r .environment.arch "$f"); st=$(jq -r .status "$f")
		if [ "$a" = "$arch" ] && [ "$st" = ok ]; then pass "cross_${arch}_smoke"
		else fail "cross_${arch}_smoke" "environment.arch=$a status=$st"; fi
	fi
}

for arch in aarch64 riscv64; do cross_test "$arch"; done
exit $failed
