import type { RequestOptions, Transport } from "./transport.js";
import type { CreateKeyParams, CreatedKey, KeyList, OkResult, RotatedKey } from "./types.js";

/** API key management for the signed-in user: `console.keys`. Every call takes `RequestOptions` last. */
export class KeysApi {
  constructor(private readonly transport: Transport) {}

  /** Active and revoked keys, newest first, in `keys`. */
  list(options?: RequestOptions): Promise<KeyList> {
    return this.transport.request("GET", "/v1/keys", { ...options });
  }

  /** Creates a key; the returned `raw` secret is shown this once only. */
  create(params: CreateKeyParams, options?: RequestOptions): Promise<CreatedKey> {
    return this.transport.request("POST", "/v1/keys", { ...options, body: params });
  }

  /** Revokes a key; revoking an already revoked key is a success too (so retrying is safe). */
  revoke(id: string, options?: RequestOptions): Promise<OkResult> {
    return this.transport.request("DELETE", `/v1/keys/${encodeURIComponent(id)}`, { ...options });
  }

  /** Replaces a key with a new secret, same name, scopes and limit, in one transaction. */
  rotate(id: string, options?: RequestOptions): Promise<RotatedKey> {
    return this.transport.request("POST", `/v1/keys/${encodeURIComponent(id)}/rotate`, { ...options });
  }
}
