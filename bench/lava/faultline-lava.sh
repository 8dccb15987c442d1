#!/bin/sh
# faultline under LAVA: the step of bench/lava/faultline.yaml.  Runs one
# scenario with the suite's static binaries and reports LAVA test cases:
#   SCENARIO.status         pass when the run's status is ok
#   SCENARIO.METRIC         one per report.headline metric: mean over the ok
#                           iterations, with its units (faultline export)
#   SCENARIO.gate           the verdict of fl-report --fail-on against BASELINE
#                           (pass/fail; skip without a baseline); when the gate
#                           cannot judge, a fail line SCENARIO.gate.bad-input
#                           (fl-report exit 2) or SCENARIO.gate.missing-resource (3)
# LAVA runs steps under `set -e`: every outcome here, a regression included,
# is a result line, and the script exits 0.  Outside LAVA (no lava-test-case
# on PATH) the lines are printed as `NAME RESULT [MEASUREMENT UNITS]`.
#
# usage: faultline-lava.sh [--scenario S] [--duration S] [--iterations N]
#          [--set "K=V K=V"] [--baseline FILE|DIR] [--fail-on "M:P% ..."]
#          [--gate-pct P] [--out DIR] [--log-result yes|no]
# Without --fail-on, the gate covers every measured headline metric at
# --gate-pct percent (default 10).  --log-result yes (the default) prints the
# result JSON, gzip + base64, between FAULTLINE-RESULT-BEGIN/END lines, so
# that the host can take it out of the LAVA log (bench/lava/lava.sh extract)
# into results/ and the history.
set -u
FL_DIR=${FL_DIR:-/opt/faultline}
PATH=$FL_DIR/bin:$PATH
scenario=smoke duration=5 iterations=1 sets="" baseline="" fail_on="" gate_pct=10 out=/tmp/faultline-lava log_result=yes
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || { echo "faultline-lava: $1 needs a value" >&2; exit 2; }
	case "$1" in
	--scenario) scenario=$2 ;;
	--duration) duration=$2 ;;
	--iterations) iterations=$2 ;;
	--set) sets=$2 ;;
	--baseline) baseline=$2 ;;
	--fail-on) fail_on=$2 ;;
	--gate-pct) gate_pct=$2 ;;
	--out) out=$2 ;;
	--log-result) log_result=$2 ;;
	*) echo "faultline-lava: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift 2
done

case=$(echo "$scenario" | sed 's#.*/##; s#\.json$##; s#[^A-Za-z0-9._-]#_#g')
report() { # NAME RESULT [MEASUREMENT UNITS]
	if command -v lava-test-case >/dev/null 2>&1; then
		if [ $# -ge 4 ]; then
			lava-test-case "$1" --result "$2" --measurement "$3" --units "$4"
		else
			lava-test-case "$1" --result "$2"
		fi
	else
		echo "$*"
	fi
}

scen=$scenario
case "$scen" in
*/* | *.json) ;;
*) scen=$FL_DIR/scenarios/$scenario.json ;;
esac
[ -f "$scen" ] || { echo "faultline-lava: no scenario $scen"; report "$case.status" fail; report "$case.gate" fail; exit 0; }

# the victim's files on the suite's data disk when the device has one
setargs=""
if grep -q ' /data ' /proc/mounts 2>/dev/null; then
	setargs="--set storage.path=/data/faultline"
fi
for s in $sets; do
	setargs="$setargs --set $s"
done

rm -rf "$out"
mkdir -p "$out/results"
echo "faultline-lava: faultline run $scen --duration $duration --iterations $iterations $setargs"
rc=0
# shellcheck disable=SC2086 # setargs is a list of words
faultline run "$scen" --duration "$duration" --iterations "$iterations" $setargs --out "$out/results" --quiet \
	>"$out/run.log" 2>&1 || rc=$?
tail -n 40 "$out/run.log"
echo "faultline-lava: faultline run exited $rc"
result=$(ls -t "$out"/results/*.json 2>/dev/null | head -n 1)
if [ -z "$result" ]; then
	echo "faultline-lava: the run wrote no result"
	report "$case.status" fail
	report "$case.gate" fail
	exit 0
fi

if [ "$log_result" = yes ]; then
	echo "FAULTLINE-RESULT-BEGIN ${result##*/}"
	gzip -c "$result" | base64
	echo "FAULTLINE-RESULT-END"
fi

measured=""
if faultline export --format lava "$result" >"$out/lava.txt" 2>"$out/export.err"; then
	while read -r name res meas units; do
		if [ -n "$meas" ]; then
			report "$name" "$res" "$meas" "$units"
			measured="$measured ${name#"$case".}"
		else
			report "$name" "$res"
		fi
	done <"$out/lava.txt"
else
	cat "$out/export.err"
	report "$case.status" fail
fi

# the gate
if [ -z "$baseline" ]; then
	echo "faultline-lava: no baseline given: the gate is skipped"
	report "$case.gate" skip
	exit 0
fi
gate=""
if [ -n "$fail_on" ]; then
	for f in $fail_on; do gate="$gate --fail-on $f"; done
else
	for m in $measured; do gate="$gate --fail-on $m:$gate_pct%"; done
fi
grc=0
# shellcheck disable=SC2086
fl-report --no-plots --out "$out/report" $gate "$baseline" "$result" >"$out/gate.log" 2>&1 || grc=$?
cat "$out/gate.log"
case $grc in
0) report "$case.gate" pass ;;
1) echo "faultline-lava: gate: a significant regression past the threshold"; report "$case.gate" fail ;;
2) echo "faultline-lava: gate: fl-report found bad input (exit 2)"; report "$case.gate.bad-input" fail ;;
3) echo "faultline-lava: gate: fl-report is missing a resource (exit 3)"; report "$case.gate.missing-resource" fail ;;
*) echo "faultline-lava: gate: fl-report exited $grc"; report "$case.gate.error" fail ;;
esac
exit 0
