#!/usr/bin/env python3
"""Prints the flows whose emulated and simulated counts disagree in an `emulate --compare --json` output: started
counts must be equal (common random numbers), failures within 20% of the started (or 2)."""
import json,sys
d=json.load(open(sys.argv[1]))
out=[]
for f,e in d['emulated']['flows'].items():
    s=d['simulated']['flows'][f]
    if e['started']!=s['started'] or abs(e['failed']-s['failed'])>max(2,0.2*s['started']):
        out.append(f"flow {f!r}: emulated {e['started']}/{e['completed']}/{e['failed']} simulated {s['started']}/{s['completed']}/{s['failed']}")
print('; '.join(out))
