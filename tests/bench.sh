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

# the machine's load before this script's own runs (whose 10,000 threads
# count in the load average themselves)
echo "bench: load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
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
# (default 16: 6 did not settle the 2% target even on a quiet machine) of FL_BENCH_PROBE_S seconds (default 10).
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
	# pairs of runs, each pair on then off or off then on (ABBA), so a drift
	# of the machine falls on both sides; the overhead is estimated from the
	# ratio within each pair (neighbours in time), with a 95% confidence
	# interval over the pairs (Student's t), and the target is judged from
	# the interval: met (upper bound <= 2%), missed (lower bound > 2%) or
	# not settled by this many pairs (say so, and how many would settle it)
	pairs=${FL_BENCH_PROBE_PAIRS:-16} secs=${FL_BENCH_PROBE_S:-10}
	echo "bench: mmap_lock probe overhead: smoke, $pairs pairs of $secs s runs (probe on/off, ABBA)"
	for ((i = 0; i < pairs; i++)); do
		if ((i % 2 == 0)); then order=(on off); else order=(off on); fi
		for mode in "${order[@]}"; do
			mkdir -p "$tmp/ov-$i-$mode"
			"$FL" run bench/scenarios/smoke.json --duration "$secs" --iterations 1 --quiet --out "$tmp/ov-$i-$mode" \
				--set probes.mmap_lock="$mode" >"$tmp/ov-$i.out" 2>&1 || { cat "$tmp/ov-$i.out"; exit 1; }
		done
	done
	for ((i = 0; i < pairs; i++)); do
		jq -s -r 'def rate(c): (.summary.counters[c] // 0) / ([.iterations[].measured_s] | add);
		  map(select(.config.probes.mmap_lock == "on"))[0] as $on |
		  map(select(.config.probes.mmap_lock == "off"))[0] as $off |
		  "\($on | rate("fault.touches")) \($off | rate("fault.touches")) \($on | rate("writer.ops")) \($off | rate("writer.ops"))"' "$tmp/ov-$i-on"/*.json "$tmp/ov-$i-off"/*.json
	done >"$tmp/pairs.txt"
	# t quantiles (0.975) for 1..30 degrees of freedom
	awk 'BEGIN { split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", tq, " ") }
	{ on[NR] = $1; off[NR] = $2; d[NR] = 100 * (1 - $1 / $2); s += d[NR]; if ($4 > 0) { nw++; w[nw] = 100 * (1 - $3 / $4); sw += w[nw] } printf "bench:   pair %d: touches/s on %.0f, off %.0f: overhead %+.2f %% (writer ops/s on %.0f, off %.0f)\n", NR, $1, $2, d[NR], $3, $4 }
	END {
		n = NR; m = s / n
		for (i = 1; i <= n; i++) v += (d[i] - m) ^ 2
		sd = n > 1 ? sqrt(v / (n - 1)) : 0
		t = n - 1 >= 1 ? tq[n - 1 > 30 ? 30 : n - 1] : 0
		h = t * sd / sqrt(n)
		verdict = n < 2 ? "not settled (one pair)" : m + h <= 2 ? "met" : m - h > 2 ? "missed" : \
			sprintf("not settled by %d pairs (about %d pairs would give a half-width of 1%%)", n, int((1.96 * sd) ^ 2) + 1)
		printf "bench: mmap_lock probe overhead on fault throughput: %+.2f %% (mean of %d paired ratios, 95%% CI %+.2f .. %+.2f %%; sd of a pair %.2f %%); target <= 2%%: %s\n", m, n, m - h, m + h, sd, verdict
		# the writer mmap/munmap take mmap_lock for writing on every
		# operation, so the in-kernel cost of the tracepoints falls mostly on it;
		# a slower writer also contends less with the faults (a negative
		# fault overhead can come from there)
		if (nw > 1) {
			mw = sw / nw; for (i = 1; i <= nw; i++) vw += (w[i] - mw) ^ 2
			hw = tq[nw - 1 > 30 ? 30 : nw - 1] * sqrt(vw / (nw - 1)) / sqrt(nw)
			printf "bench: mmap_lock probe overhead on the writer (the mmap/munmap loop of smoke): %+.2f %% (mean of %d paired ratios, 95%% CI %+.2f .. %+.2f %%)\n", mw, nw, mw - hw, mw + hw
		}
	}' "$tmp/pairs.txt"
fi

# fl-history: ingest throughput and check time (report/history/bench.sh)
if [ -x "$BUILD/fl-history" ]; then
	report/history/bench.sh "$BUILD"
else
	echo "bench: $BUILD/fl-history not built (make $BUILD/fl-history): history figures skipped"
fi
