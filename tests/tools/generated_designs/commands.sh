#!/bin/bash
# Usage: commands.sh SEED...  Generates a design per seed (generate.py) and runs every other command on it: check,
# simulate, sweep (one factor with 3 seeds, and a range), plan, sequence (Mermaid and SVG into folders), layout, and
# diff (plain and --simulate) against the previous seed's design. Prints a line for a panic, an exit above 2 or a
# command that ran over 120 s, then, per command, the distinct first lines of what went to stderr with their counts:
# read those, a refusal that should not be one shows there (the sequence files' names did). Needs a release build.
# Work goes to /tmp/generated-designs/commands.
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$ROOT/target/release/syncopate
HERE=$ROOT/tests/tools/generated_designs
WORK=/tmp/generated-designs/commands
COMMANDS="check simulate seeds sweep plan sequence svg layout diff diffsim"
prev=""
for seed in "$@"; do
  d=$WORK/s$seed; rm -rf "$d"; mkdir -p "$d"
  python3 "$HERE/generate.py" "$seed" "$d/design.syncopate"
  f=$d/design.syncopate
  run() {
    name=$1; shift
    timeout 120 "$@" > "$d/$name.out" 2> "$d/$name.err"; rc=$?
    if [ $rc -gt 2 ] || grep -q "panicked" "$d/$name.err"; then
      echo "seed $seed: $name exit $rc $(grep -m2 -i 'panick\|error' "$d/$name.err" | cut -c1-250)"
    fi
  }
  run check "$BIN" check "$f" --json
  run simulate "$BIN" simulate "$f" --duration-s 20 --json
  run seeds "$BIN" sweep "$f" --scale 1:1:1 --duration-s 6 --warmup-s 1 --seeds 3 --json
  run sweep "$BIN" sweep "$f" --scale 0.5:2:0.5 --duration-s 6 --warmup-s 1 --json
  run plan "$BIN" plan "$f" --duration-s 6 --json
  run sequence "$BIN" sequence "$f" -o "$d/sequence"
  run svg "$BIN" sequence "$f" --format svg -o "$d/sequence-svg"
  run layout "$BIN" layout "$f" -o "$d/laid-out.syncopate"
  if [ -n "$prev" ]; then
    run diff "$BIN" diff "$prev" "$f" --json
    run diffsim "$BIN" diff "$prev" "$f" --simulate --duration-s 5 --json
  fi
  prev=$f
done
for name in $COMMANDS; do
  echo "== $name: first lines on stderr"
  for seed in "$@"; do head -n 1 "$WORK/s$seed/$name.err" 2>/dev/null | sed -E 's#/tmp/generated-designs/commands/s[0-9]+/##g' | cut -c1-160; done |
    sort | uniq -c | sort -rn | head -8
done
