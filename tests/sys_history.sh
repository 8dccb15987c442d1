#!/usr/bin/env bash
# System test of fl-history (docs/nightly.md): add is idempotent and
# atomic, show gives back exactly what add stored (against `eval` on the
# same files and against jq on the raw JSON), two adds at once, a corrupt
# file, a foreign SQLite file and a newer schema refused with the file left
# untouched, and check's exit statuses 0/1/2/3 and junit.xml on nightly
# series built from real smoke results (tests/data/history-smoke-*.json)
# with a planted 30% drop of writer.ops_per_s, then plot's PNG and SVG.
# Prints PASS/FAIL/SKIP lines; exit 1 if anything failed.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
H=$BUILD/fl-history
T=$(mktemp -d /tmp/faultline-sys-history.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib.sh

if [ ! -x "$H" ]; then
	fail fl_history_built "$H is missing (make $H)"
	exit 1
fi
if ! command -v jq >/dev/null; then
	skip sys_history "jq is not installed (./run.sh test installs it)"
	exit 0
fi
K1=tests/data/history-smoke-k1.json
K2=tests/data/history-smoke-k2.json
N0=tests/data/result-smoke-native.json

# h OUTNAME args...: runs fl-history, leaves $T/OUTNAME.{out,err} and the status in rc
h() {
	local name=$1
	shift
	"$H" "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
}
nruns() { "$H" show --db "$1" --runs | tail -n +2 | wc -l; }
nvalues() { "$H" show --db "$1" --tsv | tail -n +2 | wc -l; }

# --- add: idempotent, round trip -----------------------------------------
DB=$T/h.sqlite
h add1 add --db "$DB" "$K1" "$K2" "$N0"
if [ "$rc" -eq 0 ] && grep -q '3 added' "$T/add1.out" && [ "$(nruns "$DB")" -eq 3 ]; then
	pass add_three_results
else
	fail add_three_results "status $rc, $(cat "$T/add1.out" "$T/add1.err")"
fi
v1=$(nvalues "$DB")
h add2 add --db "$DB" "$K2" "$K1" "$N0"
if [ "$rc" -eq 0 ] && grep -q '0 added (0 values), 3 already present' "$T/add2.out" &&
	[ "$(nruns "$DB")" -eq 3 ] && [ "$(nvalues "$DB")" -eq "$v1" ]; then
	pass add_is_idempotent
else
	fail add_is_idempotent "status $rc, runs $(nruns "$DB"), values $(nvalues "$DB") (were $v1): $(cat "$T/add2.out")"
fi

"$H" show --db "$DB" --tsv | sort >"$T/show.tsv"
"$H" eval "$K1" "$K2" "$N0" | sort >"$T/eval.tsv"
per_file=$(($("$H" eval "$K1" | wc -l) - 1))
if [ "$v1" -gt 100 ] && [ "$per_file" -gt 50 ] && cmp -s "$T/show.tsv" "$T/eval.tsv"; then
	pass show_prints_back_what_add_stored
else
	fail show_prints_back_what_add_stored "$v1 values; diff: $(diff "$T/show.tsv" "$T/eval.tsv" | head -5)"
fi

# the run fields against jq on the raw files
ok=1
for f in "$K1" "$K2" "$N0"; do
	want=$(jq -r '[.environment.hostname, .run_id, .environment.arch, .environment.backend,
		.environment.kernel_release, .label, .scenario, ((.config.report.headline // []) | join(",")),
		.started_at, .status, (.iterations | length)] | @tsv' "$f")
	got=$("$H" show --db "$DB" --runs | awk -F'\t' -v r="$(jq -r .run_id "$f")" '$2 == r' |
		awk -F'\t' -v OFS='\t' '{print $1, $2, $3, $4, $5, $9, $10, $12, $13, $14, $16}')
	[ "$got" = "$want" ] || { ok=0; echo "  $f: got [$got] want [$want]"; }
done
[ $ok -eq 1 ] && pass runs_match_the_files || fail runs_match_the_files "see above"

# two values computed by jq: writer.ops_per_s and fault.touches_per_s of every iteration
ok=1 checked=0
for f in "$K1" "$K2"; do
	rid=$(jq -r .run_id "$f")
	while IFS=$'\t' read -r metric it want; do
		got=$(awk -F'\t' -v m="$metric" -v r="$rid" -v i="$it" '$6 == m && $7 == r && $12 == i {print $14}' "$T/show.tsv")
		if [ -z "$got" ] || ! awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * b) }'; then
			ok=0
			echo "  $f $metric[$it]: stored '$got', jq says $want"
		fi
		checked=$((checked + 1))
	done < <(jq -r '.iterations[] | .index as $i | .measured_s as $s |
		["writer.ops_per_s", $i, (.roles.writer.counters.ops / $s)], ["fault.touches_per_s", $i, (.roles.fault.counters.touches / $s)] |
		map(tostring) | join("\t")' "$f")
done
[ $ok -eq 1 ] && [ $checked -eq 8 ] && pass values_match_jq || fail values_match_jq "$checked checked"

# --- bad input: atomic ---------------------------------------------------
echo '{"schema": "something-else"}' >"$T/notresult.json"
jq -c '.label = "changed"' "$K1" >"$T/samerun.json"
jq -c '.run_id = "fresh-1"' "$K1" >"$T/fresh.json"
h bad1 add --db "$DB" "$T/fresh.json" "$T/notresult.json"
if [ "$rc" -eq 2 ] && grep -q "notresult.json" "$T/bad1.err" && grep -q 'nothing was added' "$T/bad1.err" &&
	[ "$(nruns "$DB")" -eq 3 ]; then
	pass bad_file_adds_nothing
else
	fail bad_file_adds_nothing "status $rc, runs $(nruns "$DB"): $(cat "$T/bad1.err")"
fi
h bad2 add --db "$DB" "$T/samerun.json"
if [ "$rc" -eq 2 ] && grep -q 'already stored .* with different content' "$T/bad2.err" && [ "$(nruns "$DB")" -eq 3 ]; then
	pass same_run_id_other_content_refused
else
	fail same_run_id_other_content_refused "status $rc: $(cat "$T/bad2.err")"
fi
# a results directory as ./run.sh ab leaves it: the results, ab's
# accel.json (no schema) and fl-report's compare.json (another schema) are
# passed over and counted; given by name, a non-result is still refused
mkdir -p "$T/abdir/a" "$T/abdir/report"
jq -c '.run_id = "abdir-1"' "$K1" >"$T/abdir/a/r1.json"
echo '{"arch": "x86_64", "accel": "tcg", "tried": ["kvm"]}' >"$T/abdir/accel.json"
echo '{"schema": "faultline-compare/1", "metrics": []}' >"$T/abdir/report/compare.json"
h abdir add --db "$DB" "$T/abdir"
if [ "$rc" -eq 0 ] && grep -q '1 added .* 2 other JSON files passed over' "$T/abdir.out" &&
	grep -q "skipped $T/abdir/accel.json: not a faultline result (schema missing)" "$T/abdir.out" &&
	[ "$(nruns "$DB")" -eq 4 ]; then
	pass directory_passes_over_other_json
else
	fail directory_passes_over_other_json "status $rc, runs $(nruns "$DB"): $(cat "$T/abdir.out" "$T/abdir.err")"
fi
h abfile add --db "$DB" "$T/abdir/accel.json"
[ "$rc" -eq 2 ] && grep -q 'accel.json' "$T/abfile.err" && pass named_non_result_refused ||
	fail named_non_result_refused "status $rc: $(cat "$T/abfile.err")"

# --- two adds at once ----------------------------------------------------
mkdir -p "$T/c1" "$T/c2"
for i in $(seq 1 20); do
	jq -c --arg r "c1-$i" '.run_id = $r' "$K1" >"$T/c1/r$i.json"
	jq -c --arg r "c2-$i" '.run_id = $r' "$K2" >"$T/c2/r$i.json"
done
CDB=$T/concurrent.sqlite
"$H" add --db "$CDB" --quiet "$T/c1" >"$T/cc1.out" 2>&1 &
p1=$!
"$H" add --db "$CDB" --quiet "$T/c2" >"$T/cc2.out" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
want=$(($("$H" eval "$T/c1" "$T/c2" | wc -l) - 1))
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$(nruns "$CDB")" -eq 40 ] && [ "$(nvalues "$CDB")" -eq "$want" ]; then
	pass concurrent_adds
else
	fail concurrent_adds "status $r1/$r2, runs $(nruns "$CDB"), values $(nvalues "$CDB") of $want: $(cat "$T/cc1.out" "$T/cc2.out")"
fi

# --- corrupt, foreign, newer ---------------------------------------------
head -c 8192 /dev/urandom >"$T/corrupt.sqlite"
cp "$T/corrupt.sqlite" "$T/corrupt.orig"
h corrupt add --db "$T/corrupt.sqlite" "$K1"
if [ "$rc" -eq 2 ] && grep -q 'not a faultline history database' "$T/corrupt.err" &&
	cmp -s "$T/corrupt.sqlite" "$T/corrupt.orig" && [ ! -e "$T/corrupt.sqlite-wal" ]; then
	pass corrupt_file_refused
else
	fail corrupt_file_refused "status $rc: $(cat "$T/corrupt.err")"
fi
h corrupt2 check --db "$T/corrupt.sqlite"
[ "$rc" -eq 2 ] && pass corrupt_file_check_status_2 || fail corrupt_file_check_status_2 "status $rc"

# header fields: user_version at offset 60, application_id at 68 (big-endian)
cp "$DB" "$T/newer.sqlite"
printf '\000\000\000\011' | dd of="$T/newer.sqlite" bs=1 seek=60 conv=notrunc status=none
cp "$T/newer.sqlite" "$T/newer.orig"
h newer add --db "$T/newer.sqlite" "$T/fresh.json"
if [ "$rc" -eq 2 ] && grep -q 'schema version 9 is newer than this fl-history reads (1)' "$T/newer.err" &&
	cmp -s "$T/newer.sqlite" "$T/newer.orig"; then
	pass newer_schema_refused
else
	fail newer_schema_refused "status $rc: $(cat "$T/newer.err")"
fi
cp "$DB" "$T/foreign.sqlite"
printf 'ABCD' | dd of="$T/foreign.sqlite" bs=1 seek=68 conv=notrunc status=none
h foreign show --db "$T/foreign.sqlite"
if [ "$rc" -eq 2 ] && grep -q 'an SQLite database of something else' "$T/foreign.err"; then
	pass foreign_sqlite_refused
else
	fail foreign_sqlite_refused "status $rc: $(cat "$T/foreign.err")"
fi
h missing show --db "$T/none.sqlite"
[ "$rc" -eq 3 ] && [ ! -e "$T/none.sqlite" ] && pass missing_db_status_3 || fail missing_db_status_3 "status $rc"

# --- check on nightly series ---------------------------------------------
# night SRC DIR I FACTOR: a copy of a real result as night I, writer ops scaled
night() {
	jq -c --arg r "night-$3" --arg at "$(printf '2026-01-%02dT03:00:00Z' $(($3 + 1)))" \
		--arg k "6.$3.0-nightly" --argjson f "$4" '
		.run_id = $r | .started_at = $at | .label = ("n" + $r) | .config.label = .label |
		.environment.kernel_release = $k |
		.iterations |= map(.roles.writer.counters.ops = ((.roles.writer.counters.ops * $f) | floor))' \
		"$1" >"$2/night-$3.json"
}
mkseries() { # DIR DROP_FACTOR_FROM_NIGHT_12
	mkdir -p "$1"
	for i in $(seq 0 23); do
		f=$(awk -v i="$i" -v d="$2" 'BEGIN { print (1 + 0.01 * (((i * 7) % 5) - 2)) * (i >= 12 ? d : 1) }')
		night "$K1" "$1" "$i" "$f"
	done
}
mkseries "$T/reg" 0.7
mkseries "$T/flat" 1
mkseries "$T/imp" 1.3
for s in reg flat imp; do "$H" add --db "$T/$s.sqlite" --quiet "$T/$s" >/dev/null || fail "add_$s" "add failed"; done

h reg check --db "$T/reg.sqlite" --junit "$T/junit.xml"
if [ "$rc" -eq 1 ] && grep -Eq '^REGRESSION smoke .*writer.ops_per_s regressed -(29|30)\.' "$T/reg.out" &&
	grep -q 'from run night-12, kernel 6.12.0-nightly' "$T/reg.out"; then
	pass check_regression_status_1_names_the_night
else
	fail check_regression_status_1_names_the_night "status $rc: $(cat "$T/reg.out" "$T/reg.err" | tail -5)"
fi
if grep -q '<testsuite name="fl-history check" tests="6" failures="1"' "$T/junit.xml" &&
	grep -q 'name="writer.ops_per_s"><failure message="writer.ops_per_s regressed' "$T/junit.xml"; then
	pass check_junit
else
	fail check_junit "$(head -5 "$T/junit.xml" 2>/dev/null)"
fi
h reg2 check --db "$T/reg.sqlite" --threshold 40
[ "$rc" -eq 0 ] && grep -q 'p 0.005: regression$' "$T/reg2.out" && pass check_threshold_40_passes ||
	fail check_threshold_40_passes "status $rc: $(tail -3 "$T/reg2.out")"
h reg3 check --db "$T/reg.sqlite" --watch smoke:fault.major.p99
[ "$rc" -eq 0 ] && pass check_watch_replaces_headline || fail check_watch_replaces_headline "status $rc"
h flat check --db "$T/flat.sqlite"
[ "$rc" -eq 0 ] && grep -q ', 0 change points,' "$T/flat.out" && pass check_flat_status_0 ||
	fail check_flat_status_0 "status $rc: $(tail -2 "$T/flat.out")"
h imp check --db "$T/imp.sqlite"
[ "$rc" -eq 0 ] && grep -q 'improvement' "$T/imp.out" && pass check_improvement_status_0 ||
	fail check_improvement_status_0 "status $rc: $(tail -2 "$T/imp.out")"
h few check --db "$T/reg.sqlite" --since 2026-01-20
[ "$rc" -eq 3 ] && grep -q 'no watched series has enough points' "$T/few.err" && pass check_too_few_status_3 ||
	fail check_too_few_status_3 "status $rc"
h badopt check --db "$T/reg.sqlite" --threshold lots
[ "$rc" -eq 2 ] && grep -q "threshold: bad value 'lots'" "$T/badopt.err" && pass check_bad_option_status_2 ||
	fail check_bad_option_status_2 "status $rc"

# --- plot ----------------------------------------------------------------
if command -v gnuplot >/dev/null; then
	h plot plot --db "$T/reg.sqlite" --out "$T/plots" --metric writer.ops_per_s
	png=$(ls "$T"/plots/*.png 2>/dev/null | head -1)
	svg=${png%.png}.svg
	if [ "$rc" -eq 0 ] && [ -s "$png" ] && head -c 8 "$png" | grep -q PNG && grep -q '6.12.0-nightly' "$svg" &&
		grep -q -- '-30.0%, p 0.005' "$svg"; then
		pass plot_png_svg_with_change_point
	else
		fail plot_png_svg_with_change_point "status $rc: $(cat "$T/plot.err")"
	fi
else
	skip plot_png_svg_with_change_point "gnuplot is not installed"
fi
exit $failed
