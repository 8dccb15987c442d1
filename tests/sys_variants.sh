#!/usr/bin/env bash
# System tests of the scenario variants of issue 6: gup-odirect (O_DIRECT
# reads into unfaulted file mappings; a storage that refuses O_DIRECT),
# vma-retry-swap (anonymous memory paged out and faulted back; without swap
# the result must say so), and the probes.mmap_lock switch.  Each run is a
# few seconds.  Prints PASS/FAIL/SKIP lines; exit 1 if any test failed.
# Ends only processes it started, by pid.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FL=$BUILD/faultline
tmp=$(mktemp -d /tmp/flvartest.XXXXXX)
. tests/lib.sh
cleanup() {
	mountpoint -q "$tmp/ram" 2>/dev/null && umount "$tmp/ram"
	rm -rf "$tmp"
}
trap cleanup EXIT
jqr() { jq -r "$2" "$1"; }
cg_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
SHORT=(--duration 2 --iterations 1 --quiet --set storage.path="$tmp/data" --set victim.files.size_bytes=16M
	--set victim.fault_threads=4)

# run NAME SCENARIO ARGS...: run into $tmp/NAME; sets f (result) and rc
run() {
	local name=$1 scen=$2
	shift 2
	mkdir -p "$tmp/$name"
	"$FL" run "bench/scenarios/$scen.json" --out "$tmp/$name" "$@" >"$tmp/$name.out" 2>&1
	rc=$?
	f=$(ls "$tmp/$name"/*.json 2>/dev/null | head -1)
}

# 1. O_DIRECT reads on a disk directory: reads land (content verified) and
#    their buffers are faulted in by GUP (major faults counted in the read)
run od_dir gup-odirect "${SHORT[@]}" --set storage.type=dir --set victim.verify=true
fs=$(stat -f -c %T "$tmp")
if [ "$fs" = tmpfs ] || [ "$fs" = ramfs ]; then # a /tmp in memory: no reads from storage to fault in
	skip odirect_dir "$tmp is on $fs: its pages never leave memory, so the buffers take no major faults"
elif [ "$rc" != 0 ] || [ -z "$f" ]; then fail odirect_dir "exit $rc: $(tail -3 "$tmp/od_dir.out" | tr '\n' ' ')"
else
	c='.iterations[0].roles.odirect.counters'
	reads=$(jqr "$f" "$c.reads"); maj=$(jqr "$f" "$c.buffer_major_faults"); err=$(jqr "$f" "$c.errors")
	ver=$(jqr "$f" "$c.verified_reads"); bad=$(jqr "$f" "$c.verify_errors")
	n=$(jqr "$f" '.summary.roles.odirect.histograms.read.count')
	why=""
	[ "$(jqr "$f" .status)" = ok ] || why="$why status $(jqr "$f" .status);"
	[ "$reads" -gt 0 ] 2>/dev/null || why="$why reads=$reads;"
	[ "$n" = "$reads" ] || why="$why histogram count $n != reads $reads;"
	[ "$maj" -gt 0 ] 2>/dev/null || why="$why buffer_major_faults=$maj;"
	[ "$err" = 0 ] || why="$why errors=$err ($(jqr "$f" "$c.last_errno"));"
	[ "$ver" = "$reads" ] && [ "$bad" = 0 ] || why="$why verified $ver of $reads, $bad bad;"
	[ -z "$why" ] && pass "odirect_dir ($reads reads, $maj buffer major faults)" || fail odirect_dir "$why"
fi

# 2. the same on slowfs (2 ms per request): a read waits for its buffer's
#    faults, so it takes at least one storage round trip
if [ ! -w /dev/fuse ] || [ ! -x "$BUILD/fl-slowfs" ]; then
	skip odirect_slowfs "no /dev/fuse or no $BUILD/fl-slowfs"
else
	run od_fuse gup-odirect "${SHORT[@]}"
	if [ "$rc" != 0 ] || [ -z "$f" ]; then fail odirect_slowfs "exit $rc: $(tail -3 "$tmp/od_fuse.out" | tr '\n' ' ')"
	else
		reads=$(jqr "$f" '.iterations[0].roles.odirect.counters.reads')
		maj=$(jqr "$f" '.iterations[0].roles.odirect.counters.buffer_major_faults')
		p50=$(jqr "$f" '.summary.roles.odirect.histograms.read.p50_ns')
		lat=$(jqr "$f" '.config.storage.slowfs.latency_ns')
		if [ "$reads" -gt 0 ] 2>/dev/null && [ "$maj" -gt 0 ] 2>/dev/null &&
			awk -v p="$p50" -v l="$lat" 'BEGIN { exit !(p >= l) }'; then
			pass "odirect_slowfs (p50 $p50 ns >= $lat ns)"
		else
			fail odirect_slowfs "reads $reads, buffer major faults $maj, read p50 $p50 ns (want >= $lat)"
		fi
	fi
fi

# 3. a storage that refuses O_DIRECT (ramfs: open fails with EINVAL): the
#    run completes, the error is counted with its errno, nothing crashes.
#    The files are copied in (ramfs reports no free space, so the runner
#    would not create them there).
if ! mkdir -p "$tmp/ram" || ! mount -t ramfs ramfs "$tmp/ram" 2>/dev/null; then
	skip odirect_refused "cannot mount ramfs"
elif ! cp "$tmp"/data/files-16M-v1/data-00000[0-3] "$tmp/ram/"; then
	fail odirect_refused "copying the data files into ramfs"
else
	run od_ram gup-odirect "${SHORT[@]}" --set storage.type=dir --set storage.path="$tmp/ram"
	c='.iterations[0].roles.odirect.counters'
	why=""
	[ "$rc" = 0 ] && [ -n "$f" ] || why="$why exit $rc: $(tail -3 "$tmp/od_ram.out" | tr '\n' ' ');"
	if [ -n "$f" ]; then
		[ "$(jqr "$f" .status)" = ok ] || why="$why status $(jqr "$f" .status);"
		[ "$(jqr "$f" "$c.reads")" = 0 ] || why="$why reads $(jqr "$f" "$c.reads");"
		[ "$(jqr "$f" "$c.errors")" -gt 0 ] 2>/dev/null || why="$why errors $(jqr "$f" "$c.errors");"
		[ "$(jqr "$f" "$c.last_errno")" = "Invalid argument" ] || why="$why last_errno $(jqr "$f" "$c.last_errno");"
		[ "$(jqr "$f" .storage.files_reused)" = 4 ] || why="$why files not reused from ramfs;"
	fi
	grep -q "refuses O_DIRECT" "$tmp/od_ram.out" || why="$why no stderr note;"
	[ -z "$why" ] && pass odirect_refused || fail odirect_refused "$why"
	umount "$tmp/ram"
fi

# 4. swap-in variant: with swap, pages come back by swap-in (pswpin, major
#    faults, content intact); without, the result says swap is absent
swap_kb=$(awk '/^SwapTotal:/ { print $2 }' /proc/meminfo)
run swap vma-retry-swap "${SHORT[@]}" --set victim.verify=true
if [ "$rc" != 0 ] || [ -z "$f" ]; then fail swap_variant "exit $rc: $(tail -3 "$tmp/swap.out" | tr '\n' ' ')"
else
	# zswap (on by default in some distributions' kernels) keeps the pages
	# compressed in memory: counted as zswpout/zswpin, not pswpout/pswpin
	in=$(jqr "$f" '.iterations[0].probes.vmstat.delta | (.pswpin // 0) + (.zswpin // 0)')
	out=$(jqr "$f" '.iterations[0].probes.vmstat.delta | (.pswpout // 0) + (.zswpout // 0)')
	maj=$(jqr "$f" '.summary.counters["fault.major_faults"]')
	bad=$(jqr "$f" '.summary.counters["fault.verify_errors"]')
	total=$(jqr "$f" .swap.total_bytes)
	why=""
	[ "$(jqr "$f" .status)" = ok ] || why="$why status $(jqr "$f" .status);"
	[ "$(jqr "$f" .config.victim.memory)" = anon ] || why="$why victim.memory $(jqr "$f" .config.victim.memory);"
	[ "$(jqr "$f" .swap.needed)" = true ] || why="$why swap.needed not true;"
	[ "$total" = "$(jqr "$f" .environment.swap_total_bytes)" ] || why="$why swap totals differ;"
	[ "$bad" = 0 ] || why="$why verify_errors=$bad;"
	if [ "${swap_kb:-0}" = 0 ]; then
		[ "$total" = 0 ] || why="$why swap.total_bytes $total on a system without swap;"
		[ "$(jqr "$f" .swap.status)" = absent ] || why="$why swap.status $(jqr "$f" .swap.status);"
		jqr "$f" .swap.note | grep -q "no swap" || why="$why no swap.note;"
		grep -q "note: victim.memory is anon but the system has no swap" "$tmp/swap.out" || why="$why no stderr note;"
		[ "$in" = 0 ] || why="$why pswpin $in;"
		[ -z "$why" ] && pass "swap_variant_without_swap (absent, said so)" || fail swap_variant_without_swap "$why"
	else
		[ "$(jqr "$f" .swap.status)" = present ] || why="$why swap.status $(jqr "$f" .swap.status);"
		[ "$out" -gt 0 ] 2>/dev/null || why="$why pswpout+zswpout=$out;"
		[ "$in" -gt 0 ] 2>/dev/null || why="$why pswpin+zswpin=$in;"
		[ "$maj" -gt 0 ] 2>/dev/null || why="$why fault.major_faults=$maj;"
		[ -z "$why" ] && pass "swap_variant (pswpin+zswpin $in, pswpout+zswpout $out, $maj major faults)" || fail swap_variant "$why"
	fi
fi

# 5. probes.mmap_lock: off, the environment override, and "on" where the
#    probe cannot start (an unprivileged runner cannot mount tracefs): exit
#    3 before anything is created
M='.iterations[0].probes.mmap_lock'
run ml_off smoke "${SHORT[@]}" --set probes.mmap_lock=off
[ "$rc" = 0 ] && [ "$(jqr "$f" .config.probes.mmap_lock)" = off ] && [ "$(jqr "$f" "$M.present")" = false ] &&
	jqr "$f" "$M.reason" | grep -q 'probes.mmap_lock "off"' && pass mmaplock_off ||
	fail mmaplock_off "exit $rc, config $(jqr "$f" .config.probes.mmap_lock), present $(jqr "$f" "$M.present"): $(jqr "$f" "$M.reason")"
FAULTLINE_NO_TRACE=1 run ml_env smoke "${SHORT[@]}" --set probes.mmap_lock=on
[ "$rc" = 0 ] && [ "$(jqr "$f" .config.probes.mmap_lock)" = off ] && [ "$(jqr "$f" "$M.present")" = false ] &&
	jqr "$f" "$M.reason" | grep -q "FAULTLINE_NO_TRACE" && grep -q "FAULTLINE_NO_TRACE overrides" "$tmp/ml_env.out" &&
	pass mmaplock_env_overrides_on ||
	fail mmaplock_env_overrides_on "exit $rc, config $(jqr "$f" .config.probes.mmap_lock): $(jqr "$f" "$M.reason")"
run ml_auto smoke "${SHORT[@]}"
mode=$(jqr "$f" .config.probes.mmap_lock); present=$(jqr "$f" "$M.present")
if [ "$rc" = 0 ] && { { [ "$mode" = on ] && [ "$present" = true ]; } || { [ "$mode" = off ] && [ "$present" = false ]; }; }; then
	pass "mmaplock_auto_resolves ($mode)"
else
	fail mmaplock_auto_resolves "exit $rc, resolved $mode, present $present"
fi
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	skip mmaplock_on_missing_exits_3 "needs root and setpriv to run the runner unprivileged"
else
	# the unprivileged runner's own directory (a world-writable one is
	# refused before anything else, docs/security.md)
	mkdir -p "$tmp/nb/ml_on" && chmod 755 "$tmp" && chown -R 65534:65534 "$tmp/nb"
	before=$(ls "$cg_root" 2>/dev/null | grep -c faultline)
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FL" run bench/scenarios/smoke.json --out "$tmp/nb/ml_on" \
		"${SHORT[@]}" --set storage.path="$tmp/nb/never" --set probes.mmap_lock=on >"$tmp/ml_on.out" 2>&1
	rc=$?
	after=$(ls "$cg_root" 2>/dev/null | grep -c faultline)
	why=""
	[ "$rc" = 3 ] || why="$why exit $rc (want 3);"
	grep -q 'probes.mmap_lock is "on" but the mmap_lock tracepoint probe cannot start: ' "$tmp/ml_on.out" ||
		why="$why message: $(cat "$tmp/ml_on.out");"
	[ -e "$tmp/nb/never" ] && why="$why storage created;"
	[ -n "$(ls -A "$tmp/nb/ml_on")" ] && why="$why result written;"
	[ "$before" = "$after" ] || why="$why cgroups created;"
	ls -d /tmp/faultline-tracefs-* 2>/dev/null | grep -q . && why="$why tracefs mount directory left;"
	[ -z "$why" ] && pass mmaplock_on_missing_exits_3 || fail mmaplock_on_missing_exits_3 "$why"
fi
exit $failed
