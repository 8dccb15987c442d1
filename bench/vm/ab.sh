#!/usr/bin/env bash
# One-command A/B of two kernels in QEMU (docs/vm.md):
#   ./run.sh ab SCENARIO --a KERNEL --b KERNEL [--iterations N] [--arch A]
#               [--out DIR] [other run/vm options...]
# KERNEL: a name under build/kernels/ (./run.sh kernel build), an image path,
# or debian:VERSION (Debian's packaged kernel).  Iterations are interleaved
# A B A B ..., each a fresh guest of the same arch, accelerator and size, and
# each a result file in DIR/a or DIR/b; then the report tool compares B with
# A into DIR/report.  The accelerator is decided once, before the first
# run (--accel-probe: with --accel auto, a short probe boot under KVM), and
# every run of both sides is pinned to it (--accel-from DIR/accel.json): when
# KVM does not work here both sides run under TCG, and a KVM that fails in
# the middle fails that run rather than compare KVM with TCG.
# Several arches (--arch x86_64,aarch64) or --base-kernel/--cand-kernel
# ARCH=KERNEL, --skip-missing: the matrix A/B, this A/B on each arch and the
# headline metrics by arch (bench/vm/ab-matrix.sh --help; docs/kernels.md).
# --until decided [--max-iterations N] [--mde P%] [--spending pocock|obf]:
# a sequential A/B instead of N iterations: after each pair from the second
# on, fl-report --sequential judges every headline metric of the scenario
# (significant, equivalent within +-P%, default 10%, or undecided; a
# group-sequential design that keeps the error rates at alpha, docs/report.md
# "Sequential A/B"), and the runs stop when none is undecided or after N
# per side (default 20); the look after each pair is kept in DIR/looks/.
# Both ways say the iterations and the wall time used.  A guest that fails
# has its result moved to DIR/failed/SIDE (the comparison reads completed
# guests only).  FAULTLINE_AB_RUN replaces "./run.sh run" (tests).
# Exit: 0 ok (--until: decided), 1 a run or the report failed, 2 bad input, 4 undecided (--until)
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { echo "ab: $*" >&2; }
# the comment block above, up to the first line that is not a comment
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" >&2; }

# the matrix A/B (bench/vm/ab-matrix.sh), which runs this script per arch
# for any --arch (one arch too, so that kernel NAME means NAME-ARCH there as
# in a list), except in the matrix's own per-arch calls (FL_AB_INNER)
ab_is_matrix() {
	[ -z "${FL_AB_INNER:-}" ] || return 1
	while [ $# -gt 0 ]; do
		case "$1" in
		--base-kernel | --cand-kernel | --skip-missing | --arch) return 0 ;;
		esac
		shift
	done
	return 1
}
if ab_is_matrix "$@"; then
	exec bench/vm/ab-matrix.sh "$@"
fi

scen="" a="" b="" n=3 n_given=0 out="" rest=() until="" maxn="" mde="" spending=""
while [ $# -gt 0 ]; do
	case "$1" in
	--a) a=${2:-}; shift 2 || { usage; exit 2; } ;;
	--b) b=${2:-}; shift 2 || { usage; exit 2; } ;;
	--iterations) n=${2:-} n_given=1; shift 2 || { usage; exit 2; } ;;
	--until) until=${2:-}; shift 2 || { usage; exit 2; } ;;
	--max-iterations) maxn=${2:-}; shift 2 || { usage; exit 2; } ;;
	--mde) mde=${2:-}; shift 2 || { usage; exit 2; } ;;
	--spending) spending=${2:-}; shift 2 || { usage; exit 2; } ;;
	--out) out=${2:-}; shift 2 || { usage; exit 2; } ;;
	--help | -h) usage; exit 0 ;;
	--kernel | --debian-kernel | --label)
		log "$1: not with ab (use --a and --b; labels are the kernels' names)"; exit 2 ;;
	-*) rest+=("$1"); [ $# -ge 2 ] && [ "${2:0:2}" != -- ] && { rest+=("$2"); shift; }; shift ;;
	*) [ -z "$scen" ] || { log "one scenario only (got '$scen' and '$1')"; exit 2; }; scen=$1; shift ;;
	esac
done
[ -n "$scen" ] && [ -n "$a" ] && [ -n "$b" ] || { usage; exit 2; }
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { log "--iterations: expected a positive integer, got '$n'"; exit 2; }
if [ -n "$until" ]; then
	[ "$until" = decided ] || { log "--until: expected 'decided', got '$until'"; exit 2; }
	[ "$n_given" -eq 0 ] || { log "--iterations: not with --until decided (use --max-iterations)"; exit 2; }
	maxn=${maxn:-20}
	[[ "$maxn" =~ ^[1-9][0-9]*$ ]] && [ "$maxn" -ge 2 ] && [ "$maxn" -le 100 ] ||
		{ log "--max-iterations: expected an integer from 2 to 100, got '$maxn'"; exit 2; }
	n=$maxn
elif [ -n "$maxn$spending" ]; then
	log "--max-iterations and --spending go with --until decided"; exit 2
fi
[ -z "$mde" ] || [[ "$mde" =~ ^[0-9]+(\.[0-9]+)?%?$ && ! "$mde" =~ ^0+(\.0+)?%?$ ]] ||
	{ log "--mde: expected a percentage above 0, e.g. 10%, got '$mde'"; exit 2; }
