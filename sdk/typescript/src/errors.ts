/**
 * One error hierarchy for every failure, keyed on the HTTP status and the envelope's `error`
 * code, so callers can branch with `instanceof` and still read the exact code. The Python SDK's
 * `triport._exceptions` has the same classes and the same mapping rules.
 */

export interface TriportErrorInit {
  /** The HTTP status; `undefined` when no response arrived. */
  status: number | undefined;
  code: string;
  message: string;
  requestId?: string | undefined;
  /** The response headers (empty when no response arrived). */
  headers?: Headers | undefined;
  cause?: unknown;
}

/**
 * Base class. `status` is the HTTP status (`undefined` when no response arrived: a refused
 * connection, a timeout); `code` the envelope's stable `error` code; `message` the server's human
 * text (from its error-code table), safe to show to a user; `requestId` the id of the server's
 * log line; `headers` the response headers.
 */
export class TriportError extends Error {
  readonly status: number | undefined;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly headers: Headers;

  constructor(init: TriportErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.headers = init.headers ?? new Headers();
  }
}

/** The reasons a 401 may give for a known session that is no longer live (spec §2.10). */
const SESSION_END_REASONS = ["signed_out", "revoked", "signed_out_everywhere", "replaced", "admin", "expired"] as const;

/** Why a known session is no longer live, as a 401 `unauthenticated` says it. */
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

function sessionEndReason(value: unknown): SessionEndReason | undefined {
  return SESSION_END_REASONS.find((reason) => reason === value);
}

/**
 * 401: no session, or an unknown, expired or revoked one. Sign in again. `reason` says why a
 * session this client held ended: `signed_out` (logout), `revoked` (ended from another session),
 * `signed_out_everywhere`, `replaced` (a new sign-in in the same place), `admin` (an operator) or
 * `expired`; `undefined` for no session, an unknown token, or a reason this SDK does not know.
 */
export class AuthenticationError extends TriportError {
  readonly reason: SessionEndReason | undefined;

  constructor(init: TriportErrorInit & { reason?: SessionEndReason | undefined }) {
    super(init);
    this.reason = init.reason;
  }
}

/** The spec's name for `AuthenticationError` (the envelope's code is `unauthenticated`). */
export const UnauthenticatedError = AuthenticationError;
/** The spec's name for `AuthenticationError`. */
export type UnauthenticatedError = AuthenticationError;

/** 403 `csrf_missing` / `csrf_invalid`: retrying the same request cannot help, so it is raised at once. */
export class CsrfError extends TriportError {}

/** 403 with any other code (a proxy's refusal, or a code added later). */
export class PermissionDeniedError extends TriportError {}

/** 400 (`invalid_email`, `invalid_id`, …) and any other 4xx without a class of its own. */
export class InvalidRequestError extends TriportError {}

export class NotFoundError extends TriportError {}

export class ConflictError extends TriportError {}

/** 429: `retryAfter` is the server's wait in seconds (from the body or `Retry-After`). */
export class RateLimitError extends TriportError {
  readonly retryAfter: number | undefined;

  constructor(init: TriportErrorInit & { retryAfter?: number | undefined }) {
    super(init);
    this.retryAfter = init.retryAfter;
  }
}

/** 5xx: the server or its store failed; it never means "signed out". */
export class ServerError extends TriportError {}

/**
 * No HTTP response (after any safe retries): connection refused or reset, DNS failure
 * (`code` "connection_error"), or the per-request timeout (`code` "timeout").
 */
export class APIConnectionError extends TriportError {}

/** The former name of `APIConnectionError`, kept so existing imports still work. */
export const NetworkError = APIConnectionError;
/** The former name of `APIConnectionError`, kept so existing imports still work. */
export type NetworkError = APIConnectionError;

/**
 * Logout did not complete: the session row may still be live, so the client kept its cookies.
 * Call `logout()` again later. `attempts` counts the requests made; `cause` is the last failure.
 */
export class LogoutFailedError extends TriportError {
  readonly attempts: number;

  constructor(init: TriportErrorInit & { attempts?: number }) {
    super(init);
    this.attempts = init.attempts ?? 1;
  }
}

interface Envelope {
  reason?: SessionEndReason;
  code?: string;
  message?: string;
  requestId?: string;
  retryAfter?: number;
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Reads the flat envelope and the nested `{"error": {"code": …}}` form some proxies produce. */
function readEnvelope(body: unknown): Envelope {
  if (typeof body !== "object" || body === null) return {};
  const record = body as Record<string, unknown>;
  const nested =
    typeof record["error"] === "object" && record["error"] !== null
      ? (record["error"] as Record<string, unknown>)
      : undefined;
  const retryAfter = record["retry_after"] ?? nested?.["retry_after"];
  const envelope: Envelope = {};
  const code = stringField(nested ? nested["code"] : record["error"]);
  const message = stringField(nested ? nested["message"] : record["message"]);
  const requestId = stringField(record["request_id"] ?? nested?.["request_id"]);
  if (code !== undefined) envelope.code = code;
  if (message !== undefined) envelope.message = message;
  if (requestId !== undefined) envelope.requestId = requestId;
  if (typeof retryAfter === "number" && Number.isFinite(retryAfter)) envelope.retryAfter = retryAfter;
  const reason = sessionEndReason(record["reason"]);
  if (reason !== undefined) envelope.reason = reason;
  return envelope;
}

/** Seconds from a `Retry-After` header: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

/**
 * Turns a non-2xx response into the matching error. `body` is the parsed JSON or `undefined`
 * when the body was not JSON (a proxy's HTML page), which gives the code `http_<status>`.
 */
export function errorFromResponse(status: number, body: unknown, headers: Headers): TriportError {
  const envelope = readEnvelope(body);
  const init: TriportErrorInit = {
    status,
    code: envelope.code || `http_${status}`,
    message: envelope.message || `HTTP ${status}`,
    requestId: envelope.requestId ?? headers.get("x-request-id") ?? undefined,
    headers,
  };
  // A code picks its class whatever the status only for these; every other code is classed by
  // its status, so codes the server adds later still land in the right family.
  if (init.code === "logout_failed") return new LogoutFailedError(init);
  if (init.code === "csrf_missing" || init.code === "csrf_invalid") return new CsrfError(init);
  if (status === 401) return new AuthenticationError({ ...init, reason: envelope.reason });
  if (status === 403) return new PermissionDeniedError(init);
  if (status === 404) return new NotFoundError(init);
  if (status === 409) return new ConflictError(init);
  if (status === 429) {
    const retryAfter = envelope.retryAfter ?? parseRetryAfter(headers.get("retry-after"));
    return new RateLimitError({ ...init, retryAfter });
  }
  if (status >= 500) return new ServerError(init);
  if (status >= 400) return new InvalidRequestError(init);
  return new TriportError(init);
}
