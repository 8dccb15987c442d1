#!/usr/bin/env bash
# faultline's front door.  Installs what the command at hand needs (Debian
# packages, only when missing), builds, and runs.  See ./run.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD=${BUILD:-build}

usage() {
	cat <<'USAGE'
usage: ./run.sh [COMMAND] [ARGS]

  (no command) [OPTIONS]
                      install what is missing, build, run the default comparison
                      run (smoke, 3 iterations of 15 s, about a minute), print a
                      summary, the result path and the next step (the other
                      kernel, then compare); OPTIONS as for run (e.g. --label L)
  test                install, build, run every test (unit, sanitizer, system)
  run SCENARIO [OPTIONS]
                      run bench/scenarios/SCENARIO.json (or a path to a JSON file);
                      OPTIONS: --label L --duration S --warmup S --iterations N
                      --set KEY=VALUE (repeatable) --out DIR --timeout S --quiet
                      (all scenario keys: ./run.sh run --help)
                      --kernel IMAGE|NAME or --debian-kernel VERSION[:ARCH] [--arch A]:
                      boot that kernel in QEMU and run the scenario inside (docs/vm.md;
                      more VM options: build/faultline vm --help)
  ab SCENARIO --a KERNEL --b KERNEL [--iterations N] [OPTIONS]
                      run SCENARIO on kernels A and B in QEMU, interleaved A B A B,
                      and write the comparison (docs/vm.md); --until decided
                      [--max-iterations N] [--mde P%]: pairs until every headline
                      metric is significant or within +-P% (docs/report.md);
                      --arch x86_64,aarch64 [--skip-missing]: the same on each
                      arch (NAME-ARCH kernels)
                      and the headline metrics by arch (docs/kernels.md)
  bench               measure the suite's own overheads (recording cost, harness CPU)
  torture [N] [--seed S] [--targets run,vm,ab] [OPTIONS]
                      interrupt torture: N (default 100) SIGINT/SIGTERM/SIGKILL at
                      chosen moments of faultline run, faultline vm and ab, each
                      followed by a check that nothing of the suite's is left
                      (docs/security.md; every option: tests/torture.sh --help)
  calibrate [--threads N] [--size BYTES] [--pairs N] [--duration S] [--storage DIR] [--out DIR]
                      fio's mmap engine and the suite's fault role on the same file,
                      interleaved: latency percentiles and reads/s side by side; later
                      runs carry it as environment.calibration (docs/calibrate.md)
  cv [SCENARIO...] [--iterations N] [--duration S] [--vm KERNEL] [OPTIONS]
                      run-to-run noise: each scenario (default: all) N times (default 5),
                      natively or in QEMU; mean, sd and CV% of its headline metrics and
                      rates (docs/noise.md; every option: report/cv.sh --help)
  compare BASE CAND [CAND...] [OPTIONS]
                      compare result sets (files, directories or labels): text table,
                      plots, JSON, JUnit, and a gate (--fail-on metric:threshold%)
  history add RESULT|DIR... | show | plot | check [OPTIONS]
                      nightly history in SQLite (results/history.sqlite, --db PATH):
                      ingest results, list series, trend plots, change points by
                      E-divisive with a regression gate (docs/nightly.md;
                      every option: build/fl-history --help)
  scenarios [--long]  list the bundled scenarios (--long: whole descriptions)
  clean [--data] [--results] [--yes]
                      list the suite's data files (/var/tmp/faultline) and results
                      (results/); --data / --results with --yes removes them
  build               install build dependencies and build only
  kernel build [--src DIR|TARBALL|debian] [--ref REF|A..B] [--config FILE]
               [--patch FILE ...] [--arch A] --out NAME [--jobs N] [--force]
                      build a guest kernel (defconfig + the arch's guest config, or
                      your own --config, + bench/vm/kernel.config; --ref: a git ref
                      of the --src repository, your checkout untouched) into
                      build/kernels/NAME with a manifest;
                      the first build of a source takes 20-45 min on 2 cores, later
                      ones 1.5-2.5 min (incremental work tree; docs/kernels.md)
  cross [ARCH...]     install the cross toolchain and build static binaries for ARCH
                      (aarch64, riscv64; default aarch64) into build-ARCH/; riscv64
                      builds its libraries from Debian source first (docs/cross.md)
  lava job [--debian-kernel V] [--scenario S] [--duration S] [--iterations N]
           [--set K=V] [--baseline PATH] [--fail-on M:P%] [--accel A] [--out DIR]
                      run one real LAVA job here with lava-run: Debian's kernel (6.12)
                      and the suite's ramdisk on a QEMU device, bench/lava/faultline.yaml
                      as the test; prints LAVA's results (docs/lava.md)
  lava overlay [ARCH]  the overlay tarball for a LAVA device (build/lava/)
  lava results LOG | lava extract LOG [DIR]
                      LAVA's results of a job log; the suite's result JSON out of it
                      (into DIR, default results/, for ./run.sh history add)
  fuzz [SECONDS]      run every libFuzzer target for SECONDS each (default 60;
                      docs/fuzzing.md)
  --help              this text

Results go to results/ (one JSON per run, never overwritten); reports to report/out/.
Exit status: 0 ok, 1 failure, 2 bad input, 3 missing resource.
USAGE
}

