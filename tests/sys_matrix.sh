#!/usr/bin/env bash
# System test of the matrix A/B (./run.sh ab SCENARIO --a A --b B --arch
# x86_64,aarch64; bench/vm/ab-matrix.sh) without QEMU and without built
# kernels:
#  - fl-report's arch summary (compare-arch.txt, .csv, .json) on recorded
#    results of two arches (tests/data/matrix/ARCH/{a,b}, one real matrix
#    run: x86_64 stock-6.12 against vma-retry-6.12, aarch64 Debian's 6.12
#    against itself, whose kernel has no per-VMA lock statistics; see
#    tests/data/matrix/README): each cell equals that arch's own
#    comparison, '-' where an arch lacks a metric, 72 columns, blocks of
#    two arches, comma-separated sets;
#  - ab-matrix.sh's kernel lookup on manifests made here (FL_KERNELS_DIR):
#    a missing kernel stops everything with exit 3 and the command that
#    builds it, --skip-missing runs the rest and the summary names what was
#    skipped, a kernel of another arch is refused (exit 2);
#  - the whole flow with a stand-in for each arch's A/B (FL_AB_ONE) that
#    copies the recorded results.
# Prints PASS/FAIL/SKIP lines; exit 1 if anything failed.  About 6 s here (3 s
# of CPU; each report is written with fsync).
set -u
BUILD=${BUILD:-build}
export BUILD
cd "$(dirname "$0")/.."
REPORT=$BUILD/fl-report
DATA=tests/data/matrix
T=$(mktemp -d /tmp/faultline-sys-matrix.XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/lib.sh

if [ ! -x "$REPORT" ]; then
	fail fl_report_built "$REPORT is missing (make $REPORT)"
	exit 1
fi
if ! command -v jq >/dev/null; then
	skip matrix "jq is not installed (apt-get install jq)"
	exit 0
fi
ARCHES=(x86_64 aarch64)

# ---- the arch summary on recorded results ---------------------------------

"$REPORT" "$DATA/x86_64/a,$DATA/aarch64/a" "$DATA/x86_64/b,$DATA/aarch64/b" --out "$T/sum" --no-plots \
	--format arch-summary --note "skipped: riscv64, no kernel" >"$T/sum.out" 2>"$T/sum.err"
rc=$?
txt=$T/sum/compare-arch.txt csv=$T/sum/compare-arch.csv js=$T/sum/compare-arch.json
if [ "$rc" = 0 ] && [ -s "$txt" ] && [ -s "$csv" ] && [ -s "$js" ] && cmp -s "$T/sum.out" "$txt" &&
	! grep -q 'several labels' "$T/sum.err"; then
	pass arch_summary_written
else
	fail arch_summary_written "exit $rc, files: $(ls "$T/sum" 2>/dev/null | tr '\n' ' '); $(head -c 300 "$T/sum.err")"
fi
long=$(LC_ALL=C awk 'length($0) > 72 { printf "line %d has %d columns; ", NR, length($0) }' "$txt")
if [ -z "$long" ] && ! LC_ALL=C grep -q '[^ -~]' "$txt" && ! grep -q ' $' "$txt"; then
	pass arch_summary_72_columns
else
	fail arch_summary_72_columns "${long:-not plain ASCII, or trailing spaces}"
fi
# the column heads: x86_64 then aarch64; the note and both arches' kernels
heads=$(grep -B1 '^metric ' "$txt" | head -1 | tr -s ' ')
if [ "$heads" = " x86_64 aarch64" ] && grep -q '^  skipped: riscv64, no kernel' "$txt" &&
	grep -q '^  x86_64: base stock-6.12 ' "$txt" && grep -q '^  aarch64: base debian-6.12-a ' "$txt"; then
	pass arch_summary_header
else
	fail arch_summary_header "column heads '$heads': $(head -12 "$txt" | tr '\n' '|')"
fi

# Every cell is that arch's own comparison: fl-report on one arch's a and b
# gives the same means, change and mark as the summary's CSV row, and a
# metric that arch's comparison lacks has no CSV row there.
headline=$(jq -r '.config.report.headline[]' "$(ls "$DATA"/x86_64/a/*.json | head -1)")
nh=$(echo "$headline" | wc -l)
why="" cells=0 absent=0
for arch in "${ARCHES[@]}"; do
	"$REPORT" "$DATA/$arch/a" "$DATA/$arch/b" --out "$T/one-$arch" --no-plots --quiet 2>/dev/null ||
		why+=" fl-report on $arch alone failed;"
	for m in $headline; do
		want=$(jq -r --arg m "$m" '.comparisons[0].metrics[] | select(.name == $m) |
			"\(.baseline.mean) \(.candidate.mean) \(.change_pct) \(.mark)"' "$T/one-$arch/compare.json")
		got=$(awk -F, -v m="$m" -v a="$arch" '$2 == m && $5 == a { print $10, $11, $12, $13 }' "$csv")
		if [ -z "$want" ]; then
			absent=$((absent + 1))
			[ -z "$got" ] || why+=" $arch $m: not in that arch's comparison, but in the summary: '$got';"
			continue
		fi
		cells=$((cells + 1))
		if ! awk -v w="$want" -v g="$got" 'BEGIN {
			n = split(w, x, " "); if (split(g, y, " ") != n) exit 1
			for (i = 1; i < n; i++) { d = x[i] - y[i]; if (d < 0) d = -d
				s = x[i] < 0 ? -x[i] : x[i]; if (d > 1e-6 * s + 1e-9) exit 1 }
			exit x[n] != y[n] }'; then
			why+=" $arch $m: alone '$want', summary '$got';"
		fi
	done
done
rows=$(($(wc -l <"$csv") - 1))
# x86_64 has all six headline metrics; Debian's aarch64 kernel lacks the
# two per-VMA lock ones (no CONFIG_PER_VMA_LOCK_STATS)
if [ -z "$why" ] && [ "$rows" = "$cells" ] && [ "$nh" = 6 ] && [ "$cells" = 10 ] && [ "$absent" = 2 ] &&
	head -1 "$csv" | grep -qx 'scenario,metric,unit,direction,arch,base_label,cand_label,base_n,cand_n,base_mean,cand_mean,change_pct,mark,verdict,p'; then
	pass arch_summary_cells_equal_each_archs_comparison
else
	fail arch_summary_cells_equal_each_archs_comparison "$rows rows, $cells cells, $absent absent of $nh metrics x 2 arches;$why"
fi

# The text row of each metric holds each arch's change as the tables print
# it (+1.23%, or +1234% from 1000% on) followed by its mark, in arch order.
why=""
for m in $headline; do
	expect=""
	for arch in "${ARCHES[@]}"; do
		cell=$(awk -F, -v m="$m" -v a="$arch" '$2 == m && $5 == a {
			c = $12 + 0; x = c < 0 ? -c : c
			printf "%s%s", (x < 999.995 ? sprintf("%+.2f%%", c) : sprintf("%+.0f%%", c)), $13 }' "$csv")
		expect+="${cell:--} "
	done
	line=$(awk -v m="$m" '$1 == m { if (NF == 1) { getline; print } else { $1 = ""; print }; exit }' "$txt")
	got=$(echo "$line" | awk '{ printf "%s %s ", $3, $6 }')
	[ "$got" = "$expect" ] || why+=" $m: text '$line', want changes '$expect';"
done
if [ -z "$why" ]; then
	pass arch_summary_text_rows
else
	fail arch_summary_text_rows "$why"
fi
if [ "$(jq -r '.schema' "$js")" = faultline-arch-summary/1 ] &&
	[ "$(jq -r '[.summaries[0].arches[].arch] | join(",")' "$js")" = x86_64,aarch64 ] &&
	[ "$(jq -r '.notes[0]' "$js")" = "skipped: riscv64, no kernel" ] &&
	[ "$(jq -r '.summaries[0].metrics[] | select(.name == "mmap_lock.read_acq_per_kfault") | .by_arch | keys | join(",")' "$js")" = aarch64,x86_64 ] &&
	[ "$(jq -r '.summaries[0].metrics[] | select(.name == "vma_lock.share_pct") | .by_arch | keys | join(",")' "$js")" = x86_64 ]; then
	pass arch_summary_json
else
	fail arch_summary_json "$(head -c 300 "$js")"
fi

# Three arches: two blocks (x86_64 and aarch64, then the third); a third
# arch made here from aarch64's results without the mmap_lock probe shows
# '-' for the mmap_lock metrics (layout only: not a measurement)
mkdir -p "$T/rv/a" "$T/rv/b"
for s in a b; do
	for f in "$DATA"/aarch64/$s/*.json; do
		jq '.environment.arch = "riscv64" | .label += "-rv" | del(.iterations[].probes.mmap_lock)' "$f" \
			>"$T/rv/$s/$(basename "$f")"
	done
done
"$REPORT" "$DATA/x86_64/a,$DATA/aarch64/a,$T/rv/a" "$DATA/x86_64/b,$DATA/aarch64/b,$T/rv/b" --out "$T/sum3" \
	--no-plots --quiet 2>"$T/sum3.err"
rc=$?
t3=$T/sum3/compare-arch.txt
blocks=$(grep -c '^metric ' "$t3" 2>/dev/null)
second=$(awk '/^metric /{b++} b == 2' "$t3")
rvrow=$(echo "$second" | awk '$1 == "mmap_lock.read_acq_per_kfault" { getline; print; exit }' | tr -s ' ')
long=$(awk 'length($0) > 72' "$t3")
if [ "$rc" = 0 ] && [ "$blocks" = 2 ] && [ "$(echo "$second" | head -1 | tr -s ' ')" = "metric base cand change" ] &&
	[ "$rvrow" = " - - -" ] && [ -z "$long" ] &&
	[ "$(grep -B1 '^metric ' "$t3" | grep -v '^--$' | sed -n 3p | tr -d ' ')" = riscv64 ]; then
	pass arch_summary_blocks_of_two_and_missing_cells
else
	fail arch_summary_blocks_of_two_and_missing_cells "exit $rc, $blocks blocks, riscv64 row '$rvrow': $(head -c 300 "$T/sum3.err")"
fi

# a comma-separated set: an empty part or a part that does not exist is
# bad input (exit 2, the part named, nothing written)
"$REPORT" "$DATA/x86_64/a,,$DATA/aarch64/a" "$DATA/x86_64/b" --out "$T/bad1" --no-plots >/dev/null 2>"$T/bad1.err"
rc1=$?
"$REPORT" "$DATA/x86_64/a,$T/nowhere/a" "$DATA/x86_64/b" --out "$T/bad2" --no-plots >/dev/null 2>"$T/bad2.err"
rc2=$?
if [ "$rc1" = 2 ] && grep -q 'empty part' "$T/bad1.err" && [ "$rc2" = 2 ] && grep -q "$T/nowhere/a" "$T/bad2.err" &&
	[ ! -e "$T/bad1" ] && [ ! -e "$T/bad2" ]; then
	pass comma_list_bad_parts_exit_2
else
	fail comma_list_bad_parts_exit_2 "exits $rc1/$rc2: $(cat "$T/bad1.err" "$T/bad2.err" | head -c 300)"
fi

# a guest that panicked while booting leaves a result with status error, no
# iteration and the config as given, not as the guest resolved it: left
# out with a warning, not held against the others' settings
mkdir -p "$T/withfail"
cp "$DATA"/x86_64/a/*.json "$T/withfail/"
jq '.status = "error" | .status_reason = "Kernel panic - not syncing" | .iterations = [] |
	.config.storage.path = "/var/tmp/faultline"' "$(ls "$DATA"/x86_64/a/*.json | head -1)" >"$T/withfail/zz-error.json"
"$REPORT" "$T/withfail" "$DATA/x86_64/b" --out "$T/wf" --no-plots --quiet 2>"$T/wf.err"
rc=$?
if [ "$rc" = 0 ] && grep -q 'zz-error.json: status "error" and no iteration with status ok; left out' "$T/wf.err" &&
	cmp -s <(cut -d, -f1-12 "$T/wf/compare-arch.csv") <(cut -d, -f1-12 "$T/one-x86_64/compare-arch.csv"); then
	pass failed_boot_result_left_out
else
	fail failed_boot_result_left_out "exit $rc: $(head -c 300 "$T/wf.err")"
fi

# ---- ab-matrix.sh: kernel lookup and the flow, with a stand-in A/B --------

K=$T/kernels
mkkernel() { # NAME ARCH [PATCH]
	mkdir -p "$K/$1"
	: >"$K/$1/Image"
	jq -n --arg n "$1" --arg a "$2" --arg p "${3:-}" '{name: $n, arch: $a, image: "Image",
		source: {kind: "debian", path: "/usr/src/linux-source-6.12.tar.xz"},
		patches: (if $p == "" then [] else [{file: $p, sha256: "0"}] end)}' >"$K/$1/manifest.json"
}
echo 'a patch' >"$T/retry.patch"
mkkernel stock-6.12 x86_64
mkkernel vma-retry-6.12 x86_64 "$T/retry.patch"
mkkernel stock-6.12-aarch64 aarch64
# the stand-in: records its arguments, copies the recorded results of its
# arch into --out DIR/{a,b}; FAIL_ARCH makes one arch fail with nothing
cat >"$T/ab-one.sh" <<EOF
#!/usr/bin/env bash
echo "\$*" >>"$T/calls"
arch="" out=""
while [ \$# -gt 0 ]; do
	case "\$1" in --arch) arch=\$2; shift ;; --out) out=\$2; shift ;; esac
	shift
done
[ "\$arch" != "\${FAIL_ARCH:-}" ] || exit 1
mkdir -p "\$out/a" "\$out/b"
cp "$PWD/$DATA/\$arch/a/"*.json "\$out/a/"
cp "$PWD/$DATA/\$arch/b/"*.json "\$out/b/"
[ "\$arch" != "\${UNDECIDED_ARCH:-}" ] || exit 4
EOF
export FL_KERNELS_DIR=$K FL_AB_ONE=$T/ab-one.sh
matrix() { # NAME args...: bench/vm/ab.sh (which hands over to ab-matrix.sh)
	local name=$1
	shift
	bash bench/vm/ab.sh vma-retry "$@" >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}

matrix missing --a stock-6.12 --b vma-retry-6.12 --arch x86_64,aarch64 --iterations 2 --out "$T/m-missing"
if [ "$(cat "$T/missing.rc")" = 3 ] && grep -q 'aarch64: cand kernel vma-retry-6.12-aarch64 is missing' "$T/missing.err" &&
	grep -qF -- "./run.sh kernel build --src debian --patch $T/retry.patch --arch aarch64 --out vma-retry-6.12-aarch64" \
		"$T/missing.err" && ! grep -q 'stock-6.12-aarch64 is missing' "$T/missing.err" &&
	[ ! -e "$T/m-missing" ] && [ ! -e "$T/calls" ]; then
	pass missing_kernel_exit_3_with_build_command
else
	fail missing_kernel_exit_3_with_build_command "exit $(cat "$T/missing.rc"): $(head -c 400 "$T/missing.err")"
fi

matrix skip --a stock-6.12 --b vma-retry-6.12 --arch x86_64,aarch64 --skip-missing --iterations 2 --out "$T/m-skip"
call=$(cat "$T/calls" 2>/dev/null)
if [ "$(cat "$T/skip.rc")" = 0 ] && [ "$(wc -l <"$T/calls")" = 1 ] &&
	[ "$call" = "vma-retry --a $K/stock-6.12/Image --b $K/vma-retry-6.12/Image --arch x86_64 --out $T/m-skip/x86_64 --iterations 2" ] &&
	grep -q '^  skipped: aarch64, no kernel vma-retry-6.12-aarch64' "$T/skip.out" &&
	[ "$(jq -r '.notes[0]' "$T/m-skip/report/compare-arch.json")" = "skipped: aarch64, no kernel vma-retry-6.12-aarch64 in $K/" ] &&
	[ "$(jq -r '[.summaries[0].arches[].arch] | join(",")' "$T/m-skip/report/compare-arch.json")" = x86_64 ]; then
	pass skip_missing_runs_the_rest_and_says_so
else
	fail skip_missing_runs_the_rest_and_says_so "exit $(cat "$T/skip.rc"), calls '$call': $(head -c 300 "$T/skip.err")"
fi

mkkernel vma-retry-6.12-aarch64 aarch64 "$T/retry.patch"
rm -f "$T/calls"
matrix both --a stock-6.12 --b vma-retry-6.12 --arch x86_64,arm64 --out "$T/m-both"
if [ "$(cat "$T/both.rc")" = 0 ] && [ "$(awk '{ print $7 }' "$T/calls" | tr '\n' ' ')" = "x86_64 aarch64 " ] &&
	grep -q "vma-retry --a $K/stock-6.12-aarch64/Image --b $K/vma-retry-6.12-aarch64/Image --arch aarch64" "$T/calls" &&
	cmp -s <(sed -n '/^$/,$p' "$T/m-both/report/compare-arch.txt") <(sed -n '/^$/,$p' "$txt") &&
	[ -s "$T/m-both/report/compare.txt" ]; then
	pass two_arches_one_summary
else
	fail two_arches_one_summary "exit $(cat "$T/both.rc"), calls: $(tr '\n' '|' <"$T/calls"): $(head -c 300 "$T/both.err")"
fi

rm -f "$T/calls"
FAIL_ARCH=aarch64 matrix onefails --a stock-6.12 --b vma-retry-6.12 --arch x86_64,aarch64 --out "$T/m-fail"
if [ "$(cat "$T/onefails.rc")" = 1 ] && grep -q '^  aarch64: the A/B failed (exit 1)' "$T/onefails.out" &&
	grep -q '^  left out: aarch64' "$T/onefails.out" && [ -s "$T/m-fail/report/compare-arch.csv" ]; then
	pass one_arch_fails_exit_1_summary_of_the_rest
else
	fail one_arch_fails_exit_1_summary_of_the_rest "exit $(cat "$T/onefails.rc"): $(head -c 300 "$T/onefails.err")"
fi

# an arch left undecided by ab --until decided (its exit 4): exit 4, said
rm -f "$T/calls"
UNDECIDED_ARCH=x86_64 matrix undecided --a stock-6.12 --b vma-retry-6.12 --arch x86_64,aarch64 --out "$T/m-und"
if [ "$(cat "$T/undecided.rc")" = 4 ] && grep -q '^  x86_64: undecided after the most iterations' "$T/undecided.out" &&
	[ "$(jq -r '[.summaries[0].arches[].arch] | join(",")' "$T/m-und/report/compare-arch.json")" = x86_64,aarch64 ]; then
	pass undecided_arch_exit_4
else
	fail undecided_arch_exit_4 "exit $(cat "$T/undecided.rc"): $(head -c 300 "$T/undecided.err")"
fi

# bad input: exit 2, nothing started
rm -f "$T/calls"
matrix wrongarch --a stock-6.12 --b vma-retry-6.12 --arch x86_64,aarch64 --base-kernel aarch64=stock-6.12
matrix badarch --a stock-6.12 --b vma-retry-6.12 --arch x86_64,sparc64
matrix twice --a stock-6.12 --b vma-retry-6.12 --arch x86_64,amd64
matrix badmap --a stock-6.12 --b vma-retry-6.12 --arch x86_64,aarch64 --cand-kernel aarch64
matrix nob --a stock-6.12 --arch x86_64,aarch64
why=""
for c in "wrongarch:is built for x86_64" "badarch:unknown arch 'sparc64'" "twice:x86_64 twice" \
	"badmap:expected ARCH=KERNEL" "nob:no cand kernel"; do
	n=${c%%:*}
	[ "$(cat "$T/$n.rc")" = 2 ] && grep -q "${c#*:}" "$T/$n.err" || why+=" $n: exit $(cat "$T/$n.rc") $(head -c 150 "$T/$n.err");"
done
[ ! -e "$T/calls" ] || why+=" an A/B was started;"
if [ -z "$why" ]; then
	pass bad_input_exit_2_before_any_run
else
	fail bad_input_exit_2_before_any_run "$why"
fi

# an explicit kernel per arch wins over the NAME-ARCH convention
mkkernel other-arm aarch64
rm -f "$T/calls"
matrix explicit --a stock-6.12 --b vma-retry-6.12 --arch x86_64,aarch64 --base-kernel aarch64=other-arm \
	--out "$T/m-explicit"
if [ "$(cat "$T/explicit.rc")" = 0 ] && grep -q -- "--a $K/other-arm/Image --b $K/vma-retry-6.12-aarch64/Image --arch aarch64" "$T/calls"; then
	pass explicit_kernel_per_arch
else
	fail explicit_kernel_per_arch "exit $(cat "$T/explicit.rc"), calls: $(tr '\n' '|' <"$T/calls" 2>/dev/null)"
fi

exit $failed
