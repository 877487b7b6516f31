"""The asyncio client: drives the shared operations of ``_core`` with ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator
from functools import cached_property
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._base_client import BaseConsoleClient
from ._core import Operation, Sleep, Timeout
from ._models import (
    ActivityEvent,
    ActivityPage,
    Challenge,
    CreatedKey,
    EmailStartResult,
    KeyList,
    Me,
    OkResult,
    Passkey,
    PasskeyList,
    RevokedOthers,
    RotatedKey,
    SessionList,
    SignInResult,
)
from ._wallet import WalletSigner

__all__ = ["AsyncConsoleClient"]

T = TypeVar("T")


class AsyncConsoleClient(BaseConsoleClient[httpx.AsyncClient]):
    """The asyncio twin of :class:`ConsoleClient`: the same arguments and methods, awaited."""

    def _new_http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient()

    @cached_property
    def auth(self) -> AsyncAuth:
        """Sign-in, the current session, and logout."""
        return AsyncAuth(self)

    @cached_property
    def passkeys(self) -> AsyncPasskeys:
        """The WebAuthn passkeys of the signed-in user."""
        return AsyncPasskeys(self)

    @cached_property
    def keys(self) -> AsyncKeys:
        """The API keys of the signed-in user."""
        return AsyncKeys(self)

    @cached_property
    def sessions(self) -> AsyncSessions:
        """Where the user is signed in, and ending those sessions."""
        return AsyncSessions(self)

    @cached_property
    def activity(self) -> AsyncActivity:
        """What happened on the account, newest first."""
        return AsyncActivity(self)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncConsoleClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, operation: Operation[T]) -> T:
        """Perform the I/O an operation asks for until it returns its result."""
        outcome: httpx.Response | httpx.TransportError | None = None
        try:
            while True:
                step = operation.send(outcome)
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                    outcome = None
                    continue
                try:
                    outcome = await self._http.send(step)
                except httpx.TransportError as exc:
                    outcome = exc
        except StopIteration as stop:
            result: T = stop.value
            return result


class AsyncAuth:
    """``console.auth``: sign-in, the current session, and logout.

    Every call takes ``timeout=`` (seconds or an ``httpx.Timeout``) to override the client's.
    """

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core
        self.wallet = AsyncWalletAuth(client)
        """``console.auth.wallet``: sign in with a wallet key held by this program."""

    async def email_start(self, email: str, *, timeout: Timeout | None = None) -> EmailStartResult:
        """Mail a 6-digit code to ``email``; pass the result's ``request_id`` to email_verify."""
        return await self._run(self._core.email_start(email, timeout))

    async def email_verify(
        self,
        request_id: str,
        code: str,
        *,
        sign_out_others: bool = False,
        timeout: Timeout | None = None,
    ) -> SignInResult:
        """Exchange the mailed code for a session (the client keeps its cookies).

        ``sign_out_others=True`` also ends every other session of the user (a lost device).
        """
        return await self._run(self._core.email_verify(request_id, code, sign_out_others, timeout))

    async def wallet_challenge(
        self, address: str, chain: str, *, timeout: Timeout | None = None
    ) -> Challenge:
        """Get a message to sign with the wallet of ``address`` (``chain``: evm or solana)."""
        return await self._run(self._core.wallet_challenge(address, chain, timeout))

    async def wallet_verify(
        self,
        nonce: str,
        address: str,
        chain: str,
        signature: str,
        *,
        sign_out_others: bool = False,
        timeout: Timeout | None = None,
    ) -> SignInResult:
        """Exchange the signed challenge for a session (``sign_out_others`` as in email_verify)."""
        operation = self._core.wallet_verify(
            nonce, address, chain, signature, sign_out_others, timeout
        )
        return await self._run(operation)

    async def passkey_options(self, *, timeout: Timeout | None = None) -> dict[str, Any]:
        """PublicKeyCredentialRequestOptionsJSON for ``navigator.credentials.get()`` (a
        discoverable passkey; the challenge is single-use and valid 5 minutes)."""
        return await self._run(self._core.passkey_options(timeout))

    async def passkey_verify(
        self,
        credential: dict[str, Any],
        *,
        sign_out_others: bool = False,
        timeout: Timeout | None = None,
    ) -> SignInResult:
        """Exchange the authenticator's AuthenticationResponseJSON for a session."""
        op = self._core.passkey_verify(credential, sign_out_others, timeout)
        return await self._run(op)

    async def me(self, *, timeout: Timeout | None = None) -> Me:
        """The signed-in user; ``default_key.raw`` is set on the one response that created it."""
        return await self._run(self._core.me(timeout))

    def google_start_url(self, *, sign_out_others: bool = False) -> str:
        """Where to send the browser to start Google sign-in (a full-page navigation).

        ``sign_out_others=True``: the sign-in also ends every other session of the user.
        """
        return self._core.google_start_url(sign_out_others)

    async def logout(
        self, *, deadline: float | None = None, timeout: Timeout | None = None
    ) -> OkResult:
        """Revoke the session, retrying until the server confirms it (see ``LogoutFailedError``).

        ``deadline`` (seconds) bounds all attempts together, ``timeout`` each one.
        """
        return await self._run(self._core.logout(deadline, timeout))


