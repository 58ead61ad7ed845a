// @graphrestore/client against a real gateway. tests/system/test_node_client.py starts it
// (mTLS, and a second one taking bearer tokens) and runs `node --test` with these:
//   GRAPHRESTORE_TEST_ADDRESS, _CA_FILE, _CERT_FILE, _KEY_FILE, _CALLER   (mTLS)
//   GRAPHRESTORE_TEST_JWT_ADDRESS, _TOKEN                                 (bearer)
//   GRAPHRESTORE_TEST_EMULATOR_URL, _EMULATOR_CA_FILE                     (Graph faults)
//   GRAPHRESTORE_TEST_DIR                                                 (own files)
"use strict";

const assert = require("node:assert/strict");
const { randomUUID } = require("node:crypto");
const { mkdtempSync, readFileSync, writeFileSync } = require("node:fs");
const https = require("node:https");
const path = require("node:path");
const { after, test } = require("node:test");
const {
  connect,
  mtlsCredentials,
  tokenFileCredentials,
  DestinationType,
  GraphRestoreError,
  RestoreSessionStatus,
} = require("@graphrestore/client");

const env = process.env;
const DEADLINE_MS = 20000;
const gateway = connect(
  env.GRAPHRESTORE_TEST_ADDRESS,
  mtlsCredentials({
    caFile: env.GRAPHRESTORE_TEST_CA_FILE,
    certFile: env.GRAPHRESTORE_TEST_CERT_FILE,
    keyFile: env.GRAPHRESTORE_TEST_KEY_FILE,
  }),
);
after(() => gateway.close());

function deadline() {
  return { deadline: new Date(Date.now() + DEADLINE_MS) };
}

function createRequest(destinationType, ...restorePoints) {
  return {
    requestId: randomUUID(),
    restoreSession: {
      driveRestoreArtifacts: restorePoints.map((id) => ({ restorePoint: { id }, destinationType })),
    },
  };
}

async function refusal(promise) {
  const error = await promise.then(
    () => assert.fail("the call succeeded"),
    (error) => error,
  );
  assert.ok(error instanceof GraphRestoreError, String(error));
  return error;
}

// The emulator's control API, as the Python tests use it: scripted answers of its Graph.
function faults(method, rule) {
  const url = new URL("/_emulator/faults", env.GRAPHRESTORE_TEST_EMULATOR_URL);
  const options = {
    method,
    ca: readFileSync(env.GRAPHRESTORE_TEST_EMULATOR_CA_FILE),
    headers: { "content-type": "application/json" },
  };
  return new Promise((resolve, reject) => {
    const request = https.request(url, options, (response) => {
      response.resume();
      response.on("end", () =>
        response.statusCode < 300 ? resolve() : reject(new Error(`${method} faults: ${response.statusCode}`)),
      );
    });
    request.on("error", reject);
    request.end(rule && JSON.stringify(rule));
  });
}

test("a caller with a certificate creates a draft session, its times as Dates", async () => {
  const session = await gateway.onedrive.createRestoreSession(
    createRequest(DestinationType.DESTINATION_TYPE_NEW, "rp-node-1", "rp-node-2"),
    deadline(),
  );
  assert.equal(session.status, RestoreSessionStatus.RESTORE_SESSION_STATUS_DRAFT);
  assert.equal(session.restoreSessionArtifactCount.total, 2);
  assert.ok(session.createdDateTime instanceof Date);
  assert.ok(Math.abs(session.createdDateTime.getTime() - Date.now()) < 24 * 3600 * 1000);

  const read = await gateway.onedrive.getRestoreSession({ restoreSessionId: session.id }, deadline());
  assert.deepEqual(read.createdDateTime, session.createdDateTime);
});

