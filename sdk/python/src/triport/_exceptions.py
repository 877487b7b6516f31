"""One exception hierarchy, keyed on the server's stable error code.

Callers branch on the class (or on ``code``); ``message`` is the server's human text (from its
error-code table), safe to show to a user, and may change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal, cast, get_args

import httpx

from ._retry import parse_retry_after

__all__ = [
    "APIConnectionError",
    "AuthenticationError",
    "ConflictError",
    "CsrfError",
    "InvalidRequestError",
    "LogoutFailedError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "SessionEndReason",
    "TriportError",
    "UnauthenticatedError",
    "error_from_response",
]

# Why a known session is no longer live (spec §2.10), as a 401 ``unauthenticated`` says it.
SessionEndReason = Literal[
    "signed_out", "revoked", "signed_out_everywhere", "replaced", "admin", "expired"
]
_REASONS: frozenset[str] = frozenset(get_args(SessionEndReason))


class TriportError(Exception):
    """Base class: every error the SDK raises for a failed console call.

    ``status`` is the HTTP status, or ``None`` when no response arrived at all; ``code`` the
    envelope's stable ``error`` code; ``message`` the server's human text; ``request_id`` the
    id of the server's log line; ``headers`` the response headers (empty without a response).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        code: str,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.headers = httpx.Headers(headers)

    def __str__(self) -> str:
        where = f" [{self.request_id}]" if self.request_id else ""
        status = f"{self.status} " if self.status is not None else ""
        return f"{status}{self.code}: {self.message}{where}"


class APIConnectionError(TriportError):
    """No HTTP response (after any safe retries); ``code``: ``timeout`` or ``connection_error``."""


class InvalidRequestError(TriportError):
    """400 (``invalid_email``, ``invalid_id``, ...) and any other 4xx without a class of its own."""


class AuthenticationError(TriportError):
    """401 ``unauthenticated``: no live session. The server has cleared the cookies.

    ``reason`` says why a session this client held ended: ``signed_out`` (logout), ``revoked``
    (ended from another session), ``signed_out_everywhere``, ``replaced`` (a new sign-in in the
    same place), ``admin`` (an operator) or ``expired``. It is ``None`` for no session, an unknown
    token, or a reason this SDK version does not know.
    """

    reason: SessionEndReason | None = None


# The spec's name for it (the envelope's code is ``unauthenticated``).
UnauthenticatedError = AuthenticationError


class CsrfError(TriportError):
    """403 ``csrf_missing`` / ``csrf_invalid``: never retried, since a retry cannot fix it."""


class PermissionDeniedError(TriportError):
    """403 with any code other than ``csrf_missing`` / ``csrf_invalid``."""


class NotFoundError(TriportError):
    """404: ``not_found`` (a key) or ``route_not_found``."""


class ConflictError(TriportError):
    """409: ``cannot_revoke_default``, ``key_revoked``."""


class RateLimitError(TriportError):
    """429 ``rate_limited``; ``retry_after`` is the server's wait in seconds, when given."""

    retry_after: float | None = None


class ServerError(TriportError):
    """5xx: the store or a dependency failed. Never a sign of being logged out."""


class LogoutFailedError(ServerError):
    """Logout did not reach a 200 before its deadline.

    The session may still be live, so the client keeps its cookies: call ``logout()`` again
    to finish the job. ``attempts`` counts the requests that were sent.
    """

    attempts: int = 0


# The classes a code picks whatever its status; every other code is classed by its status, so
# codes the server adds later still land in the right family. (The TypeScript SDK's
# `errorFromResponse` applies the same rules.)
_BY_CODE: dict[str, type[TriportError]] = {
    "csrf_missing": CsrfError,
    "csrf_invalid": CsrfError,
    "logout_failed": LogoutFailedError,
}

_BY_STATUS: dict[int, type[TriportError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def _error_class(status: int, code: str) -> type[TriportError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    # Another client error (405, 408, 431, ...): the request itself was refused.
    return InvalidRequestError if status >= 400 else TriportError


def _parse_envelope(body: bytes) -> dict[str, object] | None:
    """Return the error fields from ``{"error": "code", ...}`` or ``{"error": {"code": ...}}``."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        return {**data, **error}
    if isinstance(error, str):
        return {**data, "code": error}
    return None


def _session_end_reason(value: object) -> SessionEndReason | None:
    return cast("SessionEndReason", value) if isinstance(value, str) and value in _REASONS else None


def error_from_response(status: int, body: bytes, headers: Mapping[str, str]) -> TriportError:
    """Map an error response to its exception (a non-envelope body → ``http_<status>``).

    Only ``csrf_missing`` and ``csrf_invalid`` make a ``CsrfError``; another 403 (a proxy's,
    or a code added later) is a ``PermissionDeniedError``.
    """
    fields = _parse_envelope(body) or {}
    code = fields.get("code")
    if not isinstance(code, str) or not code:
        code = f"http_{status}"
    message = fields.get("message")
    if not isinstance(message, str) or not message:
        message = f"HTTP {status}"
    request_id = fields.get("request_id")
    if not isinstance(request_id, str):
        request_id = headers.get("x-request-id")
    error = _error_class(status, code)(
        message, status=status, code=code, request_id=request_id, headers=headers
    )
    if isinstance(error, AuthenticationError):
        error.reason = _session_end_reason(fields.get("reason"))
    if isinstance(error, RateLimitError):
        error.retry_after = parse_retry_after(fields.get("retry_after"))
        if error.retry_after is None:
            error.retry_after = parse_retry_after(headers.get("retry-after"))
    return error
