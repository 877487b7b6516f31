/** Each error class, produced by a real server answer (or a real socket failure). */
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { test } from "node:test";
import {
  APIConnectionError,
  AuthenticationError,
  CsrfError,
  InvalidRequestError,
  NetworkError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TriportConsole,
} from "@triport/sdk";
import { expectError } from "./support/expect.js";
import { harnessForFile } from "./support/harness.js";
import { FaultProxy } from "./support/proxy.js";
import { recordingFetch, signIn, uniqueEmail } from "./support/session.js";

const REQUEST_ID = /^req_[0-9a-f]{16}$/;

const harness = harnessForFile();

test("request validation failures are InvalidRequestError with the server's code and request id", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const badEmail = await expectError(client.auth.emailStart("not an address"), InvalidRequestError, 400, "invalid_email");
  assert.match(badEmail.requestId ?? "", REQUEST_ID);

  const email = uniqueEmail("wrong-code");
  const { request_id } = await client.auth.emailStart(email);
  const code = await harness().code(email);
  const wrong = code === "000000" ? "111111" : "000000";
  await expectError(client.auth.emailVerify(request_id, wrong), InvalidRequestError, 400, "invalid_code");
  await expectError(client.auth.emailVerify("not-a-request-id", code),
    InvalidRequestError,
    400,
    "invalid_request",
  );
});

test("me without a session is an AuthenticationError", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  await expectError(client.auth.me(), AuthenticationError, 401, "unauthenticated");
});

test("the sixth code in an hour is a RateLimitError carrying retryAfter", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const email = uniqueEmail("limited");
  for (let i = 0; i < 5; i++) await client.auth.emailStart(email);
  const error = await expectError(client.auth.emailStart(email), RateLimitError, 429, "rate_limited");
  const retryAfter = error.retryAfter;
  assert.ok(retryAfter !== undefined && retryAfter > 0 && retryAfter <= 3600, `retryAfter ${retryAfter}`);
});

test("an unknown route is a NotFoundError", async () => {
  const client = new TriportConsole({ baseUrl: `${harness().baseUrl}/no-such-prefix` });
  await expectError(client.auth.me(), NotFoundError, 404, "route_not_found");
});

test("a store failure on a POST is a ServerError, raised without a retry", async () => {
  const calls: string[] = [];
  const client = new TriportConsole({ baseUrl: harness().baseUrl, fetch: recordingFetch(calls) });
  await harness().lock();
  try {
    await expectError(client.auth.emailStart(uniqueEmail("locked")), ServerError, 500, "internal");
  } finally {
    await harness().unlock();
  }
  assert.deepEqual(calls, ["POST /v1/auth/email/start"]);
});

test("a GET retries a store failure and succeeds once the store is back", async () => {
  const calls: string[] = [];
  const client = new TriportConsole({
    baseUrl: harness().baseUrl,
    fetch: recordingFetch(calls),
    retry: { maxRetries: 6, initialDelayMs: 500, maxDelayMs: 1000 },
  });
  await signIn(client, harness(), uniqueEmail("get-retry"));
  calls.length = 0;
  await harness().lock();
  // The first /me bootstraps the default key: a write, which the held lock makes fail.
  const unlock = new Promise((resolve) => setTimeout(resolve, 2500)).then(() => harness().unlock());
  const me = await client.auth.me();
  await unlock;
  assert.ok(me.default_key.raw, "the bootstrap response itself got through");
  assert.ok(calls.length >= 2, `expected a retry, saw ${calls.length} request(s)`);
  assert.ok(calls.every((call) => call === "GET /v1/auth/me"));
});

test("a 429 on a GET is waited out for Retry-After seconds, then retried", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    const body = JSON.stringify({ error: "rate_limited", message: "slow down", request_id: "req_0123456789abcdef" });
    proxy.inject("/v1/auth/me", {
      kind: "respond",
      status: 429,
      headers: { "Content-Type": "application/json", "Retry-After": "1" },
      body,
    });
    const client = new TriportConsole({ baseUrl: proxy.url, retry: { initialDelayMs: 1 } });
    const started = Date.now();
    await expectError(client.auth.me(), AuthenticationError, 401, "unauthenticated");
    assert.ok(Date.now() - started >= 1000, "waited the Retry-After second");
    assert.deepEqual(proxy.seen, ["GET /v1/auth/me", "GET /v1/auth/me"]);
  } finally {
    await proxy.stop();
  }
});

