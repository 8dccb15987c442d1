#!/usr/bin/env bash
# Build a guest kernel for the VM backend (docs/kernels.md):
#   ./run.sh kernel build [--src DIR|TARBALL|debian] [--ref REF|A..B]
#                         [--config FILE] [--patch FILE ...]
#                         [--arch x86_64|aarch64|riscv64] --out NAME [--jobs N] [--force]
# Config: make defconfig (or the user's --config) + the arch's guest config +
# bench/vm/kernel.config, checked option by option.  --ref exports a commit
# of a git repository with `git archive` (the user's checkout is untouched);
# A..B exports A and applies the commits A..B as patches (git format-patch),
# so A and A..B share one incremental work tree.  Output: build/kernels/NAME/{IMAGE,config,
# manifest.json,kernel.config,patches/}.  Builds are incremental: one work tree
# per (source, arch) under build/kernels/work/, with a hard-link copy of the
# pristine source refreshed before every build and a reused O= object dir.
# Exit status: 0 ok, 1 build failure, 2 bad arguments, 3 missing resource,
# 129/130/143 interrupted (SIGHUP/SIGINT/SIGTERM; SIGKILL takes the build along too).
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KROOT=${FL_KERNELS_DIR:-$ROOT/build/kernels}
FRAGMENT=$ROOT/bench/vm/kernel.config
DEBIAN_PKG=linux-source-6.12
T0=$(date +%s)

# fd 8: the caller's stderr, also inside functions whose stderr goes to a log
exec 8>&2
log() { echo "kernel-build: [+$(($(date +%s) - T0))s] $*" >&8; }
die() { local rc=$1; shift; echo "kernel-build: $*" >&8; exit "$rc"; }

usage() {
	cat <<'USAGE'
usage: ./run.sh kernel build [--src DIR|TARBALL|debian] [--ref REF|A..B] [--config FILE]
                             [--patch FILE ...] [--arch x86_64|aarch64|riscv64] --out NAME
                             [--jobs N] [--force]

  --src S      kernel source: a source tree DIR, a TARBALL (.tar, .tar.gz, .tar.xz,
               .tar.bz2, .tgz), or `debian` (default): Debian's linux-source-6.12
               package, installed if missing and unpacked once
  --ref R      with --src DIR, a git repository: build commit R (a tag, branch or
               hash) exported with `git archive`, never touching your checkout or
               its .config; A..B builds B as A plus the commits A..B applied as
               patches (git format-patch), sharing A's work tree (incremental)
  --config F   your own .config as the base instead of defconfig; the arch's guest
               config and bench/vm/kernel.config are merged on top and every
               option of the fragment is checked
  --patch F    apply F with `patch -p1` (repeatable, applied in order)
  --arch A     x86_64 (default), aarch64 or riscv64 (cross-compiled on x86_64)
  --out NAME   output build/kernels/NAME/ ([A-Za-z0-9._+-], not starting with '.')
  --jobs N     make -jN (default: nproc); make runs under nice -n 10
  --force      replace an existing build/kernels/NAME
  --help       this text

Config: make defconfig (or --config FILE), the arch's guest config (x86_64:
kvm_guest.config, aarch64: virt.config, riscv64: none, the SoC platforms
off), bench/vm/kernel.config merged with
merge_config.sh, make olddefconfig; every option of the fragment is checked.
Output: NAME/<image> (bzImage or Image), NAME/config, NAME/manifest.json,
NAME/kernel.config, NAME/patches/.
Exit status: 0 ok, 1 build failure, 2 bad arguments, 3 missing resource.
USAGE
}

