#!/usr/bin/env bash
# Matrix A/B: one scenario, kernels A and B, on several architectures
# (docs/kernels.md, "Matrix A/B"):
#   ./run.sh ab SCENARIO --a NAME --b NAME --arch x86_64,aarch64[,...]
#               [--base-kernel ARCH=KERNEL ...] [--cand-kernel ARCH=KERNEL ...]
#               [--skip-missing] [--out DIR] [other ab options...]
# On each arch, kernel NAME is build/kernels/NAME when its manifest is for
# that arch, else build/kernels/NAME-ARCH (stock-6.12 on x86_64,
# stock-6.12-aarch64 on aarch64); debian:VERSION is Debian's kernel of each
# arch; --base-kernel / --cand-kernel ARCH=KERNEL name one arch's kernel
# outright (a name under build/kernels/, an image path or debian:VERSION).
# Every arch's kernels are looked up before anything boots: a missing one
# stops the matrix (exit 3) with the command that builds it; with
# --skip-missing the other arches run and the summary names the skipped.
# Each arch is an ordinary A/B (bench/vm/ab.sh; the other options go to it)
# into DIR/ARCH/ (a, b, report); then fl-report compares every arch at once
# into DIR/report/ and prints the headline metrics by arch: per metric and
# arch base, cand, change and mark (compare-arch.txt, .csv, .json there).
# FL_KERNELS_DIR (environment) replaces build/kernels, as for kernel build.
# Exit: 0 ok, 1 a run or a report failed, 2 bad input, 3 a kernel missing,
# 4 an arch's A/B undecided (--until decided) and none failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { echo "ab: $*" >&2; }
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" >&2; }
# where ./run.sh kernel build puts kernels (FL_KERNELS_DIR as for it)
KERNELS=${FL_KERNELS_DIR:-build/kernels}
# each arch's A/B; tests/sys_matrix.sh sets FL_AB_ONE to a stand-in that
# copies recorded results instead of booting QEMU
AB_ONE=${FL_AB_ONE:-bench/vm/ab.sh}
# ... run from its text as read now: bash reads a script while it runs it,
# so an edit of ab.sh during an hours-long matrix (a git pull) would break
# the arch that is running, or start the next arch on another version
AB_TEXT=$(cat "$AB_ONE") || { log "cannot read $AB_ONE"; exit 3; }

# arch names as the VM backend spells them (run.sh vm_prepare)
matrix_arch() {
	case "$1" in
	x86_64 | amd64) echo x86_64 ;;
	aarch64 | arm64) echo aarch64 ;;
	riscv64) echo riscv64 ;;
	ppc64le | ppc64el) echo ppc64le ;;
	s390x) echo s390x ;;
	*) return 1 ;;
	esac
}

# The arch of a kernel built into build/kernels/NAME (its manifest; the
# builds before manifests had an arch were all x86_64).
matrix_manifest_arch() {
	jq -r '.arch // "x86_64"' "$KERNELS/$1/manifest.json" 2>/dev/null
}

# The arches ./run.sh kernel build knows: the cases of its arch table.
matrix_buildable() {
	sed -n '/^arch_table()/,/^}/p' bench/vm/kernel-build.sh | sed -n 's/^\t\([a-z0-9_]*\))$/\1/p' | tr '\n' ' '
}

