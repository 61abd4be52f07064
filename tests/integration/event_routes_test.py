#!/usr/bin/env python3
"""Integration tests of ADT event routes and endpoints against the real `castor serve`: the
EventRoutes API (codes, roles, persistence), CloudEvents delivered to a real webhook receiver, a
real mosquitto broker and the live SSE/WebSocket stream with filters applied, retries and the
dead-letter file, and undelivered events that survive a restart (graceful and kill -9).
Usage: CASTOR_BIN=build/bin/castor event_routes_test.py [Class]"""
import json
import os
import signal
import time
import unittest
import urllib.parse

from castor_harness import Server, TempData, castor
from event_peers import (Mosquitto, MqttSubscriber, SseReader, WebhookReceiver, WebSocketReader,
                         self_signed_certificate, wait_until)

API = "api-version=2023-10-31"
SOURCE = "castor.test"
ROBOT = "dtmi:it:events:Robot;1"
LINE = "dtmi:it:events:Line;1"
MODELS = [
    {"@context": "dtmi:dtdl:context;3", "@id": LINE, "@type": "Interface",
     "contents": [{"@type": "Property", "name": "speed", "schema": "double", "writable": True}]},
    {"@context": "dtmi:dtdl:context;3", "@id": ROBOT, "@type": "Interface", "contents": [
        {"@type": "Property", "name": "temperature", "schema": "double", "writable": True},
        {"@type": "Telemetry", "name": "vibration", "schema": "double"},
        {"@type": "Relationship", "name": "feeds", "target": LINE}]},
]
LIFECYCLE = {"specversion", "id", "type", "source", "data", "subject", "time", "datacontenttype",
             "traceparent"}


def call(server, method, path, body=None, token=None, headers=None, api=True):
    """One ADT request; returns (status, headers, parsed JSON or None)."""
    hdrs = dict(headers or {})
    if body is not None and "Content-Type" not in hdrs:
        hdrs["Content-Type"] = "application/json"
    if api:
        path += ("&" if "?" in path else "?") + API
    data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
    return server.json(method, path, token=token, body=data, headers=hdrs)


def endpoint_toml(name, **keys):
    lines = ["[[endpoints]]", f'name = "{name}"']
    for k, v in keys.items():
        if isinstance(v, dict):
            inner = ", ".join(f'{hk} = "{hv}"' for hk, hv in v.items())
            lines.append(f"{k} = {{ {inner} }}")
        elif isinstance(v, int):
            lines.append(f"{k} = {v}")
        else:
            lines.append(f'{k} = "{v}"')
    return "\n".join(lines) + "\n"


