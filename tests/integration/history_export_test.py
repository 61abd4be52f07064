#!/usr/bin/env python3
"""castor export history / castor import history against real `castor serve` processes.

RoundTrip: points of every type (strings that need CSV quoting, JSON objects, components) over
three UTC days are exported in small pages as NDJSON and CSV, zstd-compressed; the manifest's
hashes and counts match the files; a fresh server with the same models and twins gets them back
with `castor import history`, and exporting it again gives the very same rows. Importing again
after a newer point reports OutOfOrder rows and lands the rest. --offline reads a stopped server's
data directory and writes the same files.
BadInput: bad ranges, unwritable and non-empty folders, tampered and missing files (nothing sent),
bad endpoint parameters with the ADT error shape.
Secured: over HTTPS with tokens, viewer exports, a viewer's import is refused (403), no token is
refused with a hint.
Usage: CASTOR_BIN=... history_export_test.py [-v] [RoundTrip|BadInput|Secured]"""
import csv
import glob
import hashlib
import json
import os
import subprocess
import unittest
import urllib.parse

from castor_harness import CASTOR, Server, TempData

API = "api-version=2023-10-31"
ROBOT = "dtmi:castor:it:Robot;1"
ARM = "dtmi:castor:it:Arm;1"
CONVEYOR = "dtmi:castor:it:Conveyor;1"
DAY = 86_400 * 1_000_000_000
SEC = 1_000_000_000
T0 = 1_795_478_400 * SEC - 30 * 60 * SEC  # 2026-11-23T23:30:00Z: the series cross midnight
CLIENT_ENV = ("CASTOR_URL", "CASTOR_TOKEN", "CASTOR_CACERT")


def env():
    return {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}


def run(*args, check_rc=None):
    p = subprocess.run([CASTOR, *args], capture_output=True, text=True, timeout=300, env=env())
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"{args} exited {p.returncode}, expected {check_rc}:\n{p.stdout}\n{p.stderr}")
    return p


def models():
    return [
        {"@id": ARM, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
            {"@type": "Telemetry", "name": "angle", "schema": "double"}]},
        {"@id": ROBOT, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
            {"@type": "Telemetry", "name": "temp", "schema": "double"},
            {"@type": "Telemetry", "name": "rpm", "schema": "long"},
            {"@type": "Telemetry", "name": "running", "schema": "boolean"},
            {"@type": "Telemetry", "name": "state", "schema": "string"},
            {"@type": "Telemetry", "name": "pose", "schema": {"@type": "Object", "fields": [
                {"name": "x", "schema": "double"}, {"name": "tag", "schema": "string"}]}},
            {"@type": "Property", "name": "mode", "schema": "string"},
            {"@type": "Component", "name": "arm", "schema": ARM}]},
        {"@id": CONVEYOR, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
            {"@type": "Telemetry", "name": "speed", "schema": "double"}]},
    ]


TWINS = [("r0", ROBOT), ("r1", ROBOT), ("r2", ROBOT), ("c0", CONVEYOR), ("c1", CONVEYOR)]


def setup_models_and_twins(server, token=None):
    s, _, body = server.json("POST", f"/models?{API}", body=json.dumps(models()), token=token,
                             headers={"Content-Type": "application/json"})
    assert s == 201, body
    for twin, model in TWINS:
        doc = {"$metadata": {"$model": model}}
        if model == ROBOT:
            doc["arm"] = {"$metadata": {}}
        s, _, body = server.json("PUT", f"/digitaltwins/{twin}?{API}", body=json.dumps(doc),
                                 token=token, headers={"Content-Type": "application/json"})
        assert s == 200, body


