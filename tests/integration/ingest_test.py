#!/usr/bin/env python3
"""Batch ingest and history reads against the real `castor serve` over real HTTP.

JSON array, NDJSON and InfluxDB line protocol; 202 only once durable (SIGKILL right after the
answer loses nothing); whole-batch refusal with every error listed, and ?partial=true; history as
JSON and CSV, aggregates per step, percentiles, count totals, latest values, model-wide reads;
the twin's reported property and $metadata sourceTime; metrics. Usage: CASTOR_BIN=... ingest_test.py"""
import csv
import io
import json
import re
import socket
import time
import unittest
import urllib.parse

from castor_harness import Server, TempData

API = "api-version=2023-10-31"
MODEL = "dtmi:castor:it:Robot;1"
T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000


def model():
    return {"@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
        {"@type": "Telemetry", "name": "temp", "schema": "double"},
        {"@type": "Telemetry", "name": "rpm", "schema": "integer"},
        {"@type": "Telemetry", "name": "running", "schema": "boolean"},
        {"@type": "Telemetry", "name": "state", "schema": "string"},
        {"@type": "Property", "name": "mode", "schema": "string"},
    ]}


class IngestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = TempData()
        self.server = Server(self.tmp.data, "--insecure-local", "--shards", "2")
        self.setup_twins()

    def tearDown(self):
        self.server.stop_cleanly(self)
        self.tmp.cleanup()

    def setup_twins(self, n=3):
        s, _, body = self.server.json("POST", f"/models?{API}", body=json.dumps([model()]),
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(s, 201, body)
        for i in range(n):
            s, _, body = self.server.json("PUT", f"/digitaltwins/r{i}?{API}",
                                          body=json.dumps({"$metadata": {"$model": MODEL}}),
                                          headers={"Content-Type": "application/json"})
            self.assertEqual(s, 200, body)

    def ingest(self, body, ctype, partial=None):
        path = "/castor/v1/ingest" + ("" if partial is None else f"?partial={partial}")
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.server.json("POST", path, body=data, headers={"Content-Type": ctype})

    def history(self, accept=None, **params):
        path = "/castor/v1/history?" + urllib.parse.urlencode(params)
        headers = {"Accept": accept} if accept else {}
        status, hdrs, body = self.server.request("GET", path, headers=headers)
        if accept == "text/csv":
            return status, hdrs, body.decode()
        return status, hdrs, json.loads(body)


class Formats(IngestCase):
    def test_json_ndjson_and_line_protocol_reach_twin_and_history(self):
        s, _, body = self.ingest([{"twin": "r0", "name": "temp", "ts": T0, "value": 20.5},
                                  {"twin": "r0", "name": "temp", "ts": "2023-11-14T22:13:21Z", "value": 21},
                                  {"twin": "r0", "name": "mode", "ts": T0 + 5 * SEC, "value": "auto"}],
                                 "application/json")
        self.assertEqual((s, body), (202, {"accepted": 3, "rejected": []}))
        nd = "\n".join(json.dumps({"twin": "r1", "name": "rpm", "ts": T0 + i * SEC, "value": 1000 + i}) for i in range(5))
        s, _, body = self.ingest(nd + "\n", "application/x-ndjson")
        self.assertEqual((s, body["accepted"]), (202, 5))
        lp = "".join(f"r2 temp={i / 2},running={'true' if i % 2 else 'false'},state=\"s{i}\" {T0 + i * SEC}\n"
                     for i in range(10))
        s, _, body = self.ingest(lp, "text/plain; charset=utf-8")
        self.assertEqual((s, body["accepted"]), (202, 30))

        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [[T0, 20.5], [T0 + SEC, 21]])
        _, _, h = self.history(twin="r1", name="rpm")
        self.assertEqual(h["type"], "int64")
        self.assertEqual([p[1] for p in h["points"]], [1000, 1001, 1002, 1003, 1004])
        _, _, h = self.history(twin="r2", name="running")
        self.assertEqual([p[1] for p in h["points"]][:3], [False, True, False])
        _, _, h = self.history(twin="r2", name="state")
        self.assertEqual(h["points"][9], [T0 + 9 * SEC, "s9"])
        # The reported property is on the twin, with its source time.
        s, _, twin = self.server.json("GET", f"/digitaltwins/r0?{API}")
        self.assertEqual(twin["mode"], "auto")
        self.assertEqual(twin["$metadata"]["mode"]["sourceTime"], "2023-11-14T22:13:25.0000000Z")

    def test_adt_telemetry_feeds_history(self):
        def send(twin, body, source="2023-11-14T22:13:30Z"):
            return self.server.request("POST", f"/digitaltwins/{twin}/telemetry?{API}", body=json.dumps(body),
                                       headers={"Content-Type": "application/json", "Message-Id": "m1",
                                                "Telemetry-Source-Time": source})
        status, _, body = send("r0", {"temp": 5.5, "rpm": 7})
        self.assertEqual(status, 204, body)
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [[T0 + 10 * SEC, 5.5]])
        _, _, h = self.history(twin="r0", name="rpm")
        self.assertEqual(h["points"], [[T0 + 10 * SEC, 7]])
        status, _, body = send("r0", {"mode": "x"})  # a Property is not telemetry
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"]["code"], "ValidationFailed")
        status, _, body = send("ghost", {"temp": 1.0})
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"]["code"], "DigitalTwinNotFound")
        # As in ADT, an older Telemetry-Source-Time is accepted (and routed); history keeps its order.
        status, _, body = send("r0", {"temp": 1.5}, source="2023-11-14T22:13:25Z")
        self.assertEqual(status, 204, body)
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [[T0 + 10 * SEC, 5.5]])

    def test_adt_style_errors_for_bad_bodies_and_types(self):
        s, _, body = self.ingest("r0 temp=1", "application/xml")
        self.assertEqual(s, 415)
        self.assertEqual(body["error"]["code"], "UnsupportedMediaType")
        s, _, body = self.ingest("[1,", "application/json")
        self.assertEqual(s, 400)
        self.assertIn("not valid JSON", body["error"]["details"][0]["message"])
        s, _, body = self.ingest("", "text/plain")
        self.assertEqual(s, 400)


