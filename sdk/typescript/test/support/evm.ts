/**
 * A real Ethereum key behind an EIP-1193 provider, as a browser wallet exposes it: secp256k1 and
 * keccak-256 from the audited @noble libraries, signing EIP-191 `personal_sign` messages.
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import type { Eip1193Provider } from "@triport/sdk";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

export class EvmProvider implements Eip1193Provider {
  readonly address: string;
  /** Every message text this key signed. */
  readonly signed: string[] = [];
  /** Make the next `personal_sign` fail as a user's "Reject" does (EIP-1193 code 4001). */
  rejectNext = false;
  private readonly secret = secp256k1.utils.randomPrivateKey();

  constructor() {
    const publicKey = secp256k1.getPublicKey(this.secret, false).slice(1);
    this.address = `0x${hex(keccak_256(publicKey).slice(-20))}`;
  }

  async request({ method, params }: { method: string; params?: readonly unknown[] | object }): Promise<unknown> {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [this.address];
    if (method !== "personal_sign" || !Array.isArray(params)) throw new Error(`unsupported ${method}`);
    if (this.rejectNext) {
      this.rejectNext = false;
      throw Object.assign(new Error("User rejected the request."), { code: 4001 });
    }
    const [data, account] = params as [string, string];
    if (account.toLowerCase() !== this.address) throw new Error("not this wallet's account");
    const message = Buffer.from(data.slice(2), "hex");
    this.signed.push(message.toString("utf8"));
    const prefix = Buffer.from(`\x19Ethereum Signed Message:\n${message.length}`, "utf8");
    const signature = secp256k1.sign(keccak_256(Buffer.concat([prefix, message])), this.secret);
    return `0x${hex(signature.toCompactRawBytes())}${(27 + signature.recovery).toString(16)}`;
  }
}