# ---- arch table: kernel ARCH, cross prefix, make target, image path and name,
# guest config target, arch-specific options checked like the fragment
arch_table() {
	case "$1" in
	x86_64)
		KARCH=x86 CROSS= TARGET=bzImage IMAGE_PATH=arch/x86/boot/bzImage IMAGE=bzImage
		GUEST_CONFIG=kvm_guest.config CROSS_PKG=
		ARCH_OPTS=(CONFIG_SERIAL_8250=y CONFIG_SERIAL_8250_CONSOLE=y)
		;;
	aarch64)
		KARCH=arm64 CROSS=aarch64-linux-gnu- TARGET=Image IMAGE_PATH=arch/arm64/boot/Image
		IMAGE=Image GUEST_CONFIG=virt.config CROSS_PKG=gcc-aarch64-linux-gnu
		ARCH_OPTS=(CONFIG_SERIAL_AMBA_PL011=y CONFIG_SERIAL_AMBA_PL011_CONSOLE=y)
		;;
	riscv64)
		# no virt.config for riscv: defconfig with QEMU's virt platform only
		# (the SoC platforms and their drivers off, a shorter build); the
		# console is virt's 16550 UART, found through the device tree
		KARCH=riscv CROSS=riscv64-linux-gnu- TARGET=Image IMAGE_PATH=arch/riscv/boot/Image
		IMAGE=Image GUEST_CONFIG= CROSS_PKG=gcc-riscv64-linux-gnu
		ARCH_OPTS=(CONFIG_ARCH_VIRT=y CONFIG_SERIAL_8250=y CONFIG_SERIAL_8250_CONSOLE=y CONFIG_SERIAL_OF_PLATFORM=y
			"# CONFIG_ARCH_MICROCHIP is not set" "# CONFIG_ARCH_RENESAS is not set"
			"# CONFIG_ARCH_SIFIVE is not set" "# CONFIG_ARCH_SOPHGO is not set" "# CONFIG_SOC_STARFIVE is not set"
			"# CONFIG_ARCH_SUNXI is not set" "# CONFIG_ARCH_THEAD is not set" "# CONFIG_ARCH_CANAAN is not set")
		;;
	*) return 1 ;;
	esac
	# native build on a matching host
	case "$(uname -m)" in
	"$1") CROSS= CROSS_PKG= ;;
	esac
	return 0
}

# ---- arguments
[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in
build) shift ;;
-h | --help | help) usage; exit 0 ;;
*) die 2 "unknown subcommand '$1' (only: build; see ./run.sh kernel --help)" ;;
esac

SRC=debian ARCH=x86_64 NAME= JOBS=$(nproc) FORCE=0 REF= BASECONFIG=
PATCHES=()
need_val() { [ $# -ge 2 ] && [ -n "$2" ] || die 2 "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--src) need_val "$@"; SRC=$2; shift 2 ;;
	--patch) need_val "$@"; PATCHES+=("$2"); shift 2 ;;
	--ref) need_val "$@"; REF=$2; shift 2 ;;
	--config) need_val "$@"; BASECONFIG=$2; shift 2 ;;
	--arch) need_val "$@"; ARCH=$2; shift 2 ;;
	--out) need_val "$@"; NAME=$2; shift 2 ;;
	--jobs) need_val "$@"; JOBS=$2; shift 2 ;;
	--force) FORCE=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die 2 "unknown option '$1' (see --help)" ;;
	esac
done

case "$ARCH" in amd64) ARCH=x86_64 ;; arm64) ARCH=aarch64 ;; riscv) ARCH=riscv64 ;; esac
arch_table "$ARCH" || die 2 "--arch '$ARCH': unsupported (x86_64, aarch64, riscv64)"
[ -n "$NAME" ] || die 2 "--out NAME is required"
[[ "$NAME" =~ ^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$ ]] ||
	die 2 "--out '$NAME': use letters, digits and . _ + - only, not starting with '.'"
