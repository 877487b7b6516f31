/** A real Solana (ed25519) wallet from Node's crypto, to sign the server's challenge. */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Bitcoin-alphabet base58, the encoding of Solana addresses. */
export function base58(bytes: Uint8Array): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
  let out = "";
  while (value > 0n) {
    out = ALPHABET[Number(value % 58n)] + out;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

export class SolanaWallet {
  readonly address: string;
  private readonly privateKey: KeyObject;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const x = publicKey.export({ format: "jwk" }).x;
    if (x === undefined) throw new Error("ed25519 public key without x");
    this.address = base58(Buffer.from(x, "base64url"));
    this.privateKey = privateKey;
  }

  /** Hex ed25519 signature over the exact UTF-8 bytes of `message`. */
  sign(message: string): string {
    return sign(null, Buffer.from(message, "utf8"), this.privateKey).toString("hex");
  }
}
