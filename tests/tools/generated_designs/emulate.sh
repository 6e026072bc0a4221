#!/bin/bash
# Usage: NO_BROKER_WORK=1 emulate.sh direct|envoy SEED...  Emulates each generated design for 4 s beside its
# simulation with the same seed (--compare) and prints exits other than 0 and 1, panics, and flows whose counts
# disagree (compare_counts.py). Designs with rule errors (cycles, unbounded load) are skipped.
T=$HOME/.cache/syncopate-ci-tools
export PATH=$T/venv/bin:$PATH
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$ROOT/target/release/syncopate
HERE=$ROOT/tests/tools/generated_designs
WORK=/tmp/generated-designs
through=$1; shift
for seed in "$@"; do
  d=$WORK/e$seed; rm -rf $d; mkdir -p $d
  python3 $HERE/generate.py $seed $d/design.syncopate
  if $BIN check $d/design.syncopate 2>&1 | grep -q "error\["; then echo "seed $seed: skipped (rule errors)"; continue; fi
  timeout 120 $BIN emulate $d/design.syncopate --duration-s 4 --warmup-s 1 --through $through --compare --json > $d/out.json 2> $d/err.txt
  rc=$?
  if { [ $rc -ne 0 ] && [ $rc -ne 1 ]; } || grep -qi "panick" $d/err.txt; then
    echo "seed $seed: exit $rc: $(tail -3 $d/err.txt | cut -c1-300)"
  else
    echo "seed $seed: exit $rc $(python3 $HERE/compare_counts.py $d/out.json 2>&1 | cut -c1-400)"
  fi
done
