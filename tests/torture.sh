#!/usr/bin/env bash
# Interrupt torture (issue 15; docs/security.md, "Interrupt torture").
# Sends SIGINT (to the process group, as Ctrl-C does), SIGTERM (to the pid)
# or SIGKILL (to the pid, or to the whole group: KILLG) at a chosen moment of
# `faultline run`, `faultline vm` or `./run.sh ab`, then checks that nothing
# of the suite's is left: no process (each target runs in a cgroup v2 group
# of this script's and in a session of its own), no cgroup faultline-PID-*,
# no mount, no tracefs instance faultline-PID, no QEMU, no VM work
# directory /var/tmp/faultline-vm-PID-*, no temporary (slowfs and tracefs
# mount points in /tmp, NAME.tmp-PID of results and data files, vm-cache
# temporaries), the root's cgroup.subtree_control as before, and every
# earlier result byte-identical (sha256) with every new one valid.  After a
# SIGKILL what was left is listed, one more run of the same kind must reap
# it, and the same checks apply then.  Only what a process of this script
# made counts (the suite's names carry the pid of their maker): other users
# of the machine may be running the suite at the same time.
#
# usage: tests/torture.sh [N] [options]     (or ./run.sh torture [N] [options])
#   N                 kills (default 100); target, signal, phase drawn at random
#   --seed S          seed of the draws (default: random; printed, for --seed)
#   --targets LIST    run,vm,ab (default: all three; vm and ab need QEMU)
#   --plan "T:SIG:PHASE ..."   these cases instead (SIG: INT TERM KILL KILLG)
#   --kernel K        guest kernel: a name under build/kernels/ or debian:V
#                     (default stock-6.12 when built, else debian:6.12)
#   --kernel-b K      ab's second kernel (default vma-retry-6.12 when built,
#                     else the first one)
#   --keep            keep the work directory /var/tmp/fl-torture-PID
# Phases: run: setup files measure teardown write; vm: prep boot guest
# write; ab: probe between boot guest report.  Each is reached by watching
# the target (its files, children, console), then a random delay; the
# result write is held open with strace's syscall delay on linkat.  The
# phase a kill landed in is the one seen just before it; a target that
# ended before its phase came is counted as missed.
# Exit: 0 nothing leaked, 1 a leak, hang or damaged result, 2 bad usage,
# 3 not root, or no cgroup v2 to follow the processes with.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
log() { echo "torture: $*" >&2; }
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }
now_ms() { local t; t=$(date +%s%3N); echo "$t"; }

N=100 SEED="" TARGETS=run,vm,ab PLAN="" KA="" KB="" KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
	--seed) SEED=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
	--targets) TARGETS=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
	--plan) PLAN=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
	--kernel) KA=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
	--kernel-b) KB=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage; exit 0 ;;
	[0-9]*) N=$1; shift ;;
	*) log "unknown argument '$1' (see --help)"; exit 2 ;;
	esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { log "N: expected a positive integer, got '$N'"; exit 2; }
[ -z "$SEED" ] && SEED=$(($(od -An -N2 -tu2 /dev/urandom)))
[[ $SEED =~ ^[0-9]+$ ]] || { log "--seed: expected a non-negative integer, got '$SEED'"; exit 2; }
RANDOM=$SEED
R=0
rnd() { R=$((RANDOM % $1)); } # in this shell, never in $(...): a subshell's RANDOM is its own
[ "$(id -u)" -eq 0 ] || { log "needs root (the suite's cgroups, mounts and tracefs)"; exit 3; }
for b in faultline fl-slowfs; do
	[ -x "$BUILD/$b" ] || { log "$BUILD/$b missing (make BUILD=$BUILD)"; exit 3; }
done
command -v jq >/dev/null || { log "jq missing (./run.sh torture installs it)"; exit 3; }
CGM=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
[ -n "$CGM" ] || { log "no cgroup v2 mount: the targets' processes could not be followed"; exit 3; }
HAVE_STRACE=0
command -v strace >/dev/null && HAVE_STRACE=1

