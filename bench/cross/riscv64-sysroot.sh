#!/usr/bin/env bash
# Build the riscv64 sysroot that `make ARCH=riscv64` links against
# (docs/cross.md): static libcgroup, jansson and libfuse3 for riscv64, built
# from Debian's source packages with Debian's cross compiler, because Debian 12
# has no riscv64 port (no libcgroup-dev:riscv64 & co.).
#
#   bench/cross/riscv64-sysroot.sh [SYSROOT]     (default build-riscv64/sysroot)
#
# Result: SYSROOT/usr/include, SYSROOT/usr/lib/lib{cgroup,jansson,fuse3}.a,
# SYSROOT/usr/lib/pkgconfig/*.pc (prefix=/usr, used with PKG_CONFIG_SYSROOT_DIR)
# and SYSROOT/VERSIONS (source packages, files and their SHA-256).
#
# Idempotent: does nothing when SYSROOT/VERSIONS exists with this recipe.
# Atomic: builds in a temporary directory next to SYSROOT and renames it at the
# end; a failure or Ctrl-C leaves no SYSROOT behind (nor a half-made one).
# Packages come through `./run.sh install-packages`.  The sources come through
# `apt-get source` with a private apt configuration (its own deb-src list and
# index in the temporary directory): the machine's apt sources are not changed.
#
# libcgroup: bookworm's libcgroup 2.0.2-2 is used when its files can be
# fetched.  Where they cannot (the mirror here answers 404 for its
# orig.tar.gz and debian.tar.xz, only the .dsc is served), the upstream
# tarball of trixie's libcgroup 3.1.0 (Debian's orig.tar.gz, checked by apt
# against trixie's signed Sources index) is built instead; VERSIONS says which.
# Exit status: 0 ok, 1 build failure, 3 missing resource (packages, sources).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RECIPE=2
SYSROOT=${1:-build-riscv64/sysroot}
case "$SYSROOT" in /*) ;; *) SYSROOT=$ROOT/$SYSROOT ;; esac
TRIPLET=riscv64-linux-gnu
PACKAGES=(gcc-$TRIPLET libc6-dev-riscv64-cross binutils-$TRIPLET make cmake meson ninja-build
	pkg-config dpkg-dev flex bison xz-utils)

log() { echo "riscv64-sysroot: $*" >&2; }

complete() {
	[ -f "$SYSROOT/VERSIONS" ] && grep -qx "recipe $RECIPE" "$SYSROOT/VERSIONS" || return 1
	local f
	for f in usr/lib/libcgroup.a usr/lib/libjansson.a usr/lib/libfuse3.a usr/include/libcgroup.h \
		usr/include/jansson.h usr/include/fuse3/fuse.h usr/lib/pkgconfig/libcgroup.pc \
		usr/lib/pkgconfig/jansson.pc usr/lib/pkgconfig/fuse3.pc; do
		[ -e "$SYSROOT/$f" ] || return 1
	done
}

if complete; then
	log "$SYSROOT is complete ($(grep -c '^source ' "$SYSROOT/VERSIONS") source packages); nothing to do"
	exit 0
fi

mkdir -p "$(dirname "$SYSROOT")"
# one builder at a time (two `./run.sh cross riscv64` at once)
exec 9>"$(dirname "$SYSROOT")/.sysroot.lock"
flock 9
if complete; then log "$SYSROOT was completed meanwhile"; exit 0; fi

t0=$SECONDS
./run.sh install-packages "${PACKAGES[@]}" || exit 3

work=""
cleanup() { [ -z "$work" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'log "interrupted; nothing kept"; exit 130' INT
trap 'log "terminated; nothing kept"; exit 143' TERM
work=$(mktemp -d "$(dirname "$SYSROOT")/.sysroot-tmp.XXXXXX")
stage=$work/root
mkdir -p "$stage" "$work/src" "$work/dl" "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
JOBS=$(nproc)

# run CMD... with its output in $work/LOGNAME.log; on failure show its tail
run_logged() {
	local name=$1; shift
	if ! "$@" >>"$work/$name.log" 2>&1; then
		log "$name failed: $*"
		tail -n 25 "$work/$name.log" >&2
		exit 1
	fi
}

# --- sources (private apt configuration: deb-src for bookworm and trixie) ---
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$work/apt/sources.list" <<EOF
deb-src [signed-by=$KEYRING] http://deb.debian.org/debian bookworm bookworm-updates main
deb-src [signed-by=$KEYRING] http://deb.debian.org/debian-security bookworm-security main
deb-src [signed-by=$KEYRING] http://deb.debian.org/debian trixie main
EOF
APT=(apt-get -q -o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o Debug::NoLocking=1
	-o APT::Sandbox::User=root)
log "[1/5] apt-get update of a private deb-src index (bookworm, trixie; about 20 MB)"
"${APT[@]}" update >"$work/apt.log" 2>&1 || { tail -n 15 "$work/apt.log" >&2; log "apt-get update (deb-src) failed"; exit 3; }

VERSIONS=$work/VERSIONS
{
	echo "# riscv64 sysroot for faultline, built by bench/cross/riscv64-sysroot.sh"
	echo "recipe $RECIPE"
	echo "compiler $($TRIPLET-gcc --version | head -1)"
	echo "libc $(dpkg-query -W -f='libc6-dev-riscv64-cross ${Version}' libc6-dev-riscv64-cross)"
} >"$VERSIONS"

# fetch PKG/SUITE [--tar-only]: download into $work/dl, record the files
fetch() {
	local spec=$1 uris ver; shift
	ver=$(cd "$work/dl" && "${APT[@]}" source --print-uris "$spec" 2>/dev/null |
		sed -n "s/^'[^']*\/[^_/]*_\([^']*\)\.dsc'.*/\1/p") || return 1
	uris=$(cd "$work/dl" && "${APT[@]}" source --print-uris "$@" "$spec" 2>/dev/null | grep "^'") || return 1
	(cd "$work/dl" && "${APT[@]}" source --download-only "$@" "$spec") >>"$work/fetch.log" 2>&1 || return 1
	echo "source ${spec%/*} $ver (${spec#*/}${*:+, orig tarball only: no Debian patches})" >>"$VERSIONS"
	awk '{ print "  file " $2 " " $4 " " $1 }' <<<"$uris" | tr -d "'" >>"$VERSIONS"
}

