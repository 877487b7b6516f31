/**
 * The seed's retry rule through the SDK: a logout that meets a real store failure keeps the
 * session and keeps retrying; only a 200 lets the client forget it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AuthenticationError,
  CsrfError,
  LogoutFailedError,
  TriportConsole,
  TriportError,
  type RetryOptions,
} from "@triport/sdk";
import { expectError } from "./support/expect.js";
import { harnessForFile } from "./support/harness.js";
import { FaultProxy } from "./support/proxy.js";
import { jarCookie, meStatus, recordingFetch, signIn, uniqueEmail } from "./support/session.js";

const LOGOUT = "POST /v1/auth/logout";

const harness = harnessForFile();

/** A signed-in client whose requests are recorded; /me is called once so the default key exists. */
async function signedIn(tag: string, retry: RetryOptions, baseUrl = harness().baseUrl) {
  const calls: string[] = [];
  const client = new TriportConsole({ baseUrl, fetch: recordingFetch(calls), retry });
  await signIn(client, harness(), uniqueEmail(tag));
  await client.auth.me();
  const token = await jarCookie(client, "nl_session");
  assert.ok(token, "signed in");
  calls.length = 0;
  return { client, calls, token };
}

test("logout retries through a held write lock and succeeds once it is released", async () => {
  const { client, calls, token } = await signedIn("lock-release", {
    logoutDeadlineMs: 30_000,
    initialDelayMs: 200,
    maxDelayMs: 1000,
  });
  await harness().lock();
  const started = Date.now();
  const release = new Promise((resolve) => setTimeout(resolve, 3000)).then(() => harness().unlock());
  try {
    assert.deepEqual(await client.auth.logout(), { ok: true });
  } finally {
    await release;
  }
  assert.ok(Date.now() - started >= 3000, "the 200 came only after the lock was released");
  assert.ok(calls.length >= 2, `expected retries, saw ${calls.length} request(s)`);
  assert.ok(calls.every((call) => call === LOGOUT));
  assert.equal(await jarCookie(client, "nl_session"), undefined, "forgotten after the 200");
  assert.equal(await meStatus(harness().baseUrl, token), 401, "the server revoked the session");
  await assert.rejects(client.auth.me(), AuthenticationError);
});

test("past its deadline logout throws LogoutFailedError and keeps the session for a second try", async () => {
  const { client, calls, token } = await signedIn("deadline", {
    logoutDeadlineMs: 3000,
    initialDelayMs: 200,
    maxDelayMs: 500,
  });
  await harness().lock();
  const started = Date.now();
  let error: unknown;
  let elapsed = 0;
  try {
    error = await client.auth.logout().then(
      () => assert.fail("logout succeeded under a held write lock"),
      (caught: unknown) => caught,
    );
    elapsed = Date.now() - started;
    // Hold the lock past the server's DB timeout so that no attempt still queued on the lock can
    // revoke the session after the client gave up: then "kept" is provable below.
    await new Promise((resolve) => setTimeout(resolve, 2500));
  } finally {
    await harness().unlock();
  }
  assert.ok(error instanceof LogoutFailedError, `expected LogoutFailedError, got ${String(error)}`);
  assert.equal(error.code, "logout_failed");
  assert.equal(error.attempts, calls.length);
  assert.ok(error.cause instanceof TriportError, "the last failure is attached");
  assert.ok(elapsed < 3000 + 1000, `gave up near the deadline (${elapsed} ms)`);
  assert.ok(calls.length >= 1 && calls.every((call) => call === LOGOUT));

  assert.equal(await jarCookie(client, "nl_session"), token, "the session cookie was kept");
  assert.equal((await client.auth.me()).user.email?.startsWith("deadline-"), true, "and still works");
  assert.deepEqual(await client.auth.logout(), { ok: true }, "a second logout finishes the job");
  await assert.rejects(client.auth.me(), AuthenticationError);
  assert.equal(await meStatus(harness().baseUrl, token), 401);
});

test("logout retries a reset connection and a timed-out request", async () => {
  const proxy = await FaultProxy.start(harness().baseUrl);
  try {
    const { client, token } = await signedIn(
      "network",
      { logoutDeadlineMs: 20_000, initialDelayMs: 50, maxDelayMs: 200, timeoutMs: 1000 },
      proxy.url,
    );
    proxy.inject("/v1/auth/logout", { kind: "reset" }, { kind: "hang" });
    assert.deepEqual(await client.auth.logout(), { ok: true });
    assert.deepEqual(
      proxy.seen.filter((call) => call === LOGOUT),
      [LOGOUT, LOGOUT, LOGOUT],
    );
    assert.equal(await meStatus(harness().baseUrl, token), 401);
  } finally {
    await proxy.stop();
  }
});

test("a CSRF rejection of logout is thrown at once and keeps the session", async () => {
  const { client, calls, token } = await signedIn("csrf", { logoutDeadlineMs: 30_000 });
  const jar = client.cookieJar;
  assert.ok(jar);
  // A token that matches the header the SDK sends but is not the one bound to the session.
  await jar.setCookie("nl_csrf=forged-token; Path=/", harness().baseUrl);
  const started = Date.now();
  await expectError(client.auth.logout(), CsrfError, 403, "csrf_invalid");
  assert.ok(Date.now() - started < 2000, "no retry loop");
  assert.deepEqual(calls, [LOGOUT]);
  assert.equal(await meStatus(harness().baseUrl, token), 200, "nothing was revoked");

  await jar.store.removeCookie(new URL(harness().baseUrl).hostname, "/", "nl_csrf");
  await expectError(client.auth.logout(), CsrfError, 403, "csrf_missing");
  assert.equal(await jarCookie(client, "nl_session"), token, "the session cookie was kept");
});