def observations(n=400):
    """n points per series, one every 6 minutes: 40 hours, three UTC days."""
    step = 6 * 60 * SEC
    out = []
    for i in range(n):
        ts = T0 + i * step
        for r in ("r0", "r1", "r2"):
            out += [{"twin": r, "name": "temp", "ts": ts, "value": 20 + i / 7},
                    {"twin": r, "name": "rpm", "ts": ts, "value": 1000 * i - 7},
                    {"twin": r, "name": "running", "ts": ts, "value": i % 3 == 0},
                    {"twin": r, "component": "arm", "name": "angle", "ts": ts, "value": -i * 0.25}]
            if i % 10 == 0:
                out += [{"twin": r, "name": "state", "ts": ts,
                         "value": f"s{i}, \"quoted\"\nsecond line" if i % 20 == 0 else f" padded {i} "},
                        {"twin": r, "name": "pose", "ts": ts, "value": {"x": i / 3, "tag": f"a,b{i}"}},
                        {"twin": r, "name": "mode", "ts": ts, "value": "auto"}]
        for c in ("c0", "c1"):
            out.append({"twin": c, "name": "speed", "ts": ts, "value": 1.5 + i})
    return out


def ingest(server, obs, token=None):
    for k in range(0, len(obs), 2000):
        body = "\n".join(json.dumps(o) for o in obs[k:k + 2000]) + "\n"
        s, _, answer = server.json("POST", "/castor/v1/ingest", body=body, token=token,
                                   headers={"Content-Type": "application/x-ndjson"})
        assert s == 202 and not answer["rejected"], answer


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def write(path, data, mode="w"):
    with open(path, mode) as f:
        f.write(data)


def load_json(path):
    return json.loads(read(path))


def ndjson_rows(folder):
    """Every row of the NDJSON files a manifest lists (decompressed), sorted."""
    manifest = load_json(os.path.join(folder, "manifest.json"))
    rows = []
    for f in manifest["files"]:
        if f["format"] != "ndjson":
            continue
        data = read(os.path.join(folder, f["path"]), "rb")
        if f["compression"] == "zstd":
            data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
        rows += [json.loads(line) for line in data.decode().splitlines() if line]
    return sorted(rows, key=lambda r: (r["twin"], r["component"], r["name"], r["ts_ns"]))


class ServerCase(unittest.TestCase):
    def setUp(self):
        self.tmp = TempData()
        self.server = Server(self.tmp.data, "--insecure-local", "--shards", "2")
        setup_models_and_twins(self.server)

    def tearDown(self):
        self.server.stop_cleanly(self)
        self.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.tmp.root, name)

    def export(self, folder, *extra, server=None, rc=0):
        server = server or self.server
        return run("export", "history", "--url", server.url, "--from", str(T0 - DAY),
                   "--to", str(T0 + 3 * DAY), "--out", folder, *extra, check_rc=rc)


