#!/usr/bin/env bash
# Fetch one of Debian's packaged kernels for the VM backend and prepare it:
#   bench/vm/debian-kernel.sh VERSION[:ARCH] CACHE_DIR
# VERSION is a Debian kernel ABI ("6.12.117+deb12-cloud-amd64"), or a series
# ("6.12"), which picks the newest ABI of that series in the apt lists with the
# arch's default flavour (amd64: cloud-amd64, arm64: cloud-arm64).  ARCH is
# x86_64|amd64 (default) or aarch64|arm64.  Prints the directory that holds:
#   vmlinuz         the image as packaged
#   modules/        the modules the guest needs, decompressed (.ko)
#   modules.list    those modules in load order (paths relative to modules/)
#   manifest.json   package, version, sha256 of the .deb and of the image
# Downloads with `apt-get download` (no install; the machine's kernel is not
# touched).  Exit 2 on a bad VERSION/ARCH, 3 when the package is not found.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
log() { echo "debian-kernel: $*" >&2; }
[ $# -eq 2 ] || { echo "usage: $0 VERSION[:ARCH] CACHE_DIR" >&2; exit 2; }
spec=$1
mkdir -p "$2"
cache=$(cd "$2" && pwd)
version=${spec%%:*} arch=x86_64
[ "$spec" != "$version" ] && arch=${spec#*:}
case "$arch" in
x86_64 | amd64) arch=x86_64 darch=amd64 ;;
aarch64 | arm64) arch=aarch64 darch=arm64 ;;
*) log "--debian-kernel $spec: unsupported arch '$arch' (x86_64/amd64, aarch64/arm64)"; exit 2 ;;
esac
# the modules the suite's guest needs and Debian builds as modules
# (virtio_console, ext4 and virtio_pci are built in on Debian's kernels)
MODULES=(virtio_blk zram fuse)

if [[ "$version" =~ ^[0-9]+\.[0-9]+$ ]]; then
	pat="^linux-image-${version//./\\.}\\.[0-9]+\\+deb[0-9]+-cloud-$darch\$"
	pkg=$(apt-cache search --names-only "$pat" | awk '{print $1}' | sort -V | tail -n 1)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		log "no $pat in the apt lists; apt-get update"
		apt-get update -q >/dev/null 2>&1 || true
		pkg=$(apt-cache search --names-only "$pat" | awk '{print $1}' | sort -V | tail -n 1)
	fi
	if [ -z "$pkg" ]; then
		log "--debian-kernel $spec: no package matching $pat in the apt lists (apt-get update?)"
		exit 3
	fi
elif [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+\+[a-z0-9.+-]+$ ]]; then
	pkg=linux-image-$version
else
	log "--debian-kernel $spec: VERSION must be a series like 6.12 or an ABI like 6.12.117+deb12-cloud-amd64"
	exit 2
fi
abi=${pkg#linux-image-}
dir=$cache/debian-kernels/$abi-$darch
if [ -f "$dir/manifest.json" ]; then
	echo "$dir"
	exit 0
fi
tmp=$(mktemp -d "$cache/.debian-kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "downloading $pkg:$darch"
(cd "$tmp" && apt-get download -q "$pkg:$darch" >/dev/null 2>"$tmp/apt.err") || {
	cat "$tmp/apt.err" >&2
	log "--debian-kernel $spec: apt-get download $pkg:$darch failed"
	exit 3
}
deb=$(ls "$tmp"/*.deb)
dpkg-deb -x "$deb" "$tmp/root"
img=$(ls "$tmp"/root/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$img" ] || { log "$pkg: no /boot/vmlinuz-* in the package"; exit 3; }
kver=${img##*/vmlinuz-}
mkdir -p "$tmp/out/modules"
cp "$img" "$tmp/out/vmlinuz"
cp "$tmp/root/boot/config-$kver" "$tmp/out/config"
depmod -b "$tmp/root" "$kver"
: >"$tmp/out/modules.list"
for m in "${MODULES[@]}"; do
	# "insmod /path/x.ko.xz" lines, dependencies first; built-ins print "builtin x"
	modprobe -d "$tmp/root" -S "$kver" --show-depends "$m" 2>/dev/null | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		rel=${path#"$tmp/root/lib/modules/$kver/"}
		rel=${rel%.xz}
		rel=${rel%.zst}
		grep -qx "$rel" "$tmp/out/modules.list" && continue
		mkdir -p "$tmp/out/modules/$(dirname "$rel")"
		case "$path" in
		*.xz) xz -dc "$path" >"$tmp/out/modules/$rel" ;;
		*.zst) zstd -qdc "$path" >"$tmp/out/modules/$rel" ;;
		*) cp "$path" "$tmp/out/modules/$rel" ;;
		esac
		echo "$rel" >>"$tmp/out/modules.list"
	done
done
jq -n --arg package "$pkg" --arg arch "$arch" --arg debian_arch "$darch" --arg kernel_release "$kver" \
	--arg version "$(dpkg-deb -f "$deb" Version)" --arg deb_sha256 "$(sha256sum "$deb" | cut -d' ' -f1)" \
	--arg image_sha256 "$(sha256sum "$tmp/out/vmlinuz" | cut -d' ' -f1)" \
	--arg modules "$(tr '\n' ' ' <"$tmp/out/modules.list")" \
	'{name: $package, source: "debian", package: $package, version: $version, arch: $arch,
	  debian_arch: $debian_arch, kernel_release: $kernel_release, deb_sha256: $deb_sha256,
	  image: "vmlinuz", image_sha256: $image_sha256, modules: ($modules | split(" ") | map(select(. != "")))}' \
	>"$tmp/out/manifest.json"
mkdir -p "$(dirname "$dir")"
mv "$tmp/out" "$dir"
log "prepared $dir (modules: $(tr '\n' ' ' <"$dir/modules.list"))"
echo "$dir"
