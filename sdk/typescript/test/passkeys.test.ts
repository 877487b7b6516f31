/**
 * The passkey helpers in a real Chromium with a virtual authenticator (DevTools protocol):
 * `console.passkeys.register()` and `console.auth.passkey.signIn()` run the ceremonies through
 * `navigator.credentials`. WebAuthn needs the page's host to be the RP id and a domain name, so
 * the page and the API are both reached as http://localhost (one site: cookies flow).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { Harness } from "./support/harness.js";
import { uniqueEmail } from "./support/session.js";
import { StaticSite } from "./support/static.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const asLocalhost = (url: string): string => url.replace("://127.0.0.1:", "://localhost:");

let site: StaticSite;
let harness: Harness;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;
let pageOrigin: string;
let apiUrl: string;

before(async () => {
  site = await StaticSite.start(join(packageDir, "dist", "esm"), join(packageDir, "node_modules"));
  pageOrigin = asLocalhost(site.origin);
  harness = await Harness.start({ TRIPORT_ALLOWED_ORIGINS: pageOrigin, TRIPORT_CONSOLE_URL: pageOrigin });
  apiUrl = asLocalhost(harness.baseUrl);
  browser = await chromium.launch({ executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium" });
  const context = await browser.newContext();
  page = await context.newPage();
  await page.goto(pageOrigin);
  cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  }));
});
after(async () => {
  await browser?.close();
  await harness?.stop();
  await site?.stop();
});

async function journey(level3: boolean): Promise<void> {
  // One passkey on the device at a time: a discoverable sign-in would otherwise have to choose.
  await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
  const email = uniqueEmail("ts-passkey");
  const requestId = await page.evaluate(
    async (args) => {
      const { TriportConsole } = await import("@triport/sdk");
      return (await new TriportConsole({ baseUrl: args.apiUrl }).auth.emailStart(args.email)).request_id;
    },
    { apiUrl, email },
  );
  const code = await harness.code(email);
  const result = await page.evaluate(
    async (args) => {
      if (!args.level3) {
        // A browser without WebAuthn Level 3's JSON methods: the SDK converts by itself.
        const native = PublicKeyCredential as unknown as Record<string, unknown>;
        delete native["parseCreationOptionsFromJSON"];
        delete native["parseRequestOptionsFromJSON"];
        delete (PublicKeyCredential.prototype as unknown as Record<string, unknown>)["toJSON"];
      }
      const { TriportConsole } = await import("@triport/sdk");
      const client = new TriportConsole({ baseUrl: args.apiUrl });
      await client.auth.emailVerify(args.requestId, args.code);
      const added = await client.passkeys.register("Test laptop");
      await client.auth.logout();
      const signedIn = await client.auth.passkey.signIn();
      const listed = (await client.passkeys.list()).passkeys;
      await client.passkeys.remove(added.id);
      await client.auth.logout();
      let refused = "";
      try {
        await client.auth.passkey.signIn();
      } catch (error) {
        refused = (error as { code: string }).code;
      }
      return { added, email: signedIn.user.email, listed, refused };
    },
    { apiUrl, requestId, code, level3 },
  );
  assert.equal(result.added.name, "Test laptop");
  assert.equal(result.email, email);
  assert.equal(result.listed.length, 1);
  assert.notEqual(result.listed[0]?.last_used_at, null);
  assert.equal(result.refused, "invalid_credential");
}

test("register a passkey, sign out, and sign in with it through the helpers", () => journey(true));

test("the same without the browser's WebAuthn JSON methods (the SDK converts)", async () => {
  await page.reload();
  await journey(false);
});

test("a ceremony the browser refuses throws PasskeyCeremonyError with a reason", async () => {
  const answer = await page.evaluate(async (baseUrl) => {
    const { TriportConsole, PasskeyCeremonyError } = await import("@triport/sdk");
    const client = new TriportConsole({ baseUrl });
    const refusing = {
      create: () => Promise.reject(new DOMException("The user cancelled.", "NotAllowedError")),
      get: () => Promise.reject(new DOMException("The user cancelled.", "NotAllowedError")),
    };
    try {
      await client.auth.passkey.signIn({ credentials: refusing });
      return "signed in";
    } catch (error) {
      return error instanceof PasskeyCeremonyError ? `${error.reason}: ${error.message}` : String(error);
    }
  }, apiUrl);
  assert.equal(answer, "cancelled: No passkey was used: the request was cancelled or timed out.");
});

test("conversions round-trip base64url and ArrayBuffer", async () => {
  const { base64urlToBuffer, bufferToBase64url } = await import("@triport/sdk");
  for (const size of [0, 1, 2, 3, 31, 32, 33]) {
    const bytes = new Uint8Array(size).map((_, i) => (i * 97 + 251) % 256);
    const text = bufferToBase64url(bytes);
    assert.match(text, /^[A-Za-z0-9_-]*$/);
    assert.deepEqual(new Uint8Array(base64urlToBuffer(text)), bytes);
  }
});
