"""A tiny router: exact paths in a dict, `{param}` templates matched segment by segment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from .request import Request
from .responses import Response

Handler = Callable[[Request, dict[str, str]], Awaitable[Response]]


class Guard(Enum):
    SESSION = "session"  # CSRF on mutations when a session cookie is present
    SIGN_IN = "sign_in"  # the same, plus the Origin rule even without a session (login CSRF)


@dataclass(frozen=True)
class Route:
    path: str
    methods: dict[str, Handler]
    guard: Guard = Guard.SESSION
    # A per-client-address abuse-limit bucket (config.RATE_LIMIT_VARIABLES), counted by the app
    # before the handler runs; None for routes without one.
    limit: str | None = None

    @property
    def allow(self) -> bytes:
        """The Allow header: HEAD wherever GET is allowed (spec §1.6)."""
        methods = set(self.methods)
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(sorted(methods)).encode()

    def handler(self, method: str) -> Handler | None:
        """The handler for `method`; HEAD runs the GET handler (the body is dropped on sending)."""
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
