#!/usr/bin/env bash
# System test of the sequential A/B: `fl-report --sequential` on crafted
# results (one iteration per file, as ./run.sh ab writes them) and on the
# recorded 2025-series results in tests/data, and bench/vm/ab.sh --until
# decided with a stand-in for the guest runs (FAULTLINE_AB_RUN), so that
# the loop, its stop rules, the wall-time line and the exit statuses are
# checked without QEMU.  The statistics themselves are unit-tested in
# tests/test_stats.c.  Prints PASS/FAIL/SKIP lines; exit 1 if anything
# failed.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
REPORT=$BUILD/fl-report
T=$(mktemp -d /tmp/faultline-sys-sequential.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib.sh

if [ ! -x "$REPORT" ]; then
	fail fl_report_built "$REPORT is missing (make $REPORT)"
	exit 1
fi

# mk.sh: mkiter FILE LABEL J SHIFT TOUCHES writes a one-iteration result
# whose fault.major.p99 is about 2 (64 + J) << SHIFT ns and whose
# fault.touches_per_s is TOUCHES; the headline is those two metrics.
cat >"$T/mk.sh" <<'EOS'
mkiter() {
	local file=$1 label=$2 j=$3 sh=$4 touches=$5 lo hi
	lo=$(((64 + j) << sh))
	hi=$((2 * lo))
	cat >"$file" <<EOF
{"schema": "faultline-result/1", "run_id": "run-$label-$(basename "$file" .json)", "scenario": "crafted",
 "label": "$label", "status": "ok",
 "config": {"name": "crafted", "report": {"headline": ["fault.major.p99", "fault.touches_per_s"]}},
 "environment": {"arch": "x86_64", "kernel_release": "6.1.0-$label", "isolation": "full"},
 "iterations": [{"index": 0, "status": "ok", "measured_s": 1.0,
  "roles": {"fault": {"threads": 4,
   "counters": {"touches": $touches, "major_faults": 500, "minor_faults": $((touches / 10))},
   "histograms": {"major": {"count": 100, "sum_ns": $((90 * lo + 10 * hi)), "min_ns": $lo, "max_ns": $hi,
     "saturated": 0, "bins": [[$lo, 90], [$hi, 10]]}}}}}],
 "summary": {}}
EOF
}
# values KIND I: "J SHIFT TOUCHES" of iteration I (0-based) of a kind of set
values() {
	local i=$2
	case $1 in
	base) echo "$((10 + (i * 7) % 5)) 14 $((100000 + ((i * 3) % 5) * 300))" ;;
	slow) echo "$((10 + (i * 3) % 5)) 15 $((100000 + ((i * 2) % 5) * 300))" ;;  # p99 doubled
	noisy) echo "$((2 + (i * 11) % 40)) 14 $((70000 + ((i * 7) % 9) * 8000))" ;; # wide spread
	esac
}
EOS
. "$T/mk.sh"
mkset() { # DIR LABEL KIND N
	mkdir -p "$1"
	for i in $(seq 0 $(($4 - 1))); do
		# shellcheck disable=SC2046
		mkiter "$1/$(printf 'r-%03d' "$i").json" "$2" $(values "$3" "$i")
	done
}
run() { # NAME args...: fl-report, leaves $T/NAME.{out,err,rc}
	local name=$1
	shift
	"$REPORT" "$@" >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}
rc() { cat "$T/$1.rc"; }
joined() { # NAME: its stdout with the wrapped lines joined
	tr -s ' \n' ' ' <"$T/$1.out"
}
row() { # NAME METRIC: that metric's row (name, change, interval, verdict, at)
	awk -v m="$2" '$1 == m { print; exit }' "$T/$1.out"
}

mkset "$T/base" base base 6
mkset "$T/slow" slow slow 6
mkset "$T/noisy" noisy noisy 6
mkset "$T/base2" base base 2
mkset "$T/noisy2" noisy noisy 2

