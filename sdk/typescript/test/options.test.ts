/** Client and per-call options: TRIPORT_BASE_URL, a timeout per call, and an AbortSignal. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { APIConnectionError, AuthenticationError, TriportConsole } from "@triport/sdk";
import { expectError } from "./support/expect.js";
import { harnessForFile } from "./support/harness.js";
import { FaultProxy } from "./support/proxy.js";
import { jarCookie, meStatus, signIn, uniqueEmail } from "./support/session.js";

const harness = harnessForFile();

test("TRIPORT_BASE_URL is the default base URL in Node.js; an explicit baseUrl wins", async () => {
  const saved = process.env["TRIPORT_BASE_URL"];
  process.env["TRIPORT_BASE_URL"] = `${harness().baseUrl}/`;
  try {
    const fromEnv = new TriportConsole();
    assert.equal(fromEnv.baseUrl, harness().baseUrl);
    await expectError(fromEnv.auth.me(), AuthenticationError, 401, "unauthenticated");
    assert.equal(new TriportConsole({ baseUrl: "https://api.example.test" }).baseUrl, "https://api.example.test");
  } finally {
    if (saved === undefined) delete process.env["TRIPORT_BASE_URL"];
    else process.env["TRIPORT_BASE_URL"] = saved;
  }
  assert.equal(new TriportConsole().baseUrl, "https://api.triport.io");
});

test("a timeout set on one call applies to that call only", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    proxy.inject("/v1/auth/me", { kind: "hang" });
    const client = new TriportConsole({ baseUrl: proxy.url, retry: { maxRetries: 0, timeoutMs: 30_000 } });
    await expectError(client.auth.me({ timeoutMs: 200 }), APIConnectionError, undefined, "timeout");
    // The next call has the client's timeout again and reaches the server.
    await expectError(client.auth.me(), AuthenticationError, 401, "unauthenticated");
    assert.deepEqual(proxy.seen, ["GET /v1/auth/me", "GET /v1/auth/me"]);
  } finally {
    await proxy.stop();
  }
});

test("an AbortSignal cancels a call and its retries with the signal's reason", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    proxy.inject("/v1/keys", { kind: "hang" }, { kind: "hang" }, { kind: "hang" });
    const client = new TriportConsole({ baseUrl: proxy.url, retry: { maxRetries: 2, timeoutMs: 30_000 } });
    const controller = new AbortController();
    const pending = client.keys.list({ signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(pending, (error: unknown) => (error as { name?: string }).name === "AbortError");
    assert.deepEqual(proxy.seen, ["GET /v1/keys"], "an aborted call is not retried");

    const reason = new Error("user left the page");
    await assert.rejects(client.auth.me({ signal: AbortSignal.abort(reason) }), (error) => error === reason);
  } finally {
    await proxy.stop();
  }
});

test("an aborted logout stops retrying and keeps the session; the next logout finishes", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    const client = new TriportConsole({ baseUrl: proxy.url });
    await signIn(client, harness(), uniqueEmail("abort-logout"));
    const token = await jarCookie(client, "nl_session");
    assert.ok(token);
    proxy.inject("/v1/auth/logout", { kind: "hang" });
    const controller = new AbortController();
    const pending = client.auth.logout({ signal: controller.signal, deadlineMs: 30_000 });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(pending, (error: unknown) => (error as { name?: string }).name === "AbortError");
    assert.equal(await jarCookie(client, "nl_session"), token, "the cookie is kept");
    assert.equal(await meStatus(harness().baseUrl, token), 200);

    // A per-attempt timeout: the first attempt hangs, the retry is answered within the deadline.
    proxy.inject("/v1/auth/logout", { kind: "hang" });
    assert.deepEqual(await client.auth.logout({ timeoutMs: 300, deadlineMs: 20_000 }), { ok: true });
    assert.equal(await meStatus(harness().baseUrl, token), 401);
    assert.equal(await jarCookie(client, "nl_session"), undefined);
  } finally {
    await proxy.stop();
  }
});