[ ${#NAME} -le 64 ] || die 2 "--out '$NAME': longer than 64 characters"
[[ "$JOBS" =~ ^[1-9][0-9]{0,3}$ ]] || die 2 "--jobs '$JOBS': not a positive integer"
for p in ${PATCHES[@]+"${PATCHES[@]}"}; do
	[ -f "$p" ] && [ -r "$p" ] || die 2 "--patch '$p': no such readable file"
done
if [ -n "$BASECONFIG" ]; then
	[ -f "$BASECONFIG" ] && [ -r "$BASECONFIG" ] || die 2 "--config '$BASECONFIG': no such readable file"
	grep -qE '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)' "$BASECONFIG" ||
		die 2 "--config '$BASECONFIG': not a kernel .config (no CONFIG_ lines)"
	# another arch's config: its marker option is set
	for m in x86_64:CONFIG_X86_64 aarch64:CONFIG_ARM64 riscv64:CONFIG_RISCV; do
		[ "${m%%:*}" != "$ARCH" ] && grep -q "^${m#*:}=y" "$BASECONFIG" &&
			die 2 "--config '$BASECONFIG': a config for ${m%%:*} (${m#*:}=y), not for --arch $ARCH"
	done
fi
GIT_REPO= GIT_BASE= GIT_TIP= GIT_RANGE=
if [ -n "$REF" ]; then
	[ "$SRC" != debian ] && [ -d "$SRC" ] ||
		die 2 "--ref '$REF': needs --src DIR, a git repository of the kernel (got --src '$SRC')"
	command -v git >/dev/null || die 3 "--ref '$REF': git is not installed (apt-get install git)"
	GIT_REPO=$(git -C "$SRC" rev-parse --absolute-git-dir 2>/dev/null) ||
		die 2 "--ref '$REF': --src '$SRC' is not a git repository"
	resolve() { git -C "$SRC" rev-parse --verify --quiet "$1^{commit}" ||
		die 2 "--ref '$REF': '$1' is not a commit of $SRC"; }
	case "$REF" in
	*...*) die 2 "--ref '$REF': use A..B (two dots: the commits of B not in A)" ;;
	?*..?*)
		GIT_BASE=$(resolve "${REF%%..*}") GIT_TIP=$(resolve "${REF#*..}") GIT_RANGE=$REF
		git -C "$SRC" merge-base --is-ancestor "$GIT_BASE" "$GIT_TIP" ||
			die 2 "--ref '$REF': ${REF%%..*} is not an ancestor of ${REF#*..} (the commits are applied on ${REF%%..*})"
		[ "$GIT_BASE" != "$GIT_TIP" ] || die 2 "--ref '$REF': an empty range" ;;
	*..* | -*) die 2 "--ref '$REF': expected a commit or A..B" ;;
	*) GIT_BASE=$(resolve "$REF") GIT_TIP=$GIT_BASE ;;
	esac
fi
if [ "$SRC" = debian ]; then
	SRC_KIND=debian
elif [ -n "$REF" ]; then
	SRC_KIND=git
	for f in Makefile Kconfig arch; do
		git -C "$SRC" cat-file -e "$GIT_BASE:$f" 2>/dev/null ||
			die 2 "--src '$SRC': not a Linux source tree at ${REF%%..*} (no $f)"
	done
elif [ -d "$SRC" ]; then
	SRC_KIND=dir
	[ -f "$SRC/Makefile" ] && [ -d "$SRC/arch" ] && [ -f "$SRC/Kconfig" ] ||
		die 2 "--src '$SRC': not a Linux source tree (no Makefile, Kconfig, arch/)"
	[ ! -e "$SRC/.config" ] && [ ! -d "$SRC/include/config" ] ||
		die 2 "--src '$SRC': the tree is configured (.config); run 'make mrproper' in it first"
elif [ -f "$SRC" ]; then
	SRC_KIND=tarball
	case "$SRC" in
	*.tar | *.tar.gz | *.tgz | *.tar.xz | *.txz | *.tar.bz2 | *.tar.zst) ;;
	*) die 2 "--src '$SRC': not a tarball (.tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .tar.zst)" ;;
	esac
else
	die 2 "--src '$SRC': neither 'debian', a directory nor a tarball"
fi
OUT=$KROOT/$NAME
if [ -e "$OUT" ] && [ "$FORCE" -eq 0 ]; then
	die 2 "--out '$NAME': $OUT exists (use --force to replace it)"
fi
[ -f "$FRAGMENT" ] || die 3 "config fragment $FRAGMENT missing"