W=/var/tmp/fl-torture-$$
RES=$W/results STORE=$W/store LOGD=$W/logs CGT=$CGM/fl-torture-$$
mkdir -p -m 0755 "$W" "$RES" "$STORE" "$LOGD" || exit 3
mkdir "$CGT" || { log "mkdir $CGT failed"; exit 3; }
SUBTREE0=$(cat "$CGM/cgroup.subtree_control")
# tracefs instances are global to the tracefs superblock; look at them
# through /sys/kernel/tracing or a private mount of this script's
TFS=/sys/kernel/tracing TFS_MINE=0
if [ ! -d "$TFS/instances" ]; then
	mkdir -p "$W/tracefs" && mount -t tracefs nodev "$W/tracefs" 2>/dev/null && TFS=$W/tracefs TFS_MINE=1 || TFS=""
fi
finish() {
	local d
	for d in "$CGT"/*/; do
		[ -d "$d" ] || continue
		echo 1 >"$d/cgroup.kill" 2>/dev/null
		sleep 0.2
		rmdir "$d" 2>/dev/null
	done
	rmdir "$CGT" 2>/dev/null
	[ "$TFS_MINE" = 1 ] && umount "$W/tracefs"
	if [ "$KEEP" = 0 ]; then rm -rf "$W"; else log "work directory kept: $W"; fi
}
trap finish EXIT
trap 'log "interrupted"; exit 130' INT TERM
# bash's "Killed" notice for a target of ours that got SIGKILL is expected
exec 2> >(grep --line-buffered -v -e '^tests/torture.sh: line [0-9]*: *[0-9]* Killed' -e '^[0-9]* Killed' >&2)

# ---- what the suite leaves, and whose it is ---------------------------------
# One line per item: KIND PATH.  The pid of its maker is in its name.
scan_items() {
	local f
	for f in "$CGM"/faultline-*; do [ -d "$f" ] && echo "cgroup $f"; done
	[ -n "$TFS" ] && for f in "$TFS"/instances/faultline-*; do [ -d "$f" ] && echo "tracefs-instance $f"; done
	awk '$5 ~ /faultline|slowfs/ || $0 ~ / - fuse[.a-z]*slowfs / { print "mount " $5 }' /proc/self/mountinfo
	for f in /tmp/faultline-slowfs-* /tmp/faultline-tracefs-*; do [ -e "$f" ] && echo "tmp $f"; done
	for f in /var/tmp/faultline-vm-*; do [ -e "$f" ] && echo "vm-workdir $f"; done
	find "$RES" "$STORE" -name '*.tmp-*' -printf 'temporary %p\n' 2>/dev/null
	[ -d "$BUILD/vm-cache" ] && find "$BUILD/vm-cache" -maxdepth 1 \( -name '.*' -o -name '*.tmp*' \) ! -name . \
		-printf 'vm-cache-temporary %p\n'
}
pid_of() { # the maker's pid in a name, or nothing
	local b=${1##*/}
	if [[ $b =~ ^faultline-(vm-|slowfs-|tracefs-)?([0-9]+)($|[-.]) ]]; then
		echo "${BASH_REMATCH[2]}"
	elif [[ $b =~ \.tmp-([0-9]+)$ ]]; then
		echo "${BASH_REMATCH[1]}"
	elif [[ $b =~ ^\.[a-z-]+\.([0-9]+)\. ]]; then
		echo "${BASH_REMATCH[1]}"
	fi
}
declare -A MINE BASE
CGC="" TPID=0
track() { # every pid seen in this case's group is ours
	local p
	[ -n "$CGC" ] && [ -r "$CGC/cgroup.procs" ] || return 0
	while read -r p; do MINE[$p]=1; done <"$CGC/cgroup.procs"
}
baseline() {
	local k p
	BASE=()
	while read -r k p; do BASE[$p]=1; done < <(scan_items)
}
# Items of ours left now, and processes still in the case's group.
leftovers() {
	local k p pid
	while read -r k p; do
		[ -n "${BASE[$p]:-}" ] && continue
		# ours: made by a pid seen in the case's group (every name the
		# suite makes carries its maker's pid; one without is another's)
		pid=$(pid_of "$p")
		[ -n "$pid" ] && [ -n "${MINE[$pid]:-}" ] || continue
		case "$k" in
		cgroup) echo "$k $p (processes: $(cat "$p"/*/cgroup.procs "$p"/cgroup.procs 2>/dev/null | wc -l))" ;;
		*) echo "$k $p" ;;
		esac
	done < <(scan_items)
	[ -n "$CGC" ] && while read -r p; do
		echo "process $p $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-120)"
	done <"$CGC/cgroup.procs"
	[ "$(cat "$CGM/cgroup.subtree_control")" = "$SUBTREE0" ] ||
		echo "subtree_control $CGM/cgroup.subtree_control is '$(cat "$CGM/cgroup.subtree_control")', was '$SUBTREE0'"
}
# Remove what leftovers listed (ours only), so that the next case starts clean.
clean_up() {
	local k p rest
	while read -r k p rest; do
		case "$k" in
		process) kill -KILL "$p" 2>/dev/null ;;
		cgroup)
			for d in "$p"/*/ "$p"; do echo 1 >"$d/cgroup.kill" 2>/dev/null; done
			sleep 0.3
			rmdir "$p"/*/ "$p" 2>/dev/null ;;
		mount) umount -l "$p" ;;
		tracefs-instance) rmdir "$p" ;;
		tmp | vm-workdir | temporary | vm-cache-temporary) rm -rf "$p" ;;
		esac
	done
}
results_sum() { find "$RES" -type f ! -name '.*' -print0 | sort -z | xargs -0 -r sha256sum; }
# Earlier results byte-identical; every new result file complete JSON.
results_check() {
	local f bad=""
	sha256sum --quiet -c "$W/results.before" >/dev/null 2>&1 || bad="earlier result changed or gone: $(sha256sum --quiet -c "$W/results.before" 2>&1 | head -3 | tr '\n' ' ')"
	while read -r f; do
		grep -qF "  $f" "$W/results.before" && continue
		jq -e . "$f" >/dev/null 2>&1 || bad="$bad new result $f is not complete JSON;"
	done < <(find "$RES" -type f -name '*.json' ! -name '.*')
	echo "$bad"
}

