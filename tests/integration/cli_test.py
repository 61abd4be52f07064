#!/usr/bin/env python3
"""Integration tests of castor's client subcommands (models, twins, query, import) against the real
`castor serve`: once over HTTPS with tokens and the generated CA, once with --insecure-local, and
with no server at all. Every check runs the real `castor` binary and looks at its exit status and
output. Usage: CASTOR_BIN=build/bin/castor cli_test.py -v [Class]"""
import http.server
import json
import os
import pty
import socket
import subprocess
import threading
import unittest

from castor_harness import CASTOR, Server, TempData, castor

API = "?api-version=2023-10-31"
CTX = "dtmi:dtdl:context;3"
ROBOT = "dtmi:clitest:Robot;1"
ARM = "dtmi:clitest:Arm;1"
ARM_MODEL = {"@context": CTX, "@id": ARM, "@type": "Interface", "contents": [
    {"@type": "Property", "name": "payload", "schema": "double", "writable": True}]}
ROBOT_MODEL = {"@context": CTX, "@id": ROBOT, "@type": "Interface", "displayName": "Robot",
               "contents": [
                   {"@type": "Property", "name": "speed", "schema": "double", "writable": True},
                   {"@type": "Property", "name": "mode", "schema": "string", "writable": True},
                   {"@type": "Property", "name": "serial", "schema": "string", "writable": True},
                   {"@type": "Component", "name": "arm", "schema": ARM}]}
# Variables a developer's shell may set; each test decides what the client sees.
CLIENT_ENV = ("CASTOR_URL", "CASTOR_TOKEN", "CASTOR_CACERT", "CASTOR_DATA", "CASTOR_CONFIG")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}
    env.update(extra)
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ClientCase(unittest.TestCase):
    """One server per class; `cli` runs a client subcommand pointed at it."""
    server_args = ()
    tls = True

    @classmethod
    def setUpClass(cls):
        cls.tmp = TempData()
        cls.tokens = {}
        if cls.tls:
            for role in ("admin", "viewer"):
                cls.tokens[role] = castor("token", "create", "--role", role, "--name",
                                          f"cli-{role}", data=cls.tmp.data).stdout.strip()
        cls.server = Server(cls.tmp.data, *cls.server_args)
        cls.models_dir = os.path.join(cls.tmp.root, "models")
        os.makedirs(cls.models_dir)
        cls.write(os.path.join(cls.models_dir, "robot.json"), ROBOT_MODEL)
        cls.write(os.path.join(cls.models_dir, "arm.json"), [ARM_MODEL])  # an array file

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_cleanly(cls())
        finally:
            cls.tmp.cleanup()

    @staticmethod
    def write(path, doc):
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def cli(self, *args, token="admin", auth=True, stdin=None, env=None):
        """Runs `castor ARGS` against this class's server; returns the CompletedProcess."""
        cmd = [CASTOR, *args, "--url", self.server.url]
        if self.tls and auth:
            cmd += ["--cacert", self.server.ca_file()]
            if token:
                cmd += ["--token", self.tokens[token]]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin,
                              env=env or clean_env())

    def ok(self, *args, **kw):
        p = self.cli(*args, **kw)
        self.assertEqual(p.returncode, 0, f"{args}: {p.stderr}")
        return p

    def refused(self, code, *args, **kw):
        """The command must exit 1 and print the server's ADT error code."""
        p = self.cli(*args, **kw)
        self.assertEqual(p.returncode, 1, f"{args}: {p.stdout} {p.stderr}")
        self.assertIn(code, p.stderr)
        return p

    def ensure_models(self):
        p = self.cli("models", "get", ROBOT)
        if p.returncode != 0:
            self.ok("models", "add", self.models_dir)