test("a watch is an async iterable of the session as it is", async () => {
  const created = await gateway.onedrive.createRestoreSession(
    createRequest(DestinationType.DESTINATION_TYPE_NEW, "rp-node-3"),
    deadline(),
  );
  for await (const session of gateway.onedrive.watchRestoreSession({ restoreSessionId: created.id })) {
    assert.equal(session.id, created.id);
    assert.equal(session.status, RestoreSessionStatus.RESTORE_SESSION_STATUS_DRAFT);
    break; // a draft is watched until it ends: leaving the loop cancels the call
  }
});

test("a refusal by the policy carries the gateway's ErrorInfo", async () => {
  const error = await refusal(
    gateway.onedrive.createRestoreSession(createRequest(DestinationType.DESTINATION_TYPE_IN_PLACE, "rp-node-4"), deadline()),
  );
  assert.equal(error.codeName, "PERMISSION_DENIED");
  assert.equal(error.reason, "DESTINATION_TYPE_NOT_ALLOWED");
  assert.equal(error.domain, "graphrestore");
  assert.deepEqual(error.metadata, { caller: env.GRAPHRESTORE_TEST_CALLER });
  assert.equal(error.graph, undefined);
  assert.equal(error.retryDelayMs, undefined);
});

test("an invalid request names the fields that are wrong", async () => {
  const error = await refusal(
    gateway.onedrive.createRestoreSession(createRequest(DestinationType.DESTINATION_TYPE_NEW), deadline()),
  );
  assert.equal(error.codeName, "INVALID_ARGUMENT");
  assert.equal(error.reason, "INVALID_REQUEST");
  assert.ok(error.fieldViolations.length > 0);
  assert.ok(error.fieldViolations.every((violation) => violation.field && violation.description));
});

test("a Graph failure carries Graph's code, request ids and when to retry", async () => {
  const fault = { kind: "status", method: "POST", path: "/oneDriveForBusinessRestoreSessions$", status: 503, code: "serviceNotAvailable" };
  await faults("POST", fault);
  const error = await refusal(
    gateway.onedrive.createRestoreSession(createRequest(DestinationType.DESTINATION_TYPE_NEW, "rp-node-5"), deadline()),
  ).finally(() => faults("DELETE"));
  assert.equal(error.codeName, "UNAVAILABLE");
  assert.equal(error.domain, "graph.microsoft.com");
  assert.equal(error.reason, "SERVICE_NOT_AVAILABLE");
  assert.equal(error.graph.code, "serviceNotAvailable");
  assert.equal(error.graph.httpStatus, 503);
  assert.match(error.graph.requestId, /^[0-9a-f-]{36}$/);
  assert.ok(error.graph.clientRequestId);
  assert.ok(error.retryDelayMs > 0);
});

test("a bearer token is read from its file for every call", async () => {
  const folder = mkdtempSync(path.join(env.GRAPHRESTORE_TEST_DIR, "token-"));
  const tokenFile = path.join(folder, "caller.jwt");
  const jwtGateway = connect(
    env.GRAPHRESTORE_TEST_JWT_ADDRESS,
    tokenFileCredentials({ tokenFile, caFile: env.GRAPHRESTORE_TEST_CA_FILE }),
  );
  const create = () =>
    jwtGateway.onedrive.createRestoreSession(createRequest(DestinationType.DESTINATION_TYPE_NEW, "rp-node-6"), deadline());
  try {
    writeFileSync(tokenFile, `${env.GRAPHRESTORE_TEST_TOKEN}\n`);
    assert.equal((await create()).status, RestoreSessionStatus.RESTORE_SESSION_STATUS_DRAFT);
    writeFileSync(tokenFile, "not-a-token");
    assert.equal((await refusal(create())).codeName, "UNAUTHENTICATED");
    writeFileSync(tokenFile, env.GRAPHRESTORE_TEST_TOKEN);
    assert.equal((await create()).status, RestoreSessionStatus.RESTORE_SESSION_STATUS_DRAFT);
  } finally {
    jwtGateway.close();
  }
});
