"""The console page (static files shipped in the package) and the document routes."""

from __future__ import annotations

from importlib import resources

import orjson

from .openapi import document
from .request import Request
from .responses import Response, json_response
from .routing import Route

_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
}
# The page loads nothing from elsewhere and may not be framed.
_PAGE_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; "
        b"base-uri 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-cache"),
]
PAGE_PATHS = ("/", "/login", "/app/chains")


class ConsoleRoutes:
    def __init__(self, public_url: str, google_enabled: bool, page_enabled: bool) -> None:
        self._openapi = orjson.dumps(document(public_url))
        self._google_enabled = google_enabled
        self._page_enabled = page_enabled
        self._files: dict[str, tuple[bytes, bytes]] = {}
        if page_enabled:
            folder = resources.files("triport_console.console").joinpath("static")
            for entry in folder.iterdir():
                suffix = "." + entry.name.rsplit(".", 1)[-1]
                if entry.is_file() and suffix in _TYPES:
                    self._files[entry.name] = (_TYPES[suffix], entry.read_bytes())

    def routes(self) -> list[Route]:
        routes = [Route("/openapi.json", {"GET": self.openapi})]
        if self._page_enabled and "index.html" in self._files:
            routes += [Route(path, {"GET": self.page}) for path in PAGE_PATHS]
            routes.append(Route("/console-static/{name}", {"GET": self.asset}))
            routes.append(Route("/v1/console/config", {"GET": self.config}))
        return routes

    async def openapi(self, request: Request, _: dict[str, str]) -> Response:
        return Response(200, self._openapi, [(b"content-type", b"application/json")])

    async def config(self, request: Request, _: dict[str, str]) -> Response:
        return json_response(200, {"google_enabled": self._google_enabled})

    async def page(self, request: Request, _: dict[str, str]) -> Response:
        return self._serve("index.html")

    async def asset(self, request: Request, params: dict[str, str]) -> Response:
        return self._serve(params["name"])

    def _serve(self, name: str) -> Response:
        found = self._files.get(name)
        if found is None:
            return Response(404, b"not found", [(b"content-type", b"text/plain")])
        content_type, content = found
        return Response(200, content, [(b"content-type", content_type), *_PAGE_HEADERS])
