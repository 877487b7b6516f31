/** Sign-in and inspection helpers shared by the test files. */
import { randomUUID } from "node:crypto";
import type { TriportConsole, SignInResult } from "@triport/sdk";
import type { Harness } from "./harness.js";

/** A fresh address per test: the server limits codes per address and hour. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${randomUUID().slice(0, 8)}@example.com`;
}

/** Email sign-in through the SDK with the code read from the real SMTP sink. */
export async function signIn(client: TriportConsole, harness: Harness, email: string): Promise<SignInResult> {
  const { request_id } = await client.auth.emailStart(email);
  return client.auth.emailVerify(request_id, await harness.code(email));
}

/** The value of a console cookie in the client's jar, or undefined. */
export async function jarCookie(client: TriportConsole, name: string): Promise<string | undefined> {
  const jar = client.cookieJar;
  if (jar === undefined) throw new Error("client is not in cookie-jar mode");
  const cookies = await jar.getCookies(client.baseUrl);
  return cookies.find((cookie) => cookie.key === name)?.value;
}

/**
 * Replays a session token on `/me` with plain fetch, outside the SDK: proves what the server
 * thinks of the token, independently of what the client's jar holds.
 */
export async function meStatus(baseUrl: string, sessionToken: string): Promise<number> {
  const response = await fetch(`${baseUrl}/v1/auth/me`, { headers: { Cookie: `nl_session=${sessionToken}` } });
  await response.body?.cancel();
  return response.status;
}

/** A real fetch that records "METHOD path" of each call, to count attempts. */
export function recordingFetch(calls: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    calls.push(`${init?.method ?? "GET"} ${url.pathname}`);
    return fetch(input, init);
  };
}
