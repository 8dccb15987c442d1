#!/usr/bin/env bash
# make bench: the suite's own overheads, measured (figures go in the README).
#  1. cost of recording one latency sample vs a bare clock_gettime pair;
#  2. a run with 10,000 fault threads: the share of CPU the harness used.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FL=$BUILD/faultline
THREADS=${FL_BENCH_THREADS:-10000}
tmp=$(mktemp -d /tmp/faultline-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$FL" bench

echo "bench: running smoke with $THREADS fault threads for 10 s (files 4 x 64 MiB)"
"$FL" run bench/scenarios/smoke.json --duration 10 --quiet --out "$tmp" \
	--set victim.fault_threads="$THREADS" --set victim.stack_bytes=32K >"$tmp/run.out" 2>&1 || {
	cat "$tmp/run.out"; exit 1; }
f=$(ls "$tmp"/*.json)
jq -r --argjson cpus "$(nproc)" '
  .harness as $h | .wall_s as $wall |
  ([.iterations[].roles.fault.threads_started] | add) as $started |
  ($h.runner_cpu_ns + $h.victim_cpu_ns + $h.observer_cpu_ns) as $all |
  (.summary.counters["fault.touches"]) as $touches |
  "bench: fault threads started: \($started) of \(.config.victim.fault_threads)",
  "bench: touches recorded: \($touches)",
  "bench: runner CPU: \($h.runner_cpu_ns / 1e6 | floor) ms over \($wall * 1000 | floor) ms wall",
  "bench: runner share of the machine (runner CPU / (wall x \($cpus) CPUs)): \(100 * $h.runner_cpu_ns / ($wall * 1e9 * $cpus) | . * 100 | round / 100) % (target <= 5%)",
  "bench: runner share of all CPU the run used: \(100 * $h.runner_cpu_ns / $all | . * 100 | round / 100) %",
  "bench: arena (histograms + counters, charged to the runner): \($h.arena_bytes / 1048576 | floor) MiB",
  "bench: runner scheduling: \($h.runner_scheduling)",
  "bench: wall \($wall | . * 10 | round / 10) s for 10 s measured (setup \(.iterations[0].setup_s | . * 10 | round / 10) s, stop \(.iterations[0].stop_s | . * 10 | round / 10) s)"' "$f"

# fl-history: ingest throughput and check time (report/history/bench.sh)
if [ -x "$BUILD/fl-history" ]; then
	report/history/bench.sh "$BUILD"
else
	echo "bench: $BUILD/fl-history not built (make $BUILD/fl-history): history figures skipped"
fi