class Partial(IngestCase):
    BATCH = [{"twin": "r0", "name": "temp", "ts": T0, "value": 1.0},
             {"twin": "nobody", "name": "temp", "ts": T0, "value": 1.0},
             {"twin": "r1", "name": "temp", "ts": T0, "value": "hot"},
             {"twin": "r1", "name": "nosuch", "ts": T0, "value": 1},
             {"twin": "r2", "name": "temp", "ts": T0, "value": 2.0}]

    def test_invalid_batch_is_refused_whole_with_every_error_listed(self):
        s, _, body = self.ingest(self.BATCH, "application/json")
        self.assertEqual(s, 400, body)
        self.assertEqual(body["error"]["code"], "InvalidObservations")
        details = body["error"]["details"]
        self.assertEqual([d["index"] for d in details], [1, 2, 3])
        self.assertEqual(details[0]["code"], "DigitalTwinNotFound")
        self.assertEqual(details[1]["code"], "ValidationFailed")
        for twin in ("r0", "r2"):
            _, _, h = self.history(twin=twin, name="temp")
            self.assertEqual(h["points"], [], f"{twin} must have nothing after a refused batch")

    def test_unreadable_and_invalid_entries_are_listed_together(self):
        s, _, body = self.ingest([{"twin": "r0", "name": "temp", "value": 1.0},
                                  {"twin": "r0", "name": "temp"},
                                  {"twin": "nobody", "name": "temp", "value": 1.0}], "application/json")
        self.assertEqual(s, 400, body)
        self.assertEqual([(d["index"], d["code"]) for d in body["error"]["details"]],
                         [(1, "InvalidObservation"), (2, "DigitalTwinNotFound")])
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [])

    def test_partial_keeps_the_valid_ones_and_reports_each_rejection(self):
        s, _, body = self.ingest(self.BATCH, "application/json", partial="true")
        self.assertEqual(s, 202, body)
        self.assertEqual(body["accepted"], 2)
        self.assertEqual([r["index"] for r in body["rejected"]], [1, 2, 3])
        _, _, h = self.history(twin="r2", name="temp")
        self.assertEqual(h["points"], [[T0, 2.0]])

    def test_out_of_order_and_redelivery(self):
        self.assertEqual(self.ingest([{"twin": "r0", "name": "temp", "ts": T0 + 10, "value": 1.0}], "application/json")[0], 202)
        s, _, body = self.ingest([{"twin": "r0", "name": "temp", "ts": T0 + 10, "value": 1.0}], "application/json")
        self.assertEqual((s, body["accepted"]), (202, 1))  # a redelivery: accepted, stored once
        s, _, body = self.ingest([{"twin": "r0", "name": "temp", "ts": T0, "value": 1.0}], "application/json")
        self.assertEqual(s, 400)
        self.assertEqual(body["error"]["details"][0]["code"], "OutOfOrder")
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [[T0 + 10, 1.0]])

    def test_fields_in_any_order_and_unknown_names_where_others_were(self):
        # Lines of one model name their fields in other orders, and an unknown or wrong-kind name
        # stands where an earlier line had a valid one: each name is still checked on its own.
        lp = (f"r0 temp=1.5,rpm=10i {T0}\n"
              f"r1 rpm=11i,temp=2.5 {T0}\n"
              f"r2 temp=3.5,rpm=12i {T0}\n"
              f"r0 temp=4.5,nope=1 {T0 + SEC}\n"
              f"r1 rpm=\"x\",temp=5.5 {T0 + SEC}\n")
        s, _, body = self.ingest(lp, "text/plain")
        self.assertEqual(s, 400, body)
        self.assertEqual([(d["line"], d["code"]) for d in body["error"]["details"]],
                         [(4, "ValidationFailed"), (5, "ValidationFailed")])
        s, _, body = self.ingest(lp, "text/plain", partial="true")
        self.assertEqual((s, body["accepted"]), (202, 8), body)
        _, _, h = self.history(twin="r1", name="temp")
        self.assertEqual(h["points"], [[T0, 2.5], [T0 + SEC, 5.5]])
        _, _, h = self.history(twin="r1", name="rpm")
        self.assertEqual(h["points"], [[T0, 11]])
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [[T0, 1.5], [T0 + SEC, 4.5]])

    def test_line_protocol_errors_name_their_lines(self):
        s, _, body = self.ingest("r0 temp=1 1\nr0 temp=\nr0,site=x temp=2\n", "text/plain", partial="true")
        self.assertEqual(s, 202, body)
        self.assertEqual([r["line"] for r in body["rejected"]], [2, 3])


    def test_large_bodies_get_the_same_answers(self):
        # A body of thousands of lines spanning both shards: every error listed, nothing written;
        # then all of it written.
        lines = [f"r{i % 2} temp={i}.5,rpm={i}i {T0 + i * SEC}" for i in range(4000)]
        bad = list(lines)
        bad[10] = "r0 temp=oops"
        bad[3000] = "nobody temp=1"
        body = "\n".join(bad)
        self.assertGreater(len(body), 64 * 1024)
        s, _, answer = self.ingest(body, "text/plain")
        self.assertEqual(s, 400, answer)
        self.assertEqual([(d["line"], d["code"]) for d in answer["error"]["details"]],
                         [(11, "InvalidObservation"), (3001, "DigitalTwinNotFound")])
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [], "nothing of a refused batch is written")
        s, _, answer = self.ingest("\n".join(lines), "text/plain")
        self.assertEqual(s, 202, answer)
        self.assertEqual(answer["accepted"], 8000)
        _, _, h = self.history(twin="r1", name="rpm")
        self.assertEqual(len(h["points"]), 2000)
        self.assertEqual(h["points"][-1][1], 3999)


