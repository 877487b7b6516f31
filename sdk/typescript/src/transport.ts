import type { CookieStore } from "./cookies.js";
import {
  APIConnectionError,
  LogoutFailedError,
  RateLimitError,
  ServerError,
  TriportError,
  errorFromResponse,
} from "./errors.js";

/** Retry tuning. Every field is optional; the defaults suit an interactive console. */
export interface RetryOptions {
  /** How long `logout()` keeps retrying before it gives up with `LogoutFailedError` (ms, default 60 000). */
  logoutDeadlineMs?: number | undefined;
  /** Upper bound of the first backoff; it doubles on every retry (ms, default 250). */
  initialDelayMs?: number | undefined;
  /** Ceiling of any single backoff (ms, default 8 000, as in the Python SDK). */
  maxDelayMs?: number | undefined;
  /** Retries for safe calls (GET, DELETE) after the first attempt (default 2). */
  maxRetries?: number | undefined;
  /** A 429 asking to wait longer than this is raised instead of waited out (ms, default 60 000). */
  maxRetryAfterMs?: number | undefined;
  /** Per-request timeout; a timed-out request fails with `APIConnectionError` code "timeout" (ms, default 10 000). */
  timeoutMs?: number | undefined;
}

export type RetryPolicy = { [K in keyof RetryOptions]-?: number };

const DEFAULT_RETRY: RetryPolicy = {
  logoutDeadlineMs: 60_000,
  initialDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetries: 2,
  maxRetryAfterMs: 60_000,
  timeoutMs: 10_000,
};

/** The defaults overlaid with the options the caller set (an explicit `undefined` keeps the default). */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY };
  for (const key of Object.keys(policy) as (keyof RetryPolicy)[]) {
    const value = options[key];
    if (value !== undefined) policy[key] = value;
  }
  return policy;
}

export type Method = "GET" | "POST" | "DELETE";

/** Options every call accepts as its last argument. */
export interface RequestOptions {
  /** This call's timeout for each attempt (ms), instead of the client's `retry.timeoutMs`. */
  timeoutMs?: number | undefined;
  /**
   * Cancels the call, including any retries still to come. The call then rejects with the
   * signal's `reason` (an `AbortError` `DOMException` unless you gave another), as `fetch` does.
   */
  signal?: AbortSignal | undefined;
}

interface SendOptions extends RequestOptions {
  body?: unknown;
}

/**
 * Full-jitter exponential backoff (a uniform draw in [0, min(cap, base * 2^attempt)]): spreads the
 * retries of many clients after a shared outage instead of synchronising them.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return Math.random() * ceiling;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The caller's signal joined with the per-attempt timeout. */
function attemptSignal(timeoutMs: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/** Failures worth another attempt of a request that is safe to repeat. */
export function isTransient(error: unknown): error is TriportError {
  return (
    error instanceof APIConnectionError ||
    error instanceof ServerError ||
    error instanceof RateLimitError ||
    error instanceof LogoutFailedError
  );
}

/**
 * How long to wait before retrying `error`: the server's Retry-After when it gave one, else
 * backoff. `undefined` means the server asked for a longer wait than the policy accepts.
 */
export function retryDelay(policy: RetryPolicy, error: TriportError, attempt: number): number | undefined {
  if (error instanceof RateLimitError && error.retryAfter !== undefined) {
    const ms = error.retryAfter * 1000;
    return ms <= policy.maxRetryAfterMs ? ms : undefined;
  }
  return backoffDelay(policy, attempt);
}

const MUTATING: ReadonlySet<Method> = new Set(["POST", "DELETE"]);
const SAFE_TO_REPEAT: ReadonlySet<Method> = new Set(["GET", "DELETE"]);

/** One HTTP exchange with the console API: cookies, CSRF header, timeout and error mapping. */
export class Transport {
  constructor(
    readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch,
    readonly cookies: CookieStore,
    readonly policy: RetryPolicy,
  ) {}

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** Sends once; throws a `TriportError` subclass for every failure. */
  async send<T>(method: Method, path: string, options: SendOptions = {}): Promise<T> {
    const url = this.url(path);
    const headers = new Headers({ Accept: "application/json" });
    const cookie = await this.cookies.cookieHeader(url);
    if (cookie !== undefined) headers.set("Cookie", cookie);
    if (MUTATING.has(method)) headers.set("X-CSRF-Token", (await this.cookies.csrfToken(url)) ?? "");
    const init: RequestInit = {
      method,
      headers,
      redirect: "manual",
      signal: attemptSignal(options.timeoutMs ?? this.policy.timeoutMs, options.signal),
    };
    if (this.cookies.credentials !== undefined) init.credentials = this.cookies.credentials;
    if (options.body !== undefined) {
      headers.set("Content-Type", "application/json");
      init.body = JSON.stringify(options.body);
    }

    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, init);
      await this.cookies.remember(url, response);
      text = await response.text();
    } catch (error) {
      // The caller cancelled: not a failure of the server, so never retried.
      if (options.signal?.aborted) throw options.signal.reason;
      // AbortSignal.timeout rejects with a DOMException named "TimeoutError".
      const timedOut = (error as { name?: unknown } | null)?.name === "TimeoutError";
      throw new APIConnectionError({
        status: undefined,
        code: timedOut ? "timeout" : "connection_error",
        message: timedOut ? `${method} ${path} timed out` : `${method} ${path} failed: no response`,
        cause: error,
      });
    }

    const body = parseJson(text);
    if (!response.ok) throw errorFromResponse(response.status, body, response.headers);
    if (body === undefined) {
      throw new TriportError({
        status: response.status,
        code: "invalid_response",
        message: `${method} ${path} answered ${response.status} without a JSON body`,
        requestId: response.headers.get("x-request-id") ?? undefined,
        headers: response.headers,
      });
    }
    return body as T;
  }

  /** Sends, retrying transient failures only for methods that are safe to repeat. */
  async request<T>(method: Method, path: string, options: SendOptions = {}): Promise<T> {
    const retries = SAFE_TO_REPEAT.has(method) ? this.policy.maxRetries : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<T>(method, path, options);
      } catch (error) {
        if (attempt >= retries || !isTransient(error)) throw error;
        const delay = retryDelay(this.policy, error, attempt);
        if (delay === undefined) throw error;
        await sleep(delay, options.signal);
      }
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
