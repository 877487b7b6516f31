"""A parsed view of one ASGI request: headers, cookies, client address, bounded JSON body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from ..errors import ErrorCode, InvalidInput

MAX_COOKIE_HEADER = 8192  # larger Cookie headers are ignored whole: no cookie is trusted from them

Scope = dict[str, Any]


class Request:
    __slots__ = ("_cookies", "_receive", "headers", "method", "path", "request_id", "scope")

    def __init__(self, scope: Scope, receive: Any, request_id: str) -> None:
        self.scope = scope
        self._receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.request_id = request_id
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name in headers:
                # Repeated Cookie headers (HTTP/2) join; for others the first one counts.
                if name == "cookie":
                    headers[name] += "; " + value
                continue
            headers[name] = value
        self.headers = headers
        self._cookies: dict[str, str] | None = None

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            self._cookies = parse_cookie_header(self.headers.get("cookie", ""))
        return self._cookies

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; the first occurrence of a name wins."""
        raw = self.scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(raw, keep_blank_values=True)
        return dict(reversed(pairs))

    async def stream(self) -> AsyncIterator[bytes]:
        """The body's chunks as they arrive; `invalid_json` if the client leaves mid-body."""
        more = True
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise InvalidInput(ErrorCode.INVALID_JSON, "the client went away mid-body")
            yield message.get("body", b"")
            more = message.get("more_body", False)


def parse_cookie_header(header: str) -> dict[str, str]:
    """RFC 6265 cookie pairs; the first occurrence of a name wins, malformed pairs are skipped."""
    cookies: dict[str, str] = {}
    if not header or len(header) > MAX_COOKIE_HEADER:
        return cookies
    for pair in header.split(";"):
        name, sep, value = pair.partition("=")
        if not sep:
            continue
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name and name not in cookies:
            cookies[name] = value
    return cookies
