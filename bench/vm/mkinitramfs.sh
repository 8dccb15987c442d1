#!/usr/bin/env bash
# Build the base initramfs of the VM backend:
#   bench/vm/mkinitramfs.sh ARCH BIN_DIR CACHE_DIR OUT [KERNEL_DIR]
# Holds busybox-static for ARCH (Debian's package, fetched with apt-get
# download; for riscv64, which Debian 12 lacks, trixie's, and for s390x
# bookworm's, through the private apt of bench/cross/foreign-apt.sh), the suite's static binaries from BIN_DIR (faultline, fl-slowfs),
# bench/vm/init as /init, and, when KERNEL_DIR (from debian-kernel.sh) has
# modules, those modules with their load order.  `faultline vm` appends the
# run's own files (scenario, arguments) as a second cpio segment.
set -euo pipefail
log() { echo "mkinitramfs: $*" >&2; }
[ $# -ge 4 ] || { echo "usage: $0 ARCH BIN_DIR CACHE_DIR OUT [KERNEL_DIR]" >&2; exit 2; }
arch=$1 bin=$2 out=$4 kdir=${5:-}
mkdir -p "$3"
cache=$(cd "$3" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
case "$arch" in
x86_64) darch=amd64 ;;
aarch64) darch=arm64 ;;
ppc64le) darch=ppc64el ;;
s390x) darch=s390x ;;
riscv64) darch=riscv64 ;;
*) log "unsupported arch '$arch' (x86_64, aarch64, ppc64le, s390x, riscv64)"; exit 2 ;;
esac
for f in faultline fl-slowfs; do
	[ -x "$bin/$f" ] || { log "$bin/$f missing (make ARCH=$arch)"; exit 3; }
	file -b "$bin/$f" | grep -q 'statically linked' || { log "$bin/$f is not statically linked"; exit 3; }
done
# Temporaries carry the pid of the run that made them: a run killed with
# SIGKILL (no trap runs then) leaves them, and the next run removes those
# of pids that are gone, never one in use (tests/torture.sh).
for f in "$cache"/.initramfs.*.* "$cache"/.busybox.*.* "$out".tmp-*; do
	[ -e "$f" ] || continue
	p=${f##*/}
	case "$p" in *.tmp-*) p=${p##*.tmp-} ;; *) p=${p#.*.} p=${p%%.*} ;; esac
	[[ $p =~ ^[0-9]+$ ]] && [ ! -d "/proc/$p" ] && rm -rf "$f"
done
bb=$cache/busybox-$darch/busybox
if [ ! -x "$bb" ]; then
	t=$(mktemp -d "$cache/.busybox.$$.XXXXXX")
	log "downloading busybox-static:$darch"
	if [ "$darch" = riscv64 ]; then
		(cd "$t" && "$here/../cross/foreign-apt.sh" riscv64 trixie "$cache/apt-riscv64-trixie" download busybox-static)
	elif [ "$darch" = s390x ]; then
		# no dpkg architecture s390x here (docs/cross.md): bookworm's package, privately
		(cd "$t" && "$here/../cross/foreign-apt.sh" s390x bookworm "$cache/apt-s390x-bookworm" download busybox-static)
	else
		(cd "$t" && apt-get download -q "busybox-static:$darch" >/dev/null 2>&1)
	fi || { rm -rf "$t"; log "apt-get download busybox-static:$darch failed"; exit 3; }
	dpkg-deb -x "$t"/*.deb "$t/root"
	mkdir -p "$(dirname "$bb")"
	# bookworm: /bin/busybox; trixie (merged /usr): /usr/bin/busybox
	src=$t/root/bin/busybox
	[ -f "$src" ] || src=$t/root/usr/bin/busybox
	cp "$src" "$bb.tmp" && mv "$bb.tmp" "$bb"
	rm -rf "$t"
fi
root=$(mktemp -d "$cache/.initramfs.$$.XXXXXX")
trap 'rm -rf "$root" "$out.tmp-$$"' EXIT
mkdir -p "$root"/{bin,etc/faultline,faultline/run,lib/modules,proc,sys,dev,tmp,root,var/tmp}
cp "$bb" "$root/bin/busybox"
cp "$here/init" "$root/init"
cp "$bin/faultline" "$bin/fl-slowfs" "$root/bin/"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
if [ -n "$kdir" ] && [ -f "$kdir/config" ]; then
	mkdir -p "$root/boot"
	cp "$kdir/config" "$root/boot/config"
fi
if [ -n "$kdir" ] && [ -s "$kdir/modules.list" ]; then
	cp -r "$kdir/modules/." "$root/lib/modules/"
	cp "$kdir/modules.list" "$root/etc/faultline/modules"
fi
chmod 755 "$root/init" "$root/bin/"*
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$out.tmp-$$"
mv "$out.tmp-$$" "$out"
log "$out: $(du -h "$out" | cut -f1) (busybox $darch, faultline, fl-slowfs${kdir:+, modules of $(basename "$kdir")})"
