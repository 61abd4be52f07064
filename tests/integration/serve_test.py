#!/usr/bin/env python3
"""Integration tests of `castor serve`: TLS, tokens and roles, keep-alive, metrics, audit, body
limits, configuration and graceful shutdown, against the real binary with real HTTP clients
(Python's http.client/ssl and curl). Usage: CASTOR_BIN=build/bin/castor serve_test.py [Class]"""
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import time
import unittest

from castor_harness import Server, TempData, castor

API = "?api-version=2023-10-31"


def make_tokens(data):
    tokens = {}
    for role in ("admin", "operator", "viewer"):
        tokens[role] = castor("token", "create", "--role", role, "--name", f"it-{role}",
                              data=data).stdout.strip()
    tokens["device"] = castor("token", "create", "--role", "device", "--name", "it-device",
                              "--twins", "robot-*", data=data).stdout.strip()
    return tokens


class ServerCase(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = TempData()
        cls.tokens = make_tokens(cls.tmp.data)
        cls.server = Server(cls.tmp.data, *cls.server_args)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_cleanly(cls())
        finally:
            cls.tmp.cleanup()

    def audit_lines(self):
        with open(os.path.join(self.tmp.data, "audit.log")) as f:
            return [json.loads(line) for line in f if line.strip()]


class TlsAndAuth(ServerCase):
    server_args = ("--max-body-size", "4KiB")

    def test_first_start_generates_a_ca_and_says_how_to_trust_it(self):
        names = ["ca.pem", "server.pem", "server.key"]
        for name in names:
            self.assertTrue(os.path.exists(os.path.join(self.tmp.data, "tls", name)), name)
        mode = os.stat(os.path.join(self.tmp.data, "tls", "server.key")).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        self.assertIn("curl --cacert", self.server.log())
        self.assertTrue(self.server.url.startswith("https://127.0.0.1:"))

    def test_tls_verifies_for_ip_and_localhost_and_fails_without_the_ca(self):
        for host in ("127.0.0.1", "localhost"):
            conn = self.server.connection(host=host)
            status, _, _ = self.server.request("GET", "/healthz", conn=conn)
            self.assertEqual(status, 200, host)
            conn.close()
        untrusted = ssl.create_default_context()  # system roots only
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.server.request("GET", "/healthz", conn=self.server.connection(context=untrusted))
        curl = subprocess.run(["curl", "-sS", "--cacert", self.server.ca_file(),
                               self.server.url + "healthz"], capture_output=True, text=True)
        self.assertEqual(curl.returncode, 0, curl.stderr)
        self.assertEqual(json.loads(curl.stdout), {"status": "ok"})
        no_ca = subprocess.run(["curl", "-sS", self.server.url + "healthz"],
                               capture_output=True, text=True)
        self.assertNotEqual(no_ca.returncode, 0)

    def test_health_readiness_and_openapi_need_no_token(self):
        self.assertEqual(self.server.json("GET", "/readyz")[2], {"status": "ready"})
        status, headers, doc = self.server.json("GET", "/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(doc["openapi"], "3.0.3")
        self.assertIn("/healthz", doc["paths"])
        self.assertEqual(doc["paths"]["/metrics"]["get"]["x-castor-access"], "viewer")

    def test_missing_or_bad_token_is_401_in_the_adt_shape(self):
        status, headers, body = self.server.json("GET", "/metrics")
        self.assertEqual(status, 401)
        self.assertEqual(body["error"]["code"], "Unauthorized")
        self.assertIn("castor token create", body["error"]["message"])
        self.assertTrue(headers["www-authenticate"].startswith("Bearer"))
        status, headers, body = self.server.json("GET", "/metrics", token="castor_" + "x" * 43)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])

    def test_wrong_role_is_403_and_allowed_roles_pass(self):
        status, _, body = self.server.json("GET", "/metrics", token=self.tokens["device"])
        self.assertEqual(status, 403)
        self.assertEqual(body["error"]["code"], "Forbidden")
        for role in ("viewer", "operator", "admin"):
            status, _, _ = self.server.request("GET", "/metrics", token=self.tokens[role])
            self.assertEqual(status, 200, role)

    def test_device_token_may_ingest_only_for_its_own_twins(self):
        # Its own twin's fields first, then another twin's: the whole batch is 403, naming it.
        lp = "robot-1 temp=1,rpm=2i 1\nrobot-1,component=arm x=3 1\nline-1 speed=4 1\n"
        status, _, body = self.server.json("POST", "/castor/v1/ingest", body=lp,
                                           headers={"Content-Type": "text/plain"},
                                           token=self.tokens["device"])
        self.assertEqual(status, 403, body)
        self.assertIn("line-1", body["error"]["message"])

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = self.server.connection()
        conn.connect()
        sock = conn.sock
        local = sock.getsockname()
        for _ in range(5):
            status, headers, _ = self.server.request("GET", "/healthz", conn=conn)
            self.assertEqual(status, 200)
            self.assertNotEqual(headers.get("connection"), "close")
        self.assertIs(conn.sock, sock, "the client had to reconnect")
        self.assertEqual(conn.sock.getsockname(), local)
        conn.close()

    def test_metrics_expose_requests_latencies_and_process(self):
        self.server.request("GET", "/healthz")
        status, headers, body = self.server.request("GET", "/metrics", token=self.tokens["viewer"])
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = body.decode()
        self.assertIn('castor_http_requests_total{route="/healthz",method="GET",status="200"}', text)
        self.assertIn("# TYPE castor_http_request_duration_seconds histogram", text)
        self.assertIn('castor_http_request_duration_seconds_bucket{route="/healthz",method="GET",'
                      'le="+Inf"}', text)
        self.assertIn("process_resident_memory_bytes", text)
        self.assertIn("castor_audit_queue_depth", text)
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name_labels, value = line.rsplit(" ", 1)
                float(value)  # every sample value parses

    def store_metrics(self):
        _, _, body = self.server.request("GET", "/metrics", token=self.tokens["viewer"])
        out = {}
        for line in body.decode().splitlines():
            if line.startswith("castor_store_"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def test_metrics_show_the_stores_group_commits_and_fsyncs(self):
        before = self.store_metrics()
        model = {"@context": "dtmi:dtdl:context;3", "@type": "Interface",
                 "@id": "dtmi:castor:it:StoreMetrics;1",
                 "contents": [{"@type": "Property", "name": "x", "schema": "double"}]}
        status, _, body = self.server.json("POST", "/models" + API, token=self.tokens["admin"],
                                           body=json.dumps([model]).encode(),
                                           headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, body)
        for i in range(3):
            status, _, body = self.server.json(
                "PUT", f"/digitaltwins/store-metrics-{i}" + API, token=self.tokens["admin"],
                body=json.dumps({"$metadata": {"$model": model["@id"]}, "x": i}).encode(),
                headers={"Content-Type": "application/json"})
            self.assertEqual(status, 200, body)
        after = self.store_metrics()
        grew = {k: after[k] - before.get(k, 0.0) for k in after}
        # Each acknowledged PUT was committed and fsync'd (strict durability, the default).
        self.assertGreaterEqual(grew["castor_store_batches_committed_total"], 3, grew)
        self.assertGreaterEqual(grew["castor_store_wal_syncs_total"], 3, grew)
        self.assertEqual(grew["castor_store_group_writes_total"],
                         grew["castor_store_wal_syncs_total"], grew)  # strict: one fsync each
        self.assertGreater(grew["castor_store_group_write_seconds_total"], 0, grew)
        self.assertEqual(after["castor_store_pending_batches"], 0, after)

    def test_mutations_are_audited_with_principal_method_path_status_and_trace(self):
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        status, _, body = self.server.json(
            "PUT", "/digitaltwins/robot-1" + API, token=self.tokens["admin"], body=b"{}",
            headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01",
                     "Content-Type": "application/json"})
        self.assertEqual(status, 400)  # a twin without $metadata: refused, still a mutation attempt
        self.assertEqual(body["error"]["code"], "ValidationFailed")
        self.server.request("DELETE", "/healthz")  # 405, anonymous
        self.server.request("GET", "/healthz")     # reads are not audited
        lines = self.audit_lines()
        mine = [l for l in lines if l["trace_id"] == trace]
        self.assertEqual(len(mine), 1, lines)
        self.assertEqual(mine[0]["principal"], "it-admin")
        self.assertEqual(mine[0]["role"], "admin")
        self.assertEqual(mine[0]["method"], "PUT")
        self.assertEqual(mine[0]["path"], "/digitaltwins/robot-1")
        self.assertEqual(mine[0]["status"], 400)
        self.assertTrue(mine[0]["time"].endswith("Z"))
        self.assertTrue(any(l["method"] == "DELETE" and l["status"] == 405 for l in lines))
        self.assertFalse(any(l["method"] == "GET" for l in lines))
        self.assertIn(trace, self.server.log(), "the trace id is echoed into the logs")

    def test_oversized_bodies_get_413_in_the_adt_shape(self):
        status, headers, body = self.server.json("POST", "/digitaltwins/x/telemetry" + API,
                                                 token=self.tokens["admin"], body=b"x" * 5000)
        self.assertEqual(status, 413)
        self.assertEqual(body["error"]["code"], "PayloadTooLarge")
        self.assertIn("4096", body["error"]["message"])
        self.assertTrue(any(l["status"] == 413 for l in self.audit_lines()))
        # Chunked bodies without a Content-Length are cut off at the same limit.
        sock = socket.create_connection((self.server.host, self.server.port))
        tls = self.server.ssl_context().wrap_socket(sock, server_hostname="127.0.0.1")
        chunk = b"1000\r\n" + b"y" * 4096 + b"\r\n"
        tls.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2)
        reply = tls.recv(4096).decode()
        self.assertTrue(reply.startswith("HTTP/1.1 413"), reply)
        tls.close()

    def test_revoked_tokens_stop_working_without_a_restart(self):
        token = castor("token", "create", "--role", "viewer", "--name", "short-lived",
                       data=self.tmp.data).stdout.strip()
        deadline = time.monotonic() + 5
        while self.server.request("GET", "/metrics", token=token)[0] != 200:
            self.assertLess(time.monotonic(), deadline, "new token never accepted")
            time.sleep(0.2)
        castor("token", "revoke", "short-lived", data=self.tmp.data)
        while self.server.request("GET", "/metrics", token=token)[0] != 401:
            self.assertLess(time.monotonic(), deadline, "revoked token still accepted")
            time.sleep(0.2)


