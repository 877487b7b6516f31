import type { CookieJar } from "tough-cookie";
import { AuthApi } from "./auth.js";
import { JarCookies, defaultCookieStore } from "./cookies.js";
import { KeysApi } from "./keys.js";
import { PasskeysApi } from "./passkeys.js";
import { Transport, retryPolicy, type RetryOptions } from "./transport.js";

export const DEFAULT_BASE_URL = "https://api.triport.io";

export interface TriportConsoleOptions {
  /** API origin, optionally with a path prefix (default `https://api.triport.io`). */
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
  readonly passkeys: PasskeysApi;
  readonly baseUrl: string;
  /** The Node.js cookie jar, or `undefined` in browser mode (the browser owns the cookies). */
  readonly cookieJar: CookieJar | undefined;

  constructor(options: TriportConsoleOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    const cookies = defaultCookieStore(options.cookieJar);
    this.cookieJar = cookies instanceof JarCookies ? cookies.jar : undefined;
    // Bind so a global fetch is not invoked with the client as `this` (browsers reject that).
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    const transport = new Transport(this.baseUrl, fetchImpl, cookies, retryPolicy(options.retry));
    this.auth = new AuthApi(transport);
    this.keys = new KeysApi(transport);
    this.passkeys = new PasskeysApi(transport);
  }
}
