#!/usr/bin/env bash
# System tests of the safe-path defences (docs/security.md): unsafe storage
# and result directories are refused with exit 2 before anything is made,
# created directories are 0755, and a symbolic link planted at a temporary's
# name or swapped in for a data file is never written through.  Runs as
# root (it chowns to nobody); prints PASS/FAIL/SKIP lines.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FL=$BUILD/faultline
. tests/lib.sh
tmp=$(mktemp -d /tmp/faultline-security.XXXXXX)
trap '[ -n "${bg:-}" ] && kill -KILL "$bg" 2>/dev/null; rm -rf "$tmp"' EXIT

if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	for t in storage_dir_nobody storage_dir_0777 storage_dir_via_symlink out_dir_nobody storage_dir_created_0755 \
		temp_symlink_not_followed data_symlink_replaced race_victim_link race_victim_other_file race_evictor_link \
		race_odirect_other_file; do
		skip "$t" "needs root and the user nobody"
	done
	exit 0
fi

# short runs, small files, writes through the mapping (victim.write_ratio)
ARGS=(bench/scenarios/smoke.json --duration 1 --warmup 0 --iterations 1 --quiet
	--set victim.files.size_bytes=4M --set victim.write_ratio=0.5)
mkdir -p "$tmp/out"

# refused: exit 2, the message names the directory and its owner or mode,
# and nothing was made (no result, no files)
refused() { # name storage_dir shown_dir needle [extra args...]
	local name=$1 dir=$2 shown=$3 needle=$4 out=$tmp/$1.out rc why=""
	shift 4
	rm -f "$tmp"/out/*
	"$FL" run "${ARGS[@]}" --out "$tmp/out" --set storage.path="$dir" "$@" >"$out" 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || why="$why exit status $rc (expected 2);"
	grep -q -- "directory $shown (owner .*$needle" "$out" || why="$why message does not name $shown and '$needle';"
	[ -z "$(ls -A "$tmp/out")" ] || why="$why left $(ls "$tmp/out");"
	[ -z "$(find "$dir/" -mindepth 1 2>/dev/null)" ] || why="$why created $(find "$dir/" -mindepth 1 | head -1);"
	[ -z "$why" ] && pass "$name" || fail "$name" "$why ($(grep -m1 directory "$out"))"
}

mkdir "$tmp/nobody" && chown nobody "$tmp/nobody"
refused storage_dir_nobody "$tmp/nobody" "$tmp/nobody" "nobody"
mkdir "$tmp/open" && chmod 0777 "$tmp/open"
refused storage_dir_0777 "$tmp/open" "$tmp/open" "mode 0777"
# the same directory reached through a symbolic link: what is checked is
# where the link leads, and a missing subdirectory of it is not created
ln -s "$tmp/nobody" "$tmp/link"
refused storage_dir_via_symlink "$tmp/link/sub" "$tmp/nobody" "nobody"
[ -e "$tmp/nobody/sub" ] && fail storage_dir_via_symlink "created $tmp/nobody/sub"

# --out owned by another user: refused, nothing written into it
mkdir "$tmp/out-nobody" && chown nobody "$tmp/out-nobody"
"$FL" run "${ARGS[@]}" --out "$tmp/out-nobody" --set storage.path="$tmp/data" >"$tmp/out-nobody.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && [ -z "$(ls -A "$tmp/out-nobody")" ] && grep -q "directory $tmp/out-nobody (owner nobody" "$tmp/out-nobody.out"; then
	pass out_dir_nobody
else
	fail out_dir_nobody "exit $rc, left [$(ls -A "$tmp/out-nobody")], $(grep -m1 -e directory -e error "$tmp/out-nobody.out")"
fi

# created when absent: every created component 0755 (whatever the umask),
# and the run works
( umask 077 && exec "$FL" run "${ARGS[@]}" --out "$tmp/out" --set storage.path="$tmp/new/a/b" ) >"$tmp/new.out" 2>&1
rc=$?
modes=$(stat -c %a "$tmp/new" "$tmp/new/a" "$tmp/new/a/b" 2>&1 | tr '\n' ' ')
if [ "$rc" -eq 0 ] && [ "$modes" = "755 755 755 " ]; then
	pass storage_dir_created_0755
else
	fail storage_dir_created_0755 "exit $rc, modes $modes ($(tail -1 "$tmp/new.out"))"
fi

# the files' directory the runner used, and the name of file 0 in it
first=$(find "$tmp/new/a/b" -name 'data-*' -type f 2>/dev/null | sort | head -1)
files_dir=$(dirname "$first" 2>/dev/null) name0=$(basename "$first" 2>/dev/null)
head -c 4194304 /dev/urandom >"$tmp/target"
sum0=$(sha256sum <"$tmp/target")
if [ -z "$files_dir" ] || [ -z "$name0" ]; then
	fail temp_symlink_not_followed "no files made by the previous run"
	fail data_symlink_replaced "no files made by the previous run"
else
	# a symbolic link at the temporary's name (NAME.tmp-PID: the runner keeps
	# the pid of the shell that execs it): removed, never opened
	rm -f "$files_dir/$name0"
	bash -c 'ln -s "$1" "$2.tmp-$$" && exec "${@:3}"' _ "$tmp/target" "$files_dir/$name0" \
		"$FL" run "${ARGS[@]}" --out "$tmp/out" --set storage.path="$tmp/new/a/b" >"$tmp/temp.out" 2>&1
	rc=$?
	why=""
	[ "$rc" -eq 0 ] || why="$why exit status $rc ($(grep -m1 error "$tmp/temp.out"));"
	[ "$(sha256sum <"$tmp/target")" = "$sum0" ] || why="$why the link's target changed;"
	[ -f "$files_dir/$name0" ] && [ ! -L "$files_dir/$name0" ] || why="$why $name0 not recreated as a file;"
	ls "$files_dir" | grep -q '\.tmp-' && why="$why temporary left: $(ls "$files_dir" | grep '\.tmp-');"
	[ -z "$why" ] && pass temp_symlink_not_followed || fail temp_symlink_not_followed "$why"

	# a data file swapped for a symbolic link between runs: replaced by a
	# file of its own (or refused), never written through
	rm -f "$files_dir/$name0"
	ln -s "$tmp/target" "$files_dir/$name0"
	"$FL" run "${ARGS[@]}" --out "$tmp/out" --set storage.path="$tmp/new/a/b" >"$tmp/swap.out" 2>&1
	rc=$?
	why=""
	[ "$(sha256sum <"$tmp/target")" = "$sum0" ] || why="$why written through the link (target changed);"
	if [ "$rc" -eq 0 ]; then
		[ -f "$files_dir/$name0" ] && [ ! -L "$files_dir/$name0" ] || why="$why run ok but $name0 is still a link;"
	else
		grep -q "$name0" "$tmp/swap.out" || why="$why exit $rc without naming $name0;"
	fi
	[ -z "$why" ] && pass data_symlink_replaced || fail data_symlink_replaced "$why"
fi

# a data file swapped between the runner's verification and the victim's
# open: FAULTLINE_TEST_VICTIM_OPEN_DELAY_MS (test-only) holds the victim 2 s
# before it opens its files, and the swap happens then.  The victim refuses
# the file, naming it: exit 1, status error, the link's target unchanged.
# The victim's own mappings (file memory, written through), then the evictor
# and the odirect threads, which open the files themselves (anonymous
# memory, so theirs are the victim's only opens of the files).
race() { # name link|copy needle [--set ...]
	local name=$1 how=$2 needle=$3 out=$tmp/$1.out rc why="" vp="" f k
	shift 3
	mkdir -p "$tmp/r-$name"
	FAULTLINE_TEST_VICTIM_OPEN_DELAY_MS=2000 "$FL" run "${ARGS[@]}" --out "$tmp/r-$name" \
		--set storage.path="$tmp/new/a/b" "$@" >"$out" 2>&1 &
	bg=$!
	for _ in $(seq 300); do # the victim: the runner's child started as `faultline workload --process victim`
		for k in $(cat /proc/"$bg"/task/*/children 2>/dev/null); do
			tr '\0' ' ' </proc/"$k"/cmdline 2>/dev/null | grep -q -- '--process victim ' && vp=$k
		done
		[ -n "$vp" ] && break
		sleep 0.05
	done
	mv "$files_dir/$name0" "$tmp/aside"
	if [ "$how" = link ]; then ln -s "$tmp/target" "$files_dir/$name0"; else cp "$tmp/aside" "$files_dir/$name0"; fi
	wait "$bg"; rc=$?; bg=""
	rm -f "$files_dir/$name0" && mv "$tmp/aside" "$files_dir/$name0"
	f=$(ls "$tmp/r-$name"/*.json 2>/dev/null | head -n 1)
	[ -n "$vp" ] || why="$why the victim was not seen;"
	[ "$rc" -eq 1 ] || why="$why exit $rc (want 1);"
	[ "$(jq -r .status "$f" 2>/dev/null)" = error ] || why="$why status $(jq -r .status "$f" 2>/dev/null);"
	jq -r .status_reason "$f" 2>/dev/null | grep -qF "$files_dir/$name0" || why="$why the reason does not name $name0;"
	jq -r .status_reason "$f" 2>/dev/null | grep -qF "$needle" || why="$why the reason lacks '$needle';"
	[ "$(sha256sum <"$tmp/target")" = "$sum0" ] || why="$why written through the link (target changed);"
	[ -z "$why" ] && pass "$name ($(jq -r .status_reason "$f" | sed "s|$files_dir/||" | cut -c1-150))" ||
		fail "$name" "$why ($(jq -r .status_reason "$f" 2>/dev/null))"
}
if [ -n "$files_dir" ] && [ -n "$name0" ]; then
	race race_victim_link link "(a symbolic link: refused)"
	race race_victim_other_file copy "is not the file the runner verified"
	ANON=(--set victim.memory=anon --set victim.pass_end=none)
	race race_evictor_link link "evictor: victim: open" "${ANON[@]}" --set pressure.mode=emulate \
		--set 'pressure.methods=["fadvise"]'
	race race_odirect_other_file copy "odirect: victim:" "${ANON[@]}" --set pressure.mode=off \
		--set victim.odirect.threads=1 --set victim.odirect.bytes=16K
fi
exit $failed
