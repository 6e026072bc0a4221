#!/usr/bin/env python3
"""Generates a random valid-looking design with hostile text and every pattern, for runs through the real consumers.

Usage: generate.py SEED OUT.syncopate. Services of every kind, sync and async calls of every protocol with timeouts,
retries, breakers, bulkheads, topics, dead letters, idempotent calls, compensating calls, polling flows and planned
faults; ids, names, groups and topics drawn from quotes, `$`, `{{`, YAML words, U+2028, U+0085 and non-ASCII.
Some designs are invalid on purpose (the loader must refuse them with the field). Environment: BIG=1 for 20-45
services; NO_BROKER_WORK=1 for designs the emulator runs (no request to or sync call from a broker, calls only from
earlier to later services, so no cycles). Used by exports.sh and emulate.sh; not part of `cargo test`.
"""
import json, os, random, sys, string
HOSTILE = ['"', "'", '\\', '$', '${X}', '{{', '}}', '#', '%', '&', '<', '>', '/', '..', ':', '*', '?', '`', '|', ';', '~', '@', '!',
           'é', '日本', '\u2028', '\u0085', '\u200b', 'null', 'yes', 'on', '0x1F', '1e3', '-', '_', '.', '[', ']', ',', '=', '+', '^']
def word(r, n=(1,12), hostile=True):
    k = r.randint(*n)
    out = ''
    for _ in range(k):
        if hostile and r.random() < 0.3:
            out += r.choice(HOSTILE)
        else:
            out += r.choice(string.ascii_letters + string.digits)
    return out or 'x'
def sid(r, maxlen=30):
    k = r.randint(1, maxlen)
    s = r.choice(string.ascii_lowercase)
    for _ in range(k-1):
        s += r.choice(string.ascii_lowercase + string.digits + '-')
    s = s.rstrip('-') or 'a'
    return s
def text_id(r):
    # edge/flow ids: no spaces or control chars
    while True:
        w = word(r, (1, 20))
        if not any(c.isspace() for c in w) and all(ord(c) >= 32 and ord(c) != 127 and not (0x80 <= ord(c) < 0xa0) for c in w) and '\u2028' not in w:
            return w[:128]
