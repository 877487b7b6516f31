/**
 * The browser half of a passkey ceremony: the server's JSON options become the ArrayBuffers
 * `navigator.credentials` wants, and the credential it returns becomes the JSON the server takes.
 * Browsers with WebAuthn Level 3 (`PublicKeyCredential.parseCreationOptionsFromJSON`, `toJSON()`)
 * do this themselves; the conversions below are for the others.
 */
import type {
  AuthenticationResponseJSON,
  CreationOptionsJSON,
  CredentialDescriptorJSON,
  RegistrationResponseJSON,
  RequestOptionsJSON,
} from "./types.js";

/**
 * Where credentials come from: `navigator.credentials` by default. Typed structurally (no DOM
 * types in the package's declarations, so Node.js projects without the DOM lib compile).
 */
export interface CredentialsSource {
  create(options: { publicKey: object }): Promise<unknown>;
  get(options: { publicKey: object }): Promise<unknown>;
}

/** The options `navigator.credentials.create()` / `get()` take: the JSON with ArrayBuffers. */
export type PublicKeyOptions = Record<string, unknown> & { challenge: ArrayBuffer };

/** Why a ceremony did not produce a credential, in words (the browser's DOMException is `cause`). */
export class PasskeyCeremonyError extends Error {
  override readonly name = "PasskeyCeremonyError";
  /** `cancelled` (NotAllowedError, AbortError), `exists` (InvalidStateError), `unsupported`,
   * `insecure` (SecurityError: wrong RP id, IP address or insecure origin) or `failed`. */
  readonly reason: "cancelled" | "exists" | "unsupported" | "insecure" | "failed";

  constructor(reason: PasskeyCeremonyError["reason"], message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

export function base64urlToBuffer(text: string): ArrayBuffer {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

export function bufferToBase64url(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes =
    buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function descriptors(list: CredentialDescriptorJSON[] | undefined): object[] {
  return (list ?? []).map((item) => ({
    type: item.type,
    id: base64urlToBuffer(item.id),
    ...(item.transports ? { transports: item.transports } : {}),
  }));
}

interface Level3Static {
  parseCreationOptionsFromJSON?: (json: CreationOptionsJSON) => PublicKeyOptions;
  parseRequestOptionsFromJSON?: (json: RequestOptionsJSON) => PublicKeyOptions;
}

function level3(): Level3Static {
  const found = (globalThis as { PublicKeyCredential?: unknown }).PublicKeyCredential;
  return (found ?? {}) as Level3Static;
}

export function creationOptionsFromJSON(json: CreationOptionsJSON): PublicKeyOptions {
  const native = level3().parseCreationOptionsFromJSON;
  if (native) return native(json);
  return {
    ...json,
    challenge: base64urlToBuffer(json.challenge),
    user: { ...json.user, id: base64urlToBuffer(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

export function requestOptionsFromJSON(json: RequestOptionsJSON): PublicKeyOptions {
  const native = level3().parseRequestOptionsFromJSON;
  if (native) return native(json);
  return {
    ...json,
    challenge: base64urlToBuffer(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  };
}

interface MaybeJSON {
  toJSON?: () => unknown;
}

/** The credential as the server takes it: `toJSON()` where the browser has it, else by hand. */
export function credentialToJSON(value: unknown): RegistrationResponseJSON | AuthenticationResponseJSON {
  const credential = value as PublicKeyCredential;
  const own = (credential as unknown as MaybeJSON).toJSON;
  if (typeof own === "function") return own.call(credential) as RegistrationResponseJSON;
  const common = {
    id: credential.id,
    rawId: bufferToBase64url(credential.rawId),
    type: "public-key" as const,
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
    clientExtensionResults: credential.getClientExtensionResults() as Record<string, unknown>,
  };
  const response = credential.response;
  if ("attestationObject" in response) {
    const attestation = response as AuthenticatorAttestationResponse;
    return {
      ...common,
      response: {
        clientDataJSON: bufferToBase64url(attestation.clientDataJSON),
        attestationObject: bufferToBase64url(attestation.attestationObject),
        transports: typeof attestation.getTransports === "function" ? attestation.getTransports() : [],
      },
    };
  }
  const assertion = response as AuthenticatorAssertionResponse;
  return {
    ...common,
    response: {
      clientDataJSON: bufferToBase64url(assertion.clientDataJSON),
      authenticatorData: bufferToBase64url(assertion.authenticatorData),
      signature: bufferToBase64url(assertion.signature),
      userHandle: assertion.userHandle ? bufferToBase64url(assertion.userHandle) : null,
    },
  };
}

/** `navigator.credentials`, or a clear error where the environment has no WebAuthn. */
export function browserCredentials(source?: CredentialsSource): CredentialsSource {
  if (source) return source;
  const nav = (globalThis as { navigator?: { credentials?: CredentialsSource } }).navigator;
  if (!nav?.credentials || typeof (globalThis as { PublicKeyCredential?: unknown }).PublicKeyCredential !== "function") {
    throw new PasskeyCeremonyError("unsupported", "This environment does not support passkeys (no WebAuthn).");
  }
  return nav.credentials;
}

/** Runs `create()` or `get()` and turns a browser refusal into a `PasskeyCeremonyError`. */
export async function runCeremony(run: () => Promise<unknown>, creating: boolean): Promise<unknown> {
  let credential: unknown;
  try {
    credential = await run();
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "NotAllowedError" || name === "AbortError") {
      const what = creating ? "No passkey was created" : "No passkey was used";
      throw new PasskeyCeremonyError("cancelled", `${what}: the request was cancelled or timed out.`, error);
    }
    if (name === "InvalidStateError") {
      throw new PasskeyCeremonyError("exists", "This authenticator already holds a passkey for the account.", error);
    }
    if (name === "SecurityError") {
      throw new PasskeyCeremonyError("insecure", "Passkeys are not allowed here: the page's domain does not match the console's.", error);
    }
    if (name === "NotSupportedError") {
      throw new PasskeyCeremonyError("unsupported", "This authenticator cannot create a passkey the console accepts.", error);
    }
    throw new PasskeyCeremonyError("failed", `The passkey request failed (${name ?? "unknown error"}).`, error);
  }
  if (credential === null || credential === undefined) {
    throw new PasskeyCeremonyError("cancelled", "No passkey was returned.");
  }
  return credential;
}
