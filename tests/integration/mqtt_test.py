#!/usr/bin/env python3
"""MQTT ingest end to end: the real `castor serve` subscribed through [[mqtt]] config tables to a
real mosquitto on a free loopback port. Messages become history and twin state; unknown twins and
bad payloads are counted and acknowledged; what Castor acknowledged survives SIGKILL; a bad
[[mqtt]] table stops start-up with exit code 2. Usage: CASTOR_BIN=... mqtt_test.py"""
import json
import os
import re
import subprocess
import unittest
import urllib.parse

from castor_harness import CASTOR, Server, TempData
from event_peers import Mosquitto, wait_until

API = "api-version=2023-10-31"
MODEL = "dtmi:castor:it:MqttRobot;1"
T0_MS = 1_700_000_000_000
MS = 1_000_000


def model():
    return {"@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
        {"@type": "Telemetry", "name": "temperature", "schema": "double"},
        {"@type": "Telemetry", "name": "n", "schema": "integer"},
        {"@type": "Property", "name": "mode", "schema": "string"},
    ]}


def config_text(port):
    return f"""
[[mqtt]]
name = "plant"
url = "mqtt://127.0.0.1:{port}"
client_id = "castor-it-plant"
reconnect_initial = "50ms"
reconnect_max = "500ms"
  [[mqtt.subscriptions]]
  topic = "plant/{{line}}/{{robot}}/telemetry"
  twin = "robot-{{robot}}"
  timestamp_field = "ts"
  timestamp_unit = "ms"
  fields.temp_mc = {{ name = "temperature", scale = 0.001 }}
  fields.seq = {{ ignore = true }}
"""


def publish_lines(port, topic, lines):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic, "-l"],
                   input="".join(line + "\n" for line in lines).encode(), check=True, timeout=30)


class MqttCase(unittest.TestCase):
    def setUp(self):
        self.tmp = TempData()
        self.broker = Mosquitto(self.tmp.root)
        self.config = os.path.join(self.tmp.root, "castor.toml")
        with open(self.config, "w") as f:
            f.write(config_text(self.broker.port))
        self.server = self.start()
        s, _, body = self.server.json("POST", f"/models?{API}", body=json.dumps([model()]),
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(s, 201, body)
        for i in range(2):
            s, _, body = self.server.json("PUT", f"/digitaltwins/robot-{i}?{API}",
                                          body=json.dumps({"$metadata": {"$model": MODEL}}),
                                          headers={"Content-Type": "application/json"})
            self.assertEqual(s, 200, body)
        self.assertTrue(wait_until(lambda: self.metric("castor_mqtt_connected") == 1), self.server.log())

    def tearDown(self):
        self.server.stop_cleanly(self)
        self.broker.stop()
        self.tmp.cleanup()

    def start(self):
        return Server(self.tmp.data, "--insecure-local", "--shards", "2", "--config", self.config)

    def metric(self, name):
        status, _, body = self.server.request("GET", "/metrics")
        self.assertEqual(status, 200)
        m = re.search(rf'^{name}{{connection="plant"}} (\S+)$', body.decode(), re.M)
        return float(m.group(1)) if m else None

    def history(self, twin, name):
        q = urllib.parse.urlencode({"twin": twin, "name": name})
        status, _, body = self.server.json("GET", f"/castor/v1/history?{q}")
        self.assertEqual(status, 200, body)
        return body["points"]


class Arrival(MqttCase):
    def test_messages_become_history_with_mapping_and_source_time(self):
        publish_lines(self.broker.port, "plant/l1/0/telemetry",
                      [json.dumps({"temp_mc": 21500, "n": 1, "seq": 7, "ts": T0_MS}),
                       json.dumps({"temp_mc": 22000, "n": 2, "seq": 8, "ts": T0_MS + 1000})])
        self.assertTrue(wait_until(lambda: self.metric("castor_mqtt_acks_total") == 2), self.server.log())
        self.assertEqual(self.history("robot-0", "temperature"),
                         [[T0_MS * MS, 21.5], [(T0_MS + 1000) * MS, 22.0]])
        self.assertEqual([p[1] for p in self.history("robot-0", "n")], [1, 2])
        self.assertEqual(self.metric("castor_mqtt_observations_total"), 4)
        self.assertEqual(self.metric("castor_mqtt_in_flight"), 0)

    def test_unknown_twins_and_bad_payloads_are_counted_and_acknowledged(self):
        publish_lines(self.broker.port, "plant/l1/9/telemetry", [json.dumps({"n": 1, "ts": T0_MS})])
        publish_lines(self.broker.port, "plant/l1/0/telemetry", ["not json", json.dumps({"n": 5})])
        publish_lines(self.broker.port, "plant/l1/1/telemetry", [json.dumps({"n": 3, "ts": T0_MS})])
        self.assertTrue(wait_until(lambda: self.metric("castor_mqtt_acks_total") == 4), self.server.log())
        self.assertEqual(self.metric("castor_mqtt_rejected_observations_total"), 1)  # robot-9
        self.assertEqual(self.metric("castor_mqtt_invalid_messages_total"), 2)
        self.assertEqual(self.history("robot-1", "n"), [[T0_MS * MS, 3]])


class Durable(MqttCase):
    def test_acknowledged_messages_survive_sigkill(self):
        n = 300
        publish_lines(self.broker.port, "plant/l1/1/telemetry",
                      [json.dumps({"n": i, "ts": T0_MS + i}) for i in range(n)])
        self.assertTrue(wait_until(lambda: self.metric("castor_mqtt_acks_total") == n, timeout=30),
                        self.server.log())
        self.server.kill()  # SIGKILL right after the last PUBACK
        self.server = self.start()
        self.assertEqual([p[1] for p in self.history("robot-1", "n")], list(range(n)))
        # The persistent session: messages published while Castor was down arrive after it
        # reconnects (the broker queued them for client id castor-it-plant).
        self.server.kill()
        publish_lines(self.broker.port, "plant/l1/1/telemetry", [json.dumps({"n": 1000, "ts": T0_MS + 5000})])
        self.server = self.start()
        self.assertTrue(wait_until(lambda: len(self.history("robot-1", "n")) == n + 1, timeout=15),
                        self.server.log())


class BadConfig(unittest.TestCase):
    def test_a_bad_mqtt_table_stops_startup_with_exit_code_2(self):
        tmp = TempData()
        try:
            path = os.path.join(tmp.root, "bad.toml")
            with open(path, "w") as f:
                f.write(config_text(1).replace('twin = "robot-{robot}"', 'twin = "robot-{serial}"'))
            proc = subprocess.run([CASTOR, "serve", "--data", tmp.data, "--insecure-local", "--listen",
                                   "127.0.0.1:0", "--config", path], capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("{serial}", proc.stderr)
            self.assertIn("does not bind", proc.stderr)
        finally:
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
