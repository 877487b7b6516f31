"""Read Set-Cookie headers as the browser would see them (name, value and attributes)."""

from __future__ import annotations

import httpx


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """{name: {"value": ..., "path": ..., "max-age": ..., "httponly": "", ...}} per cookie.

    Attribute names are lower-cased; flag attributes (HttpOnly, Secure) map to "".
    """
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        pair, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = pair.partition("=")
        parsed = {"value": value}
        for attribute in attributes:
            key, _, attribute_value = attribute.partition("=")
            parsed[key.lower()] = attribute_value
        found[name] = parsed
    return found
