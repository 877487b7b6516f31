"""Domain errors. Services raise these; the HTTP edge maps each `code` to a status in one table."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the contract names. `code` is the spec's machine code."""

    code = "internal"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)


class StoreUnavailable(DomainError):
    """The database failed, timed out waiting for a lock, or lost its connection.

    Never turned into "not signed in": a database outage must not look like a logout.
    """

    code = "internal"


class DeliveryFailed(DomainError):
    """The login code could not be handed to the mail server."""

    code = "internal"


class SessionNotLive(DomainError):
    """No cookie, or a token whose row is unknown, revoked or expired.

    `reason` (spec §2.10) says why a known row is not live: how it was revoked, or "expired";
    None for no cookie, a malformed token or an unknown one.
    """

    code = "unauthenticated"

    def __init__(self, reason: str | None = None) -> None:
        super().__init__("unauthenticated")
        self.reason = reason


class CsrfMissing(DomainError):
    code = "csrf_missing"


class CsrfInvalid(DomainError):
    code = "csrf_invalid"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited")
        self.retry_after = max(1, retry_after)


class InvalidInput(DomainError):
    """A request field failed validation; `code` names which rule (invalid_email, …)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request is well-formed but the resource's state forbids it (cannot_revoke_default, …)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InvalidChallenge(DomainError):
    """A passkey ceremony's challenge is unknown, expired, already used, or not this user's."""

    code = "invalid_challenge"


class InvalidCredential(DomainError):
    """A WebAuthn response that does not verify: unknown or removed credential, bad signature,
    wrong origin or RP id, a counter that went backwards, or a credential already registered."""

    code = "invalid_credential"
