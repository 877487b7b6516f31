"""The one table from error code to HTTP status and default message (spec §1.2 and §2)."""

from __future__ import annotations

from ..errors import DomainError, InvalidInput, RateLimited
from .responses import Header, Response, json_response

ERRORS: dict[str, tuple[int, str]] = {
    "method_not_allowed": (405, "This path does not accept that method."),
    "route_not_found": (404, "No such route."),
    "invalid_json": (400, "The body must be a JSON object of at most 4096 bytes."),
    "unauthenticated": (401, "Sign in to continue."),
    "csrf_missing": (403, "The nl_csrf cookie is missing."),
    "csrf_invalid": (403, "The CSRF token or the request's origin is not valid for this session."),
    "rate_limited": (429, "Too many requests; retry later."),
    "internal": (500, "The service could not complete the request; retry later."),
    "logout_failed": (500, "The session could not be revoked; retry the request."),
    "revoke_failed": (500, "The session could not be revoked; retry the request."),
    "invalid_email": (400, "Enter a valid email address."),
    "invalid_request": (400, "This sign-in request is unknown, expired, used or locked."),
    "invalid_code": (400, "The code is not correct."),
    "invalid_address": (400, "The wallet address or chain is not valid."),
    "invalid_nonce": (400, "The sign-in challenge is unknown, expired or already used."),
    "address_mismatch": (400, "The signature or address does not match the challenge."),
    "invalid_signature": (400, "The signature is malformed or does not verify."),
    "invalid_name": (400, "The key name must be 1 to 80 characters."),
    "invalid_scope": (400, "Unknown scope."),
    "too_many_scopes": (400, "A key can have at most 32 scopes."),
    "invalid_rate_limit": (400, "rate_limit must be an integer."),
    "invalid_id": (400, "The id must be a UUID."),
    "not_found": (404, "Not found (or it belongs to another account)."),
    "cannot_revoke_default": (409, "The default key cannot be revoked; rotate it instead."),
    "key_revoked": (409, "The key is revoked."),
    "too_many_keys": (409, "The active key limit is reached; revoke a key first."),
    "invalid_challenge": (400, "The passkey challenge is unknown, expired or already used."),
    "invalid_credential": (400, "The passkey response does not verify for this site."),
    "google_disabled": (503, "Google sign-in is not configured."),
    "not_ready": (503, "The database is unreachable."),
    "headers_too_large": (431, "The request line and headers may be at most 32 KB."),
    "request_timeout": (408, "The request headers did not arrive within 10 seconds."),
}


def error_response(
    code: str,
    request_id: str,
    message: str | None = None,
    headers: list[Header] | None = None,
    extra: dict[str, object] | None = None,
) -> Response:
    """The envelope; `extra` adds a code's documented top-level fields (`reason`, …)."""
    status, default = ERRORS[code]
    body: dict[str, object] = {
        "error": code,
        "message": message or default,
        "request_id": request_id,
    }
    if extra:
        body.update(extra)
    return json_response(status, body, headers)


def domain_error_response(error: DomainError, request_id: str) -> Response:
    """Map a domain error; only validation messages (our own text) reach the client verbatim."""
    if isinstance(error, RateLimited):
        # `retry_after` is the extra top-level field spec §1.1 documents for this code.
        status, default = ERRORS["rate_limited"]
        body = {
            "error": "rate_limited",
            "message": default,
            "request_id": request_id,
            "retry_after": error.retry_after,
        }
        return json_response(status, body, [(b"retry-after", str(error.retry_after).encode())])
    message = str(error) if isinstance(error, InvalidInput) else None
    return error_response(error.code if error.code in ERRORS else "internal", request_id, message)
