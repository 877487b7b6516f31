import type { CookieJar } from "tough-cookie";
import { AuthApi } from "./auth.js";
import { JarCookies, defaultCookieStore } from "./cookies.js";
import { KeysApi } from "./keys.js";
import { ActivityApi, SessionsApi } from "./sessions.js";
import { PasskeysApi } from "./passkeys.js";
import { Transport, retryPolicy, type RetryOptions } from "./transport.js";

export const DEFAULT_BASE_URL = "https://api.triport.io";
/** The environment variable naming the base URL (read in Node.js; the Python SDK reads it too). */
export const BASE_URL_ENV = "TRIPORT_BASE_URL";

/** `$TRIPORT_BASE_URL` where there is a `process.env` (Node.js); `undefined` in a browser. */
function baseUrlFromEnv(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[BASE_URL_ENV] || undefined;
}

export interface TriportConsoleOptions {
  /**
   * API origin, optionally with a path prefix. Default: `$TRIPORT_BASE_URL` in Node.js, else
   * `https://api.triport.io`. An explicit value wins over the environment.
   */
  baseUrl?: string | undefined;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof fetch | undefined;
  /** Backoff, deadline and timeout tuning; see `RetryOptions`. */
  retry?: RetryOptions | undefined;
  /**
   * Node.js: the jar holding `nl_session` / `nl_csrf` (default: a fresh in-memory jar). Passing one
   * also selects jar mode in a browser-like environment. Share it to share a session.
   */
  cookieJar?: CookieJar | undefined;
}

/**
 * Client for the Triport console API. In a browser the session rides on the browser's cookies
 * (`credentials: "include"`); in Node.js the client keeps its own cookie jar.
 */
export class TriportConsole {
  readonly auth: AuthApi;
  readonly keys: KeysApi;
  readonly sessions: SessionsApi;
  readonly activity: ActivityApi;
  readonly passkeys: PasskeysApi;
  readonly baseUrl: string;
  /** The Node.js cookie jar, or `undefined` in browser mode (the browser owns the cookies). */
  readonly cookieJar: CookieJar | undefined;

  constructor(options: TriportConsoleOptions = {}) {
    this.baseUrl = (options.baseUrl || baseUrlFromEnv() || DEFAULT_BASE_URL).replace(/\/+$/, "");
    const cookies = defaultCookieStore(options.cookieJar);
    this.cookieJar = cookies instanceof JarCookies ? cookies.jar : undefined;
    // Bind so a global fetch is not invoked with the client as `this` (browsers reject that).
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    const transport = new Transport(this.baseUrl, fetchImpl, cookies, retryPolicy(options.retry));
    this.auth = new AuthApi(transport);
    this.keys = new KeysApi(transport);
    this.sessions = new SessionsApi(transport);
    this.activity = new ActivityApi(transport);
    this.passkeys = new PasskeysApi(transport);
  }
}
