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
from urllib.parse import quote

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
    Challenge,
    CreatedKey,
    Key,
    Me,
    Passkey,
    ResponseShapeError,
    RotatedKey,
    User,
)
from ._retry import (
    MIN_ATTEMPT_SECONDS,
    backoff_delay,
    is_retryable_transport_error,
    retry_delay,
    transport_retry_delay,
)
from ._version import __version__

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
        timeout: float | httpx.Timeout,
        max_retries: int,
        logout_deadline: float,
        session_file: str | os.PathLike[str] | None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if logout_deadline <= 0:
            raise ValueError("logout_deadline must be > 0")
        self.base_url = resolve_base_url(base_url)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
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

    def call(self, method: str, path: str, body: JSON | None = None) -> Operation[JSON]:
        """One API call; retried only when that cannot do anything twice (GET, DELETE)."""
        attempt = 0
        while True:
            outcome = yield self.build(method, path, body)
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
        self, method: str, path: str, body: JSON | None, parse: Callable[[JSON], T]
    ) -> Operation[T]:
        """``call`` then ``parse``; a body of the wrong shape becomes ``invalid_response``."""
        data = yield from self.call(method, path, body)
        try:
            return parse(data)
        except ResponseShapeError as exc:
            raise TriportError(
                f"Unexpected response to {method} {path}: {exc}",
                status=200,
                code="invalid_response",
            ) from exc

    # -- logout: the seed's retry rule ------------------------------------------------------

    def logout(self, deadline: float | None = None) -> Operation[None]:
        """Retry until a 200 proves the session row revoked, or until ``deadline`` seconds pass.

        Only a 200 forgets the cookies: after ``logout_failed``, a timeout or a lost connection
        the session may still be live, and the cookie is what lets a later call revoke it.
        """
        limit = self.logout_deadline if deadline is None else deadline
        if limit <= 0:
            raise ValueError("deadline must be > 0")
        ends_at = time.monotonic() + limit
        attempts = 0
        while True:
            # No single attempt may outlive the deadline.
            timeout = _capped(self.timeout, ends_at - time.monotonic())
            outcome = yield self.build("POST", "/v1/auth/logout", timeout=timeout)
            attempts += 1
            floor = 0.0
            # A failed attempt's Set-Cookie is ignored: only a 200 may make the client forget.
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    self.cookies.clear()
                    return None
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
                )
                failure.attempts = attempts
                raise failure from (outcome if isinstance(outcome, Exception) else error)
            logger.info(
                "logout attempt %d failed (%s); retry in %.2fs", attempts, error.code, delay
            )
            yield Sleep(delay)

    # -- the console operations -------------------------------------------------------------

    def email_start(self, email: str) -> Operation[str]:
        return self.typed("POST", "/v1/auth/email/start", {"email": email}, _request_id_of)

    def email_verify(self, request_id: str, code: str) -> Operation[User]:
        body = {"request_id": request_id, "code": code}
        return self.typed("POST", "/v1/auth/email/verify", body, _user_of)

    def wallet_challenge(self, address: str, chain: str) -> Operation[Challenge]:
        body = {"address": address, "chain": chain}
        return self.typed("POST", "/v1/auth/wallet/challenge", body, Challenge.from_json)

    def wallet_verify(
        self, nonce: str, address: str, chain: str, signature: str
    ) -> Operation[User]:
        body = {"nonce": nonce, "address": address, "chain": chain, "signature": signature}
        return self.typed("POST", "/v1/auth/wallet/verify", body, _user_of)

    def passkey_options(self) -> Operation[JSON]:
        return self.typed("POST", "/v1/auth/passkey/options", None, _options_of)

    def passkey_verify(self, credential: JSON, sign_out_others: bool) -> Operation[User]:
        body: JSON = {"credential": credential}
        if sign_out_others:
            body["sign_out_others"] = True
        return self.typed("POST", "/v1/auth/passkey/verify", body, _user_of)

    def passkey_register_options(self) -> Operation[JSON]:
        return self.typed("POST", "/v1/auth/passkeys/register/options", None, _options_of)

    def passkey_register_verify(self, credential: JSON, name: str | None) -> Operation[Passkey]:
        body: JSON = {"credential": credential}
        if name is not None:
            body["name"] = name
        return self.typed("POST", "/v1/auth/passkeys/register/verify", body, _passkey_of)

    def list_passkeys(self) -> Operation[list[Passkey]]:
        return self.typed("GET", "/v1/auth/passkeys", None, _passkeys_of)

    def remove_passkey(self, passkey_id: str) -> Operation[None]:
        path = f"/v1/auth/passkeys/{quote(passkey_id, safe='')}"
        return self.typed("DELETE", path, None, _nothing)

    def me(self) -> Operation[Me]:
        return self.typed("GET", "/v1/auth/me", None, Me.from_json)

    def list_keys(self) -> Operation[list[Key]]:
        return self.typed("GET", "/v1/keys", None, _keys_of)

    def create_key(
        self, name: str, scopes: list[str] | None, rate_limit: int | None
    ) -> Operation[CreatedKey]:
        body: JSON = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        if rate_limit is not None:
            body["rate_limit"] = rate_limit
        return self.typed("POST", "/v1/keys", body, CreatedKey.from_json)

    def revoke_key(self, key_id: str) -> Operation[None]:
        return self.typed("DELETE", f"/v1/keys/{quote(key_id, safe='')}", None, _nothing)

    def rotate_key(self, key_id: str) -> Operation[RotatedKey]:
        path = f"/v1/keys/{quote(key_id, safe='')}/rotate"
        return self.typed("POST", path, None, RotatedKey.from_json)


def _capped(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout:
    seconds = max(seconds, MIN_ATTEMPT_SECONDS)
    return httpx.Timeout(
        connect=seconds if timeout.connect is None else min(timeout.connect, seconds),
        read=seconds if timeout.read is None else min(timeout.read, seconds),
        write=seconds if timeout.write is None else min(timeout.write, seconds),
        pool=seconds if timeout.pool is None else min(timeout.pool, seconds),
    )


def _connection_error(what: str, outcome: Outcome) -> APIConnectionError:
    return APIConnectionError(
        f"{what} got no response ({type(outcome).__name__})", status=None, code="connection_error"
    )


def _request_id_of(data: JSON) -> str:
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise ResponseShapeError("field 'request_id' is missing")
    return request_id


def _nothing(data: JSON) -> None:
    return None


def _user_of(data: JSON) -> User:
    user = data.get("user")
    if not isinstance(user, dict):
        raise ResponseShapeError("field 'user' is missing")
    return User.from_json(user)


def _keys_of(data: JSON) -> list[Key]:
    keys = data.get("keys")
    if not isinstance(keys, list) or not all(isinstance(item, dict) for item in keys):
        raise ResponseShapeError("field 'keys' must be a list of objects")
    return [Key.from_json(item) for item in keys]


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


def _passkeys_of(data: JSON) -> list[Passkey]:
    passkeys = data.get("passkeys")
    if not isinstance(passkeys, list) or not all(isinstance(item, dict) for item in passkeys):
        raise ResponseShapeError("field 'passkeys' must be a list of objects")
    return [Passkey.from_json(item) for item in passkeys]
