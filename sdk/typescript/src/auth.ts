import { LogoutFailedError, TriportError } from "./errors.js";
import { isTransient, retryDelay, sleep, type RequestOptions, type Transport } from "./transport.js";
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
import { WalletApi } from "./wallet.js";
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

/** Options of `logout()`: those of every call, plus the deadline of all attempts together. */
export interface LogoutOptions extends RequestOptions {
  /** How long to keep retrying (ms), instead of the client's `retry.logoutDeadlineMs`. */
  deadlineMs?: number | undefined;
}

/** Options of a sign-in: those of every call, plus `signOutOthers`. */
export interface SignInOptions extends RequestOptions {
  /** Also end every other live session of the user, in the same transaction (a lost device). */
  signOutOthers?: boolean | undefined;
}

/** A sign-in body; `sign_out_others` is sent only when asked for (spec §2.9). */
function signInBody(body: Record<string, unknown>, options: SignInOptions | undefined): Record<string, unknown> {
  return options?.signOutOthers ? { ...body, sign_out_others: true } : body;
}

/** The call's own options, without the sign-in flags. */
function requestOptions(options: SignInOptions | undefined): RequestOptions {
  return { timeoutMs: options?.timeoutMs, signal: options?.signal };
}

/** Sign-in, session and logout: `console.auth`. Every call takes `RequestOptions` last. */
export class AuthApi {
  /** Sign-in with an EIP-1193 provider or a Solana wallet: `console.auth.wallet.signIn(...)`. */
  readonly wallet: WalletApi;
  /** Passkey sign-in helpers that drive `navigator.credentials`. */
  readonly passkey: PasskeySignIn;

  constructor(private readonly transport: Transport) {
    this.wallet = new WalletApi(this);
    this.passkey = new PasskeySignIn(this);
  }

  /** Mails a 6-digit code; the answer is the same whether or not the account exists. */
  emailStart(email: string, options?: RequestOptions): Promise<EmailStartResult> {
    return this.transport.request("POST", "/v1/auth/email/start", { ...options, body: { email } });
  }

  /** Exchanges the mailed code for a session (cookies kept by the client). */
  emailVerify(requestId: string, code: string, options?: SignInOptions): Promise<SignInResult> {
    return this.transport.request("POST", "/v1/auth/email/verify", {
      ...requestOptions(options),
      body: signInBody({ request_id: requestId, code }, options),
    });
  }

  /** Gets the sign-in message to sign with the wallet; the nonce is single-use, valid 5 minutes. */
  walletChallenge(address: string, chain: Chain, options?: RequestOptions): Promise<WalletChallenge> {
    return this.transport.request("POST", "/v1/auth/wallet/challenge", { ...options, body: { address, chain } });
  }

  /** Proves ownership of the address with a signature over the challenge's message. */
  walletVerify(params: WalletVerifyParams, options?: SignInOptions): Promise<SignInResult> {
    const proof = { nonce: params.nonce, address: params.address, chain: params.chain, signature: params.signature };
    return this.transport.request("POST", "/v1/auth/wallet/verify", {
      ...requestOptions(options),
      body: signInBody(proof, options),
    });
  }

  /** PublicKeyCredentialRequestOptionsJSON for a discoverable passkey (challenge: 5 minutes). */
  passkeyOptions(options?: RequestOptions): Promise<SignInOptionsResult> {
    return this.transport.request("POST", "/v1/auth/passkey/options", { ...options });
  }

  /** Exchanges the authenticator's AuthenticationResponseJSON for a session (cookies set). */
  passkeyVerify(credential: AuthenticationResponseJSON, options?: SignInOptions): Promise<PasskeySignInResult> {
    return this.transport.request("POST", "/v1/auth/passkey/verify", {
      ...requestOptions(options),
      body: signInBody({ credential }, options),
    });
  }

  /** The signed-in user; the first call also returns the default key's one-time `raw` secret. */
  me(options?: RequestOptions): Promise<Me> {
    return this.transport.request("GET", "/v1/auth/me", { ...options });
  }

  /** Where to send the browser to start Google sign-in (a full-page navigation, not a fetch). */
  googleStartUrl(options: { signOutOthers?: boolean | undefined } = {}): string {
    return this.transport.url(`/v1/auth/google/start${options.signOutOthers ? "?sign_out_others=1" : ""}`);
  }

  /**
   * Revokes the session. Follows the seed: a `logout_failed` (or a timeout, a lost connection, any
   * 5xx or a 429) means the session row may still be live, so it retries with full-jitter backoff
   * until a 200 or the deadline (`options.deadlineMs`, else `retry.logoutDeadlineMs`). Giving up
   * throws `LogoutFailedError` and keeps the cookies so a later call can finish the job. A CSRF
   * error is thrown at once: repeating the same token cannot fix it. Only after a 200 does the
   * client forget the cookies. An aborted `signal` stops the retries and keeps the cookies too.
   */
  async logout(options: LogoutOptions = {}): Promise<OkResult> {
    const { policy, cookies } = this.transport;
    const deadline = Date.now() + (options.deadlineMs ?? policy.logoutDeadlineMs);
    const perAttempt = options.timeoutMs ?? policy.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      let failure: TriportError;
      try {
        // No single attempt may outlive the deadline.
        const timeoutMs = Math.max(1, Math.min(perAttempt, deadline - Date.now()));
        await this.transport.send<unknown>("POST", "/v1/auth/logout", { timeoutMs, signal: options.signal });
        await cookies.forget(this.transport.url("/v1/auth/logout"));
        return { ok: true };
      } catch (error) {
        if (error instanceof TriportError && error.code === "invalid_response") {
          // A 200 is final whatever its body (a proxy may rewrite it): the row is revoked.
          await cookies.forget(this.transport.url("/v1/auth/logout"));
          return { ok: true };
        }
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
          headers: failure.headers,
          cause: failure,
          attempts: attempt + 1,
        });
      }
      await sleep(delay, options.signal);
    }
  }
}
