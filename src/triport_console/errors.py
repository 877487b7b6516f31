"""The error-code table and the domain errors that carry its codes.

`ErrorCode` is the one table of the contract's machine codes: each member is the code itself
(a `str`), its HTTP status and the message clients see. Services raise domain errors naming a
member, so a code missing from the table is a type error (mypy) rather than a silent 500; the
HTTP edge, the OpenAPI document and docs/api.md all read this table.
"""

from __future__ import annotations

from enum import StrEnum

from .limits import (
    HEAD_TIMEOUT,
    MAX_BODY,
    MAX_HEAD,
    MAX_KEY_NAME,
    MAX_RATE_LIMIT,
    MAX_SCOPES,
    SCOPES,
)


class ErrorCode(StrEnum):
    status: int
    message: str

    def __new__(cls, code: str, status: int, message: str) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.message = message
        return member

    # Shared rules (spec 1.2)
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "This path does not accept that method."
    ROUTE_NOT_FOUND = "route_not_found", 404, "No such route."
    INVALID_JSON = (
        "invalid_json",
        400,
        f"The body must be a JSON object of at most {MAX_BODY} bytes.",
    )
    UNAUTHENTICATED = "unauthenticated", 401, "Sign in to continue."
    CSRF_MISSING = "csrf_missing", 403, "The nl_csrf cookie is missing."
    CSRF_INVALID = (
        "csrf_invalid",
        403,
        "The CSRF token or the request's origin is not valid for this session.",
    )
    RATE_LIMITED = "rate_limited", 429, "Too many requests; retry later."
    INTERNAL = "internal", 500, "The service could not complete the request; retry later."
    # Request heads (spec 1.6), answered by the HTTP server before the application
    HEADERS_TOO_LARGE = (
        "headers_too_large",
        431,
        f"The request line and headers may be at most {MAX_HEAD // 1024} KB.",
    )
    REQUEST_TIMEOUT = (
        "request_timeout",
        408,
        f"The request headers did not arrive within {HEAD_TIMEOUT:g} seconds.",
    )
    # Logout (the seed)
    LOGOUT_FAILED = "logout_failed", 500, "The session could not be revoked; retry the request."
    # Sessions (spec 2.9): the same retry rule as logout
    REVOKE_FAILED = "revoke_failed", 500, "The session could not be revoked; retry the request."
    # Email sign-in
    INVALID_EMAIL = "invalid_email", 400, "Enter a valid email address."
    INVALID_REQUEST = (
        "invalid_request",
        400,
        "This sign-in request is unknown, expired, used or locked.",
    )
    INVALID_CODE = "invalid_code", 400, "The code is not correct."
    # Wallet sign-in
    INVALID_ADDRESS = "invalid_address", 400, "The wallet address or chain is not valid."
    INVALID_NONCE = (
        "invalid_nonce",
        400,
        "The sign-in challenge is unknown, expired or already used.",
    )
    ADDRESS_MISMATCH = (
        "address_mismatch",
        400,
        "The signature or address does not match the challenge.",
    )
    INVALID_SIGNATURE = "invalid_signature", 400, "The signature is malformed or does not verify."
    # Google sign-in
    GOOGLE_DISABLED = "google_disabled", 503, "Google sign-in is not configured."
    # API keys
    INVALID_NAME = (
        "invalid_name",
        400,
        f"The key name must be 1 to {MAX_KEY_NAME} characters of text on one line.",
    )
    INVALID_SCOPE = (
        "invalid_scope",
        400,
        "Each scope must be one of: " + ", ".join(sorted(SCOPES)) + ".",
    )
    TOO_MANY_SCOPES = "too_many_scopes", 400, f"A key can have at most {MAX_SCOPES} scopes."
    INVALID_RATE_LIMIT = (
        "invalid_rate_limit",
        400,
        f"rate_limit must be an integer no larger than {MAX_RATE_LIMIT}.",
    )
    INVALID_ID = "invalid_id", 400, "The id must be a UUID."
    NOT_FOUND = "not_found", 404, "Not found."
    CANNOT_REVOKE_DEFAULT = (
        "cannot_revoke_default",
        409,
        "The default key cannot be revoked; rotate it instead.",
    )
    KEY_REVOKED = "key_revoked", 409, "The key is revoked."
    TOO_MANY_KEYS = "too_many_keys", 409, "The active key limit is reached; revoke a key first."
    # Passkeys (spec 2.12)
    INVALID_CHALLENGE = (
        "invalid_challenge",
        400,
        "The passkey challenge is unknown, expired or already used.",
    )
    INVALID_CREDENTIAL = (
        "invalid_credential",
        400,
        "The passkey response does not verify for this site.",
    )
    # Operations
    NOT_READY = "not_ready", 503, "The database is unreachable."


class DomainError(Exception):
    """A failure the contract names by its `code`.

    The exception text is for logs and tests (which rule failed); clients always get the
    table's message for the code.
    """

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code.value)


class StoreUnavailable(DomainError):
    """The database failed, timed out waiting for a lock, or lost its connection.

    Never turned into "not signed in": a database outage must not look like a logout.
    """


class MigrationRefused(DomainError):
    """Migrations were asked of a connection that cannot hold their session-level lock (a
    transaction pooler), or a pooled service found the schema behind. Stops the command."""

    code = ErrorCode.INTERNAL


class DeliveryFailed(DomainError):
    """The login code could not be handed to the mail server."""


class SessionNotLive(DomainError):
    """No cookie, or a token whose row is unknown, revoked or expired.

    `reason` (spec §2.10) says why a known row is not live: how it was revoked, or "expired";
    None for no cookie, a malformed token or an unknown one.
    """

    code = ErrorCode.UNAUTHENTICATED

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self.reason = reason


class CsrfMissing(DomainError):
    code = ErrorCode.CSRF_MISSING


class CsrfInvalid(DomainError):
    code = ErrorCode.CSRF_INVALID


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, retry_after)


class Rejected(DomainError):
    """A refusal whose code the raiser names (a member of the table, never a free string)."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        self.code = code
        super().__init__(detail)


class InvalidInput(Rejected):
    """A request field failed validation; `code` names which rule (invalid_email, …)."""


class Conflict(Rejected):
    """The request is well-formed but the resource's state forbids it (cannot_revoke_default, …)."""


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class InvalidChallenge(DomainError):
    """A passkey ceremony's challenge is unknown, expired, already used, or not this user's."""

    code = ErrorCode.INVALID_CHALLENGE


class InvalidCredential(DomainError):
    """A WebAuthn response that does not verify: unknown or removed credential, bad signature,
    wrong origin or RP id, a counter that went backwards, or a credential already registered."""

    code = ErrorCode.INVALID_CREDENTIAL
