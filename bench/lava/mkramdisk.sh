#!/usr/bin/env bash
# The suite for LAVA devices (docs/lava.md):
#   bench/lava/mkramdisk.sh overlay ARCH BIN_DIR OUT.tar.gz
#       an overlay tarball to unpack at / on a device's root file system:
#       /opt/faultline/bin/{faultline,fl-slowfs,fl-report} (static, from
#       BIN_DIR), /opt/faultline/scenarios/*.json, /opt/faultline/lava/
#       (faultline-lava.sh and the test definition)
#   bench/lava/mkramdisk.sh ramdisk ARCH BIN_DIR BASE_INITRD OUT
#       the suite's ramdisk for a LAVA QEMU device: BASE_INITRD (from
#       bench/vm/mkinitramfs.sh, unchanged) followed by a second gzip'd cpio
#       segment with the overlay's files and bench/lava/init as /init (the
#       kernel unpacks the segments in order, so the later /init wins)
# Exit 2 on bad arguments, 3 when a binary is missing or not static.
set -euo pipefail
log() { echo "mkramdisk: $*" >&2; }
usage() { echo "usage: $0 overlay ARCH BIN_DIR OUT.tar.gz | ramdisk ARCH BIN_DIR BASE_INITRD OUT" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -ge 4 ] || usage
what=$1 arch=$2 bin=$3
case "$arch" in
x86_64 | aarch64 | riscv64) ;;
*) log "unsupported arch '$arch' (x86_64, aarch64, riscv64)"; exit 2 ;;
esac

# the overlay tree into $1
overlay_tree() {
	local root=$1 f
	mkdir -p "$root/opt/faultline/bin" "$root/opt/faultline/scenarios" "$root/opt/faultline/lava"
	for f in faultline fl-slowfs fl-report; do
		[ -x "$bin/$f" ] || { log "$bin/$f missing (make ARCH=$arch BUILD=$bin $bin/$f)"; exit 3; }
		file -b "$bin/$f" | grep -q 'statically linked' || { log "$bin/$f is not statically linked"; exit 3; }
		cp "$bin/$f" "$root/opt/faultline/bin/"
	done
	cp "$repo"/bench/scenarios/*.json "$root/opt/faultline/scenarios/"
	cp "$here/faultline-lava.sh" "$here/faultline.yaml" "$root/opt/faultline/lava/"
	chmod 755 "$root/opt/faultline/bin/"* "$root/opt/faultline/lava/faultline-lava.sh"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/faultline-mkramdisk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case "$what" in
overlay)
	[ $# -eq 4 ] || usage
	out=$4
	overlay_tree "$tmp/root"
	tar -C "$tmp/root" --owner=0 --group=0 --numeric-owner -czf "$out.tmp" opt
	mv "$out.tmp" "$out"
	log "$out: $(du -h "$out" | cut -f1) (faultline, fl-slowfs, fl-report for $arch, scenarios, test definition)"
	;;
ramdisk)
	[ $# -eq 5 ] || usage
	base=$4 out=$5
	[ -s "$base" ] || { log "base ramdisk $base missing (bench/vm/mkinitramfs.sh)"; exit 3; }
	overlay_tree "$tmp/root"
	cp "$here/init" "$tmp/root/init"
	chmod 755 "$tmp/root/init"
	(cd "$tmp/root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$tmp/lava.cpio.gz"
	cat "$base" "$tmp/lava.cpio.gz" >"$out.tmp"
	mv "$out.tmp" "$out"
	log "$out: $(du -h "$out" | cut -f1) ($(basename "$base") + the LAVA segment: /init, /opt/faultline)"
	;;
*) usage ;;
esac
