"""The store interface, the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from triport_console.models import Identity, NewSession
from triport_console.store import RevokeOutcome, Store, open_store

T = TypeVar("T")


def run(database_url: str, scenario: Callable[[Store], Awaitable[T]], timeout: float = 2.0) -> T:
    async def main() -> T:
        store = open_store(database_url, timeout)
        await store.open()
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(main())


def new_session(expires_in: timedelta = timedelta(days=1)) -> NewSession:
    now = datetime.now(UTC)
    csrf = secrets.token_urlsafe(32)
    session = NewSession(
        token_hash=hashlib.sha256(secrets.token_bytes(32)).digest(),
        csrf_hash=hashlib.sha256(csrf.encode()).digest(),
        created_at=now,
        expires_at=now + expires_in,
    )
    return session


def identity() -> Identity:
    address = f"store-{secrets.token_hex(5)}@example.com"
    return Identity("email", address, email=address)


def test_revoke_outcomes(database_url):
    async def scenario(store: Store) -> None:
        now = datetime.now(UTC)
        session = new_session()
        await store.sign_in(identity(), session)
        wrong = hashlib.sha256(b"other").digest()
        assert (
            await store.revoke_session(session.token_hash, wrong, now) is RevokeOutcome.CSRF_UNBOUND
        )
        assert await store.find_live_session(session.token_hash, now) is not None
        assert (
            await store.revoke_session(session.token_hash, session.csrf_hash, now)
            is RevokeOutcome.REVOKED
        )
        assert (
            await store.revoke_session(session.token_hash, session.csrf_hash, now)
            is RevokeOutcome.NOTHING_LIVE
        )
        assert await store.find_live_session(session.token_hash, now) is None
        unknown = hashlib.sha256(b"unknown").digest()
        assert await store.revoke_session(unknown, wrong, now) is RevokeOutcome.NOTHING_LIVE

    run(database_url, scenario)


def test_expired_session_revokes_without_binding(database_url):
    async def scenario(store: Store) -> None:
        session = new_session(expires_in=timedelta(seconds=-1))
        await store.sign_in(identity(), session)
        wrong = hashlib.sha256(b"other").digest()
        outcome = await store.revoke_session(session.token_hash, wrong, datetime.now(UTC))
        assert outcome is RevokeOutcome.REVOKED

    run(database_url, scenario)


def test_extend_never_revives_a_revoked_session(database_url):
    async def scenario(store: Store) -> None:
        now = datetime.now(UTC)
        session = new_session()
        await store.sign_in(identity(), session)
        assert await store.extend_session(session.token_hash, now + timedelta(days=30), now)
        await store.revoke_session(session.token_hash, session.csrf_hash, now)
        assert not await store.extend_session(session.token_hash, now + timedelta(days=60), now)
        assert await store.find_live_session(session.token_hash, now) is None

    run(database_url, scenario)


def test_many_concurrent_revokes_all_commit(database_url):
    """Concurrent writes (batched into group commits on SQLite) each get their own outcome."""

    async def scenario(store: Store) -> None:
        sessions = [new_session() for _ in range(300)]
        for session in sessions:
            await store.sign_in(identity(), session)
        now = datetime.now(UTC)
        outcomes = await asyncio.gather(
            *(store.revoke_session(s.token_hash, s.csrf_hash, now) for s in sessions),
            *(store.revoke_session(s.token_hash, b"x" * 32, now) for s in sessions[:20]),
        )
        assert outcomes[:300] == [RevokeOutcome.REVOKED] * 300
        assert set(outcomes[300:]) <= {RevokeOutcome.NOTHING_LIVE, RevokeOutcome.CSRF_UNBOUND}
        later = datetime.now(UTC)
        assert not any([await store.find_live_session(s.token_hash, later) for s in sessions])

    # This proves outcomes, not speed: 320 revokes queue on 10 connections (PostgreSQL), each a
    # commit with its activity event, and a loaded CI machine can hold the queue past the 2 s
    # production acquire timeout. A timeout is a 500 that keeps the cookie (tests/http/
    # test_store_failures.py); here every revoke must get through and be counted.
    run(database_url, scenario, timeout=30.0)


def test_one_user_per_identity_and_email_links_providers(database_url):
    async def scenario(store: Store) -> None:
        who = identity()
        first = (await store.sign_in(who, new_session())).user
        again = (await store.sign_in(who, new_session())).user
        linked = (
            await store.sign_in(
                Identity("google", "sub-" + secrets.token_hex(4), email=who.email), new_session()
            )
        ).user
        assert first.id == again.id == linked.id
        assert first.provider == "email"

    run(database_url, scenario)


def test_concurrent_first_sign_ins_of_one_address_meet_on_one_user(database_url):
    async def scenario(store: Store) -> None:
        who = identity()
        users = await asyncio.gather(*(store.sign_in(who, new_session()) for _ in range(10)))
        assert len({signed_in.user.id for signed_in in users}) == 1

    run(database_url, scenario)
