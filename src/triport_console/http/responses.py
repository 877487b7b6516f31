"""Responses as plain data; the app adds the shared headers and sends them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

Header = tuple[bytes, bytes]
JSON = (b"content-type", b"application/json")


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[Header] = field(default_factory=list)

    def set_cookie(self, header_value: bytes) -> None:
        self.headers.append((b"set-cookie", header_value))


def json_response(status: int, payload: Any, headers: list[Header] | None = None) -> Response:
    return Response(status, orjson.dumps(payload), [JSON, *(headers or [])])


OK_BODY = orjson.dumps({"ok": True})


def ok() -> Response:
    return Response(200, OK_BODY, [JSON])


def redirect(location: str) -> Response:
    return Response(302, b"", [(b"location", location.encode())])
