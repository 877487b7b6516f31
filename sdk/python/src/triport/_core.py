"""Everything both clients share, written once and free of I/O.

Each console operation is a generator: it yields a :class:`httpx.Request` to send or a
:class:`Sleep` to wait, receives the outcome (a response, a transport error, or ``None`` after a
sleep) and finally returns the typed result. ``ConsoleClient`` and ``AsyncConsoleClient`` only
drive these generators with blocking or awaited I/O, so request building, response decoding,
error mapping, cookie handling and the retry rules cannot drift apart between them.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeAlias, TypeVar
from urllib.parse import quote, urlencode

import httpx

from ._cookies import SessionCookies
from ._exceptions import (
    APIConnectionError,
    LogoutFailedError,
    RateLimitError,
    TriportError,
    error_from_response,
)
from ._models import (
    JSON,
    ActivityPage,
    Challenge,
    CreatedKey,
    EmailStartResult,
    KeyList,
    Me,
    OkResult,
    Passkey,
    PasskeyList,
    ResponseShapeError,
    RevokedOthers,
    RotatedKey,
    SessionList,
    SignInResult,
)
from ._retry import (
    MIN_ATTEMPT_SECONDS,
    backoff_delay,
    is_retryable_transport_error,
    retry_delay,
    transport_retry_delay,
)
from ._version import __version__
from ._wallet import WalletSigner, as_wallet, check_message

DEFAULT_BASE_URL = "https://api.triport.io"
DEFAULT_TIMEOUT = 10.0
BASE_URL_ENV = "TRIPORT_BASE_URL"
SESSION_FILE_ENV = "TRIPORT_SESSION_FILE"
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

logger = logging.getLogger("triport")

T = TypeVar("T")


@dataclass(frozen=True)
class Sleep:
    """Ask the driver to wait before the next request."""

    seconds: float


Step: TypeAlias = httpx.Request | Sleep
Outcome: TypeAlias = httpx.Response | httpx.TransportError | None
Operation: TypeAlias = Generator[Step, Outcome, T]
# A per-request timeout: seconds, or an ``httpx.Timeout`` for its connect/read/write/pool parts.
Timeout: TypeAlias = float | httpx.Timeout


def as_timeout(timeout: Timeout) -> httpx.Timeout:
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


def resolve_base_url(base_url: str | None) -> str:
    return (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def resolve_session_file(
    session_file: str | os.PathLike[str] | None,
) -> str | os.PathLike[str] | None:
    return session_file if session_file is not None else os.environ.get(SESSION_FILE_ENV) or None


def _decode(response: httpx.Response) -> JSON:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TriportError(
            "The server answered with a body that is not a JSON object.",
            status=response.status_code,
            code="invalid_response",
            request_id=response.headers.get("x-request-id"),
            headers=response.headers,
        )
    return data


def _error(response: httpx.Response) -> TriportError:
    return error_from_response(response.status_code, response.content, response.headers)


class ConsoleCore:
    """Configuration, session cookies and the operations of the console API."""

    def __init__(
        self,
        base_url: str | None,
        *,
        timeout: Timeout,
        max_retries: int,
        logout_deadline: float,
        session_file: str | os.PathLike[str] | None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if logout_deadline <= 0:
            raise ValueError("logout_deadline must be > 0")
        self.base_url = resolve_base_url(base_url)
        self.timeout = as_timeout(timeout)
        self.max_retries = max_retries
        self.logout_deadline = logout_deadline
        self.cookies = SessionCookies(self.base_url, resolve_session_file(session_file))
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret

    # -- request building and decoding ------------------------------------------------------

    def build(
        self,
        method: str,
        path: str,
        body: JSON | None = None,
        *,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Request:
        headers = {
            "Accept": "application/json",
            "User-Agent": f"triport-sdk/{__version__} httpx/{httpx.__version__}",
        }
        cookie = self.cookies.header()
        if cookie:
            headers["Cookie"] = cookie
        csrf = self.cookies.csrf_token()
        if method in MUTATING_METHODS and csrf:
            headers["X-CSRF-Token"] = csrf
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body).encode()
        return httpx.Request(
            method,
            self.base_url + path,
            headers=headers,
            content=content,
            extensions={"timeout": (timeout or self.timeout).as_dict()},
        )

    def call(
        self, method: str, path: str, body: JSON | None = None, timeout: Timeout | None = None
    ) -> Operation[JSON]:
        """One API call; retried only when that cannot do anything twice (GET, DELETE).

        ``timeout`` overrides the client's timeout for each attempt of this call.
        """
        each = as_timeout(timeout) if timeout is not None else None
        attempt = 0
        while True:
            outcome = yield self.build(method, path, body, timeout=each)
            if isinstance(outcome, httpx.Response):
                self.cookies.update(outcome.headers.get_list("set-cookie"))
                if outcome.is_success:
                    return _decode(outcome)
                error: TriportError = _error(outcome)
                retry_after = error.retry_after if isinstance(error, RateLimitError) else None
                delay = retry_delay(method, outcome.status_code, retry_after, attempt, self._rng)
            else:
                error = _connection_error(f"{method} {path}", outcome)
                delay = transport_retry_delay(method, outcome, attempt, self._rng)
            if delay is None or attempt >= self.max_retries:
                raise error
            attempt += 1
            logger.info(
                "%s %s failed (%s); retry %d in %.2fs", method, path, error.code, attempt, delay
            )
            yield Sleep(delay)

    def typed(
        self,
        method: str,
        path: str,
        body: JSON | None,
        parse: Callable[[JSON], T],
        timeout: Timeout | None = None,
    ) -> Operation[T]:
        """``call`` then ``parse``; a body of the wrong shape becomes ``invalid_response``."""
        data = yield from self.call(method, path, body, timeout)
        try:
            return parse(data)
        except ResponseShapeError as exc:
            raise TriportError(
                f"Unexpected response to {method} {path}: {exc}",
                status=200,
                code="invalid_response",
            ) from exc

    # -- logout: the seed's retry rule ------------------------------------------------------

    def logout(
        self, deadline: float | None = None, timeout: Timeout | None = None
    ) -> Operation[OkResult]:
        """Retry until a 200 proves the session row revoked, or until ``deadline`` seconds pass.

        Only a 200 forgets the cookies: after ``logout_failed``, a timeout or a lost connection
        the session may still be live, and the cookie is what lets a later call revoke it.
        ``timeout`` bounds each attempt (never beyond the deadline).
        """
        each = as_timeout(timeout) if timeout is not None else self.timeout
        limit = self.logout_deadline if deadline is None else deadline
        if limit <= 0:
            raise ValueError("deadline must be > 0")
        ends_at = time.monotonic() + limit
        attempts = 0
        while True:
            # No single attempt may outlive the deadline.
            timeout = _capped(each, ends_at - time.monotonic())
            outcome = yield self.build("POST", "/v1/auth/logout", timeout=timeout)
            attempts += 1
            floor = 0.0
            # A failed attempt's Set-Cookie is ignored: only a 200 may make the client forget.
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    self.cookies.clear()
                    # A 200 is final whatever its body (a proxy may rewrite it): the row is revoked.
                    return OkResult(ok=True)
                error = _error(outcome)
                # A 403 (CSRF) or another client error cannot be fixed by repeating the request.
                if outcome.status_code < 500 and not isinstance(error, RateLimitError):
                    raise error
                if isinstance(error, RateLimitError):
                    floor = error.retry_after or 0.0
            elif is_retryable_transport_error(outcome):
                error = _connection_error("logout", outcome)
            else:
                raise _connection_error("logout", outcome) from outcome
            # The last attempt starts just before the deadline rather than being skipped, unless
            # the server asked (Retry-After) for a longer wait than the time that is left.
            time_left = ends_at - time.monotonic() - MIN_ATTEMPT_SECONDS
            delay = min(max(backoff_delay(attempts - 1, self._rng), floor), time_left)
            if delay < 0 or floor > time_left:
                failure = LogoutFailedError(
                    f"The session was not revoked within {limit:g}s ({attempts} attempts, last: "
                    f"{error}); the session cookie is kept: call logout() again.",
                    status=error.status,
                    code="logout_failed",
                    request_id=error.request_id,
                    headers=error.headers,
                )
                failure.attempts = attempts
                raise failure from (outcome if isinstance(outcome, Exception) else error)
            logger.info(
                "logout attempt %d failed (%s); retry in %.2fs", attempts, error.code, delay
            )
            yield Sleep(delay)

    # -- the console operations -------------------------------------------------------------

    def email_start(self, email: str, timeout: Timeout | None) -> Operation[EmailStartResult]:
        body = {"email": email}
        return self.typed("POST", "/v1/auth/email/start", body, EmailStartResult.from_json, timeout)

    def email_verify(
        self, request_id: str, code: str, sign_out_others: bool, timeout: Timeout | None
    ) -> Operation[SignInResult]:
        body = _sign_in_body({"request_id": request_id, "code": code}, sign_out_others)
        return self.typed("POST", "/v1/auth/email/verify", body, SignInResult.from_json, timeout)

    def wallet_challenge(
        self, address: str, chain: str, timeout: Timeout | None
    ) -> Operation[Challenge]:
        body = {"address": address, "chain": chain}
        return self.typed("POST", "/v1/auth/wallet/challenge", body, Challenge.from_json, timeout)

    def wallet_verify(
        self,
        nonce: str,
        address: str,
        chain: str,
        signature: str,
        sign_out_others: bool,
        timeout: Timeout | None,
    ) -> Operation[SignInResult]:
        proof = {"nonce": nonce, "address": address, "chain": chain, "signature": signature}
        body = _sign_in_body(proof, sign_out_others)
        return self.typed("POST", "/v1/auth/wallet/verify", body, SignInResult.from_json, timeout)

    def wallet_sign_in(
        self,
        signer: WalletSigner,
        domain: str | None,
        sign_out_others: bool,
        timeout: Timeout | None,
    ) -> Operation[SignInResult]:
        """Challenge, check the message names this signer, sign it locally, verify."""
        wallet = as_wallet(signer)
        challenge = yield from self.wallet_challenge(wallet.address, wallet.chain, timeout)
        check_message(wallet, challenge.nonce, challenge.message, domain)
        signature = wallet.sign(challenge.message)
        signed_in = yield from self.wallet_verify(
            challenge.nonce, wallet.address, wallet.chain, signature, sign_out_others, timeout
        )
        return signed_in

    def me(self, timeout: Timeout | None) -> Operation[Me]:
        return self.typed("GET", "/v1/auth/me", None, Me.from_json, timeout)

    def passkey_options(self, timeout: Timeout | None) -> Operation[JSON]:
        return self.typed("POST", "/v1/auth/passkey/options", None, _options_of, timeout)

    def passkey_verify(
        self, credential: JSON, sign_out_others: bool, timeout: Timeout | None
    ) -> Operation[SignInResult]:
        body = _sign_in_body({"credential": credential}, sign_out_others)
        return self.typed("POST", "/v1/auth/passkey/verify", body, SignInResult.from_json, timeout)

    def passkey_register_options(self, timeout: Timeout | None) -> Operation[JSON]:
        path = "/v1/auth/passkeys/register/options"
        return self.typed("POST", path, None, _options_of, timeout)

    def passkey_register_verify(
        self, credential: JSON, name: str | None, timeout: Timeout | None
    ) -> Operation[Passkey]:
        body: JSON = {"credential": credential}
        if name is not None:
            body["name"] = name
        path = "/v1/auth/passkeys/register/verify"
        return self.typed("POST", path, body, _passkey_of, timeout)

    def list_passkeys(self, timeout: Timeout | None) -> Operation[PasskeyList]:
        return self.typed("GET", "/v1/auth/passkeys", None, PasskeyList.from_json, timeout)

    def remove_passkey(self, passkey_id: str, timeout: Timeout | None) -> Operation[OkResult]:
        path = f"/v1/auth/passkeys/{quote(passkey_id, safe='')}"
        return self.typed("DELETE", path, None, OkResult.from_json, timeout)

    def google_start_url(self, sign_out_others: bool) -> str:
        """Where to send a browser to start Google sign-in (a navigation, not an API call)."""
        query = "?sign_out_others=1" if sign_out_others else ""
        return self.base_url + "/v1/auth/google/start" + query

    def list_keys(self, timeout: Timeout | None) -> Operation[KeyList]:
        return self.typed("GET", "/v1/keys", None, KeyList.from_json, timeout)

    def create_key(
        self,
        name: str,
        scopes: list[str] | None,
        rate_limit: int | None,
        timeout: Timeout | None,
    ) -> Operation[CreatedKey]:
        body: JSON = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if rate_limit is not None:
            body["rate_limit"] = rate_limit
        return self.typed("POST", "/v1/keys", body, CreatedKey.from_json, timeout)

    def revoke_key(self, key_id: str, timeout: Timeout | None) -> Operation[OkResult]:
        path = f"/v1/keys/{quote(key_id, safe='')}"
        return self.typed("DELETE", path, None, OkResult.from_json, timeout)

    def rotate_key(self, key_id: str, timeout: Timeout | None) -> Operation[RotatedKey]:
        path = f"/v1/keys/{quote(key_id, safe='')}/rotate"
        return self.typed("POST", path, None, RotatedKey.from_json, timeout)

    # -- sessions and activity (spec §2.9, §2.11) --------------------------------------------

    def list_sessions(self, timeout: Timeout | None) -> Operation[SessionList]:
        return self.typed("GET", "/v1/auth/sessions", None, SessionList.from_json, timeout)

    def revoke_session(self, session_id: str, timeout: Timeout | None) -> Operation[OkResult]:
        # DELETE is retried on a 500 revoke_failed: ending a session twice changes nothing.
        path = f"/v1/auth/sessions/{quote(session_id, safe='')}"
        return self.typed("DELETE", path, None, OkResult.from_json, timeout)

    def revoke_other_sessions(self, timeout: Timeout | None) -> Operation[RevokedOthers]:
        path = "/v1/auth/sessions/revoke-others"
        return self.typed("POST", path, None, RevokedOthers.from_json, timeout)

    def list_activity(
        self, limit: int | None, before: str | None, timeout: Timeout | None
    ) -> Operation[ActivityPage]:
        params: dict[str, str | int] = {}
        if limit is not None:
            params["limit"] = limit
        if before is not None:
            params["before"] = before
        path = "/v1/auth/activity" + (f"?{urlencode(params)}" if params else "")
        return self.typed("GET", path, None, ActivityPage.from_json, timeout)


def _sign_in_body(body: JSON, sign_out_others: bool) -> JSON:
    """A sign-in body; ``sign_out_others`` is sent only when asked for (spec §2.9)."""
    return {**body, "sign_out_others": True} if sign_out_others else body


def _capped(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout:
    seconds = max(seconds, MIN_ATTEMPT_SECONDS)
    return httpx.Timeout(
        connect=seconds if timeout.connect is None else min(timeout.connect, seconds),
        read=seconds if timeout.read is None else min(timeout.read, seconds),
        write=seconds if timeout.write is None else min(timeout.write, seconds),
        pool=seconds if timeout.pool is None else min(timeout.pool, seconds),
    )


def _connection_error(what: str, outcome: Outcome) -> APIConnectionError:
    timed_out = isinstance(outcome, httpx.TimeoutException)
    return APIConnectionError(
        f"{what} got no response ({type(outcome).__name__})",
        status=None,
        code="timeout" if timed_out else "connection_error",
    )


def _options_of(data: JSON) -> JSON:
    options = data.get("options")
    if not isinstance(options, dict) or not isinstance(options.get("challenge"), str):
        raise ResponseShapeError("field 'options' must be WebAuthn options with a challenge")
    return options


def _passkey_of(data: JSON) -> Passkey:
    passkey = data.get("passkey")
    if not isinstance(passkey, dict):
        raise ResponseShapeError("field 'passkey' is missing")
    return Passkey.from_json(passkey)
