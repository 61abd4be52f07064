// Drives a running `castor serve` over HTTPS with the official Azure Digital Twins JavaScript SDK
// (@azure/digital-twins-core), exactly as an ADT user would: a TokenCredential that hands out a
// Castor token, the generated CA trusted through NODE_EXTRA_CA_CERTS, no TLS shortcuts.
// Started by sdk_test.py, which owns the server; this file only needs:
//   CASTOR_URL, CASTOR_ADMIN_TOKEN, CASTOR_VIEWER_TOKEN, CASTOR_IMPORT_DIR, NODE_EXTRA_CA_CERTS.
// Parts whose routes the server does not have yet (404 "NotFound": no such route, as opposed to
// a resource's own 404 code) are skipped and listed as NOT YET AVAILABLE, never passed.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { test } = require("node:test");
const { DigitalTwinsClient } = require("@azure/digital-twins-core");
const { ServiceClient, WebResource } = require("@azure/core-http");

const URL_ = must("CASTOR_URL").replace(/\/$/, "");
const ADMIN = must("CASTOR_ADMIN_TOKEN");
const VIEWER = must("CASTOR_VIEWER_TOKEN");
const IMPORT_DIR = process.env.CASTOR_IMPORT_DIR || "";
const PAGED_RELATIONSHIPS = 1050; // Castor and ADT page relationships by 1000: forces two pages

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run this through sdk_test.py`);
  return v;
}

/** @returns {import("@azure/core-auth").TokenCredential} */
function castorCredential(token) {
  return {
    async getToken(scopes) {
      assert.ok(scopes, "the SDK asks for a scope");
      return { token, expiresOnTimestamp: Date.now() + 3600 * 1000 };
    },
  };
}

const client = new DigitalTwinsClient(URL_, castorCredential(ADMIN));
const notYetAvailable = [];
const sdkVersion = require("@azure/digital-twins-core/package.json").version;

// Awaits `promise` and checks it fails with an HTTP error of `status` (and ADT `code` if given).
async function rejects(promise, status, code) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected HTTP ${status} ${code || ""}, but the call succeeded`);
  assert.equal(err.statusCode, status, `expected HTTP ${status}, got ${err.statusCode}: ${err.message}`);
  if (code) assert.equal(err.code, code, `expected error code ${code}, got ${err.code}: ${err.message}`);
  const body = err.response && err.response.bodyAsText;
  const parsed = JSON.parse(body);
  assert.equal(typeof parsed.error.code, "string", `ADT error shape: ${body}`);
  assert.equal(typeof parsed.error.message, "string", `ADT error shape: ${body}`);
  return err;
}

// True when the server answers `probe` with 404 "NotFound" (no such route at all).
async function routeMissing(probe) {
  try {
    await probe();
    return false;
  } catch (e) {
    if (e.statusCode === 404 && e.code === "NotFound") return true;
    if (e.statusCode === 404) return false; // the resource's own 404: the route exists
    throw e;
  }
}

async function collect(iter) {
  const out = [];
  for await (const item of iter) out.push(item);
  return out;
}

