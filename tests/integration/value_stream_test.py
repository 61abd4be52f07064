#!/usr/bin/env python3
"""The live value stream (/castor/v1/stream) and WebSocket ingest against the real `castor serve`.

Filters by twin, model (with inheritance, and exact) and name (also component/name), over SSE and
WebSocket; a filter changed by a WebSocket message; property patches through the ADT API; a
slow consumer that gets coalesced values with exact skip counts and stays connected; errors
before the upgrade; WebSocket ingest (acks per message, errors listed, backpressure) with our
own client and with Node's WebSocket. Usage: CASTOR_BIN=... value_stream_test.py"""
import json
import os
import shutil
import socket
import subprocess
import time
import unittest

from castor_harness import Server, TempData
from event_peers import SseReader, WebSocketReader

API = "api-version=2023-10-31"
BASE = "dtmi:castor:it:Machine;1"
ROBOT = "dtmi:castor:it:Robot;1"
JOINT = "dtmi:castor:it:Joint;1"
T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000


def models():
    return [
        {"@id": JOINT, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
            {"@type": "Telemetry", "name": "angle", "schema": "double"}]},
        {"@id": BASE, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
            {"@type": "Telemetry", "name": "temp", "schema": "double"},
            {"@type": "Property", "name": "mode", "schema": "string", "writable": True}]},
        {"@id": ROBOT, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "extends": BASE,
         "contents": [{"@type": "Telemetry", "name": "power", "schema": "double"},
                      {"@type": "Component", "name": "joint1", "schema": JOINT}]},
    ]