# ---- the targets ---------------------------------------------------------------
CMD=()
run_cmd() { # SIZE STORAGE DURATION: the command in CMD
	CMD=("$BUILD/faultline" run bench/scenarios/smoke.json --out "$RES" --duration "$3" --warmup 0
		--set "storage.path=\"$STORE\"" --set "victim.files.size_bytes=\"$1\"" --set "storage.type=\"$2\"")
}
VMK="" VMI="" VMM="" VM_OK=0 VM_WHY=""
vm_cmd() { # extra options...: the command in CMD
	CMD=("$BUILD/faultline" vm --accel tcg --kernel "$VMK" --initrd "$VMI" ${VMM:+--manifest "$VMM"}
		--out "$RES" --duration 1 --set 'victim.files.size_bytes="4M"' "$@" bench/scenarios/smoke.json)
}
kernel_opt() { case "$1" in debian:*) echo --debian-kernel "${1#debian:}" ;; *) echo --kernel "$1" ;; esac; }

# Start a command in the case's group and a session of its own: TPID is its
# pid and its process group.  SIGINT back to its default: a command started
# with & here begins with it ignored, and a shell (ab.sh) could not trap it.
launch() { # log command...
	local out=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" || exit 97; exec env --default-signal=INT setsid "$@"' "$CGC" "$@" \
		>"$out" 2>&1 </dev/null &
	TPID=$!
	# until setsid ran: from then on the pid is also the process group
	for _ in $(seq 100); do
		[ "$(ps -o sid= -p "$TPID" 2>/dev/null | tr -d ' ')" = "$TPID" ] && break
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.01
	done
}
alive() { kill -0 "$TPID" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$TPID/stat" 2>/dev/null)" != Z ]; }
# Wait for TPID to end (up to $1 s); TSTATUS is its exit status, or "hang".
wait_exit() {
	local limit=$(($(now_ms) + $1 * 1000))
	while alive && [ "$(now_ms)" -lt "$limit" ]; do track; sleep 0.05; done
	if alive; then TSTATUS=hang; return 1; fi
	wait "$TPID" 2>/dev/null
	TSTATUS=$?
}
# Wait (up to $1 s) for the case's group to empty.
grp_busy() { local x=""; read -r x <"$CGC/cgroup.procs" 2>/dev/null; [ -n "$x" ]; }
wait_empty() {
	local limit=$(($(now_ms) + $1 * 1000))
	while grp_busy && [ "$(now_ms)" -lt "$limit" ]; do track; sleep 0.05; done
}