log "[2/5] apt-get source jansson/bookworm fuse3/bookworm libcgroup/bookworm"
fetch jansson/bookworm || { tail -n 5 "$work/fetch.log" >&2; log "cannot fetch jansson's source"; exit 3; }
fetch fuse3/bookworm || { tail -n 5 "$work/fetch.log" >&2; log "cannot fetch fuse3's source"; exit 3; }
cgsrc=""
if fetch libcgroup/bookworm; then
	cgsrc=bookworm
else
	grep -h '^E:' "$work/fetch.log" | sed 's/^/  /' >&2 || true
	log "bookworm's libcgroup 2.0.2-2 source is not fully reachable; using trixie's libcgroup upstream tarball (orig.tar.gz, checksum checked by apt)"
	rm -f "$work"/dl/libcgroup_*
	fetch libcgroup/trixie --tar-only || { tail -n 5 "$work/fetch.log" >&2; log "cannot fetch libcgroup's source"; exit 3; }
	cgsrc=trixie-orig
fi
cd "$work/src"
for dsc in "$work"/dl/jansson_*.dsc "$work"/dl/fuse3_*.dsc; do
	run_logged unpack dpkg-source --no-check -x "$dsc"    # apt has checked every file's SHA-256
done
if [ "$cgsrc" = bookworm ]; then
	run_logged unpack dpkg-source --no-check -x "$work"/dl/libcgroup_*.dsc
else
	run_logged unpack tar -xzf "$work"/dl/libcgroup_*.orig.tar.gz
fi
srcdir() { local d; d=$(ls -d "$work/src/$1"-*/ | head -1); echo "${d%/}"; }

export CC=$TRIPLET-gcc AR=$TRIPLET-ar RANLIB=$TRIPLET-ranlib STRIP=$TRIPLET-strip
export CFLAGS="-O2 -g" PKG_CONFIG_LIBDIR=$stage/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage

