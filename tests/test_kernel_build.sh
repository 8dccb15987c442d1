#!/usr/bin/env bash
# tests/test_kernel_build.sh: argument errors of bench/vm/kernel-build.sh
# (./run.sh kernel build).  Builds nothing, installs nothing, needs nothing:
# every case must be refused (exit 2, a message naming the option and its
# value) before the script touches packages or build/kernels.  Output: one
# line per case, "PASS name" or "FAIL name: reason"; exit 0 when none failed.
# Takes about a second.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KB=$ROOT/bench/vm/kernel-build.sh
tmp=$(mktemp -d /tmp/faultline-kbtest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export FL_KERNELS_DIR=$tmp/kernels
mkdir -p "$FL_KERNELS_DIR/exists" "$tmp/notakernel"
echo x >"$tmp/file.txt"
failed=0

# case NAME WANT_RC WANT_STDERR_REGEX ARGS...
case_() {
	local name=$1 want=$2 re=$3 rc
	shift 3
	bash "$KB" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL $name: exit $rc, wanted $want ($(head -c 200 "$tmp/err"))"
		failed=1
	elif [ -n "$re" ] && ! grep -qE -- "$re" "$tmp/err" "$tmp/out"; then
		echo "FAIL $name: output does not match /$re/: $(head -c 200 "$tmp/err")"
		failed=1
	else
		echo "PASS $name"
	fi
}

case_ no-arguments 2 'usage'
case_ help 0 '--src DIR\|TARBALL\|debian' --help
case_ build-help 0 '--out NAME' build --help
case_ unknown-subcommand 2 "unknown subcommand 'frob'" frob
case_ unknown-option 2 "unknown option '--frob'" build --out x --frob
case_ missing-out 2 '--out NAME is required' build --src debian
case_ bad-out-name 2 "--out '\.\./x'" build --out ../x
case_ bad-out-dot 2 "--out '\.hidden'" build --out .hidden
case_ bad-arch 2 "--arch 'mips'" build --arch mips --out x
case_ bad-jobs 2 "--jobs 'abc'" build --jobs abc --out x
case_ zero-jobs 2 "--jobs '0'" build --jobs 0 --out x
case_ value-missing 2 '--src needs a value' build --out x --src
case_ src-missing 2 "--src '/nonexistent/k'" build --src /nonexistent/k --out x
case_ src-not-tarball 2 "--src '$tmp/file.txt': not a tarball" build --src "$tmp/file.txt" --out x
case_ src-not-kernel 2 "--src '$tmp/notakernel': not a Linux source tree" build --src "$tmp/notakernel" --out x
case_ patch-missing 2 "--patch '/nonexistent.patch'" build --patch /nonexistent.patch --out x
case_ out-exists 2 "--out 'exists'.*--force" build --out exists

# nothing was created by the refused builds
left=$(cd "$FL_KERNELS_DIR" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ "$left" = "./exists " ]; then
	echo "PASS nothing-created"
else
	echo "FAIL nothing-created: $FL_KERNELS_DIR holds: $left"
	failed=1
fi
exit $failed