# A clear change and a steady rate: decided, with --out files.
run decided "$T/base" "$T/slow" --sequential --out "$T/o-decided"
p99=$(row decided fault.major.p99) tps=$(row decided fault.touches_per_s)
if [ "$(rc decided)" = 0 ] && [[ "$p99" == *significant* ]] && [[ "$tps" == *equivalent* ]] &&
	joined decided | grep -q 'decision: every headline metric decided at'; then
	pass decided_exit_0
else
	fail decided_exit_0 "exit $(rc decided); '$p99' / '$tps'; $(head -c 300 "$T/decided.err")"
fi
long=$(LC_ALL=C awk 'length($0) > 72 { printf "line %d has %d columns; ", NR, length($0) }' "$T/decided.out")
[ -z "$long" ] && pass table_fits_72_columns || fail table_fits_72_columns "$long"
if cmp -s "$T/decided.out" "$T/o-decided/sequential.txt" &&
	jq -e '.schema == "faultline-sequential/1" and .decided and .headline_metrics == 2 and
		(.alpha_per_metric - 0.025 | fabs) < 1e-12 and .max_iterations == 20 and .spending == "pocock" and
		(.looks | length) == 19 and
		([.metrics[] | .verdict] | sort) == ["equivalent", "significant"] and
		([.metrics[] | select(.verdict == "significant") | .interval_pct[0] > 0] | all)' \
		"$T/o-decided/sequential.json" >/dev/null 2>"$T/jq.err"; then
	pass sequential_json
else
	fail sequential_json "$(head -c 300 "$T/jq.err") $(head -c 300 "$T/o-decided/sequential.json" 2>/dev/null)"
fi
# the verdict is the first crossing: at 'at' iterations per side, with the
# data of the first 'at' files only (more files do not change it)
at=$(echo "$p99" | awk '{ print $NF }')
mkdir -p "$T/slow-at"
for i in $(seq 0 $((${at:-1} - 1))); do cp "$T/slow/$(printf 'r-%03d' "$i").json" "$T/slow-at/"; done
run at "$T/base" "$T/slow-at" --sequential
if [[ "$at" =~ ^[0-9]+$ ]] && [ "$at" -ge 2 ] && [ "$(row at fault.major.p99)" = "$p99" ]; then
	pass first_crossing_kept
else
	fail first_crossing_kept "decided at '$at'; with the first $at files: '$(row at fault.major.p99)' vs '$p99'"
fi

# Two noisy iterations a side: undecided, go on (exit 4).
run early "$T/base2" "$T/noisy2" --sequential
if [ "$(rc early)" = 4 ] && joined early | grep -q 'undecided (.*touches_per_s) after 2 iterations per side: continue' &&
	[[ "$(row early fault.touches_per_s)" == *undecided* ]]; then
	pass undecided_exit_4
else
	fail undecided_exit_4 "exit $(rc early): $(cat "$T/early.out" "$T/early.err" | head -c 400)"
fi
# ... and at the design's last look it stays undecided, said so
run last "$T/base" "$T/noisy" --sequential --max-iterations 6 --spending obf --mde 5%
if [ "$(rc last)" = 4 ] && joined last | grep -q 'undecided (.*) at the last look (6 iterations per side)' &&
	joined last | grep -q "O'Brien-Fleming" && joined last | grep -q '+-5%'; then
	pass last_look_undecided
else
	fail last_look_undecided "exit $(rc last): $(head -c 400 "$T/last.out")"
fi
# more iterations than the design: only the first N count, and it says so
run over "$T/base" "$T/slow" --sequential --max-iterations 3
if joined over | grep -q 'only the first 3 iterations per side are used'; then
	pass beyond_max_iterations
else
	fail beyond_max_iterations "$(head -c 400 "$T/over.out")"
fi

