// The service's current JavaScript SDK (@azure/arm-storageimportexport 2.1.0, on
// @azure/core-rest-pipeline) drives the emulator as a customer's code would: over HTTPS, with a
// bearer token, through every operation group of the client. Started by run.mjs, which makes
// the certificate, starts the emulator and sets EMULATOR_URL, EMULATOR_TOKEN and
// NODE_EXTRA_CA_CERTS.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { StorageImportExport } from "@azure/arm-storageimportexport";

const url = process.env.EMULATOR_URL;
const token = process.env.EMULATOR_TOKEN;
assert.ok(url?.startsWith("https://"), "run.mjs sets EMULATOR_URL to the emulator's https address");

const here = dirname(fileURLToPath(import.meta.url));
const example = JSON.parse(
  readFileSync(join(here, "../../../tests/fixtures/azure-rest-2021-01-01/CreateJob.json"), "utf8"),
);
const subscription = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
const rg = "sdk-rg";
const importBody = example.parameters.body;
const drive = importBody.properties.driveList[0];
const exportBody = {
  location: "West US",
  properties: {
    storageAccountId: importBody.properties.storageAccountId,
    jobType: "Export",
    returnAddress: importBody.properties.returnAddress,
    returnShipping: importBody.properties.returnShipping,
    // The SDK flattens `export.blobList.blobPathPrefix` into `export.blobPathPrefix`.
    export: { blobPathPrefix: ["/photos/"] },
  },
};
const deliveryPackage = { carrierName: "FedEx", trackingNumber: "123456789", driveCount: 1, shipDate: "2026-01-06" };

// A credential as @azure/identity's would answer: the emulator's token, never expiring in a test.
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
const client = new StorageImportExport(credential, subscription, { endpoint: url });

