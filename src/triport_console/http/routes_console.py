"""The console page (static files shipped in the package), its configuration and the document."""

from __future__ import annotations

from importlib import resources

import orjson

from ..api import types as t
from ..errors import ErrorCode
from .error_codes import error_response
from .openapi import document
from .responses import Response
from .routing import Call, Handler

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


class ConsoleRoutes:
    def __init__(self, public_url: str, google_enabled: bool, page_enabled: bool) -> None:
        self._openapi = orjson.dumps(document(public_url))
        self._config = t.ConsoleConfig(google_enabled=google_enabled)
        self._files: dict[str, tuple[bytes, bytes]] = {}
        if page_enabled:
            folder = resources.files("triport_console.console").joinpath("static")
            for entry in folder.iterdir():
                suffix = "." + entry.name.rsplit(".", 1)[-1]
                if entry.is_file() and suffix in _TYPES:
                    self._files[entry.name] = (_TYPES[suffix], entry.read_bytes())

    @property
    def page_available(self) -> bool:
        return "index.html" in self._files

    def handlers(self) -> dict[str, Handler]:
        return {
            "getOpenApi": self.openapi,
            "getConsoleConfig": self.config,
            "getConsoleRoot": self.page,
            "getConsoleLogin": self.page,
            "getConsoleApp": self.page,
            "getConsoleAsset": self.asset,
        }

    async def openapi(self, call: Call) -> Response:
        return Response(200, self._openapi, [(b"content-type", b"application/json")])

    async def config(self, call: Call) -> t.ConsoleConfig:
        return self._config

    async def page(self, call: Call) -> Response:
        return self._serve(call, "index.html")

    async def asset(self, call: Call) -> Response:
        return self._serve(call, call.params["name"])

    def _serve(self, call: Call, name: str) -> Response:
        found = self._files.get(name)
        if found is None:
            return error_response(ErrorCode.ROUTE_NOT_FOUND, call.request.request_id)
        content_type, content = found
        return Response(200, content, [(b"content-type", content_type), *_PAGE_HEADERS])
