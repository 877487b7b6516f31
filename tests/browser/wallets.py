"""Browser wallets for the console page's tests: an EIP-1193 provider (announced through EIP-6963,
optionally also as ``window.ethereum``) and a Phantom-style Solana provider, injected into the page
before its scripts run. They hold no key: every signature is made in this test process with a real
key (eth-account for secp256k1, PyNaCl for ed25519) through Playwright's ``expose_function``, so
what the page posts is what a real wallet would post."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import base58
import nacl.signing
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import Page

USER_REJECTED = {"code": 4001, "message": "User rejected the request."}
REQUEST_PENDING = {"code": -32002, "message": "Request already pending."}

INJECTED = """(config) => {
  const bridge = (chain, method, params) => window.__testWallet(chain, method, params);
  async function answer(call) {
    const outcome = await call;
    if (outcome.hang) return new Promise(() => {});
    if (outcome.error) {
      const error = new Error(outcome.error.message);
      error.code = outcome.error.code;
      throw error;
    }
    return outcome.result;
  }
  if (config.evm) {
    const provider = {
      request: ({ method, params }) => answer(bridge("evm", method, params || [])),
      on() {},
      removeListener() {},
    };
    const info = Object.freeze({
      uuid: "4f8c7b8e-1f0a-4a55-9a55-2d3c1b2a0e11",
      name: "Test Wallet",
      icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
      rdns: "io.triport.test-wallet",
    });
    if (config.evm.announce) {
      const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", {
        detail: Object.freeze({ info, provider }),
      }));
      window.addEventListener("eip6963:requestProvider", announce);
      announce();
    }
    if (config.evm.legacy) window.ethereum = provider;
  }
  if (config.solana) {
    const solana = {
      isPhantom: true,
      publicKey: null,
      async connect() {
        const address = await answer(bridge("solana", "connect", []));
        this.publicKey = { toString: () => address, toBase58: () => address };
        return { publicKey: this.publicKey };
      },
      async signMessage(message, display) {
        const bytes = Array.from(message);
        const signed = await answer(bridge("solana", "signMessage", [bytes, display]));
        return { signature: Uint8Array.from(signed), publicKey: this.publicKey };
      },
    };
    window.phantom = { solana };
    window.solana = solana;
  }
  if (config.standard) {
    // A Wallet Standard wallet (no injected global): it registers with the app by events.
    const account = { address: "", publicKey: new Uint8Array(32), chains: ["solana:mainnet"],
                      features: ["solana:signMessage"] };
    const wallet = {
      version: "1.0.0",
      name: "Standard Test Wallet",
      icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
      chains: ["solana:mainnet"],
      accounts: [],
      features: {
        "standard:connect": {
          version: "1.0.0",
          async connect() {
            account.address = await answer(bridge("solana", "connect", []));
            wallet.accounts = [account];
            return { accounts: wallet.accounts };
          },
        },
        "solana:signMessage": {
          version: "1.0.0",
          async signMessage(...inputs) {
            const outputs = [];
            for (const input of inputs) {
              const bytes = Array.from(input.message);
              const signed = await answer(bridge("solana", "signMessage", [bytes, "utf8"]));
              outputs.push({ signedMessage: input.message, signature: Uint8Array.from(signed) });
            }
            return outputs;
          },
        },
      },
    };
    const callback = (api) => api.register(wallet);
    window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: callback }));
    window.addEventListener("wallet-standard:app-ready", (event) => callback(event.detail));
  }
}"""


@dataclass
class InjectedWallets:
    """Real keys and what the page asked them to do; ``behaviour`` maps a method to an
    outcome other than success: ``"reject"`` (the user says no) or ``"hang"`` (no answer)."""

    evm_account: Any = field(default_factory=Account.create)
    solana_key: nacl.signing.SigningKey = field(default_factory=nacl.signing.SigningKey.generate)
    behaviour: dict[str, str] = field(default_factory=dict)
    signed: list[str] = field(default_factory=list)  # every message text a key signed

    @property
    def evm_address(self) -> str:
        address: str = self.evm_account.address  # EIP-55
        return address

    @property
    def solana_address(self) -> str:
        return base58.b58encode(bytes(self.solana_key.verify_key)).decode()

    def install(
        self,
        page: Page,
        *,
        evm: bool = True,
        announce: bool = True,
        legacy: bool = False,
        solana: bool = True,
        standard: bool = False,
    ) -> None:
        """Call before ``page.goto``: the page discovers wallets when its script starts."""
        page.expose_function("__testWallet", self._call)
        config = {
            "evm": {"announce": announce, "legacy": legacy} if evm else None,
            "solana": solana,
            "standard": standard,
        }
        page.add_init_script(f"({INJECTED})({json.dumps(config)})")

    def _call(self, chain: str, method: str, params: list[Any]) -> dict[str, Any]:
        outcome = self.behaviour.get(method)
        if outcome == "reject":
            return {"error": USER_REJECTED}
        if outcome == "pending":
            return {"error": REQUEST_PENDING}
        if outcome == "hang":
            return {"hang": True}
        if chain == "evm":
            return {"result": self._evm(method, params)}
        return {"result": self._solana(method, params)}

    def _evm(self, method: str, params: list[Any]) -> Any:
        if method == "eth_requestAccounts":
            return [self.evm_address.lower()]  # as MetaMask answers: lower case
        if method == "personal_sign":
            data_hex, address = params
            assert address.lower() == self.evm_address.lower(), "signs for its own account only"
            text = bytes.fromhex(data_hex.removeprefix("0x")).decode("utf-8")
            self.signed.append(text)
            signed = self.evm_account.sign_message(encode_defunct(text=text))
            return "0x" + bytes(signed.signature).hex()
        raise AssertionError(f"unexpected EIP-1193 method {method}")

    def _solana(self, method: str, params: list[Any]) -> Any:
        if method == "connect":
            return self.solana_address
        if method == "signMessage":
            message = bytes(params[0])
            self.signed.append(message.decode("utf-8"))
            return list(self.solana_key.sign(message).signature)
        raise AssertionError(f"unexpected Solana provider method {method}")