class TlsConnections(ServerCase):
    """The TLS transport (OpenSSL on the socket, src/api/tls_socket.hpp) under clients that stall
    or vanish: deadlines hold in the handshake and between requests, and a client gone while its
    response is being written ends that connection only."""
    server_args = ("--header-timeout", "1s")

    def closed_within(self, sock, seconds):
        """True when the server closes `sock` (EOF or reset) within `seconds`."""
        sock.settimeout(seconds)
        start = time.monotonic()
        try:
            while sock.recv(4096):
                pass
        except (ConnectionResetError, ssl.SSLError):
            pass
        except socket.timeout:
            return False
        return time.monotonic() - start < seconds

    def test_a_client_silent_in_the_handshake_is_cut_at_the_header_timeout(self):
        with socket.create_connection((self.server.host, self.server.port)) as sock:
            self.assertTrue(self.closed_within(sock, 4), "no handshake, yet still open after 4 s")

    def test_an_idle_keep_alive_connection_is_cut_and_a_busy_one_is_not(self):
        ctx = self.server.ssl_context()
        with socket.create_connection((self.server.host, self.server.port)) as raw:
            tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            # Requests 0.4 s apart for 2 s: each restarts the 1 s header deadline.
            for _ in range(5):
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                reply = tls.recv(4096)
                self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
                time.sleep(0.4)
            self.assertTrue(self.closed_within(tls, 4), "idle keep-alive connection never cut")

    def test_clients_that_leave_abruptly_end_only_their_connection(self):
        # Clients that half-close and then reset (as a load generator exiting does) while the
        # server is blocked writing to them: the server's next write meets a reset socket (EPIPE,
        # and SIGPIPE unless sent with MSG_NOSIGNAL). 200 pipelined requests of 45 KB each, none
        # of them read, are far more than the socket buffers hold.
        ctx = self.server.ssl_context()
        request = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 200
        for _ in range(3):
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.connect((self.server.host, self.server.port))
            tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            tls.sendall(request)
            self.assertEqual(tls.recv(1), b"H")
            time.sleep(0.2)
            tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socket.socket.shutdown(tls, socket.SHUT_WR)  # TCP FIN without TLS close_notify
            time.sleep(0.05)
            socket.socket.close(tls)  # then RST
        time.sleep(0.3)
        self.assertIsNone(self.server.proc.poll(), "castor serve exited:\n" + self.server.log())
        status, _, body = self.server.request("GET", "/openapi.json", token=self.tokens["admin"])
        self.assertEqual(status, 200)
        self.assertIn(b'"openapi"', body)


