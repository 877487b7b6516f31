/** `console.sessions`, `console.activity`, `signOutOthers` and the 401 `reason`, against the real server. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import {
  AuthenticationError,
  InvalidRequestError,
  NotFoundError,
  TriportConsole,
  UnauthenticatedError,
  type ActivityEvent,
  type SignInResult,
} from "@triport/sdk";
import { expectError } from "./support/expect.js";
import { harnessForFile } from "./support/harness.js";
import { uniqueEmail } from "./support/session.js";

const harness = harnessForFile();

/** A new client signed in as `email`, with the sign-in's answer. */
async function device(email: string, signOutOthers = false): Promise<[TriportConsole, SignInResult]> {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const { request_id } = await client.auth.emailStart(email);
  const answer = await client.auth.emailVerify(request_id, await harness().code(email), { signOutOthers });
  return [client, answer];
}

async function expectEnded(client: TriportConsole, reason: string): Promise<void> {
  const error = await expectError(client.auth.me(), AuthenticationError, 401, "unauthenticated");
  assert.ok(error instanceof UnauthenticatedError, "the spec's name is the same class");
  assert.equal(error.reason, reason);
}

test("list sessions, revoke another one, and the ended one learns why", async () => {
  const email = uniqueEmail("sessions");
  const [laptop, answer] = await device(email);
  const [phone] = await device(email);
  assert.equal(answer.signed_out_others, undefined, "only sent when asked for");

  const { sessions } = await laptop.sessions.list();
  assert.deepEqual(
    sessions.map((session) => session.current),
    [true, false],
  );
  const [own, other] = sessions;
  assert.ok(own && other);
  assert.equal((await phone.sessions.list()).sessions[0]?.id, other.id, "each sees itself first");
  assert.equal(own.provider, "email");
  assert.ok(own.ip);
  assert.ok(Date.parse(own.expires_at) > Date.parse(own.created_at));

  assert.deepEqual(await laptop.sessions.revoke(other.id), { ok: true });
  assert.deepEqual(await laptop.sessions.revoke(other.id), { ok: true }, "idempotent");
  await expectEnded(phone, "revoked");
  assert.deepEqual(
    (await laptop.sessions.list()).sessions.map((session) => session.id),
    [own.id],
  );
});

test("revokeOthers and a sign-in with signOutOthers end the other sessions", async () => {
  const email = uniqueEmail("others");
  const [first] = await device(email);
  const [second] = await device(email);
  const [third] = await device(email);
  assert.deepEqual(await third.sessions.revokeOthers(), { revoked: 2 });
  await expectEnded(first, "signed_out_everywhere");
  await expectEnded(second, "signed_out_everywhere");

  const [recovery, answer] = await device(email, true);
  assert.equal(answer.signed_out_others, 1);
  await expectEnded(third, "signed_out_everywhere");
  assert.equal((await recovery.sessions.list()).sessions.length, 1);
});

test("revoking the own session clears the cookies; errors are typed", async () => {
  const [client] = await device(uniqueEmail("own"));
  await expectError(client.sessions.revoke("not-a-uuid"), InvalidRequestError, 400, "invalid_id");
  await expectError(client.sessions.revoke(randomUUID()), NotFoundError, 404, "not_found");
  const own = (await client.sessions.list()).sessions[0];
  assert.ok(own?.current);
  await client.sessions.revoke(own.id);
  assert.deepEqual(await client.cookieJar?.getCookies(client.baseUrl), [], "the jar forgot both cookies");
  const error = await expectError(client.auth.me(), AuthenticationError, 401, "unauthenticated");
  assert.equal(error.reason, undefined, "no cookie sent: no reason");
});

test("activity: pages with a cursor, and iteration over every page", async () => {
  const email = uniqueEmail("activity");
  const [client] = await device(email);
  const [other] = await device(email);
  const { key } = await client.keys.create({ name: "activity probe" });
  await client.keys.revoke(key.id);
  const otherId = (await other.sessions.list()).sessions[0]?.id;
  assert.ok(otherId);
  await client.sessions.revoke(otherId);

  const first = await client.activity.list({ limit: 2 });
  assert.deepEqual(
    first.events.map((event) => event.type),
    ["session_revoked", "key_revoked"],
  );
  assert.equal(first.events[1]?.key_id, key.id);
  assert.ok(first.next);
  const second = await client.activity.list({ limit: 2, before: first.next });
  assert.deepEqual(
    second.events.map((event) => event.type),
    ["key_created", "signed_in"],
  );

  const all: ActivityEvent[] = [];
  for await (const event of client.activity.iterate({ limit: 2 })) all.push(event);
  assert.deepEqual(
    all.slice(0, 4).map((event) => event.id),
    [...first.events, ...second.events].map((event) => event.id),
  );
  assert.deepEqual(
    all.map((event) => event.type),
    ["session_revoked", "key_revoked", "key_created", "signed_in", "signed_in"],
  );
  const viaSymbol: string[] = [];
  for await (const event of client.activity) viaSymbol.push(event.id);
  assert.deepEqual(
    viaSymbol,
    all.map((event) => event.id),
  );

  await expectError(client.activity.list({ limit: 0 }), InvalidRequestError, 400, "invalid_request");
  await expectError(client.activity.list({ before: "not a cursor" }), InvalidRequestError, 400, "invalid_request");
});

test("googleStartUrl carries signOutOthers", () => {
  const client = new TriportConsole({ baseUrl: "https://api.example.test/" });
  assert.equal(client.auth.googleStartUrl(), "https://api.example.test/v1/auth/google/start");
  assert.equal(
    client.auth.googleStartUrl({ signOutOthers: true }),
    "https://api.example.test/v1/auth/google/start?sign_out_others=1",
  );
});
