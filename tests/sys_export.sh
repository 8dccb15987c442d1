#!/usr/bin/env bash
# faultline export --format lava: the lines Linaro's send-to-lava.sh reads,
# `NAME RESULT [MEASUREMENT UNITS]` (docs/lava.md), checked against that
# format and against the result they come from.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
BUILD=${BUILD:-build}
fl=$BUILD/faultline
t=$(mktemp -d /tmp/faultline-export.XXXXXX)
trap 'rm -rf "$t"' EXIT
src=tests/data/result-smoke-native.json
# the result with a headline (one metric no iteration has), and a failed copy
jq '.config.report = {headline: ["fault.major.p99", "fault.touches_per_s", "mmap_lock.read_acq_per_kfault", "odirect.read.p99"]}' \
	"$src" >"$t/ok.json"
jq '.status = "error" | .status_reason = "test" | .iterations[].status = "error"' "$t/ok.json" >"$t/failed.json"

if "$fl" export --format lava "$t/ok.json" >"$t/ok.txt" 2>"$t/err"; then
	pass "export exits 0 on a valid result"
else
	fail "export exits 0 on a valid result" "$(cat "$t/err")"
fi
# every line: NAME in LAVA's characters, RESULT pass|fail|skip, then either
# nothing or a plain decimal and a one-word unit
bad=$(grep -Evc '^[A-Za-z0-9._-]+ (pass|fail|skip)( -?[0-9]+(\.[0-9]+)? [A-Za-z0-9._/%-]+)?$' "$t/ok.txt")
[ "$bad" -eq 0 ] && [ -s "$t/ok.txt" ] && pass "every line has the send-to-lava.sh format" ||
	fail "every line has the send-to-lava.sh format" "$bad bad lines: $(cat "$t/ok.txt")"
[ "$(wc -l <"$t/ok.txt")" -eq 5 ] && pass "one status line and one line per headline metric" ||
	fail "one status line and one line per headline metric" "$(wc -l <"$t/ok.txt") lines"
grep -qx 'smoke.status pass' "$t/ok.txt" && pass "status pass for an ok run" || fail "status pass for an ok run" "$(head -1 "$t/ok.txt")"
# the measurement is the mean over ok iterations of the catalogue's metric:
# fault.major.p99 from the histogram's p99_ns, in us
want=$(jq -r '[.iterations[] | select(.status == "ok") | .roles.fault.histograms.major.p99_ns / 1000] | add / length' "$src")
got=$(awk '$1 == "smoke.fault.major.p99" {print $3, $4}' "$t/ok.txt")
if awk -v w="$want" -v g="${got% *}" 'BEGIN { d = w - g; if (d < 0) d = -d; exit !(d <= 0.001 * w) }' && [ "${got#* }" = us ]; then
	pass "fault.major.p99 is the mean of the ok iterations' p99, in us"
else
	fail "fault.major.p99 is the mean of the ok iterations' p99, in us" "got '$got', want $want us"
fi
grep -Eq '^smoke\.mmap_lock\.read_acq_per_kfault pass [0-9.]+ per_1000_faults$' "$t/ok.txt" &&
	pass "units with blanks become one word" || fail "units with blanks become one word" "$(cat "$t/ok.txt")"
grep -qx 'smoke.odirect.read.p99 skip' "$t/ok.txt" && pass "a headline metric no iteration has is skip" ||
	fail "a headline metric no iteration has is skip" "$(cat "$t/ok.txt")"

"$fl" export "$t/failed.json" >"$t/failed.txt" 2>&1
grep -qx 'smoke.status fail' "$t/failed.txt" && [ "$(grep -c ' skip$' "$t/failed.txt")" -eq 4 ] &&
	pass "a failed run: status fail, headline metrics skip" || fail "a failed run: status fail, headline metrics skip" "$(cat "$t/failed.txt")"

"$fl" export --prefix 'lab 1' "$t/ok.json" | head -n 1 >"$t/prefix.txt"
grep -qx 'lab_1.smoke.status pass' "$t/prefix.txt" && pass "--prefix, sanitised to LAVA's characters" ||
	fail "--prefix, sanitised to LAVA's characters" "$(cat "$t/prefix.txt")"

# bad input: exit 2 and nothing printed
echo '{"schema": "faultline-result/1"}' >"$t/bad.json"
rc=0; "$fl" export "$t/ok.json" "$t/bad.json" >"$t/bad.txt" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$t/bad.txt" ] && pass "an invalid result: exit 2, nothing printed" ||
	fail "an invalid result: exit 2, nothing printed" "exit $rc, $(wc -l <"$t/bad.txt") lines"
rc=0; "$fl" export --format junit "$t/ok.json" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] && pass "an unknown --format: exit 2" || fail "an unknown --format: exit 2" "exit $rc"

# what send-to-lava.sh does with the lines: its two patterns, as in Linaro's
# test-definitions (automated/utils/send-to-lava.sh), give the same fields
while read -r name res meas units; do
	line="$name $res${meas:+ $meas $units}"
	if echo "$line" | grep -Eiq '.* +(pass|fail|skip)$'; then
		[ -z "$meas" ] || { fail "send-to-lava.sh patterns" "'$line' taken as a line without measurement"; exit 1; }
	elif echo "$line" | grep -Eiq '.*+ (pass|fail|skip)+ .*+'; then
		[ "$(echo "$line" | awk '{print $3 "|" $4}')" = "$meas|$units" ] || {
			fail "send-to-lava.sh patterns" "'$line'"; exit 1; }
	else
		fail "send-to-lava.sh patterns" "'$line' matches neither"; exit 1
	fi
done <"$t/ok.txt"
pass "send-to-lava.sh patterns read every line with its measurement and units"
exit "$failed"