class Restart(unittest.TestCase):
    def test_certificate_is_reused_and_sigterm_exits_zero_quickly(self):
        tmp = TempData()
        try:
            server = Server(tmp.data)
            with open(server.ca_file(), "rb") as f:
                first = hashlib.sha256(f.read()).hexdigest()
            idle = server.connection()  # an idle keep-alive connection must not delay shutdown
            self.assertEqual(server.request("GET", "/healthz", conn=idle)[0], 200)
            rc, took = server.terminate()
            self.assertEqual(rc, 0, server.log())
            self.assertLess(took, 5)
            idle.close()
            again = Server(tmp.data)
            with open(again.ca_file(), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), first)
            self.assertIn("reusing", again.log())
            self.assertEqual(again.request("GET", "/healthz")[0], 200)
            rc, _ = again.terminate()
            self.assertEqual(rc, 0)
        finally:
            tmp.cleanup()


class InsecureLocal(unittest.TestCase):
    def setUp(self):
        self.tmp = TempData()

    def tearDown(self):
        self.tmp.cleanup()

    def test_refuses_non_loopback_addresses(self):
        for listen in ("0.0.0.0:0", "[::]:0", "192.0.2.1:0"):
            proc = castor("serve", "--insecure-local", "--listen", listen, data=self.tmp.data,
                          check=False)
            self.assertEqual(proc.returncode, 2, listen)
            self.assertIn("loopback", proc.stderr)
            self.assertEqual(proc.stdout, "")

    def test_serves_plain_http_without_tokens_and_warns(self):
        server = Server(self.tmp.data, "--insecure-local")
        try:
            self.assertTrue(server.url.startswith("http://127.0.0.1:"))
            status, _, body = server.request("GET", "/metrics")
            self.assertEqual(status, 200)
            self.assertIn("level=warn", server.log())
            self.assertIn("insecure-local", server.log())
            server.request("POST", "/anything", body=b"{}")
            with open(os.path.join(self.tmp.data, "audit.log")) as f:
                self.assertEqual(json.loads(f.readline())["principal"], "local")
            rc, _ = server.terminate()
            self.assertEqual(rc, 0)
        finally:
            server.kill()


