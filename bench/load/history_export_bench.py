#!/usr/bin/env python3
"""castor export history / import history throughput on ~1 M points, end to end.

Starts `castor serve --insecure-local` on a temporary data directory and a free loopback port,
creates --twins twins of a 4-telemetry model (float, integer, boolean, string), ingests
--points points spread over 3 UTC days, then, --runs times each:
  endpoint  every page of GET /castor/v1/history/export read by a bare Python client (the server's
            share: what any data-lake loader pays), as a reference for the CLI figures
  export    castor export history --format ndjson            (points/s)
  export    castor export history --format both --zstd       (points/s)
  import    castor import history into a fresh server with the same models and twins (points/s,
            strict durability: every batch fsync'd before its 202)
and prints the median of each and the ratio of the CLI export to the bare endpoint read.

  python3 bench/load/history_export_bench.py --castor build/bin/castor [--points 1000000]

Not a ctest: it takes minutes and its figures depend on the machine.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
import castor_harness  # noqa: E402

MODEL = "dtmi:bench:Machine;1"
SEC = 1_000_000_000
T0 = 1_795_392_000 * SEC  # 2026-11-23T00:00:00Z


def model():
    return [{"@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
        {"@type": "Telemetry", "name": "temp", "schema": "double"},
        {"@type": "Telemetry", "name": "count", "schema": "long"},
        {"@type": "Telemetry", "name": "on", "schema": "boolean"},
        {"@type": "Telemetry", "name": "state", "schema": "string"}]}]


def setup(server, twins):
    s, _, body = server.json("POST", "/models?api-version=2023-10-31", body=json.dumps(model()),
                             headers={"Content-Type": "application/json"})
    assert s == 201, body
    for i in range(twins):
        s, _, body = server.json("PUT", f"/digitaltwins/m{i:04d}?api-version=2023-10-31",
                                 body=json.dumps({"$metadata": {"$model": MODEL}}),
                                 headers={"Content-Type": "application/json"})
        assert s == 200, body


def load(server, twins, points):
    per_series = points // (twins * 4)
    step = 3 * 86_400 * SEC // per_series
    conn = server.connection(timeout=120)
    batch = []
    sent = 0

    def flush():
        nonlocal batch, sent
        if not batch:
            return
        s, _, body = server.request("POST", "/castor/v1/ingest", body="".join(batch),
                                    headers={"Content-Type": "application/x-ndjson"}, conn=conn)
        assert s == 202, body
        sent += len(batch)
        batch = []

    for k in range(per_series):
        ts = T0 + k * step
        for i in range(twins):
            t = f"m{i:04d}"
            batch.append(f'{{"twin":"{t}","name":"temp","ts":{ts},"value":{20 + (k % 1000) / 8}}}\n')
            batch.append(f'{{"twin":"{t}","name":"count","ts":{ts},"value":{k * 3}}}\n')
            batch.append(f'{{"twin":"{t}","name":"on","ts":{ts},"value":{"true" if k % 5 else "false"}}}\n')
            batch.append(f'{{"twin":"{t}","name":"state","ts":{ts},"value":"s{k % 7}"}}\n')
        if len(batch) >= 20_000:
            flush()
    flush()
    conn.close()
    return sent


def endpoint_read(server):
    conn = server.connection(timeout=300)
    token, rows = None, 0
    while True:
        q = {"from": T0, "to": T0 + 4 * 86_400 * SEC, "limit": 100_000}
        if token:
            q["continuationToken"] = token
        s, h, body = server.request("GET", "/castor/v1/history/export?" + urllib.parse.urlencode(q), conn=conn)
        assert s == 200, body[:200]
        rows += body.count(b"\n")
        token = h.get("castor-continuation-token")
        if not token:
            conn.close()
            return rows


def timed(fn):
    start = time.monotonic()
    n = fn()
    return n, time.monotonic() - start


def cli(castor, *args):
    p = subprocess.run([castor, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{args} exited {p.returncode}: {p.stderr}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--castor", default="build/bin/castor")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--twins", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    castor_harness.CASTOR = os.path.abspath(a.castor)
    root = tempfile.mkdtemp(prefix="castor-export-bench-")
    servers = []
    try:
        src = castor_harness.Server(os.path.join(root, "src"), "--insecure-local")
        servers.append(src)
        setup(src, a.twins)
        n, secs = timed(lambda: load(src, a.twins, a.points))
        print(f"setup: ingested {n} points in {secs:.1f} s ({n / secs:,.0f} points/s)")
        results = {"endpoint": [], "export ndjson": [], "export both+zstd": [], "import": []}
        rng = ["--from", str(T0), "--to", str(T0 + 4 * 86_400 * SEC)]
        for r in range(a.runs):
            rows, secs = timed(lambda: endpoint_read(src))
            assert rows == n, (rows, n)
            results["endpoint"].append(n / secs)
            out = os.path.join(root, f"nd{r}")
            _, secs = timed(lambda: cli(a.castor, "export", "history", "--url", src.url, *rng, "--out", out))
            results["export ndjson"].append(n / secs)
            out_z = os.path.join(root, f"z{r}")
            _, secs = timed(lambda: cli(a.castor, "export", "history", "--url", src.url, *rng,
                                        "--out", out_z, "--format", "both", "--zstd"))
            results["export both+zstd"].append(n / secs)
            if r == 0:
                sizes = {f: sum(os.path.getsize(os.path.join(dp, x)) for dp, _, fs in os.walk(f) for x in fs)
                         for f in (out, out_z)}
                print(f"sizes: ndjson {sizes[out] / 1e6:.1f} MB; ndjson+csv zstd {sizes[out_z] / 1e6:.1f} MB")
            dst = castor_harness.Server(os.path.join(root, f"dst{r}"), "--insecure-local")
            servers.append(dst)
            setup(dst, a.twins)
            p, secs = timed(lambda: cli(a.castor, "import", "history", out_z, "--url", dst.url, "--json"))
            report = json.loads(p.stdout)
            assert report["accepted"] == n and report["rejected"] == 0, report
            results["import"].append(n / secs)
            dst.terminate()
            servers.remove(dst)
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(out_z, ignore_errors=True)
        print(f"\n{n} points, {a.twins} twins x 4 series, 3 days, {a.runs} runs (median points/s)")
        med = {k: statistics.median(v) for k, v in results.items()}
        for k, v in med.items():
            print(f"  {k:18s} {v:12,.0f}")
        print(f"  ratio export ndjson / endpoint read: {med['export ndjson'] / med['endpoint']:.2f}")
    finally:
        for s in servers:
            s.terminate()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
