#!/usr/bin/env python3
"""Integration tests of ADT import and delete jobs against the real `castor serve --insecure-local`:
an NDJSON file in the import folder becomes twins and relationships over HTTP, with status,
progress and an output log; paths outside the folder are refused; a delete job empties the
instance. Usage: CASTOR_BIN=build/bin/castor import_test.py [Class]"""
import json
import os
import time
import unittest
import urllib.parse

from castor_harness import Server, TempData

API = "api-version=2023-10-31"

MODELS = [
    {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:it:Conveyor;1", "@type": "Interface",
     "contents": [{"@type": "Property", "name": "beltSpeed", "schema": "double"}]},
    {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:it:Robot;1", "@type": "Interface",
     "contents": [{"@type": "Property", "name": "serial", "schema": "string"},
                  {"@type": "Relationship", "name": "feeds", "target": "dtmi:it:Conveyor;1",
                   "properties": [{"@type": "Property", "name": "slot", "schema": "integer"}]}]},
]


def plant_file(robots, bad_line=False):
    """ADT's import format: Header, Models, Twins, Relationships; one JSON object per line."""
    lines = [{"Section": "Header"}, {"fileVersion": "1.0.0", "author": "it", "organization": "castor"},
             {"Section": "Models"}, *MODELS, {"Section": "Twins"}]
    lines += [{"$dtId": f"conveyor-{i}", "$metadata": {"$model": "dtmi:it:Conveyor;1"}, "beltSpeed": 0.5}
              for i in range(3)]
    lines += [{"$dtId": f"robot-{i}", "$metadata": {"$model": "dtmi:it:Robot;1"}, "serial": f"SN-{i}"}
              for i in range(robots)]
    lines.append({"Section": "Relationships"})
    lines += [{"$dtId": f"robot-{i}", "$relationshipId": "feeds", "$targetId": f"conveyor-{i % 3}",
               "$relationshipName": "feeds", "slot": i} for i in range(robots)]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    if bad_line:
        text += '{"$dtId": "robot-0", "$relationshipId": "x", "$targetId": "nowhere", "$relationshipName": "feeds"}\n'
    return text


class JobsCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TempData()
        cls.import_dir = os.path.join(cls.tmp.root, "import")
        os.makedirs(cls.import_dir)
        cls.server = Server(cls.tmp.data, "--insecure-local", "--import-dir", cls.import_dir)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_cleanly(cls())
        finally:
            cls.tmp.cleanup()

    def call(self, method, path, body=None, headers=None):
        sep = "&" if "?" in path else "?"
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        data = json.dumps(body).encode() if body is not None and not isinstance(body, (bytes, str)) else body
        status, resp_headers, payload = self.server.request(method, path + sep + API, body=data, headers=hdrs)
        return status, resp_headers, json.loads(payload) if payload else None

    def write(self, name, text):
        with open(os.path.join(self.import_dir, name), "w") as f:
            f.write(text)

    def wait_for(self, path, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, job = self.call("GET", path)
            self.assertEqual(status, 200, job)
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return job
            time.sleep(0.05)
        self.fail(f"{path} did not finish")


class ImportJobs(JobsCase):
    def test_an_import_creates_twins_and_relationships_and_logs_like_adt(self):
        self.write("plant.ndjson", plant_file(40))
        status, _, job = self.call("PUT", "/jobs/imports/plant",
                                   {"inputBlobUri": "file://plant.ndjson", "outputBlobUri": "file://plant.log.ndjson"})
        self.assertEqual(status, 201, job)
        self.assertEqual(job["id"], "plant")
        self.assertIn(job["status"], ("notstarted", "running", "succeeded"))
        for key in ("createdDateTime", "lastActionDateTime", "purgeDateTime"):
            self.assertIn(key, job)
        job = self.wait_for("/jobs/imports/plant")
        self.assertEqual(job["status"], "succeeded", job)
        self.assertEqual(job["progress"], {"models": 2, "twins": 43, "relationships": 40, "errors": 0})
        self.assertIn("finishedDateTime", job)

        status, _, twin = self.call("GET", "/digitaltwins/robot-7")
        self.assertEqual((status, twin["serial"], twin["$metadata"]["$model"]), (200, "SN-7", "dtmi:it:Robot;1"))
        status, _, rel = self.call("GET", "/digitaltwins/robot-7/relationships/feeds")
        self.assertEqual((status, rel["$targetId"], rel["slot"]), (200, "conveyor-1", 7))
        status, _, incoming = self.call("GET", "/digitaltwins/conveyor-1/incomingrelationships")
        self.assertEqual(len(incoming["value"]), 13)
        status, _, model = self.call("GET", "/models/dtmi:it:Robot;1")
        self.assertEqual(status, 200)

        with open(os.path.join(self.import_dir, "plant.log.ndjson")) as f:
            log = [json.loads(line) for line in f]
        for entry in log:
            self.assertEqual((entry["jobId"], entry["jobType"], entry["logType"]), ("plant", "Import", "Info"))
            self.assertIn("timestamp", entry)
        self.assertEqual(log[0]["details"], {"status": "Started"})
        self.assertEqual(log[-1]["details"], {"status": "Succeeded"})
        sections = [e["details"]["section"] for e in log if e["details"].get("status") == "Succeeded" and "section" in e["details"]]
        self.assertEqual(sections, ["Models", "Twins", "Relationships"])

        status, _, listed = self.call("GET", "/jobs/imports")
        self.assertIn("plant", [j["id"] for j in listed["value"]])
        status, _, _ = self.call("DELETE", "/jobs/imports/plant")
        self.assertEqual(status, 204)
        status, _, err = self.call("GET", "/jobs/imports/plant")
        self.assertEqual((status, err["error"]["code"]), (404, "ImportJobNotFound"))

    def test_entity_errors_are_logged_and_the_job_fails_after_importing_the_rest(self):
        self.write("partial.ndjson", plant_file(5, bad_line=True))
        status, _, job = self.call("PUT", "/jobs/imports/partial",
                                   {"inputBlobUri": "partial.ndjson", "outputBlobUri": "partial.log"})
        self.assertEqual(status, 201, job)
        job = self.wait_for("/jobs/imports/partial")
        self.assertEqual(job["status"], "failed")
        self.assertEqual(job["error"]["code"], "JobFailed")
        self.assertEqual(job["progress"]["relationships"], 5)
        self.assertEqual(job["progress"]["errors"], 1)
        with open(os.path.join(self.import_dir, "partial.log")) as f:
            errors = [json.loads(line) for line in f if '"logType":"Error"' in line]
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0]["details"]["code"], "TargetTwinNotFound")
        self.assertEqual(errors[0]["details"]["line"], 21)

    def test_paths_outside_the_import_folder_other_schemes_and_missing_files_are_400(self):
        self.write("ok.ndjson", plant_file(1))
        outside = os.path.join(self.tmp.root, "outside.ndjson")
        with open(outside, "w") as f:
            f.write(plant_file(1))
        os.symlink(outside, os.path.join(self.import_dir, "escape.ndjson"))
        cases = {
            "file://../outside.ndjson": "contains '..'",
            "../outside.ndjson": "contains '..'",
            "file://" + urllib.parse.quote(outside): "outside the import folder",
            "file://escape.ndjson": "outside the import folder",
            "https://account.blob.core.windows.net/c/ok.ndjson": "scheme 'https:'",
            "file://missing.ndjson": "does not exist",
        }
        for uri, expect in cases.items():
            status, headers, err = self.call("PUT", "/jobs/imports/bad",
                                             {"inputBlobUri": uri, "outputBlobUri": "file://bad.log"})
            self.assertEqual(status, 400, uri)
            self.assertEqual(err["error"]["code"], "ValidationFailed", uri)
            self.assertEqual(headers["x-ms-error-code"], "ValidationFailed")
            self.assertIn(expect, err["error"]["message"], uri)
            self.assertIn(self.import_dir, err["error"]["message"])
        for out in ("file://../x.log", "file:///tmp/x.log", "http://x/y.log"):
            status, _, err = self.call("PUT", "/jobs/imports/bad", {"inputBlobUri": "ok.ndjson", "outputBlobUri": out})
            self.assertEqual((status, err["error"]["code"]), (400, "ValidationFailed"), out)
        self.assertEqual(self.call("GET", "/jobs/imports/bad")[0], 404)  # nothing was created
        self.assertFalse(os.path.exists(os.path.join(self.tmp.root, "x.log")))

    def test_malformed_requests_are_400(self):
        bodies = [
            ({"inputBlobUri": "a.ndjson"}, "outputBlobUri"),
            ({"inputBlobUri": "a.ndjson", "outputBlobUri": "b", "priority": 1}, "unknown field"),
            ({"inputBlobUri": 7, "outputBlobUri": "b"}, "non-empty string"),
            (b"{not json", "not valid JSON"),
        ]
        for body, expect in bodies:
            status, _, err = self.call("PUT", "/jobs/imports/x", body)
            self.assertEqual(status, 400, body)
            self.assertIn(expect, err["error"]["message"])
        self.assertEqual(self.call("POST", "/jobs/imports/nope/cancel")[0], 404)
        self.assertEqual(self.call("DELETE", "/jobs/imports/nope")[0], 404)


