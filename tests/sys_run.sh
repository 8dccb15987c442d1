#!/usr/bin/env bash
# System tests of the runner: real workloads, briefly.  Prints PASS/FAIL/SKIP
# lines; exit 1 if any test failed.  Ends only processes it started, by pid.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FL=$BUILD/faultline
tmp=$(mktemp -d /tmp/faultline-systest.XXXXXX)
. tests/lib.sh
. tests/scenario_checks.sh
cleanup() {
	[ -n "${bg:-}" ] && kill -KILL "$bg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
leftover_cgroups() { [ -n "$cg_root" ] && find "$cg_root" -maxdepth 1 -name "faultline-$1-*" | grep -q .; }
jqr() { jq -r "$2" "$1"; }

# Short runs: small files in a private storage dir, so tests never depend on
# what an earlier run left in /var/tmp/faultline.
SHORT=(--set storage.path="$tmp/data" --set victim.files.size_bytes=16M --quiet)

# 1. a 5-second smoke run produces a valid result with real numbers (no
#    warm-up: the first touches after the drop are measured, so there are
#    major faults even where a fast disk and a memory controller without
#    pressure would let a warm-up fault every page in)
mkdir -p "$tmp/r1"
if "$FL" run bench/scenarios/smoke.json --duration 5 --warmup 0 --out "$tmp/r1" "${SHORT[@]}" --set victim.verify=true \
	>"$tmp/r1.out" 2>&1; then
	f=$(ls "$tmp"/r1/*.json 2>/dev/null | head -1)
	if [ -z "$f" ]; then fail smoke_5s "no result file"; 
	elif ! "$FL" validate "$f" >/dev/null 2>"$tmp/v.err"; then fail smoke_5s "invalid result: $(cat "$tmp/v.err")"
	else
		st=$(jqr "$f" .status); iso=$(jqr "$f" .environment.isolation)
		maj=$(jqr "$f" '.summary.counters["fault.major_faults"]')
		min=$(jqr "$f" '.summary.counters["fault.minor_faults"]')
		bad=$(jqr "$f" '.summary.counters["fault.verify_errors"]')
		ver=$(jqr "$f" '.summary.counters["fault.verified_pages"]')
		vm=$(jqr "$f" '.iterations[0].probes.vmstat.delta.pgfault')
		p99=$(jqr "$f" '.summary.roles.fault.histograms.minor.p99_ns')
		wr=$(jqr "$f" '.summary.roles.writer.histograms.mmap.count')
		ob=$(jqr "$f" '.summary.roles.observer.histograms.cmdline.count')
		why=""
		[ "$st" = ok ] || why="$why status=$st;"
		case "$iso" in full | partial | none) ;; *) why="$why isolation=$iso;" ;; esac
		# major faults need the drop to work: tmpfs or ramfs (a /tmp on
		# tmpfs) keep the files' pages whatever it asks
		if [ "$(jqr "$f" '.iterations[0].page_cache_resident_bytes_at_start >= .config.victim.files.count * .config.victim.files.size_bytes')" = true ]; then
			skip smoke_5s_major_faults "the files stayed in the page cache ($(jqr "$f" .storage.fs_magic)): no major faults"
		else
			[ "$maj" -gt 0 ] 2>/dev/null || why="$why major_faults=$maj;"
		fi
		[ "$min" -gt 0 ] 2>/dev/null || why="$why minor_faults=$min;"
		[ "$bad" = 0 ] || why="$why verify_errors=$bad;"
		[ "$ver" -gt 0 ] 2>/dev/null || why="$why verified_pages=$ver;"
		[ "$vm" -gt 0 ] 2>/dev/null || why="$why vmstat.pgfault=$vm;"
		[ "$wr" -gt 0 ] 2>/dev/null || why="$why writer mmap count=$wr;"
		[ "$ob" -gt 0 ] 2>/dev/null || why="$why observer cmdline count=$ob;"
		[ "$p99" != null ] || why="$why no minor p99;"
		# the closing lines: the kernel release, the scenario's headline from
		# the catalogue, rates per second (not raw counts)
		grep -q "^faultline: smoke on $(uname -r) (" "$tmp/r1.out" || why="$why summary lacks the kernel;"
		grep -q '^  headline (mean of 1 iteration):' "$tmp/r1.out" || why="$why no headline block;"
		grep -Eq '^    fault.touches_per_s +[0-9.]+ /s$' "$tmp/r1.out" || why="$why no headline rate;"
		grep -q 'writer.ops_per_s [0-9.]*/s' "$tmp/r1.out" || why="$why no writer rate;"
		[ -z "$why" ] && pass smoke_5s || fail smoke_5s "$why"
	fi
else
	fail smoke_5s "exit status $? ($(tail -3 "$tmp/r1.out" | tr '\n' ' '))"
fi

# 2. SIGINT mid-run: status interrupted, nothing left behind
mkdir -p "$tmp/r2"
"$FL" run bench/scenarios/smoke.json --duration 60 --out "$tmp/r2" "${SHORT[@]}" >"$tmp/r2.out" 2>&1 &
bg=$!
for _ in $(seq 100); do # wait until the measured phase has begun (the victim runs)
	pgrep -P "$bg" >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 2
kill -INT "$bg"
wait "$bg"; rc=$?; bg=""
f=$(ls "$tmp"/r2/*.json 2>/dev/null | head -1)
why=""
[ "$rc" -eq 1 ] || why="$why exit status $rc (expected 1);"
if [ -z "$f" ]; then why="$why no result written;"
else
	[ "$(jqr "$f" .status)" = interrupted ] || why="$why status $(jqr "$f" .status);"
	for pid in $(jqr "$f" '.iterations[] | .victim_pid, .observer_pid | select(. != null)'); do
		kill -0 "$pid" 2>/dev/null && why="$why workload pid $pid still alive;"
	done
fi
leftover_cgroups "$!" && why="$why cgroups left;"
ls -a "$tmp/r2" "$tmp/data" | grep -q 'tmp-' && why="$why temporary files left;"
grep -q "faultline-.*slowfs\|faultline" /proc/mounts && why="$why a mount left;"
[ -z "$why" ] && pass sigint_cleans_up || fail sigint_cleans_up "$why"

# 2b. the run's watchdog: status timeout, exit 1, nothing left behind
mkdir -p "$tmp/r2b"
"$FL" run bench/scenarios/smoke.json --duration 30 --timeout 4 --out "$tmp/r2b" "${SHORT[@]}" >"$tmp/r2b.out" 2>&1; rc=$?
f=$(ls "$tmp"/r2b/*.json 2>/dev/null | head -1)
why=""
[ "$rc" -eq 1 ] || why="$why exit status $rc;"
[ -n "$f" ] && [ "$(jqr "$f" .status)" = timeout ] || why="$why status $( [ -n "$f" ] && jqr "$f" .status);"
[ -n "$f" ] && for pid in $(jqr "$f" '.iterations[] | .victim_pid, .observer_pid | select(. != null)'); do
	kill -0 "$pid" 2>/dev/null && why="$why workload pid $pid still alive;"
done
# this run's group only: other runs (a user's, another test) may be going on
grp=$([ -n "$f" ] && jqr "$f" '.cgroup.group // empty')
[ -n "$cg_root" ] && [ -n "$grp" ] && [ -e "$cg_root/$grp" ] && why="$why cgroup $grp left;"
[ -z "$why" ] && pass timeout_watchdog || fail timeout_watchdog "$why"

# 2c. a stalling sample (FAULTLINE_TEST_SAMPLE_STALL_MS, test-only: every sample of the
# measured phase takes 2.5 s, like a read of the slowfs stats file behind queued FUSE
# requests) neither makes the runner sleep for minutes nor stretches the phase: a 3 s phase
# ends on time, the stall shows in sampling, the status stays ok (issue 15)
mkdir -p "$tmp/r2c"
t0=$(date +%s.%N)
FAULTLINE_TEST_SAMPLE_STALL_MS=2500 timeout --signal=INT 120 "$FL" run bench/scenarios/smoke.json --duration 3 \
	--warmup 0 --iterations 1 --out "$tmp/r2c" "${SHORT[@]}" >"$tmp/r2c.out" 2>&1; rc=$?
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
f=$(ls "$tmp"/r2c/*.json 2>/dev/null | head -1)
why=""
[ "$rc" -eq 0 ] || why="$why exit status $rc ($(tail -2 "$tmp/r2c.out" | tr '\n' ' '));"
awk -v t="$took" 'BEGIN { exit !(t < 30) }' || why="$why the run took $took s;"
if [ -z "$f" ]; then why="$why no result;"
else
	read -r st m o sk lg <<<"$(jq -r '[.status, .iterations[0].measured_s, .iterations[0].overrun_s,
		.iterations[0].sampling.skipped, .iterations[0].sampling.longest_sample_s] | @tsv' "$f")"
	[ "$st" = ok ] || why="$why status $st;"
	awk -v m="$m" 'BEGIN { exit !(m >= 2.9 && m < 3.3) }' || why="$why measured_s $m of 3;"
	awk -v o="$o" 'BEGIN { exit !(o < 0.3) }' || why="$why overrun_s $o;"
	awk -v l="$lg" 'BEGIN { exit !(l >= 2.4) }' || why="$why longest_sample_s $lg (the stall did not happen);"
	[ "$sk" -ge 1 ] 2>/dev/null || why="$why skipped $sk (a tick during the stall should be);"
	"$FL" validate "$f" >/dev/null 2>&1 || why="$why invalid result;"
fi
[ -z "$why" ] && pass stalled_sample_keeps_time || fail stalled_sample_keeps_time "$why"

# 2d. a runner that cannot stop the phase on time (SIGSTOPped across the end of a 2 s phase
# for 4 s; the workloads keep running): the overrun is recorded, the status is error, exit 1;
# and a result claiming ok with such an overrun does not validate
mkdir -p "$tmp/r2d"
"$FL" run bench/scenarios/smoke.json --duration 2 --warmup 0 --iterations 1 --out "$tmp/r2d" "${SHORT[@]}" \
	>"$tmp/r2d.out" 2>&1 &
bg=$!
for _ in $(seq 200); do # the observer is the last process started before the phase begins
	[ "$(pgrep -c -P "$bg")" -ge 2 ] && break
	sleep 0.05
done
sleep 1
kill -STOP "$bg"; sleep 4; kill -CONT "$bg"
wait "$bg"; rc=$?; bg=""
f=$(ls "$tmp"/r2d/*.json 2>/dev/null | head -1)
why=""
[ "$rc" -eq 1 ] || why="$why exit status $rc (expected 1);"
if [ -z "$f" ]; then why="$why no result;"
else
	read -r st ist o d <<<"$(jq -r '[.status, .iterations[0].status, .iterations[0].overrun_s,
		.iterations[0].duration_s] | @tsv' "$f")"
	[ "$st" = error ] && [ "$ist" = error ] || why="$why status $st / iteration $ist;"
	jq -r .status_reason "$f" | grep -q "overrun: the measured phase ran" || why="$why reason: $(jq -r .status_reason "$f");"
	awk -v o="$o" 'BEGIN { exit !(o > 1.5) }' || why="$why overrun_s $o;"
	[ "$d" = 2 ] || [ "$d" = 2.0 ] || why="$why duration_s $d;"
	"$FL" validate "$f" >/dev/null 2>&1 || why="$why the result does not validate;"
	jq '.status = "ok" | .iterations[0].status = "ok"' "$f" >"$tmp/r2d-forged.json"
	"$FL" validate "$tmp/r2d-forged.json" >/dev/null 2>"$tmp/r2d-v.err" &&
		why="$why a forged ok with overrun_s $o validates;"
	grep -q "overrun_s" "$tmp/r2d-v.err" || why="$why validate said: $(cat "$tmp/r2d-v.err");"
fi
[ -z "$why" ] && pass overrun_is_an_error || fail overrun_is_an_error "$why"

# 3. a bad scenario exits 2 and creates nothing
printf '{\n  "name": "bad",\n  "victim": { "fault_threads": -3 },\n  "storage": { "path": "%s" }\n}\n' \
	"$tmp/never" >"$tmp/bad.json"
mkdir -p "$tmp/r3"
before=$(ls "$cg_root" 2>/dev/null | grep -c faultline)
"$FL" run "$tmp/bad.json" --out "$tmp/r3" >"$tmp/r3.out" 2>&1; rc=$?
after=$(ls "$cg_root" 2>/dev/null | grep -c faultline)
why=""
[ "$rc" -eq 2 ] || why="$why exit status $rc;"
grep -q "bad.json:3: victim.fault_threads: out of range" "$tmp/r3.out" || why="$why message: $(cat "$tmp/r3.out");"
[ -e "$tmp/never" ] && why="$why storage created;"
[ -n "$(ls -A "$tmp/r3")" ] && why="$why result written;"
[ "$before" = "$after" ] || why="$why cgroups created;"
[ -z "$why" ] && pass bad_scenario_exits_2 || fail bad_scenario_exits_2 "$why"

# 4. bad command-line input exits 2 with a message naming it
"$FL" run bench/scenarios/smoke.json --set victim.nope=1 --out "$tmp/r3" >"$tmp/r4.out" 2>&1; rc=$?
[ "$rc" -eq 2 ] && grep -q "victim.nope: unknown key" "$tmp/r4.out" && pass bad_set_exits_2 ||
	fail bad_set_exits_2 "status $rc: $(cat "$tmp/r4.out")"
"$FL" run bench/scenarios/smoke.json --set 'report.headline=["fault.majr.p99"]' --out "$tmp/r3" >"$tmp/r6.out" 2>&1; rc=$?
[ "$rc" -eq 2 ] && grep -q "report.headline: unknown metric 'fault.majr.p99' (did you mean 'fault.major.p99'?)" "$tmp/r6.out" &&
	pass headline_typo_exits_2 || fail headline_typo_exits_2 "status $rc: $(cat "$tmp/r6.out")"
# (a missing --out directory is created: tests/sys_first_hour.sh; one that cannot be is refused)
"$FL" run bench/scenarios/smoke.json --out /proc/faultline-nowhere/missing-dir >"$tmp/r5.out" 2>&1; rc=$?
[ "$rc" -eq 2 ] && grep -q "missing-dir" "$tmp/r5.out" && pass bad_out_dir_exits_2 ||
	fail bad_out_dir_exits_2 "status $rc: $(cat "$tmp/r5.out")"

# 5. --help documents the options and every scenario key
"$FL" run --help >"$tmp/help.out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q -- "--set KEY=VALUE" "$tmp/help.out" && grep -q "victim.fault_threads" "$tmp/help.out" &&
	grep -q "cgroup.protected.io_latency_target_us" "$tmp/help.out" && pass run_help ||
	fail run_help "status $rc"

# 6. the bundled scenarios all run briefly (shortened, no warm-up: the first
#    touches are measured) with whatever isolation there is, each showing
#    what it should on any kernel
for s in bench/scenarios/*.json; do
	name=$(basename "$s" .json)
	[ "$name" = smoke ] && continue
	mkdir -p "$tmp/s-$name"
	# antagonists shrunk like the files: fio's file 32 MiB, stress-ng 64 MiB
	# (tests/sys_antagonists.sh tests them); without their programs: skipped
	ant=()
	for a in $(jq -r '(.antagonists // {}) | to_entries[] | "\(.key)=\(.value.kind)"' "$s"); do
		case ${a#*=} in
		fio) ant+=(--set "antagonists.${a%=*}.size_bytes=32M") ;;
		stress-ng) ant+=(--set "antagonists.${a%=*}.bytes=64M") ;;
		esac
		command -v "${a#*=}" >/dev/null || { skip "scenario_$name" "${a#*=} is not installed"; continue 2; }
	done
	if "$FL" run "$s" --duration 2 --warmup 0 --iterations 1 --out "$tmp/s-$name" "${SHORT[@]}" "${ant[@]}" \
		--set victim.fault_threads=16 >"$tmp/s-$name.out" 2>&1; then
		# what holds on any kernel (tests/scenario_checks.sh)
		scenario_check "scenario_$name" "$(ls "$tmp/s-$name"/*.json | head -1)" 2
	else
		rc=$?
		if [ "$rc" = 3 ]; then # a missing resource (a program, a kernel feature the scenario requires)
			skip "scenario_$name" "exit 3: $(grep '^faultline: ' "$tmp/s-$name.out" | tail -1)"
		else
			fail "scenario_$name" "exit status $rc: $(tail -2 "$tmp/s-$name.out" | tr '\n' ' ')"
		fi
	fi
done
# 7. slowfs: slow, oversized storage; emulated memory pressure
if [ ! -w /dev/fuse ] || [ ! -x "$BUILD/fl-slowfs" ]; then
	skip slowfs_thrash "no /dev/fuse or no $BUILD/fl-slowfs"
	skip slowfs_inversion "no /dev/fuse or no $BUILD/fl-slowfs"
	skip slowfs_runner_sigkill "no /dev/fuse or no $BUILD/fl-slowfs"
else
	mkdir -p "$tmp/t7"
	if "$FL" run bench/scenarios/thrash.json --duration 4 --iterations 1 --quiet --out "$tmp/t7" \
		--set storage.type=slowfs --set victim.files.count=4 --set victim.files.size_bytes=1G \
		--set victim.fault_threads=64 --set pressure.mode=emulate >"$tmp/t7.out" 2>&1; then
		f=$(ls "$tmp"/t7/*.json | head -1)
		amp=$(jqr "$f" '.iterations[0].slowfs.read_amplification')
		ref=$(jqr "$f" '.iterations[0].probes.vmstat.delta.workingset_refault_file')
		mode=$(jqr "$f" .pressure.mode)
		# what the suite controls: pages re-read from slowfs under its own
		# emulated pressure; whether the kernel counts them as refaults
		# (shadow entries) varies by kernel and reclaim path, so it is
		# reported, not asserted (issue: tests that hold on any kernel)
		if awk -v a="$amp" 'BEGIN { exit !(a > 1) }' && [ "$mode" = emulated ]; then
			pass "slowfs_thrash (read amplification $amp, workingset_refault_file $ref)"
		else
			fail slowfs_thrash "read amplification $amp (want > 1), pressure $mode (want emulated); workingset_refault_file $ref"
		fi
	else
		fail slowfs_thrash "exit status $?: $(tail -3 "$tmp/t7.out" | tr '\n' ' ')"
	fi
	mkdir -p "$tmp/t8"
	lat=2000000
	if "$FL" run bench/scenarios/inversion.json --duration 3 --iterations 1 --quiet --out "$tmp/t8" \
		--set storage.type=slowfs --set storage.slowfs.latency_ns=$lat --set victim.files.size_bytes=256M \
		>"$tmp/t8.out" 2>&1; then
		f=$(ls "$tmp"/t8/*.json | head -1)
		p50=$(jqr "$f" '.summary.roles.fault.histograms.major.p50_ns')
		n=$(jqr "$f" '.summary.roles.fault.histograms.major.count')
		awk -v p="$p50" -v l=$lat 'BEGIN { exit !(p >= l) }' && [ "$n" -gt 0 ] && pass slowfs_inversion ||
			fail slowfs_inversion "major fault p50 $p50 ns over $n faults, want >= the storage latency $lat ns"
	else
		fail slowfs_inversion "exit status $?: $(tail -3 "$tmp/t8.out" | tr '\n' ' ')"
	fi
	# SIGKILL of the runner: the workloads and the daemon die with it and no mount stays
	mkdir -p "$tmp/t9"
	"$FL" run bench/scenarios/smoke.json --duration 60 --quiet --out "$tmp/t9" --set storage.type=slowfs \
		--set victim.files.size_bytes=64M >"$tmp/t9.out" 2>&1 &
	bg=$!
	for _ in $(seq 100); do grep -q "faultline-slowfs" /proc/mounts && break; sleep 0.1; done
	sleep 1
	kids=$(pgrep -P "$bg" | tr '\n' ' ')
	kill -KILL "$bg"; wait "$bg" 2>/dev/null; killed=$bg; bg=""
	gone=0
	for _ in $(seq 50); do
		grep -q "faultline-slowfs" /proc/mounts || { gone=1; break; }
		sleep 0.1
	done
	alive=""
	for k in $kids; do # dying takes a moment; a zombie waiting for init counts as gone
		for _ in $(seq 50); do
			st=$(ps -o stat= -p "$k" 2>/dev/null)
			[ -z "$st" ] || [ "${st#Z}" != "$st" ] && break
			sleep 0.1
		done
		st=$(ps -o stat= -p "$k" 2>/dev/null)
		[ -n "$st" ] && [ "${st#Z}" = "$st" ] && alive="$alive $k"
	done
	if [ "$gone" = 1 ] && [ -z "$alive" ] && [ -n "$kids" ]; then pass slowfs_runner_sigkill
	else fail slowfs_runner_sigkill "mount gone: $gone; children ($kids) still alive:$alive"; fi
	# what a SIGKILLed runner cannot remove itself: its (empty) groups and mount point
	for g in "$cg_root"/faultline-"$killed"-*; do
		[ -d "$g" ] && rmdir "$g"/victim "$g"/protected "$g" 2>/dev/null
	done
	rmdir /tmp/faultline-slowfs-* 2>/dev/null
fi
# 10. data files keyed by size and content version: two scenarios with
#     different file sizes alternate in one storage.path without rewriting
#     each other's files (the result's storage.files_created/files_reused,
#     and the files' inodes and mtimes)
mkdir -p "$tmp/k"
kd=$tmp/kdata
keyrun() { # NAME SCENARIO SIZE: a 1-second run; f = its result
	"$FL" run "bench/scenarios/$2.json" --duration 1 --iterations 1 --quiet --out "$tmp/k" \
		--set storage.path="$kd" --set victim.files.size_bytes="$3" --label "$1" >"$tmp/k-$1.out" 2>&1
	f=$(ls "$tmp"/k/*-"$1"-*.json 2>/dev/null | head -1)
	[ -n "$f" ] && echo "$(jqr "$f" .storage.files_created) $(jqr "$f" .storage.files_reused) $(jqr "$f" .storage.files_dir)"
}
s1=$(keyrun ka smoke 16M); stamp1=$(stat -c '%n %i %Y' "$kd"/files-16M-v1/data-* 2>/dev/null)
s2=$(keyrun kb mmap-writer 24M)
s3=$(keyrun kc smoke 16M); stamp3=$(stat -c '%n %i %Y' "$kd"/files-16M-v1/data-* 2>/dev/null)
s4=$(keyrun kd mmap-writer 24M)
why=""
[ "$s1" = "4 0 $kd/files-16M-v1" ] || why="$why smoke first: created/reused/dir '$s1';"
[ "$s2" = "1 0 $kd/files-24M-v1" ] || why="$why mmap-writer first: '$s2';"
[ "$s3" = "0 4 $kd/files-16M-v1" ] || why="$why smoke again: '$s3' (want 0 created, 4 reused);"
[ "$s4" = "0 1 $kd/files-24M-v1" ] || why="$why mmap-writer again: '$s4';"
[ -n "$stamp1" ] && [ "$stamp1" = "$stamp3" ] || why="$why the 16M files changed (inode/mtime);"
[ "$(stat -c %s "$kd"/files-24M-v1/data-000000 2>/dev/null)" = 25165824 ] || why="$why 24M file size;"
[ -z "$why" ] && pass storage_keyed_alternate || fail storage_keyed_alternate "$why"

# 11. the free-space check covers every file to be created, together: on a
#     200 MiB tmpfs (mounted here, unmounted after), 4 files of 40 MiB fit
#     one at a time (40 + 64 MiB headroom) but not together (160 + 64):
#     refused before any is written; 2 of them (80 + 64) are created
small=$tmp/small
if ! mkdir -p "$small" || ! mount -t tmpfs -o size=200M,mode=0755 faultline-systest "$small" 2>/dev/null; then
	skip storage_total_space "cannot mount a tmpfs"
else
	"$FL" run bench/scenarios/smoke.json --duration 1 --iterations 1 --quiet --out "$tmp/k" --label ts1 \
		--set storage.path="$small" --set victim.files.size_bytes=40M >"$tmp/ts1.out" 2>&1; rc1=$?
	left=$(find "$small" -type f | wc -l)
	"$FL" run bench/scenarios/smoke.json --duration 1 --iterations 1 --quiet --out "$tmp/k" --label ts2 \
		--set storage.path="$small" --set victim.files.size_bytes=40M --set victim.files.count=2 \
		>"$tmp/ts2.out" 2>&1; rc2=$?
	f2=$(ls "$tmp"/k/*-ts2-*.json 2>/dev/null | head -1)
	why=""
	[ "$rc1" = 1 ] || why="$why 4 files: exit $rc1 (want 1);"
	grep -q "the 4 missing files of 40M (victim.files.size_bytes) need 160 MiB together" "$tmp/ts1.out" ||
		why="$why no total in the message: $(grep storage "$tmp/ts1.out" | head -2 | tr '\n' ' ');"
	[ "$left" = 0 ] || why="$why $left file(s) written before the refusal;"
	[ "$rc2" = 0 ] && [ -n "$f2" ] && [ "$(jqr "$f2" .storage.files_created)" = 2 ] ||
		why="$why 2 files: exit $rc2, created $( [ -n "$f2" ] && jqr "$f2" .storage.files_created);"
	umount "$small" || why="$why umount $small failed;"
	[ -z "$why" ] && pass storage_total_space || fail storage_total_space "$why"
fi

# 12. ./run.sh clean: lists the suite's data files and results; removes them
#     only with --yes, and nothing that is not the suite's
echo mine >"$kd/notes.txt"
echo mine >"$kd/files-16M-v1/notes.txt"
echo '{}' >"$tmp/k/mine.json"
list=$(bash bench/storage/clean.sh --path "$kd" --results-dir "$tmp/k" 2>&1)
dry=$(bash bench/storage/clean.sh --data --results --path "$kd" --results-dir "$tmp/k" 2>&1)
n_before=$(find "$kd" "$tmp/k" -type f | wc -l)
bash bench/storage/clean.sh --yes --path "$kd" --results-dir "$tmp/k" >/dev/null 2>&1; rc_noyes=$?
bash bench/storage/clean.sh --data --results --yes --path "$kd" --results-dir "$tmp/k" >"$tmp/clean.out" 2>&1; rc=$?
why=""
grep -Eq '^  files-16M-v1/ +4 file' <<<"$list" || why="$why listing lacks files-16M-v1 (4 files);"
grep -Eq '^  files-24M-v1/ +1 file' <<<"$list" || why="$why listing lacks files-24M-v1;"
grep -q ' 6 result file' <<<"$list" || why="$why listing: $(grep result <<<"$list");"
grep -q 'dry run' <<<"$dry" || why="$why --data without --yes is no dry run;"
[ "$n_before" = "$((4 + 1 + 2 + 6 + 1))" ] || why="$why the dry run removed files ($n_before left);"
[ "$rc_noyes" = 2 ] || why="$why --yes alone: exit $rc_noyes (want 2);"
[ "$rc" = 0 ] || why="$why exit $rc;"
rest=$(cd "$tmp" && find kdata k -type f | sort | tr '\n' ' ')
[ "$rest" = "k/mine.json kdata/files-16M-v1/notes.txt kdata/notes.txt " ] || why="$why left: $rest;"
[ ! -d "$kd/files-24M-v1" ] || why="$why empty files-24M-v1 not removed;"
bash bench/storage/clean.sh --path relative/x >/dev/null 2>&1; [ $? = 2 ] || why="$why relative --path accepted;"
[ -z "$why" ] && pass clean_data_results || fail clean_data_results "$why"
exit $failed
