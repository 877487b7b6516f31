import { LogoutFailedError, type TriportError } from "./errors.js";
import { isTransient, retryDelay, sleep, type Transport } from "./transport.js";
import type {
  AuthenticationResponseJSON,
  Chain,
  EmailStartResult,
  Me,
  OkResult,
  PasskeySignInResult,
  SignInOptionsResult,
  SignInResult,
  WalletChallenge,
  WalletVerifyParams,
} from "./types.js";
import {
  browserCredentials,
  credentialToJSON,
  requestOptionsFromJSON,
  runCeremony,
  type CredentialsSource,
} from "./webauthn.js";

export interface PasskeySignInOptions {
  /** Revoke every other live session of the account in the same step (a lost device). */
  signOutOthers?: boolean | undefined;
  /** Where credentials come from (default `navigator.credentials`). */
  credentials?: CredentialsSource | undefined;
}

/** Passkey sign-in in a browser: `console.auth.passkey.signIn()`. */
export class PasskeySignIn {
  constructor(private readonly auth: AuthApi) {}

  /**
   * Runs the whole ceremony: options from the server, `navigator.credentials.get()` for a
   * discoverable passkey, then verification, which sets the session cookies. A refusal by the
   * browser or the person throws `PasskeyCeremonyError`; the server's refusals throw as usual.
   */
  async signIn(options: PasskeySignInOptions = {}): Promise<PasskeySignInResult> {
    const source = browserCredentials(options.credentials);
    const { options: request } = await this.auth.passkeyOptions();
    const credential = await runCeremony(
      () => source.get({ publicKey: requestOptionsFromJSON(request) }),
      false,
    );
    const answer = credentialToJSON(credential) as AuthenticationResponseJSON;
    return this.auth.passkeyVerify(answer, { signOutOthers: options.signOutOthers });
  }
}

/** Sign-in, session and logout: `console.auth`. */
export class AuthApi {
  /** Passkey sign-in helpers that drive `navigator.credentials`. */
  readonly passkey: PasskeySignIn;

  constructor(private readonly transport: Transport) {
    this.passkey = new PasskeySignIn(this);
  }

  /** Mails a 6-digit code; the answer is the same whether or not the account exists. */
  emailStart(email: string): Promise<EmailStartResult> {
    return this.transport.request("POST", "/v1/auth/email/start", { body: { email } });
  }

  /** Exchanges the mailed code for a session (cookies kept by the client). */
  emailVerify(requestId: string, code: string): Promise<SignInResult> {
    return this.transport.request("POST", "/v1/auth/email/verify", {
      body: { request_id: requestId, code },
    });
  }

  /** Gets the sign-in message to sign with the wallet; the nonce is single-use, valid 5 minutes. */
  walletChallenge(address: string, chain: Chain): Promise<WalletChallenge> {
    return this.transport.request("POST", "/v1/auth/wallet/challenge", { body: { address, chain } });
  }

  /** Proves ownership of the address with a signature over the challenge's message. */
  walletVerify(params: WalletVerifyParams): Promise<SignInResult> {
    return this.transport.request("POST", "/v1/auth/wallet/verify", {
      body: {
        nonce: params.nonce,
        address: params.address,
        chain: params.chain,
        signature: params.signature,
      },
    });
  }

  /** PublicKeyCredentialRequestOptionsJSON for a discoverable passkey (challenge: 5 minutes). */
  passkeyOptions(): Promise<SignInOptionsResult> {
    return this.transport.request("POST", "/v1/auth/passkey/options");
  }

  /** Exchanges the authenticator's AuthenticationResponseJSON for a session (cookies set). */
  passkeyVerify(
    credential: AuthenticationResponseJSON,
    options: { signOutOthers?: boolean | undefined } = {},
  ): Promise<PasskeySignInResult> {
    const body = options.signOutOthers ? { credential, sign_out_others: true } : { credential };
    return this.transport.request("POST", "/v1/auth/passkey/verify", { body });
  }

  /** The signed-in user; the first call also returns the default key's one-time `raw` secret. */
  me(): Promise<Me> {
    return this.transport.request("GET", "/v1/auth/me");
  }

  /** Where to send the browser to start Google sign-in (a full-page navigation, not a fetch). */
  googleStartUrl(): string {
    return this.transport.url("/v1/auth/google/start");
  }

  /**
   * Revokes the session. Follows the seed: a `logout_failed` (or a timeout, a lost connection, any
   * 5xx or a 429) means the session row may still be live, so it retries with full-jitter backoff
   * until a 200 or the deadline (`retry.logoutDeadlineMs`). Giving up throws `LogoutFailedError`
   * and keeps the cookies so a later call can finish the job. A CSRF error is thrown at once:
   * repeating the same token cannot fix it. Only after a 200 does the client forget the cookies.
   */
  async logout(): Promise<OkResult> {
    const { policy, cookies } = this.transport;
    const deadline = Date.now() + policy.logoutDeadlineMs;
    for (let attempt = 0; ; attempt++) {
      let failure: TriportError;
      try {
        const timeoutMs = Math.max(1, Math.min(policy.timeoutMs, deadline - Date.now()));
        const result = await this.transport.send<OkResult>("POST", "/v1/auth/logout", { timeoutMs });
        await cookies.forget(this.transport.url("/v1/auth/logout"));
        return result;
      } catch (error) {
        if (!isTransient(error)) throw error;
        failure = error;
      }
      const delay = retryDelay(policy, failure, attempt);
      if (delay === undefined || Date.now() + delay >= deadline) {
        throw new LogoutFailedError({
          status: failure.status,
          code: "logout_failed",
          message:
            `Logout did not complete after ${attempt + 1} attempt(s) (last: ${failure.code}); ` +
            "the session was kept, call logout() again.",
          requestId: failure.requestId,
          cause: failure,
          attempts: attempt + 1,
        });
      }
      await sleep(delay);
    }
  }
}
