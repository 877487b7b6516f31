"""The router, built from the endpoint table: exact paths in a dict, `{param}` templates matched
segment by segment, and per path the handler of each method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from msgspec import Struct

from ..api.endpoints import Endpoint, Feature
from ..models import NO_CLIENT, ClientInfo, LiveSession
from .request import Request
from .responses import Response


@dataclass(slots=True)
class Call:
    """One request as a handler sees it, after the edge has run the endpoint's guard."""

    request: Request
    params: dict[str, str]
    body: Any = None  # the endpoint's request structure, decoded and type-checked
    session: LiveSession | None = None  # set for Guard.SESSION endpoints
    cookies: list[bytes] = field(default_factory=list)  # Set-Cookie values for a success
    # The request's client (address, user agent) as sessions and activity events record it;
    # a function, so that it is built only when something is written.
    client: Callable[[], ClientInfo] = lambda: NO_CLIENT

    @property
    def live(self) -> LiveSession:
        if self.session is None:  # pragma: no cover - the edge sets it for Guard.SESSION
            raise RuntimeError("handler of a Guard.SESSION endpoint called without a session")
        return self.session


# A handler answers with the endpoint's response structure (sent as 200 JSON) or a Response.
Handler = Callable[[Call], Awaitable[Struct | Response]]


@dataclass(frozen=True, slots=True)
class Operation:
    endpoint: Endpoint
    handler: Handler


@dataclass(frozen=True)
class Route:
    path: str
    methods: dict[str, Operation]

    @property
    def allow(self) -> bytes:
        """The Allow header: HEAD wherever GET is allowed (spec §1.6)."""
        methods = set(self.methods)
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(sorted(methods)).encode()

    def operation(self, method: str) -> Operation | None:
        """The operation for `method`; HEAD runs GET's (the body is dropped on sending)."""
        found = self.methods.get(method)
        if found is None and method == "HEAD":
            return self.methods.get("GET")
        return found


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._exact = {route.path: route for route in routes if "{" not in route.path}
        self._templates = [
            (route.path.strip("/").split("/"), route) for route in routes if "{" in route.path
        ]

    @classmethod
    def build(
        cls,
        endpoints: Iterable[Endpoint],
        handlers: Mapping[str, Handler],
        features: frozenset[Feature],
    ) -> Router:
        """One route per path; every served endpoint needs its handler and vice versa."""
        by_path: dict[str, dict[str, Operation]] = {}
        served: set[str] = set()
        for endpoint in endpoints:
            if endpoint.feature is not None and endpoint.feature not in features:
                continue
            handler = handlers.get(endpoint.operation_id)
            if handler is None:
                raise LookupError(f"no handler for operation {endpoint.operation_id}")
            by_path.setdefault(endpoint.path, {})[endpoint.method] = Operation(endpoint, handler)
            served.add(endpoint.operation_id)
        unknown = set(handlers) - {e.operation_id for e in endpoints}
        if unknown:
            raise LookupError(f"handlers for operations not in the table: {sorted(unknown)}")
        return cls([Route(path, methods) for path, methods in by_path.items()])

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        route = self._exact.get(path)
        if route is not None:
            return route, {}
        segments = path.strip("/").split("/")
        for template, candidate in self._templates:
            if len(template) != len(segments):
                continue
            params: dict[str, str] = {}
            for expected, actual in zip(template, segments, strict=True):
                if expected.startswith("{"):
                    params[expected[1:-1]] = actual
                elif expected != actual:
                    break
            else:
                return candidate, params
        return None
