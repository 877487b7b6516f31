"""Reading responses the way a browser would: Set-Cookie headers as name → attributes."""

from __future__ import annotations

import re

import httpx

REQUEST_ID = re.compile(r"req_[0-9a-f]{16}")


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """`{"nl_session": {"value": …, "path": "/", "httponly": "", …}}` per Set-Cookie header."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        parsed = {"value": value}
        for attribute in attributes:
            key, _, attr_value = attribute.partition("=")
            parsed[key.lower()] = attr_value
        found[name] = parsed
    return found


def session_headers(
    token: str, csrf: str | None = None, header: str | None = None
) -> dict[str, str | bytes]:
    """Explicit cookies (so a cleared cookie jar cannot hide a still-live token)."""
    cookie = f"nl_session={token}" + (f"; nl_csrf={csrf}" if csrf is not None else "")
    headers: dict[str, str | bytes] = {"Cookie": cookie.encode()}
    if header is not None:
        headers["X-CSRF-Token"] = header
    return headers


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
