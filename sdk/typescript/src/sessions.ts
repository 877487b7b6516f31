import type { RequestOptions, Transport } from "./transport.js";
import type { ActivityEvent, ActivityPage, OkResult, RevokedOthers, SessionList } from "./types.js";

/** Where the user is signed in, and ending those sessions: `console.sessions`. */
export class SessionsApi {
  constructor(private readonly transport: Transport) {}

  /** Live sessions in `sessions`: the current one first (`current: true`), then newest first. */
  list(options?: RequestOptions): Promise<SessionList> {
    return this.transport.request("GET", "/v1/auth/sessions", { ...options });
  }

  /**
   * Ends one session; ending an already ended one is a success too, so a `revoke_failed` (500) is
   * retried like any DELETE. Ending this client's own session signs it out (cookies cleared).
   */
  revoke(id: string, options?: RequestOptions): Promise<OkResult> {
    return this.transport.request("DELETE", `/v1/auth/sessions/${encodeURIComponent(id)}`, { ...options });
  }

  /** Ends every other live session of the user in one transaction; `revoked` counts them. */
  revokeOthers(options?: RequestOptions): Promise<RevokedOthers> {
    return this.transport.request("POST", "/v1/auth/sessions/revoke-others", { ...options });
  }
}

/** Paging of `console.activity.list`. */
export interface ActivityListParams {
  /** Events per page, 1–100 (server default 50). */
  limit?: number | undefined;
  /** The previous page's `next`; omitted: the newest events. */
  before?: string | undefined;
}

/**
 * What happened on the account, newest first, kept 90 days: `console.activity`.
 * `for await (const event of console.activity)` walks every page.
 */
export class ActivityApi {
  constructor(private readonly transport: Transport) {}

  /** One page of events; pass its `next` as `before` for the following one (`null`: last page). */
  list(params: ActivityListParams = {}, options?: RequestOptions): Promise<ActivityPage> {
    const query = new URLSearchParams();
    if (params.limit !== undefined) query.set("limit", String(params.limit));
    if (params.before !== undefined) query.set("before", params.before);
    const search = query.toString();
    return this.transport.request("GET", `/v1/auth/activity${search ? `?${search}` : ""}`, { ...options });
  }

  /** Every event from `params.before` (default: the newest) on, fetching `params.limit` at a time. */
  async *iterate(params: ActivityListParams = {}, options?: RequestOptions): AsyncGenerator<ActivityEvent> {
    let before = params.before;
    for (;;) {
      const page = await this.list({ limit: params.limit, before }, options);
      yield* page.events;
      if (page.next === null) return;
      before = page.next;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ActivityEvent> {
    return this.iterate();
  }
}