class TwinCommands:
    """Twin and model commands; mixed into the TLS and the insecure-local classes."""

    def test_models_add_list_get_decommission_delete(self):
        ids = ["dtmi:clitest:life:A;1", "dtmi:clitest:life:B;1"]
        folder = os.path.join(self.tmp.root, "life")
        os.makedirs(folder)
        self.write(os.path.join(folder, "a.json"), {"@context": CTX, "@id": ids[0],
                                                    "@type": "Interface", "contents": []})
        self.write(os.path.join(folder, "b.json"), {"@context": CTX, "@id": ids[1],
                                                    "@type": "Interface", "extends": ids[0]})
        added = self.ok("models", "add", folder)
        for i in ids:
            self.assertIn(f"added  {i}", added.stdout)
        again = self.refused("ModelAlreadyExists", "models", "add", folder)
        self.assertIn(f"not added  {ids[0]}", again.stdout)
        table = self.ok("models", "list").stdout
        self.assertTrue(table.startswith("ID "), table)
        self.assertIn(ids[1], table)
        got = json.loads(self.ok("models", "get", ids[1], "--definition", "--json").stdout)
        self.assertEqual(got["model"]["extends"], ids[0])
        self.assertIn('"extends": "' + ids[0], self.ok("models", "get", ids[1], "--definition").stdout)
        self.ok("models", "decommission", ids[1])
        listed = {m["id"]: m for m in json.loads(self.ok("models", "list", "--json").stdout)}
        self.assertTrue(listed[ids[1]]["decommissioned"])
        self.assertFalse(listed[ids[0]]["decommissioned"])
        self.refused("ModelReferencesNotDeleted", "models", "delete", ids[0])
        self.ok("models", "delete", ids[1])
        self.ok("models", "delete", ids[0])
        self.refused("ModelNotFound", "models", "get", ids[0])

    def test_invalid_models_print_the_parser_errors(self):
        bad = self.write(os.path.join(self.tmp.root, "bad.json"),
                         {"@context": CTX, "@id": "dtmi:clitest:Bad;1", "@type": "Interface",
                          "contents": [{"@type": "Property", "name": "x", "schema": "nope"}]})
        p = self.refused("DTDLParserError", "models", "add", bad)
        self.assertIn("No model was added", p.stderr)

    def test_twin_put_get_set_patch_delete(self):
        self.ensure_models()
        twin = self.write(os.path.join(self.tmp.root, "r1.json"),
                          {"$metadata": {"$model": ROBOT}, "speed": 1.5,
                           "arm": {"$metadata": {}, "payload": 2}})
        self.assertIn("Twin 'cli r/1' written", self.ok("twins", "put", "cli r/1", twin).stdout)
        got = json.loads(self.ok("twins", "get", "cli r/1").stdout)  # pretty JSON still parses
        self.assertEqual((got["$dtId"], got["speed"]), ("cli r/1", 1.5))
        self.ok("twins", "set", "cli r/1", "speed=2.5", "mode=auto", "serial=007", "arm/payload=3")
        got = json.loads(self.ok("twins", "get", "cli r/1", "--json").stdout)
        self.assertEqual((got["speed"], got["mode"], got["serial"], got["arm"]["payload"]),
                         (2.5, "auto", "007", 3))
        patch = '[{"op": "replace", "path": "/speed", "value": 9}]'
        patched = json.loads(self.ok("twins", "patch", "cli r/1", "-", "--json", stdin=patch).stdout)
        current = self.etag("cli r/1")
        self.assertEqual(patched["$etag"], current)
        self.refused("PreconditionFailed", "twins", "set", "cli r/1", "speed=1",
                     "--if-match", got["$etag"])  # stale
        self.ok("twins", "set", "cli r/1", "speed=1", "--if-match", current)
        self.ok("twins", "set", "cli r/1", "--remove", "mode")
        self.assertNotIn("mode", json.loads(self.ok("twins", "get", "cli r/1", "--json").stdout))
        self.refused("ValidationFailed", "twins", "set", "cli r/1", "speed=fast")
        self.assertIn("deleted", self.ok("twins", "delete", "cli r/1").stdout)
        self.refused("DigitalTwinNotFound", "twins", "get", "cli r/1")

    def etag(self, twin):
        return json.loads(self.ok("twins", "get", twin, "--json").stdout)["$etag"]

    def test_twin_put_from_model_and_sets(self):
        self.ensure_models()
        self.ok("twins", "put", "r2", "--model", ROBOT, "--set", "speed=4", "--set",
                'arm={"$metadata": {}}', "--create-only")
        got = json.loads(self.ok("twins", "get", "r2", "--json").stdout)
        self.assertEqual((got["$metadata"]["$model"], got["speed"]), (ROBOT, 4))
        self.refused("PreconditionFailed", "twins", "put", "r2", "--model", ROBOT, "--set",
                     'arm={"$metadata": {}}', "--create-only")
        self.refused("DigitalTwinNotFound", "twins", "delete", "no-such-twin")
        self.ok("twins", "delete", "r2")

    def test_usage_errors_exit_2(self):
        missing = os.path.join(self.tmp.root, "missing.json")
        notjson = os.path.join(self.tmp.root, "not.json")
        with open(notjson, "w") as f:
            f.write("{oops")
        for args in (["twins", "get"],                           # missing id
                     ["twins", "get", "x", "--bogus"],           # unknown option
                     ["twins", "put", "x"],                      # neither FILE nor --model
                     ["twins", "put", "x", missing],
                     ["twins", "patch", "x", notjson],
                     ["twins", "set", "x", "=3"],
                     ["models", "add", missing],
                     ["twins"]):
            p = self.cli(*args)
            self.assertEqual(p.returncode, 2, f"{args}: {p.stderr}")
        p = subprocess.run([CASTOR, "twins", "get", "x", "--url", "ftp://example"],
                           capture_output=True, text=True, env=clean_env())
        self.assertEqual(p.returncode, 2)
        self.assertIn("http:// or https://", p.stderr)

    def test_query_and_twins_list(self):
        self.ensure_models()
        ids = [f"q{i}" for i in range(5)]
        for i in ids:
            self.ok("twins", "put", i, "--model", ROBOT, "--set", 'arm={"$metadata": {}}',
                    "--set", "speed=7")
        rows = json.loads(self.ok("query", "SELECT * FROM DIGITALTWINS T WHERE T.speed = 7",
                                  "--page-size", "2", "--json").stdout)  # three pages
        self.assertEqual(sorted(r["$dtId"] for r in rows), ids)
        table = self.ok("query", "SELECT T.$dtId, T.speed FROM DIGITALTWINS T WHERE T.speed = 7")
        self.assertEqual(table.stdout.splitlines()[0].split(), ["$dtId", "speed"])
        self.assertIn("5 row(s)", table.stderr)
        listing = self.ok("twins", "list", "--model", ROBOT).stdout
        self.assertTrue(all(f"{i}  {ROBOT}" in listing for i in ids), listing)
        self.refused("SqlQueryError", "query", "SELEC nothing")
        for i in ids:
            self.ok("twins", "delete", i)