# The command that builds kernel NAME for ARCH, after the build of REF (the
# same kernel on another arch, when there is one): its source, ref and
# patches.  Printed to stderr.
matrix_build_hint() {
	local name=$1 arch=$2 ref=$3 man cmd p gone=""
	if [[ " $(matrix_buildable)" != *" $arch "* ]]; then
		log "  ./run.sh kernel build does not build $arch kernels yet (it builds: $(matrix_buildable| sed 's/ $//'));"
		log "  an image built elsewhere works: --${4}-kernel $arch=/path/to/Image"
		return 0
	fi
	cmd="./run.sh kernel build --src debian"
	man=$KERNELS/$ref/manifest.json
	if [ -n "$ref" ] && [ -f "$man" ]; then
		case "$(jq -r '.source.kind' "$man")" in
		debian) ;;
		*) cmd="./run.sh kernel build --src $(printf '%q' "$(jq -r '.source.path' "$man")")" ;;
		esac
		if [ "$(jq -r '.source.git.ref // empty' "$man")" != "" ]; then
			cmd+=" --ref $(printf '%q' "$(jq -r '.source.git.ref' "$man")")"
		fi
		if [ "$(jq -r '.source.base_config.path // empty' "$man")" != "" ]; then
			cmd+=" --config YOUR-$arch-CONFIG"
		fi
		while IFS= read -r p; do
			[ -n "$p" ] || continue
			cmd+=" --patch $(printf '%q' "$p")"
			[ -f "$p" ] || gone+=" $p"
		done < <(jq -r '.patches[]?.file | select(startswith("git:") | not)' "$man")
	fi
	log "  $cmd --arch $arch --out $name"
	if [ -n "$ref" ] && [ -f "$man" ]; then
		log "  (source and patches as $KERNELS/$ref, built for $(matrix_manifest_arch "$ref"))"
	fi
	if [ -n "$gone" ]; then
		log "  (gone from there now:$gone; $KERNELS/$ref/patches/ holds the copies applied)"
	fi
}

