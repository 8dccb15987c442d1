#!/usr/bin/env bash
# System test of fl-report: crafted result sets (generated here from a
# here-doc template, so only bash is needed) with a known baseline, a clear
# regression, an A/A copy, a one-iteration set and broken inputs.  Checks the
# 72-column table, compare.json, junit.xml, the gnuplot figures (SKIP when
# gnuplot is not installed) and the gate's exit statuses 0/1/2/3.
# Prints PASS/FAIL/SKIP lines; exit 1 if anything failed.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
REPORT=$BUILD/fl-report
T=$(mktemp -d /tmp/faultline-sys-report.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib.sh


if [ ! -x "$REPORT" ]; then
	fail fl_report_built "$REPORT is missing (make $REPORT)"
	exit 1
fi

# mkresult FILE LABEL SCENARIO ARCH SCHEMA ITER...
# ITER is "J:SHIFT:TOUCHES:MAJFLT": the "major" histogram holds 90 samples in
# the bucket at (64 + J) << SHIFT ns and 10 in the one at twice that, so p50
# is about (64 + J) << SHIFT ns and p99 about twice that; the fault role
# counted TOUCHES touches in 1 s.
mkresult() {
	local file=$1 label=$2 scen=$3 arch=$4 schema=$5
	shift 5
	local iters="" sep="" i=0 spec j sh touches maj lo hi conf=${CONFIG:-}
	[ -n "$conf" ] || conf="{\"name\": \"$scen\"}"
	for spec in "$@"; do
		IFS=: read -r j sh touches maj <<<"$spec"
		lo=$(((64 + j) << sh))
		hi=$((2 * lo))
		iters+="$sep$(cat <<EOF
{"index": $i, "status": "ok", "measured_s": 1.0,
 "roles": {
  "fault": {"threads": 4,
   "counters": {"touches": $touches, "major_faults": $maj, "minor_faults": $((touches / 10))},
   "histograms": {"major": {"count": 100, "sum_ns": $((90 * lo + 10 * hi)), "min_ns": $lo, "max_ns": $hi,
     "saturated": 0, "bins": [[$lo, 90], [$hi, 10]]}}},
  "writer": {"threads": 1, "counters": {"ops": $((touches / 1000)), "mmap_munmap_ops": $((touches / 1000))},
   "histograms": {"mmap": {"count": 4, "sum_ns": 3968, "min_ns": 992, "max_ns": 992, "bins": [[992, 4]]}}}},
 "probes": {"vmstat": {"present": true, "delta": {"pgmajfault": $maj, "workingset_refault_file": $((maj / 2))}}},
 "series": {"t_s": [0, 0.5, 1.0], "vmstat.pgmajfault": [0, $((maj / 2)), $((maj - maj / 2))],
  "vmstat.workingset_refault_file": [0, 0, 0],
  "workload.fault.touches": [0, $((touches / 2)), $((touches - touches / 2))]}}
EOF
)"
		sep=","
		i=$((i + 1))
	done
	cat >"$file" <<EOF
{"schema": "$schema", "run_id": "run-$label-$(basename "$file" .json)", "scenario": "$scen", "label": "$label", "status": "ok",
 "config": $conf,
 "environment": {"arch": "$arch", "kernel_release": "6.1.0-$label", "isolation": "full"},
 "iterations": [$iters],
 "summary": {}}
EOF
}

# The sets.  base: two files (pooled by label), p50 ~1.2 ms, 100k touches/s;
# reg: latency doubled, touches halved; aa: the base's numbers in another
# order (identical means: change exactly 0); one: a single iteration.
mkdir -p "$T/results" "$T/aa" "$T/bad"
mkresult "$T/results/base-1.json" base crafted x86_64 faultline-result/1 \
	10:14:100000:500 12:14:101000:510 11:14:99500:490 13:14:100500:505
mkresult "$T/results/base-2.json" base crafted x86_64 faultline-result/1 \
	11:14:100200:500 12:14:99800:495 10:14:100700:502 13:14:99300:507
mkresult "$T/results/reg.json" reg crafted x86_64 faultline-result/1 \
	10:15:50000:500 12:15:50500:510 11:15:49750:490 13:15:50250:505
mkresult "$T/aa/aa-1.json" aa crafted x86_64 faultline-result/1 \
	13:14:100500:505 11:14:99500:490 12:14:101000:510 10:14:100000:500
