#!/usr/bin/env bash
# Copy the results of a bench/run.sh run into the committed files:
# bench/chart.png, the results sections of bench/README.md and the summary
# in README.md's "Performance" section (between their marker comments).
# The counts per transaction have blocks of their own, so that a --counts
# run publishes them alone and leaves the wall-clock results as they were.
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

mode=$(awk -F'\t' '$1 == "meta" && $2 == "mode" {print $3}' "$dir/raw.tsv")

# section PART: the report one heading level down, without its title: its
# conditions (the list before the first section) and then the counts
# section (PART = counts) or every other section (PART = rest)
section() {
    sed -e '1{/^# /d}' "$dir/results.md" | awk -v part="$1" -v mode_counts="$([ "$mode" = counts ] && echo 1 || echo 0)" '
        /^## / { in_counts = ($0 ~ /^## Per transaction, counted/); seen = 1 }
        /^## Targets/ { in_counts = (mode_counts) }
        !seen || (part == "counts") == in_counts { print }' \
        | sed -e 's/^## /### /' -e '/./,$!d'
}

# summary TARGETS: conditions in one line, then the targets
summary() {
    awk -F'\t' '$1 == "meta" {m[$2] = $3}
        END {
            mach = m["machine"]
            pv = m["pg_version"]; sub(/ on .*/, "", pv)
            printf "Measured %s on %s, %s (`%s`):\n\n", m["date"], mach, pv, m["command"]
        }' "$dir/raw.tsv"
    cat "$1"
    echo
}

if [ -s "$dir/targets-counts.md" ]; then
    section counts > "$tmp/counts.md"
    splice "$repo/bench/README.md" '<!-- counts:begin -->' '<!-- counts:end -->' "$tmp/counts.md"
    summary "$dir/targets-counts.md" > "$tmp/summary-counts.md"
    splice "$repo/README.md" '<!-- counts:begin -->' '<!-- counts:end -->' "$tmp/summary-counts.md"
fi
if [ "$mode" = counts ]; then
    echo "published the counts of $dir into bench/README.md and README.md"
    exit 0
fi

# bench/README.md: the rest of the report
{
    section rest
    echo
    echo '![chart: round trip, in-server cost, INSERT throughput and WAL per row](chart.png)'
    echo
} > "$tmp/results.md"
splice "$repo/bench/README.md" '<!-- results:begin -->' '<!-- results:end -->' "$tmp/results.md"

summary "$dir/targets.md" > "$tmp/summary.md"
splice "$repo/README.md" '<!-- bench:begin -->' '<!-- bench:end -->' "$tmp/summary.md"

if [ -f "$dir/chart.png" ]; then
    cp "$dir/chart.png" "$repo/bench/chart.png"
fi
echo "published $dir into bench/README.md, README.md and bench/chart.png"
