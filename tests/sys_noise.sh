#!/usr/bin/env bash
# System tests of what the runner does against run-to-run noise
# (docs/noise.md): CPU placement (cpus.* keys) of the runner, the workload
# processes and single roles, seen from /proc while the run is on; a bad CPU
# list refused with exit 2 and nothing made; the automatic warm-up; the
# per-iteration seed (fresh, vary, same); writeback before the page-cache
# drop; one run at a time on the same files; and report/cv.sh, whose cv%
# must equal sd/mean of the iterations' values.  About 45 s.  Prints
# PASS/FAIL/SKIP lines; exit 1 if any failed.
# Ends only processes it started, by pid.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FL=$BUILD/faultline
tmp=$(mktemp -d /tmp/flnoisetest.XXXXXX)
. tests/lib.sh
trap 'rm -rf "$tmp"' EXIT
SHORT=(--quiet --set storage.path="$tmp/data" --set victim.files.size_bytes=16M --set probes.mmap_lock=off)

# run NAME ARGS...: smoke into $tmp/NAME; sets f (result) and rc
run() {
	local name=$1
	shift
	mkdir -p "$tmp/$name"
	"$FL" run bench/scenarios/smoke.json --out "$tmp/$name" "${SHORT[@]}" "$@" >"$tmp/$name.out" 2>&1
	rc=$?
	f=$(ls "$tmp/$name"/*.json 2>/dev/null | head -1)
}

# cpus_of PID NAME: the Cpus_allowed_list of PID's threads named NAME (sorted, unique)
cpus_of() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && awk '/^Cpus_allowed_list/ { print $2 }' "$t/status" 2>/dev/null
	done | sort -u | tr '\n' ' '
}

# 1. placement: runner on CPU 0, writer threads on 1, fault threads and the
#    observer on 0, each seen in /proc while the run is on, and recorded
if [ "$(nproc)" -lt 2 ]; then
	skip placement "one CPU: nothing to place"
else
	mkdir -p "$tmp/place"
	"$FL" run bench/scenarios/smoke.json --out "$tmp/place" "${SHORT[@]}" --duration 6 --warmup 0 --iterations 1 \
		--set cpus.runner=0 --set cpus.writer=1 --set cpus.fault=0 --set cpus.observer=0 >"$tmp/place.out" 2>&1 &
	runner=$!
	seen="" victim="" observer=""
	for _ in $(seq 1 100); do
		for c in $(pgrep -P "$runner"); do
			case "$(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null)" in
			*"--process victim"*) victim=$c ;;
			*"--process observer"*) observer=$c ;;
			esac
		done
		if [ -n "$victim" ] && [ -n "$observer" ] && [ -n "$(cpus_of "$victim" writer)" ]; then
			# placed when created, before the start barrier
			seen="observer=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/$observer/status)"
			seen="$seen runner=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/$runner/status) writer=$(cpus_of "$victim" writer)"
			seen="$seen fault=$(cpus_of "$victim" fault)"
			break
		fi
		sleep 0.1
	done
	wait "$runner"
	rc=$?
	f=$(ls "$tmp/place"/*.json 2>/dev/null | head -1)
	want="observer=0 runner=0 writer=1  fault=0 "
	rec=$([ -n "$f" ] && jq -r '.iterations[0].placement | "\(.runner) \(.writer) \(.fault) \(.evictor) \(.observer) \(.cpus_allowed)"' "$f")
	allowed=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
	if [ "$rc" != 0 ] || [ -z "$f" ]; then fail placement "exit $rc: $(tail -3 "$tmp/place.out" | tr '\n' ' ')"
	elif [ "$allowed" != 0-1 ]; then skip placement "this shell may use CPUs $allowed, the test expects 0-1"
	elif [ "$seen" != "$want" ]; then fail placement "in /proc: '$seen', want '$want'"
	elif [ "$rec" != "0 1 0 0-1 0 0-1" ]; then fail placement "recorded '$rec', want '0 1 0 0-1 0 0-1'"
	else pass "placement ($seen)"
	fi
fi

# 2. a CPU list that is not one, or names a CPU this process may not use:
#    exit 2, the key and value named, no result and no data made
for v in "1-0" "$(nproc)"; do
	run "badcpu-$v" --duration 1 --set cpus.writer="$v" --set storage.path="$tmp/baddata"
	msg=$(head -1 "$tmp/badcpu-$v.out")
	if [ "$rc" = 2 ] && [ -z "$f" ] && [ ! -e "$tmp/baddata" ] && [[ $msg == *"cpus.writer"*"(value \"$v\")"* ]]; then
		pass "bad_cpus_refused ($v: $msg)"
	else
		fail bad_cpus_refused "cpus.writer=$v: exit $rc, result '${f:-}', message '$msg'"
	fi
done

# 3. the automatic warm-up (-1): 20% of the duration, at most 2 s, recorded
#    as seconds; a given one is kept; -0.5 is refused
run warm --duration 2 --iterations 1
w=$([ -n "$f" ] && jq -r '.config.warmup_s' "$f")
run warm2 --duration 2 --warmup 0.3 --iterations 1
w2=$([ -n "$f" ] && jq -r '.config.warmup_s' "$f")
run warmbad --duration 2 --warmup -0.5 --iterations 1
if [ "$w" = 0.4 ] && [ "$w2" = 0.3 ] && [ "$rc" = 2 ] && grep -q "warmup_s" "$tmp/warmbad.out"; then
	pass "warmup_auto (2 s run: $w s; given 0.3: $w2 s; -0.5 refused)"
else
	fail warmup_auto "automatic $w (want 0.4), given $w2 (want 0.3), -0.5 exit $rc"
fi

# 4. the seed per iteration: fresh draws distinct ones, vary is seed + i,
#    same is seed; each is recorded with its iteration; writeback ran
run fresh --duration 0.5 --warmup 0 --iterations 3
fresh=$([ -n "$f" ] && jq -c '[.iterations[].seed]' "$f")
distinct=$([ -n "$f" ] && jq '[.iterations[].seed] | unique | length' "$f")
wb=$([ -n "$f" ] && jq -r '[.iterations[] | .writeback_s >= 0] | all' "$f")
run vary --duration 0.5 --warmup 0 --iterations 3 --set seed=41 --set iteration.seed=vary
vary=$([ -n "$f" ] && jq -c '[.iterations[].seed]' "$f")
run same --duration 0.5 --warmup 0 --iterations 2 --set seed=41 --set iteration.seed=same \
	--set iteration.writeback=false
same=$([ -n "$f" ] && jq -c '[.iterations[].seed] + [.config.seed]' "$f")
off=$([ -n "$f" ] && jq -r '.iterations[0].writeback' "$f")
if [ "$distinct" = 3 ] && [ "$vary" = "[41,42,43]" ] && [ "$same" = "[41,41,41]" ] && [ "$wb" = true ] &&
	[[ $off == off* ]]; then
	pass "iteration_seed (fresh $fresh, vary $vary, same ${same%,41]}]; writeback timed, and off when asked)"
else
	fail iteration_seed "fresh $fresh ($distinct distinct), vary $vary, same $same, writeback_s all >= 0: $wb, off: '$off'"
fi

# 5. two runs on the same files: one waits for the other
#    (iteration.exclusive), says so, and records the wait; with the lock
#    off there is no wait
run lockA --duration 3 --warmup 0 --iterations 1 &
pidA=$!
sleep 1.5
run lockB --duration 0.5 --warmup 0 --iterations 1
wait "$pidA"
waits=$(for r in lockA lockB; do jq -r '.storage.exclusive_wait_s' "$tmp/$r"/*.json 2>/dev/null || echo none; done | tr '\n' ' ')
said=$(cat "$tmp/lockA.out" "$tmp/lockB.out" | grep -c "another run is using the files")
run lockC --duration 2 --warmup 0 --iterations 1 &
pidC=$!
sleep 1.5
run lockD --duration 0.5 --warmup 0 --iterations 1 --set iteration.exclusive=false
waitD=$([ -n "$f" ] && jq -r '.storage.exclusive_wait_s // "none"' "$f")
wait "$pidC"
if awk -v w="$waits" 'BEGIN { split(w, x, " "); exit !((x[1] > 0.5) + (x[2] > 0.5) == 1) }' && [ "$said" = 1 ] &&
	[ "$waitD" = none ]; then
	pass "exclusive_files (waits $waits s, one said so; unlocked: no wait)"
else
	fail exclusive_files "waits '$waits' s (want one > 0.5 s), said $said times; unlocked run's wait '$waitD'"
fi

# 6. report/cv.sh: its table's cv% is sd/mean of the iterations' values,
#    computed here from the result itself; a run of its own makes a table
if ! command -v jq >/dev/null; then
	skip cv_script "no jq"
else
	run cvsrc --duration 1 --warmup 0 --iterations 3
	out=$(report/cv.sh --build "$BUILD" --from "$f" 2>&1)
	got=$(awk '$1 == "fault.touches_per_s" { print $5 }' <<<"$out")
	want=$(jq -r '[.iterations[] | select(.status == "ok") | .roles.fault.counters.touches / .measured_s] |
		(add / length) as $m | (map((. - $m) * (. - $m)) | add / (length - 1) | sqrt) / $m * 100 |
		. * 10 | round / 10' "$f")
	own=$(BUILD=$BUILD report/cv.sh smoke --build "$BUILD" --iterations 2 --duration 1 --out "$tmp/cvrun" \
		--set storage.path="$tmp/data" --set victim.files.size_bytes=16M --set probes.mmap_lock=off 2>&1)
	rows=$(grep -cE '^  [a-z][a-z0-9_.]*( \(rate\))? +2 ' <<<"$own")
	if [ -n "$got" ] && awk -v a="$got" -v b="$want" 'BEGIN { exit !(a - b < 0.11 && b - a < 0.11) }' &&
		[ "$rows" -ge 4 ] && grep -q "conditions: victim CPU" <<<"$own"; then
		pass "cv_script (touches/s cv $got% = sd/mean $want%; own run: $rows metrics)"
	else
		fail cv_script "cv% '$got' vs sd/mean '$want'; own run $rows rows: $(head -5 <<<"$own" | tr '\n' ' ')"
	fi
fi
exit $failed