# What the target is doing now: PH (its phase), from what can be seen.
SEEN=0 PH="" ITEMP=0
# A result being written: a temporary under the results directory open in
# PID, named (.NAME.tmp-PID) or not (O_TMPFILE: "DIR/#INODE (deleted)").
writing() { find "/proc/$1/fd" \( -lname "$RES/*.tmp-*" -o -lname "$RES/*#*" \) 2>/dev/null | grep -q .; }
FILES=0
obs_run() {
	local p=$TPID victim=0
	ps --ppid "$p" -o args= 2>/dev/null | grep -qF -- '--process victim' && victim=1 SEEN=1
	FILES=0
	compgen -G "$STORE/files-*/*.tmp-$p" >/dev/null && FILES=1
	if writing "$p"; then PH=write
	elif compgen -G "$RES/*-$p.json" >/dev/null; then PH=teardown
	elif [ $victim = 1 ]; then PH=measure
	elif [ $SEEN = 1 ]; then PH=teardown
	elif [ $FILES = 1 ]; then PH=files
	else PH=setup
	fi
}
obs_vm() { # PID of a faultline vm
	local p=$1 wd qemu=0
	ps --ppid "$p" -o comm= 2>/dev/null | grep -q '^qemu-system' && qemu=1 SEEN=1
	wd=$(compgen -G "/var/tmp/faultline-vm-$p-*" | head -n 1)
	if writing "$p"; then PH=write
	elif [ $qemu = 1 ] && [ -n "$wd" ] && grep -qs 'faultline-guest: running' "$wd/console.log"; then PH=guest
	elif [ $qemu = 1 ]; then PH=boot
	elif [ $SEEN = 1 ]; then PH=teardown
	else PH=prep
	fi
}
obs_ab() {
	local p inner="" err=$LOGD/case-$CASE.log
	while read -r p; do
		case "$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" in
		*"faultline vm "*) inner=$p ;;
		esac
	done <"$CGC/cgroup.procs"
	if grep -q '^ab: comparing' "$err"; then PH=report
	elif ! grep -q '^ab: iteration' "$err"; then PH=probe
	elif [ -z "$inner" ]; then PH=between
	else
		[ "$inner" != "$ITEMP" ] && SEEN=0 ITEMP=$inner
		obs_vm "$inner"
		case "$PH" in prep | teardown | write) PH=between ;; esac
	fi
}
# Is the wanted phase here (then wait the drawn delay and kill)?
reached() { # target phase
	case "$1:$2" in
	*:setup | vm:prep | ab:probe) return 0 ;;
	*:teardown) [ "$SEEN" = 1 ] && [ "$PH" = teardown ] ;;
	*) [ "$PH" = "$2" ] ;;
	esac
}

