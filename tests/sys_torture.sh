#!/usr/bin/env bash
# Interrupt torture, the short form (tests/torture.sh; docs/security.md,
# "Interrupt torture"): `faultline run` killed 4 times (SIGINT while
# measuring, SIGTERM while creating its files, SIGKILL while writing its
# result, SIGKILL to the group while tearing down), `faultline vm` 2 times
# (SIGTERM at boot, SIGKILL in the guest run) and `./run.sh ab` 2 times
# (SIGINT between runs, SIGKILL at a guest's boot).  After each: no process,
# cgroup, mount, tracefs instance, QEMU, VM work directory or temporary of
# the suite's, earlier results byte-identical; after a SIGKILL the next run
# reaps what was left.  The guest kernel is build/kernels/stock-6.12 when it
# was built, else Debian's 6.12 (fetched with apt-get download, as
# tests/sys_vm.sh); the VM parts SKIP without QEMU or that kernel
# (FAULTLINE_SKIP_VM=1 skips them too).  Prints PASS/FAIL/SKIP.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	skip torture "needs root (the suite's cgroups, mounts and tracefs)"; exit 0
fi
if ! grep -q ' - cgroup2 ' /proc/self/mountinfo; then
	skip torture "no cgroup v2 mount: the targets' processes could not be followed"; exit 0
fi
plan="run:INT:measure run:TERM:files run:KILL:write run:KILLG:teardown"
targets=run vm_why=""
if [ "${FAULTLINE_SKIP_VM:-0}" = 1 ]; then
	vm_why="FAULTLINE_SKIP_VM=1"
elif ! command -v qemu-system-x86_64 >/dev/null; then
	vm_why="qemu-system-x86_64 missing (./run.sh test installs qemu-system-x86)"
else
	plan="$plan vm:TERM:boot vm:KILL:guest ab:INT:between ab:KILL:boot"
	targets=run,vm,ab
fi
t0=$SECONDS
out=$(BUILD=$BUILD tests/torture.sh --targets "$targets" --seed 15 --plan "$plan" 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
for t in run vm ab; do
	if [ "$t" != run ] && [ -n "$vm_why" ]; then
		skip "torture_$t" "$vm_why"; continue
	fi
	if grep -q "^case skipped: $t: " <<<"$out"; then
		skip "torture_$t" "$(grep -m1 "^case skipped: $t: " <<<"$out" | sed "s/^case skipped: $t: //")"; continue
	fi
	lines=$(grep -E "^case [0-9]+/[0-9]+ $t " <<<"$out")
	n=$(grep -c . <<<"$lines") landed=$(grep -vc -- '-> missed' <<<"$lines")
	bad=$(grep -E 'LEAK|HANG|RESULTS|NOT all reaped|next run exited' <<<"$lines")
	if [ -z "$lines" ]; then
		fail "torture_$t" "no case ran (exit $rc): $(tail -n 3 <<<"$out" | tr '\n' ' ')"
	elif [ -n "$bad" ]; then
		fail "torture_$t" "$(tr '\n' ' ' <<<"$bad" | cut -c1-600)"
	elif [ "$landed" -eq 0 ]; then
		fail "torture_$t" "no kill landed: every target ended before its phase"
	else
		pass "torture_$t ($landed of $n kills landed: $(awk '{print $4 " in " $5 " -> " $7 ","}' <<<"$lines" | tr '\n' ' ')nothing left)"
	fi
done
[ "$rc" -eq 0 ] || [ "$failed" -ne 0 ] || fail torture "tests/torture.sh exited $rc: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
echo "torture: $((SECONDS - t0)) s"
exit "$failed"
