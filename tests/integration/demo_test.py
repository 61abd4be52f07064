"""`castor demo` end to end: mosquitto, castor serve and the simulator as its children; the
factory loaded; live telemetry reaching the twins; Ctrl-C/SIGTERM stops everything; a second run
reuses the data."""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from event_peers import free_port, wait_until  # noqa: E402

CASTOR = os.environ.get("CASTOR_BIN", "castor")
API = "api-version=2023-10-31"


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


class Demo(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="castor-demo-it-")
        self.data = os.path.join(self.root, "demo")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, *extra):
        port = free_port()
        self.err_path = os.path.join(self.root, f"demo-{time.time_ns()}.err")
        with open(self.err_path, "w") as err:
            proc = subprocess.Popen([CASTOR, "demo", "--port", str(port), "--data", self.data, "--robots", "4",
                                     "--lines", "2", "--rate", "5", "--speed", "5", *extra],
                                    stdout=subprocess.PIPE, stderr=err)
        line, deadline = b"", time.monotonic() + 120
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if select.select([proc.stdout], [], [], 0.5)[0]:
                chunk = os.read(proc.stdout.fileno(), 1)
                if not chunk:
                    break
                line += chunk
        self.assertEqual(line.decode(), f"Castor demo ready: http://127.0.0.1:{port}/\n", self.err())
        return proc, f"http://127.0.0.1:{port}"

    def err(self):
        with open(self.err_path) as f:
            return f.read()

    def get(self, url):
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())

    def stop(self, proc):
        kids = children_of(proc.pid)
        self.assertEqual(len(kids), 3, kids)  # mosquitto, castor serve, castor sim
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=60), 0, self.err())
        proc.stdout.close()
        for k in kids:
            self.assertFalse(os.path.exists(f"/proc/{k}") and open(f"/proc/{k}/stat").read().split()[2] != "Z",
                             f"child {k} still runs")

    def test_factory_comes_alive_and_stops_cleanly(self):
        proc, base = self.start("--fresh")
        try:
            self.assertIn("[1/4] starting mosquitto", self.err())
            self.assertIn("loading the factory: models, 21 twins", self.err())
            self.assertIn("not a deployment", self.err())
            twin = self.get(f"{base}/digitaltwins/robot-02-02?{API}")
            self.assertEqual(twin["$metadata"]["$model"], "dtmi:castor:factory:Robot;1")
            rels = self.get(f"{base}/digitaltwins/line-01/relationships?relationshipName=hasRobot&{API}")
            self.assertEqual(len(rels["value"]), 2)
            # Live telemetry from the simulator, through mosquitto and the MQTT connector.
            def cycles():
                t = self.get(f"{base}/digitaltwins/robot-01-01?{API}")
                return t.get("cycleCount", 0), t
            self.assertTrue(wait_until(lambda: cycles()[0] > 0, timeout=60), cycles()[1])
        finally:
            self.stop(proc)
        self.assertIn("stopped; the data stays", self.err())
        # A second run reuses the data directory.
        proc, base = self.start()
        try:
            self.assertIn("the factory is loaded already", self.err())
            self.assertGreater(self.get(f"{base}/digitaltwins/robot-01-01?{API}").get("cycleCount", 0), 0)
        finally:
            self.stop(proc)

    def latest(self, base, twin, name):
        body = self.get(f"{base}/castor/v1/history/latest?twin={twin}&name={name}")
        points = body.get("points") or []
        return points[-1] if points else None

    def test_a_set_point_reaches_the_simulator_and_its_report_converges_within_2_s(self):
        # A user writes the conveyor's writable speedSetpoint through the ADT API; the connector
        # publishes it to plant/<line>/conveyor-01/set/speedSetpoint, the simulator obeys, and
        # what it reports over MQTT (its set-point and the belt speed) converges.
        proc, base = self.start("--fresh")
        try:
            self.assertTrue(wait_until(lambda: self.latest(base, "conveyor-01", "speed") is not None,
                                       timeout=60), self.err())
            before = self.latest(base, "conveyor-01", "speed")[1]
            target = 0.35 if before > 0.6 else 1.1
            req = urllib.request.Request(
                f"{base}/digitaltwins/conveyor-01?{API}", method="PATCH",
                data=json.dumps([{"op": "replace", "path": "/speedSetpoint", "value": target}]).encode(),
                headers={"Content-Type": "application/json-patch+json"})
            t0 = time.monotonic()
            patched_ns = time.time_ns()
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(r.status, 204)
            reported = converged = None
            while time.monotonic() - t0 < 2.0:
                sp = self.latest(base, "conveyor-01", "speedSetpoint")
                if reported is None and sp and sp[1] == target:
                    reported = time.monotonic() - t0
                sp_speed = self.latest(base, "conveyor-01", "speed")
                if reported is not None and sp_speed and abs(sp_speed[1] - target) < 0.05 * target:
                    converged = time.monotonic() - t0
                    break
                time.sleep(0.05)
            self.assertIsNotNone(reported, f"the simulator never reported speedSetpoint={target}")
            self.assertIsNotNone(converged, f"belt speed {self.latest(base, 'conveyor-01', 'speed')} "
                                            f"did not reach {target} within 2 s")
            print(f"\nset-point reported after {reported:.3f} s, belt speed converged after {converged:.3f} s",
                  file=sys.stderr)
            metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
            self.assertRegex(metrics, r'castor_mqtt_setpoints_sent_total\{connection="plant"\} [1-9]')
            # The device's own report of the set-point is not sent back to it (no loop).
            self.assertRegex(metrics, r'castor_mqtt_setpoints_sent_total\{connection="plant"\} 1\b')
            self.assertGreater(patched_ns, 0)
        finally:
            self.stop(proc)

    def test_a_corrupt_data_directory_is_refused_with_instructions_and_kept(self):
        proc, _ = self.start("--fresh")
        self.stop(proc)
        store = os.path.join(self.data, "castor", "store")
        with open(os.path.join(store, "CURRENT"), "w") as f:
            f.write("garbage\n")
        before = sorted(os.listdir(store))
        r = subprocess.run([CASTOR, "demo", "--port", str(free_port()), "--data", self.data, "--robots", "2",
                            "--lines", "1"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("corrupted", r.stderr)
        self.assertIn("was left as it is", r.stderr)
        self.assertIn("--fresh", r.stderr)
        self.assertEqual(sorted(os.listdir(store)), before)  # nothing wiped

    def test_busy_port_is_a_clear_error(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        try:
            r = subprocess.run([CASTOR, "demo", "--port", str(port), "--data", self.data, "--robots", "2", "--lines",
                                "1"], capture_output=True, text=True, timeout=120)
        finally:
            s.close()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("--port", r.stderr)


if __name__ == "__main__":
    unittest.main()