# ---- one case ------------------------------------------------------------------
declare -A LANDED MISSED
CASE=0 LEAKS=0 HANGS=0 DAMAGED=0 KILLS=0 LOG_TSV=""
case_cmd() { # target phase: the command line, in CMD
	local storage=dir size=4M
	case "$1" in
	run)
		[ "$2" = files ] && size=64M && rm -rf "$STORE"/files-64M-*
		rnd 3
		[ "$2" != files ] && [ $R = 0 ] && storage=slowfs
		run_cmd "$size" "$storage" 3 ;;
	vm) vm_cmd ;;
	ab) CMD=(./run.sh ab smoke --a "$KA" --b "$KB" --iterations 1 --out "$RES/ab-$CASE" --accel tcg --duration 1
		--set 'victim.files.size_bytes="4M"') ;;
	esac
	STORAGE=$storage
}
NEXT_NOTE=""
next_run() { # target phase: after a SIGKILL, one more run of the same kind, which must reap
	local out=$LOGD/case-$CASE.next.log
	NEXT_NOTE=""
	case "$1:$2" in
	run:*) run_cmd 4M dir 1 ;;
	vm:*) vm_cmd --accel-probe "$W/probe-$CASE.json" ;;
	# killed in its report: the comparison again, into the same directory
	ab:report) CMD=("$BUILD/fl-report" "$RES/ab-$CASE/a" "$RES/ab-$CASE/b" --out "$RES/ab-$CASE/report") ;;
	# shellcheck disable=SC2046
	ab:*) CMD=(./run.sh run smoke $(kernel_opt "$KA") --accel tcg --accel-probe "$W/probe-$CASE.json") ;;
	esac
	launch "$out" "${CMD[@]}"
	wait_exit 300 || { kill -KILL -- -"$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; }
	[ "$TSTATUS" = 0 ] || NEXT_NOTE="next run exited $TSTATUS: $(tail -n 2 "$out" | tr '\n' ' ')"
}
run_case() { # target signal phase
	local t=$1 sig=$2 want=$3 delay limit t0 tk landed left leaks bad note="" straced=0 spid=0 exitlim inj te_end kstatus
	CASE=$((CASE + 1))
	case "$t:$want" in
	run:setup) rnd 60 ;; run:measure) rnd 2000 ;; run:files) rnd 150 ;; run:teardown | vm:teardown) rnd 400 ;;
	vm:prep) rnd 1500 ;; vm:boot | ab:boot) rnd 5000 ;; vm:guest | ab:guest) rnd 3000 ;;
	ab:probe) rnd 1500 ;; ab:between) rnd 1000 ;; *) rnd 1 ;;
	esac
	delay=$R
	case "$t" in run) limit=90 exitlim=60 ;; vm) limit=150 exitlim=60 ;; *) limit=400 exitlim=90 ;; esac
	CGC=$CGT/c$CASE
	mkdir "$CGC"
	MINE=() SEEN=0 ITEMP=0 PH="" FILES=0
	baseline
	results_sum >"$W/results.before"
	case_cmd "$t" "$want"
	t0=$(now_ms) landed=missed tk=0
	launch "$LOGD/case-$CASE.log" "${CMD[@]}"
	local last=""
	while alive && [ $(($(now_ms) - t0)) -lt $((limit * 1000)) ]; do
		track
		"obs_$t" $TPID
		# the phases as seen, for the record
		[ "$PH" != "$last" ] && echo "$(($(now_ms) - t0)) $PH" >>"$LOGD/case-$CASE.phases" && last=$PH
		if [ $straced = 0 ] && [ $HAVE_STRACE = 1 ] && [ "$t" != ab ] &&
			{ [ "$SEEN" = 1 ] || [ "$t:$want" = vm:prep ]; }; then
			# widen a short phase with a syscall delay in the target's main
			# thread: the result write waits 3 s before linkat (temporary to
			# final name); the teardown 0.5 s before each rmdir (run:
			# tracefs instance, cgroups, mount point) or unlink (vm: its
			# work directory); vm's preparation 1 s before each wait4 (for
			# mkfs.ext4 of the guest's disk, for qemu --version)
			case "$t:$want" in
			vm:prep) inj=wait4:delay_enter=1s ;;
			*:write) inj=linkat:delay_enter=3s ;;
			run:teardown) inj=rmdir:delay_enter=500ms ;;
			vm:teardown) inj=unlink:delay_enter=500ms ;;
			*) inj="" ;;
			esac
			if [ -n "$inj" ]; then
				strace -qq -o /dev/null -p "$TPID" -e trace="${inj%%:*}" -e inject="$inj" 2>/dev/null &
				spid=$!
			fi
			straced=1
		fi
		reached "$t" "$want" && break
		sleep 0.02
	done
	if alive; then
		if [ "$delay" -gt 0 ]; then sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"; fi
		track
		"obs_$t" $TPID
		landed=$PH
		tk=$(($(now_ms) - t0))
		case "$sig" in
		INT) kill -INT -- -"$TPID" ;;
		TERM) kill -TERM "$TPID" ;;
		KILL) kill -KILL "$TPID" ;;
		KILLG) kill -KILL -- -"$TPID" ;;
		esac 2>/dev/null || landed=missed
	fi
	if [ "$landed" != missed ]; then
		KILLS=$((KILLS + 1))
		LANDED[$t:$landed:$sig]=$((${LANDED[$t:$landed:$sig]:-0} + 1))
	else
		tk=$(($(now_ms) - t0))
		MISSED[$t:$want]=$((${MISSED[$t:$want]:-0} + 1))
	fi
	local te; te=$(now_ms)
	wait_exit "$exitlim" || {
		HANGS=$((HANGS + 1))
		note="HANG: still running $exitlim s after SIG$sig; "
		kill -KILL -- -"$TPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
	}
	te_end=$(now_ms) kstatus=$TSTATUS
	# every process of the case ends within 8 s of the signal (a SIGKILLed
	# parent's children too: nothing after can reap a process); the slowest
	# seen here: faultline vm on SIGTERM, up to 3 s for QEMU, then its result
	wait_empty 8
	[ $spid != 0 ] && { kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }
	left=$(leftovers)
	leaks=$(grep '^process ' <<<"$left")
	if [ -n "$leaks" ]; then
		echo "$leaks" | clean_up
		wait_empty 5
	fi
	if [ "$sig" = KILL ] || [ "$sig" = KILLG ]; then
		# what a SIGKILL left (but processes) must go with the next run
		left=$(grep -v '^process ' <<<"$left")
		[ -n "$left" ] && note="${note}left after SIGKILL: $(echo "$left" | cut -d' ' -f1-2 | tr '\n' ';' | sed 's/;$//'); "
		next_run "$t" "$landed"
		note="$note${NEXT_NOTE:+$NEXT_NOTE; }"
		wait_empty 15
		left=$(leftovers)
		[ -n "$left" ] && note="${note}NOT all reaped by the next run; " || note="${note}the next run reaped it; "
	fi
	leaks=$(printf '%s\n%s\n' "$leaks" "$left" | sed '/^$/d' | sort -u)
	bad=$(results_check)
	if [ -n "$leaks" ]; then
		LEAKS=$((LEAKS + $(echo "$leaks" | wc -l)))
		note="${note}LEAK: $(echo "$leaks" | tr '\n' ';')"
		echo "$leaks" | clean_up
	fi
	[ -n "$bad" ] && DAMAGED=$((DAMAGED + 1)) && note="${note}RESULTS: $bad"
	printf 'case %d/%d %-3s SIG%-5s %-8s -> %-8s at %5.1f s, exit %s after %.1f s%s\n' "$CASE" "$TOTAL" "$t" \
		"$sig" "$want" "$landed" "$(awk -v t="$tk" 'BEGIN { print t / 1000 }')" "$kstatus" \
		"$(awk -v t="$((te_end - te))" 'BEGIN { print t / 1000 }')" "${note:+: $note}"
	LOG_TSV+="$CASE	$t	$sig	$want	$landed	$tk	$((te_end - te))	$kstatus	${STORAGE}	${leaks//$'\n'/;}	$bad"$'\n'
	rmdir "$CGC" 2>/dev/null || { echo 1 >"$CGC/cgroup.kill"; sleep 0.3; rmdir "$CGC"; }
	CGC=""
}

