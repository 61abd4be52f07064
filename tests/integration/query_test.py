#!/usr/bin/env python3
"""Integration tests of POST /query against the real `castor serve`: models, twins and
relationships uploaded over HTTP, then queries of every kind, their errors, the query-charge
header, and paging with continuation tokens while other clients write, patch and delete twins.
Usage: CASTOR_BIN=build/bin/castor query_test.py [Class]"""
import json
import threading
import unittest

from castor_harness import Server, TempData, castor

API = "?api-version=2023-10-31"

MODELS = [
    {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:it:Line;1", "@type": "Interface",
     "contents": [
         {"@type": "Property", "name": "name", "schema": "string"},
         {"@type": "Relationship", "name": "contains",
          "properties": [{"@type": "Property", "name": "slot", "schema": "integer"}]}]},
    {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:it:Robot;1", "@type": "Interface",
     "contents": [
         {"@type": "Property", "name": "serial", "schema": "string"},
         {"@type": "Property", "name": "speed", "schema": "double", "writable": True},
         {"@type": "Property", "name": "batch", "schema": "string", "writable": True},
         {"@type": "Component", "name": "arm", "schema": "dtmi:it:Arm;1"},
         {"@type": "Relationship", "name": "feeds"}]},
    {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:it:Arm;1", "@type": "Interface",
     "contents": [{"@type": "Property", "name": "angle", "schema": "double"}]},
    {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:it:Welder;1", "@type": "Interface",
     "extends": "dtmi:it:Robot;1"},
]


class Client:
    """One keep-alive connection to the server, for one thread."""

    def __init__(self, server, token=None):
        self.server = server
        self.token = token
        self.conn = server.connection(timeout=30)

    def call(self, method, path, body=None, headers=None):
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        data = json.dumps(body) if body is not None else None
        status, resp_headers, raw = self.server.request(method, path, token=self.token, body=data,
                                                        headers=hdrs, conn=self.conn)
        return status, resp_headers, json.loads(raw) if raw else None

    def query(self, text=None, token=None, page=None, expect=200):
        body = {"continuationToken": token} if token else {"query": text}
        headers = {"max-items-per-page": str(page)} if page else {}
        status, headers, doc = self.call("POST", "/query" + API, body, headers)
        if status != expect:
            raise AssertionError(f"{status} for {body}: {doc}")
        return headers, doc

    def all_rows(self, text, page=None, between=None):
        _, doc = self.query(text, page=page)
        rows = list(doc["value"])
        while doc.get("continuationToken"):
            if between:
                between()
            _, doc = self.query(token=doc["continuationToken"], page=page)
            rows.extend(doc["value"])
        return rows


def robot(i, batch="a"):
    return {"$metadata": {"$model": "dtmi:it:Robot;1" if i % 5 else "dtmi:it:Welder;1"},
            "serial": f"SN-{i:05d}", "speed": float(i % 50), "batch": batch,
            "arm": {"$metadata": {}, "angle": float(i % 90)}}


