#!/usr/bin/env bash
# Calibration against fio (docs/calibrate.md):
#   ./run.sh calibrate [--threads N] [--size BYTES] [--pairs N] [--duration S]
#                      [--storage DIR] [--out DIR]
# fio's mmap engine and the suite's fault role read the same file (the
# suite's own data file, STORAGE/files-SIZE-vN/data-000000) with the same
# pattern and threads: random 4 KiB reads under MADV_RANDOM, each thread in
# its own slice of the file, the file dropped from the page cache before each
# side.  The sides run interleaved (fio, suite, fio, suite, ...), and the
# latency percentiles (fio's clat, the suite's major-fault latency) and
# reads per second are printed side by side with the difference in %.
#   --threads N     reading threads on each side (default 1)
#   --size BYTES    file size, K/M/G/T suffixes (default 2G); a multiple of
#                   4 KiB x threads
#   --pairs N       fio/suite pairs (default 3)
#   --duration S    seconds per side (default 10)
#   --storage DIR   the suite's storage.path (default /var/tmp/faultline)
#   --out DIR       results directory (default results): the record goes to
#                   DIR/calibration/calibration-HOST-TIME.json (written
#                   atomically), fio's and the suite's raw output beside it in
#                   DIR/calibration/HOST-TIME/; `faultline run --out DIR` attaches
#                   the newest record of the same machine to its results
#                   (environment.calibration)
# Exit: 0 ok, 1 a side failed or was interrupted, 2 bad input, 3 fio, jq or
# the faultline binary missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
FL=${FAULTLINE:-build/faultline}
log() { echo "calibrate: $*" >&2; }
bad() { log "$*"; exit 2; }
# the comment block above, up to the first line that is not a comment
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }

threads=1 size=2G pairs=3 duration=10 storage=/var/tmp/faultline out=results
while [ $# -gt 0 ]; do
	case "$1" in
	--help | -h) usage; exit 0 ;;
	--threads | --size | --pairs | --duration | --storage | --out)
		[ $# -ge 2 ] && [ -n "$2" ] && [ "${2:0:1}" != - ] || bad "$1 needs a value (--help)"
		v=$2
		case "$1" in
		--threads) threads=$v ;; --size) size=$v ;; --pairs) pairs=$v ;;
		--duration) duration=$v ;; --storage) storage=$v ;; --out) out=$v ;;
		esac
		shift 2 ;;
	*) bad "unknown option '$1' (--help)" ;;
	esac
done

[[ $threads =~ ^[1-9][0-9]{0,3}$ ]] && [ "$threads" -le 1024 ] ||
	bad "--threads '$threads': expected an integer from 1 to 1024"
[[ $pairs =~ ^[1-9][0-9]{0,2}$ ]] && [ "$pairs" -le 100 ] ||
	bad "--pairs '$pairs': expected an integer from 1 to 100"
[[ $duration =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v d="$duration" 'BEGIN { exit !(d >= 0.5 && d <= 3600) }' ||
	bad "--duration '$duration': expected seconds from 0.5 to 3600"
[[ $size =~ ^([1-9][0-9]{0,15})([KMGT]?)$ ]] || bad "--size '$size': expected bytes, or a number with K, M, G or T"
case ${BASH_REMATCH[2]} in K) sh=10 ;; M) sh=20 ;; G) sh=30 ;; T) sh=40 ;; *) sh=0 ;; esac
size_bytes=$((BASH_REMATCH[1] << sh))
slice=$((size_bytes / threads))
[ $((size_bytes % (4096 * threads))) -eq 0 ] ||
	bad "--size '$size': $size_bytes bytes is not a multiple of 4 KiB x $threads threads"
[ -n "$storage" ] && [ -n "$out" ] || bad "--storage and --out need a directory"

command -v fio >/dev/null || { log "fio is not installed (./run.sh calibrate installs it)"; exit 3; }
command -v jq >/dev/null || { log "jq is not installed (./run.sh calibrate installs it)"; exit 3; }
[ -x "$FL" ] || { log "$FL not built (./run.sh calibrate builds it)"; exit 3; }

host=$(uname -n)
stamp=$(date -u +%Y%m%dT%H%M%SZ)-$$
name=calibration-$host-$stamp
cdir=$out/calibration
raw=$cdir/$host-$stamp
tmp=$cdir/.$name.json.tmp-$$
mkdir -p "$cdir"
mkdir "$raw"

