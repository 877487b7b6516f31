"""CSRF and Origin checks for mutating requests (spec §1.3).

The cookie/header half needs no database and runs here for every mutating request that carries a
session cookie. The binding half (SHA-256 of the header equals the row's hash) needs the session
row, so the services check it where they read or revoke that row.
"""

from __future__ import annotations

from ..config import Settings
from ..errors import CsrfInvalid, CsrfMissing
from ..tokens import same
from .cookies import CSRF, SESSION, CookiePolicy
from .request import Request

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class OriginPolicy:
    def __init__(self, settings: Settings, cookies: CookiePolicy) -> None:
        self.allowed = settings.allowed_origins
        self._public = settings.public_origin
        self._cookies = cookies

    def own_origin(self, request: Request) -> str:
        scheme = "https" if self._cookies.is_https(request) else "http"
        return f"{scheme}://{request.headers.get('host', '')}"

    def accepts(self, request: Request, origin: str) -> bool:
        """The server's own origin (public URL or Host) or a configured console origin."""
        return (
            origin in self.allowed or origin == self._public or origin == self.own_origin(request)
        )


def check_request(request: Request, origins: OriginPolicy, *, sign_in: bool) -> str | None:
    """Raise CsrfMissing/CsrfInvalid; return the session token when the request carries one.

    With `nl_session` or `nl_csrf` sent twice with different values (cookie tossing), the header
    must equal one of the `nl_csrf` values sent; the binding to each session row is checked where
    the row is read, and no single token is returned.
    """
    token = request.cookies.get(SESSION) or None
    carries_session = token is not None or SESSION in request.cookie_conflicts
    if carries_session:
        if CSRF in request.cookie_conflicts:
            presented = [value for value in request.cookie_values(CSRF) if value]
        else:
            cookie = request.cookies.get(CSRF)
            presented = [cookie] if cookie else []
        if not presented:
            raise CsrfMissing()
        header = request.headers.get("x-csrf-token")
        # A list, not a generator: every value is compared, so timing reveals no position.
        if not header or not any([same(header, value) for value in presented]):
            raise CsrfInvalid()
    if carries_session or sign_in:
        origin = request.headers.get("origin")
        if origin is not None and not origins.accepts(request, origin):
            raise CsrfInvalid()
    return token
