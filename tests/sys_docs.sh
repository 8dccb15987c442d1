#!/usr/bin/env bash
# System test of what the docs promise about the scenarios: the headline
# column of docs/scenarios.md is each scenario's report.headline, in order,
# and every headline name is in the metric catalogue (fl-report
# --list-metrics).  Prints PASS/FAIL lines; exit 1 if anything failed.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
. tests/lib.sh

metrics=$("$BUILD/fl-report" --list-metrics | awk 'NR > 1 { print $1 }')
for f in bench/scenarios/*.json; do
	name=$(basename "$f" .json)
	want=$(jq -r '[.report.headline[] | "`" + . + "`"] | join(", ")' "$f")
	row=$(grep "^| \`$name\` |" docs/scenarios.md | awk -F' \\| ' '{ print $4 }')
	if [ -n "$want" ] && [ "$row" = "$want" ]; then
		pass "docs_headline_$name"
	else
		fail "docs_headline_$name" "docs/scenarios.md says '$row', $f says '$want'"
	fi
	unknown=$(jq -r '.report.headline[]' "$f" | grep -vxF -f <(echo "$metrics") | tr '\n' ' ')
	if [ -z "$unknown" ]; then
		pass "headline_in_catalogue_$name"
	else
		fail "headline_in_catalogue_$name" "not in the catalogue: $unknown"
	fi
done
exit $failed