def gen(seed):
    r = random.Random(seed)
    n = r.randint(20, 45) if os.environ.get("BIG") else r.randint(2, 10)
    ids = set()
    services = []
    kinds = ['client', 'gateway', 'service', 'database', 'broker', 'external', 'service', 'service']
    for i in range(n):
        kind = r.choice(kinds)
        while True:
            s = sid(r, 52 if kind in ('broker','database') else 63)
            if s not in ids: break
        ids.add(s)
        svc = {"id": s, "kind": kind, "concurrency": r.randint(1, 16), "replicas": r.randint(1, 3),
               "service_time": r.choice([{"dist": "exponential", "mean_ms": r.uniform(0.5, 20)}, {"dist": "constant", "ms": r.uniform(0, 5)},
                                          {"dist": "lognormal", "median_ms": 2, "p99_ms": 20}])}
        if r.random() < 0.4: svc["name"] = word(r, (1, 30))
        if r.random() < 0.4: svc["group"] = "".join(c for c in word(r, (1, 20)) if c not in "\u0085\u2028")
        if r.random() < 0.3: svc["port"] = r.randint(1, 65535)
        if r.random() < 0.2: svc["image"] = word(r, (1, 20), hostile=False)
        if r.random() < 0.2: svc["error_rate"] = r.choice([0, 0.01, 0.5, 1])
        if r.random() < 0.2: svc["notes"] = word(r, (0, 40)) or 'n'
        services.append(svc)
    sids = [s["id"] for s in services]
    flows = []
    for i in range(r.randint(1, 3)):
        f = {"id": text_id(r) + str(i), "entry": r.choice(sids), "rate_rps": r.choice([1, 5, 20, 0.5, 50])}
        if r.random() < 0.4:
            f["caller_waits"] = False
            if r.random() < 0.7: f["polling"] = {"interval_ms": r.choice([50, 500, 2000])}
        if r.random() < 0.5: f["slo_p99_ms"] = r.choice([10, 100, 500])
        if r.random() < 0.3: f["kind"] = "write"
        if r.random() < 0.3: f["name"] = word(r)
        flows.append(f)
    edges = []
    eids = set()
    for i in range(r.randint(1, 2 * n)):
        a, b = r.choice(sids), r.choice(sids)
        mode = r.choice(['sync', 'async'])
        if os.environ.get('NO_BROKER_WORK'):
            i, j = sorted((sids.index(a), sids.index(b)))
            if i == j: continue
            a, b = sids[i], sids[j]
        e = {"from": a, "to": b, "mode": mode}
        while True:
            eid = text_id(r)
            if eid not in eids: break
        eids.add(eid); e["id"] = eid
        if mode == 'sync':
            e["protocol"] = r.choice(['http', 'grpc', 'graphql', 'tcp', 'http'])
            if r.random() < 0.5: e["timeout_ms"] = r.choice([50, 200, 1000])
            if r.random() < 0.4: e["retry"] = {"max_retries": r.randint(0, 3), "backoff_ms": r.choice([0, 10, 50]), **({"per_try_timeout_ms": 100} if r.random() < 0.5 else {})}
            if r.random() < 0.3: e["circuit_breaker"] = {"consecutive_failures": r.randint(1, 5), "open_ms": 1000}
            if r.random() < 0.2: e["max_in_flight"] = r.randint(1, 10)
            if r.random() < 0.3: e["idempotent"] = True
        else:
            e["protocol"] = r.choice(['amqp', 'kafka', 'sqs', 'nats'])
            if r.random() < 0.6: e["topic"] = word(r, (1, 20))
            if r.random() < 0.4: e["dead_letter"] = {"after_deliveries": r.randint(1, 5)}
        if r.random() < 0.4: e["order"] = r.randint(0, 3)
        if r.random() < 0.2: e["probability"] = r.choice([0.1, 0.5, 0.9])
        if r.random() < 0.2: e["flows"] = [r.choice(flows)["id"]]
        edges.append(e)
    # compensations
    for e in list(edges):
        if r.random() < 0.3 and "compensates" not in e:
            mode = r.choice(['sync', 'async'])
            later = [x for x in sids if sids.index(x) > sids.index(e["from"])] if os.environ.get('NO_BROKER_WORK') else sids
            if not later: continue
            c = {"id": text_id(r) + "-undo", "from": e["from"], "to": r.choice(later), "mode": mode, "compensates": e["id"]}
            if c["id"] in eids: continue
            eids.add(c["id"])
            c["protocol"] = r.choice(['http', 'grpc']) if mode == 'sync' else r.choice(['amqp', 'kafka'])
            if "flows" in e: c["flows"] = e["flows"]
            edges.append(c)
    faults = []
    for i in range(r.randint(0, 4)):
        kind = r.choice(['down', 'hang', 'slow', 'errors'])
        start = r.uniform(0, 20)
        ft = {"service": r.choice(sids), "kind": kind, "start_s": round(start, 3)}
        if r.random() < 0.7: ft["end_s"] = round(start + r.uniform(0.1, 10), 3)
        if kind == 'slow': ft["factor"] = r.choice([0.5, 1, 2, 10])
        if kind == 'errors': ft["error_rate"] = r.choice([0, 0.3, 1])
        faults.append(ft)

    if os.environ.get('NO_BROKER_WORK'):
        kinds = {s["id"]: s["kind"] for s in services}
        for f in flows:
            if kinds[f["entry"]] == 'broker':
                f["entry"] = next((s["id"] for s in services if s["kind"] != 'broker'), f["entry"])
        for s in services:
            if s["kind"] == 'broker' and any(e["mode"] == 'sync' and (e["from"] == s["id"] or e["to"] == s["id"]) for e in edges):
                s["kind"] = 'service'
    d = {"type": "syncopate", "version": 1, "name": word(r), "services": services, "edges": edges, "flows": flows, "faults": faults}
    return d
if __name__ == '__main__':
    seed = int(sys.argv[1])
    json.dump(gen(seed), open(sys.argv[2], 'w', encoding='utf-8'), ensure_ascii=False, indent=1)