class StreamCase(unittest.TestCase):
    def setUp(self):
        self.tmp = TempData()
        self.server = Server(self.tmp.data, "--insecure-local", "--shards", "2")
        s, _, body = self.server.json("POST", f"/models?{API}", body=json.dumps(models()),
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(s, 201, body)
        for twin, model in (("m1", BASE), ("r1", ROBOT), ("r2", ROBOT)):
            twin_body = {"$metadata": {"$model": model}}
            if model == ROBOT:
                twin_body["joint1"] = {"$metadata": {}}
            s, _, body = self.server.json("PUT", f"/digitaltwins/{twin}?{API}",
                                          body=json.dumps(twin_body),
                                          headers={"Content-Type": "application/json"})
            self.assertEqual(s, 200, body)
        self.readers = []

    def tearDown(self):
        for r in self.readers:
            r.close()
        self.server.stop_cleanly(self)
        self.tmp.cleanup()

    def sse(self, query=""):
        r = SseReader(self.server.host, self.server.port, "/castor/v1/stream" + query)
        self.readers.append(r)
        self.assertIn("200", r.head.split("\r\n")[0], r.head)
        first = r.next()
        self.assertEqual(first["type"], "subscribed", first)
        return r

    def ws(self, path):
        r = WebSocketReader(self.server.host, self.server.port, path)
        self.readers.append(r)
        self.assertTrue(r.accepted, r.head)
        return r

    def ingest(self, lines):
        s, _, body = self.server.json("POST", "/castor/v1/ingest", body="\n".join(lines),
                                      headers={"Content-Type": "text/plain"})
        self.assertEqual(s, 202, body)
        return body

    def values(self, reader, n, timeout=10):
        out = []
        while len(out) < n:
            m = reader.next(timeout)
            if m.get("type") == "value":
                out.append(m)
        return out


class Filters(StreamCase):
    def test_twin_filter_passes_only_those_twins(self):
        r = self.sse("?twins=r2")
        self.ingest([f"r1 temp=1.5 {T0}", f"r2 temp=2.5 {T0}", f"m1 temp=3.5 {T0}"])
        v = self.values(r, 1)[0]
        self.assertEqual((v["twin"], v["name"], v["value"], v["kind"]), ("r2", "temp", 2.5, "telemetry"))
        self.assertEqual(v["sourceTime"], "2023-11-14T22:13:20.0000000Z")
        self.assertNotIn("component", v)
        # Nothing else arrives: the next value is one sent after a marker.
        self.ingest([f"r1 temp=9 {T0 + SEC}", f"r2 temp=4 {T0 + SEC}"])
        self.assertEqual(self.values(r, 1)[0]["value"], 4)

    def test_model_filter_follows_inheritance_unless_exact(self):
        inherited = self.sse(f"?models={BASE}")
        exact = self.sse(f"?models={BASE}&exact=true")
        self.ingest([f"r1 power=10 {T0}", f"m1 temp=20 {T0}"])
        got = {(v["twin"], v["name"]) for v in self.values(inherited, 2)}
        self.assertEqual(got, {("r1", "power"), ("m1", "temp")})
        v = self.values(exact, 1)[0]
        self.assertEqual((v["twin"], v["name"]), ("m1", "temp"))

    def test_names_match_plain_and_component_names(self):
        any_angle = self.sse("?names=angle")
        joint_only = self.sse("?names=joint1/angle,power")
        self.ingest([f"r1,component=joint1 angle=45 {T0}", f"r1 power=7 {T0}", f"r1 temp=1 {T0}"])
        v = self.values(any_angle, 1)[0]
        self.assertEqual((v["twin"], v["component"], v["name"], v["value"]), ("r1", "joint1", "angle", 45))
        got = sorted((v.get("component", ""), v["name"]) for v in self.values(joint_only, 2))
        self.assertEqual(got, [("", "power"), ("joint1", "angle")])

    def test_batch_mode_sends_what_a_commit_produced_in_one_message(self):
        r = self.sse("?twins=r1&batch=true")
        self.ingest([f"r1 temp=1 {T0}", f"r1 power=2 {T0}", f"r1,component=joint1 angle=3 {T0}"])
        got = []
        while len(got) < 3:
            m = r.next()
            self.assertEqual(m["type"], "values", m)
            got += m["values"]
        self.assertEqual(sorted((v.get("component", ""), v["name"], v["value"]) for v in got),
                         [("", "power", 2), ("", "temp", 1), ("joint1", "angle", 3)])

    def test_values_a_batch_superseded_are_counted_as_skipped(self):
        r = self.sse("?twins=r1&names=temp")
        self.ingest([f"r1 temp={i} {T0 + i}" for i in range(5)])
        v = self.values(r, 1)[0]
        self.assertEqual((v["value"], v["skipped"]), (4, 4))

    def test_property_patch_through_the_adt_api_streams_as_property(self):
        r = self.sse("?twins=r1&names=mode")
        s, _, body = self.server.json("PATCH", f"/digitaltwins/r1?{API}",
                                      body=json.dumps([{"op": "add", "path": "/mode", "value": "auto"}]),
                                      headers={"Content-Type": "application/json-patch+json"})
        self.assertEqual(s, 204, body)
        v = self.values(r, 1)[0]
        self.assertEqual((v["twin"], v["name"], v["value"], v["kind"]), ("r1", "mode", "auto", "property"))
        # An observation of a property carries its own source time.
        self.ingest([f'r1 mode="manual" {T0 + 5 * SEC}'])
        v = self.values(r, 1)[0]
        self.assertEqual((v["value"], v["sourceTime"]), ("manual", "2023-11-14T22:13:25.0000000Z"))

    def test_websocket_client_changes_its_filter(self):
        ws = self.ws("/castor/v1/stream?twins=r1")
        self.assertEqual(ws.next()["type"], "subscribed")
        ws.send(json.dumps({"subscribe": {"twins": ["r2"], "names": ["temp"]}}))
        sub = ws.next()
        self.assertEqual(sub["type"], "subscribed")
        self.assertEqual(sub["filter"]["twins"], ["r2"])
        self.ingest([f"r1 temp=1 {T0}", f"r2 power=2 {T0}", f"r2 temp=3 {T0}"])
        v = self.values(ws, 1)[0]
        self.assertEqual((v["twin"], v["name"], v["value"]), ("r2", "temp", 3))
        ws.send(json.dumps({"subscribe": {"models": ["dtmi:castor:it:Nope;1"]}}))
        err = ws.next()
        self.assertEqual(err["type"], "error")
        self.assertIn("does not exist", err["error"]["message"])
        ws.send("not json")
        self.assertEqual(ws.next()["type"], "error")

    def test_bad_filters_are_refused_before_the_upgrade(self):
        for query, words in (("?models=dtmi:castor:it:Nope;1", "does not exist"),
                             ("?colour=red", "unknown parameter"),
                             ("?exact=maybe", "exact must be")):
            s, _, body = self.server.json("GET", "/castor/v1/stream" + query,
                                          headers={"Accept": "text/event-stream"})
            self.assertEqual(s, 400, query)
            self.assertIn(words, body["error"]["message"])
        s, _, body = self.server.json("GET", "/castor/v1/stream")
        self.assertEqual(s, 400)
        self.assertIn("WebSocket", body["error"]["message"])


class SlowConsumer(StreamCase):
    def test_a_slow_reader_gets_coalesced_values_with_exact_skip_counts(self):
        # A WebSocket client with a tiny receive buffer that reads nothing while 200,000 values
        # of 10 series arrive, then reads everything: per series, messages + skipped = values
        # produced, the last message holds the last value, and the stream is still open.
        sock_path = "/castor/v1/stream?twins=r1,r2&names=temp,power,angle"
        orig = socket.create_connection

        def small_buffer(addr, timeout=None, *a, **k):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(timeout)
            s.connect(addr)
            return s

        socket.create_connection = small_buffer
        try:
            ws = self.ws(sock_path)
        finally:
            socket.create_connection = orig
        self.assertEqual(ws.next()["type"], "subscribed")
        series = [("r1", "", "temp"), ("r1", "", "power"), ("r2", "", "temp"), ("r2", "", "power"),
                  ("r1", "joint1", "angle"), ("r2", "joint1", "angle")]
        # One frame per round over WebSocket ingest: no value is superseded inside a batch, so
        # every skip counted below is the stream's own coalescing.
        rounds = 3000
        produced = {s: 0 for s in series}
        last = {}
        ingest = self.ws("/castor/v1/ingest?format=line")
        for i in range(rounds):
            ts = T0 + i * 1_000_000
            frame = []
            for twin, comp, name in series:
                head = twin + (f",component={comp}" if comp else "")
                frame.append(f"{head} {name}={i} {ts}")
                produced[(twin, comp, name)] += 1
                last[(twin, comp, name)] = i
            ingest.send("\n".join(frame))
        acks = [ingest.next(30) for _ in range(rounds)]
        self.assertTrue(all(a["status"] == 202 for a in acks), [a for a in acks if a["status"] != 202][:3])
        total = rounds * len(series)
        seen = {s: 0 for s in series}
        latest = {}
        messages = 0
        skipped = 0
        deadline = time.time() + 60
        while sum(seen.values()) < total and time.time() < deadline:
            try:
                m = ws.next(20)
            except TimeoutError:
                self.fail(f"stalled after {messages} messages: seen {seen} of {produced}")
            if m.get("type") != "value":
                continue
            key = (m["twin"], m.get("component", ""), m["name"])
            seen[key] += 1 + m.get("skipped", 0)
            skipped += m.get("skipped", 0)
            latest[key] = m["value"]
            messages += 1
        self.assertEqual(seen, produced)
        self.assertEqual(latest, last)
        self.assertGreater(skipped, 0, "the reader was never slow enough to coalesce")
        self.assertLess(messages, total)
        # Still connected: a new value arrives.
        self.ingest([f"r1 temp=-1 {T0 + rounds * 1_000_000}"])
        self.assertEqual(self.values(ws, 1)[0]["value"], -1)
        s, _, metrics = self.server.request("GET", "/metrics")
        text = metrics.decode() if isinstance(metrics, bytes) else metrics
        self.assertRegex(text, r"castor_stream_values_skipped_total [1-9]")


class WebSocketIngest(StreamCase):
    def test_each_message_is_a_batch_answered_once_durable(self):
        ws = self.ws("/castor/v1/ingest")
        ws.send(json.dumps([{"twin": "r1", "name": "temp", "ts": T0, "value": 1.5}]))
        ws.send("\n".join(json.dumps({"twin": "r2", "name": "temp", "ts": T0 + i, "value": i})
                          for i in range(3)))
        ws.send(f"r1,component=joint1 angle=30 {T0}\nr1 power=5 {T0}")
        ws.send(json.dumps([{"twin": "nope", "name": "temp", "value": 1}, {"twin": "r1", "value": 2}]))
        acks = [ws.next() for _ in range(4)]
        acks.sort(key=lambda a: a["seq"])
        self.assertEqual([a["seq"] for a in acks], [1, 2, 3, 4])
        self.assertEqual([a["status"] for a in acks], [202, 202, 202, 400])
        self.assertEqual([a.get("accepted") for a in acks[:3]], [1, 3, 2])
        self.assertEqual(len(acks[3]["error"]["details"]), 2)
        s, _, body = self.server.json("GET", f"/castor/v1/history?twin=r2&name=temp&agg=count&from={T0}")
        self.assertEqual(s, 200, body)
        self.assertEqual(body["count"] if "count" in body else body["points"][0][1], 3)

    def test_many_batches_in_flight_are_all_answered(self):
        ws = self.ws("/castor/v1/ingest?format=line")
        n = 200
        for i in range(n):
            ws.send("\n".join(f"r{1 + j % 2} temp={i} {T0 + i * 1000 + j}" for j in range(50)))
        acks = [ws.next(30) for _ in range(n)]
        self.assertEqual(sorted(a["seq"] for a in acks), list(range(1, n + 1)))
        self.assertTrue(all(a["status"] == 202 and a["accepted"] == 50 for a in acks))

    def test_not_a_websocket_or_bad_format_is_400(self):
        s, _, body = self.server.json("GET", "/castor/v1/ingest",
                                      headers={"Accept": "text/event-stream"})
        self.assertEqual(s, 400)
        self.assertIn("WebSocket", body["error"]["message"])
        r = WebSocketReader(self.server.host, self.server.port, "/castor/v1/ingest?format=xml")
        self.readers.append(r)
        self.assertFalse(r.accepted)
        self.assertIn("400", r.head.split("\r\n")[0])

    @unittest.skipUnless(shutil.which(os.environ.get("NODE", "node")), "needs node")
    def test_nodes_websocket_client_ingests_and_streams(self):
        # Node's standard WebSocket (undici): subscribe to the stream, send a batch over the
        # ingest socket, and see the ack and the value.
        script = r"""
const [base] = process.argv.slice(1);
const stream = new WebSocket(base + '/castor/v1/stream?twins=r1&names=temp');
const out = {};
stream.onmessage = (m) => {
  const v = JSON.parse(m.data);
  if (v.type === 'subscribed') {
    const ing = new WebSocket(base + '/castor/v1/ingest');
    ing.onopen = () => ing.send('r1 temp=42.5');
    ing.onmessage = (a) => { out.ack = JSON.parse(a.data); ing.close(); };
  } else if (v.type === 'value') {
    out.value = v; stream.close();
    const wait = () => out.ack ? (console.log(JSON.stringify(out)), process.exit(0)) : setTimeout(wait, 10);
    wait();
  }
};
setTimeout(() => { console.error('timeout', JSON.stringify(out)); process.exit(1); }, 10000);
"""
        node = shutil.which(os.environ.get("NODE", "node"))
        base = f"ws://{self.server.host}:{self.server.port}"
        p = subprocess.run([node, "--experimental-websocket", "--no-warnings", "-e", script, base],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual((out["ack"]["seq"], out["ack"]["status"], out["ack"]["accepted"]), (1, 202, 1))
        self.assertEqual((out["value"]["twin"], out["value"]["value"]), ("r1", 42.5))


if __name__ == "__main__":
    unittest.main()
