#!/usr/bin/env bash
# Runs the tandem benchmark in Syncopate and in SimPy (in a throwaway venv) one after the other, on one core each,
# and prints the ratio. Usage: benches/compare_simpy.sh [ARRIVALS]
set -euo pipefail
cd "$(dirname "$0")/.."
arrivals=${1:-1000000}
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv" >/dev/null
"$venv/bin/pip" install -q simpy
ours=$(taskset -c 0 cargo bench -q --bench sim -- "$arrivals" | tail -n 1)
# SimPy is slow: a tenth of the arrivals measures its rate just as well.
theirs=$(taskset -c 0 "$venv/bin/python" benches/simpy_tandem.py $((arrivals / 10)))
echo "$ours"
echo "$theirs"
ours_rate=$(sed -E 's/.*: ([0-9]+) requests\/s.*/\1/' <<<"$ours")
theirs_rate=$(sed -E 's/.*: ([0-9]+) requests\/s.*/\1/' <<<"$theirs")
echo "ratio: $(( ours_rate / theirs_rate ))x SimPy's rate"