# matrix_kernel SIDE ARCH SPEC EXPLICIT: the kernel of one side on one arch
# into $KERNEL; 3 if it is missing, 2 if it is for another arch (after a
# message).  EXPLICIT 1: SPEC came from --base-kernel / --cand-kernel and
# is taken as named, without the NAME-ARCH convention.
matrix_kernel() {
	local side=$1 arch=$2 spec=$3 explicit=$4 opt="--a" kind=base n
	[ "$side" = b ] && opt="--b" kind=cand
	KERNEL=""
	case "$spec" in
	debian:*) KERNEL=$spec; return 0 ;;
	*/*)
		[ -f "$spec" ] || { log "$arch: $kind kernel $spec: no such image file"; return 3; }
		n=$(jq -r '.arch // empty' "$(dirname "$spec")/manifest.json" 2>/dev/null || true)
		if [ -n "$n" ] && [ "$n" != "$arch" ]; then
			log "$arch: $kind kernel $spec is built for $n (its manifest.json); name the $arch one with --$kind-kernel $arch=KERNEL"
			return 2
		fi
		KERNEL=$spec; return 0 ;;
	esac
	if [ "$explicit" = 0 ] && [ -d "$KERNELS/$spec" ] && [ "$(matrix_manifest_arch "$spec")" = "$arch" ]; then
		KERNEL=$spec; return 0
	fi
	n=$spec
	[ "$explicit" = 1 ] || n=$spec-$arch
	if [ -d "$KERNELS/$n" ]; then
		if [ "$(matrix_manifest_arch "$n")" != "$arch" ]; then
			log "$arch: $kind kernel $KERNELS/$n is built for $(matrix_manifest_arch "$n") (its manifest.json), not $arch"
			return 2
		fi
		KERNEL=$n; return 0
	fi
	MISSING_NAME=$n
	if [ "$explicit" = 1 ]; then
		log "$arch: $kind kernel $n (--$kind-kernel $arch=$n) is missing: no $KERNELS/$n; build it with:"
	else
		log "$arch: $kind kernel $n is missing ($opt $spec on $arch: no $KERNELS/$n$([ -d "$KERNELS/$spec" ] &&
			echo ", and $KERNELS/$spec is for $(matrix_manifest_arch "$spec")")); build it with:"
	fi
	matrix_build_hint "$n" "$arch" "$([ -d "$KERNELS/$spec" ] && echo "$spec")" "$kind"
	return 3
}

scen="" a="" b="" out="" skip=0 archlist="" rest=()
declare -A MAP_A=() MAP_B=()
matrix_map() { # SIDE ARCH=KERNEL
	local arch
	[[ "$2" == *=?* ]] || { log "--$1-kernel '$2': expected ARCH=KERNEL, e.g. aarch64=stock-6.12-aarch64"; exit 2; }
	arch=$(matrix_arch "${2%%=*}") || { log "--$1-kernel '$2': unknown arch '${2%%=*}' (x86_64, aarch64, riscv64, ppc64le, s390x)"; exit 2; }
	if [ "$1" = base ]; then MAP_A[$arch]=${2#*=}; else MAP_B[$arch]=${2#*=}; fi
}
while [ $# -gt 0 ]; do
	case "$1" in
	--a) a=${2:-}; shift 2 || { usage; exit 2; } ;;
	--b) b=${2:-}; shift 2 || { usage; exit 2; } ;;
	--arch) archlist=${2:-}; shift 2 || { usage; exit 2; } ;;
	--base-kernel) matrix_map base "${2:-}"; shift 2 ;;
	--cand-kernel) matrix_map cand "${2:-}"; shift 2 ;;
	--skip-missing) skip=1; shift ;;
	--out) out=${2:-}; shift 2 || { usage; exit 2; } ;;
	--help | -h) usage; exit 0 ;;
	--kernel | --debian-kernel | --label)
		log "$1: not with ab (use --a and --b; labels are the kernels' names)"; exit 2 ;;
	-*) rest+=("$1"); [ $# -ge 2 ] && [ "${2:0:2}" != -- ] && { rest+=("$2"); shift; }; shift ;;
	*) [ -z "$scen" ] || { log "one scenario only (got '$scen' and '$1')"; exit 2; }; scen=$1; shift ;;
	esac
done
[ -n "$scen" ] || { usage; exit 2; }
if [ -z "$archlist" ]; then # only --base-kernel / --cand-kernel: their arches
	archlist=$(printf '%s\n' "${!MAP_A[@]}" "${!MAP_B[@]}" | grep . | sort -u | paste -sd, || true)
	[ -n "$archlist" ] || archlist=x86_64
fi
ARCHES=()
IFS=, read -r -a parts <<<"$archlist"
[[ "$archlist" != *,,* && "$archlist" != ,* && "$archlist" != *, ]] ||
	{ log "--arch '$archlist': an empty arch in the list"; exit 2; }
for p in "${parts[@]}"; do
	arch=$(matrix_arch "$p") || { log "--arch '$archlist': unknown arch '$p' (x86_64, aarch64, riscv64, ppc64le, s390x)"; exit 2; }
	[[ " ${ARCHES[*]-} " != *" $arch "* ]] || { log "--arch '$archlist': $arch twice"; exit 2; }
	ARCHES+=("$arch")
done
for arch in "${!MAP_A[@]}" "${!MAP_B[@]}"; do
	[[ " ${ARCHES[*]} " == *" $arch "* ]] ||
		{ log "--base-kernel/--cand-kernel name $arch, which --arch '$archlist' lacks"; exit 2; }
done

# every arch's kernels, before anything boots
declare -A KA=() KB=() MISSING=()
RUN=() SKIPPED=() missing=0
for arch in "${ARCHES[@]}"; do
	ok=1
	for side in a b; do
		if [ $side = a ]; then spec=${MAP_A[$arch]:-$a} ex=${MAP_A[$arch]:+1}; else spec=${MAP_B[$arch]:-$b} ex=${MAP_B[$arch]:+1}; fi
		if [ -z "$spec" ]; then
			log "$arch: no $([ $side = a ] && echo base || echo cand) kernel: give --$side NAME or --$([ $side = a ] && echo base || echo cand)-kernel $arch=KERNEL"
			exit 2
		fi
		rc=0
		matrix_kernel "$side" "$arch" "$spec" "${ex:-0}" || rc=$?
		[ "$rc" -ne 2 ] || exit 2
		if [ "$rc" -ne 0 ]; then ok=0 MISSING[$arch]+="${MISSING[$arch]:+, }$MISSING_NAME"; continue; fi
		# a kernel outside build/kernels/ goes to ab as its image path
		if [ "$KERNELS" != build/kernels ] && [ -d "$KERNELS/$KERNEL" ]; then
			KERNEL=$KERNELS/$KERNEL/$(jq -r .image "$KERNELS/$KERNEL/manifest.json")
		fi
		if [ $side = a ]; then KA[$arch]=$KERNEL; else KB[$arch]=$KERNEL; fi
	done
	if [ "$ok" = 1 ]; then RUN+=("$arch"); else SKIPPED+=("$arch"); missing=1; fi
done
if [ "$missing" = 1 ] && [ "$skip" = 0 ]; then
	log "not started: a kernel is missing on ${SKIPPED[*]} (above); --skip-missing runs the other arches"
	exit 3
fi
if [ ${#RUN[@]} -eq 0 ]; then
	log "nothing to run: every arch lacks a kernel (above)"
	exit 3
fi
[ ${#SKIPPED[@]} -eq 0 ] || log "skipping ${SKIPPED[*]} (a kernel is missing, above); running ${RUN[*]}"

name_of() { # a label for a kernel spec, as ab.sh makes it
	case "$1" in
	debian:*) echo "debian-${1#debian:}" ;;
	*/*) basename "$(dirname "$1")" ;;
	*) echo "$1" ;;
	esac
}
tag=$(IFS=+; echo "${ARCHES[*]}")
out=${out:-results/ab-$scen-$(name_of "${a:-base}")-vs-$(name_of "${b:-cand}")-$tag-$(date -u +%Y%m%dT%H%M%S)}
if [ -e "$out" ]; then
	log "--out $out exists; not overwriting earlier results"
	exit 2
