#!/usr/bin/env python3
"""Integration tests of live streams and graceful shutdown through the real transport: a minimal
RFC 6455 WebSocket client and an SSE reader over Python sockets, against stream_test_server (the
real ApiServer plus test routes). Usage: CASTOR_STREAM_SERVER=... stream_test.py [Class]"""
import base64
import hashlib
import os
import socket
import struct
import threading
import time
import unittest

import castor_harness
from castor_harness import Server, TempData, castor

castor_harness.CASTOR = os.environ.get("CASTOR_STREAM_SERVER", "stream_test_server")
CASTOR_BIN = os.environ.get("CASTOR_BIN", "castor")


def open_socket(server):
    sock = socket.create_connection((server.host, server.port), timeout=10)
    if server.scheme == "https":
        sock = server.ssl_context().wrap_socket(sock, server_hostname=server.host)
    return sock


def read_headers(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode()


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


class WebSocket:
    def __init__(self, server, path, token):
        self.sock = open_socket(server)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n")
                          .encode())
        self.response = read_headers(self.sock)
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.accepted = self.response.startswith("HTTP/1.1 101") and accept in self.response

    def send_text(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81, 0x80 | len(payload)])  # short frames only
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self):
        """Returns (opcode, payload); answers nothing and ignores pings."""
        b0, b1 = recv_exact(self.sock, 2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", recv_exact(self.sock, 2))[0]
        elif length == 127:
            length = struct.unpack("!Q", recv_exact(self.sock, 8))[0]
        return b0 & 0x0F, recv_exact(self.sock, length)

    def close(self):
        self.sock.close()


class StreamCase(unittest.TestCase):
    insecure = False

    @classmethod
    def setUpClass(cls):
        cls.tmp = TempData()
        args = ("--insecure-local",) if cls.insecure else ()
        if not cls.insecure:
            cls.token = castor_harness.subprocess.run(
                [CASTOR_BIN, "token", "create", "--data", cls.tmp.data, "--role", "viewer",
                 "--name", "watcher"], capture_output=True, text=True, check=True).stdout.strip()
        else:
            cls.token = "unused"
        cls.server = Server(cls.tmp.data, *args)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_cleanly(cls())
        finally:
            cls.tmp.cleanup()


class WebSocketOverTls(StreamCase):
    def test_upgrade_sends_messages_and_echoes(self):
        ws = WebSocket(self.server, "/test/stream", self.token)
        self.assertTrue(ws.accepted, ws.response)
        got = [ws.recv()[1].decode() for _ in range(4)]
        self.assertEqual(got, ["hello watcher", '{"n":1}', '{"n":2}', '{"n":3}'])
        ws.send_text("ping me")
        opcode, payload = ws.recv()
        self.assertEqual((opcode, payload), (1, b"echo:ping me"))
        ws.close()

    def test_upgrade_requires_a_token(self):
        ws = WebSocket(self.server, "/test/stream", "castor_bad")
        self.assertFalse(ws.accepted)
        self.assertTrue(ws.response.startswith("HTTP/1.1 401"), ws.response)
        ws.close()

    def test_plain_get_on_a_stream_route_is_a_clear_400(self):
        status, _, body = self.server.json("GET", "/test/stream", token=self.token)
        self.assertEqual(status, 400)
        self.assertIn("WebSocket", body["error"]["message"])


class ServerSentEvents(StreamCase):
    insecure = True

    def test_events_arrive_as_data_lines(self):
        sock = open_socket(self.server)
        sock.sendall(b"GET /test/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        head = read_headers(sock)
        self.assertTrue(head.startswith("HTTP/1.1 200"), head)
        self.assertIn("text/event-stream", head)
        data = b""
        while data.count(b"\n\n") < 4:
            data += sock.recv(4096)
        self.assertTrue(data.startswith(b'data: hello local\n\ndata: {"n":1}\n\n'), data)
        sock.close()

    def test_a_slow_consumer_is_disconnected_not_buffered(self):
        sock = open_socket(self.server)
        sock.sendall(b"GET /test/flood HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        total = 0
        while True:  # the server closes once the bounded queue overflows
            chunk = sock.recv(65536)
            if not chunk:
                break
            total += len(chunk)
        sock.close()
        self.assertLess(total, 2000 * 110, "far fewer messages than were offered got through")
        self.assertIn("queue full after 1024 messages", self.server.log())
        status, _, body = self.server.request("GET", "/metrics")
        self.assertIn(b"castor_stream_slow_consumer_closes_total 1", body)


class GracefulShutdown(unittest.TestCase):
    def test_in_flight_requests_finish_and_the_exit_code_is_zero(self):
        tmp = TempData()
        server = Server(tmp.data, "--insecure-local", "--shutdown-timeout", "5s")
        try:
            result = {}

            def slow():
                result["reply"] = server.request("GET", "/test/slow?ms=1500")

            t = threading.Thread(target=slow)
            t.start()
            time.sleep(0.5)  # the request is now in its handler
            start = time.monotonic()
            rc, took = server.terminate()
            t.join()
            self.assertEqual(rc, 0, server.log())
            self.assertEqual(result["reply"][0], 200)
            self.assertEqual(result["reply"][1].get("connection"), "close")
            self.assertGreaterEqual(took, 0.8, "waited for the in-flight request")
            self.assertLess(time.monotonic() - start, 5)
            with self.assertRaises(OSError):
                socket.create_connection((server.host, server.port), timeout=2).recv(1)
        finally:
            server.kill()
            tmp.cleanup()

    def test_grace_period_cuts_requests_that_take_too_long(self):
        tmp = TempData()
        server = Server(tmp.data, "--insecure-local", "--shutdown-timeout", "500ms")
        try:
            t = threading.Thread(target=lambda: self.assertRaises(
                Exception, server.request, "GET", "/test/slow?ms=5000"))
            t.start()
            time.sleep(0.3)
            rc, took = server.terminate()
            t.join()
            self.assertEqual(rc, 0)
            self.assertLess(took, 3)
            self.assertIn("grace period over", server.log())
        finally:
            server.kill()
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