# absolute patch paths, and the form recorded in the manifest (relative to
# the suite when inside it); a --ref range's commits come first
PATCH_ABS=() PATCH_REC=()
if [ -n "$GIT_RANGE" ]; then
	mkdir -p "$KROOT/src"
	RANGE_DIR=$(mktemp -d "$KROOT/src/.range.XXXXXX")
	trap 'rm -rf "$RANGE_DIR"' EXIT
	git -C "$SRC" format-patch -q --no-stat --no-renames --no-signature -o "$RANGE_DIR" "$GIT_BASE..$GIT_TIP" >/dev/null ||
		die 1 "--ref '$REF': git format-patch failed"
	for a in "$RANGE_DIR"/*.patch; do
		[ -f "$a" ] || die 2 "--ref '$REF': no commits to apply (merges only?)"
		PATCH_ABS+=("$a")
		PATCH_REC+=("git:$(sed -n '1s/^From \([0-9a-f]*\) .*/\1/p' "$a" | cut -c1-12) $(basename "$a")")
	done
fi
for p in ${PATCHES[@]+"${PATCHES[@]}"}; do
	a=$(realpath "$p")
	PATCH_ABS+=("$a")
	case "$a" in "$ROOT"/*) PATCH_REC+=("${a#"$ROOT"/}") ;; *) PATCH_REC+=("$a") ;; esac
done

# ---- signals: the one child we run in the background (make, tar, cp) is in
# its own process group; on SIGINT/SIGTERM/SIGHUP kill that group, remove
# partial output, exit non-zero.  A SIGKILL of this script, which no trap
# sees, reaches the group too: see run()
CHILD= TMPOUT= LOCKED_WORK=
cleanup() {
	[ -n "$TMPOUT" ] && rm -rf "$TMPOUT"
	[ -n "${RANGE_DIR:-}" ] && rm -rf "$RANGE_DIR"
	return 0
}
on_signal() {
	local sig=$1
	trap '' INT TERM HUP
	if [ -n "$CHILD" ]; then
		log "interrupted (SIG$sig): stopping process group $CHILD"
		kill -TERM -- "-$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	else
		log "interrupted (SIG$sig)"
	fi
	cleanup
	log "removed the partial output; $NAME was not built"
	case "$sig" in INT) exit 130 ;; HUP) exit 129 ;; esac
	exit 143
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap cleanup EXIT

# run "$@" in its own process group (setsid), nice'd, and wait for it.  The
# group's leader is a small shell that gets SIGTERM when this script dies,
# however it dies (PR_SET_PDEATHSIG, setpriv), and then ends the whole group:
# make, its sub-makes and their compilers.  A build left running after its
# script was killed went on for the rest of the session.
run() {
	local rc=0
	# The group's own session is a new autogroup (CONFIG_SCHED_AUTOGROUP),
	# and the scheduler shares the CPUs between autogroups first: nice 10
	# inside it would not yield to anything in another session, such as a
	# benchmark running beside the build.  So the autogroup gets nice 10 too.
	# shellcheck disable=SC2016
	setpriv --pdeathsig TERM setsid bash -c \
		'echo 10 2>/dev/null >/proc/self/autogroup; trap "trap - TERM; kill -TERM -- -\$\$ 2>/dev/null; exit 143" TERM; "$@" & wait $!' \
		kernel-build-group nice -n 10 "$@" </dev/null &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=
	return $rc
}

# ---- packages
PKGS=(gcc make bc bison flex libssl-dev libelf-dev jq xz-utils cpio patch perl)
[ -n "$CROSS_PKG" ] && PKGS+=("$CROSS_PKG")
[ "$SRC_KIND" = debian ] && PKGS+=("$DEBIAN_PKG")
if [ -n "${FAULTLINE_TEST_KB_NO_PACKAGES:-}" ]; then # tests/test_kernel_build.sh: a stand-in tree, no compiler
	log "packages not checked (FAULTLINE_TEST_KB_NO_PACKAGES)"
else
	log "checking packages"
	"$ROOT/run.sh" install-packages "${PKGS[@]}" || exit 3
fi

mkdir -p "$KROOT/src" "$KROOT/work"
KROOT=$(cd "$KROOT" && pwd)
OUT=$KROOT/$NAME

# ---- pristine source
DEB_VERSION=
unpack() { # TARBALL DEST: unpack once into DEST (the tarball's single top dir)
	local tb=$1 dest=$2 tmp top
	tmp=$(mktemp -d "$KROOT/src/.unpack.XXXXXX")
	TMPOUT=$tmp
	log "unpacking $tb"
	run tar -xf "$tb" -C "$tmp" || die 1 "unpacking $tb failed"
	top=$(find "$tmp" -mindepth 1 -maxdepth 1)
	if [ "$(printf '%s\n' "$top" | wc -l)" -ne 1 ] || [ ! -d "$top" ]; then
		top=$tmp
		mv "$tmp" "$tmp.top" && mkdir "$tmp" && mv "$tmp.top" "$tmp/top" && top=$tmp/top
	fi
	[ -f "$top/Makefile" ] && [ -d "$top/arch" ] || die 1 "$tb: not a Linux source tarball"
	rm -rf "$dest"
	mv "$top" "$dest"
	rm -rf "$tmp"
	TMPOUT=
}
case "$SRC_KIND" in
debian)
	DEB_VERSION=$(dpkg-query -W -f='${Version}' "$DEBIAN_PKG")
	SRCNAME=$DEBIAN_PKG
	PRISTINE=$KROOT/src/$SRCNAME
	stamp=$KROOT/src/$SRCNAME.version
	if [ ! -d "$PRISTINE" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$DEB_VERSION" ]; then
		rm -f "$stamp"
		unpack "/usr/src/$DEBIAN_PKG.tar.xz" "$PRISTINE"
		echo "$DEB_VERSION" >"$stamp"
	fi
	SRC_REC=/usr/src/$DEBIAN_PKG.tar.xz
	;;
tarball)
	tb=$(realpath "$SRC")
	sum=$(sha256sum "$tb" | cut -c1-12)
	base=$(basename "$tb")
	base=${base%.t*z*}; base=${base%.tar}
	SRCNAME=$base-$sum
	PRISTINE=$KROOT/src/$SRCNAME
	[ -d "$PRISTINE" ] || unpack "$tb" "$PRISTINE"
	SRC_REC=$tb
	;;
git)
	# the commit's tree, exported once (git archive: the checkout is not touched)
	SRCNAME=$(basename "$(realpath "$SRC")")-$(cut -c1-12 <<<"$GIT_BASE")
	PRISTINE=$KROOT/src/$SRCNAME
	if [ ! -d "$PRISTINE" ]; then
		tmp=$(mktemp -d "$KROOT/src/.export.XXXXXX")
		TMPOUT=$tmp
		log "exporting ${REF%%..*} ($GIT_BASE) from $SRC with git archive"
		git -C "$SRC" archive --format=tar "$GIT_BASE" | tar -x -C "$tmp" || die 1 "git archive $GIT_BASE failed"
		mv "$tmp" "$PRISTINE"
		TMPOUT=
	fi
	SRC_REC=$(realpath "$SRC")
	;;
dir)
	PRISTINE=$(realpath "$SRC")
	SRCNAME=$(basename "$PRISTINE")-$(printf '%s' "$PRISTINE" | sha256sum | cut -c1-8)
	SRC_REC=$PRISTINE
	;;
esac

# ---- work tree (one per source and arch), locked against concurrent builds
WORK=$KROOT/work/$SRCNAME-$ARCH
mkdir -p "$WORK/obj"
exec 9>"$WORK/lock"
flock -n 9 || die 3 "another kernel build is using $WORK"

# Files the patches of earlier builds touched: after the refresh they must
# get a fresh mtime (they are reverted to pristine content, older than their
# objects).  The list is cleared only after a successful build, so an
# interrupted build cannot leave patched objects behind.
TOUCHED=$WORK/patched-files
log "refreshing $WORK/src (hard-link copy of $PRISTINE)"
rm -rf "$WORK/src.old" "$WORK/src.new"
[ -d "$WORK/src" ] && mv "$WORK/src" "$WORK/src.old"
run rm -rf "$WORK/src.old"
if ! run cp -al "$PRISTINE" "$WORK/src.new" 2>/dev/null; then
	rm -rf "$WORK/src.new"
	log "hard links impossible (another filesystem?): copying"
	run cp -a "$PRISTINE" "$WORK/src.new"
fi
mv "$WORK/src.new" "$WORK/src"
S=$WORK/src O=$WORK/obj
reverted=0
if [ -s "$TOUCHED" ]; then
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		if [ -f "$PRISTINE/$f" ]; then
			# a private copy with a fresh mtime; the pristine inode is untouched
			rm -f "$S/$f"
			cp "$PRISTINE/$f" "$S/$f"
			reverted=$((reverted + 1))
		fi
	done <"$TOUCHED"
	log "reverted $reverted file(s) patched by an earlier build (fresh mtime)"
fi

# ---- patches
: >"$WORK/patched-now"
rm -rf "$WORK/applied" && mkdir "$WORK/applied"
PATCH_SHA=()
for i in ${PATCH_ABS[@]+"${!PATCH_ABS[@]}"}; do
	# the bytes applied are the bytes hashed and copied to the output
	p=$WORK/applied/$(printf '%02d' "$i")-$(basename "${PATCH_ABS[$i]}")
	cp "${PATCH_ABS[$i]}" "$p"
	PATCH_SHA+=("$(sha256sum "$p" | cut -d' ' -f1)")
	log "applying ${PATCH_REC[$i]}"
	(cd "$S" && patch -p1 --forward --batch --no-backup-if-mismatch -r - -i "$p") \
		>"$WORK/patch.log" 2>&1 || {
		cat "$WORK/patch.log" >&2
		die 1 "--patch '${PATCH_REC[$i]}' does not apply to $SRC_REC"
	}
	sed -n "s/^patching file '\{0,1\}\([^']*\)'\{0,1\}$/\1/p" "$WORK/patch.log" >>"$WORK/patched-now"
done
# remember every file patched now or before, until a build succeeds
touch "$TOUCHED"
sort -u "$WORK/patched-now" "$TOUCHED" >"$TOUCHED.tmp"
mv "$TOUCHED.tmp" "$TOUCHED"
# GNU patch must have replaced the files (new inode), never written through
# the hard link into the pristine tree
while IFS= read -r f; do
	[ -f "$S/$f" ] && [ -f "$PRISTINE/$f" ] || continue
	if [ "$(stat -c %i "$S/$f")" = "$(stat -c %i "$PRISTINE/$f")" ]; then
		die 1 "patching $f wrote through the hard link into $PRISTINE; remove it and rebuild"
	fi
done <"$WORK/patched-now"

# A file whose content is what the last build (finished or interrupted)
# compiled gets that build's mtime back, so make rebuilds only what that
# build did not finish: resuming an interrupted patched build, or building
# the same patch again, does not recompile everything behind a patched
# header.  src-state ("sha256 mtime path" per touched file) is written just
# before make starts.  Only private copies are touched, never a pristine
# inode.
STATE=$WORK/src-state
restored=0
if [ -s "$STATE" ]; then
	while read -r st_sha st_mtime st_f; do
		[ -n "$st_f" ] && [ -f "$S/$st_f" ] && grep -qxF -- "$st_f" "$TOUCHED" || continue
		if [ -f "$PRISTINE/$st_f" ] && [ "$(stat -c %i "$S/$st_f")" = "$(stat -c %i "$PRISTINE/$st_f")" ]; then
			continue
		fi
		[ "$(sha256sum <"$S/$st_f" | cut -d' ' -f1)" = "$st_sha" ] || continue
		touch -d "@$st_mtime" "$S/$st_f" && restored=$((restored + 1))
	done <"$STATE"
	[ "$restored" -eq 0 ] || log "$restored file(s) have the content the last build compiled: its mtime kept"
fi
write_state() {
	local f
	while IFS= read -r f; do
		[ -n "$f" ] && [ -f "$S/$f" ] || continue
		printf '%s %s %s\n' "$(sha256sum <"$S/$f" | cut -d' ' -f1)" "$(stat -c %.9Y "$S/$f")" "$f"
	done <"$TOUCHED" >"$STATE.tmp"
	mv "$STATE.tmp" "$STATE"
}

# ---- config
MAKE=(make -C "$S" O="$O" ARCH="$KARCH" -j"$JOBS")
[ -n "$CROSS" ] && MAKE+=(CROSS_COMPILE="$CROSS")
MAKE+=(LOCALVERSION="-fl-$NAME")
log "configuring: ${BASECONFIG:-defconfig}${GUEST_CONFIG:+ + $GUEST_CONFIG} + bench/vm/kernel.config"
frag=$WORK/fragment.config
cp "$FRAGMENT" "$WORK/fragment.base"
{ cat "$WORK/fragment.base"; printf '%s\n' "${ARCH_OPTS[@]}"; } >"$frag"
base_config() { # defconfig, or the user's .config (olddefconfig for this source)
	if [ -z "$BASECONFIG" ]; then
		run "${MAKE[@]}" defconfig
		return
	fi
	cp "$BASECONFIG" "$O/.config"
	# a distribution's signing keys are not in a plain source tree
	local k
	for k in CONFIG_SYSTEM_TRUSTED_KEYS CONFIG_SYSTEM_REVOCATION_KEYS; do
		f=$(sed -n "s/^$k=\"\(.*\)\"$/\1/p" "$O/.config")
		if [ -n "$f" ] && [ ! -e "$S/$f" ]; then
			echo "kernel-build: $k=\"$f\" is not in the source: set to \"\"" >&8
			sed -i "s|^$k=.*|$k=\"\"|" "$O/.config"
		fi
	done
	run "${MAKE[@]}" olddefconfig
}
{
	base_config &&
		{ [ -z "$GUEST_CONFIG" ] || run "${MAKE[@]}" "$GUEST_CONFIG"; } &&
		(cd "$S" && run env ARCH="$KARCH" CROSS_COMPILE="$CROSS" \
			scripts/kconfig/merge_config.sh -m -O "$O" "$O/.config" "$frag") &&
		run "${MAKE[@]}" olddefconfig
} >"$WORK/config.log" 2>&1 || {
	tail -n 30 "$WORK/config.log" >&2
	die 1 "configuration failed (log: $WORK/config.log)"
}
bad=0
while IFS= read -r line; do
	if [[ "$line" =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		opt=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
		got=$(grep -E "^$opt=|^# $opt is not set" "$O/.config" || true)
		if [ "$got" != "$opt=$want" ]; then
			echo "kernel-build: $opt: requested $want, got ${got:-nothing (unknown or unmet dependency)}" >&2
			bad=1
		fi
	elif [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		opt=${BASH_REMATCH[1]}
		if grep -qE "^$opt=" "$O/.config"; then
			echo "kernel-build: $opt: requested not set, got $(grep -E "^$opt=" "$O/.config")" >&2
			bad=1
		fi
	fi
done <"$frag"
[ "$bad" -eq 0 ] || die 1 "the final .config does not honour the fragment (above); fix bench/vm/kernel.config"
log "config checked: every fragment option has its requested value"

# ---- build
log "building $TARGET (make -j$JOBS under nice -n 10, log: $WORK/build.log)"
write_state
BSTART=$(date +%s)
touch -d "@$BSTART" "$WORK/build-start"
run "${MAKE[@]}" "$TARGET" >"$WORK/build.log" 2>&1 || {
	tail -n 40 "$WORK/build.log" >&2
	die 1 "make $TARGET failed (log: $WORK/build.log)"
}
BEND=$(date +%s)
# every reverted or patched C file whose object exists must have been
# rebuilt after its content was put in place: in this build (a fresh
# mtime), or in the last one (a kept mtime, above)
while IFS= read -r f; do
	case "$f" in *.c) ;; *) continue ;; esac
	o=$O/${f%.c}.o
	[ -f "$o" ] || continue
	[ ! "$S/$f" -nt "$o" ] || die 1 "$f changed but ${o#"$O"/} was not rebuilt (stale object)"
done <"$TOUCHED"
mv "$WORK/patched-now" "$TOUCHED"
log "built in $((BEND - BSTART))s"

# ---- output: a temp dir renamed into place
TMPOUT=$(mktemp -d "$KROOT/.$NAME.tmp-XXXXXX")
cp "$O/$IMAGE_PATH" "$TMPOUT/$IMAGE"
cp "$O/.config" "$TMPOUT/config"
cp "$WORK/fragment.base" "$TMPOUT/kernel.config"
[ -z "$BASECONFIG" ] || cp "$BASECONFIG" "$TMPOUT/base.config"
if [ ${#PATCH_ABS[@]} -gt 0 ]; then
	cp -r "$WORK/applied" "$TMPOUT/patches"
fi
KVER=$(make -s -C "$S" kernelversion)
KREL=$(make -s -C "$S" O="$O" ARCH="$KARCH" LOCALVERSION="-fl-$NAME" kernelrelease 2>/dev/null || true)
sha() { sha256sum "$1" | cut -d' ' -f1; }
patches_json='[]'
for i in ${PATCH_ABS[@]+"${!PATCH_ABS[@]}"}; do
	patches_json=$(jq -c --arg f "${PATCH_REC[$i]}" --arg s "${PATCH_SHA[$i]}" \
		'. + [{file: $f, sha256: $s}]' <<<"$patches_json")
done
source_json=$(jq -n --arg path "$SRC_REC" --arg kv "$KVER" --arg deb "$DEB_VERSION" --arg kind "$SRC_KIND" \
	--arg ref "$REF" --arg base "$GIT_BASE" --arg tip "$GIT_TIP" --arg range "$GIT_RANGE" \
	--arg bc "${BASECONFIG:+$(realpath "$BASECONFIG")}" --arg bcsha "${BASECONFIG:+$(sha256sum "$BASECONFIG" | cut -d' ' -f1)}" \
	'{kind: $kind, path: $path, kernelversion: $kv}
	 + (if $deb != "" then {debian_package: "linux-source-6.12", debian_package_version: $deb} else {} end)
	 + (if $ref != "" then {git: {ref: $ref, commit: $base, tip: $tip, range: (if $range != "" then $range else null end)}} else {} end)
	 + (if $bc != "" then {base_config: {path: $bc, sha256: $bcsha}} else {} end)')
jq -n \
	--arg name "$NAME" --arg arch "$ARCH" --argjson source "$source_json" \
	--argjson patches "$patches_json" \
	--arg fsha "$(sha "$WORK/fragment.base")" --arg csha "$(sha "$TMPOUT/config")" \
	--arg image "$IMAGE" --arg isha "$(sha "$TMPOUT/$IMAGE")" \
	--arg built "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson secs "$((BEND - BSTART))" \
	--argjson total "$(($(date +%s) - T0))" \
	--arg host "$(uname -r)" --arg krel "$KREL" \
	--arg cc "$("${CROSS}gcc" --version | head -n 1)" --argjson jobs "$JOBS" \
	--argjson reverted "$reverted" \
	--arg arch_opts "$(printf '%s ' "${ARCH_OPTS[@]}")" \
	'{name: $name, arch: $arch, source: $source, patches: $patches,
	  fragment_sha256: $fsha, fragment_arch_options: ($arch_opts | rtrimstr(" ") | split(" ")),
	  config_sha256: $csha, image: $image, image_sha256: $isha,
	  kernelrelease: $krel, built_at: $built, build_seconds: $secs, total_seconds: $total,
	  jobs: $jobs, compiler: $cc, reverted_files: $reverted,
	  builder_host_kernel: $host}' >"$TMPOUT/manifest.json"
chmod 755 "$TMPOUT"
if [ -e "$OUT" ]; then
	rm -rf "$OUT.old"
	mv "$OUT" "$OUT.old"
	mv "$TMPOUT" "$OUT"
	rm -rf "$OUT.old"
else
	mv "$TMPOUT" "$OUT"
fi
TMPOUT=
log "done: $OUT/$IMAGE (kernel $KREL, make $((BEND - BSTART))s)"
echo "$OUT"
