#!/usr/bin/env python3
"""Live latency: an observation sent to Castor -> the value arriving at a /castor/v1/stream
WebSocket subscriber, while bench/load/factory_load keeps the factory's telemetry flowing at
--rate points/s in the background (issue 4's goal: p99 <= 5 ms at 100,000 points/s).

The benchmark starts its own `castor serve` (plain HTTP on loopback, a temporary data directory),
creates the factory (factory_load --setup) and a probe twin, starts factory_load in rate mode as
a separate process, then sends one probe point at a time over a WebSocket ingest connection
(`probe seq=i`) at --probe-hz and times, with one monotonic clock, (a) the ingest answer (durable)
and (b) the stream message carrying the same value. Prints medians, p90, p99 and max of both,
and the background rate the load generator achieved. Not a ctest: run it by hand.

  python3 bench/load/live_latency.py --castor build/bin/castor --factory-load build/bench/factory_load \
      [--rate 100000] [--seconds 20] [--probe-hz 200]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
from event_peers import WebSocketReader  # noqa: E402  (a minimal RFC 6455 client)

API = "api-version=2023-10-31"
PROBE_MODEL = "dtmi:castor:bench:Probe;1"


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(name, ms):
    return (f"{name:<34} n={len(ms):>6}  median {statistics.median(ms):7.3f} ms  p90 {percentile(ms, 0.9):7.3f}"
            f"  p99 {percentile(ms, 0.99):7.3f}  max {max(ms):8.3f} ms")


def request(base, method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(base + path, method=method, data=body.encode() if body else None,
                                 headers={"Content-Type": ctype} if body else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--castor", default="build/bin/castor")
    ap.add_argument("--factory-load", default="build/bench/factory_load")
    ap.add_argument("--rate", type=int, default=100000, help="background points/s (0: none)")
    ap.add_argument("--seconds", type=float, default=20, help="how long to probe")
    ap.add_argument("--probe-hz", type=float, default=200)
    ap.add_argument("--batch-points", type=int, default=20000, help="points per background batch")
    ap.add_argument("--shards", type=int, default=0, help="castor serve --shards (0: its default)")
    a = ap.parse_args()

    root = tempfile.mkdtemp(prefix="castor-live-latency-")
    serve_log = open(os.path.join(root, "serve.log"), "w")
    cmd = [a.castor, "serve", "--data", os.path.join(root, "data"), "--listen", "127.0.0.1:0", "--insecure-local"]
    if a.shards:
        cmd += ["--shards", str(a.shards)]
    serve = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=serve_log)
    load = None
    try:
        line = serve.stdout.readline().decode().strip()
        if not line.startswith("Castor listening on "):
            sys.exit(f"castor serve did not start: {line!r}; see {serve_log.name}")
        base = line[len("Castor listening on "):].rstrip("/")
        port = int(base.rsplit(":", 1)[1])
        print(f"[1/4] castor serve at {base}; creating the factory and the probe twin", file=sys.stderr)
        subprocess.run([a.factory_load, "--port", str(port), "--setup", "--mode", "rate", "--rate", "1000",
                        "--seconds", "1"], check=True, stdout=subprocess.DEVNULL)
        model = {"@id": PROBE_MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
                 "contents": [{"@type": "Telemetry", "name": "seq", "schema": "double"}]}
        request(base, "POST", f"/models?{API}", json.dumps([model]))
        request(base, "PUT", f"/digitaltwins/probe?{API}", json.dumps({"$metadata": {"$model": PROBE_MODEL}}))

        if a.rate > 0:
            print(f"[2/4] background load: factory_load --mode rate --rate {a.rate}", file=sys.stderr)
            load = subprocess.Popen([a.factory_load, "--port", str(port), "--mode", "rate", "--rate", str(a.rate),
                                     "--batch-points", str(a.batch_points),
                                     "--seconds", str(int(a.seconds + 8))], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            time.sleep(3)  # let the load settle

        host = "127.0.0.1"
        stream = WebSocketReader(host, port, "/castor/v1/stream?twins=probe&names=seq")
        ingest = WebSocketReader(host, port, "/castor/v1/ingest?format=line")
        assert stream.accepted and ingest.accepted, (stream.head, ingest.head)
        assert stream.next()["type"] == "subscribed"

        sent = {}
        acked = {}
        seen = {}
        done = threading.Event()

        def read_stream():
            while not done.is_set():
                try:
                    m = stream.next(timeout=5)
                except Exception:
                    continue
                if m.get("type") == "value":
                    seen[int(m["value"])] = time.monotonic()

        def read_acks():
            while not done.is_set():
                try:
                    m = ingest.next(timeout=5)
                except Exception:
                    continue
                acked[m["seq"]] = (time.monotonic(), m["status"])

        threads = [threading.Thread(target=read_stream, daemon=True), threading.Thread(target=read_acks, daemon=True)]
        for t in threads:
            t.start()
        n = int(a.seconds * a.probe_hz)
        print(f"[3/4] probing: {n} points at {a.probe_hz:g} Hz for {a.seconds:g} s", file=sys.stderr)
        period = 1.0 / a.probe_hz
        start = time.monotonic()
        for i in range(1, n + 1):
            target = start + i * period
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[i] = time.monotonic()
            ingest.send(f"probe seq={i}")
            if i % int(a.probe_hz) == 0:
                print(f"\r      {i}/{n} sent, {len(seen)} seen", end="", file=sys.stderr, flush=True)
        deadline = time.monotonic() + 10
        while (len(seen) < n or len(acked) < n) and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()
        print("", file=sys.stderr)
        load_out = ""
        if load:
            load_out, _ = load.communicate(timeout=60)
        print("[4/4] results", file=sys.stderr)
        stream_ms = [(seen[i] - sent[i]) * 1000 for i in sent if i in seen]
        ack_ms = [(acked[i][0] - sent[i]) * 1000 for i in sent if i in acked and acked[i][1] == 202]
        print(f"live latency at {a.rate} points/s background in batches of {a.batch_points} ({os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}); probe {a.probe_hz:g} Hz for {a.seconds:g} s")
        print(summary("ingest sent -> stream subscriber", stream_ms))
        print(summary("ingest sent -> durable (WS ack)", ack_ms))
        missing = n - len(stream_ms)
        print(f"probe points not seen on the stream: {missing}")
        for l in load_out.strip().splitlines()[-3:]:
            print("background: " + l)
        stream.close()
        ingest.close()
        return 0 if missing == 0 else 1
    finally:
        if load and load.poll() is None:
            load.kill()
        serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
        serve_log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