class AsyncWalletAuth:
    """``console.auth.wallet``: sign in with a wallet key held by this program."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def sign_in(
        self,
        signer: WalletSigner,
        *,
        domain: str | None = None,
        sign_out_others: bool = False,
        timeout: Timeout | None = None,
    ) -> SignInResult:
        """Sign in with ``signer``: an eth-account ``LocalAccount``, a PyNaCl ``SigningKey``, or
        a :class:`triport.Wallet`. The SDK asks for a challenge, checks that the message is a
        standard sign-in for this address (and for ``domain``, the console's host, if given),
        signs it locally and trades the signature for a session (``timeout=`` applies to each
        of the two calls; ``sign_out_others=True`` ends every other session, spec §2.9). Raises
        :class:`triport.WalletMessageError` (nothing signed) for any other message.
        """
        return await self._run(self._core.wallet_sign_in(signer, domain, sign_out_others, timeout))


class AsyncKeys:
    """``console.keys``: the API keys of the signed-in user (``timeout=`` as in ``auth``)."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def list(self, *, timeout: Timeout | None = None) -> KeyList:
        """All keys, active and revoked, newest first, in ``.keys``."""
        return await self._run(self._core.list_keys(timeout))

    async def create(
        self,
        name: str,
        scopes: builtins.list[str] | None = None,
        rate_limit: int | None = None,
        *,
        timeout: Timeout | None = None,
    ) -> CreatedKey:
        """Create a key; ``raw`` in the result is the only copy of its secret."""
        return await self._run(self._core.create_key(name, scopes, rate_limit, timeout))

    async def revoke(self, id: str, *, timeout: Timeout | None = None) -> OkResult:
        """Revoke a key (idempotent: an already revoked key is a success too)."""
        return await self._run(self._core.revoke_key(id, timeout))

    async def rotate(self, id: str, *, timeout: Timeout | None = None) -> RotatedKey:
        """Revoke a key and create its replacement in one step."""
        return await self._run(self._core.rotate_key(id, timeout))


class AsyncSessions:
    """``console.sessions``: the user's live sessions (``timeout=`` as in ``auth``)."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def list(self, *, timeout: Timeout | None = None) -> SessionList:
        """Live sessions in ``.sessions``: the current one (``current``) first, then newest."""
        return await self._run(self._core.list_sessions(timeout))

    async def revoke(self, id: str, *, timeout: Timeout | None = None) -> OkResult:
        """End one session (idempotent). Ending this client's own session signs it out."""
        return await self._run(self._core.revoke_session(id, timeout))

    async def revoke_others(self, *, timeout: Timeout | None = None) -> RevokedOthers:
        """End every other live session of the user; ``.revoked`` counts them."""
        return await self._run(self._core.revoke_other_sessions(timeout))


class AsyncActivity:
    """``console.activity``: account events, newest first, kept 90 days."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def list(
        self,
        *,
        limit: int | None = None,
        before: str | None = None,
        timeout: Timeout | None = None,
    ) -> ActivityPage:
        """One page (``limit`` 1-100, default 50); pass its ``next`` as ``before`` for the next."""
        return await self._run(self._core.list_activity(limit, before, timeout))

    async def iterate(
        self,
        *,
        limit: int | None = None,
        before: str | None = None,
        timeout: Timeout | None = None,
    ) -> AsyncIterator[ActivityEvent]:
        """Every event from ``before`` (default: the newest) on, fetching ``limit`` at a time."""
        cursor = before
        while True:
            page = await self.list(limit=limit, before=cursor, timeout=timeout)
            for event in page.events:
                yield event
            if page.next is None:
                return
            cursor = page.next

    def __aiter__(self) -> AsyncIterator[ActivityEvent]:
        """``async for event in console.activity``: every event, newest first."""
        return self.iterate()


class AsyncPasskeys:
    """``console.passkeys``: the WebAuthn passkeys of the signed-in user."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def register_options(self, *, timeout: Timeout | None = None) -> dict[str, Any]:
        """PublicKeyCredentialCreationOptionsJSON for ``navigator.credentials.create()``."""
        return await self._run(self._core.passkey_register_options(timeout))

    async def register_verify(
        self,
        credential: dict[str, Any],
        name: str | None = None,
        *,
        timeout: Timeout | None = None,
    ) -> Passkey:
        """Add the passkey the authenticator created (its RegistrationResponseJSON)."""
        return await self._run(self._core.passkey_register_verify(credential, name, timeout))

    async def list(self, *, timeout: Timeout | None = None) -> PasskeyList:
        """The passkeys in ``.passkeys``, newest first."""
        return await self._run(self._core.list_passkeys(timeout))

    async def remove(self, id: str, *, timeout: Timeout | None = None) -> OkResult:
        """Remove a passkey (idempotent); it can no longer sign in."""
        return await self._run(self._core.remove_passkey(id, timeout))
