#!/usr/bin/env bash
# System tests of the antagonists (bench/antagonists/, docs/scenarios.md):
# inversion-fio and thrash-stressng, shrunk to seconds, run their fio and
# stress-ng antagonists, whose figures appear in the result and the
# runner's summary, and nothing of theirs is left (process, cgroup, fio
# file, directory) after a normal end, a SIGINT of the runner and a SIGKILL
# of the runner (the next run reaps what a SIGKILLed runner could not
# remove); a scenario whose antagonist's program is missing exits 3 before
# making anything; one that ends early makes the iteration an error.  About
# 40 s.  Prints PASS/FAIL/SKIP lines; exit 1 if any
# test failed.  Ends only processes it started, by pid.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FL=$BUILD/faultline
tmp=$(mktemp -d /tmp/flanttest.XXXXXX)
. tests/lib.sh
cleanup() {
	[ -n "${bg:-}" ] && kill -KILL "$bg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
jqr() { jq -r "$2" "$1"; }
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
data=$tmp/data
have_fio=$(command -v fio)
have_sng=$(command -v stress-ng)
# small and brief: 2 x 16 MiB victim files, a 32 MiB fio file at 8 MiB/s
# (the disk is shared), 64 MiB of stress-ng
SMALL=(--iterations 1 --set storage.path="$data" --set victim.files.size_bytes=16M --set victim.files.count=2
	--set victim.fault_threads=4 --set observer.rate_per_s=20)
FIO=(--set antagonists.storm.size_bytes=32M --set antagonists.storm.numjobs=1 --set antagonists.storm.iodepth=4
	--set antagonists.storm.bs_bytes=16K --set antagonists.storm.rate_bytes_per_s=8M)
SNG=(--set antagonists.reclaim.bytes=64M --set antagonists.reclaim.workers=1)
BOTH=(--set antagonists.mem.kind=stress-ng --set antagonists.mem.bytes=64M)

# run NAME SCENARIO ARGS...: into $tmp/NAME; rc, f (result), out (stdout + stderr)
run() {
	local name=$1 scen=$2
	shift 2
	mkdir -p "$tmp/$name"
	"$FL" run "bench/scenarios/$scen.json" --out "$tmp/$name" "$@" >"$tmp/$name.out" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	out=$tmp/$name.out
	f=$(ls "$tmp/$name"/*.json 2>/dev/null | head -1)
}

# alive PID...: those still running (a zombie waiting for init counts as gone), after up to 5 s
alive() {
	local p st left=""
	for p in "$@"; do
		for _ in $(seq 50); do
			st=$(ps -o stat= -p "$p" 2>/dev/null)
			{ [ -z "$st" ] || [ "${st#Z}" != "$st" ]; } && break
			sleep 0.1
		done
		st=$(ps -o stat= -p "$p" 2>/dev/null)
		[ -n "$st" ] && [ "${st#Z}" = "$st" ] && left="$left $p"
	done
	echo "$left"
}

# leftovers RUNNER_PID: what of that run is still there (groups, antagonist directory, fio file)
leftovers() {
	local what=""
	[ -n "$cg_root" ] && ls -d "$cg_root"/faultline-"$1"-* >/dev/null 2>&1 && what="$what cgroup"
	ls -d "$data"/antagonists-"$1"-* >/dev/null 2>&1 && what="$what $(ls -d "$data"/antagonists-"$1"-*)"
	[ -n "$(find "$data" -name '*.fio' 2>/dev/null)" ] && what="$what fio-file"
	echo "$what"
}

# descendants PID: every process under it
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# 1. a missing program: exit 3 before anything is made (no storage
#    directory, no cgroup), and the message names the package
mkdir -p "$tmp/nobin"
ln -s "$(command -v sh)" "$tmp/nobin/sh"
mkdir -p "$tmp/missing"
PATH=$tmp/nobin "$FL" run bench/scenarios/inversion-fio.json --out "$tmp/missing" --quiet --duration 1 \
	--set storage.path="$tmp/never" >"$tmp/missing.out" 2>&1 &
pid=$!
wait "$pid"
rc=$?
why=""
[ "$rc" = 3 ] || why="$why exit $rc (want 3);"
grep -q "antagonists.storm: kind fio needs the program fio.*Debian package fio" "$tmp/missing.out" ||
	why="$why message: $(head -c 300 "$tmp/missing.out");"
[ -e "$tmp/never" ] && why="$why storage.path made;"
[ -n "$(leftovers "$pid")" ] && why="$why left: $(leftovers "$pid");"
ls "$tmp/missing"/*.json >/dev/null 2>&1 && why="$why a result was written;"
[ -z "$why" ] && pass "antagonist_missing_program_exit3" || fail antagonist_missing_program_exit3 "$why"

# 2. fio in inversion-fio: its figures in the result and the summary; nothing left
if [ -z "$have_fio" ]; then
	skip antagonist_fio "fio is not installed (./run.sh test installs it)"
else
	run fio inversion-fio --duration 3 "${SMALL[@]}" "${FIO[@]}"
	why=""
	if [ "$rc" != 0 ] || [ -z "$f" ]; then
		why="exit $rc: $(tail -3 "$out" | tr '\n' ' ')"
	else
		a='.iterations[0].antagonists.storm'
		bw=$(jqr "$f" "$a.read_bw_bytes_per_s"); p99=$(jqr "$f" "$a.read_clat_p99_ns")
		fpid=$(jqr "$f" "$a.pid")
		[ "$(jqr "$f" "$a.kind")" = fio ] || why="$why kind $(jqr "$f" "$a.kind");"
		awk -v b="$bw" 'BEGIN { exit !(b > 0) }' || why="$why read_bw_bytes_per_s=$bw ($(jqr "$f" "$a.output_error"));"
		awk -v b="$bw" 'BEGIN { exit !(b < 8 * 1048576 * 1.5) }' || why="$why read_bw_bytes_per_s=$bw over its 8 MiB/s rate;"
		awk -v p="$p99" 'BEGIN { exit !(p > 0) }' || why="$why read_clat_p99_ns=$p99;"
		[ "$(jqr "$f" "$a.stop")" = "graceful (SIGTERM)" ] || why="$why stop $(jqr "$f" "$a.stop");"
		[ "$(jqr "$f" "$a.error")" = 0 ] || why="$why fio error $(jqr "$f" "$a.error");"
		[ "$(jqr "$f" .config.antagonists.storm.direct)" = true ] || why="$why config.antagonists not resolved;"
		grep -q "antagonist.fio.read_bw_bytes_per_s" "$out" || why="$why not in the runner's summary;"
		[ -n "$(alive "$fpid")" ] && why="$why fio $fpid still running;"
		[ -n "$(leftovers "$pid")" ] && why="$why left:$(leftovers "$pid");"
	fi
	[ -z "$why" ] && pass "antagonist_fio (read $bw bytes/s, clat p99 $p99 ns)" || fail antagonist_fio "$why"
fi

# 3. stress-ng in thrash-stressng: its bytes, workers and exit status; nothing left
if [ -z "$have_sng" ]; then
	skip antagonist_stressng "stress-ng is not installed (./run.sh test installs it)"
else
	run sng thrash-stressng --duration 2 "${SMALL[@]}" "${SNG[@]}" --set victim.writer_threads=1
	why=""
	if [ "$rc" != 0 ] || [ -z "$f" ]; then
		why="exit $rc: $(tail -3 "$out" | tr '\n' ' ')"
	else
		a='.iterations[0].antagonists.reclaim'
		spid=$(jqr "$f" "$a.pid")
		[ "$(jqr "$f" "$a.bytes")" = $((64 << 20)) ] || why="$why bytes $(jqr "$f" "$a.bytes");"
		[ "$(jqr "$f" "$a.workers")" = 1 ] || why="$why workers $(jqr "$f" "$a.workers");"
		[ "$(jqr "$f" "$a.exit_status")" = 0 ] || why="$why exit_status $(jqr "$f" "$a.exit_status");"
		awk -v n="$(jqr "$f" "$a.bogo_ops")" 'BEGIN { exit !(n > 0) }' || why="$why bogo_ops $(jqr "$f" "$a.bogo_ops");"
		awk -v n="$(jqr "$f" "$a.max_rss_bytes")" 'BEGIN { exit !(n > 32 * 1048576) }' ||
			why="$why max_rss_bytes $(jqr "$f" "$a.max_rss_bytes") (it should hold its 64 MiB);"
		[ "$(jqr "$f" .pressure.mode)" = none ] || why="$why pressure $(jqr "$f" .pressure.mode) (the evictor ran);"
		grep -q "antagonist.stress_ng.bytes" "$out" || why="$why not in the runner's summary;"
		[ -n "$(alive "$spid")" ] && why="$why stress-ng $spid still running;"
		[ -n "$(leftovers "$pid")" ] && why="$why left:$(leftovers "$pid");"
	fi
	[ -z "$why" ] && pass "antagonist_stressng (64 MiB, $(jqr "$f" "$a.bogo_ops") bogo ops)" ||
		fail antagonist_stressng "$why"
fi

if [ -z "$have_fio" ] || [ -z "$have_sng" ]; then
	skip antagonist_sigint "needs fio and stress-ng"
	skip antagonist_sigkill "needs fio and stress-ng"
	exit $failed
fi

# start_both NAME: inversion-fio with a stress-ng antagonist too, for 30 s,
# in the background (bg); returns once both antagonists run (their logs
# exist, then a second more) or the run ended
start_both() {
	mkdir -p "$tmp/$1"
	"$FL" run bench/scenarios/inversion-fio.json --out "$tmp/$1" --quiet --duration 30 "${SMALL[@]}" "${FIO[@]}" \
		"${BOTH[@]}" >"$tmp/$1.out" 2>&1 &
	bg=$!
	for _ in $(seq 300); do
		ls "$data"/antagonists-"$bg"-*/mem.log "$data"/antagonists-"$bg"-*/storm.log >/dev/null 2>&1 && break
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1.5
}

# 4. SIGINT of the runner: status interrupted, both antagonists stopped
#    and recorded, nothing left
start_both int
kids=$(descendants "$bg" | tr '\n' ' ')
kill -INT "$bg"
wait "$bg"
rc=$?
f=$(ls "$tmp/int"/*.json 2>/dev/null | head -1)
why=""
[ "$rc" = 1 ] || why="$why exit $rc (want 1);"
[ -n "$f" ] && [ "$(jqr "$f" .status)" = interrupted ] || why="$why status $([ -n "$f" ] && jqr "$f" .status);"
[ -n "$f" ] && [ "$(jqr "$f" '.iterations[0].antagonists | keys | join(",")')" = "mem,storm" ] ||
	why="$why antagonists in the result: $([ -n "$f" ] && jqr "$f" '.iterations[0].antagonists | keys');"
echo "$kids" | grep -q '[0-9]' || why="$why no processes seen under the runner;"
# shellcheck disable=SC2086
left=$(alive $kids)
[ -n "$left" ] && why="$why still running:$left;"
[ -n "$(leftovers "$bg")" ] && why="$why left:$(leftovers "$bg");"
[ -z "$why" ] && pass "antagonist_sigint (stopped: $(echo $kids | wc -w) processes)" || fail antagonist_sigint "$why"
bg=""

# 5. SIGKILL of the runner: its processes die with it (PR_SET_PDEATHSIG;
#    stress-ng's workers through stress-ng's own); what it could not
#    remove (groups, the antagonist directory with the fio file) the next
#    run removes
start_both kill
kids=$(descendants "$bg" | tr '\n' ' ')
killed=$bg
{ kill -KILL "$bg"; wait "$bg"; sleep 0.2; } 2>/dev/null # no "Killed" line from the shell
bg=""
why=""
# shellcheck disable=SC2086
[ "$(echo $kids | wc -w)" -ge 5 ] || why="$why only $(echo $kids | wc -w) processes seen under the runner ($kids);"
# shellcheck disable=SC2086
left=$(alive $kids)
[ -n "$left" ] && why="$why still running after the runner's SIGKILL:$left;"
before=$(leftovers "$killed")
echo "$before" | grep -q antagonists- || why="$why no antagonist directory to reap ($before);"
run reap smoke --duration 1 "${SMALL[@]}"
[ "$rc" = 0 ] || why="$why the next run: exit $rc;"
grep -q "removing $data/antagonists-$killed-.* left by runner $killed" "$out" || why="$why the next run did not say it removed the directory;"
[ -n "$(leftovers "$killed")" ] && why="$why left after the next run:$(leftovers "$killed");"
[ -z "$why" ] && pass "antagonist_sigkill (reaped:$before)" || fail antagonist_sigkill "$why"

# 6. an antagonist that ends before the workloads are stopped ends the
#    measured phase: the iteration is error, with its exit and its last
#    words (a stand-in fio on PATH that lays out its file and then fails)
mkdir -p "$tmp/fakebin"
cat >"$tmp/fakebin/fio" <<'FAKE'
#!/bin/sh
for a in "$@"; do
	case "$a" in --filename=*) f=${a#--filename=} ;; --size=*) s=${a#--size=} ;; --create_only=1) c=1 ;; esac
done
[ -n "${c:-}" ] && { truncate -s "$s" "$f"; exit 0; }
echo "fake fio: the disk went away"
exit 7
FAKE
chmod +x "$tmp/fakebin/fio"
PATH=$tmp/fakebin:$PATH run early inversion-fio --duration 20 "${SMALL[@]}" "${FIO[@]}"
why=""
if [ -z "$f" ]; then
	why="no result (exit $rc): $(tail -3 "$out" | tr '\n' ' ')"
else
	[ "$rc" = 1 ] || why="$why exit $rc (want 1);"
	[ "$(jqr "$f" '.iterations[0].status')" = error ] || why="$why iteration status $(jqr "$f" '.iterations[0].status');"
	jqr "$f" .status_reason | grep -q "the fio antagonist 'storm' ended before the workloads were stopped: exited with status 7: fake fio: the disk went away" ||
		why="$why reason: $(jqr "$f" .status_reason);"
	awk -v m="$(jqr "$f" '.iterations[0].measured_s')" 'BEGIN { exit !(m < 10) }' ||
		why="$why the phase ran $(jqr "$f" '.iterations[0].measured_s') s of 20 (not ended by the early end);"
	[ -n "$(leftovers "$pid")" ] && why="$why left:$(leftovers "$pid");"
fi
[ -z "$why" ] && pass "antagonist_early_end_is_an_error" || fail antagonist_early_end_is_an_error "$why"
exit $failed
