"""A parsed view of one ASGI request: headers, cookies, bounded JSON body.

Request heads are bounded by the HTTP server (`http/protocol.py`: 32 KB, 10 s), so every header
here is read whole: a large Cookie header is never mistaken for "no cookie" (spec §1.6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..errors import ErrorCode, InvalidInput

if TYPE_CHECKING:
    from .routing import Route

Scope = dict[str, Any]


class Request:
    __slots__ = (
        "_conflicts",
        "_cookies",
        "_receive",
        "headers",
        "method",
        "outcome",
        "path",
        "request_id",
        "route",
        "scope",
    )

    def __init__(self, scope: Scope, receive: Any, request_id: str) -> None:
        self.scope = scope
        self._receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.request_id = request_id
        # Set by the edge and the handlers for the metrics: the matched route (its template is
        # the label) and, where a route's answers count as outcomes, what happened.
        self.route: Route | None = None
        self.outcome: str | None = None
        self.headers = join_headers(scope["headers"])
        self._cookies: dict[str, str] | None = None
        self._conflicts: frozenset[str] = frozenset()

    @property
    def cookies(self) -> dict[str, str]:
        """Cookie name → value; a name sent with two different values is left out (see below)."""
        if self._cookies is None:
            self._cookies, self._conflicts = parse_cookies(self.headers.get("cookie", ""))
        return self._cookies

    @property
    def cookie_conflicts(self) -> frozenset[str]:
        """Names sent more than once with different values (cookie tossing, SECURITY.md)."""
        if self._cookies is None:
            _ = self.cookies
        return self._conflicts

    def cookie_values(self, name: str) -> list[str]:
        """Every distinct value sent for `name`, in the order sent."""
        return cookie_values(self.headers.get("cookie", ""), name)

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


def join_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header name → value, a repeated header's lines joined as RFC 9110 §5.3 says.

    `a: 1` and `a: 2` mean `a: 1, 2`; Cookie lines join with "; " (RFC 9113 §8.2.3).
    """
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
    if len(headers) == len(raw):
        return headers  # the usual case: no name repeated, nothing to join
    headers = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in headers:
            headers[name] += ("; " if name == "cookie" else ", ") + value
        else:
            headers[name] = value
    return headers


def _pairs(header: str) -> list[tuple[str, str]]:
    """RFC 6265 cookie pairs in order; malformed pairs are skipped, quotes around a value go."""
    pairs = []
    for pair in header.split(";"):
        name, sep, value = pair.partition("=")
        if not sep:
            continue
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name:
            pairs.append((name, value))
    return pairs


def parse_cookies(header: str) -> tuple[dict[str, str], frozenset[str]]:
    """Cookies by name, and the names that came with conflicting values.

    A repeated name with one value counts once. A name with two different values is ambiguous
    (a sibling subdomain can plant a second `nl_session` with a longer Path, which the browser
    sends first), so it is left out of the dict and reported, and no caller picks either value.
    """
    cookies: dict[str, str] = {}
    conflicts: set[str] = set()
    for name, value in _pairs(header):
        seen = cookies.setdefault(name, value)
        if seen != value:
            conflicts.add(name)
    for name in conflicts:
        del cookies[name]
    return cookies, frozenset(conflicts)


def parse_cookie_header(header: str) -> dict[str, str]:
    """The unambiguous cookies of a header (see `parse_cookies`)."""
    return parse_cookies(header)[0]


def cookie_values(header: str, name: str) -> list[str]:
    values: list[str] = []
    for pair_name, value in _pairs(header):
        if pair_name == name and value not in values:
            values.append(value)
    return values
