"""Credentialed CORS for the configured console origins (spec §1.4); others get nothing."""

from __future__ import annotations

from ..api.endpoints import ENDPOINTS
from .request import Request
from .responses import Header, Response

ALLOW_METHODS = ", ".join(sorted({endpoint.method for endpoint in ENDPOINTS})).encode()
ALLOW_HEADERS = b"Content-Type, X-CSRF-Token"
EXPOSE_HEADERS = b"X-Request-Id, Retry-After"


class Cors:
    def __init__(self, allowed_origins: frozenset[str]) -> None:
        self._allowed = allowed_origins

    def headers(self, request: Request) -> list[Header]:
        origin = request.headers.get("origin")
        if origin is None or origin not in self._allowed:
            return []
        return [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", EXPOSE_HEADERS),
            (b"vary", b"Origin"),
        ]

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return (
            request.method == "OPTIONS"
            and "origin" in request.headers
            and "access-control-request-method" in request.headers
        )

    def preflight(self, request: Request) -> Response:
        """Answered before method routing, so a preflight never becomes a 405."""
        response = Response(204)
        if request.headers.get("origin") in self._allowed:
            response.headers += [
                (b"access-control-allow-methods", ALLOW_METHODS),
                (b"access-control-allow-headers", ALLOW_HEADERS),
                (b"access-control-max-age", b"600"),
            ]
        return response
