#!/usr/bin/env python3
"""Durability of ingest under kill -9: every acknowledged point is in history afterwards, once.

Twenty cycles on one data directory: start `castor serve` (with 1 to 3 shards, chunks of 64 or
4096 points, checkpoints every 1 s or 30 s), run producers
(concurrent clients posting InfluxDB line-protocol batches over keep-alive connections, each
recording which points were acknowledged with 202 and which batch was still in flight), SIGKILL
the server by PID at a random moment, restart it and check, for every series, that
  - every point acknowledged since the last check is there, with its value, and nothing that was
    never sent, and no point twice;
  - a batch that was in flight is there entirely or not at all (a batch is one commit per shard;
    each producer's batches stay on one twin, hence one shard);
  - the whole series still has exactly the points acknowledged so far (count and sum of values),
    so nothing older was lost or doubled by a later crash.
Usage: CASTOR_BIN=build/bin/castor ingest_durability_test.py [--cycles N] [--seed S]"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

from castor_harness import Server, TempData

API = "api-version=2023-10-31"
MODEL = "dtmi:castor:durability:Sensor;1"
PRODUCERS = 4
FIELDS = ("a", "b", "c")
T0 = 1_700_000_000_000_000_000


class Producer(threading.Thread):
    """Posts batches for its own twin until the server dies or `stop` is set."""

    def __init__(self, server, twin, state, rng, stop):
        super().__init__(daemon=True)
        self.server, self.twin, self.state, self.rng, self.stop = server, twin, state, rng, stop
        self.unexpected = []

    def run(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            while not self.stop.is_set():
                n = self.rng.randint(1, 400)
                first = self.state["next"]
                tss = [first + i for i in range(n)]
                self.state["next"] = first + n
                self.state["maybe"] = tss
                body = "\n".join(f"{self.twin} " + ",".join(f"{f}={ts % 100000}" for f in FIELDS) + f" {ts}"
                                 for ts in tss)
                try:
                    conn.request("POST", "/castor/v1/ingest", body=body, headers={"Content-Type": "text/plain"})
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException):
                    return  # killed: the batch stays "maybe"
                self.state["maybe"] = []
                if resp.status == 202:
                    self.state["acked"].extend(tss)
                elif resp.status != 503:
                    self.unexpected.append(f"{resp.status} {data[:200]!r}")
                    return
        finally:
            conn.close()


def setup(server):
    s, _, body = server.json("POST", f"/models?{API}", headers={"Content-Type": "application/json"},
                             body=json.dumps([{"@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
                                               "contents": [{"@type": "Telemetry", "name": f, "schema": "double"}
                                                            for f in FIELDS]}]))
    assert s == 201, body
    for p in range(PRODUCERS):
        s, _, body = server.json("PUT", f"/digitaltwins/s{p}?{API}", headers={"Content-Type": "application/json"},
                                 body=json.dumps({"$metadata": {"$model": MODEL}}))
        assert s == 200, body


def get_history(server, twin, field, **params):
    path = "/castor/v1/history?" + urllib.parse.urlencode({"twin": twin, "name": field, **params})
    return server.json("GET", path)


def verify(server, states, failures):
    """Exact check of the points sent since the previous verification; count and sum of all."""
    checked = 0
    for twin, st in states.items():
        acked = set(st["acked"])
        maybe = set(st["maybe"])
        since = st["verified_to"]
        for f in FIELDS:
            s, _, h = get_history(server, twin, f, **{"from": since, "limit": 10_000_000})
            if s != 200:
                failures.append(f"{twin}/{f}: GET history {s} {h}")
                continue
            tss = [p[0] for p in h["points"]]
            if len(tss) != len(set(tss)):
                failures.append(f"{twin}/{f}: duplicate points")
            found = set(tss)
            recent = {t for t in acked if t >= since}
            missing = recent - found
            if missing:
                failures.append(f"{twin}/{f}: {len(missing)} acknowledged points missing, e.g. {sorted(missing)[:3]}")
            unknown = found - acked - maybe
            if unknown:
                failures.append(f"{twin}/{f}: {len(unknown)} points never sent, e.g. {sorted(unknown)[:3]}")
            got_maybe = found & maybe
            if got_maybe and got_maybe != maybe:
                failures.append(f"{twin}/{f}: an in-flight batch is there in part ({len(got_maybe)} of {len(maybe)})")
            bad = [p for p in h["points"] if p[1] != p[0] % 100000]
            if bad:
                failures.append(f"{twin}/{f}: wrong values, e.g. {bad[:2]}")
            checked += len(found)
            # Everything older: still there, once (count and sum over the whole series).
            total = acked | got_maybe
            s, _, h = get_history(server, twin, f, agg="count,sum")
            want = [len(total), float(sum(t % 100000 for t in total))]
            if s != 200 or [h["points"][0][1], float(h["points"][0][2] or 0)] != want:
                failures.append(f"{twin}/{f}: count/sum {h['points'] if s == 200 else h} != {want}")
        # What the restart kept of the in-flight batch now counts as acknowledged.
        st["acked"].extend(sorted(maybe & found))
        st["maybe"] = []
        st["verified_to"] = st["next"]
    return checked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"seed {args.seed}", flush=True)
    tmp = TempData()
    states = {f"s{p}": {"next": T0 + p * 10**15, "verified_to": T0 + p * 10**15, "acked": [], "maybe": []}
              for p in range(PRODUCERS)}
    failures = []
    server = None
    try:
        for cycle in range(args.cycles):
            # Small chunks and frequent checkpoints in some cycles, so kills also land during seals
            # and checkpoints, not only between WAL records.
            server = Server(tmp.data, "--insecure-local", "--shards", str(rng.choice([1, 2, 3])),
                            "--history-chunk-points", str(rng.choice([64, 4096])),
                            "--history-checkpoint-interval", rng.choice(["1s", "30s"]))
            if cycle == 0:
                setup(server)
            else:
                checked = verify(server, states, failures)
                if failures:
                    break
                print(f"cycle {cycle}: {checked} points verified after kill -9", flush=True)
            stop = threading.Event()
            producers = [Producer(server, twin, st, random.Random(rng.random()), stop) for twin, st in states.items()]
            for p in producers:
                p.start()
            time.sleep(rng.uniform(0.3, 2.0))
            server.kill()
            stop.set()
            for p in producers:
                p.join(timeout=15)
                failures.extend(p.unexpected)
            if failures:
                break
        if not failures:
            server = Server(tmp.data, "--insecure-local")
            checked = verify(server, states, failures)
            acked = sum(len(st["acked"]) for st in states.values())
            print(f"final: {checked} points verified, {acked} points acknowledged per field", flush=True)
            server.stop_cleanly(unittest_stub())
    finally:
        if server:
            server.kill()
        if failures:
            print("FAILED (seed %d):\n  " % args.seed + "\n  ".join(failures[:20]), flush=True)
            print(server.log()[-3000:] if server else "")
        tmp.cleanup()
    return 1 if failures else 0


def unittest_stub():
    class Stub:
        def assertEqual(self, a, b, msg=None):
            if a != b:
                raise AssertionError(msg)
    return Stub()


if __name__ == "__main__":
    sys.exit(main())