# ---- set-up --------------------------------------------------------------------
T_START=$(now_ms)
echo "torture: seed $SEED (again: tests/torture.sh $N --seed $SEED${PLAN:+ --plan \"$PLAN\"}), targets $TARGETS, work directory $W"
[ $HAVE_STRACE = 1 ] || log "strace missing: the result-write phase is only reached by chance"
[ -n "$TFS" ] || log "no tracefs: tracefs instances are not checked"
if [[ ,$TARGETS, == *,vm,* ]] || [[ ,$TARGETS, == *,ab,* ]]; then
	if [ -z "$KA" ]; then
		if [ -f build/kernels/stock-6.12/manifest.json ]; then KA=stock-6.12; else KA=debian:6.12; fi
	fi
	if [ -z "$KB" ]; then
		if [ "$KA" = stock-6.12 ] && [ -f build/kernels/vma-retry-6.12/manifest.json ]; then KB=vma-retry-6.12; else KB=$KA; fi
	fi
	if ! command -v qemu-system-x86_64 >/dev/null; then
		VM_WHY="qemu-system-x86_64 missing (./run.sh test installs qemu-system-x86)"
	elif [ "$(uname -m)" != x86_64 ]; then
		VM_WHY="the host is $(uname -m); the torture boots x86_64 guests built natively"
	else
		# run.sh's own preparation (static binaries, initramfs, Debian's
		# kernel when asked for), through a run that only decides the accelerator
		# shellcheck disable=SC2046
		if ./run.sh run smoke $(kernel_opt "$KA") --accel tcg --accel-probe "$W/accel.json" >"$LOGD/prepare.log" 2>&1; then
			case "$KA" in
			debian:*)
				kdir=$(ls -d "$BUILD"/vm-cache/debian-kernels/"${KA#debian:}".*-cloud-amd64-amd64 2>/dev/null | sort -V | tail -n 1)
				VMK=$kdir/vmlinuz VMM=$kdir/manifest.json VMI=$BUILD/vm-cache/initramfs-x86_64-$(basename "$kdir").cpio.gz ;;
			*)
				VMK=build/kernels/$KA/$(jq -r .image "build/kernels/$KA/manifest.json")
				VMM=build/kernels/$KA/manifest.json VMI=$BUILD/vm-cache/initramfs-x86_64-$KA.cpio.gz ;;
			esac
			[ -f "$VMK" ] && [ -f "$VMI" ] && VM_OK=1 || VM_WHY="kernel $VMK or initramfs $VMI missing after preparing"
		else
			VM_WHY="preparing the guest ($KA) failed: $(tail -n 3 "$LOGD/prepare.log" | tr '\n' ' ')"
		fi
	fi
	[ $VM_OK = 1 ] && echo "torture: guest kernels $KA and $KB, x86_64 under TCG" || log "vm and ab skipped: $VM_WHY"
