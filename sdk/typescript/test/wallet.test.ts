/** `console.auth.wallet.signIn` with real keys against the real server. */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { test } from "node:test";
import { TriportConsole, WalletMessageError, type SolanaWallet } from "@triport/sdk";
import { EvmProvider } from "./support/evm.js";
import { harnessForFile } from "./support/harness.js";
import { jarCookie } from "./support/session.js";
import { base58 } from "./support/solana.js";

const harness = harnessForFile();

/** A Phantom-style wallet around a real ed25519 key: `{ signature }` from `signMessage`. */
function phantomLike(): SolanaWallet & { address: string; signed: string[] } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const address = base58(Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url"));
  const signed: string[] = [];
  return {
    address,
    signed,
    publicKey: null,
    async connect() {
      this.publicKey = { toBase58: () => address, toString: () => address };
      return { publicKey: this.publicKey };
    },
    async signMessage(message: Uint8Array) {
      signed.push(Buffer.from(message).toString("utf8"));
      return { signature: new Uint8Array(sign(null, message, privateKey)) };
    },
  };
}

test("an EIP-1193 provider signs in with a standard message naming the console", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const provider = new EvmProvider();
  const { user } = await client.auth.wallet.signIn(provider);
  assert.equal(user.email, null);
  const me = await client.auth.me();
  assert.deepEqual([me.user.id, me.provider], [user.id, "wallet"]);

  const [message] = provider.signed;
  const host = new URL(harness().baseUrl).host;
  assert.ok(message?.startsWith(`${host} wants you to sign in with your Ethereum account:\n0x`));
  assert.match(message ?? "", /\nURI: http:\/\/[^\n]+\nVersion: 1\nChain ID: 1\nNonce: [0-9a-f]{32}\n/);

  const again = new TriportConsole({ baseUrl: harness().baseUrl });
  const second = await again.auth.wallet.signIn(provider, { domain: host });
  assert.equal(second.user.id, user.id, "the same key is the same account");
  await client.auth.logout();
});

test("a Phantom-style Solana wallet signs in", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const wallet = phantomLike();
  const { user } = await client.auth.wallet.signIn(wallet);
  const me = await client.auth.me();
  assert.deepEqual([me.user.id, me.provider], [user.id, "wallet"]);
  assert.equal(wallet.signed[0]?.split("\n")[1], wallet.address);
  assert.ok(wallet.signed[0]?.includes("\nChain ID: mainnet\n"));
});

test("a bare signMessage wallet with a given address signs in", async () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const address = base58(Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url"));
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  await client.auth.wallet.signIn(
    { signMessage: async (message) => new Uint8Array(sign(null, message, privateKey)) },
    { address },
  );
  assert.equal((await client.auth.me()).provider, "wallet");
});

test("a rejection in the wallet is thrown as the wallet's error and signs nobody in", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const provider = new EvmProvider();
  provider.rejectNext = true;
  await assert.rejects(client.auth.wallet.signIn(provider), (error: unknown) => {
    assert.equal((error as { code?: number }).code, 4001);
    return true;
  });
  assert.equal(await jarCookie(client, "nl_session"), undefined);
});

test("with a domain given, a message for another console is not signed", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  const provider = new EvmProvider();
  await assert.rejects(
    client.auth.wallet.signIn(provider, { domain: "console.triport.io" }),
    WalletMessageError,
  );
  assert.deepEqual(provider.signed, [], "nothing was signed");
  assert.equal(await jarCookie(client, "nl_session"), undefined);
});

test("an object that is no wallet is a TypeError", async () => {
  const client = new TriportConsole({ baseUrl: harness().baseUrl });
  await assert.rejects(client.auth.wallet.signIn({} as SolanaWallet), TypeError);
});
