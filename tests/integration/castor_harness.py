"""Starts the real `castor serve` binary for integration tests and talks to it over real sockets.

Every server gets its own temporary data directory and a port chosen by the kernel (--listen
127.0.0.1:0), so tests run in parallel. Servers are stopped by PID, never by name.
"""
import http.client
import json
import os
import select
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.parse

CASTOR = os.environ.get("CASTOR_BIN", "castor")


def castor(*args, data=None, check=True, env=None):
    """Runs a castor subcommand and returns the CompletedProcess (text mode)."""
    cmd = [CASTOR, *args]
    if data is not None:
        cmd += ["--data", data]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}: {proc.stderr}")
    return proc


class TempData:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="castor-it-")
        self.data = os.path.join(self.root, "data")

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


class Server:
    """A running `castor serve`; `url` comes from its "Castor listening on URL" line."""

    def __init__(self, data, *args, env=None, listen="127.0.0.1:0", timeout=30):
        self.data = data
        self.stderr_path = os.path.join(os.path.dirname(data), f"serve-{time.time_ns()}.log")
        self._stderr = open(self.stderr_path, "w")
        cmd = [CASTOR, "serve", "--data", data, "--listen", listen, *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, env=env)
        self.url = self._wait_for_listening(timeout)
        parsed = urllib.parse.urlparse(self.url)
        self.scheme, self.host, self.port = parsed.scheme, parsed.hostname, parsed.port

    def _wait_for_listening(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    line = buf.split(b"\n", 1)[0].decode()
                    prefix = "Castor listening on "
                    if not line.startswith(prefix):
                        raise AssertionError(f"unexpected first stdout line: {line!r}")
                    return line[len(prefix):]
            elif self.proc.poll() is not None:
                break
        self.kill()
        raise AssertionError(f"castor serve did not become ready:\n{self.log()}")

    def log(self):
        if not self._stderr.closed:
            self._stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def ca_file(self):
        return os.path.join(self.data, "tls", "ca.pem")

    def ssl_context(self, cafile=None):
        ctx = ssl.create_default_context(cafile=cafile or self.ca_file())
        return ctx

    def connection(self, host=None, timeout=10, context=None):
        host = host or self.host
        if self.scheme == "https":
            return http.client.HTTPSConnection(host, self.port, timeout=timeout,
                                               context=context or self.ssl_context())
        return http.client.HTTPConnection(host, self.port, timeout=timeout)

    def request(self, method, path, token=None, body=None, headers=None, conn=None):
        """One request; returns (status, headers dict lower-cased, body bytes)."""
        own = conn is None
        conn = conn or self.connection()
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        result = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        if own:
            conn.close()
        return result

    def json(self, method, path, **kw):
        status, headers, body = self.request(method, path, **kw)
        return status, headers, json.loads(body) if body else None

    def terminate(self, timeout=10):
        """SIGTERM and wait; returns the exit code and how long the exit took."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        took = time.monotonic() - start
        self._close_files()
        return rc, took

    def stop_cleanly(self, testcase):
        """SIGTERM; the test fails unless the server exits 0 (sanitizer reports exit non-zero)."""
        if self.proc.poll() is not None:
            return
        try:
            rc, _ = self.terminate()
        finally:
            self.kill()
        testcase.assertEqual(rc, 0, f"castor exited {rc}:\n{self.log()}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self):
        if not self._stderr.closed:
            self._stderr.close()
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
