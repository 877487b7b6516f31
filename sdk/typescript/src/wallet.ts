import type { AuthApi } from "./auth.js";
import type { RequestOptions } from "./transport.js";
import type { Chain, SignInResult } from "./types.js";

/** An EIP-1193 provider: an injected browser wallet (MetaMask, EIP-6963), WalletConnect, … */
export interface Eip1193Provider {
  request(args: { method: string; params?: readonly unknown[] | object }): Promise<unknown>;
}

/** A Solana public key as wallets expose it (`@solana/web3.js` `PublicKey`, Phantom). */
export interface SolanaPublicKey {
  toBase58?(): string;
  toString(): string;
}

/**
 * A Solana wallet that signs messages: Phantom's `window.phantom.solana`, a wallet adapter, or
 * your own object around a key. `signMessage` gets the exact UTF-8 bytes of the message and
 * returns the 64-byte ed25519 signature, bare or as `{ signature }` (Phantom).
 */
export interface SolanaWallet {
  publicKey?: SolanaPublicKey | null;
  connect?(): Promise<unknown>;
  signMessage(message: Uint8Array, display?: "utf8"): Promise<Uint8Array | { signature: Uint8Array }>;
}

/** `timeoutMs` and `signal` apply to the challenge and the verify calls (not to the wallet). */
export interface WalletSignInOptions extends RequestOptions {
  /** The account to sign in with (default: the wallet's first account / its public key). */
  address?: string;
  /**
   * The console's host (`console.triport.io`). When given, the SDK refuses to sign a message for
   * any other domain. A browser wallet does this check itself against the page; a script has no
   * page, so tell it what to expect.
   */
  domain?: string;
}

/** The server's message is not a sign-in for this wallet; nothing was signed. */
export class WalletMessageError extends Error {
  override readonly name = "WalletMessageError";
}

/** `console.auth.wallet`: sign in with an EIP-1193 provider or a Solana wallet. */
export class WalletApi {
  constructor(private readonly auth: AuthApi) {}

  /**
   * Asks for a challenge, checks that its message is a standard sign-in (EIP-4361 /
   * Sign-In-With-Solana) for this address and challenge, has the wallet sign it (EVM:
   * `personal_sign`; Solana: `signMessage`) and trades the signature for a session. A wallet's
   * own error (for example EIP-1193 code 4001 when the user rejects) is thrown as it is.
   */
  async signIn(wallet: Eip1193Provider | SolanaWallet, options: WalletSignInOptions = {}): Promise<SignInResult> {
    if (isEip1193(wallet)) {
      const address = options.address ?? (await firstAccount(wallet));
      return this.complete("evm", address, options, async (message) => {
        const signature = await wallet.request({ method: "personal_sign", params: [utf8Hex(message), address] });
        if (typeof signature !== "string") throw new TypeError("personal_sign returned no signature");
        return signature;
      });
    }
    if (typeof wallet.signMessage === "function") {
      const address = options.address ?? (await solanaAddress(wallet));
      return this.complete("solana", address, options, async (message) => {
        const signed = await wallet.signMessage(new TextEncoder().encode(message), "utf8");
        return toBase64(signed instanceof Uint8Array ? signed : signed.signature);
      });
    }
    throw new TypeError("wallet must be an EIP-1193 provider (request) or a Solana wallet (signMessage)");
  }

  private async complete(
    chain: Chain,
    address: string,
    options: WalletSignInOptions,
    sign: (message: string) => Promise<string>,
  ): Promise<SignInResult> {
    const call: RequestOptions = { timeoutMs: options.timeoutMs, signal: options.signal };
    const { nonce, message } = await this.auth.walletChallenge(address, chain, call);
    checkMessage(chain, address, nonce, message, options.domain);
    const signature = await sign(message);
    return this.auth.walletVerify({ nonce, address, chain, signature }, call);
  }
}

function isEip1193(wallet: Eip1193Provider | SolanaWallet): wallet is Eip1193Provider {
  return typeof (wallet as Partial<Eip1193Provider>).request === "function";
}

async function firstAccount(provider: Eip1193Provider): Promise<string> {
  const accounts = await provider.request({ method: "eth_requestAccounts" });
  const first: unknown = Array.isArray(accounts) ? accounts[0] : undefined;
  if (typeof first !== "string") throw new TypeError("the wallet shared no account");
  return first;
}

async function solanaAddress(wallet: SolanaWallet): Promise<string> {
  let key = wallet.publicKey;
  if (!key && wallet.connect) {
    const answer = (await wallet.connect()) as { publicKey?: SolanaPublicKey } | undefined;
    key = answer?.publicKey ?? wallet.publicKey;
  }
  if (!key) throw new TypeError("the Solana wallet has no public key (pass options.address)");
  return key.toBase58 ? key.toBase58() : key.toString();
}

/** Refuses anything but a standard sign-in message for this address, nonce and (if given) domain. */
function checkMessage(chain: Chain, address: string, nonce: string, message: string, domain?: string): void {
  const account = chain === "evm" ? "Ethereum" : "Solana";
  const tail = ` wants you to sign in with your ${account} account:`;
  const lines = message.split("\n");
  const first = lines[0] ?? "";
  if (lines.length < 3 || !first.endsWith(tail)) {
    throw new WalletMessageError(`the server's message is not a ${account} sign-in message`);
  }
  if (domain !== undefined && first !== domain + tail) {
    throw new WalletMessageError(`the sign-in message is for "${first.slice(0, -tail.length)}", not "${domain}"`);
  }
  const named = lines[1] ?? "";
  const same = chain === "evm" ? named.toLowerCase() === address.toLowerCase() : named === address;
  if (!same) throw new WalletMessageError("the sign-in message names another address");
  if (!lines.includes(`Nonce: ${nonce.replaceAll("-", "")}`)) {
    throw new WalletMessageError("the sign-in message carries another nonce");
  }
}

function utf8Hex(text: string): string {
  return `0x${Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
}
