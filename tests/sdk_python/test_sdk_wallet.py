"""``console.auth.wallet.sign_in`` with real keys: an eth-account LocalAccount and a PyNaCl
SigningKey, through both clients, against the real server on both databases."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import base58 as base58_reference
import nacl.signing
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given
from hypothesis import strategies as st
from triport import SignInResult, Wallet, WalletMessageError
from triport._wallet import base58, personal_sign_message

from .redaction import redact


@pytest.mark.parametrize("kind", ["evm", "solana"])
def test_sign_in_with_a_real_key(
    any_store_server: Any, make_console: Callable[..., Any], kind: str
) -> None:
    signer = Account.create() if kind == "evm" else nacl.signing.SigningKey.generate()
    console = make_console(base_url=any_store_server.base_url)
    signed_in = console.auth.wallet.sign_in(signer)
    assert isinstance(signed_in, SignInResult)
    user = signed_in.user
    assert user.email is None
    me = console.auth.me()
    assert (me.user.id, me.provider) == (user.id, "wallet")
    again = make_console(base_url=any_store_server.base_url)
    assert again.auth.wallet.sign_in(signer).user.id == user.id, "the same key, the same account"
    console.auth.logout()
    assert redact(console.cookies) == {}


def test_sign_in_checks_the_console_domain_when_told_it(
    sdk_server: Any, make_console: Callable[..., Any]
) -> None:
    """A script has no page for the wallet to compare with: it names the console it expects."""
    console = make_console(base_url=sdk_server.base_url)
    host = urlsplit(sdk_server.base_url).netloc
    with pytest.raises(WalletMessageError, match=re.escape(f"is for {host!r}")):
        console.auth.wallet.sign_in(nacl.signing.SigningKey.generate(), domain="console.triport.io")
    assert redact(console.cookies) == {}, "nothing was signed, no session"
    assert console.auth.wallet.sign_in(Account.create(), domain=host).user.email is None


def test_any_other_signer_can_be_wrapped_in_a_wallet(
    sdk_server: Any, make_console: Callable[..., Any]
) -> None:
    account = Account.create()
    signed: list[str] = []

    def sign(message: str) -> str:
        signed.append(message)
        signature = account.sign_message(encode_defunct(text=message)).signature
        return bytes(signature).hex()

    console = make_console(base_url=sdk_server.base_url)
    console.auth.wallet.sign_in(Wallet("evm", account.address.lower(), sign))
    assert console.auth.me().provider == "wallet"
    assert signed[0].splitlines()[1] == account.address  # EIP-55 in the message


def test_a_signer_of_no_known_kind_is_a_type_error(
    sdk_server: Any, make_console: Callable[..., Any]
) -> None:
    console = make_console(base_url=sdk_server.base_url)
    with pytest.raises(TypeError, match="eth-account"):
        console.auth.wallet.sign_in(object())


def test_the_sdk_loads_neither_eth_account_nor_pynacl() -> None:
    code = (
        "import sys, triport; "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('eth_account', 'nacl')]; "
        "assert not loaded, loaded"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_the_personal_sign_message_is_eth_accounts_encode_defunct() -> None:
    text = "console.triport.io wants you to sign in\nwith ünïcode"
    assert tuple(personal_sign_message(text)) == tuple(encode_defunct(text=text))


@given(st.binary(max_size=40))
def test_base58_matches_the_reference_library(data: bytes) -> None:
    assert base58(data) == base58_reference.b58encode(data).decode()