class TlsClient(TwinCommands, ClientCase):
    def test_model_list_pages_over_one_connection(self):
        ids = [f"dtmi:clitest:page:M{i};1" for i in range(130)]  # ADT pages models by 100
        doc = [{"@context": CTX, "@id": i, "@type": "Interface"} for i in ids]
        path = self.write(os.path.join(self.tmp.root, "many.json"), doc)
        self.ok("models", "add", path)
        before = self.connections_accepted()
        listed = [m["id"] for m in json.loads(self.ok("models", "list", "--json").stdout)]
        self.assertTrue(set(ids) <= set(listed), len(listed))
        self.assertEqual(len(listed), len(set(listed)))
        # Two pages, one kept-alive connection (the other new one is this metrics request).
        self.assertEqual(self.connections_accepted() - before, 2)

    def connections_accepted(self):
        _, _, body = self.server.request("GET", "/metrics", token=self.tokens["viewer"])
        for line in body.decode().splitlines():
            if line.startswith("castor_http_connections_total "):
                return float(line.split()[1])
        self.fail("no castor_http_connections_total in /metrics")

    def test_missing_and_bad_tokens_say_how_to_get_one(self):
        p = self.refused("Unauthorized", "models", "list", token=None)
        self.assertIn("castor token create", p.stderr)
        self.assertIn("--token", p.stderr)
        p = subprocess.run([CASTOR, "models", "list", "--url", self.server.url, "--cacert",
                            self.server.ca_file(), "--token", "castor_not-a-real-token"],
                           capture_output=True, text=True, env=clean_env())
        self.assertEqual(p.returncode, 1)
        self.assertIn("Unauthorized (HTTP 401)", p.stderr)
        self.assertIn("castor token create", p.stderr)
        self.assertNotIn("castor_not-a-real-token", p.stderr)

    def test_viewer_cannot_add_models(self):
        p = self.refused("Forbidden", "models", "add", self.models_dir, token="viewer")
        self.assertIn("role", p.stderr)

    def test_untrusted_or_wrong_ca_gives_the_cacert_hint(self):
        other = os.path.join(self.tmp.root, "other-ca.pem")
        key = os.path.join(self.tmp.root, "other-ca.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", other,
                        "-days", "1", "-subj", "/CN=Some other CA"],
                       check=True, capture_output=True)
        for ca in (["--cacert", other], []):  # a wrong CA, then the system roots
            p = subprocess.run([CASTOR, "models", "list", "--url", self.server.url,
                                "--token", self.tokens["admin"], *ca],
                               capture_output=True, text=True, env=clean_env())
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("not trusted", p.stderr)
            self.assertIn("--cacert DATA/tls/ca.pem", p.stderr)

    def test_certificate_name_is_checked(self):
        # "127.1" reaches 127.0.0.1 but is not a name in the generated certificate.
        url = f"https://127.1:{self.server.port}/"
        p = subprocess.run([CASTOR, "models", "list", "--url", url, "--data", self.tmp.data,
                            "--token", self.tokens["admin"]],
                           capture_output=True, text=True, env=clean_env())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("not issued for '127.1'", p.stderr)

    def test_data_env_and_insecure_ways_to_connect(self):
        base = [CASTOR, "models", "list", "--json"]
        via_data = subprocess.run(base + ["--url", self.server.url, "--data", self.tmp.data,
                                          "--token", self.tokens["viewer"]],
                                  capture_output=True, text=True, env=clean_env())
        self.assertEqual(via_data.returncode, 0, via_data.stderr)
        via_env = subprocess.run(base, capture_output=True, text=True, env=clean_env(
            CASTOR_URL=self.server.url, CASTOR_TOKEN=self.tokens["viewer"],
            CASTOR_CACERT=self.server.ca_file()))
        self.assertEqual(via_env.returncode, 0, via_env.stderr)
        insecure = subprocess.run(base + ["--url", self.server.url, "--insecure"],
                                  capture_output=True, text=True,
                                  env=clean_env(CASTOR_TOKEN=self.tokens["viewer"]))
        self.assertEqual(insecure.returncode, 0, insecure.stderr)
        self.assertIn("warning: --insecure", insecure.stderr)

    def test_plain_http_to_the_tls_server_suggests_https(self):
        url = f"http://127.0.0.1:{self.server.port}/"
        p = subprocess.run([CASTOR, "models", "list", "--url", url, "--token",
                            self.tokens["admin"]], capture_output=True, text=True, env=clean_env())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("https://", p.stderr)

    def test_import(self):
        if not self.import_jobs_served():
            self.skipTest("the server has no import-jobs API yet (PUT /jobs/imports/{id} is 404)")
        lines = [{"Section": "Header"}, {"fileVersion": "1.0.0", "author": "cli_test",
                                         "organization": "castor"},
                 {"Section": "Models"},
                 {"@context": CTX, "@id": "dtmi:clitest:imp:Cell;1", "@type": "Interface",
                  "contents": [{"@type": "Property", "name": "n", "schema": "integer"},
                               {"@type": "Relationship", "name": "next"}]},
                 {"Section": "Twins"}]
        lines += [{"$dtId": f"cell-{i}", "$metadata": {"$model": "dtmi:clitest:imp:Cell;1"},
                   "n": i} for i in range(50)]
        lines.append({"Section": "Relationships"})
        lines += [{"$dtId": f"cell-{i}", "$relationshipId": f"next-{i}", "$targetId":
                   f"cell-{i + 1}", "$relationshipName": "next"} for i in range(49)]
        src = os.path.join(self.tmp.root, "plant.ndjson")
        with open(src, "w") as f:
            f.write("\n".join(json.dumps(line) for line in lines) + "\n")
        p = self.cli("import", src, "--data", self.tmp.data, "--job-id", "cli-import-1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Import job 'cli-import-1' succeeded", p.stderr)
        self.assertIn("1 model, 50 twins, 49 relationships", p.stderr)
        folder = os.path.join(self.tmp.data, "import")
        self.assertTrue(os.path.exists(os.path.join(folder, "cli-import-1.log.ndjson")))
        self.assertFalse(os.path.exists(os.path.join(folder, "cli-import-1.ndjson")))  # our copy
        self.assertEqual(json.loads(self.ok("twins", "get", "cell-49", "--json").stdout)["n"], 49)
        # An import with an invalid twin fails, says why, and exits 1.
        bad = [lines[0], lines[1], {"Section": "Twins"},
               {"$dtId": "x", "$metadata": {"$model": "dtmi:clitest:imp:Missing;1"}}]
        with open(src, "w") as f:
            f.write("\n".join(json.dumps(line) for line in bad) + "\n")
        p = self.cli("import", src, "--data", self.tmp.data, "--job-id", "cli-import-2")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("Import job 'cli-import-2' failed", p.stderr)
        self.assertIn("dtmi:clitest:imp:Missing;1", p.stderr)
        # A file already in the import folder, named with --remote: nothing is copied.
        with open(os.path.join(folder, "again.ndjson"), "w") as f:
            f.write("\n".join(json.dumps(line) for line in lines[:5]) + "\n")
        p = self.cli("import", "again.ndjson", "--remote", "--job-id", "cli-import-3", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["status"], "succeeded")
        no_folder = self.cli("import", src)  # neither --data nor --import-dir nor --remote
        self.assertEqual(no_folder.returncode, 2)
        self.assertIn("--remote", no_folder.stderr)

    def test_import_shows_a_progress_bar_on_a_terminal(self):
        if not self.import_jobs_served():
            self.skipTest("the server has no import-jobs API yet (PUT /jobs/imports/{id} is 404)")
        model = "dtmi:clitest:bar:Cell;1"
        lines = [{"Section": "Header"}, {"fileVersion": "1.0.0", "author": "cli_test",
                                         "organization": "castor"},
                 {"Section": "Models"}, {"@context": CTX, "@id": model, "@type": "Interface"},
                 {"Section": "Twins"}]
        lines += [{"$dtId": f"bar-{i}", "$metadata": {"$model": model}} for i in range(20)]
        src = os.path.join(self.tmp.root, "bar.ndjson")
        with open(src, "w") as f:
            f.write("\n".join(json.dumps(line) for line in lines) + "\n")
        master, slave = pty.openpty()
        cmd = [CASTOR, "import", src, "--data", self.tmp.data, "--url", self.server.url,
               "--token", self.tokens["admin"], "--job-id", "cli-bar"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, env=clean_env())
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        self.assertEqual(proc.wait(timeout=60), 0, out)
        text = out.decode()
        self.assertIn("[########################] 100% succeeded", text)
        self.assertIn("1 model, 20 twins, 0 relationships", text)

    def import_jobs_served(self):
        status, _, body = self.server.request("GET", "/jobs/imports/cli-probe" + API,
                                              token=self.tokens["admin"])
        return not (status == 404 and b"No resource at" in body)


