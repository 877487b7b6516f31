"""Wallet challenges in the store, the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from tests.store.test_store import new_session, run
from triport_console.models import Identity, WalletChallenge
from triport_console.store import Store


def challenge(expires_in: timedelta = timedelta(minutes=5)) -> WalletChallenge:
    now = datetime.now(UTC)
    address = "0x" + secrets.token_hex(20)
    return WalletChallenge(
        str(uuid.uuid4()), "evm", address, f"sign in as {address}", now, now + expires_in
    )


def wallet(issued: WalletChallenge) -> Identity:
    return Identity("wallet", f"{issued.chain}:{issued.address}")


def test_a_challenge_is_found_until_it_is_burned_by_the_first_sign_in(database_url):
    async def scenario(store: Store) -> None:
        issued = challenge()
        await store.create_wallet_challenge(issued)
        found = await store.find_wallet_challenge(issued.nonce, datetime.now(UTC))
        assert found is not None
        assert (found.chain, found.address, found.message) == (
            issued.chain,
            issued.address,
            issued.message,
        )
        signed_in = await store.complete_wallet_login(issued.nonce, wallet(issued), new_session())
        assert signed_in is not None
        user = signed_in.user
        assert user.provider == "wallet" and user.email is None
        assert await store.find_wallet_challenge(issued.nonce, datetime.now(UTC)) is None
        again = await store.complete_wallet_login(issued.nonce, wallet(issued), new_session())
        assert again is None

    run(database_url, scenario)


def test_an_expired_or_unknown_challenge_signs_nobody_in(database_url):
    async def scenario(store: Store) -> None:
        expired = challenge(expires_in=timedelta(seconds=-1))
        await store.create_wallet_challenge(expired)
        assert await store.find_wallet_challenge(expired.nonce, datetime.now(UTC)) is None
        assert (
            await store.complete_wallet_login(expired.nonce, wallet(expired), new_session()) is None
        )
        unknown = str(uuid.uuid4())
        assert await store.find_wallet_challenge(unknown, datetime.now(UTC)) is None
        assert await store.complete_wallet_login(unknown, wallet(expired), new_session()) is None

    run(database_url, scenario)


def test_concurrent_completions_of_one_nonce_sign_in_once(database_url):
    async def scenario(store: Store) -> None:
        issued = challenge()
        await store.create_wallet_challenge(issued)
        users = await asyncio.gather(
            *(
                store.complete_wallet_login(issued.nonce, wallet(issued), new_session())
                for _ in range(8)
            )
        )
        assert sum(user is not None for user in users) == 1

    run(database_url, scenario)


def test_concurrent_first_sign_ins_of_one_wallet_meet_on_one_user(database_url):
    """A wallet has no email to meet on: the identity itself must serialise first sign-ins."""

    async def scenario(store: Store) -> None:
        first = challenge()
        others = [
            WalletChallenge(
                str(uuid.uuid4()),
                first.chain,
                first.address,
                first.message,
                first.issued_at,
                first.expires_at,
            )
            for _ in range(7)
        ]
        for issued in (first, *others):
            await store.create_wallet_challenge(issued)
        users = await asyncio.gather(
            *(
                store.complete_wallet_login(issued.nonce, wallet(first), new_session())
                for issued in (first, *others)
            )
        )
        assert all(user is not None for user in users)
        assert len({signed_in.user.id for signed_in in users if signed_in is not None}) == 1

    run(database_url, scenario)