class RoundTrip(ServerCase):
    def test_export_import_into_a_fresh_server_and_export_again_gives_the_same_rows(self):
        obs = observations()
        ingest(self.server, obs)
        first = self.out("first")
        p = self.export(first, "--format", "both", "--zstd", "--page", "997")
        self.assertIn(f"Exported {len(obs)} points", p.stdout)
        manifest = load_json(os.path.join(first, "manifest.json"))
        self.assertEqual((manifest["format"], manifest["version"]), ("castor-history-export", 1))
        days = sorted({f["day"] for f in manifest["files"]})
        self.assertEqual(days, ["2026-11-23", "2026-11-24", "2026-11-25"])
        # One file per day, model and format; the path says all three.
        self.assertEqual(len(manifest["files"]), 3 * 2 * 2)
        for f in manifest["files"]:
            data = read(os.path.join(first, f["path"]), "rb")
            self.assertEqual(len(data), f["bytes"])
            self.assertEqual(hashlib.sha256(data).hexdigest(), f["sha256"])
            safe = f["model"].replace(":", ".").replace(";", "@")
            self.assertEqual(f["path"], f"{f['day']}/{safe}.{f['format']}.zst")
        self.assertEqual(sum(f["rows"] for f in manifest["files"] if f["format"] == "ndjson"), len(obs))
        self.assertEqual(glob.glob(os.path.join(first, "**", "*.tmp"), recursive=True), [])

        rows = ndjson_rows(first)
        self.assertEqual(len(rows), len(obs))
        by_key = {(r["twin"], r["component"], r["name"], r["ts_ns"]): r for r in rows}
        for o in obs:
            r = by_key[(o["twin"], o.get("component", ""), o["name"], o["ts"])]
            self.assertEqual(r["value"], o["value"], r)
        pose = next(r for r in rows if r["name"] == "pose")
        self.assertEqual((pose["type"], pose["model"]), ("json", ROBOT))
        self.assertTrue(pose["ts"].endswith("Z") and len(pose["ts"]) == len("2026-11-23T23:30:00.000000000Z"))

        # The CSV files hold the same rows: Python's csv module reads what we quoted.
        csv_rows = []
        for f in manifest["files"]:
            if f["format"] != "csv":
                continue
            data = subprocess.run(["zstd", "-dc", os.path.join(first, f["path"])],
                                  capture_output=True, check=True).stdout.decode()
            reader = csv.DictReader(data.splitlines(keepends=True))
            self.assertEqual(reader.fieldnames, ["twin", "component", "name", "model", "ts", "ts_ns", "type", "value"])
            csv_rows += list(reader)
        self.assertEqual(len(csv_rows), len(obs))
        for c in csv_rows:
            r = by_key[(c["twin"], c["component"], c["name"], int(c["ts_ns"]))]
            value = c["value"] if c["type"] == "string" else json.loads(c["value"])
            self.assertEqual(value, r["value"], c)
            self.assertEqual(c["ts"], r["ts"])

        # A fresh server with the same models and twins, and no points.
        other_tmp = TempData()
        other = Server(other_tmp.data, "--insecure-local", "--shards", "3")
        try:
            setup_models_and_twins(other)
            p = run("import", "history", first, "--url", other.url, "--batch", "1500", check_rc=0)
            self.assertIn(f"{len(obs)} of {len(obs)} points accepted, 0 rejected", p.stdout)
            second = self.out("second")
            self.export(second, server=other)
            self.assertEqual(ndjson_rows(second), rows)
            m2 = load_json(os.path.join(second, "manifest.json"))
            counts = lambda m: sorted((f["path"].replace(".zst", ""), f["rows"], f["series"])
                                      for f in m["files"] if f["format"] == "ndjson")
            self.assertEqual(counts(m2), counts(manifest))

            # Imported again, every point but each series' last is older than what is there:
            # refused as OutOfOrder and counted, nothing changes.
            series = len({(o["twin"], o.get("component", ""), o["name"]) for o in obs})
            p = run("import", "history", first, "--url", other.url, "--json", check_rc=1)
            report = json.loads(p.stdout)
            self.assertEqual(report["rejectedByCode"], {"OutOfOrder": len(obs) - series})
            self.assertEqual(report["accepted"], series)  # redeliveries of the last points
            self.export(self.out("third"), server=other)
            self.assertEqual(ndjson_rows(self.out("third")), rows)
        finally:
            other.stop_cleanly(self)
            other_tmp.cleanup()
        # A server that already has a newer r0/temp point: those rows are refused as
        # OutOfOrder, reported with file and row, and every other point lands.
        newer_tmp = TempData()
        newer = Server(newer_tmp.data, "--insecure-local")
        try:
            setup_models_and_twins(newer)
            ingest(newer, [{"twin": "r0", "name": "temp", "ts": T0 + 3 * DAY - 1, "value": 1.0}])
            p = run("import", "history", first, "--url", newer.url, check_rc=1)
            temps = sum(1 for o in obs if o["twin"] == "r0" and o["name"] == "temp")
            self.assertIn(f"{len(obs) - temps} of {len(obs)} points accepted, {temps} rejected", p.stdout)
            self.assertIn(f"OutOfOrder: {temps} (older than their series' last point", p.stdout)
            self.assertRegex(p.stdout, r"2026-11-23/dtmi\.castor\.it\.Robot@1\.ndjson\.zst row \d+: OutOfOrder: series r0/temp")
        finally:
            newer.stop_cleanly(self)
            newer_tmp.cleanup()

    def test_offline_export_of_a_stopped_server_gives_the_same_files(self):
        obs = observations(100)
        ingest(self.server, obs)
        online = self.out("online")
        self.export(online, "--format", "both")
        rng = ["--from", str(T0 - DAY), "--to", str(T0 + 3 * DAY)]
        p = run("export", "history", "--offline", self.tmp.data, *rng, "--out", self.out("locked"), check_rc=1)
        self.assertIn("export with --url instead", p.stderr)
        self.assertFalse(os.path.exists(self.out("locked")))
        rc, _ = self.server.terminate()
        self.assertEqual(rc, 0)
        offline = self.out("offline")
        p = run("export", "history", "--offline", self.tmp.data, *rng, "--out", offline,
                "--format", "both", check_rc=0)
        self.assertIn(f"Exported {len(obs)} points", p.stdout)
        self.assertEqual(ndjson_rows(offline), ndjson_rows(online))
        files = lambda d: sorted((f["path"], f["rows"], f["series"], f["sha256"])
                                 for f in load_json(os.path.join(d, "manifest.json"))["files"])
        self.assertEqual(files(offline), files(online))

    def test_filters_and_paging_of_the_endpoint(self):
        obs = observations(50)
        ingest(self.server, obs)
        conveyor = self.out("conveyor")
        self.export(conveyor, "--model", CONVEYOR, "--format", "csv")
        manifest = load_json(os.path.join(conveyor, "manifest.json"))
        self.assertEqual({f["model"] for f in manifest["files"]}, {CONVEYOR})
        self.assertEqual(sum(f["rows"] for f in manifest["files"]), 100)
        self.assertEqual({f["series"] for f in manifest["files"]} - {1, 2}, set())
        # Paging by hand: every point once, in series order, whatever the page size.
        seen, token, pages = [], None, 0
        while True:
            q = {"from": T0, "to": T0 + 3 * DAY, "twin": "r1", "limit": 7}
            if token:
                q["continuationToken"] = token
            s, h, body = self.server.request("GET", "/castor/v1/history/export?" + urllib.parse.urlencode(q))
            self.assertEqual(s, 200, body)
            self.assertTrue(h["content-type"].startswith("application/x-ndjson"))
            lines = body.decode().splitlines()
            self.assertLessEqual(len(lines), 7)
            self.assertEqual(int(h["castor-export-rows"]), len(lines))
            seen += [json.loads(x) for x in lines]
            pages += 1
            token = h.get("castor-continuation-token")
            if not token:
                break
        expected = sorted((o["twin"], o.get("component", ""), o["name"], o["ts"]) for o in obs if o["twin"] == "r1")
        self.assertEqual([(r["twin"], r["component"], r["name"], r["ts_ns"]) for r in seen], expected)
        self.assertGreaterEqual(pages, len(expected) // 7)


class BadInput(ServerCase):
    def test_bad_ranges_and_folders_are_usage_errors(self):
        url = self.server.url
        p = run("export", "history", "--url", url, "--from", "2026-11-24T00:00:00Z", "--to",
                "2026-11-23T00:00:00Z", "--out", self.out("x"), check_rc=2)
        self.assertIn("--to must be after --from", p.stderr)
        p = run("export", "history", "--url", url, "--from", "yesterday", "--to", "1", "--out",
                self.out("x"), check_rc=2)
        self.assertIn("--from must be an RFC 3339", p.stderr)
        blocker = self.out("a-file")
        write(blocker, "x")
        p = self.export(os.path.join(blocker, "sub"), rc=2)
        self.assertIn("cannot create", p.stderr)
        full = self.out("full")
        os.makedirs(full)
        write(os.path.join(full, "keep.txt"), "mine")
        p = self.export(full, rc=2)
        self.assertIn("is not empty", p.stderr)
        self.assertIn("--force", p.stderr)
        self.export(full, "--force")
        self.assertTrue(os.path.exists(os.path.join(full, "manifest.json")))
        self.assertEqual(read(os.path.join(full, "keep.txt")), "mine")

    def test_tampered_or_missing_files_are_named_and_nothing_is_sent(self):
        ingest(self.server, observations(30))
        folder = self.out("export")
        self.export(folder, "--format", "csv")
        manifest = load_json(os.path.join(folder, "manifest.json"))
        victim = manifest["files"][1]["path"]
        path = os.path.join(folder, victim)
        data = bytearray(read(path, "rb"))
        data[len(data) // 2] ^= 0x20
        write(path, bytes(data), "wb")
        fresh_tmp = TempData()
        fresh = Server(fresh_tmp.data, "--insecure-local")
        try:
            setup_models_and_twins(fresh)
            p = run("import", "history", folder, "--url", fresh.url, check_rc=1)
            self.assertIn(victim, p.stderr)
            self.assertIn("SHA-256", p.stderr)
            self.assertIn("nothing was sent", p.stderr)
            s, _, body = fresh.json("GET", "/castor/v1/history/export")
            self.assertEqual((s, body), (200, None))  # empty: not one point arrived
            os.remove(path)
            p = run("import", "history", folder, "--url", fresh.url, check_rc=1)
            self.assertIn(f"{victim} is listed in manifest.json but missing", p.stderr)
            write(os.path.join(folder, "manifest.json"), "{not json")
            p = run("import", "history", folder, "--url", fresh.url, check_rc=2)
            self.assertIn("manifest.json", p.stderr)
            p = run("import", "history", self.out("nowhere"), "--url", fresh.url, check_rc=2)
            self.assertIn("manifest.json is missing", p.stderr)
        finally:
            fresh.stop_cleanly(self)
            fresh_tmp.cleanup()

    def test_endpoint_parameters_are_checked_with_the_adt_error_shape(self):
        for query, status, code in [("from=yesterday", 400, "InvalidArgument"),
                                    ("from=10&to=5", 400, "InvalidArgument"),
                                    ("limit=0", 400, "InvalidArgument"),
                                    ("continuationToken=zz", 400, "InvalidArgument"),
                                    ("model=dtmi:no:such;1", 404, "ModelNotFound"),
                                    ("twin=nobody", 404, "DigitalTwinNotFound")]:
            s, _, body = self.server.json("GET", "/castor/v1/history/export?" + query)
            self.assertEqual(s, status, (query, body))
            self.assertEqual(body["error"]["code"], code, query)
            self.assertTrue(body["error"]["message"])
        s, _, doc = self.server.json("GET", "/openapi.json")
        self.assertEqual(s, 200)
        self.assertIn("/castor/v1/history/export", doc["paths"])
        self.assertIn("HistoryExportRow", doc["components"]["schemas"])


class Secured(unittest.TestCase):
    """Over HTTPS with tokens: export needs viewer, import needs a role that may ingest."""

    def setUp(self):
        self.tmp = TempData()
        self.tokens = {role: run("token", "create", "--role", role, "--name", f"h-{role}",
                                 "--data", self.tmp.data, check_rc=0).stdout.strip()
                       for role in ("admin", "viewer")}
        self.server = Server(self.tmp.data)
        setup_models_and_twins(self.server, token=self.tokens["admin"])

    def tearDown(self):
        self.server.stop_cleanly(self)
        self.tmp.cleanup()

    def cli(self, *args, token=None, rc=0):
        extra = ["--url", self.server.url, "--data", self.tmp.data]
        if token:
            extra += ["--token", token]
        return run(*args, *extra, check_rc=rc)

    def test_viewer_exports_and_cannot_import_and_no_token_is_refused(self):
        obs = observations(20)
        ingest(self.server, obs, token=self.tokens["admin"])
        folder = os.path.join(self.tmp.root, "export")
        rng = ["--from", str(T0 - DAY), "--to", str(T0 + 3 * DAY), "--out", folder]
        p = self.cli("export", "history", *rng, rc=1)
        self.assertIn("castor token create", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(folder, "manifest.json")))
        p = self.cli("export", "history", *rng, token=self.tokens["viewer"])
        self.assertIn(f"Exported {len(obs)} points", p.stdout)
        p = self.cli("import", "history", folder, token=self.tokens["viewer"], rc=1)
        self.assertIn("403", p.stderr)
        p = self.cli("import", "history", folder, token=self.tokens["admin"], rc=1)
        # Already there: each series' last point is a redelivery, every other one OutOfOrder.
        series = len({(o["twin"], o.get("component", ""), o["name"]) for o in obs})
        self.assertIn(f"{series} of {len(obs)} points accepted, {len(obs) - series} rejected", p.stdout)
        self.assertIn(f"OutOfOrder: {len(obs) - series}", p.stdout)


if __name__ == "__main__":
    unittest.main()
