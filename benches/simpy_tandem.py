"""The 10-station M/M/2 tandem at utilization 0.7 in SimPy, for comparison with `cargo bench --bench sim`.

Usage: python simpy_tandem.py ARRIVALS. Prints arrivals simulated per second of wall time.
"""
import random
import sys
import time

import simpy

STATIONS = 10
WORKERS = 2
ARRIVAL_RATE = 140.0  # per second
SERVICE_MEAN = 0.010  # seconds


def job(env, stations, rng, sojourns):
    for index, station in enumerate(stations):
        arrived = env.now
        with station.request() as slot:
            yield slot
            yield env.timeout(rng.expovariate(1.0 / SERVICE_MEAN))
        sojourns[index] += env.now - arrived


def source(env, stations, rng, arrivals, sojourns):
    for _ in range(arrivals):
        yield env.timeout(rng.expovariate(ARRIVAL_RATE))
        env.process(job(env, stations, rng, sojourns))


def main():
    arrivals = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(1)
    env = simpy.Environment()
    stations = [simpy.Resource(env, capacity=WORKERS) for _ in range(STATIONS)]
    sojourns = [0.0] * STATIONS
    env.process(source(env, stations, rng, arrivals, sojourns))
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    print(f"simpy tandem M/M/2 x10 at 0.7: {arrivals} arrivals in {elapsed:.2f} s: {arrivals / elapsed:.0f} requests/s; "
          f"station 1 mean sojourn {sojourns[0] / arrivals * 1000:.2f} ms")


if __name__ == "__main__":
    main()
