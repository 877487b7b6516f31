"""`GET /metrics` (spec §2.13): Prometheus text, for the holder of TRIPORT_METRICS_TOKEN only.

Without the token configured the route is not built. With it, the edge answers any request not
carrying `Authorization: Bearer <token>` exactly as a path that does not exist (`404
route_not_found`, whatever the method; see `ConsoleApp._dispatch`), so the route's presence is
not revealed either. The token is compared with `hmac.compare_digest`, in time independent of
where the first difference lies.
"""

from __future__ import annotations

import hmac

from ..api.endpoints import BY_OPERATION
from ..api.endpoints import Response as Described
from ..metrics import Metrics
from .request import Request
from .responses import Response
from .routing import Call, Handler

ENDPOINT = BY_OPERATION["getMetrics"]
METRICS_PATH = ENDPOINT.path
assert isinstance(ENDPOINT.response, Described) and ENDPOINT.response.content_type
_CONTENT_TYPE = ENDPOINT.response.content_type.encode()


class MetricsRoutes:
    def __init__(self, token: str, metrics: Metrics) -> None:
        self._expected = f"Bearer {token}".encode()
        self._metrics = metrics

    def handlers(self) -> dict[str, Handler]:
        return {"getMetrics": self.metrics}

    def authorized(self, request: Request) -> bool:
        presented = request.headers.get("authorization", "")
        scheme, _, credentials = presented.partition(" ")
        # The scheme is case-insensitive (RFC 9110 §11.1); the token itself is compared exactly.
        candidate = f"Bearer {credentials.strip()}".encode("latin-1", "replace")
        return scheme.lower() == "bearer" and hmac.compare_digest(candidate, self._expected)

    async def metrics(self, call: Call) -> Response:
        # HEAD gets the same headers (Content-Length included); the edge drops the body.
        return Response(200, self._metrics.scrape(), [(b"content-type", _CONTENT_TYPE)])