class TokenCli(unittest.TestCase):
    def setUp(self):
        self.tmp = TempData()

    def tearDown(self):
        self.tmp.cleanup()

    def test_create_prints_only_the_token_and_list_never_shows_it(self):
        proc = castor("token", "create", "--role", "device", "--name", "robot-7",
                      "--twins", "robot-7", "robot-7-*", data=self.tmp.data)
        token = proc.stdout.strip()
        self.assertEqual(proc.stdout.count("\n"), 1)
        self.assertRegex(token, r"^castor_[A-Za-z0-9_-]{43}$")
        self.assertIn("shown only once", proc.stderr)
        listed = castor("token", "list", "--json", data=self.tmp.data).stdout
        self.assertNotIn(token[7:], listed)
        entry = json.loads(listed)[0]
        self.assertEqual((entry["name"], entry["role"], entry["twins"]),
                         ("robot-7", "device", ["robot-7", "robot-7-*"]))
        with open(os.path.join(self.tmp.data, "tokens.json")) as f:
            self.assertNotIn(token[7:], f.read())
        table = castor("token", "list", data=self.tmp.data).stdout
        self.assertIn("robot-7", table)
        castor("token", "revoke", entry["id"], data=self.tmp.data)
        self.assertEqual(json.loads(castor("token", "list", "--json", data=self.tmp.data).stdout), [])

    def test_mistakes_exit_nonzero_with_a_fix(self):
        bad_role = castor("token", "create", "--role", "root", data=self.tmp.data, check=False)
        self.assertEqual(bad_role.returncode, 2)
        self.assertIn("admin, operator, viewer or device", bad_role.stderr)
        no_twins = castor("token", "create", "--role", "device", data=self.tmp.data, check=False)
        self.assertEqual(no_twins.returncode, 2)
        self.assertIn("--twins", no_twins.stderr)
        missing = castor("token", "revoke", "nobody", data=self.tmp.data, check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("castor token list", missing.stderr)

    def test_data_directory_is_found_like_serve_finds_it(self):
        os.makedirs(self.tmp.root, exist_ok=True)
        config = os.path.join(self.tmp.root, "castor.toml")
        with open(config, "w") as f:
            f.write(f'data = "{self.tmp.data}"\n')
        castor("token", "create", "--role", "viewer", "--config", config)
        env = dict(os.environ, CASTOR_DATA=self.tmp.data)
        self.assertEqual(len(json.loads(castor("token", "list", "--json", env=env).stdout)), 1)


class Configuration(unittest.TestCase):
    def setUp(self):
        self.tmp = TempData()
        os.makedirs(self.tmp.root, exist_ok=True)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, text):
        path = os.path.join(self.tmp.root, "castor.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_unknown_config_key_is_an_error_naming_it(self):
        path = self.write('listen = "127.0.0.1:0"\nmax_body = "1KiB"\n')
        proc = castor("serve", "--config", path, data=self.tmp.data, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown key 'max_body'", proc.stderr)
        self.assertIn("max_body_size", proc.stderr)

    def test_flag_beats_env_beats_file(self):
        path = self.write('max_body_size = "1KiB"\naccess_log = false\nlog_format = "json"\n')
        env = dict(os.environ, CASTOR_MAX_BODY_SIZE="2KiB", CASTOR_CONFIG=path)
        server = Server(self.tmp.data, "--insecure-local", env=env)
        try:
            # env (2 KiB) beats the file (1 KiB): 1.5 KiB passes the limit, 3 KiB does not.
            self.assertEqual(server.request("POST", "/x", body=b"a" * 1500)[0], 404)
            self.assertEqual(server.request("POST", "/x", body=b"a" * 3000)[0], 413)
            lines = [json.loads(l) for l in server.log().splitlines() if l.startswith("{")]
            self.assertTrue(lines, "log_format from the file gives JSON lines")
            self.assertFalse(any(l.get("msg") == "http request" and l.get("status") == 404
                                 for l in lines), "access_log=false from the file")
            server.terminate()
        finally:
            server.kill()
        server = Server(self.tmp.data, "--insecure-local", "--max-body-size", "1KiB", env=env)
        try:
            self.assertEqual(server.request("POST", "/x", body=b"a" * 1500)[0], 413)
            server.terminate()
        finally:
            server.kill()

    def test_bad_values_exit_2_with_a_fix(self):
        proc = castor("serve", "--io-threads", "257", data=self.tmp.data, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--io-threads", proc.stderr)
        proc = castor("serve", "--tls-cert", "/nonexistent.pem", data=self.tmp.data, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--tls-key", proc.stderr)


if __name__ == "__main__":
    unittest.main()
