/** The seed page's TypeScript example, run as written against the real server. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthenticationError, TriportConsole } from "@triport/sdk";
import { harnessForFile } from "./support/harness.js";
import { jarCookie, meStatus, signIn, uniqueEmail } from "./support/session.js";

const harness = harnessForFile();

test("the seed's example revokes a session opened by email sign-in", async () => {
  const baseUrl = harness().baseUrl;
  // --- the seed's example, with the local base URL ---
  const console = new TriportConsole({ baseUrl: baseUrl });
  // --- (sign in first, so there is a session to revoke) ---
  await signIn(console, harness(), uniqueEmail("seed"));
  const token = await jarCookie(console, "nl_session");
  assert.ok(token, "email sign-in stored nl_session in the client's jar");
  assert.equal(await meStatus(baseUrl, token), 200);

  // Revokes the active session and clears the session cookie.
  await console.auth.logout();

  assert.equal(await jarCookie(console, "nl_session"), undefined, "the jar forgot nl_session");
  assert.equal(await jarCookie(console, "nl_csrf"), undefined, "the jar forgot nl_csrf");
  assert.equal(await meStatus(baseUrl, token), 401, "the server no longer accepts the old token");
  await assert.rejects(console.auth.me(), AuthenticationError);
});
