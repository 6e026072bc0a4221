#!/bin/bash
# Usage: exports.sh SEED...  Generates a design per seed (generate.py), exports it to asyncapi, openapi, chaos and
# chaos --for-emulator, and runs every consumer: @asyncapi/parser, openapi-spec-validator, protoc, chaos validate,
# the Chaos Mesh CRD schemas and the Istio models. Prints a line per problem. Needs a release build and the tools
# .ci/run installs (under ~/.cache/syncopate-ci-tools). Work goes to /tmp/generated-designs.
T=$HOME/.cache/syncopate-ci-tools
export PATH=$T/venv/bin:$PATH NODE_PATH=$T/node_modules
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$ROOT/target/release/syncopate
HERE=$ROOT/tests/tools/generated_designs
WORK=/tmp/generated-designs
for seed in "$@"; do
  d=$WORK/s$seed; rm -rf $d; mkdir -p $d
  python3 $HERE/generate.py $seed $d/design.syncopate
  $BIN check $d/design.syncopate > $d/check.txt 2>&1
  if grep -q "^error: \|not valid\|invalid" $d/check.txt; then echo "seed $seed: invalid ($(head -3 $d/check.txt | cut -c1-200))"; continue; fi
  for t in asyncapi openapi chaos; do
    $BIN export $d/design.syncopate --target $t -o $d/$t > $d/$t.log 2>&1 || echo "seed $seed: export $t failed: $(tail -1 $d/$t.log)"
  done
  $BIN export $d/design.syncopate --target chaos --for-emulator -o $d/chaos-emu > $d/chaos-emu.log 2>&1 || echo "seed $seed: export chaos emu failed: $(tail -1 $d/chaos-emu.log)"
  a=$(find $d/asyncapi -type f \( -name '*.yaml' -o -name '*.json' \) 2>/dev/null)
  [ -n "$a" ] && { node $ROOT/tests/tools/validate_asyncapi.mjs $a > $d/asyncapi.val 2>&1 || echo "seed $seed: asyncapi FAIL $(grep -m3 error $d/asyncapi.val | cut -c1-300)"; }
  for f in $(find $d/openapi -name '*.yaml' -o -name '*.json' 2>/dev/null | grep -v '\.proto'); do
    openapi-spec-validator "$f" > $d/oas.val 2>&1 || echo "seed $seed: openapi FAIL $f $(tail -3 $d/oas.val | cut -c1-300)"
  done
  for f in $(find $d/openapi -name '*.proto' 2>/dev/null); do
    protoc -I $(dirname $f) --descriptor_set_out=/dev/null $f > $d/proto.val 2>&1 || echo "seed $seed: protoc FAIL $f $(head -3 $d/proto.val)"
  done
  for dir in $d/chaos/chaos $d/chaos-emu/chaos; do
    [ -f $dir/experiment.json ] || { echo "seed $seed: no experiment.json in $dir"; continue; }
    (cd $dir && chaos --no-log-file validate experiment.json > val.txt 2>&1) || echo "seed $seed: chaos validate FAIL in $dir $(grep -m2 -i 'error\|fail' $dir/val.txt | cut -c1-300)"
  done
  cm=$(find $d/chaos -name '*.yaml' | grep -iv istio)
  [ -n "$cm" ] && { python3 $ROOT/tests/tools/validate_chaos_mesh.py $ROOT/../shared/schemas/chaos-mesh $cm > $d/cm.val 2>&1 || echo "seed $seed: chaos mesh FAIL $(head -3 $d/cm.val | cut -c1-300)"; }
  is=$(find $d/chaos -name '*.yaml' | grep -i istio)
  [ -n "$is" ] && { python3 $ROOT/tests/tools/validate_istio.py $is > $d/istio.val 2>&1 || echo "seed $seed: istio FAIL $(head -3 $d/istio.val | cut -c1-300)"; }
  echo "seed $seed done: $(find $d -type f | wc -l) files"
done
