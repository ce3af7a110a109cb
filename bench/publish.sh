#!/usr/bin/env bash
# Copy the results of a bench/run.sh run into the committed files:
# bench/chart.png, the results section of bench/README.md and the summary
# in README.md's "Performance" section (between their marker comments).
#
#   bash bench/publish.sh [RESULTS_DIR]     default: bench/results/latest
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$repo/bench/results/latest}
if [ ! -f "$dir/results.md" ] || [ ! -f "$dir/targets.md" ]; then
    echo "bench/publish.sh: no results in $dir (run bash bench/run.sh first)" >&2
    exit 1
fi
if grep -q '^meta	mode	quick' "$dir/raw.tsv"; then
    echo "bench/publish.sh: $dir is a --quick run; publish a full run" >&2
    exit 1
fi

# splice FILE BEGIN END CONTENT: replace the lines between the marker lines
# BEGIN and END of FILE with the file CONTENT
splice() {
    local file=$1 begin=$2 end=$3 content=$4
    grep -qF "$begin" "$file" && grep -qF "$end" "$file" || {
        echo "bench/publish.sh: markers $begin / $end missing in $file" >&2
        exit 1
    }
    awk -v b="$begin" -v e="$end" -v c="$content" '
        index($0, b) == 1 { print; while ((getline l < c) > 0) print l; skip = 1; next }
        index($0, e) == 1 { skip = 0 }
        !skip { print }' "$file" > "$file.new"
    mv "$file.new" "$file"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bench/README.md: the whole report, one heading level down
{
    sed -e '1{/^# /d}' -e 's/^## /### /' "$dir/results.md" | sed -e '/./,$!d'
    echo
    echo '![chart: round trip, in-server cost, INSERT throughput and WAL per row](chart.png)'
    echo
} > "$tmp/results.md"
splice "$repo/bench/README.md" '<!-- results:begin -->' '<!-- results:end -->' "$tmp/results.md"

# README.md: conditions in one line, then the targets
{
    awk -F'\t' '$1 == "meta" {m[$2] = $3}
        END {
            mach = m["machine"]
            pv = m["pg_version"]; sub(/ on .*/, "", pv)
            printf "Measured %s on %s, %s, %s round(s) (`make bench`, %s mode):\n\n", m["date"], mach, pv, m["rounds"], m["mode"]
        }' "$dir/raw.tsv"
    cat "$dir/targets.md"
    echo
} > "$tmp/summary.md"
splice "$repo/README.md" '<!-- bench:begin -->' '<!-- bench:end -->' "$tmp/summary.md"

if [ -f "$dir/chart.png" ]; then
    cp "$dir/chart.png" "$repo/bench/chart.png"
fi
echo "published $dir into bench/README.md, README.md and bench/chart.png"
