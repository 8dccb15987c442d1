#!/usr/bin/env bash
# report/cv.sh: run-to-run noise of each scenario's headline metrics.
#
# Runs each SCENARIO (default: every one in bench/scenarios) for N
# iterations (default 5) natively, or in QEMU with --vm KERNEL, and prints
# per scenario a table of its headline metrics (its report.headline) and
# the rates fault.touches_per_s and writer.ops_per_s: iterations, mean,
# sample standard deviation and coefficient of variation (sd / mean).  The
# statistics are fl-report's own (the same result given as baseline and
# candidate; compare.json's per-side mean, stddev and cv), not recomputed
# here, over the result's ok iterations.  Each table says the kernel,
# backend, iterations, duration, the load average before and after the run
# and what the machine gave it (the victim's CPU, from its group's cpu.stat,
# and the share of time some task waited for a CPU, from PSI): on a shared
# machine those explain most of the noise (docs/noise.md).
#
# usage: report/cv.sh [SCENARIO...] [--iterations N] [--duration S]
#                     [--warmup S] [--set KEY=VALUE ...] [--vm KERNEL]
#                     [--label L] [--tree DIR] [--build DIR] [--out DIR]
#                     [--from RESULT.json ...] [--tsv FILE]
#   SCENARIO       a name under TREE/bench/scenarios (default: all of them)
#   --iterations N iterations per scenario (default 5)
#   --duration S   measured seconds per iteration (default: the scenario's)
#   --warmup S     warm-up seconds per iteration (default: the scenario's)
#   --set K=V      passed to every run (repeatable)
#   --vm KERNEL    run in QEMU: KERNEL as for ./run.sh run --kernel (a name
#                  under build/kernels, an image) or debian:VERSION
#   --label L      label of the results (default: cv)
#   --tree DIR     the faultline tree whose binaries ($BUILD) and scenarios
#                  run (default: this one); e.g. a clone of an older commit
#   --build DIR    build directory inside the tree (default: $BUILD or build)
#   --out DIR      where results and reports go (default: report/out/cv-TIME)
#   --from FILE    no run: the tables of existing result files (repeatable)
#   --tsv FILE     also append one line per metric (scenario, label,
#                  metric, n, mean, sd, cv_pct, load before, load after)
# Exit status: 0 ok, 1 a run or its table failed, 2 bad input, 3 jq or
# fl-report missing.  ./run.sh cv [ARGS] runs this; docs/noise.md has the
# figures.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
TREE=$HERE BUILD=${BUILD:-build} ITER=5 DURATION="" WARMUP="" VM="" LABEL=cv OUT="" TSV=""
SETS=() SCEN=() FROM=()
die() { echo "report/cv.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--iterations) ITER=${2:?--iterations needs N}; shift 2 ;;
	--duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
	--warmup) WARMUP=${2:?--warmup needs seconds}; shift 2 ;;
	--set) SETS+=(--set "${2:?--set needs KEY=VALUE}"); shift 2 ;;
	--vm) VM=${2:?--vm needs a kernel}; shift 2 ;;
	--label) LABEL=${2:?--label needs a value}; shift 2 ;;
	--tree) TREE=$(cd "${2:?--tree needs a directory}" && pwd) || die "--tree $2: no such directory"; shift 2 ;;
	--build) BUILD=${2:?--build needs a directory}; shift 2 ;;
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	--from) FROM+=("${2:?--from needs a result file}"); shift 2 ;;
	--tsv) TSV=${2:?--tsv needs a file}; shift 2 ;;
	--help | -h) sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1' (try --help)" ;;
	*) SCEN+=("$1"); shift ;;
	esac
