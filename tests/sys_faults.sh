#!/usr/bin/env bash
# System tests of faults (issue 15, docs/security.md "Faults"): a missing
# --out directory is created; a result written to a full disk (a 1 MiB tmpfs
# mounted here) fails with the file and strerror named, exit 1, no partial
# or temporary file, the results already there byte-identical, and fl-report
# likewise; the slowfs daemon SIGKILLed mid-run gives a status naming the
# daemon's death before the victim's SIGBUS; and, in the VM backend
# (Debian's 6.12 kernel, memory controller), a victim OOM-killed under
# memory.max gives status oom with memory.events oom_kill in the reason.
# Prints PASS/FAIL/SKIP lines; ends only processes it started, by pid;
# FAULTLINE_SKIP_VM=1 skips the VM case.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FL=$BUILD/faultline
tmp=$(mktemp -d /tmp/faultline-faults.XXXXXX)
. tests/lib.sh
cleanup() {
	[ -n "${bg:-}" ] && kill -KILL "$bg" 2>/dev/null
	mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
	rm -rf "$tmp"
}
trap cleanup EXIT
jqr() { jq -r "$2" "$1" 2>/dev/null; }
one() { ls "$1"/*.json 2>/dev/null | head -n 1; }
SHORT=(bench/scenarios/smoke.json --quiet --duration 1 --warmup 0 --iterations 1 --set storage.path="$tmp/data"
	--set victim.files.size_bytes=1M --set victim.files.count=2 --set victim.fault_threads=2)

# 1. --out naming a directory that does not exist (two levels): created 0755
#    with the result in it.  That result is the earlier one of case 2.
"$FL" run "${SHORT[@]}" --out "$tmp/new/results" >"$tmp/d.out" 2>&1; rc=$?
earlier=$(one "$tmp/new/results")
if [ "$rc" = 0 ] && [ -n "$earlier" ] && [ "$(stat -c %a "$tmp/new" "$tmp/new/results" | tr '\n' ' ')" = "755 755 " ]; then
	pass "out_dir_created ($tmp/new/results, 0755, $(basename "$earlier"))"
else
	fail out_dir_created "exit $rc, modes $(stat -c %a "$tmp/new" "$tmp/new/results" 2>&1 | tr '\n' ' '): $(tail -2 "$tmp/d.out" | tr '\n' ' ')"
fi

# 2. a full disk: a 1 MiB tmpfs holding an earlier result and a filler that
#    leaves 16 KiB free, so the new result's write starts and then fails
full=$tmp/full
mkdir -p "$full"
if [ -z "$earlier" ]; then
	skip result_full_disk "no earlier result (case 1 failed)"
elif ! mount -t tmpfs -o size=1M,mode=0755 faultline-test-full "$full" 2>"$tmp/mount.err"; then
	skip result_full_disk "cannot mount a tmpfs: $(cat "$tmp/mount.err")"
else
	cp "$earlier" "$full/"
	avail=$(df -B1 --output=avail "$full" | tail -n 1)
	head -c $((avail - 16384)) /dev/zero >"$full/filler" 2>/dev/null
	before=$(cd "$full" && ls -A | sort | tr '\n' ' ')
	"$FL" run "${SHORT[@]}" --out "$full" >"$tmp/full.out" 2>&1; rc=$?
	after=$(cd "$full" && ls -A | sort | tr '\n' ' ')
	why=""
	[ "$rc" = 1 ] || why="$why exit $rc (want 1);"
	grep -Eq "results: write $full/[^ ]*smoke-[^ ]*: No space left on device" "$tmp/full.out" ||
		why="$why message: $(grep -v '^ ' "$tmp/full.out" | tail -3 | tr '\n' ' ');"
	grep -q "^result: NOT WRITTEN ($full/smoke-" "$tmp/full.out" || why="$why the summary does not end with 'NOT WRITTEN';"
	[ "$before" = "$after" ] || why="$why files before '$before', after '$after';"
	cmp -s "$earlier" "$full/$(basename "$earlier")" || why="$why the earlier result changed;"
	[ -z "$why" ] && pass "result_full_disk (exit 1: $(grep -m1 -o 'results: write .*' "$tmp/full.out" | sed "s|$full/||"))" ||
		fail result_full_disk "$why"
	# fl-report into the full disk: an error naming the file, exit 1, no
	# temporary left in its directory (the files written before it stay:
	# each is whole, written to a temporary and renamed)
	"$BUILD/fl-report" "$earlier" "$earlier" --out "$full/report" >"$tmp/rep.out" 2>&1; rc=$?
	why=""
	[ "$rc" = 1 ] || why="$why exit $rc (want 1);"
	grep -Eq "write $full/report/\.[a-z.-]+\.tmp-[0-9]+: No space left on device" "$tmp/rep.out" ||
		why="$why message: $(grep -v '^ ' "$tmp/rep.out" | tail -2 | tr '\n' ' ');"
	ls -A "$full/report" 2>/dev/null | grep -q 'tmp-' && why="$why a temporary left: $(ls -A "$full/report");"
	cmp -s "$earlier" "$full/$(basename "$earlier")" || why="$why the earlier result changed;"
	[ -z "$why" ] && pass "report_full_disk (exit 1: $(grep -m1 -o 'write .*' "$tmp/rep.out" | sed "s|$full/||"))" ||
		fail report_full_disk "$why"
	umount "$full" || fail result_full_disk "umount $full failed"
fi

# 3. the slowfs daemon SIGKILLed mid-run: the daemon is the runner's child
#    whose executable is fl-slowfs (found in the runner's process tree,
#    never by name); the status names its death, the victim's SIGBUS after
if [ ! -w /dev/fuse ] || [ ! -x "$BUILD/fl-slowfs" ]; then
	skip slowfs_daemon_death "no /dev/fuse or no $BUILD/fl-slowfs"
else
	mkdir -p "$tmp/sd"
	"$FL" run bench/scenarios/smoke.json --quiet --duration 20 --warmup 0 --iterations 1 --set storage.type=slowfs \
		--set victim.files.size_bytes=16M --out "$tmp/sd" >"$tmp/sd.out" 2>&1 &
	bg=$!
	exe=$(readlink -f "$BUILD/fl-slowfs") dp="" n=0
	for _ in $(seq 200); do # the daemon, then the victim and the observer: measuring
		kids=$(cat /proc/"$bg"/task/*/children 2>/dev/null)
		for k in $kids; do [ "$(readlink /proc/"$k"/exe 2>/dev/null)" = "$exe" ] && dp=$k; done
		n=$(wc -w <<<"$kids")
		[ -n "$dp" ] && [ "$n" -ge 3 ] && break
		sleep 0.05
	done
	sleep 1
	[ -n "$dp" ] && kill -KILL "$dp"
	wait "$bg"; rc=$?; bg=""
	f=$(one "$tmp/sd")
	why=""
	[ -n "$dp" ] || why="$why no fl-slowfs child of the runner found;"
	[ "$rc" = 1 ] || why="$why exit $rc (want 1);"
	[ "$(jqr "$f" .status)" = error ] || why="$why status $(jqr "$f" .status);"
	jqr "$f" .status_reason | grep -q "^iteration 1: storage: slowfs daemon fl-slowfs (pid $dp) died: killed by signal 9" ||
		why="$why reason '$(jqr "$f" .status_reason)';"
	[ "$(jqr "$f" .storage.daemon_exit)" = "killed by signal 9 (Killed)" ] || why="$why storage.daemon_exit $(jqr "$f" .storage.daemon_exit);"
	"$FL" validate "$f" >/dev/null 2>&1 || why="$why the result does not validate;"
	mp=$(jqr "$f" .storage.files_dir)
	grep -qF " $mp " /proc/mounts && why="$why $mp still mounted;"
	[ -e "$mp" ] && why="$why mount point $mp left;"
	[ -z "$why" ] && pass "slowfs_daemon_death ($(jqr "$f" .status_reason | cut -c1-120)...)" || fail slowfs_daemon_death "$why"
