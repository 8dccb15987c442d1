#!/usr/bin/env bash
# ./run.sh clean: list the suite's data files and results, and remove them on
# request.  Only the names the suite itself makes are touched (storage.h):
#   STORAGE.PATH/files-SIZE-vN/data-NNNNNN (and their .tmp-PID leftovers),
#   STORAGE.PATH/data-NNNNNN (the flat layout of earlier versions),
#   results/SCENARIO-LABEL-YYYYMMDDTHHMMSS-PID.json (result names only) with
#   their .console.log, results/.*.tmp-*, results/ab-*/, report/out/.
# Never results/history.sqlite, nothing else in those directories, nothing
# elsewhere.  Exit status: 0 ok, 1 a removal failed, 2 bad arguments.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
	cat <<'USAGE'
usage: ./run.sh clean [--data] [--results] [--yes] [--path DIR] [--results-dir DIR]

Lists the suite's data files and results; removes them only when asked.
  --data       the victim's data files: files-SIZE-vN/ directories and the flat
               data-NNNNNN files of earlier versions, in /var/tmp/faultline
               (the default storage.path) or in --path DIR (repeatable)
  --results    result files in results/ (named SCENARIO-LABEL-RUNID.json, their
               .console.log, ab-*/) and reports in report/out/ (other files, and
               results/history.sqlite, are never touched)
  --yes        remove what --data/--results select (without it: a dry run)
  --path DIR   a storage.path of your own scenarios, instead of the default
  --results-dir DIR  a run --out directory instead of results/ (result files
               only; report/out/ is then left alone)
Exit status: 0 ok, 1 a removal failed, 2 bad arguments.
USAGE
}

log() { echo "clean: $*" >&2; }
DATA=0 RESULTS=0 YES=0 PATHS=() RDIR=results
while [ $# -gt 0 ]; do
	case "$1" in
	--data) DATA=1; shift ;;
	--results) RESULTS=1; shift ;;
	--yes) YES=1; shift ;;
	--path)
		[ $# -ge 2 ] && [ -n "$2" ] || { log "--path needs a directory"; exit 2; }
		case "$2" in /*) ;; *) log "--path '$2': must be an absolute path (a storage.path)"; exit 2 ;; esac
		PATHS+=("${2%/}"); shift 2 ;;
	--results-dir)
		[ $# -ge 2 ] && [ -n "$2" ] || { log "--results-dir needs a directory"; exit 2; }
		[ -d "$2" ] || { log "--results-dir '$2': no such directory"; exit 2; }
		RDIR=${2%/}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) log "unknown option '$1' (see ./run.sh clean --help)"; exit 2 ;;
	esac
done
[ ${#PATHS[@]} -gt 0 ] || PATHS=(/var/tmp/faultline)
if [ "$YES" = 1 ] && [ "$DATA" = 0 ] && [ "$RESULTS" = 0 ]; then
	log "--yes: say what to remove: --data, --results or both"
	exit 2
fi

mib() { du -sm --apparent-size "$@" 2>/dev/null | awk '{ s += $1 } END { printf "%d MiB", s }'; }
# the suite's data files under storage path $1, one per line
data_files() {
	find "$1" -mindepth 1 -maxdepth 2 -type f \
		\( -regex "$1/files-[0-9]+[KMGT]?-v[0-9]+/data-[0-9][0-9][0-9][0-9][0-9][0-9]\(\.tmp-[0-9]+\)?" \
		-o -regex "$1/data-[0-9][0-9][0-9][0-9][0-9][0-9]\(\.tmp-[0-9]+\)?" \) 2>/dev/null | sort
}
result_items() {
	local re="$RDIR/\.?[^/]+-[0-9]{8}T[0-9]{6}-[0-9]+"
	find "$RDIR" -mindepth 1 -maxdepth 1 \( -type f -regextype posix-extended \
		\( -regex "$re\.json" -o -regex "$re\.console\.log" -o -regex "$re\.json\.tmp-[0-9]+" \) \
		-o -name 'ab-*' -type d \) 2>/dev/null | sort
	[ "$RDIR" = results ] && [ -d report/out ] && echo report/out
	return 0
}

rc=0
for p in "${PATHS[@]}"; do
	echo "data files in $p (storage.path):"
	files=$(data_files "$p")
	if [ -z "$files" ]; then
		echo "  none"
		continue
	fi
	# one line per directory: files-SIZE-vN/, or the flat files of earlier versions
	while IFS= read -r d; do
		n=$(grep -c "^$d/data-[0-9]*[^/]*$" <<<"$files" || true)
		name=${d#"$p"}; name=${name#/}
		[ -n "$name" ] && name="$name/" || name="data-NNNNNN (flat, made by an earlier version)"
		# shellcheck disable=SC2046
		printf '  %-48s %4d file(s) %10s\n' "$name" "$n" "$(mib $(grep "^$d/data-[0-9]*[^/]*$" <<<"$files"))"
	done < <(xargs -n1 dirname <<<"$files" | sort -u)
	if [ "$DATA" = 1 ] && [ "$YES" = 1 ]; then
		while IFS= read -r f; do
			rm -f -- "$f" || { log "removing $f failed"; rc=1; }
		done <<<"$files"
		find "$p" -mindepth 1 -maxdepth 1 -type d -regex "$p/files-[0-9]+[KMGT]?-v[0-9]+" -empty -delete
		echo "  removed $(wc -l <<<"$files") file(s)"
	fi
done

items=$(result_items)
echo "results ($RDIR/$([ "$RDIR" = results ] && echo ', report/out/')):"
if [ -z "$items" ]; then
	echo "  none"
else
	nj=$(grep -c '/[^./][^/]*\.json$' <<<"$items" || true)
	nl=$(grep -c '\.console\.log$' <<<"$items" || true)
	na=$(grep -c '/ab-[^/]*$' <<<"$items" || true)
	# shellcheck disable=SC2046
	echo "  $nj result file(s), $nl console log(s), $na A/B directorie(s)$(grep -qx report/out <<<"$items" && echo ', report/out/'): $(mib $(cat <<<"$items"))"
	if [ "$RESULTS" = 1 ] && [ "$YES" = 1 ]; then
		while IFS= read -r f; do
			rm -rf -- "$f" || { log "removing $f failed"; rc=1; }
		done <<<"$items"
		echo "  removed $(wc -l <<<"$items") item(s) (nothing else in $RDIR/)"
	fi
fi
[ "$RDIR" = results ] && [ -f results/history.sqlite ] && echo "  (results/history.sqlite, the nightly history, is kept: remove it yourself if you mean to)"
if [ "$YES" = 0 ]; then
	[ "$DATA" = 1 ] || [ "$RESULTS" = 1 ] && echo "dry run: add --yes to remove what --data/--results select" ||
		echo "to remove: ./run.sh clean --data --yes (data files), ./run.sh clean --results --yes (results)"
fi
exit $rc
