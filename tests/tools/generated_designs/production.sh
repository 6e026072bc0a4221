#!/bin/bash
# Usage: production.sh SEED...  Generates a design per seed (generate.py), exports it to every production target
# (`--target all`: envoy, istio, kubernetes, compose, nginx, rabbitmq, kafka) and runs each file through the program
# that consumes it: `envoy --mode validate`, the Istio models, `kubernetes-validate --strict`, `docker-compose config`
# and the compose spec, `nginx -t` (in a mount namespace whose hosts file maps the upstreams to loopback: root),
# and PyYAML (every YAML file read back). Prints a line per problem. Needs a release build and the
# tools .ci/run installs (under ~/.cache/syncopate-ci-tools). Work goes to /tmp/generated-designs/production.
T=$HOME/.cache/syncopate-ci-tools
export PATH=$T/venv/bin:$PATH
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=$ROOT/target/release/syncopate
HERE=$ROOT/tests/tools/generated_designs
WORK=/tmp/generated-designs/production
for seed in "$@"; do
  d=$WORK/s$seed; rm -rf "$d"; mkdir -p "$d"
  python3 "$HERE/generate.py" "$seed" "$d/design.syncopate"
  if ! "$BIN" check "$d/design.syncopate" > "$d/check.txt" 2>&1 && grep -q "^error: " "$d/check.txt"; then
    echo "seed $seed: invalid ($(head -3 "$d/check.txt" | cut -c1-200))"; continue
  fi
  "$BIN" export "$d/design.syncopate" --target all -o "$d/out" > "$d/export.log" 2>&1 ||
    echo "seed $seed: export all failed: $(tail -2 "$d/export.log" | cut -c1-300)"
  for f in $(find "$d/out/envoy" -name '*.yaml' 2>/dev/null); do
    envoy --mode validate --disable-hot-restart --log-level error -c "$f" > "$d/envoy.val" 2>&1 ||
      echo "seed $seed: envoy FAIL $f $(tail -3 "$d/envoy.val" | cut -c1-300)"
  done
  is=$(find "$d/out/istio" -name '*.yaml' 2>/dev/null)
  [ -n "$is" ] && { python3 "$ROOT/tests/tools/validate_istio.py" $is > "$d/istio.val" 2>&1 ||
    echo "seed $seed: istio FAIL $(head -3 "$d/istio.val" | cut -c1-300)"; }
  k8s=$(find "$d/out/kubernetes" -name '*.yaml' 2>/dev/null)
  [ -n "$k8s" ] && { kubernetes-validate --strict $k8s > "$d/k8s.val" 2>&1 ||
    echo "seed $seed: kubernetes FAIL $(grep -v '^INFO\|passed' "$d/k8s.val" | head -3 | cut -c1-300)"; }
  for f in $(find "$d/out/compose" -name '*.yaml' -o -name '*.yml' 2>/dev/null); do
    (cd "$(dirname "$f")" && docker-compose -f "$f" config -q) > "$d/compose.val" 2>&1 ||
      echo "seed $seed: docker-compose FAIL $f $(tail -3 "$d/compose.val" | cut -c1-300)"
    check-jsonschema --builtin-schema vendor.compose-spec "$f" > "$d/spec.val" 2>&1 ||
      echo "seed $seed: compose spec FAIL $f $(tail -3 "$d/spec.val" | cut -c1-300)"
  done
  for f in $(find "$d/out/nginx" -name '*.conf' 2>/dev/null); do
    hosts=$d/hosts; echo "127.0.0.1 localhost" > "$hosts"
    grep -E '^\s*server ' "$f" | sed -E 's/^\s*server ([^:; ]+).*/127.0.0.1 \1/' >> "$hosts"
    unshare -m sh -c "mount --bind '$hosts' /etc/hosts && exec nginx -q -t -p '$d' -e stderr -c '$f'" > "$d/nginx.val" 2>&1 ||
      echo "seed $seed: nginx FAIL $f $(tail -3 "$d/nginx.val" | cut -c1-300)"
  done
  yamls=$(find "$d/out" -name '*.yaml' -o -name '*.yml' 2>/dev/null)
  [ -n "$yamls" ] && { python3 "$ROOT/tests/tools/read_yaml.py" $yamls > "$d/yaml.val" 2>&1 ||
    echo "seed $seed: PyYAML FAIL $(tail -3 "$d/yaml.val" | cut -c1-300)"; }
  for f in $(find "$d/out" -name '*.json' 2>/dev/null); do
    python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$f" 2> "$d/json.val" ||
      echo "seed $seed: JSON FAIL $f $(tail -1 "$d/json.val" | cut -c1-300)"
  done
  echo "seed $seed done: $(find "$d/out" -type f 2>/dev/null | wc -l) files"
done
