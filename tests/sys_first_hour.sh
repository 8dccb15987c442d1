#!/usr/bin/env bash
# System tests of what a new user meets first (issue 17): the default run
# and its next-step line, a comparison of two default runs that can say
# something, the short usages, "did you mean", option errors named after the
# option, run --out creating its directory, the help texts.  Short runs in
# private directories (results and data files never touch results/ or
# /var/tmp/faultline).  Prints PASS/FAIL/SKIP lines; exit 1 if any failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
FL=$BUILD/faultline
tmp=$(mktemp -d /tmp/faultline-firsthour.XXXXXX)
. tests/lib.sh
trap 'rm -rf "$tmp"' EXIT
SMALL=(--duration 1 --set storage.path="$tmp/data" --set victim.files.size_bytes=16M --out "$tmp/res")

# 1. ./run.sh (the default) ends with the next step, names this run's label in
#    the compare line, and runs 3 iterations; two such runs compare with a
#    verdict (not "need >=2 iterations")
./run.sh --label fh-a "${SMALL[@]}" >"$tmp/a.out" 2>"$tmp/a.err"; rc_a=$?
./run.sh "${SMALL[@]}" >"$tmp/b.out" 2>"$tmp/b.err"; rc_b=$?
fa=$(ls "$tmp"/res/smoke-fh-a-*.json 2>/dev/null | head -1)
fb=$(ls "$tmp"/res/smoke-"$(uname -r)"-*.json 2>/dev/null | head -1)
why=""
[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ] || why="$why exit $rc_a/$rc_b ($(tail -2 "$tmp/a.err" | tr '\n' ' '));"
tail -6 "$tmp/a.out" | grep -q '^next: boot the kernel to compare with' || why="$why no next-step line at the end;"
tail -6 "$tmp/a.out" | grep -q '^        ./run.sh compare fh-a OTHER_LABEL$' || why="$why next step lacks the label fh-a;"
tail -6 "$tmp/b.out" | grep -q "^        ./run.sh compare $(uname -r) OTHER_LABEL$" || why="$why default label is not the kernel release;"
grep -q 'running smoke, 3 iterations of 15 s' "$tmp/a.err" || why="$why no announcement of the default;"
[ -n "$fa" ] && [ "$(jq .config.iterations "$fa")" = 3 ] || why="$why default iterations $( [ -n "$fa" ] && jq .config.iterations "$fa") (want 3);"
[ -z "$why" ] && pass default_next_step || fail default_next_step "$why"
if [ -n "$fa" ] && [ -n "$fb" ]; then
	"$BUILD/fl-report" "$fa" "$fb" --out "$tmp/rep" >"$tmp/cmp.out" 2>&1; rc=$?
	# a verdict mark (* or ~) on a headline metric, never "n/a (need ..."
	if [ "$rc" = 0 ] && grep -Eq '^fault\.touches_per_s .*[*~] ' "$tmp/cmp.out" &&
		! grep -Eq '^fault\.touches_per_s .*n/a' "$tmp/cmp.out"; then
		pass default_runs_compare
	else
		fail default_runs_compare "exit $rc: $(grep -E '^fault\.touches_per_s' "$tmp/cmp.out")"
	fi
else
	fail default_runs_compare "no results to compare"
fi

# 2. run without a scenario: a short usage on stderr and exit 2 (run.sh and
#    the binary); --help is the long text and exit 0
./run.sh run >"$tmp/u.out" 2>"$tmp/u.err"; rc=$?
"$FL" run >"$tmp/u2.out" 2>"$tmp/u2.err"; rc2=$?
why=""
[ "$rc" = 2 ] && [ "$rc2" = 2 ] || why="$why exit $rc/$rc2;"
[ "$(wc -l <"$tmp/u.err")" -le 6 ] && grep -q '^usage: ./run.sh run SCENARIO' "$tmp/u.err" || why="$why run.sh usage: $(wc -l <"$tmp/u.err") lines;"
[ "$(wc -l <"$tmp/u2.err")" -le 3 ] && grep -q '^usage: faultline run SCENARIO' "$tmp/u2.err" || why="$why faultline usage: $(wc -l <"$tmp/u2.err") lines;"
[ ! -s "$tmp/u.out" ] && [ ! -s "$tmp/u2.out" ] || why="$why usage on stdout;"
[ -z "$why" ] && pass run_short_usage || fail run_short_usage "$why"