log() { echo "run.sh: $*" >&2; }

# Install the Debian packages given, skipping those already installed.
need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "missing packages: ${missing[*]}; run as root or install them with apt-get"
		exit 3
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || { log "apt-get update failed"; exit 3; }
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || {
		log "apt-get install ${missing[*]} failed"; exit 3; }
}

BUILD_PACKAGES=(gcc make pkg-config libc6-dev libcgroup-dev libjansson-dev libfuse3-dev fuse3 libsqlite3-dev)
# strace: tests/sys_torture.sh holds a short phase open with its syscall delay
# fio: tests/sys_calibrate.sh (the calibration against fio); fio, stress-ng:
# tests/sys_antagonists.sh (the scenarios' antagonists)
TEST_PACKAGES=(jq gnuplot-nox strace fio stress-ng)
# libFuzzer: Debian's clang and its runtime (make fuzz, tests/sys_fuzz.sh; docs/fuzzing.md)
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

build() {
	need_packages "${BUILD_PACKAGES[@]}"
	make -s -j"$(nproc)" BUILD="$BUILD" >&2
}

# Cross build for ARCH (docs/cross.md): Debian's cross compiler, the target's
# -dev packages through multiarch, qemu-user-static to run the result.  Adds
# the foreign architecture to dpkg (a change to the machine's package
# configuration) only when it is not there yet.
cross_build() {
	local arch=$1 darch triplet
	case "$arch" in
	aarch64) darch=arm64 triplet=aarch64-linux-gnu ;;
	ppc64le) darch=ppc64el triplet=powerpc64le-linux-gnu ;;
	s390x)
		# bookworm's s390x -dev packages unpacked into build-s390x/sysroot:
		# multiarch cannot install them here (docs/cross.md)
		bench/cross/s390x-sysroot.sh || return $?
		( need_packages qemu-user-static ) || return 3
		make -s -j"$(nproc)" ARCH=s390x BUILD=build-s390x >&2 2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)
		return ;;
	riscv64)
		# no riscv64 port in Debian 12: the libraries are built from Debian's
		# source packages into build-riscv64/sysroot (once; docs/cross.md)
		bench/cross/riscv64-sysroot.sh || return $?
		( need_packages qemu-user-static ) || return 3
		make -s -j"$(nproc)" ARCH=riscv64 BUILD=build-riscv64 >&2 2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)
		return ;;
	*) log "unsupported cross arch '$arch' (supported: aarch64, riscv64, ppc64le, s390x)"; return 2 ;;
	esac
	if ! dpkg --print-foreign-architectures | grep -qx "$darch"; then
		if [ "$(id -u)" -ne 0 ]; then
			log "dpkg architecture $darch missing; run as root: dpkg --add-architecture $darch"
			return 3
		fi
		log "dpkg --add-architecture $darch"
		dpkg --add-architecture "$darch"
	fi
	( need_packages make pkg-config "gcc-$triplet" "libc6-dev-$darch-cross" qemu-user-static \
		"libcgroup-dev:$darch" "libjansson-dev:$darch" "libfuse3-dev:$darch" ) || return 3
	# the static link warns about getpwnam & co. inside libcgroup.a (unused paths)
	make -s -j"$(nproc)" ARCH="$arch" BUILD="build-$arch" >&2 2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)
}

