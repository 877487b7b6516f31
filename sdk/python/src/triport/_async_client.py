"""The asyncio client: drives the shared operations of ``_core`` with ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
import builtins
from functools import cached_property
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._base_client import BaseConsoleClient
from ._core import Operation, Sleep
from ._models import Challenge, CreatedKey, Key, Me, Passkey, RotatedKey, User

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
    """``console.auth``: sign-in, the current session, and logout."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def email_start(self, email: str) -> str:
        """Mail a 6-digit code to ``email``; returns the ``request_id`` to verify it with."""
        return await self._run(self._core.email_start(email))

    async def email_verify(self, request_id: str, code: str) -> User:
        """Exchange the mailed code for a session (the client keeps its cookies)."""
        return await self._run(self._core.email_verify(request_id, code))

    async def wallet_challenge(self, address: str, chain: str) -> Challenge:
        """Get a message to sign with the wallet of ``address`` (``chain``: evm or solana)."""
        return await self._run(self._core.wallet_challenge(address, chain))

    async def wallet_verify(self, nonce: str, address: str, chain: str, signature: str) -> User:
        """Exchange the signed challenge for a session."""
        return await self._run(self._core.wallet_verify(nonce, address, chain, signature))

    async def passkey_options(self) -> dict[str, Any]:
        """PublicKeyCredentialRequestOptionsJSON for ``navigator.credentials.get()`` (a
        discoverable passkey; the challenge is single-use and valid 5 minutes)."""
        return await self._run(self._core.passkey_options())

    async def passkey_verify(
        self, credential: dict[str, Any], *, sign_out_others: bool = False
    ) -> User:
        """Exchange the authenticator's AuthenticationResponseJSON for a session."""
        return await self._run(self._core.passkey_verify(credential, sign_out_others))

    async def me(self) -> Me:
        """The signed-in user; ``default_key.raw`` is set on the one response that created it."""
        return await self._run(self._core.me())

    async def logout(self, *, deadline: float | None = None) -> None:
        """Revoke the session, retrying until the server confirms it (see ``LogoutFailedError``)."""
        return await self._run(self._core.logout(deadline))


class AsyncKeys:
    """``console.keys``: the API keys of the signed-in user."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def list(self) -> builtins.list[Key]:
        """All keys, active and revoked, newest first."""
        return await self._run(self._core.list_keys())

    async def create(
        self,
        name: str,
        scopes: builtins.list[str] | None = None,
        rate_limit: int | None = None,
    ) -> CreatedKey:
        """Create a key; ``raw`` in the result is the only copy of its secret."""
        return await self._run(self._core.create_key(name, scopes, rate_limit))

    async def revoke(self, id: str) -> None:
        """Revoke a key (idempotent)."""
        return await self._run(self._core.revoke_key(id))

    async def rotate(self, id: str) -> RotatedKey:
        """Revoke a key and create its replacement in one step."""
        return await self._run(self._core.rotate_key(id))


class AsyncPasskeys:
    """``console.passkeys``: the WebAuthn passkeys of the signed-in user."""

    def __init__(self, client: AsyncConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    async def register_options(self) -> dict[str, Any]:
        """PublicKeyCredentialCreationOptionsJSON for ``navigator.credentials.create()``."""
        return await self._run(self._core.passkey_register_options())

    async def register_verify(self, credential: dict[str, Any], name: str | None = None) -> Passkey:
        """Add the passkey the authenticator created (its RegistrationResponseJSON)."""
        return await self._run(self._core.passkey_register_verify(credential, name))

    async def list(self) -> builtins.list[Passkey]:
        """The passkeys, newest first."""
        return await self._run(self._core.list_passkeys())

    async def remove(self, id: str) -> None:
        """Remove a passkey (idempotent); it can no longer sign in."""
        return await self._run(self._core.remove_passkey(id))
