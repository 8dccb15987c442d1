#!/usr/bin/env bash
# Fetch one of Debian's packaged kernels for the VM backend and prepare it:
#   bench/vm/debian-kernel.sh VERSION[:ARCH] CACHE_DIR
# VERSION is a Debian kernel ABI ("6.12.117+deb12-cloud-amd64"), or a series
# ("6.12"), which picks the newest ABI of that series in the apt lists with the
# arch's default flavour (amd64: cloud-amd64, arm64: cloud-arm64, ppc64el:
# powerpc64le, s390x: s390x, riscv64: riscv64).  ARCH is x86_64|amd64
# (default), aarch64|arm64, ppc64le|ppc64el, s390x or riscv64.  riscv64 and
# s390x come from trixie through the private apt of bench/cross/foreign-apt.sh
# (Debian 12 has no riscv64 port, and this mirror's bookworm-security, where
# bookworm's 6.12 kernels are, has no s390x); ppc64el needs that dpkg
# architecture (added by ./run.sh cross ppc64le).  Prints the directory that holds:
#   vmlinuz         the image as packaged (/boot/vmlinuz-* or, on ppc64el and
#                   riscv64, /boot/vmlinux-*; the name is kept for every arch)
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
x86_64 | amd64) arch=x86_64 darch=amd64 flavour=cloud-amd64 ;;
aarch64 | arm64) arch=aarch64 darch=arm64 flavour=cloud-arm64 ;;
ppc64le | ppc64el) arch=ppc64le darch=ppc64el flavour=powerpc64le ;;
s390x) arch=s390x darch=s390x flavour=s390x ;;
riscv64) arch=riscv64 darch=riscv64 flavour=riscv64 ;;
esac
case "$darch" in riscv64 | s390x) fsuite=trixie ;; *) fsuite="" ;;
*) log "--debian-kernel $spec: unsupported arch '$arch' (x86_64/amd64, aarch64/arm64, ppc64le/ppc64el, s390x, riscv64)"; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
# riscv64, s390x: trixie's packages through a private apt
fapt() { "$here/../cross/foreign-apt.sh" "$darch" "$fsuite" "$cache/apt-$darch-$fsuite" "$@"; }
# the modules the suite's guest needs, transports first; those a kernel has
# built in are skipped (modprobe says "builtin").  Debian's amd64 and arm64
# cloud kernels build in all but virtio_blk, zram and fuse; trixie's riscv64
# kernel has ext4 as a module, s390x its virtio transport (virtio_ccw)
MODULES=(virtio_pci virtio_ccw virtio_console virtio_blk ext4 zram fuse)

if [[ "$version" =~ ^[0-9]+\.[0-9]+$ ]]; then
	pat="^linux-image-${version//./\\.}\\.[0-9]+\\+deb[0-9]+-$flavour\$"
	if [ -n "$fsuite" ]; then
		cands=$(fapt search "$pat" | sort -rV) || exit 3
	else
		cands=$(apt-cache search --names-only "$pat" | awk '{print $1}' | sort -rV)
	fi
	if [ -z "$cands" ] && [ -z "$fsuite" ] && [ "$(id -u)" -eq 0 ]; then
		log "no $pat in the apt lists; apt-get update"
		apt-get update -q >/dev/null 2>&1 || true
		cands=$(apt-cache search --names-only "$pat" | awk '{print $1}' | sort -rV)
	fi
	if [ -z "$cands" ]; then
		log "--debian-kernel $spec: no package matching $pat in the apt lists (apt-get update?)"
		exit 3
	fi
elif [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+\+[a-z0-9.+-]+$ ]]; then
	cands=linux-image-$version
else
	log "--debian-kernel $spec: VERSION must be a series like 6.12 or an ABI like 6.12.117+deb12-cloud-amd64"
	exit 2
fi
tmp=$(mktemp -d "$cache/.debian-kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# newest first; an ABI the index lists but the mirror does not serve (404:
# trixie's s390x 6.12.117 here) gives way to the next one of the series
deb=""
for pkg in $cands; do
	abi=${pkg#linux-image-}
	dir=$cache/debian-kernels/$abi-$darch
	if [ -f "$dir/manifest.json" ]; then
		echo "$dir"
		exit 0
	fi
	log "downloading $pkg:$darch"
	if [ -n "$fsuite" ]; then
		(cd "$tmp" && fapt download "$pkg" 2>"$tmp/apt.err")
	else
		(cd "$tmp" && apt-get download -q "$pkg:$darch" >/dev/null 2>"$tmp/apt.err")
	fi && { deb=$(ls "$tmp"/*.deb); break; }
	grep -h '^E:' "$tmp/apt.err" >&2 || cat "$tmp/apt.err" >&2
	log "apt-get download $pkg:$darch failed${fsuite:+ (trixie)}"
done
[ -n "$deb" ] || { log "--debian-kernel $spec: no package of $(echo $cands | wc -w) could be downloaded"; exit 3; }
dpkg-deb -x "$deb" "$tmp/root"
img=$(ls "$tmp"/root/boot/vmlinuz-* "$tmp"/root/boot/vmlinux-* 2>/dev/null | head -n 1 || true)
[ -n "$img" ] || { log "$pkg: no /boot/vmlinuz-* or /boot/vmlinux-* in the package"; exit 3; }
kver=${img##*/vmlinu?-}
mkdir -p "$tmp/out/modules"
cp "$img" "$tmp/out/vmlinuz"
cp "$tmp/root/boot/config-$kver" "$tmp/out/config"
# bookworm's packages have /lib/modules, trixie's (merged /usr) /usr/lib/modules
mbase=$tmp/root
[ -d "$mbase/lib/modules/$kver" ] || mbase=$tmp/root/usr
depmod -b "$mbase" "$kver"
: >"$tmp/out/modules.list"
for m in "${MODULES[@]}"; do
	# "insmod /path/x.ko.xz" lines, dependencies first; built-ins print "builtin x"
	# (a module this arch does not have, e.g. virtio_ccw off s390x, prints nothing)
	{ modprobe -d "$mbase" -S "$kver" --show-depends "$m" 2>/dev/null || true; } | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		rel=${path#"$mbase/lib/modules/$kver/"}
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
	--arg image_sha256 "$(sha256sum "$tmp/out/vmlinuz" | cut -d' ' -f1)" --arg packaged_image "${img#"$tmp/root/"}" \
	--arg modules "$(tr '\n' ' ' <"$tmp/out/modules.list")" \
	'{name: $package, source: "debian", package: $package, version: $version, arch: $arch,
	  debian_arch: $debian_arch, kernel_release: $kernel_release, deb_sha256: $deb_sha256,
	  image: "vmlinuz", packaged_image: $packaged_image, image_sha256: $image_sha256, modules: ($modules | split(" ") | map(select(. != "")))}' \
	>"$tmp/out/manifest.json"
mkdir -p "$(dirname "$dir")"
mv "$tmp/out" "$dir"
log "prepared $dir (modules: $(tr '\n' ' ' <"$dir/modules.list"))"
echo "$dir"
