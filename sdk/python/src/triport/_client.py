"""The blocking client: drives the shared operations of ``_core`` with ``httpx.Client``."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator
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

    @cached_property
    def sessions(self) -> Sessions:
        """Where the user is signed in, and ending those sessions."""
        return Sessions(self)

    @cached_property
    def activity(self) -> Activity:
        """What happened on the account, newest first."""
        return Activity(self)

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
    """``console.auth``: sign-in, the current session, and logout.

    Every call takes ``timeout=`` (seconds or an ``httpx.Timeout``) to override the client's.
    """

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core
        self.wallet = WalletAuth(client)
        """``console.auth.wallet``: sign in with a wallet key held by this program."""

    def email_start(self, email: str, *, timeout: Timeout | None = None) -> EmailStartResult:
        """Mail a 6-digit code to ``email``; pass the result's ``request_id`` to email_verify."""
        return self._run(self._core.email_start(email, timeout))

    def email_verify(
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
        return self._run(self._core.email_verify(request_id, code, sign_out_others, timeout))

    def wallet_challenge(
        self, address: str, chain: str, *, timeout: Timeout | None = None
    ) -> Challenge:
        """Get a message to sign with the wallet of ``address`` (``chain``: evm or solana)."""
        return self._run(self._core.wallet_challenge(address, chain, timeout))

    def wallet_verify(
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
        return self._run(operation)

    def passkey_options(self, *, timeout: Timeout | None = None) -> dict[str, Any]:
        """PublicKeyCredentialRequestOptionsJSON for ``navigator.credentials.get()`` (a
        discoverable passkey; the challenge is single-use and valid 5 minutes)."""
        return self._run(self._core.passkey_options(timeout))

    def passkey_verify(
        self,
        credential: dict[str, Any],
        *,
        sign_out_others: bool = False,
        timeout: Timeout | None = None,
    ) -> SignInResult:
        """Exchange the authenticator's AuthenticationResponseJSON for a session."""
        op = self._core.passkey_verify(credential, sign_out_others, timeout)
        return self._run(op)

    def me(self, *, timeout: Timeout | None = None) -> Me:
        """The signed-in user; ``default_key.raw`` is set on the one response that created it."""
        return self._run(self._core.me(timeout))

    def google_start_url(self, *, sign_out_others: bool = False) -> str:
        """Where to send the browser to start Google sign-in (a full-page navigation).

        ``sign_out_others=True``: the sign-in also ends every other session of the user.
        """
        return self._core.google_start_url(sign_out_others)

    def logout(self, *, deadline: float | None = None, timeout: Timeout | None = None) -> OkResult:
        """Revoke the session, retrying until the server confirms it (see ``LogoutFailedError``).

        ``deadline`` (seconds) bounds all attempts together, ``timeout`` each one.
        """
        return self._run(self._core.logout(deadline, timeout))


class WalletAuth:
    """``console.auth.wallet``: sign in with a wallet key held by this program."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def sign_in(
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
        return self._run(self._core.wallet_sign_in(signer, domain, sign_out_others, timeout))


class Keys:
    """``console.keys``: the API keys of the signed-in user (``timeout=`` as in ``auth``)."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def list(self, *, timeout: Timeout | None = None) -> KeyList:
        """All keys, active and revoked, newest first, in ``.keys``."""
        return self._run(self._core.list_keys(timeout))

    def create(
        self,
        name: str,
        scopes: builtins.list[str] | None = None,
        rate_limit: int | None = None,
        *,
        timeout: Timeout | None = None,
    ) -> CreatedKey:
        """Create a key; ``raw`` in the result is the only copy of its secret."""
        return self._run(self._core.create_key(name, scopes, rate_limit, timeout))

    def revoke(self, id: str, *, timeout: Timeout | None = None) -> OkResult:
        """Revoke a key (idempotent: an already revoked key is a success too)."""
        return self._run(self._core.revoke_key(id, timeout))

    def rotate(self, id: str, *, timeout: Timeout | None = None) -> RotatedKey:
        """Revoke a key and create its replacement in one step."""
        return self._run(self._core.rotate_key(id, timeout))


class Sessions:
    """``console.sessions``: the user's live sessions (``timeout=`` as in ``auth``)."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def list(self, *, timeout: Timeout | None = None) -> SessionList:
        """Live sessions in ``.sessions``: the current one (``current``) first, then newest."""
        return self._run(self._core.list_sessions(timeout))

    def revoke(self, id: str, *, timeout: Timeout | None = None) -> OkResult:
        """End one session (idempotent). Ending this client's own session signs it out."""
        return self._run(self._core.revoke_session(id, timeout))

    def revoke_others(self, *, timeout: Timeout | None = None) -> RevokedOthers:
        """End every other live session of the user; ``.revoked`` counts them."""
        return self._run(self._core.revoke_other_sessions(timeout))


class Activity:
    """``console.activity``: account events, newest first, kept 90 days."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def list(
        self,
        *,
        limit: int | None = None,
        before: str | None = None,
        timeout: Timeout | None = None,
    ) -> ActivityPage:
        """One page (``limit`` 1-100, default 50); pass its ``next`` as ``before`` for the next."""
        return self._run(self._core.list_activity(limit, before, timeout))

    def iterate(
        self,
        *,
        limit: int | None = None,
        before: str | None = None,
        timeout: Timeout | None = None,
    ) -> Iterator[ActivityEvent]:
        """Every event from ``before`` (default: the newest) on, fetching ``limit`` at a time."""
        cursor = before
        while True:
            page = self.list(limit=limit, before=cursor, timeout=timeout)
            yield from page.events
            if page.next is None:
                return
            cursor = page.next

    def __iter__(self) -> Iterator[ActivityEvent]:
        """``for event in console.activity``: every event, newest first."""
        return self.iterate()


class Passkeys:
    """``console.passkeys``: the WebAuthn passkeys of the signed-in user."""

    def __init__(self, client: ConsoleClient) -> None:
        self._run = client._run
        self._core = client._core

    def register_options(self, *, timeout: Timeout | None = None) -> dict[str, Any]:
        """PublicKeyCredentialCreationOptionsJSON for ``navigator.credentials.create()``."""
        return self._run(self._core.passkey_register_options(timeout))

    def register_verify(
        self,
        credential: dict[str, Any],
        name: str | None = None,
        *,
        timeout: Timeout | None = None,
    ) -> Passkey:
        """Add the passkey the authenticator created (its RegistrationResponseJSON)."""
        return self._run(self._core.passkey_register_verify(credential, name, timeout))

    def list(self, *, timeout: Timeout | None = None) -> PasskeyList:
        """The passkeys in ``.passkeys``, newest first."""
        return self._run(self._core.list_passkeys(timeout))

    def remove(self, id: str, *, timeout: Timeout | None = None) -> OkResult:
        """Remove a passkey (idempotent); it can no longer sign in."""
        return self._run(self._core.remove_passkey(id, timeout))