VM_PACKAGES=(cpio e2fsprogs kmod xz-utils zstd jq file)
# LAVA's dispatcher (lava-run) and what bench/lava/lava.sh renders with (docs/lava.md)
LAVA_PACKAGES=(lava-dispatcher python3-jinja2 python3-yaml e2fsprogs)

# The VM backend (docs/vm.md).  vm_prepare ARCH KERNEL_SPEC sets VM_KERNEL,
# VM_MANIFEST and VM_INITRD: KERNEL_SPEC is debian:VERSION (Debian's packaged
# kernel), a name under build/kernels/ (./run.sh kernel build), or an image
# path (its manifest.json is used when one sits next to it).
vm_prepare() {
	local arch=$1 spec=$2 kdir="" qpkg
	case "$arch" in
	x86_64) qpkg=qemu-system-x86 ;;
	aarch64) qpkg=qemu-system-arm ;;
	ppc64le) qpkg=qemu-system-ppc ;;
	# bookworm's qemu-system-misc has qemu-system-s390x and -riscv64; riscv64
	# boots through OpenSBI, Debian's opensbi package (qemu.c: -bios)
	s390x) qpkg=qemu-system-misc ;;
	riscv64) qpkg="qemu-system-misc opensbi" ;;
	*) log "--arch $arch: the VM backend runs x86_64, aarch64, ppc64le, s390x and riscv64 guests (docs/vm.md)"; exit 2 ;;
	esac
	# shellcheck disable=SC2086
	need_packages "${VM_PACKAGES[@]}" $qpkg
	if [ "$arch" = x86_64 ]; then
		need_packages "${BUILD_PACKAGES[@]}"
		make -s -j"$(nproc)" ARCH=x86_64 BUILD=build-x86_64 "build-x86_64/faultline" "build-x86_64/fl-slowfs" >&2 \
			2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)
	else
		cross_build "$arch" || exit $?
	fi
	mkdir -p "$BUILD/vm-cache"
	VM_MANIFEST=""
	case "$spec" in
	debian:*)
		kdir=$(bench/vm/debian-kernel.sh "${spec#debian:}:$arch" "$BUILD/vm-cache") || exit $?
		VM_KERNEL=$kdir/vmlinuz VM_MANIFEST=$kdir/manifest.json ;;
	*)
		if [ -d "build/kernels/$spec" ]; then
			VM_KERNEL=$(jq -r '"build/kernels/\(.name)/\(.image)"' "build/kernels/$spec/manifest.json")
			VM_MANIFEST=build/kernels/$spec/manifest.json
			kdir=build/kernels/$spec
		elif [ -f "$spec" ]; then
			VM_KERNEL=$spec
			[ -f "$(dirname "$spec")/manifest.json" ] && VM_MANIFEST=$(dirname "$spec")/manifest.json
		else
			log "--kernel $spec: neither an image file nor a kernel built into build/kernels/"
			exit 2
		fi ;;
	esac
	VM_INITRD=$BUILD/vm-cache/initramfs-$arch-$(basename "${kdir:-nomodules}").cpio.gz
	bench/vm/mkinitramfs.sh "$arch" "build-$arch" "$BUILD/vm-cache" "$VM_INITRD" $kdir || exit $?
}

