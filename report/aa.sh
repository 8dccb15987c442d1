#!/usr/bin/env bash
# report/aa.sh: how often does an A/A comparison star something?
#
# Runs SCENARIO once with POOL iterations on this kernel (or takes an
# existing result with --from FILE), then draws DRAWS pairs of disjoint
# random subsets of SIDE iterations each (seeded, so repeatable), writes
# each subset as a result file, and compares the pair with fl-report.  Every
# comparison is between runs of the same kernel and settings, so every star
# is a false positive.  Prints, over the draws, the share of comparisons
# where any metric is starred:
#   uncorrected  any metric with p < alpha (every metric tested on its own)
#   corrected    fl-report's marks: headline metrics by p, the others by
#                Benjamini-Hochberg q < alpha
#   headline     any headline metric with p < alpha
# and the mean number of metrics per comparison.  docs/report.md has the
# figures.
#
# usage: report/aa.sh [--scenario NAME] [--pool N] [--side N] [--draws N]
#                     [--duration S] [--from RESULT.json] [--build DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO=smoke POOL=20 SIDE=5 DRAWS=40 DURATION=3 FROM="" BUILD=${BUILD:-build} ALPHA=0.05
while [ $# -gt 0 ]; do
	case "$1" in
	--scenario) SCENARIO=$2; shift 2 ;;
	--pool) POOL=$2; shift 2 ;;
	--side) SIDE=$2; shift 2 ;;
	--draws) DRAWS=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--from) FROM=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--help|-h) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "report/aa.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done
[ $((2 * SIDE)) -le "$POOL" ] || { echo "report/aa.sh: --pool $POOL is smaller than 2 x --side $SIDE" >&2; exit 2; }
command -v jq >/dev/null || { echo "report/aa.sh: needs jq (apt-get install jq)" >&2; exit 3; }
T=$(mktemp -d /tmp/faultline-aa.XXXXXX)
trap 'rm -rf "$T"' EXIT
if [ -z "$FROM" ]; then
	mkdir -p "$T/pool"
	echo "report/aa.sh: running $SCENARIO, $POOL iterations of ${DURATION}s" >&2
	"$BUILD/faultline" run "bench/scenarios/$SCENARIO.json" --iterations "$POOL" --duration "$DURATION" \
		--label aa --out "$T/pool" --quiet >/dev/null
	FROM=$(ls "$T/pool"/*.json | head -1)
fi
n=$(jq '[.iterations[] | select(.status == "ok")] | length' "$FROM")
[ "$n" -ge $((2 * SIDE)) ] || { echo "report/aa.sh: $FROM has $n ok iterations, need $((2 * SIDE))" >&2; exit 2; }
any_p=0 any_star=0 any_head=0 metrics=0
for d in $(seq 1 "$DRAWS"); do
	# a seeded shuffle of the ok iterations' positions
	mapfile -t order < <(seq 0 $((n - 1)) | awk -v s="$d" 'BEGIN { srand(s) } { print rand(), $0 }' | sort -n | cut -d' ' -f2)
	a=$(printf '%s,' "${order[@]:0:SIDE}")
	b=$(printf '%s,' "${order[@]:SIDE:SIDE}")
	jq --argjson idx "[${a%,}]" '.iterations = [.iterations | map(select(.status == "ok")) as $ok | $idx[] | $ok[.]] | .label = "A"' "$FROM" >"$T/a.json"
	jq --argjson idx "[${b%,}]" '.iterations = [.iterations | map(select(.status == "ok")) as $ok | $idx[] | $ok[.]] | .label = "B"' "$FROM" >"$T/b.json"
	"$BUILD/fl-report" "$T/a.json" "$T/b.json" --out "$T/r$d" --no-plots --quiet --alpha "$ALPHA" 2>/dev/null
	read -r p star head m < <(jq -r --argjson al "$ALPHA" '[.comparisons[0].metrics[]] |
		[(map(select(.welch.p != null and .welch.p < $al)) | length),
		 (map(select(.mark == "*")) | length),
		 (map(select(.headline and .welch.p != null and .welch.p < $al)) | length),
		 length] | @tsv' "$T/r$d/compare.json")
	any_p=$((any_p + (p > 0))) any_star=$((any_star + (star > 0))) any_head=$((any_head + (head > 0)))
	metrics=$((metrics + m))
	rm -rf "$T/r$d"
done
printf 'A/A comparisons of %s (%d draws of %d vs %d iterations from a pool of %d, alpha %s, %d metrics each on average)\n' \
	"$(jq -r .scenario "$FROM")" "$DRAWS" "$SIDE" "$SIDE" "$n" "$ALPHA" $((metrics / DRAWS))
share() { awk -v a="$1" -v n="$DRAWS" 'BEGIN { printf "%3d of %d (%.0f%%)", a, n, 100 * a / n }'; }
echo "  any metric starred, uncorrected (p < alpha):   $(share "$any_p")"
echo "  any metric starred, as fl-report marks (BH):  $(share "$any_star")"
echo "  any headline metric starred (p < alpha):      $(share "$any_head")"
