# shellcheck shell=bash
# What a short run of a scenario must show on any kernel (issue 15: "tests
# that hold on any kernel"), for tests/sys_run.sh and tests/sys_vm.sh
# (native and in the VM backend) and tests/vm_kernels.sh (every bootable
# kernel).  Source it after tests/lib.sh; it needs jq.
#
# scenario_check NAME RESULT DURATION_S [full]
# One PASS or FAIL line for NAME (with the figures), plus a SKIP line for
# each kernel feature the run could not use (said why).  Asserted: what the
# suite controls.  The status is ok and the measured phase lasted; with
# "full", the isolation is full.  Fault threads on files cause major faults
# when the measured phase begins cold (the runner drops the files from the
# page cache before the iteration; with no warm-up the first touches are
# measured; where the file system keeps the pages, tmpfs or ramfs, a SKIP
# says so) and page faults in vmstat; writers do operations, and every one of them takes
# mmap_lock for writing, so the mmap_lock probe, when present, sees write
# start_locking or acquisitions (unless it says it left events unparsed or
# lost them); odirect threads read (unless the storage refuses O_DIRECT,
# counted as EINVAL) with their buffers faulted in by GUP; gup threads read;
# slowfs serves bytes; anonymous memory with swap is paged out and back
# (pswpout and pswpin, or zswpout and zswpin where zswap caught the pages),
# and without swap the result says swap is absent.  Reported, never
# asserted, because they vary by kernel and reclaim path: mmap_lock read
# acquisitions (per-VMA locks serve more faults on newer kernels),
# workingset refaults, per-VMA lock counters, PSI, THP.
scenario_check() {
	local name=$1 f=$2 dur=$3 want_full=${4:-} why="" notes="" v
	local c='.summary.counters' it='.iterations[0]'
	jv() { jq -r "$1" "$f" 2>/dev/null; }
	if [ -z "$f" ] || [ ! -s "$f" ]; then
		fail "$name" "no result"
		return
	fi
	if [ "$(jv .environment.vm.guest_exit_status)" = 3 ]; then # a missing resource, said by the guest's runner
		skip "$name" "the guest lacks what the scenario needs (exit 3): $(grep -h '^faultline: ' "${f%.json}.console.log" 2>/dev/null | tail -n 1)"
		return
	fi
	[ "$(jv .status)" = ok ] || why="$why status $(jv .status): $(jv .status_reason | cut -c1-200);"
	awk -v m="$(jv "$it.measured_s")" -v d="$dur" 'BEGIN { exit !(m >= 0.9 * d) }' ||
		why="$why measured only $(jv "$it.measured_s") s of $dur;"
	[ "$want_full" != full ] || [ "$(jv .environment.isolation)" = full ] ||
		why="$why isolation $(jv .environment.isolation) (want full);"
	if [ -n "$why" ]; then # nothing else means anything
		fail "$name" "$why"
		return
	fi
	# faults: on files, major faults from the cold page cache; vmstat counts page faults
	v=$(jv "$it.probes.vmstat.delta.pgfault // 0")
	[ "$v" -gt 0 ] 2>/dev/null || why="$why vmstat pgfault delta $v;"
	if [ "$(jv .config.victim.fault_threads)" -gt 0 ] && [ "$(jv .config.victim.memory)" = file ]; then
		v=$(jv "${c}[\"fault.major_faults\"] // 0")
		if [ "$(jv '.config.warmup_s > 0')" = true ]; then
			: # the warm-up took the first touches; later majors need pressure: reported only
		elif [ "$(jv "($it.page_cache_resident_bytes_at_start // 0) >= .config.victim.files.count * .config.victim.files.size_bytes")" = true ]; then
			# tmpfs and ramfs keep their pages whatever the drop asks
			skip "${name}_major_faults" "the files stayed in the page cache after the drop ($(jv "$it.page_cache_resident_bytes_at_start") bytes resident, file system $(jv .storage.fs_magic)), so touches are minor faults ($v major)"
		else
			[ "$v" -gt 0 ] 2>/dev/null || why="$why fault.major_faults $v on files dropped from the page cache;"
		fi
		notes="$notes major $v,"
	fi
	# anonymous memory: paged out and back with swap; said absent without
	if [ "$(jv .config.victim.memory)" = anon ] && [ "$(jv .config.victim.pass_end)" = pageout ]; then
		if [ "$(jv '.swap.total_bytes // 0')" = 0 ]; then
			[ "$(jv .swap.status)" = absent ] && jv .swap.note | grep -q 'no swap' ||
				why="$why no swap, but swap.status $(jv .swap.status) and no note;"
			notes="$notes swap absent (said so),"
		else
			local out in
			out=$(jv "($it.probes.vmstat.delta.pswpout // 0) + ($it.probes.vmstat.delta.zswpout // 0)")
			in=$(jv "($it.probes.vmstat.delta.pswpin // 0) + ($it.probes.vmstat.delta.zswpin // 0)")
			[ "$out" -gt 0 ] 2>/dev/null || why="$why pswpout+zswpout $out with swap;"
			[ "$in" -gt 0 ] 2>/dev/null || why="$why pswpin+zswpin $in with swap;"
			notes="$notes swap out $out in $in,"
		fi
	fi
	if [ "$(jv .config.victim.writer_threads)" -gt 0 ]; then
		v=$(jv "${c}[\"writer.ops\"] // 0")
		[ "$v" -gt 0 ] 2>/dev/null || why="$why writer.ops $v;"
	fi
	if [ "$(jv '.config.victim.odirect.threads // 0')" -gt 0 ]; then
		local reads maj errno
		reads=$(jv "${c}[\"odirect.reads\"] // 0") maj=$(jv "${c}[\"odirect.buffer_major_faults\"] // 0")
		errno=$(jv "$it.roles.odirect.counters.last_errno // empty")
		if [ "$reads" = 0 ] && [ "$errno" = "Invalid argument" ]; then
			skip "${name}_odirect" "the storage refuses O_DIRECT (EINVAL)"
		else
			[ "$reads" -gt 0 ] 2>/dev/null && [ "$maj" -gt 0 ] 2>/dev/null ||
				why="$why odirect reads $reads, buffer major faults $maj (errno '$errno');"
			notes="$notes odirect reads $reads,"
		fi
	fi
	if [ "$(jv '.config.observer.gup_threads // 0')" -gt 0 ]; then
		v=$(jv "${c}[\"gup.reads\"] // 0")
		[ "$v" -gt 0 ] 2>/dev/null || why="$why gup.reads $v;"
	fi
	if [ "$(jv .config.storage.type)" = slowfs ]; then
		v=$(jv "$it.slowfs.bytes_served // 0")
		[ "$v" -gt 0 ] 2>/dev/null || why="$why slowfs bytes_served $v;"
		notes="$notes slowfs amplification $(jv "$it.slowfs.read_amplification"),"
	fi
	# the mmap_lock probe: a kernel feature (tracepoints since 5.19-ish, tracefs)
	if [ "$(jv "$it.probes.mmap_lock.present")" = true ]; then
		local r w ws behind
		r=$(jv "$it.probes.mmap_lock.delta.read_acquisitions") w=$(jv "$it.probes.mmap_lock.delta.write_acquisitions")
		ws=$(jv "$it.probes.mmap_lock.delta.write_start_locking")
		# events the probe did not parse or lost (its parse budget, a slow
		# emulated CPU, a full ring buffer): then a missing write is no defect
		behind=$(jv "$it.probes.mmap_lock.overhead | (.budget_stops // 0) + (.lost_events // 0) + (.overrun // 0) + (.dropped_events // 0)")
		if [ "$(jv "${c}[\"writer.ops\"] // 0")" -gt 0 ] && [ $((w + ws)) -eq 0 ] 2>/dev/null; then
			if [ "$behind" -gt 0 ] 2>/dev/null; then
				skip "${name}_mmap_lock_writes" "no write-lock event parsed, but the probe left events behind ($(jv "$it.probes.mmap_lock.overhead | {budget_stops, lost_events, overrun, dropped_events}" | tr -d '\n '))"
			else
				why="$why no mmap_lock write (start_locking $ws, acquisitions $w) with $(jv "${c}[\"writer.ops\"]") writer ops;"
			fi
		fi
		notes="$notes mmap_lock w $w r $r ($(jv "$it.probes.mmap_lock.overhead.format")),"
	else
		skip "${name}_mmap_lock" "probe absent: $(jv "$it.probes.mmap_lock.reason")"
	fi
	notes="$notes refault_file $(jv "$it.probes.vmstat.delta.workingset_refault_file // \"-\"")"
	[ -z "$why" ] && pass "$name (${notes# })" || fail "$name" "$why"
}
