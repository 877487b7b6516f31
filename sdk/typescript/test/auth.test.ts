/** Every `console.auth` method against the real server. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidRequestError, TriportConsole } from "@triport/sdk";
import { expectError } from "./support/expect.js";
import { harnessForFile } from "./support/harness.js";
import { jarCookie, meStatus, signIn, uniqueEmail } from "./support/session.js";
import { SolanaWallet } from "./support/solana.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_SECRET = /^nl_live_[0-9a-f]{64}$/;

const harness = harnessForFile();

test("emailStart and emailVerify sign in; me returns the default key's secret once", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const email = uniqueEmail("ada");
  const started = await client.auth.emailStart(`  ${email.toUpperCase()} `);
  assert.match(started.request_id, UUID);
  const { user } = await client.auth.emailVerify(started.request_id, await harness().code(email));
  assert.equal(user.email, email, "the address is trimmed and lower-cased");
  assert.match(user.id, UUID);

  const first = await client.auth.me();
  assert.equal(first.user.id, user.id);
  assert.equal(first.provider, "email");
  assert.equal(first.default_key.is_default, true);
  assert.equal(first.default_key.created, true);
  assert.match(first.default_key.raw ?? "", KEY_SECRET);
  assert.ok(first.default_key.raw?.startsWith(first.default_key.key_prefix));

  const second = await client.auth.me();
  assert.equal(second.default_key.id, first.default_key.id);
  assert.equal(second.default_key.raw, undefined, "the secret is shown only once");
  assert.equal(second.default_key.created, undefined);
});

test("walletChallenge and walletVerify sign in a Solana wallet", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const wallet = new SolanaWallet();
  const challenge = await client.auth.walletChallenge(wallet.address, "solana");
  assert.match(challenge.nonce, UUID);
  assert.ok(challenge.message.includes(wallet.address), "the message names the address");

  const { user } = await client.auth.walletVerify({
    nonce: challenge.nonce,
    address: wallet.address,
    chain: "solana",
    signature: wallet.sign(challenge.message),
  });
  assert.equal(user.email, null, "a wallet user has no email");
  const me = await client.auth.me();
  assert.equal(me.user.id, user.id);
  assert.equal(me.provider, "wallet");
});

test("walletVerify with a signature by another key is an InvalidRequestError", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const wallet = new SolanaWallet();
  const challenge = await client.auth.walletChallenge(wallet.address, "solana");
  const foreign = new SolanaWallet().sign(challenge.message);
  await expectError(
    client.auth.walletVerify({ nonce: challenge.nonce, address: wallet.address, chain: "solana", signature: foreign }),
    InvalidRequestError,
    400,
    "invalid_signature",
  );
  assert.equal(await jarCookie(client, "nl_session"), undefined, "no session was created");
});

test("googleStartUrl is the start route, which answers with a redirect", async () => {
  const client = new TriportConsole({ baseUrl: `${harness().baseUrl}/` });
  const url = client.auth.googleStartUrl();
  assert.equal(url, `${harness().baseUrl}/v1/auth/google/start`);
  const response = await fetch(url, { redirect: "manual" });
  assert.equal(response.status, 302);
  assert.ok(response.headers.get("location"), "the redirect has a target");
});

test("logout without a session succeeds, and repeating it is harmless", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  assert.deepEqual(await client.auth.logout(), { ok: true });
  assert.deepEqual(await client.auth.logout(), { ok: true });
});

test("two clients sharing a cookie jar share the session", async () => {
  const first = new TriportConsole({ baseUrl: harness().baseUrl });
  await signIn(first, harness(), uniqueEmail("shared"));
  const token = await jarCookie(first, "nl_session");
  assert.ok(token);
  const second = new TriportConsole({ baseUrl: harness().baseUrl, cookieJar: first.cookieJar });
  assert.deepEqual(await second.auth.logout(), { ok: true });
  assert.equal(await meStatus(harness().baseUrl, token), 401);
  assert.equal(await jarCookie(first, "nl_session"), undefined);
});