child=0 done=0
cleanup() {
	if [ "$child" -gt 0 ]; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
		child=0
	fi
	rm -f "$tmp"
	# nothing half-made: an interrupted or failed calibration leaves no raw directory
	if [ "$done" != 1 ]; then rm -rf "$raw"; fi
}
trap 'log "interrupted"; cleanup; exit 1' INT TERM HUP
trap cleanup EXIT
# one child at a time, in the background so that a signal reaches the trap
run_child() {
	local rc=0
	"$@" &
	child=$!
	wait "$child" || rc=$?
	child=0
	return "$rc"
}

# the suite's side: smoke reduced to the fault role on one file
SUITE=(bench/scenarios/smoke.json --label calibrate --iterations 1 --warmup 0 --quiet
	--set storage.type=dir --set "storage.path=$storage"
	--set "victim.fault_threads=$threads" --set victim.writer_threads=0 --set victim.odirect.threads=0
	--set victim.files.count=1 --set "victim.files.size_bytes=$size_bytes" --set victim.memory=file
	--set victim.pattern=random --set victim.madvise=random --set victim.map=shared
	--set victim.write_ratio=0 --set victim.pass_end=dontneed --set victim.classify=rusage
	--set victim.verify=false --set observer.threads=0 --set observer.ps_scan=false
	--set observer.gup_threads=0 --set cgroup.victim.memory_max_bytes=0
	--set cgroup.victim.memory_high_bytes=0 --set cgroup.victim.cpu_weight=100 --set pressure.mode=off
	--set probes.mmap_lock=off)

