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

# The mmap_lock probe (bench/probes/mmaplock.c), when tracefs and its
# tracepoints are usable here (root): its parse cost per event live, binary
# ring-buffer pages against the text fallback, on mmap-writer (the suite's
# highest event rate: a writer looping mmap/munmap); then its overhead on
# fault throughput: smoke with the probe on and off, interleaved ABBA so a
# drift of the machine falls on both sides.  FL_BENCH_PROBE_PAIRS pairs
# (default 3) of FL_BENCH_PROBE_S seconds (default 10).
probe_ok=1
for fmt in raw text; do
	[ "$probe_ok" = 1 ] || break
	mkdir -p "$tmp/mw-$fmt"
	rc=0
	"$FL" run bench/scenarios/mmap-writer.json --duration 10 --iterations 1 --quiet --out "$tmp/mw-$fmt" \
		--set probes.mmap_lock=on --set probes.mmap_lock_format="$fmt" >"$tmp/mw-$fmt.out" 2>&1 || rc=$?
	if [ "$rc" = 3 ]; then # the probe cannot start here (not root, no tracefs): said, not fatal
		echo "bench: mmap_lock probe figures skipped: $(tail -1 "$tmp/mw-$fmt.out")"
		probe_ok=0
		break
	fi
	[ "$rc" = 0 ] || { cat "$tmp/mw-$fmt.out"; exit 1; }
	jq -r --arg fmt "$fmt" '.iterations[0] as $i | $i.probes.mmap_lock.overhead as $o |
	  "bench: mmap_lock probe, \($fmt), live on mmap-writer (10 s): \($o.parse_ns_per_event | . * 10 | round / 10) ns of runner CPU per event (reading + parsing), \($o.events) events, \($o.parse_cpu_s * 1000 | round) ms, budget stops \($o.budget_stops), lost \($o.overrun + $o.dropped_events) (overrun + dropped), writer ops/s \(.summary.counters["writer.ops"] / $i.measured_s | round)"' \
		"$tmp/mw-$fmt"/*.json
done
if [ "$probe_ok" = 1 ]; then
	pairs=${FL_BENCH_PROBE_PAIRS:-3} secs=${FL_BENCH_PROBE_S:-10}
	order=()
	for ((i = 0; i < pairs; i++)); do
		if ((i % 2 == 0)); then order+=(on off); else order+=(off on); fi
	done
	echo "bench: mmap_lock probe overhead: smoke, ${#order[@]} runs of $secs s, probe ${order[*]}"
	k=0
	for mode in "${order[@]}"; do
		k=$((k + 1))
		mkdir -p "$tmp/ov-$k-$mode"
		"$FL" run bench/scenarios/smoke.json --duration "$secs" --iterations 1 --quiet --out "$tmp/ov-$k-$mode" \
			--set probes.mmap_lock="$mode" >"$tmp/ov-$k.out" 2>&1 || { cat "$tmp/ov-$k.out"; exit 1; }
	done
	jq -s -r '
	  def rate: .summary.counters["fault.touches"] / ([.iterations[].measured_s] | add);
	  def mean: add / length;
	  def sd: (mean as $m | map(. - $m | . * .) | add / (length - 1) | sqrt);
	  (map(select(.config.probes.mmap_lock == "on") | rate)) as $on |
	  (map(select(.config.probes.mmap_lock == "off") | rate)) as $off |
	  "bench: fault touches/s, probe on: \($on | map(round) | join(" ")) (mean \($on | mean | round), sd \(if ($on | length) > 1 then ($on | sd | round) else "-" end))",
	  "bench: fault touches/s, probe off: \($off | map(round) | join(" ")) (mean \($off | mean | round), sd \(if ($off | length) > 1 then ($off | sd | round) else "-" end))",
	  "bench: mmap_lock probe overhead on fault throughput: \(100 * (1 - ($on | mean) / ($off | mean)) | . * 100 | round / 100) % (off - on, of off; target <= 2%)"' \
		"$tmp"/ov-*/*.json
fi

# fl-history: ingest throughput and check time (report/history/bench.sh)
if [ -x "$BUILD/fl-history" ]; then
	report/history/bench.sh "$BUILD"
else
	echo "bench: $BUILD/fl-history not built (make $BUILD/fl-history): history figures skipped"
fi
