#!/usr/bin/env python3
"""MQTT path end to end: the real `castor serve` ([[mqtt]] table, full ingest pipeline: twin
update, history append, fsync'd group commit, PUBACK after it) vs `mosquitto_sub` draining the
same stream from the same mosquitto, in the same run.

Both have persistent sessions. Each round publishes N QoS 1 messages while both are offline
(Castor stopped with SIGTERM), then times mosquitto_sub -C N from spawn to exit, and Castor from
its "Castor listening" line (its connectors start just before it) until castor_mqtt_acks_total
reaches N. Prints one line per round and the medians and their ratio.

usage: CASTOR_BIN=build/bin/castor serve_bench.py [messages=100000] [rounds=3]"""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "integration"))
from castor_harness import Server, TempData  # noqa: E402
from event_peers import free_port, wait_until  # noqa: E402

API = "api-version=2023-10-31"
MODEL = "dtmi:castor:bench:Robot;1"
ROBOTS = 10


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = TempData()
    broker = Broker(tmp.root)
    config = os.path.join(tmp.root, "castor.toml")
    with open(config, "w") as f:
        f.write(f"""[[mqtt]]
name = "bench"
url = "mqtt://127.0.0.1:{broker.port}"
client_id = "castor-bench"
  [[mqtt.subscriptions]]
  topic = "plant/{{line}}/{{twinId}}/telemetry"
  timestamp_field = "ts"
""")
    args = ("--insecure-local", "--config", config)
    server = Server(tmp.data, *args)
    setup_twins(server)
    subprocess.run(sub_cmd(broker.port, "1") + ["-E"], check=True, capture_output=True)
    sub_rates, castor_rates = [], []
    try:
        for r in range(rounds):
            server.terminate()
            publish(broker.port, n, r)
            start = time.monotonic()
            subprocess.run(sub_cmd(broker.port, str(n)), check=True, stdout=subprocess.DEVNULL)
            sub_rates.append(n / (time.monotonic() - start))
            server = Server(tmp.data, *args)
            start = time.monotonic()
            while acks(server) < n:
                time.sleep(0.005)
            castor_rates.append(n / (time.monotonic() - start))
            print(f"round={r} mosquitto_sub_msgs_per_s={sub_rates[-1]:.0f} "
                  f"castor_serve_msgs_per_s={castor_rates[-1]:.0f}", flush=True)
    finally:
        server.terminate()
        broker.stop()
        tmp.cleanup()
    sub, cas = statistics.median(sub_rates), statistics.median(castor_rates)
    print(f"mqtt_serve messages={n} rounds={rounds} median_mosquitto_sub_msgs_per_s={sub:.0f} "
          f"median_castor_serve_msgs_per_s={cas:.0f} ratio={cas / sub:.3f}")


class Broker:
    """mosquitto on a free loopback port with in-flight and queue windows large enough for a
    persistent session that acknowledges after an fsync; stopped by PID."""

    def __init__(self, root):
        self.port = free_port()
        conf = os.path.join(root, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_inflight_messages 1000\nmax_queued_messages 10000000\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_until(self._accepting, timeout=10):
            self.stop()
            raise AssertionError("mosquitto did not start")

    def _accepting(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def setup_twins(server):
    body = [{"@id": MODEL, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [
        {"@type": "Telemetry", "name": "temperature", "schema": "double"},
        {"@type": "Telemetry", "name": "speed", "schema": "integer"}]}]
    status, _, text = server.request("POST", f"/models?{API}", body=json.dumps(body),
                                     headers={"Content-Type": "application/json"})
    assert status == 201, text
    for i in range(ROBOTS):
        status, _, text = server.request("PUT", f"/digitaltwins/robot-{i}?{API}",
                                         body=json.dumps({"$metadata": {"$model": MODEL}}),
                                         headers={"Content-Type": "application/json"})
        assert status == 200, text


def sub_cmd(port, count):
    return ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-c", "-i", "bench-sub", "-q", "1",
            "-t", "plant/+/+/telemetry", "-C", count]


def publish(port, n, round_no):
    procs = []
    for r in range(ROBOTS):
        p = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-l",
                              "-t", f"plant/l1/robot-{r}/telemetry"], stdin=subprocess.PIPE)
        base = 1_714_564_800_000 + round_no * n
        lines = "".join(json.dumps({"temperature": 20 + (i % 50) + 0.5, "speed": i % 7, "ts": base + i}) + "\n"
                        for i in range(r, n, ROBOTS))
        p.stdin.write(lines.encode())
        p.stdin.close()
        procs.append(p)
    for p in procs:
        if p.wait() != 0:
            raise AssertionError("mosquitto_pub failed")


def acks(server):
    status, _, body = server.request("GET", "/metrics")
    m = re.search(r'^castor_mqtt_acks_total\{connection="bench"\} (\S+)$', body.decode(), re.M)
    return float(m.group(1)) if m else 0


if __name__ == "__main__":
    main()