fi

# 4. a victim OOM-killed under memory.max, in the VM backend (the host here
#    may have no memory controller): anonymous memory of 2 x 16 MiB, 16 MiB
#    memory.max, no swap.  Debian's 6.12 cloud kernel through ./run.sh (it
#    builds the static binaries and fetches the kernel once, as
#    tests/sys_vm.sh does).
if [ "${FAULTLINE_SKIP_VM:-0}" = 1 ]; then
	skip vm_victim_oom "FAULTLINE_SKIP_VM=1"
elif ! command -v qemu-system-x86_64 >/dev/null || [ "$(uname -m)" != x86_64 ]; then
	skip vm_victim_oom "no qemu-system-x86_64 or not an x86_64 host (./run.sh test installs qemu-system-x86)"
else
	t0=$SECONDS
	./run.sh run vma-retry-swap --debian-kernel 6.12 --quiet --out "$tmp/oom" --duration 2 --warmup 0 --iterations 1 \
		--set victim.files.count=2 --set victim.files.size_bytes=16M --set cgroup.victim.memory_max_bytes=16M \
		--set victim.fault_threads=2 >"$tmp/oom.out" 2>&1
	rc=$?
	f=$(one "$tmp/oom")
	if [ "$rc" = 3 ] && [ -z "$f" ]; then
		skip vm_victim_oom "no guest kernel here: $(grep -v '^ ' "$tmp/oom.out" | tail -2 | tr '\n' ' ')"
	else
		why=""
		[ "$rc" = 1 ] || why="$why exit $rc (want 1);"
		[ "$(jqr "$f" .status)" = oom ] && [ "$(jqr "$f" '.iterations[0].status')" = oom ] ||
			why="$why status $(jqr "$f" .status), iteration $(jqr "$f" '.iterations[0].status');"
		jqr "$f" '.iterations[0].status_reason' | grep -q 'OOM-killed under memory.max 16777216 bytes (memory.events oom_kill of its group 0 -> [1-9]' ||
			why="$why reason '$(jqr "$f" '.iterations[0].status_reason')';"
		[ "$(jqr "$f" .environment.isolation)" = full ] || why="$why isolation $(jqr "$f" .environment.isolation);"
		"$BUILD/faultline" validate "$f" >/dev/null 2>&1 || why="$why the result does not validate;"
		[ -z "$why" ] && pass "vm_victim_oom ($(jqr "$f" .environment.kernel_release), $((SECONDS - t0)) s: $(jqr "$f" '.iterations[0].status_reason' | cut -c1-110))" ||
			fail vm_victim_oom "$why: $(tail -3 "$tmp/oom.out" | tr '\n' ' ')"
	fi
fi
exit "$failed"