// Runs `fn` over `items` with at most `width` calls in flight.
async function pool(items, width, fn) {
  let next = 0;
  const workers = Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

// What @azure/digital-twins-core 1.x cannot send (import jobs; telemetry to check a 404 without its
// payload/Message-Id mix-up) goes through the SDK's own HTTP pipeline: @azure/core-http's
// ServiceClient with the same TokenCredential.
const raw = new ServiceClient(castorCredential(ADMIN), { credentialScopes: ["https://digitaltwins.azure.net/.default"] });
async function send(method, p, body, headers = {}) {
  const req = new WebResource(`${URL_}${p}${p.includes("?") ? "&" : "?"}api-version=2023-10-31`, method,
                              body === undefined ? undefined : JSON.stringify(body));
  if (body !== undefined) req.headers.set("Content-Type", "application/json");
  for (const [k, v] of Object.entries(headers)) req.headers.set(k, v);
  const res = await raw.sendRequest(req);
  return { status: res.status, body: res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined };
}

const M = {
  asset: "dtmi:castor:sdktest:Asset;1",
  thermostat: "dtmi:castor:sdktest:Thermostat;1",
  robot: "dtmi:castor:sdktest:Robot;1",
  line: "dtmi:castor:sdktest:Line;1",
  old: "dtmi:castor:sdktest:Old;1",
};
const CTX = "dtmi:dtdl:context;3";
const MODELS = [
  {
    "@id": M.asset, "@type": "Interface", "@context": CTX, displayName: "Asset",
    contents: [
      { "@type": "Property", name: "serial", schema: "string" },
      { "@type": "Property", name: "label", schema: "string", writable: true },
    ],
  },
  {
    "@id": M.thermostat, "@type": "Interface", "@context": CTX,
    contents: [
      { "@type": "Property", name: "setpoint", schema: "double", writable: true },
      { "@type": "Telemetry", name: "temperature", schema: "double" },
    ],
  },
  {
    "@id": M.robot, "@type": "Interface", "@context": CTX, extends: M.asset,
    contents: [
      { "@type": "Property", name: "speed", schema: "double", writable: true },
      { "@type": "Property", name: "mode", schema: "string", writable: true },
      { "@type": "Telemetry", name: "load", schema: "double" },
      { "@type": "Component", name: "thermo", schema: M.thermostat },
      {
        "@type": "Relationship", name: "feeds", target: M.robot,
        properties: [{ "@type": "Property", name: "weight", schema: "double", writable: true }],
      },
      { "@type": "Relationship", name: "locatedIn", target: M.line },
    ],
  },
  {
    "@id": M.line, "@type": "Interface", "@context": CTX,
    contents: [{ "@type": "Property", name: "capacity", schema: "integer" }],
  },
  { "@id": M.old, "@type": "Interface", "@context": CTX, contents: [] },
];

function robot(serial, extra = {}) {
  return JSON.stringify({
    $metadata: { $model: M.robot },
    serial, speed: 1.5, mode: "auto",
    thermo: { $metadata: {}, setpoint: 21.5 },
    ...extra,
  });
}

test("models: createModels (set with inheritance and components), get, list, paging, errors", async () => {
  const created = await client.createModels(MODELS);
  assert.equal(created._response.status, 201);
  assert.deepEqual(created.map((m) => m.id).sort(), Object.values(M).sort());
  for (const m of created) assert.ok(m.uploadTime instanceof Date || typeof m.uploadTime === "string");

  await rejects(client.createModels([MODELS[0]]), 409, "ModelAlreadyExists");
  // A set is atomic: one invalid model keeps the valid one out.
  const fresh = { "@id": "dtmi:castor:sdktest:Fresh;1", "@type": "Interface", "@context": CTX, contents: [] };
  const broken = { "@id": "dtmi:castor:sdktest:Broken;1", "@type": "Interface", "@context": CTX,
                   contents: [{ "@type": "Property", name: "x", schema: "no-such-schema" }] };
  await rejects(client.createModels([fresh, broken]), 400, "DTDLParserError");
  await rejects(client.getModel(fresh["@id"]), 404, "ModelNotFound");

  const plain = await client.getModel(M.robot);
  assert.equal(plain.id, M.robot);
  assert.equal(plain.decommissioned, false);
  assert.equal(plain.model, undefined, "no definition unless asked for");
  const full = await client.getModel(M.robot, true);
  assert.equal(full.model["@id"], M.robot);
  assert.equal(full.model.extends, M.asset);

  const all = await collect(client.listModels());
  for (const id of Object.values(M)) assert.ok(all.some((m) => m.id === id), `listModels has ${id}`);
  assert.ok(all.every((m) => m.model === undefined));

  const deps = await collect(client.listModels([M.robot], true));
  const depIds = deps.map((m) => m.id);
  for (const id of [M.robot, M.asset, M.thermostat]) assert.ok(depIds.includes(id), `dependenciesFor Robot has ${id}: ${depIds}`);
  assert.ok(!depIds.includes(M.old), "dependenciesFor Robot leaves unrelated models out");
  assert.ok(deps.every((m) => m.model && m.model["@id"] === m.id), "includeModelDefinition on list");

  const pages = [];
  // SDK 1.1.0 ignores listModels' resultsPerPage argument; byPage({ maxPageSize }) sets max-items-per-page.
  for await (const page of client.listModels().byPage({ maxPageSize: 2 })) pages.push(page.value.map((m) => m.id));
  assert.ok(pages.length >= 3, `5 models at 2 per page span >= 3 pages, got ${pages.length}`);
  assert.ok(pages.every((p) => p.length <= 2), "max-items-per-page is honoured");
  assert.equal(new Set(pages.flat()).size, pages.flat().length, "no model repeats across pages");
  for (const id of Object.values(M)) assert.ok(pages.flat().includes(id), `paged listModels has ${id}`);

  await rejects(client.getModel("dtmi:castor:sdktest:Nope;1"), 404, "ModelNotFound");
});

test("models: listModels with two dependenciesFor (SDK 1.x sends them comma-separated in one parameter)", async () => {
  const two = (await collect(client.listModels([M.line, M.old]))).map((m) => m.id).sort();
  assert.deepEqual(two, [M.line, M.old].sort());
});

test("models: decomissionModel, a twin of a decommissioned model, deleteModel", async () => {
  await client.decomissionModel(M.old);
  assert.equal((await client.getModel(M.old)).decommissioned, true);
  await rejects(client.upsertDigitalTwin("old-1", JSON.stringify({ $metadata: { $model: M.old } })), 400,
                "ModelDecommissioned");
  await rejects(client.getDigitalTwin("old-1"), 404, "DigitalTwinNotFound");
  await client.deleteModel(M.old);
  await rejects(client.getModel(M.old), 404, "ModelNotFound");
  await rejects(client.deleteModel(M.asset), 409, "ModelReferencesNotDeleted");
  assert.equal((await client.getModel(M.asset)).id, M.asset);
});

let etag1;
test("twins: upsert with a component and inherited properties, get, errors", async () => {
  const put = await client.upsertDigitalTwin("robot-1", robot("SN-1", { label: "first" }));
  assert.equal(put.body.$dtId, "robot-1");
  assert.ok(put.etag, "ETag header on PUT");
  assert.equal(put.body.$etag, put.etag);
  const got = await client.getDigitalTwin("robot-1");
  assert.equal(got.etag, put.etag);
  assert.equal(got.body.$metadata.$model, M.robot);
  assert.equal(got.body.serial, "SN-1", "inherited property");
  assert.equal(got.body.label, "first");
  assert.equal(got.body.speed, 1.5);
  assert.equal(got.body.thermo.setpoint, 21.5, "component property");
  assert.ok(got.body.$metadata.speed.lastUpdateTime, "per-property lastUpdateTime");
  etag1 = got.etag;

  await rejects(client.upsertDigitalTwin("robot-1", robot("SN-X"), { ifNoneMatch: "*" }), 412, "PreconditionFailed");
  assert.equal((await client.getDigitalTwin("robot-1")).body.serial, "SN-1", "a failed If-None-Match wrote nothing");
  await rejects(client.getDigitalTwin("no-such-twin"), 404, "DigitalTwinNotFound");
  await rejects(client.upsertDigitalTwin("bad-1", robot("SN-B", { colour: "red" })), 400, "ValidationFailed");
  await rejects(client.upsertDigitalTwin("bad-2", robot("SN-B", { speed: "fast" })), 400, "ValidationFailed");
  await rejects(client.upsertDigitalTwin("bad-3", JSON.stringify({ $metadata: { $model: "dtmi:castor:sdktest:Nope;1" } })),
                400, "ValidationFailed");
  for (const id of ["bad-1", "bad-2", "bad-3"]) await rejects(client.getDigitalTwin(id), 404, "DigitalTwinNotFound");

  const created = await client.upsertDigitalTwin("robot-2", robot("SN-2"), { ifNoneMatch: "*" });
  assert.equal(created.body.$dtId, "robot-2");
  await client.upsertDigitalTwin("line-1", JSON.stringify({ $metadata: { $model: M.line }, capacity: 10 }));
});

test("twins: updateDigitalTwin with JSON Patch and If-Match; a stale ETag is 412", async () => {
  const upd = await client.updateDigitalTwin("robot-1", [{ op: "replace", path: "/speed", value: 2.5 },
                                                          { op: "add", path: "/mode", value: "manual" }],
                                             { ifMatch: etag1 });
  assert.equal(upd._response.status, 204);
  assert.ok(upd.etag && upd.etag !== etag1, "a patch returns a new ETag");
  const after = await client.getDigitalTwin("robot-1");
  assert.equal(after.body.speed, 2.5);
  assert.equal(after.body.mode, "manual");
  assert.equal(after.etag, upd.etag);

  await rejects(client.updateDigitalTwin("robot-1", [{ op: "replace", path: "/speed", value: 9 }], { ifMatch: etag1 }),
                412, "PreconditionFailed");
  await rejects(client.updateDigitalTwin("robot-1", [{ op: "replace", path: "/speed", value: "fast" }]), 400,
                "ValidationFailed");
  await rejects(client.updateDigitalTwin("robot-1", [{ op: "add", path: "/colour", value: "red" }]), 400,
                "ValidationFailed");
  await rejects(client.updateDigitalTwin("no-such-twin", [{ op: "add", path: "/speed", value: 1 }]), 404,
                "DigitalTwinNotFound");
  const still = await client.getDigitalTwin("robot-1");
  assert.equal(still.body.speed, 2.5, "failed patches changed nothing");
  assert.equal(still.etag, upd.etag, "failed patches kept the ETag");

  await client.updateDigitalTwin("robot-1", [{ op: "remove", path: "/mode" }], { ifMatch: "*" });
  assert.equal((await client.getDigitalTwin("robot-1")).body.mode, undefined);
});

test("components: getComponent, updateComponent", async () => {
  const c = await client.getComponent("robot-1", "thermo");
  assert.equal(c.body.setpoint, 21.5);
  assert.ok(c.etag, "ETag on a component");
  const u = await client.updateComponent("robot-1", "thermo", [{ op: "replace", path: "/setpoint", value: 23 }]);
  assert.equal(u._response.status, 204);
  assert.equal((await client.getComponent("robot-1", "thermo")).body.setpoint, 23);
  assert.equal((await client.getDigitalTwin("robot-1")).body.thermo.setpoint, 23);
  await rejects(client.updateComponent("robot-1", "thermo", [{ op: "replace", path: "/setpoint", value: "hot" }]),
                400, "ValidationFailed");
  await rejects(client.getComponent("robot-1", "nope"), 404);
});

test("relationships: upsert, get, list by name, incoming, update with ETag, delete", async () => {
  const rel = await client.upsertRelationship("robot-1", "r1-feeds-r2",
                                              { $relationshipName: "feeds", $targetId: "robot-2", weight: 1.0 });
  assert.equal(rel.body.$relationshipId, "r1-feeds-r2");
  assert.equal(rel.body.$sourceId, "robot-1");
  assert.ok(rel.etag);
  await client.upsertRelationship("robot-1", "r1-in-line", { $relationshipName: "locatedIn", $targetId: "line-1" });

  const got = await client.getRelationship("robot-1", "r1-feeds-r2");
  assert.equal(got.body.$targetId, "robot-2");
  assert.equal(got.body.weight, 1.0);

  const allOut = await collect(client.listRelationships("robot-1"));
  assert.deepEqual(allOut.map((r) => r.$relationshipId).sort(), ["r1-feeds-r2", "r1-in-line"]);
  const feeds = await collect(client.listRelationships("robot-1", { relationshipName: "feeds" }));
  assert.deepEqual(feeds.map((r) => r.$relationshipId), ["r1-feeds-r2"]);
  const incoming = await collect(client.listIncomingRelationships("robot-2"));
  assert.equal(incoming.length, 1);
  assert.equal(incoming[0].relationshipId, "r1-feeds-r2");
  assert.equal(incoming[0].sourceId, "robot-1");
  assert.equal(incoming[0].relationshipName, "feeds");

  const upd = await client.updateRelationship("robot-1", "r1-feeds-r2", [{ op: "replace", path: "/weight", value: 2.0 }],
                                              { ifMatch: got.etag });
  assert.equal(upd._response.status, 204);
  assert.equal((await client.getRelationship("robot-1", "r1-feeds-r2")).body.weight, 2.0);
  await rejects(client.updateRelationship("robot-1", "r1-feeds-r2", [{ op: "replace", path: "/weight", value: 3.0 }],
                                          { ifMatch: got.etag }), 412, "PreconditionFailed");
  assert.equal((await client.getRelationship("robot-1", "r1-feeds-r2")).body.weight, 2.0);

  await rejects(client.upsertRelationship("robot-1", "to-nowhere", { $relationshipName: "feeds", $targetId: "ghost" }),
                404, "TargetTwinNotFound");
  await rejects(client.upsertRelationship("robot-1", "wrong-target", { $relationshipName: "feeds", $targetId: "line-1" }),
                400, "ValidationFailed");
  await rejects(client.upsertRelationship("robot-1", "no-such-name", { $relationshipName: "owns", $targetId: "robot-2" }),
                400, "ValidationFailed");
  await rejects(client.getRelationship("robot-1", "to-nowhere"), 404, "RelationshipNotFound");
  await rejects(client.deleteDigitalTwin("robot-2"), 400, "RelationshipsNotDeleted");

  await client.deleteRelationship("robot-1", "r1-feeds-r2");
  await rejects(client.getRelationship("robot-1", "r1-feeds-r2"), 404, "RelationshipNotFound");
  assert.equal((await collect(client.listIncomingRelationships("robot-2"))).length, 0);
  await rejects(client.deleteRelationship("robot-1", "r1-feeds-r2"), 404, "RelationshipNotFound");
});

test("telemetry: publishTelemetry and publishComponentTelemetry", async (t) => {
  await t.test("publishTelemetry with an object", async () => {
    const r = await client.publishTelemetry("robot-1", { load: 0.75 }, "msg-1");
    assert.equal(r._response.status, 204);
  });
  // The SDK's samples pass telemetry as a JSON text, which core-http sends as a JSON string.
  await t.test("publishTelemetry with a JSON text, as in the SDK samples", async () => {
    const r = await client.publishTelemetry("robot-1", JSON.stringify({ load: 0.5 }), "msg-2");
    assert.equal(r._response.status, 204);
  });
  // SDK 1.1.0 passes publishComponentTelemetry's payload as the Message-Id header and the message id
  // as the body (a JSON string); ADT answers 204 all the same.
  await t.test("publishComponentTelemetry (its payload parameter is a string)", async () => {
    const r = await client.publishComponentTelemetry("robot-1", "thermo", JSON.stringify({ temperature: 20.5 }), "msg-3");
    assert.equal(r._response.status, 204);
  });
  await t.test("telemetry of a missing twin or component is 404", async () => {
    await rejects(client.publishTelemetry("no-such-twin", { load: 1 }, "msg-4"), 404, "DigitalTwinNotFound");
    const r = await send("POST", "/digitaltwins/robot-1/components/nope/telemetry", { temperature: 1 },
                         { "Message-Id": "msg-5" });
    assert.equal(r.status, 404, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "ComponentNotFound");
  });
});

test("auth: a bad token is 401, a viewer may read but not write (403)", async () => {
  const stranger = new DigitalTwinsClient(URL_, castorCredential("castor_" + "A".repeat(43)));
  const err = await rejects(stranger.getDigitalTwin("robot-1"), 401, "Unauthorized");
  assert.ok(!err.response.bodyAsText.includes("AAAAAAAA"), "the token is never echoed");
  const viewer = new DigitalTwinsClient(URL_, castorCredential(VIEWER));
  assert.equal((await viewer.getDigitalTwin("robot-1")).body.$dtId, "robot-1");
  await rejects(viewer.upsertDigitalTwin("viewer-made", robot("SN-V")), 403, "Forbidden");
  await rejects(client.getDigitalTwin("viewer-made"), 404, "DigitalTwinNotFound");
});

test(`paging: ${PAGED_RELATIONSHIPS} relationships come back through the SDK's async iterators`, async () => {
  await client.upsertDigitalTwin("hub-src", robot("SN-HS"));
  await client.upsertDigitalTwin("hub-dst", robot("SN-HD"));
  const ids = Array.from({ length: PAGED_RELATIONSHIPS }, (_, i) => `edge-${String(i).padStart(5, "0")}`);
  await pool(ids, 32, (id, i) => client.upsertRelationship("hub-src", id, { $relationshipName: "feeds",
                                                                               $targetId: "hub-dst", weight: i }));
  const out = await collect(client.listRelationships("hub-src"));
  assert.equal(out.length, PAGED_RELATIONSHIPS);
  assert.deepEqual(out.map((r) => r.$relationshipId).sort(), ids);
  const named = await collect(client.listRelationships("hub-src", { relationshipName: "feeds" }));
  assert.equal(named.length, PAGED_RELATIONSHIPS, "relationshipName survives into the next pages");
  let pages = 0;
  for await (const page of client.listRelationships("hub-src").byPage()) {
    pages++;
    assert.ok(page.value.length <= 1000);
  }
  assert.ok(pages >= 2, `expected several pages, got ${pages}`);
  const inc = await collect(client.listIncomingRelationships("hub-dst"));
  assert.equal(inc.length, PAGED_RELATIONSHIPS);
  assert.deepEqual(inc.map((r) => r.relationshipId).sort(), ids);
  assert.ok(inc.every((r) => r.sourceId === "hub-src"));
});

test("event routes: upsert, get, list, delete (when the server has them)", async (t) => {
  if (await routeMissing(() => client.getEventRoute("probe-route"))) {
    notYetAvailable.push("event routes (GET /eventroutes/{id} answered 404 NotFound: no such route)");
    return t.skip("event routes are not implemented by this server yet");
  }
  await client.upsertEventRoute("route-1", "default", "type = 'Microsoft.DigitalTwins.Twin.Create'");
  await client.upsertEventRoute("route-2", "default", "true");
  const r = await client.getEventRoute("route-1");
  assert.equal(r.id, "route-1");
  assert.equal(r.endpointName, "default");
  assert.equal(r.filter, "type = 'Microsoft.DigitalTwins.Twin.Create'");
  const listed = await collect(client.listEventRoutes());
  assert.deepEqual(listed.map((x) => x.id).filter((id) => id.startsWith("route-")).sort(), ["route-1", "route-2"]);
  const pages = [];
  for await (const page of client.listEventRoutes().byPage({ maxPageSize: 1 })) pages.push(page.value.length);
  assert.ok(pages.length >= 2 && pages.every((n) => n <= 1), `one route per page: ${pages}`);
  await rejects(client.upsertEventRoute("route-x", "no-such-endpoint", "true"), 400);
  await rejects(client.upsertEventRoute("route-y", "default", "type = = 'broken"), 400);
  await client.deleteEventRoute("route-1");
  await rejects(client.getEventRoute("route-1"), 404, "EventRouteNotFound");
  await rejects(client.getEventRoute("route-x"), 404, "EventRouteNotFound");
  await client.deleteEventRoute("route-2");
});

test("import jobs: NDJSON with models, twins and relationships (when the server has them)", async (t) => {
  const probe = await send("GET", "/jobs/imports/probe-job");
  if (probe.status === 404 && probe.body.error.code === "NotFound") {
    notYetAvailable.push("import jobs (GET /jobs/imports/{id} answered 404 NotFound: no such route)");
    return t.skip("import jobs are not implemented by this server yet");
  }
  assert.ok(IMPORT_DIR, "CASTOR_IMPORT_DIR is set");
  fs.mkdirSync(IMPORT_DIR, { recursive: true });
  const input = path.join(IMPORT_DIR, "sdk-import.ndjson");
  const output = path.join(IMPORT_DIR, "sdk-import.log.ndjson");
  const lines = [
    { Section: "Header" }, { fileVersion: "1.0.0", author: "castor-sdk-test", organization: "castor" },
    { Section: "Models" },
    { "@id": "dtmi:castor:sdktest:Imported;1", "@type": "Interface", "@context": CTX,
      contents: [{ "@type": "Property", name: "n", schema: "integer" },
                 { "@type": "Relationship", name: "next" }] },
    { Section: "Twins" },
    ...[0, 1, 2].map((i) => ({ $dtId: `imp-${i}`, $metadata: { $model: "dtmi:castor:sdktest:Imported;1" }, n: i })),
    { Section: "Relationships" },
    { $dtId: "imp-0", $relationshipId: "imp-0-1", $targetId: "imp-1", $relationshipName: "next" },
    { $dtId: "imp-1", $relationshipId: "imp-1-2", $targetId: "imp-2", $relationshipName: "next" },
  ];
  fs.writeFileSync(input, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const put = await send("PUT", "/jobs/imports/sdk-job-1",
                         { inputBlobUri: `file://${input}`, outputBlobUri: `file://${output}` });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  assert.equal(put.body.id, "sdk-job-1");
  let job = put.body;
  const deadline = Date.now() + 30000;
  while (!["succeeded", "failed", "cancelled"].includes(job.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    job = (await send("GET", "/jobs/imports/sdk-job-1")).body;
  }
  assert.equal(job.status, "succeeded", JSON.stringify(job));
  assert.equal((await client.getDigitalTwin("imp-2")).body.n, 2);
  assert.equal((await client.getRelationship("imp-0", "imp-0-1")).body.$targetId, "imp-1");
  assert.equal((await collect(client.listIncomingRelationships("imp-2")))[0].sourceId, "imp-1");
  const list = await send("GET", "/jobs/imports");
  assert.equal(list.status, 200);
  assert.ok(list.body.value.some((j) => j.id === "sdk-job-1"));
  assert.equal((await send("GET", "/jobs/imports/no-such-job")).body.error.code, "ImportJobNotFound");
  assert.equal((await send("DELETE", "/jobs/imports/sdk-job-1")).status, 204);
  assert.equal((await send("GET", "/jobs/imports/sdk-job-1")).status, 404);
});

test("twins: deleteDigitalTwin", async () => {
  await client.deleteRelationship("robot-1", "r1-in-line");
  await client.deleteDigitalTwin("line-1");
  await rejects(client.getDigitalTwin("line-1"), 404, "DigitalTwinNotFound");
  await rejects(client.deleteDigitalTwin("line-1"), 404, "DigitalTwinNotFound");
  const e = (await client.getDigitalTwin("robot-2")).etag;
  await rejects(client.deleteDigitalTwin("robot-2", { ifMatch: 'W/"stale"' }), 412, "PreconditionFailed");
  await client.deleteDigitalTwin("robot-2", { ifMatch: e });
  await rejects(client.getDigitalTwin("robot-2"), 404, "DigitalTwinNotFound");
});

test("summary", () => {
  console.log(`SDK @azure/digital-twins-core ${sdkVersion} against ${URL_}`);
  for (const what of notYetAvailable) console.log(`NOT YET AVAILABLE: ${what}`);
});
