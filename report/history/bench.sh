#!/usr/bin/env bash
# fl-history's part of `./run.sh bench` (called by tests/bench.sh; runs
# alone too: report/history/bench.sh [BUILD]):
#  1. ingest throughput: N copies of a real smoke result (distinct run ids,
#     tests/data/history-smoke-k1.json) added in one `history add`, results
#     per second; then the same again (all already present);
#  2. check time on 1,000 synthetic series of 365 nightly runs (every 10th
#     with a 10% step, CV 5%), generated into a temporary database.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
H=$BUILD/fl-history
N=${FL_BENCH_HISTORY_RESULTS:-200}
SERIES=${FL_BENCH_HISTORY_SERIES:-1000}
POINTS=${FL_BENCH_HISTORY_POINTS:-365}
tmp=$(mktemp -d /tmp/faultline-bench-history.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

src=tests/data/history-smoke-k1.json
mkdir -p "$tmp/results"
for i in $(seq 1 "$N"); do
	jq -c --arg r "bench-$i" '.run_id = $r' "$src" >"$tmp/results/r$i.json"
done
values=$(($("$H" eval "$src" | wc -l) - 1))
t0=$(now)
"$H" add --db "$tmp/ingest.sqlite" --quiet "$tmp/results" >/dev/null
t1=$(now)
"$H" add --db "$tmp/ingest.sqlite" --quiet "$tmp/results" >/dev/null
t2=$(now)
echo "bench: history add: $N results ($values values each, $(du -k "$src" | cut -f1) KiB JSON) in $(secs "$t0" "$t1") s:" \
	"$(rate "$N" "$t0" "$t1") results/s; again (all present): $(rate "$N" "$t1" "$t2") results/s;" \
	"database $(du -k "$tmp/ingest.sqlite" | cut -f1) KiB"

t0=$(now)
"$H" synth --db "$tmp/synth.sqlite" --series "$SERIES" --points "$POINTS" >/dev/null
t1=$(now)
rc=0
"$H" check --db "$tmp/synth.sqlite" >"$tmp/check.out" 2>&1 || rc=$?
t2=$(now)
echo "bench: history check: $SERIES series of $POINTS runs ($((SERIES / 10)) with a planted 10% step, CV 5%):" \
	"$(secs "$t1" "$t2") s (exit $rc; $(grep -c '^  change at' "$tmp/check.out") change points," \
	"$(grep -c '^REGRESSION' "$tmp/check.out") regressions past 5%); generating the database took $(secs "$t0" "$t1") s"