# a short suite run first: it creates (or verifies) the data file and says
# where it is, on which device and file system
log "preparing the $size data file in $storage (created once, then reused)"
mkdir "$raw/prep"
run_child "$FL" run "${SUITE[@]}" --duration 0.5 --out "$raw/prep" >"$raw/prep.log" 2>&1 || {
	rc=$?
	log "the suite's preparation run failed (exit $rc):"
	cat "$raw/prep.log" >&2
	exit "$rc"
}
prep=$(ls "$raw"/prep/*.json)
files_dir=$(jq -r .storage.files_dir "$prep")
file=$files_dir/data-000000
device=$(jq -r .storage.device "$prep")
blockdev=$(basename "$(readlink -f "/sys/dev/block/$device" 2>/dev/null)" 2>/dev/null || true)
[ -e "/sys/dev/block/$device" ] || blockdev=none
fstype=$(findmnt -n -o FSTYPE --target "$files_dir" 2>/dev/null || stat -f -c %T "$files_dir")
rm -rf "$raw/prep" "$raw/prep.log"
[ -f "$file" ] || { log "the suite's data file $file is missing after its preparation run"; exit 1; }

# drop the file's pages (posix_fadvise DONTNEED, like storage_drop_cache) and
# say how many bytes stayed resident
drop_cache() {
	dd if="$file" iflag=nocache count=0 status=none
	fincore --bytes --noheadings --output RES "$file" | tr -d ' '
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# the storage device's counters (/sys/dev/block/MAJ:MIN/stat: completed
# reads, the ms they took, writes, discards, flushes) and the time, as JSON:
# the I/O of others during a side is the device's requests minus the side's
# own reads (each one page, readahead off), and the device's mean read time
# says how the device itself did (a busy device, not a tool, makes slow reads)
devstat() {
	local s
	if read -r -a s <"/sys/dev/block/$device/stat" 2>/dev/null; then
		echo "{\"reads\": ${s[0]}, \"read_ms\": ${s[3]}, \"writes\": ${s[4]}, \"discards\": ${s[11]:-0},
			\"flushes\": ${s[15]:-0}, \"t_s\": $(date +%s.%N)}"
	else
		echo null
	fi
}
# Each side reads in an order of its own (a new seed): the same order again
# can find its blocks cached below the page cache (a virtual disk's host
# caches them: fio's default, the same sequence on every run, read 2-3x as
# many pages per second here as a new one), and the side that repeats its
# order would be measuring that cache.
# (the runner's iteration.seed fresh, its default, draws its own: the record
# keeps the seed the iteration says it used)
newseed() { od -An -N4 -tu4 /dev/urandom | tr -d ' '; }
# meta SIDE I: what the record keeps of the side besides the tool's output
meta() {
	echo "{\"load_average\": \"$side_load\", \"resident_bytes_at_start\": ${resident:-null}, \"seed\": $seed,
		\"device_start\": $dev_start, \"device_end\": $(devstat)}" >"$raw/$1-$2.meta.json"
}

fio_version=$(fio --version)
load_start=$(loadavg)
log "$fio_version vs the suite on $file ($fstype on ${blockdev:-?} $device), $threads thread(s), $pairs pair(s) of $duration s"
for ((i = 1; i <= pairs; i++)); do
	side_load=$(loadavg)
	log "pair $i/$pairs: fio ($duration s, load average $side_load)"
	resident=$(drop_cache)
	seed=$(newseed)
	dev_start=$(devstat)
	run_child fio --randseed="$seed" --name=calibrate --filename="$file" --readonly --ioengine=mmap --rw=randread --bs=4k \
		--fadvise_hint=random --thread --numjobs="$threads" --size="$slice" --offset_increment="$slice" \
		--time_based --runtime="$(awk -v d="$duration" 'BEGIN { printf "%d", d * 1000 }')ms" --group_reporting \
		--percentile_list=50:90:99:99.9 --output-format=json --output="$raw/fio-$i.json" >"$raw/fio-$i.log" 2>&1 || {
		log "fio failed (exit $?):"; cat "$raw/fio-$i.log" >&2; exit 1; }
	meta fio "$i"
	side_load=$(loadavg) resident="" seed=$(newseed)
	log "pair $i/$pairs: suite ($duration s, load average $side_load)"
	dev_start=$(devstat)
	mkdir "$raw/suite-$i"
	run_child "$FL" run "${SUITE[@]}" --duration "$duration" --set "seed=$seed" --out "$raw/suite-$i" >"$raw/suite-$i.log" 2>&1 || {
		log "the suite's run failed (exit $?):"; cat "$raw/suite-$i.log" >&2; exit 1; }
	meta suite "$i"
	mv "$raw"/suite-$i/*.json "$raw/suite-$i.json"
	rmdir "$raw/suite-$i"
done
load_end=$(loadavg)

# the record: every pair's figures, and the medians over pairs with the
# suite's difference from fio in %.  other_io: the device's reads and writes
# during the side that were not the side's own page reads, per second
OTHER_IO='def d($m; $k): $m.device_end[$k] - $m.device_start[$k];
	def other_io($m; $own): if $m.device_start == null or $m.device_end == null then null
	else (d($m; "reads") - $own + d($m; "writes") + d($m; "discards") + d($m; "flushes")) / d($m; "t_s")
		| if . < 0 then 0 else round end end;
	def device_read_us($m): if $m.device_start == null or $m.device_end == null or d($m; "reads") == 0 then null
	else d($m; "read_ms") * 1000 / d($m; "reads") | round end;'
{
	for ((i = 1; i <= pairs; i++)); do
		jq -c --argjson i "$i" --slurpfile m "$raw/fio-$i.meta.json" --arg out "$(basename "$raw")/fio-$i.json" '
			'"$OTHER_IO"'
			.jobs[0] as $j | $j.read as $r | {
			index: $i, side: "fio", output: $out,
			seed: $m[0].seed, load_average: $m[0].load_average, other_io_per_s: other_io($m[0]; $r.total_ios),
			device_read_us: device_read_us($m[0]),
			resident_bytes_at_start: $m[0].resident_bytes_at_start,
			p50_ns: $r.clat_ns.percentile["50.000000"], p90_ns: $r.clat_ns.percentile["90.000000"],
			p99_ns: $r.clat_ns.percentile["99.000000"], p99_9_ns: $r.clat_ns.percentile["99.900000"],
			mean_ns: $r.clat_ns.mean, reads: $r.total_ios, runtime_s: ($r.runtime / 1000),
			reads_per_s: $r.iops, error: $j.error}' "$raw/fio-$i.json"
		jq -c --argjson i "$i" --slurpfile m "$raw/suite-$i.meta.json" --arg out "$(basename "$raw")/suite-$i.json" '
			'"$OTHER_IO"'
			.summary.roles.fault.histograms.major as $h | .summary.counters as $c
			| ([.iterations[].measured_s] | add) as $s | {
			index: $i, side: "suite", output: $out, status,
			seed: (.iterations[0].seed // $m[0].seed), load_average: $m[0].load_average,
			other_io_per_s: other_io($m[0]; $c["fault.major_faults"]), device_read_us: device_read_us($m[0]),
			resident_bytes_at_start: .iterations[0].page_cache_resident_bytes_at_start,
			p50_ns: $h.p50_ns, p90_ns: $h.p90_ns, p99_ns: $h.p99_ns, p99_9_ns: $h.p99_9_ns,
			mean_ns: $h.mean_ns, reads: $c["fault.touches"], major_faults: $c["fault.major_faults"],
			minor_faults: $c["fault.minor_faults"], runtime_s: $s,
			reads_per_s: (if $s > 0 then $c["fault.touches"] / $s else null end)}' "$raw/suite-$i.json"
	done
} >"$raw/sides.jsonl"
jq -s --arg created "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg fio_version "$fio_version" \
	--arg file "$file" --arg fstype "$fstype" --arg blockdev "${blockdev:-unknown}" \
	--arg load_start "$load_start" --arg load_end "$load_end" --argjson cpus "$(nproc)" \
	--argjson threads "$threads" --argjson size "$size_bytes" --argjson pairs "$pairs" \
	--argjson duration "$duration" --argjson slice "$slice" --slurpfile env <(jq .environment "$raw/suite-1.json") \
	--slurpfile st <(jq .storage "$raw/suite-1.json") --arg rawdir "$(basename "$raw")" '
	def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def pct($a; $b): if $a == null or $b == null or $b == 0 then null
		else ((($a - $b) / $b * 1000 | round) / 10) end;
	def loads: split(" ") | map(tonumber);
	["p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "reads_per_s"] as $keys
	| . as $sides
	| ($keys | map({key: ., value: (. as $k | [$sides[] | select(.side == "fio") | .[$k]] | median)}) | from_entries) as $f
	| ($keys | map({key: ., value: (. as $k | [$sides[] | select(.side == "suite") | .[$k]] | median)}) | from_entries) as $s
	| ($keys | map({key: ., value: (. as $k | [$sides[] | select(.side == "fio") | .[$k]] | [min, max])}) | from_entries) as $fr
	| ($keys | map({key: ., value: (. as $k | [$sides[] | select(.side == "suite") | .[$k]] | [min, max])}) | from_entries) as $sr
	| {
	schema: "faultline-calibration/1",
	created_at: $created,
	machine: {hostname: $env[0].hostname, kernel_release: $env[0].kernel_release, arch: $env[0].arch,
		cpus: $cpus, cpu_model: $env[0].cpu_model, memory_bytes: $env[0].memory_bytes,
		storage: {device: $st[0].device, fs_magic: $st[0].fs_magic, fs_type: $fstype,
			block_device: $blockdev, files_dir: $st[0].files_dir}},
	settings: {threads: $threads, file: $file, file_size_bytes: $size, slice_bytes: $slice,
		block_bytes: 4096, pattern: "random", madvise: "random", duration_s: $duration, pairs: $pairs,
		order: "interleaved, fio first",
		fio: "--ioengine=mmap --rw=randread --bs=4k --fadvise_hint=random --thread --numjobs=THREADS --size=SLICE --offset_increment=SLICE --time_based --randseed=SEED (a new one each side)",
		suite: "smoke with one file, fault threads only (no writer, observer, evictor, memory limit, lower cpu.weight or mmap_lock probe), victim.pattern random, victim.madvise random, seed SEED (a new one each side)"},
	tools: {fio_version: $fio_version, suite_version: $env[0].suite_version},
	load_average: {start: ($load_start | loads), end: ($load_end | loads)},
	raw_dir: $rawdir,
	pairs: [range(1; $pairs + 1) as $i | {index: $i,
		fio: ($sides[] | select(.side == "fio" and .index == $i) | del(.side, .index)),
		suite: ($sides[] | select(.side == "suite" and .index == $i) | del(.side, .index))}],
	summary: {statistic: "median over pairs", fio: $f, suite: $s,
		diff_pct: ($keys | map({key: ., value: pct($s[.]; $f[.])}) | from_entries),
		fio_range: $fr, suite_range: $sr}
	}' "$raw/sides.jsonl" >"$tmp"
rm -f "$raw/sides.jsonl" "$raw"/*.meta.json

# a failed side is not a calibration
jq -e '[.pairs[] | .fio.error == 0 and .suite.status == "ok"] | all' "$tmp" >/dev/null || {
	log "a side did not end well (a fio error, or a suite status other than ok)"; exit 1; }
sync "$tmp"
ln "$tmp" "$cdir/$name.json"
rm -f "$tmp"
done=1

# the text: each pair, then the medians with the difference
jq -r '
	def us: if . == null then "-" else (. / 100 | round / 10 | tostring) end;
	def rate: if . == null then "-" else (. | round | tostring) end;
	def pc: if . == null then "-" else ((if . > 0 then "+" else "" end) + tostring + "%") end;
	def cells($w; $a): [$a[] | tostring] | map(. + (" " * ([$w - length, 1] | max))) | join("");
	def row($w; $a): cells($w; $a) | sub(" +$"; "");
	def row($a): row(12; $a);
	"calibration: \(.tools.fio_version) mmap engine vs the suite'"'"'s fault role on \(.machine.hostname) (\(.machine.kernel_release), \(.machine.arch), \(.machine.cpus) cpus)",
	"  file \(.settings.file) (\(.settings.file_size_bytes) bytes, \(.machine.storage.fs_type) on \(.machine.storage.block_device) \(.machine.storage.device))",
	"  random 4 KiB reads, MADV_RANDOM, \(.settings.threads) thread(s), \(.settings.duration_s) s a side, \(.settings.pairs) pair(s) interleaved (fio first); page cache dropped before each side",
	"  load average (1, 5, 15 min): \(.load_average.start | map(tostring) | join(" ")) at start, \(.load_average.end | map(tostring) | join(" ")) at end (shared machine: expect noise)",
	"",
	"  " + cells(6; ["pair", "side"]) + row(["p50_us", "p90_us", "p99_us", "p99.9_us", "reads_per_s", "load_1min",
		"others_io/s", "dev_read_us"]),
	(.pairs[] | .index as $i | (.fio, .suite) as $x
		| "  " + cells(6; [$i, (if $x.major_faults == null then "fio" else "suite" end)]) + row([($x.p50_ns | us),
			($x.p90_ns | us), ($x.p99_ns | us), ($x.p99_9_ns | us), ($x.reads_per_s | rate),
			($x.load_average | split(" ")[0]), ($x.other_io_per_s | rate), ($x.device_read_us | rate)])),
	"",
	"  \(.summary.statistic)   fio: clat; suite: fault.major latency, fault.touches per second",
	"  " + row(["metric", "fio", "suite", "suite-fio", row(17; ["fio_range", "suite_range"])]),
	(.summary as $s | ["p50_ns", "p90_ns", "p99_ns", "p99_9_ns"][] as $k
		| "  " + row([($k | sub("_ns$"; "_us") | sub("99_9"; "99.9")), ($s.fio[$k] | us), ($s.suite[$k] | us),
			($s.diff_pct[$k] | pc), row(17; [($s.fio_range[$k] | map(us) | join("-")), ($s.suite_range[$k] | map(us) | join("-"))])])),
	(.summary | "  " + row(["reads_per_s", (.fio.reads_per_s | rate), (.suite.reads_per_s | rate), (.diff_pct.reads_per_s | pc),
		row(17; [(.fio_range.reads_per_s | map(rate) | join("-")), (.suite_range.reads_per_s | map(rate) | join("-"))])]))
' "$cdir/$name.json"
if jq -e '(.settings.file_size_bytes / 4096) as $pages
	| ([.pairs[].suite.minor_faults] | add > 0) or ([.pairs[].fio.reads] | max > $pages)' "$cdir/$name.json" >/dev/null; then
	echo "  note: a side read its whole slice and started again (pages then in the page cache): a shorter --duration or a larger --size keeps every read a miss"
fi
if jq -e '[.summary.fio_range.reads_per_s, .summary.suite_range.reads_per_s][] | select(.[0] * 1.5 < .[1])' \
	"$cdir/$name.json" >/dev/null; then
	echo "  note: one tool's reads per second changed by more than 1.5x between its pairs: the machine (its disk:"
	echo "        others_io/s, dev_read_us) was busy; compare the p50s, not the tails or the rates, or calibrate when it is quiet"
fi
echo "record: $cdir/$name.json (raw output in $raw/)"