class InsecureLocalClient(TwinCommands, ClientCase):
    server_args = ("--insecure-local",)
    tls = False

    def test_https_to_a_plain_server_suggests_http(self):
        url = self.server.url.replace("http://", "https://")
        p = subprocess.run([CASTOR, "twins", "get", "x", "--url", url],
                           capture_output=True, text=True, env=clean_env())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("does not speak TLS", p.stderr)
        self.assertIn("--url " + self.server.url, p.stderr)


class StubHandler(http.server.BaseHTTPRequestHandler):
    """A server that has none of the ADT routes: what an older castor answers."""

    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": {"code": "NotFound", "message": f"No resource at {self.path}"}})
        self.send_response(404)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = do_PUT = answer

    def log_message(self, *args):
        pass


class ServerWithoutQueryOrJobs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
        cls.thread = threading.Thread(target=cls.httpd.serve_forever, daemon=True)
        cls.thread.start()
        cls.url = f"http://127.0.0.1:{cls.httpd.server_address[1]}/"

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()
        cls.httpd.server_close()

    def run_cli(self, *args):
        return subprocess.run([CASTOR, *args, "--url", self.url], capture_output=True, text=True,
                              timeout=60, env=clean_env())

    def test_query_and_list_say_the_query_endpoint_is_missing(self):
        p = self.run_cli("query", "SELECT * FROM DIGITALTWINS")
        self.assertEqual(p.returncode, 1)
        self.assertIn("has no query endpoint (POST /query) yet", p.stderr)
        p = self.run_cli("twins", "list")
        self.assertEqual(p.returncode, 1)
        self.assertIn("listing twins needs the query endpoint (POST /query)", p.stderr)

    def test_import_says_the_jobs_api_is_missing(self):
        p = self.run_cli("import", "plant.ndjson", "--remote")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no import-jobs API", p.stderr)


class ServerDown(unittest.TestCase):
    def test_connection_refused_asks_whether_the_server_runs(self):
        url = f"https://127.0.0.1:{free_port()}/"
        for args in (["twins", "get", "x"], ["models", "list"], ["query", "SELECT * FROM DIGITALTWINS"]):
            p = subprocess.run([CASTOR, *args, "--url", url], capture_output=True, text=True,
                               env=clean_env())
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(f"is castor serve running at {url}?", p.stderr)

    def test_help_lists_the_common_options_and_an_example(self):
        p = subprocess.run([CASTOR, "twins", "put", "--help"], capture_output=True, text=True,
                           env=clean_env())
        self.assertEqual(p.returncode, 0)
        for text in ("--url", "CASTOR_URL", "--token", "--cacert", "--data", "--insecure",
                     "--json", "Example:", "castor twins put"):
            self.assertIn(text, p.stdout)


if __name__ == "__main__":
    unittest.main()
