#!/usr/bin/env bash
# One real LAVA job (docs/lava.md): ./run.sh lava job installs
# lava-dispatcher (run.sh's LAVA_PACKAGES), boots Debian's 6.12 kernel with
# the suite's ramdisk on a QEMU device with lava-run, and runs smoke for 3 s
# through bench/lava/faultline.yaml.  Then LAVA's own results (its log) are
# checked for the status, every headline metric with a measurement and its
# units, and the gate line; and the suite's result comes back out of the log.
# About 90 s under TCG (the first run adds the libguestfs appliance build).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
BUILD=${BUILD:-build}
out=$BUILD/lava/sys-lava-$$
rm -rf "$out"
t0=$SECONDS
rc=0
BUILD=$BUILD ./run.sh lava job --scenario smoke --duration 3 --out "$out" >"$BUILD/lava-sys.log" 2>&1 || rc=$?
echo "lava job: exit $rc after $((SECONDS - t0)) s (log $out/job.log)"
if [ "$rc" -ne 0 ]; then
	tail -n 30 "$BUILD/lava-sys.log"
	[ -f "$out/job.log" ] && grep -E '"lvl": "(error|exception)"' "$out/job.log" | tail -n 5
	fail "lava-run job completes with result pass" "./run.sh lava job exited $rc"
	exit 1
fi
pass "lava-run job completes with result pass"
res=$out/results.txt
cat "$res"
grep -qx 'lava job pass' "$res" && pass "LAVA's job case is pass" || fail "LAVA's job case is pass" "no 'lava job pass'"
grep -qx '0_faultline smoke.status pass' "$res" && pass "test case smoke.status pass" ||
	fail "test case smoke.status pass" "missing in $res"
missing=""
for m in $(jq -r '.report.headline[]' bench/scenarios/smoke.json); do
	unit=$(awk -v n="smoke.$m" '$1 == "0_faultline" && $2 == n && $3 == "pass" && $4 ~ /^[0-9.]+$/ {print $5}' "$res")
	[ -n "$unit" ] || missing="$missing $m"
done
[ -z "$missing" ] && pass "every headline metric of smoke is a LAVA test case with measurement and units" ||
	fail "every headline metric of smoke is a LAVA test case with measurement and units" "missing:$missing"
grep -Eq '^0_faultline smoke\.fault\.major\.p99 pass [0-9.]+ us$' "$res" && grep -Eq '^0_faultline smoke\.writer\.ops_per_s pass [0-9.]+ /s$' "$res" &&
	pass "units as in the catalogue (us, /s)" || fail "units as in the catalogue (us, /s)" "see $res"
grep -qx '0_faultline smoke.gate skip' "$res" && pass "gate case without a baseline is skip" ||
	fail "gate case without a baseline is skip" "missing in $res"
json=$(ls "$out"/results/*.json 2>/dev/null | head -n 1)
if [ -n "$json" ] && "$BUILD/faultline" validate "$json" >/dev/null 2>&1; then
	pass "the suite's result comes back out of the LAVA log and validates"
else
	fail "the suite's result comes back out of the LAVA log and validates" "no valid result in $out/results"
fi
# the exported lines of that result are what LAVA recorded
if [ -n "$json" ]; then
	"$BUILD/faultline" export "$json" | sed 's/^/0_faultline /' >"$out/export.txt"
	if grep -F -f "$out/export.txt" -x "$res" | cmp -s - "$out/export.txt"; then
		pass "LAVA recorded exactly the lines faultline export gives"
	else
		fail "LAVA recorded exactly the lines faultline export gives" "$(diff "$out/export.txt" "$res" | head -5)"
	fi
fi
rm -f "$out/data.img" "$out/ramdisk.cpio.gz"  # 2 GiB sparse disk and 6 MiB ramdisk; the logs stay
exit "$failed"
