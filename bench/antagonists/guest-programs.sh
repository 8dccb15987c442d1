#!/usr/bin/env bash
# The antagonists' programs for the VM backend's guest, as one more
# initramfs segment:
#   bench/antagonists/guest-programs.sh ARCH OUT.cpio.gz PROGRAM...
# Debian's fio and stress-ng are linked dynamically: each PROGRAM (on PATH
# here) goes to /bin of the segment with every library ldd names, at the
# same paths, and the dynamic loader.  The kernel unpacks concatenated
# segments in order, so `cat BASE.cpio.gz OUT.cpio.gz` is an initramfs with
# them (run.sh does that when a scenario run in QEMU has antagonists).
# Only for a guest of the host's own architecture (the host's binaries);
# another ARCH exits 3.  They live in the guest's RAM (the rootfs): fio
# with its libraries is about 85 MB, stress-ng 33 MB; docs/scenarios.md.
set -euo pipefail
log() { echo "guest-programs: $*" >&2; }
[ $# -ge 3 ] || { echo "usage: $0 ARCH OUT.cpio.gz PROGRAM..." >&2; exit 2; }
arch=$1 out=$2
shift 2
if [ "$arch" != "$(uname -m)" ]; then
	log "$* for an $arch guest: only the host's own architecture ($(uname -m)) is supported (its binaries are copied)"
	exit 3
fi
root=$(mktemp -d "${TMPDIR:-/tmp}/faultline-guest-programs.$$.XXXXXX")
trap 'rm -rf "$root" "$out.tmp-$$"' EXIT
mkdir -p "$root/bin"
for p in "$@"; do
	path=$(command -v "$p") || { log "$p is not installed here (Debian package $p)"; exit 3; }
	cp -L "$path" "$root/bin/$p"
	# "libx.so => /lib/.../libx.so (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
	ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
	done
done
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$out.tmp-$$"
mv "$out.tmp-$$" "$out"
log "$out: $(du -h "$out" | cut -f1) ($*, with $(find "$root" -name '*.so*' | wc -l) libraries)"