# 3. help texts: run --help names the VM options and prints integral ranges
#    as integers; ab --help ends with its exit statuses (no stray code line)
"$FL" run --help >"$tmp/h.out" 2>&1
why=""
grep -q -- '--kernel IMAGE|NAME' "$tmp/h.out" && grep -q -- '--debian-kernel' "$tmp/h.out" || why="$why no --kernel/--debian-kernel;"
grep -q 'range \[0, 9007199254740991\]' "$tmp/h.out" || why="$why seed range: $(grep -A0 '^  seed ' "$tmp/h.out");"
! grep -Eq 'range \[[^]]*e\+' "$tmp/h.out" || why="$why a range in e+ notation: $(grep -Eo 'range \[[^]]*e\+[^]]*\]' "$tmp/h.out" | head -1);"
last=$(bash bench/vm/ab.sh --help 2>&1 | tail -1)
[ "${last#Exit:}" != "$last" ] || why="$why ab --help ends with '$last';"
[ -z "$why" ] && pass help_texts || fail help_texts "$why"

# 4. ./run.sh scenarios: one line each, names aligned, every description cut
#    at a word boundary (a prefix of the description, then a space) within 80 columns
./run.sh scenarios >"$tmp/s.out" 2>&1
why=""
[ "$(wc -l <"$tmp/s.out")" = "$(ls bench/scenarios/*.json | wc -l)" ] || why="$why $(wc -l <"$tmp/s.out") lines;"
cols=$(awk '{ match($0, /^[^ ]+ +/); print RLENGTH }' "$tmp/s.out" | sort -u | wc -l)
[ "$cols" = 1 ] || why="$why descriptions start in $cols different columns;"
while IFS= read -r line; do
	name=${line%% *}
	text=$(sed 's/^[^ ]* *//' <<<"$line")
	desc=$(jq -r .description "bench/scenarios/$name.json")
	[ ${#line} -le 80 ] || why="$why $name: ${#line} columns;"
	case "$text" in
	*...) t=${text%...}; [ "${desc#"$t" }" != "$desc" ] || why="$why $name: cut mid-word ('${t: -12}');" ;;
	*) [ "$text" = "$desc" ] || why="$why $name: neither whole nor cut with '...';" ;;
	esac
done <"$tmp/s.out"
[ -z "$why" ] && pass scenarios_list || fail scenarios_list "$why"

# 5. a mistyped scenario gets "did you mean" (run.sh and the binary)
./run.sh run smok >/dev/null 2>"$tmp/d.err"; rc=$?
"$FL" run bench/scenarios/mmap-writr.json >/dev/null 2>"$tmp/d2.err"; rc2=$?
[ "$rc" = 2 ] && grep -q "did you mean 'smoke'" "$tmp/d.err" && [ "$rc2" = 2 ] &&
	grep -q "did you mean 'mmap-writer'" "$tmp/d2.err" && pass did_you_mean ||
	fail did_you_mean "exit $rc/$rc2: $(cat "$tmp/d.err" "$tmp/d2.err" | tr '\n' ' ')"

# 6. --duration -5 is an error of --duration; --set duration_s=-5 one of --set
"$FL" run bench/scenarios/smoke.json --duration -5 --out "$tmp/never" >/dev/null 2>"$tmp/e.err"; rc=$?
"$FL" run bench/scenarios/smoke.json --set duration_s=-5 --out "$tmp/never" >/dev/null 2>"$tmp/e2.err"; rc2=$?
why=""
[ "$rc" = 2 ] && grep -q '^faultline: --duration: duration_s: out of range \[0.1, 86400\] (value -5)$' "$tmp/e.err" ||
	why="$why --duration: exit $rc: $(cat "$tmp/e.err");"
[ "$rc2" = 2 ] && grep -q '^faultline: --set: duration_s: out of range' "$tmp/e2.err" || why="$why --set: exit $rc2;"
[ ! -e "$tmp/never" ] || why="$why --out created for a refused run;"
[ -z "$why" ] && pass duration_error_names_option || fail duration_error_names_option "$why"

# 7. run --out creates a missing directory (0755), as compare --out does
"$FL" run bench/scenarios/smoke.json --quiet --iterations 1 "${SMALL[@]}" --out "$tmp/new/sub" >/dev/null 2>"$tmp/o.err"; rc=$?
if [ "$rc" = 0 ] && [ "$(stat -c %a "$tmp/new/sub" 2>/dev/null)" = 755 ] && ls "$tmp"/new/sub/smoke-*.json >/dev/null 2>&1; then
	pass run_out_created
else
	fail run_out_created "exit $rc, mode $(stat -c %a "$tmp/new/sub" 2>&1): $(tail -2 "$tmp/o.err" | tr '\n' ' ')"
fi
exit $failed