test("a gateway's error pages: non-JSON gives http_<status>, a nested envelope its code", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    const nested = { error: { code: "maintenance", message: "Back soon." }, request_id: "req_00000000000000ff" };
    proxy.inject(
      "/v1/auth/email/start",
      { kind: "respond", status: 502, headers: { "Content-Type": "text/html" }, body: "<html>Bad gateway</html>" },
      { kind: "respond", status: 503, headers: { "Content-Type": "application/json" }, body: JSON.stringify(nested) },
    );
    const client = new TriportConsole({ baseUrl: proxy.url });
    await expectError(client.auth.emailStart(uniqueEmail("proxy")), ServerError, 502, "http_502");
    const unavailable = await expectError(client.auth.emailStart(uniqueEmail("proxy")), ServerError, 503, "maintenance");
    assert.equal(unavailable.message, "Back soon.");
    assert.equal(unavailable.requestId, "req_00000000000000ff");
  } finally {
    await proxy.stop();
  }
});

test("no answer is an APIConnectionError: refused connection, then a timeout", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = new TriportConsole({ baseUrl: `http://127.0.0.1:${port}`, retry: { maxRetries: 0 } });
  const failure = await expectError(refused.auth.me(), APIConnectionError, undefined, "connection_error");
  assert.ok(failure instanceof NetworkError, "the former name still matches");
  let headerCount = 0;
  failure.headers.forEach(() => headerCount++);
  assert.equal(headerCount, 0, "no response, no headers");

  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    proxy.inject("/v1/auth/me", { kind: "hang" });
    const client = new TriportConsole({ baseUrl: proxy.url, retry: { maxRetries: 0, timeoutMs: 300 } });
    await expectError(client.auth.me(), APIConnectionError, undefined, "timeout");
  } finally {
    await proxy.stop();
  }
});

test("only csrf_missing and csrf_invalid are CsrfError; another 403 is PermissionDeniedError", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    const refused = JSON.stringify({ error: "forbidden", message: "Blocked by policy." });
    const json = { "Content-Type": "application/json", "X-Request-Id": "req_00000000000000aa" };
    proxy.inject("/v1/auth/me", { kind: "respond", status: 403, headers: json, body: refused });
    proxy.inject("/v1/keys", { kind: "respond", status: 403, headers: { "Content-Type": "text/html" }, body: "<h1>Forbidden</h1>" });
    const csrf = JSON.stringify({ error: "csrf_invalid", message: "Bad token." });
    proxy.inject("/v1/keys/k", { kind: "respond", status: 403, headers: json, body: csrf });
    const client = new TriportConsole({ baseUrl: proxy.url, retry: { maxRetries: 0 } });

    const policy = await expectError(client.auth.me(), PermissionDeniedError, 403, "forbidden");
    assert.ok(!(policy instanceof CsrfError));
    assert.equal(policy.message, "Blocked by policy.");
    assert.equal(policy.requestId, "req_00000000000000aa");
    const page = await expectError(client.keys.create({ name: "x" }), PermissionDeniedError, 403, "http_403");
    assert.ok(!(page instanceof CsrfError));
    await expectError(client.keys.revoke("k"), CsrfError, 403, "csrf_invalid");
  } finally {
    await proxy.stop();
  }
});

test("errors carry the response headers and the server's message from its table", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    proxy.inject("/v1/auth/email/start", {
      kind: "respond",
      status: 429,
      headers: { "Retry-After": "7", "X-Gateway": "edge-1" },
      body: "slow down",
    });
    const client = new TriportConsole({ baseUrl: proxy.url });
    const limited = await expectError(client.auth.emailStart(uniqueEmail("headers")), RateLimitError, 429, "http_429");
    assert.equal(limited.headers.get("x-gateway"), "edge-1");
    assert.equal(limited.retryAfter, 7);
  } finally {
    await proxy.stop();
  }
  const direct = new TriportConsole({ baseUrl: harness().baseUrl });
  const unauthenticated = await expectError(direct.auth.me(), AuthenticationError, 401, "unauthenticated");
  assert.equal(unauthenticated.headers.get("x-request-id"), unauthenticated.requestId);
  assert.notEqual(unauthenticated.message, "unauthenticated", "a human sentence, not the code");
});
