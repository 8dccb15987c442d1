#!/usr/bin/env bash
# System test of the calibration against fio (bench/calibrate/calibrate.sh,
# docs/calibrate.md): one short pair on a private 128 MiB file, its text and
# its record, bad options, an interrupted calibration, and a run afterwards
# carrying environment.calibration.  Prints PASS/FAIL/SKIP lines; exit 1 if
# anything failed.  Ends only processes it started, by pid.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FL=$BUILD/faultline
. tests/lib.sh
CAL=bench/calibrate/calibrate.sh
export FAULTLINE=$FL

if ! command -v fio >/dev/null; then
	skip calibrate "fio is not installed (./run.sh calibrate installs it)"
	exit 0
fi
if ! command -v jq >/dev/null; then
	skip calibrate "jq is not installed"
	exit 0
fi
tmp=$(mktemp -d /tmp/faultline-calib.XXXXXX)
bg=""
cleanup() {
	[ -n "$bg" ] && kill -KILL "$bg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export tmp
SMALL=(--size 128M --duration 2 --pairs 1 --storage "$tmp/data")

# 1. bad options: exit 2, a message naming the option, nothing made
for args in "--threads 0" "--threads x" "--size 5000" "--size 12Q" "--pairs 0" "--duration 0" \
	"--duration 1s" "--bogus" "--size 128M --threads 3" "--pairs"; do
	# shellcheck disable=SC2086
	"$CAL" --out "$tmp/bad" $args >"$tmp/bad.out" 2>&1
	rc=$?
	opt=${args%% *}
	if [ "$rc" -ne 2 ]; then
		fail "bad_option ${args}" "exit $rc, expected 2: $(head -c 300 "$tmp/bad.out")"
	elif ! grep -q -- "$opt" "$tmp/bad.out"; then
		fail "bad_option ${args}" "the message does not name $opt: $(head -c 300 "$tmp/bad.out")"
	elif [ -e "$tmp/bad" ]; then
		fail "bad_option ${args}" "it created $tmp/bad"
	else
		pass "bad_option ${args// /_}"
	fi
done

# 2. one pair: both sides' figures in the text, a valid record
if "$CAL" "${SMALL[@]}" --out "$tmp/out" >"$tmp/c.out" 2>"$tmp/c.err"; then
	rec=$(ls "$tmp"/out/calibration/calibration-*.json 2>/dev/null | head -1)
	why=""
	num='[0-9][0-9.]*'
	grep -Eq "^  1 +fio +$num +$num +$num +$num +$num " "$tmp/c.out" || why="$why no fio row;"
	grep -Eq "^  1 +suite +$num +$num +$num +$num +$num " "$tmp/c.out" || why="$why no suite row;"
	for m in p50_us p90_us p99_us p99.9_us reads_per_s; do
		grep -Eq "^  $m +$num +$num +[-+]?$num%" "$tmp/c.out" || why="$why no $m row with a difference;"
	done
	grep -q '^  load average (1, 5, 15 min): ' "$tmp/c.out" || why="$why no load average;"
	grep -q "^record: $rec " "$tmp/c.out" || why="$why the record is not named;"
	if [ -z "$rec" ]; then
		why="$why no record;"
	elif ! jq -e --arg host "$(uname -n)" --arg rel "$(uname -r)" '
		.schema == "faultline-calibration/1" and .machine.hostname == $host
		and .machine.kernel_release == $rel and (.machine.storage.device | test("^[0-9]+:[0-9]+$"))
		and .settings.threads == 1 and .settings.file_size_bytes == 134217728 and (.pairs | length) == 1
		and ([.pairs[0].fio, .pairs[0].suite][] | .p50_ns > 0 and .p90_ns >= .p50_ns and .p99_ns >= .p90_ns
			and .p99_9_ns >= .p99_ns and .reads_per_s > 0 and .resident_bytes_at_start == 0)
		and .pairs[0].suite.major_faults > 0 and .pairs[0].fio.error == 0
		and ([.summary.diff_pct[] | numbers] | length) == 5
		and (.settings.file | startswith($ENV.tmp + "/data/"))' "$rec" >/dev/null; then
		why="$why record fails its checks: $(jq -c '{machine, pairs, summary}' "$rec" | head -c 600);"
	fi
	ls "$tmp"/out/calibration/.*tmp* >/dev/null 2>&1 && why="$why a temporary was left;"
	[ -z "$why" ] && pass calibrate_pair || fail calibrate_pair "$why"
else
	fail calibrate_pair "exit $?: $(tail -5 "$tmp/c.err")"
	rec=""
fi

# 3. a run afterwards in the same --out and storage carries the record;
#    one of another machine (newer) is passed over; another --out has none
if [ -n "$rec" ]; then
	jq '.machine.hostname = "elsewhere" | .created_at = "9999-01-01T00:00:00Z"' "$rec" \
		>"$tmp/out/calibration/calibration-elsewhere-99990101T000000Z-1.json"
	RUN=(run bench/scenarios/smoke.json --duration 1 --quiet --set "storage.path=$tmp/data"
		--set victim.files.count=1 --set victim.files.size_bytes=128M --set victim.writer_threads=0
		--set observer.threads=0 --set probes.mmap_lock=off --set pressure.mode=off)
	if "$FL" "${RUN[@]}" --out "$tmp/out" >"$tmp/r.out" 2>&1; then
		res=$(ls "$tmp"/out/smoke-*.json | head -1)
		if ! "$FL" validate "$res" >"$tmp/v.out" 2>&1; then
			fail run_carries_calibration "invalid result: $(cat "$tmp/v.out")"
		elif jq -e --arg rec "$rec" --slurpfile r "$rec" '.environment.calibration as $c
			| $c.file == $rec and $c.summary == $r[0].summary and $c.threads == 1
			and $c.created_at == $r[0].created_at' "$res" >/dev/null; then
			pass run_carries_calibration
		else
			fail run_carries_calibration "environment.calibration: $(jq -c .environment.calibration "$res" | head -c 400)"
		fi
	else
		fail run_carries_calibration "run failed: $(tail -3 "$tmp/r.out")"
	fi
	if "$FL" "${RUN[@]}" --out "$tmp/other" >"$tmp/r2.out" 2>&1 &&
		jq -e '.environment | has("calibration") and .calibration == null' "$tmp"/other/smoke-*.json >/dev/null; then
		pass run_without_calibration
	else
		fail run_without_calibration "$(tail -3 "$tmp/r2.out"; jq -c .environment.calibration "$tmp"/other/smoke-*.json 2>&1)"
	fi
else
	skip run_carries_calibration "no record from calibrate_pair"
fi

# 4. SIGTERM during fio: exit 1, fio ended, no record and no raw directory left
"$CAL" --size 128M --duration 20 --pairs 1 --storage "$tmp/data" --out "$tmp/int" >"$tmp/i.out" 2>"$tmp/i.err" &
bg=$!
for _ in $(seq 1 300); do
	grep -q 'pair 1/1: fio' "$tmp/i.err" 2>/dev/null && break
	sleep 0.1
done
sleep 1
fio_pid=$(pgrep -P "$bg" -x fio | head -1)
kill -TERM "$bg"
wait "$bg"
rc=$?
bg=""
why=""
[ "$rc" -eq 1 ] || why="$why exit $rc, expected 1;"
[ -n "$fio_pid" ] || why="$why fio was not found running under calibrate;"
[ -n "$fio_pid" ] && kill -0 "$fio_pid" 2>/dev/null && why="$why fio $fio_pid still runs;"
[ -z "$(ls -A "$tmp/int/calibration" 2>/dev/null)" ] || why="$why left: $(ls -A "$tmp/int/calibration");"
[ -z "$why" ] && pass calibrate_interrupted || fail calibrate_interrupted "$why"
exit $failed