case "$spending" in "" | pocock | obf) ;; *) log "--spending: expected pocock or obf, got '$spending'"; exit 2 ;; esac
# what runs one guest (a stand-in for tests/sys_sequential.sh)
read -ra run_cmd <<<"${FAULTLINE_AB_RUN:-./run.sh run}"
report=${BUILD:-build}/fl-report
seq_args=(--sequential --max-iterations "${maxn:-2}" ${mde:+--mde "$mde"} ${spending:+--spending "$spending"})
name_of() { # a label for a kernel spec
	case "$1" in
	debian:*) echo "debian-${1#debian:}" ;;
	*/*) basename "$(dirname "$1")" ;;
	*) echo "$1" ;;
	esac
}
la=$(name_of "$a") lb=$(name_of "$b")
[ "$la" != "$lb" ] || { la="$la-a"; lb="$lb-b"; }
out=${out:-results/ab-$scen-$la-vs-$lb-$(date -u +%Y%m%dT%H%M%S)}
if [ -e "$out" ]; then
	log "--out $out exists; not overwriting earlier results"
	exit 2
fi
mkdir -p "$out/a" "$out/b"

child=0
# each run dies with this script: SIGTERM when it ends, even by SIGKILL,
# which no trap sees (PR_SET_PDEATHSIG, kept across run.sh's exec of
# faultline vm); else the guest would run on alone (tests/torture.sh)
with_us=(setpriv --pdeathsig TERM)
trap 'log "interrupted"; [ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 130' INT TERM HUP
# one accelerator for A and B (docs/vm.md), decided with A's kernel and
# the options every run gets
t0=$SECONDS
"${with_us[@]}" "${run_cmd[@]}" "$scen" --kernel "$a" --quiet --accel-probe "$out/accel.json" "${rest[@]}" >"$out/accel.log" 2>&1 &
child=$!
rc=0
wait "$child" || rc=$?
child=0
if [ "$rc" -ne 0 ]; then
	log "deciding the accelerator failed (exit $rc): see $out/accel.log"
	[ "$rc" -eq 2 ] && exit 2
	exit 1
fi
log "$(grep '^accel: ' "$out/accel.log" || echo "accel: see $out/accel.json"); every run uses it"
# the verdict so far (fl-report --sequential) into DIR/looks/look-I.txt;
# its exit status: 0 decided, 4 go on, else an error
decide() {
	local rc=0
	"$report" "$out/a" "$out/b" "${seq_args[@]}" >"$out/looks/look-$1.txt" 2>&1 || rc=$?
	return "$rc"
}
# a failed guest's result and console log into DIR/failed/SIDE: the
# comparison reads completed guests only (a guest that died before it
# reported has no iteration, and its result not the guest's settings)
aside() { # RUN_LOG SIDE
	local f
	mkdir -p "$out/failed/$2"
	sed -n 's/^result: //p; s/^console: //p' "$1" | while IFS= read -r f; do
		[ ! -f "$f" ] || mv "$f" "$out/failed/$2/"
	done
}
[ -z "$until" ] || mkdir -p "$out/looks"
failed=0 nfail=0 stop="" i=0
while [ -z "$stop" ] && [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	for side in a b; do
		if [ $side = a ]; then k=$a l=$la; else k=$b l=$lb; fi
		log "iteration $i/$n${until:+ at most}: $side = $l"
		"${with_us[@]}" "${run_cmd[@]}" "$scen" --kernel "$k" --label "$l" --iterations 1 --out "$out/$side" --quiet \
			"${rest[@]}" --accel-from "$out/accel.json" >"$out/$side/run-$i.log" 2>&1 &
		child=$!
		if ! wait "$child"; then
			log "iteration $i/$n ($l) failed: see $out/$side/run-$i.log; its result is in $out/failed/$side"
			failed=1 nfail=$((nfail + 1))
			aside "$out/$side/run-$i.log" "$side"
		fi
		child=0
	done
	[ -n "$until" ] && [ "$i" -ge 2 ] || continue
	rc=0
	decide "$i" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] ||
		log "look after $i pairs: $(sed -n '/^decision: /,$p' "$out/looks/look-$i.txt" | tr -s ' \n' ' ' | sed 's/ $//')"
	case $rc in
	0) stop=decided ;;
	4) ;;
	*)
		log "the decision failed (exit $rc): see $out/looks/look-$i.txt"
		# a failed run can leave a side empty; more runs may mend that
		[ "$failed" -eq 1 ] || exit 1
		;;
	esac
done
[ -n "$stop" ] || stop=$([ -n "$until" ] && echo "undecided after --max-iterations $n" || echo "fixed count")
wall=$((SECONDS - t0))
log "used $i iteration$([ "$i" -eq 1 ] || echo s) per side ($((2 * i)) guests, $nfail failed) in $((wall / 60)) min $((wall % 60)) s (wall time, from the accelerator probe on); stopped: $stop"
log "comparing $lb (b) with $la (a)"
rc=0
"$report" "$out/a" "$out/b" --out "$out/report" ${mde:+--mde "$mde"} || rc=$?
seq_rc=0
if [ -n "$until" ]; then
	echo
	"$report" "$out/a" "$out/b" "${seq_args[@]}" --out "$out/report" || seq_rc=$?
fi
log "results: $out/a $out/b; report: $out/report"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] || exit 1
[ "$seq_rc" -eq 0 ] || { [ "$seq_rc" -eq 4 ] && exit 4; exit 1; }
