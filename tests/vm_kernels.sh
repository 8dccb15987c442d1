#!/usr/bin/env bash
# The scenario-level assertions of the suite (tests/scenario_checks.sh: what
# holds on any kernel) on every x86_64 kernel the VM backend can boot here:
#   tests/vm_kernels.sh [KERNEL...]
# KERNEL: debian:SERIES (Debian's packaged cloud kernel, e.g. debian:6.12,
# fetched once as ./run.sh does), the name of a kernel built into
# build/kernels/NAME (./run.sh kernel build), or an image path.  Default:
# debian:6.12 and every x86_64 kernel in build/kernels/.  Each bundled
# scenario runs short in a fresh guest, as in tests/sys_vm.sh: 2 s, 16 MiB
# files, 16 fault threads, 256 MiB of zram swap, full isolation.  About 20
# to 40 s a scenario under TCG, so some 15 minutes for three kernels: not
# part of ./run.sh test.  The kernels and results of the last run are in
# docs/vm.md ("Kernels the tests ran on").  Prints PASS/FAIL/SKIP lines,
# each named KERNEL/SCENARIO; FAULTLINE_STATIC_BUILD (default build-x86_64,
# as ./run.sh) is where the guest's static binaries are built.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
STATIC=${FAULTLINE_STATIC_BUILD:-build-x86_64}
tmp=$(mktemp -d /tmp/faultline-vm-kernels.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
. tests/scenario_checks.sh

if ! command -v qemu-system-x86_64 >/dev/null || [ "$(uname -m)" != x86_64 ]; then
	skip vm_kernels "no qemu-system-x86_64 or not an x86_64 host"; exit 0
fi
kernels=("$@")
if [ ${#kernels[@]} = 0 ]; then
	kernels=(debian:6.12)
	for m in build/kernels/*/manifest.json; do
		[ -f "$m" ] && [ "$(jq -r .arch "$m")" = x86_64 ] && kernels+=("$(jq -r .name "$m")")
	done
fi
make -s -j"$(nproc)" ARCH=x86_64 BUILD="$STATIC" "$STATIC/faultline" "$STATIC/fl-slowfs" 2>&1 |
	grep -v -e 'statically linked applications' -e 'in function' >&2
mkdir -p "$BUILD/vm-cache"
for k in "${kernels[@]}"; do
	kdir="" manifest=""
	case "$k" in
	debian:*)
		if ! kdir=$(bench/vm/debian-kernel.sh "${k#debian:}:x86_64" "$BUILD/vm-cache" 2>"$tmp/dk.err"); then
			skip "$k" "cannot fetch it: $(tail -1 "$tmp/dk.err")"
			continue
		fi
		image=$kdir/vmlinuz manifest=$kdir/manifest.json ;;
	*/*) image=$k ;;
	*)
		kdir=build/kernels/$k
		image=$kdir/$(jq -r .image "$kdir/manifest.json" 2>/dev/null) manifest=$kdir/manifest.json ;;
	esac
	if [ ! -f "$image" ]; then
		skip "$k" "no kernel image $image"
		continue
	fi
	initrd=$BUILD/vm-cache/initramfs-x86_64-$(basename "${kdir:-nomodules}").cpio.gz
	if ! bench/vm/mkinitramfs.sh x86_64 "$STATIC" "$BUILD/vm-cache" "$initrd" $kdir >"$tmp/mk.out" 2>&1; then
		fail "$k" "initramfs: $(tail -1 "$tmp/mk.out")"
		continue
	fi
	label=${k#debian:}
	label=${label##*/}
	echo "== $k: $image"
	for s in bench/scenarios/*.json; do
		name=$(basename "$s" .json)
		if jq -e .antagonists "$s" >/dev/null; then # fio, stress-ng: not in the guest's initramfs
			skip "$label/$name" "its antagonists' programs are not in the guest's initramfs (docs/scenarios.md)"
			continue
		fi
		out=$tmp/$label-$name
		"$BUILD/faultline" vm --kernel "$image" --initrd "$initrd" ${manifest:+--manifest "$manifest"} \
			--out "$out" --quiet --swap-bytes 256M --duration 2 --warmup 0 --iterations 1 \
			--set victim.files.size_bytes=16M --set victim.fault_threads=16 "$s" >"$out.out" 2>&1
		f=$(ls "$out"/*.json 2>/dev/null | head -n 1)
		[ -n "$f" ] || echo "  $(tail -2 "$out.out" | tr '\n' ' ')"
		scenario_check "$label/$name" "$f" 2 full
	done
done
exit "$failed"
