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
# Exit: 0 ok, 1 a run or the report failed, 2 bad input.
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { echo "ab: $*" >&2; }
# the comment block above, up to the first line that is not a comment
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" >&2; }

scen="" a="" b="" n=3 out="" rest=()
while [ $# -gt 0 ]; do
	case "$1" in
	--a) a=${2:-}; shift 2 || { usage; exit 2; } ;;
	--b) b=${2:-}; shift 2 || { usage; exit 2; } ;;
	--iterations) n=${2:-}; shift 2 || { usage; exit 2; } ;;
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
trap 'log "interrupted"; [ "$child" -gt 0 ] && kill -TERM "$child" 2>/dev/null; wait 2>/dev/null; exit 130' INT TERM
# one accelerator for A and B (docs/vm.md), decided with A's kernel and
# the options every run gets
./run.sh run "$scen" --kernel "$a" --quiet --accel-probe "$out/accel.json" "${rest[@]}" >"$out/accel.log" 2>&1 &
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
failed=0
for i in $(seq 1 "$n"); do
	for side in a b; do
		if [ $side = a ]; then k=$a l=$la; else k=$b l=$lb; fi
		log "iteration $i/$n: $side = $l"
		./run.sh run "$scen" --kernel "$k" --label "$l" --iterations 1 --out "$out/$side" --quiet \
			"${rest[@]}" --accel-from "$out/accel.json" >"$out/$side/run-$i.log" 2>&1 &
		child=$!
		if ! wait "$child"; then
			log "iteration $i/$n ($l) failed: see $out/$side/run-$i.log"
			failed=1
		fi
		child=0
	done
done
log "comparing $lb (b) with $la (a)"
rc=0
"${BUILD:-build}/fl-report" "$out/a" "$out/b" --out "$out/report" || rc=$?
log "results: $out/a $out/b; report: $out/report"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] || exit 1
