#!/usr/bin/env bash
# The rows of the VM backend's architecture table beyond x86_64 and aarch64
# (docs/vm.md "Architectures"): for each of ppc64le, s390x and riscv64, Debian's
# 6.12 kernel for that arch booted under TCG through ./run.sh (which installs
# QEMU and the cross toolchain and builds the static binaries when missing),
# a 3-second smoke run with small files inside, and the result checked:
# exit status 0, status ok, environment.arch and environment.vm.arch the
# guest's, the kernel the arch's Debian one, full isolation, faultline
# validate.  ppc64le: bookworm's linux-image-6.12.*-powerpc64le in pseries
# (SLOF, hvc0); s390x: trixie's linux-image-6.12.*-s390x in s390-ccw-virtio
# (ttysclp0, virtio-ccw); riscv64: trixie's linux-image-6.12.*-riscv64 in
# virt with OpenSBI from Debian's opensbi (ttyS0).  About 30 to 90 s each here.
# An arch whose packages cannot be had (./run.sh exits 3: a missing resource,
# e.g. no network or not root) prints one SKIP line with ./run.sh's reason.
# FAULTLINE_SKIP_VM=1 skips it all; FAULTLINE_ARCHES="s390x ..." picks arches.
# Prints PASS/FAIL/SKIP.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/faultline-arch-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

if [ "${FAULTLINE_SKIP_VM:-0}" = 1 ]; then
	skip arch "FAULTLINE_SKIP_VM=1"; exit 0
fi
j() { jq -r "$1" "$2" 2>/dev/null; }

boot() {
	local arch=$1 kpat=$2 t0=$SECONDS rc f st a va kr iso be s
	./run.sh run smoke --debian-kernel "6.12:$arch" --duration 3 --quiet --out "$tmp/$arch" \
		--set victim.files.size_bytes=16M --set victim.fault_threads=4 >"$tmp/$arch.out" 2>&1
	rc=$?
	s=$((SECONDS - t0))
	f=$(ls "$tmp/$arch"/*.json 2>/dev/null | head -n 1)
	if [ "$rc" -eq 3 ] && [ -z "$f" ]; then
		skip "arch_$arch" "a package cannot be had here: $(grep -v '^ ' "$tmp/$arch.out" | tail -n 2 | tr '\n' ' ')"
		return
	fi
	if [ "$rc" -ne 0 ] || [ -z "$f" ]; then
		fail "arch_$arch" "exit $rc, result '$f' after $s s: $(tail -n 4 "$tmp/$arch.out" | tr '\n' ' ')"
		return
	fi
	st=$(j .status "$f") a=$(j .environment.arch "$f") va=$(j .environment.vm.arch "$f")
	kr=$(j .environment.kernel_release "$f") iso=$(j .environment.isolation "$f")
	be=$(j .environment.backend "$f")
	if [ "$st" = ok ] && [ "$a" = "$arch" ] && [ "$va" = "$arch" ] && [ "$be" = vm ] &&
		[[ "$kr" == $kpat ]] && [ "$iso" = full ] && "$BUILD/faultline" validate "$f" >/dev/null; then
		pass "arch_$arch (kernel $kr, $(j .environment.vm.accel "$f"), guest $(j '.environment.vm.wall_seconds | floor' "$f") s, $s s in all)"
	else
		fail "arch_$arch" "status=$st arch=$a vm.arch=$va backend=$be kernel=$kr isolation=$iso (console: ${f%.json}.console.log)"
		cp "${f%.json}.console.log" "/tmp/faultline-arch-$arch.console.log" 2>/dev/null
	fi
}

for arch in ${FAULTLINE_ARCHES:-ppc64le s390x riscv64}; do
	case "$arch" in
	ppc64le) boot ppc64le '6.12.*-powerpc64le' ;;
	s390x) boot s390x '6.12.*-s390x' ;;
	riscv64) boot riscv64 '6.12.*-riscv64' ;;
	*) fail "arch_$arch" "not one of ppc64le s390x riscv64" ;;
	esac
done
exit $failed