fi
# an earlier result, and the 4M data files, before the first kill
run_cmd 4M dir 1
"${CMD[@]}" >"$LOGD/first.log" 2>&1 || { log "the first, untouched run failed: $(tail -n 3 "$LOGD/first.log")"; exit 1; }
rm -f "$W/accel.json"

# ---- the cases -----------------------------------------------------------------
PHASES_run="setup files measure teardown write"
PHASES_vm="prep boot guest teardown write"
PHASES_ab="probe between boot guest report"
CASES=()
if [ -n "$PLAN" ]; then
	read -ra CASES <<<"$PLAN"
else
	avail=()
	for t in run vm ab; do
		[[ ,$TARGETS, == *,$t,* ]] || continue
		[ "$t" != run ] && [ $VM_OK = 0 ] && continue
		# weights: a vm kill costs about 5, an ab kill about 10 run kills
		case $t in run) avail+=(run run run run run) ;; vm) avail+=(vm vm vm) ;; ab) avail+=(ab ab) ;; esac
	done
	[ ${#avail[@]} -gt 0 ] || { log "no target to run"; exit 3; }
	sigs=(INT INT TERM TERM KILL KILLG) # a third each; SIGKILL to the pid or to the group
	for ((i = 0; i < N; i++)); do
		rnd ${#avail[@]}; t=${avail[$R]}
		ph=PHASES_$t; read -ra phs <<<"${!ph}"
		rnd ${#phs[@]}; p=${phs[$R]}
		rnd 6; s=${sigs[$R]}
		CASES+=("$t:$s:$p")
	done
fi
TOTAL=${#CASES[@]}
for c in "${CASES[@]}"; do
	IFS=: read -r t s p <<<"$c"
	ph=PHASES_$t
	if [[ " ${!ph:-} " != *" $p "* ]] || [[ " INT TERM KILL KILLG " != *" $s "* ]]; then
		log "plan: bad case '$c' (TARGET:SIGNAL:PHASE; phases of $t: ${!ph:-none}; signals INT TERM KILL KILLG)"
		exit 2
	fi
done
for c in "${CASES[@]}"; do
	IFS=: read -r t s p <<<"$c"
	if [ "$t" != run ] && [ $VM_OK = 0 ]; then
		echo "case skipped: $t: $VM_WHY"
		continue
	fi
	run_case "$t" "$s" "$p"
done

# ---- the figures ---------------------------------------------------------------
printf '%s' "$LOG_TSV" >"$LOGD/cases.tsv"
echo
echo "kills landed per target and phase (SIGINT / SIGTERM / SIGKILL to the pid / SIGKILL to the group; missed: ended before the phase):"
for t in run vm ab; do
	ph=PHASES_$t
	for p in ${!ph}; do
		n=0 row=""
		for s in INT TERM KILL KILLG; do
			v=${LANDED[$t:$p:$s]:-0}; n=$((n + v)); row="$row $v"
		done
		[ $n -gt 0 ] || [ -n "${MISSED[$t:$p]:-}" ] || continue
		printf '  %-3s %-9s %3d  (%s )  missed %d\n' "$t" "$p" "$n" "${row# }" "${MISSED[$t:$p]:-0}"
	done
done
echo "torture: $KILLS kills in $TOTAL cases, $(( ($(now_ms) - T_START) / 1000 )) s; leaks $LEAKS, hangs $HANGS, damaged results $DAMAGED (seed $SEED)"
[ $LEAKS = 0 ] && [ $HANGS = 0 ] && [ $DAMAGED = 0 ]
