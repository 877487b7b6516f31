"""Every method of ConsoleClient and AsyncConsoleClient against the real server.

Each test runs twice through ``make_console``: once with the blocking client and once with the
asyncio client, so both clients' own code paths answer the same assertions.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import base58
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from triport import (
    AsyncConsoleClient,
    AuthenticationError,
    Challenge,
    ConsoleClient,
    CreatedKey,
    DefaultKey,
    EmailStartResult,
    Key,
    KeyList,
    Me,
    OkResult,
    RotatedKey,
    SignInResult,
    User,
)

from .redaction import expect, expect_key_secret, redact


def test_email_sign_in_me_and_logout(
    sdk_server: Any, make_console: Callable[..., Any], smtp_sink: Any, email: str
) -> None:
    console = make_console(base_url=sdk_server.base_url)

    started = console.auth.email_start(email.upper())
    assert isinstance(started, EmailStartResult)
    uuid.UUID(started.request_id)
    signed_in = console.auth.email_verify(
        started.request_id, smtp_sink.wait_for_code(email, timeout=10)
    )
    assert isinstance(signed_in, SignInResult)
    user = signed_in.user
    assert isinstance(user, User)
    assert user.email == email
    assert set(redact(console.cookies)) == {"nl_session", "nl_csrf"}

    first = console.auth.me()
    assert isinstance(first, Me)
    assert first.user == user
    assert first.provider == "email"
    assert isinstance(first.default_key, DefaultKey)
    assert first.default_key.created is True
    expect_key_secret(first.default_key.raw)
    expect(str(first.default_key.raw) not in repr(first), "repr() shows the default key's secret")
    assert first.default_key.is_default and first.default_key.scopes == ["*"]

    again = console.auth.me()
    assert again.default_key.id == first.default_key.id
    expect(again.default_key.raw is None, "a later /me repeats the default key's secret")
    assert again.default_key.created is False

    assert console.auth.logout() == OkResult(ok=True)
    assert redact(console.cookies) == {}
    with pytest.raises(AuthenticationError):
        console.auth.me()


def test_keys_list_create_rotate_revoke(
    sdk_server: Any,
    make_console: Callable[..., Any],
    sign_in: Callable[[Any, str], None],
    email: str,
) -> None:
    console = make_console(base_url=sdk_server.base_url)
    sign_in(console, email)
    default_id = console.auth.me().default_key.id

    created = console.keys.create("  ci runner ", scopes=["eth:rpc", "solana:rpc"], rate_limit=-5)
    assert isinstance(created, CreatedKey)
    expect_key_secret(created.raw)
    expect(created.raw not in repr(created), "repr() shows a key secret")
    expect(created.key.key_prefix == created.raw[:16], "key_prefix is not the secret's start")
    assert (created.key.name, created.key.scopes) == ("ci runner", ["eth:rpc", "solana:rpc"])
    assert (created.key.rate_limit, created.key.status, created.key.is_default) == (
        0,
        "active",
        False,
    )
    assert created.key.last_used_at is None

    plain = console.keys.create("plain")
    assert plain.key.scopes == ["*"]

    listed = console.keys.list()
    assert isinstance(listed, KeyList)
    assert all(isinstance(key, Key) for key in listed.keys)
    assert [key.id for key in listed.keys] == [plain.key.id, created.key.id, default_id]

    rotated = console.keys.rotate(created.key.id)
    assert isinstance(rotated, RotatedKey)
    assert rotated.old_id == created.key.id
    expect_key_secret(rotated.raw)
    expect(rotated.raw != created.raw, "rotation kept the secret")
    assert (rotated.new.name, rotated.new.scopes) == (created.key.name, created.key.scopes)
    assert rotated.new.id != created.key.id

    assert console.keys.revoke(rotated.new.id) == OkResult(ok=True)
    assert console.keys.revoke(rotated.new.id) == OkResult(ok=True)  # idempotent
    status = {key.id: key.status for key in console.keys.list().keys}
    assert status[created.key.id] == "revoked"
    assert status[rotated.new.id] == "revoked"
    assert status[plain.key.id] == "active"
    console.auth.logout()


def test_wallet_sign_in_with_a_solana_key(
    sdk_server: Any, make_console: Callable[..., Any]
) -> None:
    wallet = Ed25519PrivateKey.generate()
    raw_key = wallet.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    address = base58.b58encode(raw_key).decode()
    console = make_console(base_url=sdk_server.base_url)

    challenge = console.auth.wallet_challenge(address, "solana")
    assert isinstance(challenge, Challenge)
    assert address in challenge.message
    assert f"Nonce: {challenge.nonce.replace('-', '')}" in challenge.message
    signature = wallet.sign(challenge.message.encode()).hex()
    user = console.auth.wallet_verify(challenge.nonce, address, "solana", signature).user

    assert isinstance(user, User)
    assert user.email is None
    me = console.auth.me()
    assert (me.user.id, me.provider) == (user.id, "wallet")
    console.auth.logout()
    assert redact(console.cookies) == {}


def test_context_managers_close_their_own_http_client_only(sdk_server: Any) -> None:
    with ConsoleClient(base_url=sdk_server.base_url) as console:
        console.auth.logout()  # no session: the server still answers 200
    with pytest.raises(RuntimeError):
        console.auth.logout()

    async def run() -> None:
        async with AsyncConsoleClient(base_url=sdk_server.base_url) as async_console:
            await async_console.auth.logout()
        with pytest.raises(RuntimeError):
            await async_console.auth.logout()

    asyncio.run(run())

    with httpx.Client() as shared:
        with ConsoleClient(base_url=sdk_server.base_url, http_client=shared) as console:
            console.auth.logout()
        assert shared.get(f"{sdk_server.base_url}/healthz").status_code == 200