class Reads(IngestCase):
    def setUp(self):
        super().setUp()
        lines = []
        for i in range(600):  # 10 minutes at 1 Hz; temp = i for r0, 2i for r1
            lines.append(f"r0 temp={i} {T0 + i * SEC}")
            lines.append(f"r1 temp={2 * i} {T0 + i * SEC}")
        s, _, body = self.ingest("\n".join(lines), "text/plain")
        self.assertEqual(s, 202, body)

    def test_raw_range_json_and_csv(self):
        _, _, h = self.history(twin="r0", name="temp", **{"from": T0 + 10 * SEC, "to": T0 + 13 * SEC})
        self.assertEqual(h["columns"], ["ts", "value"])
        self.assertEqual(h["points"], [[T0 + 10 * SEC, 10], [T0 + 11 * SEC, 11], [T0 + 12 * SEC, 12]])
        s, hdrs, text = self.history(accept="text/csv", twin="r0", name="temp", **{"from": T0, "to": T0 + 2 * SEC})
        self.assertEqual(s, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/csv"))
        self.assertEqual(list(csv.reader(io.StringIO(text))), [["ts", "value"], [str(T0), "0"], [str(T0 + SEC), "1"]])

    def test_aggregates_per_step_percentiles_and_count_total(self):
        _, _, h = self.history(twin="r0", name="temp", step="60s", agg="count,avg,min,max,first,last,p50",
                               **{"from": T0, "to": T0 + 600 * SEC})
        self.assertEqual(len(h["points"]), 10)
        self.assertEqual(h["points"][1], [T0 + 60 * SEC, 60, 89.5, 60, 119, 60, 119, 89.5])
        s, _, h = self.history(twin="r0", name="temp", agg="count")
        self.assertEqual((s, h["points"][0][1]), (200, 600))
        _, _, h = self.history(twin="r0", name="temp", agg="sum,stddev", **{"from": T0, "to": T0 + 4 * SEC})
        self.assertEqual(h["points"][0][1], 6)
        self.assertAlmostEqual(h["points"][0][2], 1.118033988749895)

    def test_latest_and_model_wide(self):
        s, _, body = self.server.json("GET", "/castor/v1/history/latest?twin=r1&name=temp")
        self.assertEqual((s, body["points"]), (200, [[T0 + 599 * SEC, 1198]]))
        _, _, h = self.history(model=MODEL, name="temp", agg="max")
        self.assertEqual([(x["twin"], x["points"][0][1]) for x in h["series"]], [("r0", 599), ("r1", 1198)])
        s, _, text = self.history(accept="text/csv", model=MODEL, name="temp", agg="count")
        self.assertEqual(text.splitlines()[1:], [f'"r0",0,600', f'"r1",0,600'])

    def test_retention_per_series(self):
        def put(params, body):
            path = "/castor/v1/history/retention?" + urllib.parse.urlencode(params)
            return self.server.json("PUT", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        s, _, body = put({"twin": "r0", "name": "temp"}, {"retention": "1h"})
        self.assertEqual(s, 204, body)
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(h["points"], [], "points from 2023 are older than 1 h: expired at once")
        _, _, h = self.history(twin="r1", name="temp")
        self.assertEqual(len(h["points"]), 600, "other series keep theirs")
        s, _, body = put({"twin": "r0", "name": "nosuch"}, {"retention": "1h"})
        self.assertEqual((s, body["error"]["code"]), (404, "SeriesNotFound"))
        s, _, body = put({"twin": "r0", "name": "temp"}, {"retention": "soon"})
        self.assertEqual(s, 400)
        s, _, body = put({"twin": "r0", "name": "temp"}, {"retention": None})
        self.assertEqual(s, 204, body)

    def test_bad_reads(self):
        for params in ({"name": "temp"}, {"twin": "r0"}, {"twin": "r0", "name": "temp", "agg": "median"},
                       {"twin": "r0", "name": "temp", "step": "60s"}, {"twin": "r0", "name": "temp", "from": "x"}):
            s, _, body = self.history(**params)
            self.assertEqual(s, 400, params)
            self.assertIn("message", body["error"])
        s, _, body = self.history(twin="ghost", name="temp")
        self.assertEqual((s, body["error"]["code"]), (404, "DigitalTwinNotFound"))

    def test_metrics_and_openapi(self):
        s, _, text = self.server.request("GET", "/metrics")
        text = text.decode()
        self.assertIn("castor_ingest_observations_accepted_total 1200", text)
        self.assertIn("castor_ingest_in_flight", text)
        s, _, doc = self.server.json("GET", "/openapi.json")
        self.assertIn("/castor/v1/ingest", doc["paths"])
        self.assertIn("/castor/v1/history", doc["paths"])


class LargeBodies(IngestCase):
    """Bodies above 64 KB are read straight into the request (src/api/http_server.cpp)."""

    LINES = 6000  # ~190 KB of line protocol

    def body(self):
        return "".join(f"r0 temp={i}.5 {T0 + i * SEC}\n" for i in range(self.LINES)).encode()

    def send_raw(self, head_and_body, pieces, pause):
        sock = socket.create_connection((self.server.host, self.server.port), timeout=10)
        size = (len(head_and_body) + pieces - 1) // pieces
        for k in range(0, len(head_and_body), size):
            sock.sendall(head_and_body[k:k + size])
            time.sleep(pause)
        return sock

    def head(self, length):
        return (f"POST /castor/v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {length}\r\n\r\n").encode()

    def test_large_body_in_slow_pieces_is_written_whole(self):
        body = self.body()
        sock = self.send_raw(self.head(len(body)) + body, pieces=40, pause=0.01)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            self.assertTrue(chunk, "the connection closed without an answer")
            answer += chunk
        sock.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 202"), answer[:200])
        s, _, h = self.history(twin="r0", name="temp", agg="count")
        self.assertEqual((s, h["points"][0][1]), (200, self.LINES))
        _, _, h = self.history(twin="r0", name="temp", **{"from": T0 + (self.LINES - 1) * SEC})
        self.assertEqual(h["points"], [[T0 + (self.LINES - 1) * SEC, self.LINES - 1 + 0.5]])

    def test_large_body_cut_short_writes_nothing(self):
        body = self.body()
        sock = self.send_raw(self.head(len(body)) + body[:len(body) // 2], pieces=4, pause=0.01)
        sock.close()
        time.sleep(0.3)
        s, _, h = self.history(twin="r0", name="temp")
        self.assertEqual((s, h["points"]), (200, []), "nothing of a body cut short is written")
        # The server is fine afterwards: the same body on a fresh connection is written.
        s, _, out = self.ingest(body, "text/plain")
        self.assertEqual(s, 202, out)
        s, _, h = self.history(twin="r0", name="temp", agg="count")
        self.assertEqual(h["points"][0][1], self.LINES)


class Backpressure(IngestCase):
    def setUp(self):
        self.tmp = TempData()
        # Each batch below is over the limit: batches are written one at a time, the rest wait.
        self.server = Server(self.tmp.data, "--insecure-local", "--shards", "2", "--ingest-max-in-flight", "1000")
        self.setup_twins(8)

    def test_waiting_batches_are_all_written_none_lost(self):
        import threading
        acked = [0] * 8
        errors = []

        def producer(i):
            conn = self.server.connection(timeout=60)
            try:
                for b in range(5):
                    body = "\n".join(f"r{i} temp={k} {T0 + b * 2000 + k}" for k in range(1, 2001))
                    status, _, data = self.server.request("POST", "/castor/v1/ingest", body=body,
                                                          headers={"Content-Type": "text/plain"}, conn=conn)
                    if status == 202:
                        acked[i] += json.loads(data)["accepted"]
                    else:
                        errors.append((status, data[:200]))
            finally:
                conn.close()
        threads = [threading.Thread(target=producer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(acked, [10000] * 8)
        for i in range(8):
            _, _, h = self.history(twin=f"r{i}", name="temp", agg="count")
            self.assertEqual(h["points"][0][1], 10000)
        _, _, text = self.server.request("GET", "/metrics")
        self.assertIn("castor_ingest_waiting_requests 0", text.decode())
        self.assertIn("castor_ingest_in_flight 0", text.decode())
        waited = re.search(r"^castor_ingest_waited_requests_total (\d+)", text.decode(), re.M)
        self.assertGreater(int(waited.group(1)), 0, "batches over the limit must have waited")


class Durable(IngestCase):
    def test_acknowledged_batch_survives_sigkill_right_after_202(self):
        lp = "\n".join(f"r0 temp={i} {T0 + i}" for i in range(1, 5001))
        s, _, body = self.ingest(lp, "text/plain")
        self.assertEqual((s, body["accepted"]), (202, 5000))
        self.server.kill()
        self.server = Server(self.tmp.data, "--insecure-local", "--shards", "3")
        _, _, h = self.history(twin="r0", name="temp")
        self.assertEqual(len(h["points"]), 5000)
        self.assertEqual(h["points"][-1], [T0 + 5000, 5000])


if __name__ == "__main__":
    unittest.main()
