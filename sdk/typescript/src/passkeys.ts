import type { RequestOptions, Transport } from "./transport.js";
import type {
  AddedPasskey,
  OkResult,
  Passkey,
  PasskeyList,
  RegistrationOptionsResult,
  RegistrationResponseJSON,
} from "./types.js";
import {
  browserCredentials,
  creationOptionsFromJSON,
  credentialToJSON,
  runCeremony,
  type CredentialsSource,
} from "./webauthn.js";

/** The WebAuthn passkeys of the signed-in user: `console.passkeys`. */
export class PasskeysApi {
  constructor(private readonly transport: Transport) {}

  /** PublicKeyCredentialCreationOptionsJSON: a resident key, user verification preferred. */
  registerOptions(options?: RequestOptions): Promise<RegistrationOptionsResult> {
    return this.transport.request("POST", "/v1/auth/passkeys/register/options", { ...options });
  }

  /** Adds the passkey the authenticator created; `name` defaults to "Passkey" on the server. */
  registerVerify(credential: RegistrationResponseJSON, name?: string, options?: RequestOptions): Promise<AddedPasskey> {
    const body = name === undefined ? { credential } : { credential, name };
    return this.transport.request("POST", "/v1/auth/passkeys/register/verify", { ...options, body });
  }

  /** The passkeys, newest first. */
  list(options?: RequestOptions): Promise<PasskeyList> {
    return this.transport.request("GET", "/v1/auth/passkeys", { ...options });
  }

  /** Removes a passkey; removing it again is a success too (so retrying is safe). */
  remove(id: string, options?: RequestOptions): Promise<OkResult> {
    return this.transport.request("DELETE", `/v1/auth/passkeys/${encodeURIComponent(id)}`, { ...options });
  }

  /**
   * The whole ceremony in a browser: options from the server, `navigator.credentials.create()`,
   * then verification. A refusal by the browser or the person throws `PasskeyCeremonyError`.
   */
  async register(name?: string, credentials?: CredentialsSource): Promise<Passkey> {
    const source = browserCredentials(credentials);
    const { options } = await this.registerOptions();
    const credential = await runCeremony(
      () => source.create({ publicKey: creationOptionsFromJSON(options) }),
      true,
    );
    const added = await this.registerVerify(credentialToJSON(credential) as RegistrationResponseJSON, name);
    return added.passkey;
  }
}