# The recorded 2025 series (one QEMU iteration of each kernel, twice): the
# lock metrics are exact on both sides, so decided at the first look.
if [ -s tests/data/result-vma-retry-vm-stock-6.12.json ] && [ -s tests/data/result-vma-retry-vm-retry-6.12.json ]; then
	mkdir -p "$T/rec-a" "$T/rec-b"
	for i in 1 2; do
		cp tests/data/result-vma-retry-vm-stock-6.12.json "$T/rec-a/r-$i.json"
		cp tests/data/result-vma-retry-vm-retry-6.12.json "$T/rec-b/r-$i.json"
	done
	run rec "$T/rec-a" "$T/rec-b" --sequential
	acq=$(row rec mmap_lock.read_acq_per_kfault)
	[ -n "$acq" ] || acq=$(grep -A1 '^mmap_lock.read_acq_per_kfault$' "$T/rec.out" | tail -1)
	if [ "$(rc rec)" = 0 ] && [[ "$acq" == *significant*2 ]] &&
		joined rec | grep -q 'alpha 0.05 over 6 headline metrics'; then
		pass recorded_series
	else
		fail recorded_series "exit $(rc rec), row '$acq': $(head -c 500 "$T/rec.out") $(head -c 300 "$T/rec.err")"
	fi
else
	skip recorded_series "tests/data/result-vma-retry-vm-*-6.12.json missing"
fi

# Bad input: exit 2 and nothing written.
bad=""
for args in "--max-iterations 1" "--max-iterations 101" "--max-iterations x" "--spending linear" \
	"--fail-on fault.major.p99:5%" "--test mwu"; do
	# shellcheck disable=SC2086
	"$REPORT" "$T/base" "$T/slow" --sequential $args --out "$T/o-bad" >/dev/null 2>&1
	r=$?
	[ "$r" = 2 ] && [ ! -e "$T/o-bad" ] || bad="$bad '$args' gave $r;"
done
"$REPORT" "$T/base" "$T/slow" --max-iterations 5 --no-plots --out "$T/o-bad" >/dev/null 2>&1
r=$?
[ "$r" = 2 ] && [ ! -e "$T/o-bad" ] || bad="$bad --max-iterations without --sequential gave $r;"
[ -z "$bad" ] && pass bad_input_exit_2 || fail bad_input_exit_2 "$bad"

# bench/vm/ab.sh --until decided, each guest replaced by a stand-in that
# writes the next iteration of its kind (the kernel name) into --out.
cat >"$T/stub.sh" <<EOS
#!/usr/bin/env bash
. "$T/mk.sh"
k="" out="" probe="" label=""
while [ \$# -gt 0 ]; do
	case \$1 in
	--kernel) k=\$2; shift ;;
	--out) out=\$2; shift ;;
	--label) label=\$2; shift ;;
	--accel-probe) probe=\$2; shift ;;
	esac
	shift
done
if [ -n "\$probe" ]; then
	echo '{"accel": "tcg"}' >"\$probe"
	echo "accel: tcg (stand-in)"
	exit 0
fi
i=\$(ls "\$out" | grep -c '\.json\$')
# stub-flaky: the slow kind, but its second guest fails once, leaving a
# result of another config without iterations, as a panicking guest does
if [ "\$k" = stub-flaky ] && [ "\$i" = 1 ] && [ ! -e "$T/flaky-failed" ]; then
	touch "$T/flaky-failed"
	echo '{"schema": "faultline-result/1", "run_id": "x", "scenario": "crafted", "label": "'"\$label"'",
	 "status": "error", "config": {"name": "crafted", "pressure": "auto"},
	 "environment": {"arch": "x86_64"}, "iterations": [], "summary": {}}' >"\$out/r-err.json"
	echo "result: \$out/r-err.json"
	exit 1