# --- jansson (cmake, as Debian builds it) ---
log "[3/5] jansson: cmake, static, no docs/tests/examples"
src=$(srcdir jansson)
run_logged jansson cmake -S "$src" -B "$work/b-jansson" -DCMAKE_SYSTEM_NAME=Linux \
	-DCMAKE_SYSTEM_PROCESSOR=riscv64 -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_INSTALL_PREFIX=/usr -DJANSSON_BUILD_SHARED_LIBS=OFF \
	-DJANSSON_BUILD_DOCS=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_EXAMPLES=OFF
run_logged jansson make -C "$work/b-jansson" -j"$JOBS"
run_logged jansson make -C "$work/b-jansson" install DESTDIR="$stage"

# --- libfuse3 (meson cross file; the library and its headers only) ---
log "[4/5] libfuse3: meson, static, no utils/examples/tests"
src=$(srcdir fuse3)
cat >"$work/riscv64.cross" <<EOF
[binaries]
c = '$TRIPLET-gcc'
ar = '$TRIPLET-ar'
strip = '$TRIPLET-strip'
pkgconfig = 'pkg-config'

[host_machine]
system = 'linux'
cpu_family = 'riscv64'
cpu = 'riscv64'
endian = 'little'
EOF
run_logged fuse3 meson setup "$work/b-fuse3" "$src" --cross-file "$work/riscv64.cross" \
	--prefix=/usr --libdir=lib --buildtype=release -Ddefault_library=static \
	-Dutils=false -Dexamples=false -Dtests=false -Duseroot=false -Dinitscriptdir=
run_logged fuse3 ninja -C "$work/b-fuse3" -j "$JOBS"
run_logged fuse3 env DESTDIR="$stage" meson install -C "$work/b-fuse3" --no-rebuild

# --- libcgroup (autotools; the library only) ---
log "[5/5] libcgroup: configure --disable-{shared,pam,systemd,daemon,tools,tests,samples}"
src=$(srcdir libcgroup)
mkdir -p "$work/b-libcgroup"
cd "$work/b-libcgroup"
run_logged libcgroup "$src/configure" --host=$TRIPLET --build="$(dpkg-architecture -qDEB_BUILD_GNU_TYPE)" \
	--prefix=/usr --libdir=/usr/lib --disable-shared --enable-static --disable-pam --disable-systemd \
	--disable-daemon --disable-tools --disable-tests --disable-samples --disable-python \
	--disable-initscript-install
run_logged libcgroup make -j"$JOBS"
run_logged libcgroup make install DESTDIR="$stage"
# libcgroup 3.x: libcgroup.h includes libcgroup/systemd.h, which
# --disable-systemd leaves out (declarations only; the library has the stubs)
if [ -f "$src/include/libcgroup/systemd.h" ] && [ ! -e "$stage/usr/include/libcgroup/systemd.h" ]; then
	install -m 644 "$src/include/libcgroup/systemd.h" "$stage/usr/include/libcgroup/"
fi
cd "$work"

# keep only what a static link needs
rm -rf "$stage/usr/bin" "$stage/usr/sbin" "$stage/usr/share" "$stage/usr/lib/cmake" "$stage/etc"
find "$stage" -name '*.la' -delete
mv "$VERSIONS" "$stage/VERSIONS"
for f in usr/lib/libcgroup.a usr/lib/libjansson.a usr/lib/libfuse3.a usr/lib/pkgconfig/libcgroup.pc \
	usr/lib/pkgconfig/jansson.pc usr/lib/pkgconfig/fuse3.pc; do
	[ -e "$stage/$f" ] || { log "build finished but $f is missing"; exit 1; }
done

# atomic switch: the new tree replaces any old or other-recipe one
if [ -e "$SYSROOT" ]; then mv "$SYSROOT" "$work/old"; fi
mv "$stage" "$SYSROOT"
log "done in $((SECONDS - t0)) s: $SYSROOT ($(grep '^source' "$SYSROOT/VERSIONS" | cut -d' ' -f2,3 | paste -sd, -))"
