#!/usr/bin/env python3
"""Measures the emulated-vs-simulated agreement that docs/emulation.md records, and prints its tables.

    python3 docs/emulation/measure.py [SYNCOPATE_BINARY [agreement|hangs]] > /tmp/agreement.md

Runs `syncopate emulate --compare --json` on each sample, through each mode, with seeds 1-3 (about 20 minutes),
then prints per sample, mode and flow the means of the three seeds, the difference of the means and each seed's
difference, plus the breaker and consumer counts the issue's checks name. Run it on a quiet machine: a build or a
test run beside it adds latency to every hop. Needs envoy and rabbitmq-server, as `emulate` does.
"""

import json
import statistics
import subprocess
import sys
import tempfile

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/debug/syncopate"
SEEDS = (1, 2, 3)
MODES = ("direct", "envoy")
MEASURES = (
    ("goodput_rps", "goodput (req/s)"),
    ("p50_ms", "p50 (ms)"),
    ("p95_ms", "p95 (ms)"),
    ("p99_ms", "p99 (ms)"),
    ("error_pct", "errors (%)"),
)
# (label, file, extra arguments, calls whose short-circuited counts to show, consumers to count against answers)
RUNS = (
    (
        "payment-guarded (its planned slow-down of the provider)",
        "samples/payment-guarded.syncopate",
        [],
        ["checkout-api-payment-service", "payment-service-payment-provider"],
        [],
    ),
    ("ecommerce", "samples/ecommerce.syncopate", ["--duration-s", "30", "--warmup-s", "5"], [], []),
    (
        "order-saga",
        "samples/order-saga.syncopate",
        ["--duration-s", "30", "--warmup-s", "5"],
        [],
        ["payment", "shipping", "order-status"],
    ),
)


def emulate(path, extra, mode, seed):
    command = [BINARY, "emulate", path, "--through", mode, "--seed", str(seed), "--compare", "--json", *extra]
    for attempt in range(2):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.stdout.strip():
            return json.loads(done.stdout)
        print(f"{' '.join(command)} failed (try {attempt + 1}): {done.stderr.strip()}", file=sys.stderr)
    raise SystemExit(1)


def hang_variant(service):
    """payment-guarded with a hang of `service` from 20 to 40 s instead of its slow-down of the provider."""
    with open("samples/payment-guarded.syncopate") as f:
        design = json.load(f)
    design["faults"] = [{"service": service, "kind": "hang", "start_s": 20, "end_s": 40}]
    out = tempfile.NamedTemporaryFile("w", suffix=".syncopate", delete=False)
    json.dump(design, out)
    out.close()
    return out.name


def difference(key, emulated, simulated):
    if key == "error_pct":
        return f"{emulated - simulated:+.1f} points"
    return f"{(emulated - simulated) / simulated * 100:+.1f}%" if simulated else "n/a"


def seed_difference(key, comparison):
    d = comparison["difference"]
    return f"{d:+.1f}" if key == "error_pct" else f"{d:+.0f}%"


def agreement():
    for label, path, extra, breakers, consumers in RUNS:
        for mode in MODES:
            runs = [emulate(path, extra, mode, seed) for seed in SEEDS]
            flows = sorted(runs[0]["comparison"]["flows"])
            for flow in flows:
                print(f"**{label}, `--through {mode}`, flow `{flow}`** (seeds {', '.join(map(str, SEEDS))})\n")
                print("| measure | emulated (mean) | simulated (mean) | difference of the means | per seed |")
                print("|---|---|---|---|---|")
                for key, name in MEASURES:
                    comparisons = [r["comparison"]["flows"][flow][key] for r in runs]
                    emulated = statistics.mean(c["emulated"] for c in comparisons)
                    simulated = statistics.mean(c["simulated"] for c in comparisons)
                    seeds = ", ".join(seed_difference(key, c) for c in comparisons)
                    print(f"| {name} | {emulated:.1f} | {simulated:.1f} | {difference(key, emulated, simulated)} | {seeds} |")
                print()
            if breakers:
                parts = []
                for seed, r in zip(SEEDS, runs):
                    for call in breakers:
                        e = r["emulated"]["edges"][call]["short_circuited"]
                        s = r["simulated"]["edges"][call]["short_circuited"]
                        parts.append(f"seed {seed} `{call}` {e} (simulated {s})")
                print("Short-circuited calls: " + "; ".join(parts) + ".\n")
            if consumers:
                parts = []
                for seed, r in zip(SEEDS, runs):
                    answers = sum(f["completed"] for f in r["emulated"]["flows"].values())
                    consumed = [(c, r["emulated"]["services"][c]["completed"]) for c in consumers]
                    first = consumed[0][1]
                    rest = ", ".join(f"{c} {n}" for c, n in consumed[1:])
                    parts.append(
                        f"seed {seed}: {answers} answers; {consumed[0][0]} consumed {first} "
                        f"({(first - answers) / answers * 100:+.1f}%), {rest}"
                    )
                print("Consumers' completed messages against the flow's answers: " + "; ".join(parts) + ".\n")


def hangs():
    # A hang of the callee right behind a breaker (the payment service, behind the checkout API's), and of the
    # provider behind two breakers in a row.
    for service in ("payment-service", "payment-provider"):
        hang = hang_variant(service)
        for mode in MODES:
            r = emulate(hang, [], mode, 7)
            parts = []
            for call in ("checkout-api-payment-service", "payment-service-payment-provider"):
                e = r["emulated"]["edges"][call]["short_circuited"]
                s = r["simulated"]["edges"][call]["short_circuited"]
                t_e = r["emulated"]["edges"][call]["timeouts"]
                t_s = r["simulated"]["edges"][call]["timeouts"]
                change = f" ({(e - s) / s * 100:+.0f}%)" if s else ""
                parts.append(f"`{call}` short-circuited {e} vs simulated {s}{change}, timeouts {t_e} vs {t_s}")
            flow = r["comparison"]["flows"]["pay"]
            print(
                f"**payment-guarded with a `hang` of `{service}` from 20 to 40 s instead of its slow-down, "
                f"`--through {mode}`, seed 7**: {'; '.join(parts)}; goodput {flow['goodput_rps']['difference']:+.1f}%, "
                f"p99 {flow['p99_ms']['difference']:+.1f}%, errors {flow['error_pct']['difference']:+.1f} points.\n"
            )


def main():
    only = sys.argv[2] if len(sys.argv) > 2 else None
    if only in (None, "agreement"):
        agreement()
    if only in (None, "hangs"):
        hangs()


if __name__ == "__main__":
    main()
