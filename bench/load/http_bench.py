#!/usr/bin/env python3
"""HTTP benchmark of the ADT API: the real `castor serve` under Debian's wrk.

Starts `castor serve` on a temporary data directory and a free loopback port, uploads a
20-property model, creates N twins through the API, then runs wrk (keep-alive, Lua scripts in
bench/load/wrk/) for two request classes:
  get    GET /digitaltwins/{random twin}?api-version=2023-10-31            (expects 200)
  patch  PATCH one property of a random twin (application/json-patch+json) (expects 204;
         strict durability: acknowledged = fsync'd twin write and audit line)
Each class runs --runs times (--duration seconds each) at each number of keep-alive connections in
--connections (default 64, 128 and 256); the table gives, per class and connection count, the
median req/s and the p50/p99 latency of the median run, and the ratio to the targets and anchors.
Several counts because a durable PATCH waits for its group's fsync: with a fixed number of clients
its throughput is clients / latency, so 64 and 128 clients leave the CPU idle during the fsyncs
(about a fifth of it on 2 cores) and 256 fill it; the latency columns show what that costs. A run with any
non-2xx answer or socket error is reported as INVALID. Both transports are measured when asked:
plain HTTP (`--insecure-local`, no token) and HTTPS with a bearer token.

  python3 bench/load/http_bench.py --castor build/bin/castor [--twins 10000] [--duration 10]

Not a ctest: it takes minutes and its figures depend on the machine.
"""
import argparse
import concurrent.futures
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import castor_harness  # noqa: E402  (the integration tests' server driver)

API = "?api-version=2023-10-31"
MODEL_ID = "dtmi:bench:Machine;1"
PREFIX = "machine-"
CLASSES = {
    # name: (Lua script, target req/s, [(anchor name, anchor req/s), ...])
    "get": ("get_twin.lua", 100_000, [("ADT read limit", 1_000)]),
    "patch": ("patch_twin.lua", 50_000, [("ADT patch limit", 1_000), ("Eclipse Ditto", 800)]),
}


