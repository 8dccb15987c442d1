#!/usr/bin/env bash
# Cross-built binaries under qemu-user (docs/cross.md): the unit tests of
# build-aarch64/ and a short smoke run, each through qemu-aarch64-static called
# explicitly (no binfmt_misc).  `./run.sh test` (or `./run.sh cross`) builds
# build-aarch64/ first; without it, or without qemu, this skips.  Prints
# PASS/FAIL/SKIP lines; exit 1 if any test failed.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/faultline-cross.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() { echo "SKIP $1: $2"; }

echo "SKIP cross_riscv64: Debian 12 (bookworm) main has no riscv64 port, so libcgroup-dev, libjansson-dev and libfuse3-dev for riscv64 do not exist (docs/cross.md)"

arch=aarch64 dir=build-aarch64 Q=/usr/bin/qemu-aarch64-static
if [ ! -x "$Q" ]; then
	skip "cross_$arch" "$Q missing (./run.sh cross installs qemu-user-static)"; exit 0
fi
if [ ! -x "$dir/faultline" ]; then
	skip "cross_$arch" "$dir/faultline not built (./run.sh cross $arch)"; exit 0
fi

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
#    execv("/proc/self/exe") (bench/runner.c); under qemu-user that execve
#    goes to the host kernel with an aarch64 binary, which only works when
#    binfmt_misc has a qemu handler.  Without one, it skips with that reason.
mkdir -p "$tmp/out"
# the runner starts its workloads by re-executing itself: through the
# emulator named here, as no binfmt_misc handler is assumed
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
exit $failed