mkresult "$T/aa/aa-2.json" aa crafted x86_64 faultline-result/1 \
	13:14:99300:507 10:14:100700:502 12:14:99800:495 11:14:100200:500
mkresult "$T/one.json" one crafted x86_64 faultline-result/1 12:15:60000:500
mkresult "$T/bad/schema2.json" base crafted x86_64 faultline-result/2 10:14:100000:500
mkresult "$T/bad/other.json" other thrash x86_64 faultline-result/1 10:14:100000:500 11:14:100000:500
head -c 700 "$T/results/reg.json" >"$T/bad/corrupt.json"

run() { # OUTNAME args...: runs fl-report, leaves $T/OUTNAME.{out,err,rc}
	local name=$1
	shift
	"$REPORT" "$@" >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}
rc() { cat "$T/$1.rc"; }

# --help
if "$REPORT" --help >"$T/help" 2>&1 && grep -q -- '--fail-on' "$T/help" && grep -q 'Exit status' "$T/help"; then
	pass help
else
	fail help "--help did not exit 0 or lacks --fail-on / Exit status"
fi

PLOTS=(--no-plots)
if command -v gnuplot >/dev/null 2>&1; then
	PLOTS=()
fi

# A report: label lookup pools the two base files.
run basic base reg --results "$T/results" --out "$T/o-basic" "${PLOTS[@]}"
if [ "$(rc basic)" = 0 ] && [ -s "$T/o-basic/compare.txt" ] && [ -s "$T/o-basic/compare.json" ] &&
	[ -s "$T/o-basic/junit.xml" ]; then
	pass report_written
else
	fail report_written "exit $(rc basic), files: $(ls "$T/o-basic" 2>/dev/null | tr '\n' ' '); $(head -c 400 "$T/basic.err")"
fi
long=$(LC_ALL=C awk 'length($0) > 72 { printf "line %d has %d columns; ", NR, length($0) }' "$T/o-basic/compare.txt" 2>/dev/null)
if [ -s "$T/o-basic/compare.txt" ] && [ -z "$long" ] && ! LC_ALL=C grep -q '[^ -~]' "$T/o-basic/compare.txt"; then
	pass table_fits_72_columns
else
	fail table_fits_72_columns "${long:-missing or not plain ASCII}"
fi
if cmp -s "$T/o-basic/compare.txt" "$T/basic.out"; then
	pass table_on_stdout
else
	fail table_on_stdout "stdout differs from compare.txt"
fi
txt="$T/o-basic/compare.txt"
if grep -q 'scenario crafted, arch x86_64' "$txt" && grep -q 'base base: 8 iterations, isolation full' "$txt" &&
	grep -q 'cand reg: 4 iterations' "$txt" && grep -q '6.1.0-base' "$txt" && grep -q 'alpha 0.05' "$txt" &&
	grep -q '^\* significant' "$txt"; then
	pass table_header_and_legend
else
	fail table_header_and_legend "$(head -8 "$txt" | tr '\n' '|')"
fi
row=$(grep '^fault.major.p99 ' "$txt")
# p99 doubles: +100% (bucket midpoints: within 1/128), significant
if [[ "$row" =~ \+(99|100|101)\.[0-9][0-9]%\* ]]; then
	pass table_row_regression_marked
else
	fail table_row_regression_marked "row: '$row'"
fi
row=$(grep '^fault.touches_per_s ' "$txt")
if [[ "$row" =~ -(49|50)\.[0-9][0-9]%\ \*$ ]]; then
	pass table_row_throughput_marked
else
	fail table_row_throughput_marked "row: '$row'"
fi
json="$T/o-basic/compare.json"
if grep -q '"schema": "faultline-compare/1"' "$json" && grep -q '"name": "fault.major.p99"' "$json" &&
	grep -q '"direction": "lower_is_better"' "$json" && grep -q '"direction": "higher_is_better"' "$json" &&
	grep -q '"values": \[' "$json" && grep -q '"verdict": "worse"' "$json"; then
	if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$json" 2>/dev/null; then
		fail compare_json "not valid JSON"
	else
		pass compare_json
	fi
else
	fail compare_json "expected keys missing"
fi
junit="$T/o-basic/junit.xml"
if head -1 "$junit" | grep -q '^<?xml' && tail -1 "$junit" | grep -q '^</testsuites>' &&
	grep -q '<testcase classname="crafted.x86_64.reg" name="fault.major.p99">' "$junit" && ! grep -q '<failure' "$junit"; then
	pass junit_xml
