#!/usr/bin/env python3
"""Durability under kill -9: an acknowledged write survives SIGKILL, and the store stays consistent.

Twenty cycles on one data directory: start `castor serve`, run a write load (concurrent clients
creating twins, patching them and linking them with relationships, each recording what was
acknowledged with 2xx and what was still in flight), SIGKILL the server by PID at a random moment,
restart it and check that
  - every acknowledged twin and relationship exists, and every twin holds its last acknowledged
    value or the one later write of the same client that was in flight when the server died;
  - writes that were refused (non-2xx) are absent;
  - castor_twins / castor_relationships in /metrics equal the twins and relationships found, and
    every relationship is visible from both ends (relationships and incomingrelationships);
  - every acknowledged write has exactly one line in audit.log (matched by its traceparent).
Earlier cycles' state is re-checked in full at the end. Usage: CASTOR_BIN=build/bin/castor
durability_test.py [--cycles N] [--seed S]"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.parse

from castor_harness import Server, TempData

API = "api-version=2023-10-31"
MODEL = "dtmi:castor:durability:Thing;1"
WRITERS = 6
BUDGET_S = 75.0  # for all cycles; the load per cycle shrinks when a cycle runs slow


def q(twin_id):
    return urllib.parse.quote(twin_id, safe="")


class Client:
    """One keep-alive HTTP connection; raises ConnectionError when the server is gone."""

    def __init__(self, server, timeout=10):
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)

    def call(self, method, path, body=None, headers=None):
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        sep = "&" if "?" in path else "?"
        try:
            self.conn.request(method, f"{path}{sep}{API}", body=None if body is None else json.dumps(body),
                              headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            raise ConnectionError(str(e)) from e
        return resp.status, json.loads(data) if data else None

    def close(self):
        self.conn.close()


class World:
    """What the clients know: for each twin and relationship, what was acknowledged or attempted."""

    def __init__(self):
        self.lock = threading.Lock()
        self.twins = {}       # id -> {"exists": True|None(unknown), "seq": acked, "maybe": in-flight seq}
        self.refused = set()  # twin ids whose creation got a non-2xx answer
        self.rels = {}        # (source, rel id) -> {"target": t, "exists": True|None}
        self.acked = 0         # acknowledged writes verified after a restart
        self.pending_acks = 0  # acknowledged in the running cycle
        self.acked_traces = set()  # trace ids of acknowledged writes (each needs its audit line)


class Writer(threading.Thread):
    """Creates, patches and links its own twins until the server dies or `stop` is set."""

    def __init__(self, server, world, name, cycle, rng, stop):
        super().__init__(daemon=True)
        self.server, self.world, self.name, self.cycle = server, world, name, cycle
        self.rng, self.stop = rng, stop
        self.created = 0
        self.unexpected = []

    def traced(self, seq, headers=None):
        """Headers with a traceparent unique to this write, whose trace id the audit line carries."""
        trace = f"{int(self.name[1:]):08x}{seq:024x}"
        return trace, dict(headers or {}, traceparent=f"00-{trace}-00f067aa0ba902b7-01")

    def own_twins(self):
        with self.world.lock:
            return [t for t, s in self.world.twins.items() if t.startswith(self.name + "-") and s["exists"]]

    def run(self):
        client = Client(self.server)
        seq = self.cycle * 1_000_000
        try:
            while not self.stop.is_set():
                seq += 1
                mine = self.own_twins()
                r = self.rng.random()
                if not mine or r < 0.2:
                    self.create(client, seq)
                elif r < 0.85 or len(mine) < 2:
                    self.patch(client, self.rng.choice(mine), seq)
                else:
                    self.link(client, *self.rng.sample(mine, 2), seq)
        except ConnectionError:
            pass  # the server was killed: whatever was in flight stays "maybe"
        except Exception as e:  # noqa: BLE001 - reported as a test failure, not a thread traceback
            self.unexpected.append(f"{type(e).__name__}: {e}")
        finally:
            client.close()

    def create(self, client, seq):
        twin_id = f"{self.name}-c{self.cycle}-{self.created}"
        self.created += 1
        with self.world.lock:
            self.world.twins[twin_id] = {"exists": None, "seq": None, "maybe": seq}
        trace, headers = self.traced(seq, {"If-None-Match": "*"})
        status, body = client.call("PUT", f"/digitaltwins/{q(twin_id)}",
                                   {"$metadata": {"$model": MODEL}, "writer": self.name, "seq": seq,
                                    "note": f"{self.name}:{seq}"}, headers)
        with self.world.lock:
            state = self.world.twins[twin_id]
            if 200 <= status < 300:
                state.update(exists=True, seq=seq, maybe=None)
                self.world.pending_acks += 1
                self.world.acked_traces.add(trace)
            else:
                self.note_refusal(status, body)
                del self.world.twins[twin_id]
                self.world.refused.add(twin_id)

    def patch(self, client, twin_id, seq):
        with self.world.lock:
            self.world.twins[twin_id]["maybe"] = seq
        trace, headers = self.traced(seq)
        status, body = client.call("PATCH", f"/digitaltwins/{q(twin_id)}",
                                   [{"op": "replace", "path": "/seq", "value": seq},
                                    {"op": "replace", "path": "/note", "value": f"{self.name}:{seq}"}],
                                   headers)
        with self.world.lock:
            state = self.world.twins[twin_id]
            state["maybe"] = None
            if 200 <= status < 300:
                state["seq"] = seq
                self.world.pending_acks += 1
                self.world.acked_traces.add(trace)
            else:
                self.note_refusal(status, body)

    def link(self, client, source, target, seq):
        rel_id = f"r{seq}"
        key = (source, rel_id)
        with self.world.lock:
            self.world.rels[key] = {"target": target, "exists": None, "cycle": self.cycle}
        trace, headers = self.traced(seq)
        status, body = client.call("PUT", f"/digitaltwins/{q(source)}/relationships/{rel_id}",
                                   {"$relationshipName": "link", "$targetId": target, "since": seq},
                                   headers)
        with self.world.lock:
            if 200 <= status < 300:
                self.world.rels[key]["exists"] = True
                self.world.pending_acks += 1
                self.world.acked_traces.add(trace)
            else:
                self.note_refusal(status, body)
                self.world.rels[key]["exists"] = False

    def note_refusal(self, status, body):
        # 503 (overload, audit back-pressure) is a legitimate refusal; anything else is a bug in the
        # load or the server. Either way the write must not be visible after the restart.
        if status != 503:
            self.unexpected.append(f"{status} {body}")


def metric(server, name):
    status, _, body = server.request("GET", "/metrics")
    assert status == 200, status
    m = re.search(rf"^{name}(?:{{}})? ([0-9.e+]+)$", body.decode(), re.M)
    assert m, f"{name} not in /metrics"
    return int(float(m.group(1)))


def list_all(client, path):
    items, url = [], path
    while True:
        status, body = client.call("GET", url)
        assert status == 200, (path, status, body)
        items += body["value"]
        if not body.get("nextLink"):
            return items
        parsed = urllib.parse.urlparse(body["nextLink"])
        url = parsed.path + "?" + "&".join(p for p in parsed.query.split("&") if not p.startswith("api-version="))


class Checker:
    def __init__(self, server, world):
        self.server, self.world = server, world
        self.client = Client(server)
        self.failures = []

    def fail(self, msg):
        self.failures.append(msg)

    def twins(self, ids):
        """Checks and settles the twins `ids`: unknowns become known, in-flight values resolved."""
        for twin_id in ids:
            state = self.world.twins[twin_id]
            status, body = self.client.call("GET", f"/digitaltwins/{q(twin_id)}")
            if status == 404:
                if state["exists"]:
                    self.fail(f"acknowledged twin {twin_id} is missing after kill -9")
                else:
                    del self.world.twins[twin_id]  # its creation was in flight and did not commit
                continue
            if status != 200:
                self.fail(f"GET {twin_id}: {status} {body}")
                continue
            allowed = {v for v in (state["seq"], state["maybe"]) if v is not None}
            if body.get("seq") not in allowed:
                self.fail(f"twin {twin_id}: seq {body.get('seq')}, acknowledged {state['seq']}, "
                          f"in flight {state['maybe']}")
            writer = twin_id.split("-", 1)[0]
            if body.get("note") != f"{writer}:{body.get('seq')}":
                self.fail(f"twin {twin_id}: note {body.get('note')!r} does not match seq {body.get('seq')} "
                          "(a patch was applied partly)")
            state.update(exists=True, seq=body.get("seq"), maybe=None)

    def refused(self):
        for twin_id in sorted(self.world.refused):
            status, _ = self.client.call("GET", f"/digitaltwins/{q(twin_id)}")
            if status != 404:
                self.fail(f"twin {twin_id} exists though its creation was refused")
        self.world.refused.clear()

    def relationships(self, twin_ids):
        """Both ends of every relationship of `twin_ids` agree with each other and with the world."""
        out = {t: list_all(self.client, f"/digitaltwins/{q(t)}/relationships") for t in twin_ids}
        inc = {t: list_all(self.client, f"/digitaltwins/{q(t)}/incomingrelationships") for t in twin_ids}
        seen = set()
        for source, rels in out.items():
            for r in rels:
                key = (source, r["$relationshipId"])
                seen.add(key)
                if r["$sourceId"] != source:
                    self.fail(f"relationship {key} lists source {r['$sourceId']}")
                known = self.world.rels.get(key)
                if known is None or known["exists"] is False:
                    self.fail(f"relationship {key} exists but was never acknowledged or in flight")
                    continue
                if known["target"] != r["$targetId"]:
                    self.fail(f"relationship {key} points at {r['$targetId']}, not {known['target']}")
                if r["$targetId"] in inc:
                    back = [i for i in inc[r["$targetId"]] if i["$sourceId"] == source
                            and i["$relationshipId"] == r["$relationshipId"]]
                    if len(back) != 1:
                        self.fail(f"relationship {key} is not in {r['$targetId']}'s incomingrelationships")
        for target, rels in inc.items():
            for i in rels:
                key = (i["$sourceId"], i["$relationshipId"])
                if i["$sourceId"] in out and key not in seen:
                    self.fail(f"incoming {key} of {target} has no outgoing relationship at its source")
                elif i["$sourceId"] not in out and key not in self.world.rels:
                    self.fail(f"incoming {key} of {target} was never created")
        for key, known in list(self.world.rels.items()):
            if key[0] not in out:
                continue
            if known["exists"] and key not in seen:
                self.fail(f"acknowledged relationship {key} is missing after kill -9")
            elif known["exists"] is None:
                if key in seen:
                    known["exists"] = True
                else:
                    del self.world.rels[key]
            elif known["exists"] is False:
                del self.world.rels[key]

    def counts(self):
        twins = metric(self.server, "castor_twins")
        known = sum(1 for s in self.world.twins.values() if s["exists"])
        if twins != known:
            self.fail(f"/metrics castor_twins is {twins}, but {known} twins exist")
        rels = metric(self.server, "castor_relationships")
        known_rels = sum(1 for s in self.world.rels.values() if s["exists"])
        if rels != known_rels:
            self.fail(f"/metrics castor_relationships is {rels}, but {known_rels} relationships exist")

    def close(self):
        self.client.close()


def verify(server, world, cycle, touched, everything=False):
    """Checks after a restart; returns the failures."""
    checker = Checker(server, world)
    try:
        ids = sorted(world.twins) if everything else sorted(t for t in touched if t in world.twins)
        checker.twins(ids)
        checker.refused()
        with world.lock:
            endpoints = {t for t in touched if t in world.twins}
            for (s, _), r in world.rels.items():
                if everything or s in touched or r["target"] in touched or r["cycle"] == cycle:
                    endpoints |= {s, r["target"]}
        checker.relationships(sorted(t for t in endpoints if t in world.twins))
        checker.counts()
        return checker.failures
    finally:
        checker.close()


def audit_failures(data, world):
    """Every acknowledged write has exactly one audit line, with a 2xx status."""
    seen = {}
    with open(os.path.join(data, "audit.log")) as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by the kill (terminated at the restart)
            seen.setdefault(record["trace_id"], []).append(record["status"])
    failures = []
    for trace in sorted(world.acked_traces):
        statuses = seen.get(trace, [])
        if len(statuses) != 1 or not 200 <= statuses[0] < 300:
            failures.append(f"acknowledged write with trace id {trace} has audit lines {statuses}")
    return failures


def setup(server):
    client = Client(server)
    try:
        model = {"@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
            {"@type": "Property", "name": "writer", "schema": "string"},
            {"@type": "Property", "name": "seq", "schema": "long", "writable": True},
            {"@type": "Property", "name": "note", "schema": "string", "writable": True},
            {"@type": "Relationship", "name": "link", "target": MODEL,
             "properties": [{"@type": "Property", "name": "since", "schema": "long"}]}]}
        status, body = client.call("POST", "/models", [model])
        assert status == 201, (status, body)
    finally:
        client.close()


def run(cycles, seed):
    rng = random.Random(seed)
    tmp = TempData()
    world = World()
    server = None
    started = time.monotonic()
    try:
        server = Server(tmp.data, "--insecure-local", "--access-log=false")
        setup(server)
        for cycle in range(cycles):
            left = BUDGET_S - (time.monotonic() - started)
            load_max = max(0.15, min(2.0, left / (cycles - cycle) - 1.2))
            stop = threading.Event()
            writers = [Writer(server, world, f"w{i}", cycle, random.Random(rng.random()), stop)
                       for i in range(WRITERS)]
            for w in writers:
                w.start()
            # Kill at a random moment once the load is under way (a few writes acknowledged), so a
            # slow start on a busy machine never makes a cycle without load.
            load_start = time.monotonic()
            deadline = load_start + 10
            while world.pending_acks < 10 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert world.pending_acks >= 10, f"cycle {cycle + 1}: fewer than 10 writes acknowledged in 10 s"
            first_acks = time.monotonic() - load_start
            time.sleep(rng.uniform(0.0, load_max))
            os.kill(server.proc.pid, signal.SIGKILL)  # mid-load, by PID
            stop.set()
            server.proc.wait()
            server.kill()
            for w in writers:
                w.join(timeout=15)
                assert not w.is_alive(), f"writer {w.name} hangs after the kill"
            unexpected = [u for w in writers for u in w.unexpected]
            assert not unexpected, f"cycle {cycle + 1}: unexpected answers or errors: {unexpected[:5]}"
            acks = world.pending_acks
            world.pending_acks = 0
            touched = {t for t in world.twins if f"-c{cycle}-" in t or world.twins[t]["maybe"] is not None}
            touched |= {t for t, s in world.twins.items() if s["seq"] is not None and s["seq"] > cycle * 1_000_000}
            t0 = time.monotonic()
            server = Server(tmp.data, "--insecure-local", "--access-log=false")
            restart = time.monotonic() - t0
            failures = verify(server, world, cycle, touched, everything=cycle == cycles - 1)
            failures += audit_failures(tmp.data, world)
            print(f"cycle {cycle + 1:2d}: {acks:5d} writes acknowledged (first 10 after {first_acks * 1000:.0f} ms), "
                  f"restart {restart:.2f} s, "
                  f"{sum(1 for s in world.twins.values() if s['exists'])} twins, "
                  f"{sum(1 for s in world.rels.values() if s['exists'])} relationships", flush=True)
            assert not failures, f"cycle {cycle + 1}:\n  " + "\n  ".join(failures[:30])
            world.acked += acks
        rc, _ = server.terminate()
        assert rc == 0, f"castor exited {rc} on SIGTERM:\n{server.log()[-3000:]}"
        print(f"verified {world.acked} acknowledged writes over {cycles} kill -9 cycles "
              f"in {time.monotonic() - started:.1f} s (seed {seed})")
        return 0
    except Exception as e:  # noqa: BLE001 - any failure keeps the data directory for a post-mortem
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        if server:
            print("---- castor log (last 30 lines) ----\n" + "\n".join(server.log().splitlines()[-30:]),
                  file=sys.stderr)
        print(f"(seed {seed}; data kept in {tmp.root})", file=sys.stderr)
        tmp = None
        return 1
    finally:
        if server:
            server.kill()
        if tmp:
            tmp.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CASTOR_TEST_SEED", time.time_ns() % 100000)))
    args = ap.parse_args()
    sys.exit(run(args.cycles, args.seed))