done
[[ $ITER =~ ^[0-9]+$ ]] && [ "$ITER" -ge 2 ] || die "--iterations $ITER: need an integer >= 2 (a standard deviation needs two)"
command -v jq >/dev/null || { echo "report/cv.sh: needs jq (apt-get install jq)" >&2; exit 3; }
REPORT=$TREE/$BUILD/fl-report
[ -x "$REPORT" ] || REPORT=$HERE/$BUILD/fl-report
[ -x "$REPORT" ] || { echo "report/cv.sh: no fl-report in $TREE/$BUILD or $HERE/$BUILD (make BUILD=$BUILD)" >&2; exit 3; }
if [ ${#FROM[@]} -eq 0 ] && [ ${#SCEN[@]} -eq 0 ]; then
	for f in "$TREE"/bench/scenarios/*.json; do SCEN+=("$(basename "$f" .json)"); done
fi
for s in "${SCEN[@]}"; do
	[ -f "$TREE/bench/scenarios/$s.json" ] ||
		die "no scenario '$s' ($TREE/bench/scenarios/$s.json); the scenarios: $(cd "$TREE/bench/scenarios" && ls *.json | sed 's/\.json$//' | tr '\n' ' ')"
done
for f in "${FROM[@]}"; do [ -r "$f" ] || die "--from $f: no such result file"; done
T=$(mktemp -d /tmp/faultline-cv.XXXXXX)
trap 'rm -rf "$T"' EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# table RESULT LOAD_BEFORE LOAD_AFTER: the per-metric statistics of one result
table() {
	local res=$1 lb=$2 la=$3 name
	name=$(jq -r .scenario "$res")
	rm -rf "$T/r"
	# the ok iterations only (fl-report pools those too, but refuses a
	# result whose failed iteration lacks its measurements)
	jq '.iterations |= map(select(.status == "ok"))' "$res" >"$T/ok.json"
	if [ "$(jq '.iterations | length' "$T/ok.json")" -lt 2 ]; then
		echo "report/cv.sh: $res: fewer than 2 ok iterations ($(jq -r .status_reason "$res"))" >&2
		return 1
	fi
	"$REPORT" "$T/ok.json" "$T/ok.json" --all --no-plots --quiet --out "$T/r" 2>"$T/err" ||
		{ cat "$T/err" >&2; echo "report/cv.sh: fl-report failed on $res" >&2; return 1; }
	jq -r --arg lb "$lb" --arg la "$la" '
		"cv: \(.scenario) on \(.environment.kernel_release) (\(.environment.backend // "native")\(
			if .environment.vm then ", " + (.environment.vm.accel // "?") else "" end)), \(.label), " +
		"\([.iterations[] | select(.status == "ok")] | length) of \(.iterations | length) iterations ok, " +
		"\(.config.duration_s) s each after \(.config.warmup_s) s warm-up; load average \($lb) -> \($la)"' "$res"
	# what the machine gave the run: the victim's CPU (its group's cpu.stat,
	# 100% = one CPU) and the share of time some task waited for a CPU (PSI)
	jq -r '[.iterations[] | select(.status == "ok") |
		[(.probes.cgroup.delta["victim.cpu.stat.usage_usec"] // null), (.probes.psi.delta.cpu_some_total_us // null),
		 .measured_s]] as $it |
		def pct(k): [$it[] | select(.[k] != null) | .[k] / 1e4 / .[2]] | if length == 0 then "n/a" else
			"\(add / length | round)% (\(min | round)-\(max | round))" end;
		"  conditions: victim CPU \(pct(0)) of one CPU, some task waiting for a CPU \(pct(1)) of the time"' "$res"
	jq -r --slurpfile res "$res" '
		($res[0].config.report.headline // []) as $head |
		[.comparisons[0].metrics[] | select(.headline or .name == "fault.touches_per_s" or .name == "writer.ops_per_s")] as $m |
		(["  metric", "n", "mean", "sd", "cv%"] | @tsv),
		($m[] | ["  " + .name + (if .headline then "" else " (rate)" end), .baseline.n,
			 (.baseline.mean | tostring), (.baseline.stddev // "n/a" | tostring),
			 (if .baseline.cv == null then "n/a" else (.baseline.cv * 1000 | round / 10 | tostring) end)] | @tsv),
		($head - [$m[].name] | .[] | ["  " + . + " (absent from this result)", "", "", "", ""] | @tsv)' \
		"$T/r/compare.json" | awk -F'\t' '
		function num(x) { return x ~ /^-?[0-9.e+-]+$/ ? sprintf(x + 0 >= 1000 || x + 0 <= -1000 ? "%.0f" : "%.4g", x) : x }
		$2 == "" { print $1; next }
		{ printf "%-42s %3s %13s %13s %7s\n", $1, $2, NR == 1 ? $3 : num($3), NR == 1 ? $4 : num($4), $5 }'
	if [ -n "$TSV" ]; then
		jq -r --arg lb "$lb" --arg la "$la" --arg lab "$(jq -r .label "$res")" '
			.comparisons[0] as $c | $c.metrics[] |
			select(.headline or .name == "fault.touches_per_s" or .name == "writer.ops_per_s") |
			[$c.scenario, $lab, .name, .baseline.n, .baseline.mean, (.baseline.stddev // ""),
			 (if .baseline.cv == null then "" else .baseline.cv * 100 end), $lb, $la] | @tsv' \
			"$T/r/compare.json" >>"$TSV"
	fi
	echo "  result: $res"
}

if [ ${#FROM[@]} -gt 0 ]; then
	for f in "${FROM[@]}"; do table "$f" "?" "?"; done
	exit 0
fi
[ -n "$OUT" ] || OUT=$HERE/report/out/cv-$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$OUT"
ARGS=(--iterations "$ITER" --label "$LABEL")
[ -n "$DURATION" ] && ARGS+=(--duration "$DURATION")
[ -n "$WARMUP" ] && ARGS+=(--warmup "$WARMUP")
rc=0
for s in "${SCEN[@]}"; do
	f=$TREE/bench/scenarios/$s.json
	dir=$OUT/$s
	mkdir -p "$dir"
	before=$(ls "$dir"/*.json 2>/dev/null || true)
	lb=$(loadavg)
	echo "report/cv.sh: $s: $ITER iterations${DURATION:+ of $DURATION s}${VM:+ in QEMU ($VM)}, $TREE" >&2
	if [ -n "$VM" ]; then
		kopt=--kernel
		case "$VM" in debian:*) kopt=--debian-kernel VM=${VM#debian:} ;; esac
		(cd "$TREE" && BUILD=$BUILD ./run.sh run "$s" "$kopt" "$VM" --out "$dir" --quiet "${ARGS[@]}" \
			"${SETS[@]}") >"$T/log" 2>&1 || true
	else
		"$TREE/$BUILD/faultline" run "$f" --out "$dir" --quiet "${ARGS[@]}" "${SETS[@]}" >"$T/log" 2>&1 || true
	fi
	la=$(loadavg)
	res=$(comm -13 <(echo "$before" | sort) <(ls "$dir"/*.json 2>/dev/null | sort) | tail -1)
	if [ -z "$res" ]; then
		echo "report/cv.sh: $s: the run wrote no result; its output:" >&2
		tail -20 "$T/log" >&2
		rc=1
		continue
	fi
	table "$res" "$lb" "$la" || rc=1
done
exit $rc
