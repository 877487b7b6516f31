"""`GET /metrics` (spec §2.13): Prometheus text, for the holder of TRIPORT_METRICS_TOKEN only.

Without the token configured the route does not exist. With it, any request not carrying
`Authorization: Bearer <token>` gets exactly the answer of a path that does not exist
(`404 route_not_found`, for every method), so the route's presence is not revealed either. The
token is compared with `hmac.compare_digest`, in time independent of where the first difference
lies.
"""

from __future__ import annotations

import hmac

from ..metrics import Metrics
from .error_codes import error_response
from .request import Request
from .responses import Response
from .routing import Route

METRICS_PATH = "/metrics"
# Every method reaches the handler, so that a wrong or missing token never answers 405.
_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


class MetricsRoutes:
    def __init__(self, token: str, metrics: Metrics) -> None:
        self._expected = f"Bearer {token}".encode()
        self._metrics = metrics

    def routes(self) -> list[Route]:
        return [Route(METRICS_PATH, dict.fromkeys(_ALL_METHODS, self.metrics))]

    def authorized(self, request: Request) -> bool:
        presented = request.headers.get("authorization", "")
        scheme, _, credentials = presented.partition(" ")
        # The scheme is case-insensitive (RFC 9110 §11.1); the token itself is compared exactly.
        candidate = f"Bearer {credentials.strip()}".encode("latin-1", "replace")
        return scheme.lower() == "bearer" and hmac.compare_digest(candidate, self._expected)

    async def metrics(self, request: Request, _: dict[str, str]) -> Response:
        if not self.authorized(request):
            request.route = None  # counted like any path that does not exist
            return error_response("route_not_found", request.request_id)
        if request.method not in ("GET", "HEAD"):
            return error_response(
                "method_not_allowed", request.request_id, headers=[(b"allow", b"GET, HEAD")]
            )
        # HEAD gets the same headers (Content-Length included); the edge drops the body.
        return Response(200, self._metrics.scrape(), [(b"content-type", _CONTENT_TYPE)])