/** The emulator's own endpoints (the datacenter's side and the clock), over the same HTTPS. */
async function emulator(path, body) {
  const response = await fetch(url + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function datacenter(name, op) {
  const path = `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.ImportExport/jobs/${name}`;
  const answer = await emulator("/emulator/datacenter", { path, ...op });
  assert.deepEqual(answer, { status: 200, body: { ok: true } }, JSON.stringify(op));
}

/** The RestError a call rejects with, checked to be one. */
async function refusal(call) {
  try {
    await call();
  } catch (e) {
    assert.equal(e.name, "RestError", `${e}`);
    return e;
  }
  assert.fail("the call was expected to be refused");
}

async function all(iterator) {
  const items = [];
  for await (const item of iterator) items.push(item);
  return items;
}

test("create: an import job from the specification's example, and an export job", async () => {
  const created = await client.jobs.create("sdk-import", rg, importBody);
  assert.equal(created.name, "sdk-import");
  assert.equal(created.properties.state, "Creating");
  assert.equal(created.properties.driveList[0].bitLockerKey, undefined, "a BitLocker key is never echoed");
  const exported = await client.jobs.create("sdk-export", rg, exportBody);
  assert.equal(exported.properties.jobType, "Export");
  assert.deepEqual(exported.properties.export.blobPathPrefix, ["/photos/"]);
});

test("create again with the same body: ARM's create-or-update answers 200 and changes nothing", async () => {
  let status;
  const again = await client.jobs.create("sdk-import", rg, importBody, { onResponse: (r) => (status = r.status) });
  assert.equal(status, 200);
  assert.equal(again.properties.state, "Creating");
});

test("get: the job's id, and where to ship its drives", async () => {
  const job = await client.jobs.get("sdk-import", rg);
  assert.equal(job.id, `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.ImportExport/jobs/sdk-import`);
  assert.equal(job.properties.returnAddress.city, "Redmond");
  assert.equal(job.properties.shippingInformation.city, "Santa Clara", "West US's datacenter");
});

test("update: tags", async () => {
  const tagged = await client.jobs.update("sdk-import", rg, { tags: { team: "photos" } });
  assert.deepEqual(tagged.tags, { team: "photos" });
});

test("lists: both iterated page by page past the first page, and filtered", async () => {
  for (const name of ["sdk-more-1", "sdk-more-2"]) await client.jobs.create(name, rg, exportBody);
  const names = ["sdk-export", "sdk-import", "sdk-more-1", "sdk-more-2"];
  const pages = await all(client.jobs.listByResourceGroup(rg, { top: 1 }).byPage());
  assert.equal(pages.length, 4, "one job a page, each next page through nextLink");
  assert.deepEqual(pages.flat().map((j) => j.name), names);
  const everywhere = await all(client.jobs.listBySubscription({ top: 3 }));
  assert.deepEqual(everywhere.map((j) => j.name), names);
  const imports = await all(client.jobs.listBySubscription({ filter: "jobType eq 'Import'" }));
  assert.deepEqual(imports.map((j) => j.name), ["sdk-import"]);
  const refused = await refusal(() => all(client.jobs.listByResourceGroup(rg, { filter: "startswith(name, 'sdk')" })));
  assert.equal(refused.statusCode, 400);
});

test("update: ship, then a delete refused while shipping, surfacing as a RestError", async () => {
  const shipped = await client.jobs.update("sdk-import", rg, { state: "Shipping", deliveryPackage });
  assert.equal(shipped.properties.state, "Shipping");
  const refused = await refusal(() => client.jobs.delete("sdk-import", rg));
  assert.equal(refused.statusCode, 409);
  assert.equal(refused.code, "DeleteNotAllowed");
  assert.match(refused.message, /R-DELETE-2/);
  assert.equal((await client.jobs.get("sdk-import", rg)).properties.state, "Shipping", "the refusal changed nothing");
  const shippingOnly = await all(client.jobs.listByResourceGroup(rg, { filter: "properties/state eq 'Shipping'" }));
  assert.deepEqual(shippingOnly.map((j) => j.name), ["sdk-import"]);
});

test("update: cancel, and the BitLocker keys", async () => {
  const cancelled = await client.jobs.update("sdk-import", rg, { cancelRequested: true });
  assert.equal(cancelled.properties.cancelRequested, true);
  const keys = await all(client.bitLockerKeys.list("sdk-import", rg));
  assert.deepEqual(keys.map((k) => [k.driveId, k.bitLockerKey]), [[drive.driveId, drive.bitLockerKey]]);
});

test("delete: an export job still in Creating, then nothing of it is visible", async () => {
  await client.jobs.delete("sdk-more-1", rg);
  const gone = await refusal(() => client.jobs.get("sdk-more-1", rg));
  assert.equal(gone.statusCode, 404);
});

test("the datacenter and the clock: a cancelled job ends Completed and is removed 90 days later", async () => {
  await datacenter("sdk-import", { op: "packageReceived", drives: [drive.driveId] });
  await datacenter("sdk-import", { op: "shipBack" });
  assert.equal((await client.jobs.get("sdk-import", rg)).properties.state, "Completed");
  const almost = await emulator("/emulator/clock", { advanceSeconds: 90 * 86_400 - 1 });
  assert.equal(almost.status, 200);
  assert.equal((await client.jobs.get("sdk-import", rg)).properties.state, "Completed", "kept 90 days");
  const moved = await emulator("/emulator/clock", { advanceSeconds: 1 });
  assert.deepEqual(moved.body.fired.map((f) => f.event.event), ["retentionExpired"]);
  const gone = await refusal(() => client.jobs.get("sdk-import", rg));
  assert.equal(gone.statusCode, 404);
  assert.equal(gone.code, "JobNotFound");
});

test("locations: the list, and one by either spelling of its name", async () => {
  const locations = await all(client.locations.list());
  assert.ok(locations.length > 1);
  const westUs = locations.find((l) => l.name === "West US");
  assert.equal(westUs.id, "/providers/Microsoft.ImportExport/locations/westus");
  assert.equal(westUs.type, "Microsoft.ImportExport/locations");
  assert.deepEqual(westUs.supportedCarriers, ["FedEx"]);
  for (const spelling of ["West US", "westus"]) {
    const one = await client.locations.get(spelling);
    assert.equal(one.city, "Santa Clara");
  }
  const unknown = await refusal(() => client.locations.get("nowhere"));
  assert.equal(unknown.statusCode, 404);
});

test("operations: the provider's operations", async () => {
  const operations = await all(client.operations.list());
  const names = operations.map((o) => o.name);
  for (const name of ["Microsoft.ImportExport/jobs/read", "Microsoft.ImportExport/jobs/write", "Microsoft.ImportExport/locations/read"]) {
    assert.ok(names.includes(name), name);
  }
});

test("a wrong token is refused with 401", async () => {
  const wrong = { getToken: async () => ({ token: "wrong", expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const stranger = new StorageImportExport(wrong, subscription, { endpoint: url });
  const refused = await refusal(() => stranger.jobs.get("sdk-export", rg));
  assert.equal(refused.statusCode, 401);
});
