#!/usr/bin/env python3
"""Prints the flows whose emulated and simulated counts disagree in an `emulate --compare --json` output: started
counts must be equal (common random numbers), failures within 20% of the started (or 2)."""
import json
import sys

run = json.load(open(sys.argv[1]))
disagree = []
for flow, emulated in run["emulated"]["flows"].items():
    simulated = run["simulated"]["flows"][flow]
    failed_apart = abs(emulated["failed"] - simulated["failed"])
    if emulated["started"] != simulated["started"] or failed_apart > max(2, 0.2 * simulated["started"]):
        counts = lambda c: f"{c['started']}/{c['completed']}/{c['failed']}"
        disagree.append(f"flow {flow!r}: emulated {counts(emulated)} simulated {counts(simulated)}")
print("; ".join(disagree))
