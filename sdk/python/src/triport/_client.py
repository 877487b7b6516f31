"""The blocking client: drives the shared operations of ``_core`` with ``httpx.Client``."""

from __future__ import annotations

import builtins
import time
from functools import cached_property
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._base_client import BaseConsoleClient
from ._core import Operation, Sleep
from ._models import Challenge, CreatedKey, Key, Me, Passkey, RotatedKey, User

__all__ = ["ConsoleClient"]

T = TypeVar("T")


class ConsoleClient(BaseConsoleClient[httpx.Client]):
    """The blocking console client; see :class:`BaseConsoleClient` for its arguments."""

    def _new_http_client(self) -> httpx.Client:
        return httpx.Client()

    @cached_property
    def auth(self) -> Auth:
        """Sign-in, the current session, and logout."""
        return Auth(self)

    @cached_property
    def passkeys(self) -> Passkeys:
        """The WebAuthn passkeys of the signed-in user."""
        return Passkeys(self)

    @cached_property
    def keys(self) -> Keys:
        """The API keys of the signed-in user."""
        return Keys(self)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ConsoleClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, operation: Operation[T]) -> T:
        """Perform the I/O an operation asks for until it returns its result."""
        outcome: httpx.Response | httpx.TransportError | None = None
        try:
            while True:
                step = operation.send(outcome)
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    outcome = None
                    continue
                try:
                    outcome = self._http.send(step)
                except httpx.TransportError as exc:
                    outcome = exc
        except StopIteration as stop:
            result: T = stop.value
            return result


class Auth:
    """``console.auth``: sign-in, the current session, and logout."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def email_start(self, email: str) -> str:
        """Mail a 6-digit code to ``email``; returns the ``request_id`` to verify it with."""
        return self._run(self._core.email_start(email))

    def email_verify(self, request_id: str, code: str) -> User:
        """Exchange the mailed code for a session (the client keeps its cookies)."""
        return self._run(self._core.email_verify(request_id, code))

    def wallet_challenge(self, address: str, chain: str) -> Challenge:
        """Get a message to sign with the wallet of ``address`` (``chain``: evm or solana)."""
        return self._run(self._core.wallet_challenge(address, chain))

    def wallet_verify(self, nonce: str, address: str, chain: str, signature: str) -> User:
        """Exchange the signed challenge for a session."""
        return self._run(self._core.wallet_verify(nonce, address, chain, signature))

    def passkey_options(self) -> dict[str, Any]:
        """PublicKeyCredentialRequestOptionsJSON for ``navigator.credentials.get()`` (a
        discoverable passkey; the challenge is single-use and valid 5 minutes)."""
        return self._run(self._core.passkey_options())

    def passkey_verify(self, credential: dict[str, Any], *, sign_out_others: bool = False) -> User:
        """Exchange the authenticator's AuthenticationResponseJSON for a session."""
        return self._run(self._core.passkey_verify(credential, sign_out_others))

    def me(self) -> Me:
        """The signed-in user; ``default_key.raw`` is set on the one response that created it."""
        return self._run(self._core.me())

    def logout(self, *, deadline: float | None = None) -> None:
        """Revoke the session, retrying until the server confirms it (see ``LogoutFailedError``)."""
        return self._run(self._core.logout(deadline))


class Keys:
    """``console.keys``: the API keys of the signed-in user."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def list(self) -> builtins.list[Key]:
        """All keys, active and revoked, newest first."""
        return self._run(self._core.list_keys())

    def create(
        self,
        name: str,
        scopes: builtins.list[str] | None = None,
        rate_limit: int | None = None,
    ) -> CreatedKey:
        """Create a key; ``raw`` in the result is the only copy of its secret."""
        return self._run(self._core.create_key(name, scopes, rate_limit))

    def revoke(self, id: str) -> None:
        """Revoke a key (idempotent)."""
        return self._run(self._core.revoke_key(id))

    def rotate(self, id: str) -> RotatedKey:
        """Revoke a key and create its replacement in one step."""
        return self._run(self._core.rotate_key(id))


class Passkeys:
    """``console.passkeys``: the WebAuthn passkeys of the signed-in user."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def register_options(self) -> dict[str, Any]:
        """PublicKeyCredentialCreationOptionsJSON for ``navigator.credentials.create()``."""
        return self._run(self._core.passkey_register_options())

    def register_verify(self, credential: dict[str, Any], name: str | None = None) -> Passkey:
        """Add the passkey the authenticator created (its RegistrationResponseJSON)."""
        return self._run(self._core.passkey_register_verify(credential, name))

    def list(self) -> builtins.list[Passkey]:
        """The passkeys, newest first."""
        return self._run(self._core.list_passkeys())

    def remove(self, id: str) -> None:
        """Remove a passkey (idempotent); it can no longer sign in."""
        return self._run(self._core.remove_passkey(id))
