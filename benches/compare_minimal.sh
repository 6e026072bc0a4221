#!/usr/bin/env bash
# The tandem goal of docs/performance.md, measured one way: Syncopate's tandem bench (`benches/sim.rs`, 10 M/M/2
# stations at utilization 0.7) against `../shared/bench/minimal-des` (the same tandem in 60 lines, no semantics, no
# statistics), alternating on one core, ROUNDS rounds; prints each round and the ratio of the medians (goal: 70%).
# Both are built first (release; minimal-des in its own target folder). Instances of the same kind of machine differ
# by up to 2x, so only the ratio within one run means anything.
#
# Usage: benches/compare_minimal.sh [ROUNDS] [ARRIVALS]      (defaults: 5 rounds of 1,000,000 arrivals)
#        MINIMAL_DES=/path/to/minimal-des benches/compare_minimal.sh   (a minimal-des built elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
arrivals=${2:-1000000}

minimal=${MINIMAL_DES:-}
if [[ -z "$minimal" ]]; then
    manifest=../shared/bench/minimal-des/Cargo.toml
    if [[ ! -f "$manifest" ]]; then
        echo "compare_minimal: $manifest not found (set MINIMAL_DES to a built minimal-des)" >&2
        exit 2
    fi
    target=${MINIMAL_DES_TARGET:-${TMPDIR:-/tmp}/syncopate-minimal-des}
    CARGO_TARGET_DIR="$target" cargo build -q --release --manifest-path "$manifest"
    minimal="$target/release/minimal-des"
fi

# The bench binary, built once; cargo names it on its "Executable" line (not printed with -q).
build_log=$(cargo bench --bench sim --no-run --no-default-features 2>&1) || {
    echo "$build_log" >&2
    exit 2
}
ours=$(sed -nE 's/.*Executable .*\((.*)\)$/\1/p' <<<"$build_log" | tail -n 1)
if [[ -z "$ours" || ! -x "$ours" ]]; then
    echo "compare_minimal: the sim bench was built but cargo named no executable:" >&2
    echo "$build_log" >&2
    exit 2
fi

# One core, the same for both; without taskset (macOS) the runs are unpinned.
pin=()
if command -v taskset >/dev/null; then
    pin=(taskset -c 0)
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

theirs_rates=()
ours_rates=()
for round in $(seq 1 "$rounds"); do
    theirs_line=$("${pin[@]}" "$minimal" b "$arrivals" 1)
    ours_line=$("${pin[@]}" "$ours" "$arrivals" | tail -n 1)
    theirs_rate=$(sed -nE 's/.*cust_per_s=([0-9]+).*/\1/p' <<<"$theirs_line")
    ours_rate=$(sed -nE 's/.*: ([0-9]+) requests\/s.*/\1/p' <<<"$ours_line")
    if [[ -z "$theirs_rate" || -z "$ours_rate" ]]; then
        echo "compare_minimal: round $round printed no rate:" >&2
        echo "$theirs_line" >&2
        echo "$ours_line" >&2
        exit 2
    fi
    theirs_rates+=("$theirs_rate")
    ours_rates+=("$ours_rate")
    echo "round $round: minimal-des $theirs_rate customers/s, syncopate $ours_rate requests/s ($((100 * ours_rate / theirs_rate))%)"
done

theirs_median=$(printf '%s\n' "${theirs_rates[@]}" | median)
ours_median=$(printf '%s\n' "${ours_rates[@]}" | median)
awk -v o="$ours_median" -v t="$theirs_median" 'BEGIN {
    printf "median: minimal-des %.0f customers/s, syncopate %.0f requests/s: %.1f%% of minimal-des (goal 70%%)\n",
        t, o, 100 * o / t
}'
