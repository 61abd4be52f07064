"""Real peers for the event route tests: a webhook receiver (Python's http.server), a mosquitto
broker started on a free loopback port with a generated config, a minimal MQTT 3.1.1 subscriber,
and Server-Sent Events and WebSocket readers. Everything is stopped by its own handle or PID."""
import base64
import hashlib
import http.server
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time


def free_port():
    """A loopback port nothing listens on (the kernel picks it; we release it at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class WebhookReceiver:
    """Records every POST (headers and JSON body). `answers` is a list of status codes to send
    first (then 200); stop() closes the port so Castor sees connection refused."""

    def __init__(self, port=None, answers=None, tls_files=None):
        self.port = port or free_port()
        self.tls_files = tls_files  # (certificate, key): serve HTTPS
        self.answers = list(answers or [])
        self.requests = []  # dicts: path, headers (lower-case), body (parsed JSON), status
        self.lock = threading.Lock()
        self.connections = set()  # open sockets, cut on stop() like a receiver that died
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections.add(self.connection)

            def finish(self):
                with receiver.lock:
                    receiver.connections.discard(self.connection)
                super().finish()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.requests.append({
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(raw),
                        "status": status,
                    })
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if self.tls_files:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls_files)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections.clear()

    @property
    def url(self):
        scheme = "https" if self.tls_files else "http"
        return f"{scheme}://127.0.0.1:{self.port}/events"

    def delivered(self):
        """Bodies of the requests answered 2xx, in arrival order."""
        with self.lock:
            return [r["body"] for r in self.requests if 200 <= r["status"] < 300]

    def all(self):
        with self.lock:
            return list(self.requests)


def self_signed_certificate(root):
    """A certificate for 127.0.0.1 and localhost (openssl CLI); returns (certificate, key)."""
    cert, key = os.path.join(root, "hook.pem"), os.path.join(root, "hook.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=castor-it-hook", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class Mosquitto:
    """A mosquitto broker on a free loopback port, stopped by PID."""

    def __init__(self, root):
        self.port = free_port()
        conf = os.path.join(root, f"mosquitto-{self.port}.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.log_path = os.path.join(root, f"mosquitto-{self.port}.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=self._log, stderr=self._log)
        if not wait_until(self._accepting, timeout=10):
            self.stop()
            raise AssertionError("mosquitto did not start:\n" + open(self.log_path).read())

    def _accepting(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _mqtt_string(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _mqtt_packet(kind, body):
    length, encoded = len(body), b""
    while True:
        byte = length % 128
        length //= 128
        encoded += bytes([byte | (0x80 if length else 0)])
        if not length:
            return bytes([kind]) + encoded + body


class MqttSubscriber:
    """A minimal MQTT 3.1.1 client: connects, subscribes with QoS 1 (returns once SUBACK came, so
    nothing published afterwards is missed), and collects PUBLISH payloads on a thread."""

    def __init__(self, port, topic):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        client_id = f"it-{os.getpid()}-{port}"
        connect = _mqtt_string("MQTT") + bytes([4, 2]) + struct.pack("!H", 30) + _mqtt_string(client_id)
        self.sock.sendall(_mqtt_packet(0x10, connect))
        kind, _ = self._read_packet()
        assert kind >> 4 == 2, "no CONNACK"
        self.sock.sendall(_mqtt_packet(0x82, struct.pack("!H", 1) + _mqtt_string(topic) + bytes([1])))
        kind, body = self._read_packet()
        assert kind >> 4 == 9 and body[-1] != 0x80, "SUBSCRIBE refused"
        self.messages = []
        self.lock = threading.Lock()
        self.sock.settimeout(None)
        threading.Thread(target=self._loop, daemon=True).start()

    def _recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            data += chunk
        return data

    def _read_packet(self):
        kind = self._recv(1)[0]
        length, shift = 0, 0
        while True:
            byte = self._recv(1)[0]
            length += (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return kind, self._recv(length)

    def _loop(self):
        try:
            while True:
                kind, body = self._read_packet()
                if kind >> 4 != 3:
                    continue
                qos = (kind >> 1) & 3
                topic_len = struct.unpack("!H", body[:2])[0]
                rest = body[2 + topic_len:]
                if qos:
                    packet_id, rest = rest[:2], rest[2:]
                    self.sock.sendall(_mqtt_packet(0x40, packet_id))  # PUBACK
                with self.lock:
                    self.messages.append(json.loads(rest))
        except (OSError, ConnectionError, ValueError):
            pass

    def received(self):
        with self.lock:
            return list(self.messages)

    def close(self):
        try:
            self.sock.sendall(bytes([0xE0, 0]))  # DISCONNECT
        except OSError:
            pass
        self.sock.close()


class SseReader:
    """GET a stream with Accept: text/event-stream; collects each event's data as JSON."""

    def __init__(self, host, port, path, token=None):
        self.sock = socket.create_connection((host, port), timeout=10)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n{auth}\r\n"
                          .encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        self.head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.head = self.head.decode()

    def next(self, timeout=10):
        """The next event's data (JSON), skipping keep-alive comments."""
        self.sock.settimeout(timeout)
        while True:
            while b"\n\n" in self.buffer:
                block, _, self.buffer = self.buffer.partition(b"\n\n")
                lines = [l[6:] for l in block.split(b"\n") if l.startswith(b"data: ")]
                if lines:
                    return json.loads(b"\n".join(lines))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("stream closed")
            self.buffer += chunk

    def close(self):
        self.sock.close()


class WebSocketReader:
    """A minimal RFC 6455 client for text messages (JSON)."""

    def __init__(self, host, port, path, token=None):
        self.sock = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n{auth}\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.head = head.decode()
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.accepted = self.head.startswith("HTTP/1.1 101") and accept in self.head

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def next(self, timeout=10):
        self.sock.settimeout(timeout)
        while True:
            b0, b1 = self._exact(2)
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._exact(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(length)
            if b0 & 0x0F == 1:
                return json.loads(payload)
            if b0 & 0x0F == 8:
                raise ConnectionError("closed by the server")

    def send(self, text):
        """One masked text frame, as a client must send it."""
        data = text.encode() if isinstance(text, str) else text
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def close(self):
        try:
            self.sock.sendall(bytes([0x88, 0x80]) + os.urandom(4))
        except OSError:
            pass
        self.sock.close()
