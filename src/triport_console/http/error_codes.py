"""Error responses: the envelope of spec 1.1, built from the one table (errors.ErrorCode)."""

from __future__ import annotations

from ..api.types import ENCODER, Error
from ..errors import DomainError, ErrorCode, RateLimited
from .responses import JSON, Header, Response

# A read-only view of the table by code string, for callers that hold a code as text.
ERRORS: dict[str, tuple[int, str]] = {code.value: (code.status, code.message) for code in ErrorCode}


def error_response(
    code: ErrorCode, request_id: str, headers: list[Header] | None = None
) -> Response:
    body = ENCODER.encode(Error(code.value, code.message, request_id))
    return Response(code.status, body, [JSON, *(headers or [])])


def unauthenticated_response(request_id: str, reason: str | None) -> Response:
    """401 unauthenticated; a known token that is no longer live says why (spec 2.10)."""
    code = ErrorCode.UNAUTHENTICATED
    body = Error(code.value, code.message, request_id)
    if reason is not None:
        body.reason = reason  # type: ignore[assignment]  # one of models.EndReason's values
    return Response(code.status, ENCODER.encode(body), [JSON])


def domain_error_response(error: DomainError, request_id: str) -> Response:
    """Clients get the table's message for the code; the exception's detail stays in logs."""
    if isinstance(error, RateLimited):
        # `retry_after` is the extra top-level field spec 1.1 documents for this code.
        code = ErrorCode.RATE_LIMITED
        body = ENCODER.encode(Error(code.value, code.message, request_id, error.retry_after))
        return Response(
            code.status, body, [JSON, (b"retry-after", str(error.retry_after).encode())]
        )
    return error_response(error.code, request_id)