# run SCENARIO in a VM: vm_run SCENARIO ARGS...; ARGS may hold --kernel K,
# --debian-kernel V and --arch A; the rest go to `faultline vm`.
vm_run() {
	local scen=$1 arch=x86_64 arch_given="" spec="" rest=() man="" march
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) spec=${2:?--kernel needs a value}; shift 2 ;;
		--debian-kernel)
			local v=${2:?--debian-kernel needs a value}
			if [[ $v == *:* ]]; then
				case "${v##*:}" in
				arm64 | aarch64) arch=aarch64 ;;
				ppc64el | ppc64le) arch=ppc64le ;;
				s390x) arch=s390x ;;
				riscv64) arch=riscv64 ;;
				amd64 | x86_64) arch=x86_64 ;;
				*) log "--debian-kernel $v: unknown arch '${v##*:}' (amd64, arm64, ppc64el, s390x, riscv64)"; exit 2 ;;
				esac
				v=${v%:*}
			fi
			spec=debian:$v; shift 2 ;;
		--arch) arch=${2:?--arch needs a value} arch_given=1; shift 2 ;;
		*) rest+=("$1"); shift ;;
		esac
	done
	# a kernel built by ./run.sh kernel build knows its arch (manifest.json):
	# the default, and a conflicting --arch is refused
	if [ -f "build/kernels/$spec/manifest.json" ]; then
		man=build/kernels/$spec/manifest.json
	elif [ -f "$spec" ] && [ -f "$(dirname "$spec")/manifest.json" ]; then
		man=$(dirname "$spec")/manifest.json
	fi
	if [ -n "$man" ] && need_packages jq && march=$(jq -r '.arch // empty' "$man" 2>/dev/null) && [ -n "$march" ]; then
		if [ -z "$arch_given" ]; then
			arch=$march
		elif [ "$arch" != "$march" ]; then
			log "--kernel $spec: built for $march ($man), not for --arch $arch"
			exit 2
		fi
	fi
	vm_prepare "$arch" "$spec"
	# the scenario's antagonists (fio, stress-ng) ride along as one more
	# initramfs segment: the host's binaries and libraries, same arch only
	local kinds seg
	kinds=$(antagonist_kinds "$scen" "${rest[@]}")
	if [ -n "$kinds" ]; then
		kinds=$(echo "$kinds" | xargs | tr ' ' '+')
		seg=$BUILD/vm-cache/antagonists-$arch-$kinds.cpio.gz
		bench/antagonists/guest-programs.sh "$arch" "$seg" ${kinds//+/ } || exit $?
		cat "$VM_INITRD" "$seg" >"${VM_INITRD%.cpio.gz}+$kinds.cpio.gz"
		VM_INITRD=${VM_INITRD%.cpio.gz}+$kinds.cpio.gz
	fi
	mkdir -p results
	exec "$BUILD/faultline" vm --arch "$arch" --kernel "$VM_KERNEL" --initrd "$VM_INITRD" \
		${VM_MANIFEST:+--manifest "$VM_MANIFEST"} --out results "${rest[@]}" "$scen"
}

# The programs of a scenario's antagonists (docs/scenarios.md), from the file
# and from --set antagonists.NAME.kind=KIND: an antagonist's kind is its
# Debian package (fio, stress-ng).  antagonist_kinds SCENARIO ARGS... prints
# them; need_antagonists SCENARIO ARGS... installs them.
antagonist_kinds() {
	local scen=$1 kinds="" a
	shift
	for a in "$@"; do
		case "$a" in antagonists.*.kind=*) kinds="$kinds ${a#*=}" ;; esac
	done
	if grep -q '"antagonists"' "$scen"; then
		need_packages jq
		kinds="$kinds $(jq -r '(.antagonists // {}) | .[] | .kind // empty' "$scen" 2>/dev/null | tr '\n' ' ')"
	fi
	# shellcheck disable=SC2086
	# (no antagonist: grep finds nothing, which is not an error here)
	printf '%s\n' $kinds | { grep -xE 'fio|stress-ng' || true; } | sort -u | tr '\n' ' '
}
need_antagonists() {
	local kinds
	kinds=$(antagonist_kinds "$@")
	# shellcheck disable=SC2086
	[ -z "$kinds" ] || need_packages $kinds
}