fi
k=\${k/flaky/slow}
mkiter "\$out/\$(printf 'r-%03d' "\$i").json" "\$label" \$(values "\${k#stub-}" "\$i")
EOS
ab() { # NAME args...: ab.sh with the stand-in, leaves $T/NAME.{out,err,rc}
	local name=$1
	shift
	FAULTLINE_AB_RUN="bash $T/stub.sh" BUILD=$BUILD bash bench/vm/ab.sh crafted "$@" \
		>"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}
ab ab-decided --a stub-base --b stub-slow --until decided --out "$T/ab1"
used=$(sed -n 's/.*used \([0-9]*\) iterations per side.*stopped: decided$/\1/p' "$T/ab-decided.err")
if [ "$(rc ab-decided)" = 0 ] && [ -n "$used" ] && [ "$used" -ge 2 ] && [ "$used" -lt 20 ] &&
	[ "$(ls "$T/ab1/a"/*.json | wc -l)" = "$used" ] && [ "$(ls "$T/ab1/b"/*.json | wc -l)" = "$used" ] &&
	[ -s "$T/ab1/looks/look-$used.txt" ] && [ ! -e "$T/ab1/looks/look-1.txt" ] &&
	grep -q 'min .* s (wall time' "$T/ab-decided.err" && [ -s "$T/ab1/report/compare.txt" ] &&
	jq -e .decided "$T/ab1/report/sequential.json" >/dev/null &&
	grep -q '^decision: every headline metric decided' "$T/ab-decided.out"; then
	pass ab_until_decided_stops
else
	fail ab_until_decided_stops "exit $(rc ab-decided), used '$used': $(tail -c 600 "$T/ab-decided.err")"
fi
ab ab-max --a stub-base --b stub-noisy --until decided --max-iterations 3 --out "$T/ab2"
if [ "$(rc ab-max)" = 4 ] &&
	grep -q 'used 3 iterations per side (6 guests, 0 failed) in .*stopped: undecided after --max-iterations 3' "$T/ab-max.err" &&
	[ "$(ls "$T/ab2/a"/*.json | wc -l)" = 3 ] && [ -s "$T/ab2/looks/look-2.txt" ] && [ -s "$T/ab2/looks/look-3.txt" ]; then
	pass ab_until_max_iterations_exit_4
else
	fail ab_until_max_iterations_exit_4 "exit $(rc ab-max): $(tail -c 600 "$T/ab-max.err")"
fi
ab ab-flaky --a stub-base --b stub-flaky --until decided --out "$T/ab4"
if [ "$(rc ab-flaky)" = 1 ] && grep -q 'guests, 1 failed) in .*stopped: decided$' "$T/ab-flaky.err" &&
	[ -s "$T/ab4/failed/b/r-err.json" ] && [ ! -e "$T/ab4/b/r-err.json" ] &&
	jq -e .decided "$T/ab4/report/sequential.json" >/dev/null; then
	pass ab_failed_guest_set_aside
else
	fail ab_failed_guest_set_aside "exit $(rc ab-flaky): $(tail -c 600 "$T/ab-flaky.err")"
fi
ab ab-fixed --a stub-base --b stub-slow --iterations 2 --out "$T/ab3"
if [ "$(rc ab-fixed)" = 0 ] && grep -q 'used 2 iterations per side (4 guests, 0 failed).*stopped: fixed count' "$T/ab-fixed.err" &&
	[ ! -e "$T/ab3/looks" ] && [ ! -e "$T/ab3/report/sequential.json" ]; then
	pass ab_fixed_count_says_wall_time
else
	fail ab_fixed_count_says_wall_time "exit $(rc ab-fixed): $(tail -c 400 "$T/ab-fixed.err")"
fi
bad=""
for args in "--until done" "--until decided --iterations 5" "--until decided --max-iterations 1" \
	"--until decided --mde 0%" "--until decided --spending linear" "--max-iterations 5"; do
	# shellcheck disable=SC2086
	ab ab-bad --a stub-base --b stub-slow $args --out "$T/ab-bad"
	[ "$(rc ab-bad)" = 2 ] && [ ! -e "$T/ab-bad" ] || bad="$bad '$args' gave $(rc ab-bad);"
done
[ -z "$bad" ] && pass ab_bad_input_exit_2 || fail ab_bad_input_exit_2 "$bad"

exit "$failed"