class EventCase(unittest.TestCase):
    """A castor with a config file of endpoints; --insecure-local unless `tls`."""
    tls = False

    def setUp(self):
        self.tmp = TempData()
        self.addCleanup(self.tmp.cleanup)

    def start_castor(self, endpoints="", extra=""):
        self.config = os.path.join(self.tmp.root, "castor.toml")
        with open(self.config, "w") as f:
            f.write(f'event_source = "{SOURCE}"\n{extra}\n{endpoints}')
        self.tokens = {}
        if self.tls:
            for role in ("admin", "viewer", "operator"):
                self.tokens[role] = castor("token", "create", "--role", role, "--name", f"it-{role}",
                                           data=self.tmp.data).stdout.strip()
        self.server = None
        self.restart()

    def restart(self):
        args = ["--config", self.config] + ([] if self.tls else ["--insecure-local"])
        self.server = Server(self.tmp.data, *args)
        self.addCleanup(self.server.kill)

    def stop_castor(self):
        self.server.stop_cleanly(self)

    def api(self, method, path, body=None, role="admin", **kw):
        return call(self.server, method, path, body, token=self.tokens.get(role), **kw)

    def ok(self, method, path, body=None, **kw):
        status, _, payload = self.api(method, path, body, **kw)
        self.assertLess(status, 300, f"{method} {path}: {status} {payload}")
        return payload

    def route(self, route_id, endpoint, filter_text):
        self.ok("PUT", f"/eventroutes/{route_id}", {"endpointName": endpoint, "filter": filter_text})

    def add_models(self):
        self.ok("POST", "/models", MODELS)

    def put_twin(self, twin_id, model=ROBOT, **props):
        self.ok("PUT", f"/digitaltwins/{twin_id}", {"$metadata": {"$model": model}, **props})

    def patch_twin(self, twin_id, prop, value):
        self.ok("PATCH", f"/digitaltwins/{twin_id}", [{"op": "replace", "path": f"/{prop}", "value": value}],
                headers={"Content-Type": "application/json-patch+json"})

    def telemetry(self, twin_id, payload, message_id):
        self.ok("POST", f"/digitaltwins/{twin_id}/telemetry", payload, headers={"Message-Id": message_id})

    def metric(self, name, endpoint):
        _, _, body = self.server.request("GET", "/metrics", token=self.tokens.get("admin"))
        for line in body.decode().splitlines():
            if line.startswith(f'{name}{{endpoint="{endpoint}"}} '):
                return float(line.split()[-1])
        return None

    def dead_letters(self, endpoint):
        path = os.path.join(self.tmp.data, "deadletter", f"{endpoint}.ndjson")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def assertCloudEvent(self, event, type_, subject):
        self.assertEqual(event["specversion"], "1.0")
        self.assertEqual(event["type"], type_)
        self.assertEqual(event["subject"], subject)
        self.assertEqual(event["source"], SOURCE)
        self.assertEqual(event["datacontenttype"], "application/json")
        self.assertRegex(event["id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertRegex(event["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
        self.assertRegex(event["traceparent"], r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
        self.assertEqual(set(event), LIFECYCLE)


class EventRoutesApi(EventCase):
    tls = True

    def setUp(self):
        super().setUp()
        self.hook = WebhookReceiver()
        self.addCleanup(self.hook.stop)
        self.start_castor(endpoint_toml("hook", kind="webhook", url=self.hook.url), "event_routes_limit = 3")

    def test_put_get_list_delete_as_adt(self):
        status, _, body = self.api("PUT", "/eventroutes/eventroute-001",
                                   {"endpointName": "hook", "filter": "type = 'Microsoft.DigitalTwins.Twin.Create'"})
        self.assertEqual((status, body), (204, None))
        self.route("eventroute-002", "default", "true")
        self.assertEqual(self.ok("GET", "/eventroutes/eventroute-001"),
                         {"id": "eventroute-001", "endpointName": "hook",
                          "filter": "type = 'Microsoft.DigitalTwins.Twin.Create'"})
        self.route("eventroute-001", "hook", "false")  # a PUT replaces
        self.assertEqual(self.ok("GET", "/eventroutes/eventroute-001")["filter"], "false")
        page = self.ok("GET", "/eventroutes", headers={"max-items-per-page": "1"})
        self.assertEqual([r["id"] for r in page["value"]], ["eventroute-001"])
        next_url = urllib.parse.urlparse(page["nextLink"])
        _, _, rest = self.server.json("GET", f"{next_url.path}?{next_url.query}", token=self.tokens["admin"])
        self.assertEqual([r["id"] for r in rest["value"]], ["eventroute-002"])
        self.assertNotIn("nextLink", rest)
        status, _, _ = self.api("DELETE", "/eventroutes/eventroute-002")
        self.assertEqual(status, 204)
        status, headers, body = self.api("GET", "/eventroutes/eventroute-002")
        self.assertEqual((status, body["error"]["code"]), (404, "EventRouteNotFound"))
        self.assertEqual(headers["x-ms-error-code"], "EventRouteNotFound")
        status, _, body = self.api("DELETE", "/eventroutes/eventroute-002")
        self.assertEqual((status, body["error"]["code"]), (404, "EventRouteNotFound"))
        self.assertEqual([r["id"] for r in self.ok("GET", "/eventroutes")["value"]], ["eventroute-001"])

    def test_errors_carry_adt_codes_and_say_how_to_fix_them(self):
        cases = [
            ("r", {"endpointName": "nowhere", "filter": "true"}, "EventRouteEndpointInvalid", "use one of: default, hook"),
            ("r", {"endpointName": "hook", "filter": "type = 'a' AND"}, "EventRouteFilterInvalid", "at position 15"),
            ("r", {"endpointName": "hook", "filter": "typo = 'a'"}, "EventRouteFilterInvalid", "unknown name 'typo'"),
            ("r", {"endpointName": "hook"}, "EventRouteFilterInvalid", "use \"true\""),
            ("bad%20id", {"endpointName": "hook", "filter": "true"}, "EventRouteIdInvalid", "space"),
            ("r", {"endpointName": "hook", "filter": "true", "color": "red"}, "InvalidArgument", "unknown member"),
            ("r", "not json", "InvalidArgument", "not valid JSON"),
        ]
        for route_id, body, code, phrase in cases:
            status, _, payload = self.api("PUT", f"/eventroutes/{route_id}", body)
            self.assertEqual(status, 400, payload)
            self.assertEqual(payload["error"]["code"], code, payload)
            self.assertIn(phrase, payload["error"]["message"])
        status, _, payload = self.api("GET", "/eventroutes", api=False)
        self.assertEqual(status, 400, payload)
        for i in range(3):
            self.route(f"r{i}", "default", "true")
        status, _, payload = self.api("PUT", "/eventroutes/r3", {"endpointName": "hook", "filter": "true"})
        self.assertEqual((status, payload["error"]["code"]), (400, "LimitExceeded"))
        self.assertIn("event_routes_limit", payload["error"]["message"])

    def test_viewers_read_and_only_admins_write(self):
        self.route("r1", "default", "true")
        self.assertEqual(self.api("GET", "/eventroutes/r1", role="viewer")[0], 200)
        self.assertEqual(self.api("GET", "/eventroutes", role="viewer")[0], 200)
        for role in ("viewer", "operator"):
            self.assertEqual(self.api("PUT", "/eventroutes/r2", {"endpointName": "default", "filter": "true"},
                                      role=role)[0], 403)
            self.assertEqual(self.api("DELETE", "/eventroutes/r1", role=role)[0], 403)
        status, _, _ = self.server.request("GET", "/eventroutes?" + API)
        self.assertEqual(status, 401)
        openapi = self.server.json("GET", "/openapi.json")[2]
        ops = {op.get("operationId") for item in openapi["paths"].values() for op in item.values()
               if isinstance(op, dict)}
        self.assertTrue({"EventRoutes_Add", "EventRoutes_GetById", "EventRoutes_List",
                         "EventRoutes_Delete"} <= ops)

    def test_routes_survive_a_restart(self):
        self.route("keep", "hook", "STARTS_WITH(subject, 'robot')")
        self.route("drop", "default", "true")
        self.api("DELETE", "/eventroutes/drop")
        self.stop_castor()
        self.restart()
        self.assertEqual(self.ok("GET", "/eventroutes")["value"],
                         [{"id": "keep", "endpointName": "hook", "filter": "STARTS_WITH(subject, 'robot')"}])


class WebhookDelivery(EventCase):
    def test_lifecycle_and_relationship_events_arrive_as_adt_cloudevents_in_order(self):
        hook = WebhookReceiver()
        self.addCleanup(hook.stop)
        self.start_castor(endpoint_toml("hook", kind="webhook", url=hook.url,
                                        headers={"Authorization": "Bearer hook-secret"}))
        self.add_models()
        self.route("twins", "hook", "type = 'Microsoft.DigitalTwins.Twin.Create' OR "
                                    "(type = 'Microsoft.DigitalTwins.Twin.Update' AND subject = 'robot-1')")
        self.route("relationships", "hook", "STARTS_WITH(type, 'Microsoft.DigitalTwins.Relationship')")
        self.put_twin("robot-1", temperature=21.5)
        self.put_twin("line-1", model=LINE, speed=1.0)
        self.ok("PUT", "/digitaltwins/robot-1/relationships/r1",
                {"$targetId": "line-1", "$relationshipName": "feeds"})
        self.patch_twin("robot-1", "temperature", 40.0)
        self.patch_twin("line-1", "speed", 2.0)            # filtered out (subject)
        self.telemetry("robot-1", {"vibration": 0.3}, "m-1")  # no route matches telemetry
        self.ok("DELETE", "/digitaltwins/robot-1/relationships/r1")
        got = wait_until(lambda: len(hook.delivered()) >= 5 and hook.delivered(), timeout=10)
        types = [(e["type"], e["subject"]) for e in hook.delivered()]
        self.assertEqual(types, [
            ("Microsoft.DigitalTwins.Twin.Create", "robot-1"),
            ("Microsoft.DigitalTwins.Twin.Create", "line-1"),
            ("Microsoft.DigitalTwins.Relationship.Create", "robot-1/relationships/r1"),
            ("Microsoft.DigitalTwins.Twin.Update", "robot-1"),
            ("Microsoft.DigitalTwins.Relationship.Delete", "robot-1/relationships/r1"),
        ])
        create, _, relate, update, _ = got
        for event, (type_, subject) in zip(got, types):
            self.assertCloudEvent(event, type_, subject)
        self.assertEqual(create["data"]["$dtId"], "robot-1")
        self.assertEqual(create["data"]["temperature"], 21.5)
        self.assertEqual(create["data"]["$metadata"]["$model"], ROBOT)
        self.assertTrue(create["data"]["$etag"].startswith('W/"'))
        self.assertEqual(relate["data"]["$targetId"], "line-1")
        self.assertEqual(relate["data"]["$relationshipName"], "feeds")
        self.assertEqual(update["data"], {"modelId": ROBOT,
                                          "patch": [{"op": "replace", "path": "/temperature", "value": 40.0}]})
        self.assertEqual(len({e["id"] for e in got}), 5)
        request = hook.all()[0]
        self.assertEqual(request["path"], "/events")
        self.assertEqual(request["headers"]["content-type"], "application/cloudevents+json; charset=utf-8")
        self.assertEqual(request["headers"]["authorization"], "Bearer hook-secret")
        self.assertEqual(len(hook.all()), 5, "nothing unrouted was sent")
        self.assertTrue(wait_until(lambda: self.metric("castor_endpoint_delivered_total", "hook") == 5))
        self.stop_castor()


    def test_https_webhooks_verify_the_certificate(self):
        tls_files = self_signed_certificate(self.tmp.root)
        trusted = WebhookReceiver(tls_files=tls_files)
        untrusted = WebhookReceiver(tls_files=tls_files)
        self.addCleanup(trusted.stop)
        self.addCleanup(untrusted.stop)
        self.start_castor(endpoint_toml("trusted", kind="webhook", url=trusted.url, ca_file=tls_files[0]) +
                          endpoint_toml("untrusted", kind="webhook", url=untrusted.url, max_attempts=1))
        self.add_models()
        self.route("a", "trusted", "true")
        self.route("b", "untrusted", "true")
        self.put_twin("robot-1", temperature=1.0)
        got = wait_until(lambda: trusted.delivered(), timeout=10)
        self.assertCloudEvent(got[0], "Microsoft.DigitalTwins.Twin.Create", "robot-1")
        letters = wait_until(lambda: self.dead_letters("untrusted"), timeout=10)
        self.assertIn("certificate verify failed", letters[0]["reason"])
        self.assertEqual(untrusted.all(), [])
        self.stop_castor()


class MqttDelivery(EventCase):
    def test_telemetry_reaches_the_broker_with_qos1_filtered_on_its_body(self):
        broker = Mosquitto(self.tmp.root)
        self.addCleanup(broker.stop)
        subscriber = MqttSubscriber(broker.port, "castor/it/events")
        self.addCleanup(subscriber.close)
        self.start_castor(endpoint_toml("bus", kind="mqtt", broker=f"tcp://127.0.0.1:{broker.port}",
                                        topic="castor/it/events"))
        self.add_models()
        self.route("shaking", "bus", "type = 'microsoft.iot.telemetry' AND $body.vibration > 1")
        self.put_twin("robot-1", temperature=20.0)
        self.telemetry("robot-1", {"vibration": 0.5}, "calm-1")
        self.telemetry("robot-1", {"vibration": 2.5}, "shake-1")
        self.telemetry("robot-1", {"vibration": 3.5}, "shake-2")
        got = wait_until(lambda: len(subscriber.received()) >= 2 and subscriber.received(), timeout=10)
        self.assertEqual([m["id"] for m in got], ["shake-1", "shake-2"])
        event = got[0]
        self.assertEqual(event["type"], "microsoft.iot.telemetry")
        self.assertEqual(event["source"], f"{SOURCE}/digitaltwins/robot-1")
        self.assertEqual(event["dataschema"], ROBOT)
        self.assertEqual(event["data"], {"vibration": 2.5})
        self.assertEqual(event["specversion"], "1.0")
        self.assertEqual(event["datacontenttype"], "application/json")
        self.assertNotIn("subject", event)  # not from a component
        self.stop_castor()
        self.assertEqual(len(subscriber.received()), 2)


class LiveEventStream(EventCase):
    def test_sse_and_websocket_get_what_routes_send_to_default(self):
        self.start_castor()
        self.add_models()
        self.route("hot-robot-1", "default", "subject = 'robot-1' AND (type != 'Microsoft.DigitalTwins.Twin.Update' "
                                             "OR IS_DEFINED($body.patch))")
        sse = SseReader(self.server.host, self.server.port, "/castor/v1/events")
        self.addCleanup(sse.close)
        ws = WebSocketReader(self.server.host, self.server.port, "/castor/v1/events")
        self.addCleanup(ws.close)
        self.assertIn("text/event-stream", sse.head)
        self.assertTrue(ws.accepted, ws.head)
        for reader in (sse, ws):
            hello = reader.next()
            self.assertEqual(hello["type"], "Castor.Events.Subscribed")
            self.assertEqual(hello["data"], {"endpoint": "default"})
        self.put_twin("robot-2", temperature=1.0)   # another subject: filtered out
        self.put_twin("robot-1", temperature=2.0)
        self.patch_twin("robot-1", "temperature", 3.0)
        for reader in (sse, ws):
            create, update = reader.next(), reader.next()
            self.assertCloudEvent(create, "Microsoft.DigitalTwins.Twin.Create", "robot-1")
            self.assertEqual(create["data"]["temperature"], 2.0)
            self.assertCloudEvent(update, "Microsoft.DigitalTwins.Twin.Update", "robot-1")
            self.assertEqual(update["data"]["patch"][0]["value"], 3.0)
        status, _, body = self.server.request("GET", "/castor/v1/events")
        self.assertEqual(status, 400)  # a plain GET is told to use WebSocket or SSE
        ws.close()  # a WebSocket close waits for the client's answer; this client answers now
        self.stop_castor()
        with self.assertRaises(ConnectionError):  # shutdown ends the SSE stream too
            sse.next(timeout=5)


class RetryAndDeadLetter(EventCase):
    def test_failures_are_retried_then_dead_lettered_and_delivery_moves_on(self):
        hook = WebhookReceiver()
        flaky = WebhookReceiver(answers=[500, 503])
        picky = WebhookReceiver(answers=[400])
        for r in (hook, flaky, picky):
            self.addCleanup(r.stop)
        fast = dict(kind="webhook", max_attempts=3, retry_initial="100ms", retry_max="200ms", timeout="2s")
        self.start_castor(endpoint_toml("hook", url=hook.url, **fast) +
                          endpoint_toml("flaky", url=flaky.url, **fast) +
                          endpoint_toml("picky", url=picky.url, **fast))
        self.add_models()
        self.route("to-hook", "hook", "type = 'Microsoft.DigitalTwins.Twin.Create'")
        self.route("to-flaky", "flaky", "subject = 'robot-1'")
        self.route("to-picky", "picky", "subject = 'robot-1' AND type = 'Microsoft.DigitalTwins.Twin.Create'")
        self.put_twin("robot-1", temperature=1.0)
        self.assertTrue(wait_until(lambda: len(hook.delivered()) == 1), "the receiver took the first event")

        hook.stop()  # the receiver goes away: the next event is retried, then dead-lettered
        self.put_twin("robot-2", temperature=2.0)
        letters = wait_until(lambda: self.dead_letters("hook"), timeout=10)
        self.assertEqual(len(letters), 1)
        letter = letters[0]
        self.assertEqual(letter["endpoint"], "hook")
        self.assertEqual(letter["attempts"], 3)
        self.assertIn("Connection refused", letter["reason"])
        self.assertIn("after 3 attempts", letter["reason"])
        self.assertCloudEvent(letter["event"], "Microsoft.DigitalTwins.Twin.Create", "robot-2")
        self.assertTrue(wait_until(lambda: self.metric("castor_endpoint_dead_lettered_total", "hook") == 1))
        self.assertGreaterEqual(self.metric("castor_endpoint_failed_attempts_total", "hook"), 3)

        # 500 and 503 are retried; the third attempt succeeds.
        self.assertTrue(wait_until(lambda: len(flaky.delivered()) == 1))
        self.assertEqual([r["status"] for r in flaky.all()], [500, 503, 200])
        self.assertEqual(self.dead_letters("flaky"), [])
        # 400 means the endpoint will never take it: dead-lettered at once, without retries.
        picky_letters = wait_until(lambda: self.dead_letters("picky"))
        self.assertEqual(len(picky.all()), 1)
        self.assertIn("rejected", picky_letters[0]["reason"])
        self.assertIn("HTTP 400", picky_letters[0]["reason"])

        hook.start()  # back: new events flow again
        self.put_twin("robot-3", temperature=3.0)
        self.assertTrue(wait_until(lambda: len(hook.delivered()) == 2))
        self.assertEqual(hook.delivered()[1]["subject"], "robot-3")
        self.stop_castor()


class DeliveryAcrossRestarts(EventCase):
    def test_undelivered_events_are_delivered_after_a_restart(self):
        hook = WebhookReceiver()
        hook.stop()  # nobody listens yet
        self.addCleanup(hook.stop)
        self.start_castor(endpoint_toml("hook", kind="webhook", url=hook.url, max_attempts=1000,
                                        retry_initial="200ms", retry_max="500ms", timeout="2s"))
        self.add_models()
        self.route("all-twins", "hook", "STARTS_WITH(type, 'Microsoft.DigitalTwins.Twin.')")
        for i in range(3):
            self.put_twin(f"robot-{i}", temperature=float(i))
        self.assertTrue(wait_until(lambda: (self.metric("castor_endpoint_failed_attempts_total", "hook") or 0) >= 2))
        self.stop_castor()  # graceful: the outbox keeps the three events

        hook.start()
        self.restart()
        self.assertTrue(wait_until(lambda: len(hook.delivered()) >= 3), self.server.log())
        subjects = [e["subject"] for e in hook.delivered()]
        self.assertEqual(list(dict.fromkeys(subjects)), ["robot-0", "robot-1", "robot-2"])  # in order
        self.assertIn("resuming delivery of undelivered events", self.server.log())

        # The same after kill -9: what was taken survives in the outbox.
        hook.stop()
        before = len(hook.delivered())
        for i in range(3):
            self.patch_twin(f"robot-{i}", "temperature", 100.0 + i)
        self.assertTrue(wait_until(lambda: (self.metric("castor_endpoint_failed_attempts_total", "hook") or 0) >= 1))
        time.sleep(0.5)  # let the outbox writer commit the later events too
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()
        hook.start()
        self.restart()
        self.assertTrue(wait_until(lambda: len(hook.delivered()) >= before + 3, timeout=10), self.server.log())
        updates = [e for e in hook.delivered()[before:] if e["type"] == "Microsoft.DigitalTwins.Twin.Update"]
        values = sorted({e["data"]["patch"][0]["value"] for e in updates})
        self.assertEqual(values, [100.0, 101.0, 102.0])
        self.stop_castor()


if __name__ == "__main__":
    unittest.main()