scenario_path() {
	case "$1" in
	*/* | *.json) echo "$1" ;;
	*) echo "bench/scenarios/$1.json" ;;
	esac
}

# ./run.sh scenarios [--long]: names aligned; each description cut at a word
# boundary to fit 80 columns (whole and wrapped with --long).
list_scenarios() {
	local f w=0 n
	for f in bench/scenarios/*.json; do
		n=$(basename "$f" .json)
		[ ${#n} -gt $w ] && w=${#n}
	done
	for f in bench/scenarios/*.json; do
		sed -n 's/^ *"description": *"\(.*\)",*$/\1/p' "$f" | sed 's/\\"/"/g' |
			awk -v name="$(basename "$f" .json)" -v w="$w" -v long="${1:-}" '
			{
				room = (long == "--long" ? 78 : 75) - w; line = ""; out = ""; first = 1
				n = split($0, word, " ")
				for (i = 1; i <= n; i++) {
					if (line != "" && length(line) + 1 + length(word[i]) > room) {
						if (long != "--long") { out = line "..."; line = ""; break }
						printf "%-" w "s  %s\n", (first ? name : ""), line; first = 0; line = ""
					}
					line = line == "" ? word[i] : line " " word[i]
				}
				if (long != "--long") printf "%-" w "s  %s\n", name, (out != "" ? out : line)
				else printf "%-" w "s  %s\n", (first ? name : ""), line
			}'
	done
}

# After the default run: what to do next (the other kernel, then compare).
next_step() {
	local label="" a
	while [ $# -gt 0 ]; do
		a=$1; shift
		case "$a" in
		--label) label=${1:-}; shift ;;
		--label=*) label=${a#--label=} ;;
		esac
	done
	[ -n "$label" ] || label=$(uname -r)
	cat <<NEXT
next: boot the kernel to compare with (another release, or this one patched) and run
      ./run.sh again there: its label defaults to that kernel's release (or add
      --label NAME); then compare the two labels, here or anywhere the results/ files are:
        ./run.sh compare $label OTHER_LABEL
      (two kernels in QEMU instead of a reboot: ./run.sh ab smoke --a K1 --b K2 --iterations 3;
      the walkthrough: README.md, "The first hour")
NEXT
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
"" | -*)
	# the default: smoke, 3 iterations of 15 s, so that two such runs can be
	# compared (Welch's test needs >= 2 iterations a side); options as for run
	case "$cmd" in -h | --help) usage; exit 0 ;; -*) set -- "$cmd" "$@" ;; esac
	build
	mkdir -p results
	log "running smoke, 3 iterations of 15 s (about a minute); progress below"
	rc=0
	"$BUILD/faultline" run bench/scenarios/smoke.json --out results --iterations 3 --duration 15 "$@" || rc=$?
	[ "$rc" -eq 0 ] && next_step "$@"
	exit "$rc"
	;;
run)
	if [ $# -eq 0 ]; then
		echo "usage: ./run.sh run SCENARIO [--label L] [--duration S] [--iterations N] [--set KEY=VALUE ...]" >&2
		echo "                    [--out DIR] [--kernel IMAGE|NAME | --debian-kernel VERSION[:ARCH]]" >&2
		echo "scenarios: $(for f in bench/scenarios/*.json; do printf '%s ' "$(basename "$f" .json)"; done)" >&2
		echo "every option and scenario key: ./run.sh run --help" >&2
		exit 2
	fi
	if [ "$1" = --help ] || [ "$1" = -h ]; then
		build
		"$BUILD/faultline" run --help
		exit 0
	fi
	scen=$(scenario_path "$1"); shift
	build
	# a missing scenario: the runner says so, with the closest name, and exits 2
	[ -f "$scen" ] || exec "$BUILD/faultline" run "$scen"
	need_antagonists "$scen" "$@"
	case " $* " in
	*" --kernel "* | *" --debian-kernel "*) vm_run "$scen" "$@" ;;
	esac
	mkdir -p results
	exec "$BUILD/faultline" run "$scen" --out results "$@"
	;;
ab)
	# ./run.sh ab SCENARIO --a KERNEL --b KERNEL [--iterations N | --until decided
	#             [--max-iterations N] [--mde P%]] [vm options]
	build
	exec bench/vm/ab.sh "$@"
	;;
test)
	need_packages "${TEST_PACKAGES[@]}" "${VM_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}" qemu-system-x86
	build
	# cross build for tests/sys_cross.sh (qemu-user); without it that test skips
	t0=$SECONDS
	cross_build aarch64 || log "aarch64 cross build unavailable; tests/sys_cross.sh will skip it"
	log "aarch64 cross setup and build: $((SECONDS - t0)) s"
	t0=$SECONDS
	cross_build riscv64 || log "riscv64 cross build unavailable; tests/sys_cross.sh will skip it"
	log "riscv64 sysroot and cross build: $((SECONDS - t0)) s"
	make -s BUILD="$BUILD" test
	;;
calibrate)
	# ./run.sh calibrate [OPTIONS]: fio against the suite (docs/calibrate.md)
	case " $* " in *" --help "* | *" -h "*) exec bench/calibrate/calibrate.sh --help ;; esac
	need_packages fio jq util-linux
	build
	FAULTLINE=$BUILD/faultline exec bench/calibrate/calibrate.sh "$@"
	;;
torture)
	# ./run.sh torture [N] [OPTIONS] (tests/torture.sh; docs/security.md)
	need_packages jq strace "${VM_PACKAGES[@]}" qemu-system-x86
	build
	exec tests/torture.sh "$@"
	;;
bench)
	need_packages jq
	build
	make -s BUILD="$BUILD" bench
	;;
cv)
	# ./run.sh cv [SCENARIO...] [OPTIONS]: the CV of each headline metric (docs/noise.md)
	need_packages jq
	build
	exec report/cv.sh "$@"
	;;
compare)
	need_packages gnuplot-nox
	build
	exec "$BUILD/fl-report" "$@"
	;;
history)
	# ./run.sh history add|show|plot|check ... (docs/nightly.md)
	[ "${1:-}" = plot ] && need_packages gnuplot-nox
	build
	mkdir -p results
	exec "$BUILD/fl-history" "$@"
	;;
scenarios)
	case "${1:-}" in
	"" | --long) list_scenarios "${1:-}" ;;
	*) log "scenarios: unknown option '$1' (--long)"; exit 2 ;;
	esac
	;;
clean)
	exec bench/storage/clean.sh "$@"
	;;
build)
	build
	;;
install-packages)
	# internal: used by the suite's own scripts (bench/vm/*.sh) so that every
	# package is installed by one function
	need_packages "$@"
	;;
kernel)
	# ./run.sh kernel build --src DIR [--patch FILE ...] [--arch A] --out NAME
	exec bench/vm/kernel-build.sh "$@"
	;;
cross)
	[ $# -eq 0 ] && set -- aarch64
	for a in "$@"; do
		cross_build "$a" || exit $?
		log "built build-$a/ (static, $a)"
	done
	;;
lava)
	# ./run.sh lava job|overlay|results|extract ... (docs/lava.md)
	sub=${1:-}
	[ $# -gt 0 ] && shift
	case "$sub" in
	job)
		need_packages "${LAVA_PACKAGES[@]}"
		build
		lkv=6.12 largs=()
		while [ $# -gt 0 ]; do
			case "$1" in
			--debian-kernel) lkv=${2:?--debian-kernel needs a value}; shift 2 ;;
			*) largs+=("$1"); shift ;;
			esac
		done
		vm_prepare x86_64 "debian:$lkv"
		make -s ARCH=x86_64 BUILD=build-x86_64 build-x86_64/fl-report >&2 \
			2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)
		exec bench/lava/lava.sh job --kernel "$VM_KERNEL" --kernel-name "$(jq -r .kernel_release "$VM_MANIFEST")" \
			--base-initrd "$VM_INITRD" --bin build-x86_64 --appliance-kernel "$(jq -r .package "$VM_MANIFEST")" \
			--faultline "$BUILD/faultline" --cache "$BUILD/vm-cache" \
			--out "$BUILD/lava/job-$(date -u +%Y%m%dT%H%M%S)-$$" "${largs[@]}"
		;;
	overlay)
		la=${1:-x86_64}
		if [ "$la" = x86_64 ]; then
			need_packages "${BUILD_PACKAGES[@]}" file
			make -s -j"$(nproc)" ARCH=x86_64 BUILD=build-x86_64 build-x86_64/faultline build-x86_64/fl-slowfs \
				build-x86_64/fl-report >&2 2> >(grep -v -e 'statically linked applications' -e 'in function' >&2)
		else
			cross_build "$la" || exit $?
		fi
		mkdir -p build/lava
		exec bench/lava/mkramdisk.sh overlay "$la" "build-$la" "build/lava/faultline-overlay-$la.tar.gz"
		;;
	results)
		need_packages python3-yaml
		exec bench/lava/lava.sh results "$@"
		;;
	extract)
		need_packages python3-yaml
		[ $# -eq 1 ] && set -- "$1" results
		exec bench/lava/lava.sh extract "$@"
		;;
	*)
		log "lava: unknown subcommand '$sub' (job, overlay, results, extract)"
		exit 2
		;;
	esac
	;;
fuzz)
	# ./run.sh fuzz [SECONDS]: every libFuzzer target for SECONDS (default 60)
	need_packages "${BUILD_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
	make -s BUILD="$BUILD" FUZZ_TIME="${1:-60}" fuzz
	;;
-h | --help | help)
	usage
	;;
*)
	log "unknown command '$cmd'"
	usage >&2
	exit 2
	;;
esac
