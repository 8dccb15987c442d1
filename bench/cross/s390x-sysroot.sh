#!/usr/bin/env bash
# Build the s390x sysroot that `make ARCH=s390x` links against (docs/cross.md):
# bookworm's own s390x packages libcgroup-dev, libjansson-dev and
# libfuse3-dev, unpacked (dpkg-deb -x, not installed) into SYSROOT.
#
#   bench/cross/s390x-sysroot.sh [SYSROOT]     (default build-s390x/sysroot)
#
# Why not multiarch as for arm64 and ppc64el: this mirror's bookworm-security
# has no s390x (Debian 12's LTS dropped it), so libpcre2-8-0:s390x is bookworm's
# 10.42-1 while the machine's amd64 one is 10.42-1+deb12u2 from security, and a
# Multi-Arch: same library must have one version on all architectures; apt
# refuses libfuse3-dev:s390x (through libselinux1-dev and libpcre2-dev).  The
# static link needs only the three packages' .a files, headers and .pc files,
# which are the same bookworm versions the other arches use.
#
# The packages come through bench/cross/foreign-apt.sh (a private apt: no
# dpkg architecture is added); the compiler (gcc-s390x-linux-gnu,
# libc6-dev-s390x-cross, amd64 packages) through ./run.sh install-packages.
# Idempotent (nothing to do when SYSROOT/VERSIONS has this recipe), atomic
# (built next to SYSROOT and renamed at the end).  Exit status: 0 ok, 1
# failure, 3 missing resource.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RECIPE=1
SYSROOT=${1:-build-s390x/sysroot}
case "$SYSROOT" in /*) ;; *) SYSROOT=$ROOT/$SYSROOT ;; esac
PACKAGES=(gcc-s390x-linux-gnu libc6-dev-s390x-cross binutils-s390x-linux-gnu make pkg-config)
DEVS=(libcgroup-dev libjansson-dev libfuse3-dev)
ML=usr/lib/s390x-linux-gnu
log() { echo "s390x-sysroot: $*" >&2; }

complete() {
	[ -f "$SYSROOT/VERSIONS" ] && grep -qx "recipe $RECIPE" "$SYSROOT/VERSIONS" || return 1
	local f
	for f in $ML/libcgroup.a $ML/libjansson.a $ML/libfuse3.a usr/include/libcgroup.h usr/include/jansson.h \
		usr/include/fuse3/fuse.h $ML/pkgconfig/libcgroup.pc $ML/pkgconfig/jansson.pc $ML/pkgconfig/fuse3.pc; do
		[ -e "$SYSROOT/$f" ] || return 1
	done
}
if complete; then log "$SYSROOT is complete; nothing to do"; exit 0; fi
mkdir -p "$(dirname "$SYSROOT")"
exec 9>"$(dirname "$SYSROOT")/.sysroot.lock"
flock 9
if complete; then log "$SYSROOT was completed meanwhile"; exit 0; fi
t0=$SECONDS
./run.sh install-packages "${PACKAGES[@]}" || exit 3
work=$(mktemp -d "$(dirname "$SYSROOT")/.sysroot-tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dl" "$work/root"
log "apt-get download ${DEVS[*]} (bookworm, s390x)"
(cd "$work/dl" && "$ROOT/bench/cross/foreign-apt.sh" s390x bookworm "$ROOT/build/vm-cache/apt-s390x-bookworm" \
	download "${DEVS[@]}") || exit 3
{
	echo "# s390x sysroot for faultline, made by bench/cross/s390x-sysroot.sh"
	echo "recipe $RECIPE"
	echo "compiler $(s390x-linux-gnu-gcc --version | head -1)"
	echo "libc $(dpkg-query -W -f='libc6-dev-s390x-cross ${Version}' libc6-dev-s390x-cross)"
	for d in "$work"/dl/*.deb; do
		dpkg-deb -x "$d" "$work/root"
		echo "package $(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version) (bookworm, s390x) sha256 $(sha256sum "$d" | cut -d' ' -f1)"
	done
} >"$work/root/VERSIONS"
rm -rf "$work/root/usr/share"
# libcgroup-dev has its libcgroup.a in /lib/s390x-linux-gnu (usrmerge): one
# library directory; only the static archives are kept
if [ -d "$work/root/lib" ]; then
	cp -a "$work/root/lib/." "$work/root/usr/lib/"
	rm -rf "$work/root/lib"
fi
find "$work/root" -name '*.so*' -delete
mkdir -p "$work/old"
[ -e "$SYSROOT" ] && mv "$SYSROOT" "$work/old/"
mv "$work/root" "$SYSROOT"
complete || { log "unpacked, but the libraries, headers or .pc files are not all there"; exit 1; }
log "done in $((SECONDS - t0)) s: $SYSROOT ($(grep '^package' "$SYSROOT/VERSIONS" | cut -d' ' -f2,3 | paste -sd, -))"