def put_all(server, twins, threads=4):
    """PUTs {id: body} from several connections at once."""
    items = list(twins.items())

    def work(chunk):
        client = Client(server)
        for twin_id, body in chunk:
            status, _, doc = client.call("PUT", f"/digitaltwins/{twin_id}{API}", body)
            assert status == 200, doc

    workers = [threading.Thread(target=work, args=(items[k::threads],)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


class GraphCase(unittest.TestCase):
    robots = 300

    @classmethod
    def setUpClass(cls):
        cls.tmp = TempData()
        cls.server = Server(cls.tmp.data, "--insecure-local", "--durability", "relaxed",
                            "--shards", "4", *cls.extra_args())
        cls.client = Client(cls.server)
        status, _, doc = cls.client.call("POST", "/models" + API, MODELS)
        assert status == 201, doc
        twins = {f"robot-{i:05d}": robot(i) for i in range(cls.robots)}
        twins.update({f"line-{k}": {"$metadata": {"$model": "dtmi:it:Line;1"}, "name": f"Line {k}"}
                      for k in range(3)})
        put_all(cls.server, twins)
        for i in range(30):
            line = f"line-{i % 3}"
            body = {"$relationshipName": "contains", "$targetId": f"robot-{i:05d}", "slot": i}
            status, _, doc = cls.client.call(
                "PUT", f"/digitaltwins/{line}/relationships/{line}-r{i}{API}", body)
            assert status == 200, doc
        for i in range(29):
            body = {"$relationshipName": "feeds", "$targetId": f"robot-{i + 1:05d}"}
            status, _, doc = cls.client.call(
                "PUT", f"/digitaltwins/robot-{i:05d}/relationships/feeds-{i}{API}", body)
            assert status == 200, doc

    @classmethod
    def extra_args(cls):
        return ()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_cleanly(cls())
        finally:
            cls.tmp.cleanup()


class QueryLanguage(GraphCase):
    def test_select_star_returns_twin_documents(self):
        _, doc = self.client.query("SELECT * FROM DIGITALTWINS WHERE $dtId = 'robot-00007'")
        status, _, twin = self.client.call("GET", "/digitaltwins/robot-00007" + API)
        self.assertEqual(status, 200)
        self.assertEqual(doc["value"], [twin])
        self.assertNotIn("continuationToken", doc)

    def test_projections_filters_and_functions(self):
        rows = self.client.all_rows(
            "SELECT T.serial, T.arm.angle AS angle FROM DIGITALTWINS T "
            "WHERE IS_OF_MODEL(T, 'dtmi:it:Welder;1', exact) AND T.speed < 20 AND STARTSWITH(T.serial, 'SN-001')")
        expected = [{"serial": f"SN-{i:05d}", "angle": float(i % 90)}
                    for i in range(100, 200) if i % 5 == 0 and i % 50 < 20]
        self.assertCountEqual(rows, expected)
        rows = self.client.all_rows("SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:it:Robot;1')")
        self.assertEqual(rows, [{"COUNT": self.robots}])

    def test_join_match_and_relationships(self):
        rows = self.client.all_rows(
            "SELECT R.$dtId AS robot, E.slot FROM DIGITALTWINS L JOIN R RELATED L.contains E "
            "WHERE L.$dtId = 'line-1' AND E.slot < 10")
        self.assertCountEqual(rows, [{"robot": f"robot-{i:05d}", "slot": i} for i in (1, 4, 7)])
        rows = self.client.all_rows(
            "SELECT B.$dtId AS b FROM DIGITALTWINS MATCH (A)-[:feeds*3]->(B) WHERE A.$dtId = 'robot-00000'")
        self.assertEqual(rows, [{"b": "robot-00003"}])
        rows = self.client.all_rows(
            "SELECT L.$dtId AS line FROM DIGITALTWINS MATCH (L)-[:contains]->(R)-[:feeds]->(N) "
            "WHERE N.$dtId = 'robot-00010'")
        self.assertEqual(rows, [{"line": "line-0"}])
        rows = self.client.all_rows("SELECT COUNT() FROM RELATIONSHIPS R WHERE R.$relationshipName = 'feeds'")
        self.assertEqual(rows, [{"COUNT": 29}])

    def test_query_charge_header(self):
        headers, _ = self.client.query("SELECT * FROM DIGITALTWINS WHERE $dtId = 'robot-00001'")
        point = float(headers["query-charge"])
        headers, _ = self.client.query("SELECT COUNT() FROM DIGITALTWINS T WHERE T.speed > 10")
        scan = float(headers["query-charge"])
        self.assertGreaterEqual(point, 1.0)
        self.assertGreater(scan, point)

    def test_errors(self):
        status, headers, doc = self.client.call(
            "POST", "/query" + API, {"query": "SELECT * FROM DIGITALTWINS WHERE speed > 'x"})
        self.assertEqual(status, 400)
        self.assertEqual(doc["error"]["code"], "SqlQueryError")
        self.assertEqual(headers["x-ms-error-code"], "SqlQueryError")
        self.assertIn("position 42", doc["error"]["message"])
        status, _, doc = self.client.call("POST", "/query" + API, {"query": "SELECT FOO(x) FROM DIGITALTWINS"})
        self.assertEqual((status, doc["error"]["code"]), (400, "SqlQueryError"))
        status, _, doc = self.client.call("POST", "/query" + API, {"continuationToken": "garbage"})
        self.assertEqual((status, doc["error"]["code"]), (400, "BadRequest"))
        status, _, doc = self.client.call("POST", "/query" + API, {"nothing": 1})
        self.assertEqual((status, doc["error"]["code"]), (400, "BadRequest"))
        status, _, doc = self.client.call("POST", "/query", {"query": "SELECT * FROM DIGITALTWINS"})
        self.assertEqual(status, 400)
        status, _, doc = self.client.call("POST", "/query" + API, {"query": "SELECT * FROM DIGITALTWINS"},
                                          {"max-items-per-page": "zero"})
        self.assertEqual(status, 400)

    def test_queries_are_not_audited(self):
        self.client.query("SELECT COUNT() FROM DIGITALTWINS")
        with open(f"{self.tmp.data}/audit.log") as f:
            lines = [json.loads(line) for line in f if line.strip()]
        # Requests the dispatcher refuses (e.g. without api-version) are audited like any refused
        # POST; queries that ran are read-only and are not.
        self.assertEqual([l for l in lines if l["path"] == "/query" and l["status"] == 200], [])
        self.assertIn("/models", {l["path"] for l in lines})

    def test_openapi_describes_the_operation(self):
        status, _, doc = self.client.call("GET", "/openapi.json")
        self.assertEqual(status, 200)
        op = doc["paths"]["/query"]["post"]
        self.assertEqual(op["operationId"], "Query_QueryTwins")
        self.assertIn("query-charge", op["responses"]["200"]["headers"])


class PagingUnderWrites(GraphCase):
    robots = 1500

    def test_every_row_once_while_others_write(self):
        deleted = {f"robot-{i:05d}" for i in range(40, self.robots, 97)}
        stop = threading.Event()
        created = []

        def writer():
            client = Client(self.server)
            n = 0
            while not stop.is_set():
                i = (n * 7919 + 1) % self.robots
                if f"robot-{i:05d}" not in deleted and i >= 30:
                    status, _, doc = client.call(
                        "PATCH", f"/digitaltwins/robot-{i:05d}{API}",
                        [{"op": "replace", "path": "/speed", "value": 99.0}],
                        {"Content-Type": "application/json-patch+json"})
                    assert status == 204, doc
                status, _, doc = client.call("PUT", f"/digitaltwins/late-{n}{API}", robot(n))
                assert status == 200, doc
                created.append(n)
                n += 1

        threads = []

        def between_pages():
            if threads:
                return
            client = Client(self.server)
            for twin_id in deleted:
                status, _, _ = client.call("DELETE", f"/digitaltwins/{twin_id}{API}")
                assert status == 204, twin_id
            for _ in range(2):
                t = threading.Thread(target=writer)
                t.start()
                threads.append(t)

        try:
            rows = self.client.all_rows("SELECT T.$dtId, T.speed FROM DIGITALTWINS T WHERE T.batch = 'a'",
                                        page=100, between=between_pages)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreater(len(created), 0, "the writers ran while the pages were fetched")
        ids = [r["$dtId"] for r in rows]
        self.assertEqual(len(ids), len(set(ids)), "no row twice")
        expected = {f"robot-{i:05d}" for i in range(self.robots)} - deleted
        self.assertEqual(set(ids) - set(deleted), expected, "none skipped, none added")
        self.assertFalse(any(i.startswith("late-") for i in ids), "twins created later do not join")

    def test_page_sizes_and_the_last_page(self):
        _, doc = self.client.query("SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:it:Line;1')")
        self.assertEqual(len(doc["value"]), 3)
        self.assertNotIn("continuationToken", doc)
        _, doc = self.client.query("SELECT * FROM DIGITALTWINS", page=5000)
        self.assertEqual(len(doc["value"]), 1000, "the page is at most query_page_size")
        token = doc["continuationToken"]
        _, again = self.client.query(token=token, page=7)
        _, retry = self.client.query(token=token, page=7)
        self.assertEqual(again, retry, "a retried token gives the same page")


class QueryIndexes(GraphCase):
    """--query-indexes: declared property indexes and the model index make filtered queries
    examine only their candidates (query-charge: 1 + examined / 100 + ...), stay exact through
    patches, and come back after a restart."""

    @classmethod
    def extra_args(cls):
        return ("--query-indexes", "serial, dtmi:it:Robot;1:batch", "--query-auto-index-after", "0")

    def charge_and_rows(self, text):
        headers, doc = self.client.query(text)
        return float(headers["query-charge"]), doc["value"]

    def check_indexed(self):
        charge, rows = self.charge_and_rows("SELECT T.$dtId FROM DIGITALTWINS T WHERE T.serial = 'SN-00007'")
        self.assertEqual(rows, [{"$dtId": "robot-00007"}])
        self.assertLess(charge, 1.5)  # one twin examined, not 303
        charge, rows = self.charge_and_rows("SELECT COUNT() FROM DIGITALTWINS T WHERE T.serial >= 'SN-00290'")
        self.assertEqual(rows, [{"COUNT": 10}])
        self.assertLess(charge, 1.5)
        charge, rows = self.charge_and_rows(
            "SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:it:Robot;1') AND T.batch = 'z'")
        self.assertEqual(rows, [{"COUNT": 1}])
        self.assertLess(charge, 1.5)
        # Without the model condition the model-scoped index does not apply: a scan.
        charge, rows = self.charge_and_rows("SELECT COUNT() FROM DIGITALTWINS T WHERE T.batch = 'z'")
        self.assertEqual(rows, [{"COUNT": 1}])
        self.assertGreater(charge, 3.0)

    def test_indexes_follow_patches_and_restart(self):
        status, _, doc = self.client.call(
            "PATCH", "/digitaltwins/robot-00003" + API, [{"op": "replace", "path": "/batch", "value": "z"}])
        self.assertEqual(status, 204, doc)
        self.check_indexed()
        self.server.stop_cleanly(self)
        type(self).server = Server(self.tmp.data, "--insecure-local", "--durability", "relaxed",
                                   "--shards", "4", *self.extra_args())
        type(self).client = Client(self.server)
        self.check_indexed()

    def test_bad_index_option_stops_serve(self):
        proc = castor("serve", "--insecure-local", "--listen", "127.0.0.1:0", "--query-indexes",
                      "dtmi:it:Robot:speed", data=self.tmp.data + "-bad", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("query_indexes", proc.stderr)
        self.assertIn("version", proc.stderr)


class SecuredQuery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TempData()
        cls.viewer = castor("token", "create", "--role", "viewer", "--name", "q-viewer",
                            data=cls.tmp.data).stdout.strip()
        cls.server = Server(cls.tmp.data, "--query-page-size", "2", "--query-timeout", "5s")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_cleanly(cls())
        finally:
            cls.tmp.cleanup()

    def test_viewers_may_query_over_tls(self):
        client = Client(self.server, token=self.viewer)
        _, doc = client.query("SELECT COUNT() FROM DIGITALTWINS")
        self.assertEqual(doc["value"], [{"COUNT": 0}])
        anonymous = Client(self.server)
        status, _, _ = anonymous.call("POST", "/query" + API, {"query": "SELECT * FROM DIGITALTWINS"})
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
