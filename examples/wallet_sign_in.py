#!/usr/bin/env python3
"""Sign in to the Triport console with a throwaway wallet key, then sign out.

    pip install httpx eth-keys "eth-hash[pycryptodome]" cryptography base58
    python examples/wallet_sign_in.py http://127.0.0.1:8000 --chain evm      # or solana

It does what a browser wallet does: ask for a challenge, sign the message byte-for-byte
(EVM: EIP-191 personal_sign; Solana: ed25519 signMessage), and post the signature back.
The message is a standard one (EIP-4361 Sign-In with Ethereum, or Sign-In-With-Solana) naming
the console's domain and URI, the address, the chain and the nonce: a browser wallet compares
that domain with the page asking for the signature. The server answers with the session
cookies; ``/v1/auth/me`` then shows provider "wallet".

With the Python SDK the same steps are one call that takes an eth-account account or a PyNaCl
signing key: ``ConsoleClient(base_url).auth.wallet.sign_in(signer)``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import base58
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak

Signer = Callable[[str], str]


def evm_wallet() -> tuple[str, Signer]:
    key = PrivateKey(os.urandom(32))

    def sign(message: str) -> str:
        data = message.encode("utf-8")
        digest = keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)
        signature = key.sign_msg_hash(digest).to_bytes()  # R || S || V with V in {0, 1}
        # Wallets usually send V as 27/28; the server accepts both forms.
        return "0x" + signature[:64].hex() + f"{signature[64] + 27:02x}"

    return key.public_key.to_checksum_address(), sign


def solana_wallet() -> tuple[str, Signer]:
    key = Ed25519PrivateKey.generate()
    address = base58.b58encode(key.public_key().public_bytes_raw()).decode()

    def sign(message: str) -> str:
        return base58.b58encode(key.sign(message.encode("utf-8"))).decode()

    return address, sign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the console API, e.g. http://127.0.0.1:8000")
    parser.add_argument("--chain", choices=("evm", "solana"), default="evm")
    args = parser.parse_args()
    address, sign = evm_wallet() if args.chain == "evm" else solana_wallet()

    with httpx.Client(base_url=args.base_url, timeout=10) as client:
        challenge = client.post(
            "/v1/auth/wallet/challenge", json={"address": address, "chain": args.chain}
        )
        challenge.raise_for_status()
        nonce, message = challenge.json()["nonce"], challenge.json()["message"]
        print(f"signing this challenge with {address}:\n\n{message}\n")

        verify = client.post(
            "/v1/auth/wallet/verify",
            json={
                "nonce": nonce,
                "address": address,
                "chain": args.chain,
                "signature": sign(message),
            },
        )
        verify.raise_for_status()
        me = client.get("/v1/auth/me")
        me.raise_for_status()
        print(f"signed in as user {me.json()['user']['id']} (provider: {me.json()['provider']})")

        # Mutating calls with a session send the nl_csrf cookie back as X-CSRF-Token.
        logout = client.post("/v1/auth/logout", headers={"X-CSRF-Token": client.cookies["nl_csrf"]})
        logout.raise_for_status()
        print("signed out")


if __name__ == "__main__":
    main()
