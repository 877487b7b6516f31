import type { Transport } from "./transport.js";
import type { CreateKeyParams, CreatedKey, KeyList, OkResult, RotatedKey } from "./types.js";

/** API key management for the signed-in user: `console.keys`. */
export class KeysApi {
  constructor(private readonly transport: Transport) {}

  /** Active and revoked keys, newest first. */
  list(): Promise<KeyList> {
    return this.transport.request("GET", "/v1/keys");
  }

  /** Creates a key; the returned `raw` secret is shown this once only. */
  create(params: CreateKeyParams): Promise<CreatedKey> {
    return this.transport.request("POST", "/v1/keys", { body: params });
  }

  /** Revokes a key; revoking an already revoked key is a success too (so retrying is safe). */
  revoke(id: string): Promise<OkResult> {
    return this.transport.request("DELETE", `/v1/keys/${encodeURIComponent(id)}`);
  }

  /** Replaces a key with a new secret, same name, scopes and limit, in one transaction. */
  rotate(id: string): Promise<RotatedKey> {
    return this.transport.request("POST", `/v1/keys/${encodeURIComponent(id)}/rotate`);
  }
}