fi
mkdir -p "$out"

child=0
trap 'log "interrupted"; [ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 130' INT TERM
NOTES=() LA=() LB=() failed=0 undecided=0
for arch in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do
	NOTES+=("skipped: $arch, no kernel ${MISSING[$arch]} in $KERNELS/")
done
i=0
for arch in "${RUN[@]}"; do
	i=$((i + 1))
	log "arch $i/${#RUN[@]}: $arch, ${KA[$arch]} (a) against ${KB[$arch]} (b) into $out/$arch"
	rc=0
	FL_AB_INNER=1 bash -c "$AB_TEXT" "$AB_ONE" "$scen" --a "${KA[$arch]}" --b "${KB[$arch]}" --arch "$arch" --out "$out/$arch" \
		"${rest[@]}" &
	child=$!
	wait "$child" || rc=$?
	child=0
	[ "$rc" -ne 2 ] || { log "$arch: bad input (above); stopping"; exit 2; }
	if [ "$rc" -eq 4 ]; then # ab --until decided: some headline metric undecided
		undecided=1 NOTES+=("$arch: undecided after the most iterations (ab exit 4): see $out/$arch/report")
	elif [ "$rc" -ne 0 ]; then
		failed=1 NOTES+=("$arch: the A/B failed (exit $rc): see $out/$arch")
	fi
	if ls "$out/$arch/a/"*.json >/dev/null 2>&1 && ls "$out/$arch/b/"*.json >/dev/null 2>&1; then
		LA+=("$arch/a") LB+=("$arch/b")
	else
		NOTES+=("left out: $arch (no result on one side)")
	fi
done
if [ ${#LA[@]} -eq 0 ]; then
	log "no arch has results on both sides; no summary"
	exit 1
fi
note_args=()
for n in "${NOTES[@]+"${NOTES[@]}"}"; do note_args+=(--note "$n"); done
log "summary of ${#LA[@]} arch(es) into $out/report"
rc=0
# from the matrix directory: the tables name x86_64/a, not the whole path
report=$(realpath "${BUILD:-build}/fl-report")
(cd "$out" && "$report" "$(IFS=,; echo "${LA[*]}")" "$(IFS=,; echo "${LB[*]}")" --out report \
	--no-plots --format arch-summary "${note_args[@]+"${note_args[@]}"}") || rc=$?
log "per arch: $(for arch in "${RUN[@]}"; do printf '%s ' "$out/$arch/report"; done)"
log "summary: $out/report/compare-arch.txt (.csv, .json); every arch in one table: $out/report/compare.txt"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] || exit 1
[ "$undecided" -eq 0 ] || exit 4
