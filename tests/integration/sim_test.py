"""`castor sim factory` against a real mosquitto: topics and payloads, commands with responses,
set-points, scheduled and live faults with their ground truth, bad options, clean stop."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from event_peers import Mosquitto, free_port, wait_until  # noqa: E402

CASTOR = os.environ.get("CASTOR_BIN", "castor")


class Subscriber:
    """mosquitto_sub -v on plant/#: collects (topic, payload) pairs."""

    def __init__(self, port, root, topic="plant/#"):
        self.path = os.path.join(root, f"sub-{time.time_ns()}.txt")
        self._out = open(self.path, "w")
        self.proc = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-v",
                                      "-q", "1"], stdout=self._out, stderr=subprocess.STDOUT)

    def messages(self):
        self._out.flush()
        out = []
        with open(self.path) as f:
            for line in f:
                topic, _, payload = line.rstrip("\n").partition(" ")
                out.append((topic, payload))
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self._out.close()


def publish(port, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", payload, "-q", "1"],
                   check=True, timeout=10)


class SimFactory(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="castor-sim-it-")
        self.broker = Mosquitto(self.root)
        self.sub = Subscriber(self.broker.port, self.root)
        time.sleep(0.3)  # let mosquitto_sub subscribe
        self.sim = None

    def tearDown(self):
        if self.sim and self.sim.poll() is None:
            self.sim.kill()
            self.sim.wait()
        self.sub.stop()
        self.broker.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def start_sim(self, *args):
        self.sim_err = os.path.join(self.root, "sim.err")
        with open(self.sim_err, "w") as err:
            self.sim = subprocess.Popen([CASTOR, "sim", "factory", "--broker",
                                         f"mqtt://127.0.0.1:{self.broker.port}", *args],
                                        stdout=subprocess.DEVNULL, stderr=err)

    def err(self):
        with open(self.sim_err) as f:
            return f.read()

    def test_publishes_the_plant_obeys_commands_and_records_faults(self):
        faults = os.path.join(self.root, "faults.ndjson")
        truth = os.path.join(self.root, "truth.ndjson")
        with open(faults, "w") as f:
            f.write('# scheduled\n{"at": 5, "twin": "robot-01-02", "fault": "cooling_failure", "joint": 3}\n')
            f.write('{"at": 6, "twin": "robot-01-01", "fault": "belt_slip"}\n')  # does not apply: skipped
        self.start_sim("--robots", "4", "--lines", "2", "--rate", "5", "--speed", "10", "--faults", faults,
                       "--ground-truth", truth)
        topics = lambda: {t for t, _ in self.sub.messages()}
        expected = {"plant/line-01/robot-01-01/telemetry", "plant/line-01/robot-01-01/joint6/telemetry",
                    "plant/line-02/robot-02-02/joint1/telemetry", "plant/line-01/conveyor-01/telemetry",
                    "plant/line-02/sensor-02-5/telemetry", "plant/line-01/controller-01/telemetry"}
        self.assertTrue(wait_until(lambda: expected <= topics(), timeout=20), f"{sorted(topics())}\n{self.err()}")
        # 2 lines x (1 conveyor + 1 controller + 5 sensors) + 4 robots x 7 reports
        self.assertTrue(wait_until(lambda: len(topics()) >= 2 * 7 + 4 * 7, timeout=10), sorted(topics()))
        joint = [json.loads(p) for t, p in self.sub.messages() if t == "plant/line-01/robot-01-01/joint2/telemetry"]
        self.assertTrue({"ts", "angle", "motorCurrent", "temperature"} <= set(joint[-1]))
        stamps = [j["ts"] for j in joint]
        self.assertEqual(stamps, sorted(stamps))
        # --speed 10 at 5 reports per simulated second: consecutive reports 0.2 s apart in source time
        if len(stamps) >= 3:
            self.assertAlmostEqual((stamps[-1] - stamps[-2]) / 1e9, 0.2, delta=0.02)

        # A command with a request id and a response; a set-point; a bad command.
        publish(self.broker.port, "plant/line-01/conveyor-01/commands/setSpeed",
                '{"requestId": "r-1", "payload": {"speed": 1.5}}')
        publish(self.broker.port, "plant/line-02/conveyor-02/set/speedSetpoint", "0.2")
        publish(self.broker.port, "plant/line-01/robot-01-01/commands/fly", "{}")
        responses = lambda: [json.loads(p) for t, p in self.sub.messages() if t.endswith("/response")]
        self.assertTrue(wait_until(lambda: len(responses()) >= 2, timeout=10), self.err())
        by_id = {json.dumps(r.get("requestId")): r for r in responses()}
        self.assertEqual(by_id['"r-1"']["status"], 200)
        self.assertEqual([r["status"] for r in responses() if r.get("requestId") is None], [404])

        def speed(conveyor):
            vals = [json.loads(p) for t, p in self.sub.messages() if t == f"plant/{conveyor}/telemetry"]
            return vals[-1]["speed"], vals[-1]["speedSetpoint"]

        self.assertTrue(wait_until(lambda: speed("line-01/conveyor-01")[0] > 1.3, timeout=10), speed("line-01/conveyor-01"))
        self.assertTrue(wait_until(lambda: speed("line-02/conveyor-02")[0] < 0.25, timeout=10), speed("line-02/conveyor-02"))
        self.assertEqual(speed("line-02/conveyor-02")[1], 0.2)

        # A live fault; the scheduled one started at simulated t=5 s.
        publish(self.broker.port, "plant/sim/faults", '{"twin": "sensor-01-4", "fault": "sensor_dropout"}')
        publish(self.broker.port, "plant/sim/faults", '{"twin": "nobody", "fault": "collision"}')

        def truth_lines():
            if not os.path.exists(truth):
                return []
            with open(truth) as f:
                return [json.loads(line) for line in f if line.strip()]

        self.assertTrue(wait_until(lambda: len(truth_lines()) >= 2, timeout=10), self.err())
        lines = truth_lines()
        self.assertEqual(len(lines), 2, lines)
        scheduled = [x for x in lines if x["source"] == "schedule"][0]
        self.assertEqual((scheduled["twin"], scheduled["fault"], scheduled["joint"]), ("robot-01-02", "cooling_failure", 3))
        self.assertAlmostEqual(scheduled["simSeconds"], 5.0, delta=0.05)
        self.assertTrue(scheduled["start"].endswith("Z"))
        live = [x for x in lines if x["source"] == "live"][0]
        self.assertEqual((live["twin"], live["fault"]), ("sensor-01-4", "sensor_dropout"))
        self.assertTrue(wait_until(lambda: "belt_slip does not apply" in self.err(), timeout=10), self.err())
        self.assertIn("no machine 'nobody'", self.err())
        # The dropped-out sensor goes quiet.
        time.sleep(0.5)
        count = len([1 for t, _ in self.sub.messages() if t == "plant/line-01/sensor-01-4/telemetry"])
        time.sleep(1.5)
        self.assertEqual(count, len([1 for t, _ in self.sub.messages() if t == "plant/line-01/sensor-01-4/telemetry"]))

        # SIGTERM stops it cleanly and promptly.
        self.sim.send_signal(signal.SIGTERM)
        self.assertEqual(self.sim.wait(timeout=10), 0)
        self.assertIn("stopped at t=", self.err())

    def test_bad_options_and_unreachable_broker(self):
        r = subprocess.run([CASTOR, "sim", "factory", "--rate", "0"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--rate", r.stderr)
        bad = os.path.join(self.root, "bad.json")
        with open(bad, "w") as f:
            f.write('[{"twin": "robot-01-01", "fault": "melting"}]')
        r = subprocess.run([CASTOR, "sim", "factory", "--faults", bad], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("unknown fault 'melting'", r.stderr)
        r = subprocess.run([CASTOR, "sim", "factory", "--broker", f"mqtt://127.0.0.1:{free_port()}",
                            "--connect-timeout", "2"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("retrying in", r.stderr)
        self.assertIn("gave up after 2 s", r.stderr)

    def test_a_broker_that_starts_late_is_waited_for(self):
        port = free_port()
        err_path = os.path.join(self.root, "late.err")
        with open(err_path, "w") as err:
            sim = subprocess.Popen([CASTOR, "sim", "factory", "--broker", f"mqtt://127.0.0.1:{port}", "--robots", "2",
                                    "--lines", "1", "--speed", "5"], stdout=subprocess.DEVNULL, stderr=err)
        try:
            self.assertTrue(wait_until(lambda: "retrying in" in open(err_path).read(), timeout=20))
            conf = os.path.join(self.root, "late.conf")
            with open(conf, "w") as f:
                f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
            broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                self.assertTrue(wait_until(lambda: "publishing to" in open(err_path).read(), timeout=30),
                                open(err_path).read())
                sub = Subscriber(port, self.root)
                try:
                    self.assertTrue(wait_until(lambda: len(sub.messages()) > 0, timeout=20))
                finally:
                    sub.stop()
            finally:
                sim.send_signal(signal.SIGTERM)
                self.assertEqual(sim.wait(timeout=10), 0)
                broker.terminate()
                broker.wait(timeout=10)
        finally:
            if sim.poll() is None:
                sim.kill()

    def test_bench_runs_without_a_broker(self):
        r = subprocess.run([CASTOR, "sim", "factory", "--bench", "20", "--robots", "10", "--lines", "1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("x real time", r.stdout)


if __name__ == "__main__":
    unittest.main()
