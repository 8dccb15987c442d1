#!/usr/bin/env bash
# Layout check of the house rules: no C source file over 800 lines, no
# function over 150 lines.  Files: every *.c that git tracks or would add
# (git ls-files --cached --others --exclude-standard, so build directories
# are out and a new file counts before it is committed; `find` outside a
# git checkout), tests/ included.  A function is counted from its opening
# `{` alone on a line at column 0 (the house style puts a function's brace
# there, and a table's `= {` never is) to the next `}` at column 0, both
# included, so tables, struct definitions and signatures do not count.
# Prints one FAIL line per file or function over its limit (with the count),
# else one PASS line per rule; exit 1 if any failed.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
FILE_MAX=${LAYOUT_FILE_MAX:-800}
FUNC_MAX=${LAYOUT_FUNC_MAX:-150}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' | sort)
else
	mapfile -t files < <(find . -name '*.c' -not -path './build*' | sed 's|^\./||' | sort)
fi
present=()
for f in "${files[@]}"; do
	[ -f "$f" ] && present+=("$f") # tracked but deleted in the work tree: nothing to check
done
if [ "${#present[@]}" -eq 0 ]; then
	fail layout "no C source files found"
	exit 1
fi

# file lengths
bad=0 longest= longest_n=0
for f in "${present[@]}"; do
	n=$(wc -l <"$f")
	if [ "$n" -gt "$FILE_MAX" ]; then
		fail layout_file_lines "$f: $n lines (limit $FILE_MAX)"
		bad=1
	fi
	if [ "$n" -gt "$longest_n" ]; then longest_n=$n longest=$f; fi
done
[ "$bad" = 0 ] && pass "layout_file_lines (${#present[@]} files <= $FILE_MAX lines; longest $longest, $longest_n)"

# function lengths: "FILE:LINE NAME COUNT" for each function; a `{` at
# column 0 inside an open function (no closing `}` seen) is reported too
funcs=$(awk '
	FNR == 1 {
		if (start)
			printf "%s:%d %s unclosed\n", file, start, fname
		start = 0
		file = FILENAME
	}
	/^[A-Za-z_][A-Za-z0-9_ *]*\(/ {
		sig = $0
		sub(/\(.*/, "", sig)
		n = split(sig, w, /[ *]+/)
		name = w[n]
		if (name == "") # e.g. a function returning a pointer to an array
			name = "(unnamed)"
		if (name ~ /^[A-Z0-9_]+$/) { # a macro such as TEST(x): keep its argument
			arg = $0
			sub(/^[^(]*\(/, "", arg)
			sub(/\).*/, "", arg)
			name = name "(" arg ")"
		}
	}
	/^\{[ \t]*(\/\*.*)?$/ {
		if (start)
			printf "%s:%d %s unclosed\n", FILENAME, start, fname
		start = FNR
		fname = name
		next
	}
	/^\}/ && start {
		printf "%s:%d %s %d\n", FILENAME, start, fname, FNR - start + 1
		start = 0
	}
	END {
		if (start)
			printf "%s:%d %s unclosed\n", file, start, fname
	}
' "${present[@]}")
nfunc=$(printf '%s\n' "$funcs" | grep -c . || true)
bad=0 longest= longest_n=0
while read -r where name count; do
	[ -n "$where" ] || continue
	if [ "$count" = unclosed ]; then
		fail layout_function_lines "$where $name: a function brace at column 0 without its closing brace at column 0"
		bad=1
		continue
	fi
	if [ "$count" -gt "$FUNC_MAX" ]; then
		fail layout_function_lines "$where $name: $count lines (limit $FUNC_MAX)"
		bad=1
	fi
	if [ "$count" -gt "$longest_n" ]; then longest_n=$count longest="$where $name"; fi
done <<<"$funcs"
if [ "$nfunc" -lt 10 ]; then
	fail layout_function_lines "only $nfunc functions found in ${#present[@]} files: the function pattern is broken"
	bad=1
fi
[ "$bad" = 0 ] && pass "layout_function_lines ($nfunc functions <= $FUNC_MAX lines; longest $longest, $longest_n)"
exit $failed