class DeleteJobs(JobsCase):
    def test_a_delete_job_removes_every_model_twin_and_relationship(self):
        self.write("plant.ndjson", plant_file(10))
        status, _, _ = self.call("PUT", "/jobs/imports/plant", {"inputBlobUri": "plant.ndjson", "outputBlobUri": "plant.log"})
        self.assertEqual(status, 201)
        self.assertEqual(self.wait_for("/jobs/imports/plant")["status"], "succeeded")

        status, _, err = self.call("POST", "/jobs/deletions?timeoutInMinutes=5")
        self.assertEqual((status, err["error"]["code"]), (400, "ValidationFailed"))  # below 15 minutes
        status, headers, job = self.call("POST", "/jobs/deletions?timeoutInMinutes=60", headers={"operation-id": "wipe-1"})
        self.assertEqual(status, 202, job)
        self.assertEqual(job["id"], "wipe-1")
        self.assertEqual(headers["operation-id"], "wipe-1")
        self.assertTrue(headers["operation-location"].endswith("/jobs/deletions/wipe-1?api-version=2023-10-31"),
                        headers["operation-location"])
        job = self.wait_for("/jobs/deletions/wipe-1")
        self.assertEqual(job["status"], "succeeded", job)
        self.assertIn("finishedDateTime", job)
        self.assertEqual(self.call("GET", "/digitaltwins/robot-1")[0], 404)
        self.assertEqual(self.call("GET", "/models")[2]["value"], [])
        status, _, err = self.call("POST", "/jobs/deletions", headers={"operation-id": "wipe-1"})
        self.assertEqual((status, err["error"]["code"]), (400, "ValidationFailed"))  # the id is taken
        status, headers, job = self.call("POST", "/jobs/deletions")  # without operation-id: one is made up
        self.assertEqual(status, 202)
        self.assertEqual(headers["operation-id"], job["id"])
        self.wait_for("/jobs/deletions/" + job["id"])
        status, _, listed = self.call("GET", "/jobs/deletions")
        self.assertEqual([j["id"] for j in listed["value"]][0], "wipe-1")
        self.assertEqual(self.call("GET", "/jobs/deletions/nope")[2]["error"]["code"], "DeleteJobNotFound")


if __name__ == "__main__":
    unittest.main()