else
	fail junit_xml "malformed, or a failure without a gate"
fi
if [ ${#PLOTS[@]} -eq 0 ]; then
	bad=""
	for fig in latency-fault latency-writer counters series; do
		png="$T/o-basic/crafted.x86_64.$fig.png" svg="$T/o-basic/crafted.x86_64.$fig.svg"
		[ -s "$png" ] && [ "$(head -c 4 "$png" | tail -c 3)" = PNG ] || bad+="$fig.png "
		[ -s "$svg" ] && grep -q '<svg' "$svg" || bad+="$fig.svg "
	done
	if ls -a "$T/o-basic" | grep -q 'tmp'; then
		bad+="temporary files left: $(ls -a "$T/o-basic" | grep tmp | tr '\n' ' ')"
	fi
	if grep -qi 'gnuplot\|warning' "$T/basic.err"; then
		bad+="stderr: $(head -c 300 "$T/basic.err")"
	fi
	# no empty or repeated panel: the all-zero refault series and the writer's
	# one op (equal to its total) are left out; no panel title twice
	gp="$T/o-basic/crafted.x86_64.gp"
	grep -q 'refaults/s' "$gp" && bad+="an all-zero series has a panel; "
	grep -q 'writer.mmap_munmap_ops_per_s' "$gp" && bad+="a counter equal to another has a panel; "
	grep -q 'writer.ops_per_s' "$gp" || bad+="writer.ops_per_s has no panel; "
	# (the script draws each figure once per terminal, png then svg: every
	# title appears the same number of times)
	counts=$(grep '^set title' "$gp" | sort | uniq -c | awk '{ print $1 }' | sort -u | tr '\n' ' ')
	[ "$(wc -w <<<"$counts")" = 1 ] || bad+="a panel title repeated (counts: $counts); "
	if [ -z "$bad" ]; then
		pass gnuplot_figures
	else
		fail gnuplot_figures "$bad"
	fi
else
	skip gnuplot_figures "gnuplot is not installed (apt-get install gnuplot-nox)"
fi

# The gate.
run gate_lat base reg --results "$T/results" --out "$T/o-gate" --no-plots --quiet --fail-on fault.major.p99:10%
if [ "$(rc gate_lat)" = 1 ] && grep -q 'gate: fault.major.p99' "$T/gate_lat.err" &&
	grep -q '<failure type="regression" message="fault.major.p99' "$T/o-gate/junit.xml" &&
	grep -q '"tripped": 1' "$T/o-gate/compare.json" && grep -q 'gate fault.major.p99 .*TRIPPED' "$T/o-gate/compare.txt"; then
	pass gate_trips_on_latency_regression
else
	fail gate_trips_on_latency_regression "exit $(rc gate_lat): $(head -c 300 "$T/gate_lat.err")"
fi
run gate_thr base reg --results "$T/results" --out "$T/o-thr" --no-plots --quiet --fail-on fault.touches_per_s:10
if [ "$(rc gate_thr)" = 1 ]; then
	pass gate_trips_on_throughput_drop
else
	fail gate_trips_on_throughput_drop "exit $(rc gate_thr)"
fi
run gate_better reg base --results "$T/results" --out "$T/o-better" --no-plots --quiet \
	--fail-on fault.major.p99:10% --fail-on fault.touches_per_s:10%
if [ "$(rc gate_better)" = 0 ]; then
	pass gate_ignores_improvement
else
	fail gate_ignores_improvement "exit $(rc gate_better): $(head -c 300 "$T/gate_better.err")"
fi
run gate_big base reg --results "$T/results" --out "$T/o-big" --no-plots --quiet --fail-on fault.major.p99:150%
if [ "$(rc gate_big)" = 0 ]; then
	pass gate_threshold_above_change
else
	fail gate_threshold_above_change "exit $(rc gate_big)"
fi
run gate_aa base "$T/aa" --results "$T/results" --out "$T/o-aa" --no-plots --quiet \
	--fail-on fault.major.p99:0.001% --fail-on fault.touches_per_s:0.001% --fail-on fault.major.p50:0%
# identical means, but a 0.001% threshold lies inside any interval the
# noise allows: the gate cannot rule the regression out (exit 4), and marks nothing
if [ "$(rc gate_aa)" = 4 ] && ! grep -q '%\*' "$T/o-aa/compare.txt" && grep -q 'INCONCLUSIVE' "$T/o-aa/compare.txt"; then
	pass gate_aa_tiny_threshold_inconclusive
else
	fail gate_aa_tiny_threshold_inconclusive "exit $(rc gate_aa): $(grep '\*$' "$T/o-aa/compare.txt" | head -3 | tr '\n' '|')"
fi
run gate_one base "$T/one.json" --results "$T/results" --out "$T/o-one" --no-plots --quiet --fail-on fault.major.p99:1%
if [ "$(rc gate_one)" = 4 ] && grep -q '^fault.major.p99 .*%?' "$T/o-one/compare.txt" &&
	grep -q 'n/a (need >=2 iterations per side)' "$T/o-one/compare.txt" && grep -q '<skipped' "$T/o-one/junit.xml"; then
	pass too_few_iterations_marked_na
else
	fail too_few_iterations_marked_na "exit $(rc gate_one)"
fi
run mwu base reg --results "$T/results" --out "$T/o-mwu" --no-plots --quiet --test mwu --fail-on fault.major.p99:10%
if [ "$(rc mwu)" = 1 ] && grep -q 'Mann-Whitney U' "$T/o-mwu/compare.txt"; then
	pass gate_with_mann_whitney
else
	fail gate_with_mann_whitney "exit $(rc mwu)"
fi

# Bad input: exit 2, the culprit named, nothing written.
expect_bad() { # name pattern args...
	local name=$1 pat=$2
	shift 2
	mkdir -p "$T/o-$name"
	run "$name" "$@" --out "$T/o-$name" --results "$T/results"
	if [ "$(rc "$name")" = 2 ] && grep -q -- "$pat" "$T/$name.err" && [ -z "$(ls -A "$T/o-$name")" ] &&
		[ ! -s "$T/$name.out" ]; then
		pass "$name"
	else
		fail "$name" "exit $(rc "$name"), out dir: $(ls -A "$T/o-$name" | tr '\n' ' '), stderr: $(head -c 300 "$T/$name.err")"
	fi
}
expect_bad corrupt_file_exit_2 "$T/bad/corrupt.json" base "$T/bad/corrupt.json"
expect_bad corrupt_in_dir_exit_2 "corrupt.json" base "$T/bad"
expect_bad schema_version_exit_2 'schema is "faultline-result/2"' "$T/bad/schema2.json" reg
expect_bad no_common_group_exit_2 'no (scenario, arch)' base "$T/bad/other.json"
expect_bad unknown_metric_exit_2 "unknown metric 'fault.majr.p99'" base reg --fail-on fault.majr.p99:5%
expect_bad bad_threshold_exit_2 "fault.major.p99:lots" base reg --fail-on fault.major.p99:lots
expect_bad unknown_label_exit_2 "nosuchlabel" base nosuchlabel
expect_bad bad_alpha_exit_2 "--alpha" base reg --alpha 7
run corrupt_newdir base "$T/bad/corrupt.json" --results "$T/results" --out "$T/never/created"
if [ "$(rc corrupt_newdir)" = 2 ] && [ ! -e "$T/never" ]; then
	pass bad_input_creates_no_directory
else
	fail bad_input_creates_no_directory "exit $(rc corrupt_newdir); $T/never exists: $([ -e "$T/never" ] && echo yes)"
fi
run nognuplot base reg --results "$T/results" --out "$T/o-nognuplot" --gnuplot "$T/no/gnuplot"
if [ "$(rc nognuplot)" = 3 ] && grep -q 'gnuplot-nox' "$T/nognuplot.err" && [ ! -e "$T/o-nognuplot" ]; then
	pass missing_gnuplot_exit_3
else
	fail missing_gnuplot_exit_3 "exit $(rc nognuplot): $(head -c 300 "$T/nognuplot.err")"
fi

# --- headline, formats, settings, inconclusive (issue: report) ---------------

# A scenario that declares its headline: the headline block lists exactly
# it, first; mmtests and LKP print the same means and changes.
HCONF='{"name": "crafted", "duration_s": 1, "report": {"headline": ["fault.touches_per_s", "fault.major.p99"]}}'
mkdir -p "$T/h"
CONFIG=$HCONF mkresult "$T/h/hb.json" hb crafted x86_64 faultline-result/1 \
	10:14:100000:500 12:14:101000:510 11:14:99500:490 13:14:100500:505
CONFIG=$HCONF mkresult "$T/h/hc.json" hc crafted x86_64 faultline-result/1 \
	10:15:50000:500 12:15:50500:510 11:15:49750:490 13:15:50250:505
run head "$T/h/hb.json" "$T/h/hc.json" --out "$T/o-head" --no-plots --quiet
txt="$T/o-head/compare.txt"
block=$(sed -n '/^Headline/,/^$/p' "$txt" | grep -E '^(fault|writer|[a-z_]+\.)' | awk '{print $1}' | tr '\n' ' ')
if [ "$(rc head)" = 0 ] && [ "$block" = "fault.major.p99 fault.touches_per_s " ] &&
	grep -q '^fault.touches_per_s .*-50\.[0-9][0-9]%\*' "$txt"; then
	pass headline_block_is_the_scenarios
else
	fail headline_block_is_the_scenarios "exit $(rc head), block '$block': $(sed -n '/^Headline/,/^$/p' "$txt" | tr '\n' '|')"
fi
# the mmtests row: Hmean for a rate, gain positive = better, stars when significant
mrow=$(grep -A1 'fault-touches_per_s' "$T/o-head/compare-mmtests.txt" | tr '\n' ' ' | sed 's/ *$//')
lrow=$(grep ' fault.touches_per_s$' "$T/o-head/compare-lkp.txt")
if [[ "$mrow" =~ ^Hmean\ +fault-touches_per_s\ +[0-9.]+\ \(\ +0\.00%\)\ +[0-9.]+\ \*\ *-50\.[0-9][0-9]%\*$ ]] &&
	[ "$(grep -c 'fault-touches_per_s' "$T/o-head/compare-mmtests.txt")" = 1 ] &&
	[[ "$lrow" =~ -50\.[0-9]%\  ]]; then
	pass mmtests_and_lkp_rows
else
	fail mmtests_and_lkp_rows "mmtests '$mrow', lkp '$lrow'"
fi
# the same numbers in all three: the candidate's mean touches/s
want=$(grep '^fault.touches_per_s ' "$txt" | awk '{print $4}')
lkpv=$(echo "$lrow" | sed 's/± *[0-9]*%//g' | awk '{print $3}')
if [ -n "$want" ] && awk -v a="$want" -v b="$lkpv" 'BEGIN { exit !(a - b < 1 && b - a < 1) }'; then
	pass formats_print_the_same_numbers
else
	fail formats_print_the_same_numbers "text '$want', lkp '$lkpv'"
fi
for f in compare.txt compare-mmtests.txt compare-lkp.txt; do
	long=$(awk 'length($0) > 72 { printf "line %d: %d columns; ", NR, length($0) }' "$T/o-head/$f")
	if [ -z "$long" ]; then pass "width_72_$f"; else fail "width_72_$f" "$long"; fi
done
# an --out that another user could change (world-writable, even sticky) is
# refused with exit 2 before anything is written (inside a safe one,
# fl-report's temporaries are new files: O_EXCL | O_NOFOLLOW after an unlink)
mkdir -m 1777 "$T/shared"
"$REPORT" "$T/h/hb.json" "$T/h/hc.json" --out "$T/shared/o" --no-plots --quiet >/dev/null 2>&1
rc1=$?
chmod 1777 "$T/shared"
"$REPORT" "$T/h/hb.json" "$T/h/hc.json" --out "$T/shared" --no-plots --quiet >"$T/shared.err" 2>&1
rc2=$?
if [ "$rc1" = 0 ] && [ "$rc2" = 2 ] && grep -q 'writable by group or other' "$T/shared.err" && [ ! -e "$T/shared/compare.txt" ]; then
	pass out_dir_unsafe_refused
else
	fail out_dir_unsafe_refused "exit $rc1 in a fresh directory below (want 0), $rc2 in the world-writable one (want 2): $(head -c 200 "$T/shared.err")"
fi

# golden files: the three layouts of this comparison, byte for byte (the
# temporary directory's name, always of one length, replaced by T);
# UPDATE_GOLDEN=1 rewrites them after a deliberate change of layout
for f in compare.txt compare-mmtests.txt compare-lkp.txt; do
	g=tests/data/golden-report-$f
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		sed "s|$T|T|g" "$T/o-head/$f" >"$g"
	fi
	if [ -f "$g" ] && sed "s|$T|T|g" "$T/o-head/$f" | cmp -s - "$g"; then
		pass "golden_$f"
	else
		fail "golden_$f" "differs from $g: $(sed "s|$T|T|g" "$T/o-head/$f" | diff "$g" - | head -5 | tr '\n' '|')"
	fi
done
run head_mm "$T/h/hb.json" "$T/h/hc.json" --out "$T/o-head-mm" --no-plots --format mmtests
if [ "$(rc head_mm)" = 0 ] && cmp -s "$T/head_mm.out" "$T/o-head-mm/compare-mmtests.txt"; then
	pass format_mmtests_on_stdout
else
	fail format_mmtests_on_stdout "exit $(rc head_mm)"
fi
# --all prints the other rows too; the default only the significant ones
run head_all "$T/h/hb.json" "$T/h/hc.json" --out "$T/o-head-all" --no-plots --quiet --all
if grep -q '^writer.ops_per_s ' "$T/o-head-all/compare.txt" && grep -q 'All [0-9]* other metrics' "$T/o-head-all/compare.txt"; then
	pass all_prints_every_metric
else
	fail all_prints_every_metric "$(grep -c . "$T/o-head-all/compare.txt") lines"
fi

# Settings differ between two labels: refused with the key named; shown above
# the table with --allow-config-diff; each side's hash in compare.json
CONFIG='{"name": "crafted", "duration_s": 1, "victim": {"fault_threads": 4}}' mkresult "$T/h/d1.json" d1 crafted x86_64 \
	faultline-result/1 10:14:100000:500 12:14:101000:510
CONFIG='{"name": "crafted", "duration_s": 1, "victim": {"fault_threads": 8}}' mkresult "$T/h/d2.json" d2 crafted x86_64 \
	faultline-result/1 10:14:100000:500 12:14:101000:510
expect_bad config_differs_between_labels 'victim.fault_threads: 4 -> 8' "$T/h/d1.json" "$T/h/d2.json"
run diff_ok "$T/h/d1.json" "$T/h/d2.json" --out "$T/o-diff" --no-plots --quiet --allow-config-diff
if [ "$(rc diff_ok)" = 0 ] && tr '\n' ' ' <"$T/o-diff/compare.txt" | grep -q 'SETTINGS DIFFER.*victim.fault_threads: *4 *-> *8' &&
	[ "$(jq -r '.comparisons[0].baseline.config_hash != .comparisons[0].candidate.config_hash' "$T/o-diff/compare.json")" = true ]; then
	pass config_diff_shown_with_override
else
	fail config_diff_shown_with_override "exit $(rc diff_ok): $(head -c 300 "$T/diff_ok.err")"
fi
# ... and within one set: two files of one label with other settings
mkdir -p "$T/mixed"
cp "$T/h/d1.json" "$T/mixed/a.json"
jq '.label = "d1" | .config.victim.fault_threads = 16' "$T/h/d2.json" >"$T/mixed/b.json"
expect_bad config_differs_within_label 'pooling them would mix two experiments' "$T/h/d1.json" "$T/mixed"

# A large change the data cannot test (2 iterations a side, noisy): the gate
# says inconclusive (exit 4) with the iterations that would settle it
mkresult "$T/h/n1.json" n1 crafted x86_64 faultline-result/1 10:14:100000:500 12:14:80000:510
mkresult "$T/h/n2.json" n2 crafted x86_64 faultline-result/1 10:14:40000:500 12:14:70000:510
run noisy "$T/h/n1.json" "$T/h/n2.json" --out "$T/o-noisy" --no-plots --quiet --fail-on fault.touches_per_s:5%
if [ "$(rc noisy)" = 4 ] && tr '\n' ' ' <"$T/o-noisy/compare.txt" | grep -q 'gate fault.touches_per_s .*INCONCLUSIVE.*iterations *per *side' &&
	[ "$(jq -r '.comparisons[0].metrics[] | select(.name == "fault.touches_per_s") | .gate.verdict' "$T/o-noisy/compare.json")" = inconclusive ]; then
	pass gate_inconclusive_on_large_untestable_change
else
	fail gate_inconclusive_on_large_untestable_change "exit $(rc noisy): $(grep -A2 'gate fault' "$T/o-noisy/compare.txt" | tr '\n' '|')"
fi

# The catalogue listing
if "$REPORT" --list-metrics >"$T/lm" && grep -q '^mmap_lock.read_acq_per_kfault ' "$T/lm" && grep -q '^gup.reads_per_s ' "$T/lm"; then
	pass list_metrics
else
	fail list_metrics "$(head -3 "$T/lm" | tr '\n' '|')"
fi

exit $failed
