/**
 * Browser mode in a real Chromium: the page lives on another origin than the API, the SDK uses
 * `credentials: "include"` and reads `nl_csrf` from `document.cookie`; the seed's example runs
 * in the page as written.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { Harness } from "./support/harness.js";
import { meStatus, uniqueEmail } from "./support/session.js";
import { StaticSite } from "./support/static.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

let site: StaticSite;
let harness: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  site = await StaticSite.start(join(packageDir, "dist", "esm"), join(packageDir, "node_modules"));
  harness = await Harness.start({ TRIPORT_ALLOWED_ORIGINS: site.origin });
  browser = await chromium.launch({ executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium" });
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(site.origin);
});
after(async () => {
  await browser?.close();
  await harness?.stop();
  await site?.stop();
});

/** Email sign-in driven inside the page; only the code comes from the SMTP sink via Node. */
async function signInInPage(email: string): Promise<string> {
  const baseUrl = harness.baseUrl;
  const requestId = await page.evaluate(
    async (args) => {
      const { TriportConsole } = await import("@triport/sdk");
      return (await new TriportConsole({ baseUrl: args.baseUrl }).auth.emailStart(args.email)).request_id;
    },
    { baseUrl, email },
  );
  const code = await harness.code(email);
  return page.evaluate(
    async (args) => {
      const { TriportConsole } = await import("@triport/sdk");
      const client = new TriportConsole({ baseUrl: args.baseUrl });
      await client.auth.emailVerify(args.requestId, args.code);
      return (await client.auth.me()).provider;
    },
    { baseUrl, requestId, code },
  );
}

/** The browser's cookies for the API, by name. */
async function apiCookies(): Promise<Map<string, { value: string; httpOnly: boolean }>> {
  return new Map((await context.cookies(harness.baseUrl)).map((cookie) => [cookie.name, cookie]));
}

/** What `me()` in the page answers: the provider, or the error's class and code. */
function meInPage(): Promise<string> {
  return page.evaluate(async (baseUrl) => {
    const { TriportConsole } = await import("@triport/sdk");
    try {
      return (await new TriportConsole({ baseUrl }).auth.me()).provider;
    } catch (error) {
      const { name, code } = error as { name: string; code: string };
      return `${name} ${code}`;
    }
  }, harness.baseUrl);
}

test("the seed's example signs out the page's session, cross-origin, with credentials", async () => {
  assert.equal(await signInInPage(uniqueEmail("browser")), "email");
  const cookies = await apiCookies();
  const session = cookies.get("nl_session");
  assert.ok(session, "the browser stored nl_session");
  assert.equal(session.httpOnly, true);
  assert.equal(cookies.get("nl_csrf")?.httpOnly, false, "nl_csrf is readable by the page");

  await page.evaluate(async (baseUrl) => {
    const { TriportConsole } = await import("@triport/sdk");

    const console = new TriportConsole({ baseUrl: baseUrl });

    // Revokes the active session and clears the session cookie.
    await console.auth.logout();
  }, harness.baseUrl);

  assert.equal((await apiCookies()).has("nl_session"), false, "the browser dropped nl_session");
  assert.equal(await meInPage(), "AuthenticationError unauthenticated");
  assert.equal(await meStatus(harness.baseUrl, session.value), 401);
});

test("in the page, logout keeps retrying through a store failure and keeps the cookie meanwhile", async () => {
  assert.equal(await signInInPage(uniqueEmail("browser-lock")), "email");
  await harness.lock();
  const logout = page.evaluate(async (baseUrl) => {
    const { TriportConsole } = await import("@triport/sdk");
    const client = new TriportConsole({ baseUrl, retry: { initialDelayMs: 200, maxDelayMs: 1000 } });
    return client.auth.logout();
  }, harness.baseUrl);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.ok((await apiCookies()).has("nl_session"), "still signed in while the store fails");
  await harness.unlock();
  assert.deepEqual(await logout, { ok: true });
  assert.equal((await apiCookies()).has("nl_session"), false);
  assert.equal(await meInPage(), "AuthenticationError unauthenticated");
});