def log(msg):
    print(f"[http_bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def model():
    """A 20-property interface: doubles, integers, strings and booleans, as machines have."""
    contents = [{"@type": "Property", "name": "temperature", "schema": "double", "writable": True}]
    kinds = ["double", "integer", "string", "boolean"]
    for i in range(1, 20):
        contents.append({"@type": "Property", "name": f"p{i:02d}", "schema": kinds[i % 4],
                         "writable": True})
    return {"@id": MODEL_ID, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "displayName": "Bench machine", "contents": contents}


def twin_body(i):
    body = {"$metadata": {"$model": MODEL_ID}, "temperature": 20.5 + i % 50}
    samples = {"double": 1.25 * i, "integer": i, "string": f"serial-{i:06d}", "boolean": i % 2 == 0}
    for p in model()["contents"][1:]:
        body[p["name"]] = samples[p["schema"]]
    return json.dumps(body).encode()


def check(status, expected, what, body):
    if status not in expected:
        raise SystemExit(f"{what} failed: HTTP {status}: {body[:300]!r}")


def populate(server, token, twins, workers=16):
    """Uploads the model and PUTs `twins` twins over `workers` keep-alive connections."""
    status, _, body = server.request("POST", "/models" + API, token=token,
                                     body=json.dumps([model()]).encode(),
                                     headers={"Content-Type": "application/json"})
    check(status, (201,), "model upload", body)
    counter = iter(range(twins))
    lock = threading.Lock()
    done = [0]
    start = time.monotonic()

    def worker():
        conn = server.connection(timeout=60)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            st, _, b = server.request("PUT", f"/digitaltwins/{PREFIX}{i:06d}{API}", token=token,
                                      body=twin_body(i), conn=conn,
                                      headers={"Content-Type": "application/json"})
            check(st, (200,), f"PUT twin {i}", b)
            with lock:
                done[0] += 1
                if done[0] % 2000 == 0 or done[0] == twins:
                    log(f"  created {done[0]:,}/{twins:,} twins")
        conn.close()

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for f in [pool.submit(worker) for _ in range(workers)]:
            f.result()
    log(f"  {twins:,} twins in {time.monotonic() - start:.1f} s")


def cpu_seconds(pid):
    """User + system CPU time of a process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_counters(server, token):
    """The castor_store_* counters of /metrics (group commits of the twin store)."""
    status, _, body = server.request("GET", "/metrics", token=token)
    check(status, (200,), "GET /metrics", body)
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("castor_store_") and " " in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def run_wrk(args, server, script, token, connections):
    cmd = [args.wrk, f"-t{args.wrk_threads}", f"-c{connections}", f"-d{args.duration}s",
           "--timeout", "10s", "-s", os.path.join(HERE, "wrk", script), server.url.rstrip("/"),
           "--", str(args.twins), PREFIX, token or ""]
    store = store_counters(server, token)
    server_cpu = cpu_seconds(server.proc.pid)
    wrk_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 120)
    server_cpu = cpu_seconds(server.proc.pid) - server_cpu
    store = {k: v - store.get(k, 0.0) for k, v in store_counters(server, token).items()}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = after.ru_utime + after.ru_stime - wrk_cpu.ru_utime - wrk_cpu.ru_stime
    lines = [l for l in proc.stdout.splitlines() if l.startswith("WRK_RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    r = json.loads(lines[-1][len("WRK_RESULT "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    # CPU per request: steadier than req/s on a loaded machine, and says what a free core gives.
    r["server_cpu_us"] = server_cpu * 1e6 / max(1, r["requests"])
    r["wrk_cpu_us"] = wrk_cpu * 1e6 / max(1, r["requests"])
    # The store's group commits during the run (strict: one fsync each): how many requests shared
    # one, how long one took with its fsync, and how busy the committer was.
    syncs = store.get("castor_store_wal_syncs_total", 0.0)
    r["group_size"] = r["requests"] / syncs if syncs else 0.0
    writes = store.get("castor_store_group_writes_total", 0.0)
    r["batches_per_group"] = store.get("castor_store_batches_committed_total", 0.0) / writes if writes else 0.0
    r["fsync_busy"] = store.get("castor_store_group_write_seconds_total", 0.0) / (r["duration_us"] / 1e6)
    r["group_write_ms"] = (store.get("castor_store_group_write_seconds_total", 0.0) * 1e3 / syncs
                           if syncs else 0.0)
    r["bad"] = (r["unexpected_status"] + r["connect_errors"] + r["read_errors"] +
                r["write_errors"] + r["timeouts"])
    return r


def measure(args, server, token, transport):
    rows = []
    for name, connections in ((n, c) for n in args.classes for c in args.connections):
        script, target, anchors = CLASSES[name]
        runs = []
        for k in range(args.runs):
            r = run_wrk(args, server, script, token, connections)
            log(f"  {transport} {name} -c{connections} run {k + 1}/{args.runs}: {r['rps']:,.0f} req/s, "
                f"p50 {r['p50_us'] / 1000:.2f} ms, p99 {r['p99_us'] / 1000:.2f} ms, "
                f"castor CPU {r['server_cpu_us']:.1f} us/req, wrk CPU {r['wrk_cpu_us']:.1f} us/req, "
                f"errors {r['bad']}" +
                (f", {r['group_size']:.1f} requests and {r['batches_per_group']:.1f} batches per fsync, group write with fsync {r['group_write_ms']:.2f} ms "
                 f"(busy {100 * r['fsync_busy']:.0f}%)"
                 if r["group_size"] else ""))
            runs.append(r)
        by_rps = sorted(runs, key=lambda r: r["rps"])
        median = by_rps[len(by_rps) // 2]
        rows.append({"transport": transport, "class": name, "connections": connections,
                     "rps": statistics.median(r["rps"] for r in runs),
                     "p50_ms": median["p50_us"] / 1000, "p99_ms": median["p99_us"] / 1000,
                     "server_cpu_us": statistics.median(r["server_cpu_us"] for r in runs),
                     "wrk_cpu_us": statistics.median(r["wrk_cpu_us"] for r in runs),
                     "runs": [round(r["rps"]) for r in runs],
                     "valid": all(r["bad"] == 0 for r in runs),
                     "errors": sum(r["bad"] for r in runs), "target": target,
                     "anchors": anchors})
    return rows


def serve(args, tmp, transport):
    flags = ["--io-threads", str(args.io_threads)]
    if args.shards:
        flags += ["--shards", str(args.shards)]
    env = dict(os.environ, CASTOR_ACCESS_LOG="true" if args.access_log else "false")
    tokens = (None, None)  # (admin for the set-up, operator for the load)
    if transport == "plain":
        flags.append("--insecure-local")
    else:
        tokens = tuple(castor_harness.castor("token", "create", "--role", role, "--name",
                                             f"bench-{role}", data=tmp.data).stdout.strip()
                       for role in ("admin", "operator"))
    server = castor_harness.Server(tmp.data, *flags, env=env, timeout=120)
    return server, tokens


def bench_transport(args, transport):
    tmp = castor_harness.TempData()
    server = None
    try:
        log(f"{transport}: starting castor serve ({args.castor})")
        server, (admin, operator) = serve(args, tmp, transport)
        log(f"{transport}: listening on {server.url}; creating the model and {args.twins:,} twins")
        populate(server, admin, args.twins)
        return measure(args, server, operator, transport)
    finally:
        if server:
            rc, _ = server.terminate(timeout=60)
            if rc != 0:
                log(f"castor serve exited {rc}:\n{server.log()[-3000:]}")
            server.kill()
        tmp.cleanup()


def print_table(rows, args):
    load = os.getloadavg()
    print(f"\nHTTP API benchmark: castor serve, {args.twins:,} twins of 20 properties, "
          f"wrk -t{args.wrk_threads} -c{'/'.join(map(str, args.connections))} -d{args.duration}s, {args.runs} runs "
          f"per class, io_threads {args.io_threads or 'half the CPUs'}, shards {args.shards or 'one per CPU'}, "
          f"access log {'on' if args.access_log else 'off'}")
    print(f"machine: {os.cpu_count()} cores (wrk runs on the same cores), load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("transport: plain = HTTP with --insecure-local (no token); tls = HTTPS with a bearer "
          "token (operator role)")
    print(f"{'transport':<9} {'class':<6} {'conns':>5} {'req/s median':>13} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'target':>9} {'castor CPU/req':>14} {'wrk CPU/req':>11}  ratios to anchors"
          "                         runs")
    for r in rows:
        ratios = ", ".join(f"{r['rps'] / v:,.0f}x {n} ({v:,}/s)" for n, v in r["anchors"])
        flag = "" if r["valid"] else f"  INVALID ({r['errors']} non-2xx or socket errors)"
        met = "met" if r["rps"] >= r["target"] else "MISSED"
        print(f"{r['transport']:<9} {r['class']:<6} {r['connections']:>5} {r['rps']:>13,.0f} {r['p50_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {met:>6} {r['target'] // 1000}k {r['server_cpu_us']:>11.1f} us "
              f"{r['wrk_cpu_us']:>8.1f} us  {ratios:<40} "
              f"{r['runs']}{flag}")
    print("BENCH_JSON " + json.dumps({"rows": rows, "cores": os.cpu_count(), "load": load}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--castor", default=os.path.join(ROOT, "build", "bin", "castor"))
    p.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    p.add_argument("--twins", type=int, default=10_000)
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--runs", type=int, default=3, help="wrk runs per class")
    p.add_argument("--connections", default="64,128,256",
                   help="wrk keep-alive connections; a comma list runs every class at each")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--io-threads", type=int, default=0,
                   help="castor serve --io-threads (0: the server's default, half the CPUs)")
    p.add_argument("--shards", type=int, default=0, help="castor serve --shards (0: default)")
    p.add_argument("--access-log", action="store_true", help="keep the per-request log line")
    p.add_argument("--transports", default="plain,tls", help="plain, tls or both")
    p.add_argument("--classes", default="get,patch", help="get, patch or both")
    args = p.parse_args()
    args.castor = os.path.abspath(args.castor)
    args.classes = [c for c in args.classes.split(",") if c]
    try:
        args.connections = [int(c) for c in args.connections.split(",") if c]
    except ValueError:
        p.error(f"--connections takes numbers separated by commas, e.g. 64,128; got {args.connections!r}")
    if not args.connections or min(args.connections) < 1:
        p.error("--connections needs at least one positive number")
    for c in args.classes:
        if c not in CLASSES:
            p.error(f"unknown class {c!r}; use get, patch")
    transports = [t for t in args.transports.split(",") if t]
    for t in transports:
        if t not in ("plain", "tls"):
            p.error(f"unknown transport {t!r}; use plain, tls")
    if not os.access(args.castor, os.X_OK):
        p.error(f"no castor binary at {args.castor}; build it or pass --castor")
    if not os.access(args.wrk, os.X_OK):
        p.error("wrk is not installed; run scripts/bootstrap.sh (Debian package wrk)")
    castor_harness.CASTOR = args.castor
    log(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    rows = []
    for t in transports:
        rows += bench_transport(args, t)
    print_table(rows, args)
    return 0 if all(r["valid"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
