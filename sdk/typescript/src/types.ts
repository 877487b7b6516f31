/**
 * Wire types of the console API. Field names are exactly those of the HTTP contract (snake_case),
 * so a response can be read next to the spec without a translation table.
 */

/** RFC 3339 UTC timestamp with a `Z` suffix, as the server sends it. */
export type Timestamp = string;

/** The user's primary sign-in method (a session's may also be `passkey`). */
export type Provider = "email" | "google" | "wallet" | "passkey";

/** Wallet families accepted by `wallet/challenge` and `wallet/verify`. */
export type Chain = "evm" | "solana";

/** Public scope aliases a key may carry; `*` means every chain. */
export type Scope = "*" | "solana:rpc" | "eth:rpc" | "polygon:rpc" | "op:rpc" | "bsc:rpc";

export interface User {
  id: string;
  email: string | null;
  display_name: string | null;
  avatar_url: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** An API key as listed; the secret itself is never part of it. */
export interface ApiKey {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  rate_limit: number;
  status: "active" | "revoked";
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  is_default: boolean;
}

/**
 * The default key in `/me`. `raw` and `created` are present only on the one response that
 * bootstrapped the key: the secret is shown once and never again.
 */
export interface DefaultKey extends ApiKey {
  raw?: string;
  created?: true;
}

export interface Me {
  user: User;
  provider: Provider;
  default_key: DefaultKey;
}

export interface EmailStartResult {
  request_id: string;
}

/** Body of every successful sign-in (email or wallet); the session cookies come with it. */
export interface SignInResult {
  user: User;
  /** Only with `signOutOthers: true`: how many other sessions ended. */
  signed_out_others?: number;
}

export interface WalletChallenge {
  nonce: string;
  /** Sign these exact bytes (UTF-8); any change makes the signature invalid. */
  message: string;
}

export interface WalletVerifyParams {
  nonce: string;
  address: string;
  chain: Chain;
  signature: string;
}

export interface OkResult {
  ok: true;
}

export interface KeyList {
  keys: ApiKey[];
}

export interface CreateKeyParams {
  name: string;
  scopes?: Scope[] | undefined;
  rate_limit?: number | undefined;
}

/** `raw` is the full secret, returned only here. */
export interface CreatedKey {
  raw: string;
  key: ApiKey;
}

export interface RotatedKey {
  old_id: string;
  new: ApiKey;
  raw: string;
}

/** A live session of the user (spec §2.9). `id` is public, never the token. */
export interface Session {
  id: string;
  /** The session this client is using. */
  current: boolean;
  provider: Provider;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  /** The client address at sign-in or at the latest use. */
  ip: string | null;
  user_agent: string | null;
  /** A short label such as "Chrome on macOS", or null. */
  device: string | null;
}

export interface SessionList {
  sessions: Session[];
}

export interface RevokedOthers {
  revoked: number;
}

export type ActivityType =
  | "signed_in"
  | "signed_out"
  | "session_revoked"
  | "signed_out_everywhere"
  | "key_created"
  | "key_rotated"
  | "key_revoked"
  | "passkey_added"
  | "passkey_removed";

/** Something that happened on the account (spec §2.11); references only when it has them. */
export interface ActivityEvent {
  id: string;
  type: ActivityType;
  at: Timestamp;
  ip: string | null;
  user_agent: string | null;
  device: string | null;
  provider?: Provider;
  session_id?: string;
  key_id?: string;
  passkey_id?: string;
}

/** One page of events, newest first; `next` is the cursor of the following page, or null. */
export interface ActivityPage {
  events: ActivityEvent[];
  next: string | null;
}

/** A WebAuthn passkey of the signed-in user (never its credential id or public key). */
export interface Passkey {
  id: string;
  name: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

export interface PasskeyList {
  passkeys: Passkey[];
}

export interface AddedPasskey {
  passkey: Passkey;
}

/** A WebAuthn credential descriptor in JSON form (`id` base64url). */
export interface CredentialDescriptorJSON {
  id: string;
  type: "public-key";
  transports?: string[];
}

/** PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3), binary fields base64url. */
export interface CreationOptionsJSON {
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { type: "public-key"; alg: number }[];
  timeout?: number;
  excludeCredentials?: CredentialDescriptorJSON[];
  authenticatorSelection?: {
    authenticatorAttachment?: string;
    residentKey?: string;
    requireResidentKey?: boolean;
    userVerification?: string;
  };
  attestation?: string;
  hints?: string[];
}

/** PublicKeyCredentialRequestOptionsJSON, binary fields base64url. */
export interface RequestOptionsJSON {
  challenge: string;
  timeout?: number;
  rpId?: string;
  allowCredentials?: CredentialDescriptorJSON[];
  userVerification?: string;
  hints?: string[];
}

export interface RegistrationOptionsResult {
  options: CreationOptionsJSON;
}

export interface SignInOptionsResult {
  options: RequestOptionsJSON;
}

/** RegistrationResponseJSON: what `PublicKeyCredential.toJSON()` gives after `create()`. */
export interface RegistrationResponseJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: { clientDataJSON: string; attestationObject: string; transports?: string[] };
  authenticatorAttachment?: string | null;
  clientExtensionResults: Record<string, unknown>;
}

/** AuthenticationResponseJSON: what `PublicKeyCredential.toJSON()` gives after `get()`. */
export interface AuthenticationResponseJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string | null;
  };
  authenticatorAttachment?: string | null;
  clientExtensionResults: Record<string, unknown>;
}

/** Body of `passkey/verify`: the same as every sign-in. */
export type PasskeySignInResult = SignInResult;
