import { CookieJar } from "tough-cookie";

/** The console's cookies; the Google state cookies belong to the browser flow, not to the SDK. */
export const SESSION_COOKIE = "nl_session";
export const CSRF_COOKIE = "nl_csrf";

/**
 * Where the session lives. In a browser it is the browser's own cookie store (the SDK cannot and
 * must not touch the HttpOnly session cookie); in Node.js it is a cookie jar owned by the client.
 */
export interface CookieStore {
  /** `fetch` credentials mode; `undefined` where the SDK sends the `Cookie` header itself. */
  readonly credentials: "include" | undefined;
  /** Value for the `Cookie` request header, if the SDK must send it itself. */
  cookieHeader(url: string): Promise<string | undefined>;
  /** The `nl_csrf` value to echo in `X-CSRF-Token`, as the seed's `readCookie("nl_csrf")`. */
  csrfToken(url: string): Promise<string | undefined>;
  remember(url: string, response: Response): Promise<void>;
  /** Drops the console cookies after a successful logout, even if a clearing header was lost. */
  forget(url: string): Promise<void>;
}

/** The seed's helper, verbatim in behaviour: the page reads `nl_csrf` from `document.cookie`. */
function readCookie(cookies: string, name: string): string | null {
  const m = cookies.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
  return m?.[1] !== undefined ? decodeURIComponent(m[1]) : null;
}

interface DocumentLike {
  cookie: string;
}

/** Browser mode: `credentials: "include"` lets the browser send and store the cookies itself. */
export class BrowserCookies implements CookieStore {
  readonly credentials = "include" as const;

  constructor(private readonly document: DocumentLike) {}

  cookieHeader(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  csrfToken(): Promise<string | undefined> {
    return Promise.resolve(readCookie(this.document.cookie, CSRF_COOKIE) ?? undefined);
  }

  remember(): Promise<void> {
    return Promise.resolve();
  }

  /** The server's clearing `Set-Cookie` is authoritative; script cannot clear an HttpOnly cookie. */
  forget(): Promise<void> {
    return Promise.resolve();
  }
}

/** Node.js mode: a `tough-cookie` jar applies the RFC 6265 rules (expiry, path, clearing) for us. */
export class JarCookies implements CookieStore {
  readonly credentials = undefined;

  constructor(readonly jar: CookieJar) {}

  async cookieHeader(url: string): Promise<string | undefined> {
    const header = await this.jar.getCookieString(url);
    return header === "" ? undefined : header;
  }

  async csrfToken(url: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(url);
    return cookies.find((cookie) => cookie.key === CSRF_COOKIE)?.value;
  }

  async remember(url: string, response: Response): Promise<void> {
    // getSetCookie keeps several Set-Cookie headers apart; a plain get() would join them with commas.
    const headers = response.headers;
    const setCookies =
      typeof headers.getSetCookie === "function"
        ? headers.getSetCookie()
        : [headers.get("set-cookie")].filter((value) => value !== null);
    for (const header of setCookies) {
      await this.jar.setCookie(header, url, { ignoreError: true });
    }
  }

  async forget(url: string): Promise<void> {
    for (const cookie of await this.jar.getCookies(url)) {
      if (cookie.key === SESSION_COOKIE || cookie.key === CSRF_COOKIE) {
        await this.jar.store.removeCookie(cookie.domain, cookie.path, cookie.key);
      }
    }
  }
}

/** Picks the browser store when a `document` exists, unless the caller brought a jar. */
export function defaultCookieStore(jar: CookieJar | undefined): CookieStore {
  const doc = (globalThis as { document?: DocumentLike }).document;
  if (jar === undefined && doc !== undefined && typeof doc.cookie === "string") {
    return new BrowserCookies(doc);
  }
  return new JarCookies(jar ?? new CookieJar());
}
